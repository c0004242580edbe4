// kin::Value: construction from C++ literals, types, printing, ordering, and
// the type names used by schemas read from data.

#include "kin/value.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"

namespace kin {
namespace {

TEST(ValueTest, DefaultAndNullptrAreNull) {
  EXPECT_TRUE(Value().is_null());
  EXPECT_TRUE(Value(nullptr).is_null());
  EXPECT_EQ(Value(), Value(nullptr));
  EXPECT_FALSE(Value(0).is_null());
  EXPECT_FALSE(Value("").is_null());
}

TEST(ValueTest, IntegersOfEveryWidthBecomeInt64) {
  EXPECT_TRUE(Value(42).is_int64());
  EXPECT_TRUE(Value(int8_t{-3}).is_int64());
  EXPECT_TRUE(Value(uint16_t{7}).is_int64());
  EXPECT_TRUE(Value(42L).is_int64());
  EXPECT_TRUE(Value(int64_t{1} << 40).is_int64());
  EXPECT_EQ(Value(42).type(), Type::kInt64);
  EXPECT_EQ(Value(42).AsInt64(), 42);
  EXPECT_EQ(Value(int8_t{-3}).AsInt64(), -3);
  EXPECT_EQ(Value(std::numeric_limits<int64_t>::min()).AsInt64(),
            std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Value(42), Value(int64_t{42}));
}

TEST(ValueTest, DoubleBoolAndString) {
  EXPECT_TRUE(Value(1.5).is_double());
  EXPECT_EQ(Value(1.5).type(), Type::kDouble);
  EXPECT_EQ(Value(1.5).AsDouble(), 1.5);
  EXPECT_TRUE(Value(1.5f).is_double());  // float widens to double, not bool

  EXPECT_TRUE(Value(true).is_bool());
  EXPECT_EQ(Value(false).type(), Type::kBool);
  EXPECT_FALSE(Value(false).AsBool());

  EXPECT_TRUE(Value("text").is_string());  // a literal is a string, not a bool
  EXPECT_EQ(Value("text").type(), Type::kString);
  EXPECT_EQ(Value("text").AsString(), "text");
  EXPECT_EQ(Value(std::string("abc")).AsString(), "abc");
  EXPECT_EQ(Value(absl::string_view("xyz")).AsString(), "xyz");
}

TEST(ValueTest, EqualityIsTypeSensitive) {
  EXPECT_NE(Value(1), Value(1.0));  // int64 1 and double 1.0 are different values
  EXPECT_NE(Value(1), Value(true));
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_NE(Value(), Value(0));
  EXPECT_EQ(Value("a"), Value(std::string("a")));
}

TEST(ValueTest, AsNumberReadsInt64AndDouble) {
  EXPECT_EQ(Value(3).AsNumber(), 3.0);
  EXPECT_EQ(Value(2.25).AsNumber(), 2.25);
}

TEST(ValueTest, HashableForAbslContainers) {
  absl::flat_hash_set<Value> set = {Value(1), Value(1.0), Value("1"), Value(true), Value()};
  EXPECT_EQ(set.size(), 5u);
  EXPECT_TRUE(set.contains(Value(1)));
  EXPECT_TRUE(set.contains(Value()));
  EXPECT_FALSE(set.contains(Value(2)));
}

TEST(ValueTest, DebugString) {
  EXPECT_EQ(Value().DebugString(), "NULL");
  EXPECT_EQ(Value(42).DebugString(), "42");
  EXPECT_EQ(Value(-7).DebugString(), "-7");
  EXPECT_EQ(Value(1.5).DebugString(), "1.5");
  EXPECT_EQ(Value(3.0).DebugString(), "3");
  EXPECT_EQ(Value(0.1).DebugString(), "0.1");
  EXPECT_EQ(Value(100000.0).DebugString(), "100000");
  EXPECT_EQ(Value(1e20).DebugString(), "1e+20");
  EXPECT_EQ(Value(true).DebugString(), "true");
  EXPECT_EQ(Value(false).DebugString(), "false");
  EXPECT_EQ(Value("abc").DebugString(), "\"abc\"");
  EXPECT_EQ(Value("").DebugString(), "\"\"");
}

// Table and Engine dumps are built from DebugString and promise "equal
// strings mean equal tables", so distinct doubles must print distinctly.
TEST(ValueTest, DebugStringOfDoublesRoundTrips) {
  EXPECT_EQ(Value(1.0 / 3.0).DebugString(), "0.3333333333333333");
  EXPECT_EQ(Value(1234567.0).DebugString(), "1234567");
  EXPECT_EQ(Value(0.1 + 0.2).DebugString(), "0.30000000000000004");
  EXPECT_NE(Value(1.0000001).DebugString(), Value(1.0000002).DebugString());
  EXPECT_EQ(Value(-0.5).DebugString(), "-0.5");
}

// Quotes, backslashes and control characters are escaped, so a string cell
// can never forge the structure of a dump (or of a message).
TEST(ValueTest, DebugStringEscapesStrings) {
  EXPECT_EQ(Value("say \"hi\"").DebugString(), R"("say \"hi\"")");
  EXPECT_EQ(Value("a\\b").DebugString(), R"("a\\b")");
  EXPECT_EQ(Value("line1\nline2\t!").DebugString(), R"("line1\nline2\t!")");
  EXPECT_EQ(Value(std::string("nul\0byte", 8)).DebugString(), R"("nul\x00byte")");
  EXPECT_EQ(Value("O'Brien").DebugString(), "\"O'Brien\"");
  EXPECT_EQ(Value("caf\xc3\xa9").DebugString(), "\"caf\xc3\xa9\"");  // UTF-8 kept
}

TEST(ValueTest, TypedDebugString) {
  EXPECT_EQ(Value().TypedDebugString(), "NULL");
  EXPECT_EQ(Value(42).TypedDebugString(), "int64 42");
  EXPECT_EQ(Value(2.5).TypedDebugString(), "double 2.5");
  EXPECT_EQ(Value(true).TypedDebugString(), "bool true");
  EXPECT_EQ(Value("abc").TypedDebugString(), "string \"abc\"");
}

TEST(CompareValuesTest, SameTypes) {
  EXPECT_EQ(CompareValues(Value(1), Value(2)), -1);
  EXPECT_EQ(CompareValues(Value(2), Value(1)), 1);
  EXPECT_EQ(CompareValues(Value(5), Value(5)), 0);
  EXPECT_EQ(CompareValues(Value(-1.5), Value(0.5)), -1);
  EXPECT_EQ(CompareValues(Value(false), Value(true)), -1);
  EXPECT_EQ(CompareValues(Value(true), Value(true)), 0);
  EXPECT_EQ(CompareValues(Value("apple"), Value("banana")), -1);
  EXPECT_EQ(CompareValues(Value("b"), Value("abc")), 1);
  EXPECT_EQ(CompareValues(Value(""), Value("")), 0);
}

TEST(CompareValuesTest, Int64ComparesExactlyBeyondDoublePrecision) {
  // 2^53 + 1 and 2^53 are equal as doubles but not as int64.
  int64_t big = int64_t{1} << 53;
  EXPECT_EQ(CompareValues(Value(big + 1), Value(big)), 1);
  EXPECT_EQ(CompareValues(Value(std::numeric_limits<int64_t>::min()),
                          Value(std::numeric_limits<int64_t>::max())),
            -1);
}

TEST(CompareValuesTest, MixedNumericComparesNumerically) {
  EXPECT_EQ(CompareValues(Value(1), Value(1.5)), -1);
  EXPECT_EQ(CompareValues(Value(2.0), Value(2)), 0);
  EXPECT_EQ(CompareValues(Value(3), Value(2.5)), 1);
}

TEST(CompareValuesTest, StringsCompareBytewise) {
  EXPECT_EQ(CompareValues(Value("Z"), Value("a")), -1);  // 'Z' (0x5a) < 'a' (0x61)
  EXPECT_EQ(CompareValues(Value("caf\xc3\xa9"), Value("cafe")), 1);
}

TEST(TypeNameTest, NamesAndParsing) {
  EXPECT_EQ(TypeName(Type::kInt64), "int64");
  EXPECT_EQ(TypeName(Type::kDouble), "double");
  EXPECT_EQ(TypeName(Type::kBool), "bool");
  EXPECT_EQ(TypeName(Type::kString), "string");
  for (Type t : {Type::kInt64, Type::kDouble, Type::kBool, Type::kString}) {
    EXPECT_EQ(ParseType(TypeName(t)), t);
  }
  EXPECT_EQ(ParseType("int32"), std::nullopt);
  EXPECT_EQ(ParseType("INT64"), std::nullopt);  // case-sensitive
  EXPECT_EQ(ParseType(""), std::nullopt);
}

TEST(TypeTest, PersistedNumbersNeverChange) {
  EXPECT_EQ(static_cast<int>(Type::kInt64), 1);
  EXPECT_EQ(static_cast<int>(Type::kDouble), 2);
  EXPECT_EQ(static_cast<int>(Type::kBool), 3);
  EXPECT_EQ(static_cast<int>(Type::kString), 4);
}

}  // namespace
}  // namespace kin
