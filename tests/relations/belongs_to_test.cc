// The BelongsTo side: the parent of a child, Associate and Dissociate.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

using BelongsToTest = BlogTest;

TEST_F(BelongsToTest, ParentOfAChild) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.Related(alice_, "posts").Create({{"title", "x"}}));
  ASSERT_OK_AND_ASSIGN(std::optional<Row> owner, db_.Related(post, "user").Parent());
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(*owner, alice_);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, db_.Related(post, "user").Get());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], alice_);
}

TEST_F(BelongsToTest, NoParentForANullOrDanglingKey) {
  ASSERT_OK_AND_ASSIGN(Row orphan, db_.Insert("posts", {{"title", "orphan"}}));
  EXPECT_FALSE(db_.Related(orphan, "user").Parent().value().has_value());
  // By default the foreign key is no constraint: it may point nowhere.
  ASSERT_OK_AND_ASSIGN(Row dangling, db_.Insert("posts", {{"title", "d"}, {"user_id", 77}}));
  EXPECT_FALSE(db_.Related(dangling, "user").Parent().value().has_value());
  EXPECT_TRUE(db_.Related(dangling, "user").Get().value().empty());
}

TEST_F(BelongsToTest, AssociateAndDissociate) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.Insert("posts", {{"title", "x"}}));
  ASSERT_OK(db_.Related(post, "user").Associate(bob_));
  EXPECT_EQ(post.GetInt64("user_id").value(), Id(bob_));
  EXPECT_EQ(db_.Related(bob_, "posts").Count().value(), 1);
  ASSERT_OK(db_.Related(post, "user").Dissociate());
  EXPECT_TRUE(post.Get("user_id").value().is_null());
  EXPECT_EQ(db_.Related(bob_, "posts").Count().value(), 0);
}

TEST_F(BelongsToTest, BadInput) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.Related(alice_, "posts").Create({{"title", "x"}}));
  ASSERT_OK_AND_ASSIGN(Row comment, db_.Related(post, "comments").Create({{"body", "c"}}));
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Related(post, "user").Associate(comment),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a row of 'comments' is not a 'users' row")));
  EXPECT_THAT(
      db_.Related(comment, "post").Dissociate(),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("comments.post_id is NOT NULL")));
  EXPECT_THAT(db_.Related(post, "user").Count(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is belongs to")));
  EXPECT_THAT(db_.Related(alice_, "posts").Associate(post),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is has many")));
  EXPECT_EQ(db_.DebugString(), before);
}

}  // namespace
}  // namespace kin::test
