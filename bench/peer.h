// Peer: one implementation of the relations benchmark's operations (kin,
// SQLite, the hand-written baseline), behind one interface so the benchmark
// and the equality test run the same calls on each.
//
// Every answer is materialised into plain C++ containers with a defined
// order, so answers compare with == and no peer wins by doing less:
//   - child lists hold post ids in insertion order (= post id ascending),
//     except Top5, which is created_at descending;
//   - per-user answers cover every user, in ascending user id (the users'
//     row order: the benchmark inserts them in id order), users without
//     posts included (an empty list, a zero count, no max);
//   - user lists (HasGe5, WhereHas) are ascending user ids.
//
// Calls go through one virtual call per operation; the work inside is each
// peer's own non-virtual code. A peer is not thread-safe.

#ifndef KIN_BENCH_PEER_H_
#define KIN_BENCH_PEER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/dataset.h"

namespace kin::bench {

// Post ids.
using PostIds = std::vector<int64_t>;
// (user id, that user's post ids).
using GroupedPosts = std::vector<std::pair<int64_t, PostIds>>;
// (user id, number of posts).
using UserCounts = std::vector<std::pair<int64_t, int64_t>>;
// (user id, max(created_at) of the user's posts; nullopt without posts).
using UserMaxes = std::vector<std::pair<int64_t, std::optional<int64_t>>>;
// User ids.
using UserIds = std::vector<int64_t>;

// Per-parent top-N of Top5 and the threshold of HasGe5.
inline constexpr size_t kTopN = 5;
inline constexpr int64_t kMinPosts = 5;

// The operations, in the order the benchmark registers them. kLoad is the
// fixture's load (users + posts + whatever indexes the queries use).
enum class Op {
  kLoad,
  kLookup,
  kPreload,
  kTop5,
  kCountAll,
  kHasGe5,
  kMaxPerParent,
  kWhereHas,
  kMoveCount,
  kInsert,
  kSnapshotSave,
  kSnapshotLoad,
};
inline constexpr Op kAllOps[] = {
    Op::kLoad,      Op::kLookup, Op::kPreload,      Op::kTop5,
    Op::kCountAll,  Op::kHasGe5, Op::kMaxPerParent, Op::kWhereHas,
    Op::kMoveCount, Op::kInsert, Op::kSnapshotSave, Op::kSnapshotLoad,
};
// "Lookup", "Top5", ...: the <Op> of BM_<Op>_<Peer>.
const char* OpName(Op op);

class Peer {
 public:
  virtual ~Peer() = default;

  // The <Peer> of BM_<Op>_<Peer>: "Hand", "Sqlite", "KinRow", "KinTyped",
  // "KinNative".
  virtual const char* name() const = 0;
  // Whether the peer implements `op` (kin's relation-aware queries are still
  // landing: unsupported ops are reported, never faked).
  virtual bool Supports(Op op) const { return (void)op, true; }
  // Whether the benchmark registers BM_<op>_<name()>: a supported op that
  // would only repeat another peer's row (KinTyped's and KinNative's inserts
  // and snapshots are KinRow's) is tested but not benchmarked.
  virtual bool Benchmarked(Op op) const { return Supports(op); }
  // One line on how the peer answers `op` (the API, the index): printed by
  // the benchmark and set as its label.
  virtual std::string HowItAnswers(Op op) const = 0;

  // Loading, in three steps so the Insert benchmark can time InsertPosts
  // alone. LoadUsers creates the schema (with the posts foreign-key index)
  // and inserts the users; InsertPosts inserts every post with that index
  // maintained; FinishLoad adds what the queries use beyond it (SQLite: the
  // second index). Load runs all three.
  virtual absl::Status LoadUsers(const Dataset& data) = 0;
  virtual absl::Status InsertPosts(const Dataset& data) = 0;
  virtual absl::Status FinishLoad() { return absl::OkStatus(); }
  absl::Status Load(const Dataset& data);

  // All posts of one user (empty for an unknown user).
  virtual absl::StatusOr<PostIds> Lookup(int64_t user_id) = 0;
  // The given users with all their posts, in the order given. REQUIRES: the
  // ids are distinct.
  virtual absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) = 0;
  // Every user with its kTopN most recent posts (created_at descending).
  virtual absl::StatusOr<GroupedPosts> Top5() = 0;
  // Every user with its post count.
  virtual absl::StatusOr<UserCounts> CountAll() = 0;
  // Users with at least kMinPosts posts.
  virtual absl::StatusOr<UserIds> HasGe5() = 0;
  // Every user with the max created_at of its posts.
  virtual absl::StatusOr<UserMaxes> MaxPerParent() = 0;
  // Users with at least one published post with likes > kPopularLikes.
  virtual absl::StatusOr<UserIds> WhereHas() = 0;
  // Gives post `post_id` to user `user_id` (the write of MoveCount, which
  // then runs CountAll: what per-parent reads cost right after a write that
  // changes a foreign key).
  virtual absl::Status MovePost(int64_t post_id, int64_t user_id) = 0;

  // Saves the whole database to `path` (replacing it).
  virtual absl::Status SnapshotSave(const std::string& path) = 0;
  // Replaces this peer's database with the one saved at `path`. Called on a
  // fresh peer (no Load before it).
  virtual absl::Status SnapshotLoad(const std::string& path) = 0;
};

}  // namespace kin::bench

#endif  // KIN_BENCH_PEER_H_
