#include "kin/column.h"

#include <string>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/database.h"
#include "kin/status_macros.h"

namespace kin {

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

std::string ColumnName(const Table& table, ColumnId column) {
  return QualifiedName(table.name(), table.column(column).name);
}

// FailedPrecondition: "players.score: stale column handle (table 'players'
// was dropped)".
absl::Status StaleColumn(const Table& table, ColumnId column) {
  return absl::FailedPreconditionError(absl::StrCat(
      ColumnName(table, column), ": stale column handle (table '", table.name(), "' was dropped)"));
}

// The one check of the hot path: `row` is a live row of `table` (the same
// test as Row::valid(), plus the table identity).
bool LiveRowOf(const Table* table, const Row& row) {
  return row.table() == table && table != nullptr && table->IsLive(row.id()) &&
         table->generation(row.id()) == row.generation();
}

template <typename T>
absl::StatusOr<Column<T>> Resolve(const Engine& engine, std::string_view table_name,
                                  std::string_view column_name,
                                  Column<T> (*make)(const Table*, ColumnId)) {
  KIN_ASSIGN_OR_RETURN(const Table* table, engine.GetTable(internal::ToAbsl(table_name)));
  KIN_ASSIGN_OR_RETURN(ColumnId id, table->GetColumn(internal::ToAbsl(column_name)));
  const Type type = table->column(id).type;
  if (type != kTypeOf<T>) {
    return absl::InvalidArgumentError(absl::StrCat(ColumnName(*table, id), ": column is ",
                                                   TypeName(type), ", not ", TypeName(kTypeOf<T>)));
  }
  return make(table, id);
}

}  // namespace

// --- column_internal ---

const uint64_t* column_internal::WriteVersion(const Table* table) {
  return &table->write_version();
}

void column_internal::Load(const Table* table, TableStorage* out) {
  out->live = table->live().words().data();
  out->generations = table->all_generations_zero() ? nullptr : table->generations().data();
  out->slot_count = static_cast<uint32_t>(table->slot_count());
}

void column_internal::Load(const Table* table, ColumnId column, ColumnStorage* out) {
  out->cells = std::visit([](const auto& cells) -> const void* { return cells.data(); },
                          table->column_data(column));
  const Bitmap* validity = table->validity(column);
  // An empty bitmap means no cell is NULL (Table::IsNull reads it so).
  out->validity = validity != nullptr && validity->size() != 0 ? validity->words().data() : nullptr;
}

// --- Column<T> ---

template <typename T>
absl::StatusOr<T> Column<T>::Get(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, row) && !table_->IsNull(row.id(), id_))) {
    return Read<T>(*table_, id_, row.id());
  }
  return ReadError(row, /*null_is_error=*/true);
}

template <typename T>
absl::StatusOr<std::optional<T>> Column<T>::GetNullable(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, row))) {
    if (table_->IsNull(row.id(), id_)) return std::optional<T>();
    return std::optional<T>(Read<T>(*table_, id_, row.id()));
  }
  return ReadError(row, /*null_is_error=*/false);
}

template <typename T>
absl::StatusOr<bool> Column<T>::IsNull(const Row& row) const {
  if (ABSL_PREDICT_TRUE(LiveRowOf(table_, row))) return table_->IsNull(row.id(), id_);
  return ReadError(row, /*null_is_error=*/false);
}

template <typename T>
absl::Status Column<T>::CheckValid() const {
  if (table_ == nullptr) return absl::FailedPreconditionError("empty column handle");
  if (table_->dropped()) {
    return StaleColumn(*table_, id_);
  }
  return absl::OkStatus();
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

absl::Status Database::SetCell(const Row& row, const Table* table, ColumnId column,
                               const Value& value) {
  KIN_RETURN_IF_ERROR(engine_->CheckRow(row));
  if (table == nullptr) return absl::FailedPreconditionError("empty column handle");
  if (table->dropped()) {
    return StaleColumn(*table, column);
  }
  if (table->owner() != engine_->id()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ColumnName(*table, column), ": column of another database"));
  }
  if (row.table() != table) {
    return absl::InvalidArgumentError(
        absl::StrCat(ColumnName(*table, column), ": row of table '", row.table()->name(), "'"));
  }
  return engine_->UpdateCell(row, column, value).status();
}

absl::StatusOr<const Table*> Database::EachTable(
    std::string_view table_name,
    std::initializer_list<std::pair<const Table*, ColumnId>> columns) const {
  KIN_ASSIGN_OR_RETURN(const Table* table, engine_->GetTable(internal::ToAbsl(table_name)));
  for (const auto& [column_table, id] : columns) {
    if (column_table == nullptr) return absl::FailedPreconditionError("empty column handle");
    if (column_table->dropped()) {
      return StaleColumn(*column_table, id);
    }
    if (column_table->owner() != engine_->id()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ColumnName(*column_table, id), ": column of another database"));
    }
    if (column_table != table) {
      return absl::InvalidArgumentError(absl::StrCat("each over table '", table->name(),
                                                     "': column ", ColumnName(*column_table, id),
                                                     " is of another table"));
    }
  }
  return table;
}

}  // namespace kin
