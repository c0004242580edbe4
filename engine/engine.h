// Engine: the tables, the writes, transactions and referential actions.
//
// All writes go through the Engine so that every one is atomic: a failed
// call (type error, NOT NULL, duplicate key, a restrict action) leaves every
// column, bitmap and index exactly as before. Begin/Commit/Rollback nest
// (an inner Begin is a savepoint); Transaction is the scoped form.
//
// Foreign keys here are engine constraints with delete/update actions; the
// ORM-level relations (names, inverse, on_query) live in relations/ and use
// them. A foreign key with no action (both kNoAction) is not enforced: a
// child may point at a missing parent (Lucid's behaviour). A foreign key with
// any action is enforced on both sides, as SQLite's FOREIGN KEY: a child
// insert or update naming a missing parent is refused (NULL is allowed), and
// a parent delete or key change that would orphan children applies the
// action, or is refused when that side's action is kNoAction or kRestrict.
//
// Handles: every call that takes a Row refuses a row of another Engine with
// InvalidArgument naming its table, and a row of a dropped table (even if a
// table of that name was created again) with FailedPrecondition "stale or
// deleted row". A dropped table's object (name and schema, no rows) is kept
// until the engine is destroyed so that old handles never read freed memory.
//
// Not thread-safe: one writer at a time, no reads during a write.

#ifndef KIN_ENGINE_ENGINE_H_
#define KIN_ENGINE_ENGINE_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/change_feed.h"
#include "engine/table.h"
#include "engine/undo_log.h"
#include "kin/change.h"
#include "kin/row.h"
#include "kin/row_batch.h"
#include "kin/schema.h"
#include "kin/transaction.h"
#include "kin/value.h"

namespace kin {

class Engine {
 public:
  Engine();
  // The moved-to engine keeps the id (and so its tables' handles stay
  // valid); the moved-from one gets a fresh id and no tables.
  Engine(Engine&& other) noexcept;
  Engine& operator=(Engine&& other) noexcept;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

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
  // keeps both). Unique in the process: no two engines share an epoch, so
  // the layers above can cache resolved tables keyed on the epoch alone.
  uint64_t table_epoch() const { return table_epoch_; }
  // Adds a secondary hash index on an int64 or string column, or an
  // ordered index on a column of any type (no-op if the column already has
  // one of that kind), built from the rows in O(n log n). NotFound for an
  // unknown table, InvalidArgument for an unknown column or a hash index on
  // a double or bool column, FailedPrecondition inside a transaction
  // (schema changes are not transactional); nothing changes on error.
  absl::Status CreateIndex(absl::string_view table, absl::string_view column,
                           IndexKind kind = IndexKind::kHash);
  // Adds a composite ordered index on 2 or 3 columns (CompositeIndex),
  // built from the rows. NotFound for an unknown table; InvalidArgument for
  // an unknown or repeated column, a column count other than 2 or 3, or
  // kHash; AlreadyExists when an index on these columns (in this order)
  // exists; FailedPrecondition inside a transaction. Nothing changes on
  // error.
  absl::Status CreateIndex(absl::string_view table, std::span<const absl::string_view> columns,
                           IndexKind kind);

  // --- schema changes (engine/alter.cc) ---
  // The contracts (what each does, costs, errors) are kin::Database's of
  // the same names (kin/database.h), minus the relations, which this layer
  // does not know: here the foreign keys naming a column or table follow a
  // rename and block a drop or type change. Each checks everything first,
  // so on error nothing changed. FailedPrecondition inside a transaction
  // (but see BeginSchemaChange). Every change moves table_epoch(); a drop
  // or a type change also the table's layout_version().
  absl::Status AddColumn(absl::string_view table, ColumnSpec spec);
  absl::Status DropColumn(absl::string_view table, absl::string_view column);
  absl::Status RenameColumn(absl::string_view table, absl::string_view column,
                            absl::string_view new_name);
  absl::Status RenameTable(absl::string_view table, absl::string_view new_name);
  absl::Status SetColumnDefault(absl::string_view table, absl::string_view column,
                                std::optional<Value> value);
  absl::Status SetColumnNullable(absl::string_view table, absl::string_view column, bool nullable);
  // A hash index on the column is rebuilt in slot order (keys change type,
  // so per-key insertion order cannot carry over).
  absl::Status ChangeColumnType(absl::string_view table, absl::string_view column, Type type);
  absl::Status DropIndex(absl::string_view table, absl::string_view column, IndexKind kind);
  absl::Status DropIndex(absl::string_view table, std::span<const absl::string_view> columns);

  // All or nothing over several schema changes and writes (a migration):
  // BeginSchemaChange opens a savepoint inside which the changes above,
  // CreateTable, CreateIndex and Add/RemoveForeignKey are allowed (only at
  // its own level, not in a savepoint opened inside it; DropTable stays
  // refused). Each table is copied (cells and indexes) before the first
  // schema change touches it; writes to other tables are undone from the
  // undo log as usual. RollbackSchemaChange restores the copies, undoes the
  // rest and drops tables created since, so DebugString() is as before;
  // CommitSchemaChange keeps everything. The writes made inside are not
  // published to commit listeners or the gate (their columns may have
  // changed since): persist the result with a checkpoint.
  // FailedPrecondition inside a transaction or a schema change.
  absl::Status BeginSchemaChange();
  void CommitSchemaChange();
  void RollbackSchemaChange();
  bool in_schema_change() const { return schema_change_ != nullptr; }

  // Small named strings kept with the data (saved in snapshots from format
  // 6, printed by DebugString when present, restored by a rolled-back
  // schema change); the engine gives them no meaning (kin::Migrations keeps
  // its records here). Empty value erases.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  void SetMetadata(const std::string& key, std::string value);

  // --- rows ---
  absl::StatusOr<Row> Insert(absl::string_view table, const Attrs& attrs);
  // Insert of cells by column id (a relation writing its pivot rows): the
  // same checks, indexes, foreign keys and undo as Insert, without a name
  // lookup. InvalidArgument for a column id outside the table or a column
  // given twice. A cell whose value is nullptr is not given (the column
  // takes its default or NULL).
  absl::StatusOr<Row> InsertCells(absl::string_view table, std::span<const CellRef> cells);
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
  // Update of cells by column id (kin::Database::Set): the same checks,
  // index and foreign-key maintenance, actions and undo as Update, in one
  // step and all or nothing, without a name lookup. InvalidArgument for a
  // column id outside the row's table or a column given twice.
  absl::StatusOr<bool> UpdateCells(const Row& row, std::span<const CellRef> cells);
  // Deletes the row and applies on_delete actions (cascades recursively,
  // without recursion in C++: a chain of any length up to kMaxCascadeDepth
  // rows deep is fine; deeper is FailedPrecondition naming the limit, and
  // nothing changes).
  absl::Status Delete(const Row& row);
  static constexpr size_t kMaxCascadeDepth = 100000;
  // By primary key: NotFound when absent.
  absl::StatusOr<Row> FindOrFail(absl::string_view table, const Value& key) const;

  // --- transactions ---
  // Raw savepoints. Commit/Rollback close the innermost one:
  // FailedPrecondition when none is open, or when the innermost was opened
  // by a kin::Transaction or by Atomically (close it there: a raw call
  // cannot close a scoped transaction out of order).
  absl::Status Begin();
  absl::Status Commit();
  absl::Status Rollback();
  int transaction_depth() const { return static_cast<int>(marks_.size()); }
  // Runs `body` inside a savepoint: rolled back if it returns an error. A
  // body that leaves a transaction it opened still open is rolled back too,
  // and reported as FailedPrecondition; the body cannot close the savepoint
  // of Atomically or of an enclosing kin::Transaction (those calls fail).
  absl::Status Atomically(const std::function<absl::Status()>& body);

  // --- commit feed (kin/change.h) ---
  // Registers a listener for every later commit; returns its id. While any
  // listener is registered, writes outside a transaction are logged as
  // one-write commits (without listeners they skip the undo log).
  uint64_t AddCommitListener(CommitListener listener);
  // NotFound for an unknown id. Not from inside a listener (the feed is
  // delivering): FailedPrecondition.
  absl::Status RemoveCommitListener(uint64_t id);
  // The durability gate (a journal): called at each commit with its
  // changes, before the commit is final and before any listener. An error
  // rolls the whole commit back, and the Commit (or the write made outside a
  // transaction) returns it. nullptr removes it.
  using CommitGate = std::function<absl::Status(const kin::Commit&)>;
  void SetCommitGate(CommitGate gate) { gate_ = std::move(gate); }
  // Called once a commit that passed the gate is final and every listener
  // has seen it (after the outermost delivery, never from inside a
  // listener; a listener may have left a transaction open): the data
  // directory's automatic checkpoint, which must see the committed state
  // and may take a while.
  // It cannot fail the commit, which the gate already accepted. nullptr
  // removes it.
  using AfterCommit = std::function<void()>;
  void SetAfterCommit(AfterCommit after) { after_commit_ = std::move(after); }

  // Journal replay: applies a commit's changes as they were made, each
  // insert into the slot it names, without foreign-key checks or actions
  // (the commit lists every row a cascade touched), without undo logging
  // and without reaching the commit gate or listeners. DataLoss naming the
  // change when the database does not match them (an unknown table or
  // column, a slot that is not the one an insert takes, an update or delete
  // of a slot holding no row, a value of the wrong type, a duplicate key).
  // Not atomic: after an error the engine holds part of the changes and
  // must be discarded (Database::Open fails as a whole). FailedPrecondition
  // inside a transaction.
  absl::Status Replay(std::span<const RowChange> changes);

  // --- foreign keys ---
  // Validates tables, columns and types (parent column must be the primary
  // key or unique when an action is set), and indexes the child column.
  absl::Status AddForeignKey(const ForeignKeySpec& fk);
  absl::Status RemoveForeignKey(absl::string_view child_table, absl::string_view child_column);
  const std::vector<ForeignKeySpec>& foreign_keys() const { return foreign_keys_; }

  // --- handles ---
  // Unique among the engines of a process; moves with the engine.
  uint64_t id() const { return id_; }
  // OK when `row` is a live row of a table of this engine. InvalidArgument
  // "row of table 'users' does not belong to this database" for a row of another
  // engine; FailedPrecondition for an empty handle, a deleted row or a row
  // of a dropped table.
  absl::Status CheckRow(const Row& row) const;

  // --- introspection ---
  std::string DebugString() const;
  size_t MemoryBytes() const;
  absl::Status CheckConsistency() const;

  // Snapshot load: creates `name` with `schema` and the given state.
  absl::Status RestoreTable(std::string name, Schema schema, TableImage image);

 protected:
  Table* MutableTable(absl::string_view name);

 private:
  friend class Transaction;

  // An open savepoint.
  struct Mark {
    size_t log_size;  // log_ size at its Begin
    uint64_t serial;  // unique per engine, so a closed one is never mistaken
    bool scoped;      // opened by a Transaction or Atomically
  };
  // An enforced foreign key seen from its child table (see child_checks_).
  struct ChildCheck {
    size_t fk;  // index in foreign_keys_
    ColumnId child_column;
    const Table* parent;
    ColumnId parent_column;
  };

  // Update and UpdateCells: `prepare(table)` fills the table's changes_.
  template <typename Prepare>
  absl::StatusOr<bool> UpdateWith(const Row& row, const Prepare& prepare);
  absl::Status DeleteRow(Table& table, RowId id);
  // The children of the row `id` of `table` that each enforced foreign key
  // reaches, after checking restrict (and no-action) keys.
  struct Pending {
    const ForeignKeySpec* fk;
    Table* child;
    std::vector<RowId> kids;
  };
  absl::Status CollectChildren(Table& table, RowId id, std::vector<Pending>* out);
  absl::Status ApplyUpdateActions(Table& table, RowId id,
                                  const std::vector<std::pair<ColumnId, Value>>& old_keys);
  absl::Status CheckNoTransaction(absl::string_view what) const;
  // Child side of enforced foreign keys: every non-NULL key of `rows` of
  // `table` (already written) names an existing parent row.
  absl::Status CheckParents(const Table& table, std::span<const RowId> rows) const;
  absl::Status CheckParent(const Table& table, const ChildCheck& check, RowId row) const;
  bool HasChildChecks(const Table& table) const { return child_checks_.contains(&table); }
  // Insert's and InsertCells' write of the row `t` prepared.
  absl::StatusOr<Row> InsertPrepared(Table* t);
  void RebuildChildChecks();

  // The undo log a write appends to: none outside a transaction, unless a
  // commit listener needs the write's changes.
  internal::UndoLog* Log() {
    return marks_.empty() && listeners_.empty() && !gate_ ? nullptr : &log_;
  }
  // After a write made outside a transaction (on a path that logs to Log()
  // without a savepoint): commits it when a gate or listeners want it. An
  // error from the gate has undone the write.
  absl::Status EndOfWrite() {
    if (marks_.empty() && !log_.empty()) return Publish();
    return absl::OkStatus();
  }
  // The top-level log is committed: turns it into a Commit and passes it
  // through the gate (which may refuse it: then the log is undone and the
  // error returned), empties the log and delivers the Commit (queued when a
  // listener is running, so commits reach every listener in commit order).
  absl::Status Publish();
  void ClearLog();
  // Keeps a delivered commit's change vector for the next commit to fill
  // (see ChangeFeedBuilder::Build), unless it is too big to keep.
  void RecycleChanges(std::vector<RowChange>&& changes);

  // What RollbackSchemaChange restores (engine/alter.cc).
  struct SchemaChange;
  // Copies `table` into the open schema change before it is changed (once).
  void BackupForSchemaChange(Table& table);
  void NewTableEpoch();

  void MoveFrom(Engine& other);
  uint64_t BeginScoped();
  // Closes the scoped savepoint `serial`: FailedPrecondition when it is not
  // the innermost open one (or already closed). `what` names the caller.
  absl::Status CloseScoped(uint64_t serial, bool commit, absl::string_view what);
  // Position of `serial` in marks_, or -1.
  int FindMark(uint64_t serial) const;
  // Rolls back and closes marks_[i] and every savepoint inside it.
  void RollbackTo(size_t i);

  uint64_t id_;  // see id()
  std::vector<std::unique_ptr<Table>> tables_;
  // Dropped tables, kept for the handles that may still point at them.
  std::vector<std::unique_ptr<Table>> dropped_tables_;
  absl::flat_hash_map<std::string, Table*> by_name_;
  std::vector<ForeignKeySpec> foreign_keys_;
  absl::flat_hash_map<const Table*, std::vector<ChildCheck>> child_checks_;
  internal::UndoLog log_;
  std::vector<Mark> marks_;
  uint64_t next_serial_ = 1;
  std::vector<std::pair<uint64_t, std::shared_ptr<const CommitListener>>> listeners_;
  uint64_t next_listener_ = 1;
  uint64_t commit_sequence_ = 0;  // of the last commit built
  CommitGate gate_;
  AfterCommit after_commit_;
  std::deque<kin::Commit> undelivered_;
  // The commit path's buffers, kept from one commit to the next.
  internal::ChangeFeedBuilder feed_builder_;
  std::vector<RowChange> spare_changes_;
  bool delivering_ = false;
  uint64_t table_epoch_;  // see table_epoch()
  std::map<std::string, std::string> metadata_;
  std::shared_ptr<SchemaChange> schema_change_;  // shared: the type is alter.cc's
};

}  // namespace kin

#endif  // KIN_ENGINE_ENGINE_H_
