// RelationHandle for the relations that go through a second table:
// ManyToMany (reads and writes over its pivot rows) and HasManyThrough
// (reads over the intermediate rows). The related rows of a parent come
// from the same RelationHop the relation-aware queries use, so Get, Count
// and Has agree with Preload, WithCount and Has.

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/table.h"
#include "kin/related.h"
#include "kin/status_macros.h"
#include "query/internal/query_access.h"
#include "query/internal/relation_plan.h"
#include "relations/relation_catalog.h"

namespace kin {

bool RelationHandle::IsManyToMany() const {
  absl::StatusOr<const RelationSpec*> s = spec();
  return s.ok() && (*s)->kind == RelationKind::kManyToMany;
}

std::vector<RowId> RelationHandle::ThroughRows(const Resolved& r, const Value& key) const {
  std::vector<RowId> out;
  if (key.is_null()) return out;
  for (RowId id : r.child->index(r.foreign_key)->Find(key)) {
    if (InScope(r, id)) out.push_back(id);
  }
  return out;
}

absl::StatusOr<std::vector<RowId>> RelationHandle::ViaRows(const Resolved& r) const {
  KIN_ASSIGN_OR_RETURN(Row p, parent());
  KIN_ASSIGN_OR_RETURN(internal::RelationHop hop,
                       internal::RelationHop::Make(*r.parent_table, *r.spec, *r.related, r.child));
  std::span<const RowId> rows = hop.Related(p.id());
  return std::vector<RowId>(rows.begin(), rows.end());
}

kin::Query RelationHandle::ViaQuery(const Resolved& r,
                                    const std::function<void(kin::Query&)>* pivot_filter) const {
  auto failed = [&](absl::Status status) {
    kin::Query q = internal::QueryAccess::Make(*engine_, r.spec->related_table, catalog_);
    internal::QueryAccess::mutable_spec(q).error = std::move(status);
    return q;
  };
  absl::StatusOr<Value> key = SavedParentKey(r);
  if (!key.ok()) return failed(key.status());
  // The related keys the parent's through rows name, as an IN list on the
  // related table: the planner probes the related key's index per value.
  std::vector<RowId> through = ThroughRows(r, *key);
  if (pivot_filter != nullptr) {
    kin::Query pivots = internal::QueryAccess::Make(*engine_, r.child->name(), catalog_);
    pivots.Where(r.spec->foreign_key, *key);
    for (const auto& [column, value] : r.spec->scope) pivots.Where(column, value);
    pivots.Where([&](kin::Query& group) { (*pivot_filter)(group); });
    absl::StatusOr<ResultSet> passed = pivots.Get();
    if (!passed.ok()) {
      return failed(absl::Status(passed.status().code(),
                                 absl::StrCat("pivot filter of '", r.spec->QualifiedName(),
                                              "': ", passed.status().message())));
    }
    through.clear();
    for (const Row& row : *passed) through.push_back(row.id());
  }
  ConditionSpec in;
  in.kind = ConditionSpec::Kind::kIn;
  in.column = r.spec->related_key;
  absl::flat_hash_set<Value> seen;
  for (RowId id : through) {
    Value v = r.child->GetValue(id, r.through_key);
    if (!v.is_null() && seen.insert(v).second) in.values.push_back(std::move(v));
  }
  kin::Query q = internal::QueryAccess::Make(*engine_, r.spec->related_table, catalog_);
  internal::QueryAccess::mutable_spec(q).scope.push_back(std::move(in));
  q.ApplyRelation(*r.spec);
  return q;
}

kin::Query RelationHandle::QueryWherePivot(
    const std::function<void(kin::Query&)>& pivot_filter) const {
  absl::StatusOr<Resolved> r = Resolve(RelationKind::kManyToMany, "query where pivot");
  if (!r.ok()) {
    kin::Query failed = internal::QueryAccess::Make(*engine_, "", catalog_);
    internal::QueryAccess::mutable_spec(failed).error = r.status();
    return failed;
  }
  return ViaQuery(*r, &pivot_filter);
}

absl::StatusOr<std::vector<PivotRow>> RelationHandle::PivotRows(
    const std::function<void(kin::Query&)>* pivot_filter) const {
  KIN_ASSIGN_OR_RETURN(Resolved r, Resolve(RelationKind::kManyToMany, "get with pivot"));
  KIN_ASSIGN_OR_RETURN(Value key, SavedParentKey(r));
  std::vector<RowId> through = ThroughRows(r, key);
  if (pivot_filter != nullptr) {
    // The filter as the pivot query runs it; kept pivot rows by slot.
    kin::Query pivots = internal::QueryAccess::Make(*engine_, r.child->name(), catalog_);
    pivots.Where(r.spec->foreign_key, key);
    pivots.Where([&](kin::Query& group) { (*pivot_filter)(group); });
    KIN_ASSIGN_OR_RETURN(ResultSet passed, pivots.Get());
    absl::flat_hash_set<uint32_t> kept;
    for (const Row& row : passed) kept.insert(row.id().value);
    std::erase_if(through, [&](RowId id) { return !kept.contains(id.value); });
  }
  // on_query filters the related rows: the set its query keeps.
  std::optional<absl::flat_hash_set<uint32_t>> allowed;
  if (r.spec->on_query) {
    KIN_ASSIGN_OR_RETURN(ResultSet rows, ViaQuery(r, nullptr).Get());
    allowed.emplace();
    for (const Row& row : rows) allowed->insert(row.id().value);
  }
  const HashIndex& by_key = *r.related->index(r.related_key);
  std::vector<PivotRow> out;
  for (RowId id : through) {
    Value v = r.child->GetValue(id, r.through_key);
    if (v.is_null()) continue;
    for (RowId related : by_key.Find(v)) {
      if (allowed.has_value() && !allowed->contains(related.value)) continue;
      out.push_back({r.related->GetRow(related), r.child->GetRow(id)});
    }
  }
  return out;
}

absl::StatusOr<std::vector<PivotRow>> RelationHandle::GetWithPivot() const {
  return PivotRows(nullptr);
}

absl::StatusOr<std::vector<PivotRow>> RelationHandle::GetWithPivot(
    const std::function<void(kin::Query&)>& pivot_filter) const {
  return PivotRows(&pivot_filter);
}

// --- ManyToMany writes ---

std::optional<RowId> RelationHandle::LinkOf(const Resolved& r, const Value& key,
                                            const Value& related) const {
  for (RowId id : r.child->index(r.foreign_key)->Find(key)) {
    if (InScope(r, id) && r.child->GetValue(id, r.through_key) == related) return id;
  }
  return std::nullopt;
}

absl::StatusOr<Value> RelationHandle::RelatedKey(const Resolved& r, const Row& related) const {
  Value v = r.related->GetValue(related.id(), r.related_key);
  if (v.is_null()) {
    return absl::FailedPreconditionError(
        absl::StrCat("relation '", r.spec->QualifiedName(), "': the related row's ",
                     QualifiedName(r.related->name(), r.spec->related_key), " is NULL"));
  }
  return v;
}

Attrs RelationHandle::PivotAttrs(const Resolved& r, const Attrs& pivot) {
  Attrs out;
  for (const auto& kv : pivot) {
    if (kv.first != r.spec->foreign_key && kv.first != r.spec->through_key) out.push_back(kv);
  }
  return Stamp(r, std::move(out));
}

absl::StatusOr<Row> RelationHandle::InsertLink(const Resolved& r, const Value& key,
                                               const Value& related, const Attrs& pivot) {
  // PivotAttrs' row by column id: an Attach writes one per link, and cells
  // spare the copy of the attributes and the engine's lookups by name. The
  // keys and the scope's values replace any the caller gave for them.
  // Errors in the order Insert would give them: each attribute in turn
  // names an unknown column or one given before.
  absl::InlinedVector<CellRef, 8> cells;
  for (const auto& [name, value] : pivot) {
    if (name == r.spec->foreign_key || name == r.spec->through_key) continue;
    KIN_ASSIGN_OR_RETURN(ColumnId c, r.child->GetColumn(name));
    bool scoped = false;
    for (const auto& [column, scope_value] : r.scope) scoped = scoped || column == c;
    if (scoped) continue;
    for (const CellRef& given : cells) {
      if (given.column == c) return errors::DuplicateAttribute(r.child->name(), name);
    }
    cells.push_back(CellRef{c, &value});
  }
  for (const auto& [column, value] : r.scope) cells.push_back(CellRef{column, &value});
  cells.push_back(CellRef{r.foreign_key, &key});
  cells.push_back(CellRef{r.through_key, &related});
  return engine_->InsertCells(r.child->name(), cells);
}

absl::StatusOr<int64_t> RelationHandle::AttachLinks(const PivotValues& rows, absl::string_view op) {
  int64_t attached = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kManyToMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        for (const auto& [named, pivot] : rows) {
          KIN_ASSIGN_OR_RETURN(Row related, ResolveRow(r, *r.related, named));
          KIN_ASSIGN_OR_RETURN(Value rk, RelatedKey(r, related));
          if (LinkOf(r, key, rk).has_value()) {
            if (r.spec->on_duplicate == OnDuplicate::kIgnore) continue;
            return absl::AlreadyExistsError(absl::StrCat(
                "relation '", r.spec->QualifiedName(), "': the '", r.parent_table->name(),
                "' row with ", r.spec->local_key, " = ", errors::Quote(key),
                " is already linked to the '", r.related->name(), "' row with ",
                r.spec->related_key, " = ", errors::Quote(rk), " (on_duplicate = refuse)"));
          }
          KIN_RETURN_IF_ERROR(InsertLink(r, key, rk, pivot).status());
          ++attached;
        }
        return absl::OkStatus();
      }));
  return attached;
}

absl::StatusOr<int64_t> RelationHandle::Attach(const std::vector<RowOrKey>& rows,
                                               const Attrs& pivot) {
  PivotValues with;
  with.reserve(rows.size());
  for (const RowOrKey& row : rows) with.emplace_back(row, pivot);
  return AttachLinks(with, "attach");
}

absl::StatusOr<int64_t> RelationHandle::Attach(const PivotValues& rows) {
  return AttachLinks(rows, "attach");
}

absl::StatusOr<int64_t> RelationHandle::DetachLinks(const std::vector<RowOrKey>* rows,
                                                    absl::string_view op) {
  int64_t detached = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kManyToMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        std::vector<RowId> doomed;
        if (rows == nullptr) {
          doomed = ThroughRows(r, key);
        } else {
          for (const RowOrKey& named : *rows) {
            KIN_ASSIGN_OR_RETURN(Row related, ResolveRow(r, *r.related, named));
            KIN_ASSIGN_OR_RETURN(Value rk, RelatedKey(r, related));
            std::optional<RowId> link = LinkOf(r, key, rk);
            if (link.has_value()) doomed.push_back(*link);
          }
        }
        for (RowId id : doomed) {
          if (!r.child->IsLive(id)) continue;  // named twice
          KIN_RETURN_IF_ERROR(engine_->Delete(r.child->GetRow(id)));
          ++detached;
        }
        return absl::OkStatus();
      }));
  return detached;
}

absl::StatusOr<int64_t> RelationHandle::Detach(const std::vector<RowOrKey>& rows) {
  return DetachLinks(&rows, "detach");
}

absl::StatusOr<int64_t> RelationHandle::DetachAll() { return DetachLinks(nullptr, "detach all"); }

absl::StatusOr<SyncResult> RelationHandle::SyncLinks(const PivotValues& rows, bool detaching,
                                                     absl::string_view op) {
  SyncResult out;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kManyToMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        // The wanted related keys in input order; a row named twice takes
        // the later mention's values, as a later assignment would.
        std::vector<std::pair<Value, const Attrs*>> wanted;
        absl::flat_hash_map<Value, size_t> position;
        for (const auto& [named, pivot] : rows) {
          KIN_ASSIGN_OR_RETURN(Row related, ResolveRow(r, *r.related, named));
          KIN_ASSIGN_OR_RETURN(Value rk, RelatedKey(r, related));
          auto [it, fresh] = position.try_emplace(rk, wanted.size());
          if (fresh) {
            wanted.emplace_back(std::move(rk), &pivot);
          } else {
            wanted[it->second].second = &pivot;
          }
        }
        if (detaching) {
          for (RowId id : ThroughRows(r, key)) {
            if (position.contains(r.child->GetValue(id, r.through_key))) continue;
            KIN_RETURN_IF_ERROR(engine_->Delete(r.child->GetRow(id)));
            ++out.detached;
          }
        }
        for (const auto& [rk, pivot] : wanted) {
          std::optional<RowId> link = LinkOf(r, key, rk);
          if (!link.has_value()) {
            KIN_RETURN_IF_ERROR(InsertLink(r, key, rk, *pivot).status());
            ++out.attached;
            continue;
          }
          const Attrs values = PivotAttrs(r, *pivot);
          bool differs = false;
          for (const auto& [column, value] : values) {
            KIN_ASSIGN_OR_RETURN(ColumnId c, r.child->GetColumn(column));
            differs = differs || r.child->GetValue(*link, c) != value;
          }
          if (!differs) continue;
          KIN_RETURN_IF_ERROR(engine_->Update(r.child->GetRow(*link), values).status());
          ++out.updated;
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<SyncResult> RelationHandle::Sync(const std::vector<RowOrKey>& rows, bool detaching) {
  PivotValues with;
  with.reserve(rows.size());
  for (const RowOrKey& row : rows) with.emplace_back(row, Attrs{});
  return SyncLinks(with, detaching, "sync");
}

absl::StatusOr<SyncResult> RelationHandle::Sync(const PivotValues& rows, bool detaching) {
  return SyncLinks(rows, detaching, "sync");
}

absl::StatusOr<SyncResult> RelationHandle::Toggle(const std::vector<RowOrKey>& rows) {
  SyncResult out;
  KIN_RETURN_IF_ERROR(Write(RelationKind::kManyToMany, "toggle",
                            [&](const Resolved& r, const Value& key) -> absl::Status {
                              for (const RowOrKey& named : rows) {
                                KIN_ASSIGN_OR_RETURN(Row related, ResolveRow(r, *r.related, named));
                                KIN_ASSIGN_OR_RETURN(Value rk, RelatedKey(r, related));
                                std::optional<RowId> link = LinkOf(r, key, rk);
                                if (link.has_value()) {
                                  KIN_RETURN_IF_ERROR(engine_->Delete(r.child->GetRow(*link)));
                                  ++out.detached;
                                } else {
                                  KIN_RETURN_IF_ERROR(InsertLink(r, key, rk, {}).status());
                                  ++out.attached;
                                }
                              }
                              return absl::OkStatus();
                            }));
  return out;
}

absl::StatusOr<int64_t> RelationHandle::UpdatePivot(const RowOrKey& row, const Attrs& pivot) {
  int64_t updated = 0;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kManyToMany, "update pivot",
      [&](const Resolved& r, const Value& key) -> absl::Status {
        KIN_ASSIGN_OR_RETURN(Row related, ResolveRow(r, *r.related, row));
        KIN_ASSIGN_OR_RETURN(Value rk, RelatedKey(r, related));
        std::optional<RowId> link = LinkOf(r, key, rk);
        if (!link.has_value()) return absl::OkStatus();
        KIN_RETURN_IF_ERROR(engine_->Update(r.child->GetRow(*link), PivotAttrs(r, pivot)).status());
        updated = 1;
        return absl::OkStatus();
      }));
  return updated;
}

absl::StatusOr<std::vector<Row>> RelationHandle::CreateLinked(const std::vector<Attrs>& rows,
                                                              const Attrs& pivot,
                                                              absl::string_view op) {
  std::vector<Row> out;
  KIN_RETURN_IF_ERROR(Write(
      RelationKind::kManyToMany, op, [&](const Resolved& r, const Value& key) -> absl::Status {
        out.reserve(rows.size());
        for (size_t i = 0; i < rows.size(); ++i) {
          absl::StatusOr<Row> related = engine_->Insert(r.related->name(), rows[i]);
          absl::Status linked = related.status();
          if (linked.ok()) {
            absl::StatusOr<Value> rk = RelatedKey(r, *related);
            linked = rk.ok() ? InsertLink(r, key, *rk, pivot).status() : rk.status();
          }
          if (!linked.ok()) {
            if (rows.size() == 1) return linked;
            return absl::Status(linked.code(), absl::StrCat("row ", i, ": ", linked.message()));
          }
          out.push_back(*related);
        }
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<Row> RelationHandle::CreateWithPivot(const Attrs& attrs, const Attrs& pivot) {
  KIN_ASSIGN_OR_RETURN(std::vector<Row> rows,
                       CreateLinked(std::vector<Attrs>{attrs}, pivot, "create"));
  return rows.front();
}

}  // namespace kin
