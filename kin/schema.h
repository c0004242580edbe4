// Schema: the column list of a table, built fluently.
//
//   kin::Schema()
//       .Int64("id", kin::PrimaryKey())
//       .String("email", kin::Unique())
//       .Int64("user_id", kin::NotNull(), kin::Indexed())
//       .Bool("is_published", kin::Default(false));
//
// Columns are nullable unless NotNull() (as in SQL); the primary key is never
// NULL. Builder calls never fail: mistakes (duplicate names, a missing or
// second primary key, an unknown type name, a default of the wrong type, an
// empty name or "*", which aggregates read as "every row") are reported by
// Validate(), which Engine::CreateTable calls.

#ifndef KIN_SCHEMA_H_
#define KIN_SCHEMA_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kin/ids.h"
#include "kin/value.h"

namespace kin {

// A plain description of one column.
struct ColumnSpec {
  std::string name;
  Type type = Type::kInt64;
  bool nullable = true;
  bool primary_key = false;
  // int64 primary keys only: a missing (or NULL) id is assigned one more
  // than the largest id the table has held, so deleted ids are not reused.
  bool auto_increment = false;
  bool unique = false;
  // A secondary hash index (key → rows in insertion order). Relations add
  // one on their foreign key automatically.
  bool indexed = false;
  // An ordered index (OrderedIndex: key order, NULLs first) for range
  // conditions, ORDER BY ... LIMIT walks and Min/Max. Any column type.
  bool ordered = false;
  // Used when an insert omits the column. nullopt: NULL if nullable, else
  // the insert fails.
  std::optional<Value> default_value;

  friend bool operator==(const ColumnSpec& a, const ColumnSpec& b) {
    return a.name == b.name && a.type == b.type && a.nullable == b.nullable &&
           a.primary_key == b.primary_key && a.auto_increment == b.auto_increment &&
           a.unique == b.unique && a.indexed == b.indexed && a.ordered == b.ordered &&
           a.default_value == b.default_value;
  }
};

// A modifier for a column in the Schema builder.
class ColumnOption {
 public:
  enum class Kind {
    kPrimaryKey,
    kManualPrimaryKey,
    kUnique,
    kIndexed,
    kNullable,
    kNotNull,
    kDefault,
    kOrdered
  };
  // Two constructors rather than a defaulted Value argument: moving a NULL
  // Value temporary trips GCC 12's -Wmaybe-uninitialized (a false positive
  // on std::variant) at -O1, i.e. under --config=asan with -Werror.
  explicit ColumnOption(Kind kind) : kind_(kind) {}
  ColumnOption(Kind kind, Value value) : kind_(kind), value_(std::move(value)) {}
  void ApplyTo(ColumnSpec& spec) const;

 private:
  Kind kind_;
  Value value_;
};

// Primary key; for int64 it auto-increments when an insert omits it.
inline ColumnOption PrimaryKey() { return ColumnOption(ColumnOption::Kind::kPrimaryKey); }
// Primary key that every insert must supply (int64 or string).
inline ColumnOption ManualPrimaryKey() {
  return ColumnOption(ColumnOption::Kind::kManualPrimaryKey);
}
inline ColumnOption Unique() { return ColumnOption(ColumnOption::Kind::kUnique); }
inline ColumnOption Indexed() { return ColumnOption(ColumnOption::Kind::kIndexed); }
// An ordered index on the column (see ColumnSpec::ordered).
inline ColumnOption Ordered() { return ColumnOption(ColumnOption::Kind::kOrdered); }
inline ColumnOption Nullable() { return ColumnOption(ColumnOption::Kind::kNullable); }
inline ColumnOption NotNull() { return ColumnOption(ColumnOption::Kind::kNotNull); }
inline ColumnOption Default(Value v) {
  return ColumnOption(ColumnOption::Kind::kDefault, std::move(v));
}

class Schema {
 public:
  Schema() = default;

  template <typename... Opts>
  Schema& Int64(std::string name, Opts... opts) {
    return Add(std::move(name), Type::kInt64, {opts...});
  }
  template <typename... Opts>
  Schema& Double(std::string name, Opts... opts) {
    return Add(std::move(name), Type::kDouble, {opts...});
  }
  template <typename... Opts>
  Schema& Bool(std::string name, Opts... opts) {
    return Add(std::move(name), Type::kBool, {opts...});
  }
  template <typename... Opts>
  Schema& String(std::string name, Opts... opts) {
    return Add(std::move(name), Type::kString, {opts...});
  }
  // A column whose type is given by name ("int64", "double", "bool",
  // "string"), for schemas read from data files. An unknown name is
  // reported by Validate().
  Schema& Column(std::string name, std::string_view type_name,
                 std::initializer_list<ColumnOption> opts = {});
  // Adds a fully described column.
  Schema& Column(ColumnSpec spec);

  const std::vector<ColumnSpec>& columns() const { return columns_; }
  size_t size() const { return columns_.size(); }
  const ColumnSpec& column(ColumnId id) const { return columns_[id.value]; }

  // The first problem found, naming `table` and the column; OK if none.
  absl::Status Validate(absl::string_view table) const;

  // Column lookup by name; nullopt when absent.
  std::optional<ColumnId> Find(absl::string_view name) const;
  // Marks a column as carrying a secondary index (Engine::CreateIndex).
  void MarkIndexed(ColumnId id) { columns_[id.value].indexed = true; }
  // Marks a column as carrying an ordered index (Engine::CreateIndex).
  void MarkOrdered(ColumnId id) { columns_[id.value].ordered = true; }
  // Composite ordered indexes (CreateIndex with a list of 2 or 3 columns),
  // each as its columns in key order, in creation order. Validate() checks
  // them (known, distinct columns, 2 or 3 of them, no index twice).
  const std::vector<std::vector<ColumnId>>& composite_indexes() const { return composites_; }
  void AddCompositeIndex(std::vector<ColumnId> columns) {
    composites_.push_back(std::move(columns));
  }
  // The primary key column. REQUIRES: Validate() passed.
  ColumnId primary_key() const { return primary_key_; }

  friend bool operator==(const Schema& a, const Schema& b) {
    return a.columns_ == b.columns_ && a.composites_ == b.composites_ && a.error_ == b.error_;
  }

 private:
  Schema& Add(std::string name, Type type, std::initializer_list<ColumnOption> opts);

  std::vector<ColumnSpec> columns_;
  std::vector<std::vector<ColumnId>> composites_;
  absl::flat_hash_map<std::string, ColumnId> by_name_;
  ColumnId primary_key_;
  std::string error_;  // deferred builder error (unknown type name)
};

// What happens to child rows when their parent row is deleted. Persisted:
// never renumber.
enum class OnDelete : uint8_t {
  kNoAction = 0,  // children keep pointing at the missing parent (Lucid's default)
  kRestrict = 1,  // the delete fails while children exist
  kCascade = 2,   // children are deleted too (recursively)
  kSetNull = 3,   // children's foreign key becomes NULL
};
// What happens to child rows when their parent's key changes.
enum class OnUpdate : uint8_t {
  kNoAction = 0,
  kRestrict = 1,
  kCascade = 2,  // children's foreign key follows the new key
};
absl::string_view OnDeleteName(OnDelete a);
absl::string_view OnUpdateName(OnUpdate a);

// The kind of index CreateIndex adds. Persisted with the schema (as column
// flags), never renumber.
enum class IndexKind : uint8_t {
  kHash = 0,     // key -> rows in insertion order: equality and IN (int64, string)
  kOrdered = 1,  // key order, NULLs first: ranges, ORDER BY + LIMIT, Min/Max (any type)
};

struct ForeignKeySpec {
  std::string child_table;
  std::string child_column;
  std::string parent_table;
  std::string parent_column;
  OnDelete on_delete = OnDelete::kNoAction;
  OnUpdate on_update = OnUpdate::kNoAction;

  friend bool operator==(const ForeignKeySpec&, const ForeignKeySpec&) = default;
};

}  // namespace kin

#endif  // KIN_SCHEMA_H_
