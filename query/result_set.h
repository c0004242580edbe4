// ResultSet: the rows a query returned; Page: one page of them plus meta.
//
// A ResultSet owns an internal::RowSetData (engine/row.h): the rows as Row
// handles (table + RowId + generation) plus whatever the layers above attach
// to them (preloaded children, extras such as counts). Each Row points back
// into the set, so Row::Preloaded / Row::Extra work on rows read from it.
//
// Validity: reading the rows is valid while the database is not modified.
// After a write the set still holds the rows as they were selected (its order
// and membership are not refreshed); each Row checks its own generation, so
// a row deleted since returns FailedPrecondition instead of another row's
// data, and a row updated since shows its new values. Moving a ResultSet
// keeps its rows valid; the set is not copyable.

#ifndef KIN_QUERY_RESULT_SET_H_
#define KIN_QUERY_RESULT_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/ids.h"
#include "engine/row.h"
#include "engine/table.h"

namespace kin {

// One extra (a WithCount count, a WithAggregate result) of every row of a
// ResultSet, looked up by name once: for loops over large results, where
// Row::Extra's per-row name lookup and StatusOr would dominate. Valid while
// the ResultSet lives (moving the set keeps it valid).
class ExtraColumn {
 public:
  explicit ExtraColumn(const internal::RowSetData::Extra& extra) : extra_(&extra) {}

  const std::string& name() const { return extra_->name; }
  size_t size() const {
    return extra_->unboxed ? extra_->ints.size() : extra_->values.size();
  }
  // Row i's value (NULL where an aggregate had no rows). REQUIRES: i < size().
  Value operator[](size_t i) const { return extra_->Get(i); }
  // True when the values are int64s or NULL, held unboxed: counts, and Sum /
  // Min / Max of an int64 column.
  bool is_int64() const { return extra_->unboxed; }
  // Unchecked typed reads. REQUIRES: is_int64(), i < size(); Int64 also
  // !IsNull(i).
  bool IsNull(size_t i) const { return !extra_->nulls.empty() && extra_->nulls[i] != 0; }
  int64_t Int64(size_t i) const { return extra_->ints[i]; }

 private:
  const internal::RowSetData::Extra* extra_;
};

class ResultSet {
 public:
  // An empty set with no table (allocates nothing).
  ResultSet() = default;
  // Adopts `data`, whose rows must already point at `data` (as FromRowIds
  // builds them). `table` may be nullptr for an empty set.
  ResultSet(const Table* table, std::unique_ptr<internal::RowSetData> data);
  // The rows of `table` at `ids`, in that order, ready for the query layer
  // to attach preloads and extras (data()). REQUIRES: live rows.
  static ResultSet FromRowIds(const Table& table, std::span<const RowId> ids);
  // The same rows with nothing to attach (Row::Preloaded / Row::Extra
  // answer NotFound, data() must not be called): one allocation less, for
  // plain reads such as a relation's Get(). REQUIRES: live rows.
  static ResultSet Plain(const Table& table, std::span<const RowId> ids);
  // The same as bare data, each Row built as Row(table, id, generation,
  // data, index): for the children sets of preloads
  // (RowSetData::Preload::children). REQUIRES: live rows.
  static std::unique_ptr<internal::RowSetData> MakeData(const Table& table,
                                                       std::span<const RowId> ids);

  ResultSet(ResultSet&&) = default;
  ResultSet& operator=(ResultSet&&) = default;
  ResultSet(const ResultSet&) = delete;
  ResultSet& operator=(const ResultSet&) = delete;

  // The table the rows belong to (nullptr for a default-constructed set).
  const Table* table() const { return table_; }
  size_t size() const { return all().size(); }
  bool empty() const { return size() == 0; }
  // REQUIRES: i < size().
  const Row& operator[](size_t i) const { return all()[i]; }
  std::span<const Row> rows() const { return all(); }
  const Row* begin() const { return rows().data(); }
  const Row* end() const { return rows().data() + size(); }

  // The rows' ids, in order.
  std::vector<RowId> row_ids() const;

  // The extra `name` of every row (see ExtraColumn): NotFound "no extra
  // named 'x' on this result" when the query attached none.
  absl::StatusOr<ExtraColumn> Extras(absl::string_view name) const;

  // For the layers that attach preloads and extras. REQUIRES: built by
  // FromRowIds (not Plain, not default-constructed), not moved from.
  internal::RowSetData& data() { return *data_; }
  const internal::RowSetData& data() const { return *data_; }

  // One row per line ({id: 1, title: "a"}), for logs and test failures.
  std::string DebugString() const;

 private:
  const std::vector<Row>& all() const { return data_ != nullptr ? data_->rows : plain_; }

  const Table* table_ = nullptr;
  // The rows live in data_->rows when the set can carry attachments, else
  // in plain_ (their Row::set_ is null).
  std::unique_ptr<internal::RowSetData> data_;
  std::vector<Row> plain_;
};

// Pagination meta, as Lucid's paginator reports it.
struct PageMeta {
  int64_t total = 0;         // rows matching the query (all pages)
  int64_t per_page = 0;
  int64_t current_page = 0;  // the page asked for (may be past the end)
  int64_t first_page = 1;
  int64_t last_page = 1;     // ceil(total / per_page), at least 1
  bool has_pages = false;       // last_page > 1
  bool has_more_pages = false;  // current_page < last_page
  bool is_empty = true;         // this page holds no rows

  friend bool operator==(const PageMeta&, const PageMeta&) = default;
  // {total: 41, per_page: 20, current_page: 3, ...}
  std::string DebugString() const;
};

struct Page {
  ResultSet rows;
  PageMeta meta;
};

}  // namespace kin

#endif  // KIN_QUERY_RESULT_SET_H_
