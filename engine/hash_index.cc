#include "engine/hash_index.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "absl/hash/hash.h"
#include "engine/heap_bytes.h"

namespace kin {

namespace {

// The widest key range a dense index may span for `keys` keys: the same
// bound FitsDense applies one key at a time.
uint64_t DenseSpan(size_t keys) { return 4 * static_cast<uint64_t>(keys) + 4096; }

}  // namespace

HashIndex::HashIndex(Type key_type, bool unique) : key_type_(key_type), unique_(unique) {
  assert((key_type == Type::kInt64 || key_type == Type::kString) &&
         "HashIndex: key type must be int64 or string");
  if (key_type == Type::kString) maps_.emplace<StringMaps>();
  dense_mode_ = key_type == Type::kInt64;
}

void HashIndex::BindKeys(const StringStore* keys) {
  if (auto* m = std::get_if<StringMaps>(&maps_)) m->keys = keys;
}

HashIndex::StringProbe HashIndex::Probe(absl::string_view key) const {
  return Probe(key, std::get<StringMaps>(maps_).keys);
}

HashIndex::StringProbe HashIndex::Probe(absl::string_view key, const StringStore* keys) const {
  assert(keys != nullptr && "HashIndex: string index used before BindKeys");
  return {static_cast<uint32_t>(absl::Hash<absl::string_view>{}(key)), key, keys};
}

void HashIndex::MakeSparse() {
  Int64Maps& m = std::get<Int64Maps>(maps_);
  if (unique_) {
    m.one.reserve(dense_count_);
    for (size_t k = 0; k < dense_.size(); ++k) {
      if (dense_[k].value != kAbsent) m.one.emplace(static_cast<int64_t>(k), dense_[k]);
    }
  } else {
    m.many.reserve(dense_count_);
    for (size_t k = 0; k < dense_many_.size(); ++k) {
      if (!dense_many_[k].empty()) {
        const RowList& rows = dense_many_[k];
        m.many.emplace(static_cast<int64_t>(k), std::vector<RowId>(rows.begin(), rows.end()));
      }
    }
  }
  std::vector<RowId>().swap(dense_);
  std::vector<RowList>().swap(dense_many_);
  dense_block_.Reset(0);
  dense_count_ = 0;
  dense_mode_ = false;
}

void HashIndex::DensifyIfCompact() {
  if (dense_mode_ || key_type_ != Type::kInt64) return;
  Int64Maps& m = std::get<Int64Maps>(maps_);
  const size_t keys = unique_ ? m.one.size() : m.many.size();
  if (keys == 0) {
    dense_mode_ = true;
    return;
  }
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  auto bounds = [&](const auto& map) {
    for (const auto& entry : map) {
      lo = std::min(lo, entry.first);
      hi = std::max(hi, entry.first);
    }
  };
  unique_ ? bounds(m.one) : bounds(m.many);
  if (lo < 0 || static_cast<uint64_t>(hi) >= DenseSpan(keys)) return;
  const size_t span = static_cast<size_t>(hi) + 1;
  if (unique_) {
    dense_.assign(span, RowId(kAbsent));
    for (const auto& [k, row] : m.one) dense_[static_cast<size_t>(k)] = row;
    m.one = {};
  } else {
    dense_many_.resize(span);
    for (auto& [k, rows] : m.many) dense_many_[static_cast<size_t>(k)] = RowList(rows);
    m.many = {};
  }
  dense_count_ = keys;
  dense_mode_ = true;
}

size_t HashIndex::num_keys() const {
  if (dense_mode_) return dense_count_;
  return std::visit([&](const auto& m) { return unique_ ? m.one.size() : m.many.size(); }, maps_);
}

std::span<const RowId> HashIndex::Find(int64_t key) const {
  if (dense_mode_) {
    if (key < 0) return {};
    size_t k = static_cast<size_t>(key);
    if (!unique_) {
      if (k >= dense_many_.size()) return {};
      return dense_many_[k];
    }
    if (k >= dense_.size() || dense_[k].value == kAbsent) return {};
    return std::span<const RowId>(&dense_[k], 1);
  }
  const auto* m = std::get_if<Int64Maps>(&maps_);
  if (m == nullptr) return {};
  if (unique_) {
    auto it = m->one.find(key);
    if (it == m->one.end()) return {};
    return std::span<const RowId>(&it->second, 1);
  }
  auto it = m->many.find(key);
  if (it == m->many.end()) return {};
  return it->second;
}

std::span<const RowId> HashIndex::Find(absl::string_view key) const {
  const auto* m = std::get_if<StringMaps>(&maps_);
  if (m == nullptr) return {};
  const StringProbe probe = Probe(key, m->keys);
  if (unique_) {
    auto it = m->one.find(probe);
    if (it == m->one.end()) return {};
    return std::span<const RowId>(&it->row, 1);
  }
  auto it = m->many.find(probe);
  if (it == m->many.end()) return {};
  return it->rows;
}

std::span<const RowId> HashIndex::Find(const Value& key) const {
  if (key.is_int64()) return Find(key.AsInt64());
  if (key.is_string()) return Find(absl::string_view(key.AsString()));
  return {};
}

namespace {

// Puts `row` at `position` of a key's list (a std::vector or a RowList;
// past the end: appends) and clears `ascending` if the list is no longer in
// ascending order.
template <typename List>
void InsertIntoList(List& rows, RowId row, uint32_t position, bool& ascending) {
  size_t at = std::min<size_t>(position, rows.size());
  if ((at > 0 && row < rows[at - 1]) || (at < rows.size() && rows[at] < row)) ascending = false;
  rows.insert(rows.begin() + at, row);
}

// Removes `row` from a key's list and returns the position it had.
template <typename List>
uint32_t RemoveFromList(List& rows, RowId row) {
  // Undo and re-parenting remove recent rows most often: search from the back.
  size_t index = rows.size();
  while (index > 0 && !(rows.begin()[index - 1] == row)) --index;
  assert(index > 0 && "HashIndex::Remove: row absent");
  --index;
  rows.erase(rows.begin() + index);
  return static_cast<uint32_t>(index);
}

template <typename M>
uint32_t RemoveFrom(M& maps, bool unique, int64_t key, RowId row) {
  if (unique) {
    maps.one.erase(key);
    return 0;
  }
  auto it = maps.many.find(key);
  assert(it != maps.many.end() && "HashIndex::Remove: key absent");
  uint32_t index = RemoveFromList(it->second, row);
  if (it->second.empty()) maps.many.erase(it);
  return index;
}

// `position` past the end appends.
template <typename M>
void InsertInto(M& maps, bool unique, int64_t key, RowId row, uint32_t position, bool& ascending) {
  if (unique) {
    maps.one.emplace(key, row);
    return;
  }
  std::vector<RowId>& rows = maps.many[key];
  assert((position == std::numeric_limits<uint32_t>::max() || position <= rows.size()) &&
         "HashIndex::InsertAt: position past the end");
  InsertIntoList(rows, row, position, ascending);
}

}  // namespace

void HashIndex::Add(const Value& key, RowId row) {
  InsertAt(key, row, std::numeric_limits<uint32_t>::max());
}

uint32_t HashIndex::Remove(const Value& key, RowId row) {
  if (dense_mode_) {
    size_t k = static_cast<size_t>(key.AsInt64());
    if (unique_) {
      dense_[k] = RowId(kAbsent);
      --dense_count_;
      return 0;
    }
    RowList& rows = dense_many_[k];
    uint32_t index = RemoveFromList(rows, row);
    if (rows.empty()) {
      // Frees the list, as the map mode frees an emptied key's entry.
      rows.Reset();
      --dense_count_;
    }
    return index;
  }
  if (key.is_int64()) return RemoveFrom(std::get<Int64Maps>(maps_), unique_, key.AsInt64(), row);
  StringMaps& m = std::get<StringMaps>(maps_);
  // The row still holds the key: the probe finds its entry by the cell.
  const StringProbe probe = Probe(key.AsString(), m.keys);
  if (unique_) {
    auto it = m.one.find(probe);
    assert(it != m.one.end() && it->row == row && "HashIndex::Remove: key absent");
    if (it != m.one.end()) m.one.erase(it);
    return 0;
  }
  auto it = m.many.find(probe);
  assert(it != m.many.end() && "HashIndex::Remove: key absent");
  uint32_t index = RemoveFromList(it->rows, row);
  // The next row holds the same key: the group's key does not change.
  if (it->rows.empty()) m.many.erase(it);
  return index;
}

// Add is InsertAt past the end: one code path for both, so the dense and
// hashed modes cannot drift apart.
void HashIndex::InsertAt(const Value& key, RowId row, uint32_t position) {
  if (dense_mode_ && !FitsDense(key.AsInt64())) MakeSparse();
  if (dense_mode_) {
    size_t k = static_cast<size_t>(key.AsInt64());
    if (unique_) {
      if (k >= dense_.size()) {
        GrowLarge(dense_, k + 1, HugePages::kNo);
        dense_.resize(k + 1, RowId(kAbsent));
      }
      assert(dense_[k].value == kAbsent && "HashIndex::Add: duplicate key");
      dense_[k] = row;
      ++dense_count_;
      return;
    }
    if (k >= dense_many_.size()) dense_many_.resize(k + 1);
    RowList& rows = dense_many_[k];
    if (rows.empty()) ++dense_count_;
    assert((position == std::numeric_limits<uint32_t>::max() || position <= rows.size()) &&
           "HashIndex::InsertAt: position past the end");
    InsertIntoList(rows, row, position, rows_ascending_);
    return;
  }
  if (key.is_int64()) {
    InsertInto(std::get<Int64Maps>(maps_), unique_, key.AsInt64(), row, position, rows_ascending_);
    return;
  }
  StringMaps& m = std::get<StringMaps>(maps_);
  const StringProbe probe = Probe(key.AsString(), m.keys);
  if (unique_) {
    [[maybe_unused]] const size_t before = m.one.size();
    m.one.lazy_emplace(probe, [&](const auto& ctor) { ctor(StringEntry{probe.hash, row}); });
    assert(m.one.size() == before + 1 && "HashIndex::Add: duplicate key");
    return;
  }
  auto it = m.many.lazy_emplace(probe, [&](const auto& ctor) {
    ctor(StringGroup{probe.hash, std::vector<RowId>()});
  });
  assert((position == std::numeric_limits<uint32_t>::max() || position <= it->rows.size()) &&
         "HashIndex::InsertAt: position past the end");
  // Inserting at the front makes `row` the group's key row: it holds the
  // same key, so the entry's hash and equality are unchanged.
  InsertIntoList(it->rows, row, position, rows_ascending_);
}

namespace {

// Groups rows by key (one probe per row into a small key → group map), then
// sizes every list exactly and fills it, so no list ever reallocates. Calls
// reserve(number of keys), then add(key, list) once per key, in no
// particular order.
template <typename View, typename Keys, typename Reserve, typename Add>
void BuildGroups(const Keys& keys, std::span<const uint32_t> rows, Reserve&& reserve, Add&& add) {
  absl::flat_hash_map<View, uint32_t> group_of_key;
  std::vector<uint32_t> group_of_row(rows.size());
  std::vector<uint32_t> sizes;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto [it, inserted] =
        group_of_key.try_emplace(View(keys[rows[i]]), static_cast<uint32_t>(sizes.size()));
    if (inserted) sizes.push_back(0);
    ++sizes[it->second];
    group_of_row[i] = it->second;
  }
  std::vector<std::vector<RowId>> lists(sizes.size());
  for (size_t g = 0; g < sizes.size(); ++g) lists[g].reserve(sizes[g]);
  for (size_t i = 0; i < rows.size(); ++i) lists[group_of_row[i]].push_back(RowId(rows[i]));
  reserve(group_of_key.size());
  for (const auto& [key, g] : group_of_key) add(key, std::move(lists[g]));
}

}  // namespace

// The hashed-mode bulk build of an int64 index.
std::optional<RowId> HashIndex::BuildSparse(std::span<const int64_t> keys,
                                            std::span<const uint32_t> rows) {
  Int64Maps& m = std::get<Int64Maps>(maps_);
  if (unique_) {
    m.one.reserve(rows.size());
    for (uint32_t r : rows) {
      if (!m.one.try_emplace(keys[r], RowId(r)).second) return RowId(r);
    }
    return std::nullopt;
  }
  BuildGroups<int64_t>(
      keys, rows, [&](size_t n) { m.many.reserve(n); },
      [&](int64_t key, std::vector<RowId> list) { m.many.emplace(key, std::move(list)); });
  return std::nullopt;
}

std::optional<RowId> HashIndex::BuildStrings(const StringStore& keys,
                                             std::span<const uint32_t> rows) {
  StringMaps& m = std::get<StringMaps>(maps_);
  m.keys = &keys;
  auto view = [&](uint32_t r) {
    std::string_view k = keys[r];
    return absl::string_view(k.data(), k.size());
  };
  if (unique_) {
    m.one.reserve(rows.size());
    for (uint32_t r : rows) {
      const StringProbe probe = Probe(view(r), &keys);
      bool inserted = false;
      m.one.lazy_emplace(probe, [&](const auto& ctor) {
        ctor(StringEntry{probe.hash, RowId(r)});
        inserted = true;
      });
      if (!inserted) return RowId(r);
    }
    return std::nullopt;
  }
  struct Views {
    decltype(view)& v;
    absl::string_view operator[](uint32_t r) const { return v(r); }
  };
  BuildGroups<absl::string_view>(
      Views{view}, rows, [&](size_t n) { m.many.reserve(n); },
      [&](absl::string_view key, std::vector<RowId> list) {
        const StringProbe probe = Probe(key, &keys);
        m.many.lazy_emplace(probe, [&](const auto& ctor) {
          ctor(StringGroup{probe.hash, std::move(list)});
        });
      });
  return std::nullopt;
}

std::optional<RowId> HashIndex::Build(std::span<const int64_t> keys,
                                      std::span<const uint32_t> rows) {
  assert(key_type_ == Type::kInt64 && "HashIndex::Build: int64 keys for a string index");
  Clear();
  rows_ascending_ = std::is_sorted(rows.begin(), rows.end());
  if (rows.empty()) return std::nullopt;
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  for (uint32_t r : rows) {
    lo = std::min(lo, keys[r]);
    hi = std::max(hi, keys[r]);
  }
  // There are at most rows.size() keys: beyond that span the index cannot
  // be dense, and nothing indexed by key is allocated for a hostile range.
  if (lo >= 0 && static_cast<uint64_t>(hi) < DenseSpan(rows.size())) {
    size_t span = static_cast<size_t>(hi) + 1;
    if (unique_) {
      ReserveLarge(dense_, span, HugePages::kYes);
      dense_.assign(span, RowId(kAbsent));
      for (uint32_t r : rows) {
        RowId& slot = dense_[static_cast<size_t>(keys[r])];
        if (slot.value != kAbsent) return RowId(r);
        slot = RowId(r);
      }
      dense_count_ = rows.size();
      return std::nullopt;
    }
    std::vector<uint32_t> sizes(span, 0);
    for (uint32_t r : rows) ++sizes[static_cast<size_t>(keys[r])];
    size_t distinct = static_cast<size_t>(
        std::count_if(sizes.begin(), sizes.end(), [](uint32_t n) { return n != 0; }));
    if (static_cast<uint64_t>(hi) < DenseSpan(distinct)) {
      // Every list a slice of one block, at its final size, then filled
      // through a cursor per key: 8 bytes a key to touch in the hot loop
      // instead of a list's 16.
      RowId* next = dense_block_.Reset(rows.size());
      dense_many_.resize(span);
      std::vector<RowId*> cursor(span, nullptr);
      for (size_t k = 0; k < span; ++k) {
        if (sizes[k] == 0) continue;
        dense_many_[k] = RowList::Borrow(next, sizes[k]);
        cursor[k] = next;
        next += sizes[k];
      }
      for (uint32_t r : rows) *cursor[static_cast<size_t>(keys[r])]++ = RowId(r);
      dense_count_ = distinct;
      return std::nullopt;
    }
  }
  dense_mode_ = false;
  return BuildSparse(keys, rows);
}

std::optional<RowId> HashIndex::Build(const StringStore& keys, std::span<const uint32_t> rows) {
  assert(key_type_ == Type::kString && "HashIndex::Build: string keys for an int64 index");
  Clear();
  rows_ascending_ = std::is_sorted(rows.begin(), rows.end());
  return BuildStrings(keys, rows);
}

void HashIndex::Clear() {
  std::vector<RowId>().swap(dense_);
  std::vector<RowList>().swap(dense_many_);
  dense_block_.Reset(0);
  dense_count_ = 0;
  dense_mode_ = key_type_ == Type::kInt64;
  rows_ascending_ = true;
  std::visit(
      [](auto& m) {
        m.one.clear();
        m.many.clear();
      },
      maps_);
}

void HashIndex::Reserve(size_t keys) {
  if (dense_mode_) return;  // sized by the keys themselves
  std::visit([&](auto& m) { unique_ ? m.one.reserve(keys) : m.many.reserve(keys); }, maps_);
}

size_t HashIndex::MemoryBytes() const {
  size_t bytes = dense_.capacity() * sizeof(RowId) + dense_many_.capacity() * sizeof(RowList) +
                 HeapBlockBytes(dense_block_.size() * sizeof(RowId));
  for (const RowList& rows : dense_many_) {
    bytes += HeapBlockBytes(rows.owned_capacity() * sizeof(RowId));
  }
  // A flat table's slots plus one control byte each; the row lists' blocks.
  auto tables = [&](const auto& one, const auto& many) {
    bytes += one.capacity() * (sizeof(typename std::decay_t<decltype(one)>::value_type) + 1) +
             many.capacity() * (sizeof(typename std::decay_t<decltype(many)>::value_type) + 1);
  };
  if (const auto* m = std::get_if<Int64Maps>(&maps_)) {
    tables(m->one, m->many);
    for (const auto& [k, rows] : m->many) bytes += HeapBlockBytes(rows.capacity() * sizeof(RowId));
  } else {
    const StringMaps& s = std::get<StringMaps>(maps_);
    tables(s.one, s.many);
    for (const StringGroup& g : s.many) bytes += HeapBlockBytes(g.rows.capacity() * sizeof(RowId));
  }
  return bytes;
}

}  // namespace kin
