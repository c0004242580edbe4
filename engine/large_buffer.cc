#include "engine/large_buffer.h"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace kin {

namespace {

// [begin, end) rounded inwards to multiples of `unit`; empty if none fits.
struct Inner {
  uintptr_t begin;
  uintptr_t end;
};
Inner InnerRange(const void* p, size_t bytes, uintptr_t unit) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = (start + unit - 1) & ~(unit - 1);
  const uintptr_t end = (start + bytes) & ~(unit - 1);
  return {begin, end > begin ? end : begin};
}

}  // namespace

void AdviseHugePages(const void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p == nullptr || bytes < kHugePageMinBytes) return;
  const Inner r = InnerRange(p, bytes, uintptr_t{2} << 20);
  // The range lies inside the caller's buffer, so the advice reaches no
  // other object's pages; a failure (EINVAL where THP is compiled out)
  // only means 4 KiB pages.
  if (r.end > r.begin) ::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_HUGEPAGE);
#else
  static_cast<void>(p);
  static_cast<void>(bytes);
#endif
}

void ReleasePages(void* p, size_t bytes) {
#if defined(__linux__)
  if (p == nullptr || bytes < kReleaseMinBytes) return;
  const Inner r = InnerRange(p, bytes, static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE)));
  // Whole pages strictly inside the buffer: the allocator's own bookkeeping
  // (chunk headers before the buffer, sizes after it) is never touched, and
  // what it writes into the buffer when it is freed lands on fresh zero
  // pages. MADV_DONTNEED, not MADV_FREE: the point is that resident memory
  // drops now, not under memory pressure.
  if (r.end <= r.begin) return;
  ::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_DONTNEED);
#if defined(MADV_NOHUGEPAGE)
  // The allocator will reuse this range for other blocks, maybe small
  // ones: with the huge-page advice still on, the first small block to
  // touch an emptied 2 MiB page would fault in all of it.
  ::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_NOHUGEPAGE);
#endif
#else
  static_cast<void>(p);
  static_cast<void>(bytes);
#endif
}

}  // namespace kin
