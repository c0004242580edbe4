#include "kin/related.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/table.h"
#include "kin/status_macros.h"
#include "query/internal/query_access.h"
#include "relations/relation_catalog.h"

namespace kin {

namespace {

// `attrs` with every entry for `column` removed, then (column, value) added.
Attrs WithColumn(const Attrs& attrs, const std::string& column, const Value& value) {
  Attrs out;
  out.reserve(attrs.size() + 1);
  for (const auto& kv : attrs) {
    if (kv.first != column) out.push_back(kv);
  }
  out.emplace_back(column, value);
  return out;
}

Attrs Without(const Attrs& attrs, const std::string& column) {
  Attrs out;
  out.reserve(attrs.size());
  for (const auto& kv : attrs) {
    if (kv.first != column) out.push_back(kv);
  }
  return out;
}

// {...a, ...b}: b wins on a column given by both.
Attrs Merge(const Attrs& a, const Attrs& b) {
  Attrs out = a;
  for (const auto& [name, value] : b) {
    bool replaced = false;
    for (auto& kv : out) {
      if (kv.first == name) {
        kv.second = value;
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(name, value);
  }
  return out;
}

// The value as the column stores it (an int64 given for a double column
// compares as a double).
Value AsStored(Type type, const Value& v) {
  if (type == Type::kDouble && v.is_int64()) return Value(static_cast<double>(v.AsInt64()));
  return v;
}

}  // namespace

RelationHandle::RelationHandle(Engine* engine, const RelationCatalog* catalog, Row parent,
                               std::string relation)
    : engine_(engine), catalog_(catalog), parent_(parent), relation_(std::move(relation)) {}

RelationHandle::RelationHandle(Engine* engine, const RelationCatalog* catalog, NewRow parent,
                               std::string relation)
    : engine_(engine),
      catalog_(catalog),
      pending_(std::move(parent)),
      relation_(std::move(relation)) {}

absl::StatusOr<const RelationSpec*> RelationHandle::spec() const {
  if (pending_.has_value()) return catalog_->Get(pending_->table, relation_);
  KIN_RETURN_IF_ERROR(engine_->CheckRow(parent_));
  return catalog_->Get(parent_.table()->name(), relation_);
}

absl::StatusOr<Row> RelationHandle::parent() const {
  if (pending_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the '", pending_->table, "' parent is not saved yet"));
  }
  KIN_RETURN_IF_ERROR(engine_->CheckRow(parent_));
  return parent_;
}

absl::StatusOr<RelationHandle::Resolved> RelationHandle::Resolve(std::optional<RelationKind> want,
                                                                 absl::string_view op) const {
  KIN_ASSIGN_OR_RETURN(const RelationSpec* s, spec());
  KIN_RETURN_IF_ERROR(CheckOnQueryAttached(*s));
  // HasMany's operations serve a HasOne too (it is a HasMany read as one
  // row); those that link many rows refuse it with ManyOnly.
  const bool children = want.has_value() && *want == RelationKind::kHasMany;
  if (want.has_value() && s->kind != *want && !(children && s->kind == RelationKind::kHasOne)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", s->QualifiedName(), "' is ", RelationKindName(s->kind), "; ", op, " needs a ",
        children ? "has many or has one" : RelationKindName(*want), " relation"));
  }
  const RelationSpec::Binding* b = &s->binding;
  RelationSpec::Binding fresh;
  if (b->parent == nullptr || b->epoch != engine_->table_epoch()) {
    KIN_ASSIGN_OR_RETURN(fresh, BindSpec(*engine_, *s));
    b = &fresh;
  }
  Resolved r;
  r.spec = s;
  r.child = b->child;
  r.parent_table = b->parent;
  r.foreign_key = b->foreign_key;
  r.local_key = b->local_key;
  for (const auto& [column, value] : s->scope) {
    KIN_ASSIGN_OR_RETURN(ColumnId c, r.child->GetColumn(column));
    r.scope.emplace_back(c, value);
  }
  if (s->via()) {
    KIN_ASSIGN_OR_RETURN(r.related, engine_->GetTable(s->related_table));
    KIN_ASSIGN_OR_RETURN(r.through_key, r.child->GetColumn(s->through_key));
    KIN_ASSIGN_OR_RETURN(r.related_key, r.related->GetColumn(s->related_key));
  }
  return r;
}

absl::Status RelationHandle::ToMany(const Resolved& r, absl::string_view op) {
  if (r.spec->kind != RelationKind::kBelongsTo) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("relation '", r.spec->QualifiedName(), "' is belongs to; ", op,
                   " needs a has many, has one, many to many or has many through relation"));
}

absl::Status RelationHandle::ManyOnly(const Resolved& r, absl::string_view op) {
  if (r.spec->kind != RelationKind::kHasOne) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "relation '", r.spec->QualifiedName(), "' is has one; ", op,
      " needs a has many relation (a has one links one row: use Create, Save or Set)"));
}

absl::Status RelationHandle::CheckVacant(const Resolved& r, const Value& key,
                                         std::optional<RowId> linking) const {
  if (r.spec->kind != RelationKind::kHasOne) return absl::OkStatus();
  const HashIndex& index = *r.child->index(r.foreign_key);
  if (!index.unique()) return absl::OkStatus();  // a second child is allowed (see related.h)
  for (RowId id : index.Find(key)) {
    if (linking.has_value() && id == *linking) continue;
    return absl::AlreadyExistsError(absl::StrCat(
        "relation '", r.spec->QualifiedName(), "': the parent with ",
        QualifiedName(r.spec->parent_table(), r.spec->local_key), " = ", errors::Quote(key),
        " already has its one '", r.child->name(), "' row (",
        r.child->column(r.child->primary_key()).name, " = ",
        errors::Quote(r.child->GetValue(id, r.child->primary_key())), ") and ",
        QualifiedName(r.child->name(), r.spec->foreign_key), " is unique; use Set to replace it"));
  }
  return absl::OkStatus();
}

bool RelationHandle::InScope(const Resolved& r, RowId id) {
  for (const auto& [c, v] : r.scope) {
    if (r.child->GetValue(id, c) != v) return false;
  }
  return true;
}

Attrs RelationHandle::Stamp(const Resolved& r, Attrs attrs) {
  for (const auto& [column, value] : r.spec->scope) attrs = WithColumn(attrs, column, value);
  return attrs;
}

absl::StatusOr<Value> RelationHandle::SavedParentKey(const Resolved& r) const {
  KIN_ASSIGN_OR_RETURN(Row p, parent());
  return r.parent_table->GetValue(p.id(), r.local_key);
}

absl::StatusOr<Value> RelationHandle::ParentKey(const Resolved& r, Row* saved) {
  if (pending_.has_value()) {
    KIN_ASSIGN_OR_RETURN(*saved, engine_->Insert(pending_->table, pending_->attrs));
  } else {
    KIN_RETURN_IF_ERROR(engine_->CheckRow(parent_));
    *saved = parent_;
  }
  Value key = r.parent_table->GetValue(saved->id(), r.local_key);
  if (key.is_null()) {
    return absl::FailedPreconditionError(
        absl::StrCat("relation '", r.spec->QualifiedName(), "': the parent's ",
                     QualifiedName(r.spec->parent_table(), r.spec->local_key), " is NULL"));
  }
  return key;
}

absl::Status RelationHandle::Write(
    RelationKind want, absl::string_view op,
    const std::function<absl::Status(const Resolved&, const Value&)>& body) {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(want, op));
  Row saved;
  KIN_RETURN_IF_ERROR(engine_->Atomically([&]() -> absl::Status {
    KIN_ASSIGN_OR_RETURN(Value key, ParentKey(r, &saved));
    return body(r, key);
  }));
  if (pending_.has_value()) {
    parent_ = saved;
    pending_.reset();
  }
  return absl::OkStatus();
}

absl::StatusOr<Row> RelationHandle::ResolveChild(const Resolved& r, const RowOrKey& child) const {
  return ResolveRow(r, *r.child, child);
}

absl::StatusOr<Row> RelationHandle::ResolveRow(const Resolved& r, const Table& table,
                                               const RowOrKey& named) const {
  if (const Row* row = std::get_if<Row>(&named)) {
    KIN_RETURN_IF_ERROR(engine_->CheckRow(*row));
    if (row->table() != &table) {
      return absl::InvalidArgumentError(absl::StrCat("relation '", r.spec->QualifiedName(),
                                                     "': a row of '", row->table()->name(),
                                                     "' is not a '", table.name(), "' row"));
    }
    return *row;
  }
  return table.FindOrFail(std::get<Value>(named));
}

absl::Status RelationHandle::Unlink(const Resolved& r, const Row& child) {
  if (r.spec->on_unlink == OnUnlink::kDelete) return engine_->Delete(child);
  if (!r.child->column(r.foreign_key).nullable) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", r.spec->QualifiedName(), "': cannot unlink the '", r.child->name(),
        "' row with ", r.child->column(r.child->primary_key()).name, " = ",
        errors::Quote(r.child->GetValue(child.id(), r.child->primary_key())), ": ",
        QualifiedName(r.child->name(), r.spec->foreign_key),
        " is NOT NULL (declare the relation with on_unlink = OnUnlink::kDelete to delete "
        "unlinked children)"));
  }
  return engine_->Update(child, {{r.spec->foreign_key, Value()}}).status();
}

absl::StatusOr<Row> RelationHandle::InsertChild(const Resolved& r, const Value& key,
                                                const Attrs& attrs) {
  KIN_RETURN_IF_ERROR(CheckVacant(r, key, std::nullopt));
  return engine_->Insert(r.child->name(), Stamp(r, WithColumn(attrs, r.spec->foreign_key, key)));
}

absl::StatusOr<std::optional<Row>> RelationHandle::FirstMatch(const Resolved& r, const Value& key,
                                                              const Attrs& search) const {
  std::vector<std::pair<ColumnId, Value>> want;
  for (const auto& [name, value] : search) {
    KIN_ASSIGN_OR_RETURN(ColumnId c, r.child->GetColumn(name));
    if (c == r.foreign_key) continue;  // the parent decides the foreign key
    Type type = r.child->column(c).type;
    if (!value.is_null() && !ValueFitsType(value, type)) {
      return errors::TypeMismatch(r.child->name(), name, type, value);
    }
    want.emplace_back(c, AsStored(type, value));
  }
  for (RowId id : r.child->index(r.foreign_key)->Find(key)) {
    if (!InScope(r, id)) continue;  // another scope's row on the same key
    bool all = true;
    for (const auto& [c, v] : want) {
      if (r.child->GetValue(id, c) != v) {
        all = false;
        break;
      }
    }
    if (all) return std::optional<Row>(r.child->GetRow(id));
  }
  return std::optional<Row>();
}

// --- reads ---

kin::Query RelationHandle::Query() const {
  absl::StatusOr<Resolved> r = Resolve(std::nullopt, "query");
  if (!r.ok()) {
    kin::Query failed = internal::QueryAccess::Make(*engine_, "", catalog_);
    internal::QueryAccess::mutable_spec(failed).error = r.status();
    return failed;
  }
  const RelationSpec& s = *r->spec;
  if (s.via()) return ViaQuery(*r, nullptr);
  // HasMany reads children whose foreign key is the parent's local key;
  // BelongsTo reads the parent whose local key is this row's foreign key.
  bool has_many = s.parent_side();
  Value key;
  if (has_many) {
    absl::StatusOr<Value> k = SavedParentKey(*r);
    if (!k.ok()) {
      kin::Query failed = internal::QueryAccess::Make(*engine_, s.related_table, catalog_);
      internal::QueryAccess::mutable_spec(failed).error = k.status();
      return failed;
    }
    key = *std::move(k);
  } else if (absl::Status valid = engine_->CheckRow(parent_); !valid.ok()) {
    kin::Query failed = internal::QueryAccess::Make(*engine_, s.related_table, catalog_);
    internal::QueryAccess::mutable_spec(failed).error = valid;
    return failed;
  } else if (InScope(*r, parent_.id())) {
    key = r->child->GetValue(parent_.id(), r->foreign_key);
  }  // else outside a scoped BelongsTo's scope: no parent, as a NULL key
  kin::Query q = internal::QueryAccess::Make(*engine_, s.related_table, catalog_);
  // on_query's conditions go in the scope, and so does the relation's
  // constraint: both are ANDed outside whatever the caller records, so an
  // OrWhere can neither reach other parents' rows nor undo on_query. A NULL
  // key matches nothing (IN ()), as SQL's `= NULL`.
  ConditionSpec scope;
  scope.column = has_many ? s.foreign_key : s.local_key;
  if (key.is_null()) {
    scope.kind = ConditionSpec::Kind::kIn;
  } else {
    scope.kind = ConditionSpec::Kind::kCompare;
    scope.op = CompareOp::kEq;
    scope.values.push_back(std::move(key));
  }
  internal::QueryAccess::mutable_spec(q).scope.push_back(std::move(scope));
  // on_query's OrderBy / Limit / Offset stay the relation's window, which
  // Query's row-returning runs apply to this one parent's rows.
  q.ApplyRelation(s);
  return q;
}

absl::StatusOr<ResultSet> RelationHandle::Get() const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "get"));
  if (r.spec->on_query || !r.scope.empty()) return Query().Get();
  if (r.spec->via()) {
    KIN_ASSIGN_OR_RETURN(std::vector<RowId> rows, ViaRows(r));
    return ResultSet::Plain(*r.related, rows);
  }
  // Without on_query the answer is the index's list as it stands: skip
  // compiling a query (the hot path of lazy relation reads).
  if (r.spec->parent_side()) {
    const HashIndex& index = *r.child->index(r.foreign_key);
    // A has-one reads its first child (as Query's window of one row).
    const size_t cap = r.spec->kind == RelationKind::kHasOne ? 1 : SIZE_MAX;
    auto first = [cap](std::span<const RowId> rows) {
      return rows.subspan(0, std::min(rows.size(), cap));
    };
    if (index.key_type() == Type::kInt64 && !pending_.has_value()) {
      // The common int64 key, read unboxed (spec() checked the parent).
      if (r.parent_table->IsNull(parent_.id(), r.local_key)) {
        return ResultSet::Plain(*r.child, {});
      }
      const int64_t key = r.parent_table->Int64Column(r.local_key)[parent_.id().value];
      return ResultSet::Plain(*r.child, first(index.Find(key)));
    }
    KIN_ASSIGN_OR_RETURN(Value key, SavedParentKey(r));
    if (key.is_null()) return ResultSet::Plain(*r.child, {});
    return ResultSet::Plain(*r.child, first(index.Find(key)));
  }
  const HashIndex* by_key = r.parent_table->index(r.local_key);
  if (by_key == nullptr) return Query().Get();  // a local key without index: scan
  KIN_RETURN_IF_ERROR(engine_->CheckRow(parent_));
  Value key = r.child->GetValue(parent_.id(), r.foreign_key);
  if (key.is_null()) return ResultSet::Plain(*r.parent_table, {});
  std::span<const RowId> hit = by_key->Find(key);
  return ResultSet::Plain(*r.parent_table, hit.subspan(0, std::min<size_t>(hit.size(), 1)));
}

absl::StatusOr<Row> RelationHandle::Find(const Value& id) const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "find"));
  KIN_RETURN_IF_ERROR(ToMany(r, "find"));
  const Table& rows_of = r.spec->via() ? *r.related : *r.child;
  const ColumnSpec& pk = rows_of.column(rows_of.primary_key());
  if (id.is_null() || !ValueFitsType(id, pk.type)) {
    return errors::TypeMismatch(rows_of.name(), pk.name, pk.type, id);
  }
  // Membership, as Has and Count: on_query's window (its OrderBy / Limit /
  // Offset) does not hide a child from Find.
  kin::Query q = Query();
  internal::QueryAccess::mutable_spec(q).relation_order_by.clear();
  internal::QueryAccess::mutable_spec(q).relation_limit.reset();
  internal::QueryAccess::mutable_spec(q).relation_offset.reset();
  KIN_ASSIGN_OR_RETURN(ResultSet rows, q.Where(pk.name, id).Limit(1).Get());
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("relation '", r.spec->QualifiedName(), "': no '",
                                            rows_of.name(), "' row with ", pk.name, " = ",
                                            errors::Quote(id), " for this parent"));
  }
  return rows[0];
}

absl::StatusOr<int64_t> RelationHandle::Count() const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "count"));
  KIN_RETURN_IF_ERROR(ToMany(r, "count"));
  if (r.spec->via() && !r.spec->on_query) {
    KIN_ASSIGN_OR_RETURN(std::vector<RowId> rows, ViaRows(r));
    return static_cast<int64_t>(rows.size());
  }
  if (!r.spec->on_query && r.scope.empty()) {
    KIN_ASSIGN_OR_RETURN(Value key, SavedParentKey(r));
    if (key.is_null()) return 0;
    return static_cast<int64_t>(r.child->index(r.foreign_key)->Find(key).size());
  }
  return Query().Count();
}

absl::StatusOr<int64_t> RelationHandle::Count(
    const std::function<void(kin::Query&)>& filter) const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "count"));
  KIN_RETURN_IF_ERROR(ToMany(r, "count"));
  kin::Query q = Query();
  q.Where([&](kin::Query& group) { filter(group); });
  return q.Count();
}

absl::StatusOr<bool> RelationHandle::Has(const RowOrKey& child) const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "has"));
  KIN_RETURN_IF_ERROR(ToMany(r, "has"));
  if (r.spec->via()) {
    KIN_ASSIGN_OR_RETURN(Row row, ResolveRow(r, *r.related, child));
    KIN_ASSIGN_OR_RETURN(std::vector<RowId> rows, ViaRows(r));
    if (std::find(rows.begin(), rows.end(), row.id()) == rows.end()) return false;
    if (!r.spec->on_query) return true;
    const std::string& pk = r.related->column(r.related->primary_key()).name;
    KIN_ASSIGN_OR_RETURN(
        int64_t n,
        Query().Where(pk, r.related->GetValue(row.id(), r.related->primary_key())).Count());
    return n > 0;
  }
  KIN_ASSIGN_OR_RETURN(Value key, SavedParentKey(r));
  KIN_ASSIGN_OR_RETURN(Row row, ResolveChild(r, child));
  if (key.is_null() || r.child->GetValue(row.id(), r.foreign_key) != key) return false;
  if (!InScope(r, row.id())) return false;
  if (!r.spec->on_query) return true;
  const std::string& pk = r.child->column(r.child->primary_key()).name;
  KIN_ASSIGN_OR_RETURN(
      int64_t n, Query().Where(pk, r.child->GetValue(row.id(), r.child->primary_key())).Count());
  return n > 0;
}

absl::StatusOr<bool> RelationHandle::HasAll(const std::vector<RowOrKey>& children) const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "has all"));
  KIN_RETURN_IF_ERROR(ToMany(r, "has all"));
  KIN_RETURN_IF_ERROR(ManyOnly(r, "has all"));
  for (const RowOrKey& c : children) {
    KIN_ASSIGN_OR_RETURN(bool has, Has(c));
    if (!has) return false;
  }
  return true;
}

absl::StatusOr<std::span<const RowId>> RelationHandle::Children() const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(RelationKind::kHasMany, "children"));
  if (!r.scope.empty()) {
    // The index list holds every scope's rows on this key: handing it out
    // would show another owner's children.
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", r.spec->QualifiedName(),
        "' has a scope: Children() is the raw foreign-key list, use Get() or Query()"));
  }
  KIN_ASSIGN_OR_RETURN(Value key, SavedParentKey(r));
  if (key.is_null()) return std::span<const RowId>();
  return r.child->index(r.foreign_key)->Find(key);
}

// --- HasMany writes ---

absl::StatusOr<Row> RelationHandle::Create(const Attrs& attrs) {
  if (IsManyToMany()) return CreateWithPivot(attrs, {});
  Row out;
  KIN_RETURN_IF_ERROR(Write(RelationKind::kHasMany, "create",
                            [&](const Resolved& r, const Value& key) -> absl::Status {
                              KIN_ASSIGN_OR_RETURN(out, InsertChild(r, key, attrs));
                              return absl::OkStatus();
                            }));
  return out;
}

absl::StatusOr<std::vector<Row>> RelationHandle::CreateMany(const std::vector<Attrs>& rows) {
  if (IsManyToMany()) return CreateLinked(rows, {}, "create many");
  std::vector<Row> out;
  KIN_RETURN_IF_ERROR(Write(RelationKind::kHasMany, "create many",
                            [&](const Resolved& r, const Value& key) -> absl::Status {
                              KIN_RETURN_IF_ERROR(ManyOnly(r, "create many"));
                              out.reserve(rows.size());
                              for (size_t i = 0; i < rows.size(); ++i) {
                                absl::StatusOr<Row> row = InsertChild(r, key, rows[i]);
                                if (!row.ok()) {
                                  return absl::Status(
                                      row.status().code(),
                                      absl::StrCat("row ", i, ": ", row.status().message()));
                                }
                                out.push_back(*row);
                              }
                              return absl::OkStatus();
                            }));
  return out;
}

absl::StatusOr<Row> RelationHandle::Save(const Record& record) {
  KIN_ASSIGN_OR_RETURN(std::vector<Row> rows, SaveRecords(std::vector<Record>{record}, "save"));
  return rows.front();
}

absl::StatusOr<std::vector<Row>> RelationHandle::SaveMany(const std::vector<Record>& records) {
  return SaveRecords(records, "save many");
}

absl::StatusOr<std::vector<Row>> RelationHandle::SaveRecords(const std::vector<Record>& records,
                                                             absl::string_view op) {
  std::vector<Row> out;
  KIN_RETURN_IF_ERROR(
      Write(RelationKind::kHasMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        if (records.size() != 1) KIN_RETURN_IF_ERROR(ManyOnly(r, op));
        out.reserve(records.size());
        for (const Record& record : records) {
          if (const Attrs* attrs = std::get_if<Attrs>(&record)) {
            KIN_ASSIGN_OR_RETURN(Row row, InsertChild(r, key, *attrs));
            out.push_back(row);
            continue;
          }
          KIN_ASSIGN_OR_RETURN(Row row, ResolveChild(r, std::get<Row>(record)));
          KIN_RETURN_IF_ERROR(CheckVacant(r, key, row.id()));
          KIN_RETURN_IF_ERROR(
              engine_->Update(row, Stamp(r, {{r.spec->foreign_key, key}})).status());
          out.push_back(row);
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<Row> RelationHandle::FirstOrCreate(const Attrs& search, const Attrs& save) {
  Row out;
  KIN_RETURN_IF_ERROR(Write(RelationKind::kHasMany, "first or create",
                            [&](const Resolved& r, const Value& key) -> absl::Status {
                              KIN_ASSIGN_OR_RETURN(std::optional<Row> hit,
                                                   FirstMatch(r, key, search));
                              if (hit.has_value()) {
                                out = *hit;
                                return absl::OkStatus();
                              }
                              KIN_ASSIGN_OR_RETURN(out, InsertChild(r, key, Merge(search, save)));
                              return absl::OkStatus();
                            }));
  return out;
}

absl::StatusOr<Row> RelationHandle::UpdateOrCreate(const Attrs& search, const Attrs& update) {
  Row out;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kHasMany, "update or create",
      [&](const Resolved& r, const Value& key) -> absl::Status {
        KIN_ASSIGN_OR_RETURN(std::optional<Row> hit, FirstMatch(r, key, search));
        if (hit.has_value()) {
          out = *hit;
          return engine_->Update(out, Stamp(r, Without(update, r.spec->foreign_key))).status();
        }
        KIN_ASSIGN_OR_RETURN(out, InsertChild(r, key, Merge(search, update)));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<Row>> RelationHandle::SyncMany(const std::vector<std::string>& keys,
                                                          const std::vector<Attrs>& rows,
                                                          bool update, absl::string_view op) {
  std::vector<Row> out;
  KIN_RETURN_IF_ERROR(
      Write(RelationKind::kHasMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        KIN_RETURN_IF_ERROR(ManyOnly(r, op));
        // Lucid combines an absent predicate with the foreign key alone,
        // so every row of the batch "matches" the parent's first child.
        // kin refuses instead: a batch sync needs a key per row.
        bool named = !keys.empty();
        for (const std::string& k : keys) named = named && !k.empty();
        if (!named) {
          return absl::InvalidArgumentError(absl::StrCat(
              "relation '", r.spec->QualifiedName(), "': ", op,
              " needs at least one key column to match rows on (kin does not match on the "
              "foreign key alone)"));
        }
        std::vector<ColumnId> key_columns;
        for (const std::string& k : keys) {
          KIN_ASSIGN_OR_RETURN(ColumnId c, r.child->GetColumn(k));
          key_columns.push_back(c);
        }
        // The parent's children by key tuple: one pass, then O(1) per row.
        absl::flat_hash_map<std::vector<Value>, RowId> existing;
        auto tuple_of = [&](RowId id) {
          std::vector<Value> t;
          for (ColumnId c : key_columns) t.push_back(r.child->GetValue(id, c));
          return t;
        };
        for (RowId id : r.child->index(r.foreign_key)->Find(key)) {
          if (InScope(r, id)) existing.emplace(tuple_of(id), id);
        }
        out.reserve(rows.size());
        for (size_t i = 0; i < rows.size(); ++i) {
          std::vector<Value> tuple;
          for (size_t k = 0; k < keys.size(); ++k) {
            const Value* given = nullptr;
            for (const auto& [name, value] : rows[i]) {
              if (name == keys[k]) given = &value;
            }
            if (given == nullptr) {
              return absl::InvalidArgumentError(
                  absl::StrCat(op, ": row ", i, " has no value for key '", keys[k], "'"));
            }
            Type type = r.child->column(key_columns[k]).type;
            if (!given->is_null() && !ValueFitsType(*given, type)) {
              return errors::TypeMismatch(r.child->name(), keys[k], type, *given);
            }
            tuple.push_back(AsStored(type, *given));
          }
          auto it = existing.find(tuple);
          if (it != existing.end()) {
            Row row = r.child->GetRow(it->second);
            if (update) {
              KIN_RETURN_IF_ERROR(
                  engine_->Update(row, Stamp(r, Without(rows[i], r.spec->foreign_key))).status());
            }
            out.push_back(row);
            continue;
          }
          absl::StatusOr<Row> row = InsertChild(r, key, rows[i]);
          if (!row.ok()) {
            return absl::Status(row.status().code(),
                                absl::StrCat("row ", i, ": ", row.status().message()));
          }
          existing.emplace(std::move(tuple), row->id());
          out.push_back(*row);
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<Row>> RelationHandle::FetchOrCreateMany(std::string_view key,
                                                                   const std::vector<Attrs>& rows) {
  std::string k(key);
  return SyncMany(std::vector<std::string>{k}, rows, false, "fetch or create many");
}
absl::StatusOr<std::vector<Row>> RelationHandle::FetchOrCreateMany(
    const std::vector<std::string>& keys, const std::vector<Attrs>& rows) {
  return SyncMany(keys, rows, false, "fetch or create many");
}
absl::StatusOr<std::vector<Row>> RelationHandle::UpdateOrCreateMany(
    std::string_view key, const std::vector<Attrs>& rows) {
  std::string k(key);
  return SyncMany(std::vector<std::string>{k}, rows, true, "update or create many");
}
absl::StatusOr<std::vector<Row>> RelationHandle::UpdateOrCreateMany(
    const std::vector<std::string>& keys, const std::vector<Attrs>& rows) {
  return SyncMany(keys, rows, true, "update or create many");
}

absl::StatusOr<int64_t> RelationHandle::Set(const std::vector<RowOrKey>& children) {
  if (IsManyToMany()) {
    PivotValues rows;
    for (const RowOrKey& c : children) rows.emplace_back(c, Attrs{});
    KIN_ASSIGN_OR_RETURN(SyncResult done, SyncLinks(rows, /*detaching=*/true, "set"));
    return done.attached + done.detached;
  }
  int64_t changed = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kHasMany, "set", [&](const Resolved& r, const Value& key) -> absl::Status {
        if (r.spec->kind == RelationKind::kHasOne && children.size() > 1) {
          return absl::InvalidArgumentError(
              absl::StrCat("relation '", r.spec->QualifiedName(),
                           "' is has one: set takes at most one row, got ", children.size()));
        }
        std::vector<Row> targets;
        absl::flat_hash_set<uint32_t> wanted;
        for (const RowOrKey& c : children) {
          KIN_ASSIGN_OR_RETURN(Row row, ResolveChild(r, c));
          if (wanted.insert(row.id().value).second) targets.push_back(row);
        }
        std::span<const RowId> now = r.child->index(r.foreign_key)->Find(key);
        std::vector<RowId> current(now.begin(), now.end());
        for (RowId id : current) {
          if (wanted.contains(id.value) || !r.child->IsLive(id)) continue;
          if (!InScope(r, id)) continue;  // another scope's row on the same key
          KIN_RETURN_IF_ERROR(Unlink(r, r.child->GetRow(id)));
          ++changed;
        }
        for (const Row& row : targets) {
          KIN_RETURN_IF_ERROR(row.CheckValid());  // an unlink may have cascaded to it
          if (r.child->GetValue(row.id(), r.foreign_key) == key && InScope(r, row.id())) continue;
          KIN_RETURN_IF_ERROR(
              engine_->Update(row, Stamp(r, {{r.spec->foreign_key, key}})).status());
          ++changed;
        }
        return absl::OkStatus();
      }));
  return changed;
}

absl::StatusOr<int64_t> RelationHandle::Add(const RowOrKey& child) {
  return AddMany(std::vector<RowOrKey>{child});
}

absl::StatusOr<int64_t> RelationHandle::AddMany(const std::vector<RowOrKey>& children) {
  if (IsManyToMany()) return Attach(children);
  int64_t changed = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kHasMany, "add", [&](const Resolved& r, const Value& key) -> absl::Status {
        KIN_RETURN_IF_ERROR(ManyOnly(r, "add"));
        for (const RowOrKey& c : children) {
          KIN_ASSIGN_OR_RETURN(Row row, ResolveChild(r, c));
          if (r.child->GetValue(row.id(), r.foreign_key) == key && InScope(r, row.id())) continue;
          KIN_RETURN_IF_ERROR(
              engine_->Update(row, Stamp(r, {{r.spec->foreign_key, key}})).status());
          ++changed;
        }
        return absl::OkStatus();
      }));
  return changed;
}

absl::StatusOr<int64_t> RelationHandle::Remove(const RowOrKey& child) {
  return RemoveMany(std::vector<RowOrKey>{child});
}

absl::StatusOr<int64_t> RelationHandle::RemoveMany(const std::vector<RowOrKey>& children) {
  if (IsManyToMany()) return DetachLinks(&children, "remove");
  int64_t changed = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kHasMany, "remove", [&](const Resolved& r, const Value& key) -> absl::Status {
        for (const RowOrKey& c : children) {
          KIN_ASSIGN_OR_RETURN(Row row, ResolveChild(r, c));
          if (r.child->GetValue(row.id(), r.foreign_key) != key || !InScope(r, row.id())) {
            continue;  // not ours
          }
          KIN_RETURN_IF_ERROR(Unlink(r, row));
          ++changed;
        }
        return absl::OkStatus();
      }));
  return changed;
}

absl::StatusOr<int64_t> RelationHandle::Update(const Attrs& attrs) {
  int64_t changed = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kHasMany, "update", [&](const Resolved& r, const Value& key) -> absl::Status {
        std::span<const RowId> now = r.child->index(r.foreign_key)->Find(key);
        std::vector<RowId> ids(now.begin(), now.end());
        const Attrs stamped = Stamp(r, attrs);
        for (RowId id : ids) {
          if (!r.child->IsLive(id) || !InScope(r, id)) continue;
          KIN_RETURN_IF_ERROR(engine_->Update(r.child->GetRow(id), stamped).status());
          ++changed;
        }
        return absl::OkStatus();
      }));
  return changed;
}

absl::StatusOr<int64_t> RelationHandle::Delete() {
  int64_t changed = 0;
  KIN_RETURN_IF_ERROR(Write(RelationKind::kHasMany, "delete",
                            [&](const Resolved& r, const Value& key) -> absl::Status {
                              std::span<const RowId> now = r.child->index(r.foreign_key)->Find(key);
                              std::vector<RowId> ids(now.begin(), now.end());
                              for (RowId id : ids) {
                                if (!r.child->IsLive(id)) continue;  // removed by a cascade
                                if (!InScope(r, id))
                                  continue;  // another scope's row on the same key
                                KIN_RETURN_IF_ERROR(engine_->Delete(r.child->GetRow(id)));
                                ++changed;
                              }
                              return absl::OkStatus();
                            }));
  return changed;
}

// --- BelongsTo ---

absl::StatusOr<std::optional<Row>> RelationHandle::Parent() const {
  KIN_RETURN_IF_ERROR(Resolve(RelationKind::kBelongsTo, "parent").status());
  KIN_ASSIGN_OR_RETURN(ResultSet rows, Query().Limit(1).Get());
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(rows[0]);
}

absl::StatusOr<std::optional<Row>> RelationHandle::One() const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(std::nullopt, "one"));
  if (r.spec->kind == RelationKind::kHasMany) {
    return absl::FailedPreconditionError(
        absl::StrCat("relation '", r.spec->QualifiedName(),
                     "' is has many; one needs a has one or belongs to relation (use Get)"));
  }
  KIN_ASSIGN_OR_RETURN(ResultSet rows, Get());
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(rows[0]);
}

absl::Status RelationHandle::Associate(const Row& parent) {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(RelationKind::kBelongsTo, "associate"));
  KIN_ASSIGN_OR_RETURN(Row child, this->parent());
  KIN_RETURN_IF_ERROR(engine_->CheckRow(parent));
  if (parent.table() != r.parent_table) {
    return absl::InvalidArgumentError(
        absl::StrCat("relation '", r.spec->QualifiedName(), "': a row of '", parent.table()->name(),
                     "' is not a '", r.parent_table->name(), "' row"));
  }
  Value key = r.parent_table->GetValue(parent.id(), r.local_key);
  if (key.is_null()) {
    return absl::FailedPreconditionError(
        absl::StrCat("relation '", r.spec->QualifiedName(), "': the parent's ",
                     QualifiedName(r.parent_table->name(), r.spec->local_key), " is NULL"));
  }
  return engine_->Update(child, Stamp(r, {{r.spec->foreign_key, key}})).status();
}

absl::Status RelationHandle::Dissociate() {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(RelationKind::kBelongsTo, "dissociate"));
  KIN_ASSIGN_OR_RETURN(Row child, this->parent());
  // Outside the scope the row has no parent through this relation: there
  // is nothing to dissociate (and its key belongs to another relation).
  if (!InScope(r, child.id())) return absl::OkStatus();
  if (!r.child->column(r.foreign_key).nullable) {
    return absl::FailedPreconditionError(
        absl::StrCat("relation '", r.spec->QualifiedName(), "': cannot dissociate, ",
                     QualifiedName(r.child->name(), r.spec->foreign_key), " is NOT NULL"));
  }
  return engine_->Update(child, {{r.spec->foreign_key, Value()}}).status();
}

}  // namespace kin
