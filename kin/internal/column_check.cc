#include "kin/internal/column_check.h"

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"

namespace kin::internal {

std::string ColumnName(const Table& table, ColumnId column) {
  if (column.value >= table.num_columns()) return absl::StrCat("table '", table.name(), "'");
  return QualifiedName(table.name(), table.column(column).name);
}

absl::Status StaleColumn(const Table& table, ColumnId column) {
  if (!table.dropped()) {
    return absl::FailedPreconditionError(
        absl::StrCat(ColumnName(table, column), ": stale column handle (a column of table '",
                     table.name(), "' was dropped since; resolve it again)"));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      ColumnName(table, column), ": stale column handle (table '", table.name(), "' was dropped)"));
}

absl::Status CheckHandle(const Engine& engine, const Table* table, ColumnId column) {
  if (table == nullptr) return absl::FailedPreconditionError("empty column handle");
  // Column<T>::id() is past the columns once a drop moved the ids.
  if (table->dropped() || column.value >= table->num_columns()) {
    return StaleColumn(*table, column);
  }
  if (table->owner() != engine.id()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ColumnName(*table, column), ": column of another database"));
  }
  return absl::OkStatus();
}

absl::Status CheckHandlesOf(const Engine& engine, const Table& table,
                            std::initializer_list<std::pair<const Table*, ColumnId>> columns,
                            absl::FunctionRef<std::string()> what) {
  for (const auto& [column_table, id] : columns) {
    KIN_RETURN_IF_ERROR(CheckHandle(engine, column_table, id));
    if (column_table != &table) {
      return absl::InvalidArgumentError(
          absl::StrCat(what(), ": column ", ColumnName(*column_table, id),
                       " is of another table than '", table.name(), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kin::internal
