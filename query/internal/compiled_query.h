// CompiledQuery: a QuerySpec resolved against one table.
//
// Compiling resolves every name to a ColumnId once, checks each value's type
// against its column, converts values to the column's representation, picks
// the access path and keeps raw pointers to the typed column storage.
//
// Access paths (cost-based, see ChooseAccess in the .cc): a hash probe when
// an equality or IN on a hash-indexed column is ANDed at the top level; an
// ordered-index range when range conditions (<, <=, >, >=, =, Between,
// StartsWith) on an ordered column are ANDed at the top level and select
// fewer rows than a probe and than kRangeScanFraction of the table (counted
// along the index with that cap at compile time, so the estimate is exact
// below it); an ordered walk when the first OrderBy key has an ordered index
// and a Limit is given (it walks the index in that order, applies the
// filter row by row and stops after offset + limit rows, unless a probe or
// range is expected to be cheaper); else a scan. Running never looks at a string name and allocates nothing
// per row.
//
// This is the piece the layers above reuse: preload / whereHas / withCount /
// withAggregate compile the child query once, then for each parent call
// Select / Count / Aggregate on that parent's children span (from the foreign
// key index), or Matches(RowId) row by row (query/internal/relation_plan.h).
// A Has / WhereHas condition compiles into an Atom holding such a child
// query, so it combines with the other conditions in AND / OR groups.
//
// Validity: a CompiledQuery points into its table's storage (columns,
// bitmaps, index lists). It is valid until the next write to that table (or
// the table is dropped); it does not reference the QuerySpec it came from.
// Thread-safety: const methods may run concurrently while nobody writes.

#ifndef KIN_QUERY_INTERNAL_COMPILED_QUERY_H_
#define KIN_QUERY_INTERNAL_COMPILED_QUERY_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/ids.h"
#include "engine/table.h"
#include "kin/value.h"
#include "kin/query_spec.h"

namespace kin {

class Engine;
class RelationCatalog;

namespace internal {

// What compiling a relation condition needs besides the table: the engine
// (to find the related table) and the relation catalog. Either may be null:
// a relation condition then fails to compile.
struct RelationContext {
  const Engine* engine = nullptr;
  const RelationCatalog* relations = nullptr;
  // How many rows the relation conditions will be asked about, when the
  // plan is run over candidate spans (a related query run per parent)
  // rather than its own access path; unset: the access path's rows. Zero
  // defers the choice: the caller runs PrepareRelations once it knows.
  std::optional<size_t> candidate_rows;
};

class RelationFilter;  // query/internal/relation_plan.h

// One typed test on one column. NULL cells never pass a test except
// kIsNull: under SQL's three-valued logic they are UNKNOWN, and since kin's
// conditions have no NOT over groups, UNKNOWN and FALSE select the same rows.
struct Atom {
  enum class Kind : uint8_t {
    kAlways,  // IS NOT NULL on a NOT NULL column
    kNever,   // IS NULL on a NOT NULL column; NOT IN a list holding NULL
    kIsNull,
    kIsNotNull,
    kCmpInt64,
    kCmpDouble,
    kCmpBool,
    kCmpString,
    kInInt64,
    kInDouble,
    kInBool,
    kInString,
    kBetweenInt64,
    kBetweenDouble,
    kBetweenBool,
    kBetweenString,
    kStartsWith,
    kEndsWith,
    kContains,
    kRelation,  // a count test on related rows (Has / WhereHas), in `relation`
  };

  Kind kind = Kind::kAlways;
  CompareOp op = CompareOp::kEq;  // kCmp*
  bool negate = false;            // kIn* (NOT IN), kBetween* (NOT BETWEEN)
  ColumnId column;
  // Validity words (bit set = not NULL); nullptr when the column has no NULLs.
  const uint64_t* validity = nullptr;
  // The typed column: int64_t*, double*, uint8_t* (bool) or std::string*.
  const void* data = nullptr;
  // Operands, in the column's representation. Bools are 0/1 in i0 / i1;
  // kInBool uses bit 0 of i0 for false and bit 1 for true.
  int64_t i0 = 0;
  int64_t i1 = 0;
  double d0 = 0;
  double d1 = 0;
  std::string s0;
  std::string s1;
  // IN lists, sorted and deduplicated, NULLs removed.
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  // kRelation: the compiled count test (shared so plans stay copyable).
  std::shared_ptr<RelationFilter> relation;

  // Copies the rows of in[0, n) that pass into out (which may be `in`),
  // keeping their order; returns how many. REQUIRES: live rows.
  size_t Filter(const RowId* in, size_t n, RowId* out) const;
  bool Test(RowId id) const {
    RowId out;
    return Filter(&id, 1, &out) == 1;
  }
};

// The WHERE part: atoms combined by AND / OR groups, flattened into arrays.
// Groups that hold a single AND-term are spliced into their parent, so
// `Where(a).Where([](Query& q) { q.Where(b).Where(c); })` is one AND-term.
class CompiledPredicate {
 public:
  // True when there are no conditions (every row matches).
  bool always_true() const { return root_ < 0; }
  // Whether a live row matches.
  bool Matches(RowId id) const { return root_ < 0 || EvalGroup(root_, id); }
  // Copies the rows of in[0, n) that match into out (which may be `in`),
  // keeping their order; returns how many. `skip_atom` (an index into
  // atoms(), or -1) is left out when it is ANDed at the top level: the
  // index probe already guarantees it.
  size_t FilterBlock(const RowId* in, size_t n, RowId* out, int skip_atom = -1) const;
  // Appends the matching rows of `candidates` to `out`, in order.
  // REQUIRES: candidates are live rows of the table.
  void Filter(std::span<const RowId> candidates, std::vector<RowId>* out) const;
  // How many of `candidates` match.
  size_t Count(std::span<const RowId> candidates) const;
  // min(cap, how many of `candidates` match), stopping once cap is reached.
  size_t CountUpTo(std::span<const RowId> candidates, size_t cap) const;

  std::span<const Atom> atoms() const { return atoms_; }
  // The top level is a single AND-term (no OR at the top): an index probe
  // is possible on one of its atoms.
  bool conjunctive() const;
  // The atoms ANDed at the top level (empty when not conjunctive).
  absl::InlinedVector<int, 4> TopLevelAtoms() const;
  // Atoms and group references in all terms (1 for a single condition).
  size_t num_nodes() const { return nodes_.size(); }

 private:
  friend class PredicateCompiler;
  struct NodeRef {
    uint32_t index;  // into atoms_ or groups_
    bool is_group;
  };
  struct Range {
    uint32_t begin;
    uint32_t end;
  };

  bool EvalNode(NodeRef node, RowId id) const {
    return node.is_group ? EvalGroup(static_cast<int>(node.index), id)
                         : atoms_[node.index].Test(id);
  }
  bool EvalGroup(int group, RowId id) const;

  // Inline storage: a typical query compiles without allocating here.
  absl::InlinedVector<Atom, 2> atoms_;
  absl::InlinedVector<NodeRef, 4> nodes_;  // the terms' nodes, term after term
  absl::InlinedVector<Range, 2> terms_;    // a term: nodes_[begin, end), ANDed
  absl::InlinedVector<Range, 1> groups_;   // a group: terms_[begin, end), ORed
  int root_ = -1;               // index into groups_, -1 when no conditions
};

// Reusable memory for CompiledOrder::Sort: sorting many lists (a preload's
// per-parent top-N) then allocates once for the longest, not once per list.
class SortScratch {
 public:
  // Room for n entries of a trivially copyable E (alignment <= 8), valid
  // until the next call.
  template <typename E>
  E* Get(size_t n) {
    static_assert(std::is_trivially_copyable_v<E> && alignof(E) <= alignof(uint64_t));
    words_.resize((n * sizeof(E) + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    return reinterpret_cast<E*>(words_.data());
  }

 private:
  std::vector<uint64_t> words_;
};

// ORDER BY. NULL sorts as the smallest value: NULLs come first ascending and
// last descending (as in SQLite and MySQL). Sorting is stable: rows that tie
// on every key keep their order in the input.
class CompiledOrder {
 public:
  struct Key {
    Type type = Type::kInt64;
    ColumnId column;
    const void* data = nullptr;
    const uint64_t* validity = nullptr;
    bool desc = false;
  };

  bool empty() const { return keys_.empty(); }
  const absl::InlinedVector<Key, 2>& keys() const { return keys_; }
  // Orders ids[0, n): afterwards ids[0, min(keep, n)) are the first rows in
  // order; the rest are in unspecified order. keep = SIZE_MAX sorts all.
  // Cost O(n log keep); one allocation when n > 32, unless `scratch` is
  // given.
  void Sort(RowId* ids, size_t n, size_t keep = SIZE_MAX, SortScratch* scratch = nullptr) const;
  void Sort(std::vector<RowId>* ids, size_t keep = SIZE_MAX) const {
    Sort(ids->data(), ids->size(), keep);
  }
  // <0, 0, >0 comparing two live rows on the keys (no tie-break).
  int Compare(RowId a, RowId b) const;

 private:
  friend class QueryCompiler;
  absl::InlinedVector<Key, 2> keys_;
};

// A resolved aggregate.
struct CompiledAggregate {
  AggregateFunction function = AggregateFunction::kCount;
  bool star = true;  // Count("*") or no recorded aggregate: count rows
  ColumnId column;
  Type type = Type::kInt64;
  const void* data = nullptr;
  const uint64_t* validity = nullptr;
};

// Whether `candidate` beats `best` for Min (smaller) or Max (larger). Doubles
// compare in OrderBy's total order (NaN after every number), so Min and Max
// agree with OrderBy(..).First() whatever the rows' order: Max is NaN when
// any value is, Min is NaN only when all are.
template <typename T>
inline bool BetterForAggregate(AggregateFunction f, const T& candidate, const T& best) {
  return f == AggregateFunction::kMin ? candidate < best : best < candidate;
}
inline bool BetterForAggregate(AggregateFunction f, double candidate, double best) {
  const bool cn = std::isnan(candidate);
  const bool bn = std::isnan(best);
  if (cn || bn) return f == AggregateFunction::kMin ? bn && !cn : cn && !bn;
  return f == AggregateFunction::kMin ? candidate < best : best < candidate;
}

class CompiledQuery {
 public:
  enum class Access : uint8_t {
    kScan,     // every live slot, in slot order
    kIndexEq,  // one key's rows from a hash index, in the index's order
    kIndexIn,  // the rows of several keys, merged into slot order
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
  static absl::Status CompileInto(const Table& table, const QuerySpec& spec,
                                  CompiledQuery* out,
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
  // The ordered index of a kIndexRange or kOrderedWalk access, else null.
  const OrderedIndex* ordered_index() const { return ordered_; }
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
  size_t SelectAndCount(size_t offset, std::optional<size_t> limit,
                        std::vector<RowId>* out) const;
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
  friend class QueryCompiler;

  // Calls sink(const RowId* ids, size_t n) -> bool (false stops) with the
  // matching rows of the access path, block by block, in access order.
  template <typename Sink>
  void ForEachMatch(Sink&& sink) const;
  template <typename Sink>
  void ForEachMatch(std::span<const RowId> candidates, int skip_atom, Sink&& sink) const;
  // Returns the number of matching rows seen (all of them when
  // `count_all`, else possibly fewer: an unordered window stops early).
  template <typename Run>
  size_t SelectImpl(Run&& run, size_t offset, std::optional<size_t> limit, bool count_all,
                    std::vector<RowId>* out, SortScratch* scratch = nullptr) const;
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
  // Min / Max of an ordered column with no filter: one end of the index.
  std::optional<Value> IndexedMinMax() const;

  const Table* table_ = nullptr;
  CompiledPredicate predicate_;
  CompiledOrder order_;
  CompiledAggregate aggregate_;
  bool has_aggregate_ = false;
  size_t offset_ = 0;
  std::optional<size_t> limit_;

  Access access_ = Access::kScan;
  int probe_atom_ = -1;                 // the atom the index answers
  bool residual_empty_ = false;         // the probe answers the whole filter
  std::span<const RowId> probe_span_;   // kIndexEq
  std::vector<RowId> probe_rows_;       // kIndexIn, sorted by slot
  // kIndexRange / kOrderedWalk.
  const OrderedIndex* ordered_ = nullptr;
  OrderedRange range_;          // the keys to visit (unbounded: every key)
  size_t range_rows_ = 0;       // rows in range_ (kIndexRange), exact if range_exact_
  bool range_exact_ = false;
  bool walk_desc_ = false;      // kOrderedWalk: descending
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_COMPILED_QUERY_H_
