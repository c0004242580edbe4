#include "engine/change_feed.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/table.h"

namespace kin::internal {

namespace {

// The undo log holds each write's values *before* it. The values after a
// write are the values before the next write of the same cell, or the
// table's current values for the last one; so the log is walked backwards,
// carrying each touched row's state "after this point" (its current row
// at first, then the befores of the writes already walked). Deleted rows'
// slots may be reused by later inserts in the same transaction; the state
// is per slot, and the walk meets the reuse before the delete.
class Walk {
 public:
  // A live row that no later write touched gets the table's current values.
  std::vector<Value>& After(const Table& table, RowId row) {
    auto [it, inserted] = after_.try_emplace(Key{&table, row.value});
    if (inserted) it->second = CurrentRow(table, row);
    return it->second;
  }
  // For rows a batch appended: only read, no entry (no earlier write in
  // the transaction can touch a slot a batch appended).
  const std::vector<Value>* Touched(const Table& table, RowId row) const {
    auto it = after_.find(Key{&table, row.value});
    return it == after_.end() ? nullptr : &it->second;
  }

  static std::vector<Value> CurrentRow(const Table& table, RowId row) {
    std::vector<Value> values;
    if (!table.IsLive(row)) return values;
    values.reserve(table.num_columns());
    for (uint32_t c = 0; c < table.num_columns(); ++c) {
      values.push_back(table.GetValue(row, ColumnId(c)));
    }
    return values;
  }

 private:
  using Key = std::pair<const Table*, uint32_t>;
  absl::flat_hash_map<Key, std::vector<Value>> after_;
};

Value KeyOf(const Table& table, const std::vector<Value>& row) {
  const ColumnId pk = table.primary_key();
  if (pk.value >= table.num_columns() || pk.value >= row.size()) return Value();
  return row[pk.value];
}

RowChange Inserted(const Table& table, RowId row, const std::vector<Value>& values) {
  RowChange change{RowChange::kInsert, table.name(), row, KeyOf(table, values), {}};
  change.cells.reserve(values.size());
  for (uint32_t c = 0; c < values.size(); ++c) {
    change.cells.push_back({ColumnId(c), table.column(ColumnId(c)).name, Value(), values[c]});
  }
  return change;
}

}  // namespace

std::vector<RowChange> ChangesOf(std::span<const UndoEntry> log) {
  std::vector<RowChange> out;
  Walk walk;
  for (auto e = log.rbegin(); e != log.rend(); ++e) {
    const Table& table = *e->table;
    switch (e->kind) {
      case UndoEntry::Kind::kInsert: {
        std::vector<Value>& after = walk.After(table, e->row);
        out.push_back(Inserted(table, e->row, after));
        after.clear();  // before the insert, the slot held no row
        break;
      }
      case UndoEntry::Kind::kBatch: {
        for (uint32_t i = e->batch_size; i-- > 0;) {
          const RowId row(e->row.value + i);
          const std::vector<Value>* touched = walk.Touched(table, row);
          out.push_back(Inserted(table, row, touched ? *touched : Walk::CurrentRow(table, row)));
        }
        break;
      }
      case UndoEntry::Kind::kUpdate: {
        std::vector<Value>& after = walk.After(table, e->row);
        RowChange change{RowChange::kUpdate, table.name(), e->row, KeyOf(table, after), {}};
        change.cells.reserve(e->cells.size());
        for (const UndoEntry::Cell& cell : e->cells) {
          Value& value = after[cell.column.value];
          change.cells.push_back(
              {cell.column, table.column(cell.column).name, cell.old_value, std::move(value)});
          value = cell.old_value;
        }
        out.push_back(std::move(change));
        break;
      }
      case UndoEntry::Kind::kDelete: {
        std::vector<Value>& after = walk.After(table, e->row);
        after.assign(table.num_columns(), Value());
        for (const UndoEntry::Cell& cell : e->cells) after[cell.column.value] = cell.old_value;
        RowChange change{RowChange::kDelete, table.name(), e->row, KeyOf(table, after), {}};
        change.cells.reserve(after.size());
        for (uint32_t c = 0; c < after.size(); ++c) {
          change.cells.push_back({ColumnId(c), table.column(ColumnId(c)).name, after[c], Value()});
        }
        out.push_back(std::move(change));
        break;
      }
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace kin::internal
