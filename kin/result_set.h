// ResultSet: the rows a query returned; ResultRow: one of them, with what the
// query attached to it; Page: one page of them plus meta.
//
// A ResultSet owns its rows as ResultRows (a Row handle plus its place in
// the set) and whatever the query attached to them: preloaded children
// (themselves ResultRows, with their own attachments) and extras such as
// counts. ResultRow::Preloaded / Extra read them.
//
// Lifetime: iterating a set by reference costs nothing; a ResultRow COPIED
// out of a set (or out of a Preloaded span) keeps the whole result alive, so
// Preloaded / Extra on it never read freed memory, even after the ResultSet
// is destroyed. Slicing a ResultRow into a plain Row keeps only the handle.
//
// Validity: reading the rows is valid while the database is not modified.
// After a write the set still holds the rows as they were selected (its order
// and membership are not refreshed); each Row checks its own generation, so
// a row deleted since (or of a table dropped since) returns
// FailedPrecondition instead of another row's data, and a row updated since
// shows its new values. Moving a ResultSet keeps its rows valid; the set is
// not copyable.

#ifndef KIN_RESULT_SET_H_
#define KIN_RESULT_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/ids.h"
#include "kin/row.h"
#include "kin/value.h"

namespace kin {

class ExtraColumn;
class ResultRow;

namespace internal {
struct RowSetData;  // query/row_set.h
struct RowSetRoot;
}  // namespace internal

// A row of a ResultSet: the Row handle plus what the query attached to it.
class ResultRow : public Row {
 public:
  ResultRow() = default;
  ResultRow(const Table* table, RowId id, uint32_t generation,
            const internal::RowSetData* set = nullptr, uint32_t index = 0)
      : Row(table, id, generation), set_(set), index_(index) {}
  // A copy keeps the result it came from alive (see the file comment).
  ResultRow(const ResultRow& other) : Row(other), set_(other.set_), index_(other.index_) { Hold(); }
  ResultRow& operator=(const ResultRow& other) {
    if (this != &other) {
      Release();
      Row::operator=(other);
      set_ = other.set_;
      index_ = other.index_;
      Hold();
    }
    return *this;
  }
  // A move takes over the other's hold, if any (rows stored in a set hold
  // none: the set owns them).
  ResultRow(ResultRow&& other) noexcept
      : Row(other), set_(other.set_), index_(other.index_), holds_(other.holds_) {
    other.holds_ = false;
  }
  ResultRow& operator=(ResultRow&& other) noexcept {
    if (this != &other) {
      Release();
      Row::operator=(other);
      set_ = other.set_;
      index_ = other.index_;
      holds_ = std::exchange(other.holds_, false);
    }
    return *this;
  }
  ~ResultRow() { Release(); }

  // Row's reads, restricted to the columns the query selected (Query::
  // Select): another column is InvalidArgument "table 'posts': column 'body'
  // was not selected (selected: id, title)". Without a Select, Row's.
  absl::StatusOr<Value> Get(std::string_view column) const;
  absl::StatusOr<int64_t> GetInt64(std::string_view column) const;
  absl::StatusOr<double> GetDouble(std::string_view column) const;
  absl::StatusOr<bool> GetBool(std::string_view column) const;
  absl::StatusOr<std::string_view> GetString(std::string_view column) const;

  // Children preloaded by the query that produced this row (empty list for a
  // parent without children). NotFound when the query had no such preload.
  absl::StatusOr<std::span<const ResultRow>> Preloaded(std::string_view relation) const;
  // An extra of those children (a ManyToMany's "pivot_progress", a nested
  // WithCount's "tags_count"), aligned with Preloaded(relation): entry i is
  // child i's. Looked up once per parent, read without a per-row lookup or
  // StatusOr. NotFound naming the relation when it was not preloaded, or the
  // extra when its children have none by that name.
  absl::StatusOr<ExtraColumn> PreloadedExtras(std::string_view relation,
                                              std::string_view name) const;
  // A value a query attached (WithCount → "posts_count", WithAggregate →
  // its alias). NotFound when absent. (A loop over a large result reads an
  // extra faster through ResultSet::Extras.)
  absl::StatusOr<Value> Extra(std::string_view name) const;

 private:
  // OK unless the query selected columns and `column` is a known column not
  // among them (an unknown one is left to Row's read to report).
  absl::Status CheckSelected(std::string_view column) const;

  // Take / drop a reference on the result this row belongs to (if any).
  void Hold();
  void Release() {
    if (holds_) ReleaseHeld();
  }
  void ReleaseHeld();

  const internal::RowSetData* set_ = nullptr;
  uint32_t index_ = 0;
  bool holds_ = false;  // holds a reference on set_->root
};

// One extra (a WithCount count, a WithAggregate result, a pivot column) of
// every row of a ResultSet (ResultSet::Extras), or of one parent's
// preloaded rows (ResultRow::PreloadedExtras), looked up by name once: for
// loops over large results, where ResultRow::Extra's per-row name lookup
// and StatusOr would dominate. It keeps nothing alive: valid while the
// ResultSet lives (moving the set keeps it valid), or a ResultRow copy
// that holds it.
class ExtraColumn {
 public:
  const std::string& name() const { return *name_; }
  size_t size() const { return unboxed_ ? ints_.size() : values_.size(); }
  // Row i's value (NULL where an aggregate had no rows). REQUIRES: i < size().
  Value operator[](size_t i) const {
    if (!unboxed_) return values_[i];
    if (IsNull(i)) return Value();
    return Value(ints_[i]);
  }
  // True when the values are int64s or NULL, held unboxed: counts, and Sum /
  // Min / Max of an int64 column.
  bool is_int64() const { return unboxed_; }
  // Unchecked typed reads. REQUIRES: is_int64(), i < size(); Int64 also
  // !IsNull(i).
  bool IsNull(size_t i) const { return !nulls_.empty() && nulls_[i] != 0; }
  int64_t Int64(size_t i) const { return ints_[i]; }

 private:
  friend class ResultSet;
  friend class ResultRow;
  ExtraColumn(const std::string* name, bool unboxed, std::span<const Value> values,
              std::span<const int64_t> ints, std::span<const uint8_t> nulls)
      : name_(name), unboxed_(unboxed), values_(values), ints_(ints), nulls_(nulls) {}

  const std::string* name_;
  bool unboxed_;
  std::span<const Value> values_;
  std::span<const int64_t> ints_;
  std::span<const uint8_t> nulls_;
};

class ResultSet {
 public:
  // An empty set with no table (allocates nothing).
  ResultSet() = default;
  // The rows of `table` at `ids`, in that order, ready for the query layer
  // to attach preloads and extras (data()). REQUIRES: live rows.
  static ResultSet FromRowIds(const Table& table, std::span<const RowId> ids);
  // The same rows with nothing to attach (ResultRow::Preloaded / Extra
  // answer NotFound, data() must not be called): one allocation less, for
  // plain reads such as a relation's Get(). REQUIRES: live rows.
  static ResultSet Plain(const Table& table, std::span<const RowId> ids);
  // One level below `parent` (the children of a preload, to be attached to
  // parent as RowSetData::Preload::children): its rows belong to parent's
  // result. REQUIRES: live rows.
  static std::unique_ptr<internal::RowSetData> MakeData(const Table& table,
                                                        std::span<const RowId> ids,
                                                        const internal::RowSetData& parent);

  ResultSet(ResultSet&& other) noexcept
      : table_(other.table_),
        root_(std::exchange(other.root_, nullptr)),
        rows_(std::exchange(other.rows_, nullptr)),
        plain_(std::move(other.plain_)) {}
  ResultSet& operator=(ResultSet&& other) noexcept {
    if (this != &other) {
      Unref();
      table_ = other.table_;
      root_ = std::exchange(other.root_, nullptr);
      rows_ = std::exchange(other.rows_, nullptr);
      plain_ = std::move(other.plain_);
    }
    return *this;
  }
  ResultSet(const ResultSet&) = delete;
  ResultSet& operator=(const ResultSet&) = delete;
  ~ResultSet() { Unref(); }

  // The table the rows belong to (nullptr for a default-constructed set).
  const Table* table() const { return table_; }
  size_t size() const { return all().size(); }
  bool empty() const { return size() == 0; }
  // REQUIRES: i < size().
  const ResultRow& operator[](size_t i) const { return all()[i]; }
  std::span<const ResultRow> rows() const { return all(); }
  const ResultRow* begin() const { return rows().data(); }
  const ResultRow* end() const { return rows().data() + size(); }

  // The rows' ids, in order.
  std::vector<RowId> row_ids() const;

  // The extra `name` of every row (see ExtraColumn): NotFound "no extra
  // named 'x' on this result" when the query attached none.
  absl::StatusOr<ExtraColumn> Extras(std::string_view name) const;

  // For the layers that attach preloads and extras. REQUIRES: built by
  // FromRowIds (not Plain, not default-constructed), not moved from.
  internal::RowSetData& data();
  const internal::RowSetData& data() const;

  // One row per line ({id: 1, title: "a"}), for logs and test failures.
  std::string DebugString() const;

 private:
  const std::vector<ResultRow>& all() const { return rows_ != nullptr ? *rows_ : plain_; }
  void Unref();

  const Table* table_ = nullptr;
  // The rows live in root_->data->rows when the set can carry attachments,
  // else in plain_ (their set is null).
  internal::RowSetRoot* root_ = nullptr;  // one reference held
  // &root_->data->rows (heap-allocated with the root, so a moved set keeps
  // it), or nullptr for a plain set.
  const std::vector<ResultRow>* rows_ = nullptr;
  std::vector<ResultRow> plain_;
};

// Pagination meta, as Lucid's paginator reports it.
struct PageMeta {
  int64_t total = 0;  // rows matching the query (all pages)
  int64_t per_page = 0;
  int64_t current_page = 0;  // the page asked for (may be past the end)
  int64_t first_page = 1;
  int64_t last_page = 1;        // ceil(total / per_page), at least 1
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

#endif  // KIN_RESULT_SET_H_
