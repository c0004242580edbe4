// OrderedIndex: the rows of one column in key order, for range scans,
// ORDER BY ... LIMIT walks and Min/Max.
//
// Representation: an absl::btree_set of (key, slot) pairs. String keys are
// not copied: an entry is 12 bytes of the key, big-endian (comparing them
// orders keys by their starts), and the slot; keys whose 12 bytes tie are
// compared in full from the column, which the table binds as for HashIndex
// (BindKeys). The 12 bytes follow the prefix every key shares, kept once
// per index ("player-0000000" in zero-padded names, the date in
// timestamps), so that keys alike at the start still differ in their
// entries; a key without that prefix shortens it and recomputes the
// entries, O(n), at most once per byte of the prefix between builds. A
// std::string entry was 40 bytes plus a heap block for keys over 15 bytes;
// a string entry is 16. Every entry is
// unique, ties on the key are broken by slot, so the walk order depends only
// on the table's contents (deterministic, and a rollback that restores the
// rows restores the index exactly: the set has no insertion order to lose).
// NULL cells live in a separate set of slots that ascending walks visit
// first: NULL is the smallest value, as in ORDER BY.
//
// Key order per type: int64 and bool (as 0/1) numerically; double
// numerically with every NaN after every number (OrderBy's total order,
// -0.0 equal to 0.0); string bytewise (std::string's compare, unsigned).
//
// The index reads keys from the table's columns: Insert must be called
// after a cell is written and Erase before it changes. Not thread-safe for
// writes; const methods may run concurrently.

#ifndef KIN_ENGINE_ORDERED_INDEX_H_
#define KIN_ENGINE_ORDERED_INDEX_H_

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/strings/string_view.h"
#include "engine/string_store.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class Table;

// A key interval over an ordered index. An unset bound is open-ended.
// Values must have the index's type (an int64 is accepted for double).
// Ranges never include NULL keys, nor NaN (NaN is unordered to <, >).
struct OrderedRange {
  std::optional<Value> lo;
  bool lo_inclusive = true;
  std::optional<Value> hi;
  bool hi_inclusive = true;
};

class OrderedIndex {
 public:
  // Doubles: NaN after every number, all NaN equal (a strict weak order).
  struct DoubleLess {
    bool operator()(const std::pair<double, uint32_t>& a,
                    const std::pair<double, uint32_t>& b) const {
      const bool an = std::isnan(a.first);
      const bool bn = std::isnan(b.first);
      if (an != bn) return bn;
      if (!an && a.first != b.first) return a.first < b.first;
      return a.second < b.second;
    }
  };
  using Int64Set = absl::btree_set<std::pair<int64_t, uint32_t>>;
  using DoubleSet = absl::btree_set<std::pair<double, uint32_t>, DoubleLess>;
  // 12 bytes of a key, big-endian and zero-padded: (prefix, next) orders
  // keys as those bytes do.
  struct StringHead {
    uint64_t prefix;
    uint32_t next;
  };
  static StringHead Head(std::string_view key);
  // A string entry: the head of the key after the common prefix, and the
  // slot.
  struct StringKey {
    uint64_t prefix;
    uint32_t next;
    uint32_t slot;
  };
  // A search bound: a key and a slot (0: before every entry with that key;
  // UINT32_MAX: after them). `side` is -1 or 1 for a key that sorts before
  // or after every key of the index (it does not start with their common
  // prefix; its head is then unused), else 0.
  struct StringProbe {
    uint64_t prefix;
    uint32_t next;
    absl::string_view key;
    uint32_t slot;
    int side = 0;
  };
  // Orders by (key, slot), reading keys that tie on their head from the
  // column that *keys points to (the index's binding, so a copy of the
  // comparator follows a rebind).
  class StringLess {
   public:
    using is_transparent = void;
    explicit StringLess(const StringStore* const* keys) : keys_(keys) {}
    bool operator()(const StringKey& a, const StringKey& b) const;
    bool operator()(const StringKey& a, const StringProbe& b) const;
    bool operator()(const StringProbe& a, const StringKey& b) const;
    bool operator()(const StringProbe& a, const StringProbe& b) const;
    // Whether two entries hold the same key.
    bool SameKey(const StringKey& a, const StringKey& b) const;
    absl::string_view Key(uint32_t slot) const {
      std::string_view k = (**keys_)[slot];
      return absl::string_view(k.data(), k.size());
    }

   private:
    const StringStore* const* keys_;
  };
  using StringSet = absl::btree_set<StringKey, StringLess>;

  // REQUIRES: `column` of `type` is a column of the table it will index.
  OrderedIndex(ColumnId column, Type type);
  // A copy reads the same column (its comparator points at the copy's own
  // binding).
  OrderedIndex(const OrderedIndex& other);
  OrderedIndex& operator=(const OrderedIndex&) = delete;

  // String indexes: the column whose cells hold the keys, at its current
  // address (see HashIndex::BindKeys). Insert, Erase and Build bind the
  // table's column themselves; Walk and DebugString use the binding.
  void BindKeys(const StringStore* keys) { string_keys_ = keys; }

  ColumnId column() const { return column_; }
  // After a column before this one was dropped (Table::DropColumn): the
  // entries stay, only the id they read moves.
  void set_column(ColumnId column) { column_ = column; }
  Type type() const { return type_; }
  // Entries, NULL included.
  size_t size() const;
  size_t null_count() const { return nulls_.size(); }
  // Rows whose key is NaN (double columns only).
  size_t nan_count() const;

  // Adds / removes the row `id` of `table` under its current cell.
  // REQUIRES: Insert: absent; Erase: present with that cell.
  void Insert(const Table& table, RowId id);
  void Erase(const Table& table, RowId id);
  // Rebuilds from every live row of `table`: the (key, slot) pairs are
  // sorted once and appended in order, O(n log n) with no rebalancing.
  void Build(const Table& table);
  void Clear();
  size_t MemoryBytes() const;

  // Walks the keys in `range` (NULL and NaN excluded unless the range is
  // unbounded and `with_nulls`: then NULLs come first ascending and last
  // descending, NaN last ascending and first descending), ascending or
  // descending, calling f(RowId row, bool new_key) until it returns false.
  // new_key is true when the row's key differs from the previous row's (and
  // for the first row). Ties come in ascending slot order when ascending,
  // descending when descending. Cost O(log n + rows visited).
  template <typename F>
  void Walk(const OrderedRange& range, bool desc, bool with_nulls, F&& f) const;

  // Canonical text: "NULL->[3,4] 1->[0] 5->[1,2]".
  std::string DebugString() const;

 private:
  template <typename Set, typename Key, typename F>
  bool WalkSet(const Set& set, const std::optional<Key>& lo, bool lo_inc,
               const std::optional<Key>& hi, bool hi_inc, bool skip_nan, bool desc, F& f) const;
  // WalkSet's per-layout parts: a search bound for (key, slot), an entry's
  // slot, and whether two entries hold the same key.
  template <typename K>
  static std::pair<K, uint32_t> Bound(const absl::btree_set<std::pair<K, uint32_t>>&, K key,
                                      uint32_t slot) {
    return {key, slot};
  }
  static std::pair<double, uint32_t> Bound(const DoubleSet&, double key, uint32_t slot) {
    return {key, slot};
  }
  StringProbe Bound(const StringSet&, absl::string_view key, uint32_t slot) const;
  // The head of a key that starts with string_common_.
  StringHead HeadOf(std::string_view key) const { return Head(key.substr(string_common_.size())); }
  // Shortens string_common_ to its first `n` bytes and recomputes every
  // entry's head from `keys` (the order of the entries does not change).
  void ShortenCommon(size_t n, const StringStore& keys);
  template <typename K>
  static uint32_t SlotOf(const std::pair<K, uint32_t>& e) {
    return e.second;
  }
  static uint32_t SlotOf(const StringKey& e) { return e.slot; }
  static bool SameKey(const Int64Set&, const std::pair<int64_t, uint32_t>& a,
                      const std::pair<int64_t, uint32_t>& b) {
    return a.first == b.first;
  }
  static bool SameKey(const DoubleSet&, const std::pair<double, uint32_t>& a,
                      const std::pair<double, uint32_t>& b) {
    if (std::isnan(a.first) || std::isnan(b.first)) {
      return std::isnan(a.first) && std::isnan(b.first);
    }
    return a.first == b.first;
  }
  // A walk's "same key as the previous entry" test: entries whose heads
  // tie are compared in full, and a string one keeps the key it read last
  // (the previous entry's, next time), so a run of tied heads reads the
  // column once per entry.
  template <typename Set>
  static auto SameKeyTest(const Set& set) {
    return [&set](const auto& a, const auto& b) { return SameKey(set, a, b); };
  }
  static auto SameKeyTest(const StringSet& set) {
    return [less = set.key_comp(), last_slot = UINT32_MAX, last = absl::string_view()](
               const StringKey& a, const StringKey& b) mutable {
      if (a.prefix != b.prefix || a.next != b.next) return false;
      const absl::string_view ka = a.slot == last_slot ? last : less.Key(a.slot);
      last_slot = b.slot;
      last = less.Key(b.slot);
      return ka == last;
    };
  }
  static bool SameKey(const StringSet& set, const StringKey& a, const StringKey& b) {
    return set.key_comp().SameKey(a, b);
  }

  ColumnId column_;
  Type type_;
  // Declared before keys_: a string set's comparator points at it.
  const StringStore* string_keys_ = nullptr;
  // String indexes: a prefix every key in the set starts with (empty when
  // the set is); entries hold the bytes after it.
  std::string string_common_;
  std::variant<Int64Set, DoubleSet, StringSet> keys_;
  absl::btree_set<uint32_t> nulls_;
};

// DebugString's groups: appends "key->[slots]" to `out` (after a space
// unless `out` is empty) and clears `slots`; nothing when `slots` is empty.
void AppendKeyGroup(std::string* out, absl::string_view key, std::vector<uint32_t>* slots);

// --- implementation of the templates ---

template <typename Set, typename Key, typename F>
bool OrderedIndex::WalkSet(const Set& set, const std::optional<Key>& lo, bool lo_inc,
                           const std::optional<Key>& hi, bool hi_inc, bool skip_nan, bool desc,
                           F& f) const {
  using Entry = typename Set::value_type;
  // [begin, end) of the range in set order.
  auto begin = set.begin();
  auto end = set.end();
  if (lo.has_value()) {
    // (key, 0) is the first entry with that key; (key, UINT32_MAX) the last.
    begin =
        lo_inc ? set.lower_bound(Bound(set, *lo, 0)) : set.upper_bound(Bound(set, *lo, UINT32_MAX));
  }
  if (hi.has_value()) {
    end =
        hi_inc ? set.upper_bound(Bound(set, *hi, UINT32_MAX)) : set.lower_bound(Bound(set, *hi, 0));
  } else if constexpr (std::is_same_v<Key, double>) {
    // NaN sorts last and matches no comparison.
    if (skip_nan) end = set.lower_bound(Bound(set, std::nan(""), 0));
  }
  if (lo.has_value() && hi.has_value()) {
    // An empty interval; (k, k) must be caught too, or begin would pass end.
    const auto& less = set.key_comp();
    const bool hi_below = less(Bound(set, *hi, 0), Bound(set, *lo, 0));
    const bool same = !hi_below && !less(Bound(set, *lo, 0), Bound(set, *hi, 0));
    if (hi_below || (same && !(lo_inc && hi_inc))) return true;
  }
  auto same = SameKeyTest(set);
  // Each entry is read through the iterator once (a top-N spends most of
  // its time here).
  if (!desc) {
    const Entry* prev = nullptr;
    for (auto it = begin; it != end; ++it) {
      const Entry& e = *it;
      if (!f(RowId(SlotOf(e)), prev == nullptr || !same(*prev, e))) return false;
      prev = &e;
    }
    return true;
  }
  if (begin == end) return true;
  auto it = end;
  const Entry* prev = nullptr;
  do {
    --it;
    const Entry& e = *it;
    if (!f(RowId(SlotOf(e)), prev == nullptr || !same(*prev, e))) return false;
    prev = &e;
  } while (it != begin);
  return true;
}

template <typename F>
void OrderedIndex::Walk(const OrderedRange& range, bool desc, bool with_nulls, F&& f) const {
  const bool nulls = with_nulls && !range.lo.has_value() && !range.hi.has_value();
  auto walk_nulls = [&]() {
    bool first = true;
    for (uint32_t slot : nulls_) {
      if (!f(RowId(slot), first)) return false;
      first = false;
    }
    return true;
  };
  if (!desc && nulls && !walk_nulls()) return;
  bool go_on = std::visit(
      [&](const auto& set) -> bool {
        using Set = std::decay_t<decltype(set)>;
        if constexpr (std::is_same_v<Set, Int64Set>) {
          auto to_key = [](const Value& v) {
            return v.is_bool() ? int64_t{v.AsBool() ? 1 : 0} : v.AsInt64();
          };
          std::optional<int64_t> lo, hi;
          if (range.lo) lo = to_key(*range.lo);
          if (range.hi) hi = to_key(*range.hi);
          return WalkSet(set, lo, range.lo_inclusive, hi, range.hi_inclusive, true, desc, f);
        } else if constexpr (std::is_same_v<Set, DoubleSet>) {
          std::optional<double> lo, hi;
          if (range.lo) lo = range.lo->AsNumber();
          if (range.hi) hi = range.hi->AsNumber();
          return WalkSet(set, lo, range.lo_inclusive, hi, range.hi_inclusive, !nulls, desc, f);
        } else {
          std::optional<absl::string_view> lo, hi;
          if (range.lo) lo = range.lo->AsString();
          if (range.hi) hi = range.hi->AsString();
          return WalkSet(set, lo, range.lo_inclusive, hi, range.hi_inclusive, true, desc, f);
        }
      },
      keys_);
  if (desc && nulls && go_on) {
    // Descending: NULLs last, ties (all NULL) still by slot, descending.
    bool first = true;
    for (auto it = nulls_.rbegin(); it != nulls_.rend(); ++it) {
      if (!f(RowId(*it), first)) return;
      first = false;
    }
  }
}

}  // namespace kin

#endif  // KIN_ENGINE_ORDERED_INDEX_H_
