// PreparedQuery (kin/prepared_query.h) and Query::Prepare: the spec with its
// parameters resolved to the atoms they feed, compiled once; each run
// re-reads the storage and re-chooses the access path (QueryPlanner::Replan)
// instead of compiling again, unless nothing was bound or written since the
// last run.

#include "kin/prepared_query.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/table.h"
#include "kin/internal/column_check.h"
#include "kin/query.h"
#include "kin/status_macros.h"
#include "query/internal/loads.h"
#include "query/internal/planner.h"
#include "query/internal/query_plan.h"
#include "query/internal/relation_errors.h"

namespace kin {
namespace internal {

struct PreparedState {
  // One place a parameter's value goes: operand `operand` of atom `atom`.
  struct Slot {
    size_t atom = 0;
    int operand = 0;
    int param = 0;
    Type type = Type::kInt64;
    std::string column;
    // The operand in `spec`, rewritten with the bound value for Explain.
    Value* spec_value = nullptr;
  };
  struct Param {
    bool used = false;
    bool bound = false;
    Value value;
    std::vector<size_t> slots;  // into PreparedState::slots
  };

  const Engine* engine = nullptr;
  const Table* table = nullptr;
  uint32_t layout = 0;  // table->layout_version() at Prepare: compiled column ids
  // The query as compiled: each parameter operand holds a placeholder of
  // its column's type (so the compile type-checks everything else).
  QuerySpec spec;
  QueryPlan plan;
  std::vector<Slot> slots;
  std::vector<Param> params;      // by index; unused indexes are holes
  std::vector<uint8_t> selected;  // SelectedColumns: empty = every column
  // The first Bind error since the last run, reported by the next run.
  absl::Status bind_error;
  // The plan as the last run chose it stays right while nothing is bound
  // and the table's rows and indexes are unchanged: a run then reuses it
  // (a Count and a Pluck of one binding choose once; a range's counted
  // rows are read by both). Any write moves write_version, which also
  // guards every storage pointer the plan holds.
  bool planned = false;
  uint64_t planned_writes = 0;
  uint64_t planned_indexes = 0;

  // "?0, ?2", for UnknownParameter.
  std::string KnownParams() const {
    std::string out;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].used) absl::StrAppend(&out, out.empty() ? "" : ", ", "?", i);
    }
    return out.empty() ? "no parameters" : out;
  }

  absl::Status Bind(int index, Value value) {
    if (index < 0 || static_cast<size_t>(index) >= params.size() || !params[index].used) {
      return errors::UnknownParameter(table->name(), index, KnownParams());
    }
    Param& p = params[index];
    p.bound = false;
    planned = false;
    for (size_t k : p.slots) {
      const Slot& slot = slots[k];
      if (value.is_null() || !ValueFitsType(value, slot.type)) {
        return errors::BadParameterValue(table->name(), slot.column, index, slot.type, value);
      }
    }
    for (size_t k : p.slots) {
      QueryPlanner::SetOperand(&plan.mutable_query(), slots[k].atom, slots[k].operand, value);
    }
    p.value = std::move(value);
    p.bound = true;
    return absl::OkStatus();
  }

  // What every run does first: report a Bind error, refuse a dropped table
  // or an unbound parameter, then re-plan from the bound values.
  absl::Status Ready(absl::string_view method) {
    if (!bind_error.ok()) {
      absl::Status error = std::move(bind_error);
      bind_error = absl::OkStatus();
      return error;
    }
    if (table->dropped()) return errors::PreparedTableDropped(table->name());
    if (table->layout_version() != layout) return errors::PreparedColumnsMoved(table->name());
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      if (p.used && !p.bound) {
        return errors::UnboundParameter(method, table->name(), slots[p.slots[0]].column,
                                        static_cast<int>(i));
      }
    }
    if (!planned || table->write_version() != planned_writes ||
        table->index_version() != planned_indexes) {
      QueryPlanner::Replan(&plan.mutable_query());
      planned = true;
      planned_writes = table->write_version();
      planned_indexes = table->index_version();
    }
    return absl::OkStatus();
  }

  absl::Status NoAggregate() const {
    if (!spec.aggregate.has_value()) return absl::OkStatus();
    return errors::BadQuery(
        spec.table,
        absl::StrCat("the query records ", AggregateFunctionName(spec.aggregate->function), "(",
                     spec.aggregate->column, "): run it with Aggregate()"));
  }

  // Records the parameters of `conditions` (in the compiler's atom order:
  // depth first, one atom per condition that is not a group) and puts a
  // placeholder of the column's type in their place.
  absl::Status CollectParams(std::vector<ConditionSpec>* conditions, size_t* atom) {
    for (ConditionSpec& c : *conditions) {
      if (c.kind == ConditionSpec::Kind::kGroup) {
        KIN_RETURN_IF_ERROR(CollectParams(&c.group, atom));
        continue;
      }
      if (c.kind == ConditionSpec::Kind::kRelation) {
        return errors::BadQuery(
            spec.table,
            absl::StrCat("a prepared query cannot hold a relation condition ",
                         "(Has / WhereHas / DoesntHave on '", c.column, "'): run it as a Query"));
      }
      if (!c.params.empty()) {
        std::optional<ColumnId> col = table->FindColumn(c.column);
        if (!col.has_value()) return errors::UnknownColumn(table->name(), c.column);
        const Type type = table->column(*col).type;
        for (size_t j = 0; j < c.params.size() && j < c.values.size(); ++j) {
          const int index = c.params[j];
          if (index < 0) continue;
          switch (type) {
            case Type::kInt64:
              c.values[j] = Value(int64_t{0});
              break;
            case Type::kDouble:
              c.values[j] = Value(0.0);
              break;
            case Type::kBool:
              c.values[j] = Value(false);
              break;
            case Type::kString:
              c.values[j] = Value(std::string());
              break;
          }
          if (static_cast<size_t>(index) >= params.size()) params.resize(index + 1);
          params[index].used = true;
          params[index].slots.push_back(slots.size());
          slots.push_back(Slot{*atom, static_cast<int>(j), index, type, c.column, &c.values[j]});
        }
        c.params.clear();
      }
      ++*atom;
    }
    return absl::OkStatus();
  }
};

}  // namespace internal

using internal::PreparedState;

absl::StatusOr<PreparedQuery> Query::Prepare() const {
  KIN_RETURN_IF_ERROR(CheckRunnable("Prepare"));
  KIN_RETURN_IF_ERROR(spec_.error);
  KIN_RETURN_IF_ERROR(CheckPlacement());
  const Table* table = engine_->FindTable(spec_.table);
  if (table == nullptr) return errors::UnknownTable(spec_.table);
  if (!spec_.loads.empty()) {
    return errors::BadQuery(spec_.table,
                            "a prepared query cannot hold Preload, WithCount or WithAggregate "
                            "(run it as a Query)");
  }
  if (!spec_.relation_order_by.empty() || spec_.relation_limit.has_value() ||
      spec_.relation_offset.has_value()) {
    return errors::BadQuery(spec_.table,
                            "a prepared query cannot hold a relation's window (an on_query's "
                            "OrderBy / Limit / Offset, or a has one's single row)");
  }
  auto state = std::make_unique<PreparedState>();
  state->engine = engine_;
  state->table = table;
  state->layout = table->layout_version();
  state->spec = spec_;
  size_t atom = 0;
  // The compiler reads the scope's conditions, then the query's own.
  KIN_RETURN_IF_ERROR(state->CollectParams(&state->spec.scope, &atom));
  KIN_RETURN_IF_ERROR(state->CollectParams(&state->spec.conditions, &atom));
  KIN_RETURN_IF_ERROR(internal::QueryPlan::Build(relation_context(), *table, state->spec,
                                                 state->spec, &state->plan));
  KIN_ASSIGN_OR_RETURN(state->selected, internal::SelectedColumns(*table, state->spec));
  return PreparedQuery(std::move(state));
}

PreparedQuery::PreparedQuery(std::unique_ptr<PreparedState> state) : state_(std::move(state)) {}
PreparedQuery::PreparedQuery(PreparedQuery&&) noexcept = default;
PreparedQuery& PreparedQuery::operator=(PreparedQuery&&) noexcept = default;
PreparedQuery::~PreparedQuery() = default;

PreparedQuery& PreparedQuery::Bind(int index, Value value) {
  absl::Status status = TryBind(index, std::move(value));
  if (!status.ok() && state_ != nullptr && state_->bind_error.ok()) {
    state_->bind_error = std::move(status);
  }
  return *this;
}

namespace {

absl::Status MovedFrom() { return absl::FailedPreconditionError("prepared query was moved from"); }

}  // namespace

absl::Status PreparedQuery::TryBind(int index, Value value) {
  if (state_ == nullptr) return MovedFrom();
  return state_->Bind(index, std::move(value));
}

int PreparedQuery::num_params() const {
  return state_ == nullptr ? 0 : static_cast<int>(state_->params.size());
}

absl::StatusOr<ResultSet> PreparedQuery::Get() {
  if (state_ == nullptr) return MovedFrom();
  KIN_RETURN_IF_ERROR(state_->Ready("Get"));
  KIN_RETURN_IF_ERROR(state_->NoAggregate());
  return state_->plan.Get();
}

absl::StatusOr<int64_t> PreparedQuery::Count() {
  if (state_ == nullptr) return MovedFrom();
  KIN_RETURN_IF_ERROR(state_->Ready("Count"));
  return static_cast<int64_t>(state_->plan.query().Count());
}

absl::StatusOr<Value> PreparedQuery::Aggregate() {
  if (state_ == nullptr) return MovedFrom();
  KIN_RETURN_IF_ERROR(state_->Ready("Aggregate"));
  return state_->plan.query().Aggregate();
}

absl::StatusOr<const Table*> PreparedQuery::SelectTyped(absl::string_view method,
                                                        HandleList columns, bool borrow) {
  if (state_ == nullptr) return MovedFrom();
  PreparedState& s = *state_;
  KIN_RETURN_IF_ERROR(s.Ready(method));
  KIN_RETURN_IF_ERROR(s.NoAggregate());
  const Table& table = *s.table;
  KIN_RETURN_IF_ERROR(internal::CheckHandlesOf(
      *s.engine, table, columns, [&] { return absl::StrCat(method, " on '", table.name(), "'"); }));
  if (!s.selected.empty()) {
    for (const auto& [column_table, column] : columns) {
      if (s.selected[column.value] == 0) {
        return errors::NotSelected(table, table.column(column).name, s.selected);
      }
    }
  }
  if (borrow) {
    if (std::optional<std::span<const RowId>> rows = s.plan.query().ProbeAnswer(); rows) {
      rows_ = *rows;  // no copy of the index's list
      return &table;
    }
  }
  ids_.clear();
  s.plan.SelectIds(&ids_);
  rows_ = ids_;
  return &table;
}

absl::StatusOr<std::string> PreparedQuery::Explain() {
  if (state_ == nullptr) return MovedFrom();
  PreparedState& s = *state_;
  KIN_RETURN_IF_ERROR(s.Ready("Explain"));
  for (const PreparedState::Slot& slot : s.slots) *slot.spec_value = s.params[slot.param].value;
  return s.plan.Explain();
}

}  // namespace kin
