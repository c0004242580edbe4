// Transactions closed out of order: a kin::Transaction closes only the
// savepoint it opened, raw Commit/Rollback cannot close a scoped one, and
// Atomically restores and reports a body that leaves work open. Committed
// work is never lost and nothing is half done.

#include <string>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/status_macros.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

constexpr auto kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

class TransactionOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("items", Schema().Int64("id", PrimaryKey()).String("name")));
  }
  absl::Status Add(const std::string& name) {
    return db_.Insert("items", {{"name", name}}).status();
  }
  size_t Count() { return db_.FindTable("items")->size(); }

  Database db_;
};

TEST_F(TransactionOrderTest, OuterCommitWhileInnerIsOpenIsRefused) {
  Transaction outer(db_);
  ASSERT_OK(Add("outer"));
  {
    Transaction inner(db_);
    ASSERT_OK(Add("inner"));
    // Before the fix this closed the inner savepoint, and inner's
    // destructor then rolled back the outer's work: committed rows vanished.
    EXPECT_THAT(outer.Commit(),
                StatusIs(kFailedPrecondition, HasSubstr("1 transaction(s) opened inside this one "
                                                        "are still open")));
    EXPECT_THAT(outer.Rollback(), StatusIs(kFailedPrecondition, HasSubstr("still open")));
    EXPECT_EQ(db_.transaction_depth(), 2);
    ASSERT_OK(inner.Commit());
  }
  ASSERT_OK(outer.Commit());
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(Count(), 2u);
}

TEST_F(TransactionOrderTest, InnerDestroyedWithoutCommitRollsBackOnlyItself) {
  Transaction outer(db_);
  ASSERT_OK(Add("outer"));
  {
    Transaction inner(db_);
    ASSERT_OK(Add("inner"));
  }
  ASSERT_OK(outer.Commit());
  EXPECT_EQ(Count(), 1u);
}

TEST_F(TransactionOrderTest, RawCallsCannotCloseAScopedTransaction) {
  Transaction tx(db_);
  ASSERT_OK(Add("a"));
  EXPECT_THAT(db_.Commit(), StatusIs(kFailedPrecondition, HasSubstr("kin::Transaction")));
  EXPECT_THAT(db_.Rollback(), StatusIs(kFailedPrecondition, HasSubstr("kin::Transaction")));
  EXPECT_EQ(db_.transaction_depth(), 1);
  ASSERT_OK(tx.Commit());
  EXPECT_EQ(Count(), 1u);
}

TEST_F(TransactionOrderTest, RawSavepointsInsideAScopedOne) {
  Transaction tx(db_);
  ASSERT_OK(db_.Begin());
  ASSERT_OK(Add("kept"));
  ASSERT_OK(db_.Commit());
  ASSERT_OK(db_.Begin());
  ASSERT_OK(Add("undone"));
  ASSERT_OK(db_.Rollback());
  ASSERT_OK(tx.Commit());
  EXPECT_EQ(Count(), 1u);
}

TEST_F(TransactionOrderTest, ADestructorRollsBackARawSavepointLeftOpenInside) {
  const std::string before = db_.DebugString();
  {
    Transaction tx(db_);
    ASSERT_OK(Add("a"));
    ASSERT_OK(db_.Begin());
    ASSERT_OK(Add("b"));
    EXPECT_THAT(tx.Commit(), StatusIs(kFailedPrecondition, HasSubstr("still open")));
  }
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(TransactionOrderTest, ClosingTwiceIsRefused) {
  Transaction tx(db_);
  ASSERT_OK(tx.Commit());
  EXPECT_THAT(tx.Commit(), StatusIs(kFailedPrecondition, "transaction already finished"));
  EXPECT_THAT(tx.Rollback(), StatusIs(kFailedPrecondition, "transaction already finished"));
}

TEST_F(TransactionOrderTest, AtomicallyBodyCannotCloseTheCallersTransaction) {
  Transaction caller(db_);
  ASSERT_OK(Add("before"));
  absl::Status closed_by_body;
  absl::Status s = db_.Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(Add("in body"));
    closed_by_body = caller.Commit();  // the caller's, from inside
    return absl::OkStatus();
  });
  EXPECT_THAT(closed_by_body, StatusIs(kFailedPrecondition, HasSubstr("still open")));
  ASSERT_OK(s);  // the body's own work committed into the caller's
  EXPECT_EQ(Count(), 2u);
  ASSERT_OK(caller.Rollback());
  EXPECT_EQ(Count(), 0u);
}

TEST_F(TransactionOrderTest, AtomicallyBodyCannotCommitItsOwnSavepointRaw) {
  absl::Status raw;
  ASSERT_OK(db_.Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(Add("x"));
    raw = db_.Commit();
    return absl::OkStatus();
  }));
  EXPECT_THAT(raw, StatusIs(kFailedPrecondition, HasSubstr("Atomically")));
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(Count(), 1u);
}

TEST_F(TransactionOrderTest, AtomicallyBodyThatLeavesWorkOpenIsRolledBackAndReported) {
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(Add("x"));
    KIN_RETURN_IF_ERROR(db_.Begin());
    return Add("y");
  }),
              StatusIs(kFailedPrecondition, HasSubstr("left 1 transaction(s) open")));
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(TransactionOrderTest, AtomicallyErrorWinsOverLeftOpenWork) {
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.Begin());
    KIN_RETURN_IF_ERROR(Add("y"));
    return absl::AbortedError("body failed");
  }),
              StatusIs(absl::StatusCode::kAborted, "body failed"));
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(TransactionOrderTest, ATransactionHeldAcrossARelationWrite) {
  ASSERT_OK(db_.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db_.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK_AND_ASSIGN(Row user, db_.Insert("users", {}));
  Transaction tx(db_);
  ASSERT_OK(db_.Related(user, "posts").CreateMany({{}, {}}).status());
  ASSERT_OK(tx.Commit());
  EXPECT_THAT(db_.Related(user, "posts").Count(), IsOkAndHolds(2));
}

}  // namespace
}  // namespace kin::test
