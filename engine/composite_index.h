// CompositeIndex: the rows of one table in the lexicographic order of two or
// three columns, for an equality prefix followed by a range or an ORDER BY
// walk on the next column ("guild = g ORDER BY score DESC LIMIT 10").
//
// Representation: an absl::btree_set of slots whose comparator reads the
// keys from the table's columns, so an entry costs 4 bytes rather than a
// copy of two or three keys (strings included). Component order per type is
// OrderedIndex's (int64 and bool numerically, double with NaN after every
// number, string bytewise) with NULL first in each component; ties on every
// component are broken by slot, so the order depends only on the table's
// contents and a rollback restores it exactly.
//
// Because the comparator reads the cells, Erase must be called before a cell
// of an indexed column changes and Insert after, with every other indexed
// cell of the row in place (a row is never half in the index). The index
// holds a pointer to its table: the Table object must not move (Engine keeps
// tables behind unique_ptr). Not thread-safe for writes; const methods may
// run concurrently.

#ifndef KIN_ENGINE_COMPOSITE_INDEX_H_
#define KIN_ENGINE_COMPOSITE_INDEX_H_

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

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
  size_t size() const { return slots_.size(); }

  // Adds / removes the row under its current cells. REQUIRES: Insert:
  // absent; Erase: present with those cells.
  void Insert(RowId id) { slots_.insert(id.value); }
  void Erase(RowId id) { slots_.erase(id.value); }
  // Rebuilds from every live row: one sort, then in-order appends.
  void Build();
  void Clear() { slots_.clear(); }
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
  // Cost O(log n + rows visited), each comparison reading the table.
  template <typename F>
  void Walk(std::span<const Value> prefix, const OrderedRange& range, bool desc, F&& f) const;

  // Canonical text: "(1, NULL)->[3] (1, 5)->[0,2]".
  std::string DebugString() const;

 private:
  // A position between entries: after every entry whose first n components
  // are below `values`, and before (after == false) or after (after ==
  // true) the entries equal to them on those n components.
  struct Probe {
    std::array<Value, kMaxColumns> values;
    size_t n = 0;
    bool after = false;
  };
  struct Less {
    using is_transparent = void;
    const CompositeIndex* index;
    bool operator()(uint32_t a, uint32_t b) const { return index->CompareSlots(a, b) < 0; }
    bool operator()(uint32_t a, const Probe& p) const { return index->CompareToProbe(a, p) < 0; }
    bool operator()(const Probe& p, uint32_t a) const { return index->CompareToProbe(a, p) > 0; }
  };
  using Set = absl::btree_set<uint32_t, Less>;

  // <0, 0, >0: component i of the rows in slots a and b.
  int CompareComponent(size_t i, uint32_t a, uint32_t b) const;
  // Component i of slot a against `v` (NULL allowed, of the column's type).
  int CompareToValue(size_t i, uint32_t a, const Value& v) const;
  int CompareSlots(uint32_t a, uint32_t b) const;
  int CompareToProbe(uint32_t a, const Probe& p) const;
  // `v` in the representation of component i (int64 -> double for doubles).
  Value Normalize(size_t i, const Value& v) const;
  Probe MakeProbe(std::span<const Value> prefix, const Value* next, bool after) const;

  const Table* table_;
  std::vector<ColumnId> columns_;
  std::vector<Type> types_;
  Set slots_;
};

// --- implementation of the template ---

template <typename F>
void CompositeIndex::Walk(std::span<const Value> prefix, const OrderedRange& range, bool desc,
                          F&& f) const {
  const size_t k = prefix.size();
  const Value null_value;
  std::optional<Value> lo, hi;
  if (range.lo.has_value()) lo = Normalize(k, *range.lo);
  if (range.hi.has_value()) hi = Normalize(k, *range.hi);
  if (lo.has_value() && hi.has_value()) {
    const int c = CompareValues(*lo, *hi);
    if (c > 0 || (c == 0 && !(range.lo_inclusive && range.hi_inclusive))) return;
  }
  typename Set::const_iterator begin, end;
  const Probe begin_probe = lo.has_value() ? MakeProbe(prefix, &*lo, !range.lo_inclusive)
                            : hi.has_value()
                                ? MakeProbe(prefix, &null_value, /*after=*/true)  // skip NULLs
                                : MakeProbe(prefix, nullptr, /*after=*/false);
  if (hi.has_value()) {
    end = slots_.lower_bound(MakeProbe(prefix, &*hi, range.hi_inclusive));
  } else if (lo.has_value() && types_[k] == Type::kDouble) {
    const Value nan(std::nan(""));
    end = slots_.lower_bound(MakeProbe(prefix, &nan, /*after=*/false));  // NaN sorts last
  } else {
    end = slots_.lower_bound(MakeProbe(prefix, nullptr, /*after=*/true));
  }
  uint32_t prev = 0;
  bool first = true;
  auto visit = [&](uint32_t slot) {
    const bool new_key = first || CompareComponent(k, prev, slot) != 0;
    first = false;
    prev = slot;
    return f(RowId(slot), new_key);
  };
  if (!desc) {
    begin = slots_.lower_bound(begin_probe);
    for (auto it = begin; it != end; ++it) {
      if (!visit(*it)) return;
    }
    return;
  }
  // A descending walk is mostly a top-N that stops after a few rows: the
  // first kLazyRows entries are tested against the lower end one by one
  // (a read of the row's keys each) instead of descending the tree for it
  // (some 20 such reads); the descent is made only if the walk goes on.
  constexpr int kLazyRows = 16;
  auto it = end;
  for (int i = 0; i < kLazyRows; ++i) {
    if (it == slots_.begin()) return;
    --it;
    if (CompareToProbe(*it, begin_probe) < 0) return;  // below the range
    if (!visit(*it)) return;
  }
  begin = slots_.lower_bound(begin_probe);
  while (it != begin) {
    --it;
    if (!visit(*it)) return;
  }
}

}  // namespace kin

#endif  // KIN_ENGINE_COMPOSITE_INDEX_H_
