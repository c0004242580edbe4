// RelationHandle: reads and writes through one relation of one parent row,
// as returned by Database::Related(parent, "posts").
//
// HasMany reads: Get (all children, insertion order), Find (scoped to the
// parent), Query (a builder pre-constrained to the parent), Count, Has,
// HasAll, and the zero-copy Children span. For typed reads of the
// children's cells in a hot loop, Database::Each(parent, relation, columns...)
// (kin/column.h) walks the same list in the same order. The relation's on_query applies to
// every read except Children() and to none of the writes. An on_query's
// OrderBy / Limit / Offset (the relation's window) applies to Get and to
// what Query() returns (the caller's window inside it); Count, Has, HasAll
// and Find ignore it: they ask about the relation's rows, so Count() may
// exceed Get().size().
//
// A relation's scope (RelationScope) applies to every read and every write:
// reads see only rows inside it, writes stamp its values on the rows they
// insert or link, and Set / Remove / Update / Delete (and the matching of
// FirstOrCreate, UpdateOrCreate and the batch syncs) touch only rows inside
// it. Children() of a scoped relation is a FailedPrecondition (the index
// list holds every scope's rows).
//
// HasMany writes, each one transaction that leaves nothing changed on
// failure: Create, CreateMany, Save, SaveMany, FirstOrCreate, UpdateOrCreate,
// FetchOrCreateMany, UpdateOrCreateMany, Set, Add, AddMany, Remove,
// RemoveMany, Update, Delete. The foreign key always comes from the parent (a
// value given for it in the attributes is replaced). If the parent was given
// as a NewRow it is inserted first, inside the same transaction.
//
// BelongsTo (child → parent): Get/Parent/One, Query, Associate, Dissociate.
//
// HasOne (parent → its one child) is a HasMany read as one row: Get, One
// and Query() return the first child (by on_query's order, else insertion
// order), zero or one row; Find, Count, Has and Children see every linked
// child. Its writes are HasMany's single-row ones: Create, Save,
// FirstOrCreate, UpdateOrCreate, Set (Sequelize's setProfile: at most one
// row; the previous child is unlinked first, by on_unlink; Set({})
// unlinks it), Remove, Update, Delete. The many-row ones (CreateMany,
// SaveMany, Add/AddMany, FetchOrCreateMany, UpdateOrCreateMany, HasAll)
// are a FailedPrecondition. When the foreign key is Unique() in the
// child's schema, Create / Save / FirstOrCreate / UpdateOrCreate of a
// second child for the same parent are refused (AlreadyExists naming the
// relation, the parent's key and the child already there); so is a
// BelongsTo Associate or a direct insert (the engine's unique index). When
// it is not unique a second child is linked as asked, reads still return
// the first, and counts and has-tests count both: Set replaces them all.
//
// ManyToMany (parent <-> related through a pivot row per link): reads Get
// (related rows in link order; with an on_query, in the query's order),
// GetWithPivot (each related row with its pivot row, optionally only links
// whose pivot rows pass a filter), Query, QueryWherePivot, Find, Count,
// Has, HasAll; writes, each one transaction that changes nothing on
// failure: Attach, Detach, DetachAll, Sync, Toggle, UpdatePivot, Create /
// CreateWithPivot / CreateMany (the related row plus its link), and
// Sequelize's Add / AddMany (Attach), Set (Sync with detaching), Remove /
// RemoveMany (Detach). A pivot value given for either pivot key is replaced
// by the link's; the relation's scope is stamped on every pivot row it
// inserts. Attaching a link that exists already is ignored or refused by
// the relation's on_duplicate; detaching a row that is not linked counts 0.
// Deleting the parent or a related row removes its pivot rows (or is
// refused) by the relation's on_delete, in the engine.
//
// HasManyThrough (parent -> intermediate -> related): reads only (Get,
// Query, Find, Count, Has, HasAll); its writes are a FailedPrecondition.
//
// A handle is cheap; it holds pointers into the Database and is valid while
// the Database and the relation exist. Calling an operation of the other
// relation kind is a FailedPrecondition naming the relation.

#ifndef KIN_RELATED_H_
#define KIN_RELATED_H_

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/query.h"
#include "kin/relation.h"
#include "kin/result_set.h"
#include "kin/row.h"
#include "kin/value.h"

namespace kin {

class Engine;           // engine/engine.h (internal)
class RelationCatalog;  // relations/relation_catalog.h (internal)

// A parent that is not saved yet (Lucid: an unsaved model). The first write
// through the relation inserts it, in the same transaction as the write.
struct NewRow {
  std::string table;
  Attrs attrs;
};

// A child for Save/SaveMany: an existing row to re-parent, or attributes of
// a new row to insert.
using Record = std::variant<Row, Attrs>;

// A child named by row or by primary key (Set/Add/Remove, Has).
using RowOrKey = std::variant<Row, Value>;

// A related row of a ManyToMany with the pivot row linking it: pivot
// columns are read from `pivot`.
struct PivotRow {
  Row row;
  Row pivot;
};

// Rows to link, each with the pivot values of its link.
using PivotValues = std::vector<std::pair<RowOrKey, Attrs>>;

// What Sync and Toggle did: links inserted, links removed, and links kept
// whose pivot values changed.
struct SyncResult {
  int64_t attached = 0;
  int64_t detached = 0;
  int64_t updated = 0;
  bool operator==(const SyncResult&) const = default;
};

class RelationHandle {
 public:
  RelationHandle(Engine* engine, const RelationCatalog* catalog, Row parent, std::string relation);
  RelationHandle(Engine* engine, const RelationCatalog* catalog, NewRow parent,
                 std::string relation);

  // The relation, or NotFound "table 'users': no relation named 'post'".
  absl::StatusOr<const RelationSpec*> spec() const;
  // The parent row; FailedPrecondition while a NewRow parent is unsaved.
  absl::StatusOr<Row> parent() const;

  // --- reads (HasMany and BelongsTo) ---
  // All related rows: a HasMany parent's children in insertion order, or a
  // BelongsTo child's parent (zero or one row). on_query applies.
  absl::StatusOr<ResultSet> Get() const;
  absl::StatusOr<ResultSet> GetResults() const { return Get(); }
  // A builder over the related table, constrained to this parent, with
  // on_query applied. Errors (unknown relation, stale parent) surface when
  // the query runs.
  kin::Query Query() const;

  // --- HasMany reads ---
  // The child with this primary key if it belongs to this parent (and passes
  // on_query's conditions and the scope; the window does not hide it);
  // NotFound otherwise, naming the key.
  absl::StatusOr<Row> Find(const Value& id) const;
  // Number of children: O(1) from the index when there is no on_query, no
  // scope and no filter. Ignores on_query's OrderBy / Limit / Offset (as
  // WithCount does). `filter` records conditions only (see Query: running
  // a query in it is a FailedPrecondition).
  absl::StatusOr<int64_t> Count() const;
  absl::StatusOr<int64_t> Count(const std::function<void(kin::Query&)>& filter) const;
  // Whether the row (or the row with that primary key) is a child of this
  // parent. NotFound when a key names no row.
  absl::StatusOr<bool> Has(const RowOrKey& child) const;
  absl::StatusOr<bool> HasAll(const std::vector<RowOrKey>& children) const;
  // Zero-copy child RowIds (insertion order, no on_query), valid until the
  // next write to the child table.
  absl::StatusOr<std::span<const RowId>> Children() const;

  // --- HasMany writes ---
  absl::StatusOr<Row> Create(const Attrs& attrs);
  absl::StatusOr<std::vector<Row>> CreateMany(const std::vector<Attrs>& rows);
  // A Row is re-parented; Attrs are inserted as a new child.
  absl::StatusOr<Row> Save(const Record& record);
  absl::StatusOr<std::vector<Row>> SaveMany(const std::vector<Record>& records);
  // The first child matching every `search` column (NULL matches NULL), or a
  // new child from search + save.
  absl::StatusOr<Row> FirstOrCreate(const Attrs& search, const Attrs& save = {});
  // The first matching child updated with `update`, or a new child from
  // search + update.
  absl::StatusOr<Row> UpdateOrCreate(const Attrs& search, const Attrs& update);
  // For each row: the child whose `keys` columns equal the row's (the
  // predicate is combined with the foreign key), or a new child. Results in
  // input order. InvalidArgument when a row lacks a key column, and when no
  // key column is given (an empty list or an empty name): kin does not
  // match on the foreign key alone, as Lucid does without a predicate
  // (every row would pair with the parent's first child). Nothing changes
  // on error.
  absl::StatusOr<std::vector<Row>> FetchOrCreateMany(std::string_view key,
                                                     const std::vector<Attrs>& rows);
  absl::StatusOr<std::vector<Row>> FetchOrCreateMany(const std::vector<std::string>& keys,
                                                     const std::vector<Attrs>& rows);
  // Same, updating matched children with the row's other columns.
  absl::StatusOr<std::vector<Row>> UpdateOrCreateMany(std::string_view key,
                                                      const std::vector<Attrs>& rows);
  absl::StatusOr<std::vector<Row>> UpdateOrCreateMany(const std::vector<std::string>& keys,
                                                      const std::vector<Attrs>& rows);
  // Makes exactly `children` the children: others are unlinked (foreign key
  // set to NULL, or deleted when the relation's on_unlink is kDelete; a NOT
  // NULL foreign key with kNullify is a FailedPrecondition). Returns the
  // number of rows linked plus unlinked.
  absl::StatusOr<int64_t> Set(const std::vector<RowOrKey>& children);
  // Links rows (re-parenting them). Returns how many changed.
  absl::StatusOr<int64_t> Add(const RowOrKey& child);
  absl::StatusOr<int64_t> AddMany(const std::vector<RowOrKey>& children);
  // Unlinks rows that are children of this parent (others are ignored).
  // Returns how many were unlinked.
  absl::StatusOr<int64_t> Remove(const RowOrKey& child);
  absl::StatusOr<int64_t> RemoveMany(const std::vector<RowOrKey>& children);
  // Sets `attrs` on every child / deletes every child (seed 000's update and
  // delete); returns the number of rows changed. on_query does not apply;
  // the scope does (rows outside it are not children, and `attrs` cannot
  // move a row out of it: the scope's values replace any given).
  absl::StatusOr<int64_t> Update(const Attrs& attrs);
  absl::StatusOr<int64_t> Delete();

  // --- ManyToMany ---
  // The related rows with their pivot rows, in link order; on_query filters
  // the related rows. With `pivot_filter` (conditions on the pivot table's
  // columns, as a Where callback records them), only links whose pivot row
  // passes it.
  absl::StatusOr<std::vector<PivotRow>> GetWithPivot() const;
  absl::StatusOr<std::vector<PivotRow>> GetWithPivot(
      const std::function<void(kin::Query&)>& pivot_filter) const;
  // A query over the related rows whose links pass `pivot_filter`
  // (Lucid's wherePivot...): e.g. [](kin::Query& q) { q.Where("progress",
  // ">=", 50); }. Errors surface when the query runs.
  kin::Query QueryWherePivot(const std::function<void(kin::Query&)>& pivot_filter) const;
  // Links rows (each with `pivot` values, or its own). Returns how many
  // links were inserted. NotFound for a key naming no row.
  absl::StatusOr<int64_t> Attach(const std::vector<RowOrKey>& rows, const Attrs& pivot = {});
  absl::StatusOr<int64_t> Attach(const PivotValues& rows);
  // Removes the links to these rows; returns how many (a row that is not
  // linked counts 0).
  absl::StatusOr<int64_t> Detach(const std::vector<RowOrKey>& rows);
  absl::StatusOr<int64_t> DetachAll();
  // Makes exactly these rows linked (with `detaching` false, links others
  // keep): missing links are inserted with their values, existing ones get
  // the values given (updated counts those that changed).
  absl::StatusOr<SyncResult> Sync(const std::vector<RowOrKey>& rows, bool detaching = true);
  absl::StatusOr<SyncResult> Sync(const PivotValues& rows, bool detaching = true);
  // Detaches the linked rows among these and attaches the others.
  absl::StatusOr<SyncResult> Toggle(const std::vector<RowOrKey>& rows);
  // Sets `pivot` values on the link to `row`: 1, or 0 when not linked.
  absl::StatusOr<int64_t> UpdatePivot(const RowOrKey& row, const Attrs& pivot);
  // Inserts a related row and its link (with `pivot` values).
  absl::StatusOr<Row> CreateWithPivot(const Attrs& attrs, const Attrs& pivot);

  // --- HasOne and BelongsTo ---
  // The one related row: a HasOne's child or a BelongsTo's parent, or
  // nullopt. FailedPrecondition on a HasMany.
  absl::StatusOr<std::optional<Row>> One() const;

  // --- BelongsTo ---
  // The parent row, or nullopt when the foreign key is NULL or dangling.
  absl::StatusOr<std::optional<Row>> Parent() const;
  // Points this child at `parent` (sets the foreign key, and stamps a
  // scoped relation's values).
  absl::Status Associate(const Row& parent);
  // Sets the foreign key to NULL (FailedPrecondition if it is NOT NULL). A
  // row outside a scoped relation's scope has no parent through it: nothing
  // changes.
  absl::Status Dissociate();

 private:
  struct Resolved {
    const RelationSpec* spec;
    const Table* child;
    ColumnId foreign_key;
    const Table* parent_table;
    ColumnId local_key;
    // The relation's scope (RelationScope) on the child table's columns.
    std::vector<std::pair<ColumnId, Value>> scope;
    // ManyToMany / HasManyThrough (child is then the pivot / intermediate):
    // the related table, the child's column naming related rows (or named
    // by them), and the related column.
    const Table* related = nullptr;
    ColumnId through_key;
    ColumnId related_key;
  };
  // Whether the child row `id` is inside the relation's scope (always true
  // without one).
  static bool InScope(const Resolved& r, RowId id);
  // `attrs` with the scope's values set (replacing any given for them).
  static Attrs Stamp(const Resolved& r, Attrs attrs);
  // FailedPrecondition naming `op` when the relation is a HasOne (for the
  // operations that link many rows).
  static absl::Status ManyOnly(const Resolved& r, absl::string_view op);
  // For a HasOne with a unique foreign key: AlreadyExists when the parent
  // with `key` has a child other than `linking` (the row about to be linked).
  absl::Status CheckVacant(const Resolved& r, const Value& key, std::optional<RowId> linking) const;
  absl::StatusOr<std::vector<Row>> SaveRecords(const std::vector<Record>& records,
                                               absl::string_view op);
  // The relation's tables and key columns; with `want`, FailedPrecondition
  // when the relation is of the other kind.
  absl::StatusOr<Resolved> Resolve(std::optional<RelationKind> want, absl::string_view op) const;
  // The parent's local-key value, inserting a NewRow parent first. Must run
  // inside a transaction; `saved` receives the parent row.
  absl::StatusOr<Value> ParentKey(const Resolved& r, Row* saved);
  absl::StatusOr<Value> SavedParentKey(const Resolved& r) const;
  // Runs a write in one transaction and adopts a newly saved parent on
  // success.
  absl::Status Write(RelationKind want, absl::string_view op,
                     const std::function<absl::Status(const Resolved&, const Value&)>& body);
  absl::StatusOr<Row> ResolveChild(const Resolved& r, const RowOrKey& child) const;
  // A row of `table` named by row or primary key.
  absl::StatusOr<Row> ResolveRow(const Resolved& r, const Table& table, const RowOrKey& row) const;
  // Refuses a BelongsTo for the reads of the to-many kinds.
  static absl::Status ToMany(const Resolved& r, absl::string_view op);

  // ManyToMany / HasManyThrough (related_pivot.cc).
  // The rows of the child (pivot / intermediate) table for the parent key,
  // inside the scope, in index order.
  std::vector<RowId> ThroughRows(const Resolved& r, const Value& key) const;
  // The related rows of the parent (link order), without on_query.
  absl::StatusOr<std::vector<RowId>> ViaRows(const Resolved& r) const;
  // The query of Query() / QueryWherePivot().
  kin::Query ViaQuery(const Resolved& r,
                      const std::function<void(kin::Query&)>* pivot_filter) const;
  absl::StatusOr<std::vector<PivotRow>> PivotRows(
      const std::function<void(kin::Query&)>* pivot_filter) const;
  // The pivot row linking the parent `key` to the related row with key
  // `related`, if any.
  std::optional<RowId> LinkOf(const Resolved& r, const Value& key, const Value& related) const;
  // The related row's key (the value a pivot row holds); FailedPrecondition
  // when NULL.
  absl::StatusOr<Value> RelatedKey(const Resolved& r, const Row& related) const;
  absl::StatusOr<Row> InsertLink(const Resolved& r, const Value& key, const Value& related,
                                 const Attrs& pivot);
  // Pivot values without the two keys (the link decides them), scope
  // stamped.
  static Attrs PivotAttrs(const Resolved& r, const Attrs& pivot);
  absl::StatusOr<SyncResult> SyncLinks(const PivotValues& rows, bool detaching,
                                       absl::string_view op);
  absl::StatusOr<int64_t> AttachLinks(const PivotValues& rows, absl::string_view op);
  absl::StatusOr<int64_t> DetachLinks(const std::vector<RowOrKey>* rows, absl::string_view op);
  absl::StatusOr<std::vector<Row>> CreateLinked(const std::vector<Attrs>& rows, const Attrs& pivot,
                                                absl::string_view op);
  // Whether the relation (by name, before resolving) is a ManyToMany.
  bool IsManyToMany() const;
  absl::Status Unlink(const Resolved& r, const Row& child);
  absl::StatusOr<Row> InsertChild(const Resolved& r, const Value& key, const Attrs& attrs);
  absl::StatusOr<std::optional<Row>> FirstMatch(const Resolved& r, const Value& key,
                                                const Attrs& search) const;
  absl::StatusOr<std::vector<Row>> SyncMany(const std::vector<std::string>& keys,
                                            const std::vector<Attrs>& rows, bool update,
                                            absl::string_view op);

  Engine* engine_;
  const RelationCatalog* catalog_;
  Row parent_;
  std::optional<NewRow> pending_;  // an unsaved parent
  std::string relation_;
};

}  // namespace kin

#endif  // KIN_RELATED_H_
