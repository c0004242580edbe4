#include "query/internal/aggregate.h"

#include "absl/strings/str_cat.h"
#include "engine/errors.h"

namespace kin {
namespace internal {

absl::Status CompiledAggregate::Compile(const Table& table, const AggregateSpec& spec,
                                        CompiledAggregate* out) {
  out->function = spec.function;
  absl::string_view fname = AggregateFunctionName(spec.function);
  if (spec.column == "*") {
    if (spec.function != AggregateFunction::kCount) {
      return errors::BadQuery(table.name(), absl::StrCat(fname, " needs a column, not '*'"));
    }
    out->star = true;
    return absl::OkStatus();
  }
  std::optional<ColumnId> col = table.FindColumn(spec.column);
  if (!col.has_value()) return errors::UnknownColumn(table.name(), spec.column);
  Type type = table.column(*col).type;
  if ((spec.function == AggregateFunction::kSum || spec.function == AggregateFunction::kAvg) &&
      type != Type::kInt64 && type != Type::kDouble) {
    return errors::WrongColumnType(table.name(), spec.column, fname, "a numeric", type);
  }
  out->star = false;
  out->column = *col;
  out->type = type;
  out->data = ColumnData(table, *col);
  out->validity = ValidityWords(table, *col);
  return absl::OkStatus();
}

void CompiledAggregate::Refresh(const Table& table) {
  if (star) return;
  data = ColumnData(table, column);
  validity = ValidityWords(table, column);
}

Accumulator::Accumulator(const Table& table, const CompiledAggregate& aggregate, size_t groups,
                         bool track_presence)
    : table_(&table), a_(&aggregate), track_presence_(track_presence) {
  const AggregateFunction fn = aggregate.function;
  if (aggregate.star || fn == AggregateFunction::kCount) {
    mode_ = Mode::kCount;
    counts_.assign(groups, 0);
  } else if (fn == AggregateFunction::kSum || fn == AggregateFunction::kAvg) {
    counts_.assign(groups, 0);
    if (aggregate.type == Type::kInt64) {
      mode_ = Mode::kSumInt;
      int_sums_.assign(groups, 0);
    } else {
      mode_ = Mode::kSumDouble;
      double_sums_.assign(groups, 0);
    }
  } else if (fn == AggregateFunction::kCountDistinct) {
    mode_ = Mode::kDistinct;
    counts_.assign(groups, 0);
    if (aggregate.type == Type::kString) {
      distinct_strings_.resize(groups);
    } else {
      distinct_words_.resize(groups);
    }
  } else if (aggregate.type == Type::kInt64) {
    mode_ = Mode::kMinMaxInt;
    best_ints_.assign(groups, Identity());
    if (track_presence) any_.assign(groups, 0);
  } else {
    mode_ = Mode::kMinMaxSlot;
    best_slots_.assign(groups, 0);
    any_.assign(groups, 0);
  }
}

absl::Status Accumulator::Overflow() const {
  return errors::AggregateOverflow(table_->name(), table_->column(a_->column).name, "sum");
}

absl::StatusOr<Value> Accumulator::Result(size_t g) const {
  const bool sum = a_->function == AggregateFunction::kSum;
  switch (mode_) {
    case Mode::kCount:
    case Mode::kDistinct:
      return Value(counts_[g]);
    case Mode::kSumInt: {
      const int64_t n = counts_[g];
      const absl::int128 total = int_sums_[g];
      if (sum) {
        if (total > std::numeric_limits<int64_t>::max() ||
            total < std::numeric_limits<int64_t>::min()) {
          return Overflow();
        }
        return n == 0 ? Value() : Value(static_cast<int64_t>(total));
      }
      if (n == 0) return Value();
      return Value(static_cast<double>(static_cast<long double>(total) / n));
    }
    case Mode::kSumDouble: {
      const int64_t n = counts_[g];
      if (n == 0) return Value();
      const double total = double_sums_[g];
      return sum ? Value(total) : Value(total / static_cast<double>(n));
    }
    case Mode::kMinMaxInt: {
      if (track_presence_ ? any_[g] == 0 : best_ints_[g] == Identity()) return Value();
      return Value(best_ints_[g]);
    }
    case Mode::kMinMaxSlot:
      if (any_[g] == 0) return Value();
      return table_->GetValue(RowId(best_slots_[g]), a_->column);
  }
  return Value();
}

}  // namespace internal
}  // namespace kin
