#include "engine/engine.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/change_feed.h"
#include "engine/errors.h"
#include "engine/string_view.h"
#include "kin/status_macros.h"

namespace kin {

namespace {

uint64_t NewEngineId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Epochs are unique in the process, not only per engine, so a cache stamped
// with one can never match another engine's state by coincidence (and a
// moved engine keeps its tables and its epoch).
uint64_t NewEpoch() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// Enforced on both sides: see engine.h.
bool Enforced(const ForeignKeySpec& fk) {
  return fk.on_delete != OnDelete::kNoAction || fk.on_update != OnUpdate::kNoAction;
}

}  // namespace

Engine::Engine() : id_(NewEngineId()), table_epoch_(NewEpoch()) {}

Engine::~Engine() = default;

void Engine::NewTableEpoch() { table_epoch_ = NewEpoch(); }

Engine::Engine(Engine&& other) noexcept : id_(0) { MoveFrom(other); }

Engine& Engine::operator=(Engine&& other) noexcept {
  if (this != &other) MoveFrom(other);
  return *this;
}

void Engine::MoveFrom(Engine& other) {
  id_ = std::exchange(other.id_, NewEngineId());
  tables_ = std::exchange(other.tables_, {});
  dropped_tables_ = std::exchange(other.dropped_tables_, {});
  by_name_ = std::exchange(other.by_name_, {});
  foreign_keys_ = std::exchange(other.foreign_keys_, {});
  child_checks_ = std::exchange(other.child_checks_, {});
  log_ = std::exchange(other.log_, {});
  marks_ = std::exchange(other.marks_, {});
  next_serial_ = other.next_serial_;
  listeners_ = std::exchange(other.listeners_, {});
  next_listener_ = other.next_listener_;
  commit_sequence_ = std::exchange(other.commit_sequence_, 0);
  undelivered_ = std::exchange(other.undelivered_, {});
  spare_changes_ = std::exchange(other.spare_changes_, {});
  table_epoch_ = std::exchange(other.table_epoch_, NewEpoch());
  metadata_ = std::exchange(other.metadata_, {});
  schema_change_ = std::exchange(other.schema_change_, nullptr);
}

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
  // Inside a schema change, its own savepoint (and no other) admits them.
  if (schema_change_ != nullptr && marks_.size() == 1) return absl::OkStatus();
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
  table->owner_ = id_;
  by_name_.emplace(std::move(name), table.get());
  tables_.push_back(std::move(table));
  return absl::OkStatus();
}

absl::Status Engine::DropTable(absl::string_view name) {
  if (schema_change_ != nullptr) {
    // Undoing a drop would mean keeping the whole table aside anyway, and
    // old handles must read "stale" after a drop: drop in a step of its own.
    return absl::FailedPreconditionError(
        absl::StrCat("drop table '", name, "': not inside a migration (drop it outside one)"));
  }
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("drop table '", name, "'")));
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return errors::UnknownTable(name);
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.child_table == name || fk.parent_table == name) {
      return absl::FailedPreconditionError(
          absl::StrCat("table '", name, "' is used by the foreign key ",
                       QualifiedName(fk.child_table, fk.child_column), " -> ",
                       QualifiedName(fk.parent_table, fk.parent_column)));
    }
  }
  Table* t = it->second;
  by_name_.erase(it);
  table_epoch_ = NewEpoch();
  for (auto tit = tables_.begin(); tit != tables_.end(); ++tit) {
    if (tit->get() == t) {
      t->Drop();
      dropped_tables_.push_back(std::move(*tit));
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

absl::Status Engine::CreateIndex(absl::string_view table, absl::string_view column,
                                 IndexKind kind) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("create index on '", table, "'")));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(column));
  if (kind == IndexKind::kOrdered) {
    BackupForSchemaChange(*t);
    t->EnsureOrderedIndex(id);
    return absl::OkStatus();
  }
  Type type = t->column(id).type;
  if (type != Type::kInt64 && type != Type::kString) {
    return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column),
                                                   ": only int64 and string columns can be "
                                                   "indexed, not ",
                                                   TypeName(type)));
  }
  BackupForSchemaChange(*t);
  t->EnsureIndex(id);
  return absl::OkStatus();
}

absl::Status Engine::CreateIndex(absl::string_view table,
                                 std::span<const absl::string_view> columns, IndexKind kind) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction(absl::StrCat("create index on '", table, "'")));
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  if (kind != IndexKind::kOrdered) {
    return absl::InvalidArgumentError(
        absl::StrCat("table '", table,
                     "': a composite index must be ordered (IndexKind::kOrdered); hash indexes "
                     "take one column"));
  }
  if (columns.size() < CompositeIndex::kMinColumns ||
      columns.size() > CompositeIndex::kMaxColumns) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table '", table, "': a composite index needs 2 or 3 columns, got ", columns.size()));
  }
  std::vector<ColumnId> ids;
  for (absl::string_view name : columns) {
    KIN_ASSIGN_OR_RETURN(ColumnId id, t->GetColumn(name));
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("table '", table, "': composite index names column '", name, "' twice"));
    }
    ids.push_back(id);
  }
  if (const CompositeIndex* existing = t->FindCompositeIndex(ids); existing != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("table '", table, "': composite index ",
                                                 t->CompositeName(*existing), " already exists"));
  }
  BackupForSchemaChange(*t);
  t->AddCompositeIndex(std::move(ids));
  return absl::OkStatus();
}

// --- rows ---

absl::Status Engine::CheckRow(const Row& row) const {
  if (row.table() == nullptr) return absl::FailedPreconditionError("empty row handle");
  if (row.table()->owner() != id_) {
    return absl::InvalidArgumentError(
        absl::StrCat("row of table '", row.table()->name(), "' does not belong to this database"));
  }
  return row.CheckValid();
}

absl::StatusOr<Row> Engine::Insert(absl::string_view table, const Attrs& attrs) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_RETURN_IF_ERROR(t->PrepareInsert(attrs));
  return InsertPrepared(t);
}

absl::StatusOr<Row> Engine::InsertCells(absl::string_view table, std::span<const CellRef> cells) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  KIN_RETURN_IF_ERROR(t->PrepareInsertCells(cells));
  return InsertPrepared(t);
}

absl::StatusOr<Row> Engine::InsertPrepared(Table* t) {
  if (!HasChildChecks(*t)) {
    RowId id = t->ApplyInsert(Log());
    KIN_RETURN_IF_ERROR(EndOfWrite());
    return t->GetRow(id);
  }
  // Checked once written, so a row may name itself as its parent.
  RowId id;
  KIN_RETURN_IF_ERROR(Atomically([&]() -> absl::Status {
    id = t->ApplyInsert(&log_);
    return CheckParents(*t, {&id, 1});
  }));
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
    // After all rows, so that a row may name a later one of the same call.
    return CheckParents(*t, ids);
  }));
  // Row by row, an early large key may have made an index sparse that the
  // whole set of keys fits dense.
  t->DensifyIndexes(ids.size());
  std::vector<Row> out;
  out.reserve(ids.size());
  for (RowId id : ids) out.push_back(t->GetRow(id));
  return out;
}

absl::StatusOr<size_t> Engine::InsertBatch(absl::string_view table, RowBatch batch) {
  Table* t = MutableTable(table);
  if (t == nullptr) return errors::UnknownTable(table);
  if (!HasChildChecks(*t)) {
    absl::StatusOr<size_t> rows = t->InsertBatch(std::move(batch), Log());
    if (rows.ok()) KIN_RETURN_IF_ERROR(EndOfWrite());
    return rows;
  }
  size_t rows = 0;
  KIN_RETURN_IF_ERROR(Atomically([&]() -> absl::Status {
    const uint32_t first = static_cast<uint32_t>(t->slot_count());
    KIN_ASSIGN_OR_RETURN(rows, t->InsertBatch(std::move(batch), &log_));
    std::vector<RowId> ids(rows);
    for (size_t i = 0; i < rows; ++i) ids[i] = RowId(first + static_cast<uint32_t>(i));
    return CheckParents(*t, ids);
  }));
  return rows;
}

absl::StatusOr<Row> Engine::FindOrFail(absl::string_view table, const Value& key) const {
  KIN_ASSIGN_OR_RETURN(const Table* t, GetTable(table));
  return t->FindOrFail(key);
}

absl::StatusOr<bool> Engine::Update(const Row& row, const Attrs& attrs) {
  return UpdateWith(row, [&](Table& t) { return t.PrepareUpdate(row.id(), attrs); });
}

absl::StatusOr<bool> Engine::UpdateCells(const Row& row, std::span<const CellRef> cells) {
  KIN_RETURN_IF_ERROR(CheckRow(row));
  for (const CellRef& cell : cells) {
    if (cell.column.value >= row.table()->num_columns()) {
      return absl::InvalidArgumentError(
          absl::StrCat("table '", row.table()->name(), "': no column with id ", cell.column.value));
    }
  }
  return UpdateWith(row, [&](Table& t) { return t.PrepareUpdateCells(row.id(), cells); });
}

template <typename Prepare>
absl::StatusOr<bool> Engine::UpdateWith(const Row& row, const Prepare& prepare) {
  KIN_RETURN_IF_ERROR(CheckRow(row));
  Table* t = MutableTable(row.table()->name());
  bool is_parent = false;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    is_parent = is_parent || (fk.parent_table == t->name() && Enforced(fk));
  }
  if (!is_parent && !HasChildChecks(*t)) {
    KIN_RETURN_IF_ERROR(prepare(*t));
    const bool changed = t->ApplyUpdate(row.id(), Log());
    KIN_RETURN_IF_ERROR(EndOfWrite());
    return changed;
  }
  bool changed = false;
  KIN_RETURN_IF_ERROR(Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(prepare(*t));
    std::vector<std::pair<ColumnId, Value>> old_keys;
    for (const auto& [column, value] : t->changes_) {
      old_keys.emplace_back(column, t->GetValue(row.id(), column));
    }
    changed = t->ApplyUpdate(row.id(), &log_);
    if (HasChildChecks(*t)) {
      for (const ChildCheck& check : child_checks_.at(t)) {
        for (const auto& [column, old] : old_keys) {
          if (column == check.child_column) KIN_RETURN_IF_ERROR(CheckParent(*t, check, row.id()));
        }
      }
    }
    return is_parent ? ApplyUpdateActions(*t, row.id(), old_keys) : absl::OkStatus();
  }));
  return changed;
}

absl::Status Engine::ApplyUpdateActions(Table& table, RowId id,
                                        const std::vector<std::pair<ColumnId, Value>>& old_keys) {
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.parent_table != table.name() || !Enforced(fk)) continue;
    ColumnId parent_column = *table.FindColumn(fk.parent_column);
    for (const auto& [column, old] : old_keys) {
      if (column != parent_column || old.is_null()) continue;
      if (table.GetValue(id, parent_column) == old) continue;
      Table* child = MutableTable(fk.child_table);
      ColumnId child_column = *child->FindColumn(fk.child_column);
      std::span<const RowId> found = child->index(child_column)->Find(old);
      std::vector<RowId> kids(found.begin(), found.end());
      if (kids.empty()) continue;
      if (fk.on_update != OnUpdate::kCascade) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot change ", QualifiedName(table.name(), fk.parent_column), " from ",
                         errors::Quote(old), ": ", kids.size(), " row(s) of ",
                         QualifiedName(fk.child_table, fk.child_column),
                         " reference it (on update ", OnUpdateName(fk.on_update), ")"));
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
  KIN_RETURN_IF_ERROR(CheckRow(row));
  Table* t = MutableTable(row.table()->name());
  bool is_parent = false;
  for (const ForeignKeySpec& fk : foreign_keys_) {
    is_parent = is_parent || (fk.parent_table == t->name() && Enforced(fk));
  }
  if (!is_parent) {
    t->Delete(row.id(), Log());
    KIN_RETURN_IF_ERROR(EndOfWrite());
    return absl::OkStatus();
  }
  return Atomically([&] { return DeleteRow(*t, row.id()); });
}

absl::Status Engine::CollectChildren(Table& table, RowId id, std::vector<Pending>* out) {
  for (const ForeignKeySpec& fk : foreign_keys_) {
    if (fk.parent_table != table.name() || !Enforced(fk)) continue;
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
    if (fk.on_delete == OnDelete::kRestrict || fk.on_delete == OnDelete::kNoAction) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot delete from '", table.name(), "' the row with ", fk.parent_column,
                       " = ", errors::Quote(key), ": ", kids.size(), " row(s) of ",
                       QualifiedName(fk.child_table, fk.child_column), " reference it (on delete ",
                       OnDeleteName(fk.on_delete), ")"));
    }
    out->push_back({&fk, child, std::move(kids)});
  }
  return absl::OkStatus();
}

// Depth first, as a recursion would go, but on an explicit stack: a cascade
// down a long chain (a self-referencing tree, say) must not overflow the C++
// stack. The order of deletes, and so the free list, is the recursive one.
absl::Status Engine::DeleteRow(Table& root, RowId root_id) {
  struct Frame {
    std::vector<Pending> pending;
    size_t fk = 0;   // next entry of pending
    size_t kid = 0;  // next kid of pending[fk]
  };
  std::vector<Frame> stack;
  auto visit = [&](Table& table, RowId id) -> absl::Status {
    if (stack.size() >= kMaxCascadeDepth) {
      return absl::FailedPreconditionError(absl::StrCat("table '", table.name(),
                                                        "': cascade deeper than ", kMaxCascadeDepth,
                                                        " rows (kMaxCascadeDepth)"));
    }
    Frame frame;
    KIN_RETURN_IF_ERROR(CollectChildren(table, id, &frame.pending));
    table.Delete(id, &log_);
    stack.push_back(std::move(frame));
    return absl::OkStatus();
  };
  KIN_RETURN_IF_ERROR(visit(root, root_id));
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.fk == f.pending.size()) {
      stack.pop_back();
      continue;
    }
    Pending& p = f.pending[f.fk];
    if (f.kid == p.kids.size()) {
      ++f.fk;
      f.kid = 0;
      continue;
    }
    const RowId kid = p.kids[f.kid++];
    if (!p.child->IsLive(kid)) continue;  // deleted earlier in this cascade
    if (p.fk->on_delete == OnDelete::kCascade) {
      KIN_RETURN_IF_ERROR(visit(*p.child, kid));  // invalidates f and p
    } else {
      KIN_ASSIGN_OR_RETURN(bool ignored,
                           Update(p.child->GetRow(kid), {{p.fk->child_column, Value()}}));
      (void)ignored;
    }
  }
  return absl::OkStatus();
}

// --- transactions ---

absl::Status Engine::Begin() {
  marks_.push_back({log_.size(), next_serial_++, /*scoped=*/false});
  return absl::OkStatus();
}

uint64_t Engine::BeginScoped() {
  marks_.push_back({log_.size(), next_serial_++, /*scoped=*/true});
  return marks_.back().serial;
}

int Engine::FindMark(uint64_t serial) const {
  for (size_t i = marks_.size(); i-- > 0;) {
    if (marks_[i].serial == serial) return static_cast<int>(i);
  }
  return -1;
}

void Engine::RollbackTo(size_t i) {
  const size_t mark = marks_[i].log_size;
  marks_.resize(i);
  while (log_.size() > mark) {
    log_.back().table->Undo(log_.back(), log_.CellsOf(log_.back()));
    log_.pop_back();
  }
}

absl::Status Engine::Commit() {
  if (marks_.empty()) return absl::FailedPreconditionError("commit: no open transaction");
  if (marks_.back().scoped) {
    return absl::FailedPreconditionError(
        "commit: the innermost transaction was opened by a kin::Transaction or Atomically; "
        "close it there");
  }
  marks_.pop_back();
  if (marks_.empty()) {
    if ((listeners_.empty() && !gate_) || log_.empty()) {
      ClearLog();
    } else {
      return Publish();
    }
  }
  return absl::OkStatus();
}

void Engine::ClearLog() {
  // Keep a small log's buffer for the next transaction; give back a big one.
  log_.Clear(/*keep=*/65536);
}

// --- commit feed ---

uint64_t Engine::AddCommitListener(CommitListener listener) {
  const uint64_t id = next_listener_++;
  listeners_.emplace_back(id, std::make_shared<const CommitListener>(std::move(listener)));
  return id;
}

absl::Status Engine::RemoveCommitListener(uint64_t id) {
  if (delivering_) {
    return absl::FailedPreconditionError(
        "remove commit listener: not from inside a commit listener");
  }
  auto it = std::find_if(listeners_.begin(), listeners_.end(),
                         [&](const auto& entry) { return entry.first == id; });
  if (it == listeners_.end()) {
    return absl::NotFoundError(absl::StrCat("no commit listener with id ", id));
  }
  listeners_.erase(it);
  return absl::OkStatus();
}

void Engine::RecycleChanges(std::vector<RowChange>&& changes) {
  // Like the undo log's buffer: keep a tick's worth, give back a bulk
  // load's. Of two, keep the bigger (a listener's commit, published while
  // another is delivered, may be the smaller).
  if (changes.capacity() > 65536 || changes.capacity() <= spare_changes_.capacity()) return;
  spare_changes_ = std::move(changes);
}

absl::Status Engine::Publish() {
  kin::Commit commit;
  commit.sequence = commit_sequence_ + 1;
  // A commit published from inside a listener finds no spare vector (the
  // outer commit's is being delivered) and builds a new one.
  commit.changes = std::exchange(spare_changes_, {});
  feed_builder_.Build(log_, &commit.changes);
  if (gate_) {
    if (absl::Status durable = gate_(commit); !durable.ok()) {
      while (!log_.empty()) {
        log_.back().table->Undo(log_.back(), log_.CellsOf(log_.back()));
        log_.pop_back();
      }
      ClearLog();
      RecycleChanges(std::move(commit.changes));
      return durable;
    }
  }
  ++commit_sequence_;
  ClearLog();
  if (listeners_.empty()) {
    RecycleChanges(std::move(commit.changes));
    if (after_commit_) after_commit_();
    return absl::OkStatus();
  }
  undelivered_.push_back(std::move(commit));
  // A listener that writes publishes from inside this loop: its commit
  // waits in the queue until every listener has seen the current one.
  if (delivering_) return absl::OkStatus();
  delivering_ = true;
  while (!undelivered_.empty()) {
    const kin::Commit& next = undelivered_.front();
    // By index: a listener may add listeners (they see the next commit on;
    // the vector may grow, but the functions it points at do not move) and
    // may not remove any.
    const size_t n = listeners_.size();
    for (size_t i = 0; i < n; ++i) (*listeners_[i].second)(next);
    RecycleChanges(std::move(undelivered_.front().changes));
    undelivered_.pop_front();
  }
  delivering_ = false;
  if (after_commit_) after_commit_();
  return absl::OkStatus();
}

absl::Status Engine::Replay(std::span<const RowChange> changes) {
  if (!marks_.empty()) return absl::FailedPreconditionError("replay: a transaction is open");
  // No savepoint and no undo log: the changes were checksummed and valid
  // when committed, and a replay that diverges fails Open as a whole (the
  // half-replayed engine is dropped), so there is nothing to roll back.
  // Logging each change for undo was most of replay's cost.
  Table* t = nullptr;
  for (size_t i = 0; i < changes.size(); ++i) {
    const RowChange& change = changes[i];
    // Consecutive changes mostly name the same table: look a name up once.
    if (t == nullptr || t->name() != internal::ToAbsl(change.table)) {
      t = MutableTable(internal::ToAbsl(change.table));
    }
    std::string diverged;
    if (t == nullptr) {
      diverged = "no such table";
    } else {
      switch (change.kind) {
        case RowChange::kInsert:
          diverged = t->ReplayInsert(change.row, change.cells);
          break;
        case RowChange::kUpdate:
          diverged = t->ReplayUpdate(change.row, change.cells);
          break;
        case RowChange::kDelete:
          if (!t->IsLive(change.row)) {
            diverged = "no row there";
          } else {
            t->Delete(change.row, nullptr);
          }
          break;
      }
    }
    if (!diverged.empty()) {
      return absl::DataLossError(absl::StrCat("replay: change ", i, " (",
                                              change.kind == RowChange::kInsert   ? "insert into "
                                              : change.kind == RowChange::kUpdate ? "update of "
                                                                                  : "delete from ",
                                              "'", internal::ToAbsl(change.table), "' slot ",
                                              change.row.value, "): ", diverged));
    }
  }
  return absl::OkStatus();
}

absl::Status Engine::Rollback() {
  if (marks_.empty()) return absl::FailedPreconditionError("rollback: no open transaction");
  if (marks_.back().scoped) {
    return absl::FailedPreconditionError(
        "rollback: the innermost transaction was opened by a kin::Transaction or Atomically; "
        "close it there");
  }
  RollbackTo(marks_.size() - 1);
  return absl::OkStatus();
}

absl::Status Engine::CloseScoped(uint64_t serial, bool commit, absl::string_view what) {
  const int i = FindMark(serial);
  if (i < 0)
    return absl::FailedPreconditionError(absl::StrCat(what, ": transaction already closed"));
  const size_t inner = marks_.size() - 1 - static_cast<size_t>(i);
  if (inner > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", inner,
                     " transaction(s) opened inside this one are still open; "
                     "close them first"));
  }
  if (!commit) {
    RollbackTo(static_cast<size_t>(i));
    return absl::OkStatus();
  }
  marks_.back().scoped = false;  // Commit() below closes it as its own
  return Commit();
}

absl::Status Engine::Atomically(const std::function<absl::Status()>& body) {
  const uint64_t serial = BeginScoped();
  absl::Status status = body();
  const int i = FindMark(serial);
  if (i < 0) {
    // Unreachable: nothing but this function closes a scoped savepoint that
    // is not innermost. Report rather than guess what to restore.
    return absl::InternalError("atomically: the body closed the transaction it runs in");
  }
  const size_t left_open = marks_.size() - 1 - static_cast<size_t>(i);
  if (left_open > 0) {
    RollbackTo(static_cast<size_t>(i));
    if (!status.ok()) return status;
    return absl::FailedPreconditionError(
        absl::StrCat("atomically: the body left ", left_open,
                     " transaction(s) open; everything it did was rolled back"));
  }
  KIN_RETURN_IF_ERROR(CloseScoped(serial, status.ok(), "atomically"));
  return status;
}

// --- foreign keys ---

namespace {

// FailedPrecondition: "posts.user_id = 99 names no row of users.id (foreign
// key on delete cascade; row 4 of posts)"
absl::Status MissingParent(const Table& child, const ForeignKeySpec& fk, const Value& key,
                           RowId row) {
  return absl::FailedPreconditionError(
      absl::StrCat(QualifiedName(fk.child_table, fk.child_column), " = ", errors::Quote(key),
                   " names no row of ", QualifiedName(fk.parent_table, fk.parent_column),
                   " (enforced foreign key: on delete ", OnDeleteName(fk.on_delete), ", on update ",
                   OnUpdateName(fk.on_update), "; slot ", row.value, " of '", child.name(), "')"));
}

}  // namespace

void Engine::RebuildChildChecks() {
  child_checks_.clear();
  for (size_t i = 0; i < foreign_keys_.size(); ++i) {
    const ForeignKeySpec& fk = foreign_keys_[i];
    if (!Enforced(fk)) continue;
    const Table* child = FindTable(fk.child_table);
    const Table* parent = FindTable(fk.parent_table);
    child_checks_[child].push_back(
        {i, *child->FindColumn(fk.child_column), parent, *parent->FindColumn(fk.parent_column)});
  }
}

absl::Status Engine::CheckParent(const Table& table, const ChildCheck& check, RowId row) const {
  if (table.IsNull(row, check.child_column)) return absl::OkStatus();
  const HashIndex* parents = check.parent->index(check.parent_column);
  const bool found =
      table.column(check.child_column).type == Type::kInt64
          ? !parents->Find(table.Int64Column(check.child_column)[row.value]).empty()
          : !parents->Find(internal::ToAbsl(table.StringColumn(check.child_column)[row.value]))
                 .empty();
  if (found) return absl::OkStatus();
  return MissingParent(table, foreign_keys_[check.fk], table.GetValue(row, check.child_column),
                       row);
}

absl::Status Engine::CheckParents(const Table& table, std::span<const RowId> rows) const {
  auto it = child_checks_.find(&table);
  if (it == child_checks_.end()) return absl::OkStatus();
  for (const ChildCheck& check : it->second) {
    for (RowId row : rows) KIN_RETURN_IF_ERROR(CheckParent(table, check, row));
  }
  return absl::OkStatus();
}

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
        "foreign key ", QualifiedName(fk.child_table, fk.child_column), " is ", TypeName(cs.type),
        " but ", QualifiedName(fk.parent_table, fk.parent_column), " is ", TypeName(ps.type)));
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
    return absl::InvalidArgumentError(absl::StrCat(
        "on delete set null: ", QualifiedName(fk.child_table, fk.child_column), " is NOT NULL"));
  }
  for (const ForeignKeySpec& other : foreign_keys_) {
    if (other.child_table == fk.child_table && other.child_column == fk.child_column &&
        other.parent_table == fk.parent_table && other.parent_column == fk.parent_column) {
      return absl::AlreadyExistsError(
          absl::StrCat("foreign key ", QualifiedName(fk.child_table, fk.child_column), " -> ",
                       QualifiedName(fk.parent_table, fk.parent_column), " already exists"));
    }
  }
  if (Enforced(fk)) {
    // The rows already there must hold too, as later writes will.
    const HashIndex* parent_index = parent->index(parent_column);
    for (RowId id : child->LiveRowIds()) {
      Value key = child->GetValue(id, child_column);
      if (!key.is_null() && parent_index->Find(key).empty()) {
        return MissingParent(*child, fk, key, id);
      }
    }
  }
  BackupForSchemaChange(*child);
  child->EnsureIndex(child_column);
  foreign_keys_.push_back(fk);
  RebuildChildChecks();
  return absl::OkStatus();
}

absl::Status Engine::RemoveForeignKey(absl::string_view child_table,
                                      absl::string_view child_column) {
  KIN_RETURN_IF_ERROR(CheckNoTransaction("remove foreign key"));
  for (auto it = foreign_keys_.begin(); it != foreign_keys_.end(); ++it) {
    if (it->child_table == child_table && it->child_column == child_column) {
      foreign_keys_.erase(it);
      RebuildChildChecks();
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
  for (const auto& [key, value] : metadata_) {
    absl::StrAppend(&out, "metadata ", key, " = ", value, "\n");
  }
  for (const ForeignKeySpec& fk : foreign_keys_) {
    absl::StrAppend(&out, "foreign key ", QualifiedName(fk.child_table, fk.child_column), " -> ",
                    QualifiedName(fk.parent_table, fk.parent_column), " on delete ",
                    OnDeleteName(fk.on_delete), " on update ", OnUpdateName(fk.on_update), "\n");
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
  table->owner_ = id_;
  KIN_RETURN_IF_ERROR(table->Restore(std::move(image)));
  by_name_.emplace(std::move(name), table.get());
  tables_.push_back(std::move(table));
  return absl::OkStatus();
}

// --- Transaction ---

Transaction::Transaction(Engine& engine) : engine_(&engine), serial_(engine.BeginScoped()) {}

Transaction::~Transaction() {
  if (!open_) return;
  // Rolls back what is still open inside it too: an inner raw Begin, or a
  // Transaction that outlives it on the heap, is part of this one's work.
  const int i = engine_->FindMark(serial_);
  if (i >= 0) engine_->RollbackTo(static_cast<size_t>(i));
}

absl::Status Transaction::Commit() {
  if (!open_) return absl::FailedPreconditionError("transaction already finished");
  KIN_RETURN_IF_ERROR(engine_->CloseScoped(serial_, /*commit=*/true, "commit"));
  open_ = false;
  return absl::OkStatus();
}

absl::Status Transaction::Rollback() {
  if (!open_) return absl::FailedPreconditionError("transaction already finished");
  KIN_RETURN_IF_ERROR(engine_->CloseScoped(serial_, /*commit=*/false, "rollback"));
  open_ = false;
  return absl::OkStatus();
}

}  // namespace kin
