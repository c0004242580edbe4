// Update / Delete over a query's rows: counts, values, indexes afterwards,
// windows (OrderBy + Limit), foreign-key actions, and all-or-nothing
// failures.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "kin/query.h"
#include "tests/query/fixture.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::Column;
using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class WriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MakeBlogSchema(engine_);
    for (int u = 1; u <= 3; ++u) {
      ASSERT_OK(engine_
                    .Insert("users", {{"id", u},
                                      {"email", absl::StrCat("u", u, "@x")},
                                      {"name", absl::StrCat("user", u)},
                                      {"score", u * 10}})
                    .status());
    }
    // posts 1..9: user (k % 3) + 1, created_at 100 * k, published when even.
    for (int k = 1; k <= 9; ++k) {
      ASSERT_OK(engine_
                    .Insert("posts", {{"id", k},
                                      {"user_id", k % 3 + 1},
                                      {"title", absl::StrCat("post", k)},
                                      {"created_at", 100 * k},
                                      {"is_published", k % 2 == 0}})
                    .status());
    }
  }

  std::vector<int64_t> PostsOf(int64_t user) {
    Query q(engine_, "posts");
    q.Where("user_id", user);
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? Column(*rows) : std::vector<int64_t>{};
  }

  std::vector<int64_t> Children(int64_t user) {
    const Table& posts = *engine_.FindTable("posts");
    std::vector<int64_t> out;
    for (RowId id : posts.Children(*posts.FindColumn("user_id"), user)) {
      out.push_back(*posts.GetRow(id).GetInt64("id"));
    }
    return out;
  }

  Database engine_;
};

TEST_F(WriteTest, UpdateReturnsCountAndSetsValues) {
  Query q(engine_, "posts");
  q.Where("is_published", false);
  EXPECT_THAT(q.Update({{"title", "draft"}, {"rating", 1.5}}), IsOkAndHolds(5));
  Query check(engine_, "posts");
  check.Where("title", "draft").Where("rating", 1.5);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, check.Get());
  EXPECT_THAT(Column(rows), ElementsAre(1, 3, 5, 7, 9));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(WriteTest, UpdateCountsSelectedRowsEvenWhenUnchanged) {
  Query q(engine_, "posts");
  q.Where("user_id", 1);  // posts 3, 6, 9
  EXPECT_THAT(q.Update({{"user_id", 1}}), IsOkAndHolds(3));
}

TEST_F(WriteTest, UpdateOfIndexedColumnMovesRowsBetweenKeys) {
  EXPECT_THAT(PostsOf(2), ElementsAre(1, 4, 7));
  Query q(engine_, "posts");
  q.Where("user_id", 2).Where("created_at", ">", 150);
  EXPECT_THAT(q.Update({{"user_id", 3}}), IsOkAndHolds(2));
  EXPECT_THAT(PostsOf(2), ElementsAre(1));
  // Moved rows join the end of their new key's list.
  EXPECT_THAT(PostsOf(3), ElementsAre(2, 5, 8, 4, 7));
  EXPECT_THAT(Children(3), ElementsAre(2, 5, 8, 4, 7));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(WriteTest, UpdateOfPrimaryKeyKeepsIndexConsistent) {
  Query q(engine_, "posts");
  q.Where("id", 9);
  EXPECT_THAT(q.Update({{"id", 90}}), IsOkAndHolds(1));
  EXPECT_FALSE(engine_.FindTable("posts")->Find(9).has_value());
  Query by_pk(engine_, "posts");
  by_pk.Where("id", 90);
  ASSERT_OK_AND_ASSIGN(Row r, by_pk.First());
  EXPECT_THAT(r.GetInt64("created_at"), IsOkAndHolds(900));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(WriteTest, UpdateHonoursOrderAndLimit) {
  Query q(engine_, "posts");
  q.OrderBy("created_at", kDesc).Limit(2);
  EXPECT_THAT(q.Update({{"title", "top"}}), IsOkAndHolds(2));
  Query check(engine_, "posts");
  check.Where("title", "top");
  ASSERT_OK_AND_ASSIGN(ResultSet rows, check.Get());
  EXPECT_THAT(Column(rows), ElementsAre(8, 9));
}

TEST_F(WriteTest, UpdateMatchingNothing) {
  std::string before = engine_.DebugString();
  Query q(engine_, "posts");
  q.Where("user_id", 42);
  EXPECT_THAT(q.Update({{"title", "x"}}), IsOkAndHolds(0));
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(WriteTest, UpdateFailingMidwayChangesNothing) {
  // users.email is unique: the second row updated collides with the first.
  std::string before = engine_.DebugString();
  Query q(engine_, "users");
  q.Where("id", "<=", 2);
  EXPECT_THAT(q.Update({{"email", "same@x"}}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("users.email")));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(WriteTest, UpdateInsideAnOuterTransactionRollsBackWithIt) {
  std::string before = engine_.DebugString();
  {
    Transaction tx(engine_);
    Query q(engine_, "posts");
    q.WhereIn("id", {1, 2, 3});
    EXPECT_THAT(q.Update({{"title", "x"}}), IsOkAndHolds(3));
    EXPECT_THAT(Query(engine_, "posts").Where("title", "x").Count(), IsOkAndHolds(3));
  }  // rolled back
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(WriteTest, DeleteReturnsCountAndUpdatesIndexes) {
  Query q(engine_, "posts");
  q.Where("user_id", 1).OrWhere("id", 1);  // 3, 6, 9 and 1
  EXPECT_THAT(q.Delete(), IsOkAndHolds(4));
  EXPECT_THAT(PostsOf(1), IsEmpty());
  EXPECT_THAT(Children(1), IsEmpty());
  EXPECT_THAT(PostsOf(2), ElementsAre(4, 7));
  EXPECT_THAT(Query(engine_, "posts").Count(), IsOkAndHolds(5));
  EXPECT_FALSE(engine_.FindTable("posts")->Find(3).has_value());
  EXPECT_OK(engine_.CheckConsistency());
  // Deleting again finds nothing.
  EXPECT_THAT(q.Delete(), IsOkAndHolds(0));
}

TEST_F(WriteTest, DeleteHonoursOrderAndLimit) {
  Query q(engine_, "posts");
  q.OrderBy("created_at").Limit(3);
  EXPECT_THAT(q.Delete(), IsOkAndHolds(3));
  ASSERT_OK_AND_ASSIGN(ResultSet rest, Query(engine_, "posts").Get());
  EXPECT_THAT(Column(rest), ElementsAre(4, 5, 6, 7, 8, 9));
}

TEST_F(WriteTest, DeleteRestrictedChangesNothing) {
  ASSERT_OK(internal::DatabaseAccess::engine(engine_).RemoveForeignKey("posts", "user_id"));
  ASSERT_OK(
      internal::DatabaseAccess::engine(engine_).AddForeignKey({.child_table = "posts",
                                                               .child_column = "user_id",
                                                               .parent_table = "users",
                                                               .parent_column = "id",
                                                               .on_delete = OnDelete::kRestrict}));
  ASSERT_OK(engine_.Insert("users", {{"id", 4}, {"email", "u4@x"}}).status());
  std::string before = engine_.DebugString();
  Query q(engine_, "users");
  q.OrderBy("id", kDesc);  // user 4 (no posts) goes first, then user 3 fails
  EXPECT_THAT(q.Delete(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("restrict")));
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(WriteTest, DeleteWithCascadeCountsSelectedRows) {
  ASSERT_OK(engine_.CreateTable(
      "nodes", Schema().Int64("id", PrimaryKey()).Int64("parent_id").String("tag")));
  ASSERT_OK(
      internal::DatabaseAccess::engine(engine_).AddForeignKey({.child_table = "nodes",
                                                               .child_column = "parent_id",
                                                               .parent_table = "nodes",
                                                               .parent_column = "id",
                                                               .on_delete = OnDelete::kCascade}));
  // 1 ← 2 ← 3, and 4 on its own; 1, 2 and 4 are tagged.
  ASSERT_OK(engine_.Insert("nodes", {{"id", 1}, {"tag", "x"}}).status());
  ASSERT_OK(engine_.Insert("nodes", {{"id", 2}, {"parent_id", 1}, {"tag", "x"}}).status());
  ASSERT_OK(engine_.Insert("nodes", {{"id", 3}, {"parent_id", 2}}).status());
  ASSERT_OK(engine_.Insert("nodes", {{"id", 4}, {"tag", "x"}}).status());
  Query q(engine_, "nodes");
  q.Where("tag", "x");
  // Deleting 1 cascades to 2 (selected too) and 3 (not selected).
  EXPECT_THAT(q.Delete(), IsOkAndHolds(3));
  EXPECT_THAT(Query(engine_, "nodes").Count(), IsOkAndHolds(0));
  EXPECT_OK(engine_.CheckConsistency());
}

}  // namespace
}  // namespace kin
