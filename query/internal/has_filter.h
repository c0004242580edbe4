// The Has / WhereHas / DoesntHave count tests: a RelationTest (predicate.h)
// that counts, per row, the related rows passing the related query, and
// compares the count (or a recorded aggregate) with a number. Strategies and
// their cost model: relation_plan.h.
//
// Validity: points into both tables' storage; valid until the next write to
// either.

#ifndef KIN_QUERY_INTERNAL_HAS_FILTER_H_
#define KIN_QUERY_INTERNAL_HAS_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"
#include "query/internal/compiled_query.h"
#include "query/internal/predicate.h"
#include "query/internal/relation_plan.h"

namespace kin {
namespace internal {

// The count test of a kRelation condition (Has / WhereHas / DoesntHave),
// evaluated on rows of `from`. Lives in an Atom of the compiled predicate.
class RelationFilter final : public RelationTest {
 public:
  RelationFilter() = default;
  ~RelationFilter();

  // Resolves the relation and compiles its filter. Errors: unknown relation
  // (NotFound), a bad related query (see CheckRelatedSpec), column and type
  // errors of the filter, a count that is not an int64.
  static absl::StatusOr<std::shared_ptr<RelationFilter>> Compile(const RelationContext& context,
                                                                 const Table& from,
                                                                 const ConditionSpec& condition);
  // What RelationContext::compile_relation points at.
  static absl::StatusOr<std::shared_ptr<RelationTest>> CompileTest(const RelationContext& context,
                                                                   const Table& from,
                                                                   const ConditionSpec& condition);

  // Picks the strategy for about `rows` evaluations; a scan runs here, once.
  void Prepare(size_t rows) override;

  // Copies the rows of in[0, n) that pass into out (which may be `in`).
  size_t Filter(const RowId* in, size_t n, RowId* out) const override;

  // "count(users.posts) >= 5 by index", "... by walk", "... by scan of posts",
  // "sum(likes) of users.posts > 100 by walk".
  std::string Explain() const override;

 private:
  // kAggregate: a WhereHas callback recorded an aggregate (Sum("likes")),
  // which is compared instead of the row count; computed when compiled, for
  // every live row of from(), so that an error (an int64 Sum overflowing)
  // is the query's error rather than a silently failing row.
  enum class Strategy : uint8_t { kIndex, kWalk, kScan, kIndexScan, kAggregate };
  // The aggregate per from-slot (kAggregate), computed here.
  absl::Status CompileAggregate(const RelationContext& context, const QuerySpec& sub);
  bool Passes(int64_t count) const;
  // The SQL comparison of an aggregate's value: NULL (no related rows for
  // Sum / Avg / Min / Max) never passes; numbers compare numerically.
  bool PassesValue(const Value& value) const;

  RelationHop hop_;
  std::unique_ptr<CompiledQuery> filter_;  // nullptr: every related row counts
  CompareOp op_ = CompareOp::kGe;
  int64_t count_ = 1;
  int64_t cap_ = 2;  // counting past this cannot change the answer
  Strategy strategy_ = Strategy::kIndex;
  // kScan: the number of matching related rows per key slot.
  std::unique_ptr<KeySlots> slots_;
  std::vector<uint32_t> counts_;
  // kAggregate: the aggregate per from-slot, and its text for Explain.
  std::vector<Value> by_slot_;
  std::string aggregate_;
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_HAS_FILTER_H_
