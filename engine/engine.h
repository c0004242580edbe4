// Engine: the tables, the writes, transactions and referential actions.
//
// All writes go through the Engine so that every one is atomic: a failed
// call (type error, NOT NULL, duplicate key, a restrict action) leaves every
// column, bitmap and index exactly as before. Begin/Commit/Rollback nest
// (an inner Begin is a savepoint); Transaction is the scoped form.
//
// Foreign keys here are engine constraints with delete/update actions; the
// ORM-level relations (names, inverse, on_query) live in relations/ and use
// them. A child may point at a missing parent: the engine checks nothing on
// child writes, it only applies the actions when a parent row is deleted or
// its key changes.
//
// Not thread-safe: one writer at a time, no reads during a write.

#ifndef KIN_ENGINE_ENGINE_H_
#define KIN_ENGINE_ENGINE_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/row.h"
#include "engine/row_batch.h"
#include "engine/schema.h"
#include "engine/table.h"
#include "engine/undo_log.h"
#include "engine/value.h"

namespace kin {

// What happens to child rows when their parent row is deleted. Persisted:
// never renumber.
enum class OnDelete : uint8_t {
  kNoAction = 0,  // children keep pointing at the missing parent (Lucid's default)
  kRestrict = 1,  // the delete fails while children exist
  kCascade = 2,   // children are deleted too (recursively)
  kSetNull = 3,   // children's foreign key becomes NULL
};
// What happens to child rows when their parent's key changes.
enum class OnUpdate : uint8_t {
  kNoAction = 0,
  kRestrict = 1,
  kCascade = 2,  // children's foreign key follows the new key
};
absl::string_view OnDeleteName(OnDelete a);
absl::string_view OnUpdateName(OnUpdate a);

struct ForeignKeySpec {
  std::string child_table;
  std::string child_column;
  std::string parent_table;
  std::string parent_column;
  OnDelete on_delete = OnDelete::kNoAction;
  OnUpdate on_update = OnUpdate::kNoAction;

  friend bool operator==(const ForeignKeySpec&, const ForeignKeySpec&) = default;
};

class Engine {
 public:
  Engine() = default;
  Engine(Engine&&) = default;
  Engine& operator=(Engine&&) = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine() = default;

  // --- tables ---
  // InvalidArgument for a bad schema or name, AlreadyExists for a taken
  // name, FailedPrecondition inside a transaction (schema changes are not
  // transactional).
  absl::Status CreateTable(std::string name, Schema schema);
  // NotFound, or FailedPrecondition inside a transaction or while a foreign
  // key references the table.
  absl::Status DropTable(absl::string_view name);
  const Table* FindTable(absl::string_view name) const;
  absl::StatusOr<const Table*> GetTable(absl::string_view name) const;
  // Names in creation order.
  std::vector<std::string> TableNames() const;
  // Changes whenever a table is dropped: a Table pointer taken from this
  // engine stays valid while the epoch is unchanged (moving the engine
  // keeps both). Lets the layers above cache resolved tables safely.
  uint64_t table_epoch() const { return table_epoch_; }
  // Adds a secondary index on an int64 or string column (no-op if indexed).
  absl::Status CreateIndex(absl::string_view table, absl::string_view column);

  // --- rows ---
  absl::StatusOr<Row> Insert(absl::string_view table, const Attrs& attrs);
  // All or nothing; the error names the failing row's position.
  absl::StatusOr<std::vector<Row>> InsertMany(absl::string_view table,
                                              const std::vector<Attrs>& rows);
  // Appends the batch's rows to new slots (free slots are not reused), all
  // or nothing, maintaining every index; returns the number of rows. The
  // fast path for bulk loads: no Value per cell.
  absl::StatusOr<size_t> InsertBatch(absl::string_view table, RowBatch batch);
  // Sets the given columns. Returns whether any cell changed. Applies the
  // on_update action of foreign keys whose parent column changed.
  absl::StatusOr<bool> Update(const Row& row, const Attrs& attrs);
  // Deletes the row and applies on_delete actions (recursively).
  absl::Status Delete(const Row& row);
  // By primary key: NotFound when absent.
  absl::StatusOr<Row> FindOrFail(absl::string_view table, const Value& key) const;

  // --- transactions ---
  absl::Status Begin();
  // FailedPrecondition when none is open.
  absl::Status Commit();
  absl::Status Rollback();
  int transaction_depth() const { return static_cast<int>(marks_.size()); }
  // Runs `body` inside a savepoint: rolled back if it returns an error.
  absl::Status Atomically(const std::function<absl::Status()>& body);

  // --- foreign keys ---
  // Validates tables, columns and types (parent column must be the primary
  // key or unique when an action is set), and indexes the child column.
  absl::Status AddForeignKey(const ForeignKeySpec& fk);
  absl::Status RemoveForeignKey(absl::string_view child_table, absl::string_view child_column);
  const std::vector<ForeignKeySpec>& foreign_keys() const { return foreign_keys_; }

  // --- introspection ---
  std::string DebugString() const;
  size_t MemoryBytes() const;
  absl::Status CheckConsistency() const;

  // Snapshot load: creates `name` with `schema` and the given state.
  absl::Status RestoreTable(std::string name, Schema schema, TableImage image);

 protected:
  Table* MutableTable(absl::string_view name);

 private:
  absl::Status DeleteRow(Table& table, RowId id, int depth);
  absl::Status ApplyUpdateActions(Table& table, RowId id,
                                  const std::vector<std::pair<ColumnId, Value>>& old_keys);
  absl::Status CheckNoTransaction(absl::string_view what) const;

  std::vector<std::unique_ptr<Table>> tables_;
  absl::flat_hash_map<std::string, Table*> by_name_;
  std::vector<ForeignKeySpec> foreign_keys_;
  std::vector<internal::UndoEntry> log_;
  std::vector<size_t> marks_;  // log size at each open Begin()
  uint64_t table_epoch_ = 0;   // see table_epoch()
};

// Scoped transaction: rolls back on destruction unless committed.
//
//   kin::Transaction tx(db);
//   KIN_RETURN_IF_ERROR(...);
//   return tx.Commit();
class Transaction {
 public:
  explicit Transaction(Engine& engine);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  absl::Status Commit();
  absl::Status Rollback();

 private:
  Engine* engine_;
  bool open_ = false;
};

}  // namespace kin

#endif  // KIN_ENGINE_ENGINE_H_
