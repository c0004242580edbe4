// Raw column access shared by the query stages (predicate, order,
// aggregate, plan run, relation hops): typed column pointers and validity
// words resolved once, then read without checks in hot loops.

#ifndef KIN_QUERY_INTERNAL_COLUMNS_H_
#define KIN_QUERY_INTERNAL_COLUMNS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/string_view.h"
#include "engine/string_store.h"
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

// A string column's cells, indexed by slot as the other types' arrays are.
// Resolved from the store on each use (StringCellsOf), since the blob
// moves when the column is written.
struct StringCells {
  const uint64_t* cells;
  const char* blob;
  absl::string_view operator[](size_t slot) const {
    const std::string_view s = string_cell::Decode(cells + slot, blob);
    return absl::string_view(s.data(), s.size());
  }
};

// The typed column: int64_t*, double*, uint8_t* (bool) or StringStore*
// (read through StringCellsOf).
inline const void* ColumnData(const Table& t, ColumnId c) {
  switch (t.column(c).type) {
    case Type::kInt64:
      return t.Int64Column(c).data();
    case Type::kDouble:
      return t.DoubleColumn(c).data();
    case Type::kBool:
      return t.BoolColumn(c).data();
    case Type::kString:
      return &t.StringColumn(c);
  }
  return nullptr;
}

inline StringCells StringCellsOf(const void* data) {
  const auto* store = static_cast<const StringStore*>(data);
  return StringCells{store->cells(), store->blob()};
}

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_COLUMNS_H_
