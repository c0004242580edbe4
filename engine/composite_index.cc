#include "engine/composite_index.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/radix_sort.h"
#include "engine/table.h"

namespace kin {

namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

uint64_t EncodeInt64(int64_t v) { return static_cast<uint64_t>(v) ^ kSignBit; }

// Doubles as OrderedIndex orders them: -0 equal to 0, NaN after every
// number and all NaN equal.
uint64_t EncodeDouble(double d) {
  if (std::isnan(d)) return ~uint64_t{0};
  if (d == 0) d = 0;  // -0 -> +0
  const uint64_t bits = std::bit_cast<uint64_t>(d);
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}

// The first 8 bytes, big-endian, zero-padded: bytewise order on them.
uint64_t EncodeStringPrefix(std::string_view s) {
  uint64_t key = 0;
  const size_t n = std::min<size_t>(s.size(), 8);
  for (size_t i = 0; i < n; ++i) key |= uint64_t{static_cast<unsigned char>(s[i])} << (56 - 8 * i);
  return key;
}

int Sign(int c) { return c < 0 ? -1 : (c > 0 ? 1 : 0); }

}  // namespace

CompositeIndex::CompositeIndex(const Table* table, std::vector<ColumnId> columns)
    : table_(table), columns_(std::move(columns)) {
  for (ColumnId c : columns_) types_.push_back(table_->column(c).type);
  if (columns_.size() == 2) {
    entries_.emplace<Set<2>>(Less<2>{this});
  } else {
    entries_.emplace<Set<3>>(Less<3>{this});
  }
}

bool CompositeIndex::table_null(uint32_t slot, size_t i) const {
  return table_->IsNull(RowId(slot), columns_[i]);
}

uint64_t CompositeIndex::EncodeCell(size_t i, uint32_t slot) const {
  const ColumnId column = columns_[i];
  switch (types_[i]) {
    case Type::kInt64:
      return EncodeInt64(table_->Int64Column(column)[slot]);
    case Type::kBool:
      return table_->BoolColumn(column)[slot] != 0 ? 1 : 0;
    case Type::kDouble:
      return EncodeDouble(table_->DoubleColumn(column)[slot]);
    case Type::kString:
      return EncodeStringPrefix(table_->StringColumn(column)[slot]);
  }
  return 0;
}

uint64_t CompositeIndex::EncodeValue(size_t i, const Value& v) const {
  switch (types_[i]) {
    case Type::kInt64:
      return EncodeInt64(v.AsInt64());
    case Type::kBool:
      return v.AsBool() ? 1 : 0;
    case Type::kDouble:
      return EncodeDouble(v.AsNumber());
    case Type::kString:
      return EncodeStringPrefix(v.AsString());
  }
  return 0;
}

int CompositeIndex::CompareStrings(size_t i, uint32_t a, uint32_t b) const {
  const StringStore& col = table_->StringColumn(columns_[i]);
  return Sign(col[a].compare(col[b]));
}

int CompositeIndex::CompareStringTo(size_t i, uint32_t a, std::string_view s) const {
  return Sign(std::string_view(table_->StringColumn(columns_[i])[a]).compare(s));
}

Value CompositeIndex::Normalize(size_t i, const Value& v) const {
  if (types_[i] == Type::kDouble && v.is_int64()) return Value(v.AsNumber());
  return v;
}

CompositeIndex::Probe CompositeIndex::MakeProbe(std::span<const Value> prefix, const Value* next,
                                                bool after) const {
  Probe p;
  auto add = [&](const Value& v) {
    const size_t i = p.n++;
    if (v.is_null()) {
      p.nulls |= static_cast<uint8_t>(1u << i);
      return;
    }
    p.keys[i] = EncodeValue(i, v);
    if (types_[i] == Type::kString) p.strings[i] = v.AsString();
  };
  for (const Value& v : prefix) add(v);
  if (next != nullptr) add(*next);
  p.after = after;
  return p;
}

void CompositeIndex::Build() {
  std::visit(
      [&](auto& set) {
        using Set = std::decay_t<decltype(set)>;
        using E = typename Set::value_type;
        set.clear();
        std::vector<E> live;
        live.reserve(table_->size());
        for (uint32_t s = 0; s < table_->slot_count(); ++s) {
          if (table_->IsLive(RowId(s))) live.push_back(MakeEntryFor(set, s));
        }
        // Sorted entries appended at end() fill the btree left to right
        // without a search per entry. Without a string component an
        // entry's order is the tuple (NULL flag, key) per component, then
        // the slot: radix sorted by those words (the entries were built in
        // slot order and the sort is stable).
        const bool strings = std::find(types_.begin(), types_.end(), Type::kString) != types_.end();
        if (strings || live.size() < internal::kRadixMinEntries) {
          std::sort(live.begin(), live.end(),
                    [this](const E& a, const E& b) { return CompareEntries(a, b) < 0; });
        } else {
          constexpr size_t n = std::tuple_size_v<decltype(E::keys)>;
          // Word 2j is component n-1-j's key, word 2j+1 its flag (NULL
          // first): the last component is the least significant.
          std::vector<E> scratch;
          internal::RadixSort(
              &live, 2 * n,
              [](const E& e, size_t w) -> uint64_t {
                const size_t i = n - 1 - w / 2;
                if (w % 2 == 1) return ((e.nulls >> i) & 1) != 0 ? 0 : 1;
                return e.keys[i];
              },
              &scratch);
          // The btree would take misordered entries too (a wrong hint falls
          // back to a search), only slower: check the order in debug builds.
          assert(
              std::is_sorted(live.begin(), live.end(),
                             [this](const E& a, const E& b) { return CompareEntries(a, b) < 0; }) &&
              "CompositeIndex::Build: radix order differs from CompareEntries");
        }
        for (const E& e : live) set.insert(set.end(), e);
      },
      entries_);
}

size_t CompositeIndex::MemoryBytes() const {
  // As OrderedIndex's estimate: nodes about 3/4 full plus child pointers.
  return std::visit(
      [](const auto& set) {
        using E = typename std::decay_t<decltype(set)>::value_type;
        const size_t n = set.size();
        return n * sizeof(E) * 4 / 3 + n / 8 * sizeof(void*);
      },
      entries_);
}

std::string CompositeIndex::DebugString() const {
  std::string out;
  std::vector<uint32_t> group;
  std::string key;
  auto flush = [&]() { AppendKeyGroup(&out, key, &group); };
  std::visit(
      [&](const auto& set) {
        const auto* prev =
            static_cast<const typename std::decay_t<decltype(set)>::value_type*>(nullptr);
        for (const auto& e : set) {
          bool same = prev != nullptr;
          for (size_t i = 0; i < columns_.size() && same; ++i) {
            same = CompareComponent(i, *prev, e) == 0;
          }
          if (!same) {
            flush();
            key = absl::StrCat(
                "(",
                absl::StrJoin(columns_, ", ",
                              [&](std::string* o, ColumnId c) {
                                absl::StrAppend(o,
                                                table_->GetValue(RowId(e.slot), c).DebugString());
                              }),
                ")");
          }
          group.push_back(e.slot);
          prev = &e;
        }
      },
      entries_);
  flush();
  return out;
}

}  // namespace kin
