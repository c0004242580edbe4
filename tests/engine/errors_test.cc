// Every failed write returns a clear status with the right code and a
// message naming table, column and value, AND leaves the database exactly
// as it was: each test compares Engine::DebugString() before and after.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;
constexpr absl::StatusCode kAlreadyExists = absl::StatusCode::kAlreadyExists;
constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable("users", Schema()
                                               .Int64("id", PrimaryKey())
                                               .String("email", Unique(), NotNull())
                                               .Double("rating")
                                               .Bool("admin", Default(false))));
    ASSERT_OK(engine_.CreateTable("posts", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("user_id", NotNull(), Indexed())
                                               .String("title", NotNull())
                                               .String("body")));
    ASSERT_OK_AND_ASSIGN(ann_, engine_.Insert("users", {{"email", "ann@x"}}));
    ASSERT_OK_AND_ASSIGN(bob_, engine_.Insert("users", {{"email", "bob@x"}}));
    ASSERT_OK_AND_ASSIGN(post_, engine_.Insert("posts", {{"user_id", 1}, {"title", "Hi"}}));
    ASSERT_OK(engine_.Delete(bob_));  // leaves a free slot: a failed insert must not take it
    before_ = engine_.DebugString();
  }

  // Every test ends by checking that nothing changed.
  void TearDown() override {
    EXPECT_EQ(engine_.DebugString(), before_);
    EXPECT_OK(engine_.CheckConsistency());
  }

  Engine engine_;
  Row ann_, bob_, post_;
  std::string before_;
};

TEST_F(ErrorsTest, TypeMismatchOnInsert) {
  EXPECT_THAT(engine_.Insert("posts", {{"user_id", "abc"}, {"title", "x"}}),
              StatusIs(kInvalidArgument, "posts.user_id: expected int64, got string \"abc\""));
  EXPECT_THAT(engine_.Insert("posts", {{"user_id", 1}, {"title", 5}}),
              StatusIs(kInvalidArgument, "posts.title: expected string, got int64 5"));
  EXPECT_THAT(engine_.Insert("users", {{"email", "c@x"}, {"admin", 1}}),
              StatusIs(kInvalidArgument, "users.admin: expected bool, got int64 1"));
  EXPECT_THAT(engine_.Insert("users", {{"email", "c@x"}, {"rating", "high"}}),
              StatusIs(kInvalidArgument, "users.rating: expected double, got string \"high\""));
  EXPECT_THAT(engine_.Insert("users", {{"id", 2.5}, {"email", "c@x"}}),
              StatusIs(kInvalidArgument, "users.id: expected int64, got double 2.5"));
  EXPECT_THAT(engine_.Insert("users", {{"email", true}}),
              StatusIs(kInvalidArgument, "users.email: expected string, got bool true"));
}

TEST_F(ErrorsTest, TypeMismatchOnUpdate) {
  EXPECT_THAT(engine_.Update(post_, {{"user_id", "abc"}}),
              StatusIs(kInvalidArgument, "posts.user_id: expected int64, got string \"abc\""));
  // The first bad column fails the whole update: the good one is not applied.
  EXPECT_THAT(engine_.Update(post_, {{"title", "New"}, {"body", 3}}),
              StatusIs(kInvalidArgument, "posts.body: expected string, got int64 3"));
  EXPECT_THAT(post_.GetString("title"), IsOkAndHolds("Hi"));
}

TEST_F(ErrorsTest, NullIntoNotNull) {
  EXPECT_THAT(engine_.Insert("posts", {{"user_id", 1}, {"title", nullptr}}),
              StatusIs(kInvalidArgument, "posts.title: NULL for a NOT NULL column"));
  EXPECT_THAT(engine_.Update(post_, {{"user_id", nullptr}}),
              StatusIs(kInvalidArgument, "posts.user_id: NULL for a NOT NULL column"));
  EXPECT_THAT(engine_.Update(ann_, {{"id", nullptr}}),
              StatusIs(kInvalidArgument, "users.id: NULL for a NOT NULL column"));
}

TEST_F(ErrorsTest, MissingNotNullValue) {
  EXPECT_THAT(engine_.Insert("posts", {{"user_id", 1}}),
              StatusIs(kInvalidArgument, "posts.title: missing value for a NOT NULL column"));
  EXPECT_THAT(engine_.Insert("users", {}),
              StatusIs(kInvalidArgument, "users.email: missing value for a NOT NULL column"));
}

TEST_F(ErrorsTest, DuplicatePrimaryKey) {
  EXPECT_THAT(engine_.Insert("users", {{"id", 1}, {"email", "new@x"}}),
              StatusIs(kAlreadyExists, "users.id: duplicate value 1"));
  ASSERT_OK_AND_ASSIGN(Row second, engine_.Insert("posts", {{"user_id", 1}, {"title", "2"}}));
  before_ = engine_.DebugString();
  EXPECT_THAT(engine_.Update(second, {{"id", 1}}),
              StatusIs(kAlreadyExists, "posts.id: duplicate value 1"));
}

TEST_F(ErrorsTest, DuplicateUniqueKey) {
  EXPECT_THAT(engine_.Insert("users", {{"email", "ann@x"}}),
              StatusIs(kAlreadyExists, "users.email: duplicate value \"ann@x\""));
  ASSERT_OK_AND_ASSIGN(Row cy, engine_.Insert("users", {{"email", "cy@x"}}));
  before_ = engine_.DebugString();
  EXPECT_THAT(engine_.Update(cy, {{"email", "ann@x"}}),
              StatusIs(kAlreadyExists, "users.email: duplicate value \"ann@x\""));
}

TEST_F(ErrorsTest, UnknownTable) {
  EXPECT_THAT(engine_.Insert("usres", {{"email", "x"}}),
              StatusIs(kNotFound, "no table named 'usres'"));
  EXPECT_THAT(engine_.InsertMany("usres", std::vector<Attrs>{{{"email", "x"}}}),
              StatusIs(kNotFound, "no table named 'usres'"));
  EXPECT_THAT(engine_.FindOrFail("usres", 1), StatusIs(kNotFound, "no table named 'usres'"));
  EXPECT_THAT(engine_.DropTable("usres"), StatusIs(kNotFound, "no table named 'usres'"));
  EXPECT_THAT(engine_.CreateIndex("usres", "email"), StatusIs(kNotFound, "no table named 'usres'"));
}

TEST_F(ErrorsTest, UnknownColumn) {
  EXPECT_THAT(engine_.Insert("users", {{"email", "c@x"}, {"emial", "c@x"}}),
              StatusIs(kInvalidArgument, "table 'users': no column named 'emial'"));
  EXPECT_THAT(engine_.Update(ann_, {{"nmae", "Ann"}}),
              StatusIs(kInvalidArgument, "table 'users': no column named 'nmae'"));
  EXPECT_THAT(ann_.Get("nmae"),
              StatusIs(kInvalidArgument, "table 'users': no column named 'nmae'"));
  EXPECT_THAT(engine_.CreateIndex("users", "nmae"),
              StatusIs(kInvalidArgument, "table 'users': no column named 'nmae'"));
}

TEST_F(ErrorsTest, DuplicateAttribute) {
  EXPECT_THAT(engine_.Insert("users", {{"email", "c@x"}, {"email", "d@x"}}),
              StatusIs(kInvalidArgument, "table 'users': column 'email' given twice"));
  EXPECT_THAT(engine_.Update(ann_, {{"rating", 1.0}, {"rating", 2.0}}),
              StatusIs(kInvalidArgument, "table 'users': column 'rating' given twice"));
}

TEST_F(ErrorsTest, StaleRowHandle) {
  EXPECT_FALSE(bob_.valid());
  EXPECT_THAT(engine_.Update(bob_, {{"email", "b2@x"}}),
              StatusIs(kFailedPrecondition, "table 'users': stale or deleted row (slot 1)"));
  EXPECT_THAT(engine_.Delete(bob_),
              StatusIs(kFailedPrecondition, "table 'users': stale or deleted row (slot 1)"));
  EXPECT_THAT(bob_.Get("email"), StatusIs(kFailedPrecondition, HasSubstr("stale")));
  EXPECT_THAT(engine_.Update(Row(), {{"email", "x"}}),
              StatusIs(kFailedPrecondition, "empty row handle"));
}

TEST_F(ErrorsTest, InsertManyFailsAsAWholeAndNamesTheRow) {
  std::vector<Attrs> batch = {
      {{"email", "c@x"}},
      {{"email", "d@x"}},
      {{"email", "ann@x"}},  // duplicate
      {{"email", "e@x"}},
  };
  EXPECT_THAT(engine_.InsertMany("users", batch),
              StatusIs(kAlreadyExists, "row 2: users.email: duplicate value \"ann@x\""));
  // A duplicate within the batch itself is caught too.
  batch[2] = {{"email", "c@x"}};
  EXPECT_THAT(engine_.InsertMany("users", batch),
              StatusIs(kAlreadyExists, "row 2: users.email: duplicate value \"c@x\""));
}

TEST_F(ErrorsTest, FailedCallsInsideATransactionKeepItUsable) {
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Insert("users", {{"email", "c@x"}}).status());
  std::string mid = engine_.DebugString();
  EXPECT_THAT(engine_.Insert("users", {{"email", "c@x"}}), StatusIs(kAlreadyExists));
  EXPECT_THAT(engine_.Insert("posts", {{"title", "no user"}}), StatusIs(kInvalidArgument));
  EXPECT_EQ(engine_.DebugString(), mid);
  EXPECT_EQ(engine_.transaction_depth(), 1);
  ASSERT_OK(engine_.Rollback());
}

TEST_F(ErrorsTest, FailedInsertDoesNotConsumeAnId) {
  const Table& users = *engine_.FindTable("users");
  EXPECT_EQ(users.next_auto_increment(), 3);
  EXPECT_THAT(engine_.Insert("users", {{"email", "ann@x"}}), StatusIs(kAlreadyExists));
  EXPECT_THAT(engine_.Insert("users", {{"email", 7}}), StatusIs(kInvalidArgument));
  EXPECT_EQ(users.next_auto_increment(), 3);
  EXPECT_EQ(users.free_slots().size(), 1u);  // bob's slot is still free
}

TEST_F(ErrorsTest, SchemaErrors) {
  EXPECT_THAT(engine_.CreateTable("users", Schema().Int64("id", PrimaryKey())),
              StatusIs(kAlreadyExists, "table 'users' already exists"));
  EXPECT_THAT(engine_.CreateIndex("users", "rating"),
              StatusIs(kInvalidArgument,
                       "users.rating: only int64 and string columns can be indexed, not double"));
  EXPECT_THAT(engine_.CreateTable("t", Schema().Double("id", PrimaryKey())),
              StatusIs(kInvalidArgument, HasSubstr("t.id: primary key must be int64 or string")));
}

}  // namespace
}  // namespace kin
