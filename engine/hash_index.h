// HashIndex: key → rows, on one int64 or string column.
//
// A unique index (primary key, Unique()) maps a key to one row; a secondary
// index (Indexed(), foreign keys) maps a key to its rows in insertion order,
// which is the order relations return children in. NULL is never indexed.
// Built on absl::flat_hash_map; string keys are looked up by string_view
// without allocating.
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

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "engine/string_store.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class HashIndex {
 public:
  // REQUIRES: key_type is kInt64 or kString.
  HashIndex(Type key_type, bool unique);

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
  // index and an absl::string_view for a string one.
  template <typename F>
  void ForEachKey(F&& f) const;

  // Bulk load: the same index as Clear() followed by Add(keys[r], RowId(r))
  // for every r of `rows` in that order (so each key lists its rows in the
  // order of `rows`), in a few passes over the keys instead of one probe
  // and one growing list per row. For a unique index, returns the first row
  // whose key an earlier row already has (the contents are then
  // unspecified: Clear() or rebuild); nullopt otherwise.
  // REQUIRES: key_type() matches the overload, r < keys.size() for every r.
  [[nodiscard]] std::optional<RowId> Build(std::span<const int64_t> keys,
                                           std::span<const uint32_t> rows);
  [[nodiscard]] std::optional<RowId> Build(const StringStore& keys, std::span<const uint32_t> rows);

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
  template <typename K, typename Keys>
  std::optional<RowId> BuildSparse(const Keys& keys, std::span<const uint32_t> rows);

  template <typename K>
  struct Maps {
    absl::flat_hash_map<K, RowId> one;
    absl::flat_hash_map<K, std::vector<RowId>> many;
  };

  Type key_type_;
  bool unique_;
  std::variant<Maps<int64_t>, Maps<std::string>> maps_;
  // Dense mode (int64 only). Unique: dense_[key] is the row, or kAbsent.
  // Secondary: dense_many_[key] lists the key's rows (empty: absent).
  // dense_count_ counts the keys present.
  bool dense_mode_ = false;
  std::vector<RowId> dense_;
  std::vector<std::vector<RowId>> dense_many_;
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
  std::visit(
      [&](const auto& maps) {
        using K = typename std::decay_t<decltype(maps.one)>::key_type;
        using View = std::conditional_t<std::is_same_v<K, std::string>, absl::string_view, K>;
        if (unique_) {
          for (const auto& [k, row] : maps.one) f(View(k), std::span<const RowId>(&row, 1));
        } else {
          for (const auto& [k, rows] : maps.many) f(View(k), std::span<const RowId>(rows));
        }
      },
      maps_);
}

template <typename F>
void HashIndex::ForEachSorted(F&& f) const {
  if (dense_mode_) {
    // Dense keys are already in ascending order.
    for (size_t k = 0; k < dense_.size(); ++k) {
      if (dense_[k].value != kAbsent) {
        f(Value(static_cast<int64_t>(k)), std::span<const RowId>(&dense_[k], 1));
      }
    }
    for (size_t k = 0; k < dense_many_.size(); ++k) {
      if (!dense_many_[k].empty()) {
        f(Value(static_cast<int64_t>(k)), std::span<const RowId>(dense_many_[k]));
      }
    }
    return;
  }
  auto visit = [&](const auto& maps) {
    using K = typename std::decay_t<decltype(maps.one)>::key_type;
    std::vector<const K*> keys;
    if (unique_) {
      for (const auto& [k, v] : maps.one) keys.push_back(&k);
    } else {
      for (const auto& [k, v] : maps.many) keys.push_back(&k);
    }
    std::sort(keys.begin(), keys.end(), [](const K* a, const K* b) { return *a < *b; });
    for (const K* k : keys) {
      if (unique_) {
        f(Value(*k), std::span<const RowId>(&maps.one.find(*k)->second, 1));
      } else {
        const std::vector<RowId>& rows = maps.many.find(*k)->second;
        f(Value(*k), std::span<const RowId>(rows));
      }
    }
  };
  std::visit(visit, maps_);
}

}  // namespace kin

#endif  // KIN_ENGINE_HASH_INDEX_H_
