#include "kin/value.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kin {

namespace {

// The shortest %g-style text that reads back as the same double, with at
// least printf's default 6 significant digits (so 100000 stays "100000").
// Table and Engine dumps promise "equal strings mean equal tables", so two
// distinct doubles must never print alike, as they would with plain %g.
// to_chars/from_chars are locale-independent, unlike printf.
std::string FormatDouble(double d) {
  char buf[64];
  for (int precision = 6; precision < 17; ++precision) {
    std::to_chars_result r =
        std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::general, precision);
    double back = 0;
    std::from_chars(buf, r.ptr, back);
    if (back == d) return std::string(buf, r.ptr);
  }
  std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::general, 17);
  return std::string(buf, r.ptr);
}

// Quotes a string, escaping quotes, backslashes and control bytes, so a
// string cell can never forge the structure of a dump (a newline, or
// `", other: "`) or of an error message. Bytes >= 0x80 pass through, so
// UTF-8 text stays readable.
std::string QuoteString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace

absl::string_view TypeName(Type type) {
  switch (type) {
    case Type::kInt64:
      return "int64";
    case Type::kDouble:
      return "double";
    case Type::kBool:
      return "bool";
    case Type::kString:
      return "string";
  }
  return "unknown";
}

std::optional<Type> ParseType(absl::string_view name) {
  for (Type t : {Type::kInt64, Type::kDouble, Type::kBool, Type::kString}) {
    if (TypeName(t) == name) return t;
  }
  return std::nullopt;
}

Type Value::type() const {
  switch (rep_.index()) {
    case 1:
      return Type::kInt64;
    case 2:
      return Type::kDouble;
    case 3:
      return Type::kBool;
    default:
      return Type::kString;
  }
}

std::string Value::DebugString() const {
  switch (rep_.index()) {
    case 0:
      return "NULL";
    case 1:
      return absl::StrCat(AsInt64());
    case 2:
      return FormatDouble(AsDouble());
    case 3:
      return AsBool() ? "true" : "false";
    default:
      return QuoteString(AsString());
  }
}

std::string Value::TypedDebugString() const {
  if (is_null()) return "NULL";
  return absl::StrCat(TypeName(type()), " ", DebugString());
}

int CompareValues(const Value& a, const Value& b) {
  if (a.is_int64() && b.is_int64()) {
    return a.AsInt64() < b.AsInt64() ? -1 : (a.AsInt64() > b.AsInt64() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.AsString().compare(b.AsString());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_bool() && b.is_bool()) {
    return static_cast<int>(a.AsBool()) - static_cast<int>(b.AsBool());
  }
  double x = a.AsNumber();
  double y = b.AsNumber();
  return x < y ? -1 : (x > y ? 1 : 0);
}

}  // namespace kin
