// Raw column access shared by the query stages (predicate, order,
// aggregate, plan run, relation hops): typed column pointers and validity
// words resolved once, then read without checks in hot loops.

#ifndef KIN_QUERY_INTERNAL_COLUMNS_H_
#define KIN_QUERY_INTERNAL_COLUMNS_H_

#include <cstddef>
#include <cstdint>

#include "engine/table.h"
#include "kin/ids.h"

namespace kin {
namespace internal {

// Rows are filtered in blocks of this many slots: big enough to amortise
// the per-atom dispatch, small enough to live on the stack.
inline constexpr size_t kBlock = 256;

// Bit i of a validity or liveness bitmap.
inline bool Bit(const uint64_t* words, uint32_t i) { return (words[i >> 6] >> (i & 63)) & 1; }

inline size_t SaturatingAdd(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

// The validity words of a column (bit set = not NULL); nullptr when the
// column has no NULLs, so hot loops can skip the test.
inline const uint64_t* ValidityWords(const Table& t, ColumnId c) {
  const Bitmap* b = t.validity(c);
  if (b == nullptr || b->size() == 0) return nullptr;
  return b->words().data();
}

// The typed column: int64_t*, double*, uint8_t* (bool) or std::string*.
inline const void* ColumnData(const Table& t, ColumnId c) {
  switch (t.column(c).type) {
    case Type::kInt64:
      return t.Int64Column(c).data();
    case Type::kDouble:
      return t.DoubleColumn(c).data();
    case Type::kBool:
      return t.BoolColumn(c).data();
    case Type::kString:
      return t.StringColumn(c).data();
  }
  return nullptr;
}

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_COLUMNS_H_
