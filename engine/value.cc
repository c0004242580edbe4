#include "engine/value.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kin {

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
      return absl::StrFormat("%g", AsDouble());
    case 3:
      return AsBool() ? "true" : "false";
    default:
      return absl::StrCat("\"", AsString(), "\"");
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
