// Referential actions declared on a relation and enforced by the engine.

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

class ActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("users", UsersSchema()));
    ASSERT_OK(db_.CreateTable("posts", PostsSchema()));
    ASSERT_OK(db_.CreateTable("comments",
                              Schema().Int64("id", PrimaryKey()).Int64("post_id").String("body")));
  }
  void Seed() {
    user_ = db_.Insert("users", {{"email", "a"}}).value();
    post_ = db_.Related(user_, "posts").Create({{"title", "p"}}).value();
    ASSERT_OK(
        db_.Related(post_, "comments").CreateMany({{{"body", "1"}}, {{"body", "2"}}}).status());
  }
  Database db_;
  Row user_;
  Row post_;
};

TEST_F(ActionsTest, NoActionByDefaultLeavesOrphans) {
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK(db_.HasMany("posts", "comments"));
  Seed();
  ASSERT_OK(db_.Delete(user_));
  EXPECT_EQ(post_.GetInt64("user_id").value(), 1);  // points at a missing user
  EXPECT_FALSE(db_.Related(post_, "user").Parent().value().has_value());
}

TEST_F(ActionsTest, CascadeDeletesAllTheWayDown) {
  ASSERT_OK(db_.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
  ASSERT_OK(db_.HasMany("posts", "comments", {.on_delete = OnDelete::kCascade}));
  Seed();
  ASSERT_OK(db_.Delete(user_));
  EXPECT_TRUE(db_.FindTable("posts")->empty());
  EXPECT_TRUE(db_.FindTable("comments")->empty());
  ASSERT_OK(db_.CheckConsistency());
}

TEST_F(ActionsTest, RestrictRefusesAndChangesNothing) {
  ASSERT_OK(db_.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
  ASSERT_OK(db_.HasMany("posts", "comments", {.on_delete = OnDelete::kRestrict}));
  Seed();
  const std::string before = db_.DebugString();
  // The cascade reaches the post, whose comments restrict: all undone.
  EXPECT_THAT(
      db_.Delete(user_),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("2 row(s) of comments.post_id reference it (on delete restrict)")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ActionsTest, SetNullKeepsChildren) {
  ASSERT_OK(db_.HasMany("users", "posts", {.on_delete = OnDelete::kSetNull}));
  ASSERT_OK(db_.HasMany("posts", "comments"));
  Seed();
  ASSERT_OK(db_.Delete(user_));
  EXPECT_TRUE(post_.Get("user_id").value().is_null());
}

TEST_F(ActionsTest, OnUpdateCascadeFollowsTheNewKey) {
  ASSERT_OK(db_.HasMany("users", "posts", {.on_update = OnUpdate::kCascade}));
  ASSERT_OK(db_.HasMany("posts", "comments"));
  Seed();
  ASSERT_OK(db_.Update(user_, {{"id", 500}}).status());
  EXPECT_EQ(post_.GetInt64("user_id").value(), 500);
  EXPECT_EQ(db_.Related(user_, "posts").Count().value(), 1);
}

TEST_F(ActionsTest, ActionsInTheCatalogMatchTheEngine) {
  ASSERT_OK(db_.HasMany("users", "posts",
                        {.on_delete = OnDelete::kCascade, .on_update = OnUpdate::kRestrict}));
  ASSERT_EQ(db_.foreign_keys().size(), 1u);
  EXPECT_EQ(db_.foreign_keys()[0].child_column, "user_id");
  EXPECT_EQ(db_.foreign_keys()[0].on_delete, OnDelete::kCascade);
  EXPECT_EQ(db_.GetRelation("users", "posts").value()->on_update, OnUpdate::kRestrict);
}

}  // namespace
}  // namespace kin::test
