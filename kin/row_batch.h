// RowBatch: rows given column by column, for bulk loads (the idea of DuckDB's
// Appender). One typed vector per column and no Value per cell, so a level
// or a save game's worth of rows goes in at memory speed.
//
//   kin::RowBatch batch;
//   batch.Int64("user_id", std::move(user_ids)).String("title", std::move(titles));
//   KIN_ASSIGN_OR_RETURN(size_t n, db.InsertBatch("posts", std::move(batch)));
//
// Columns left out get their default, NULL, or (an auto-increment primary
// key) the next ids, as Insert does.
//
// Memory: into an empty table, each int64, double and bool vector moved
// into the batch (and the batch moved into InsertBatch) becomes the table's
// column itself, so a bulk load holds its data once, not twice; into a
// table with rows, the cells are appended and the batch's vectors freed
// when the call returns. Strings are copied into the column's store (8-byte
// cells, long strings in one blob) and each given string's buffer is freed
// as soon as it is copied.

#ifndef KIN_ROW_BATCH_H_
#define KIN_ROW_BATCH_H_

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kin {

// A column's cells, one per row: the alternative matches the column's type
// (bool cells as uint8_t 0/1).
using ColumnValues = std::variant<std::vector<int64_t>, std::vector<double>, std::vector<uint8_t>,
                                  std::vector<std::string>>;

class RowBatch {
 public:
  RowBatch& Int64(std::string column, std::vector<int64_t> values) {
    return Add(std::move(column), std::move(values));
  }
  RowBatch& Double(std::string column, std::vector<double> values) {
    return Add(std::move(column), std::move(values));
  }
  RowBatch& Bool(std::string column, const std::vector<bool>& values) {
    return Add(std::move(column), std::vector<uint8_t>(values.begin(), values.end()));
  }
  RowBatch& String(std::string column, std::vector<std::string> values) {
    return Add(std::move(column), std::move(values));
  }
  // Marks cells of a column NULL (true = NULL), before or after its values
  // are given; the column must be nullable and `is_null` as long as its
  // values. A second Nulls() for the same column replaces the first.
  RowBatch& Nulls(const std::string& column, std::vector<bool> is_null) {
    for (Column& c : columns_) {
      if (c.name == column) {
        c.nulls = std::move(is_null);
        null_columns_.push_back(column);
        return *this;
      }
    }
    null_columns_.push_back(column);
    for (auto& [name, nulls] : pending_nulls_) {
      if (name == column) {
        nulls = std::move(is_null);
        return *this;
      }
    }
    pending_nulls_.emplace_back(column, std::move(is_null));
    return *this;
  }

 private:
  friend class Table;
  struct Column {
    std::string name;
    ColumnValues data;
    std::vector<bool> nulls;  // empty: no NULLs
  };
  RowBatch& Add(std::string column, ColumnValues data) {
    std::vector<bool> nulls;
    for (auto it = pending_nulls_.begin(); it != pending_nulls_.end(); ++it) {
      if (it->first == column) {
        nulls = std::move(it->second);
        pending_nulls_.erase(it);
        break;
      }
    }
    columns_.push_back({std::move(column), std::move(data), std::move(nulls)});
    return *this;
  }

  std::vector<Column> columns_;
  // Nulls() given before the column's values, applied by Add().
  std::vector<std::pair<std::string, std::vector<bool>>> pending_nulls_;
  std::vector<std::string> null_columns_;  // to report Nulls() on a missing column
};

}  // namespace kin

#endif  // KIN_ROW_BATCH_H_
