// Database's schema changes: the engine changes tables and foreign keys,
// this layer keeps the relations (which the engine knows nothing of) in step
// and refuses changes that would strand one.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/table.h"
#include "kin/database.h"
#include "kin/status_macros.h"
#include "relations/relation_catalog.h"

namespace kin {

namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string RelationNames(const std::vector<const RelationSpec*>& specs) {
  return absl::StrJoin(specs, ", ", [](std::string* out, const RelationSpec* s) {
    absl::StrAppend(out, "'", s->QualifiedName(), "'");
  });
}

}  // namespace

absl::Status Database::CheckSchemaChangeAllowed(std::string_view what) const {
  const int depth = engine_->transaction_depth();
  if (depth == 0 || (engine_->in_schema_change() && depth == 1)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(Sv(what), ": schema changes are not allowed inside a transaction"));
}

absl::Status Database::AddColumn(std::string_view table, ColumnSpec spec) {
  return AfterSchemaChange(engine_->AddColumn(Sv(table), std::move(spec)));
}

absl::Status Database::DropColumn(std::string_view table_name, std::string_view column_name) {
  const absl::string_view table = Sv(table_name), column = Sv(column_name);
  KIN_RETURN_IF_ERROR(
      CheckSchemaChangeAllowed(absl::StrCat("drop column ", QualifiedName(table, column))));
  KIN_ASSIGN_OR_RETURN(const Table* t, engine_->GetTable(table));
  KIN_RETURN_IF_ERROR(t->GetColumn(column).status());
  std::vector<const RelationSpec*> users = relations_->UsingColumn(table, column);
  if (!users.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drop column ", QualifiedName(table, column), ": used by relation ",
                     RelationNames(users), " (drop the relation's table or keep the column)"));
  }
  KIN_RETURN_IF_ERROR(engine_->DropColumn(table, column));
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::RenameColumn(std::string_view table_name, std::string_view column_name,
                                    std::string_view new_name) {
  const absl::string_view table = Sv(table_name), column = Sv(column_name);
  KIN_RETURN_IF_ERROR(
      CheckSchemaChangeAllowed(absl::StrCat("rename column ", QualifiedName(table, column))));
  KIN_ASSIGN_OR_RETURN(const Table* t, engine_->GetTable(table));
  KIN_RETURN_IF_ERROR(t->GetColumn(column).status());
  std::vector<const RelationSpec*> hooks = relations_->QueryingTable(table);
  if (!hooks.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rename column ", QualifiedName(table, column), ": relation ", RelationNames(hooks),
        " has an on_query callback reading table '", table,
        "', which may name the column (clear it with SetOnQuery(..., nullptr), rename, and "
        "attach the updated callback)"));
  }
  KIN_RETURN_IF_ERROR(engine_->RenameColumn(table, column, Sv(new_name)));
  relations_->RenameColumn(table, column, Sv(new_name));
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::RenameTable(std::string_view table_name, std::string_view new_name) {
  const absl::string_view table = Sv(table_name);
  const std::string old_name(table);  // `table` may view the name being changed
  KIN_RETURN_IF_ERROR(engine_->RenameTable(old_name, Sv(new_name)));
  relations_->RenameTable(old_name, Sv(new_name));
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::ChangeColumnType(std::string_view table_name, std::string_view column_name,
                                        Type type) {
  const absl::string_view table = Sv(table_name), column = Sv(column_name);
  KIN_ASSIGN_OR_RETURN(const Table* t, engine_->GetTable(table));
  KIN_RETURN_IF_ERROR(t->GetColumn(column).status());
  std::vector<const RelationSpec*> users = relations_->UsingColumn(table, column);
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("change the type of ",
                                                      QualifiedName(table, column),
                                                      ": used by relation ", RelationNames(users)));
  }
  KIN_RETURN_IF_ERROR(engine_->ChangeColumnType(table, column, type));
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::SetColumnDefault(std::string_view table, std::string_view column,
                                        std::optional<Value> value) {
  return AfterSchemaChange(engine_->SetColumnDefault(Sv(table), Sv(column), std::move(value)));
}

absl::Status Database::SetColumnNullable(std::string_view table, std::string_view column,
                                         bool nullable) {
  return AfterSchemaChange(engine_->SetColumnNullable(Sv(table), Sv(column), nullable));
}

absl::Status Database::DropIndex(std::string_view table_name, std::string_view column_name,
                                 IndexKind kind) {
  const absl::string_view table = Sv(table_name), column = Sv(column_name);
  if (kind == IndexKind::kHash) {
    for (const RelationSpec* r : relations_->UsingColumn(table, column)) {
      if (r->child_table() == table && r->foreign_key == column) {
        return absl::FailedPreconditionError(
            absl::StrCat("drop index on ", QualifiedName(table, column), ": relation '",
                         r->QualifiedName(), "' looks its children up through it"));
      }
    }
  }
  KIN_RETURN_IF_ERROR(engine_->DropIndex(table, column, kind));
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

absl::Status Database::DropIndex(std::string_view table,
                                 std::initializer_list<std::string_view> columns) {
  std::vector<absl::string_view> names;
  for (std::string_view c : columns) names.push_back(Sv(c));
  return AfterSchemaChange(engine_->DropIndex(Sv(table), names));
}

absl::Status Database::Migrate(const std::function<absl::Status()>& body) {
  KIN_RETURN_IF_ERROR(engine_->BeginSchemaChange());
  RelationCatalog::Saved relations = relations_->Copy();
  absl::Status status = body();
  if (status.ok() && engine_->transaction_depth() != 1) {
    status = absl::FailedPreconditionError(
        "migration: the body left a transaction open; everything it did was rolled back");
  }
  if (!status.ok()) {
    engine_->RollbackSchemaChange();
    relations_->Restore(std::move(relations));
    relations_->Bind(*engine_);
    return status;
  }
  engine_->CommitSchemaChange();
  relations_->Bind(*engine_);
  return AfterSchemaChange(absl::OkStatus());
}

}  // namespace kin
