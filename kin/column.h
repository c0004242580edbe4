// Typed column handles and typed iteration: the path for hot loops.
//
//   KIN_ASSIGN_OR_RETURN(kin::Column<int64_t> score, db.Int64Column("players", "score"));
//   KIN_ASSIGN_OR_RETURN(kin::Column<std::string_view> name,
//                        db.StringColumn("players", "name"));
//   KIN_ASSIGN_OR_RETURN(int64_t s, score.Get(player));       // no name lookup
//   KIN_RETURN_IF_ERROR(db.Set(player, score, s + 10));        // as Update
//   KIN_ASSIGN_OR_RETURN(auto players, db.Each("players", score, name));
//   for (auto [row, s, n] : players) { /* int64_t s, std::string_view n */ }
//   KIN_RETURN_IF_ERROR(db.Set(player, kin::Assign(score, 0), kin::AssignNull(gold)));
//   KIN_ASSIGN_OR_RETURN(auto items, db.Each(player, "items", weight));  // children
//   for (auto [item, w] : items) { /* the HasMany children, as Related().Get() */ }
//
// A Column<T> names one column of one table, resolved and type-checked once
// by Database::Int64Column / DoubleColumn / BoolColumn / StringColumn (T is
// int64_t, double, bool or std::string_view). It is 16 bytes and freely
// copyable; reads through it do no name lookup and build no kin::Value.
//
// Validity: a handle stays valid while its table exists. After DropTable
// (even once a table of that name is created again) every call through it
// returns FailedPrecondition "stale column handle", and never reads freed
// memory: a dropped table's small object lives as long as its Database.
// Resolve the column again after re-creating a table.
//
// Not thread-safe for writes, as Database: concurrent reads are safe.

#ifndef KIN_COLUMN_H_
#define KIN_COLUMN_H_

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/ids.h"
#include "kin/row.h"
#include "kin/string_cell.h"
#include "kin/value.h"

namespace kin {

class Database;
class Table;  // engine/table.h (internal)

template <typename T>
class Column;

namespace column_internal {

template <typename T>
inline constexpr bool kIsColumnType =
    std::is_same_v<T, int64_t> || std::is_same_v<T, double> || std::is_same_v<T, bool> ||
    std::is_same_v<T, std::string_view>;

// Raw pointers into a table's storage at one write version, filled out of
// line (kin/column.cc) so that this header names no engine type. Valid until
// the table's write_version moves; kin::Each re-reads them when it does.
struct TableStorage {
  const uint64_t* live = nullptr;         // live bitmap words
  const uint32_t* generations = nullptr;  // nullptr while every generation is 0
  uint32_t slot_count = 0;
};
struct ColumnStorage {
  const void* cells = nullptr;  // int64_t, double, uint8_t or a string cell (uint64_t) per slot
  const char* blob = nullptr;   // a string column's blob (kin/string_cell.h)
  const uint64_t* validity = nullptr;  // bit set = not NULL; nullptr: no NULL cells
};

// The write counter of `table` (Table::write_version()): its address is
// stable for the table's life.
const uint64_t* WriteVersion(const Table* table);
// Table::layout_version(): a range whose table dropped a column since it
// started ends, as one over a dropped table does (its ids may name other
// columns now).
uint32_t LayoutVersion(const Table* table);
void Load(const Table* table, TableStorage* out);
void Load(const Table* table, ColumnId column, ColumnStorage* out);
// The foreign-key index list of `key` in `column` of `table` (a HasMany's
// children, in the order Related(parent, relation).Get() gives them); empty
// for a NULL key or a dropped table. Valid until the table's write_version
// moves.
std::span<const RowId> LoadChildren(const Table* table, ColumnId column, const Value& key);

template <typename T>
T Cell(const ColumnStorage& c, uint32_t slot) {
  if constexpr (std::is_same_v<T, bool>) {
    return static_cast<const uint8_t*>(c.cells)[slot] != 0;
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return string_cell::Decode(static_cast<const uint64_t*>(c.cells) + slot, c.blob);
  } else {
    return static_cast<const T*>(c.cells)[slot];
  }
}

}  // namespace column_internal

// A resolved, typed column. Default-constructed: empty, every call is
// FailedPrecondition.
template <typename T>
class Column {
  static_assert(column_internal::kIsColumnType<T>,
                "kin::Column<T>: T is int64_t, double, bool or std::string_view");

 public:
  using value_type = T;

  Column() = default;

  // The cell of `row`. Errors, as Row::GetInt64 and friends:
  // FailedPrecondition for an empty or stale handle (this one or the row),
  // InvalidArgument for a row of another table or another database, and
  // InvalidArgument "players.score: value is NULL" for a NULL cell. A
  // string_view is valid until the next write to the table. Cost: a few
  // nanoseconds over a raw span read (bench/row_read_benchmark.cc).
  absl::StatusOr<T> Get(const Row& row) const;
  // The cell, or nullopt when it is NULL; the same errors otherwise.
  absl::StatusOr<std::optional<T>> GetNullable(const Row& row) const;
  // Whether the cell is NULL; the same errors as Get except for NULL.
  absl::StatusOr<bool> IsNull(const Row& row) const;

  // OK while the handle's table exists and its column ids hold;
  // FailedPrecondition "stale column handle" when the handle is empty, its
  // table was dropped, or a column of the table was dropped since it was
  // resolved (Database::DropColumn, or a rolled-back migration that added
  // or dropped columns). Renames, added columns and index changes keep it.
  absl::Status CheckValid() const;
  // The table and column (engine/table.h), for kin's own layers. A handle
  // made stale by a dropped column answers an id past the table's columns,
  // which every check of a handle reports as stale.
  const Table* table() const { return table_; }
  ColumnId id() const;

  friend bool operator==(const Column& a, const Column& b) {
    return a.table_ == b.table_ && a.id_ == b.id_;
  }
  friend bool operator!=(const Column& a, const Column& b) { return !(a == b); }

 private:
  friend class Database;
  Column(const Table* table, ColumnId id, uint32_t layout)
      : table_(table), id_(id), layout_(layout) {}

  // The error Get reports for `row` when the fast check fails.
  absl::Status ReadError(const Row& row, bool null_is_error) const;

  const Table* table_ = nullptr;
  ColumnId id_;
  uint32_t layout_ = 0;  // the table's layout_version() when resolved
};

extern template class Column<int64_t>;
extern template class Column<double>;
extern template class Column<bool>;
extern template class Column<std::string_view>;

// One cell of a typed multi-column write, Database::Set(row, assignments...):
// made by kin::Assign (the value's type checked at compile time against the
// column's) or kin::AssignNull. It borrows the column handle's table, so use
// it while the handle is valid (typically within the Set call).
struct Assignment {
  const Table* table = nullptr;
  ColumnId column;
  Value value;
};

template <typename T>
Assignment Assign(const Column<T>& column, std::type_identity_t<T> value) {
  return Assignment{column.table(), column.id(), Value(value)};
}
template <typename T>
Assignment AssignNull(const Column<T>& column) {
  return Assignment{column.table(), column.id(), Value()};
}

namespace column_internal {

// What EachRange and ChildRange read: the table's rows and the columns'
// cells, re-read when the table's write counter moves (Reload).
template <typename... T>
struct RangeStorage {
  RangeStorage(const Table* t, const Column<T>&... columns)
      : table(t), ids{columns.id()...}, version(WriteVersion(t)), layout(LayoutVersion(t)) {}

  bool stale() const { return *version != seen_version; }
  void Reload() {
    seen_version = *version;
    if (LayoutVersion(table) != layout) {
      rows = TableStorage();  // no slots: the loop ends
      return;
    }
    Load(table, &rows);
    for (size_t i = 0; i < sizeof...(T); ++i) Load(table, ids[i], &columns[i]);
  }
  // Whether none of the columns is NULL at `slot`.
  bool NotNull(uint32_t slot) const {
    for (size_t i = 0; i < sizeof...(T); ++i) {
      const uint64_t* validity = columns[i].validity;
      if (validity != nullptr && (validity[slot >> 6] >> (slot & 63) & 1) == 0) return false;
    }
    return true;
  }
  uint32_t Generation(uint32_t slot) const {
    return rows.generations == nullptr ? 0 : rows.generations[slot];
  }
  std::tuple<Row, T...> Element(uint32_t slot) const {
    return Element(slot, std::index_sequence_for<T...>());
  }
  template <size_t... I>
  std::tuple<Row, T...> Element(uint32_t slot, std::index_sequence<I...>) const {
    return std::tuple<Row, T...>(Row(table, RowId(slot), Generation(slot)),
                                 Cell<T>(columns[I], slot)...);
  }

  const Table* table;
  ColumnId ids[sizeof...(T) + 1];  // + 1: no zero-length array for no columns
  const uint64_t* version;
  uint64_t seen_version = 0;
  uint32_t layout;
  TableStorage rows;
  ColumnStorage columns[sizeof...(T) + 1];
};

}  // namespace column_internal

// Typed iteration over a table's live rows: Database::Each returns one.
// Each element is a std::tuple<Row, T...> (structured-bindable), built on
// the fly: no allocation per row, no name lookup, no kin::Value.
//
// NULLs: a row whose cell is NULL in any of the columns is skipped, as an
// EnTT view skips entities without one of its components. Read nullable
// columns you need to see NULL in with Column::GetNullable(row).
//
// Writes during the loop are allowed and safe (for example db.Set on the
// current row, db.Delete, db.Insert): the range watches the table's write
// counter and, when it moved, re-reads the storage before the next row, so
// it never reads freed memory. Rows are visited in slot order from where
// the loop stands: a row deleted ahead is skipped, a row inserted into a
// slot ahead is visited (an insert may reuse an earlier free slot, which is
// not). A string_view already bound may dangle after a write to its cell or
// an insert. A dropped table ends the loop.
template <typename... T>
class EachRange {
 public:
  using value_type = std::tuple<Row, T...>;

  class iterator {
   public:
    using value_type = std::tuple<Row, T...>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    value_type operator*() const { return range_->storage_.Element(slot_); }
    iterator& operator++() {
      if (range_->storage_.stale()) {
        Seek(slot_ + 1);  // the loop wrote to the table: re-read its storage
      } else if (pending_ != 0) {
        slot_ = (slot_ & ~uint32_t{63}) + static_cast<uint32_t>(std::countr_zero(pending_));
        pending_ &= pending_ - 1;
      } else {
        Seek(((slot_ >> 6) + 1) << 6);
      }
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.slot_ == b.slot_; }
    friend bool operator!=(const iterator& a, const iterator& b) { return a.slot_ != b.slot_; }

   private:
    friend class EachRange;
    iterator(EachRange* range, uint32_t slot) : range_(range), slot_(slot) {}

    // The slots of 64-slot word `word` to visit: live, and not NULL in any
    // of the columns. Bits past slot_count are zero (Bitmap's invariant).
    uint64_t Candidates(uint32_t word) const {
      const column_internal::RangeStorage<T...>& storage = range_->storage_;
      uint64_t bits = storage.rows.live[word];
      for (size_t i = 0; i < sizeof...(T); ++i) {
        const uint64_t* validity = storage.columns[i].validity;
        if (validity != nullptr) bits &= validity[word];
      }
      return bits;
    }
    // Moves to the first candidate slot at or after `from` (re-reading the
    // storage if the table was written), or to kEnd.
    void Seek(uint32_t from) {
      if (range_->storage_.stale()) range_->storage_.Reload();
      const uint32_t slot_count = range_->storage_.rows.slot_count;
      const uint32_t words = (slot_count + 63) >> 6;
      uint32_t word = from >> 6;
      uint64_t bits = from < slot_count ? Candidates(word) & (~uint64_t{0} << (from & 63)) : 0;
      while (bits == 0) {
        if (++word >= words) {
          slot_ = kEnd;
          pending_ = 0;
          return;
        }
        bits = Candidates(word);
      }
      slot_ = (word << 6) + static_cast<uint32_t>(std::countr_zero(bits));
      pending_ = bits & (bits - 1);
    }

    EachRange* range_ = nullptr;
    uint32_t slot_ = kEnd;
    uint64_t pending_ = 0;  // candidates after slot_ in slot_'s word
  };

  iterator begin() {
    storage_.Reload();
    iterator it(this, 0);
    it.Seek(0);
    return it;
  }
  iterator end() { return iterator(this, kEnd); }

 private:
  friend class Database;
  static constexpr uint32_t kEnd = UINT32_MAX;

  EachRange(const Table* table, const Column<T>&... columns) : storage_(table, columns...) {}

  column_internal::RangeStorage<T...> storage_;
};

namespace column_internal {
// What Database::Each(parent, relation, ...) resolved: the child table, its
// foreign-key column and the parent's key.
struct Children {
  const Table* table = nullptr;
  ColumnId foreign_key;
  Value key;
};
}  // namespace column_internal

// Typed iteration over the children of one parent through a HasMany
// relation: Database::Each(parent, relation, columns...) returns one. Each
// element is a std::tuple<Row, T...>, in the order Related(parent,
// relation).Get() returns the rows (the foreign-key index's order: the
// order children joined the parent); no allocation per row.
//
// NULLs: as EachRange, a child with a NULL in any of the columns is skipped.
//
// Writes during the loop are allowed and safe: when the child table's write
// counter moved, the range looks the parent's key up again and goes on
// after the current child (found again by slot: one probe when the write
// left the list alone, as a Set of a non-key column does). Children that
// join the list are visited, children that leave it ahead of the loop are
// skipped; if the current child itself left, the loop goes on from its
// former position. The key is the parent's when Each was called: changing
// the parent's key inside the loop does not move the loop. A string_view
// already bound may dangle after a write. A dropped table ends the loop.
template <typename... T>
class ChildRange {
 public:
  using value_type = std::tuple<Row, T...>;

  class iterator {
   public:
    using value_type = std::tuple<Row, T...>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    value_type operator*() const { return range_->storage_.Element(current_.value); }
    iterator& operator++() {
      size_t from = pos_ + 1;
      if (range_->storage_.stale()) {
        range_->Reload();  // the loop wrote to the child table
        from = range_->Resume(pos_, current_);
      }
      Seek(from);
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }
    friend bool operator!=(const iterator& a, const iterator& b) { return a.pos_ != b.pos_; }

   private:
    friend class ChildRange;
    explicit iterator(ChildRange* range) : range_(range) {}

    // Moves to the first child at or after position `from` with no NULL in
    // the columns, or to kEnd.
    void Seek(size_t from) {
      const std::span<const RowId> kids = range_->kids_;
      for (; from < kids.size(); ++from) {
        if (range_->storage_.NotNull(kids[from].value)) {
          pos_ = from;
          current_ = kids[from];
          return;
        }
      }
      pos_ = kEnd;
    }

    ChildRange* range_ = nullptr;
    size_t pos_ = kEnd;  // position in range_->kids_
    RowId current_;      // kids_[pos_] when read: kids_ may have moved since
  };

  iterator begin() {
    Reload();
    iterator it(this);
    it.Seek(0);
    return it;
  }
  iterator end() { return iterator(this); }

 private:
  friend class Database;
  static constexpr size_t kEnd = SIZE_MAX;

  ChildRange(column_internal::Children children, const Column<T>&... columns)
      : storage_(children.table, columns...),
        foreign_key_(children.foreign_key),
        key_(std::move(children.key)) {}

  void Reload() {
    storage_.Reload();
    kids_ = column_internal::LoadChildren(storage_.table, foreign_key_, key_);
  }
  // Where to go on after `current`, which stood at position `pos` of the
  // list before it was re-read.
  size_t Resume(size_t pos, RowId current) const {
    if (pos < kids_.size() && kids_[pos] == current) return pos + 1;
    for (size_t i = 0; i < kids_.size(); ++i) {
      if (kids_[i] == current) return i + 1;
    }
    return std::min(pos, kids_.size());
  }

  column_internal::RangeStorage<T...> storage_;
  ColumnId foreign_key_;
  Value key_;
  std::span<const RowId> kids_;
};

// A column handle whose NULL cells a typed result reads as std::nullopt:
// kin::Nullable(nick) in Query::Pluck / Columns / As (a plain handle
// refuses a selected NULL, naming the column).
template <typename T>
struct NullableColumn {
  Column<T> column;
};
template <typename T>
NullableColumn<T> Nullable(const Column<T>& column) {
  return NullableColumn<T>{column};
}

namespace column_internal {

// What a typed result holds for a cell of T: string cells are copied into
// std::string, so results stay valid across later writes.
template <typename T>
using Owned = std::conditional_t<std::is_same_v<T, std::string_view>, std::string, T>;

// How Query's typed results read a Column<T> or a NullableColumn<T>.
template <typename C>
struct Projector;
template <typename T>
struct Projector<Column<T>> {
  using cell_type = T;
  using type = Owned<T>;
  static constexpr bool kNullable = false;
  static const Column<T>& Of(const Column<T>& c) { return c; }
};
template <typename T>
struct Projector<NullableColumn<T>> {
  using cell_type = T;
  using type = std::optional<Owned<T>>;
  static constexpr bool kNullable = true;
  static const Column<T>& Of(const NullableColumn<T>& c) { return c.column; }
};

// InvalidArgument "players.nick: value is NULL in a selected row (read it
// through kin::Nullable(column), or filter with WhereNotNull)".
absl::Status NullInResult(const Table* table, ColumnId column);

// One column's storage for a typed result; `has_nulls` false lets the loop
// skip the validity test.
struct ProjectedColumn {
  ColumnStorage storage;
  bool IsNull(uint32_t slot) const {
    return storage.validity != nullptr && (storage.validity[slot >> 6] >> (slot & 63) & 1) == 0;
  }
};

// The cell of `c` at `slot` as its typed result holds it; REQUIRES: not
// NULL unless C is nullable (checked by the caller).
template <typename C>
typename Projector<C>::type ProjectCell(const ProjectedColumn& c, uint32_t slot) {
  using P = Projector<C>;
  if constexpr (P::kNullable) {
    if (c.IsNull(slot)) return std::nullopt;
  }
  return typename P::type(Cell<typename P::cell_type>(c.storage, slot));
}

// The cells of `column` at `ids`, appended to `out`.
template <typename C>
absl::Status ProjectColumn(const Table* table, std::span<const RowId> ids, const C& column,
                           std::vector<typename Projector<C>::type>* out) {
  using P = Projector<C>;
  const Column<typename P::cell_type>& handle = P::Of(column);
  ProjectedColumn c;
  Load(table, handle.id(), &c.storage);
  out->reserve(out->size() + ids.size());
  if (c.storage.validity == nullptr || P::kNullable) {
    for (RowId id : ids) out->push_back(ProjectCell<C>(c, id.value));
    return absl::OkStatus();
  }
  for (RowId id : ids) {
    if (c.IsNull(id.value)) return NullInResult(table, handle.id());
    out->push_back(ProjectCell<C>(c, id.value));
  }
  return absl::OkStatus();
}

// A struct S per row of `ids`, S{cell...} in the order of `columns`.
template <typename S, typename... C, size_t... I>
absl::Status ProjectStructs(const Table* table, std::span<const RowId> ids, std::vector<S>* out,
                            std::index_sequence<I...>, const C&... columns) {
  ProjectedColumn cs[sizeof...(C) + 1];
  (Load(table, Projector<C>::Of(columns).id(), &cs[I].storage), ...);
  bool any_refused_null = false;
  ((any_refused_null =
        any_refused_null || (!Projector<C>::kNullable && cs[I].storage.validity != nullptr)),
   ...);
  out->reserve(out->size() + ids.size());
  for (RowId id : ids) {
    if (any_refused_null) {
      absl::Status null;
      ((null.ok() && !Projector<C>::kNullable && cs[I].IsNull(id.value)
            ? (void)(null = NullInResult(table, Projector<C>::Of(columns).id()))
            : (void)0),
       ...);
      if (!null.ok()) return null;
    }
    out->push_back(S{ProjectCell<C>(cs[I], id.value)...});
  }
  return absl::OkStatus();
}

// The typed results of Query and PreparedQuery (Pluck, Columns, As): the
// cells at the selected `ids` of `table`, or the error selecting them gave.
template <typename C>
absl::StatusOr<std::vector<typename Projector<C>::type>> PluckResult(
    const absl::StatusOr<const Table*>& table, std::span<const RowId> ids, const C& column) {
  if (!table.ok()) return table.status();
  std::vector<typename Projector<C>::type> out;
  absl::Status status = ProjectColumn(*table, ids, column, &out);
  if (!status.ok()) return status;
  return out;
}

template <typename... C>
absl::StatusOr<std::tuple<std::vector<typename Projector<C>::type>...>> ColumnsResult(
    const absl::StatusOr<const Table*>& table, std::span<const RowId> ids, const C&... columns) {
  if (!table.ok()) return table.status();
  std::tuple<std::vector<typename Projector<C>::type>...> out;
  absl::Status status;
  std::apply(
      [&](auto&... vectors) {
        ((status.ok() ? (void)(status = ProjectColumn(*table, ids, columns, &vectors)) : (void)0),
         ...);
      },
      out);
  if (!status.ok()) return status;
  return out;
}

template <typename S, typename... C>
absl::StatusOr<std::vector<S>> AsResult(const absl::StatusOr<const Table*>& table,
                                        std::span<const RowId> ids, const C&... columns) {
  if (!table.ok()) return table.status();
  std::vector<S> out;
  absl::Status status =
      ProjectStructs(*table, ids, &out, std::index_sequence_for<C...>(), columns...);
  if (!status.ok()) return status;
  return out;
}

}  // namespace column_internal

// The value type a typed result holds for a handle: T (std::string for a
// string column), std::optional of it for kin::Nullable(handle).
template <typename C>
using Projected = typename column_internal::Projector<C>::type;

// Typed iteration over a query's selected rows, in the query's order:
// Query::Each returns one. Each element is a std::tuple<Row, T...>. The
// rows are selected when Each is called (filter, order, offset, limit run
// then, as Get); the loop reads their cells as it goes, with no ResultRow
// and no kin::Value per row.
//
// NULLs: as EachRange, a row with a NULL in any of the columns is skipped.
//
// Writes during the loop are allowed and safe: a selected row deleted
// before the loop reaches it is skipped (also when an insert reused its
// slot), and a row written to is read with its current cells. Rows the
// write makes match (or stop matching) the query are not added (or
// removed): the selection is the one made at Each. A string_view already
// bound may dangle after a write. A dropped table ends the loop.
template <typename... T>
class QueryRange {
 public:
  using value_type = std::tuple<Row, T...>;

  class iterator {
   public:
    using value_type = std::tuple<Row, T...>;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    value_type operator*() const { return range_->storage_.Element(range_->picks_[pos_].slot); }
    iterator& operator++() {
      Seek(pos_ + 1);
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }
    friend bool operator!=(const iterator& a, const iterator& b) { return a.pos_ != b.pos_; }

   private:
    friend class QueryRange;
    explicit iterator(QueryRange* range) : range_(range) {}

    // Moves to the first selected row at or after position `from` that is
    // still the row selected (live, same generation) and has no NULL in
    // the columns, or to kEnd.
    void Seek(size_t from) {
      column_internal::RangeStorage<T...>& storage = range_->storage_;
      if (storage.stale()) storage.Reload();  // the loop wrote to the table
      const std::vector<Pick>& picks = range_->picks_;
      for (; from < picks.size(); ++from) {
        if (range_->Current(picks[from]) && storage.NotNull(picks[from].slot)) {
          pos_ = from;
          return;
        }
      }
      pos_ = kEnd;
    }

    QueryRange* range_ = nullptr;
    size_t pos_ = kEnd;
  };

  iterator begin() {
    storage_.Reload();
    iterator it(this);
    it.Seek(0);
    return it;
  }
  iterator end() { return iterator(this); }
  // How many rows the query selected (rows skipped by the loop included).
  size_t selected() const { return picks_.size(); }

 private:
  friend class Query;
  friend class PreparedQuery;
  static constexpr size_t kEnd = SIZE_MAX;

  // A selected row: its slot and the generation it had, so a slot an
  // insert reused is not mistaken for it.
  struct Pick {
    uint32_t slot;
    uint32_t generation;
  };

  QueryRange(const Table* table, std::span<const RowId> ids, const Column<T>&... columns)
      : storage_(table, columns...) {
    storage_.Reload();
    picks_.reserve(ids.size());
    for (RowId id : ids) picks_.push_back(Pick{id.value, storage_.Generation(id.value)});
  }

  bool Current(const Pick& p) const {
    const column_internal::TableStorage& rows = storage_.rows;
    return p.slot < rows.slot_count && (rows.live[p.slot >> 6] >> (p.slot & 63) & 1) != 0 &&
           storage_.Generation(p.slot) == p.generation;
  }

  column_internal::RangeStorage<T...> storage_;
  std::vector<Pick> picks_;
};

}  // namespace kin

#endif  // KIN_COLUMN_H_
