// kin::Database: the engine (tables, writes, transactions, foreign-key
// actions) plus relations, relation-aware queries and snapshots.
//
//   kin::Database db;
//   KIN_RETURN_IF_ERROR(db.CreateTable("users", kin::Schema().Int64("id", kin::PrimaryKey())));
//   KIN_RETURN_IF_ERROR(db.HasMany("users", "posts"));   // posts.user_id → users.id
//   KIN_ASSIGN_OR_RETURN(kin::Row user, db.FindOrFail("users", 1));
//   KIN_ASSIGN_OR_RETURN(kin::Row post, db.Related(user, "posts").Create({{"title", "Hi"}}));
//
// Not thread-safe: use one Database from one thread at a time.

#ifndef KIN_DATABASE_H_
#define KIN_DATABASE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "persist/snapshot.h"
#include "query/query.h"
#include "relations/relation_handle.h"
#include "relations/relation_spec.h"

namespace kin {

class Database : public Engine {
 public:
  Database() = default;
  Database(Database&&) = default;
  Database& operator=(Database&&) = default;
  // Adopts loaded contents (see LoadSnapshot).
  explicit Database(SnapshotContents contents);

  // --- relations ---
  // Declares parent HasMany child (and, by default, the inverse BelongsTo on
  // the child). Indexes the foreign key; registers referential actions with
  // the engine. Errors: NotFound (table), InvalidArgument (column, key types,
  // actions on a non-unique local key), AlreadyExists (relation name),
  // FailedPrecondition inside a transaction. Nothing changes on error.
  absl::Status HasMany(absl::string_view parent, absl::string_view child,
                       HasManyOptions options = {});
  // Declares child BelongsTo parent on its own.
  absl::Status BelongsTo(absl::string_view child, absl::string_view parent,
                         BelongsToOptions options = {});
  // Relations declared on `table`, in declaration order, with their options.
  std::vector<const RelationSpec*> Relations(absl::string_view table) const {
    return relations_.ForTable(table);
  }
  absl::StatusOr<const RelationSpec*> GetRelation(absl::string_view table,
                                                  absl::string_view name) const {
    return relations_.Get(table, name);
  }
  // Re-attaches a relation's on_query (callbacks are not saved in snapshots).
  absl::Status SetOnQuery(absl::string_view table, absl::string_view relation,
                          QueryHook hook) {
    return relations_.SetOnQuery(table, relation, std::move(hook));
  }
  const RelationCatalog& relations() const { return relations_; }

  // The relation `relation` of `row` (HasMany or BelongsTo). Errors (unknown
  // relation, stale row) are reported by the handle's operations.
  RelationHandle Related(const Row& row, absl::string_view relation) {
    return RelationHandle(this, &relations_, row, std::string(relation));
  }
  // The same for a parent that is not saved yet: the first write inserts it.
  RelationHandle Related(NewRow row, absl::string_view relation) {
    return RelationHandle(this, &relations_, std::move(row), std::string(relation));
  }

  // A query over `table`, aware of its relations (Preload, Has, WithCount...).
  kin::Query Query(absl::string_view table);

  // Drops the table and every relation declared on it or pointing at it.
  absl::Status DropTable(absl::string_view table);

 private:
  RelationCatalog relations_;
};

// Saves the whole database to `path` atomically (temporary file, fsync,
// rename, fsync of the directory): a crash leaves the old file or the new one.
absl::Status SaveSnapshot(const Database& db, const std::string& path,
                          const SnapshotOptions& options = {});
absl::StatusOr<Database> LoadSnapshot(const std::string& path, const LoadOptions& options = {});
// The same to and from bytes.
absl::StatusOr<std::string> SaveSnapshotToString(const Database& db);
absl::StatusOr<Database> LoadSnapshotFromString(absl::string_view bytes,
                                                const LoadOptions& options = {});

}  // namespace kin

#endif  // KIN_DATABASE_H_
