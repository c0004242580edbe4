#include "bench/peer.h"

#include "kin/status_macros.h"

namespace kin::bench {

const char* OpName(Op op) {
  switch (op) {
    case Op::kLoad:
      return "Load";
    case Op::kLookup:
      return "Lookup";
    case Op::kPreload:
      return "Preload";
    case Op::kTop5:
      return "Top5";
    case Op::kCountAll:
      return "CountAll";
    case Op::kHasGe5:
      return "HasGe5";
    case Op::kMaxPerParent:
      return "MaxPerParent";
    case Op::kWhereHas:
      return "WhereHas";
    case Op::kMoveCount:
      return "MoveCount";
    case Op::kInsert:
      return "Insert";
    case Op::kSnapshotSave:
      return "SnapshotSave";
    case Op::kSnapshotLoad:
      return "SnapshotLoad";
  }
  return "?";
}

absl::Status Peer::Load(const Dataset& data) {
  KIN_RETURN_IF_ERROR(LoadUsers(data));
  KIN_RETURN_IF_ERROR(InsertPosts(data));
  return FinishLoad();
}

}  // namespace kin::bench
