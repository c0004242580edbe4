// ParentLinks: for a child table's key column that refers to a parent
// table's unique key (a foreign key, or a HasMany's child key), each child
// row's parent row and each parent row's number of children.
//
// Per-parent work over all parents (counts, has-filters, aggregates) must
// map every child to its parent. With compact int64 keys that is key - min;
// with sparse or string keys it is a hash probe per key, which made those
// queries 2-6x slower than on compact keys. A careful programmer keeps the
// parent's row next to each child; these links are that, kept by the child
// table and derived lazily from the data:
//
// - built on first use by one pass over the child's index on the key (one
//   parent probe per distinct key, not per child) or, without that index,
//   over the child rows;
// - brought up to date on later uses, not rebuilt, after writes to the
//   child table (inserts, deletes, key updates, rollbacks of them: the
//   slots in Table's touch log are re-linked, one probe each) and after
//   parents appended in fresh slots (their children found through the
//   child's index);
// - rebuilt after anything else: a parent deleted, a parent's key updated,
//   a parent slot reused, more child writes than the touch log holds, a
//   bulk write or load, or a child key column without an index. A rebuild
//   costs about what one per-parent query cost without the links.
//
// Thread-safety: Get may be called from concurrent const readers (it locks);
// the returned links stay valid and unchanged while the holder keeps the
// pointer and no thread writes to either table.

#ifndef KIN_ENGINE_PARENT_LINKS_H_
#define KIN_ENGINE_PARENT_LINKS_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include "kin/ids.h"

namespace kin {

class Table;

struct ParentLinks {
  static constexpr uint32_t kNoParent = std::numeric_limits<uint32_t>::max();

  // Per child slot (slot_count() of the child table when last brought up to
  // date): the parent's slot, or kNoParent for a NULL key, a key no parent
  // has, or a dead slot.
  std::vector<uint32_t> parent_of;
  // Per parent slot: the number of live children.
  std::vector<uint32_t> counts;

  size_t MemoryBytes() const {
    return (parent_of.capacity() + counts.capacity()) * sizeof(uint32_t);
  }
};

// The links a child table keeps, one entry per (key column, parent table,
// parent key column) asked for. Owned by the child Table.
class ParentLinkCache {
 public:
  // Links from `child`'s column `key` to the rows of `parent` whose
  // `parent_key` holds the same value. REQUIRES: `parent` has a unique index
  // on `parent_key`, and the two columns have the same type (int64 or
  // string); `child` is the table that owns this cache.
  std::shared_ptr<const ParentLinks> Get(const Table& child, ColumnId key, const Table& parent,
                                         ColumnId parent_key) const;

  // Forgets every entry (the table's columns changed).
  void Clear();

  // Heap held by the links (for MemoryBytes).
  size_t MemoryBytes() const;

 private:
  // What the links were derived from: the identity and versions of both
  // tables, and how many child slots they cover.
  struct Stamp {
    uint64_t child_touch = 0;  // child.touch_count()
    uint64_t child_key = 0;    // child.column_version(key)
    uint64_t parent_instance = 0;
    uint64_t parent_rows = 0;
    uint64_t parent_key = 0;
    size_t parent_slots = 0;
  };
  struct Entry {
    ColumnId key;
    ColumnId parent_key;
    Stamp stamp;
    std::shared_ptr<ParentLinks> links;
  };

  static Stamp StampOf(const Table& child, ColumnId key, const Table& parent, ColumnId parent_key);
  static void Build(const Table& child, ColumnId key, const Table& parent, ColumnId parent_key,
                    ParentLinks* links);
  // Brings links stamped `then` up to date; false when only a rebuild can.
  static bool Update(const Table& child, ColumnId key, const Table& parent, ColumnId parent_key,
                     const Stamp& then, ParentLinks* links);

  mutable std::mutex mu_;
  mutable std::vector<Entry> entries_;
};

}  // namespace kin

#endif  // KIN_ENGINE_PARENT_LINKS_H_
