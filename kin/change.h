// The commit feed: what each committed transaction changed, delivered to
// the application after the commit, in commit order (EnTT's signals and
// flecs' observers, but per transaction, and never for rolled-back work).
//
//   db.OnCommit([&](const kin::Commit& commit) {
//     for (const kin::RowChange& change : commit.changes) {
//       if (change.table == "players" && change.kind == kin::RowChange::kUpdate) ...
//     }
//   });
//
// A commit is a top-level Commit (or the close of a top-level
// kin::Transaction or Atomically), or one write made outside any
// transaction. Its changes are the row-level writes in the order they were
// made, foreign-key cascades and on-update actions included, each with the
// values before and after it; a savepoint rolled back inside the
// transaction leaves nothing in the feed.

#ifndef KIN_CHANGE_H_
#define KIN_CHANGE_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

// One column of a changed row.
struct CellChange {
  ColumnId column;
  std::string_view name;  // the column's name; valid during the callback
  Value old_value;        // NULL for an insert
  Value new_value;        // NULL for a delete
};

// One row written by a commit.
struct RowChange {
  enum Kind : uint8_t { kInsert, kUpdate, kDelete };
  Kind kind;
  std::string_view table;  // valid during the callback
  RowId row;               // the slot (a later change may reuse a deleted one)
  // The primary key: after the change (before it, for a delete).
  Value key;
  // kInsert: every column, as inserted. kUpdate: the columns whose value
  // changed (an update that changed nothing is not a change). kDelete:
  // every column, as it was.
  std::vector<CellChange> cells;

  // The cell of `column`, or nullptr when it is not among `cells`.
  const CellChange* Find(std::string_view column) const {
    for (const CellChange& c : cells) {
      if (c.name == column) return &c;
    }
    return nullptr;
  }
};

struct Commit {
  // 1 for the first commit delivered by this database, then one more per
  // commit (commits with no row change, such as a transaction that only
  // read, are not delivered and take no number).
  uint64_t sequence = 0;
  std::vector<RowChange> changes;
};

// Called after the commit, when the database already holds its result. A
// listener may read the database, and may write: its writes are a new
// commit, delivered to every listener after the current one (commit order
// holds). It must not remove listeners; do that outside the callback.
using CommitListener = std::function<void(const Commit&)>;

}  // namespace kin

#endif  // KIN_CHANGE_H_
