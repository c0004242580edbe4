#include "query/internal/query_plan.h"

#include <atomic>
#include <utility>

#include "kin/status_macros.h"

namespace kin {
namespace internal {

namespace {

std::atomic<int64_t> g_builds{0};

}  // namespace

absl::Status QueryPlan::Build(const RelationContext& context, const Table& table,
                              const QuerySpec& spec, const QuerySpec& compiled, QueryPlan* out) {
  g_builds.fetch_add(1, std::memory_order_relaxed);
  out->context_ = context;
  out->spec_ = &spec;
  KIN_RETURN_IF_ERROR(CompiledQuery::CompileInto(table, compiled, &out->query_, &context));
  if (!spec.loads.empty()) KIN_RETURN_IF_ERROR(PlanLoads(context, table, spec, &out->loads_));
  KIN_ASSIGN_OR_RETURN(out->selected_, SelectedColumns(table, spec));
  return absl::OkStatus();
}

void QueryPlan::SelectIds(std::vector<RowId>* ids) const {
  const CompiledQuery& q = query_;
  // Sized up front when the count is known: every row, or a probe's rows.
  if (!q.limit().has_value()) {
    if (q.access() != CompiledQuery::Access::kScan) {
      ids->reserve(q.probe_rows().size());
    } else if (q.predicate().always_true()) {
      ids->reserve(q.table().size());
    }
  }
  q.Select(ids);
}

absl::StatusOr<ResultSet> QueryPlan::Get() const {
  std::vector<RowId> ids;
  SelectIds(&ids);
  return MakeResult(ids);
}

absl::StatusOr<ResultSet> QueryPlan::MakeResult(std::span<const RowId> ids) const {
  if (loads_.empty() && selected_.empty()) return ResultSet::Plain(table(), ids);
  ResultSet rows = ResultSet::FromRowIds(table(), ids);
  rows.data().selected = selected_;
  // A selection holds each row once.
  KIN_RETURN_IF_ERROR(
      RunLoads(context_, table(), loads_, ids, /*distinct_rows=*/true, &rows.data()));
  return rows;
}

std::string QueryPlan::Explain() const {
  std::string out = query_.Explain(*spec_);
  if (!loads_.empty()) out += ExplainLoads(loads_);
  return out;
}

int64_t QueryPlan::BuildsForTesting() { return g_builds.load(std::memory_order_relaxed); }

}  // namespace internal
}  // namespace kin
