// The ORDER BY stage of a compiled query: sort keys resolved to typed
// columns, a stable sort and a top-N (partial) sort.

#ifndef KIN_QUERY_INTERNAL_ORDER_H_
#define KIN_QUERY_INTERNAL_ORDER_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"

namespace kin {
namespace internal {

// Reusable memory for CompiledOrder::Sort: sorting many lists (a preload's
// per-parent top-N) then allocates once for the longest, not once per list.
class SortScratch {
 public:
  // Room for n entries of a trivially copyable E (alignment <= 8), valid
  // until the next call.
  template <typename E>
  E* Get(size_t n) {
    static_assert(std::is_trivially_copyable_v<E> && alignof(E) <= alignof(uint64_t));
    words_.resize((n * sizeof(E) + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    return reinterpret_cast<E*>(words_.data());
  }

 private:
  std::vector<uint64_t> words_;
};

// ORDER BY. NULL sorts as the smallest value: NULLs come first ascending and
// last descending (as in SQLite and MySQL). Sorting is stable: rows that tie
// on every key keep their order in the input.
class CompiledOrder {
 public:
  struct Key {
    Type type = Type::kInt64;
    ColumnId column;
    const void* data = nullptr;
    const uint64_t* validity = nullptr;
    bool desc = false;
  };

  // Resolves `order_by` against `table` into `out` (replacing it).
  // InvalidArgument for an unknown column.
  static absl::Status Compile(const Table& table, const std::vector<OrderSpec>& order_by,
                              CompiledOrder* out);

  bool empty() const { return keys_.empty(); }
  const absl::InlinedVector<Key, 2>& keys() const { return keys_; }
  // Orders ids[0, n): afterwards ids[0, min(keep, n)) are the first rows in
  // order; the rest are in unspecified order. keep = SIZE_MAX sorts all.
  // Cost O(n log keep); one allocation when n > 32, unless `scratch` is
  // given.
  void Sort(RowId* ids, size_t n, size_t keep = SIZE_MAX, SortScratch* scratch = nullptr) const;
  void Sort(std::vector<RowId>* ids, size_t keep = SIZE_MAX) const {
    Sort(ids->data(), ids->size(), keep);
  }
  // Re-reads the keys' storage pointers from `table` (a prepared query,
  // after writes may have moved them).
  void Refresh(const Table& table);
  // <0, 0, >0 comparing two live rows on the keys (no tie-break).
  int Compare(RowId a, RowId b) const;

 private:
  absl::InlinedVector<Key, 2> keys_;
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_ORDER_H_
