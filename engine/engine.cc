#include "engine/engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "engine/status_macros.h"

namespace kin {

namespace {
// Cascades deeper than this are refused rather than risking the stack.
constexpr int kMaxCascadeDepth = 10000;
}  // namespace

absl::string_view OnDeleteName(OnDelete a) {
  switch (a) {
    case OnDelete::kNoAction:
      return "no action";
    case OnDelete::kRestrict:
      return "restrict";
    case OnDelete::kCascade:
      return "cascade";
    case OnDelete::kSetNull:
      return "set null";
  }
  return "unknown";
}

absl::string_view OnUpdateName(OnUpdate a) {
  switch (a) {
    case OnUpdate::kNoAction:
      return "no action";
    case OnUpdate::kRestrict:
      return "restrict";
    case OnUpdate::kCascade:
      return "cascade";
  }
  return "unknown";
}

// --- tables ---

absl::Status Engine::CheckNoTransaction(absl::string_view what) const {
  if (!marks_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": schema changes are not allowed inside a transaction"));
  }
  return absl::OkStatus();
}

absl::Status Engine::CreateTable(std::string name, Schema schema) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("create table '", name, "'")));
  if (name.empty()) return absl::InvalidArgumentError("table name is empty");
  if (by_name_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("table '", name, "' already exists"));
  }
  KIN_RETURN_IF_ERROR(schema.Validate(name));
  auto table = std::make_unique<Table>(name, std::move(schema));
  by_name_.emplace(std::move(name), table.get());
  tables_.push_back(std::move(table));
  return absl::OkStatus();
}

absl::Status Engine::DropTable(absl::string_view name) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("drop table '", name, "'")));
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return errors::UnknownTable(name);
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.child_table == name || fk.parent_table == name) {
      return absl::FailedPreconditionError(absl::StrCat(
          "table '", name, "' is used by the foreign key ",
          QualifiedName(fk.child_table, fk.child_column), " -> ",
          QualifiedName(fk.parent_table, fk.parent_column)));
    }
  }
  Table* t = it->second;
  by_name_.erase(it);
  ++table_epoch_;
  for (auto tit = tables_.begin(); tit != tables_.end(); ++tit) {
    if (tit->get() == t) {
      tables_.erase(tit);
      break;
    }
  }
  return absl::OkStatus();
}

const Table* Engine::FindTable(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

Table* Engine::MutableTable(absl::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<const Table*> Engine::GetTable(absl::string_view name) const {
  const Table* t = FindTable(name);
  if (t == nullptr) return errors::UnknownTable(name);
  return t;
}

std::vector<std::string> Engine::TableNames() const {
  std::vector<std::string> names;
  for (const auto& t : tables_) names.push_back(t->name());
  return names;
}

absl::Status Engine::CreateIndex(absl::string_view table, absl::string_view column) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("create index on '", table, "'")));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  Type type = t->column(id).type;
  if (type != Type::kInt64 && type != Type::kString) {
    return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column),
                                                   ": only int64 and string columns can be "
                                                   "indexed, not ",
                                                   TypeName(type)));
  }
  t->EnsureIndex(id);
  return absl::OkStatus();
}

// --- rows ---

namespace {

absl::StatusOr<Table*> Writable(Table* found, const Row& row) {
  KIN_RETURN_IF_ERROR(row.CheckValid());
  if (found != row.table()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "row of table '", row.table()->name(), "' does not belong to this database"));
  }
  return found;
}

}  // namespace

absl::StatusOr<Row> Engine::Insert(absl::string_view table, const Attrs& attrs) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_RETURN_IF_ERROR(t->PrepareInsert(attrs));
  RowId id = t->ApplyInsert(marks_.empty() ? nullptr : &log_);
  return t->GetRow(id);
}

absl::StatusOr<std::vector<Row>> Engine::InsertMany(absl::string_view table,
                                                    const std::vector<Attrs>& rows) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  std::vector<RowId> ids;
  ids.reserve(rows.size());
  KIN_RETURN_IF_ERROR(Atomically([&]() -> absl::Status {
    for (size_t i = 0; i < rows.size(); ++i) {
      absl::Status s = t->PrepareInsert(rows[i]);
      if (!s.ok()) {
        return absl::Status(s.code(), absl::StrCat("row ", i, ": ", s.message()));
      }
      ids.push_back(t->ApplyInsert(&log_));
    }
    return absl::OkStatus();
  }));
  std::vector<Row> out;
  out.reserve(ids.size());
  for (RowId id : ids) out.push_back(t->GetRow(id));
  return out;
}

absl::StatusOr<size_t> Engine::InsertBatch(absl::string_view table, RowBatch batch) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  return t->InsertBatch(std::move(batch), marks_.empty() ? nullptr : &log_);
}

absl::StatusOr<Row> Engine::FindOrFail(absl::string_view table, const Value& key) const {
  KIN_ASSIGN_OR_RETURN(const Table* t, GetTable(table));
  return t->FindOrFail(key);
}

absl::StatusOr<bool> Engine::Update(const Row& row, const Attrs& attrs) {
  KIN_ASSIGN_OR_RETURN(Table * t, Writable(row.valid() ? MutableTable(row.table()->name())
                                                              : nullptr,
                                           row));
  bool has_actions = false;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    has_actions = has_actions || (fk.parent_table == t->name() && fk.on_update != OnUpdate::kNoAction);
  }
  if (!has_actions) {
    KIN_RETURN_IF_ERROR(t->PrepareUpdate(row.id(), attrs));
    return t->ApplyUpdate(row.id(), marks_.empty() ? nullptr : &log_);
  }
  bool changed = false;
  KIN_RETURN_IF_ERROR(Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(t->PrepareUpdate(row.id(), attrs));
    std::vector<std::pair<ColumnId, Value>> old_keys;
    for (const auto& [column, value] : t->changes_) {
      old_keys.emplace_back(column, t->GetValue(row.id(), column));
    }
    changed = t->ApplyUpdate(row.id(), &log_);
    return ApplyUpdateActions(*t, row.id(), old_keys);
  }));
  return changed;
}

absl::Status Engine::ApplyUpdateActions(
    Table& table, RowId id, const std::vector<std::pair<ColumnId, Value>>& old_keys) {
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.parent_table != table.name() || fk.on_update == OnUpdate::kNoAction) continue;
    ColumnId parent_column = *table.FindColumn(fk.parent_column);
    for (const auto& [column, old] : old_keys) {
      if (column != parent_column || old.is_null()) continue;
      Table* child = MutableTable(fk.child_table);
      ColumnId child_column = *child->FindColumn(fk.child_column);
      std::vector<RowId> kids(child->index(child_column)->Find(old).begin(),
                              child->index(child_column)->Find(old).end());
      if (kids.empty()) continue;
      if (fk.on_update == OnUpdate::kRestrict) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot change ", QualifiedName(table.name(), fk.parent_column), " from ",
            old.DebugString(), ": ", kids.size(), " row(s) of ",
            QualifiedName(fk.child_table, fk.child_column), " reference it (on update restrict)"));
      }
      Value now = table.GetValue(id, parent_column);
      for (RowId kid : kids) {
        KIN_ASSIGN_OR_RETURN(bool ignored, Update(child->GetRow(kid), {{fk.child_column, now}}));
        (void)ignored;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Delete(const Row& row) {
  KIN_ASSIGN_OR_RETURN(Table * t, Writable(row.valid() ? MutableTable(row.table()->name())
                                                              : nullptr,
                                           row));
  bool has_actions = false;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    has_actions = has_actions || (fk.parent_table == t->name() && fk.on_delete != OnDelete::kNoAction);
  }
  if (!has_actions) {
    t->Delete(row.id(), marks_.empty() ? nullptr : &log_);
    return absl::OkStatus();
  }
  return Atomically([&] { return DeleteRow(*t, row.id(), 0); });
}

absl::Status Engine::DeleteRow(Table& table, RowId id, int depth) {
  if (depth > kMaxCascadeDepth) {
    return absl::FailedPreconditionError(
        absl::StrCat("table '", table.name(), "': cascade deeper than ", kMaxCascadeDepth));
  }
  struct Pending {
    const ForeignKeySpec* fk;
    Table* child;
    ColumnId child_column;
    std::vector<RowId> kids;
  };
  std::vector<Pending> pending;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.parent_table != table.name() || fk.on_delete == OnDelete::kNoAction) continue;
    Value key = table.GetValue(id, *table.FindColumn(fk.parent_column));
    if (key.is_null()) continue;
    Table* child = MutableTable(fk.child_table);
    ColumnId child_column = *child->FindColumn(fk.child_column);
    std::span<const RowId> found = child->index(child_column)->Find(key);
    std::vector<RowId> kids;
    for (RowId k : found) {
      if (!(child == &table && k == id)) kids.push_back(k);  // a self-reference
    }
    if (kids.empty()) continue;
    if (fk.on_delete == OnDelete::kRestrict) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot delete from '", table.name(), "' the row with ", fk.parent_column, " = ",
          key.DebugString(), ": ", kids.size(), " row(s) of ",
          QualifiedName(fk.child_table, fk.child_column), " reference it (on delete restrict)"));
    }
    pending.push_back({&fk, child, child_column, std::move(kids)});
  }
  table.Delete(id, &log_);
  for (Pending& p : pending) {
    for (RowId kid : p.kids) {
      if (!p.child->IsLive(kid)) continue;
      if (p.fk->on_delete == OnDelete::kCascade) {
        KIN_RETURN_IF_ERROR(DeleteRow(*p.child, kid, depth + 1));
      } else {
        KIN_ASSIGN_OR_RETURN(bool ignored,
                             Update(p.child->GetRow(kid), {{p.fk->child_column, Value()}}));
        (void)ignored;
      }
    }
  }
  return absl::OkStatus();
}

// --- transactions ---

absl::Status Engine::Begin() {
  marks_.push_back(log_.size());
  return absl::OkStatus();
}

absl::Status Engine::Commit() {
  if (marks_.empty()) return absl::FailedPreconditionError("commit: no open transaction");
  marks_.pop_back();
  if (marks_.empty()) {
    // Keep a small log's buffer for the next transaction; give back a big one.
    if (log_.capacity() > 65536) {
      std::vector<internal::UndoEntry>().swap(log_);
    } else {
      log_.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Rollback() {
  if (marks_.empty()) return absl::FailedPreconditionError("rollback: no open transaction");
  size_t mark = marks_.back();
  marks_.pop_back();
  while (log_.size() > mark) {
    log_.back().table->Undo(log_.back());
    log_.pop_back();
  }
  return absl::OkStatus();
}

absl::Status Engine::Atomically(const std::function<absl::Status()>& body) {
  KIN_RETURN_IF_ERROR(Begin());
  absl::Status status = body();
  if (!status.ok()) {
    KIN_RETURN_IF_ERROR(Rollback());
    return status;
  }
  return Commit();
}

// --- foreign keys ---

absl::Status Engine::AddForeignKey(const ForeignKeySpec& fk) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction("add foreign key"));
  Table* child = MutableTable(fk.child_table);
  if (child == nullptr) return errors::UnknownTable(fk.child_table);
  const Table* parent = FindTable(fk.parent_table);
  if (parent == nullptr) return errors::UnknownTable(fk.parent_table);
  KIN_ASSIGN_OR_RETURN(ColumnId child_column, child->GetColumn(fk.child_column));
  KIN_ASSIGN_OR_RETURN(ColumnId parent_column, parent->GetColumn(fk.parent_column));
  const ColumnSpec& cs = child->column(child_column);
  const ColumnSpec& ps = parent->column(parent_column);
  if (cs.type != ps.type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "foreign key ", QualifiedName(fk.child_table, fk.child_column), " is ",
        TypeName(cs.type), " but ", QualifiedName(fk.parent_table, fk.parent_column), " is ",
        TypeName(ps.type)));
  }
  if (cs.type != Type::kInt64 && cs.type != Type::kString) {
    return absl::InvalidArgumentError(
        absl::StrCat("foreign key ", QualifiedName(fk.child_table, fk.child_column),
                     ": keys must be int64 or string, not ", TypeName(cs.type)));
  }
  bool actions = fk.on_delete != OnDelete::kNoAction || fk.on_update != OnUpdate::kNoAction;
  if (actions && !(ps.primary_key || ps.unique)) {
    return absl::InvalidArgumentError(
        absl::StrCat("foreign key actions need a primary key or unique parent column; ",
                     QualifiedName(fk.parent_table, fk.parent_column), " is neither"));
  }
  if (fk.on_delete == OnDelete::kSetNull && !cs.nullable) {
    return absl::InvalidArgumentError(
        absl::StrCat("on delete set null: ", QualifiedName(fk.child_table, fk.child_column),
                     " is NOT NULL"));
  }
  for (const ForeignKeySpec& other : foreign_keys_) {
    if (other.child_table == fk.child_table && other.child_column == fk.child_column &&
        other.parent_table == fk.parent_table && other.parent_column == fk.parent_column) {
      return absl::AlreadyExistsError(
          absl::StrCat("foreign key ", QualifiedName(fk.child_table, fk.child_column), " -> ",
                       QualifiedName(fk.parent_table, fk.parent_column), " already exists"));
    }
  }
  child->EnsureIndex(child_column);
  foreign_keys_.push_back(fk);
  return absl::OkStatus();
}

absl::Status Engine::RemoveForeignKey(absl::string_view child_table,
                                      absl::string_view child_column) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction("remove foreign key"));
  for (auto it = foreign_keys_.begin(); it != foreign_keys_.end(); ++it) {
    if (it->child_table == child_table && it->child_column == child_column) {
      foreign_keys_.erase(it);
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no foreign key on ", QualifiedName(child_table, child_column)));
}

// --- introspection ---

std::string Engine::DebugString() const {
  std::string out;
  for (const auto& t : tables_) absl::StrAppend(&out, t->DebugString());
  for (const ForeignKeySpec& fk : foreign_keys_) {
    absl::StrAppend(&out, "foreign key ", QualifiedName(fk.child_table, fk.child_column), " -> ",
                    QualifiedName(fk.parent_table, fk.parent_column),
                    " on delete ", OnDeleteName(fk.on_delete), " on update ",
                    OnUpdateName(fk.on_update), "\n");
  }
  return out;
}

size_t Engine::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& t : tables_) bytes += t->MemoryBytes();
  return bytes;
}

absl::Status Engine::CheckConsistency() const {
  for (const auto& t : tables_) KIN_RETURN_IF_ERROR(t->CheckConsistency());
  return absl::OkStatus();
}

absl::Status Engine::RestoreTable(std::string name, Schema schema, TableImage image) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("restore table '", name, "'")));
  if (by_name_.contains(name)) {
    return absl::AlreadyExistsError(absl::StrCat("table '", name, "' already exists"));
  }
  KIN_RETURN_IF_ERROR(schema.Validate(name));
  auto table = std::make_unique<Table>(name, std::move(schema));
  KIN_RETURN_IF_ERROR(table->Restore(std::move(image)));
  by_name_.emplace(std::move(name), table.get());
  tables_.push_back(std::move(table));
  return absl::OkStatus();
}

// --- Transaction ---

Transaction::Transaction(Engine& engine) : engine_(&engine) {
  open_ = engine_->Begin().ok();
}

Transaction::~Transaction() {
  if (open_) engine_->Rollback().IgnoreError();
}

absl::Status Transaction::Commit() {
  if (!open_) return absl::FailedPreconditionError("transaction already finished");
  open_ = false;
  return engine_->Commit();
}

absl::Status Transaction::Rollback() {
  if (!open_) return absl::FailedPreconditionError("transaction already finished");
  open_ = false;
  return engine_->Rollback();
}

}  // namespace kin
