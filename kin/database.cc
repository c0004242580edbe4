#include "kin/database.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "kin/internal/data_dir.h"
#include "kin/internal/database_access.h"
#include "kin/status_macros.h"
#include "persist/snapshot.h"
#include "relations/relation_catalog.h"

namespace kin {

namespace {

// Public signatures take std::string_view; abseil's string_view is its own
// type in Debian's build (ABSL_OPTION_USE_STD_STRING_VIEW 0).
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

Database::Database()
    : engine_(std::make_unique<Engine>()), relations_(std::make_unique<RelationCatalog>()) {}

Database::~Database() = default;

Database::Database(Database&& other) noexcept
    : engine_(std::exchange(other.engine_, std::make_unique<Engine>())),
      relations_(std::exchange(other.relations_, std::make_unique<RelationCatalog>())),
      data_dir_(std::move(other.data_dir_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    data_dir_.reset();  // closes our journal before its engine goes
    engine_ = std::exchange(other.engine_, std::make_unique<Engine>());
    relations_ = std::exchange(other.relations_, std::make_unique<RelationCatalog>());
    data_dir_ = std::move(other.data_dir_);
  }
  return *this;
}

Database internal::DatabaseAccess::Adopt(Engine engine, RelationCatalog relations) {
  Database db;
  *db.engine_ = std::move(engine);
  *db.relations_ = std::move(relations);
  db.relations_->Bind(*db.engine_);
  return db;
}

Transaction::Transaction(Database& db) : Transaction(*db.engine_) {}

absl::Status Database::CreateTable(std::string name, Schema schema) {
  return AfterSchemaChange(engine_->CreateTable(std::move(name), std::move(schema)));
}

absl::Status Database::CreateIndex(std::string_view table, std::string_view column,
                                   IndexKind kind) {
  return AfterSchemaChange(engine_->CreateIndex(Sv(table), Sv(column), kind));
}

absl::Status Database::CreateIndex(std::string_view table,
                                   std::initializer_list<std::string_view> columns,
                                   IndexKind kind) {
  std::vector<absl::string_view> names;
  for (std::string_view c : columns) names.push_back(Sv(c));
  return AfterSchemaChange(engine_->CreateIndex(Sv(table), names, kind));
}

absl::Status Database::CreateIndex(std::string_view table, std::span<const std::string> columns,
                                   IndexKind kind) {
  std::vector<absl::string_view> names(columns.begin(), columns.end());
  return AfterSchemaChange(engine_->CreateIndex(Sv(table), names, kind));
}

std::vector<std::string> Database::TableNames() const { return engine_->TableNames(); }

const Table* Database::FindTable(std::string_view table) const {
  return engine_->FindTable(Sv(table));
}

absl::StatusOr<const Table*> Database::GetTable(std::string_view table) const {
  return engine_->GetTable(Sv(table));
}

absl::StatusOr<Row> Database::Insert(std::string_view table, const Attrs& attrs) {
  return engine_->Insert(Sv(table), attrs);
}

absl::StatusOr<std::vector<Row>> Database::InsertMany(std::string_view table,
                                                      const std::vector<Attrs>& rows) {
  return engine_->InsertMany(Sv(table), rows);
}

absl::StatusOr<size_t> Database::InsertBatch(std::string_view table, RowBatch batch) {
  return engine_->InsertBatch(Sv(table), std::move(batch));
}

absl::StatusOr<bool> Database::Update(const Row& row, const Attrs& attrs) {
  return engine_->Update(row, attrs);
}

absl::Status Database::Delete(const Row& row) { return engine_->Delete(row); }

absl::StatusOr<Row> Database::FindOrFail(std::string_view table, const Value& key) const {
  return engine_->FindOrFail(Sv(table), key);
}

absl::Status Database::CheckRow(const Row& row) const { return engine_->CheckRow(row); }

absl::Status Database::Begin() { return engine_->Begin(); }
absl::Status Database::Commit() { return engine_->Commit(); }
absl::Status Database::Rollback() { return engine_->Rollback(); }
int Database::transaction_depth() const { return engine_->transaction_depth(); }

absl::Status Database::Atomically(const std::function<absl::Status()>& body) {
  return engine_->Atomically(body);
}

uint64_t Database::OnCommit(CommitListener listener) {
  return engine_->AddCommitListener(std::move(listener));
}

absl::Status Database::RemoveCommitListener(uint64_t id) {
  return engine_->RemoveCommitListener(id);
}

std::vector<const RelationSpec*> Database::Relations() const { return relations_->All(); }

std::vector<const RelationSpec*> Database::Relations(std::string_view table) const {
  return relations_->ForTable(Sv(table));
}

absl::StatusOr<const RelationSpec*> Database::GetRelation(std::string_view table,
                                                          std::string_view name) const {
  return relations_->Get(Sv(table), Sv(name));
}

absl::Status Database::SetOnQuery(std::string_view table, std::string_view relation,
                                  QueryHook hook) {
  return relations_->SetOnQuery(Sv(table), Sv(relation), std::move(hook));
}

const std::vector<ForeignKeySpec>& Database::foreign_keys() const {
  return engine_->foreign_keys();
}

RelationHandle Database::Related(const Row& row, std::string_view relation) {
  return RelationHandle(engine_.get(), relations_.get(), row, std::string(relation));
}

RelationHandle Database::Related(NewRow row, std::string_view relation) {
  return RelationHandle(engine_.get(), relations_.get(), std::move(row), std::string(relation));
}

std::string Database::DebugString() const { return engine_->DebugString(); }
size_t Database::MemoryBytes() const { return engine_->MemoryBytes(); }
absl::Status Database::CheckConsistency() const { return engine_->CheckConsistency(); }
uint64_t Database::id() const { return engine_->id(); }

absl::Status Database::HasMany(std::string_view parent_name, std::string_view child_name,
                               HasManyOptions options) {
  return DeclareParentSide(RelationKind::kHasMany, Sv(parent_name), Sv(child_name),
                           std::move(options));
}

absl::Status Database::HasOne(std::string_view parent_name, std::string_view child_name,
                              HasOneOptions options) {
  return DeclareParentSide(RelationKind::kHasOne, Sv(parent_name), Sv(child_name),
                           std::move(options));
}

absl::Status Database::DeclareParentSide(RelationKind kind, absl::string_view parent,
                                         absl::string_view child, HasManyOptions options) {
  Engine& engine = *engine_;
  RelationCatalog& relations = *relations_;
  if (!CheckSchemaChangeAllowed("").ok()) {
    return absl::FailedPreconditionError(absl::StrCat(RelationKindName(kind), " ", parent, " -> ",
                                                      child,
                                                      ": relations cannot be declared inside a "
                                                      "transaction"));
  }
  KIN_ASSIGN_OR_RETURN(std::vector<RelationSpec> specs,
                       kind == RelationKind::kHasOne
                           ? relations.ResolveHasOne(engine, parent, child, std::move(options))
                           : relations.ResolveHasMany(engine, parent, child, std::move(options)));
  const RelationSpec& has_many = specs.front();
  if (has_many.on_delete != OnDelete::kNoAction || has_many.on_update != OnUpdate::kNoAction) {
    KIN_RETURN_IF_ERROR(engine.AddForeignKey({.child_table = has_many.child_table(),
                                              .child_column = has_many.foreign_key,
                                              .parent_table = has_many.parent_table(),
                                              .parent_column = has_many.local_key,
                                              .on_delete = has_many.on_delete,
                                              .on_update = has_many.on_update}));
  } else {
    KIN_RETURN_IF_ERROR(engine.CreateIndex(has_many.child_table(), has_many.foreign_key));
  }
  // Resolve checked the names, so these cannot fail.
  for (RelationSpec& spec : specs) KIN_RETURN_IF_ERROR(relations.Add(std::move(spec)));
  relations.Bind(engine);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::ManyToMany(std::string_view parent_name, std::string_view related_name,
                                  ManyToManyOptions options) {
  const absl::string_view parent = Sv(parent_name), related = Sv(related_name);
  Engine& engine = *engine_;
  RelationCatalog& relations = *relations_;
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("many to many ", parent, " <-> ", related,
                     ": relations cannot be declared inside a transaction"));
  }
  KIN_ASSIGN_OR_RETURN(std::vector<RelationSpec> specs,
                       relations.ResolveManyToMany(engine, parent, related, std::move(options)));
  const RelationSpec& m = specs.front();
  const ForeignKeySpec keys[2] = {{.child_table = m.through_table,
                                   .child_column = m.foreign_key,
                                   .parent_table = m.table,
                                   .parent_column = m.local_key,
                                   .on_delete = m.on_delete},
                                  {.child_table = m.through_table,
                                   .child_column = m.through_key,
                                   .parent_table = m.related_table,
                                   .parent_column = m.related_key,
                                   .on_delete = m.on_delete}};
  // Resolve checked the pivot rows, so adding cannot fail for them; a key
  // that already has this very foreign key (the other direction declared
  // on its own) keeps it; another foreign key on the column is refused.
  std::vector<const ForeignKeySpec*> missing;
  for (const ForeignKeySpec& want : keys) {
    bool same = false;
    for (const ForeignKeySpec& fk : engine.foreign_keys()) {
      if (fk.child_table != want.child_table || fk.child_column != want.child_column) continue;
      same = fk.parent_table == want.parent_table && fk.parent_column == want.parent_column &&
             fk.on_delete == want.on_delete && fk.on_update == want.on_update;
      if (!same) {
        return absl::FailedPreconditionError(absl::StrCat(
            "relation ", m.QualifiedName(), ": ", QualifiedName(fk.child_table, fk.child_column),
            " already has a foreign key to ", QualifiedName(fk.parent_table, fk.parent_column),
            " with other actions"));
      }
    }
    if (!same) missing.push_back(&want);
  }
  for (size_t i = 0; i < missing.size(); ++i) {
    absl::Status added = engine.AddForeignKey(*missing[i]);
    if (!added.ok()) {
      for (size_t j = 0; j < i; ++j) {
        engine.RemoveForeignKey(missing[j]->child_table, missing[j]->child_column).IgnoreError();
      }
      return added;
    }
  }
  for (RelationSpec& spec : specs) KIN_RETURN_IF_ERROR(relations.Add(std::move(spec)));
  relations.Bind(engine);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::HasManyThrough(std::string_view parent_name,
                                      std::string_view through_relation,
                                      std::string_view related_relation,
                                      HasManyThroughOptions options) {
  const absl::string_view parent = Sv(parent_name);
  Engine& engine = *engine_;
  RelationCatalog& relations = *relations_;
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("has many through ", parent, ".", Sv(through_relation),
                     ": relations cannot be declared inside a transaction"));
  }
  KIN_ASSIGN_OR_RETURN(RelationSpec spec,
                       relations.ResolveHasManyThrough(engine, parent, Sv(through_relation),
                                                       Sv(related_relation), std::move(options)));
  KIN_RETURN_IF_ERROR(relations.Add(std::move(spec)));
  relations.Bind(engine);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::BelongsTo(std::string_view child_name, std::string_view parent_name,
                                 BelongsToOptions options) {
  const absl::string_view parent = Sv(parent_name), child = Sv(child_name);
  Engine& engine = *engine_;
  RelationCatalog& relations = *relations_;
  if (!CheckSchemaChangeAllowed("").ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("belongs to ", child, " -> ", parent,
                     ": relations cannot be declared inside a transaction"));
  }
  KIN_ASSIGN_OR_RETURN(RelationSpec spec,
                       relations.ResolveBelongsTo(engine, child, parent, std::move(options)));
  KIN_RETURN_IF_ERROR(engine.CreateIndex(spec.child_table(), spec.foreign_key));
  KIN_RETURN_IF_ERROR(relations.Add(std::move(spec)));
  relations.Bind(engine);
  return AfterSchemaChange(absl::OkStatus());
}

kin::Query Database::Query(std::string_view table) { return kin::Query(*this, std::string(table)); }

absl::Status Database::DropTable(std::string_view table_name) {
  const absl::string_view table = Sv(table_name);
  Engine& engine = *engine_;
  RelationCatalog& relations = *relations_;
  if (engine.FindTable(table) == nullptr) return errors::UnknownTable(table);
  if (engine.in_schema_change()) return engine.DropTable(table);  // refused, naming why
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "drop table '", table, "': schema changes are not allowed inside a transaction"));
  }
  // Foreign keys that relations did not create block the drop, as in Engine.
  for (const ForeignKeySpec& fk : engine.foreign_keys()) {
    if (fk.child_table != table && fk.parent_table != table) continue;
    bool owned = false;
    for (const RelationSpec* r : relations.All()) {
      owned =
          owned || ((r->parent_side() || r->kind == RelationKind::kManyToMany) &&
                    r->child_table() == fk.child_table &&
                    (r->foreign_key == fk.child_column ||
                     (r->kind == RelationKind::kManyToMany && r->through_key == fk.child_column)));
    }
    if (!owned) return AfterSchemaChange(engine.DropTable(table));
  }
  std::vector<std::pair<std::string, std::string>> drop_fks;
  for (const ForeignKeySpec& fk : engine.foreign_keys()) {
    if (fk.child_table == table || fk.parent_table == table) {
      drop_fks.emplace_back(fk.child_table, fk.child_column);
    }
  }
  for (const auto& [t, c] : drop_fks) KIN_RETURN_IF_ERROR(engine.RemoveForeignKey(t, c));
  relations.RemoveTable(table);
  KIN_RETURN_IF_ERROR(engine.DropTable(table));
  relations.Bind(engine);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status SaveSnapshot(const Database& db, const std::string& path,
                          const SnapshotOptions& options) {
  return SaveSnapshotFile(internal::DatabaseAccess::engine(db),
                          internal::DatabaseAccess::catalog(db), path, options);
}

absl::StatusOr<Database> LoadSnapshot(const std::string& path, const LoadOptions& options) {
  KIN_ASSIGN_OR_RETURN(SnapshotContents contents, LoadSnapshotFile(path, options));
  return internal::DatabaseAccess::Adopt(std::move(contents.engine), std::move(contents.relations));
}

absl::StatusOr<std::string> SaveSnapshotToString(const Database& db) {
  return EncodeSnapshot(internal::DatabaseAccess::engine(db),
                        internal::DatabaseAccess::catalog(db));
}

absl::StatusOr<Database> LoadSnapshotFromString(std::string_view bytes,
                                                const LoadOptions& options) {
  KIN_ASSIGN_OR_RETURN(SnapshotContents contents, DecodeSnapshot(Sv(bytes), options));
  return internal::DatabaseAccess::Adopt(std::move(contents.engine), std::move(contents.relations));
}

}  // namespace kin
