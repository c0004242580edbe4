// PreparedQuery: a Query compiled once and run many times with new values,
// as SQLite's prepared statements (sqlite3_prepare / sqlite3_bind).
//
//   KIN_ASSIGN_OR_RETURN(kin::Column<int64_t> id, db.Int64Column("players", "id"));
//   KIN_ASSIGN_OR_RETURN(kin::PreparedQuery top, db.Query("players")
//       .Where("guild", kin::Param(0))
//       .OrderBy("score", kin::kDesc).Limit(10).Prepare());
//   for (int64_t guild : guilds) {   // every tick
//     KIN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, top.Bind(0, guild).Pluck(id));
//   }
//
// What is done once (Query::Prepare): the table and every column name
// resolved, literal values and the parameters' columns type-checked, the
// filter, order and aggregate compiled. What each run does: check the
// table is still there, re-read the column storage pointers (writes move
// them), choose the access path from the bound values and the table's
// current indexes (the same cost-based choice, hence the same plan and
// Explain text, as the unprepared query with those values written in),
// then walk the index or scan and read the results. Once a first run has
// sized the plan's buffers, a run of Pluck / Columns / As / Count /
// Aggregate allocates only the result it returns (and, while planning,
// copies of string operands longer than the small-string buffer).
//
// Parameters: kin::Param(i) stands for the value of a comparison (Where,
// with or without an operator) or for both bounds of WhereBetween /
// WhereNotBetween, on int64, double, bool or string columns. One index may
// appear several times (every place gets the value). Bind(i, v) type-checks
// v against every column ?i is compared with (an int64 is accepted for a
// double column, as in Where); a value stays bound until rebound, across
// runs and writes.
//
// Errors of a run (the database is never changed by a run):
// - InvalidArgument "Bind on 'players': parameter ?0 (players.guild):
//   expected int64, got string \"x\"" (or NULL: "cannot be NULL"), "Bind on
//   'players': no parameter ?3 (the query has ?0, ?1)". Bind returns *this
//   for chaining, so a bad Bind is reported by the next run method (once;
//   the parameter is then unbound).
// - InvalidArgument "Pluck on 'players': parameter ?0 (players.guild) is
//   not bound" when a run finds a parameter never bound.
// - FailedPrecondition "prepared query on 'players': table 'players' was
//   dropped (prepare the query again)" once the table is dropped, also when
//   a table of that name was created again (a prepared query never follows
//   a name to another table, and never reads freed memory: a dropped
//   table's object lives as long as its database). An index created after
//   Prepare is used by the next run (the path is chosen per run), and one
//   dropped is no longer used. After a DropColumn on the table (column ids
//   move): FailedPrecondition "prepared query on 'players': a column of
//   table 'players' was dropped since (prepare the query again)". Renames
//   and added columns keep it working.
// - The typed results' errors (Query::Pluck): stale or foreign handles,
//   a handle outside the query's Select, NULL through a plain handle.
//
// Validity: holds a pointer to the Database's engine, so the Database must
// outlive it (and not move), as for Query. Results follow ResultSet's and
// the typed results' rules. Not thread-safe: a run updates the plan in
// place (one PreparedQuery per thread, and no writes while it runs).
// Movable, not copyable.

#ifndef KIN_PREPARED_QUERY_H_
#define KIN_PREPARED_QUERY_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/column.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/result_set.h"
#include "kin/value.h"

namespace kin {

class Query;
class Table;  // engine/table.h (internal)
namespace internal {
struct PreparedState;  // query/prepared_query.cc
}  // namespace internal

class PreparedQuery {
 public:
  PreparedQuery(PreparedQuery&&) noexcept;
  PreparedQuery& operator=(PreparedQuery&&) noexcept;
  ~PreparedQuery();

  // Sets parameter ?index to `value` for the following runs. Checked here,
  // reported by the next run (see the header comment).
  PreparedQuery& Bind(int index, Value value);
  // The same, returning the error at once (the parameter then unbound).
  absl::Status TryBind(int index, Value value);
  // 1 + the highest parameter index (0 without parameters).
  int num_params() const;

  // --- running (each re-plans from the bound values, see above) ---
  // As Query::Get (InvalidArgument when an aggregate is recorded).
  [[nodiscard]] absl::StatusOr<ResultSet> Get();
  // As Query::Count.
  [[nodiscard]] absl::StatusOr<int64_t> Count();
  // As Query::Aggregate() (the recorded aggregate, else COUNT(*)).
  [[nodiscard]] absl::StatusOr<Value> Aggregate();
  // As Query::Pluck / Columns / As / Each.
  template <typename C>
  absl::StatusOr<std::vector<Projected<C>>> Pluck(const C& column);
  template <typename... C>
  absl::StatusOr<std::tuple<std::vector<Projected<C>>...>> Columns(const C&... columns);
  template <typename S, typename... C>
  absl::StatusOr<std::vector<S>> As(const C&... columns);
  template <typename... T>
  absl::StatusOr<QueryRange<T...>> Each(const Column<T>&... columns);

  // The plan the bound values choose, as Query::Explain with the values
  // written in: "composite walk players(guild, score) guild = 7, score desc
  // (composite ordered index, stops after 10 rows) | filter: guild = 7 |
  // ...". Errors as a run.
  [[nodiscard]] absl::StatusOr<std::string> Explain();

 private:
  friend class Query;
  explicit PreparedQuery(std::unique_ptr<internal::PreparedState> state);

  using HandleList = std::initializer_list<std::pair<const Table*, ColumnId>>;
  template <typename C>
  static std::pair<const Table*, ColumnId> HandleOf(const C& column) {
    const auto& handle = column_internal::Projector<C>::Of(column);
    return {handle.table(), handle.id()};
  }
  // The typed results' common part: a run's checks for `method`, the
  // handles checked against the table and the Select, then the selected
  // rows into rows_: ids_, or with `borrow` (a result read at once, never
  // across a write) the index's own list when its probe answers the whole
  // query. Returns the table.
  absl::StatusOr<const Table*> SelectTyped(absl::string_view method, HandleList columns,
                                           bool borrow);

  std::unique_ptr<internal::PreparedState> state_;
  // The selected rows of the last run; kept so runs reuse its memory.
  std::vector<RowId> ids_;
  std::span<const RowId> rows_;
};

template <typename C>
absl::StatusOr<std::vector<Projected<C>>> PreparedQuery::Pluck(const C& column) {
  absl::StatusOr<const Table*> table = SelectTyped("Pluck", {HandleOf(column)}, true);
  return column_internal::PluckResult(table, rows_, column);
}

template <typename... C>
absl::StatusOr<std::tuple<std::vector<Projected<C>>...>> PreparedQuery::Columns(
    const C&... columns) {
  absl::StatusOr<const Table*> table = SelectTyped("Columns", {HandleOf(columns)...}, true);
  return column_internal::ColumnsResult(table, rows_, columns...);
}

template <typename S, typename... C>
absl::StatusOr<std::vector<S>> PreparedQuery::As(const C&... columns) {
  absl::StatusOr<const Table*> table = SelectTyped("As", {HandleOf(columns)...}, true);
  return column_internal::AsResult<S>(table, rows_, columns...);
}

template <typename... T>
absl::StatusOr<QueryRange<T...>> PreparedQuery::Each(const Column<T>&... columns) {
  // Each's range outlives the call (writes inside the loop): its own copy.
  absl::StatusOr<const Table*> table = SelectTyped("Each", {HandleOf(columns)...}, false);
  if (!table.ok()) return table.status();
  return QueryRange<T...>(*table, ids_, columns...);
}

}  // namespace kin

#endif  // KIN_PREPARED_QUERY_H_
