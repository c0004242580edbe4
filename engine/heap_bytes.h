// What malloc holds for a block, for the MemoryBytes estimates: a table of
// strings or an index of per-key row lists is mostly small blocks, where
// the allocator's header and rounding add 10-30% to the bytes asked for.

#ifndef KIN_ENGINE_HEAP_BYTES_H_
#define KIN_ENGINE_HEAP_BYTES_H_

#include <cstddef>
#include <string>

namespace kin {

// The bytes an n-byte request takes: glibc's chunk (n plus an 8-byte
// header, rounded up to 16, at least 32); other allocators differ by a few
// bytes a block. 0 for no request.
inline size_t HeapBlockBytes(size_t n) {
  if (n == 0) return 0;
  const size_t chunk = (n + 8 + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

// A std::string's own heap block (none while its characters fit inline).
inline size_t StringHeapBytes(const std::string& s) {
  return s.capacity() > 15 ? HeapBlockBytes(s.capacity() + 1) : 0;
}

}  // namespace kin

#endif  // KIN_ENGINE_HEAP_BYTES_H_
