// Relation hops and the machinery shared by relation-aware execution: the
// Has / WhereHas count tests (has_filter.h) and the Preload, WithCount and
// WithAggregate loads (loads.h), run on the foreign-key indexes and columns.
//
// A relation is a hop from rows of one table to the related rows of another:
// a HasMany parent's children (the child foreign-key index, insertion order)
// or a BelongsTo child's parent (the parent's key index, 0 or 1 row). The
// related rows' filter (the relation's on_query plus a callback) is compiled
// once into a CompiledQuery; then, per strategy:
//
//   index   count = the index list's size: O(1) per row (no filter).
//   walk    per row, the index list run through the compiled filter
//           (stopping early once a count test is decided).
//   index scan  (counts without a filter) one pass over the index's
//           entries, each key's list size into a per-key array; then O(1)
//           per row. No hash probe at all: wins when most keys are asked
//           about.
//   scan    one pass over the related table's matching rows, accumulating
//           per key into a dense array (compact int64 keys) or a hash map;
//           then O(1) per row. Wins when most rows are asked about.
//
// The choice is a cost estimate (rows asked about x related rows per key,
// against the index's keys or the related table's size); the constants
// come from the relations benchmark. Plain counts through a dense index
// always take the index strategy: an array read per row
// (RelationHop::CountEach) beats both scans at any number of rows. Preload always walks: it must
// return each row's related rows in index order.
//
// Validity: compiled pieces point into both tables' storage and are valid
// until the next write to either.

#ifndef KIN_QUERY_INTERNAL_RELATION_PLAN_H_
#define KIN_QUERY_INTERNAL_RELATION_PLAN_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/hash_index.h"
#include "engine/parent_links.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "query/internal/columns.h"
#include "query/internal/compiled_query.h"
#include "relations/relation_catalog.h"

namespace kin {
namespace internal {

// For tests: forces every relation test and load onto one strategy.
// kAuto (the default) lets the cost estimate choose. Not thread-safe.
// kWalk probes the index per row (walking the lists when filtered); kScan
// scans the related table; kIndexScan scans the index's entries for
// unfiltered counts (else the table).
enum class RelationStrategy : uint8_t { kAuto, kWalk, kScan, kIndexScan };
void SetRelationStrategyForTesting(RelationStrategy strategy);

// One relation, resolved against the engine: from rows of from() to their
// related rows in to().
class RelationHop {
 public:
  // NotFound "table 'users': no relation named 'postz'" for an unknown
  // relation, NotFound for a missing table; InvalidArgument for a missing
  // key column and FailedPrecondition for key columns of other types (the
  // tables changed under the relation). Cost: O(1), except for a to-side
  // key without an index (a BelongsTo owner key that is neither primary,
  // unique nor indexed), which is indexed here by one scan.
  static absl::StatusOr<RelationHop> Resolve(const RelationContext& context, const Table& from,
                                             absl::string_view relation);
  // The same for a relation already looked up: `relation` of `from`, whose
  // related table is `to` (and, for a ManyToMany or HasManyThrough, whose
  // second table is `through`). The errors past the lookup, as Resolve.
  static absl::StatusOr<RelationHop> Make(const Table& from, const RelationSpec& relation,
                                          const Table& to, const Table* through = nullptr);

  const RelationSpec& spec() const { return *spec_; }
  const Table& from() const { return *from_; }
  const Table& to() const { return *to_; }
  Type key_type() const { return key_type_; }
  // "users.posts"
  std::string name() const { return spec_->QualifiedName(); }

  // The related rows of a live `from` row, in the related index's order
  // (insertion order); empty for a NULL key or a key nothing matches, and
  // for a row outside a scoped BelongsTo's scope (RelationScope), which
  // the hop treats as a NULL key everywhere (FromNull).
  //
  // A ManyToMany or HasManyThrough hop (via()) goes over its second table:
  // its related rows per from key are the first index's rows in that table
  // mapped through the second index (pivot order, then the related index's
  // order), gathered on the first probe of a key and kept by the hop (and
  // its copies) so the span stays valid while the hop lives.
  std::span<const RowId> Related(RowId row) const {
    if (FromNull(row)) return {};
    if (via_ != nullptr) return ViaRelated(row);
    if (key_type_ == Type::kInt64) return FindInt(from_ints_[row.value]);
    return FindString(internal::ToAbsl((*from_strings_)[row.value]));
  }
  // Related(row).size(), without gathering a via() hop's list: a
  // ManyToMany counts its parent's pivot rows (each names exactly one row:
  // the related key is unique and the engine's foreign key holds), a
  // HasManyThrough sums the second index's list sizes over its parent's
  // intermediate rows.
  size_t RelatedCount(RowId row) const {
    if (via_ == nullptr) return Related(row).size();
    if (FromNull(row)) return 0;
    return ViaCount(row);
  }
  // Whether every key's related rows come in ascending slot order (then
  // insertion order and slot order agree). Conservative: may say false.
  bool RelatedInSlotOrder() const {
    return via_ == nullptr && (index_ == nullptr || index_->rows_ascending());
  }
  // The pivot row (link) of each of Related(row)'s rows, in the same order
  // (a ManyToMany only; empty for other hops). Valid as Related's span.
  std::span<const RowId> RelatedLinks(RowId row) const;
  // A ManyToMany's pivot table (a HasManyThrough's intermediate one), else
  // nullptr.
  const Table* through() const;
  // Whether FilterPivot kept only some links (for Explain).
  bool pivot_filtered() const;
  // Keeps only the links whose pivot rows pass `conditions` (a ManyToMany
  // callback's WherePivot...): Related, RelatedCount and RelatedLinks then
  // see only their related rows. Each pivot row is tested as the parent's
  // links are walked. InvalidArgument (located with errors::InPivot) for an
  // unknown pivot column or a value of the wrong type; no-op for none.
  // REQUIRES: a ManyToMany hop; called before Related.
  absl::Status FilterPivot(const std::vector<ConditionSpec>& conditions);
  // Gathers the related rows (and links) of every row of `rows` that
  // Related would gather one by one, with the cache misses of their pivot
  // lists and cells overlapped: call it before reading many rows' lists. A
  // no-op unless via() with int64 keys.
  void GatherAhead(std::span<const RowId> rows) const;
  // Appends Related(row) of every row of `rows` to `related`, parent after
  // parent, each parent's end to `offsets`, and, for a ManyToMany, each
  // related row's link to `links`: what reading Related and RelatedLinks
  // row by row would append, with the misses overlapped as GatherAhead's,
  // and without keeping any list (for a caller that reads each once).
  // False, with nothing appended, unless ForEachPivotList can walk `rows`.
  bool GatherInto(std::span<const RowId> rows, std::vector<uint32_t>* offsets,
                  std::vector<RowId>* related, std::vector<RowId>* links) const;
  // Whether the hop goes over a second table (see Related). Its related
  // rows have no key of their own to scan by: it is probed per row, except
  // for the counts ForEachKeyCount takes from the pivot's index.
  bool via() const { return via_ != nullptr; }
  // Related rows per key, on average (the cost estimate's fan-out).
  double AverageFanout() const;

  // Key cells, for scans: the from-side and to-side key of a live row.
  // REQUIRES: key_type() is kInt64 / kString, and the cell is not NULL.
  int64_t FromInt(RowId row) const { return from_ints_[row.value]; }
  int64_t ToInt(RowId row) const { return to_ints_[row.value]; }
  absl::string_view FromString(RowId row) const {
    return internal::ToAbsl((*from_strings_)[row.value]);
  }
  absl::string_view ToString(RowId row) const {
    return internal::ToAbsl((*to_strings_)[row.value]);
  }
  bool FromNull(RowId row) const {
    return from_validity_ != nullptr &&
           ((from_validity_[row.value >> 6] >> (row.value & 63)) & 1) == 0;
  }
  bool ToNull(RowId row) const {
    return to_validity_ != nullptr && ((to_validity_[row.value >> 6] >> (row.value & 63)) & 1) == 0;
  }
  // True when the from-side key is an int64 column without NULLs.
  bool FromDenseReady() const { return key_type_ == Type::kInt64 && from_validity_ == nullptr; }
  const uint64_t* to_validity() const { return to_validity_; }
  // The to-side int64 key column. REQUIRES: key_type() is kInt64.
  const int64_t* to_ints() const { return to_ints_; }

  // The unique index on the from-side key (a HasMany's parent key is
  // usually the primary key), or nullptr: maps a key to its one from row.
  const HashIndex* from_unique_index() const { return from_index_; }
  // Each related row's from row and each from row's related count, kept by
  // the related table (engine/parent_links.h); nullptr without a unique
  // index on the from-side key. Cost: O(1) while neither table changed its
  // rows or keys since the last call, else one pass (see ParentLinks).
  std::shared_ptr<const ParentLinks> Links() const;

  // Whether ForEachKeyCount can count a via() hop's related rows: a
  // ManyToMany without scope or pivot filter whose pivot key to the related
  // table is NOT NULL, so each parent's count is its pivot-index list's
  // size. Always true for other hops.
  bool CountsByKey() const;

  // The index whose list sizes are the related counts (the related key's
  // index, or a ManyToMany's pivot index by the parent's key), when keys
  // are int64 and CountsByKey(); else nullptr (string keys, a to-side key
  // without an index, and the via() hops CountsByKey() excludes).
  const HashIndex* CountIndex() const;
  // out[i] = RelatedCount(rows[i]) for every i, in one pass over `rows`
  // (no per-key slots, no gathered lists): an array read per row while the
  // CountIndex() is dense, one Find per row otherwise.
  // REQUIRES: CountIndex() != nullptr.
  void CountEach(std::span<const RowId> rows, int64_t* out) const;

  // Keys with related rows (for the cost estimate).
  size_t num_keys() const;
  // Calls f(key, std::span<const RowId> rows) for every to-side key and its
  // related rows, in no particular order: O(keys + rows), no probe.
  template <typename F>
  void ForEachKeyRows(F&& f) const;
  // Calls f(key, n) for every to-side key and its number of related rows,
  // in no particular order: O(keys). `key` is an int64_t or an
  // absl::string_view, by key_type(). REQUIRES: CountsByKey().
  template <typename F>
  void ForEachKeyCount(F&& f) const;

 private:
  // The to-side key's rows when it has no index (a BelongsTo owner key
  // that is neither primary, unique nor indexed): built once by a scan.
  struct LocalIndex {
    absl::flat_hash_map<int64_t, std::vector<RowId>> ints;
    absl::flat_hash_map<std::string, std::vector<RowId>> strings;
  };

  // The second step of a via() hop, and one key's gathered rows.
  struct Via;
  struct ViaList;
  static absl::StatusOr<std::shared_ptr<Via>> MakeVia(const RelationSpec& spec,
                                                      const Table& through, const Table& to);

  std::span<const RowId> FindInt(int64_t key) const;
  std::span<const RowId> FindString(absl::string_view key) const;
  std::span<const RowId> ViaRelated(RowId row) const;
  // GatherAhead's walk: calls `visit(i, pivot rows)` for every row i of
  // `rows` without a NULL key, in order, the pivot lists fetched ahead.
  // False, visiting none, unless via() with int64 keys on both hops.
  bool ForEachPivotList(std::span<const RowId> rows,
                        absl::FunctionRef<void(size_t, std::span<const RowId>)> visit) const;
  // A via() hop's gathered rows (and a ManyToMany's links) of a live row
  // whose key is not NULL.
  const ViaList& ViaListOf(RowId row) const;
  size_t ViaCount(RowId row) const;

  const RelationSpec* spec_ = nullptr;
  const Table* from_ = nullptr;
  const Table* to_ = nullptr;
  Type key_type_ = Type::kInt64;
  ColumnId from_key_;
  ColumnId to_key_;
  const uint64_t* from_validity_ = nullptr;
  const uint64_t* to_validity_ = nullptr;
  const int64_t* from_ints_ = nullptr;
  const int64_t* to_ints_ = nullptr;
  const StringStore* from_strings_ = nullptr;
  const StringStore* to_strings_ = nullptr;
  const HashIndex* index_ = nullptr;         // on to_key_, when it has one
  const HashIndex* from_index_ = nullptr;    // on from_key_, when unique
  std::shared_ptr<const LocalIndex> local_;  // otherwise
  // A scoped BelongsTo: per from-slot, key not NULL and row inside the
  // scope; from_validity_ points at it.
  std::shared_ptr<const std::vector<uint64_t>> from_mask_;
  std::shared_ptr<Via> via_;  // ManyToMany, HasManyThrough

  // A via() hop's pivot index by the parent's key. REQUIRES: via() and
  // CountsByKey().
  const HashIndex& LinkIndex() const;
};

template <typename F>
void RelationHop::ForEachKeyRows(F&& f) const {
  if (index_ != nullptr) {
    index_->ForEachKey(f);
    return;
  }
  for (const auto& [key, rows] : local_->ints) f(key, std::span<const RowId>(rows));
  for (const auto& [key, rows] : local_->strings) {
    f(absl::string_view(key), std::span<const RowId>(rows));
  }
}

template <typename F>
void RelationHop::ForEachKeyCount(F&& f) const {
  if (via()) {
    LinkIndex().ForEachKey([&](auto key, std::span<const RowId> links) { f(key, links.size()); });
    return;
  }
  ForEachKeyRows([&](auto key, std::span<const RowId> rows) { f(key, rows.size()); });
}

// Which callback a related query came from: decides what it may record.
enum class RelatedUse : uint8_t { kWhereHas, kPreload, kWithCount, kWithAggregate };

// The structural rules of a related query recorded for `use` (Limit inside
// a Preload, a missing As() in WithAggregate, ...): the first violation, or
// OK. Does not resolve column names.
absl::Status CheckRelatedSpec(const RelationSpec& relation, RelatedUse use, const QuerySpec& spec);

// --- shared by the relation tests (has_filter.h) and loads (loads.h) ---

// Calls f(RowId) for every live row of `table`, in slot order.
template <typename F>
inline void ForEachLive(const Table& table, F&& f) {
  if (table.size() == table.slot_count()) {
    // No dead slots (the common case between deletes): a plain counted loop
    // the compiler can unroll, with no bit walking.
    const uint32_t n = static_cast<uint32_t>(table.slot_count());
    for (uint32_t r = 0; r < n; ++r) f(RowId(r));
    return;
  }
  const std::vector<uint64_t>& words = table.live().words();
  for (size_t w = 0; w < words.size(); ++w) {
    uint64_t bits = words[w];
    const uint32_t base = static_cast<uint32_t>(w * 64);
    while (bits != 0) {
      f(RowId(base + static_cast<uint32_t>(std::countr_zero(bits))));
      bits &= bits - 1;
    }
  }
}

// Calls f(RowId) for every row of `to` that passes `filter` (every live row
// when null), in the filter's access order.
template <typename F>
inline void ForEachMatching(const Table& to, const CompiledQuery* filter, F&& f) {
  if (filter == nullptr) {
    ForEachLive(to, f);
    return;
  }
  filter->ForEachMatchBlock([&](const RowId* ids, size_t n) {
    for (size_t i = 0; i < n; ++i) f(ids[i]);
    return true;
  });
}

// How the related rows of many rows are counted or aggregated.
enum class HopPlan : uint8_t {
  kProbe,      // an index probe per row (walking the list when it visits)
  kIndexScan,  // one pass over the index's entries (counts only)
  kTableScan,  // one pass over the related table (never for a via() hop)
};

// The cheapest plan for `rows` rows, whose keys take `key_rows` rows to
// slot. `filter` selects the related rows (nullptr: all; a scan reads what
// its access path yields); `visits` says whether a probe must read the
// related rows (a filter or an aggregate column) rather than only its
// list's size. The cost constants come from the relations benchmark; under
// RelationStrategy::kAuto, counts without a filter or visit through a dense
// count index (CountIndex) always probe, an array read per row.
HopPlan ChooseHopPlan(size_t rows, const RelationHop& hop, const CompiledQuery* filter, bool visits,
                      size_t key_rows);

// About how many related rows probing `rows` rows' lists visits.
size_t ProbedRows(size_t rows, const RelationHop& hop);

// The related rows the plan will visit: per probed row its list, else what
// the filter's access path yields.
size_t VisitedRows(HopPlan plan, size_t rows, const RelationHop& hop, const CompiledQuery& filter);

// Dense slots for the keys of a set of `from` rows, so that a scan of the
// related table can accumulate per key: key - min when the int64 keys are
// compact; else, when the from key is unique and indexed (a parent's
// primary key) and the rows are a good part of the table, the from row's
// own slot, so per-parent state is an array whatever the keys look like
// and reading a parent's result needs no probe; else a hash map from key to
// slot.
class KeySlots {
 public:
  // Slots for the keys of `rows`.
  KeySlots(const RelationHop& hop, std::span<const RowId> rows) : hop_(&hop) {
    Build(rows.size(), [&](auto&& f) {
      for (RowId r : rows) f(r);
    });
  }
  // Slots for the keys of every live row of hop.from().
  explicit KeySlots(const RelationHop& hop) : hop_(&hop) {
    Build(hop.from().size(), [&](auto&& f) { ForEachLive(hop.from(), f); });
  }

  size_t size() const { return size_; }
  bool dense() const { return mode_ == Mode::kDense; }
  // Mode::kRow's links (slots are from rows), else nullptr.
  const ParentLinks* links() const { return links_.get(); }
  int64_t min() const { return min_; }

  // The slot of a key; -1 when no from row has it.
  int64_t Slot(int64_t key) const {
    if (mode_ == Mode::kDense) return Dense(key);
    if (mode_ == Mode::kRow) return RowOf(hop_->from_unique_index()->Find(key));
    auto it = ints_.find(key);
    return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }
  int64_t Slot(absl::string_view key) const {
    if (mode_ == Mode::kRow) return RowOf(hop_->from_unique_index()->Find(key));
    auto it = strings_.find(key);
    return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }

  // The slot of a from row's key; -1 for a NULL key or one without a slot.
  int64_t FromSlot(RowId row) const {
    if (hop_->FromNull(row)) return -1;
    switch (mode_) {
      case Mode::kDense:
        return Dense(hop_->FromInt(row));
      case Mode::kRow:
        return row.value;
      case Mode::kInt: {
        auto it = ints_.find(hop_->FromInt(row));
        return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
      case Mode::kString: {
        auto it = strings_.find(hop_->FromString(row));
        return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
    }
    return -1;
  }

  // The slot of a related row's key; -1 when no from row has that key.
  int64_t ToSlot(RowId row) const {
    if (hop_->ToNull(row)) return -1;
    switch (mode_) {
      case Mode::kDense:
        return Dense(hop_->ToInt(row));
      case Mode::kRow: {
        if (links_ == nullptr) {
          return hop_->key_type() == Type::kInt64 ? Slot(hop_->ToInt(row))
                                                  : Slot(hop_->ToString(row));
        }
        const uint32_t p = links_->parent_of[row.value];
        return p == ParentLinks::kNoParent ? int64_t{-1} : static_cast<int64_t>(p);
      }
      case Mode::kInt: {
        auto it = ints_.find(hop_->ToInt(row));
        return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
      case Mode::kString: {
        auto it = strings_.find(hop_->ToString(row));
        return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
    }
    return -1;
  }

 private:
  enum class Mode : uint8_t { kDense, kRow, kInt, kString };

  // Whether slots can be the from rows' own (Mode::kRow) for `n` rows: a
  // unique index finds a key's row, and an array over every from slot is
  // not much larger than one over the rows.
  bool RowSlotsFit(size_t n) const {
    return hop_->from_unique_index() != nullptr && 4 * n >= hop_->from().slot_count();
  }
  void UseRowSlots() {
    mode_ = Mode::kRow;
    size_ = hop_->from().slot_count();
    links_ = hop_->Links();
  }
  static int64_t RowOf(std::span<const RowId> found) {
    return found.empty() ? int64_t{-1} : static_cast<int64_t>(found[0].value);
  }

  // `each(f)` calls f(RowId) for each of the `n` rows.
  template <typename Each>
  void Build(size_t n, Each&& each) {
    const RelationHop& hop = *hop_;
    if (hop.key_type() == Type::kString) {
      if (RowSlotsFit(n)) return UseRowSlots();
      mode_ = Mode::kString;
      strings_.reserve(n);
      each([&](RowId r) {
        if (!hop.FromNull(r)) {
          strings_.try_emplace(hop.FromString(r), static_cast<uint32_t>(strings_.size()));
        }
      });
      size_ = strings_.size();
      return;
    }
    bool any = false;
    int64_t lo = std::numeric_limits<int64_t>::max();
    int64_t hi = std::numeric_limits<int64_t>::min();
    each([&](RowId r) {
      if (hop.FromNull(r)) return;
      const int64_t k = hop.FromInt(r);
      lo = std::min(lo, k);
      hi = std::max(hi, k);
      any = true;
    });
    const uint64_t span = any ? static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) : 0;
    if (span < 4 * static_cast<uint64_t>(n) + 4096) {
      mode_ = Mode::kDense;
      min_ = any ? lo : 0;
      size_ = any ? static_cast<size_t>(span) + 1 : 0;
      return;
    }
    if (RowSlotsFit(n)) return UseRowSlots();
    mode_ = Mode::kInt;
    ints_.reserve(n);
    each([&](RowId r) {
      if (!hop.FromNull(r)) ints_.try_emplace(hop.FromInt(r), static_cast<uint32_t>(ints_.size()));
    });
    size_ = ints_.size();
  }

  int64_t Dense(int64_t key) const {
    const uint64_t off = static_cast<uint64_t>(key) - static_cast<uint64_t>(min_);
    return off < size_ ? static_cast<int64_t>(off) : -1;
  }

  const RelationHop* hop_;
  Mode mode_ = Mode::kDense;
  int64_t min_ = 0;
  size_t size_ = 0;
  absl::flat_hash_map<int64_t, uint32_t> ints_;
  absl::flat_hash_map<absl::string_view, uint32_t> strings_;
  // Mode::kRow: each related row's from row (its slot).
  std::shared_ptr<const ParentLinks> links_;
};

// Calls add(slot, RowId) for every row of the related table that passes
// `filter` (every live row when null) and whose key has a slot.
template <typename Add>
inline void ScanRelated(const RelationHop& hop, const CompiledQuery* filter, const KeySlots& slots,
                        Add&& add) {
  if (slots.dense()) {
    // The hot case, kept free of calls: compact int64 keys.
    const int64_t* keys = hop.to_ints();
    const uint64_t* valid = hop.to_validity();
    const uint64_t min = static_cast<uint64_t>(slots.min());
    const uint64_t size = slots.size();
    ForEachMatching(hop.to(), filter, [&](RowId r) {
      if (valid != nullptr && !Bit(valid, r.value)) return;
      const uint64_t off = static_cast<uint64_t>(keys[r.value]) - min;
      if (off < size) add(static_cast<size_t>(off), r);
    });
    return;
  }
  if (const ParentLinks* links = slots.links(); links != nullptr) {
    // Slots are from rows, and the links hold each related row's.
    const uint32_t* parent_of = links->parent_of.data();
    ForEachMatching(hop.to(), filter, [&](RowId r) {
      const uint32_t s = parent_of[r.value];
      if (s != ParentLinks::kNoParent) add(static_cast<size_t>(s), r);
    });
    return;
  }
  if (filter == nullptr) {
    // Every related row accumulates: each key's slot found once, through
    // the related index's entries, instead of a probe per related row;
    // then the scan reads an array (and adds in slot order, as above).
    constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
    std::vector<uint32_t> slot_of(hop.to().slot_count(), kNone);
    hop.ForEachKeyRows([&](auto key, std::span<const RowId> rows) {
      const int64_t s = slots.Slot(key);
      if (s < 0) return;
      for (RowId r : rows) slot_of[r.value] = static_cast<uint32_t>(s);
    });
    ForEachLive(hop.to(), [&](RowId r) {
      const uint32_t s = slot_of[r.value];
      if (s != kNone) add(static_cast<size_t>(s), r);
    });
    return;
  }
  ForEachMatching(hop.to(), filter, [&](RowId r) {
    int64_t s = slots.ToSlot(r);
    if (s >= 0) add(static_cast<size_t>(s), r);
  });
}

// Per slot, the number of related rows, from the index's list sizes.
void IndexCounts(const RelationHop& hop, const KeySlots& slots, uint32_t* counts);

// `context` for a related query whose nested relation conditions choose
// their strategy later (PrepareRelations), once the plan is known.
RelationContext DeferredContext(const RelationContext& context);

// The related table's rows passing `spec`'s conditions, compiled with its
// relation conditions deferred; nullptr when every row passes. Errors are
// wrapped as errors::InRelatedQuery for `use`.
absl::StatusOr<std::unique_ptr<CompiledQuery>> CompileRelatedFilter(const RelationContext& context,
                                                                    const RelationHop& hop,
                                                                    RelatedUse use,
                                                                    const QuerySpec& spec);

// "WhereHas", "Preload", "WithCount", "WithAggregate".
absl::string_view RelatedUseName(RelatedUse use);

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_RELATION_PLAN_H_
