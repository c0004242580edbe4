// A growable bitmap over row slots (live rows, non-NULL cells).

#ifndef KIN_ENGINE_BITMAP_H_
#define KIN_ENGINE_BITMAP_H_

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kin {

class Bitmap {
 public:
  size_t size() const { return size_; }

  bool Get(size_t i) const {
    assert(i < size_ && "Bitmap::Get out of range");
    return (words_[i >> 6] >> (i & 63)) & 1;
  }
  void Set(size_t i, bool v) {
    assert(i < size_ && "Bitmap::Set out of range");
    uint64_t mask = uint64_t{1} << (i & 63);
    if (v) {
      words_[i >> 6] |= mask;
    } else {
      words_[i >> 6] &= ~mask;
    }
  }
  void PushBack(bool v) {
    if ((size_ & 63) == 0) words_.push_back(0);
    ++size_;
    Set(size_ - 1, v);
  }
  // Drops the last bit. REQUIRES: size() > 0.
  void PopBack() {
    assert(size_ > 0);
    Set(size_ - 1, false);
    --size_;
    if ((size_ & 63) == 0) words_.pop_back();
  }
  void Reserve(size_t n) { words_.reserve((n + 63) / 64); }

  // Raw words for scans and snapshots; bits past size() are zero.
  const std::vector<uint64_t>& words() const { return words_; }
  // Replaces the contents. REQUIRES: words.size() == (size + 63) / 64 and
  // bits past size are zero (checked by callers that load untrusted data).
  void Assign(std::vector<uint64_t> words, size_t size) {
    words_ = std::move(words);
    size_ = size;
  }

  size_t MemoryBytes() const { return words_.capacity() * sizeof(uint64_t); }

  friend bool operator==(const Bitmap& a, const Bitmap& b) {
    return a.size_ == b.size_ && a.words_ == b.words_;
  }

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace kin

#endif  // KIN_ENGINE_BITMAP_H_
