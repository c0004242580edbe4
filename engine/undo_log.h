// The transaction undo log (internal to the engine).

#ifndef KIN_ENGINE_UNDO_LOG_H_
#define KIN_ENGINE_UNDO_LOG_H_

#include <cstdint>
#include <vector>

#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

class Table;

namespace internal {

struct UndoEntry {
  enum class Kind : uint8_t { kInsert, kDelete, kUpdate, kBatch };
  struct Cell {
    ColumnId column;
    Value old_value;
    uint32_t index_position = 0;  // where the row sat in the old key's list
    // kUpdate: the value written, as stored. The commit feed reads it here
    // rather than from the table at commit, when the row's cache lines are
    // long gone (that read was most of a large commit's cost).
    Value new_value;
  };
  Kind kind;
  bool reused_slot = false;  // kInsert: the slot came from the free list
  Table* table = nullptr;
  RowId row;
  int64_t next_auto_increment = 0;  // kInsert: the counter before
  uint32_t generation = 0;          // kInsert into a reused slot: its generation before
  uint32_t batch_size = 0;          // kBatch: rows appended from slot `row` on
  // kUpdate: the row's primary key just after the update (for the commit
  // feed, like Cell::new_value).
  Value key;
  // kDelete: every column; kUpdate: the changed columns.
  std::vector<Cell> cells;
  // kInsert: the row as inserted, by column, recorded while its cells are
  // in the cache. The commit feed reads them here: reading the table at
  // commit missed on nearly every cell, since a tick's inserts mostly
  // reuse freed slots scattered over the table.
  std::vector<Value> values;
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_ENGINE_UNDO_LOG_H_
