// CompiledQuery: a QuerySpec resolved against one table.
//
// Compiling resolves every name to a ColumnId once, checks each value's type
// against its column, converts values to the column's representation, picks
// the access path and keeps raw pointers to the typed column storage.
//
// Access paths (cost-based, see planner.cc): a hash probe when
// an equality or IN on a hash-indexed column is ANDed at the top level; an
// ordered-index range when range conditions (<, <=, >, >=, =, Between,
// StartsWith) on an ordered column are ANDed at the top level and select
// fewer rows than a probe and than kRangeScanFraction of the table (counted
// along the index with that cap at compile time, so the estimate is exact
// below it); a NOT BETWEEN on an ordered column as the two intervals
// outside its operands, under the same bound; an ordered walk when the
// first OrderBy key has an ordered index and a Limit is given (it walks the
// index in that order, applies the filter row by row and stops after
// offset + limit rows, unless a probe or range is expected to be cheaper);
// else a scan. Running never looks at a string name and allocates nothing
// per row.
//
// The stages live in their own files: predicate.h (WHERE), order.h (ORDER
// BY, top-N), aggregate.h; planner.cc compiles a spec into this plan and
// chooses its access path (and writes Explain's text); this file's .cc runs
// it.
//
// This is the piece the layers above reuse: preload / whereHas / withCount /
// withAggregate compile the child query once, then for each parent call
// Select / Count / Aggregate on that parent's children span (from the foreign
// key index), or Matches(RowId) row by row (query/internal/loads.h,
// has_filter.h).
// A Has / WhereHas condition compiles into an Atom holding such a child
// query, so it combines with the other conditions in AND / OR groups.
//
// Validity: a CompiledQuery points into its table's storage (columns,
// bitmaps, index lists). It is valid until the next write to that table (or
// the table is dropped); it does not reference the QuerySpec it came from.
// Thread-safety: const methods may run concurrently while nobody writes.

#ifndef KIN_QUERY_INTERNAL_COMPILED_QUERY_H_
#define KIN_QUERY_INTERNAL_COMPILED_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"
#include "query/internal/aggregate.h"
#include "query/internal/order.h"
#include "query/internal/predicate.h"

namespace kin {
namespace internal {

class CompiledQuery {
 public:
  enum class Access : uint8_t {
    kScan,         // every live slot, in slot order
    kIndexEq,      // one key's rows from a hash index, in the index's order
    kIndexIn,      // the rows of several keys, merged into slot order
    kIndexRange,   // a key range of an ordered index, in key order (ties by slot)
    kOrderedWalk,  // an ordered index walked in ORDER BY order, stopping early
  };
  // A range on an ordered index is taken when it holds fewer than this
  // fraction of the table's rows; past it a scan (sequential, vectorised)
  // is cheaper than visiting rows in key order.
  static constexpr size_t kRangeScanDivisor = 8;

  // Resolves `spec` against `table`. Errors (the first problem, in the
  // order the builder calls were made): spec.error; InvalidArgument for an
  // unknown column, a value of the wrong type, NULL in an ordering
  // comparison or BETWEEN, a string match on a non-string column, Sum/Avg
  // of a string or bool column, Min/Max/Sum/Avg of "*".
  // Probes the chosen index once (cheap: one hash lookup per key).
  // Relation conditions (Has / WhereHas) need `relations`; their related
  // queries compile here too, and one that chooses a scan strategy runs
  // that scan here (once, over the related table).
  static absl::StatusOr<CompiledQuery> Compile(const Table& table, const QuerySpec& spec,
                                               const RelationContext* relations = nullptr);
  // The same into `out` (replacing its contents), sparing a move of the
  // plan on hot paths. On error `out` is unspecified (do not run it).
  static absl::Status CompileInto(const Table& table, const QuerySpec& spec, CompiledQuery* out,
                                  const RelationContext* relations = nullptr);

  // An empty plan, to be filled by CompileInto. REQUIRES: not run before.
  CompiledQuery() = default;

  const Table& table() const { return *table_; }
  const CompiledPredicate& predicate() const { return predicate_; }
  const CompiledOrder& order() const { return order_; }
  const CompiledAggregate& aggregate() const { return aggregate_; }
  bool has_aggregate() const { return has_aggregate_; }
  Access access() const { return access_; }
  // The rows the chosen index probe yields, in access order (the key's
  // index list for kIndexEq; merged in slot order for kIndexIn); empty for
  // a scan. The filter still applies to them.
  std::span<const RowId> probe_rows() const;
  // The rows Select returns, without a copy, when an index probe answers
  // the whole query (no residual filter, no order): the probe's list cut
  // by the offset and limit. Valid until the next write. nullopt otherwise.
  std::optional<std::span<const RowId>> ProbeAnswer() const {
    if ((access_ != Access::kIndexEq && access_ != Access::kIndexIn) || !residual_empty_ ||
        !order_.empty()) {
      return std::nullopt;
    }
    std::span<const RowId> rows = probe_rows();
    const size_t from = std::min(offset_, rows.size());
    const size_t n = std::min(limit_.value_or(SIZE_MAX), rows.size() - from);
    return rows.subspan(from, n);
  }
  size_t offset() const { return offset_; }
  std::optional<size_t> limit() const { return limit_; }

  // Whether a live row of table() passes the filter.
  bool Matches(RowId id) const { return predicate_.Matches(id); }

  // The most rows the access path yields: the probe's rows, or the table.
  size_t AccessRows() const {
    if (access_ == Access::kIndexRange) return range_rows_;
    return access_ == Access::kScan || access_ == Access::kOrderedWalk ? table_->size()
                                                                       : probe_rows().size();
  }
  // The ordered index of a kIndexRange or kOrderedWalk access, else null
  // (also null when the access uses a composite index).
  const OrderedIndex* ordered_index() const { return ordered_; }
  // The composite index of a kIndexRange or kOrderedWalk access, else null.
  const CompositeIndex* composite_index() const { return composite_; }
  // Lets each relation condition choose its strategy for about `rows`
  // evaluations (a scan strategy runs its scan here). Compile does it for
  // RelationContext::candidate_rows, else AccessRows().
  void PrepareRelations(size_t rows);

  // --- whole-table runs (through the chosen access path) ---
  // Appends the selected rows to `out`: filtered, ordered (stable), then
  // the spec's offset and limit. Without OrderBy the order is the access
  // path's: slot order for a scan, the key's insertion order for an
  // equality probe, slot order for an IN probe.
  void Select(std::vector<RowId>* out) const;
  // Same with an explicit window, ignoring the spec's offset / limit.
  void Select(size_t offset, std::optional<size_t> limit, std::vector<RowId>* out) const;
  // Select with an explicit window that also returns how many rows match in
  // all (one pass; it never stops early). Paginate uses it.
  size_t SelectAndCount(size_t offset, std::optional<size_t> limit, std::vector<RowId>* out) const;
  // Matching rows (ignores order, offset and limit, as SQL's COUNT(*)).
  size_t Count() const;
  // Calls `sink(ids, n)` with the matching rows of the access path, block
  // by block (at most 256 rows each), in access order, until it returns
  // false. For the relation scans, which accumulate per key.
  void ForEachMatchBlock(absl::FunctionRef<bool(const RowId*, size_t)> sink) const;
  // The recorded aggregate over all matching rows (ignoring order, offset
  // and limit); COUNT(*) when none was recorded. NULL for Sum/Avg/Min/Max
  // of no non-NULL values; OutOfRange when an int64 Sum overflows.
  absl::StatusOr<Value> Aggregate() const;

  // --- runs over candidate rows (e.g. one parent's children) ---
  // REQUIRES: `candidates` are live rows of table(). The access path is not
  // used; without OrderBy the candidates' order is kept.
  void Select(std::span<const RowId> candidates, std::vector<RowId>* out) const;
  // `scratch` (optional) is reused by the sort across calls.
  void Select(std::span<const RowId> candidates, size_t offset, std::optional<size_t> limit,
              std::vector<RowId>* out, SortScratch* scratch = nullptr) const;
  size_t Count(std::span<const RowId> candidates) const;
  // A preload's group window through a composite index whose first column
  // holds the parent's key `key` and whose second is ORDER BY's first key:
  // appends the first `limit` rows with that key that pass the filter, in
  // ORDER BY order, walking the index and stopping there. Rows tied on
  // every key keep their order in `list` (the key's rows in the foreign-key
  // index), or slot order when `list` is nullopt: the answer of
  // Select(list, 0, limit, out). The access path is not used.
  void SelectPrefixWalk(const CompositeIndex& index, const Value& key, size_t limit,
                        std::optional<std::span<const RowId>> list, std::vector<RowId>* out) const;
  absl::StatusOr<Value> Aggregate(std::span<const RowId> candidates) const;

  // The access path: "index probe posts.user_id = 7 (secondary index, 3
  // rows)", "index probe posts.id IN (1, 2) (primary key, 2 rows)" or
  // "scan posts (1000 rows)".
  std::string ExplainAccess() const;
  // ExplainAccess() then the rest of `spec` (the spec this was compiled
  // from), separated by " | ", then how each relation condition runs
  // ("| relation: count(users.posts) >= 5 by index"):
  //   "index probe posts.user_id = 7 (secondary index, 3 rows) | filter:
  //    user_id = 7 AND title starts with \"a\" | order by created_at desc |
  //    limit 5"
  std::string Explain(const QuerySpec& spec) const;

 private:
  friend class QueryPlanner;  // planner.cc

  // Calls sink(const RowId* ids, size_t n) -> bool (false stops) with the
  // matching rows of the access path, block by block, in access order.
  template <typename Sink>
  void ForEachMatch(Sink&& sink) const;
  template <typename Sink>
  void ForEachMatch(std::span<const RowId> candidates, int skip_atom, Sink&& sink) const;
  // Returns the number of matching rows seen (all of them when
  // `count_all`, else possibly fewer: an unordered window stops early).
  // `access_path`: `run` yields the access path's rows (not candidates).
  template <typename Run>
  size_t SelectImpl(Run&& run, size_t offset, std::optional<size_t> limit, bool count_all,
                    std::vector<RowId>* out, SortScratch* scratch = nullptr,
                    bool access_path = false) const;
  template <typename Run>
  absl::StatusOr<Value> AggregateImpl(Run&& run) const;
  // kIndexRange (and a bounded kOrderedWalk): the matching rows of range_
  // in key order, block by block.
  template <typename Sink>
  void ForEachRangeMatch(Sink&& sink) const;
  // kOrderedWalk: the window [offset, offset + limit) of the matching rows
  // in ORDER BY order, appended to out; returns the matches seen (all of
  // them when count_all).
  size_t WalkSelect(size_t offset, std::optional<size_t> limit, bool count_all,
                    std::vector<RowId>* out) const;
  // The window of the rows `walk(f)` yields (f(RowId, bool new_key) as
  // OrderedIndex::Walk) that pass the filter (all when `trivial`), in ORDER
  // BY order: `ties(ids, n)` puts each group tied on the walked key in
  // input order, before the other ORDER BY keys sort it. As WalkSelect.
  template <typename Walk, typename Ties>
  size_t WalkWindow(Walk&& walk, Ties&& ties, bool trivial, size_t offset,
                    std::optional<size_t> limit, bool count_all, std::vector<RowId>* out) const;
  // Min / Max of an ordered column with no filter: one end of the index.
  std::optional<Value> IndexedMinMax() const;
  // Walks the access path's index (ordered_, or composite_ with its
  // prefix) over range_: f(RowId, bool new_key) as OrderedIndex::Walk.
  // With range2_ (NOT BETWEEN) both intervals, in key order.
  template <typename F>
  void WalkIndex(bool desc, bool with_nulls, F&& f) const {
    auto walk = [&](const OrderedRange& range, auto&& g) {
      if (composite_ != nullptr) {
        composite_->Walk(composite_prefix_, range, desc, g);
      } else {
        ordered_->Walk(range, desc, with_nulls, g);
      }
    };
    if (!range2_.has_value()) {
      walk(range_, f);
      return;
    }
    bool go_on = true;
    auto g = [&](RowId id, bool new_key) { return go_on = f(id, new_key); };
    walk(desc ? *range2_ : range_, g);
    if (go_on) walk(desc ? range_ : *range2_, g);
  }

  const Table* table_ = nullptr;
  CompiledPredicate predicate_;
  CompiledOrder order_;
  CompiledAggregate aggregate_;
  bool has_aggregate_ = false;
  size_t offset_ = 0;
  std::optional<size_t> limit_;

  Access access_ = Access::kScan;
  int probe_atom_ = -1;                // the atom the index answers
  bool residual_empty_ = false;        // the probe answers the whole filter
  std::span<const RowId> probe_span_;  // kIndexEq
  std::vector<RowId> probe_rows_;      // kIndexIn, sorted by slot
  // kIndexRange / kOrderedWalk.
  const OrderedIndex* ordered_ = nullptr;
  OrderedRange range_;  // the keys to visit (unbounded: every key)
  // NOT BETWEEN: the interval above range_ (disjoint from it; both bounded
  // on one side at least, so neither holds NULL).
  std::optional<OrderedRange> range2_;
  size_t range_rows_ = 0;  // rows in range_ (kIndexRange), exact if range_exact_
  bool range_exact_ = false;
  // kIndexRange over ordered_ alone: range_'s rows in key order, as the
  // planner counted them (QueryPlanner::ChooseRange), when
  // range_ids_ready_; the run reads them instead of walking again. Kept
  // with their capacity across a prepared query's runs.
  std::vector<RowId> range_ids_;
  std::vector<RowId> range_ids_next_;  // ChooseRange's scratch
  bool range_ids_ready_ = false;
  bool walk_desc_ = false;  // kOrderedWalk: descending
  // kIndexRange / kOrderedWalk over a composite index (ordered_ null): the
  // rows whose first components equal composite_prefix_ and whose next
  // component is in range_. The filter is always applied in full.
  const CompositeIndex* composite_ = nullptr;
  // Inline: a composite index has at most 3 columns, and a prepared query
  // re-plans on every run without allocating.
  absl::InlinedVector<Value, 3> composite_prefix_;
  // A composite walk whose index has components after the walked one: rows
  // tied on the walked key come in the order of those components, so each
  // tied group is put back in slot order before the ORDER BY tie-break.
  bool walk_sort_groups_ = false;
  // A composite access whose prefix guarantees every condition: rows are
  // not filtered (see ChooseComposite).
  bool filter_implied_ = false;
  // Which of QueryPlanner's choosers can apply to this query's shape with
  // the table's indexes at index_version stages_index_version_ (bits of
  // QueryPlanner::Stage); unknown until the first Replan. The shape and the
  // index set decide it, never the bound values, so a prepared run skips
  // the choosers that cannot fire.
  bool stages_known_ = false;
  uint8_t stages_ = 0;
  uint64_t stages_index_version_ = 0;
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_COMPILED_QUERY_H_
