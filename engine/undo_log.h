// The transaction undo log (internal to the engine).

#ifndef KIN_ENGINE_UNDO_LOG_H_
#define KIN_ENGINE_UNDO_LOG_H_

#include <cassert>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>
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
  // kDelete: every column; kUpdate: the changed columns. A range of the
  // log's cells (UndoLog::CellsOf).
  uint32_t cells_begin = 0;
  uint32_t cells_end = 0;
  // kInsert: the row as inserted, by column, recorded while its cells are
  // in the cache: a range of the log's values (UndoLog::ValuesOf). The
  // commit feed reads them there; reading the table at commit missed on
  // nearly every cell, since a tick's inserts mostly reuse freed slots
  // scattered over the table.
  uint32_t values_begin = 0;
  uint32_t values_end = 0;
  // kUpdate: the row's primary key just after the update (for the commit
  // feed, like Cell::new_value).
  Value key;
};

// A transaction's undo entries, in the order made, with their cells and
// values in two arrays shared by all entries. One heap block per entry
// (as a vector of cells each was) cost an allocation per write, a free
// per write at commit, and, worst, a cache miss per entry when the commit
// feed walks the log after a tick has evicted it; the shared arrays are
// written and read in order, which the hardware prefetches.
class UndoLog {
 public:
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const UndoEntry& operator[](size_t i) const { return entries_[i]; }
  const UndoEntry& back() const { return entries_.back(); }
  std::span<const UndoEntry> entries() const { return entries_; }

  // Appends a cell or a value to the entry being made: the one pushed
  // next, whose range starts at CellCount() / ValueCount() taken before.
  void AddCell(UndoEntry::Cell cell) {
    assert(cells_.size() < UINT32_MAX && "ranges are 32-bit");
    cells_.push_back(std::move(cell));
  }
  void AddValue(Value value) {
    assert(values_.size() < UINT32_MAX && "ranges are 32-bit");
    values_.push_back(std::move(value));
  }
  uint32_t CellCount() const { return static_cast<uint32_t>(cells_.size()); }
  uint32_t ValueCount() const { return static_cast<uint32_t>(values_.size()); }
  void push_back(UndoEntry entry) {
    // An entry without cells (or values) gets an empty range at the end,
    // so that pop_back truncates nothing of the entries before it.
    if (entry.cells_begin == entry.cells_end) entry.cells_begin = entry.cells_end = CellCount();
    if (entry.values_begin == entry.values_end) {
      entry.values_begin = entry.values_end = ValueCount();
    }
    entries_.push_back(std::move(entry));
  }

  std::span<const UndoEntry::Cell> CellsOf(const UndoEntry& e) const {
    return std::span<const UndoEntry::Cell>(cells_).subspan(e.cells_begin,
                                                            e.cells_end - e.cells_begin);
  }
  std::span<const Value> ValuesOf(const UndoEntry& e) const {
    return std::span<const Value>(values_).subspan(e.values_begin, e.values_end - e.values_begin);
  }

  // Drops the last entry with its cells and values (REQUIRES: undone).
  void pop_back() {
    const UndoEntry& e = entries_.back();
    assert(e.cells_end == cells_.size() && e.values_end == values_.size());
    cells_.erase(cells_.begin() + e.cells_begin, cells_.end());
    values_.erase(values_.begin() + e.values_begin, values_.end());
    entries_.pop_back();
  }

  // Empties the log; keeps its buffers for the next transaction unless
  // they grew past `keep` entries, or 4 x `keep` cells or values (a big
  // transaction's are given back).
  void Clear(size_t keep) {
    auto clear = [](auto& v, size_t most) {
      if (v.capacity() > most) {
        std::decay_t<decltype(v)>().swap(v);
      } else {
        v.clear();
      }
    };
    clear(entries_, keep);
    clear(cells_, 4 * keep);
    clear(values_, 4 * keep);
  }

 private:
  std::vector<UndoEntry> entries_;
  std::vector<UndoEntry::Cell> cells_;
  std::vector<Value> values_;
};

// The arrays grow by moving their elements, not copying them (strings).
static_assert(std::is_nothrow_move_constructible_v<UndoEntry::Cell>);
static_assert(std::is_nothrow_move_constructible_v<Value>);

}  // namespace internal
}  // namespace kin

#endif  // KIN_ENGINE_UNDO_LOG_H_
