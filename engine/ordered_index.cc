#include "engine/ordered_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/heap_bytes.h"
#include "engine/radix_sort.h"
#include "engine/table.h"

namespace kin {

namespace {

// Bytes a btree node spends per entry beyond the entry itself (the node
// header and unused slots of a node about 3/4 full, as bulk appends and
// random inserts leave them): an estimate for MemoryBytes.
template <typename Entry>
size_t BtreeBytes(size_t n) {
  return n * sizeof(Entry) * 4 / 3 + n / 8 * sizeof(void*);
}

}  // namespace

void AppendKeyGroup(std::string* out, absl::string_view key, std::vector<uint32_t>* slots) {
  if (slots->empty()) return;
  absl::StrAppend(out, out->empty() ? "" : " ", key, "->[", absl::StrJoin(*slots, ","), "]");
  slots->clear();
}

OrderedIndex::OrderedIndex(ColumnId column, Type type) : column_(column), type_(type) {
  switch (type) {
    case Type::kInt64:
    case Type::kBool:
      keys_ = Int64Set();
      break;
    case Type::kDouble:
      keys_ = DoubleSet();
      break;
    case Type::kString:
      keys_.emplace<StringSet>(StringLess(&string_keys_));
      break;
  }
}

OrderedIndex::OrderedIndex(const OrderedIndex& other)
    : column_(other.column_),
      type_(other.type_),
      string_keys_(other.string_keys_),
      string_common_(other.string_common_),
      nulls_(other.nulls_) {
  if (const auto* set = std::get_if<StringSet>(&other.keys_)) {
    // Not a copy of the set: its comparator would point at other's binding.
    StringSet& copy = keys_.emplace<StringSet>(StringLess(&string_keys_));
    for (const StringKey& e : *set) copy.insert(copy.end(), e);
  } else {
    keys_ = other.keys_;
  }
}

OrderedIndex::StringHead OrderedIndex::Head(std::string_view key) {
  unsigned char bytes[12] = {};
  std::memcpy(bytes, key.data(), std::min<size_t>(key.size(), 12));
  uint64_t prefix = 0;
  for (int i = 0; i < 8; ++i) prefix = prefix << 8 | bytes[i];
  uint32_t next = 0;
  for (int i = 8; i < 12; ++i) next = next << 8 | bytes[i];
  return {prefix, next};
}

// Heads order keys by their first 12 bytes as bytewise comparison does (a
// shorter key's zero padding sorts first); only equal heads need the keys
// themselves, and keys like "ab" and "ab\0" share one.
namespace {

template <typename A, typename B>
int CompareHeads(const A& a, const B& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix ? -1 : 1;
  if (a.next != b.next) return a.next < b.next ? -1 : 1;
  return 0;
}

}  // namespace

bool OrderedIndex::StringLess::operator()(const StringKey& a, const StringKey& b) const {
  if (int h = CompareHeads(a, b); h != 0) return h < 0;
  if (a.slot == b.slot) return false;
  const int c = Key(a.slot).compare(Key(b.slot));
  return c != 0 ? c < 0 : a.slot < b.slot;
}

bool OrderedIndex::StringLess::operator()(const StringKey& a, const StringProbe& b) const {
  if (b.side != 0) return b.side > 0;
  if (int h = CompareHeads(a, b); h != 0) return h < 0;
  const int c = Key(a.slot).compare(b.key);
  return c != 0 ? c < 0 : a.slot < b.slot;
}

bool OrderedIndex::StringLess::operator()(const StringProbe& a, const StringKey& b) const {
  if (a.side != 0) return a.side < 0;
  if (int h = CompareHeads(a, b); h != 0) return h < 0;
  const int c = a.key.compare(Key(b.slot));
  return c != 0 ? c < 0 : a.slot < b.slot;
}

bool OrderedIndex::StringLess::operator()(const StringProbe& a, const StringProbe& b) const {
  const int c = a.key.compare(b.key);
  return c != 0 ? c < 0 : a.slot < b.slot;
}

bool OrderedIndex::StringLess::SameKey(const StringKey& a, const StringKey& b) const {
  return CompareHeads(a, b) == 0 && (a.slot == b.slot || Key(a.slot) == Key(b.slot));
}

namespace {

// The length of the longest common prefix of a and b.
size_t CommonPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

}  // namespace

OrderedIndex::StringProbe OrderedIndex::Bound(const StringSet&, absl::string_view key,
                                              uint32_t slot) const {
  const std::string_view k(key.data(), key.size());
  const std::string_view common = string_common_;
  const size_t shared = CommonPrefix(k, common);
  if (shared < common.size()) {
    // Every key starts with `common`: one that leaves it with a smaller
    // byte, or ends inside it, sorts before them all.
    const bool before = shared == k.size() || static_cast<unsigned char>(k[shared]) <
                                                  static_cast<unsigned char>(common[shared]);
    return {0, 0, key, slot, before ? -1 : 1};
  }
  const StringHead head = HeadOf(k);
  return {head.prefix, head.next, key, slot, 0};
}

void OrderedIndex::ShortenCommon(size_t n, const StringStore& keys) {
  StringSet& set = std::get<StringSet>(keys_);
  std::vector<StringKey> entries(set.begin(), set.end());
  string_common_.resize(n);
  for (StringKey& e : entries) {
    const StringHead head = HeadOf(keys[e.slot]);
    e.prefix = head.prefix;
    e.next = head.next;
  }
  set.clear();
  for (const StringKey& e : entries) set.insert(set.end(), e);
}

size_t OrderedIndex::size() const {
  return nulls_.size() + std::visit([](const auto& set) { return set.size(); }, keys_);
}

size_t OrderedIndex::nan_count() const {
  const DoubleSet* set = std::get_if<DoubleSet>(&keys_);
  if (set == nullptr || set->empty() || !std::isnan(set->rbegin()->first)) return 0;
  size_t n = 0;
  for (auto it = set->lower_bound({std::nan(""), 0}); it != set->end(); ++it) ++n;
  return n;
}

void OrderedIndex::Insert(const Table& table, RowId id) {
  if (table.IsNull(id, column_)) {
    nulls_.insert(id.value);
    return;
  }
  switch (type_) {
    case Type::kInt64:
      std::get<Int64Set>(keys_).insert({table.Int64Column(column_)[id.value], id.value});
      break;
    case Type::kBool:
      std::get<Int64Set>(keys_).insert({table.BoolColumn(column_)[id.value] != 0, id.value});
      break;
    case Type::kDouble:
      std::get<DoubleSet>(keys_).insert({table.DoubleColumn(column_)[id.value], id.value});
      break;
    case Type::kString: {
      const StringStore& col = table.StringColumn(column_);
      string_keys_ = &col;
      const std::string_view key = col[id.value];
      StringSet& set = std::get<StringSet>(keys_);
      if (set.empty()) {
        string_common_ = key;
      } else if (const size_t shared = CommonPrefix(key, string_common_);
                 shared < string_common_.size()) {
        ShortenCommon(shared, col);
      }
      const StringHead head = HeadOf(key);
      set.insert({head.prefix, head.next, id.value});
      break;
    }
  }
}

void OrderedIndex::Erase(const Table& table, RowId id) {
  if (table.IsNull(id, column_)) {
    nulls_.erase(id.value);
    return;
  }
  switch (type_) {
    case Type::kInt64:
      std::get<Int64Set>(keys_).erase({table.Int64Column(column_)[id.value], id.value});
      break;
    case Type::kBool:
      std::get<Int64Set>(keys_).erase({table.BoolColumn(column_)[id.value] != 0, id.value});
      break;
    case Type::kDouble:
      std::get<DoubleSet>(keys_).erase({table.DoubleColumn(column_)[id.value], id.value});
      break;
    case Type::kString: {
      // The cell still holds the key the entry was filed under.
      const StringStore& col = table.StringColumn(column_);
      string_keys_ = &col;
      const StringHead head = HeadOf(col[id.value]);
      std::get<StringSet>(keys_).erase({head.prefix, head.next, id.value});
      break;
    }
  }
}

void OrderedIndex::Clear() {
  nulls_.clear();
  std::visit([](auto& set) { set.clear(); }, keys_);
  string_common_.clear();
}

namespace {

// Unsigned forms that order as the index's key_comp orders the keys: int64
// with its sign bit flipped; doubles as DoubleLess (-0 equal to 0, every
// NaN equal and after every number).
uint64_t OrderedBits(int64_t v) { return static_cast<uint64_t>(v) ^ (uint64_t{1} << 63); }
uint64_t OrderedBits(double v) {
  if (std::isnan(v)) return ~uint64_t{0};
  if (v == 0) v = 0.0;
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

}  // namespace

void OrderedIndex::Build(const Table& table) {
  Clear();
  std::vector<uint32_t> slots;
  slots.reserve(table.size());
  for (uint32_t s = 0; s < table.slot_count(); ++s) {
    if (!table.IsLive(RowId(s))) continue;
    if (table.IsNull(RowId(s), column_)) {
      nulls_.insert(nulls_.end(), s);  // ascending: appended with a hint
    } else {
      slots.push_back(s);
    }
  }
  // Sorting (key, slot) entries and appending them at end() fills the
  // btree left to right without a search per entry. Keys are radix sorted
  // by an order-preserving 64-bit form (strings by head): the entries are
  // built in slot order and the sort is stable, so ties stay ordered by
  // slot, as key_comp() orders them.
  auto fill = [&](auto& set, auto key_of) {
    using Entry = typename std::decay_t<decltype(set)>::value_type;
    std::vector<Entry> entries;
    entries.reserve(slots.size());
    for (uint32_t s : slots) entries.emplace_back(key_of(s), s);
    if (entries.size() < internal::kRadixMinEntries) {
      std::sort(entries.begin(), entries.end(), set.key_comp());
    } else {
      std::vector<Entry> scratch;
      internal::RadixSort(
          &entries, 1, [](const Entry& e, size_t) { return OrderedBits(e.first); }, &scratch);
      // The btree would take misordered entries too (a wrong hint falls
      // back to a search), only slower: check the order where it is cheap.
      assert(std::is_sorted(entries.begin(), entries.end(), set.key_comp()) &&
             "OrderedIndex::Build: radix order differs from key_comp");
    }
    for (Entry& e : entries) set.insert(set.end(), std::move(e));
  };
  switch (type_) {
    case Type::kInt64: {
      std::span<const int64_t> col = table.Int64Column(column_);
      fill(std::get<Int64Set>(keys_), [&](uint32_t s) { return col[s]; });
      break;
    }
    case Type::kBool: {
      std::span<const uint8_t> col = table.BoolColumn(column_);
      fill(std::get<Int64Set>(keys_), [&](uint32_t s) { return int64_t{col[s] != 0}; });
      break;
    }
    case Type::kDouble: {
      std::span<const double> col = table.DoubleColumn(column_);
      fill(std::get<DoubleSet>(keys_), [&](uint32_t s) { return col[s]; });
      break;
    }
    case Type::kString: {
      const StringStore& col = table.StringColumn(column_);
      string_keys_ = &col;
      StringSet& set = std::get<StringSet>(keys_);
      std::vector<StringKey> entries;
      entries.reserve(slots.size());
      string_common_.clear();
      if (!slots.empty()) {
        std::string_view common = col[slots[0]];
        for (uint32_t s : slots) common = common.substr(0, CommonPrefix(common, col[s]));
        string_common_ = common;
      }
      for (uint32_t s : slots) {
        const StringHead head = HeadOf(col[s]);
        entries.push_back({head.prefix, head.next, s});
      }
      // A stable radix sort by head (slots stay ascending within a head),
      // then each run of a shared head sorted in full.
      if (entries.size() < internal::kRadixMinEntries) {
        std::sort(entries.begin(), entries.end(), set.key_comp());
      } else {
        std::vector<StringKey> scratch;
        internal::RadixSort(
            &entries, 2,
            [](const StringKey& e, size_t word) { return word == 0 ? uint64_t{e.next} : e.prefix; },
            &scratch);
        for (size_t i = 0; i < entries.size();) {
          size_t j = i + 1;
          while (j < entries.size() && CompareHeads(entries[j], entries[i]) == 0) ++j;
          if (j - i > 1) std::sort(entries.begin() + i, entries.begin() + j, set.key_comp());
          i = j;
        }
      }
      for (const StringKey& e : entries) set.insert(set.end(), e);
      break;
    }
  }
}

size_t OrderedIndex::MemoryBytes() const {
  size_t bytes = BtreeBytes<uint32_t>(nulls_.size());
  bytes += std::visit(
      [](const auto& set) {
        using Entry = typename std::decay_t<decltype(set)>::value_type;
        return BtreeBytes<Entry>(set.size());
      },
      keys_);
  return bytes;
}

std::string OrderedIndex::DebugString() const {
  std::string out;
  std::vector<uint32_t> group;
  std::string key;
  auto flush = [&]() { AppendKeyGroup(&out, key, &group); };
  if (!nulls_.empty()) {
    key = "NULL";
    group.assign(nulls_.begin(), nulls_.end());
    flush();
  }
  std::visit(
      [&](const auto& set) {
        using Entry = typename std::decay_t<decltype(set)>::value_type;
        const Entry* prev = nullptr;
        for (const Entry& e : set) {
          if (prev == nullptr || !SameKey(set, *prev, e)) {
            flush();
            if constexpr (std::is_same_v<Entry, std::pair<int64_t, uint32_t>>) {
              key = type_ == Type::kBool ? Value(e.first != 0).DebugString()
                                         : Value(e.first).DebugString();
            } else if constexpr (std::is_same_v<Entry, StringKey>) {
              key = Value(set.key_comp().Key(e.slot)).DebugString();
            } else {
              key = Value(e.first).DebugString();
            }
          }
          group.push_back(SlotOf(e));
          prev = &e;
        }
      },
      keys_);
  flush();
  return out;
}

}  // namespace kin
