// The loads of a query: Preload (related rows per row, recursively with
// their own loads), WithCount and WithAggregate (one value per row),
// attached to a level of a result (query/row_set.h). Each load resolves its
// relation once, compiles its related query once, then runs per strategy
// (relation_plan.h): a walk of every row's index list, or one scan of the
// related table accumulating per key.
//
// Validity: runs against both tables' current storage; the rows it attaches
// are handles, valid as ResultSet documents.

#ifndef KIN_QUERY_INTERNAL_LOADS_H_
#define KIN_QUERY_INTERNAL_LOADS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "query/internal/predicate.h"
#include "query/row_set.h"

namespace kin {
namespace internal {

// Per column of `table`, 1 when spec.select names it; empty when it names
// none (every column). InvalidArgument for an unknown column.
absl::StatusOr<std::vector<uint8_t>> SelectedColumns(const Table& table, const QuerySpec& spec);

// Structural checks of spec.loads (recursively): relations exist, and each
// related query follows CheckRelatedSpec; duplicate preloads and extras.
absl::Status ValidateLoads(const RelationContext& context, const Table& table,
                           const QuerySpec& spec);

// Runs spec.loads for `rows` (rows of `table`, in the order of data->rows)
// and attaches them to `data`: a Preload per relation (children sets built
// recursively with their own loads), an Extra per count or aggregate.
absl::Status AttachLoads(const RelationContext& context, const Table& table,
                         const QuerySpec& spec, std::span<const RowId> rows, RowSetData* data);

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_LOADS_H_
