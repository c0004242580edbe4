// QuerySpec: the plain, inspectable record a kin::Query builds.
//
// Builder calls on Query only append to a QuerySpec; nothing is looked up
// until the query runs. The spec holds names and Values exactly as given, so
// it can be printed, copied and extended. Relation-aware calls record nested
// specs of the related table: Has / WhereHas as a kRelation condition (so it
// combines with Where / OrWhere and groups), Preload / WithCount /
// WithAggregate as a RelationLoadSpec.

#ifndef KIN_QUERY_SPEC_H_
#define KIN_QUERY_SPEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kin/value.h"

namespace kin {

// Sort direction for OrderBy.
enum class Order : uint8_t { kAsc, kDesc };
inline constexpr Order kAsc = Order::kAsc;
inline constexpr Order kDesc = Order::kDesc;

// "asc" / "desc".
absl::string_view OrderName(Order order);
// Parses "asc" / "desc" (any case); nullopt otherwise.
std::optional<Order> ParseOrder(absl::string_view text);

// Comparison operators of Where(column, op, value).
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// "=", "!=", "<", "<=", ">", ">=".
absl::string_view CompareOpSymbol(CompareOp op);
// Parses "=", "==", "!=", "<>", "<", "<=", ">", ">="; nullopt otherwise.
std::optional<CompareOp> ParseCompareOp(absl::string_view text);

// A placeholder for a value given later: Where("guild", kin::Param(0))
// records parameter 0, which PreparedQuery::Bind(0, value) supplies before
// each run (kin/prepared_query.h). Parameters stand for the operand of a
// comparison (Where with or without an operator) and for both bounds of
// WhereBetween / WhereNotBetween. A Query holding one runs only prepared:
// its own run methods return InvalidArgument naming the parameter.
struct Param {
  explicit constexpr Param(int i) : index(i) {}
  int index;
};

// How a condition joins the conditions before it. As in SQL, AND binds
// tighter than OR: Where(a).OrWhere(b).Where(c) means a OR (b AND c). Use a
// group (Where with a callback) for other groupings.
enum class Connector : uint8_t { kAnd, kOr };

// Aggregate functions; the numbers are not persisted. kCountDistinct counts
// the distinct non-NULL values of a column (SQL COUNT(DISTINCT column)).
enum class AggregateFunction : uint8_t { kCount, kSum, kAvg, kMin, kMax, kCountDistinct };
// "count", "sum", "avg", "min", "max", "count distinct".
absl::string_view AggregateFunctionName(AggregateFunction f);

struct QuerySpec;

// One recorded condition.
struct ConditionSpec {
  enum class Kind : uint8_t {
    kCompare,     // column <op> values[0]; values[0] is never NULL for = and !=
    kIn,          // column IN values (NULL members never match)
    kNotIn,       // column NOT IN values (a NULL member makes it never true)
    kNull,        // column IS NULL
    kNotNull,     // column IS NOT NULL
    kBetween,     // values[0] <= column <= values[1]
    kNotBetween,  // column < values[0] OR column > values[1]
    kStartsWith,  // string column starts with values[0] (bytewise)
    kEndsWith,    // string column ends with values[0]
    kContains,    // string column contains values[0]
    kGroup,       // ( group ), a parenthesised list of conditions
    // The number of related rows passes a count test: Has / WhereHas /
    // DoesntHave. `column` holds the relation's name, `op` and values[0]
    // (int64) the test (DoesntHave is `< 1`), and subquery[0] the related
    // rows' filter (the relation's on_query conditions in its scope, a
    // WhereHas callback's in its conditions).
    kRelation,
  };

  Connector connector = Connector::kAnd;  // ignored on the first condition
  Kind kind = Kind::kCompare;
  CompareOp op = CompareOp::kEq;  // kCompare only
  std::string column;             // empty for kGroup
  // The operands (inline storage: most conditions have one or two).
  absl::InlinedVector<Value, 2> values;
  // Per operand, the parameter it stands for (kin::Param's index), or -1
  // for values[i] itself; empty when no operand is a parameter (then a
  // placeholder NULL sits in values[i]). kCompare, kBetween, kNotBetween.
  absl::InlinedVector<int, 2> params;
  std::vector<ConditionSpec> group;  // kGroup only
  // kRelation only: exactly one spec of the related table. (A vector
  // because QuerySpec is incomplete here.)
  std::vector<QuerySpec> subquery;
};

// One OrderBy key.
struct OrderSpec {
  std::string column;
  Order order = Order::kAsc;
  // GroupOrderByPivot: `column` is a column of a ManyToMany's pivot table,
  // read on each related row's link (only in group_order_by).
  bool pivot = false;
};

// A recorded aggregate: Sum("score"), Max("created_at"), Count("*") ...
struct AggregateSpec {
  AggregateFunction function = AggregateFunction::kCount;
  // The column; "*" (Count only) counts rows.
  std::string column;
  // SumPivot, MaxPivot, ...: `column` is a column of a ManyToMany's pivot
  // table, aggregated over the links of the selected related rows.
  bool pivot = false;
};

struct RelationLoadSpec;  // below

struct QuerySpec {
  std::string table;
  // Conditions ANDed around everything in `conditions`: a relation's
  // constraint (posts.user_id = 7) lives here so that an OrWhere recorded
  // later cannot reach other parents' rows.
  std::vector<ConditionSpec> scope;
  std::vector<ConditionSpec> conditions;
  // WherePivot...: conditions on a ManyToMany's pivot table, ANDed with
  // everything above; a link (pivot row) that fails them does not lead to
  // its related row. Only in the related query of a ManyToMany.
  std::vector<ConditionSpec> pivot_conditions;
  std::vector<OrderSpec> order_by;
  std::optional<int64_t> limit;   // >= 0 when set
  std::optional<int64_t> offset;  // >= 0 when set
  std::optional<AggregateSpec> aggregate;
  // Select(...): the columns the returned rows carry, in the order given
  // (duplicates allowed, ignored). Empty: every column.
  std::vector<std::string> select;
  // As(alias): the name a recorded aggregate or count is reported under.
  // Empty when not given.
  std::string alias;
  // Preload / WithCount / WithAggregate, in the order recorded.
  std::vector<RelationLoadSpec> loads;
  // Per-parent window of a preload (only valid in a Preload callback).
  std::optional<int64_t> group_limit;  // >= 0 when set
  std::vector<OrderSpec> group_order_by;
  // The OrderBy / Limit / Offset a relation's on_query recorded, kept apart
  // from the caller's (Query::ApplyRelation): a Preload applies them per
  // parent (its order keys first), counts, Has / WhereHas and aggregates
  // ignore them, and a relation handle's Query() folds them into order_by /
  // limit / offset.
  std::vector<OrderSpec> relation_order_by;
  std::optional<int64_t> relation_limit;
  std::optional<int64_t> relation_offset;
  // The first builder call that could not be recorded (an unknown operator
  // text, a negative limit, ...). Reported when the query runs, before any
  // name is resolved.
  absl::Status error;
};

// What a Preload, WithCount or WithAggregate loads for each row.
struct RelationLoadSpec {
  enum class Kind : uint8_t {
    kPreload,    // the related rows, as ResultRow::Preloaded(relation)
    kCount,      // their number, as ResultRow::Extra(alias or "{relation}_count")
    kAggregate,  // query.aggregate over them, as ResultRow::Extra(query.alias)
  };
  Kind kind = Kind::kPreload;
  std::string relation;
  // The related rows' query (table = the related table): the relation's
  // on_query conditions in its scope, the callback's in its conditions, and
  // for preloads the order, the per-parent window and nested loads.
  QuerySpec query;
};

// SQL-like text of a condition list, for Explain() and error messages:
// `user_id = 7 AND (title starts with "a" OR score IS NULL)`. "" when empty.
std::string DescribeConditions(const std::vector<ConditionSpec>& conditions);

// scope AND (conditions), as one condition list (what the query filters on).
std::vector<ConditionSpec> EffectiveConditions(const QuerySpec& spec);

// Whether `spec` records anything on a pivot table (WherePivot...,
// GroupOrderByPivot, an aggregate of a pivot column), and the first such
// call as text ("WherePivot(progress >= 50)", "GroupOrderByPivot(progress)",
// "SumPivot(progress)"); "" when none.
std::string DescribePivotUse(const QuerySpec& spec);

// The whole spec on one line: `posts where ... order by created_at desc
// limit 5 offset 10 max(created_at) as last_post_at`, then its loads:
// ` preload posts (posts where is_published = true group limit 5)`.
std::string DescribeSpec(const QuerySpec& spec);

}  // namespace kin

#endif  // KIN_QUERY_SPEC_H_
