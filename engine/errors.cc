#include "engine/errors.h"

#include "absl/strings/str_cat.h"

namespace kin {

std::string QualifiedName(absl::string_view table, absl::string_view column) {
  return absl::StrCat(table, ".", column);
}

bool ValueFitsType(const Value& v, Type type) {
  if (v.is_null()) return false;
  if (v.type() == type) return true;
  return type == Type::kDouble && v.is_int64();
}

namespace errors {

absl::Status UnknownTable(absl::string_view table) {
  return absl::NotFoundError(absl::StrCat("no table named '", table, "'"));
}

absl::Status UnknownColumn(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat("table '", table, "': no column named '", column, "'"));
}

absl::Status TypeMismatch(absl::string_view table, absl::string_view column,
                          Type expected, const Value& got) {
  return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column),
                                                 ": expected ", TypeName(expected),
                                                 ", got ", got.TypedDebugString()));
}

absl::Status NullNotAllowed(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat(QualifiedName(table, column), ": NULL for a NOT NULL column"));
}

absl::Status MissingValue(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(absl::StrCat(
      QualifiedName(table, column), ": missing value for a NOT NULL column"));
}

absl::Status DuplicateAttribute(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat("table '", table, "': column '", column, "' given twice"));
}

absl::Status DuplicateKey(absl::string_view table, absl::string_view column,
                          const Value& key) {
  return absl::AlreadyExistsError(absl::StrCat(
      QualifiedName(table, column), ": duplicate value ", key.DebugString()));
}

absl::Status RowNotFound(absl::string_view table, absl::string_view key_column,
                         const Value& key) {
  return absl::NotFoundError(absl::StrCat("table '", table, "': no row with ",
                                          key_column, " = ", key.DebugString()));
}

absl::Status StaleRow(absl::string_view table, uint32_t slot) {
  return absl::FailedPreconditionError(absl::StrCat(
      "table '", table, "': stale or deleted row (slot ", slot, ")"));
}

}  // namespace errors
}  // namespace kin
