// RowList: one key's rows in a dense secondary index (HashIndex), 16 bytes
// instead of a std::vector's 24, and without a heap block of its own when
// the index was bulk-built.
//
// A bulk build (HashIndex::Build, which every snapshot load and batch runs)
// lays all keys' rows out in one block, as a CSR index does, and each list
// borrows its slice: 100,000 users' post lists are one allocation instead
// of 100,000 (each with malloc's header and rounding, and a malloc and a
// free to pay at load and at teardown). The first insert into a borrowed
// list moves it to a heap array of its own, with room to grow; removals
// edit either in place. The block itself belongs to the index and outlives
// every list that borrows from it.
//
// A copy owns its rows (a copied index has no block).

#ifndef KIN_ENGINE_ROW_LIST_H_
#define KIN_ENGINE_ROW_LIST_H_

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>

#include "kin/ids.h"

namespace kin {

class RowList {
 public:
  RowList() = default;
  // Borrows rows[0, n) of a block the caller keeps alive.
  static RowList Borrow(RowId* rows, uint32_t n) {
    RowList list;
    list.data_ = rows;
    list.size_ = n;
    return list;
  }
  // An owned copy of `rows`.
  explicit RowList(std::span<const RowId> rows) {
    if (rows.empty()) return;
    Grow(static_cast<uint32_t>(rows.size()));
    std::memcpy(data_, rows.data(), rows.size() * sizeof(RowId));
    size_ = static_cast<uint32_t>(rows.size());
  }
  RowList(const RowList& other) { CopyFrom(other); }
  RowList& operator=(const RowList& other) {
    if (this != &other) {
      Release();
      CopyFrom(other);
    }
    return *this;
  }
  RowList(RowList&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  RowList& operator=(RowList&& other) noexcept {
    if (this != &other) {
      Release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  ~RowList() { Release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const RowId* data() const { return data_; }
  RowId* begin() { return data_; }
  RowId* end() { return data_ + size_; }
  const RowId* begin() const { return data_; }
  const RowId* end() const { return data_ + size_; }
  RowId& operator[](size_t i) { return data_[i]; }
  operator std::span<const RowId>() const { return {data_, size_}; }  // NOLINT
  // Heap bytes of its own (0 while borrowing).
  size_t owned_capacity() const { return capacity_; }

  // As std::vector's: puts `row` at `pos` (begin() to end()) and returns
  // where it is.
  RowId* insert(RowId* pos, RowId row) {
    const size_t at = static_cast<size_t>(pos - data_);
    assert(at <= size_);
    if (size_ == capacity_ || capacity_ == 0) Grow(std::max<uint32_t>(4, size_ * 2));
    std::memmove(data_ + at + 1, data_ + at, (size_ - at) * sizeof(RowId));
    data_[at] = row;
    ++size_;
    return data_ + at;
  }
  RowId* erase(RowId* pos) {
    const size_t at = static_cast<size_t>(pos - data_);
    assert(at < size_);
    std::memmove(data_ + at, data_ + at + 1, (size_ - at - 1) * sizeof(RowId));
    --size_;
    return data_ + at;
  }
  // Empties the list and frees its own array.
  void Reset() {
    Release();
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

 private:
  void Release() {
    if (capacity_ != 0) std::allocator<RowId>().deallocate(data_, capacity_);
  }
  // Moves the rows to an owned array of `capacity` (>= size_).
  void Grow(uint32_t capacity) {
    RowId* rows = std::allocator<RowId>().allocate(capacity);
    if (size_ != 0) std::memcpy(rows, data_, size_ * sizeof(RowId));
    Release();
    data_ = rows;
    capacity_ = capacity;
  }
  void CopyFrom(const RowList& other) {
    data_ = nullptr;
    size_ = capacity_ = 0;
    if (other.size_ == 0) return;
    Grow(other.size_);
    std::memcpy(data_, other.data_, other.size_ * sizeof(RowId));
    size_ = other.size_;
  }

  RowId* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;  // 0: borrowed (or empty)
};

}  // namespace kin

#endif  // KIN_ENGINE_ROW_LIST_H_
