// CompositeIndex: the rows of one table in the lexicographic order of two or
// three columns, for an equality prefix followed by a range or an ORDER BY
// walk on the next column ("guild = g ORDER BY score DESC LIMIT 10").
//
// Representation: an absl::btree_set of entries that carry the row's keys in
// an order-preserving 64-bit form (int64 with its sign bit flipped, doubles
// by their bits with -0 folded into 0 and every NaN into the largest key,
// bools as 0/1, strings by their first 8 bytes big-endian) with a NULL bit
// per component and the slot: 24 bytes an entry for two columns, 32 for
// three. A search compares entries without touching the table, as a
// btree of copied keys would (SQLite's index b-trees hold their keys too);
// only two strings with the same first 8 bytes are compared in full, from
// the table. An earlier layout held slots alone, 4 bytes an entry, and read
// every key through the table: each comparison of a descent was a cache
// miss, half the time of a top-10 within a guild.
// Component order per type is OrderedIndex's (int64 and bool numerically,
// double with NaN after every number, string bytewise) with NULL first in
// each component; ties on every component are broken by slot, so the order
// depends only on the table's contents and a rollback restores it exactly.
//
// Because entries are made from the cells (and string ties read them),
// Erase must be called before a cell of an indexed column changes and
// Insert after, with every other indexed cell of the row in place (a row
// is never half in the index). The index holds a pointer to its table: the
// Table object must not move (Engine keeps tables behind unique_ptr). Not
// thread-safe for writes; const methods may run concurrently.

#ifndef KIN_ENGINE_COMPOSITE_INDEX_H_
#define KIN_ENGINE_COMPOSITE_INDEX_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/container/btree_set.h"
#include "engine/ordered_index.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class Table;

class CompositeIndex {
 public:
  static constexpr size_t kMinColumns = 2;
  static constexpr size_t kMaxColumns = 3;

  // REQUIRES: 2 or 3 distinct columns of `table`, which outlives the index
  // and does not move.
  CompositeIndex(const Table* table, std::vector<ColumnId> columns);
  CompositeIndex(const CompositeIndex&) = delete;
  CompositeIndex& operator=(const CompositeIndex&) = delete;

  const std::vector<ColumnId>& columns() const { return columns_; }
  size_t size() const {
    return std::visit([](const auto& set) { return set.size(); }, entries_);
  }

  // Adds / removes the row under its current cells. REQUIRES: Insert:
  // absent; Erase: present with those cells.
  void Insert(RowId id) {
    std::visit([&](auto& set) { set.insert(MakeEntryFor(set, id.value)); }, entries_);
  }
  void Erase(RowId id) {
    std::visit([&](auto& set) { set.erase(MakeEntryFor(set, id.value)); }, entries_);
  }
  // Rebuilds from every live row: one sort, then in-order appends.
  void Build();
  void Clear() {
    std::visit([](auto& set) { set.clear(); }, entries_);
  }
  size_t MemoryBytes() const;

  // Walks the rows whose first prefix.size() components equal `prefix`
  // (non-NULL values of the columns' types; an int64 is accepted for a
  // double column) and whose next component lies in `range`. A bounded side
  // excludes NULL (and a lower bound alone excludes NaN), as OrderedIndex's
  // ranges do; an unbounded range takes every row of the prefix, NULLs
  // first ascending and last descending. Calls f(RowId, bool new_key) in
  // index order, ascending or descending, until it returns false; new_key
  // is true when the component after the prefix differs from the previous
  // row's (and for the first row). REQUIRES: prefix.size() < columns().size().
  // Cost O(log n + rows visited).
  template <typename F>
  void Walk(std::span<const Value> prefix, const OrderedRange& range, bool desc, F&& f) const;

  // Canonical text: "(1, NULL)->[3] (1, 5)->[0,2]".
  std::string DebugString() const;

 private:
  template <size_t N>
  struct Entry {
    std::array<uint64_t, N> keys;  // the encoded cells; 0 where NULL
    uint32_t slot;
    uint8_t nulls;  // bit i: component i is NULL
  };
  // A position between entries: after every entry whose first n components
  // are below `keys` (and, for strings, `strings`), and before (after ==
  // false) or after (after == true) the entries equal to them on those n
  // components. Built per walk without copying a Value: `strings` view the
  // caller's values, which outlive the walk.
  struct Probe {
    std::array<uint64_t, kMaxColumns> keys{};
    std::array<std::string_view, kMaxColumns> strings;  // a string component's full key
    uint8_t nulls = 0;
    size_t n = 0;
    bool after = false;
  };
  template <size_t N>
  struct Less {
    using is_transparent = void;
    const CompositeIndex* index;
    bool operator()(const Entry<N>& a, const Entry<N>& b) const {
      return index->CompareEntries(a, b) < 0;
    }
    bool operator()(const Entry<N>& a, const Probe& p) const {
      return index->CompareToProbe(a, p) < 0;
    }
    bool operator()(const Probe& p, const Entry<N>& a) const {
      return index->CompareToProbe(a, p) > 0;
    }
  };
  template <size_t N>
  using Set = absl::btree_set<Entry<N>, Less<N>>;

  template <size_t N>
  Entry<N> MakeEntryFor(const Set<N>&, uint32_t slot) const {
    Entry<N> e;
    e.slot = slot;
    e.nulls = 0;
    for (size_t i = 0; i < N; ++i) {
      if (table_null(slot, i)) {
        e.keys[i] = 0;
        e.nulls |= static_cast<uint8_t>(1u << i);
      } else {
        e.keys[i] = EncodeCell(i, slot);
      }
    }
    return e;
  }
  // <0, 0, >0: component i of two entries.
  // The comparisons are forced inline: a top-N within a prefix is a tree
  // descent (about 20 of them) plus one per row, each a few instructions.
  template <size_t N>
  ABSL_ATTRIBUTE_ALWAYS_INLINE int CompareComponent(size_t i, const Entry<N>& a,
                                                    const Entry<N>& b) const {
    const bool an = (a.nulls >> i) & 1;
    const bool bn = (b.nulls >> i) & 1;
    if (an || bn) return an == bn ? 0 : (an ? -1 : 1);
    if (a.keys[i] != b.keys[i]) return a.keys[i] < b.keys[i] ? -1 : 1;
    if (types_[i] != Type::kString || a.slot == b.slot) return 0;
    return CompareStrings(i, a.slot, b.slot);  // same first 8 bytes
  }
  template <size_t N>
  int CompareEntries(const Entry<N>& a, const Entry<N>& b) const {
    for (size_t i = 0; i < N; ++i) {
      const int c = CompareComponent(i, a, b);
      if (c != 0) return c;
    }
    return a.slot < b.slot ? -1 : (a.slot > b.slot ? 1 : 0);
  }
  template <size_t N>
  ABSL_ATTRIBUTE_ALWAYS_INLINE int CompareToProbe(const Entry<N>& a, const Probe& p) const {
    for (size_t i = 0; i < p.n; ++i) {
      const bool an = (a.nulls >> i) & 1;
      const bool pn = (p.nulls >> i) & 1;
      if (an || pn) {
        if (an != pn) return an ? -1 : 1;
        continue;
      }
      if (a.keys[i] != p.keys[i]) return a.keys[i] < p.keys[i] ? -1 : 1;
      if (types_[i] == Type::kString) {
        const int c = CompareStringTo(i, a.slot, p.strings[i]);
        if (c != 0) return c;
      }
    }
    // Equal on the probe's components: the probe sits before or after them.
    return p.after ? -1 : 1;
  }
  template <size_t N, typename F>
  void WalkSet(const Set<N>& set, std::span<const Value> prefix, const OrderedRange& range,
               bool desc, F& f) const;

  bool table_null(uint32_t slot, size_t i) const;
  // Component i's cell in slot (not NULL), encoded.
  uint64_t EncodeCell(size_t i, uint32_t slot) const;
  // `v` (not NULL; an int64 for a double column is converted) as component
  // i's key.
  uint64_t EncodeValue(size_t i, const Value& v) const;
  // Full comparisons of string component i.
  int CompareStrings(size_t i, uint32_t a, uint32_t b) const;
  int CompareStringTo(size_t i, uint32_t a, std::string_view s) const;
  // `v` in the representation of component i (int64 -> double for doubles).
  Value Normalize(size_t i, const Value& v) const;
  Probe MakeProbe(std::span<const Value> prefix, const Value* next, bool after) const;

  const Table* table_;
  std::vector<ColumnId> columns_;
  std::vector<Type> types_;
  std::variant<Set<2>, Set<3>> entries_;
};

// --- implementation of the template ---

template <typename F>
void CompositeIndex::Walk(std::span<const Value> prefix, const OrderedRange& range, bool desc,
                          F&& f) const {
  std::visit([&](const auto& set) { WalkSet(set, prefix, range, desc, f); }, entries_);
}

template <size_t N, typename F>
void CompositeIndex::WalkSet(const Set<N>& set, std::span<const Value> prefix,
                             const OrderedRange& range, bool desc, F& f) const {
  const size_t k = prefix.size();
  const Value null_value;
  std::optional<Value> lo, hi;
  if (range.lo.has_value()) lo = Normalize(k, *range.lo);
  if (range.hi.has_value()) hi = Normalize(k, *range.hi);
  if (lo.has_value() && hi.has_value()) {
    const int c = CompareValues(*lo, *hi);
    if (c > 0 || (c == 0 && !(range.lo_inclusive && range.hi_inclusive))) return;
  }
  typename Set<N>::const_iterator begin, end;
  const Probe begin_probe = lo.has_value() ? MakeProbe(prefix, &*lo, !range.lo_inclusive)
                            : hi.has_value()
                                ? MakeProbe(prefix, &null_value, /*after=*/true)  // skip NULLs
                                : MakeProbe(prefix, nullptr, /*after=*/false);
  if (hi.has_value()) {
    end = set.lower_bound(MakeProbe(prefix, &*hi, range.hi_inclusive));
  } else if (lo.has_value() && types_[k] == Type::kDouble) {
    const Value nan(std::nan(""));
    end = set.lower_bound(MakeProbe(prefix, &nan, /*after=*/false));  // NaN sorts last
  } else {
    end = set.lower_bound(MakeProbe(prefix, nullptr, /*after=*/true));
  }
  const Entry<N>* prev = nullptr;
  auto visit = [&](const Entry<N>& e) {
    const bool new_key = prev == nullptr || CompareComponent(k, *prev, e) != 0;
    prev = &e;
    return f(RowId(e.slot), new_key);
  };
  if (!desc) {
    begin = set.lower_bound(begin_probe);
    for (auto it = begin; it != end; ++it) {
      if (!visit(*it)) return;
    }
    return;
  }
  // A descending walk is mostly a top-N that stops after a few rows: the
  // first kLazyRows entries are tested against the lower end one by one
  // instead of descending the tree for it; the descent is made only if
  // the walk goes on.
  constexpr int kLazyRows = 16;
  auto it = end;
  for (int i = 0; i < kLazyRows; ++i) {
    if (it == set.begin()) return;
    --it;
    if (CompareToProbe(*it, begin_probe) < 0) return;  // below the range
    if (!visit(*it)) return;
  }
  begin = set.lower_bound(begin_probe);
  while (it != begin) {
    --it;
    if (!visit(*it)) return;
  }
}

}  // namespace kin

#endif  // KIN_ENGINE_COMPOSITE_INDEX_H_
