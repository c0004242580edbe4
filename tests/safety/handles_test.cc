// Row handles given to the wrong database, or kept across DropTable, and
// result rows kept past their ResultSet: every call answers with a Status
// naming the table and changes nothing; nothing reads freed or foreign
// memory (these tests run under ASan+UBSan in .ci/run).

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

constexpr auto kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr auto kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

// users HasMany posts (and posts BelongsTo user), with `n` users.
Database Blog(int n) {
  Database db;
  EXPECT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
  EXPECT_OK(
      db.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
  EXPECT_OK(db.HasMany("users", "posts"));
  for (int i = 1; i <= n; ++i) {
    EXPECT_OK(db.Insert("users", {{"name", "u" + std::to_string(i)}}).status());
    EXPECT_OK(db.Insert("posts", {{"user_id", i}, {"title", "p" + std::to_string(i)}}).status());
  }
  return db;
}

// Runs every operation of the users.posts handle of `parent` in `db` and
// of the posts.user handle of `child`, expecting each to fail with `code`
// and a message containing `message`.
void ExpectEveryHandleCallFails(Database& db, const Row& parent, const Row& child,
                                absl::StatusCode code, const std::string& message) {
  auto fails = StatusIs(code, HasSubstr(message));
  RelationHandle posts = db.Related(parent, "posts");
  EXPECT_THAT(posts.spec(), fails);
  EXPECT_THAT(posts.parent(), fails);
  EXPECT_THAT(posts.Get(), fails);
  EXPECT_THAT(posts.GetResults(), fails);
  EXPECT_THAT(posts.Query().Get(), fails);
  EXPECT_THAT(posts.Query().Count(), fails);
  EXPECT_THAT(posts.Find(Value(1)), fails);
  EXPECT_THAT(posts.Count(), fails);
  EXPECT_THAT(posts.Count([](Query& q) { q.Where("title", "p1"); }), fails);
  EXPECT_THAT(posts.Has(Value(1)), fails);
  EXPECT_THAT(posts.HasAll({Value(1)}), fails);
  EXPECT_THAT(posts.Children(), fails);
  EXPECT_THAT(posts.Create({{"title", "x"}}), fails);
  EXPECT_THAT(posts.CreateMany({{{"title", "x"}}}), fails);
  EXPECT_THAT(posts.Save(Attrs{{"title", "x"}}), fails);
  EXPECT_THAT(posts.SaveMany({Attrs{{"title", "x"}}}), fails);
  EXPECT_THAT(posts.FirstOrCreate({{"title", "x"}}), fails);
  EXPECT_THAT(posts.UpdateOrCreate({{"title", "x"}}, {{"title", "y"}}), fails);
  EXPECT_THAT(posts.FetchOrCreateMany("title", {{{"title", "x"}}}), fails);
  EXPECT_THAT(posts.UpdateOrCreateMany("title", {{{"title", "x"}}}), fails);
  EXPECT_THAT(posts.Set({Value(1)}), fails);
  EXPECT_THAT(posts.Add(Value(1)), fails);
  EXPECT_THAT(posts.AddMany({Value(1)}), fails);
  EXPECT_THAT(posts.Remove(Value(1)), fails);
  EXPECT_THAT(posts.RemoveMany({Value(1)}), fails);
  EXPECT_THAT(posts.Update({{"title", "x"}}), fails);
  EXPECT_THAT(posts.Delete(), fails);
  RelationHandle user = db.Related(child, "user");
  EXPECT_THAT(user.Get(), fails);
  EXPECT_THAT(user.Parent(), fails);
  EXPECT_THAT(user.Associate(parent), fails);
  EXPECT_THAT(user.Dissociate(), fails);
  EXPECT_THAT(db.Update(parent, {{"name", "x"}}), fails);
  EXPECT_THAT(db.Delete(child), fails);
}

TEST(ForeignRowsTest, EveryEntryPointRefusesARowOfAnotherDatabase) {
  Database a = Blog(3);
  Database b = Blog(1);  // a's slot 2 is past the end of b's tables
  ASSERT_OK_AND_ASSIGN(Row a_user, a.FindOrFail("users", 3));
  ASSERT_OK_AND_ASSIGN(Row a_post, a.FindOrFail("posts", 3));
  const std::string a_before = a.DebugString();
  const std::string b_before = b.DebugString();
  ExpectEveryHandleCallFails(b, a_user, a_post, kInvalidArgument,
                             "does not belong to this database");
  EXPECT_THAT(b.Related(a_user, "posts").Get(),
              StatusIs(kInvalidArgument, "row of table 'users' does not belong to this database"));
  EXPECT_THAT(b.Related(a_post, "user").Get(),
              StatusIs(kInvalidArgument, "row of table 'posts' does not belong to this database"));
  EXPECT_EQ(a.DebugString(), a_before);
  EXPECT_EQ(b.DebugString(), b_before);
}

TEST(ForeignRowsTest, ARowOfAnotherDatabaseAsAChildOrParentArgument) {
  Database a = Blog(2);
  Database b = Blog(2);
  ASSERT_OK_AND_ASSIGN(Row a_post, a.FindOrFail("posts", 2));
  ASSERT_OK_AND_ASSIGN(Row a_user, a.FindOrFail("users", 2));
  ASSERT_OK_AND_ASSIGN(Row b_user, b.FindOrFail("users", 1));
  ASSERT_OK_AND_ASSIGN(Row b_post, b.FindOrFail("posts", 1));
  const std::string b_before = b.DebugString();
  auto foreign = StatusIs(kInvalidArgument, HasSubstr("row of table 'posts' does not belong"));
  RelationHandle posts = b.Related(b_user, "posts");
  EXPECT_THAT(posts.Has(a_post), foreign);
  EXPECT_THAT(posts.HasAll({a_post}), foreign);
  EXPECT_THAT(posts.Save(a_post), foreign);
  EXPECT_THAT(posts.SaveMany({a_post}), foreign);
  EXPECT_THAT(posts.Set({a_post}), foreign);
  EXPECT_THAT(posts.Add(a_post), foreign);
  EXPECT_THAT(posts.AddMany({a_post}), foreign);
  EXPECT_THAT(posts.Remove(a_post), foreign);
  EXPECT_THAT(posts.RemoveMany({a_post}), foreign);
  EXPECT_THAT(b.Related(b_post, "user").Associate(a_user),
              StatusIs(kInvalidArgument, HasSubstr("row of table 'users' does not belong")));
  EXPECT_EQ(b.DebugString(), b_before);
}

TEST(ForeignRowsTest, ARowOfAnotherTableIsRefusedNamingBothTables) {
  Database db = Blog(2);
  ASSERT_OK_AND_ASSIGN(Row user, db.FindOrFail("users", 1));
  ASSERT_OK_AND_ASSIGN(Row other_user, db.FindOrFail("users", 2));
  const std::string before = db.DebugString();
  EXPECT_THAT(db.Related(user, "posts").Add(other_user),
              StatusIs(kInvalidArgument, HasSubstr("a row of 'users' is not a 'posts' row")));
  ASSERT_OK_AND_ASSIGN(Row post, db.FindOrFail("posts", 1));
  EXPECT_THAT(db.Related(post, "user").Associate(post),
              StatusIs(kInvalidArgument, HasSubstr("'posts' is not a 'users' row")));
  EXPECT_EQ(db.DebugString(), before);
}

TEST(ForeignRowsTest, AMovedDatabaseKeepsItsRowsAndItsBoundRelations) {
  Database a = Blog(2);
  ASSERT_OK_AND_ASSIGN(Row user, a.FindOrFail("users", 2));
  Database moved = std::move(a);
  EXPECT_THAT(moved.Related(user, "posts").Count(), IsOkAndHolds(1));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* spec, moved.GetRelation("users", "posts"));
  // The binding is stamped with the epoch alone, which moved with the tables.
  EXPECT_EQ(spec->binding.epoch, ::kin::internal::DatabaseAccess::engine(moved).table_epoch());
  // The moved-from database is empty and refuses the moved rows.
  EXPECT_THAT(a.Update(user, {{"name", "x"}}),  // NOLINT(bugprone-use-after-move)
              StatusIs(kInvalidArgument, HasSubstr("does not belong")));
}

TEST(DroppedTableTest, RowsOfADroppedTableAreStale) {
  Database db = Blog(3);
  ASSERT_OK_AND_ASSIGN(Row user, db.FindOrFail("users", 3));
  ASSERT_OK_AND_ASSIGN(Row post, db.FindOrFail("posts", 3));
  ASSERT_OK(db.DropTable("posts"));
  auto stale = StatusIs(kFailedPrecondition, HasSubstr("table 'posts': stale or deleted row"));
  EXPECT_FALSE(post.valid());
  EXPECT_THAT(post.Get("title"), stale);
  EXPECT_THAT(post.GetInt64("id"), stale);
  EXPECT_THAT(post.GetString("title"), stale);
  EXPECT_EQ(post.DebugString(), "<stale row>");
  EXPECT_THAT(db.Update(post, {{"title", "x"}}), stale);
  EXPECT_THAT(db.Delete(post), stale);
  // The parent table is still there; its relation went with the drop.
  EXPECT_THAT(db.Related(user, "posts").Get(), StatusIs(absl::StatusCode::kNotFound));
}

TEST(DroppedTableTest, ARecreatedTableIsNotReachedThroughOldHandles) {
  Database db = Blog(3);
  ASSERT_OK_AND_ASSIGN(Row old_user, db.FindOrFail("users", 2));
  ASSERT_OK_AND_ASSIGN(Row old_post, db.FindOrFail("posts", 2));
  ASSERT_OK(db.DropTable("posts"));
  ASSERT_OK(db.DropTable("users"));
  ASSERT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
  ASSERT_OK(
      db.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
  ASSERT_OK(db.HasMany("users", "posts"));
  for (int i = 1; i <= 3; ++i) {
    ASSERT_OK(db.Insert("users", {{"name", "new"}}).status());
    ASSERT_OK(db.Insert("posts", {{"user_id", i}, {"title", "new"}}).status());
  }
  const std::string before = db.DebugString();
  // Same names, same slots: the old handles must not read or write them.
  EXPECT_THAT(old_user.Get("name"), StatusIs(kFailedPrecondition, HasSubstr("stale")));
  ExpectEveryHandleCallFails(db, old_user, old_post, kFailedPrecondition, "stale or deleted row");
  EXPECT_EQ(db.DebugString(), before);
}

TEST(DroppedTableTest, AResultSetTakenBeforeTheDropFailsCleanly) {
  Database db = Blog(3);
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db.Query("users").Preload("posts").WithCount("posts").OrderBy("id", kDesc).Get());
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db.Query("posts").Get());
  ASSERT_OK(db.DropTable("posts"));
  ASSERT_OK(db.DropTable("users"));
  ASSERT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
  ASSERT_OK(db.Insert("users", {{"name", "new"}}).status());
  ASSERT_EQ(users.size(), 3u);
  for (const ResultRow& u : users) {
    EXPECT_THAT(u.GetInt64("id"), StatusIs(kFailedPrecondition, HasSubstr("stale")));
    // What the query attached is the result's own data, still readable.
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> kids, u.Preloaded("posts"));
    ASSERT_EQ(kids.size(), 1u);
    EXPECT_THAT(kids[0].Get("title"), StatusIs(kFailedPrecondition, HasSubstr("stale")));
    EXPECT_THAT(u.Extra("posts_count"), IsOkAndHolds(Value(1)));
  }
  EXPECT_EQ(users.DebugString(), "<stale row>\n<stale row>\n<stale row>\n");
  EXPECT_EQ(posts.row_ids().size(), 3u);
  ASSERT_OK_AND_ASSIGN(ExtraColumn counts, users.Extras("posts_count"));
  EXPECT_EQ(counts[0], Value(1));
}

TEST(ResultRowTest, ACopyOutlivesItsResultSet) {
  Database db = Blog(2);
  ASSERT_OK(db.Insert("posts", {{"user_id", 2}, {"title", "second"}}).status());
  ResultRow kept;
  ResultRow kept_child;
  Row plain;
  {
    ASSERT_OK_AND_ASSIGN(ResultSet users,
                         db.Query("users").Preload("posts").WithCount("posts").Get());
    kept = users[1];  // a copy holds the result
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> kids, users[1].Preloaded("posts"));
    kept_child = kids[1];
    plain = users[0];  // a slice keeps the handle only
  }  // the ResultSet is gone: without the hold, ASan reports heap-use-after-free below
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> kids, kept.Preloaded("posts"));
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_THAT(kids[1].GetString("title"), IsOkAndHolds("second"));
  EXPECT_THAT(kept.Extra("posts_count"), IsOkAndHolds(Value(2)));
  EXPECT_THAT(kept_child.GetString("title"), IsOkAndHolds("second"));
  EXPECT_THAT(plain.GetInt64("id"), IsOkAndHolds(1));
  // Copies of copies, assignment and moves keep exactly one hold each.
  ResultRow a = kept;
  ResultRow b;
  b = a;
  ResultRow c = std::move(a);
  kept = ResultRow();
  EXPECT_THAT(c.Extra("posts_count"), IsOkAndHolds(Value(2)));
  EXPECT_THAT(b.Extra("posts_count"), IsOkAndHolds(Value(2)));
}

TEST(ResultRowTest, RowsOfAPlainResultCarryNothing) {
  Database db = Blog(1);
  ASSERT_OK_AND_ASSIGN(Row user, db.FindOrFail("users", 1));
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db.Related(user, "posts").Get());
  ResultRow copy = posts[0];
  EXPECT_THAT(copy.Preloaded("comments"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(copy.Extra("x"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(copy.GetString("title"), IsOkAndHolds("p1"));
}

}  // namespace
}  // namespace kin::test
