// A foreign key with a declared action holds on both sides (SQLite's FOREIGN
// KEY): a child can never name a missing parent, through any write path, a
// declaration over existing rows, or a snapshot; a parent change that would
// orphan children applies the action or is refused. Without an action the
// key is Lucid's: not enforced.

#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

constexpr auto kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

class ForeignKeySidesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("posts",
                              Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
    ASSERT_OK(db_.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
    ASSERT_OK_AND_ASSIGN(ann_, db_.Insert("users", {{"name", "ann"}}));
    ASSERT_OK(db_.Insert("posts", {{"user_id", 1}, {"title", "a"}}).status());
    before_ = db_.DebugString();
  }
  void ExpectUnchanged() { EXPECT_EQ(db_.DebugString(), before_); }

  static auto Missing() {
    return StatusIs(kFailedPrecondition, HasSubstr("posts.user_id = 99 names no row of users.id"));
  }

  Database db_;
  Row ann_;
  std::string before_;
};

TEST_F(ForeignKeySidesTest, InsertNamingAMissingParentIsRefused) {
  EXPECT_THAT(db_.Insert("posts", {{"user_id", 99}}), Missing());
  ExpectUnchanged();
  // NULL is allowed (the column is nullable), as in SQL.
  EXPECT_OK(db_.Insert("posts", {{"title", "orphan by choice"}}).status());
}

TEST_F(ForeignKeySidesTest, InsertManyIsCheckedAsAWholeAndRefusedAsAWhole) {
  EXPECT_THAT(db_.InsertMany("posts", {{{"user_id", 1}}, {{"user_id", 99}}}), Missing());
  ExpectUnchanged();
  // A parent inserted in the same call is fine, whatever the order.
  ASSERT_OK(db_.CreateTable("nodes", Schema().Int64("id", PrimaryKey()).Int64("parent_id")));
  ASSERT_OK(db_.HasMany("nodes", "nodes",
                        {.name = "children",
                         .foreign_key = "parent_id",
                         .inverse = "parent",
                         .on_delete = OnDelete::kCascade}));
  EXPECT_OK(db_.InsertMany("nodes", {{{"id", 2}, {"parent_id", 1}}, {{"id", 1}}}).status());
  EXPECT_OK(db_.Insert("nodes", {{"id", 3}, {"parent_id", 3}}).status());  // itself
}

TEST_F(ForeignKeySidesTest, InsertBatchIsRefusedAsAWhole) {
  RowBatch batch;
  batch.Int64("user_id", {1, 99, 1});
  EXPECT_THAT(db_.InsertBatch("posts", std::move(batch)), Missing());
  ExpectUnchanged();
  RowBatch nulls;
  nulls.Int64("user_id", {1, 0}).Nulls("user_id", {false, true});
  EXPECT_THAT(db_.InsertBatch("posts", std::move(nulls)), IsOkAndHolds(2u));
}

TEST_F(ForeignKeySidesTest, UpdateToAMissingParentIsRefused) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.FindOrFail("posts", 1));
  EXPECT_THAT(db_.Update(post, {{"user_id", 99}}), Missing());
  ExpectUnchanged();
  EXPECT_THAT(db_.Update(post, {{"user_id", Value()}}), IsOkAndHolds(true));
}

TEST_F(ForeignKeySidesTest, WritesThroughRelationsAreCheckedToo) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.FindOrFail("posts", 1));
  EXPECT_THAT(db_.Related(ann_, "posts").Update({{"user_id", 99}}), Missing());
  EXPECT_THAT(db_.Query("posts").Update({{"user_id", 99}}), Missing());
  ExpectUnchanged();
  // Associate can only name an existing row: it is checked as a handle.
  ASSERT_OK(db_.Delete(ann_));  // cascades to the post
  EXPECT_FALSE(post.valid());
}

TEST_F(ForeignKeySidesTest, ParentKeyChangeWithNoUpdateActionIsRefused) {
  // on_delete is declared, so the key is enforced; on_update is no action:
  // changing a referenced key would orphan the children, so it is refused.
  EXPECT_THAT(db_.Update(ann_, {{"id", 5}}),
              StatusIs(kFailedPrecondition,
                       "cannot change users.id from 1: 1 row(s) of posts.user_id reference it "
                       "(on update no action)"));
  ExpectUnchanged();
  ASSERT_OK_AND_ASSIGN(Row lone, db_.Insert("users", {{"name", "lone"}}));
  EXPECT_THAT(db_.Update(lone, {{"id", 50}}), IsOkAndHolds(true));  // no children
}

TEST_F(ForeignKeySidesTest, ParentDeleteWithNoDeleteActionIsRefused) {
  ASSERT_OK(db_.CreateTable("badges", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "badges", {.on_update = OnUpdate::kCascade}));
  ASSERT_OK_AND_ASSIGN(Row bo, db_.Insert("users", {{"name", "bo"}}));
  ASSERT_OK(db_.Related(bo, "badges").Create({}).status());
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Delete(bo),
              StatusIs(kFailedPrecondition, HasSubstr("reference it (on delete no action)")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.Update(bo, {{"id", 7}}), IsOkAndHolds(true));  // cascades
  EXPECT_THAT(db_.Related(bo, "badges").Count(), IsOkAndHolds(1));
}

TEST_F(ForeignKeySidesTest, DeclaringOverRowsThatBreakTheKeyIsRefused) {
  ASSERT_OK(db_.CreateTable("likes", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.Insert("likes", {{"user_id", 1}}).status());
  ASSERT_OK(db_.Insert("likes", {{"user_id", 42}}).status());
  const std::string before = db_.DebugString();
  EXPECT_THAT(
      db_.HasMany("users", "likes", {.on_delete = OnDelete::kCascade}),
      StatusIs(kFailedPrecondition, HasSubstr("likes.user_id = 42 names no row of users.id")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.GetRelation("users", "likes"), StatusIs(absl::StatusCode::kNotFound));
  // Without an action the relation is Lucid's and accepts the dangling row.
  EXPECT_OK(db_.HasMany("users", "likes"));
}

TEST_F(ForeignKeySidesTest, WithoutAnActionTheKeyIsNotEnforced) {
  ASSERT_OK(db_.CreateTable("views", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "views"));
  EXPECT_OK(db_.Insert("views", {{"user_id", 99}}).status());
  EXPECT_OK(db_.Delete(ann_));
}

TEST_F(ForeignKeySidesTest, ASnapshotWhoseRowsBreakAnEnforcedKeyIsDataLoss) {
  Database db;
  ASSERT_OK(db.CreateTable("users", Schema().Int64("id", ManualPrimaryKey())));
  ASSERT_OK(db.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
  const int64_t key = 777777;
  ASSERT_OK(db.Insert("users", {{"id", key}}).status());
  ASSERT_OK(db.Insert("posts", {{"user_id", key}}).status());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db));
  ASSERT_OK(LoadSnapshotFromString(bytes).status());
  // Forge: the user's id (the first copy of the key in the file) changes, so
  // the post names a user that is not there.
  char pattern[8];
  std::memcpy(pattern, &key, 8);
  size_t at = bytes.find(std::string(pattern, 8), kPayloadOffset);
  ASSERT_NE(at, std::string::npos);
  const int64_t other = key - 1;
  std::memcpy(&bytes[at], &other, 8);
  EXPECT_THAT(LoadSnapshotFromString(Reseal(bytes)),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("posts.user_id = 777777 names no row of users.id")));
}

}  // namespace
}  // namespace kin::test
