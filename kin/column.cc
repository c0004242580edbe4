#include "kin/column.h"

#include <initializer_list>
#include <limits>
#include <span>
#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/database.h"
#include "kin/internal/column_check.h"
#include "kin/status_macros.h"
#include "relations/relation_catalog.h"

namespace kin {

using internal::CheckHandle;
using internal::CheckHandlesOf;
using internal::ColumnName;
using internal::StaleColumn;

namespace {

template <typename T>
constexpr Type kTypeOf = std::is_same_v<T, int64_t>  ? Type::kInt64
                         : std::is_same_v<T, double> ? Type::kDouble
                         : std::is_same_v<T, bool>   ? Type::kBool
                                                     : Type::kString;

// The cell of live slot `id`; the variant is read here, not in the caller's
// loop (one well-predicted branch).
template <typename T>
T Read(const Table& table, ColumnId column, RowId id) {
  if constexpr (std::is_same_v<T, int64_t>) {
    return table.Int64Column(column)[id.value];
  } else if constexpr (std::is_same_v<T, double>) {
    return table.DoubleColumn(column)[id.value];
  } else if constexpr (std::is_same_v<T, bool>) {
    return table.BoolColumn(column)[id.value] != 0;
  } else {
    return std::string_view(table.StringColumn(column)[id.value]);
  }
}

// The one check of the hot path: `row` is a live row of `table` (the same
// test as Row::valid(), plus the table identity).
// The layout check keeps a handle from reading a column that moved into its
// id after a DropColumn.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool LiveRowOf(const Table* table, uint32_t layout,
                                                   const Row& row) {
  return row.table() == table && table != nullptr && table->IsLive(row.id()) &&
         table->generation(row.id()) == row.generation() && table->layout_version() == layout;
}

template <typename T>
absl::StatusOr<Column<T>> Resolve(const Engine& engine, std::string_view table_name,
                                  std::string_view column_name,
                                  Column<T> (*make)(const Table*, ColumnId, uint32_t)) {
  KIN_ASSIGN_OR_RETURN(const Table* table, engine.GetTable(internal::ToAbsl(table_name)));
  KIN_ASSIGN_OR_RETURN(ColumnId id, table->GetColumn(internal::ToAbsl(column_name)));
  const Type type = table->column(id).type;
  if (type != kTypeOf<T>) {
    return absl::InvalidArgumentError(absl::StrCat(ColumnName(*table, id), ": column is ",
                                                   TypeName(type), ", not ", TypeName(kTypeOf<T>)));
  }
  return make(table, id, table->layout_version());
}

}  // namespace

// --- column_internal ---

const uint64_t* column_internal::WriteVersion(const Table* table) {
  return &table->write_version();
}

uint32_t column_internal::LayoutVersion(const Table* table) { return table->layout_version(); }

void column_internal::Load(const Table* table, TableStorage* out) {
  out->live = table->live().words().data();
  out->generations = table->all_generations_zero() ? nullptr : table->generations().data();
  out->slot_count = static_cast<uint32_t>(table->slot_count());
}

void column_internal::Load(const Table* table, ColumnId column, ColumnStorage* out) {
  out->cells = std::visit(
      [&](const auto& cells) -> const void* {
        using T = typename std::decay_t<decltype(cells)>::value_type;
        if constexpr (std::is_same_v<T, std::string_view>) {
          out->blob = cells.blob();
          return cells.cells();
        } else {
          return cells.data();
        }
      },
      table->column_data(column));
  const Bitmap* validity = table->validity(column);
  // An empty bitmap means no cell is NULL (Table::IsNull reads it so).
  out->validity = validity != nullptr && validity->size() != 0 ? validity->words().data() : nullptr;
}

std::span<const RowId> column_internal::LoadChildren(const Table* table, ColumnId column,
                                                     const Value& key) {
  if (table->dropped() || key.is_null()) return {};
  return table->index(column)->Find(key);
}

absl::Status column_internal::NullInResult(const Table* table, ColumnId column) {
  return absl::InvalidArgumentError(
      absl::StrCat(ColumnName(*table, column),
                   ": value is NULL in a selected row (read it through kin::Nullable(column), or "
                   "filter with WhereNotNull)"));
}

// --- Column<T> ---

template <typename T>
absl::StatusOr<T> Column<T>::Get(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, layout_, row) && !table_->IsNull(row.id(), id_))) {
    return Read<T>(*table_, id_, row.id());
  }
  return ReadError(row, /*null_is_error=*/true);
}

template <typename T>
absl::StatusOr<std::optional<T>> Column<T>::GetNullable(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, layout_, row))) {
    if (table_->IsNull(row.id(), id_)) return std::optional<T>();
    return std::optional<T>(Read<T>(*table_, id_, row.id()));
  }
  return ReadError(row, /*null_is_error=*/false);
}

template <typename T>
absl::StatusOr<bool> Column<T>::IsNull(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, layout_, row))) return table_->IsNull(row.id(), id_);
  return ReadError(row, /*null_is_error=*/false);
}

template <typename T>
absl::Status Column<T>::CheckValid() const {
  if (table_ == nullptr) return absl::FailedPreconditionError("empty column handle");
  if (table_->dropped() || table_->layout_version() != layout_) {
    return StaleColumn(*table_, id());
  }
  return absl::OkStatus();
}

template <typename T>
ColumnId Column<T>::id() const {
  if (table_ != nullptr && table_->layout_version() != layout_) {
    return ColumnId(std::numeric_limits<uint32_t>::max());
  }
  return id_;
}

// Same order and wording as Engine::CheckRow and Row's reads: this handle,
// the row's database, the row's liveness, then the row's table and the cell.
template <typename T>
absl::Status Column<T>::ReadError(const Row& row, bool null_is_error) const {
  KIN_RETURN_IF_ERROR(CheckValid());
  if (row.table() == nullptr) return absl::FailedPreconditionError("empty row handle");
  if (row.table()->owner() != table_->owner()) {
    return absl::InvalidArgumentError(absl::StrCat(ColumnName(*table_, id_), ": row of table '",
                                                   row.table()->name(),
                                                   "' does not belong to this database"));
  }
  KIN_RETURN_IF_ERROR(row.CheckValid());
  if (row.table() != table_) {
    return absl::InvalidArgumentError(
        absl::StrCat(ColumnName(*table_, id_), ": row of table '", row.table()->name(), "'"));
  }
  if (null_is_error && table_->IsNull(row.id(), id_)) {
    return absl::InvalidArgumentError(absl::StrCat(ColumnName(*table_, id_), ": value is NULL"));
  }
  return absl::InternalError(absl::StrCat(ColumnName(*table_, id_), ": unexpected read failure"));
}

template class Column<int64_t>;
template class Column<double>;
template class Column<bool>;
template class Column<std::string_view>;

// --- Database ---

absl::StatusOr<Column<int64_t>> Database::Int64Column(std::string_view table,
                                                      std::string_view column) const {
  return Resolve<int64_t>(*engine_, table, column, &Database::MakeColumn<int64_t>);
}

absl::StatusOr<Column<double>> Database::DoubleColumn(std::string_view table,
                                                      std::string_view column) const {
  return Resolve<double>(*engine_, table, column, &Database::MakeColumn<double>);
}

absl::StatusOr<Column<bool>> Database::BoolColumn(std::string_view table,
                                                  std::string_view column) const {
  return Resolve<bool>(*engine_, table, column, &Database::MakeColumn<bool>);
}

absl::StatusOr<Column<std::string_view>> Database::StringColumn(std::string_view table,
                                                                std::string_view column) const {
  return Resolve<std::string_view>(*engine_, table, column,
                                   &Database::MakeColumn<std::string_view>);
}

absl::Status Database::SetCells(const Row& row, std::span<const Assignment* const> cells) {
  KIN_RETURN_IF_ERROR(engine_->CheckRow(row));
  absl::InlinedVector<CellRef, 8> refs;
  for (const Assignment* cell : cells) {
    KIN_RETURN_IF_ERROR(CheckHandle(*engine_, cell->table, cell->column));
    if (row.table() != cell->table) {
      return absl::InvalidArgumentError(absl::StrCat(ColumnName(*cell->table, cell->column),
                                                     ": row of table '", row.table()->name(), "'"));
    }
    refs.push_back({cell->column, &cell->value});
  }
  return engine_->UpdateCells(row, refs).status();
}

absl::StatusOr<const Table*> Database::EachTable(
    std::string_view table_name,
    std::initializer_list<std::pair<const Table*, ColumnId>> columns) const {
  KIN_ASSIGN_OR_RETURN(const Table* table, engine_->GetTable(internal::ToAbsl(table_name)));
  KIN_RETURN_IF_ERROR(CheckHandlesOf(*engine_, *table, columns, [&] {
    return absl::StrCat("each over table '", table->name(), "'");
  }));
  return table;
}

absl::StatusOr<column_internal::Children> Database::EachChildren(
    const Row& parent, std::string_view relation,
    std::initializer_list<std::pair<const Table*, ColumnId>> columns) const {
  KIN_RETURN_IF_ERROR(engine_->CheckRow(parent));
  KIN_ASSIGN_OR_RETURN(const RelationSpec* spec,
                       relations_->Get(parent.table()->name(), internal::ToAbsl(relation)));
  if (spec->kind != RelationKind::kHasMany) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", spec->QualifiedName(), "' is ", RelationKindName(spec->kind),
        "; each over children needs a ", RelationKindName(RelationKind::kHasMany), " relation"));
  }
  // The range walks the foreign-key list; conditions, order or a scope
  // would need a query per call, which is what Related(...).Get() is.
  KIN_RETURN_IF_ERROR(CheckOnQueryAttached(*spec));
  if (spec->on_query || !spec->scope.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", spec->QualifiedName(), "' has ", spec->on_query ? "an on_query" : "a scope",
        ": each over children reads the foreign-key list and cannot apply it; use "
        "Related(parent, relation).Get() or Query()"));
  }
  RelationSpec::Binding binding = spec->binding;
  if (binding.parent == nullptr || binding.epoch != engine_->table_epoch()) {
    KIN_ASSIGN_OR_RETURN(binding, BindSpec(*engine_, *spec));
  }
  KIN_RETURN_IF_ERROR(CheckHandlesOf(*engine_, *binding.child, columns, [&] {
    return absl::StrCat("each over relation '", spec->QualifiedName(), "'");
  }));
  return column_internal::Children{binding.child, binding.foreign_key,
                                   binding.parent->GetValue(parent.id(), binding.local_key)};
}

}  // namespace kin
