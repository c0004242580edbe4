// `kin inspect` shows what kin::Migrations recorded: the schema version and
// each applied step, from a snapshot (format 6) and from a data directory.

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"
#include "tools/cli.h"

namespace kin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Inspect(const std::string& path) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCli({"inspect", path}, out, err), 0) << err.str();
  return out.str();
}

Migrations Steps() {
  Migrations m;
  m.Add(1, "add_level", [](Database& db) {
    return db.AddColumn("players", {.name = "level", .type = Type::kInt64, .default_value = 1});
  });
  m.Add(2, "rename_hp", [](Database& db) { return db.RenameColumn("players", "hp", "health"); });
  return m;
}

TEST(InspectTest, ShowsSchemaVersionAndSteps) {
  const std::filesystem::path root = ::testing::TempDir();
  Database db;
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("hp")));
  const std::string before = (root / "before.kin").string();
  ASSERT_OK(SaveSnapshot(db, before, {.fsync = false}));
  EXPECT_THAT(Inspect(before), HasSubstr("schema version 0\n"));
  EXPECT_THAT(Inspect(before), Not(HasSubstr("migration ")));

  ASSERT_OK(Steps().Apply(db));
  const std::string after = (root / "after.kin").string();
  ASSERT_OK(SaveSnapshot(db, after, {.fsync = false}));
  const std::string text = Inspect(after);
  EXPECT_THAT(text, HasSubstr("format version 6"));
  EXPECT_THAT(text, HasSubstr("  column health int64\n"));
  EXPECT_THAT(text, HasSubstr("schema version 2\nmigration 1 add_level\nmigration 2 rename_hp\n"));

  const std::string dir = (root / "inspect_dir").string();
  std::filesystem::remove_all(dir);
  {
    ASSERT_OK_AND_ASSIGN(Database opened, Database::Open(dir));
    ASSERT_OK(opened.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("hp")));
    ASSERT_OK(Steps().Apply(opened));
  }
  EXPECT_THAT(Inspect(dir), HasSubstr("schema version 2\nmigration 1 add_level\n"));
}

}  // namespace
}  // namespace kin
