#include "kin/row.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/status_macros.h"

namespace kin {

namespace {

// The typed reads' fast path: the column `name` when `row` is live, the
// column has `type` and the cell is not NULL; nullopt otherwise, and then
// Row::Typed (the same tests, in the order the errors are reported) says
// why. One branchy pass with no Status built, and Table::FindColumn's
// length-and-prefix scan rather than a hash of the name.
std::optional<ColumnId> FastTyped(const Table* table, RowId id, uint32_t generation,
                                  absl::string_view name, Type type) {
  if (table == nullptr || !table->IsLive(id) || table->generation(id) != generation) {
    return std::nullopt;
  }
  const std::optional<ColumnId> column = table->FindColumn(name);
  if (!column.has_value() || table->column(*column).type != type || table->IsNull(id, *column)) {
    return std::nullopt;
  }
  return column;
}

}  // namespace

bool Row::valid() const {
  return table_ != nullptr && table_->IsLive(id_) && table_->generation(id_) == generation_;
}

absl::Status Row::CheckValid() const {
  if (table_ == nullptr) return absl::FailedPreconditionError("empty row handle");
  if (!valid()) return errors::StaleRow(table_->name(), id_.value);
  return absl::OkStatus();
}

absl::StatusOr<Value> Row::Get(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  KIN_RETURN_IF_ERROR(CheckValid());
  KIN_ASSIGN_OR_RETURN(ColumnId id, table_->GetColumn(column));
  return table_->GetValue(id_, id);
}

absl::StatusOr<ColumnId> Row::Typed(absl::string_view column, Type type) const {
  KIN_RETURN_IF_ERROR(CheckValid());
  KIN_ASSIGN_OR_RETURN(ColumnId id, table_->GetColumn(column));
  const ColumnSpec& spec = table_->column(id);
  if (spec.type != type) {
    return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table_->name(), column),
                                                   ": column is ", TypeName(spec.type), ", not ",
                                                   TypeName(type)));
  }
  if (table_->IsNull(id_, id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(QualifiedName(table_->name(), column), ": value is NULL"));
  }
  return id;
}

absl::StatusOr<int64_t> Row::GetInt64(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  if (const std::optional<ColumnId> fast =
          FastTyped(table_, id_, generation_, column, Type::kInt64)) {
    return table_->Int64Column(*fast)[id_.value];
  }
  KIN_ASSIGN_OR_RETURN(ColumnId id, Typed(column, Type::kInt64));
  return table_->Int64Column(id)[id_.value];
}

absl::StatusOr<double> Row::GetDouble(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  if (const std::optional<ColumnId> fast =
          FastTyped(table_, id_, generation_, column, Type::kDouble)) {
    return table_->DoubleColumn(*fast)[id_.value];
  }
  KIN_ASSIGN_OR_RETURN(ColumnId id, Typed(column, Type::kDouble));
  return table_->DoubleColumn(id)[id_.value];
}

absl::StatusOr<bool> Row::GetBool(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  if (const std::optional<ColumnId> fast =
          FastTyped(table_, id_, generation_, column, Type::kBool)) {
    return table_->BoolColumn(*fast)[id_.value] != 0;
  }
  KIN_ASSIGN_OR_RETURN(ColumnId id, Typed(column, Type::kBool));
  return table_->BoolColumn(id)[id_.value] != 0;
}

absl::StatusOr<std::string_view> Row::GetString(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  if (const std::optional<ColumnId> fast =
          FastTyped(table_, id_, generation_, column, Type::kString)) {
    return std::string_view(table_->StringColumn(*fast)[id_.value]);
  }
  KIN_ASSIGN_OR_RETURN(ColumnId id, Typed(column, Type::kString));
  return std::string_view(table_->StringColumn(id)[id_.value]);
}

std::string Row::DebugString() const {
  if (!valid()) return "<stale row>";
  std::string out = "{";
  for (size_t i = 0; i < table_->num_columns(); ++i) {
    ColumnId c(static_cast<uint32_t>(i));
    absl::StrAppend(&out, i == 0 ? "" : ", ", table_->column(c).name, ": ",
                    table_->GetValue(id_, c).DebugString());
  }
  return out + "}";
}

}  // namespace kin
