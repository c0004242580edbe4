// Stable LSD radix sort for the bulk builds of ordered and composite
// indexes: entries whose order is a tuple of unsigned 64-bit words compared
// most significant word first. A comparison sort of 1M (key, slot) pairs
// costs about 20 comparisons an entry; this makes at most 6 passes over
// the entries per word, and skips every 11-bit digit on which all entries
// agree (keys of 40 bits take 4 passes, a NULL flag that is never set
// none).

#ifndef KIN_ENGINE_RADIX_SORT_H_
#define KIN_ENGINE_RADIX_SORT_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kin::internal {

// Entries this short are sorted by comparison (the histograms would cost
// more than they save).
inline constexpr size_t kRadixMinEntries = 2048;

// Sorts `entries` stably by the tuple (word(e, num_words - 1), ...,
// word(e, 0)): word 0 is the least significant. Entries equal on every
// word keep their order, so entries built in slot order come out ordered
// by (key, slot). `scratch` is reused between calls (it ends up holding
// garbage).
template <typename T, typename Word>
void RadixSort(std::vector<T>* entries, size_t num_words, Word&& word, std::vector<T>* scratch) {
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  constexpr int kDigits = (64 + kBits - 1) / kBits;
  const size_t n = entries->size();
  if (n < 2) return;
  scratch->resize(n);
  std::vector<std::array<uint32_t, kBuckets>> counts(kDigits);
  for (size_t w = 0; w < num_words; ++w) {
    for (auto& c : counts) c.fill(0);
    for (const T& e : *entries) {
      const uint64_t k = word(e, w);
      for (int d = 0; d < kDigits; ++d) ++counts[d][(k >> (d * kBits)) & (kBuckets - 1)];
    }
    for (int d = 0; d < kDigits; ++d) {
      std::array<uint32_t, kBuckets>& c = counts[d];
      // Every entry in one bucket: this digit orders nothing.
      if (std::find(c.begin(), c.end(), static_cast<uint32_t>(n)) != c.end()) continue;
      uint32_t at = 0;
      for (uint32_t& slot : c) {
        const uint32_t here = slot;
        slot = at;
        at += here;
      }
      const int shift = d * kBits;
      for (const T& e : *entries) {
        (*scratch)[c[(word(e, w) >> shift) & (kBuckets - 1)]++] = e;
      }
      entries->swap(*scratch);
    }
  }
}

}  // namespace kin::internal

#endif  // KIN_ENGINE_RADIX_SORT_H_
