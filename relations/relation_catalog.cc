#include "relations/relation_catalog.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"

namespace kin {

absl::string_view RelationKindName(RelationKind kind) {
  switch (kind) {
    case RelationKind::kHasMany:
      return "has many";
    case RelationKind::kBelongsTo:
      return "belongs to";
    case RelationKind::kHasOne:
      return "has one";
    case RelationKind::kManyToMany:
      return "many to many";
    case RelationKind::kHasManyThrough:
      return "has many through";
  }
  return "unknown";
}

absl::string_view OnDuplicateName(OnDuplicate action) {
  return action == OnDuplicate::kIgnore ? "ignore" : "refuse";
}

absl::string_view OnUnlinkName(OnUnlink action) {
  return action == OnUnlink::kNullify ? "nullify" : "delete";
}

std::string RelationSpec::QualifiedName() const { return absl::StrCat(table, ".", name); }

bool RelationSpec::DeclarationEquals(const RelationSpec& o) const {
  return kind == o.kind && name == o.name && table == o.table && related_table == o.related_table &&
         foreign_key == o.foreign_key && local_key == o.local_key && inverse == o.inverse &&
         on_delete == o.on_delete && on_update == o.on_update && on_unlink == o.on_unlink &&
         meta == o.meta && scope == o.scope && through_table == o.through_table &&
         through_key == o.through_key && related_key == o.related_key &&
         pivot_columns == o.pivot_columns && on_duplicate == o.on_duplicate;
}

std::string Singular(absl::string_view table) {
  std::string s(table);
  if (absl::EndsWith(s, "ies") && s.size() > 3) return s.substr(0, s.size() - 3) + "y";
  for (absl::string_view suffix : {"sses", "xes", "ches", "shes", "zes"}) {
    if (absl::EndsWith(s, suffix) && s.size() > suffix.size()) return s.substr(0, s.size() - 2);
  }
  if (absl::EndsWith(s, "s") && !absl::EndsWith(s, "ss") && s.size() > 1) {
    return s.substr(0, s.size() - 1);
  }
  return s;
}

namespace {

struct KeyPair {
  ColumnId child;
  ColumnId parent;
};

// Checks that both columns exist and have one indexable type. The parent's
// key is checked first, since a default foreign key is derived from it: a
// typo in a local key is reported as typed ("table 'users': no column named
// 'uid' (local key of users.posts)"), not as a derived 'user_uid'.
// `local_role` is "local key" (HasMany) or "owner key" (BelongsTo).
absl::StatusOr<KeyPair> CheckKeys(const Table& child, absl::string_view foreign_key,
                                  const Table& parent, absl::string_view local_key,
                                  absl::string_view relation, absl::string_view local_role) {
  std::optional<ColumnId> local = parent.FindColumn(local_key);
  if (!local.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("table '", parent.name(), "': no column named '",
                                                   local_key, "' (", local_role, " of ", relation,
                                                   ")"));
  }
  std::optional<ColumnId> foreign = child.FindColumn(foreign_key);
  if (!foreign.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat("table '", child.name(), "': no column named '",
                                                   foreign_key, "' (foreign key of ", relation,
                                                   ")"));
  }
  const ColumnId fk = *foreign;
  const ColumnId lk = *local;
  Type ft = child.column(fk).type;
  Type lt = parent.column(lk).type;
  if (ft != lt) {
    return absl::InvalidArgumentError(absl::StrCat(
        "foreign key ", QualifiedName(child.name(), foreign_key), " is ", TypeName(ft),
        " but local key ", QualifiedName(parent.name(), local_key), " is ", TypeName(lt)));
  }
  if (ft != Type::kInt64 && ft != Type::kString) {
    return absl::InvalidArgumentError(
        absl::StrCat("foreign key ", QualifiedName(child.name(), foreign_key),
                     ": keys must be int64 or string, not ", TypeName(ft)));
  }
  return KeyPair{fk, lk};
}

// Checks a declared scope against the child table and returns it with each
// value as the column stores it (an int64 given for a double column).
absl::StatusOr<RelationScope> CheckScope(const Table& child, absl::string_view relation,
                                         absl::string_view foreign_key, RelationScope scope) {
  for (size_t i = 0; i < scope.size(); ++i) {
    auto& [name, value] = scope[i];
    std::optional<ColumnId> col = child.FindColumn(name);
    if (!col.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table '", child.name(), "': no column named '", name, "' (scope of ", relation, ")"));
    }
    const ColumnSpec& spec = child.column(*col);
    if (name == foreign_key) {
      return absl::InvalidArgumentError(
          absl::StrCat("relation ", relation, ": the scope cannot name the foreign key ",
                       QualifiedName(child.name(), name), " (the parent sets it)"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (scope[j].first == name) {
        return absl::InvalidArgumentError(absl::StrCat("relation ", relation, ": the scope names ",
                                                       QualifiedName(child.name(), name),
                                                       " twice"));
      }
    }
    if (value.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat("relation ", relation, ": scope value of ",
                                                     QualifiedName(child.name(), name),
                                                     " is NULL (a scope value must be a value)"));
    }
    if (!ValueFitsType(value, spec.type)) {
      return errors::TypeMismatch(child.name(), name, spec.type, value);
    }
    if (spec.type == Type::kDouble && value.is_int64()) {
      value = Value(static_cast<double>(value.AsInt64()));
    }
  }
  return scope;
}

// The pivot rows whose `key` names no row of `target` by `target_key`: a
// link to nothing, which the engine's foreign key would refuse.
absl::Status CheckPivotRows(const Table& pivot, ColumnId key, const Table& target,
                            ColumnId target_key, absl::string_view relation) {
  const HashIndex* index = target.index(target_key);
  for (RowId id : pivot.LiveRowIds()) {
    Value v = pivot.GetValue(id, key);
    if (v.is_null() || (index != nullptr && !index->Find(v).empty())) continue;
    return absl::FailedPreconditionError(
        absl::StrCat("relation ", relation, ": pivot row ", pivot.name(), ".",
                     pivot.column(pivot.primary_key()).name, " = ",
                     errors::Quote(pivot.GetValue(id, pivot.primary_key())), " has ",
                     QualifiedName(pivot.name(), pivot.column(key).name), " = ", errors::Quote(v),
                     ", which names no '", target.name(), "' row"));
  }
  return absl::OkStatus();
}

absl::Status NameTaken(absl::string_view table, absl::string_view name) {
  return absl::AlreadyExistsError(
      absl::StrCat("table '", table, "': relation '", name, "' already exists"));
}

}  // namespace

absl::StatusOr<std::vector<RelationSpec>> RelationCatalog::ResolveHasMany(
    const Engine& engine, absl::string_view parent_name, absl::string_view child_name,
    HasManyOptions options) const {
  return ResolveParentSide(RelationKind::kHasMany, engine, parent_name, child_name,
                           std::move(options));
}

absl::StatusOr<std::vector<RelationSpec>> RelationCatalog::ResolveHasOne(
    const Engine& engine, absl::string_view parent_name, absl::string_view child_name,
    HasOneOptions options) const {
  return ResolveParentSide(RelationKind::kHasOne, engine, parent_name, child_name,
                           std::move(options));
}

absl::StatusOr<std::vector<RelationSpec>> RelationCatalog::ResolveParentSide(
    RelationKind kind, const Engine& engine, absl::string_view parent_name,
    absl::string_view child_name, HasManyOptions options) const {
  KIN_ASSIGN_OR_RETURN(const Table* parent, engine.GetTable(parent_name));
  KIN_ASSIGN_OR_RETURN(const Table* child, engine.GetTable(child_name));
  if (parent_name == child_name && (options.name.empty() || options.foreign_key.empty() ||
                                    (options.create_inverse && options.inverse.empty()))) {
    // The defaults would name both directions after the one table
    // (employees.employees over employee_id, inverse employee): a reader
    // cannot tell which side is the parent. Ask for the names instead.
    return absl::InvalidArgumentError(absl::StrCat(
        RelationKindName(kind), " ", parent_name, " -> ", child_name,
        ": a self-relation needs explicit names: HasManyOptions::name, ::foreign_key and "
        "::inverse (or create_inverse = false), e.g. {.name = \"reports\", .foreign_key = "
        "\"manager_id\", .inverse = \"manager\"}"));
  }
  RelationSpec spec;
  spec.kind = kind;
  spec.table = std::string(parent_name);
  spec.related_table = std::string(child_name);
  // A has-one reads one row: named in the singular, as Lucid's examples.
  const std::string default_name =
      kind == RelationKind::kHasOne ? Singular(child_name) : std::string(child_name);
  spec.name = options.name.empty() ? default_name : std::move(options.name);
  spec.local_key = options.local_key.empty() ? parent->column(parent->primary_key()).name
                                             : std::move(options.local_key);
  spec.foreign_key = options.foreign_key.empty()
                         ? absl::StrCat(Singular(parent_name), "_", spec.local_key)
                         : std::move(options.foreign_key);
  KIN_ASSIGN_OR_RETURN(KeyPair keys, CheckKeys(*child, spec.foreign_key, *parent, spec.local_key,
                                               spec.QualifiedName(), "local key"));
  if (Find(spec.table, spec.name) != nullptr) return NameTaken(spec.table, spec.name);
  KIN_ASSIGN_OR_RETURN(spec.scope, CheckScope(*child, spec.QualifiedName(), spec.foreign_key,
                                              std::move(options.scope)));
  if (!spec.scope.empty() &&
      (options.on_delete != OnDelete::kNoAction || options.on_update != OnUpdate::kNoAction)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "relation ", spec.QualifiedName(),
        ": a scoped relation cannot declare on_delete / on_update (the engine's foreign key "
        "would act on every row of ",
        QualifiedName(spec.related_table, spec.foreign_key),
        ", whatever its scope); delete the children through the relation instead"));
  }
  spec.on_delete = options.on_delete;
  spec.on_update = options.on_update;
  spec.on_unlink = options.on_unlink;
  spec.meta = std::move(options.meta);
  spec.on_query = std::move(options.on_query);
  bool actions = spec.on_delete != OnDelete::kNoAction || spec.on_update != OnUpdate::kNoAction;
  const ColumnSpec& local = parent->column(keys.parent);
  if (actions && !(local.primary_key || local.unique)) {
    return absl::InvalidArgumentError(
        absl::StrCat("relation ", spec.QualifiedName(),
                     ": referential actions need a primary key or unique "
                     "local key; ",
                     QualifiedName(spec.table, spec.local_key), " is neither"));
  }
  if (spec.on_delete == OnDelete::kSetNull && !child->column(keys.child).nullable) {
    return absl::InvalidArgumentError(
        absl::StrCat("relation ", spec.QualifiedName(), ": on delete set null, but ",
                     QualifiedName(spec.related_table, spec.foreign_key), " is NOT NULL"));
  }
  std::vector<RelationSpec> out;
  if (options.create_inverse) {
    RelationSpec inv;
    inv.kind = RelationKind::kBelongsTo;
    inv.name = options.inverse.empty() ? Singular(parent_name) : std::move(options.inverse);
    inv.table = spec.related_table;
    inv.related_table = spec.table;
    inv.foreign_key = spec.foreign_key;
    inv.local_key = spec.local_key;
    inv.scope = spec.scope;
    inv.inverse = spec.name;
    spec.inverse = inv.name;
    const RelationSpec* existing = Find(inv.table, inv.name);
    if (existing != nullptr) {
      // A second HasMany over the same key (say "drafts" beside "posts")
      // shares the inverse that is already there.
      bool same = existing->kind == RelationKind::kBelongsTo &&
                  existing->related_table == inv.related_table &&
                  existing->foreign_key == inv.foreign_key &&
                  existing->local_key == inv.local_key && existing->scope == inv.scope;
      if (!same) {
        return absl::AlreadyExistsError(
            absl::StrCat("table '", inv.table, "': relation '", inv.name,
                         "' already exists with other keys or scope; name the inverse with "
                         "HasManyOptions::inverse or set create_inverse = false"));
      }
      out.push_back(std::move(spec));
      return out;
    }
    if (inv.table == spec.table && inv.name == spec.name) {
      return NameTaken(inv.table, inv.name);
    }
    out.push_back(std::move(spec));
    out.push_back(std::move(inv));
    return out;
  }
  out.push_back(std::move(spec));
  return out;
}

absl::StatusOr<std::vector<RelationSpec>> RelationCatalog::ResolveManyToMany(
    const Engine& engine, absl::string_view parent_name, absl::string_view related_name,
    ManyToManyOptions options) const {
  KIN_ASSIGN_OR_RETURN(const Table* parent, engine.GetTable(parent_name));
  KIN_ASSIGN_OR_RETURN(const Table* related, engine.GetTable(related_name));
  const bool self = parent_name == related_name;
  if (self &&
      (options.name.empty() || options.foreign_key.empty() || options.related_foreign_key.empty() ||
       (options.create_inverse && options.inverse.empty()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "many to many ", parent_name, " <-> ", related_name,
        ": a self-relation needs explicit names: ManyToManyOptions::name, ::foreign_key, "
        "::related_foreign_key and ::inverse (or create_inverse = false)"));
  }
  RelationSpec spec;
  spec.kind = RelationKind::kManyToMany;
  spec.table = std::string(parent_name);
  spec.related_table = std::string(related_name);
  spec.name = options.name.empty() ? std::string(related_name) : std::move(options.name);
  if (options.pivot_table.empty()) {
    std::string a = Singular(parent_name), b = Singular(related_name);
    if (b < a) std::swap(a, b);
    options.pivot_table = absl::StrCat(a, "_", b);
  }
  spec.through_table = std::move(options.pivot_table);
  const Table* pivot = engine.FindTable(spec.through_table);
  if (pivot == nullptr) {
    return absl::NotFoundError(absl::StrCat("relation ", spec.QualifiedName(),
                                            ": no pivot table named '", spec.through_table,
                                            "' (create it with both key columns)"));
  }
  spec.local_key = options.local_key.empty() ? parent->column(parent->primary_key()).name
                                             : std::move(options.local_key);
  spec.related_key = options.related_key.empty() ? related->column(related->primary_key()).name
                                                 : std::move(options.related_key);
  spec.foreign_key = options.foreign_key.empty()
                         ? absl::StrCat(Singular(parent_name), "_", spec.local_key)
                         : std::move(options.foreign_key);
  spec.through_key = options.related_foreign_key.empty()
                         ? absl::StrCat(Singular(related_name), "_", spec.related_key)
                         : std::move(options.related_foreign_key);
  const std::string qualified = spec.QualifiedName();
  KIN_ASSIGN_OR_RETURN(KeyPair to_parent, CheckKeys(*pivot, spec.foreign_key, *parent,
                                                    spec.local_key, qualified, "local key"));
  KIN_ASSIGN_OR_RETURN(KeyPair to_related, CheckKeys(*pivot, spec.through_key, *related,
                                                     spec.related_key, qualified, "related key"));
  if (to_parent.child == to_related.child) {
    return absl::InvalidArgumentError(absl::StrCat(
        "relation ", qualified, ": the pivot's two keys are both ",
        QualifiedName(spec.through_table, spec.foreign_key), " (name related_foreign_key)"));
  }
  for (const auto& [table, column] :
       {std::pair(parent, to_parent.parent), std::pair(related, to_related.parent)}) {
    const ColumnSpec& key = table->column(column);
    if (!key.primary_key && !key.unique) {
      return absl::InvalidArgumentError(absl::StrCat(
          "relation ", qualified, ": ", QualifiedName(table->name(), key.name),
          " is neither primary nor unique (a pivot row must name one row on each side)"));
    }
  }
  if (Find(spec.table, spec.name) != nullptr) return NameTaken(spec.table, spec.name);
  for (size_t i = 0; i < options.pivot_columns.size(); ++i) {
    const std::string& column = options.pivot_columns[i];
    std::optional<ColumnId> c = pivot->FindColumn(column);
    if (!c.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("table '", spec.through_table,
                                                     "': no column named '", column,
                                                     "' (pivot column of ", qualified, ")"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (options.pivot_columns[j] == column) {
        return absl::InvalidArgumentError(
            absl::StrCat("relation ", qualified, ": pivot column '", column, "' named twice"));
      }
    }
  }
  spec.pivot_columns = std::move(options.pivot_columns);
  KIN_ASSIGN_OR_RETURN(spec.scope,
                       CheckScope(*pivot, qualified, spec.foreign_key, std::move(options.scope)));
  for (const auto& entry : spec.scope) {
    if (entry.first == spec.through_key) {
      return absl::InvalidArgumentError(
          absl::StrCat("relation ", qualified, ": the scope cannot name the pivot key ",
                       QualifiedName(spec.through_table, spec.through_key)));
    }
  }
  if (options.on_delete != OnDelete::kCascade && options.on_delete != OnDelete::kRestrict) {
    return absl::InvalidArgumentError(
        absl::StrCat("relation ", qualified,
                     ": on_delete must be kCascade (remove the pivot rows) or "
                     "kRestrict (refuse while linked), not ",
                     OnDeleteName(options.on_delete)));
  }
  KIN_RETURN_IF_ERROR(
      CheckPivotRows(*pivot, to_parent.child, *parent, to_parent.parent, qualified));
  KIN_RETURN_IF_ERROR(
      CheckPivotRows(*pivot, to_related.child, *related, to_related.parent, qualified));
  spec.on_delete = options.on_delete;
  spec.on_duplicate = options.on_duplicate;
  spec.meta = std::move(options.meta);
  spec.on_query = std::move(options.on_query);
  std::vector<RelationSpec> out;
  if (options.create_inverse) {
    RelationSpec inv = spec;
    inv.name = options.inverse.empty() ? std::string(parent_name) : std::move(options.inverse);
    inv.table = spec.related_table;
    inv.related_table = spec.table;
    std::swap(inv.foreign_key, inv.through_key);
    std::swap(inv.local_key, inv.related_key);
    inv.on_query = nullptr;  // spec's reads the related table, not this one
    inv.meta.clear();
    inv.inverse = spec.name;
    spec.inverse = inv.name;
    if (Find(inv.table, inv.name) != nullptr || (self && inv.name == spec.name)) {
      return NameTaken(inv.table, inv.name);
    }
    out.push_back(std::move(spec));
    out.push_back(std::move(inv));
    return out;
  }
  out.push_back(std::move(spec));
  return out;
}

absl::StatusOr<RelationSpec> RelationCatalog::ResolveHasManyThrough(
    const Engine& engine, absl::string_view parent_name, absl::string_view through_relation,
    absl::string_view related_relation, HasManyThroughOptions options) const {
  KIN_RETURN_IF_ERROR(engine.GetTable(parent_name).status());
  const RelationSpec* first = Find(parent_name, through_relation);
  if (first == nullptr) {
    return absl::NotFoundError(absl::StrCat("has many through: table '", parent_name,
                                            "': no relation named '", through_relation, "'"));
  }
  const RelationSpec* second = Find(first->related_table, related_relation);
  if (second == nullptr) {
    return absl::NotFoundError(absl::StrCat("has many through ", first->QualifiedName(),
                                            ": table '", first->related_table,
                                            "': no relation named '", related_relation, "'"));
  }
  for (const RelationSpec* hop : {first, second}) {
    if (!hop->parent_side() || !hop->scope.empty() || hop->on_query || hop->on_query_pending) {
      return absl::InvalidArgumentError(absl::StrCat(
          "has many through: ", hop->QualifiedName(), " is ", RelationKindName(hop->kind),
          hop->parent_side() ? " with a scope or on_query" : "",
          "; a has many through goes over two plain has many / has one relations"));
    }
  }
  RelationSpec spec;
  spec.kind = RelationKind::kHasManyThrough;
  spec.table = std::string(parent_name);
  spec.related_table = second->related_table;
  spec.through_table = first->related_table;
  spec.name = options.name.empty() ? second->name : std::move(options.name);
  spec.local_key = first->local_key;
  spec.foreign_key = first->foreign_key;
  spec.through_key = second->local_key;
  spec.related_key = second->foreign_key;
  if (Find(spec.table, spec.name) != nullptr) return NameTaken(spec.table, spec.name);
  spec.meta = std::move(options.meta);
  spec.on_query = std::move(options.on_query);
  return spec;
}

absl::StatusOr<RelationSpec> RelationCatalog::ResolveBelongsTo(const Engine& engine,
                                                               absl::string_view child_name,
                                                               absl::string_view parent_name,
                                                               BelongsToOptions options) const {
  KIN_ASSIGN_OR_RETURN(const Table* child, engine.GetTable(child_name));
  KIN_ASSIGN_OR_RETURN(const Table* parent, engine.GetTable(parent_name));
  if (child_name == parent_name && (options.name.empty() || options.foreign_key.empty())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "belongs to ", child_name, " -> ", parent_name,
        ": a self-relation needs explicit names: BelongsToOptions::name and ::foreign_key, "
        "e.g. {.name = \"manager\", .foreign_key = \"manager_id\"}"));
  }
  RelationSpec spec;
  spec.kind = RelationKind::kBelongsTo;
  spec.table = std::string(child_name);
  spec.related_table = std::string(parent_name);
  spec.name = options.name.empty() ? Singular(parent_name) : std::move(options.name);
  spec.local_key = options.owner_key.empty() ? parent->column(parent->primary_key()).name
                                             : std::move(options.owner_key);
  spec.foreign_key = options.foreign_key.empty()
                         ? absl::StrCat(Singular(parent_name), "_", spec.local_key)
                         : std::move(options.foreign_key);
  KIN_RETURN_IF_ERROR(CheckKeys(*child, spec.foreign_key, *parent, spec.local_key,
                                spec.QualifiedName(), "owner key")
                          .status());
  if (Find(spec.table, spec.name) != nullptr) return NameTaken(spec.table, spec.name);
  KIN_ASSIGN_OR_RETURN(spec.scope, CheckScope(*child, spec.QualifiedName(), spec.foreign_key,
                                              std::move(options.scope)));
  spec.meta = std::move(options.meta);
  spec.on_query = std::move(options.on_query);
  return spec;
}

absl::Status RelationCatalog::Add(RelationSpec spec) {
  if (Find(spec.table, spec.name) != nullptr) return NameTaken(spec.table, spec.name);
  spec.binding = {};  // bound to this catalog's engine by Bind, never copied in
  specs_.push_back(std::make_unique<RelationSpec>(std::move(spec)));
  return absl::OkStatus();
}

const RelationSpec* RelationCatalog::Find(absl::string_view table, absl::string_view name) const {
  for (const auto& s : specs_) {
    if (s->table == table && s->name == name) return s.get();
  }
  return nullptr;
}

absl::StatusOr<const RelationSpec*> RelationCatalog::Get(absl::string_view table,
                                                         absl::string_view name) const {
  const RelationSpec* s = Find(table, name);
  if (s == nullptr) {
    return absl::NotFoundError(absl::StrCat("table '", table, "': no relation named '", name, "'"));
  }
  return s;
}

std::vector<const RelationSpec*> RelationCatalog::ForTable(absl::string_view table) const {
  std::vector<const RelationSpec*> out;
  for (const auto& s : specs_) {
    if (s->table == table) out.push_back(s.get());
  }
  return out;
}

std::vector<const RelationSpec*> RelationCatalog::All() const {
  std::vector<const RelationSpec*> out;
  for (const auto& s : specs_) out.push_back(s.get());
  return out;
}

absl::Status RelationCatalog::SetOnQuery(absl::string_view table, absl::string_view name,
                                         QueryHook hook) {
  for (auto& s : specs_) {
    if (s->table == table && s->name == name) {
      s->on_query = std::move(hook);
      s->on_query_pending = false;
      return absl::OkStatus();
    }
  }
  return Get(table, name).status();
}

absl::Status CheckOnQueryAttached(const RelationSpec& spec) {
  if (!spec.on_query_pending) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "relation '", spec.QualifiedName(),
      "' was saved with an on_query callback, which a snapshot cannot hold: re-attach it with "
      "SetOnQuery(\"",
      spec.table, "\", \"", spec.name,
      "\", ...) (or clear it with nullptr) before using the relation"));
}

absl::StatusOr<RelationSpec::Binding> BindSpec(const Engine& engine, const RelationSpec& spec) {
  RelationSpec::Binding b;
  KIN_ASSIGN_OR_RETURN(b.child, engine.GetTable(spec.child_table()));
  KIN_ASSIGN_OR_RETURN(b.parent, engine.GetTable(spec.parent_table()));
  KIN_ASSIGN_OR_RETURN(b.foreign_key, b.child->GetColumn(spec.foreign_key));
  KIN_ASSIGN_OR_RETURN(b.local_key, b.parent->GetColumn(spec.local_key));
  const Type local_type = b.parent->column(b.local_key).type;
  const Type foreign_type = b.child->column(b.foreign_key).type;
  const bool indexed = b.child->index(b.foreign_key) != nullptr;
  if (local_type != foreign_type || !indexed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", spec.QualifiedName(), "': key columns are ", TypeName(local_type), " and ",
        TypeName(foreign_type), indexed ? "" : ", not indexed",
        " (the tables changed since the relation was declared)"));
  }
  b.epoch = engine.table_epoch();
  return b;
}

void RelationCatalog::Bind(const Engine& engine) {
  for (const std::unique_ptr<RelationSpec>& s : specs_) {
    absl::StatusOr<RelationSpec::Binding> b = BindSpec(engine, *s);
    s->binding = b.ok() ? *b : RelationSpec::Binding();
  }
}

void RelationCatalog::RemoveTable(absl::string_view table) {
  std::erase_if(specs_, [&](const std::unique_ptr<RelationSpec>& s) {
    return s->table == table || s->related_table == table || s->through_table == table;
  });
}

std::vector<const RelationSpec*> RelationCatalog::UsingColumn(absl::string_view table,
                                                              absl::string_view column) const {
  std::vector<const RelationSpec*> out;
  for (const auto& s : specs_) {
    bool uses = (s->child_table() == table && s->foreign_key == column) ||
                (s->parent_table() == table && s->local_key == column);
    if (s->child_table() == table) {
      for (const auto& [name, value] : s->scope) uses = uses || name == column;
    }
    if (s->via()) {
      // The second step: a pivot's or intermediate's key and pivot columns,
      // and the related table's key.
      if (s->through_table == table) {
        uses = uses || s->through_key == column;
        for (const std::string& p : s->pivot_columns) uses = uses || p == column;
      }
      uses = uses || (s->related_table == table && s->related_key == column);
    }
    if (uses) out.push_back(s.get());
  }
  return out;
}

std::vector<const RelationSpec*> RelationCatalog::QueryingTable(absl::string_view table) const {
  std::vector<const RelationSpec*> out;
  for (const auto& s : specs_) {
    if (s->related_table == table && (s->on_query || s->on_query_pending)) out.push_back(s.get());
  }
  return out;
}

void RelationCatalog::RenameColumn(absl::string_view table, absl::string_view from,
                                   absl::string_view to) {
  for (auto& s : specs_) {
    if (s->child_table() == table) {
      if (s->foreign_key == from) s->foreign_key = std::string(to);
      for (auto& [name, value] : s->scope) {
        if (name == from) name = std::string(to);
      }
    }
    if (s->parent_table() == table && s->local_key == from) s->local_key = std::string(to);
    if (s->via()) {
      if (s->through_table == table) {
        if (s->through_key == from) s->through_key = std::string(to);
        for (std::string& p : s->pivot_columns) {
          if (p == from) p = std::string(to);
        }
      }
      if (s->related_table == table && s->related_key == from) s->related_key = std::string(to);
    }
  }
}

void RelationCatalog::RenameTable(absl::string_view from, absl::string_view to) {
  for (auto& s : specs_) {
    if (s->table == from) s->table = std::string(to);
    if (s->related_table == from) s->related_table = std::string(to);
    if (s->through_table == from) s->through_table = std::string(to);
  }
}

RelationCatalog::Saved RelationCatalog::Copy() const {
  Saved out;
  for (const auto& s : specs_) out.emplace_back(s.get(), *s);
  return out;
}

void RelationCatalog::Restore(Saved saved) {
  std::vector<std::unique_ptr<RelationSpec>> restored;
  for (auto& [address, spec] : saved) {
    auto it = std::find_if(specs_.begin(), specs_.end(),
                           [&](const auto& s) { return s.get() == address; });
    spec.binding = {};
    if (it == specs_.end()) {
      restored.push_back(std::make_unique<RelationSpec>(std::move(spec)));
    } else {
      **it = std::move(spec);
      restored.push_back(std::move(*it));
    }
  }
  specs_ = std::move(restored);
}

}  // namespace kin
