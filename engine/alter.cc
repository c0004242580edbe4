// Engine's schema changes and the all-or-nothing schema change (a
// migration's savepoint). Each operation checks every precondition before
// it changes anything, so a refused one leaves the engine as it was.

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "kin/status_macros.h"

namespace kin {

struct Engine::SchemaChange {
  uint64_t serial = 0;         // of the savepoint it opened
  std::vector<Table*> tables;  // tables_ in order at the start
  std::vector<ForeignKeySpec> foreign_keys;
  std::map<std::string, std::string> metadata;
  // Tables copied before their first schema change, with the log size then.
  struct Copy {
    size_t log_size;
    std::shared_ptr<Table::Backup> backup;
  };
  std::map<const Table*, Copy> copies;
};

namespace {

absl::Status CheckNewColumnName(absl::string_view table, absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("table '", table, "': empty column name"));
  }
  if (name == "*") {
    return absl::InvalidArgumentError(
        absl::StrCat("table '", table, "': '*' is not a valid column name"));
  }
  return absl::OkStatus();
}

// "players.score = NULL in the row with id = 7": the first live row of `t`
// holding NULL in `column`, or nullopt.
std::optional<std::string> FirstNullRow(const Table& t, ColumnId column) {
  for (RowId id : t.LiveRowIds()) {
    if (!t.IsNull(id, column)) continue;
    const ColumnSpec& pk = t.column(t.primary_key());
    return absl::StrCat("the row with ", pk.name, " = ",
                        errors::Quote(t.GetValue(id, t.primary_key())));
  }
  return std::nullopt;
}

// `v` (not NULL) as a value of `to`, or nullopt when it has none: only
// exact conversions (1.5 is no int64, "x" no number, 2 no bool).
std::optional<Value> Convert(const Value& v, Type to) {
  constexpr double kExactInt = 9007199254740992.0;  // 2^53
  switch (to) {
    case Type::kInt64:
      if (v.is_double()) {
        const double d = v.AsDouble();
        if (d != std::trunc(d) || std::abs(d) > kExactInt) return std::nullopt;
        return Value(static_cast<int64_t>(d));
      }
      if (v.is_bool()) return Value(int64_t{v.AsBool() ? 1 : 0});
      if (v.is_string()) {
        int64_t n;
        if (!absl::SimpleAtoi(v.AsString(), &n)) return std::nullopt;
        return Value(n);
      }
      return v;
    case Type::kDouble:
      if (v.is_int64()) {
        if (std::abs(static_cast<double>(v.AsInt64())) > kExactInt) return std::nullopt;
        return Value(static_cast<double>(v.AsInt64()));
      }
      if (v.is_bool()) return Value(v.AsBool() ? 1.0 : 0.0);
      if (v.is_string()) {
        double d;
        if (!absl::SimpleAtod(v.AsString(), &d)) return std::nullopt;
        return Value(d);
      }
      return v;
    case Type::kBool:
      if (v.is_int64() && (v.AsInt64() == 0 || v.AsInt64() == 1)) return Value(v.AsInt64() == 1);
      if (v.is_double() && (v.AsDouble() == 0.0 || v.AsDouble() == 1.0)) {
        return Value(v.AsDouble() == 1.0);
      }
      if (v.is_string() && (v.AsString() == "true" || v.AsString() == "false")) {
        return Value(v.AsString() == "true");
      }
      if (v.is_bool()) return v;
      return std::nullopt;
    case Type::kString:
      if (v.is_string()) return v;
      if (v.is_bool()) return Value(v.AsBool() ? "true" : "false");
      if (v.is_int64()) return Value(absl::StrCat(v.AsInt64()));
      return Value(v.DebugString());  // shortest text that reads back the same double
  }
  return std::nullopt;
}

TableImage::ColumnData EmptyCells(Type type, size_t slots) {
  switch (type) {
    case Type::kInt64:
      return std::vector<int64_t>(slots);
    case Type::kDouble:
      return std::vector<double>(slots);
    case Type::kBool:
      return std::vector<uint8_t>(slots);
    case Type::kString:
      return StringStore(slots);
  }
  return std::vector<int64_t>(slots);
}

void SetCell(TableImage::ColumnData& cells, uint32_t slot, const Value& v) {
  std::visit(
      [&](auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, int64_t>) {
          vec[slot] = v.AsInt64();
        } else if constexpr (std::is_same_v<T, double>) {
          vec[slot] = v.AsDouble();
        } else if constexpr (std::is_same_v<T, uint8_t>) {
          vec[slot] = v.AsBool() ? 1 : 0;
        } else {
          vec.Set(slot, v.AsString());
        }
      },
      cells);
}

std::string ForeignKeyName(const ForeignKeySpec& fk) {
  return absl::StrCat("foreign key ", QualifiedName(fk.child_table, fk.child_column), " -> ",
                      QualifiedName(fk.parent_table, fk.parent_column));
}

}  // namespace

void Engine::SetMetadata(const std::string& key, std::string value) {
  if (value.empty()) {
    metadata_.erase(key);
  } else {
    metadata_[key] = std::move(value);
  }
}

void Engine::BackupForSchemaChange(Table& table) {
  if (schema_change_ == nullptr || schema_change_->copies.contains(&table)) return;
  const bool created = std::find(schema_change_->tables.begin(), schema_change_->tables.end(),
                                 &table) == schema_change_->tables.end();
  if (created) return;  // a rollback drops it
  schema_change_->copies.emplace(&table, SchemaChange::Copy{log_.size(), table.TakeBackup()});
}

absl::Status Engine::AddColumn(absl::string_view table, ColumnSpec spec) {
  const std::string what = absl::StrCat("add column '", spec.name, "' to '", table, "'");
  KIN_RETURN_IF_ERROR(CheckNoTransaction(what));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_RETURN_IF_ERROR(CheckNewColumnName(table, spec.name));
  if (t->FindColumn(spec.name).has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("table '", table, "' already has a column named '", spec.name, "'"));
  }
  if (spec.primary_key || spec.auto_increment) {
    return absl::InvalidArgumentError(absl::StrCat(
        QualifiedName(table, spec.name), ": a table's primary key cannot be added later"));
  }
  // The schema's own rules (types of indexes, of the default, ...).
  Schema check;
  check.Int64("\x01pk", PrimaryKey());
  check.Column(spec);
  KIN_RETURN_IF_ERROR(check.Validate(table));
  const bool has_default = spec.default_value.has_value() && !spec.default_value->is_null();
  if (!spec.nullable && !has_default && !t->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        QualifiedName(table, spec.name), ": a NOT NULL column needs a default to fill the ",
        t->size(), " existing row(s)"));
  }
  BackupForSchemaChange(*t);
  t->AddColumn(std::move(spec));
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::DropColumn(absl::string_view table, absl::string_view column) {
  KIN_RETURN_IF_ERROR(
      CheckNoTransaction(absl::StrCat("drop column ", QualifiedName(table, column))));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  const std::string name = QualifiedName(table, column);
  if (t->column(id).primary_key) {
    return absl::FailedPreconditionError(
        absl::StrCat("drop column ", name, ": it is the table's primary key"));
  }
  std::vector<std::string> users;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if ((fk.child_table == table && fk.child_column == column) ||
        (fk.parent_table == table && fk.parent_column == column)) {
      users.push_back(ForeignKeyName(fk));
    }
  }
  for (const auto& c : t->composite_indexes()) {
    if (std::find(c->columns().begin(), c->columns().end(), id) != c->columns().end()) {
      users.push_back(absl::StrCat("composite index ", t->CompositeName(*c)));
    }
  }
  if (!users.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drop column ", name, ": used by ", absl::StrJoin(users, ", ")));
  }
  BackupForSchemaChange(*t);
  t->DropColumn(id);
  RebuildChildChecks();  // their column ids moved
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::RenameColumn(absl::string_view table, absl::string_view column,
                                  absl::string_view new_name) {
  KIN_RETURN_IF_ERROR(
      CheckNoTransaction(absl::StrCat("rename column ", QualifiedName(table, column))));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  KIN_RETURN_IF_ERROR(CheckNewColumnName(table, new_name));
  if (t->FindColumn(new_name).has_value()) {
    return absl::AlreadyExistsError(absl::StrCat("rename column ", QualifiedName(table, column),
                                                 ": table '", table,
                                                 "' already has a column named '", new_name, "'"));
  }
  BackupForSchemaChange(*t);
  const std::string old_name(column);
  for (ForeignKeySpec& fk : foreign_keys_) {
    if (fk.child_table == table && fk.child_column == old_name)
      fk.child_column = std::string(new_name);
    if (fk.parent_table == table && fk.parent_column == old_name)
      fk.parent_column = std::string(new_name);
  }
  t->RenameColumn(id, std::string(new_name));
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::RenameTable(absl::string_view table, absl::string_view new_name) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("rename table '", table, "'")));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  if (new_name.empty()) return absl::InvalidArgumentError("table name is empty");
  if (by_name_.contains(new_name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("rename table '", table, "': table '", new_name, "' already exists"));
  }
  BackupForSchemaChange(*t);
  const std::string old_name(table);
  for (ForeignKeySpec& fk : foreign_keys_) {
    if (fk.child_table == old_name) fk.child_table = std::string(new_name);
    if (fk.parent_table == old_name) fk.parent_table = std::string(new_name);
  }
  by_name_.erase(old_name);
  by_name_.emplace(std::string(new_name), t);
  t->Rename(std::string(new_name));
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::SetColumnDefault(absl::string_view table, absl::string_view column,
                                      std::optional<Value> value) {
  KIN_RETURN_IF_ERROR(
      CheckNoTransaction(absl::StrCat("set default of ", QualifiedName(table, column))));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  ColumnSpec spec = t->column(id);
  spec.default_value = value;
  Schema check;
  if (!spec.primary_key) check.Int64("\x01pk", PrimaryKey());
  check.Column(spec);
  KIN_RETURN_IF_ERROR(check.Validate(table));
  BackupForSchemaChange(*t);
  t->SetDefault(id, std::move(value));
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::SetColumnNullable(absl::string_view table, absl::string_view column,
                                       bool nullable) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat(
      nullable ? "drop NOT NULL of " : "set NOT NULL on ", QualifiedName(table, column))));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  const ColumnSpec& spec = t->column(id);
  const std::string name = QualifiedName(table, column);
  if (spec.nullable == nullable) return absl::OkStatus();
  if (spec.primary_key) {
    return absl::FailedPreconditionError(absl::StrCat(name, ": a primary key is always NOT NULL"));
  }
  if (!nullable) {
    if (spec.default_value.has_value() && spec.default_value->is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": default NULL for a NOT NULL column (change the default first)"));
    }
    for (const ForeignKeySpec& fk : foreign_keys_) {
      if (fk.child_table == table && fk.child_column == column &&
          fk.on_delete == OnDelete::kSetNull) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, ": cannot be NOT NULL, its ", ForeignKeyName(fk), " is on delete set null"));
      }
    }
    if (std::optional<std::string> row = FirstNullRow(*t, id); row.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("set NOT NULL on ", name, ": ", *row, " holds NULL"));
    }
  }
  BackupForSchemaChange(*t);
  t->SetNullable(id, nullable);
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::ChangeColumnType(absl::string_view table, absl::string_view column,
                                      Type type) {
  const std::string name = QualifiedName(table, column);
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("change the type of ", name)));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  const ColumnSpec& spec = t->column(id);
  if (spec.type == type) return absl::OkStatus();
  const std::string what =
      absl::StrCat("change ", name, " from ", TypeName(spec.type), " to ", TypeName(type));
  if (spec.primary_key) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": it is the table's primary key"));
  }
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if ((fk.child_table == table && fk.child_column == column) ||
        (fk.parent_table == table && fk.parent_column == column)) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": used by the ", ForeignKeyName(fk)));
    }
  }
  for (const auto& c : t->composite_indexes()) {
    if (std::find(c->columns().begin(), c->columns().end(), id) != c->columns().end()) {
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": used by the composite index ", t->CompositeName(*c)));
    }
  }
  const HashIndex* old_index = t->index(id);
  if (old_index != nullptr && type != Type::kInt64 && type != Type::kString) {
    return absl::InvalidArgumentError(
        absl::StrCat(what,
                     ": the column has a hash index, and only int64 and string columns "
                     "can be indexed (drop the index first)"));
  }
  std::optional<Value> default_value = spec.default_value;
  if (default_value.has_value() && !default_value->is_null()) {
    default_value = Convert(*spec.default_value, type);
    if (!default_value.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": the default ", errors::Quote(*spec.default_value), " does not convert"));
    }
  }
  TableImage::ColumnData cells = EmptyCells(type, t->slot_count());
  std::vector<uint32_t> rows;  // the non-NULL ones, for the index
  for (RowId r : t->LiveRowIds()) {
    if (t->IsNull(r, id)) continue;
    const Value old = t->GetValue(r, id);
    std::optional<Value> converted = Convert(old, type);
    if (!converted.has_value()) {
      const ColumnSpec& pk = t->column(t->primary_key());
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", errors::Quote(old), " in the row with ", pk.name, " = ",
                       errors::Quote(t->GetValue(r, t->primary_key())), " does not convert"));
    }
    SetCell(cells, r.value, *converted);
    rows.push_back(r.value);
  }
  std::unique_ptr<HashIndex> index;
  if (old_index != nullptr) {
    index = std::make_unique<HashIndex>(type, old_index->unique());
    std::optional<RowId> duplicate = std::visit(
        [&](const auto& vec) -> std::optional<RowId> {
          using T = typename std::decay_t<decltype(vec)>::value_type;
          if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, std::string_view>) {
            return index->Build(vec, rows);
          } else {
            return std::nullopt;  // refused above
          }
        },
        cells);
    if (duplicate.has_value()) {
      const ColumnSpec& pk = t->column(t->primary_key());
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the row with ", pk.name, " = ",
                       errors::Quote(t->GetValue(*duplicate, t->primary_key())),
                       " would repeat another row's key once converted, and the column is unique"));
    }
  }
  BackupForSchemaChange(*t);
  t->ChangeType(id, type, std::move(cells), std::move(default_value), std::move(index));
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::DropIndex(absl::string_view table, absl::string_view column, IndexKind kind) {
  KIN_RETURN_IF_ERROR(
      CheckNoTransaction(absl::StrCat("drop index on ", QualifiedName(table, column))));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  const std::string name = QualifiedName(table, column);
  if (kind == IndexKind::kOrdered) {
    if (t->ordered_index(id) == nullptr) {
      return absl::NotFoundError(absl::StrCat(name, ": no ordered index"));
    }
    BackupForSchemaChange(*t);
    t->DropOrderedIndex(id);
    NewTableEpoch();
    return absl::OkStatus();
  }
  const HashIndex* index = t->index(id);
  if (index == nullptr) return absl::NotFoundError(absl::StrCat(name, ": no hash index"));
  if (index->unique()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drop index on ", name, ": it enforces the column's ",
                     t->column(id).primary_key ? "primary key" : "unique constraint"));
  }
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.child_table == table && fk.child_column == column) {
      return absl::FailedPreconditionError(
          absl::StrCat("drop index on ", name, ": used by the ", ForeignKeyName(fk)));
    }
  }
  BackupForSchemaChange(*t);
  t->DropHashIndex(id);
  NewTableEpoch();
  return absl::OkStatus();
}

absl::Status Engine::DropIndex(absl::string_view table,
                               std::span<const absl::string_view> columns) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("drop index on '", table, "'")));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  std::vector<ColumnId> ids;
  for (absl::string_view c : columns) {
    KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(c));
    ids.push_back(id);
  }
  const CompositeIndex* index = t->FindCompositeIndex(ids);
  if (index == nullptr) {
    return absl::NotFoundError(absl::StrCat("table '", table, "': no composite index (",
                                            absl::StrJoin(columns, ", "), ")"));
  }
  BackupForSchemaChange(*t);
  t->DropCompositeIndex(index);
  NewTableEpoch();
  return absl::OkStatus();
}

// --- all or nothing ---

absl::Status Engine::BeginSchemaChange() {
  if (schema_change_ != nullptr) {
    return absl::FailedPreconditionError("a migration is already running");
  }
  if (!marks_.empty()) {
    return absl::FailedPreconditionError(
        "migrations cannot run inside a transaction (commit or roll it back first)");
  }
  auto change = std::make_shared<SchemaChange>();
  for (const auto& t : tables_) change->tables.push_back(t.get());
  change->foreign_keys = foreign_keys_;
  change->metadata = metadata_;
  change->serial = BeginScoped();
  schema_change_ = std::move(change);
  return absl::OkStatus();
}

void Engine::CommitSchemaChange() {
  if (schema_change_ == nullptr) return;
  marks_.clear();
  ClearLog();
  schema_change_.reset();
  NewTableEpoch();
}

void Engine::RollbackSchemaChange() {
  if (schema_change_ == nullptr) return;
  std::shared_ptr<SchemaChange> change = std::move(schema_change_);
  marks_.clear();
  // Copied tables: back to their copies, then their writes from before the
  // copy are undone (on the schema they were made with). Other tables:
  // every write undone. Entries of one table never depend on another's.
  for (auto& [table, copy] : change->copies) {
    const_cast<Table*>(table)->RestoreBackup(*copy.backup);
  }
  for (size_t i = log_.size(); i-- > 0;) {
    const internal::UndoEntry& entry = log_[i];
    const bool existed = std::find(change->tables.begin(), change->tables.end(), entry.table) !=
                         change->tables.end();
    if (!existed) continue;  // dropped below
    auto it = change->copies.find(entry.table);
    if (it != change->copies.end() && i >= it->second.log_size) continue;
    entry.table->Undo(entry, log_.CellsOf(entry));
  }
  ClearLog();
  for (auto it = tables_.begin(); it != tables_.end();) {
    if (std::find(change->tables.begin(), change->tables.end(), it->get()) !=
        change->tables.end()) {
      ++it;
      continue;
    }
    (*it)->Drop();
    dropped_tables_.push_back(std::move(*it));
    it = tables_.erase(it);
  }
  // Renamed tables took their old names back; the order is the old one.
  std::vector<std::unique_ptr<Table>> ordered;
  for (Table* t : change->tables) {
    for (auto& owned : tables_) {
      if (owned.get() == t) ordered.push_back(std::move(owned));
    }
  }
  tables_ = std::move(ordered);
  by_name_.clear();
  for (const auto& t : tables_) by_name_.emplace(t->name(), t.get());
  foreign_keys_ = std::move(change->foreign_keys);
  metadata_ = std::move(change->metadata);
  RebuildChildChecks();
  NewTableEpoch();
}

}  // namespace kin
