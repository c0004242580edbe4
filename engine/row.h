// Row: a light, checked handle to one row (table + slot + generation).
//
// A Row stays valid while its row lives; after the row is deleted (even if
// its slot is reused by a later insert) every accessor returns a
// FailedPrecondition "stale or deleted row" status instead of another row's
// data. Rows that come from a query result also carry that result's
// preloaded relations and extras (counts, aggregates): those are owned by the
// ResultSet and readable while it lives.

#ifndef KIN_ENGINE_ROW_H_
#define KIN_ENGINE_ROW_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/ids.h"
#include "engine/value.h"

namespace kin {

class Table;
class Row;

namespace internal {

// Rows plus what a query attached to them. Lives in engine so Row can read
// it; filled by the query layer.
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
  std::vector<Row> rows;
  std::vector<Preload> preloads;
  std::vector<Extra> extras;
};

}  // namespace internal

class Row {
 public:
  Row() = default;
  Row(const Table* table, RowId id, uint32_t generation,
      const internal::RowSetData* set = nullptr, uint32_t index = 0)
      : table_(table), id_(id), generation_(generation), set_(set), index_(index) {}

  const Table* table() const { return table_; }
  RowId id() const { return id_; }
  uint32_t generation() const { return generation_; }

  // True when the handle points at a live row of its table.
  bool valid() const;
  // OK, or FailedPrecondition naming the table when stale or empty.
  absl::Status CheckValid() const;

  // The cell in `column` (NULL when null). InvalidArgument for an unknown
  // column, FailedPrecondition for a stale row.
  absl::StatusOr<Value> Get(absl::string_view column) const;
  // Typed reads: InvalidArgument when the column has another type or the
  // cell is NULL. GetString's view is valid until the next write.
  absl::StatusOr<int64_t> GetInt64(absl::string_view column) const;
  absl::StatusOr<double> GetDouble(absl::string_view column) const;
  absl::StatusOr<bool> GetBool(absl::string_view column) const;
  absl::StatusOr<absl::string_view> GetString(absl::string_view column) const;

  // Children preloaded by the query that produced this row (empty list for a
  // parent without children). NotFound when the query had no such preload.
  absl::StatusOr<std::span<const Row>> Preloaded(absl::string_view relation) const;
  // A value a query attached (WithCount → "posts_count", WithAggregate →
  // its alias). NotFound when absent. (A loop over a large result reads an
  // extra faster through ResultSet::Extras.)
  absl::StatusOr<Value> Extra(absl::string_view name) const;

  // {id: 1, email: "a@b"}: all columns, for logs and test failures.
  std::string DebugString() const;

  // Same table, slot and generation.
  friend bool operator==(const Row& a, const Row& b) {
    return a.table_ == b.table_ && a.id_ == b.id_ && a.generation_ == b.generation_;
  }
  friend bool operator!=(const Row& a, const Row& b) { return !(a == b); }

 private:
  absl::StatusOr<ColumnId> Typed(absl::string_view column, Type type) const;

  const Table* table_ = nullptr;
  RowId id_;
  uint32_t generation_ = 0;
  const internal::RowSetData* set_ = nullptr;
  uint32_t index_ = 0;
};

}  // namespace kin

#endif  // KIN_ENGINE_ROW_H_
