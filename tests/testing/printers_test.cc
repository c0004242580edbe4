// The GoogleTest printers for kin types print readable text, not bytes.

#include "tests/testing/printers.h"

#include <string>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::PrintToString;

TEST(PrintersTest, Value) {
  EXPECT_EQ(PrintToString(Value(42)), "int64 42");
  EXPECT_EQ(PrintToString(Value("abc")), "string \"abc\"");
  EXPECT_EQ(PrintToString(Value()), "NULL");
}

TEST(PrintersTest, RowAndRowId) {
  Engine engine;
  ASSERT_OK(engine.CreateTable("t", Schema().Int64("id", PrimaryKey()).String("s")));
  ASSERT_OK_AND_ASSIGN(Row row, engine.Insert("t", {{"s", "x"}}));
  EXPECT_EQ(PrintToString(row), "{id: 1, s: \"x\"}");
  EXPECT_EQ(PrintToString(row.id()), "RowId(0)");
  EXPECT_EQ(PrintToString(engine.FindOrFail("t", 1)), "OK: {id: 1, s: \"x\"}");
}

TEST(PrintersTest, AbslStringView) {
  EXPECT_EQ(PrintToString(absl::string_view("robert")), "\"robert\"");
}

}  // namespace
}  // namespace kin
