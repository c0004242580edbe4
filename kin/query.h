// Query: the builder every read in kin goes through.
//
//   kin::Query q(engine, "posts");
//   q.Where("user_id", 7)
//       .Where([](kin::Query& g) { g.Where("score", ">", 10).OrWhereNull("score"); })
//       .OrderBy("created_at", kin::kDesc)
//       .Limit(5);
//   absl::StatusOr<kin::ResultSet> rows = q.Get();
//
// Builder → spec → plan → run. Builder calls are cheap: they only append to
// a QuerySpec (spec()) and never fail. When the query runs (Get, First,
// Count, Aggregate, Paginate, Update, Delete, Explain, Compile) the table and
// every column name are resolved once, each value is type-checked against
// its column, and an index is chosen. The first bad call is reported with
// its argument (InvalidArgument "table 'posts': no column named 'titel'",
// "posts.user_id: expected int64, got string \"abc\"", NotFound "no table
// named 'psots'"): a bad query is an error, never a silent empty result.
// Execution works on typed column spans and index lists; no string is looked
// at per row and no SQL exists anywhere.
//
// Semantics:
// - Conditions: Where(col, value) is equality; Where(col, op, value) takes
//   "=", "==", "!=", "<>", "<", "<=", ">", ">=" or a CompareOp. An int64 is
//   accepted for a double column; other mismatches are errors. Strings
//   compare bytewise. A NULL value in Where(col, NULL) or with "=" means
//   WhereNull, with "!=" WhereNotNull; with an ordering operator or in
//   WhereBetween it is an error.
// - NULL follows SQL's three-valued logic: a comparison, IN, BETWEEN or
//   string match on a NULL cell is UNKNOWN and does not match (so do their
//   negations: != , NOT IN, NOT BETWEEN). x IN (1, NULL) matches x = 1;
//   x NOT IN (1, NULL) matches nothing. IN () matches nothing, NOT IN ()
//   everything (as knex).
// - And / Or: conditions join left to right with their connector, AND
//   binding tighter than OR: Where(a).OrWhere(b).Where(c) is a OR (b AND c).
//   Where / AndWhere / OrWhere with a callback add a parenthesised group; a
//   group that records no condition is ignored; groups nest at most
//   kMaxNesting deep. Only conditions may be
//   recorded inside a group (an OrderBy, Limit, ... there is an error).
// - Order: OrderBy keys apply in the order given; the sort is stable (ties
//   keep the access order). NULL sorts as the smallest value: NULLs first
//   ascending, last descending (as SQLite); a double NaN sorts after every
//   number; strings sort bytewise. Without OrderBy, rows come in the
//   access path's order: slot order (insertion order, except that a row
//   inserted after deletions reuses the most recently freed slot) for a
//   scan, the key's insertion order for an equality on an indexed column,
//   slot order for an IN on an indexed column, key order (ties by slot)
//   for a range on an ordered index.
// - Index choice: an equality (or IN) on an indexed column — primary key,
//   Unique() or Indexed() / foreign key — that is ANDed at the top level
//   makes the query probe that index and filter only its rows. Range
//   conditions (<, <=, >, >=, =, Between, StartsWith) ANDed at the top level
//   on a column with an ordered index (Ordered(), CreateIndex(kOrdered))
//   walk that key range instead when it holds fewer rows than the probe and
//   than 1/8 of the table (rows then come in key order, ties by slot); a
//   NotBetween there walks the two ranges outside it under the same rule.
//   OrderBy whose first key has an ordered index, with a Limit, walks the
//   index in order and stops after offset + limit matches (unless a probe or
//   range is expected to be cheaper); Min / Max of such a column with no
//   filter read one end of it. A composite ordered index (CreateIndex(table,
//   {a, b[, c]}, kOrdered)) serves an equality prefix ANDed at the top level
//   on its leading columns followed by OrderBy(next column) + Limit (a walk
//   of the prefix that stops after offset + limit matches, ties by slot) or
//   by a range on the next column (rows then come in index order); the
//   other conditions filter its rows. Otherwise the table is scanned.
//   Explain() shows the choice (and names a composite index's columns).
// - Count, Aggregate and Paginate's total count every matching row,
//   ignoring OrderBy / Limit / Offset (as SQL's COUNT(*)).
//
// Relations (a Query from Database::Query, or built with a catalog):
// - Preload(relation[, callback]): every row Get / Paginate return carries
//   its related rows (ResultRow::Preloaded(relation)); a row without any carries
//   an empty list. HasMany: the children, in insertion order unless the
//   callback orders them; BelongsTo: the parent (zero or one row). The
//   callback filters and orders the related rows and may preload further
//   (posts → comments) or add WithCount / WithAggregate / Has on them. One
//   pass over the foreign-key index for all rows, whatever their number.
// - GroupLimit(n) / GroupOrderBy(column, order), only inside a Preload
//   callback: each row keeps its first n related rows in GroupOrderBy order
//   (ties keep insertion order); with a composite (foreign key, first
//   GroupOrderBy column) index, each parent's rows are read from it and the
//   read stops after n when that is cheaper (Explain() says which). Given
//   both GroupOrderBy and OrderBy, the kept rows are listed in OrderBy order. A plain Limit or
//   Offset inside a Preload callback is an error (FailedPrecondition): it would cap all parents'
//   rows together (Lucid's known trap), so the message points to GroupLimit. Paginate inside one is
//   an error too: paginate db.Related(parent, relation).Query() instead. GroupLimit / GroupOrderBy
//   anywhere else: FailedPrecondition. GroupLimit without GroupOrderBy ranks by the related table's
//   primary key, descending (the newest n, as Lucid's groupLimit); the kept rows are listed in
//   OrderBy order when one is given, else in rank order.
// - Has / WhereHas / DoesntHave / WhereDoesntHave and their And / Or forms
//   are conditions: they join the other conditions with their connector and
//   may sit in groups. Has(relation) means at least one related row;
//   Has(relation, op, n) compares the number of related rows with n (op as
//   for Where); the WhereHas forms count only the related rows the callback
//   selects (its conditions; its OrderBy is ignored). DoesntHave means no
//   (selected) related row. A WhereHas callback that records an aggregate
//   (Count, CountDistinct, Sum, Avg, or Min / Max of a number column)
//   compares that aggregate of the selected related rows instead of their
//   number: WhereHas("posts", [](Query& q) { q.Sum("likes"); }, ">", 100)
//   keeps users whose posts' likes sum past 100. As in SQL, an aggregate
//   that is NULL (Sum / Avg / Min / Max of no values) passes no test; Min /
//   Max of a string or bool column is an InvalidArgument. It is computed
//   once per query for every row of the table (an int64 Sum overflow is the
//   query's OutOfRange error). A row whose key is NULL has no related rows.
//   Without a callback and on_query, the count comes from the index in O(1)
//   per row; otherwise per row with an early stop, or by one scan of the
//   related table when most rows are asked about (Explain() shows which).
// - WithCount(relation[, callback]) attaches the number of (selected)
//   related rows as ResultRow::Extra("{relation}_count"), or under the callback's
//   As(alias). WithAggregate(relation, callback) attaches the callback's
//   Count / Sum / Avg / Min / Max over the related rows under its As(alias)
//   (required); a row without related rows gets 0 for counts and NULL for
//   the others. Results have the types of Aggregate().
// - The relation's on_query applies to all of the above. Its conditions are
//   ANDed around the callback's, so an OrWhere in the callback cannot widen
//   the relation. Its OrderBy / Limit / Offset are the relation's window:
//   Preload applies them per parent (its order keys before the callback's;
//   then GroupLimit, if any, within that window), a relation handle's Get()
//   and Query() apply them, and counts (Has / WhereHas, WithCount, a
//   handle's Count) and WithAggregate ignore them, as a scalar SQL subquery
//   ignores the ORDER BY / LIMIT of the rows it counts.
// - Callbacks only record. The Query handed to a Preload, Has / WhereHas /
//   DoesntHave / WhereDoesntHave (every And / Or form), WithCount,
//   WithAggregate or where-group callback, or to a relation's on_query, is
//   a recording: its run methods (Get, First, FirstOrFail, Count,
//   Aggregate, Paginate, Update, Delete, Explain) return FailedPrecondition
//   "Update is not allowed in a Preload callback of users.posts: ..." and
//   touch nothing, and the query owning the callback fails with the same
//   error when it runs (even if the callback ignored the status).
// - Errors (reported when the query runs, by every entry point): NotFound
//   "table 'users': no relation named 'postz'"; FailedPrecondition for the
//   misplaced calls above and for a query built without a catalog;
//   InvalidArgument for WithAggregate without As() or an aggregate, an
//   aggregate of a column that does not fit it, a relation preloaded twice,
//   two extras with one name. Count, Aggregate, Update and Delete ignore
//   loads (but still report a malformed one); First and FirstOrFail return
//   bare rows, so a query with loads is an InvalidArgument there.
//
// Validity: a Query holds an Engine* and names only; it stays usable across
// writes and may be run many times. Results follow ResultSet's rule.
// Not thread-safe for concurrent runs with writes (see Engine).

#ifndef KIN_QUERY_H_
#define KIN_QUERY_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/column.h"
#include "kin/prepared_query.h"
#include "kin/query_spec.h"
#include "kin/relation.h"
#include "kin/result_set.h"
#include "kin/row.h"
#include "kin/value.h"

namespace kin {

class Database;
class Engine;           // engine/engine.h (internal)
class RelationCatalog;  // relations/relation_catalog.h (internal)
class Table;            // engine/table.h (internal)
namespace internal {
class CompiledQuery;  // query/internal/compiled_query.h
class QueryAccess;    // query/internal/query_access.h
class QueryPlan;      // query/internal/query_plan.h
struct RelationContext;
}  // namespace internal

class Query {
 public:
  // Where groups and relation callbacks (WhereHas, Preload, WithCount...)
  // nest at most this deep; deeper is InvalidArgument naming the limit, so
  // no recorded query can exhaust the stack when it is compiled.
  static constexpr int kMaxNesting = 64;

  // A query on `table` of `db`, aware of its relations (as db.Query(table)).
  // The table is looked up when the query runs (NotFound then if absent).
  // `db` must outlive the query (and not move: a moved-from Database is an
  // empty one).
  Query(Database& db, std::string table);

  // A callback that records a parenthesised group of conditions.
  using GroupFn = absl::FunctionRef<void(Query&)>;
  // A callback that records the query of a relation's related rows (it runs
  // at once, on a Query over the related table).
  using RelatedFn = absl::FunctionRef<void(Query&)>;

  // --- conditions (each has Where / AndWhere / OrWhere forms) ---
  // column = value (NULL: IS NULL).
  Query& Where(std::string column, Value value);
  Query& AndWhere(std::string column, Value value);
  Query& OrWhere(std::string column, Value value);
  // column <op> value; op is "=", "==", "!=", "<>", "<", "<=", ">", ">=".
  Query& Where(std::string column, std::string_view op, Value value);
  Query& AndWhere(std::string column, std::string_view op, Value value);
  Query& OrWhere(std::string column, std::string_view op, Value value);
  Query& Where(std::string column, CompareOp op, Value value);
  Query& AndWhere(std::string column, CompareOp op, Value value);
  Query& OrWhere(std::string column, CompareOp op, Value value);
  // ( conditions the callback records on the Query it is given )
  Query& Where(GroupFn group);
  Query& AndWhere(GroupFn group);
  Query& OrWhere(GroupFn group);

  // The same with a parameter for the value, supplied per run by a
  // prepared query: Where("guild", kin::Param(0)) (see Prepare below).
  // Parameter indexes run from 0 to kMaxParams - 1.
  static constexpr int kMaxParams = 64;
  Query& Where(std::string column, Param value);
  Query& AndWhere(std::string column, Param value);
  Query& OrWhere(std::string column, Param value);
  Query& Where(std::string column, std::string_view op, Param value);
  Query& AndWhere(std::string column, std::string_view op, Param value);
  Query& OrWhere(std::string column, std::string_view op, Param value);
  Query& Where(std::string column, CompareOp op, Param value);
  Query& AndWhere(std::string column, CompareOp op, Param value);
  Query& OrWhere(std::string column, CompareOp op, Param value);

  Query& WhereIn(std::string column, std::vector<Value> values);
  Query& AndWhereIn(std::string column, std::vector<Value> values);
  Query& OrWhereIn(std::string column, std::vector<Value> values);
  Query& WhereNotIn(std::string column, std::vector<Value> values);
  Query& AndWhereNotIn(std::string column, std::vector<Value> values);
  Query& OrWhereNotIn(std::string column, std::vector<Value> values);

  Query& WhereNull(std::string column);
  Query& AndWhereNull(std::string column);
  Query& OrWhereNull(std::string column);
  Query& WhereNotNull(std::string column);
  Query& AndWhereNotNull(std::string column);
  Query& OrWhereNotNull(std::string column);

  // low <= column <= high (inclusive; nothing matches when low > high).
  Query& WhereBetween(std::string column, Value low, Value high);
  Query& AndWhereBetween(std::string column, Value low, Value high);
  Query& OrWhereBetween(std::string column, Value low, Value high);
  Query& WhereNotBetween(std::string column, Value low, Value high);
  Query& AndWhereNotBetween(std::string column, Value low, Value high);
  Query& OrWhereNotBetween(std::string column, Value low, Value high);
  // Both bounds parameters (a prepared query binds them per run).
  Query& WhereBetween(std::string column, Param low, Param high);
  Query& AndWhereBetween(std::string column, Param low, Param high);
  Query& OrWhereBetween(std::string column, Param low, Param high);
  Query& WhereNotBetween(std::string column, Param low, Param high);
  Query& AndWhereNotBetween(std::string column, Param low, Param high);
  Query& OrWhereNotBetween(std::string column, Param low, Param high);

  // String matches on a string column: bytewise and case-sensitive, with no
  // wildcard characters (the argument is matched literally).
  Query& WhereStartsWith(std::string column, std::string prefix);
  Query& AndWhereStartsWith(std::string column, std::string prefix);
  Query& OrWhereStartsWith(std::string column, std::string prefix);
  Query& WhereEndsWith(std::string column, std::string suffix);
  Query& AndWhereEndsWith(std::string column, std::string suffix);
  Query& OrWhereEndsWith(std::string column, std::string suffix);
  Query& WhereContains(std::string column, std::string part);
  Query& AndWhereContains(std::string column, std::string part);
  Query& OrWhereContains(std::string column, std::string part);

  // --- relation conditions (see the header comment) ---
  // At least one related row.
  Query& Has(std::string relation);
  Query& AndHas(std::string relation);
  Query& OrHas(std::string relation);
  // The number of related rows <op> count.
  Query& Has(std::string relation, std::string_view op, int64_t count);
  Query& AndHas(std::string relation, std::string_view op, int64_t count);
  Query& OrHas(std::string relation, std::string_view op, int64_t count);
  Query& Has(std::string relation, CompareOp op, int64_t count);
  Query& AndHas(std::string relation, CompareOp op, int64_t count);
  Query& OrHas(std::string relation, CompareOp op, int64_t count);
  // No related row.
  Query& DoesntHave(std::string relation);
  Query& AndDoesntHave(std::string relation);
  Query& OrDoesntHave(std::string relation);
  // At least one related row the callback selects / their number <op> count.
  Query& WhereHas(std::string relation, RelatedFn callback);
  Query& AndWhereHas(std::string relation, RelatedFn callback);
  Query& OrWhereHas(std::string relation, RelatedFn callback);
  Query& WhereHas(std::string relation, RelatedFn callback, std::string_view op, int64_t count);
  Query& AndWhereHas(std::string relation, RelatedFn callback, std::string_view op, int64_t count);
  Query& OrWhereHas(std::string relation, RelatedFn callback, std::string_view op, int64_t count);
  Query& WhereHas(std::string relation, RelatedFn callback, CompareOp op, int64_t count);
  Query& AndWhereHas(std::string relation, RelatedFn callback, CompareOp op, int64_t count);
  Query& OrWhereHas(std::string relation, RelatedFn callback, CompareOp op, int64_t count);
  // No related row the callback selects.
  Query& WhereDoesntHave(std::string relation, RelatedFn callback);
  Query& AndWhereDoesntHave(std::string relation, RelatedFn callback);
  Query& OrWhereDoesntHave(std::string relation, RelatedFn callback);

  // --- relation loads (see the header comment) ---
  Query& Preload(std::string relation);
  Query& Preload(std::string relation, RelatedFn callback);
  // Inside a Preload callback only: n related rows per row (n >= 0), ranked
  // by GroupOrderBy keys (applied in the order given).
  Query& GroupLimit(int64_t n);
  Query& GroupOrderBy(std::string column, Order order = Order::kAsc);
  Query& GroupOrderBy(std::string column, std::string_view direction);
  Query& WithCount(std::string relation);
  Query& WithCount(std::string relation, RelatedFn callback);
  Query& WithAggregate(std::string relation, RelatedFn callback);

  // --- pivot columns (the related query of a ManyToMany only) ---
  // Lucid's wherePivot family, inside a Preload, Has / WhereHas /
  // DoesntHave (every form), WithCount or WithAggregate callback of a
  // ManyToMany: conditions on the link's pivot row (any column of the pivot
  // table). A link whose pivot row fails them does not lead to its related
  // row, so the callback's other conditions, counts, aggregates, GroupLimit
  // and the preloaded rows' pivot_{column} extras all see only the links
  // that pass. They are evaluated per pivot row while the relation walks
  // the parent's links (no extra pass, nothing materialised per parent).
  // The pivot conditions join one another with their connectors (AND
  // binding tighter than OR, as Where) and are ANDed, as a whole, with the
  // related row's conditions: an OrWherePivot must follow a WherePivot
  // (else InvalidArgument), and WherePivot(group) records a parenthesised
  // group whose Where calls name pivot columns. A NULL pivot cell follows
  // Where's three-valued logic. Errors, when the query runs:
  // InvalidArgument naming the pivot table and column for an unknown
  // column or a value of the wrong type; InvalidArgument naming the
  // relation and its kind when the callback's relation is not a ManyToMany
  // (HasMany, HasOne, BelongsTo, HasManyThrough have no pivot row); and
  // InvalidArgument on a query that is no relation callback (a top-level
  // query, a where group, a relation's on_query; for one parent's links use
  // db.Related(row, relation).QueryWherePivot).
  Query& WherePivot(std::string column, Value value);
  Query& AndWherePivot(std::string column, Value value);
  Query& OrWherePivot(std::string column, Value value);
  Query& WherePivot(std::string column, std::string_view op, Value value);
  Query& AndWherePivot(std::string column, std::string_view op, Value value);
  Query& OrWherePivot(std::string column, std::string_view op, Value value);
  Query& WherePivot(std::string column, CompareOp op, Value value);
  Query& AndWherePivot(std::string column, CompareOp op, Value value);
  Query& OrWherePivot(std::string column, CompareOp op, Value value);
  Query& WherePivot(GroupFn group);
  Query& AndWherePivot(GroupFn group);
  Query& OrWherePivot(GroupFn group);
  Query& WherePivotIn(std::string column, std::vector<Value> values);
  Query& AndWherePivotIn(std::string column, std::vector<Value> values);
  Query& OrWherePivotIn(std::string column, std::vector<Value> values);
  Query& WherePivotNotIn(std::string column, std::vector<Value> values);
  Query& AndWherePivotNotIn(std::string column, std::vector<Value> values);
  Query& OrWherePivotNotIn(std::string column, std::vector<Value> values);
  Query& WherePivotNull(std::string column);
  Query& AndWherePivotNull(std::string column);
  Query& OrWherePivotNull(std::string column);
  Query& WherePivotNotNull(std::string column);
  Query& AndWherePivotNotNull(std::string column);
  Query& OrWherePivotNotNull(std::string column);
  Query& WherePivotBetween(std::string column, Value low, Value high);
  Query& AndWherePivotBetween(std::string column, Value low, Value high);
  Query& OrWherePivotBetween(std::string column, Value low, Value high);
  // Inside a ManyToMany's Preload callback only: ranks each parent's
  // related rows for GroupLimit by a pivot column of their links (each
  // player's 3 quests with the highest progress). Mixes with GroupOrderBy
  // keys in the order given; NULL sorts as the smallest value, ties keep
  // link order. Without GroupLimit it orders each parent's rows (unless
  // OrderBy is given, which lists the kept rows).
  Query& GroupOrderByPivot(std::string column, Order order = Order::kAsc);
  Query& GroupOrderByPivot(std::string column, std::string_view direction);
  // Inside a ManyToMany's WithAggregate or WhereHas callback only: the
  // aggregate of a pivot column over the links of the related rows the
  // callback selects (WithAggregate("quests", [](Query& q) {
  // q.SumPivot("progress").As("total_progress"); })). Results and NULL
  // rules as Count / Sum / Avg / Min / Max / CountDistinct of a column.
  Query& CountPivot(std::string column);
  Query& SumPivot(std::string column);
  Query& AvgPivot(std::string column);
  Query& MinPivot(std::string column);
  Query& MaxPivot(std::string column);
  Query& CountDistinctPivot(std::string column);

  // What every read a relation generates starts with (this Query reads the
  // relation's related table): a HasMany's scope (RelationScope) becomes
  // equalities in the spec's scope; then the relation's on_query runs on
  // this query,
  // as a recording (a run method called there is refused, see "Callbacks
  // only record" above), and moves the conditions it recorded into the
  // scope (ANDed around everything recorded later), so a later OrWhere
  // cannot undo them. The OrderBy / Limit / Offset it recorded go to
  // QuerySpec::relation_order_by / relation_limit / relation_offset (see
  // there); its other calls stay as recorded. A HasOne's window is capped
  // at one row (its first child), so reads through it return zero or one.
  Query& ApplyRelation(const RelationSpec& relation);

  // --- column selection (Lucid select, Sequelize attributes) ---
  // Restricts the columns the rows of Get and Paginate carry, and, inside a
  // Preload callback, the columns of the preloaded rows: reading another
  // column through the ResultRow is InvalidArgument "table 'posts': column
  // 'body' was not selected (selected: id, title)". Calls add up; no call
  // means every column. A Row copied out of a ResultRow is a plain handle
  // and reads every column. Unknown columns are an error when the query
  // runs (every run method). First / FirstOrFail return bare rows, so a
  // query with a Select is InvalidArgument there (use Limit(1).Get());
  // Count, Aggregate, Update and Delete ignore it. In WhereHas, WithCount
  // and WithAggregate callbacks and where groups it is an error (their rows
  // are only counted). Keys need not be selected for preloads to work.
  template <typename... Names>
  Query& Select(const Names&... columns) {
    return SelectColumns(std::vector<std::string>{std::string(columns)...});
  }
  Query& SelectColumns(std::vector<std::string> columns);

  // --- order and window ---
  Query& OrderBy(std::string column, Order order = Order::kAsc);
  // direction "asc" or "desc" (any case); anything else is an error.
  Query& OrderBy(std::string column, std::string_view direction);
  // At most n rows (n >= 0). Applies to Get, First (which takes 1),
  // Update and Delete; not to Count, Aggregate or Paginate.
  Query& Limit(int64_t n);
  // Skip the first n rows (n >= 0).
  Query& Offset(int64_t n);

  // --- recorded aggregates ---
  // Record an aggregate to be run by Aggregate() (or per parent by
  // WithAggregate). Count("*") counts rows, Count(column) non-NULL cells.
  // Recording a second aggregate is an error.
  Query& Count(std::string column);
  Query& Sum(std::string column);
  Query& Avg(std::string column);
  Query& Min(std::string column);
  Query& Max(std::string column);
  // The number of distinct non-NULL values of `column` (SQL COUNT(DISTINCT
  // column); doubles compare by value, 0.0 equals -0.0 and NaNs count once;
  // strings bytewise). An int64, 0 for no rows; "*" is an error.
  Query& CountDistinct(std::string column);
  // The name the recorded aggregate (or, for WithCount, the count) is
  // reported under. Has no effect on Get / First / Paginate.
  Query& As(std::string alias);

  // --- running ---
  // The selected rows: filtered, ordered, offset, limited. InvalidArgument
  // when an aggregate is recorded (run it with Aggregate()).
  [[nodiscard]] absl::StatusOr<ResultSet> Get() const;
  // The first selected row (honours OrderBy and Offset; Limit is ignored).
  // NotFound "table 'posts': no row matches the query" when none.
  [[nodiscard]] absl::StatusOr<Row> First() const;
  // As First(), with the conditions in the NotFound message:
  // "table 'posts': no row matches user_id = 7 AND score > 10".
  [[nodiscard]] absl::StatusOr<Row> FirstOrFail() const;
  // The number of matching rows (ignores OrderBy, Limit, Offset and a
  // recorded aggregate).
  [[nodiscard]] absl::StatusOr<int64_t> Count() const;
  // Runs the recorded aggregate over all matching rows; COUNT(*) when none
  // was recorded. Results: Count and CountDistinct → int64 (0 for no
  // rows); Sum → the
  // column's type (int64 or double), OutOfRange on int64 overflow; Avg →
  // double; Min / Max → the column's type (bool and string too). NULL cells
  // are skipped; Sum / Avg / Min / Max of no values is NULL. Sum / Avg of a
  // bool or string column is InvalidArgument naming the column.
  [[nodiscard]] absl::StatusOr<Value> Aggregate() const;
  // The same for an aggregate given here instead of recorded.
  [[nodiscard]] absl::StatusOr<Value> Aggregate(AggregateFunction function,
                                                std::string_view column) const;
  // Page `page` (1-based) of `per_page` rows, with meta. InvalidArgument
  // when page < 1 or per_page < 1, or with Limit / Offset set. A page past
  // the end is empty (meta still counts the total). Inside a Preload
  // callback: FailedPrecondition (and the Preload fails with it).
  [[nodiscard]] absl::StatusOr<Page> Paginate(int64_t page, int64_t per_page) const;

  // Sets `attrs` on every selected row (OrderBy / Offset / Limit apply) in
  // one transaction; returns how many rows were selected (each updated,
  // whether or not a value actually changed, as SQLite counts). Unknown
  // columns, wrong types, NULL for a NOT NULL column and a column named
  // twice are errors even when no row matches; any failure (also a
  // duplicate unique key midway) leaves the database unchanged.
  [[nodiscard]] absl::StatusOr<int64_t> Update(const Attrs& attrs);
  // Deletes every selected row in one transaction (foreign-key actions
  // apply); returns how many selected rows were deleted. On failure (a
  // restrict action) nothing changes.
  [[nodiscard]] absl::StatusOr<int64_t> Delete();

  // --- typed results ---
  // The selected rows (those Get returns, in its order) read through typed
  // column handles (kin/column.h): no ResultRow, no kin::Value and no name
  // lookup per row, for hot loops and results read field by field.
  //   KIN_ASSIGN_OR_RETURN(kin::Column<int64_t> id, db.Int64Column("players", "id"));
  //   KIN_ASSIGN_OR_RETURN(std::vector<int64_t> ids,
  //                        db.Query("players").Where("guild", 7).Pluck(id));
  //   KIN_ASSIGN_OR_RETURN(auto columns, query.Columns(id, score));  // tuple of vectors
  //   struct Entry { int64_t id; int64_t score; };
  //   KIN_ASSIGN_OR_RETURN(std::vector<Entry> top, query.As<Entry>(id, score));
  //   KIN_ASSIGN_OR_RETURN(auto rows, query.Each(id, score));
  //   for (auto [row, i, s] : rows) { ... }
  // Values (kin::Projected<C>): T for an int64, double or bool handle,
  // std::string for a string handle (a copy: results outlive later
  // writes), std::optional of those for kin::Nullable(handle). A NULL read
  // through a plain handle is InvalidArgument naming the column (Each skips
  // such rows instead, as Database::Each does). Errors, beyond Get's:
  // FailedPrecondition for an empty or stale handle; InvalidArgument for a
  // handle of another table or database, a handle of a column outside the
  // query's Select, or a query with loads (Preload, WithCount,
  // WithAggregate: they need Get). Cost: Get's selection, then one typed
  // read per cell.
  template <typename C>
  absl::StatusOr<std::vector<Projected<C>>> Pluck(const C& column) const;
  template <typename... C>
  absl::StatusOr<std::tuple<std::vector<Projected<C>>...>> Columns(const C&... columns) const;
  // One S per row, S{cell...} with the cells in the order of `columns` (an
  // aggregate whose members take the Projected<C> values).
  template <typename S, typename... C>
  absl::StatusOr<std::vector<S>> As(const C&... columns) const;
  // Typed iteration over the selected rows (kin::QueryRange): elements are
  // std::tuple<Row, T...>; writes inside the loop are safe. Keep the range
  // in a variable, as for Database::Each.
  template <typename... T>
  absl::StatusOr<QueryRange<T...>> Each(const Column<T>&... columns) const;

  // --- prepared queries (kin/prepared_query.h) ---
  // Compiles this query once for many runs: names resolved, values and
  // parameters type-checked, the access path planned (again per run, from
  // the bound values). Then per run: Bind each kin::Param, read with Get,
  // Count, Aggregate, Pluck, Columns, As or Each.
  //   kin::Query q = db.Query("players").Where("guild", kin::Param(0))
  //                      .OrderBy("score", kin::kDesc).Limit(10);
  //   KIN_ASSIGN_OR_RETURN(kin::PreparedQuery top, q.Prepare());
  //   KIN_ASSIGN_OR_RETURN(std::vector<int64_t> ids, top.Bind(0, guild).Pluck(id));
  // Errors as Get's (and NotFound for an absent table), plus
  // InvalidArgument for what a prepared query does not run: Has /
  // WhereHas / DoesntHave conditions, Preload / WithCount / WithAggregate
  // (run those through the Query). A query without parameters may be
  // prepared too (it then only saves the compile).
  [[nodiscard]] absl::StatusOr<PreparedQuery> Prepare() const;

  // The plan as text: "index probe posts.user_id = 7 (secondary index, 3
  // rows) | filter: user_id = 7 | order by created_at desc | limit 5" or
  // "scan posts (1000 rows) | ...". Errors as Get().
  [[nodiscard]] absl::StatusOr<std::string> Explain() const;

  // The recorded description of this query (kin/query_spec.h).
  const QuerySpec& spec() const { return spec_; }

 private:
  // Caps a HasOne's relation window at one row (ApplyRelation).
  void CapHasOne(const RelationSpec& relation);
  // kin's own layers (relation handles, the planner, tests) reach the
  // compiled plan and the engine through internal::QueryAccess.
  friend class internal::QueryAccess;

  // A query on an engine and catalog (relation handles, the planner's
  // per-relation queries). Without a catalog the relation methods fail
  // (FailedPrecondition).
  Query(Engine& engine, std::string table, const RelationCatalog* relations);

  // Resolves the query against its table (see internal::CompiledQuery):
  // for the layers above, which run one compiled child query per parent.
  // Valid until the next write to the table.
  [[nodiscard]] absl::StatusOr<internal::CompiledQuery> Compile() const;
  // The table, NotFound when absent.
  [[nodiscard]] absl::StatusOr<const Table*> ResolveTable() const;

  using HandleList = std::initializer_list<std::pair<const Table*, ColumnId>>;
  template <typename C>
  static std::pair<const Table*, ColumnId> HandleOf(const C& column) {
    const auto& handle = column_internal::Projector<C>::Of(column);
    return {handle.table(), handle.id()};
  }
  // The typed results' common part: the run checks of `method`, the
  // handles checked against the query's table and Select, then the
  // selected rows into `ids`. Returns the table.
  absl::StatusOr<const Table*> SelectTyped(absl::string_view method, HandleList columns,
                                           std::vector<RowId>* ids) const;

  QuerySpec& mutable_spec() { return spec_; }
  Engine& engine() const { return *engine_; }
  const RelationCatalog* relations() const { return relations_; }
  const std::string& table_name() const { return spec_.table; }

  // Where a Query object records: decides which calls are allowed.
  enum class Context : uint8_t { kTop, kGroup, kPreload, kWhereHas, kWithCount, kWithAggregate };

  // The relation of this query's table, or nullptr after recording the
  // error (no catalog, unknown relation).
  const RelationSpec* FindRelation(absl::string_view method, absl::string_view relation);
  // The related rows' query: on_query applied, then `callback`. Errors are
  // recorded on this query.
  QuerySpec RelatedSpec(const RelationSpec& relation, Context context, absl::string_view method,
                        const RelatedFn* callback);
  Query& AddHas(Connector connector, absl::string_view method, std::string relation,
                const RelatedFn* callback, CompareOp op, int64_t count);
  Query& AddHasText(Connector connector, absl::string_view method, std::string relation,
                    const RelatedFn* callback, std::string_view op, int64_t count);
  Query& AddLoad(RelationLoadSpec::Kind kind, absl::string_view method, std::string relation,
                 const RelatedFn* callback);
  // The context checks made when the query runs.
  absl::Status CheckPlacement() const;
  // What every run method checks first: FailedPrecondition naming `method`
  // while user code records into this Query (recording_kind_ set), also
  // kept in misuse_ so that the query owning the callback fails with it.
  absl::Status CheckRunnable(absl::string_view method) const;
  internal::RelationContext relation_context() const;

  Query& Add(Connector connector, ConditionSpec condition);
  Query& AddCompare(Connector connector, std::string column, CompareOp op, Value value);
  Query& AddCompareText(Connector connector, std::string column, std::string_view op, Value value);
  Query& AddGroup(Connector connector, GroupFn group);
  // False, after recording the error, when a group or relation callback
  // would nest deeper than kMaxNesting.
  bool EnterNested(absl::string_view what);
  Query& AddValues(Connector connector, ConditionSpec::Kind kind, std::string column,
                   absl::InlinedVector<Value, 2> values);
  // A condition whose operands are parameters (`params`, one per operand).
  Query& AddParams(Connector connector, ConditionSpec::Kind kind, CompareOp op, std::string column,
                   std::initializer_list<Param> params);
  Query& AddParamCompareText(Connector connector, std::string column, std::string_view op,
                             Param value);
  Query& RecordAggregate(AggregateFunction function, std::string column, bool pivot = false);
  // An OrderBy direction ("asc" / "desc", any case); nullopt after
  // recording the error, which names `what` ("order by") and the column.
  std::optional<Order> ParseDirection(absl::string_view what, absl::string_view column,
                                      std::string_view direction);
  // Runs `record` (which calls Where / WhereIn / ... on this query) so that
  // what it records goes to spec_.pivot_conditions.
  Query& AddPivot(absl::string_view method, Connector connector,
                  absl::FunctionRef<void(Query&)> record);
  // Checks, compiles and plans the query (its loads included) into `out`.
  absl::Status BuildPlan(internal::QueryPlan* out) const;
  // Keeps the first builder error.
  void Fail(absl::Status status);
  absl::Status NoAggregate() const;

  Engine* engine_;
  const RelationCatalog* relations_ = nullptr;
  Context context_ = Context::kTop;
  int nesting_ = 0;  // groups and relation callbacks around this query
  // The relation whose related rows this query reads (callbacks only).
  const RelationSpec* relation_ = nullptr;
  // Non-empty while user code records into this Query: the callback kind
  // ("Preload", "WhereHas", "WithCount", "WithAggregate", "where group",
  // "on_query") and what it reads ("users.posts", or a group's table).
  absl::string_view recording_kind_;
  std::string recording_of_;
  // A run method called while recording, for the query that owns this one
  // to report (see CheckRunnable).
  mutable absl::Status misuse_;
  QuerySpec spec_;
};

template <typename C>
absl::StatusOr<std::vector<Projected<C>>> Query::Pluck(const C& column) const {
  std::vector<RowId> ids;
  absl::StatusOr<const Table*> table = SelectTyped("Pluck", {HandleOf(column)}, &ids);
  return column_internal::PluckResult(table, ids, column);
}

template <typename... C>
absl::StatusOr<std::tuple<std::vector<Projected<C>>...>> Query::Columns(const C&... columns) const {
  std::vector<RowId> ids;
  absl::StatusOr<const Table*> table = SelectTyped("Columns", {HandleOf(columns)...}, &ids);
  return column_internal::ColumnsResult(table, ids, columns...);
}

template <typename S, typename... C>
absl::StatusOr<std::vector<S>> Query::As(const C&... columns) const {
  std::vector<RowId> ids;
  absl::StatusOr<const Table*> table = SelectTyped("As", {HandleOf(columns)...}, &ids);
  return column_internal::AsResult<S>(table, ids, columns...);
}

template <typename... T>
absl::StatusOr<QueryRange<T...>> Query::Each(const Column<T>&... columns) const {
  std::vector<RowId> ids;
  absl::StatusOr<const Table*> table = SelectTyped("Each", {HandleOf(columns)...}, &ids);
  if (!table.ok()) return table.status();
  return QueryRange<T...>(*table, ids, columns...);
}

}  // namespace kin

#endif  // KIN_QUERY_H_
