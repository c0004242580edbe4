#include "engine/change_feed.h"

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/table.h"

namespace kin::internal {

namespace {

using CellKey = std::tuple<const Table*, uint32_t, uint32_t>;

Value KeyOf(const Table& table, const std::vector<CellChange>& cells, bool old) {
  const ColumnId pk = table.primary_key();
  for (const CellChange& c : cells) {
    if (c.column == pk) return old ? c.old_value : c.new_value;
  }
  return Value();
}

}  // namespace

// The undo log holds each write's values *before* it. The values after a
// write are the values before the next write of the same cell, or the
// table's current values for the last one; so the log is walked backwards
// with an overlay of the cells already walked: (table, slot, column) → the
// value the cell held just after the write being looked at. Cells absent
// from it hold their current value then. A deleted slot reused by a later
// insert needs nothing special: walking backwards, the delete sets every
// cell of the slot before any earlier write reads them, and no earlier
// write reads a slot between its delete and its reuse.
std::vector<RowChange> ChangesOf(std::span<const UndoEntry> log) {
  std::vector<RowChange> out;
  out.reserve(log.size());
  // Only rows written more than once in the transaction need the overlay.
  // A tick mostly writes each row once: count the writes per row first (a
  // small key, no Value), and keep the overlay to the rows written again.
  absl::flat_hash_map<std::pair<const Table*, uint32_t>, uint32_t> writes;
  if (log.size() > 1) {
    writes.reserve(log.size());
    for (const UndoEntry& e : log) {
      const uint32_t rows = e.kind == UndoEntry::Kind::kBatch ? e.batch_size : 1;
      for (uint32_t r = 0; r < rows; ++r) ++writes[{e.table, e.row.value + r}];
    }
  }
  auto rewritten = [&](const Table& table, RowId row) {
    auto it = writes.find({&table, row.value});
    return it != writes.end() && it->second > 1;
  };
  absl::flat_hash_map<CellKey, Value> overlay;
  auto after = [&](const Table& table, RowId row, ColumnId column) {
    if (overlay.empty()) return table.GetValue(row, column);
    auto it = overlay.find(CellKey{&table, row.value, column.value});
    return it == overlay.end() ? table.GetValue(row, column) : it->second;
  };
  for (size_t i = log.size(); i-- > 0;) {
    const UndoEntry& e = log[i];
    const Table& table = *e.table;
    // Whether an earlier write of the same row will read the overlay.
    const bool earlier_writes = rewritten(table, e.row);
    auto inserted = [&](RowId row) {
      RowChange change{RowChange::kInsert, table.name(), row, Value(), {}};
      change.cells.reserve(table.num_columns());
      for (uint32_t c = 0; c < table.num_columns(); ++c) {
        const ColumnId column(c);
        change.cells.push_back(
            {column, table.column(column).name, Value(), after(table, row, column)});
      }
      change.key = KeyOf(table, change.cells, /*old=*/false);
      out.push_back(std::move(change));
    };
    switch (e.kind) {
      case UndoEntry::Kind::kInsert:
        inserted(e.row);
        break;
      case UndoEntry::Kind::kBatch:
        for (uint32_t r = e.batch_size; r-- > 0;) inserted(RowId(e.row.value + r));
        break;
      case UndoEntry::Kind::kUpdate: {
        RowChange change{RowChange::kUpdate, table.name(), e.row, Value(), {}};
        change.cells.reserve(e.cells.size());
        for (const UndoEntry::Cell& cell : e.cells) {
          change.cells.push_back({cell.column, table.column(cell.column).name, cell.old_value,
                                  after(table, e.row, cell.column)});
          if (earlier_writes)
            overlay[CellKey{&table, e.row.value, cell.column.value}] = cell.old_value;
        }
        // The key after the update: changed in this update, or as it is
        // after it.
        change.key = KeyOf(table, change.cells, /*old=*/false);
        if (change.key.is_null()) change.key = after(table, e.row, table.primary_key());
        out.push_back(std::move(change));
        break;
      }
      case UndoEntry::Kind::kDelete: {
        RowChange change{RowChange::kDelete, table.name(), e.row, Value(), {}};
        change.cells.reserve(e.cells.size());
        for (const UndoEntry::Cell& cell : e.cells) {
          change.cells.push_back(
              {cell.column, table.column(cell.column).name, cell.old_value, Value()});
          if (earlier_writes)
            overlay[CellKey{&table, e.row.value, cell.column.value}] = cell.old_value;
        }
        change.key = KeyOf(table, change.cells, /*old=*/true);
        out.push_back(std::move(change));
        break;
      }
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace kin::internal
