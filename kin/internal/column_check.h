// kin-internal: the checks a typed column handle (kin/column.h) gets when a
// Database or Query call is given one, shared by the facade (Set, Each) and
// the query layer (typed results), so both report the same errors.

#ifndef KIN_INTERNAL_COLUMN_CHECK_H_
#define KIN_INTERNAL_COLUMN_CHECK_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/engine.h"
#include "engine/table.h"
#include "kin/ids.h"

namespace kin::internal {

// "players.score".
std::string ColumnName(const Table& table, ColumnId column);

// FailedPrecondition "players.score: stale column handle (table 'players'
// was dropped)".
absl::Status StaleColumn(const Table& table, ColumnId column);

// Not empty (FailedPrecondition "empty column handle"), its table not
// dropped (StaleColumn) and of `engine`'s database (InvalidArgument "...:
// column of another database"). Which table it must be of is the caller's
// check.
absl::Status CheckHandle(const Engine& engine, const Table* table, ColumnId column);

// CheckHandle for each of `columns`, which must also be of `table`
// (InvalidArgument "<what()>: column players.score is of another table than
// 'posts'"). `what()` is built only on error: Each runs per parent in
// loops, so the success path allocates nothing.
absl::Status CheckHandlesOf(const Engine& engine, const Table& table,
                            std::initializer_list<std::pair<const Table*, ColumnId>> columns,
                            absl::FunctionRef<std::string()> what);

}  // namespace kin::internal

#endif  // KIN_INTERNAL_COLUMN_CHECK_H_
