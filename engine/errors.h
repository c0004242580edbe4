// One place for error wording, so messages are uniform and tests can match
// substrings. Messages are lowercase, without a trailing period, and name the
// table, column and value involved.

#ifndef KIN_ENGINE_ERRORS_H_
#define KIN_ENGINE_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "kin/value.h"

namespace kin {

// "posts.user_id"
std::string QualifiedName(absl::string_view table, absl::string_view column);

// True when `v` (non-NULL) can be stored in a column of `type`. An int64 is
// accepted by a double column (converted exactly when |v| < 2^53).
bool ValueFitsType(const Value& v, Type type);

namespace errors {

// Values and names quoted in messages are cut to this many bytes, so an
// error about a 64 MiB string stays a line long.
inline constexpr size_t kMaxQuotedBytes = 64;
// `v.DebugString()`, with a string over kMaxQuotedBytes cut at a UTF-8
// boundary: "\"aaaa...\"... (67108864 bytes)".
std::string Quote(const Value& v);
// The same with the type: "string \"abc\"".
std::string TypedQuote(const Value& v);
// A name given by the caller (table, column, relation), cut the same way.
std::string Clip(absl::string_view name);

// NotFound: "no table named 'usres'"
absl::Status UnknownTable(absl::string_view table);
// InvalidArgument: "table 'posts': no column named 'titel'"
absl::Status UnknownColumn(absl::string_view table, absl::string_view column);
// InvalidArgument: "posts.user_id: expected int64, got string \"abc\""
absl::Status TypeMismatch(absl::string_view table, absl::string_view column, Type expected,
                          const Value& got);
// InvalidArgument: "posts.user_id: NULL for a NOT NULL column"
absl::Status NullNotAllowed(absl::string_view table, absl::string_view column);
// InvalidArgument: "posts.user_id: missing value for a NOT NULL column"
absl::Status MissingValue(absl::string_view table, absl::string_view column);
// InvalidArgument: "table 'posts': column 'title' given twice"
absl::Status DuplicateAttribute(absl::string_view table, absl::string_view column);
// AlreadyExists: "users.email: duplicate value \"a@b\""
absl::Status DuplicateKey(absl::string_view table, absl::string_view column, const Value& key);
// NotFound: "table 'users': no row with id = 7"
absl::Status RowNotFound(absl::string_view table, absl::string_view key_column, const Value& key);
// FailedPrecondition: "table 'users': stale or deleted row (slot 3)"
absl::Status StaleRow(absl::string_view table, uint32_t slot);

// --- query layer ---
// InvalidArgument: "posts.score: unknown operator '=~'"
absl::Status UnknownOperator(absl::string_view table, absl::string_view column,
                             absl::string_view op);
// InvalidArgument: "posts.score: cannot compare with NULL using '<' (use
// WhereNull or WhereNotNull)"; `what` names the comparison ("<", "between").
absl::Status NullComparison(absl::string_view table, absl::string_view column,
                            absl::string_view what);
// InvalidArgument: "posts.score: starts with needs a string column, not int64"
absl::Status WrongColumnType(absl::string_view table, absl::string_view column,
                             absl::string_view operation, absl::string_view needs, Type actual);
// InvalidArgument: "query on 'posts': page must be >= 1, got 0"
absl::Status BadQueryArgument(absl::string_view table, absl::string_view what, int64_t min,
                              int64_t got);
// InvalidArgument: "query on 'posts': <message>"
absl::Status BadQuery(absl::string_view table, absl::string_view message);
// NotFound: "table 'posts': no row matches the query" or, given the
// conditions, "table 'posts': no row matches user_id = 7"
absl::Status NoMatchingRow(absl::string_view table, absl::string_view conditions);
// --- parameters (kin::Param, PreparedQuery) ---
// InvalidArgument: "players.guild: parameter ?0 needs a prepared query
// (Query::Prepare, then Bind(0, value))"
absl::Status ParameterNotPrepared(absl::string_view table, absl::string_view column, int index);
// InvalidArgument: "Pluck on 'players': parameter ?0 (players.guild) is
// not bound"
absl::Status UnboundParameter(absl::string_view method, absl::string_view table,
                              absl::string_view column, int index);
// InvalidArgument: "Bind on 'players': no parameter ?3 (the query has ?0,
// ?1)"; `known` lists them.
absl::Status UnknownParameter(absl::string_view table, int index, absl::string_view known);
// InvalidArgument: "Bind on 'players': parameter ?0 (players.guild):
// expected int64, got string \"abc\"" (or "cannot be NULL (use WhereNull)")
absl::Status BadParameterValue(absl::string_view table, absl::string_view column, int index,
                               Type expected, const Value& got);
// FailedPrecondition: "prepared query on 'players': table 'players' was
// dropped (prepare the query again)"
absl::Status PreparedTableDropped(absl::string_view table);
// FailedPrecondition: a DropColumn moved the column ids a prepared query
// compiled (Table::layout_version()).
absl::Status PreparedColumnsMoved(absl::string_view table);
// OutOfRange: "posts.score: sum overflows int64"
absl::Status AggregateOverflow(absl::string_view table, absl::string_view column,
                               absl::string_view function);

}  // namespace errors
}  // namespace kin

#endif  // KIN_ENGINE_ERRORS_H_
