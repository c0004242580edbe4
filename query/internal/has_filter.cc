#include "query/internal/has_filter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"
#include "query/internal/pivot.h"
#include "query/internal/relation_errors.h"

namespace kin {
namespace internal {

RelationFilter::~RelationFilter() = default;

absl::StatusOr<std::shared_ptr<RelationFilter>> RelationFilter::Compile(
    const RelationContext& context, const Table& from, const ConditionSpec& condition) {
  KIN_ASSIGN_OR_RETURN(RelationHop hop, RelationHop::Resolve(context, from, condition.column));
  if (condition.values.size() != 1 || !condition.values[0].is_int64() ||
      condition.subquery.size() != 1) {
    return errors::BadQuery(
        from.name(), absl::StrCat("malformed condition on relation '", condition.column, "'"));
  }
  const QuerySpec& sub = condition.subquery[0];
  KIN_RETURN_IF_ERROR(CheckRelatedSpec(hop.spec(), RelatedUse::kWhereHas, sub));
  KIN_RETURN_IF_ERROR(ApplyPivotFilter(&hop, RelatedUse::kWhereHas, sub));
  auto f = std::make_shared<RelationFilter>();
  f->hop_ = std::move(hop);
  f->op_ = condition.op;
  f->count_ = condition.values[0].AsInt64();
  if (sub.aggregate.has_value()) {
    KIN_RETURN_IF_ERROR(f->CompileAggregate(context, sub));
    return f;
  }
  KIN_ASSIGN_OR_RETURN(f->filter_,
                       CompileRelatedFilter(context, f->hop_, RelatedUse::kWhereHas, sub));
  // Counting up to count + 1 decides every operator: any larger count
  // compares the same way.
  f->cap_ = f->count_ < 0                                      ? 0
            : f->count_ == std::numeric_limits<int64_t>::max() ? f->count_
                                                               : f->count_ + 1;
  f->strategy_ = f->filter_ == nullptr ? Strategy::kIndex : Strategy::kWalk;
  return f;
}

absl::StatusOr<std::shared_ptr<RelationTest>> RelationFilter::CompileTest(
    const RelationContext& context, const Table& from, const ConditionSpec& condition) {
  KIN_ASSIGN_OR_RETURN(std::shared_ptr<RelationFilter> f, Compile(context, from, condition));
  return std::shared_ptr<RelationTest>(std::move(f));
}

absl::Status RelationFilter::CompileAggregate(const RelationContext& context,
                                              const QuerySpec& sub) {
  // WhereHas(relation, q.Sum("likes"), ">", 100): the aggregate of each
  // row's related rows, compared with the number.
  const RelationHop& hop = hop_;
  const Table& from = hop.from();
  // Of a related column (the CompiledQuery's own aggregate over each row's
  // related rows), or of a pivot column over their links (SumPivot...).
  CompiledQuery agg;
  PivotAggregate pivot;
  const bool of_pivot = sub.aggregate->pivot;
  if (of_pivot) {
    KIN_RETURN_IF_ERROR(PivotAggregate::Compile(context, hop, RelatedUse::kWhereHas, sub, &pivot));
  } else {
    const RelationContext deferred = DeferredContext(context);
    if (absl::Status s = CompiledQuery::CompileInto(hop.to(), sub, &agg, &deferred); !s.ok()) {
      return errors::InRelatedQuery("WhereHas", hop.name(), s);
    }
  }
  const CompiledAggregate& a = of_pivot ? pivot.aggregate() : agg.aggregate();
  const bool numeric = a.star || a.function == AggregateFunction::kCount ||
                       a.function == AggregateFunction::kCountDistinct || a.type == Type::kInt64 ||
                       a.type == Type::kDouble;
  aggregate_ = absl::StrCat(AggregateFunctionName(sub.aggregate->function),
                            of_pivot ? "(pivot " : "(", sub.aggregate->column, ")");
  if (!numeric) {
    return absl::InvalidArgumentError(
        absl::StrCat("WhereHas on '", hop.name(), "': ", aggregate_, " is a ", TypeName(a.type),
                     ", it cannot be compared with the number ", count_));
  }
  if (of_pivot) {
    pivot.Prepare(from.size());
  } else {
    agg.PrepareRelations(ProbedRows(from.size(), hop));
  }
  by_slot_.assign(from.slot_count(), Value());
  absl::Status failed;
  ForEachLive(from, [&](RowId r) {
    if (!failed.ok()) return;
    absl::StatusOr<Value> v = of_pivot ? pivot.Of(r) : agg.Aggregate(hop.Related(r));
    if (!v.ok()) {
      failed = errors::InRelatedQuery("WhereHas", hop.name(), v.status());
      return;
    }
    by_slot_[r.value] = *std::move(v);
  });
  KIN_RETURN_IF_ERROR(failed);
  strategy_ = Strategy::kAggregate;
  return absl::OkStatus();
}

void RelationFilter::Prepare(size_t rows) {
  if (strategy_ == Strategy::kAggregate) return;  // computed when compiled
  strategy_ = filter_ == nullptr ? Strategy::kIndex : Strategy::kWalk;
  slots_.reset();
  counts_.clear();
  // Deferred (see RelationContext::candidate_rows): the owner prepares
  // again once it knows; scanning now would be wasted.
  if (rows == 0) return;
  const Table& from = hop_.from();
  const bool filtered = filter_ != nullptr;
  const HopPlan plan = ChooseHopPlan(rows, hop_, filter_.get(), filtered, from.size());
  if (filtered) filter_->PrepareRelations(VisitedRows(plan, rows, hop_, *filter_));
  if (plan == HopPlan::kProbe) return;
  // Any live row of `from` may be asked about: slots for all their keys.
  slots_ = std::make_unique<KeySlots>(hop_);
  counts_.assign(slots_->size(), 0);
  if (plan == HopPlan::kIndexScan) {
    strategy_ = Strategy::kIndexScan;
    IndexCounts(hop_, *slots_, counts_.data());
    return;
  }
  strategy_ = Strategy::kScan;
  ScanRelated(hop_, filter_.get(), *slots_, [&](size_t s, RowId) { ++counts_[s]; });
}

bool RelationFilter::Passes(int64_t count) const {
  switch (op_) {
    case CompareOp::kEq:
      return count == count_;
    case CompareOp::kNe:
      return count != count_;
    case CompareOp::kLt:
      return count < count_;
    case CompareOp::kLe:
      return count <= count_;
    case CompareOp::kGt:
      return count > count_;
    case CompareOp::kGe:
      return count >= count_;
  }
  return false;
}

bool RelationFilter::PassesValue(const Value& value) const {
  if (value.is_null()) return false;
  if (value.is_int64()) return Passes(value.AsInt64());
  const double x = value.AsDouble();
  const double y = static_cast<double>(count_);
  if (std::isnan(x)) return false;  // unordered: every comparison is false
  switch (op_) {
    case CompareOp::kEq:
      return x == y;
    case CompareOp::kNe:
      return x != y;
    case CompareOp::kLt:
      return x < y;
    case CompareOp::kLe:
      return x <= y;
    case CompareOp::kGt:
      return x > y;
    case CompareOp::kGe:
      return x >= y;
  }
  return false;
}

size_t RelationFilter::Filter(const RowId* in, size_t n, RowId* out) const {
  size_t k = 0;
  switch (strategy_) {
    case Strategy::kAggregate:
      for (size_t i = 0; i < n; ++i) {
        out[k] = in[i];
        k += PassesValue(by_slot_[in[i].value]) ? 1 : 0;
      }
      return k;
    case Strategy::kIndex:
      if (hop_.CountIndex() != nullptr) {
        // The counts of a block of rows in one pass (RelationHop::CountEach),
        // then the tests; `out` may be `in`, and only rows already read
        // are overwritten.
        constexpr size_t kCountBlock = 256;
        int64_t counts[kCountBlock];
        for (size_t from = 0; from < n; from += kCountBlock) {
          const size_t m = std::min(kCountBlock, n - from);
          hop_.CountEach(std::span<const RowId>(in + from, m), counts);
          for (size_t i = 0; i < m; ++i) {
            out[k] = in[from + i];
            k += Passes(counts[i]) ? 1 : 0;
          }
        }
        return k;
      }
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Passes(static_cast<int64_t>(hop_.RelatedCount(id))) ? 1 : 0;
      }
      return k;
    case Strategy::kWalk: {
      const CompiledPredicate& p = filter_->predicate();
      const size_t cap = static_cast<size_t>(cap_);
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Passes(static_cast<int64_t>(p.CountUpTo(hop_.Related(id), cap))) ? 1 : 0;
      }
      return k;
    }
    case Strategy::kScan:
    case Strategy::kIndexScan:
      if (slots_->dense() && hop_.FromDenseReady()) {
        // The hot case inline: compact NOT NULL int64 keys.
        const uint64_t min = static_cast<uint64_t>(slots_->min());
        const uint64_t size = slots_->size();
        for (size_t i = 0; i < n; ++i) {
          RowId id = in[i];
          out[k] = id;
          const uint64_t off = static_cast<uint64_t>(hop_.FromInt(id)) - min;
          k += Passes(off < size ? counts_[off] : 0) ? 1 : 0;
        }
        return k;
      }
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        int64_t s = slots_->FromSlot(id);
        k += Passes(s < 0 ? 0 : counts_[static_cast<size_t>(s)]) ? 1 : 0;
      }
      return k;
  }
  return 0;
}

std::string RelationFilter::Explain() const {
  if (strategy_ == Strategy::kAggregate) {
    return absl::StrCat(aggregate_, " of ", hop_.name(), " ", CompareOpSymbol(op_), " ", count_,
                        " by walk");
  }
  // A pivot filter makes even an unfiltered count walk the parent's links.
  const bool links = hop_.pivot_filtered();
  absl::string_view how = strategy_ == Strategy::kIndex && links ? "by walk"
                          : strategy_ == Strategy::kIndex        ? "by index"
                          : strategy_ == Strategy::kWalk         ? "by walk"
                          : strategy_ == Strategy::kIndexScan    ? "by index scan"
                                                                 : "by scan of ";
  return absl::StrCat("count(", hop_.name(), filter_ != nullptr ? " filtered" : "",
                      links ? " pivot filtered" : "", ") ", CompareOpSymbol(op_), " ", count_, " ",
                      how, strategy_ == Strategy::kScan ? hop_.to().name() : "");
}

}  // namespace internal
}  // namespace kin
