// kin-internal: what kin's own layers (relation handles, the planner, tests
// and benchmarks) need of a Query beyond its public surface: the compiled
// plan, the engine it runs on and a query without a Database. Keeping these
// off kin/query.h keeps engine and plan headers out of kin/kin.h's closure.

#ifndef KIN_QUERY_INTERNAL_QUERY_ACCESS_H_
#define KIN_QUERY_INTERNAL_QUERY_ACCESS_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "kin/query.h"
#include "query/internal/compiled_query.h"

namespace kin::internal {

class QueryAccess {
 public:
  // A query on `engine` with `relations` (nullptr: the relation methods
  // fail with FailedPrecondition when the query runs).
  static Query Make(Engine& engine, std::string table, const RelationCatalog* relations) {
    return Query(engine, std::move(table), relations);
  }
  // Resolves `q` against its table. Valid until the next write to it.
  static absl::StatusOr<CompiledQuery> Compile(const Query& q) { return q.Compile(); }
  static absl::StatusOr<const Table*> ResolveTable(const Query& q) { return q.ResolveTable(); }
  static QuerySpec& mutable_spec(Query& q) { return q.mutable_spec(); }
  static Engine& engine(const Query& q) { return q.engine(); }
  static const RelationCatalog* relations(const Query& q) { return q.relations(); }
};

}  // namespace kin::internal

#endif  // KIN_QUERY_INTERNAL_QUERY_ACCESS_H_
