// The planner: compiles a QuerySpec into a CompiledQuery (each stage
// resolved by its own compiler: predicate.h, order.h, aggregate.h) and
// chooses its access path from the indexes the table has; writes Explain's
// text for the plan it chose. Running the plan is compiled_query.cc's.

#ifndef KIN_QUERY_INTERNAL_PLANNER_H_
#define KIN_QUERY_INTERNAL_PLANNER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "absl/status/status.h"
#include "engine/composite_index.h"
#include "engine/ordered_index.h"
#include "engine/table.h"
#include "kin/query_spec.h"
#include "query/internal/compiled_query.h"
#include "query/internal/predicate.h"

namespace kin {
namespace internal {

class QueryPlanner {
 public:
  // See CompiledQuery::CompileInto.
  static absl::Status CompileInto(const Table& table, const QuerySpec& spec, CompiledQuery* out,
                                  const RelationContext* relations);

  // --- prepared queries (kin/prepared_query.h) ---
  // Writes `value` as operand `operand` (0, or 1 for BETWEEN's upper bound)
  // of atom `atom` of q's predicate. REQUIRES: a comparison or BETWEEN atom
  // on a column `value` fits (ValueFitsType), value not NULL.
  static void SetOperand(CompiledQuery* q, size_t atom, int operand, const Value& value);
  // Re-reads q's storage pointers (writes may have moved them) and chooses
  // the access path again, as CompileInto does, from the operands' current
  // values and the table's current indexes. Allocates nothing for plans
  // without IN on an index. REQUIRES: q compiled without relation
  // conditions, its table not dropped.
  static void Replan(CompiledQuery* q);

 private:
  // Replan's choosers, as bits of CompiledQuery::stages_.
  enum Stage : uint8_t {
    kAccessStage = 1,
    kRangeStage = 2,  // ChooseRange and ChooseNotBetween
    kWalkStage = 4,
    kCompositeStage = 8,
  };
  // The choosers that can fire for q's shape and its table's index set:
  // whether each finds a candidate index depends on neither the operands'
  // values nor the rows (only which candidate wins does).
  static uint8_t ApplicableStages(const CompiledQuery& q);
  // Runs the choosers in `stages`, in order (CompileInto and Replan).
  static void Choose(CompiledQuery* q, uint8_t stages);
  // Whether a top-level atom of `p` (conjunctive) is on `column`.
  static bool NamesColumn(const CompiledPredicate& p, ColumnId column);
  // Whether a composite index can improve q's plan, by column only: it
  // needs a condition on its first column and, when the access path is
  // not a scan, a condition on its second column or the ORDER BY walk on
  // it. ChooseComposite's first test and ApplicableStages' both.
  static bool CompositeMayServe(const CompiledQuery& q, const CompositeIndex& index,
                                bool access_is_scan);
  // An equality or IN on a hash-indexed column, ANDed at the top level.
  static void ChooseAccess(CompiledQuery* q);
  // A range of an ordered index, when cheaper than what ChooseAccess picked.
  static void ChooseRange(CompiledQuery* q);
  // A NOT BETWEEN on an ordered column as the two intervals outside it,
  // when they hold fewer rows than the path chosen so far.
  static void ChooseNotBetween(CompiledQuery* q);
  // An ordered walk, when ORDER BY's first key is indexed and a window
  // bounds the rows wanted.
  static void ChooseWalk(CompiledQuery* q);
  // A composite ordered index (equality prefix, then a range or the ORDER
  // BY walk on the next column), when cheaper than the path chosen so far.
  static void ChooseComposite(CompiledQuery* q);
  // The intersection of the top-level range atoms on `column` (nullopt when
  // there is none); `atoms` counts them.
  static std::optional<OrderedRange> ColumnRange(const CompiledPredicate& p,
                                                 std::span<const int> top, ColumnId column,
                                                 size_t* atoms);
  static std::optional<OrderedRange> AtomRange(const Atom& a);
  // Whether AtomRange(a) has a value, without building it.
  static bool IsRangeAtom(const Atom& a);
  // The key intervals below and above a NOT BETWEEN atom's operands, in
  // key order and disjoint; nullopt for any other atom or a NaN operand.
  static std::optional<std::pair<OrderedRange, OrderedRange>> OutsideRanges(const Atom& a);
  static void Intersect(OrderedRange* into, const OrderedRange& r);
  // Appends the rows it counts to `ids` unless nullptr (complete only when
  // under the cap).
  static size_t CountRange(const OrderedIndex& index, const OrderedRange& range, size_t cap,
                           std::vector<RowId>* ids = nullptr);
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_PLANNER_H_
