// Row: a light, checked handle to one row (table + slot + generation), 16
// bytes, freely copyable.
//
// A Row stays valid while its row lives; after the row is deleted (even if
// its slot is reused by a later insert), or its table dropped (even if a
// table of that name was created again), every accessor returns a
// FailedPrecondition "stale or deleted row" status instead of another row's
// data. A Row never reads freed memory while its Database lives. What a
// query attached to a row (preloads, counts, aggregates) is read through
// kin::ResultRow (query/result_set.h), the row type a ResultSet holds.

#ifndef KIN_ROW_H_
#define KIN_ROW_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class Table;
class Row;

class Row {
 public:
  Row() = default;
  Row(const Table* table, RowId id, uint32_t generation)
      : table_(table), id_(id), generation_(generation) {}

  const Table* table() const { return table_; }
  RowId id() const { return id_; }
  uint32_t generation() const { return generation_; }

  // True when the handle points at a live row of its table.
  bool valid() const;
  // OK, or FailedPrecondition naming the table when stale or empty.
  absl::Status CheckValid() const;

  // The cell in `column` (NULL when null). InvalidArgument for an unknown
  // column, FailedPrecondition for a stale row.
  absl::StatusOr<Value> Get(std::string_view column) const;
  // Typed reads: InvalidArgument when the column has another type or the
  // cell is NULL. GetString's view is valid until the next write.
  absl::StatusOr<int64_t> GetInt64(std::string_view column) const;
  absl::StatusOr<double> GetDouble(std::string_view column) const;
  absl::StatusOr<bool> GetBool(std::string_view column) const;
  absl::StatusOr<std::string_view> GetString(std::string_view column) const;

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
};

}  // namespace kin

#endif  // KIN_ROW_H_
