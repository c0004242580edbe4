// HashIndex: key → rows, on one int64 or string column.
//
// A unique index (primary key, Unique()) maps a key to one row; a secondary
// index (Indexed(), foreign keys) maps a key to its rows in insertion order,
// which is the order relations return children in. NULL is never indexed.
// Built on absl::flat_hash_map / flat_hash_set.
//
// String keys are not copied: an entry names a row whose cell (in the
// column's StringStore, bound by BindKeys) holds the key, and keeps the
// key's 32-bit hash so that growing the table never reads the column. A
// unique entry is 8 bytes; a secondary one is a hash and its row list, the
// key being the cell of the list's first row. A copied std::string key was
// 32 bytes plus a heap block for keys over 15 bytes. The price is one read
// of the column per lookup that finds a candidate, and a rule the table
// keeps: an indexed row's cell holds its key while the row is listed
// (Remove before the cell changes, Add after).
//
// An int64 index starts dense: a vector indexed by key (4 bytes a key for a
// unique index, a row list for a secondary one), as long as keys stay
// non-negative and compact (auto-increment ids and the foreign keys that
// point at them are). The first key that would make it sparse
// (>= 4 * keys + 4096) converts it to a hash map for good; Clear() and
// Build() start over. Lookups, per-key order and positions answer the same
// either way.

#ifndef KIN_ENGINE_HASH_INDEX_H_
#define KIN_ENGINE_HASH_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "engine/large_buffer.h"
#include "engine/row_list.h"
#include "engine/string_store.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class HashIndex {
 public:
  // REQUIRES: key_type is kInt64 or kString.
  HashIndex(Type key_type, bool unique);

  // String indexes only: the column whose cells hold the keys, at its
  // current address. The table binds it when the index is made and again
  // whenever its columns may have moved (Table::BindIndexKeys); Build binds
  // the store it is given. REQUIRES: bound before any other call on a
  // string index, and not moved until rebound.
  void BindKeys(const StringStore* keys);

  Type key_type() const { return key_type_; }
  bool unique() const { return unique_; }
  size_t num_keys() const;

  // Rows with this key, in insertion order (at most one for a unique index).
  // Valid until the next write to the table.
  std::span<const RowId> Find(int64_t key) const;
  std::span<const RowId> Find(absl::string_view key) const;
  // REQUIRES: key is non-NULL and of key_type() (int64 for kInt64).
  std::span<const RowId> Find(const Value& key) const;

  // Appends `row` to the key's list. REQUIRES: for a unique index the key is
  // absent (callers check first, so a failed insert changes nothing).
  void Add(const Value& key, RowId row);
  // Removes `row` from the key's list and returns the position it had.
  // REQUIRES: present.
  uint32_t Remove(const Value& key, RowId row);
  // Puts `row` back at `position` (the undo of Remove).
  void InsertAt(const Value& key, RowId row, uint32_t position);

  // Calls f(const Value& key, std::span<const RowId> rows) for every key in
  // ascending key order (for dumps and consistency checks; O(n log n)).
  template <typename F>
  void ForEachSorted(F&& f) const;
  // Calls f(key, std::span<const RowId> rows) for every key in no
  // particular order: O(keys) with no sort and no probe, for scans that want
  // every key's rows (per-key counts). `key` is an int64_t for an int64
  // index and an absl::string_view (into the column) for a string one.
  template <typename F>
  void ForEachKey(F&& f) const;
  // out[i] = Find(*key_at(i)).size() for every i < n, 0 where key_at(i)
  // (a std::optional<int64_t>) is nullopt: many rows' counts in one inlined
  // loop, an array read each while the index is dense, where Find is a call
  // and a span per row. REQUIRES: an int64 index.
  template <typename KeyAt>
  void CountEach(size_t n, KeyAt&& key_at, int64_t* out) const;

  // Bulk load: the same index as Clear() followed by Add(keys[r], RowId(r))
  // for every r of `rows` in that order (so each key lists its rows in the
  // order of `rows`), in a few passes over the keys instead of one probe
  // and one growing list per row. A string index binds `keys` (see
  // BindKeys). For a unique index, returns the first row
  // whose key an earlier row already has (the contents are then
  // unspecified: Clear() or rebuild); nullopt otherwise.
  // REQUIRES: key_type() matches the overload, r < keys.size() for every r.
  [[nodiscard]] std::optional<RowId> Build(std::span<const int64_t> keys,
                                           std::span<const uint32_t> rows);
  [[nodiscard]] std::optional<RowId> Build(const StringStore& keys, std::span<const uint32_t> rows);
  // The index would keep reading a temporary store.
  std::optional<RowId> Build(StringStore&& keys, std::span<const uint32_t> rows) = delete;

  // True when every key's rows are in ascending RowId (slot) order, as
  // indexing a table slot by slot leaves them; false once an Add or InsertAt
  // put a row after a larger one. Conservative: removals that restore the
  // order do not set it back. O(1), for snapshots (slot order needs no
  // stored per-key order).
  bool rows_ascending() const { return rows_ascending_; }

  // Whether the index is in dense mode (int64 keys only): for tests and
  // memory accounting, the answers are the same either way.
  bool dense() const { return dense_mode_; }
  // Converts a hashed int64 index to dense when its keys fit the bound
  // Build applies (what a bulk build of the same rows would choose); no-op
  // otherwise. Bulk paths call it last, since a key that arrived early and
  // large may have made the index sparse although the final key set is
  // compact. Per-key row order is kept. O(keys + rows) when it converts.
  void DensifyIfCompact();

  void Clear();
  void Reserve(size_t keys);
  size_t MemoryBytes() const;

 private:
  static constexpr uint32_t kAbsent = 0xffffffffu;
  bool FitsDense(int64_t key) const {
    return key >= 0 && key < 4 * static_cast<int64_t>(dense_count_) + 4096;
  }
  void MakeSparse();
  std::optional<RowId> BuildSparse(std::span<const int64_t> keys, std::span<const uint32_t> rows);

  struct Int64Maps {
    absl::flat_hash_map<int64_t, RowId> one;
    absl::flat_hash_map<int64_t, std::vector<RowId>> many;
  };
  // String mode (see the file comment). `rows` is mutable so that a
  // removal can edit a list in place: the group's key (the cell its first
  // row holds) and hash do not change while it has rows.
  struct StringEntry {
    uint32_t hash;
    RowId row;
  };
  struct StringGroup {
    uint32_t hash;
    mutable std::vector<RowId> rows;
  };
  // A lookup: the key, its hash, and the column that holds stored keys.
  struct StringProbe {
    uint32_t hash;
    absl::string_view key;
    const StringStore* keys;
  };
  struct StringHash {
    using is_transparent = void;
    // The stored 32 bits spread over 64 (the multiplier is odd, so no two
    // hashes meet): the table takes its control bits from the low 7 and
    // its position from the rest.
    static size_t Spread(uint32_t h) { return h * uint64_t{0x9E3779B97F4A7C15}; }
    size_t operator()(const StringEntry& e) const { return Spread(e.hash); }
    size_t operator()(const StringGroup& g) const { return Spread(g.hash); }
    size_t operator()(const StringProbe& p) const { return Spread(p.hash); }
  };
  // A probe against a stored entry reads the entry's key from the column.
  // Every insert goes through lazy_emplace with a probe, so two stored
  // entries are never compared by the table; when they are (the container
  // requires it to be possible), no two entries of one index share a key,
  // so entries have equal keys exactly when they are the same entry.
  struct StringEq {
    using is_transparent = void;
    bool operator()(const StringEntry& a, const StringEntry& b) const {
      return a.hash == b.hash && a.row == b.row;
    }
    bool operator()(const StringGroup& a, const StringGroup& b) const {
      return a.hash == b.hash && a.rows.front() == b.rows.front();
    }
    static bool Same(const StringProbe& p, uint32_t hash, RowId row) {
      if (p.hash != hash) return false;
      std::string_view k = (*p.keys)[row.value];
      return absl::string_view(k.data(), k.size()) == p.key;
    }
    bool operator()(const StringProbe& p, const StringEntry& e) const {
      return Same(p, e.hash, e.row);
    }
    bool operator()(const StringEntry& e, const StringProbe& p) const {
      return Same(p, e.hash, e.row);
    }
    bool operator()(const StringProbe& p, const StringGroup& g) const {
      return Same(p, g.hash, g.rows.front());
    }
    bool operator()(const StringGroup& g, const StringProbe& p) const {
      return Same(p, g.hash, g.rows.front());
    }
  };
  struct StringMaps {
    absl::flat_hash_set<StringEntry, StringHash, StringEq> one;
    absl::flat_hash_set<StringGroup, StringHash, StringEq> many;
    const StringStore* keys = nullptr;
  };
  StringProbe Probe(absl::string_view key) const;
  StringProbe Probe(absl::string_view key, const StringStore* keys) const;
  std::optional<RowId> BuildStrings(const StringStore& keys, std::span<const uint32_t> rows);

  Type key_type_;
  bool unique_;
  std::variant<Int64Maps, StringMaps> maps_;
  // Dense mode (int64 only). Unique: dense_[key] is the row, or kAbsent.
  // Secondary: dense_many_[key] lists the key's rows (empty: absent),
  // borrowing from dense_block_ after a bulk build (see RowList).
  // dense_count_ counts the keys present.
  bool dense_mode_ = false;
  std::vector<RowId> dense_;
  std::vector<RowList> dense_many_;
  // The bulk build's rows (allocated, not value-initialized: the build
  // writes each once). A copy of the index does not share them: its lists
  // are copies that own their rows.
  class Block {
   public:
    Block() = default;
    Block(const Block&) {}
    Block& operator=(const Block&) {
      Reset(0);
      return *this;
    }
    Block(Block&& other) noexcept
        : rows_(std::exchange(other.rows_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    Block& operator=(Block&& other) noexcept {
      if (this != &other) {
        Reset(0);
        rows_ = std::exchange(other.rows_, nullptr);
        size_ = std::exchange(other.size_, 0);
      }
      return *this;
    }
    ~Block() { Reset(0); }
    // Frees the rows and allocates room for `n`.
    RowId* Reset(size_t n) {
      if (rows_ != nullptr) std::allocator<RowId>().deallocate(rows_, size_);
      rows_ = n == 0 ? nullptr : std::allocator<RowId>().allocate(n);
      size_ = n;
      AdviseHugePages(rows_, n * sizeof(RowId));
      return rows_;
    }
    size_t size() const { return size_; }

   private:
    RowId* rows_ = nullptr;
    size_t size_ = 0;
  };
  Block dense_block_;
  size_t dense_count_ = 0;
  bool rows_ascending_ = true;
};

// --- implementation of the templates ---

template <typename F>
void HashIndex::ForEachKey(F&& f) const {
  if (dense_mode_) {
    for (size_t k = 0; k < dense_.size(); ++k) {
      if (dense_[k].value != kAbsent) {
        f(static_cast<int64_t>(k), std::span<const RowId>(&dense_[k], 1));
      }
    }
    for (size_t k = 0; k < dense_many_.size(); ++k) {
      if (!dense_many_[k].empty()) {
        f(static_cast<int64_t>(k), std::span<const RowId>(dense_many_[k]));
      }
    }
    return;
  }
  if (const auto* m = std::get_if<Int64Maps>(&maps_)) {
    if (unique_) {
      for (const auto& [k, row] : m->one) f(k, std::span<const RowId>(&row, 1));
    } else {
      for (const auto& [k, rows] : m->many) f(k, std::span<const RowId>(rows));
    }
    return;
  }
  const StringMaps& m = std::get<StringMaps>(maps_);
  auto key = [&](RowId row) {
    std::string_view k = (*m.keys)[row.value];
    return absl::string_view(k.data(), k.size());
  };
  if (unique_) {
    for (const StringEntry& e : m.one) f(key(e.row), std::span<const RowId>(&e.row, 1));
  } else {
    for (const StringGroup& g : m.many) f(key(g.rows.front()), std::span<const RowId>(g.rows));
  }
}

template <typename KeyAt>
void HashIndex::CountEach(size_t n, KeyAt&& key_at, int64_t* out) const {
  if (dense_mode_ && !unique_) {
    const RowList* lists = dense_many_.data();
    const uint64_t size = dense_many_.size();
    for (size_t i = 0; i < n; ++i) {
      const std::optional<int64_t> key = key_at(i);
      // A negative key wraps to a huge offset: absent, as in Find.
      out[i] = key.has_value() && static_cast<uint64_t>(*key) < size
                   ? static_cast<int64_t>(lists[*key].size())
                   : 0;
    }
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const std::optional<int64_t> key = key_at(i);
    out[i] = key.has_value() ? static_cast<int64_t>(Find(*key).size()) : 0;
  }
}

template <typename F>
void HashIndex::ForEachSorted(F&& f) const {
  if (dense_mode_) {
    // Dense keys are already in ascending order.
    ForEachKey([&](auto k, std::span<const RowId> rows) { f(Value(k), rows); });
    return;
  }
  // Every key once with its rows, sorted by key.
  auto sorted = [&](auto tag) {
    using K = decltype(tag);
    std::vector<std::pair<K, std::span<const RowId>>> keys;
    keys.reserve(num_keys());
    ForEachKey([&](auto k, std::span<const RowId> rows) {
      if constexpr (std::is_same_v<K, decltype(k)>) keys.emplace_back(k, rows);
    });
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [k, rows] : keys) f(Value(k), rows);
  };
  if (key_type_ == Type::kInt64) {
    sorted(int64_t{0});
  } else {
    sorted(absl::string_view());
  }
}

}  // namespace kin

#endif  // KIN_ENGINE_HASH_INDEX_H_
