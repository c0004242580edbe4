#include "kin/query_spec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/errors.h"

namespace kin {

absl::string_view OrderName(Order order) { return order == Order::kAsc ? "asc" : "desc"; }

std::optional<Order> ParseOrder(absl::string_view text) {
  std::string lower = absl::AsciiStrToLower(text);
  if (lower == "asc") return Order::kAsc;
  if (lower == "desc") return Order::kDesc;
  return std::nullopt;
}

absl::string_view CompareOpSymbol(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

std::optional<CompareOp> ParseCompareOp(absl::string_view text) {
  if (text == "=" || text == "==") return CompareOp::kEq;
  if (text == "!=" || text == "<>") return CompareOp::kNe;
  if (text == "<") return CompareOp::kLt;
  if (text == "<=") return CompareOp::kLe;
  if (text == ">") return CompareOp::kGt;
  if (text == ">=") return CompareOp::kGe;
  return std::nullopt;
}

absl::string_view AggregateFunctionName(AggregateFunction f) {
  switch (f) {
    case AggregateFunction::kCount:
      return "count";
    case AggregateFunction::kSum:
      return "sum";
    case AggregateFunction::kAvg:
      return "avg";
    case AggregateFunction::kMin:
      return "min";
    case AggregateFunction::kMax:
      return "max";
    case AggregateFunction::kCountDistinct:
      return "count distinct";
  }
  return "?";
}

namespace {

void AppendValues(std::string* out, const absl::InlinedVector<Value, 2>& values) {
  absl::StrAppend(out, "(");
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StrAppend(out, i == 0 ? "" : ", ", errors::Quote(values[i]));
  }
  absl::StrAppend(out, ")");
}

void AppendCondition(std::string* out, const ConditionSpec& c) {
  using Kind = ConditionSpec::Kind;
  auto value = [&](size_t i) {
    if (i < c.params.size() && c.params[i] >= 0) return absl::StrCat("?", c.params[i]);
    return i < c.values.size() ? errors::Quote(c.values[i]) : std::string("?");
  };
  switch (c.kind) {
    case Kind::kCompare:
      absl::StrAppend(out, c.column, " ", CompareOpSymbol(c.op), " ", value(0));
      return;
    case Kind::kIn:
    case Kind::kNotIn:
      absl::StrAppend(out, c.column, c.kind == Kind::kIn ? " IN " : " NOT IN ");
      AppendValues(out, c.values);
      return;
    case Kind::kNull:
      absl::StrAppend(out, c.column, " IS NULL");
      return;
    case Kind::kNotNull:
      absl::StrAppend(out, c.column, " IS NOT NULL");
      return;
    case Kind::kBetween:
    case Kind::kNotBetween:
      absl::StrAppend(out, c.column, c.kind == Kind::kBetween ? " BETWEEN " : " NOT BETWEEN ",
                      value(0), " AND ", value(1));
      return;
    case Kind::kStartsWith:
      absl::StrAppend(out, c.column, " starts with ", value(0));
      return;
    case Kind::kEndsWith:
      absl::StrAppend(out, c.column, " ends with ", value(0));
      return;
    case Kind::kContains:
      absl::StrAppend(out, c.column, " contains ", value(0));
      return;
    case Kind::kGroup:
      absl::StrAppend(out, "(", DescribeConditions(c.group), ")");
      return;
    case Kind::kRelation: {
      absl::StrAppend(out, "count(", c.column);
      if (!c.subquery.empty()) {
        std::string filter = DescribeConditions(EffectiveConditions(c.subquery[0]));
        if (!filter.empty()) absl::StrAppend(out, " where ", filter);
        if (!c.subquery[0].pivot_conditions.empty()) {
          absl::StrAppend(out, " where pivot ", DescribeConditions(c.subquery[0].pivot_conditions));
        }
      }
      absl::StrAppend(out, ") ", CompareOpSymbol(c.op), " ", value(0));
      return;
    }
  }
}

}  // namespace

std::string DescribeConditions(const std::vector<ConditionSpec>& conditions) {
  std::string out;
  for (size_t i = 0; i < conditions.size(); ++i) {
    if (i > 0) {
      absl::StrAppend(&out, conditions[i].connector == Connector::kAnd ? " AND " : " OR ");
    }
    AppendCondition(&out, conditions[i]);
  }
  return out;
}

std::string DescribeSpec(const QuerySpec& spec) {
  std::string out = spec.table;
  if (!spec.select.empty()) absl::StrAppend(&out, " select ", absl::StrJoin(spec.select, ", "));
  if (!spec.conditions.empty() || !spec.scope.empty()) {
    absl::StrAppend(&out, " where ", DescribeConditions(EffectiveConditions(spec)));
  }
  for (size_t i = 0; i < spec.order_by.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? " order by " : ", ", spec.order_by[i].column, " ",
                    OrderName(spec.order_by[i].order));
  }
  if (!spec.pivot_conditions.empty()) {
    absl::StrAppend(&out, " where pivot ", DescribeConditions(spec.pivot_conditions));
  }
  if (spec.limit.has_value()) absl::StrAppend(&out, " limit ", *spec.limit);
  if (spec.offset.has_value()) absl::StrAppend(&out, " offset ", *spec.offset);
  if (spec.aggregate.has_value()) {
    absl::StrAppend(&out, " ", AggregateFunctionName(spec.aggregate->function),
                    spec.aggregate->pivot ? "(pivot " : "(", spec.aggregate->column, ")");
  }
  if (!spec.alias.empty()) absl::StrAppend(&out, " as ", spec.alias);
  for (size_t i = 0; i < spec.relation_order_by.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? " on_query order by " : ", ", spec.relation_order_by[i].column,
                    " ", OrderName(spec.relation_order_by[i].order));
  }
  if (spec.relation_limit.has_value()) {
    absl::StrAppend(&out, " on_query limit ", *spec.relation_limit);
  }
  if (spec.relation_offset.has_value()) {
    absl::StrAppend(&out, " on_query offset ", *spec.relation_offset);
  }
  if (spec.group_limit.has_value()) absl::StrAppend(&out, " group limit ", *spec.group_limit);
  for (size_t i = 0; i < spec.group_order_by.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? " group order by " : ", ",
                    spec.group_order_by[i].pivot ? "pivot " : "", spec.group_order_by[i].column,
                    " ", OrderName(spec.group_order_by[i].order));
  }
  for (const RelationLoadSpec& load : spec.loads) {
    absl::string_view kind = load.kind == RelationLoadSpec::Kind::kPreload ? "preload"
                             : load.kind == RelationLoadSpec::Kind::kCount ? "with count"
                                                                           : "with aggregate";
    absl::StrAppend(&out, " ", kind, " ", load.relation, " (", DescribeSpec(load.query), ")");
  }
  return out;
}

std::string DescribePivotUse(const QuerySpec& spec) {
  if (!spec.pivot_conditions.empty()) {
    return absl::StrCat("WherePivot(", DescribeConditions(spec.pivot_conditions), ")");
  }
  for (const OrderSpec& o : spec.group_order_by) {
    if (o.pivot) return absl::StrCat("GroupOrderByPivot(", o.column, ")");
  }
  if (spec.aggregate.has_value() && spec.aggregate->pivot) {
    absl::string_view f = AggregateFunctionName(spec.aggregate->function);
    std::string name = f == "count distinct" ? "CountDistinct" : std::string(f);
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
    return absl::StrCat(name, "Pivot(", spec.aggregate->column, ")");
  }
  return "";
}

std::vector<ConditionSpec> EffectiveConditions(const QuerySpec& spec) {
  if (spec.scope.empty()) return spec.conditions;
  std::vector<ConditionSpec> out = spec.scope;
  if (!spec.conditions.empty()) {
    ConditionSpec group;
    group.kind = ConditionSpec::Kind::kGroup;
    group.group = spec.conditions;
    out.push_back(std::move(group));
  }
  return out;
}

}  // namespace kin
