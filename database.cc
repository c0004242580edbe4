#include "database.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "engine/status_macros.h"

namespace kin {

Database::Database(SnapshotContents contents)
    : Engine(std::move(contents.engine)), relations_(std::move(contents.relations)) {
  relations_.Bind(*this);
}

absl::Status Database::HasMany(absl::string_view parent, absl::string_view child,
                               HasManyOptions options) {
  if (transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("has many ", parent, " -> ", child,
                     ": relations cannot be declared inside a transaction"));
  }
  KIN_ASSIGN_OR_RETURN(std::vector<RelationSpec> specs,
                       relations_.ResolveHasMany(*this, parent, child, std::move(options)));
  const RelationSpec& has_many = specs.front();
  if (has_many.on_delete != OnDelete::kNoAction || has_many.on_update != OnUpdate::kNoAction) {
    KIN_RETURN_IF_ERROR(AddForeignKey({.child_table = has_many.child_table(),
                                       .child_column = has_many.foreign_key,
                                       .parent_table = has_many.parent_table(),
                                       .parent_column = has_many.local_key,
                                       .on_delete = has_many.on_delete,
                                       .on_update = has_many.on_update}));
  } else {
    KIN_RETURN_IF_ERROR(CreateIndex(has_many.child_table(), has_many.foreign_key));
  }
  // Resolve checked the names, so these cannot fail.
  for (RelationSpec& spec : specs) KIN_RETURN_IF_ERROR(relations_.Add(std::move(spec)));
  relations_.Bind(*this);
  return absl::OkStatus();
}

absl::Status Database::BelongsTo(absl::string_view child, absl::string_view parent,
                                 BelongsToOptions options) {
  if (transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("belongs to ", child, " -> ", parent,
                     ": relations cannot be declared inside a transaction"));
  }
  KIN_ASSIGN_OR_RETURN(RelationSpec spec,
                       relations_.ResolveBelongsTo(*this, child, parent, std::move(options)));
  KIN_RETURN_IF_ERROR(CreateIndex(spec.child_table(), spec.foreign_key));
  KIN_RETURN_IF_ERROR(relations_.Add(std::move(spec)));
  relations_.Bind(*this);
  return absl::OkStatus();
}

kin::Query Database::Query(absl::string_view table) {
  return kin::Query(*this, std::string(table), &relations_);
}

absl::Status Database::DropTable(absl::string_view table) {
  if (FindTable(table) == nullptr) return errors::UnknownTable(table);
  if (transaction_depth() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "drop table '", table, "': schema changes are not allowed inside a transaction"));
  }
  // Foreign keys that relations did not create block the drop, as in Engine.
  for (const ForeignKeySpec& fk : foreign_keys()) {
    if (fk.child_table != table && fk.parent_table != table) continue;
    bool owned = false;
    for (const RelationSpec* r : relations_.All()) {
      owned = owned || (r->kind == RelationKind::kHasMany && r->child_table() == fk.child_table &&
                        r->foreign_key == fk.child_column);
    }
    if (!owned) return Engine::DropTable(table);
  }
  std::vector<std::pair<std::string, std::string>> drop_fks;
  for (const ForeignKeySpec& fk : foreign_keys()) {
    if (fk.child_table == table || fk.parent_table == table) {
      drop_fks.emplace_back(fk.child_table, fk.child_column);
    }
  }
  for (const auto& [t, c] : drop_fks) KIN_RETURN_IF_ERROR(RemoveForeignKey(t, c));
  relations_.RemoveTable(table);
  KIN_RETURN_IF_ERROR(Engine::DropTable(table));
  relations_.Bind(*this);
  return absl::OkStatus();
}

absl::Status SaveSnapshot(const Database& db, const std::string& path,
                          const SnapshotOptions& options) {
  return SaveSnapshotFile(db, db.relations(), path, options);
}

absl::StatusOr<Database> LoadSnapshot(const std::string& path, const LoadOptions& options) {
  KIN_ASSIGN_OR_RETURN(SnapshotContents contents, LoadSnapshotFile(path, options));
  return Database(std::move(contents));
}

absl::StatusOr<std::string> SaveSnapshotToString(const Database& db) {
  return EncodeSnapshot(db, db.relations());
}

absl::StatusOr<Database> LoadSnapshotFromString(absl::string_view bytes,
                                                const LoadOptions& options) {
  KIN_ASSIGN_OR_RETURN(SnapshotContents contents, DecodeSnapshot(bytes, options));
  return Database(std::move(contents));
}

}  // namespace kin
