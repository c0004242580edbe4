// Table: columnar storage for one table, read through this class and written
// through Engine (so foreign-key actions and the undo log are never skipped).
//
// Storage: one contiguous typed vector per column (int64, double, bool as
// uint8_t, strings in a StringStore: 8-byte cells, short strings inline,
// longer ones in one blob per column), a validity bitmap per nullable column, and a live bitmap
// over slots. A RowId is a slot: stable while the row lives; deleted slots go on a free list and
// the most recently freed slot is reused first.
//
// Iteration order is slot order: insertion order, except that a row inserted
// after deletions takes the most recently freed slot. The order depends only
// on the sequence of operations, so a replayed simulation iterates
// identically.
//
// Spans and RowIds returned here are valid until the next write to this
// table. Not thread-safe for writes; concurrent const reads are safe.

#ifndef KIN_ENGINE_TABLE_H_
#define KIN_ENGINE_TABLE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/bitmap.h"
#include "engine/composite_index.h"
#include "engine/hash_index.h"
#include "engine/ordered_index.h"
#include "engine/parent_links.h"
#include "engine/string_store.h"
#include "engine/undo_log.h"
#include "kin/change.h"
#include "kin/ids.h"
#include "kin/row.h"
#include "kin/row_batch.h"
#include "kin/schema.h"
#include "kin/value.h"

namespace kin {

class Engine;
class RowBatch;

// One cell of a typed multi-cell update (Engine::UpdateCells): a column by
// id and the value to write, borrowed from the caller.
struct CellRef {
  ColumnId column;
  const Value* value;
};

// The raw state of a table, as snapshots save and load it. Indexes are not
// part of it: they are rebuilt from the data.
struct TableImage {
  using ColumnData =
      std::variant<std::vector<int64_t>, std::vector<double>, std::vector<uint8_t>, StringStore>;
  std::vector<ColumnData> columns;    // one per schema column, slot_count long
  std::vector<Bitmap> validity;       // one per column; empty for NOT NULL
  Bitmap live;                        // slot_count bits
  std::vector<uint32_t> generations;  // slot_count
  std::vector<uint32_t> free_slots;   // the free list, bottom first
  int64_t next_auto_increment = 1;
  // Optional, per column: the rows of a secondary (non-unique) index in the
  // order to index them, so each key keeps its rows' order (insertion order,
  // which stops being slot order once slots are reused or keys change).
  // Empty, or an empty entry for a column: slot order. Otherwise exactly the
  // live rows whose cell is not NULL, each once.
  std::vector<std::vector<uint32_t>> index_order;
};

// Which alternative of TableImage::ColumnData holds a column of `type`.
size_t ColumnDataIndex(Type type);

class Table {
 public:
  Table(std::string name, Schema schema);
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  const std::string& name() const { return name_; }
  const Schema& schema() const { return schema_; }
  // The id of the Engine that holds this table (Engine::id()), so that a
  // handle given to another database is recognised and refused.
  uint64_t owner() const { return owner_; }
  // True once the table was dropped. A dropped table keeps its name and
  // schema but no rows, and its object lives as long as its engine, so that
  // old Row handles (and anything built on them) read "stale or deleted
  // row" instead of freed memory (or a re-created table's rows).
  bool dropped() const { return dropped_; }
  size_t num_columns() const { return schema_.size(); }
  const ColumnSpec& column(ColumnId id) const { return schema_.column(id); }
  ColumnId primary_key() const { return schema_.primary_key(); }

  // Column by name: nullopt / InvalidArgument naming table and column.
  // FindColumn is on every Row::Get*("name") call: see name_keys_.
  std::optional<ColumnId> FindColumn(absl::string_view name) const;
  absl::StatusOr<ColumnId> GetColumn(absl::string_view name) const;

  // --- rows ---
  size_t size() const { return live_count_; }
  bool empty() const { return live_count_ == 0; }
  // Slots ever allocated (live + free); spans below are this long.
  size_t slot_count() const { return live_.size(); }
  bool IsLive(RowId id) const { return id.value < live_.size() && live_.Get(id.value); }
  // Reads no memory while all_generations_zero(): checking a handle then
  // costs the live bit only.
  uint32_t generation(RowId id) const {
    return any_nonzero_generation_ ? generations_[id.value] : 0;
  }
  const Bitmap& live() const { return live_; }
  // Bumped by every write to the table's rows (insert, update, delete,
  // undo, batch, drop, snapshot load). Pointers into the storage taken at
  // one version stay valid while it is unchanged, which is how kin::Each
  // (kin/column.h) keeps raw pointers across a loop yet never reads freed
  // memory when the loop body writes: it watches this counter by address
  // (the Table object never moves) and re-reads the storage when it moves.
  const uint64_t& write_version() const { return write_version_; }
  // Finer stamps for caches derived from keys (ParentLinks). instance_id is
  // unique per Table object in the process, so a stamp never matches a
  // re-created table. rows_version is bumped by every write that changes
  // which slots are live except an insert into a never-used slot (an
  // append: caches extend over the new slots); column_version(c) by every
  // update of column c.
  uint64_t instance_id() const { return instance_id_; }
  uint64_t rows_version() const { return rows_version_; }
  uint64_t column_version(ColumnId column) const {
    return column.value < column_versions_.size() ? column_versions_[column.value] : 0;
  }
  // The links from this table's key columns to parent rows (see
  // engine/parent_links.h).
  const ParentLinkCache& parent_links() const { return parent_links_; }

  // The slot-touch log, for caches kept per slot (ParentLinks): every
  // insert, delete and undo of one touches its slot, and so does an update
  // that changes a column with a hash index; bulk writes (InsertBatch, its
  // undo, a load, a drop) touch "everything". touch_count() is a mark;
  // ForEachTouchedSince(mark, f) calls f(slot) for each touch after it (a
  // slot may repeat) and returns true, or returns false without calling f
  // when the log no longer holds them all (the caller then starts over).
  // Touches are kept only once WatchTouches() was called (the first cache
  // over the table): the last kTouchLog of them, 4 bytes each.
  static constexpr uint64_t kTouchLog = 8192;
  uint64_t touch_count() const { return touch_count_; }
  void WatchTouches() const;
  template <typename F>
  bool ForEachTouchedSince(uint64_t mark, F&& f) const {
    if (touch_log_.empty() || mark < watch_start_ || touch_count_ - mark > kTouchLog) return false;
    for (uint64_t t = mark + 1; t <= touch_count_; ++t) f(touch_log_[t & (kTouchLog - 1)]);
    return true;
  }
  // Changes when a column id may stop naming the column it named: a
  // column dropped, or a migration that added or dropped columns rolled
  // back. Column handles (kin::Column) remember it and read as stale once it
  // moves. Adding, renaming or changing a column keeps every id (and
  // handle) valid.
  uint32_t layout_version() const { return layout_version_; }
  // Changes whenever an index is created or dropped, or the schema changes
  // (which may rebuild indexes): plans cached against the index set
  // (QueryPlanner::Replan) compare it.
  uint64_t index_version() const { return index_version_; }
  // True while every slot's generation is 0 (no row of this table was ever
  // deleted or rolled back): callers building many Row handles can then
  // skip reading generations(), one cache miss less per row. Conservative: it
  // stays false once any generation may have been non-zero.
  bool all_generations_zero() const { return !any_nonzero_generation_; }

  // A handle for a live slot. REQUIRES: IsLive(id).
  Row GetRow(RowId id) const { return Row(this, id, generation(id)); }
  // Checked: FailedPrecondition when the slot is not live.
  absl::StatusOr<Row> RowAt(RowId id) const;

  // By primary key. Find: nullopt when absent or the key's type cannot
  // match. FindOrFail: NotFound "table 'users': no row with id = 7", or
  // InvalidArgument for a key of the wrong type.
  std::optional<Row> Find(const Value& key) const;
  absl::StatusOr<Row> FindOrFail(const Value& key) const;
  std::optional<RowId> FindRowId(const Value& key) const;

  // --- cells ---
  // REQUIRES: IsLive(id). NULL when the cell is null.
  Value GetValue(RowId id, ColumnId column) const;
  bool IsNull(RowId id, ColumnId column) const {
    const Bitmap& v = validity_[column.value];
    return v.size() != 0 && !v.Get(id.value);
  }
  // Validity bitmap of a nullable column (bit set = not NULL); nullptr for a
  // NOT NULL column.
  const Bitmap* validity(ColumnId column) const {
    return validity_[column.value].size() != 0 || schema_.column(column).nullable
               ? &validity_[column.value]
               : nullptr;
  }

  // Typed zero-copy columns, indexed by slot (dead slots hold zero/empty).
  // REQUIRES: the column has that type.
  std::span<const int64_t> Int64Column(ColumnId column) const {
    return std::get<std::vector<int64_t>>(columns_[column.value]);
  }
  std::span<const double> DoubleColumn(ColumnId column) const {
    return std::get<std::vector<double>>(columns_[column.value]);
  }
  std::span<const uint8_t> BoolColumn(ColumnId column) const {
    return std::get<std::vector<uint8_t>>(columns_[column.value]);
  }
  const StringStore& StringColumn(ColumnId column) const {
    return std::get<StringStore>(columns_[column.value]);
  }
  // Checked by name: InvalidArgument for an unknown column or another type.
  absl::StatusOr<std::span<const int64_t>> Int64Column(absl::string_view column) const;
  absl::StatusOr<std::span<const double>> DoubleColumn(absl::string_view column) const;
  absl::StatusOr<std::span<const uint8_t>> BoolColumn(absl::string_view column) const;
  absl::StatusOr<const StringStore*> StringColumn(absl::string_view column) const;

  // --- indexes ---
  // The index on a column, or nullptr.
  const HashIndex* index(ColumnId column) const { return indexes_[column.value].get(); }
  // Rows whose indexed `column` equals `key`, in insertion order: an index
  // probe, O(1) + the span. REQUIRES: index(column) != nullptr.
  std::span<const RowId> Children(ColumnId column, int64_t key) const {
    return indexes_[column.value]->Find(key);
  }
  std::span<const RowId> Children(ColumnId column, absl::string_view key) const {
    return indexes_[column.value]->Find(key);
  }
  // The ordered index on a column (Ordered(), CreateIndex(kOrdered)), or
  // nullptr. Valid until the next write to the table.
  const OrderedIndex* ordered_index(ColumnId column) const { return ordered_[column.value].get(); }
  // The composite ordered indexes (CreateIndex with a column list), in
  // creation order, and the one on exactly `columns` (in that order), or
  // nullptr. Valid until the next write to the table.
  std::span<const std::unique_ptr<CompositeIndex>> composite_indexes() const { return composites_; }
  const CompositeIndex* FindCompositeIndex(std::span<const ColumnId> columns) const;
  // "(guild, score)": the index's column names, as DebugString and Explain
  // print them.
  std::string CompositeName(const CompositeIndex& index) const;
  // Checked: InvalidArgument for an unknown or unindexed column or a key of
  // the wrong type. A NULL key matches nothing.
  absl::StatusOr<std::span<const RowId>> Children(absl::string_view column, const Value& key) const;

  // --- iteration (slot order) ---
  class Iterator {
   public:
    using value_type = Row;
    using difference_type = std::ptrdiff_t;
    Iterator(const Table* t, uint32_t slot) : table_(t), slot_(slot) { Skip(); }
    Row operator*() const { return table_->GetRow(RowId(slot_)); }
    Iterator& operator++() {
      ++slot_;
      Skip();
      return *this;
    }
    bool operator==(const Iterator& o) const { return slot_ == o.slot_; }
    bool operator!=(const Iterator& o) const { return slot_ != o.slot_; }

   private:
    void Skip() {
      while (slot_ < table_->slot_count() && !table_->live_.Get(slot_)) ++slot_;
    }
    const Table* table_;
    uint32_t slot_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, static_cast<uint32_t>(slot_count())); }
  std::vector<RowId> LiveRowIds() const;

  // Raw state for snapshots (copies nothing: spans into storage).
  const TableImage::ColumnData& column_data(ColumnId column) const {
    return columns_[column.value];
  }
  std::span<const uint32_t> generations() const { return generations_; }
  std::span<const uint32_t> free_slots() const { return free_slots_; }
  int64_t next_auto_increment() const { return next_auto_increment_; }

  // Canonical text of the whole state (schema, slots, generations, free list,
  // rows, every index in key order): equal strings mean equal tables.
  std::string DebugString() const;
  // Approximate heap bytes held (columns, bitmaps, indexes).
  size_t MemoryBytes() const;
  // Checks every index against a full scan; Internal error on mismatch.
  absl::Status CheckConsistency() const;

  // A copy of the whole state (schema, cells, indexes), taken before the
  // first schema change of a migration touches the table (engine/alter.cc).
  struct Backup;

 private:
  friend class Engine;

  // --- schema changes (engine/table_alter.cc); the Engine validates first,
  // so none of these fails. ---
  // Appends `spec`, every live row holding its default (NULL if none).
  void AddColumn(ColumnSpec spec);
  // Removes the column and its hash and ordered indexes. REQUIRES: not the
  // primary key and in no composite index.
  void DropColumn(ColumnId column);
  void RenameColumn(ColumnId column, std::string name);
  void SetDefault(ColumnId column, std::optional<Value> value);
  // Replaces a column's cells and type (Engine::ChangeColumnType converted
  // them); `index` is the column's hash index over `cells`, or null.
  void ChangeType(ColumnId column, Type type, TableImage::ColumnData cells,
                  std::optional<Value> default_value, std::unique_ptr<HashIndex> index);
  // REQUIRES (to NOT NULL): no live row holds NULL there.
  void SetNullable(ColumnId column, bool nullable);
  // Drops the secondary hash index / the ordered index of `column`.
  void DropHashIndex(ColumnId column);
  void DropOrderedIndex(ColumnId column);
  void DropCompositeIndex(const CompositeIndex* index);
  void Rename(std::string name);
  // Shared, not unique: Backup is complete only in table_alter.cc.
  std::shared_ptr<Backup> TakeBackup() const;
  // Moves the state out of `backup`.
  void RestoreBackup(Backup& backup);
  // Rebuilds the state derived from schema_: FindColumn's name table,
  // in_composite_, and the composite indexes (their column ids).
  void SchemaChanged(std::vector<std::vector<ColumnId>> composites);
  // Rebuilds the schema with `edit` applied to one column's spec.
  void EditColumn(ColumnId column, absl::FunctionRef<void(ColumnSpec&)> edit);
  void BuildNameKeys();
  // Points every string index at its column (HashIndex::BindKeys,
  // OrderedIndex::BindKeys):
  // after anything that may move columns_ (SchemaChanged covers schema
  // changes and restores) and when an index is made.
  void BindIndexKeys();

  // Validates `attrs` for a new row and fills `row_` with the full row.
  absl::Status PrepareInsert(const Attrs& attrs);
  // The same for cells given by column id (Engine::InsertCells: no name
  // lookup). A cell whose value is nullptr counts as not given.
  absl::Status PrepareInsertCells(std::span<const CellRef> cells);
  // PrepareInsert's checks and row_ from given_ (one pointer per column).
  absl::Status PrepareGivenRow();
  // Inserts the prepared row_. Returns the slot.
  RowId ApplyInsert(internal::UndoLog* log);
  // ApplyInsert with the cells from `cell_of(column index)` (const Value&).
  template <typename CellOf>
  RowId InsertRow(const CellOf& cell_of, internal::UndoLog* log);
  // Journal replay (Engine::Replay), without undo: the insert of a row
  // whose every cell is given, into `slot`, which must be the slot the
  // insert takes; an update of a live slot's given cells. Types, NOT NULL
  // and unique keys are checked, foreign keys are not (the journal holds
  // the rows their actions touched). An empty string, or what does not
  // match (nothing was written then).
  std::string ReplayInsert(RowId slot, std::span<const CellChange> cells);
  std::string ReplayUpdate(RowId slot, std::span<const CellChange> cells);
  absl::Status PrepareUpdate(RowId id, const Attrs& attrs);
  // The same for cells given by id (typed writes: no name lookup); a column
  // given twice is InvalidArgument. REQUIRES: every column < num_columns().
  absl::Status PrepareUpdateCells(RowId id, std::span<const CellRef> cells);
  // Applies the prepared changes_; returns true if any cell changed.
  bool ApplyUpdate(RowId id, internal::UndoLog* log);
  void Delete(RowId id, internal::UndoLog* log);
  // Reverts `entry`, the last write not yet undone; `cells` are its cells
  // (UndoLog::CellsOf).
  void Undo(const internal::UndoEntry& entry, std::span<const internal::UndoEntry::Cell> cells);
  // Appends a validated batch to new slots (table_batch.cc). Nothing changes
  // on error.
  absl::StatusOr<size_t> InsertBatch(RowBatch batch, internal::UndoLog* log);
  void UndoBatch(const internal::UndoEntry& entry);
  // Ends a bulk insert of `added_rows` rows: every hash index in the layout
  // a snapshot load of the same rows builds (HashIndex::DensifyIfCompact).
  // Checked only where the insert is a quarter of the index's keys or more,
  // so the O(keys) check stays amortized O(rows); a smaller insert moves
  // the dense bound too little to change the layout Build would pick.
  void DensifyIndexes(size_t added_rows);
  // Indexes the batch's rows [first_slot, first_slot + rows) into `index`,
  // which is empty, in one bulk build.
  void BuildIndexFromBatch(HashIndex& index, ColumnId column, uint32_t first_slot, size_t rows);
  void EnsureIndex(ColumnId column);
  // Adds an ordered index on `column` built from the rows (no-op if there
  // is one) and marks the schema.
  void EnsureOrderedIndex(ColumnId column);
  // Adds a composite ordered index on `columns` built from the rows and
  // records it in the schema. REQUIRES: valid (2 or 3 distinct columns)
  // and not already present.
  void AddCompositeIndex(std::vector<ColumnId> columns);
  // Frees every row and index (DropTable); see dropped().
  void Drop();
  // Replaces the state (snapshot load). Validates sizes and key uniqueness,
  // rebuilds indexes. DataLoss on inconsistency.
  absl::Status Restore(TableImage image);

  absl::Status CheckType(ColumnId column, const Value& v) const;
  absl::Status ResolveAttrs(const Attrs& attrs);
  // Checks `given` for `column` of live row `id` and, when it changes the
  // cell, appends it to changes_ (PrepareUpdate's step per column).
  absl::Status PrepareChange(RowId id, ColumnId column, const Value& given);
  void WriteCell(RowId id, ColumnId column, const Value& v);
  void ClearCell(RowId id, ColumnId column);
  void IndexRow(RowId id);
  // Ordered indexes read the cells: OrderedErase before a cell of `column`
  // changes, OrderedInsert after (no-ops without an ordered index there).
  void OrderedErase(RowId id, ColumnId column) {
    if (ordered_[column.value] != nullptr) ordered_[column.value]->Erase(*this, id);
  }
  void OrderedInsert(RowId id, ColumnId column) {
    if (ordered_[column.value] != nullptr) ordered_[column.value]->Insert(*this, id);
  }

  // Composite indexes read every one of their cells: CompositeErase before
  // a cell of `column` changes, CompositeInsert after; the *Row forms for a
  // whole row (insert, delete and their undo), with all its cells in place.
  void CompositeErase(RowId id, ColumnId column) {
    if (in_composite_[column.value] == 0) return;
    for (const auto& c : composites_) {
      if (std::find(c->columns().begin(), c->columns().end(), column) != c->columns().end()) {
        c->Erase(id);
      }
    }
  }
  void CompositeInsert(RowId id, ColumnId column) {
    if (in_composite_[column.value] == 0) return;
    for (const auto& c : composites_) {
      if (std::find(c->columns().begin(), c->columns().end(), column) != c->columns().end()) {
        c->Insert(id);
      }
    }
  }
  void CompositeEraseRow(RowId id) {
    for (const auto& c : composites_) c->Erase(id);
  }
  void CompositeInsertRow(RowId id) {
    for (const auto& c : composites_) c->Insert(id);
  }

  std::string name_;
  Schema schema_;
  // FindColumn's index for small schemas, cheaper than hashing the whole
  // name (about half of a Row::GetInt64("col") before; see
  // bench/row_read_benchmark.cc): a 64-entry table keyed by the name's
  // length, first and last byte (NameSlot) holds the only column that can
  // have that name (1 + its id), 0 for none, or kNameCollision when several
  // columns share the slot (then a scan of lengths). One compare of the
  // name's bytes confirms. Up to kMaxLinearColumns columns; wider tables
  // (empty name_keys_) use the schema's hash map. Immutable after
  // construction, so concurrent const reads stay safe (a mutable last-name
  // cache would not be).
  struct NameKey {
    uint32_t size;
    uint32_t offset;  // in names_
  };
  static constexpr size_t kMaxLinearColumns = 32;
  static constexpr uint8_t kNameCollision = 0xff;
  std::vector<NameKey> name_keys_;
  std::string names_;  // every column name end to end
  uint8_t name_slots_[64] = {};
  uint64_t write_version_ = 0;  // see write_version()
  uint64_t instance_id_;        // see instance_id()
  uint64_t rows_version_ = 0;   // see rows_version()
  std::vector<uint64_t> column_versions_;
  ParentLinkCache parent_links_;
  // See ForEachTouchedSince. Mutable: a reader's first cache turns the log
  // on (readers never run during a write).
  uint64_t touch_count_ = 0;
  mutable uint64_t watch_start_ = 0;
  mutable std::vector<uint32_t> touch_log_;
  void Touch(uint32_t slot) {
    ++touch_count_;
    if (!touch_log_.empty()) touch_log_[touch_count_ & (kTouchLog - 1)] = slot;
  }
  void TouchAll() { touch_count_ += kTouchLog + 1; }
  uint32_t layout_version_ = 0;       // see layout_version()
  uint64_t index_version_ = 0;        // see index_version()
  uint32_t last_layout_version_ = 0;  // the highest layout_version_ so far
  uint64_t owner_ = 0;
  bool dropped_ = false;
  std::vector<TableImage::ColumnData> columns_;
  std::vector<Bitmap> validity_;
  Bitmap live_;
  std::vector<uint32_t> generations_;
  // Per slot (may reach past slot_count()): the lowest generation the next
  // insert into the slot may use. Undoing an insert restores generations_
  // exactly (so a rollback restores DebugString() byte for byte) but raises
  // this floor, so that handles to the rolled-back row stay stale when the
  // slot is taken again. Not part of the dump or of snapshots: it only
  // guards handles, which never outlive this Table object.
  std::vector<uint32_t> min_generations_;
  std::vector<uint32_t> free_slots_;
  bool any_nonzero_generation_ = false;                 // see all_generations_zero()
  std::vector<std::unique_ptr<HashIndex>> indexes_;     // per column, may be null
  std::vector<std::unique_ptr<OrderedIndex>> ordered_;  // per column, may be null
  bool any_ordered_ = false;                            // some column has an ordered index
  std::vector<std::unique_ptr<CompositeIndex>> composites_;
  std::vector<uint8_t> in_composite_;  // per column: 1 if some composite index reads it
  size_t live_count_ = 0;
  int64_t next_auto_increment_ = 1;

  // Scratch for the prepare/apply split of writes, reused to avoid
  // allocating per row.
  std::vector<const Value*> given_;
  std::vector<Value> row_;
  std::vector<std::pair<ColumnId, Value>> changes_;
};

}  // namespace kin

#endif  // KIN_ENGINE_TABLE_H_
