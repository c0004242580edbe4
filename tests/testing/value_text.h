// A kin::Value as short text for tests that compare rows as strings:
// NULL, 42, 0.5, true, "ann".

#ifndef KIN_TESTS_TESTING_VALUE_TEXT_H_
#define KIN_TESTS_TESTING_VALUE_TEXT_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "kin/value.h"

namespace kin::test {

inline std::string ValueText(const Value& v) {
  if (v.is_null()) return "NULL";
  if (v.is_int64()) return absl::StrCat(v.AsInt64());
  if (v.is_string()) return absl::StrCat("\"", v.AsString(), "\"");
  if (v.is_bool()) return v.AsBool() ? "true" : "false";
  return absl::StrCat(v.AsDouble());
}

}  // namespace kin::test

#endif  // KIN_TESTS_TESTING_VALUE_TEXT_H_
