#include "engine/string_store.h"

#include <algorithm>
#include <cstring>
#include <functional>

#include "engine/heap_bytes.h"
#include "engine/large_buffer.h"

namespace kin {

namespace {

// Writes `len` as a varint at `out`; returns the bytes written (1 to 10).
size_t EncodeLength(uint64_t len, char* out) {
  size_t i = 0;
  while (len >= 0x80) {
    out[i++] = static_cast<char>(len | 0x80);
    len >>= 7;
  }
  out[i++] = static_cast<char>(len);
  return i;
}

size_t LengthBytes(uint64_t len) {
  size_t n = 1;
  while (len >= 0x80) {
    len >>= 7;
    ++n;
  }
  return n;
}

uint64_t InlineCell(std::string_view s) {
  uint64_t cell = 1 | (static_cast<uint64_t>(s.size()) << 1);
  if (!s.empty()) std::memcpy(reinterpret_cast<char*>(&cell) + 1, s.data(), s.size());
  return cell;
}

// Below this much garbage a compaction is not worth a pass over the cells.
constexpr size_t kMinGarbageToCompact = 64 * 1024;

}  // namespace

size_t StringStore::BlobBytesFor(size_t length) {
  return length <= string_cell::kMaxInline ? 0 : LengthBytes(length) + length;
}

uint64_t StringStore::Encode(std::string_view s) {
  if (s.size() <= string_cell::kMaxInline) return InlineCell(s);
  // `s` may be another cell's bytes: keep its offset across a reallocation.
  const bool aliased = !blob_.empty() && std::less_equal<const char*>()(blob_.data(), s.data()) &&
                       std::less<const char*>()(s.data(), blob_.data() + blob_.size());
  const size_t source = aliased ? static_cast<size_t>(s.data() - blob_.data()) : 0;
  const size_t at = blob_.size();
  const size_t header = LengthBytes(s.size());
  GrowLarge(blob_, at + header + s.size(), HugePages::kNo);
  blob_.resize(at + header + s.size());
  EncodeLength(s.size(), blob_.data() + at);
  const char* from = aliased ? blob_.data() + source : s.data();
  std::memcpy(blob_.data() + at + header, from, s.size());
  return static_cast<uint64_t>(at) << 1;
}

size_t StringStore::EntryBytes(uint64_t cell) const {
  size_t header;
  const uint64_t len = string_cell::DecodeLength(
      reinterpret_cast<const unsigned char*>(blob_.data() + (cell >> 1)), &header);
  return header + static_cast<size_t>(len);
}

void StringStore::Release(uint64_t cell) {
  if (string_cell::IsInline(cell)) return;
  const size_t at = static_cast<size_t>(cell >> 1);
  const size_t bytes = EntryBytes(cell);
  if (at + bytes == blob_.size()) {
    // The last entry: give its bytes back, and the memory once the blob
    // holds under half its capacity (an undone bulk load, a deleted huge
    // string), so capacity stays within 2x of what is used.
    blob_.resize(at);
    if (blob_.capacity() >= kMinGarbageToCompact && blob_.size() * 2 < blob_.capacity()) {
      blob_.shrink_to_fit();
    }
  } else {
    garbage_ += bytes;
  }
}

void StringStore::push_back(std::string_view s) {
  const uint64_t cell = Encode(s);
  GrowLarge(cells_, cells_.size() + 1, HugePages::kNo);
  cells_.push_back(cell);
}

void StringStore::emplace_back() {
  GrowLarge(cells_, cells_.size() + 1, HugePages::kNo);
  cells_.push_back(string_cell::kEmpty);
}

void StringStore::pop_back() {
  Release(cells_.back());
  cells_.pop_back();
  if (garbage_ > blob_.size()) garbage_ = blob_.size();  // released tail held garbage
}

void StringStore::resize(size_t n) {
  while (cells_.size() > n) pop_back();
  cells_.resize(n, string_cell::kEmpty);
  if (cells_.empty()) clear();
}

void StringStore::clear() {
  cells_.clear();
  blob_.clear();
  garbage_ = 0;
}

void StringStore::reserve(size_t cells, size_t bytes) { Grow(cells, bytes, HugePages::kNo); }

void StringStore::Grow(size_t cells, size_t bytes, HugePages huge) {
  // Exact room for a first bulk load (no capacity yet); geometric growth
  // after, so that a load in many batches copies each byte O(1) times.
  GrowLarge(cells_, cells, huge);
  GrowLarge(blob_, blob_.size() + bytes, huge);
}

void StringStore::Append(std::span<const uint32_t> lengths, const char* bytes) {
  size_t blob_bytes = 0;
  for (uint32_t length : lengths) {
    if (length > string_cell::kMaxInline) blob_bytes += LengthBytes(length) + length;
  }
  // A whole column at once (a snapshot load): huge pages.
  Grow(cells_.size() + lengths.size(), blob_bytes, HugePages::kYes);
  size_t at = blob_.size();
  blob_.resize(at + blob_bytes);  // uninitialised: written below
  char* out = blob_.data();
  for (uint32_t length : lengths) {
    if (length <= string_cell::kMaxInline) {
      cells_.push_back(InlineCell(std::string_view(bytes, length)));
    } else {
      cells_.push_back(static_cast<uint64_t>(at) << 1);
      const size_t header = EncodeLength(length, out + at);
      std::memcpy(out + at + header, bytes, length);
      at += header + length;
    }
    bytes += length;
  }
}

void StringStore::Set(size_t i, std::string_view s) {
  const uint64_t old = cells_[i];
  if (!string_cell::IsInline(old) && s.size() > string_cell::kMaxInline) {
    // Over the old bytes when the new string fits there (and is not itself
    // a view of them): no growth for same-size or shrinking updates.
    const size_t at = static_cast<size_t>(old >> 1);
    const size_t room = EntryBytes(old);
    const size_t need = LengthBytes(s.size()) + s.size();
    const char* entry = blob_.data() + at;
    const bool overlaps = std::less<const char*>()(s.data(), entry + room) &&
                          std::less<const char*>()(entry, s.data() + s.size());
    if (need <= room && !overlaps) {
      const size_t header = EncodeLength(s.size(), blob_.data() + at);
      std::memcpy(blob_.data() + at + header, s.data(), s.size());
      garbage_ += room - need;
      MaybeCompact();
      return;
    }
  }
  const uint64_t cell = Encode(s);
  Release(old);
  cells_[i] = cell;
  MaybeCompact();
}

void StringStore::MaybeCompact() {
  if (garbage_ >= kMinGarbageToCompact && garbage_ * 2 >= blob_.size()) Compact();
}

void StringStore::Compact() {
  size_t live = 0;
  for (uint64_t cell : cells_) {
    if (!string_cell::IsInline(cell)) live += EntryBytes(cell);
  }
  decltype(blob_) blob;
  blob.reserve(live);
  for (uint64_t& cell : cells_) {
    if (string_cell::IsInline(cell)) continue;
    const size_t bytes = EntryBytes(cell);
    const size_t at = blob.size();
    blob.insert(blob.end(), blob_.data() + (cell >> 1), blob_.data() + (cell >> 1) + bytes);
    cell = static_cast<uint64_t>(at) << 1;
  }
  blob_.swap(blob);
  garbage_ = 0;
}

size_t StringStore::MemoryBytes() const {
  return HeapBlockBytes(cells_.capacity() * sizeof(uint64_t)) + HeapBlockBytes(blob_.capacity());
}

}  // namespace kin
