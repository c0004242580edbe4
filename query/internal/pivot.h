// The pivot stage of a ManyToMany's related query: what its callbacks
// record on the pivot table (WherePivot..., GroupOrderByPivot, SumPivot...)
// run against each link (pivot row) while the relation walks a parent's
// links (RelationHop::Related / RelatedLinks), never by a pass of their own.
//
// Validity: as RelationHop (points into the three tables' storage).

#ifndef KIN_QUERY_INTERNAL_PIVOT_H_
#define KIN_QUERY_INTERNAL_PIVOT_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"
#include "query/internal/compiled_query.h"
#include "query/internal/order.h"
#include "query/internal/relation_plan.h"

namespace kin {
namespace internal {

// Applies `sub`'s WherePivot conditions to `hop` (RelationHop::FilterPivot),
// errors located as errors::InRelatedQuery for `use`. No-op without any.
absl::Status ApplyPivotFilter(RelationHop* hop, RelatedUse use, const QuerySpec& sub);

// Whether a GroupOrderBy list names a pivot column (GroupOrderByPivot).
bool RanksByPivot(const std::vector<OrderSpec>& keys);

// GroupOrderBy keys of which some name pivot columns: compares (related
// row, link) pairs key by key, each key read on its own table.
class PivotRank {
 public:
  // InvalidArgument for an unknown column (a pivot one located with
  // errors::InPivot). REQUIRES: a ManyToMany hop.
  static absl::Status Compile(const RelationHop& hop, const std::vector<OrderSpec>& keys,
                              PivotRank* out);
  // <0, 0, >0 comparing (row_a, link_a) with (row_b, link_b) on the keys.
  int Compare(RowId row_a, RowId link_a, RowId row_b, RowId link_b) const;

 private:
  struct Key {
    bool pivot = false;
    CompiledOrder order;  // one key, on the pivot or the related table
  };
  std::vector<Key> keys_;
};

// An aggregate of a pivot column (SumPivot("progress") ...) over the links
// of each parent's related rows that the related query selects: for
// WithAggregate and WhereHas.
class PivotAggregate {
 public:
  // Compiles `sub`'s related-row filter (its conditions, without the
  // aggregate) and the aggregate on the pivot table. Errors located with
  // errors::InRelatedQuery for `use` (a pivot column with errors::InPivot
  // inside it). REQUIRES: sub.aggregate->pivot, a ManyToMany hop that
  // outlives this.
  static absl::Status Compile(const RelationContext& context, const RelationHop& hop,
                              RelatedUse use, const QuerySpec& sub, PivotAggregate* out);
  // Lets the filter's relation conditions choose their strategy for about
  // `rows` parents.
  void Prepare(size_t rows);
  // The aggregate for one live row of hop.from(). Not thread-safe (scratch).
  absl::StatusOr<Value> Of(RowId row);
  const CompiledAggregate& aggregate() const { return aggregate_.aggregate(); }

 private:
  const RelationHop* hop_ = nullptr;
  std::unique_ptr<CompiledQuery> filter_;  // nullptr: every related row
  CompiledQuery aggregate_;                // on the pivot table
  std::vector<RowId> links_;               // scratch
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_PIVOT_H_
