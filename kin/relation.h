// Relation definitions: HasMany, HasOne and their inverse BelongsTo, as
// declarative specs (Database::HasMany / HasOne / BelongsTo resolve them;
// Database::Relations and GetRelation return them).
//
// A relation links a parent table's local key (default: its primary key) to
// a child table's foreign-key column (default: {singular parent}_{local key},
// e.g. users -> user_id). Declaring one indexes the foreign key, so child
// lookups, counts and has(>= n) are index probes. By default the foreign key
// is not a constraint (as in Lucid): a child may point at a missing parent.
// Referential actions (on_delete, on_update) opt into engine enforcement.

#ifndef KIN_RELATION_H_
#define KIN_RELATION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "kin/ids.h"
#include "kin/schema.h"
#include "kin/value.h"

namespace kin {

class Query;  // kin/query.h
class Table;  // engine/table.h (internal)

// Persisted: never renumber.
enum class RelationKind : uint8_t {
  kHasMany = 1,
  kBelongsTo = 2,
  // A HasMany whose reads return at most one child (Lucid hasOne,
  // Sequelize HasOne): see Database::HasOne.
  kHasOne = 3,
  // Parent <-> related through a pivot table holding one row per link
  // (Lucid manyToMany, Sequelize BelongsToMany): see Database::ManyToMany.
  kManyToMany = 4,
  // Parent -> intermediate -> related over two declared relations, read
  // only (Lucid hasManyThrough): see Database::HasManyThrough.
  kHasManyThrough = 5,
};
absl::string_view RelationKindName(RelationKind kind);

// What Set/Remove do to children they unlink. Persisted: never renumber.
enum class OnUnlink : uint8_t {
  kNullify = 0,  // set the foreign key to NULL (an error if it is NOT NULL)
  kDelete = 1,   // delete the child row (Sequelize issue #14048)
};
absl::string_view OnUnlinkName(OnUnlink action);

// What attaching a link that exists already does (ManyToMany). Persisted:
// never renumber.
enum class OnDuplicate : uint8_t {
  kIgnore = 0,  // nothing: the link stays as it is (Sequelize's add)
  kRefuse = 1,  // AlreadyExists naming both rows; the call changes nothing
};
absl::string_view OnDuplicateName(OnDuplicate action);

// A callback applied to every read a relation generates: related queries,
// preload, has/whereHas, withCount, withAggregate. Never to writes.
using QueryHook = std::function<void(Query&)>;

// A relation's scope (Sequelize's association `scope`, the owner-type
// column of a polymorphic relation): column = value pairs of the child
// table that every read filters on AND every write keeps: Create /
// CreateMany / Save / Add / Set / FirstOrCreate ... stamp the values on
// the rows they insert or link (replacing values given for those columns),
// and Set / Remove / Update / Delete through the relation touch only rows
// inside the scope. Two relations sharing one foreign key with different
// scopes (comments.commentable_id with commentable = "post" and with
// commentable = "video") never see or touch each other's rows. A BelongsTo
// with a scope has a parent only while its row is inside the scope. The
// scope is data: snapshots keep it. Validated when declared: each column
// exists on the child table, is not the foreign key, is named once, and its
// value is non-NULL and of the column's type.
using RelationScope = std::vector<std::pair<std::string, Value>>;

// Options of Database::HasMany. Every field has a default.
struct HasManyOptions {
  // Relation name on the parent. Default: the child table's name.
  std::string name;
  // Child column holding the parent's key. Default: Singular(parent table)
  // + "_" + local_key.
  std::string foreign_key;
  // Parent column the foreign key points at (Sequelize: sourceKey).
  // Default: the parent's primary key.
  std::string local_key;
  QueryHook on_query;
  // See RelationScope. A scoped relation takes no on_delete / on_update
  // (the engine's foreign keys cannot be conditional); its inverse carries
  // the same scope.
  RelationScope scope;
  // Free-form data for your own tooling; kin never reads it.
  std::map<std::string, Value> meta;
  // The BelongsTo declared on the child. Default name: Singular(parent
  // table). Set create_inverse = false to declare none.
  std::string inverse;
  bool create_inverse = true;
  // Referential actions enforced by the engine. Default: none (Lucid).
  OnDelete on_delete = OnDelete::kNoAction;
  OnUpdate on_update = OnUpdate::kNoAction;
  OnUnlink on_unlink = OnUnlink::kNullify;
};

// Options of Database::HasOne: those of HasMany, except that the default
// name is Singular(child table) ("profiles" -> "profile").
using HasOneOptions = HasManyOptions;

// Options of Database::ManyToMany. Every field has a default.
struct ManyToManyOptions {
  // Relation name on the parent. Default: the related table's name.
  std::string name;
  // The pivot table (created by you, with both key columns). Default: the
  // two tables' singular names in alphabetical order joined by "_"
  // (players, quests -> "player_quest"), as Lucid.
  std::string pivot_table;
  // Pivot column holding the parent's key. Default: Singular(parent) + "_"
  // + local_key (Lucid pivotForeignKey, Sequelize foreignKey).
  std::string foreign_key;
  // Pivot column holding the related row's key. Default: Singular(related)
  // + "_" + related_key (Lucid pivotRelatedForeignKey, Sequelize otherKey).
  std::string related_foreign_key;
  // Parent column (default: its primary key) and related column (default:
  // its primary key) the pivot's keys point at. Both must be primary or
  // unique: deleting either side acts on the pivot rows through them.
  std::string local_key;
  std::string related_key;
  // Pivot columns the pivot reads return (Lucid pivotColumns); any pivot
  // column can be written by Attach / Sync / UpdatePivot.
  std::vector<std::string> pivot_columns;
  // Reads of the related rows (Get, Query, Preload, Has, WithCount...).
  QueryHook on_query;
  // Pivot column = value pairs every link of this relation has (Sequelize's
  // through.scope): reads see only such pivot rows, writes stamp them.
  RelationScope scope;
  std::map<std::string, Value> meta;
  // The ManyToMany declared on the related table over the same pivot.
  // Default name: the parent table's name. create_inverse = false: none.
  std::string inverse;
  bool create_inverse = true;
  // Deleting a parent or related row: kCascade (default) removes its pivot
  // rows, kRestrict refuses while it has links. Enforced by the engine's
  // foreign keys on both pivot keys, which also refuse a link to a row that
  // does not exist.
  OnDelete on_delete = OnDelete::kCascade;
  OnDuplicate on_duplicate = OnDuplicate::kIgnore;
};

// Options of Database::HasManyThrough.
struct HasManyThroughOptions {
  // Relation name on the parent. Default: the second relation's name.
  std::string name;
  QueryHook on_query;
  std::map<std::string, Value> meta;
};

// Options of Database::BelongsTo (declared on the child).
struct BelongsToOptions {
  // Relation name on the child. Default: Singular(parent table).
  std::string name;
  // Child column. Default: Singular(parent table) + "_" + owner_key.
  std::string foreign_key;
  // Parent column (Sequelize: targetKey). Default: the parent's primary key.
  std::string owner_key;
  QueryHook on_query;
  // See RelationScope: columns of the child (this) table.
  RelationScope scope;
  std::map<std::string, Value> meta;
};

// One side of a relation, resolved to concrete tables and columns.
struct RelationSpec {
  RelationKind kind = RelationKind::kHasMany;
  std::string name;
  std::string table;          // the table it is declared on
  std::string related_table;  // the table it reads
  std::string foreign_key;    // column of the child table
  std::string local_key;      // column of the parent table
  std::string inverse;        // the other side's name, or empty
  // ManyToMany: the pivot table; HasManyThrough: the intermediate table.
  // foreign_key is then a column of it pointing at the parent's local_key.
  std::string through_table;
  // ManyToMany: the pivot column pointing at the related row. HasManyThrough:
  // the intermediate's column the related rows point at.
  std::string through_key;
  // ManyToMany: the related column the pivot points at. HasManyThrough: the
  // related table's column pointing at the intermediate's through_key.
  std::string related_key;
  std::vector<std::string> pivot_columns;           // ManyToMany
  OnDuplicate on_duplicate = OnDuplicate::kIgnore;  // ManyToMany
  OnDelete on_delete = OnDelete::kNoAction;
  OnUpdate on_update = OnUpdate::kNoAction;
  OnUnlink on_unlink = OnUnlink::kNullify;
  std::map<std::string, Value> meta;
  // Columns of the child table, values as stored (see RelationScope).
  RelationScope scope;
  QueryHook on_query;  // code: not persisted, re-attach after a load
  // Set by a snapshot load when the saved relation had an on_query: the
  // callback is code and did not come back with the data, so every read and
  // write through the relation is refused (CheckOnQueryAttached) until
  // SetOnQuery re-attaches it (or clears it with nullptr). Reading without
  // the filter would silently widen the relation (drafts → every post).
  bool on_query_pending = false;

  // The tables and key columns the names above resolve to, filled by
  // RelationCatalog::Bind so that reads through the relation skip four name
  // lookups. Valid while `epoch` equals the engine's table_epoch() (epochs
  // are unique in the process, and move with the engine, so a moved or
  // loaded database keeps its bindings); not persisted, not part of the
  // declaration, cleared by RelationCatalog::Add.
  struct Binding {
    const Table* parent = nullptr;  // nullptr: not bound
    const Table* child = nullptr;
    ColumnId local_key;
    ColumnId foreign_key;
    uint64_t epoch = 0;
  };
  Binding binding;

  // Whether the relation is declared on the parent and reads its children
  // (HasMany, HasOne) rather than on a child reading its parent.
  bool parent_side() const {
    return kind == RelationKind::kHasMany || kind == RelationKind::kHasOne;
  }
  // Whether reads go through a second table (ManyToMany, HasManyThrough).
  bool via() const {
    return kind == RelationKind::kManyToMany || kind == RelationKind::kHasManyThrough;
  }
  const std::string& parent_table() const {
    return kind == RelationKind::kBelongsTo ? related_table : table;
  }
  // The table holding foreign_key: the child, the pivot or the intermediate.
  const std::string& child_table() const {
    return parent_side() ? related_table : via() ? through_table : table;
  }
  // "users.posts"
  std::string QualifiedName() const;
  // Every field but on_query, on_query_pending and binding.
  bool DeclarationEquals(const RelationSpec& other) const;
};

// The naming rule for default keys: "users" → "user", "categories" →
// "category", "boxes" → "box", "classes" → "class", "sheep" → "sheep".
std::string Singular(absl::string_view table);

}  // namespace kin

#endif  // KIN_RELATION_H_
