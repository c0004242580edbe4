// Value: the dynamically typed cell of kin's checked API.
//
// kin stores columns as typed vectors; Value exists only at the API edge
// (attributes passed to writes, cells read through Row::Get, filter
// arguments). Hot loops use the typed spans on Table instead.

#ifndef KIN_VALUE_H_
#define KIN_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"

namespace kin {

// Column types. The numeric values are persisted in snapshots: never
// renumber, only append.
enum class Type : uint8_t {
  kInt64 = 1,
  kDouble = 2,
  kBool = 3,
  kString = 4,
};

// "int64", "double", "bool", "string".
absl::string_view TypeName(Type type);

// Parses a type name as printed by TypeName; nullopt when unknown.
std::optional<Type> ParseType(absl::string_view name);

// A cell value: NULL, int64, double, bool or string.
//
// Construct from C++ literals: Value(42), Value(1.5), Value(true),
// Value("text"); Value() and Value(nullptr) are NULL.
class Value {
 public:
  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT: NULL literal reads naturally
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T v) : rep_(static_cast<int64_t>(v)) {}         // NOLINT
  Value(double v) : rep_(v) {}                          // NOLINT
  Value(bool v) : rep_(v) {}                            // NOLINT
  Value(const char* v) : rep_(std::string(v)) {}        // NOLINT
  Value(std::string v) : rep_(std::move(v)) {}          // NOLINT
  Value(std::string_view v) : rep_(std::string(v)) {}   // NOLINT
  Value(absl::string_view v) : rep_(std::string(v)) {}  // NOLINT

  bool is_null() const { return rep_.index() == 0; }
  // REQUIRES: !is_null().
  Type type() const;

  bool is_int64() const { return rep_.index() == 1; }
  bool is_double() const { return rep_.index() == 2; }
  bool is_bool() const { return rep_.index() == 3; }
  bool is_string() const { return rep_.index() == 4; }

  // Unchecked accessors. REQUIRES: the value holds that type. Use
  // Row::GetInt64() and friends for checked access.
  int64_t AsInt64() const { return std::get<int64_t>(rep_); }
  double AsDouble() const { return std::get<double>(rep_); }
  bool AsBool() const { return std::get<bool>(rep_); }
  const std::string& AsString() const { return std::get<std::string>(rep_); }

  // Numeric view: int64 and double as double. REQUIRES: numeric.
  double AsNumber() const { return is_int64() ? static_cast<double>(AsInt64()) : AsDouble(); }

  // For messages and dumps: 42, 1.5, true, "text" (quoted, with ", \ and
  // control bytes escaped), NULL. Doubles print with as many digits as it
  // takes to read back the same value (0.1, 0.30000000000000004).
  std::string DebugString() const;
  // "int64 42", "string \"abc\"", "NULL": the value with its type.
  std::string TypedDebugString() const;

  friend bool operator==(const Value& a, const Value& b) { return a.rep_ == b.rep_; }
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  template <typename H>
  friend H AbslHashValue(H h, const Value& v) {
    return H::combine(std::move(h), v.rep_);
  }

 private:
  std::variant<std::monostate, int64_t, double, bool, std::string> rep_;
};

// Total order used by ORDER BY and comparisons: values of one type compare
// naturally (int64 and double compare numerically with each other); strings
// compare bytewise. REQUIRES: neither is NULL and both are comparable
// (numeric/numeric, or same type).
int CompareValues(const Value& a, const Value& b);

// Column name → value pairs given to writes. Order is kept; a column named
// twice is an error.
using Attrs = std::vector<std::pair<std::string, Value>>;

}  // namespace kin

#endif  // KIN_VALUE_H_
