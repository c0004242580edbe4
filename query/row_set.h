// Row-set internals: the levels of a query result behind kin::ResultSet and
// kin::ResultRow (kin/result_set.h). The query layer builds them; nothing
// outside kin reads them.

#ifndef KIN_QUERY_ROW_SET_H_
#define KIN_QUERY_ROW_SET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kin/result_set.h"
#include "kin/value.h"

namespace kin {
namespace internal {

struct RowSetRoot;

// Rows plus what a query attached to them: one level of a result (the top
// rows, or the children of one preload).
struct RowSetData {
  struct Preload {
    std::string name;
    // Children of rows[i] are children->rows[offsets[i] .. offsets[i + 1]).
    std::vector<uint32_t> offsets;
    std::unique_ptr<RowSetData> children;
  };
  // One named value per row (a count, an aggregate). Int64 results are
  // kept unboxed when `unboxed` is set, so a count over 100k parents builds
  // no Value per row; otherwise `values` holds them.
  struct Extra {
    std::string name;
    std::vector<Value> values;  // one per row, unless unboxed
    bool unboxed = false;
    std::vector<int64_t> ints;   // unboxed: one per row
    std::vector<uint8_t> nulls;  // unboxed: 1 where the value is NULL; empty if none is
    Value Get(size_t row) const {
      if (!unboxed) return values[row];
      if (!nulls.empty() && nulls[row] != 0) return Value();
      return Value(ints[row]);
    }
  };
  std::vector<ResultRow> rows;
  std::vector<Preload> preloads;
  std::vector<Extra> extras;
  // Query::Select: per column of the rows' table, 1 when selected; empty
  // when every column is.
  std::vector<uint8_t> selected;
  // The result this level belongs to, shared by all its levels.
  RowSetRoot* root = nullptr;
};

// Owns a result's top level (and so every level) and counts its holders: the
// ResultSet and every ResultRow copied out of it.
struct RowSetRoot {
  std::atomic<int64_t> refs{1};
  std::unique_ptr<RowSetData> data;

  void Ref() { refs.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

}  // namespace internal

}  // namespace kin

#endif  // KIN_QUERY_ROW_SET_H_
