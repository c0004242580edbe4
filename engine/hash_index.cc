#include "engine/hash_index.h"

#include <algorithm>
#include <cassert>

namespace kin {

HashIndex::HashIndex(Type key_type, bool unique) : key_type_(key_type), unique_(unique) {
  assert((key_type == Type::kInt64 || key_type == Type::kString) &&
         "HashIndex: key type must be int64 or string");
  if (key_type == Type::kString) maps_.emplace<Maps<std::string>>();
  dense_mode_ = unique && key_type == Type::kInt64;
}

void HashIndex::MakeSparse() {
  Maps<int64_t>& m = std::get<Maps<int64_t>>(maps_);
  m.one.reserve(dense_count_);
  for (size_t k = 0; k < dense_.size(); ++k) {
    if (dense_[k].value != kAbsent) m.one.emplace(static_cast<int64_t>(k), dense_[k]);
  }
  std::vector<RowId>().swap(dense_);
  dense_count_ = 0;
  dense_mode_ = false;
}

size_t HashIndex::num_keys() const {
  if (dense_mode_) return dense_count_;
  return std::visit(
      [&](const auto& m) { return unique_ ? m.one.size() : m.many.size(); }, maps_);
}

std::span<const RowId> HashIndex::Find(int64_t key) const {
  if (dense_mode_) {
    if (key < 0 || static_cast<uint64_t>(key) >= dense_.size() ||
        dense_[key].value == kAbsent) {
      return {};
    }
    return std::span<const RowId>(&dense_[key], 1);
  }
  const auto* m = std::get_if<Maps<int64_t>>(&maps_);
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
  const auto* m = std::get_if<Maps<std::string>>(&maps_);
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

std::span<const RowId> HashIndex::Find(const Value& key) const {
  if (key.is_int64()) return Find(key.AsInt64());
  if (key.is_string()) return Find(absl::string_view(key.AsString()));
  return {};
}

namespace {

template <typename M, typename K>
void AddTo(M& maps, bool unique, K&& key, RowId row) {
  if (unique) {
    maps.one.emplace(std::forward<K>(key), row);
  } else {
    maps.many[std::forward<K>(key)].push_back(row);
  }
}

template <typename M, typename K>
uint32_t RemoveFrom(M& maps, bool unique, const K& key, RowId row) {
  if (unique) {
    maps.one.erase(key);
    return 0;
  }
  auto it = maps.many.find(key);
  assert(it != maps.many.end() && "HashIndex::Remove: key absent");
  std::vector<RowId>& rows = it->second;
  // Undo and re-parenting remove recent rows most often: search from the back.
  auto pos = std::find(rows.rbegin(), rows.rend(), row);
  assert(pos != rows.rend() && "HashIndex::Remove: row absent");
  uint32_t index = static_cast<uint32_t>(rows.rend() - pos - 1);
  rows.erase(rows.begin() + index);
  if (rows.empty()) maps.many.erase(it);
  return index;
}

template <typename M, typename K>
void InsertInto(M& maps, bool unique, K&& key, RowId row, uint32_t position) {
  if (unique) {
    maps.one.emplace(std::forward<K>(key), row);
    return;
  }
  std::vector<RowId>& rows = maps.many[std::forward<K>(key)];
  assert(position <= rows.size());
  rows.insert(rows.begin() + position, row);
}

}  // namespace

void HashIndex::Add(const Value& key, RowId row) {
  if (dense_mode_ && !FitsDense(key.AsInt64())) MakeSparse();
  if (dense_mode_) {
    size_t k = static_cast<size_t>(key.AsInt64());
    if (k >= dense_.size()) dense_.resize(k + 1, RowId(kAbsent));
    assert(dense_[k].value == kAbsent && "HashIndex::Add: duplicate key");
    dense_[k] = row;
    ++dense_count_;
    return;
  }
  if (key.is_int64()) {
    AddTo(std::get<Maps<int64_t>>(maps_), unique_, key.AsInt64(), row);
  } else {
    AddTo(std::get<Maps<std::string>>(maps_), unique_, key.AsString(), row);
  }
}

uint32_t HashIndex::Remove(const Value& key, RowId row) {
  if (dense_mode_) {
    dense_[static_cast<size_t>(key.AsInt64())] = RowId(kAbsent);
    --dense_count_;
    return 0;
  }
  if (key.is_int64()) {
    return RemoveFrom(std::get<Maps<int64_t>>(maps_), unique_, key.AsInt64(), row);
  }
  return RemoveFrom(std::get<Maps<std::string>>(maps_), unique_, key.AsString(), row);
}

void HashIndex::InsertAt(const Value& key, RowId row, uint32_t position) {
  if (dense_mode_) {
    Add(key, row);
    return;
  }
  if (key.is_int64()) {
    InsertInto(std::get<Maps<int64_t>>(maps_), unique_, key.AsInt64(), row, position);
  } else {
    InsertInto(std::get<Maps<std::string>>(maps_), unique_, key.AsString(), row, position);
  }
}

void HashIndex::Clear() {
  dense_.clear();
  dense_count_ = 0;
  dense_mode_ = unique_ && key_type_ == Type::kInt64;
  std::visit([](auto& m) { m.one.clear(); m.many.clear(); }, maps_);
}

void HashIndex::Reserve(size_t keys) {
  if (dense_mode_) return;  // sized by the keys themselves
  std::visit([&](auto& m) { unique_ ? m.one.reserve(keys) : m.many.reserve(keys); },
             maps_);
}

size_t HashIndex::MemoryBytes() const {
  return dense_.capacity() * sizeof(RowId) + std::visit(
      [&](const auto& m) {
        using K = typename std::decay_t<decltype(m.one)>::key_type;
        size_t bytes = m.one.capacity() * (sizeof(K) + sizeof(RowId) + 1) +
                       m.many.capacity() * (sizeof(K) + sizeof(std::vector<RowId>) + 1);
        for (const auto& [k, v] : m.many) bytes += v.capacity() * sizeof(RowId);
        if constexpr (std::is_same_v<K, std::string>) {
          for (const auto& [k, v] : m.one) bytes += k.capacity() > 15 ? k.capacity() : 0;
          for (const auto& [k, v] : m.many) bytes += k.capacity() > 15 ? k.capacity() : 0;
        }
        return bytes;
      },
      maps_);
}

}  // namespace kin
