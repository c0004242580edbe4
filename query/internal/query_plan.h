// QueryPlan: a whole query compiled once, what Query's run methods
// (Get, Paginate, First, Count, Aggregate, Update, Delete, Explain) run.
// It holds the parent query's CompiledQuery, the selected columns and every
// load (Preload, WithCount, WithAggregate, nested), each relation resolved
// once per level (loads.h); Has / WhereHas conditions are compiled inside
// the parent query's predicate (has_filter.h).
//
// Validity: points into the tables' storage, the relation catalog and the
// QuerySpec it was built from; valid until the next write to a table it
// reads, or until the spec changes.

#ifndef KIN_QUERY_INTERNAL_QUERY_PLAN_H_
#define KIN_QUERY_INTERNAL_QUERY_PLAN_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/result_set.h"
#include "query/internal/compiled_query.h"
#include "query/internal/loads.h"
#include "query/internal/predicate.h"

namespace kin {
namespace internal {

class QueryPlan {
 public:
  // Builds the plan of `spec` on `table` into `out`: compiles `compiled`
  // (`spec` as the parent query runs it, e.g. with a relation's window
  // folded in), then plans spec.loads and spec.select. Errors: the
  // compile's (CompiledQuery::Compile), then the loads' (PlanLoads), then
  // an unknown selected column. REQUIRES: `spec` outlives the plan.
  static absl::Status Build(const RelationContext& context, const Table& table,
                            const QuerySpec& spec, const QuerySpec& compiled, QueryPlan* out);

  const CompiledQuery& query() const { return query_; }
  CompiledQuery& mutable_query() { return query_; }
  const Table& table() const { return query_.table(); }

  // The selected rows (the spec's window), appended to `ids`.
  void SelectIds(std::vector<RowId>* ids) const;
  // The selected rows (the spec's window), as a result with its loads.
  absl::StatusOr<ResultSet> Get() const;
  // `ids` (rows of table(), e.g. a page) as a result: the selected columns
  // and every load attached.
  absl::StatusOr<ResultSet> MakeResult(std::span<const RowId> ids) const;
  // The parent query's plan (CompiledQuery::Explain), then its loads
  // (ExplainLoads).
  std::string Explain() const;

  // How many plans have been built, in all (for tests: a run method
  // builds one).
  static int64_t BuildsForTesting();

 private:
  RelationContext context_;
  const QuerySpec* spec_ = nullptr;
  CompiledQuery query_;
  std::vector<uint8_t> selected_;
  LoadLevel loads_;
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_QUERY_PLAN_H_
