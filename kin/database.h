// kin::Database: tables, writes, transactions and foreign-key actions, plus
// relations, relation-aware queries and snapshots.
//
//   kin::Database db;
//   KIN_RETURN_IF_ERROR(db.CreateTable("users", kin::Schema().Int64("id", kin::PrimaryKey())));
//   KIN_RETURN_IF_ERROR(db.HasMany("users", "posts"));   // posts.user_id -> users.id
//   KIN_ASSIGN_OR_RETURN(kin::Row user, db.FindOrFail("users", 1));
//   KIN_ASSIGN_OR_RETURN(kin::Row post, db.Related(user, "posts").Create({{"title", "Hi"}}));
//
// A Database owns its storage engine and its relation catalog (both
// internal). Every write goes through it, so every one is atomic: a failed
// call (type error, NOT NULL, duplicate key, a restrict action) leaves the
// database exactly as before. Begin/Commit/Rollback nest (an inner Begin is
// a savepoint); kin::Transaction is the scoped form.
//
// Foreign keys with no referential action are not enforced: a child may
// point at a missing parent (Lucid's behaviour). A relation declared with an
// action is enforced on both sides, as SQLite's FOREIGN KEY.
//
// Handles: every call that takes a Row refuses a row of another Database
// with InvalidArgument naming its table, and a row of a dropped table (even
// if a table of that name was created again) with FailedPrecondition "stale
// or deleted row". Moving a Database keeps its rows, result sets and
// relation bindings valid (the engine does not move in memory).
//
// Not thread-safe: use one Database from one thread at a time.

#ifndef KIN_DATABASE_H_
#define KIN_DATABASE_H_

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/change.h"
#include "kin/column.h"
#include "kin/data_dir.h"
#include "kin/query.h"
#include "kin/related.h"
#include "kin/relation.h"
#include "kin/row.h"
#include "kin/row_batch.h"
#include "kin/schema.h"
#include "kin/snapshot.h"
#include "kin/transaction.h"
#include "kin/value.h"

namespace kin {

class Engine;           // engine/engine.h (internal)
class RelationCatalog;  // relations/relation_catalog.h (internal)
class Table;            // engine/table.h (internal)
namespace internal {
class DatabaseAccess;  // kin/internal/database_access.h
class DataDir;         // kin/internal/data_dir.h
}  // namespace internal

class Database {
 public:
  Database();
  ~Database();
  // The moved-to database takes the tables (rows, result sets and relation
  // bindings stay valid); the moved-from one is empty and usable.
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // --- a data directory (kin/data_dir.h) ---
  // Opens the database kept in `dir` (created if missing): its newest
  // snapshot, then every commit journaled after it. From then on each
  // commit is appended to the journal before it returns (made durable by
  // options.sync), and each schema change writes a checkpoint. Errors:
  // DataLoss for a damaged snapshot or journal (naming the file and byte;
  // a torn last record, what a crash mid-append leaves, is dropped and
  // reported in recovery() instead), the file system's errors.
  static absl::StatusOr<Database> Open(const std::string& dir, const OpenOptions& options = {});
  // Writes the whole database as a new snapshot and starts a fresh journal;
  // the old files are removed once the new ones are durable. A crash at any
  // point leaves a directory that opens to the same state. When the new
  // snapshot is in place but its directory could not be synced, commits
  // are refused until a Checkpoint succeeds (either checkpoint may be the
  // one a power loss leaves). FailedPrecondition inside a transaction or
  // for a database not opened from a directory.
  absl::Status Checkpoint();
  // Makes every commit so far durable (for SyncPolicy kGrouped / kNone).
  absl::Status Sync();
  // What Open recovered; nullptr for a database not opened from a directory.
  const RecoveryInfo* recovery() const;
  // The directory now: checkpoint, snapshot and journal sizes, automatic
  // checkpoints (OpenOptions::auto_checkpoint_percent) and their last
  // error. FailedPrecondition for a database not opened from a directory.
  absl::StatusOr<JournalInfo> Journal() const;

  // --- tables ---
  // InvalidArgument for a bad schema, AlreadyExists for a taken name.
  absl::Status CreateTable(std::string name, Schema schema);
  // Drops the table and every relation declared on it or pointing at it.
  // Foreign keys that no relation owns block it (FailedPrecondition).
  absl::Status DropTable(std::string_view table);
  // Adds an index on an existing column (filled from the rows present).
  absl::Status CreateIndex(std::string_view table, std::string_view column,
                           IndexKind kind = IndexKind::kHash);
  // Adds a composite ordered index over 2 or 3 columns of any type, in
  // lexicographic order with NULLs first in each component, for example
  // CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered). The
  // planner walks it for an equality prefix then OrderBy + Limit or a range
  // on the next column (see kin/query.h). Maintained by every write, undone
  // by rollback, saved in snapshots (format 4) and rebuilt on load.
  // Errors, the database unchanged: NotFound for an unknown table;
  // InvalidArgument for an unknown or repeated column, fewer than 2 or more
  // than 3 columns, or kind kHash (composite indexes are ordered only);
  // AlreadyExists when the table has an index on these columns in this
  // order; FailedPrecondition inside a transaction. Cost O(n log n).
  absl::Status CreateIndex(std::string_view table, std::initializer_list<std::string_view> columns,
                           IndexKind kind);
  absl::Status CreateIndex(std::string_view table, std::span<const std::string> columns,
                           IndexKind kind);
  std::vector<std::string> TableNames() const;

  // --- changing the schema (kin/alter.cc) ---
  // Every operation checks everything before it changes anything: on error
  // the database is exactly as before and the Status names the table, the
  // column and what was wrong. NotFound for an unknown table, InvalidArgument
  // for an unknown column; FailedPrecondition inside a transaction (run
  // several as one with Migrate). On a database opened from a directory,
  // each writes a checkpoint (a Migrate, one at its end). Column handles stay
  // valid except across a DropColumn of their table (then "stale column
  // handle": resolve them again); cached plans resolve again by themselves.
  //
  // Appends a column; every existing row holds its default (NULL without
  // one). One column is filled, no other is copied: O(rows). InvalidArgument
  // for a bad spec (empty name or "*", a primary key, a default of another
  // type or on a unique column, NOT NULL without a default on a table with
  // rows); AlreadyExists for a taken name. A unique column starts all NULL.
  //   KIN_RETURN_IF_ERROR(db.AddColumn("players", {.name = "level", .type = kin::Type::kInt64,
  //                                                .nullable = false, .default_value = 1}));
  absl::Status AddColumn(std::string_view table, ColumnSpec spec);
  // Removes a column and its cells and indexes. FailedPrecondition naming
  // what still uses it: the primary key, a foreign key, a relation (its key
  // or scope), a composite index (drop the index first).
  absl::Status DropColumn(std::string_view table, std::string_view column);
  // O(1) in the rows. Foreign keys, relations (keys and scopes) and indexes
  // follow. Refused (FailedPrecondition naming them) while a relation with
  // an on_query reads the table: the callback is code that may name the
  // column. AlreadyExists for a taken name.
  absl::Status RenameColumn(std::string_view table, std::string_view column,
                            std::string_view new_name);
  // O(1) in the rows. Foreign keys and relations follow (relation names
  // stay). AlreadyExists for a taken name.
  absl::Status RenameTable(std::string_view table, std::string_view new_name);
  // The value inserts take when they omit the column; nullopt for none.
  // InvalidArgument for a value of another type, NULL on a NOT NULL column,
  // a default on a key column.
  absl::Status SetColumnDefault(std::string_view table, std::string_view column,
                                std::optional<Value> value);
  // Makes a column nullable, or NOT NULL: then FailedPrecondition naming the
  // first row (by primary key) holding NULL, or a foreign key that sets it
  // NULL on delete.
  absl::Status SetColumnNullable(std::string_view table, std::string_view column, bool nullable);
  // Converts a column to `type`, with its cells and default: int64 <->
  // double (exact values), any -> string, string -> int64 / double / bool
  // (parsed), bool <-> int64 / double (0 and 1). InvalidArgument naming the
  // first row (by primary key) whose value does not convert, a default that
  // does not, two rows a unique column would make equal, or a hash index
  // on a double or bool; FailedPrecondition for the primary key or a column
  // a foreign key, relation or composite index uses. Column handles of the
  // table go stale (their type is compiled in), and a hash index on the
  // column is rebuilt in slot order. O(rows).
  absl::Status ChangeColumnType(std::string_view table, std::string_view column, Type type);
  // Drops a column's hash or ordered index. NotFound when there is none;
  // FailedPrecondition for the index of a primary key or unique column, or
  // one a foreign key or relation needs (naming it).
  absl::Status DropIndex(std::string_view table, std::string_view column,
                         IndexKind kind = IndexKind::kHash);
  // Drops the composite index on exactly these columns, in this order.
  absl::Status DropIndex(std::string_view table, std::initializer_list<std::string_view> columns);
  // Runs `body` (schema changes, CreateTable, CreateIndex, HasMany,
  // BelongsTo, and writes) all or nothing: when it returns an error (or
  // leaves a transaction open) the database is restored exactly as before
  // (DebugString and relations equal) and the error is returned. Each table
  // is copied before the first schema change touches it (cells and
  // indexes); writes to other tables are undone from the undo log. Inside,
  // DropTable and a second Migrate are refused, and schema changes are
  // allowed only at the body's own level (not in a savepoint it opens). The
  // writes made inside reach no commit listener and no journal (the
  // checkpoint at the end holds them). FailedPrecondition inside a
  // transaction. kin::Migrations (kin/migrations.h) runs numbered steps
  // this way.
  absl::Status Migrate(const std::function<absl::Status()>& body);
  // The native read path (spans over columns, index probes): engine/table.h,
  // which is internal and may change between releases. nullptr if absent.
  const Table* FindTable(std::string_view table) const;
  // NotFound "unknown table 'x'" if absent.
  absl::StatusOr<const Table*> GetTable(std::string_view table) const;

  // --- rows ---
  absl::StatusOr<Row> Insert(std::string_view table, const Attrs& attrs);
  // All or nothing; the error names the failing row's position.
  absl::StatusOr<std::vector<Row>> InsertMany(std::string_view table,
                                              const std::vector<Attrs>& rows);
  // Appends the batch's rows (free slots are not reused), all or nothing,
  // maintaining every index; returns the number of rows. The fast path for
  // bulk loads: no Value per cell.
  absl::StatusOr<size_t> InsertBatch(std::string_view table, RowBatch batch);
  // Sets the given columns; returns whether any cell changed. Applies the
  // on_update action of foreign keys whose parent column changed.
  absl::StatusOr<bool> Update(const Row& row, const Attrs& attrs);
  // Deletes the row and applies on_delete actions (cascades iterate: a
  // chain up to kMaxCascadeDepth rows deep is fine; deeper is
  // FailedPrecondition naming the limit, and nothing changes).
  absl::Status Delete(const Row& row);
  static constexpr size_t kMaxCascadeDepth = 100000;
  // By primary key: NotFound when absent.
  absl::StatusOr<Row> FindOrFail(std::string_view table, const Value& key) const;
  // OK when `row` is a live row of this database. InvalidArgument "row of
  // table 'users' does not belong to this database" for another database's
  // row; FailedPrecondition for an empty handle, a deleted row or a row of
  // a dropped table.
  absl::Status CheckRow(const Row& row) const;

  // --- typed columns (kin/column.h): the path for hot loops ---
  // The column `column` of `table` as a typed handle, resolved and
  // type-checked once: NotFound for an unknown table, InvalidArgument for an
  // unknown column or a column of another type ("players.score: column is
  // int64, not double"). One function per type rather than one template, so
  // the call reads like Row::GetInt64 and needs no `template` keyword in
  // generic code.
  absl::StatusOr<Column<int64_t>> Int64Column(std::string_view table,
                                              std::string_view column) const;
  absl::StatusOr<Column<double>> DoubleColumn(std::string_view table,
                                              std::string_view column) const;
  absl::StatusOr<Column<bool>> BoolColumn(std::string_view table, std::string_view column) const;
  absl::StatusOr<Column<std::string_view>> StringColumn(std::string_view table,
                                                        std::string_view column) const;

  // Sets one cell through a handle: exactly Update(row, {{name, value}})
  // (type and NOT NULL checks, unique keys, indexes, foreign-key checks and
  // actions, undone by a rollback, nothing changed on error) without the
  // name lookup. Errors as Update's, plus FailedPrecondition for an empty or
  // stale handle and InvalidArgument for a handle of another table or
  // database. Unlike Update it does not report whether the cell changed.
  template <typename T>
  absl::Status Set(const Row& row, const Column<T>& column, std::type_identity_t<T> value) {
    return Set(row, Assign(column, value));
  }
  // The same, writing NULL: InvalidArgument for a NOT NULL column.
  template <typename T>
  absl::Status SetNull(const Row& row, const Column<T>& column) {
    return Set(row, AssignNull(column));
  }
  // Sets several cells of one row in one step, all or nothing:
  //   KIN_RETURN_IF_ERROR(db.Set(player, kin::Assign(score, 42), kin::Assign(gold, 7),
  //                              kin::AssignNull(title)));
  // exactly Update(row, {{"score", 42}, {"gold", 7}, {"title", nullptr}})
  // without the name lookups: every value is checked before any is written
  // (NOT NULL, unique keys), then the cells, their indexes (hash, ordered,
  // composite) and foreign-key checks and actions are applied as one step
  // that a failure or a rollback undoes. Errors name the column, the
  // database unchanged: those of the one-cell Set, plus InvalidArgument
  // "table 'players': column 'score' given twice". Cost: one Update's work
  // for all the cells (one undo entry, one foreign-key pass), no name lookup
  // and no heap use of its own for up to 8 cells.
  template <std::same_as<Assignment>... A>
  absl::Status Set(const Row& row, const Assignment& first, const A&... rest) {
    const Assignment* cells[] = {&first, &rest...};
    return SetCells(row, cells);
  }

  // Typed iteration over the live rows of `table` in slot order: elements
  // are std::tuple<Row, T...>, so
  //   KIN_ASSIGN_OR_RETURN(auto range, db.Each("players", score, gold));
  //   for (auto [row, s, g] : range) { ... }
  // Rows with a NULL in any of the columns are skipped; writes inside the
  // loop are safe (see kin::EachRange). NotFound for an unknown table,
  // FailedPrecondition for an empty or stale handle, InvalidArgument for a
  // handle of another table or database. Keep the range in a variable: in
  // C++20, `for (... : *db.Each(...))` destroys the StatusOr holding the
  // range before the loop starts.
  template <typename... T>
  absl::StatusOr<EachRange<T...>> Each(std::string_view table, const Column<T>&... columns) const {
    absl::StatusOr<const Table*> t =
        EachTable(table, std::initializer_list<std::pair<const Table*, ColumnId>>{
                             {columns.table(), columns.id()}...});
    if (!t.ok()) return t.status();
    return EachRange<T...>(*t, columns...);
  }

  // Typed iteration over the children of `parent` through its HasMany
  // relation `relation`, in the order Related(parent, relation).Get()
  // returns them (the foreign-key index's order): elements are
  // std::tuple<Row, T...>, so
  //   KIN_ASSIGN_OR_RETURN(auto posts, db.Each(user, "posts", title, likes));
  //   for (auto [post, t, l] : posts) { ... }
  // Children with a NULL in any of the columns are skipped; writes inside
  // the loop are safe (see kin::ChildRange). The range reads the relation's
  // foreign-key list, so a relation with an on_query or a scope is refused
  // (FailedPrecondition naming it: read those with Related(...).Get()).
  // Errors, named: FailedPrecondition for a stale or empty parent row, an
  // empty or stale column handle, or a BelongsTo relation; InvalidArgument
  // for a row of another database or a column handle of another database or
  // of a table other than the relation's children; NotFound for an unknown
  // relation. Keep the range in a variable (as for Each over a table).
  template <typename... T>
  absl::StatusOr<ChildRange<T...>> Each(const Row& parent, std::string_view relation,
                                        const Column<T>&... columns) const {
    absl::StatusOr<column_internal::Children> children =
        EachChildren(parent, relation,
                     std::initializer_list<std::pair<const Table*, ColumnId>>{
                         {columns.table(), columns.id()}...});
    if (!children.ok()) return children.status();
    return ChildRange<T...>(*std::move(children), columns...);
  }

  // --- transactions ---
  // Raw savepoints. Commit/Rollback close the innermost one:
  // FailedPrecondition when none is open, or when the innermost was opened
  // by a kin::Transaction or by Atomically (close it there).
  absl::Status Begin();
  absl::Status Commit();
  absl::Status Rollback();
  int transaction_depth() const;
  // Runs `body` inside a savepoint: rolled back if it returns an error. A
  // body that leaves a transaction it opened still open is rolled back too,
  // and reported as FailedPrecondition.
  absl::Status Atomically(const std::function<absl::Status()>& body);

  // --- commit feed (kin/change.h) ---
  // Calls `listener` after every later commit with the rows it inserted,
  // updated and deleted (cascades included), in commit order; never for
  // rolled-back work. Returns an id for RemoveCommitListener. Listeners
  // move with the database (one that captured the old object must be
  // re-registered). While one is registered, each write outside a
  // transaction is logged and built into a Commit: a cost on the order of
  // a Value per changed cell.
  uint64_t OnCommit(CommitListener listener);
  // NotFound for an unknown id; FailedPrecondition from inside a listener.
  absl::Status RemoveCommitListener(uint64_t id);

  // --- relations ---
  // Declares parent HasMany child (and, by default, the inverse BelongsTo on
  // the child). Indexes the foreign key; registers referential actions.
  // Errors: NotFound (table), InvalidArgument (column, key types, actions on
  // a non-unique local key), AlreadyExists (relation name),
  // FailedPrecondition inside a transaction. Nothing changes on error.
  absl::Status HasMany(std::string_view parent, std::string_view child,
                       HasManyOptions options = {});
  // Declares parent HasOne child (Lucid hasOne, Sequelize HasOne) and, by
  // default, the inverse BelongsTo: as HasMany (same options, same errors),
  // but named Singular(child) by default ("profiles" -> "profile") and read
  // as zero or one row. Declare the foreign key Unique() in the child's
  // schema to refuse a second child per parent (RelationHandle says what
  // happens without it).
  absl::Status HasOne(std::string_view parent, std::string_view child, HasOneOptions options = {});
  // Declares parent ManyToMany related through a pivot table you created
  // (Lucid manyToMany, Sequelize BelongsToMany) and, by default, the inverse
  // ManyToMany on the related table. Registers engine foreign keys on both
  // pivot keys (indexing them) with options.on_delete, so deleting either
  // side removes its pivot rows (or is refused) and a pivot row cannot name
  // a missing row. Errors: NotFound (table, pivot table), InvalidArgument
  // (column, key types, a non-unique key, pivot columns, scope, action),
  // AlreadyExists (relation name), FailedPrecondition (a pivot row naming a
  // missing row, inside a transaction). Nothing changes on error.
  absl::Status ManyToMany(std::string_view parent, std::string_view related,
                          ManyToManyOptions options = {});
  // Declares parent HasManyThrough (Lucid hasManyThrough), read only: from
  // `parent` over its HasMany / HasOne `through_relation` to the
  // intermediate table, then over that table's `related_relation`
  // (guilds, "players", "items": a guild's players' items). NotFound naming
  // a relation that does not exist; InvalidArgument for a relation of
  // another kind or with a scope / on_query.
  absl::Status HasManyThrough(std::string_view parent, std::string_view through_relation,
                              std::string_view related_relation,
                              HasManyThroughOptions options = {});
  // Declares child BelongsTo parent on its own.
  absl::Status BelongsTo(std::string_view child, std::string_view parent,
                         BelongsToOptions options = {});
  // Every relation, or those declared on `table`, in declaration order.
  std::vector<const RelationSpec*> Relations() const;
  std::vector<const RelationSpec*> Relations(std::string_view table) const;
  // NotFound "table 'users': no relation named 'post'".
  absl::StatusOr<const RelationSpec*> GetRelation(std::string_view table,
                                                  std::string_view name) const;
  // Re-attaches a relation's on_query (callbacks are not saved in snapshots;
  // a loaded relation that had one refuses every use until this is called,
  // with the callback or with nullptr for none). NotFound for an unknown
  // table or relation.
  absl::Status SetOnQuery(std::string_view table, std::string_view relation, QueryHook hook);
  // The engine's foreign keys (those relations with actions declared).
  const std::vector<ForeignKeySpec>& foreign_keys() const;

  // The relation `relation` of `row` (HasMany or BelongsTo). Errors (unknown
  // relation, stale row, a row of another database) are reported by the
  // handle's operations.
  RelationHandle Related(const Row& row, std::string_view relation);
  // The same for a parent that is not saved yet: the first write inserts it.
  RelationHandle Related(NewRow row, std::string_view relation);

  // A query over `table`, aware of its relations (Preload, Has, WithCount...).
  kin::Query Query(std::string_view table);

  // --- introspection ---
  // Every table, row and relation, deterministic: equal strings mean equal
  // databases (used to check that a failed operation changed nothing).
  std::string DebugString() const;
  size_t MemoryBytes() const;
  // Internal invariants (indexes match columns, ...); OK or Internal.
  absl::Status CheckConsistency() const;
  // Unique among the databases of a process; moves with the database.
  uint64_t id() const;

 private:
  friend class internal::DatabaseAccess;
  friend class Transaction;

  template <typename T>
  static Column<T> MakeColumn(const Table* table, ColumnId id, uint32_t layout) {
    return Column<T>(table, id, layout);
  }
  absl::Status SetCells(const Row& row, std::span<const Assignment* const> cells);
  // The table Each iterates, after checking the handles against it.
  absl::StatusOr<const Table*> EachTable(
      std::string_view table,
      std::initializer_list<std::pair<const Table*, ColumnId>> columns) const;
  // The children Each(parent, relation, ...) iterates, after checking the
  // relation and the handles.
  absl::StatusOr<column_internal::Children> EachChildren(
      const Row& parent, std::string_view relation,
      std::initializer_list<std::pair<const Table*, ColumnId>> columns) const;

  // On a database opened from a directory: a checkpoint after a schema
  // change that succeeded (`changed`), which is otherwise returned as is.
  absl::Status AfterSchemaChange(absl::Status changed);
  // HasMany and HasOne: resolve, index (or constrain) the foreign key, add.
  absl::Status DeclareParentSide(RelationKind kind, absl::string_view parent,
                                 absl::string_view child, HasManyOptions options);
  // FailedPrecondition naming `what` unless schema changes may run now:
  // outside transactions, or at a Migrate body's own level.
  absl::Status CheckSchemaChangeAllowed(std::string_view what) const;

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RelationCatalog> relations_;
  // Set by Open; destroyed first (closing the journal), before the engine
  // whose commit gate points at it.
  std::unique_ptr<internal::DataDir> data_dir_;
};

// Saves the whole database to `path` atomically (temporary file, fsync,
// rename, fsync of the directory): a crash leaves the old file or the new one.
absl::Status SaveSnapshot(const Database& db, const std::string& path,
                          const SnapshotOptions& options = {});
absl::StatusOr<Database> LoadSnapshot(const std::string& path, const LoadOptions& options = {});
// The same to and from bytes.
absl::StatusOr<std::string> SaveSnapshotToString(const Database& db);
absl::StatusOr<Database> LoadSnapshotFromString(std::string_view bytes,
                                                const LoadOptions& options = {});

}  // namespace kin

#endif  // KIN_DATABASE_H_
