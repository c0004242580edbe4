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

namespace {

// The longest prefix of `s` of at most kMaxQuotedBytes that ends on a UTF-8
// character boundary.
absl::string_view Prefix(absl::string_view s) {
  size_t n = kMaxQuotedBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

std::string Quote(const Value& v) {
  if (!v.is_string() || v.AsString().size() <= kMaxQuotedBytes) return v.DebugString();
  std::string cut = Value(std::string(Prefix(v.AsString()))).DebugString();
  return absl::StrCat(cut, "... (", v.AsString().size(), " bytes)");
}

std::string TypedQuote(const Value& v) {
  if (v.is_null()) return "NULL";
  return absl::StrCat(TypeName(v.type()), " ", Quote(v));
}

std::string Clip(absl::string_view name) {
  if (name.size() <= kMaxQuotedBytes) return std::string(name);
  return absl::StrCat(Prefix(name), "... (", name.size(), " bytes)");
}

absl::Status UnknownTable(absl::string_view table) {
  return absl::NotFoundError(absl::StrCat("no table named '", Clip(table), "'"));
}

absl::Status UnknownColumn(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat("table '", table, "': no column named '", Clip(column), "'"));
}

absl::Status TypeMismatch(absl::string_view table, absl::string_view column, Type expected,
                          const Value& got) {
  return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column), ": expected ",
                                                 TypeName(expected), ", got ", TypedQuote(got)));
}

absl::Status NullNotAllowed(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat(QualifiedName(table, column), ": NULL for a NOT NULL column"));
}

absl::Status MissingValue(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat(QualifiedName(table, column), ": missing value for a NOT NULL column"));
}

absl::Status DuplicateAttribute(absl::string_view table, absl::string_view column) {
  return absl::InvalidArgumentError(
      absl::StrCat("table '", table, "': column '", column, "' given twice"));
}

absl::Status DuplicateKey(absl::string_view table, absl::string_view column, const Value& key) {
  return absl::AlreadyExistsError(
      absl::StrCat(QualifiedName(table, column), ": duplicate value ", Quote(key)));
}

absl::Status RowNotFound(absl::string_view table, absl::string_view key_column, const Value& key) {
  return absl::NotFoundError(
      absl::StrCat("table '", table, "': no row with ", key_column, " = ", Quote(key)));
}

absl::Status StaleRow(absl::string_view table, uint32_t slot) {
  return absl::FailedPreconditionError(
      absl::StrCat("table '", table, "': stale or deleted row (slot ", slot, ")"));
}

absl::Status UnknownOperator(absl::string_view table, absl::string_view column,
                             absl::string_view op) {
  return absl::InvalidArgumentError(
      absl::StrCat(QualifiedName(table, column), ": unknown operator '", op, "'"));
}

absl::Status NullComparison(absl::string_view table, absl::string_view column,
                            absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column),
                                                 ": cannot compare with NULL using '", what,
                                                 "' (use WhereNull or WhereNotNull)"));
}

absl::Status WrongColumnType(absl::string_view table, absl::string_view column,
                             absl::string_view operation, absl::string_view needs, Type actual) {
  return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column), ": ", operation,
                                                 " needs ", needs, " column, not ",
                                                 TypeName(actual)));
}

absl::Status BadQueryArgument(absl::string_view table, absl::string_view what, int64_t min,
                              int64_t got) {
  return absl::InvalidArgumentError(
      absl::StrCat("query on '", table, "': ", what, " must be >= ", min, ", got ", got));
}

absl::Status BadQuery(absl::string_view table, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("query on '", table, "': ", message));
}

absl::Status ParameterNotPrepared(absl::string_view table, absl::string_view column, int index) {
  return absl::InvalidArgumentError(absl::StrCat(QualifiedName(table, column), ": parameter ?",
                                                 index, " needs a prepared query (Query::Prepare, ",
                                                 "then Bind(", index, ", value))"));
}

absl::Status UnboundParameter(absl::string_view method, absl::string_view table,
                              absl::string_view column, int index) {
  return absl::InvalidArgumentError(absl::StrCat(method, " on '", table, "': parameter ?", index,
                                                 " (", QualifiedName(table, column),
                                                 ") is not bound"));
}

absl::Status UnknownParameter(absl::string_view table, int index, absl::string_view known) {
  return absl::InvalidArgumentError(
      absl::StrCat("Bind on '", table, "': no parameter ?", index, " (the query has ", known, ")"));
}

absl::Status BadParameterValue(absl::string_view table, absl::string_view column, int index,
                               Type expected, const Value& got) {
  const std::string prefix = absl::StrCat("Bind on '", table, "': parameter ?", index, " (",
                                          QualifiedName(table, column), "): ");
  if (got.is_null()) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "cannot be NULL (use WhereNull / WhereNotNull)"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(prefix, "expected ", TypeName(expected), ", got ", TypedQuote(got)));
}

absl::Status PreparedTableDropped(absl::string_view table) {
  return absl::FailedPreconditionError(absl::StrCat("prepared query on '", table, "': table '",
                                                    table, "' was dropped (prepare the query ",
                                                    "again)"));
}

absl::Status PreparedColumnsMoved(absl::string_view table) {
  return absl::FailedPreconditionError(
      absl::StrCat("prepared query on '", table, "': a column of table '", table,
                   "' was dropped since (prepare the query again)"));
}

absl::Status NoMatchingRow(absl::string_view table, absl::string_view conditions) {
  if (conditions.empty()) {
    return absl::NotFoundError(absl::StrCat("table '", table, "': no row matches the query"));
  }
  return absl::NotFoundError(absl::StrCat("table '", table, "': no row matches ", conditions));
}

absl::Status AggregateOverflow(absl::string_view table, absl::string_view column,
                               absl::string_view function) {
  return absl::OutOfRangeError(
      absl::StrCat(QualifiedName(table, column), ": ", function, " overflows int64"));
}

}  // namespace errors
}  // namespace kin
