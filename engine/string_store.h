// StringStore: the cells of one string column, without a heap block per
// cell. Each cell is 8 bytes (kin/string_cell.h): strings of up to 7 bytes
// live in the cell itself, longer ones in one blob shared by the column,
// behind a 1-2 byte length. A std::string per cell cost 32 bytes plus a
// malloc'd block (its bytes rounded up to 16, plus 8) for anything over 15.
//
// Writes: a new string that fits where the old one was is written over it;
// anything longer is appended to the blob and the old bytes become garbage.
// When garbage passes half the blob (and 64 KiB), Compact() rewrites the
// blob in slot order. Either way cells keep their slots, so rows, indexes
// keyed by slot and the undo log (which keeps old values, not offsets) are
// unaffected; string_views returned by operator[] are valid until the next
// write to the column, as spans of the other column types are.
//
// The vector-like members (size, emplace_back, pop_back, resize, reserve,
// value_type) let the table's generic per-column code treat it as the other
// columns' std::vector.

#ifndef KIN_ENGINE_STRING_STORE_H_
#define KIN_ENGINE_STRING_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/large_buffer.h"
#include "kin/string_cell.h"

namespace kin {

// std::allocator, except that resize() leaves new elements uninitialised
// (default-initialised): the store writes every cell and blob byte right
// after it grows, so zero-filling first would write the memory twice.
template <typename T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

class StringStore {
 public:
  using value_type = std::string_view;

  StringStore() = default;
  // `n` empty strings.
  explicit StringStore(size_t n) : cells_(n, string_cell::kEmpty) {}

  size_t size() const { return cells_.size(); }
  bool empty() const { return cells_.empty(); }
  std::string_view operator[](size_t i) const {
    return string_cell::Decode(&cells_[i], blob_.data());
  }

  // For inline readers (kin/column.h, the query loops): the cells and the
  // blob they point into, valid until the next write.
  const uint64_t* cells() const { return cells_.data(); }
  const char* blob() const { return blob_.data(); }

  void emplace_back();
  void push_back(std::string_view s);
  // Removes the last cell; its bytes are released when they end the blob
  // (the undo of an append leaves the blob as it was).
  void pop_back();
  void resize(size_t n);
  void clear();
  // The blob bytes a string of `length` bytes takes: 0 when it fits inline,
  // else its bytes and their varint length.
  static size_t BlobBytesFor(size_t length);
  // Room for `cells` cells and `bytes` more blob bytes: exactly when the
  // store has no capacity yet, else at least doubling.
  void reserve(size_t cells, size_t bytes = 0);

  // Appends `lengths.size()` strings whose bytes lie back to back from
  // `bytes` (a bulk load): one reservation of the exact room, no per-string
  // growth. `bytes` must not point into this store.
  void Append(std::span<const uint32_t> lengths, const char* bytes);

  void Set(size_t i, std::string_view s);
  void Clear(size_t i) { Set(i, std::string_view()); }

  // Rewrites the blob with only the bytes cells point to, in slot order,
  // at its exact size.
  void Compact();

  // Blob bytes no cell points to.
  size_t garbage_bytes() const { return garbage_; }
  size_t blob_bytes() const { return blob_.size(); }
  size_t MemoryBytes() const;

 private:
  // reserve(), with or without huge pages for new large buffers.
  void Grow(size_t cells, size_t bytes, HugePages huge);
  // The cell for `s`, appending to the blob when it does not fit inline.
  // `s` may point into this store (a copy of another cell).
  uint64_t Encode(std::string_view s);
  // Header plus bytes of an out-of-line cell's blob entry.
  size_t EntryBytes(uint64_t cell) const;
  void Release(uint64_t cell);
  void MaybeCompact();

  std::vector<uint64_t> cells_;
  std::vector<char, DefaultInitAllocator<char>> blob_;
  size_t garbage_ = 0;
};

}  // namespace kin

#endif  // KIN_ENGINE_STRING_STORE_H_
