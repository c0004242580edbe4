// A Database owns its engine and relation catalog by pointer, so moving it
// (and LoadSnapshot, which returns by move) keeps every relation bound to the
// tables it resolved: reads through a relation stay on the native path
// instead of falling back to resolving names per call.

#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "relations/relation_catalog.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::kin::internal::DatabaseAccess;
using ::testing::HasSubstr;

Database Blog() {
  Database db;
  EXPECT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
  EXPECT_OK(
      db.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
  EXPECT_OK(db.HasMany("users", "posts"));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_OK(db.Insert("users", {{"name", "u" + std::to_string(i)}}).status());
    for (int p = 0; p < i; ++p) {
      EXPECT_OK(db.Insert("posts", {{"user_id", i}, {"title", "t"}}).status());
    }
  }
  return db;
}

// Every relation of `db` is bound to `db`'s own tables at its current epoch:
// what RelationHandle checks before skipping the name lookups.
void ExpectBound(Database& db) {
  const Engine& engine = DatabaseAccess::engine(db);
  for (const std::string& table : db.TableNames()) {
    for (const RelationSpec* spec : db.Relations(table)) {
      SCOPED_TRACE(spec->QualifiedName());
      EXPECT_EQ(spec->binding.epoch, engine.table_epoch());
      EXPECT_EQ(spec->binding.parent, db.FindTable(spec->parent_table()));
      EXPECT_EQ(spec->binding.child, db.FindTable(spec->child_table()));
    }
  }
}

TEST(DatabaseMoveTest, AFreshDatabaseIsBound) {
  Database db = Blog();
  EXPECT_EQ(db.Relations().size(), 2u);  // users.posts and its inverse posts.user
  ExpectBound(db);
}

TEST(DatabaseMoveTest, MoveConstructionKeepsTheBindings) {
  Database a = Blog();
  Database b = std::move(a);
  ExpectBound(b);
  ASSERT_OK_AND_ASSIGN(Row user, b.FindOrFail("users", 3));
  EXPECT_THAT(b.Related(user, "posts").Count(), IsOkAndHolds(3));
}

TEST(DatabaseMoveTest, MoveAssignmentKeepsTheBindingsAndEmptiesTheSource) {
  Database a = Blog();
  Database b;
  ASSERT_OK(b.CreateTable("other", Schema().Int64("id", PrimaryKey())));
  b = std::move(a);
  ExpectBound(b);
  EXPECT_EQ(b.FindTable("other"), nullptr);
  // The moved-from database is empty and usable.
  EXPECT_TRUE(a.TableNames().empty());  // NOLINT(bugprone-use-after-move)
  ASSERT_OK(a.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  EXPECT_THAT(a.Insert("users", {}), IsOk());
}

TEST(DatabaseMoveTest, ALoadedDatabaseIsBound) {
  Database db = Blog();
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  ExpectBound(loaded);
  ASSERT_OK_AND_ASSIGN(Row user, loaded.FindOrFail("users", 2));
  EXPECT_THAT(loaded.Related(user, "posts").Count(), IsOkAndHolds(2));
  EXPECT_EQ(loaded.DebugString(), db.DebugString());
}

TEST(DatabaseMoveTest, DroppingATableRebindsTheRest) {
  Database db = Blog();
  const uint64_t before = db.Relations("users")[0]->binding.epoch;
  ASSERT_OK(db.CreateTable("tags", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.DropTable("tags"));  // table objects may have moved: a new epoch
  ExpectBound(db);
  EXPECT_NE(db.Relations("users")[0]->binding.epoch, before);
  // Dropping the child table drops its relations with it.
  ASSERT_OK(db.DropTable("posts"));
  EXPECT_TRUE(db.Relations("users").empty());
  ASSERT_OK_AND_ASSIGN(Row user, db.FindOrFail("users", 1));
  EXPECT_THAT(db.Related(user, "posts").Count(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("posts")));
}

}  // namespace
}  // namespace kin::test
