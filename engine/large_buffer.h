// Large buffers (columns, string blobs, index arrays): how the engine gets
// and gives back their memory.
//
// Huge pages: a load or bulk insert writes such a buffer once from start to
// end, and with 4 KiB pages that is one page fault per 4 KiB, which costs
// more than the writing (a snapshot load of 1M posts spent about 40% of its
// time in faults). Backed by transparent 2 MiB pages the same buffer faults
// 512 times less often, and random reads of it (index probes, row reads)
// miss the TLB less. Advice only: where the kernel has transparent huge
// pages off, or on other systems, nothing changes.
//
// Released pages: when a column grows, its old buffer is freed, and glibc
// keeps freed heap memory resident, so a load in batches held its columns
// plus most of their earlier, smaller copies (1.3x the data set). A buffer
// replaced by ReserveLarge gives its pages back to the kernel first.

#ifndef KIN_ENGINE_LARGE_BUFFER_H_
#define KIN_ENGINE_LARGE_BUFFER_H_

#include <cstddef>
#include <type_traits>
#include <vector>

namespace kin {

// Buffers below this size get no huge pages: they hold at most one whole
// 2 MiB page, and the advice splits the heap's mapping.
inline constexpr size_t kHugePageMinBytes = size_t{4} << 20;
// Old buffers below this size are freed as they are: a system call is not
// worth fewer pages, and the heap reuses small blocks soon enough.
inline constexpr size_t kReleaseMinBytes = size_t{256} << 10;

// Asks for huge pages over the whole 2 MiB pages inside [p, p + bytes) when
// bytes >= kHugePageMinBytes. Call it before the buffer is first written:
// pages already touched keep their 4 KiB size.
void AdviseHugePages(const void* p, size_t bytes);

// Hands the whole pages inside [p, p + bytes) back to the kernel (they read
// as zeros after). Only for a buffer the caller owns and is about to free:
// its contents are gone. No-op below kReleaseMinBytes.
void ReleasePages(void* p, size_t bytes);

// Whether a new large buffer asks for huge pages. Buffers written whole at
// once, on a loading screen rather than in a tick (snapshot loads, bulk
// index builds), do; growth by rows or batches does not: the first touch of
// a 2 MiB page can stall (the kernel may compact memory to find one, which
// is why Redis tells its users to turn transparent huge pages off), and a
// tick loop cares about its worst tick more than about fault throughput.
// On this project's VM the world demo's worst tick (the one whose loot
// grows the items table past its seeded size) took 94-154 ms in 6 of 11
// runs with huge pages on that path and 33-47 ms in the others; without
// them, 46-51 ms in every run.
enum class HugePages { kNo, kYes };

// v.reserve(n), except that a large new buffer gets huge pages (if `huge`)
// and a large old buffer's pages are released before it is freed.
template <typename T, typename A>
void ReserveLarge(std::vector<T, A>& v, size_t n, HugePages huge) {
  static_assert(std::is_trivially_copyable_v<T>, "the old buffer is released, not destroyed");
  if (n <= v.capacity()) return;
  const size_t old_bytes = v.capacity() * sizeof(T);
  const bool advise = huge == HugePages::kYes && n * sizeof(T) >= kHugePageMinBytes;
  if (!advise && old_bytes < kReleaseMinBytes) {
    v.reserve(n);  // nothing to ask for, nothing to give back
    return;
  }
  std::vector<T, A> bigger;
  bigger.reserve(n);
  if (advise) AdviseHugePages(bigger.data(), bigger.capacity() * sizeof(T));
  bigger.insert(bigger.end(), v.begin(), v.end());
  ReleasePages(v.data(), old_bytes);
  v.swap(bigger);
}

// Room for `n` elements, at least doubling as vector::insert would, through
// ReserveLarge.
template <typename T, typename A>
void GrowLarge(std::vector<T, A>& v, size_t n, HugePages huge) {
  if (n <= v.capacity()) return;
  ReserveLarge(v, n > 2 * v.capacity() ? n : 2 * v.capacity(), huge);
}

}  // namespace kin

#endif  // KIN_ENGINE_LARGE_BUFFER_H_
