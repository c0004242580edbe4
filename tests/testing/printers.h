// GoogleTest printers for kin types, found by argument-dependent lookup:
// a failed EXPECT_EQ(value, kin::Value(42)) prints `int64 42` and a Row
// prints its columns, instead of raw bytes. Test-only: the engine itself
// has DebugString() and no iostream dependency.
//
// Also absl::string_view (Row::GetString's result): Debian's abseil has its
// own string_view type, which GoogleTest would print as a list of chars.

#ifndef KIN_TESTS_TESTING_PRINTERS_H_
#define KIN_TESTS_TESTING_PRINTERS_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "kin/ids.h"
#include "kin/row.h"
#include "kin/value.h"

namespace absl {
inline void PrintTo(string_view s, std::ostream* os) {
  *os << ::testing::PrintToString(std::string(s));
}
}  // namespace absl

namespace kin {

inline void PrintTo(const Value& value, std::ostream* os) { *os << value.TypedDebugString(); }

inline void PrintTo(const Row& row, std::ostream* os) { *os << row.DebugString(); }

inline void PrintTo(RowId id, std::ostream* os) { *os << "RowId(" << id.value << ")"; }

}  // namespace kin

#endif  // KIN_TESTS_TESTING_PRINTERS_H_
