#include "kin/query.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/internal/column_check.h"
#include "kin/internal/database_access.h"
#include "kin/status_macros.h"
#include "query/internal/compiled_query.h"
#include "query/internal/has_filter.h"
#include "query/internal/loads.h"
#include "query/internal/query_plan.h"
#include "query/internal/relation_errors.h"
#include "relations/relation_catalog.h"

namespace kin {

using internal::CompiledQuery;
using internal::QueryPlan;

Query::Query(Database& db, std::string table)
    : Query(internal::DatabaseAccess::engine(db), std::move(table),
            &internal::DatabaseAccess::catalog(db)) {}

Query::Query(Engine& engine, std::string table, const RelationCatalog* relations)
    : engine_(&engine), relations_(relations) {
  spec_.table = std::move(table);
  // One allocation for the usual few conditions instead of one per growth.
  spec_.conditions.reserve(4);
}

void Query::Fail(absl::Status status) {
  if (spec_.error.ok()) spec_.error = std::move(status);
}

Query& Query::Add(Connector connector, ConditionSpec condition) {
  condition.connector = connector;
  spec_.conditions.push_back(std::move(condition));
  return *this;
}

Query& Query::AddCompare(Connector connector, std::string column, CompareOp op, Value value) {
  ConditionSpec c;
  c.column = std::move(column);
  if (value.is_null() && op == CompareOp::kEq) {
    c.kind = ConditionSpec::Kind::kNull;
  } else if (value.is_null() && op == CompareOp::kNe) {
    c.kind = ConditionSpec::Kind::kNotNull;
  } else {
    c.kind = ConditionSpec::Kind::kCompare;
    c.op = op;
    c.values.push_back(std::move(value));
  }
  return Add(connector, std::move(c));
}

Query& Query::AddCompareText(Connector connector, std::string column, std::string_view op,
                             Value value) {
  std::optional<CompareOp> parsed = ParseCompareOp(internal::ToAbsl(op));
  if (!parsed.has_value()) {
    Fail(errors::UnknownOperator(spec_.table, column, internal::ToAbsl(op)));
    return *this;
  }
  return AddCompare(connector, std::move(column), *parsed, std::move(value));
}

Query& Query::AddGroup(Connector connector, GroupFn group) {
  if (!EnterNested("a where group")) return *this;
  Query sub(*engine_, spec_.table, relations_);
  sub.context_ = Context::kGroup;
  sub.recording_kind_ = "where group";
  sub.recording_of_ = spec_.table;
  sub.nesting_ = nesting_ + 1;
  group(sub);
  if (!sub.misuse_.ok()) Fail(sub.misuse_);
  if (!sub.spec_.error.ok()) Fail(sub.spec_.error);
  const QuerySpec& s = sub.spec_;
  if (!s.order_by.empty() || s.limit.has_value() || s.offset.has_value() ||
      s.aggregate.has_value() || !s.alias.empty() || !s.select.empty()) {
    Fail(errors::BadQuery(spec_.table,
                          "only conditions may be recorded inside a where group (found "
                          "OrderBy, Limit, Offset, an aggregate, As or Select)"));
  }
  if (!s.pivot_conditions.empty()) {
    Fail(errors::BadQuery(spec_.table,
                          "WherePivot inside a where group: record pivot conditions on the "
                          "relation callback's query, or group them with WherePivot(group)"));
  }
  if (!s.loads.empty() || s.group_limit.has_value() || !s.group_order_by.empty()) {
    Fail(errors::BadQuery(spec_.table,
                          "only conditions may be recorded inside a where group (found "
                          "Preload, WithCount, WithAggregate, GroupLimit or GroupOrderBy)"));
  }
  ConditionSpec c;
  c.kind = ConditionSpec::Kind::kGroup;
  c.group = std::move(sub.spec_.conditions);
  return Add(connector, std::move(c));
}

bool Query::EnterNested(absl::string_view what) {
  if (nesting_ < kMaxNesting) return true;
  Fail(errors::BadQuery(spec_.table, absl::StrCat(what, " nested deeper than ", kMaxNesting,
                                                  " levels (Query::kMaxNesting)")));
  return false;
}

Query& Query::AddValues(Connector connector, ConditionSpec::Kind kind, std::string column,
                        absl::InlinedVector<Value, 2> values) {
  ConditionSpec c;
  c.kind = kind;
  c.column = std::move(column);
  c.values = std::move(values);
  return Add(connector, std::move(c));
}

namespace {

absl::InlinedVector<Value, 2> ToValues(std::vector<Value> values) {
  return absl::InlinedVector<Value, 2>(std::make_move_iterator(values.begin()),
                                       std::make_move_iterator(values.end()));
}

}  // namespace

// --- conditions ---

Query& Query::Where(std::string column, Value value) {
  return AddCompare(Connector::kAnd, std::move(column), CompareOp::kEq, std::move(value));
}
Query& Query::AndWhere(std::string column, Value value) {
  return AddCompare(Connector::kAnd, std::move(column), CompareOp::kEq, std::move(value));
}
Query& Query::OrWhere(std::string column, Value value) {
  return AddCompare(Connector::kOr, std::move(column), CompareOp::kEq, std::move(value));
}
Query& Query::Where(std::string column, std::string_view op, Value value) {
  return AddCompareText(Connector::kAnd, std::move(column), op, std::move(value));
}
Query& Query::AndWhere(std::string column, std::string_view op, Value value) {
  return AddCompareText(Connector::kAnd, std::move(column), op, std::move(value));
}
Query& Query::OrWhere(std::string column, std::string_view op, Value value) {
  return AddCompareText(Connector::kOr, std::move(column), op, std::move(value));
}
Query& Query::Where(std::string column, CompareOp op, Value value) {
  return AddCompare(Connector::kAnd, std::move(column), op, std::move(value));
}
Query& Query::AndWhere(std::string column, CompareOp op, Value value) {
  return AddCompare(Connector::kAnd, std::move(column), op, std::move(value));
}
Query& Query::OrWhere(std::string column, CompareOp op, Value value) {
  return AddCompare(Connector::kOr, std::move(column), op, std::move(value));
}
Query& Query::Where(GroupFn group) { return AddGroup(Connector::kAnd, group); }
Query& Query::AndWhere(GroupFn group) { return AddGroup(Connector::kAnd, group); }
Query& Query::OrWhere(GroupFn group) { return AddGroup(Connector::kOr, group); }

// --- parameters ---

Query& Query::AddParams(Connector connector, ConditionSpec::Kind kind, CompareOp op,
                        std::string column, std::initializer_list<Param> params) {
  ConditionSpec c;
  c.kind = kind;
  c.op = op;
  c.column = std::move(column);
  for (Param p : params) {
    if (p.index < 0 || p.index >= kMaxParams) {
      Fail(errors::BadQuery(spec_.table,
                            absl::StrCat("parameter index must be 0 to ", kMaxParams - 1, ", got ",
                                         p.index, " (on column '", c.column, "')")));
      return *this;
    }
    c.values.emplace_back();  // a placeholder until the parameter is bound
    c.params.push_back(p.index);
  }
  return Add(connector, std::move(c));
}

Query& Query::AddParamCompareText(Connector connector, std::string column, std::string_view op,
                                  Param value) {
  std::optional<CompareOp> parsed = ParseCompareOp(internal::ToAbsl(op));
  if (!parsed.has_value()) {
    Fail(errors::UnknownOperator(spec_.table, column, internal::ToAbsl(op)));
    return *this;
  }
  return AddParams(connector, ConditionSpec::Kind::kCompare, *parsed, std::move(column), {value});
}

Query& Query::Where(std::string column, Param value) {
  return AddParams(Connector::kAnd, ConditionSpec::Kind::kCompare, CompareOp::kEq,
                   std::move(column), {value});
}
Query& Query::AndWhere(std::string column, Param value) {
  return AddParams(Connector::kAnd, ConditionSpec::Kind::kCompare, CompareOp::kEq,
                   std::move(column), {value});
}
Query& Query::OrWhere(std::string column, Param value) {
  return AddParams(Connector::kOr, ConditionSpec::Kind::kCompare, CompareOp::kEq, std::move(column),
                   {value});
}
Query& Query::Where(std::string column, std::string_view op, Param value) {
  return AddParamCompareText(Connector::kAnd, std::move(column), op, value);
}
Query& Query::AndWhere(std::string column, std::string_view op, Param value) {
  return AddParamCompareText(Connector::kAnd, std::move(column), op, value);
}
Query& Query::OrWhere(std::string column, std::string_view op, Param value) {
  return AddParamCompareText(Connector::kOr, std::move(column), op, value);
}
Query& Query::Where(std::string column, CompareOp op, Param value) {
  return AddParams(Connector::kAnd, ConditionSpec::Kind::kCompare, op, std::move(column), {value});
}
Query& Query::AndWhere(std::string column, CompareOp op, Param value) {
  return AddParams(Connector::kAnd, ConditionSpec::Kind::kCompare, op, std::move(column), {value});
}
Query& Query::OrWhere(std::string column, CompareOp op, Param value) {
  return AddParams(Connector::kOr, ConditionSpec::Kind::kCompare, op, std::move(column), {value});
}

#define KIN_PARAM_RANGE_FORMS_(Name, kind)                                                   \
  Query& Query::Where##Name(std::string column, Param low, Param high) {                     \
    return AddParams(Connector::kAnd, kind, CompareOp::kEq, std::move(column), {low, high}); \
  }                                                                                          \
  Query& Query::AndWhere##Name(std::string column, Param low, Param high) {                  \
    return AddParams(Connector::kAnd, kind, CompareOp::kEq, std::move(column), {low, high}); \
  }                                                                                          \
  Query& Query::OrWhere##Name(std::string column, Param low, Param high) {                   \
    return AddParams(Connector::kOr, kind, CompareOp::kEq, std::move(column), {low, high});  \
  }
KIN_PARAM_RANGE_FORMS_(Between, ConditionSpec::Kind::kBetween)
KIN_PARAM_RANGE_FORMS_(NotBetween, ConditionSpec::Kind::kNotBetween)
#undef KIN_PARAM_RANGE_FORMS_

#define KIN_VALUES_FORMS_(Name, kind)                                                        \
  Query& Query::Where##Name(std::string column, std::vector<Value> values) {                 \
    return AddValues(Connector::kAnd, kind, std::move(column), ToValues(std::move(values))); \
  }                                                                                          \
  Query& Query::AndWhere##Name(std::string column, std::vector<Value> values) {              \
    return AddValues(Connector::kAnd, kind, std::move(column), ToValues(std::move(values))); \
  }                                                                                          \
  Query& Query::OrWhere##Name(std::string column, std::vector<Value> values) {               \
    return AddValues(Connector::kOr, kind, std::move(column), ToValues(std::move(values)));  \
  }
KIN_VALUES_FORMS_(In, ConditionSpec::Kind::kIn)
KIN_VALUES_FORMS_(NotIn, ConditionSpec::Kind::kNotIn)
#undef KIN_VALUES_FORMS_

#define KIN_NULL_FORMS_(Name, kind)                                 \
  Query& Query::Where##Name(std::string column) {                   \
    return AddValues(Connector::kAnd, kind, std::move(column), {}); \
  }                                                                 \
  Query& Query::AndWhere##Name(std::string column) {                \
    return AddValues(Connector::kAnd, kind, std::move(column), {}); \
  }                                                                 \
  Query& Query::OrWhere##Name(std::string column) {                 \
    return AddValues(Connector::kOr, kind, std::move(column), {});  \
  }
KIN_NULL_FORMS_(Null, ConditionSpec::Kind::kNull)
KIN_NULL_FORMS_(NotNull, ConditionSpec::Kind::kNotNull)
#undef KIN_NULL_FORMS_

#define KIN_RANGE_FORMS_(Name, kind)                                                               \
  Query& Query::Where##Name(std::string column, Value low, Value high) {                           \
    return AddValues(Connector::kAnd, kind, std::move(column), {std::move(low), std::move(high)}); \
  }                                                                                                \
  Query& Query::AndWhere##Name(std::string column, Value low, Value high) {                        \
    return AddValues(Connector::kAnd, kind, std::move(column), {std::move(low), std::move(high)}); \
  }                                                                                                \
  Query& Query::OrWhere##Name(std::string column, Value low, Value high) {                         \
    return AddValues(Connector::kOr, kind, std::move(column), {std::move(low), std::move(high)});  \
  }
KIN_RANGE_FORMS_(Between, ConditionSpec::Kind::kBetween)
KIN_RANGE_FORMS_(NotBetween, ConditionSpec::Kind::kNotBetween)
#undef KIN_RANGE_FORMS_

#define KIN_STRING_FORMS_(Name, kind)                                                     \
  Query& Query::Where##Name(std::string column, std::string text) {                       \
    return AddValues(Connector::kAnd, kind, std::move(column), {Value(std::move(text))}); \
  }                                                                                       \
  Query& Query::AndWhere##Name(std::string column, std::string text) {                    \
    return AddValues(Connector::kAnd, kind, std::move(column), {Value(std::move(text))}); \
  }                                                                                       \
  Query& Query::OrWhere##Name(std::string column, std::string text) {                     \
    return AddValues(Connector::kOr, kind, std::move(column), {Value(std::move(text))});  \
  }
KIN_STRING_FORMS_(StartsWith, ConditionSpec::Kind::kStartsWith)
KIN_STRING_FORMS_(EndsWith, ConditionSpec::Kind::kEndsWith)
KIN_STRING_FORMS_(Contains, ConditionSpec::Kind::kContains)
#undef KIN_STRING_FORMS_

// --- pivot conditions ---

Query& Query::AddPivot(absl::string_view method, Connector connector,
                       absl::FunctionRef<void(Query&)> record) {
  if (connector == Connector::kOr && spec_.pivot_conditions.empty()) {
    // The pivot conditions are ANDed, as a whole, with the related row's:
    // an OR here would silently mean AND.
    Fail(errors::BadQuery(spec_.table,
                          absl::StrCat(method,
                                       " must follow a WherePivot: pivot conditions are ANDed "
                                       "with the related row's conditions")));
    return *this;
  }
  // Record with the ordinary condition builders, into the pivot list.
  std::swap(spec_.conditions, spec_.pivot_conditions);
  record(*this);
  std::swap(spec_.conditions, spec_.pivot_conditions);
  return *this;
}

#define KIN_PIVOT_FORMS_(Prefix, connector)                                                       \
  Query& Query::Prefix##WherePivot(std::string column, Value value) {                             \
    return AddPivot(#Prefix "WherePivot", connector,                                              \
                    [&](Query& q) { q.Prefix##Where(std::move(column), std::move(value)); });     \
  }                                                                                               \
  Query& Query::Prefix##WherePivot(std::string column, std::string_view op, Value value) {        \
    return AddPivot(#Prefix "WherePivot", connector,                                              \
                    [&](Query& q) { q.Prefix##Where(std::move(column), op, std::move(value)); }); \
  }                                                                                               \
  Query& Query::Prefix##WherePivot(std::string column, CompareOp op, Value value) {               \
    return AddPivot(#Prefix "WherePivot", connector,                                              \
                    [&](Query& q) { q.Prefix##Where(std::move(column), op, std::move(value)); }); \
  }                                                                                               \
  Query& Query::Prefix##WherePivot(GroupFn group) {                                               \
    return AddPivot(#Prefix "WherePivot", connector, [&](Query& q) { q.Prefix##Where(group); });  \
  }                                                                                               \
  Query& Query::Prefix##WherePivotIn(std::string column, std::vector<Value> values) {             \
    return AddPivot(#Prefix "WherePivotIn", connector,                                            \
                    [&](Query& q) { q.Prefix##WhereIn(std::move(column), std::move(values)); });  \
  }                                                                                               \
  Query& Query::Prefix##WherePivotNotIn(std::string column, std::vector<Value> values) {          \
    return AddPivot(#Prefix "WherePivotNotIn", connector, [&](Query& q) {                         \
      q.Prefix##WhereNotIn(std::move(column), std::move(values));                                 \
    });                                                                                           \
  }                                                                                               \
  Query& Query::Prefix##WherePivotNull(std::string column) {                                      \
    return AddPivot(#Prefix "WherePivotNull", connector,                                          \
                    [&](Query& q) { q.Prefix##WhereNull(std::move(column)); });                   \
  }                                                                                               \
  Query& Query::Prefix##WherePivotNotNull(std::string column) {                                   \
    return AddPivot(#Prefix "WherePivotNotNull", connector,                                       \
                    [&](Query& q) { q.Prefix##WhereNotNull(std::move(column)); });                \
  }                                                                                               \
  Query& Query::Prefix##WherePivotBetween(std::string column, Value low, Value high) {            \
    return AddPivot(#Prefix "WherePivotBetween", connector, [&](Query& q) {                       \
      q.Prefix##WhereBetween(std::move(column), std::move(low), std::move(high));                 \
    });                                                                                           \
  }
KIN_PIVOT_FORMS_(, Connector::kAnd)
KIN_PIVOT_FORMS_(And, Connector::kAnd)
KIN_PIVOT_FORMS_(Or, Connector::kOr)
#undef KIN_PIVOT_FORMS_

// --- relations ---

const RelationSpec* Query::FindRelation(absl::string_view method, absl::string_view relation) {
  if (relations_ == nullptr) {
    Fail(errors::NoRelationCatalog(spec_.table, method));
    return nullptr;
  }
  absl::StatusOr<const RelationSpec*> found = relations_->Get(spec_.table, relation);
  if (!found.ok()) {
    Fail(found.status());
    return nullptr;
  }
  return *found;
}

Query& Query::ApplyRelation(const RelationSpec& relation) {
  if (absl::Status attached = CheckOnQueryAttached(relation); !attached.ok()) {
    Fail(attached);
    return *this;
  }
  // A HasMany's scope filters the children it reads (a BelongsTo's scope
  // is on the rows it starts from: see RelationHop and RelationHandle).
  if (relation.parent_side()) {
    for (const auto& [column, value] : relation.scope) {
      ConditionSpec c;
      c.kind = ConditionSpec::Kind::kCompare;
      c.op = CompareOp::kEq;
      c.column = column;
      c.values.push_back(value);
      spec_.scope.push_back(std::move(c));
    }
  }
  if (!relation.on_query) {
    CapHasOne(relation);
    return *this;
  }
  std::vector<ConditionSpec> before = std::move(spec_.conditions);
  std::vector<OrderSpec> order_before = std::move(spec_.order_by);
  const std::optional<int64_t> limit_before = spec_.limit;
  const std::optional<int64_t> offset_before = spec_.offset;
  spec_.conditions.clear();
  spec_.order_by.clear();
  spec_.limit.reset();
  spec_.offset.reset();
  // on_query records like any callback: a run method there is refused.
  const absl::string_view kind_before = recording_kind_;
  std::string of_before = std::move(recording_of_);
  recording_kind_ = "on_query";
  recording_of_ = relation.QualifiedName();
  relation.on_query(*this);
  recording_kind_ = kind_before;
  recording_of_ = std::move(of_before);
  if (!misuse_.ok()) Fail(misuse_);
  if (std::string pivot = DescribePivotUse(spec_); !pivot.empty()) {
    // A relation handle's reads run on_query outside any relation walk,
    // where no link is at hand; a ManyToMany's fixed link filter is its
    // scope.
    Fail(absl::InvalidArgumentError(
        absl::StrCat("relation '", relation.QualifiedName(), "': on_query may not record ", pivot,
                     " (a ManyToMany filters its links with ManyToManyOptions::scope)")));
  }
  if (!spec_.conditions.empty()) {
    ConditionSpec group;
    group.kind = ConditionSpec::Kind::kGroup;
    group.group = std::move(spec_.conditions);
    spec_.scope.push_back(std::move(group));
  }
  // Its window is the relation's, kept apart from the caller's own.
  spec_.relation_order_by = std::move(spec_.order_by);
  spec_.relation_limit = spec_.limit;
  spec_.relation_offset = spec_.offset;
  spec_.conditions = std::move(before);
  spec_.order_by = std::move(order_before);
  spec_.limit = limit_before;
  spec_.offset = offset_before;
  CapHasOne(relation);
  return *this;
}

void Query::CapHasOne(const RelationSpec& relation) {
  // A has-one reads its first child (by on_query's order, else insertion
  // order): the relation's window holds one row, so Get, Preload and the
  // handle's Query return zero or one row while counts and has-tests,
  // which ignore the window, still see every linked row.
  if (relation.kind != RelationKind::kHasOne) return;
  spec_.relation_limit = std::min<int64_t>(spec_.relation_limit.value_or(1), 1);
}

QuerySpec Query::RelatedSpec(const RelationSpec& relation, Context context,
                             absl::string_view method, const RelatedFn* callback) {
  Query sub(*engine_, relation.related_table, relations_);
  sub.context_ = context;
  sub.relation_ = &relation;
  sub.nesting_ = nesting_ + 1;
  sub.recording_kind_ = method;
  sub.recording_of_ = relation.QualifiedName();
  if (!EnterNested("a relation callback")) return std::move(sub.spec_);
  sub.ApplyRelation(relation);
  if (callback != nullptr) (*callback)(sub);
  if (!sub.misuse_.ok()) Fail(sub.misuse_);
  if (!sub.spec_.error.ok()) Fail(sub.spec_.error);
  return std::move(sub.spec_);
}

Query& Query::AddHas(Connector connector, absl::string_view method, std::string relation,
                     const RelatedFn* callback, CompareOp op, int64_t count) {
  const RelationSpec* rel = FindRelation(method, relation);
  if (rel == nullptr) return *this;
  ConditionSpec c;
  c.kind = ConditionSpec::Kind::kRelation;
  c.op = op;
  c.values.push_back(Value(count));
  c.subquery.push_back(RelatedSpec(*rel, Context::kWhereHas, method, callback));
  c.column = std::move(relation);
  return Add(connector, std::move(c));
}

Query& Query::AddHasText(Connector connector, absl::string_view method, std::string relation,
                         const RelatedFn* callback, std::string_view op, int64_t count) {
  std::optional<CompareOp> parsed = ParseCompareOp(internal::ToAbsl(op));
  if (!parsed.has_value()) {
    Fail(errors::UnknownOperator(spec_.table, relation, internal::ToAbsl(op)));
    return *this;
  }
  return AddHas(connector, method, std::move(relation), callback, *parsed, count);
}

#define KIN_HAS_FORMS_(Prefix, connector)                                                       \
  Query& Query::Prefix##Has(std::string relation) {                                             \
    return AddHas(connector, "Has", std::move(relation), nullptr, CompareOp::kGe, 1);           \
  }                                                                                             \
  Query& Query::Prefix##Has(std::string relation, std::string_view op, int64_t count) {         \
    return AddHasText(connector, "Has", std::move(relation), nullptr, op, count);               \
  }                                                                                             \
  Query& Query::Prefix##Has(std::string relation, CompareOp op, int64_t count) {                \
    return AddHas(connector, "Has", std::move(relation), nullptr, op, count);                   \
  }                                                                                             \
  Query& Query::Prefix##DoesntHave(std::string relation) {                                      \
    return AddHas(connector, "DoesntHave", std::move(relation), nullptr, CompareOp::kLt, 1);    \
  }                                                                                             \
  Query& Query::Prefix##WhereHas(std::string relation, RelatedFn callback) {                    \
    return AddHas(connector, "WhereHas", std::move(relation), &callback, CompareOp::kGe, 1);    \
  }                                                                                             \
  Query& Query::Prefix##WhereHas(std::string relation, RelatedFn callback, std::string_view op, \
                                 int64_t count) {                                               \
    return AddHasText(connector, "WhereHas", std::move(relation), &callback, op, count);        \
  }                                                                                             \
  Query& Query::Prefix##WhereHas(std::string relation, RelatedFn callback, CompareOp op,        \
                                 int64_t count) {                                               \
    return AddHas(connector, "WhereHas", std::move(relation), &callback, op, count);            \
  }                                                                                             \
  Query& Query::Prefix##WhereDoesntHave(std::string relation, RelatedFn callback) {             \
    return AddHas(connector, "WhereDoesntHave", std::move(relation), &callback, CompareOp::kLt, \
                  1);                                                                           \
  }
KIN_HAS_FORMS_(, Connector::kAnd)
KIN_HAS_FORMS_(And, Connector::kAnd)
KIN_HAS_FORMS_(Or, Connector::kOr)
#undef KIN_HAS_FORMS_

Query& Query::AddLoad(RelationLoadSpec::Kind kind, absl::string_view method, std::string relation,
                      const RelatedFn* callback) {
  const RelationSpec* rel = FindRelation(method, relation);
  if (rel == nullptr) return *this;
  const Context context = kind == RelationLoadSpec::Kind::kPreload ? Context::kPreload
                          : kind == RelationLoadSpec::Kind::kCount ? Context::kWithCount
                                                                   : Context::kWithAggregate;
  RelationLoadSpec load;
  load.kind = kind;
  load.query = RelatedSpec(*rel, context, method, callback);
  load.relation = std::move(relation);
  spec_.loads.push_back(std::move(load));
  return *this;
}

Query& Query::Preload(std::string relation) {
  return AddLoad(RelationLoadSpec::Kind::kPreload, "Preload", std::move(relation), nullptr);
}
Query& Query::Preload(std::string relation, RelatedFn callback) {
  return AddLoad(RelationLoadSpec::Kind::kPreload, "Preload", std::move(relation), &callback);
}
Query& Query::WithCount(std::string relation) {
  return AddLoad(RelationLoadSpec::Kind::kCount, "WithCount", std::move(relation), nullptr);
}
Query& Query::WithCount(std::string relation, RelatedFn callback) {
  return AddLoad(RelationLoadSpec::Kind::kCount, "WithCount", std::move(relation), &callback);
}
Query& Query::WithAggregate(std::string relation, RelatedFn callback) {
  return AddLoad(RelationLoadSpec::Kind::kAggregate, "WithAggregate", std::move(relation),
                 &callback);
}

Query& Query::GroupLimit(int64_t n) {
  if (n < 0) {
    Fail(errors::BadQueryArgument(spec_.table, "group limit", 0, n));
    return *this;
  }
  spec_.group_limit = n;
  return *this;
}

Query& Query::GroupOrderBy(std::string column, Order order) {
  spec_.group_order_by.push_back(OrderSpec{std::move(column), order});
  return *this;
}

Query& Query::GroupOrderByPivot(std::string column, Order order) {
  spec_.group_order_by.push_back(OrderSpec{std::move(column), order, /*pivot=*/true});
  return *this;
}

Query& Query::GroupOrderByPivot(std::string column, std::string_view direction) {
  std::optional<Order> order = ParseDirection("group order by pivot", column, direction);
  return order.has_value() ? GroupOrderByPivot(std::move(column), *order) : *this;
}

Query& Query::GroupOrderBy(std::string column, std::string_view direction) {
  std::optional<Order> order = ParseDirection("group order by", column, direction);
  return order.has_value() ? GroupOrderBy(std::move(column), *order) : *this;
}

std::optional<Order> Query::ParseDirection(absl::string_view what, absl::string_view column,
                                           std::string_view direction) {
  std::optional<Order> order = ParseOrder(internal::ToAbsl(direction));
  if (!order.has_value()) {
    Fail(errors::BadQuery(spec_.table, absl::StrCat(what, " ", column,
                                                    ": direction must be \"asc\" or \"desc\", "
                                                    "got \"",
                                                    internal::ToAbsl(direction), "\"")));
  }
  return order;
}

// --- column selection ---

Query& Query::SelectColumns(std::vector<std::string> columns) {
  for (std::string& c : columns) spec_.select.push_back(std::move(c));
  return *this;
}

// --- order and window ---

Query& Query::OrderBy(std::string column, Order order) {
  spec_.order_by.push_back(OrderSpec{std::move(column), order});
  return *this;
}

Query& Query::OrderBy(std::string column, std::string_view direction) {
  std::optional<Order> order = ParseDirection("order by", column, direction);
  return order.has_value() ? OrderBy(std::move(column), *order) : *this;
}

Query& Query::Limit(int64_t n) {
  if (n < 0) {
    Fail(errors::BadQueryArgument(spec_.table, "limit", 0, n));
    return *this;
  }
  spec_.limit = n;
  return *this;
}

Query& Query::Offset(int64_t n) {
  if (n < 0) {
    Fail(errors::BadQueryArgument(spec_.table, "offset", 0, n));
    return *this;
  }
  spec_.offset = n;
  return *this;
}

// --- recorded aggregates ---

Query& Query::RecordAggregate(AggregateFunction function, std::string column, bool pivot) {
  if (spec_.aggregate.has_value()) {
    Fail(errors::BadQuery(
        spec_.table,
        absl::StrCat("a second aggregate ", AggregateFunctionName(function), "(", column,
                     ") after ", AggregateFunctionName(spec_.aggregate->function), "(",
                     spec_.aggregate->column, ")")));
    return *this;
  }
  spec_.aggregate = AggregateSpec{function, std::move(column), pivot};
  return *this;
}

Query& Query::Count(std::string column) {
  return RecordAggregate(AggregateFunction::kCount, std::move(column));
}
Query& Query::Sum(std::string column) {
  return RecordAggregate(AggregateFunction::kSum, std::move(column));
}
Query& Query::Avg(std::string column) {
  return RecordAggregate(AggregateFunction::kAvg, std::move(column));
}
Query& Query::Min(std::string column) {
  return RecordAggregate(AggregateFunction::kMin, std::move(column));
}
Query& Query::Max(std::string column) {
  return RecordAggregate(AggregateFunction::kMax, std::move(column));
}
Query& Query::CountDistinct(std::string column) {
  return RecordAggregate(AggregateFunction::kCountDistinct, std::move(column));
}
Query& Query::CountPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kCount, std::move(column), /*pivot=*/true);
}
Query& Query::SumPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kSum, std::move(column), /*pivot=*/true);
}
Query& Query::AvgPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kAvg, std::move(column), /*pivot=*/true);
}
Query& Query::MinPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kMin, std::move(column), /*pivot=*/true);
}
Query& Query::MaxPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kMax, std::move(column), /*pivot=*/true);
}
Query& Query::CountDistinctPivot(std::string column) {
  return RecordAggregate(AggregateFunction::kCountDistinct, std::move(column), /*pivot=*/true);
}
Query& Query::As(std::string alias) {
  spec_.alias = std::move(alias);
  return *this;
}

// --- running ---

internal::RelationContext Query::relation_context() const {
  // Every field spelled out: kin's own code builds with -Wextra. Relation
  // conditions compile through has_filter.h, the layer above the planner.
  return {engine_, relations_, std::nullopt, &internal::RelationFilter::CompileTest};
}

absl::StatusOr<const Table*> Query::ResolveTable() const { return engine_->GetTable(spec_.table); }

absl::StatusOr<CompiledQuery> Query::Compile() const {
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  return std::move(plan.mutable_query());
}

absl::Status Query::CheckPlacement() const {
  if (context_ == Context::kTop || context_ == Context::kGroup) {
    // Only a relation walk has a link (pivot row) per related row.
    if (std::string pivot = DescribePivotUse(spec_); !pivot.empty()) {
      return errors::PivotOutsideRelation(spec_.table, pivot);
    }
  }
  // Inside a Preload callback the window belongs to the preload; anywhere
  // else (a top-level or related query) it has no meaning.
  if (context_ == Context::kPreload) return absl::OkStatus();
  const std::string where = absl::StrCat("query on '", spec_.table, "'");
  if (spec_.group_limit.has_value()) {
    return errors::GroupOutsidePreload(where, "GroupLimit", spec_.table);
  }
  if (!spec_.group_order_by.empty()) {
    return errors::GroupOutsidePreload(where, "GroupOrderBy", spec_.table);
  }
  return absl::OkStatus();
}

absl::Status Query::CheckRunnable(absl::string_view method) const {
  if (recording_kind_.empty()) return absl::OkStatus();
  absl::Status refused = errors::RunInCallback(method, recording_kind_, recording_of_,
                                               relation_ != nullptr ? relation_->name : "");
  if (misuse_.ok()) misuse_ = refused;
  return refused;
}

namespace {

bool HasRelationWindow(const QuerySpec& spec) {
  return !spec.relation_order_by.empty() || spec.relation_limit.has_value() ||
         spec.relation_offset.has_value();
}

// `spec` with the relation's window (a related query's on_query OrderBy /
// Limit / Offset) folded in, as SQL's SELECT ... FROM (SELECT ... ORDER BY
// r LIMIT rl OFFSET ro) ORDER BY c LIMIT cl OFFSET co would read: the
// relation's order keys first, then the caller's window inside the
// relation's.
QuerySpec FoldRelationWindow(const QuerySpec& spec) {
  QuerySpec out = spec;
  out.order_by = spec.relation_order_by;
  out.order_by.insert(out.order_by.end(), spec.order_by.begin(), spec.order_by.end());
  out.relation_order_by.clear();
  out.relation_limit.reset();
  out.relation_offset.reset();
  const int64_t ro = spec.relation_offset.value_or(0);
  const int64_t co = spec.offset.value_or(0);
  if (spec.relation_offset.has_value() || spec.offset.has_value()) {
    out.offset = ro > INT64_MAX - co ? INT64_MAX : ro + co;
  }
  if (spec.relation_limit.has_value()) {
    const int64_t remaining = std::max<int64_t>(0, *spec.relation_limit - co);
    out.limit = spec.limit.has_value() ? std::min(remaining, *spec.limit) : remaining;
  }
  return out;
}

}  // namespace

absl::Status Query::BuildPlan(QueryPlan* out) const {
  KIN_RETURN_IF_ERROR(spec_.error);
  KIN_RETURN_IF_ERROR(CheckPlacement());
  const Table* table = engine_->FindTable(spec_.table);
  if (table == nullptr) return errors::UnknownTable(spec_.table);
  const internal::RelationContext context = relation_context();
  if (HasRelationWindow(spec_)) {
    return QueryPlan::Build(context, *table, spec_, FoldRelationWindow(spec_), out);
  }
  return QueryPlan::Build(context, *table, spec_, spec_, out);
}

absl::Status Query::NoAggregate() const {
  if (!spec_.aggregate.has_value()) return absl::OkStatus();
  return errors::BadQuery(
      spec_.table,
      absl::StrCat("the query records ", AggregateFunctionName(spec_.aggregate->function), "(",
                   spec_.aggregate->column, "): run it with Aggregate()"));
}

absl::StatusOr<ResultSet> Query::Get() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Get"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  KIN_RETURN_IF_ERROR(NoAggregate());
  return plan.Get();
}

namespace {

absl::StatusOr<Row> FirstRow(const CompiledQuery& q, const QuerySpec& spec, bool describe) {
  std::vector<RowId> ids;
  // First ignores the caller's Limit, not the relation's window.
  const bool past_window =
      spec.relation_limit.has_value() && *spec.relation_limit <= spec.offset.value_or(0);
  if (!past_window) q.Select(q.offset(), 1, &ids);
  if (ids.empty()) {
    return errors::NoMatchingRow(q.table().name(),
                                 describe ? DescribeConditions(EffectiveConditions(spec)) : "");
  }
  return q.table().GetRow(ids[0]);
}

}  // namespace

absl::StatusOr<Row> Query::First() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("First"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  KIN_RETURN_IF_ERROR(NoAggregate());
  if (!spec_.loads.empty()) return errors::LoadsNeedGet(spec_.table, "First");
  if (!spec_.select.empty()) return errors::SelectNeedsGet(spec_.table, "First");
  return FirstRow(q, spec_, /*describe=*/false);
}

absl::StatusOr<Row> Query::FirstOrFail() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("FirstOrFail"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  KIN_RETURN_IF_ERROR(NoAggregate());
  if (!spec_.loads.empty()) return errors::LoadsNeedGet(spec_.table, "FirstOrFail");
  if (!spec_.select.empty()) return errors::SelectNeedsGet(spec_.table, "FirstOrFail");
  return FirstRow(q, spec_, /*describe=*/true);
}

absl::StatusOr<int64_t> Query::Count() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Count"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  return static_cast<int64_t>(q.Count());
}

absl::StatusOr<const Table*> Query::SelectTyped(absl::string_view method, HandleList columns,
                                                std::vector<RowId>* ids) const {
  KIN_RETURN_IF_ERROR(CheckRunnable(method));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  KIN_RETURN_IF_ERROR(NoAggregate());
  if (!spec_.loads.empty()) return errors::LoadsNeedGet(spec_.table, method);
  const Table& table = plan.table();
  KIN_RETURN_IF_ERROR(internal::CheckHandlesOf(
      *engine_, table, columns, [&] { return absl::StrCat(method, " on '", table.name(), "'"); }));
  if (!spec_.select.empty()) {
    KIN_ASSIGN_OR_RETURN(std::vector<uint8_t> selected, internal::SelectedColumns(table, spec_));
    for (const auto& [column_table, column] : columns) {
      if (selected[column.value] == 0) {
        return errors::NotSelected(table, table.column(column).name, selected);
      }
    }
  }
  plan.SelectIds(ids);
  return &table;
}

absl::StatusOr<Value> Query::Aggregate() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Aggregate"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  return q.Aggregate();
}

absl::StatusOr<Value> Query::Aggregate(AggregateFunction function, std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Aggregate"));
  KIN_RETURN_IF_ERROR(spec_.error);
  KIN_RETURN_IF_ERROR(CheckPlacement());
  KIN_ASSIGN_OR_RETURN(const Table* table, ResolveTable());
  QuerySpec spec = spec_;
  spec.aggregate = AggregateSpec{function, std::string(column)};
  const internal::RelationContext context = relation_context();
  KIN_ASSIGN_OR_RETURN(CompiledQuery q, CompiledQuery::Compile(*table, spec, &context));
  if (!spec_.loads.empty()) KIN_RETURN_IF_ERROR(internal::ValidateLoads(context, *table, spec_));
  return q.Aggregate();
}

absl::StatusOr<Page> Query::Paginate(int64_t page, int64_t per_page) const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Paginate"));
  if (page < 1) return errors::BadQueryArgument(spec_.table, "page", 1, page);
  if (per_page < 1) return errors::BadQueryArgument(spec_.table, "per_page", 1, per_page);
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  KIN_RETURN_IF_ERROR(NoAggregate());
  if (spec_.limit.has_value() || spec_.offset.has_value()) {
    return errors::BadQuery(spec_.table, "Paginate cannot be combined with Limit or Offset");
  }
  const size_t per = static_cast<size_t>(per_page);
  const size_t skip = static_cast<size_t>(page - 1);
  // (page - 1) * per_page, saturated: a page that far is past any end.
  size_t offset = skip > SIZE_MAX / per ? SIZE_MAX : skip * per;
  size_t take = per;
  // A related query pages within its relation's window (on_query's Offset
  // / Limit), and counts only the rows inside it.
  const size_t window_offset = static_cast<size_t>(spec_.relation_offset.value_or(0));
  std::optional<size_t> window_size;
  if (spec_.relation_limit.has_value()) {
    window_size = static_cast<size_t>(*spec_.relation_limit);
    take = offset >= *window_size ? 0 : std::min(per, *window_size - offset);
  }
  offset = offset > SIZE_MAX - window_offset ? SIZE_MAX : offset + window_offset;
  std::vector<RowId> ids;
  size_t total = q.SelectAndCount(offset, take, &ids);
  total = total > window_offset ? total - window_offset : 0;
  if (window_size.has_value()) total = std::min(total, *window_size);

  Page out;
  KIN_ASSIGN_OR_RETURN(out.rows, plan.MakeResult(ids));
  PageMeta& m = out.meta;
  m.total = static_cast<int64_t>(total);
  m.per_page = per_page;
  m.current_page = page;
  m.first_page = 1;
  m.last_page = std::max<int64_t>(1, static_cast<int64_t>((total + per - 1) / per));
  m.has_pages = m.last_page > 1;
  m.has_more_pages = page < m.last_page;
  m.is_empty = ids.empty();
  return out;
}

namespace {

// The checks Engine::Update makes per row, made once up front so that a bad
// attribute is an error even when no row matches.
absl::Status CheckAttrs(const Table& table, const Attrs& attrs) {
  for (size_t i = 0; i < attrs.size(); ++i) {
    const auto& [name, value] = attrs[i];
    std::optional<ColumnId> col = table.FindColumn(name);
    if (!col.has_value()) return errors::UnknownColumn(table.name(), name);
    for (size_t j = 0; j < i; ++j) {
      if (attrs[j].first == name) return errors::DuplicateAttribute(table.name(), name);
    }
    const ColumnSpec& spec = table.column(*col);
    if (value.is_null()) {
      if (!spec.nullable || spec.primary_key) return errors::NullNotAllowed(table.name(), name);
    } else if (!ValueFitsType(value, spec.type)) {
      return errors::TypeMismatch(table.name(), name, spec.type, value);
    }
  }
  return absl::OkStatus();
}

// The selected rows as handles, taken before any write invalidates the plan.
std::vector<Row> SelectedRows(const CompiledQuery& q) {
  std::vector<RowId> ids;
  q.Select(&ids);
  std::vector<Row> rows;
  rows.reserve(ids.size());
  for (RowId id : ids) rows.push_back(q.table().GetRow(id));
  return rows;
}

}  // namespace

absl::StatusOr<int64_t> Query::Update(const Attrs& attrs) {
  KIN_RETURN_IF_ERROR(CheckRunnable("Update"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  KIN_RETURN_IF_ERROR(NoAggregate());
  KIN_RETURN_IF_ERROR(CheckAttrs(q.table(), attrs));
  std::vector<Row> rows = SelectedRows(q);
  if (rows.empty()) return 0;
  KIN_RETURN_IF_ERROR(engine_->Atomically([&]() -> absl::Status {
    for (const Row& row : rows) {
      KIN_ASSIGN_OR_RETURN(bool changed, engine_->Update(row, attrs));
      (void)changed;
    }
    return absl::OkStatus();
  }));
  return static_cast<int64_t>(rows.size());
}

absl::StatusOr<int64_t> Query::Delete() {
  KIN_RETURN_IF_ERROR(CheckRunnable("Delete"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  const CompiledQuery& q = plan.query();
  KIN_RETURN_IF_ERROR(NoAggregate());
  std::vector<Row> rows = SelectedRows(q);
  if (rows.empty()) return 0;
  KIN_RETURN_IF_ERROR(engine_->Atomically([&]() -> absl::Status {
    for (const Row& row : rows) {
      // A cascade from an earlier row of the selection may have removed it.
      if (!row.valid()) continue;
      KIN_RETURN_IF_ERROR(engine_->Delete(row));
    }
    return absl::OkStatus();
  }));
  return static_cast<int64_t>(rows.size());
}

absl::StatusOr<std::string> Query::Explain() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Explain"));
  QueryPlan plan;
  KIN_RETURN_IF_ERROR(BuildPlan(&plan));
  return plan.Explain();
}

}  // namespace kin
