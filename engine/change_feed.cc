#include "engine/change_feed.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <tuple>
#include <utility>

#include "engine/table.h"

namespace kin::internal {

namespace {

// How many row changes `e` makes.
uint32_t RowsOf(const UndoEntry& e) { return e.kind == UndoEntry::Kind::kBatch ? e.batch_size : 1; }

}  // namespace

// The undo log holds each write's values *before* it, and the values after
// an update or an insert (and an update's key): only a bulk append
// (kBatch) does not log its rows. Their values after the append are the
// values before the next write of the same cell, or the table's current
// values when there is none; so the log is walked backwards with an
// overlay of the cells already walked: (table, slot, column) → the value
// the cell held just after the write being looked at. Cells absent from it
// hold their current value then. A deleted slot reused by a later insert
// needs nothing special: walking backwards, the delete sets every cell of
// the slot before any earlier append reads them, and no earlier append
// reads a slot between its delete and its reuse.
//
// The changes are written from the back of `*out` to its front, so no
// reversal is needed, into elements kept from earlier commits where there
// are some: assigning a Value or resizing a cell vector within its
// capacity allocates nothing (but for strings), where building fresh
// RowChanges cost an allocation per change and a free per change later.
void ChangeFeedBuilder::Build(const UndoLog& log, std::vector<RowChange>* out) {
  size_t count = 0;
  for (const UndoEntry& e : log.entries()) count += RowsOf(e);
  out->resize(count);

  // Only bulk appends read the table (the other writes' values were
  // recorded with them), so only the writes of rows appended earlier in the
  // transaction need the overlay, and only for the append to read. A tick
  // mostly writes rows it did not append: a filter of the appended rows
  // (set going forward, cleared after) finds the writes that may follow an
  // append of their row, with no hash table and no sort; a false positive
  // only adds overlay cells nobody reads.
  after_append_.assign(log.size(), 0);
  if (log.size() > 1) {
    if (appended_filter_.empty()) appended_filter_.assign(kFilterBits / 64, 0);
    auto bit = [](const Table* table, uint32_t row) {
      uint64_t h = (reinterpret_cast<uintptr_t>(table) >> 4) * 0x9E3779B97F4A7C15ull;
      h ^= row * 0xC2B2AE3D27D4EB4Full;
      return static_cast<uint32_t>(h >> 46);  // 18 bits
    };
    static_assert(kFilterBits == 1u << 18, "bit() yields 18 bits");
    bool any_batch = false;
    for (size_t i = 0; i < log.size(); ++i) {
      const UndoEntry& e = log[i];
      if (e.kind == UndoEntry::Kind::kBatch) {
        for (uint32_t r = 0; r < e.batch_size; ++r) {
          const uint32_t b = bit(e.table, e.row.value + r);
          appended_filter_[b >> 6] |= uint64_t{1} << (b & 63);
        }
        any_batch = true;
      } else if (any_batch && e.kind != UndoEntry::Kind::kInsert) {
        const uint32_t b = bit(e.table, e.row.value);
        after_append_[i] = (appended_filter_[b >> 6] >> (b & 63)) & 1;
      }
    }
    if (any_batch) {
      for (const UndoEntry& e : log.entries()) {
        if (e.kind != UndoEntry::Kind::kBatch) continue;
        for (uint32_t r = 0; r < e.batch_size; ++r) {
          const uint32_t b = bit(e.table, e.row.value + r);
          appended_filter_[b >> 6] = 0;
        }
      }
    }
  }
  overlay_.clear();
  auto after = [&](const Table& table, RowId row, ColumnId column) {
    if (overlay_.empty()) return table.GetValue(row, column);
    auto it = overlay_.find(CellKey{&table, row.value, column.value});
    return it == overlay_.end() ? table.GetValue(row, column) : it->second;
  };

  size_t next = count;  // the change written last; filled backwards
  for (size_t i = log.size(); i-- > 0;) {
    const UndoEntry& e = log[i];
    const Table& table = *e.table;
    // Whether an earlier append of the same row will read the overlay.
    const bool earlier_writes = after_append_[i] != 0;
    auto start = [&](RowChange::Kind kind, RowId row, size_t cells) -> RowChange& {
      RowChange& change = (*out)[--next];
      change.kind = kind;
      change.table = table.name();
      change.row = row;
      change.cells.resize(cells);
      return change;
    };
    // An inserted row's values: `value_of(column)`, from the undo entry of
    // an insert or, for an appended row, the table through the overlay.
    auto inserted = [&](RowId row, const auto& value_of) {
      const uint32_t columns = table.num_columns();
      RowChange& change = start(RowChange::kInsert, row, columns);
      for (uint32_t c = 0; c < columns; ++c) {
        const ColumnId column(c);
        CellChange& cell = change.cells[c];
        cell.column = column;
        cell.name = table.column(column).name;
        cell.old_value = Value();
        cell.new_value = value_of(column);
      }
      change.key = change.cells[table.primary_key().value].new_value;
    };
    // An update's or a delete's cells, from its undo entry: the old values,
    // and the new ones an update recorded (NULL for a delete). Earlier
    // writes of the row read the old values from the overlay.
    auto from_undo = [&](RowChange::Kind kind, const UndoEntry& undo_entry,
                         bool keep_old) -> RowChange& {
      std::span<const UndoEntry::Cell> cells = log.CellsOf(undo_entry);
      RowChange& change = start(kind, undo_entry.row, cells.size());
      for (size_t c = 0; c < cells.size(); ++c) {
        const UndoEntry::Cell& undo = cells[c];
        CellChange& cell = change.cells[c];
        cell.column = undo.column;
        cell.name = table.column(undo.column).name;
        cell.old_value = undo.old_value;
        cell.new_value = kind == RowChange::kUpdate ? undo.new_value : Value();
        if (keep_old) {
          overlay_[CellKey{&table, undo_entry.row.value, undo.column.value}] = undo.old_value;
        }
      }
      return change;
    };
    switch (e.kind) {
      case UndoEntry::Kind::kInsert: {
        std::span<const Value> values = log.ValuesOf(e);
        assert(values.size() == table.num_columns());
        inserted(e.row, [&](ColumnId column) -> const Value& { return values[column.value]; });
        break;
      }
      case UndoEntry::Kind::kBatch:
        for (uint32_t r = e.batch_size; r-- > 0;) {
          const RowId row(e.row.value + r);
          inserted(row, [&](ColumnId column) { return after(table, row, column); });
        }
        break;
      case UndoEntry::Kind::kUpdate: {
        // The values after the update and the key were recorded with it:
        // no read of the table, whose cells may have changed since.
        RowChange& change = from_undo(RowChange::kUpdate, e, earlier_writes);
        change.key = e.key;
        break;
      }
      case UndoEntry::Kind::kDelete: {
        RowChange& change = from_undo(RowChange::kDelete, e, earlier_writes);
        change.key = Value();
        for (const UndoEntry::Cell& undo : log.CellsOf(e)) {
          if (undo.column == table.primary_key()) change.key = undo.old_value;
        }
        break;
      }
    }
  }
}

std::vector<RowChange> ChangesOf(const UndoLog& log) {
  std::vector<RowChange> out;
  ChangeFeedBuilder().Build(log, &out);
  return out;
}

}  // namespace kin::internal
