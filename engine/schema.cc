#include "kin/schema.h"

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "engine/string_view.h"

namespace kin {

void ColumnOption::ApplyTo(ColumnSpec& spec) const {
  switch (kind_) {
    case Kind::kPrimaryKey:
      spec.primary_key = true;
      spec.nullable = false;
      spec.auto_increment = spec.type == Type::kInt64;
      break;
    case Kind::kManualPrimaryKey:
      spec.primary_key = true;
      spec.nullable = false;
      spec.auto_increment = false;
      break;
    case Kind::kUnique:
      spec.unique = true;
      break;
    case Kind::kIndexed:
      spec.indexed = true;
      break;
    case Kind::kOrdered:
      spec.ordered = true;
      break;
    case Kind::kNullable:
      spec.nullable = true;
      break;
    case Kind::kNotNull:
      spec.nullable = false;
      break;
    case Kind::kDefault:
      spec.default_value = value_;
      break;
  }
}

Schema& Schema::Add(std::string name, Type type, std::initializer_list<ColumnOption> opts) {
  ColumnSpec spec;
  spec.name = std::move(name);
  spec.type = type;
  for (const ColumnOption& o : opts) o.ApplyTo(spec);
  return Column(std::move(spec));
}

Schema& Schema::Column(std::string name, std::string_view type_name,
                       std::initializer_list<ColumnOption> opts) {
  std::optional<Type> type = ParseType(internal::ToAbsl(type_name));
  if (!type.has_value()) {
    if (error_.empty()) {
      error_ = absl::StrCat("column '", name, "': unknown type '", internal::ToAbsl(type_name),
                            "' (expected int64, double, bool or string)");
    }
    type = Type::kInt64;
  }
  return Add(std::move(name), *type, opts);
}

Schema& Schema::Column(ColumnSpec spec) {
  if (spec.primary_key) spec.nullable = false;
  ColumnId id(static_cast<uint32_t>(columns_.size()));
  by_name_.try_emplace(spec.name, id);  // duplicates reported by Validate()
  if (spec.primary_key) {
    bool first = true;  // Validate() reports a second primary key
    for (const ColumnSpec& c : columns_) first = first && !c.primary_key;
    if (first) primary_key_ = id;
  }
  columns_.push_back(std::move(spec));
  return *this;
}

std::optional<ColumnId> Schema::Find(absl::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

absl::Status Schema::Validate(absl::string_view table) const {
  if (!error_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("table '", table, "': ", error_));
  }
  if (columns_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("table '", table, "': schema has no columns"));
  }
  absl::flat_hash_map<absl::string_view, int> seen;
  int primary_keys = 0;
  for (const ColumnSpec& c : columns_) {
    if (c.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("table '", table, "': empty column name"));
    }
    if (c.name == "*") {
      // Count("*") and the aggregates read "*" as "every row": a column of
      // that name could be stored but never aggregated.
      return absl::InvalidArgumentError(
          absl::StrCat("table '", table, "': '*' is not a valid column name"));
    }
    if (++seen[c.name] > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("table '", table, "': duplicate column '", c.name, "'"));
    }
    if (c.primary_key) {
      ++primary_keys;
      if (c.type != Type::kInt64 && c.type != Type::kString) {
        return absl::InvalidArgumentError(
            absl::StrCat(QualifiedName(table, c.name),
                         ": primary key must be int64 or string, not ", TypeName(c.type)));
      }
    }
    // ColumnSpec is public, so the flag can arrive on any column; inserts
    // would write the int64 counter into it.
    if (c.auto_increment && !(c.primary_key && c.type == Type::kInt64)) {
      return absl::InvalidArgumentError(absl::StrCat(
          QualifiedName(table, c.name), ": only an int64 primary key can auto-increment"));
    }
    if ((c.unique || c.indexed) && c.type != Type::kInt64 && c.type != Type::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat(QualifiedName(table, c.name),
                       ": only int64 and string columns can be indexed, not ", TypeName(c.type)));
    }
    if (c.default_value.has_value()) {
      const Value& d = *c.default_value;
      if (d.is_null()) {
        if (!c.nullable) {
          return absl::InvalidArgumentError(
              absl::StrCat(QualifiedName(table, c.name), ": default NULL for a NOT NULL column"));
        }
      } else if (!ValueFitsType(d, c.type)) {
        return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, c.name),
                                                       ": default expected ", TypeName(c.type),
                                                       ", got ", d.TypedDebugString()));
      }
      if (c.primary_key || c.unique) {
        return absl::InvalidArgumentError(
            absl::StrCat(QualifiedName(table, c.name), ": a key column cannot have a default"));
      }
    }
  }
  if (primary_keys == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "table '", table, "': no primary key (mark one int64 or string column PrimaryKey())"));
  }
  if (primary_keys > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("table '", table, "': more than one primary key"));
  }
  for (size_t i = 0; i < composites_.size(); ++i) {
    const std::vector<ColumnId>& index = composites_[i];
    if (index.size() < 2 || index.size() > 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "table '", table, "': a composite index needs 2 or 3 columns, not ", index.size()));
    }
    for (size_t j = 0; j < index.size(); ++j) {
      if (index[j].value >= columns_.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "table '", table, "': composite index names column number ", index[j].value));
      }
      for (size_t k = 0; k < j; ++k) {
        if (index[k] == index[j]) {
          return absl::InvalidArgumentError(absl::StrCat("table '", table,
                                                         "': composite index repeats column '",
                                                         columns_[index[j].value].name, "'"));
        }
      }
    }
    for (size_t k = 0; k < i; ++k) {
      if (composites_[k] == index) {
        return absl::InvalidArgumentError(
            absl::StrCat("table '", table, "': composite index defined twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace kin
