// The loads of a query: Preload (related rows per row, recursively with
// their own loads), WithCount and WithAggregate (one value per row),
// attached to a level of a result (query/row_set.h). PlanLoads resolves and
// checks every load of a level once (a LoadLevel, nested for preloads);
// RunLoads then compiles each related query once and runs it per strategy
// (relation_plan.h): a walk of every row's index list, or one scan of the
// related table accumulating per key.
//
// Validity: runs against both tables' current storage; the rows it attaches
// are handles, valid as ResultSet documents.

#ifndef KIN_QUERY_INTERNAL_LOADS_H_
#define KIN_QUERY_INTERNAL_LOADS_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/composite_index.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "query/internal/predicate.h"
#include "query/row_set.h"
#include "relations/relation_catalog.h"

namespace kin {
namespace internal {

// Per column of `table`, 1 when spec.select names it; empty when it names
// none (every column). InvalidArgument for an unknown column.
absl::StatusOr<std::vector<uint8_t>> SelectedColumns(const Table& table, const QuerySpec& spec);

struct LoadLevel;

// One load of a level, resolved: its relation and related table looked up
// once, its related query checked. Points into the QuerySpec it came from
// and into the catalog; valid while both are.
struct PlannedLoad {
  const RelationLoadSpec* load = nullptr;
  const RelationSpec* relation = nullptr;
  const Table* to = nullptr;
  // A ManyToMany's pivot or a HasManyThrough's intermediate table.
  const Table* through = nullptr;
  const Table* from = nullptr;  // the table the relation is declared on
  // Preload: the children's selected columns and their own loads.
  std::vector<uint8_t> selected;
  std::unique_ptr<LoadLevel> children;
  // A HasMany Preload's GroupLimit answered by walking this composite
  // index (foreign key, GroupOrderBy's first column) per parent; null: each
  // parent's rows are filtered and partially sorted.
  const CompositeIndex* group_walk = nullptr;
};

// The loads of one level of a result, in the order they were recorded.
struct LoadLevel {
  std::vector<PlannedLoad> loads;
  bool empty() const { return loads.empty(); }
};

// Resolves spec.loads (recursively) into `out`, checking as it goes:
// relations exist, each related query follows CheckRelatedSpec, no
// duplicate preloads or extras, selected columns exist. The first problem,
// in the order the loads were recorded.
absl::Status PlanLoads(const RelationContext& context, const Table& table, const QuerySpec& spec,
                       LoadLevel* out);

// The checks of PlanLoads, without keeping the plan.
absl::Status ValidateLoads(const RelationContext& context, const Table& table,
                           const QuerySpec& spec);

// Runs `level` for `rows` (rows of `table`, in the order of data->rows)
// and attaches the results to `data`: a Preload per relation (children
// sets built recursively with their own loads), an Extra per count or
// aggregate. `distinct_rows`: no row appears twice in `rows` (a query's
// selection; a preload's children may repeat a row), so a row's related
// rows are read once and need not be kept for a second reading.
absl::Status RunLoads(const RelationContext& context, const Table& table, const LoadLevel& level,
                      std::span<const RowId> rows, bool distinct_rows, RowSetData* data);

// " | preload users.posts: index probe posts.user_id per row (order by
// created_at desc)" per load; a preload's own loads follow it, named by
// path ("users.posts > posts.comments").
std::string ExplainLoads(const LoadLevel& level);

// How many relation names PlanLoads has looked up, in all (for tests: a
// query resolves each load's relation once).
int64_t RelationLookupsForTesting();

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_LOADS_H_
