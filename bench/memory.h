// Process memory probes for the benchmark's per-peer memory report (Linux).
//
// Two views, because each misleads alone: the heap bytes malloc has handed
// out (mallinfo2: exact for everything that allocates through malloc, which
// includes SQLite, but blind to freed-but-kept pages) and the resident set
// from /proc (what the machine pays, but coarse and sticky).

#ifndef KIN_BENCH_MEMORY_H_
#define KIN_BENCH_MEMORY_H_

#include <cstdint>

namespace kin::bench {

struct MemorySample {
  int64_t heap_bytes = 0;  // malloc'd and not yet freed (arena + mmap)
  int64_t rss_bytes = 0;   // resident set size now
};

MemorySample SampleMemory();

// Returns freed heap pages to the kernel (malloc_trim), so the resident
// size measured next starts from what is really in use.
void TrimHeap();

// Resets the kernel's peak-RSS mark to the current RSS (writes 5 to
// /proc/self/clear_refs). Returns false where that is not permitted.
bool ResetPeakRss();
// The peak resident set size since the last reset (VmHWM), 0 if unknown.
int64_t PeakRssBytes();

}  // namespace kin::bench

#endif  // KIN_BENCH_MEMORY_H_
