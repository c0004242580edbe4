// The relation catalog: the declared relations of a database (the specs of
// kin/relation.h), validated against the engine's tables and bound to them.
//
// A relation links a parent table's local key (default: its primary key) to
// a child table's foreign-key column (default: {singular parent}_{local key},
// e.g. users → user_id). Declaring one indexes the foreign key, so child
// lookups, counts and has(>= n) are index probes. By default the foreign key
// is not a constraint (as in Lucid): a child may point at a missing parent.
// Referential actions (on_delete, on_update) opt into engine enforcement.

#ifndef KIN_RELATIONS_RELATION_CATALOG_H_
#define KIN_RELATIONS_RELATION_CATALOG_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "kin/relation.h"
#include "kin/value.h"

namespace kin {

// The tables and key columns `spec` names in `engine`, checked as declaring
// the relation checked them (RelationSpec::Binding, stamped with the
// engine's table_epoch()). NotFound for a missing table, InvalidArgument
// for a missing column, FailedPrecondition when the key types differ or the
// foreign key is not indexed (tables dropped and re-created under the
// relation through the Engine).
absl::StatusOr<RelationSpec::Binding> BindSpec(const Engine& engine, const RelationSpec& spec);

// FailedPrecondition while a loaded relation waits for its on_query to be
// re-attached (RelationSpec::on_query_pending), naming the relation and the
// SetOnQuery call that clears it. Every path that reads or writes through a
// relation checks it first.
absl::Status CheckOnQueryAttached(const RelationSpec& spec);

// The relations of a database, in declaration order.
class RelationCatalog {
 public:
  // Resolves defaults and validates a HasMany against the engine's tables:
  // unknown table or column (NotFound / InvalidArgument), foreign and local
  // keys of different types, a name already used on that table
  // (AlreadyExists). Returns the specs to add (the HasMany, then its inverse).
  absl::StatusOr<std::vector<RelationSpec>> ResolveHasMany(const Engine& engine,
                                                           absl::string_view parent,
                                                           absl::string_view child,
                                                           HasManyOptions options) const;
  // The same for a HasOne (default name Singular(child)).
  absl::StatusOr<std::vector<RelationSpec>> ResolveHasOne(const Engine& engine,
                                                          absl::string_view parent,
                                                          absl::string_view child,
                                                          HasOneOptions options) const;
  // A ManyToMany and, by default, its inverse: tables, pivot and its key
  // columns (types matching the keys they point at, those primary or
  // unique), pivot columns and scope checked; NotFound for a missing pivot
  // table, FailedPrecondition for a pivot row naming a missing row.
  absl::StatusOr<std::vector<RelationSpec>> ResolveManyToMany(const Engine& engine,
                                                              absl::string_view parent,
                                                              absl::string_view related,
                                                              ManyToManyOptions options) const;
  // A HasManyThrough over `parent`'s relation `through_relation` and the
  // intermediate table's `related_relation` (both plain HasMany / HasOne):
  // NotFound naming a missing one.
  absl::StatusOr<RelationSpec> ResolveHasManyThrough(const Engine& engine, absl::string_view parent,
                                                     absl::string_view through_relation,
                                                     absl::string_view related_relation,
                                                     HasManyThroughOptions options) const;
  absl::StatusOr<RelationSpec> ResolveBelongsTo(const Engine& engine, absl::string_view child,
                                                absl::string_view parent,
                                                BelongsToOptions options) const;

  // Adds a resolved spec (used after Resolve*, and by snapshot loading).
  // AlreadyExists when the name is taken on its table.
  absl::Status Add(RelationSpec spec);

  const RelationSpec* Find(absl::string_view table, absl::string_view name) const;
  // NotFound: "table 'users': no relation named 'post'".
  absl::StatusOr<const RelationSpec*> Get(absl::string_view table, absl::string_view name) const;
  // Relations declared on `table`, in declaration order.
  std::vector<const RelationSpec*> ForTable(absl::string_view table) const;
  std::vector<const RelationSpec*> All() const;
  size_t size() const { return specs_.size(); }

  // Attaches (or replaces, or clears with nullptr) a relation's on_query:
  // how an application re-attaches callbacks after loading a snapshot.
  absl::Status SetOnQuery(absl::string_view table, absl::string_view name, QueryHook hook);
  // Removes every relation declared on, reading or going through `table`.
  void RemoveTable(absl::string_view table);

  // --- schema changes (kin::Database's alter operations) ---
  // Relations that name `column` of `table`: as foreign key, local key or in
  // a scope.
  std::vector<const RelationSpec*> UsingColumn(absl::string_view table,
                                               absl::string_view column) const;
  // Relations with an on_query (attached or pending) whose reads run on
  // `table`: their callbacks are code that may name its columns.
  std::vector<const RelationSpec*> QueryingTable(absl::string_view table) const;
  // Every name of `from` in the specs becomes `to` (keys, scopes; tables).
  void RenameColumn(absl::string_view table, absl::string_view from, absl::string_view to);
  void RenameTable(absl::string_view from, absl::string_view to);
  // Copies of the specs, and back (a rolled-back migration): each spec
  // object that still exists takes its copy's declaration in place (so
  // pointers to it stay valid), specs added since are removed, and the
  // order is the copy's. Call Bind after.
  using Saved = std::vector<std::pair<const RelationSpec*, RelationSpec>>;
  Saved Copy() const;
  void Restore(Saved saved);
  // Binds every relation to `engine` (BindSpec). Call after declaring
  // relations, loading them or dropping a table; a relation that does not
  // bind is left unbound, and each use resolves it again (and reports why).
  void Bind(const Engine& engine);

 private:
  absl::StatusOr<std::vector<RelationSpec>> ResolveParentSide(RelationKind kind,
                                                              const Engine& engine,
                                                              absl::string_view parent,
                                                              absl::string_view child,
                                                              HasManyOptions options) const;

  std::vector<std::unique_ptr<RelationSpec>> specs_;  // stable addresses
};

}  // namespace kin

#endif  // KIN_RELATIONS_RELATION_CATALOG_H_
