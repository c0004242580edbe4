#include "query/internal/pivot.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "kin/status_macros.h"
#include "query/internal/relation_errors.h"

namespace kin {
namespace internal {

absl::Status ApplyPivotFilter(RelationHop* hop, RelatedUse use, const QuerySpec& sub) {
  if (sub.pivot_conditions.empty()) return absl::OkStatus();
  absl::Status s = hop->FilterPivot(sub.pivot_conditions);
  return s.ok() ? s : errors::InRelatedQuery(RelatedUseName(use), hop->name(), s);
}

bool RanksByPivot(const std::vector<OrderSpec>& keys) {
  for (const OrderSpec& k : keys) {
    if (k.pivot) return true;
  }
  return false;
}

absl::Status PivotRank::Compile(const RelationHop& hop, const std::vector<OrderSpec>& keys,
                                PivotRank* out) {
  out->keys_.clear();
  out->keys_.reserve(keys.size());
  for (const OrderSpec& k : keys) {
    Key& key = out->keys_.emplace_back();
    key.pivot = k.pivot;
    const Table& table = k.pivot ? *hop.through() : hop.to();
    absl::Status s = CompiledOrder::Compile(table, {OrderSpec{k.column, k.order}}, &key.order);
    if (!s.ok()) return k.pivot ? errors::InPivot(s) : s;
  }
  return absl::OkStatus();
}

int PivotRank::Compare(RowId row_a, RowId link_a, RowId row_b, RowId link_b) const {
  for (const Key& k : keys_) {
    const int c = k.pivot ? k.order.Compare(link_a, link_b) : k.order.Compare(row_a, row_b);
    if (c != 0) return c;
  }
  return 0;
}

absl::Status PivotAggregate::Compile(const RelationContext& context, const RelationHop& hop,
                                     RelatedUse use, const QuerySpec& sub, PivotAggregate* out) {
  out->hop_ = &hop;
  QuerySpec related = sub;  // the related rows' filter alone
  related.aggregate.reset();
  related.alias.clear();
  KIN_ASSIGN_OR_RETURN(out->filter_, CompileRelatedFilter(context, hop, use, related));
  QuerySpec pivot;
  pivot.table = hop.through()->name();
  pivot.aggregate = AggregateSpec{sub.aggregate->function, sub.aggregate->column};
  if (absl::Status s = CompiledQuery::CompileInto(*hop.through(), pivot, &out->aggregate_);
      !s.ok()) {
    return errors::InRelatedQuery(RelatedUseName(use), hop.name(), errors::InPivot(s));
  }
  return absl::OkStatus();
}

void PivotAggregate::Prepare(size_t rows) {
  if (filter_ != nullptr) filter_->PrepareRelations(ProbedRows(rows, *hop_));
}

absl::StatusOr<Value> PivotAggregate::Of(RowId row) {
  const std::span<const RowId> rows = hop_->Related(row);
  const std::span<const RowId> links = hop_->RelatedLinks(row);
  links_.clear();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (filter_ == nullptr || filter_->Matches(rows[i])) links_.push_back(links[i]);
  }
  return aggregate_.Aggregate(links_);
}

}  // namespace internal
}  // namespace kin
