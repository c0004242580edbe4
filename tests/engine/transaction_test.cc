// Transactions: Begin/Commit/Rollback with nested savepoints, the scoped
// kin::Transaction, Atomically, all-or-nothing InsertMany, and the promise
// that a rollback restores every column, bitmap, free list, counter and
// index exactly (DebugString() byte for byte).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/status_macros.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable(
        "users",
        Schema().Int64("id", PrimaryKey()).String("email", Unique()).Int64("score", Default(0))));
    ASSERT_OK(engine_.CreateTable("posts", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("user_id", Indexed())
                                               .String("title")
                                               .Double("rank")));
    for (int i = 1; i <= 3; ++i) {
      ASSERT_OK(engine_.Insert("users", {{"email", absl::StrCat("u", i, "@x")}}).status());
    }
    for (int i = 1; i <= 6; ++i) {
      ASSERT_OK(engine_
                    .Insert("posts", {{"user_id", 1 + i % 3},
                                      {"title", absl::StrCat("post ", i)},
                                      {"rank", i * 0.5}})
                    .status());
    }
  }

  Row User(int64_t id) { return engine_.FindOrFail("users", id).value(); }
  Row Post(int64_t id) { return engine_.FindOrFail("posts", id).value(); }
  size_t Count(absl::string_view table) { return engine_.FindTable(table)->size(); }

  Engine engine_;
};

TEST_F(TransactionTest, CommitKeepsChanges) {
  ASSERT_OK(engine_.Begin());
  EXPECT_EQ(engine_.transaction_depth(), 1);
  ASSERT_OK(engine_.Insert("users", {{"email", "new@x"}}).status());
  ASSERT_OK(engine_.Update(User(1), {{"score", 10}}).status());
  ASSERT_OK(engine_.Delete(User(2)));
  ASSERT_OK(engine_.Commit());
  EXPECT_EQ(engine_.transaction_depth(), 0);
  EXPECT_EQ(Count("users"), 3u);
  EXPECT_THAT(User(1).GetInt64("score"), IsOkAndHolds(10));
  EXPECT_THAT(engine_.FindOrFail("users", 4), IsOk());
  EXPECT_EQ(engine_.FindTable("users")->Find(2), std::nullopt);
}

TEST_F(TransactionTest, RollbackUndoesEverything) {
  std::string before = engine_.DebugString();
  Row user1 = User(1);
  Row user2 = User(2);
  ASSERT_OK(engine_.Begin());
  ASSERT_OK_AND_ASSIGN(Row added, engine_.Insert("users", {{"email", "new@x"}}));
  ASSERT_OK(engine_.Update(user1, {{"score", 10}, {"email", "one@x"}}).status());
  ASSERT_OK(engine_.Delete(user2));
  EXPECT_FALSE(user2.valid());
  ASSERT_OK(engine_.Rollback());

  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(engine_.transaction_depth(), 0);
  EXPECT_THAT(user1.GetInt64("score"), IsOkAndHolds(0));
  EXPECT_THAT(user1.GetString("email"), IsOkAndHolds("u1@x"));
  EXPECT_TRUE(user2.valid());  // the deleted row is back, and so is its handle
  EXPECT_THAT(user2.GetString("email"), IsOkAndHolds("u2@x"));
  EXPECT_FALSE(added.valid());  // the inserted one is gone
  // The counter was rolled back too: the next id is 4 again.
  ASSERT_OK_AND_ASSIGN(Row next, engine_.Insert("users", {{"email", "next@x"}}));
  EXPECT_THAT(next.GetInt64("id"), IsOkAndHolds(4));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(TransactionTest, CommitOrRollbackWithoutTransactionFails) {
  EXPECT_THAT(engine_.Commit(), StatusIs(kFailedPrecondition, "commit: no open transaction"));
  EXPECT_THAT(engine_.Rollback(), StatusIs(kFailedPrecondition, "rollback: no open transaction"));
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Commit());
  EXPECT_THAT(engine_.Commit(), StatusIs(kFailedPrecondition));
}

TEST_F(TransactionTest, InnerRollbackKeepsOuterChanges) {
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(User(1), {{"score", 1}}).status());
  std::string outer_state = engine_.DebugString();

  ASSERT_OK(engine_.Begin());  // a savepoint
  EXPECT_EQ(engine_.transaction_depth(), 2);
  ASSERT_OK(engine_.Update(User(1), {{"score", 2}}).status());
  ASSERT_OK(engine_.Insert("users", {{"email", "inner@x"}}).status());
  ASSERT_OK(engine_.Delete(Post(3)));
  ASSERT_OK(engine_.Rollback());

  EXPECT_EQ(engine_.transaction_depth(), 1);
  EXPECT_EQ(engine_.DebugString(), outer_state);
  EXPECT_THAT(User(1).GetInt64("score"), IsOkAndHolds(1));
  ASSERT_OK(engine_.Commit());
  EXPECT_THAT(User(1).GetInt64("score"), IsOkAndHolds(1));
  EXPECT_EQ(Count("users"), 3u);
  EXPECT_EQ(Count("posts"), 6u);
}

TEST_F(TransactionTest, OuterRollbackUndoesCommittedInner) {
  std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(User(1), {{"score", 1}}).status());
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(User(2), {{"score", 2}}).status());
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 2}, {"title", "inner"}}).status());
  ASSERT_OK(engine_.Commit());  // commits into the outer transaction only
  EXPECT_THAT(User(2).GetInt64("score"), IsOkAndHolds(2));
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(TransactionTest, ThreeLevels) {
  std::string level0 = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Delete(Post(1)));
  std::string level1 = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 3}}).status());  // reuses post 1's slot
  std::string level2 = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(Post(7), {{"user_id", 1}}).status());
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), level2);
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), level1);
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), level0);
}

TEST_F(TransactionTest, ScopedTransactionRollsBackOnDestruction) {
  std::string before = engine_.DebugString();
  {
    Transaction tx(engine_);
    EXPECT_EQ(engine_.transaction_depth(), 1);
    ASSERT_OK(engine_.Insert("users", {{"email", "temp@x"}}).status());
    ASSERT_OK(engine_.Delete(User(1)));
  }  // no Commit(): rolled back
  EXPECT_EQ(engine_.transaction_depth(), 0);
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(TransactionTest, ScopedTransactionCommit) {
  {
    Transaction tx(engine_);
    ASSERT_OK(engine_.Insert("users", {{"email", "kept@x"}}).status());
    ASSERT_OK(tx.Commit());
    EXPECT_THAT(tx.Commit(), StatusIs(kFailedPrecondition, "transaction already finished"));
    EXPECT_THAT(tx.Rollback(), StatusIs(kFailedPrecondition, "transaction already finished"));
  }
  EXPECT_EQ(engine_.transaction_depth(), 0);
  EXPECT_EQ(Count("users"), 4u);
}

TEST_F(TransactionTest, ScopedTransactionExplicitRollback) {
  std::string before = engine_.DebugString();
  Transaction tx(engine_);
  ASSERT_OK(engine_.Update(User(3), {{"email", "changed@x"}}).status());
  ASSERT_OK(tx.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(engine_.transaction_depth(), 0);
}

// The pattern the header recommends: return early on error, and the
// destructor rolls back.
absl::Status TransferScore(Engine& engine, int64_t from, int64_t to, int64_t amount) {
  Transaction tx(engine);
  KIN_ASSIGN_OR_RETURN(Row src, engine.FindOrFail("users", from));
  KIN_ASSIGN_OR_RETURN(Row dst, engine.FindOrFail("users", to));
  KIN_ASSIGN_OR_RETURN(int64_t src_score, src.GetInt64("score"));
  KIN_ASSIGN_OR_RETURN(int64_t dst_score, dst.GetInt64("score"));
  KIN_RETURN_IF_ERROR(engine.Update(src, {{"score", src_score - amount}}).status());
  KIN_RETURN_IF_ERROR(engine.Update(dst, {{"score", dst_score + amount}}).status());
  if (src_score - amount < 0) return absl::FailedPreconditionError("insufficient score");
  return tx.Commit();
}

TEST_F(TransactionTest, ScopedTransactionInAFunction) {
  ASSERT_OK(engine_.Update(User(1), {{"score", 10}}).status());
  EXPECT_OK(TransferScore(engine_, 1, 2, 4));
  EXPECT_THAT(User(1).GetInt64("score"), IsOkAndHolds(6));
  EXPECT_THAT(User(2).GetInt64("score"), IsOkAndHolds(4));
  std::string before = engine_.DebugString();
  EXPECT_THAT(TransferScore(engine_, 1, 2, 100),
              StatusIs(kFailedPrecondition, "insufficient score"));
  EXPECT_THAT(TransferScore(engine_, 1, 99, 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(engine_.transaction_depth(), 0);
}

TEST_F(TransactionTest, Atomically) {
  std::string before = engine_.DebugString();
  absl::Status failed = engine_.Atomically([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(engine_.Insert("users", {{"email", "a@x"}}).status());
    KIN_RETURN_IF_ERROR(engine_.Insert("users", {{"email", "a@x"}}).status());  // duplicate
    return absl::OkStatus();
  });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("a@x")));
  EXPECT_EQ(engine_.DebugString(), before);

  EXPECT_OK(engine_.Atomically([&]() -> absl::Status {
    return engine_.Insert("users", {{"email", "b@x"}}).status();
  }));
  EXPECT_EQ(Count("users"), 4u);
  EXPECT_EQ(engine_.transaction_depth(), 0);
}

TEST_F(TransactionTest, InsertManyIsAllOrNothing) {
  std::string before = engine_.DebugString();
  std::vector<Attrs> batch;
  for (int i = 0; i < 100; ++i) batch.push_back({{"user_id", i}, {"title", "ok"}});
  batch[57] = {{"user_id", "fifty-seven"}};
  EXPECT_THAT(engine_.InsertMany("posts", batch),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "row 57: posts.user_id: expected int64, got string \"fifty-seven\""));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(Count("posts"), 6u);

  // Inside a transaction, the failed batch undoes only itself.
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Insert("posts", {{"title", "kept"}}).status());
  std::string mid = engine_.DebugString();
  EXPECT_THAT(engine_.InsertMany("posts", batch), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(engine_.DebugString(), mid);
  EXPECT_EQ(engine_.transaction_depth(), 1);
  ASSERT_OK(engine_.Commit());
  EXPECT_EQ(Count("posts"), 7u);

  batch[57] = {{"user_id", 57}};
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, engine_.InsertMany("posts", batch));
  EXPECT_EQ(rows.size(), 100u);
  EXPECT_EQ(Count("posts"), 107u);
}

TEST_F(TransactionTest, SchemaChangesAreRefusedInsideATransaction) {
  ASSERT_OK(engine_.Begin());
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.CreateTable("tags", Schema().Int64("id", PrimaryKey())),
              StatusIs(kFailedPrecondition,
                       "create table 'tags': schema changes are not allowed inside a "
                       "transaction"));
  EXPECT_THAT(engine_.DropTable("posts"),
              StatusIs(kFailedPrecondition, HasSubstr("drop table 'posts'")));
  EXPECT_THAT(engine_.CreateIndex("posts", "title"),
              StatusIs(kFailedPrecondition, HasSubstr("create index on 'posts'")));
  EXPECT_THAT(engine_.AddForeignKey({.child_table = "posts",
                                     .child_column = "user_id",
                                     .parent_table = "users",
                                     .parent_column = "id"}),
              StatusIs(kFailedPrecondition, HasSubstr("add foreign key")));
  EXPECT_THAT(engine_.RemoveForeignKey("posts", "user_id"),
              StatusIs(kFailedPrecondition, HasSubstr("remove foreign key")));
  EXPECT_EQ(engine_.DebugString(), before);
  ASSERT_OK(engine_.Rollback());
  EXPECT_OK(engine_.CreateIndex("posts", "title"));
}

// A rollback restores generations exactly (the dump is identical), yet a
// handle to a row whose insert was rolled back must never come back to life
// as another row when a later insert takes the same slot.
TEST_F(TransactionTest, RolledBackInsertHandlesStayStaleAfterSlotReuse) {
  ASSERT_OK(engine_.Delete(Post(2)));  // slot 1 is free
  ASSERT_OK(engine_.Begin());
  ASSERT_OK_AND_ASSIGN(Row reused, engine_.Insert("posts", {{"title", "a"}}));
  ASSERT_OK_AND_ASSIGN(Row appended, engine_.Insert("posts", {{"title", "b"}}));
  ASSERT_OK(engine_.Rollback());

  ASSERT_OK_AND_ASSIGN(Row c, engine_.Insert("posts", {{"title", "c"}}));
  ASSERT_OK_AND_ASSIGN(Row d, engine_.Insert("posts", {{"title", "d"}}));
  ASSERT_EQ(c.id(), reused.id());  // the same slots...
  ASSERT_EQ(d.id(), appended.id());
  EXPECT_NE(c, reused);  // ...under new generations
  EXPECT_NE(d, appended);
  EXPECT_FALSE(reused.valid());
  EXPECT_FALSE(appended.valid());
  EXPECT_THAT(reused.GetString("title"), StatusIs(kFailedPrecondition));
  EXPECT_THAT(engine_.Update(appended, {{"title", "oops"}}), StatusIs(kFailedPrecondition));
  EXPECT_THAT(engine_.Delete(reused), StatusIs(kFailedPrecondition));
  EXPECT_THAT(d.GetString("title"), IsOkAndHolds("d"));

  // Rolling back the new inserts restores the dump exactly, bumped
  // generations included.
  std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK_AND_ASSIGN(Row e, engine_.Insert("posts", {{"title", "e"}}));
  ASSERT_OK(engine_.Delete(e));
  ASSERT_OK(engine_.Delete(c));
  ASSERT_OK_AND_ASSIGN(Row f, engine_.Insert("posts", {{"title", "f"}}));
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_TRUE(c.valid());
  EXPECT_FALSE(e.valid());
  EXPECT_FALSE(f.valid());
  ASSERT_OK(engine_.Delete(c));
  ASSERT_OK_AND_ASSIGN(Row g, engine_.Insert("posts", {{"title", "g"}}));
  EXPECT_EQ(g.id(), f.id());
  EXPECT_FALSE(f.valid());
  EXPECT_FALSE(e.valid());
  EXPECT_TRUE(g.valid());
}

// The children lists of a secondary index keep their exact order through
// deletes and key changes that are rolled back.
TEST_F(TransactionTest, RollbackRestoresChildOrder) {
  const Table& posts = *engine_.FindTable("posts");
  ColumnId user_id = *posts.FindColumn("user_id");
  auto kids = [&](int64_t user) {
    std::vector<int64_t> ids;
    for (RowId r : posts.Children(user_id, user))
      ids.push_back(posts.GetRow(r).GetInt64("id").value());
    return ids;
  };
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 2}}).status());  // post 7
  EXPECT_THAT(kids(2), ElementsAre(1, 4, 7));
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(Post(1), {{"user_id", 3}}).status());
  ASSERT_OK(engine_.Delete(Post(4)));
  ASSERT_OK(engine_.Update(Post(1), {{"user_id", 2}}).status());  // back, but at the end
  EXPECT_THAT(kids(2), ElementsAre(7, 1));
  ASSERT_OK(engine_.Rollback());
  EXPECT_THAT(kids(2), ElementsAre(1, 4, 7));
}

// A long mixed sequence inside one transaction, touching every kind of
// state: appended and reused slots, generations, the free list, the
// auto-increment counter, unique and secondary indexes, NULLs and doubles.
TEST_F(TransactionTest, RollbackOfALongMixedSequenceRestoresTheExactDump) {
  ASSERT_OK(engine_.Delete(Post(5)));  // a free slot from before the transaction
  std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());

  // Slot reuse: the pre-existing free slot, then new appends.
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 1}, {"title", "reuse"}}).status());
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(engine_
                  .Insert("posts",
                          {{"user_id", i % 4}, {"title", absl::StrCat("n", i)}, {"rank", i * 0.1}})
                  .status());
  }
  // Explicit ids bump the counter; a pk update bumps it further.
  ASSERT_OK(engine_.Insert("users", {{"id", 50}, {"email", "fifty@x"}}).status());
  ASSERT_OK(engine_.Update(User(3), {{"id", 80}}).status());
  // Unique column: free a value, then take it with another row.
  ASSERT_OK(engine_.Update(User(1), {{"email", "one@x"}}).status());
  ASSERT_OK(engine_.Update(User(2), {{"email", "u1@x"}}).status());
  ASSERT_OK(engine_.Update(User(50), {{"email", nullptr}}).status());
  // Secondary index: move rows between keys, to NULL and back.
  for (int64_t id = 1; id <= 12; ++id) {
    absl::StatusOr<Row> post = engine_.FindOrFail("posts", id);
    if (!post.ok()) continue;
    ASSERT_OK(engine_.Update(*post, {{"user_id", (id * 7) % 5}}).status());
    if (id % 3 == 0) {
      ASSERT_OK(engine_.Update(*post, {{"user_id", nullptr}}).status());
    }
    if (id % 6 == 0) {
      ASSERT_OK(engine_.Update(*post, {{"user_id", 2}, {"rank", 9.75}}).status());
    }
  }
  // Deletes of old and new rows, then inserts that reuse those slots.
  for (int64_t id : {2, 4, 9, 11, 13, 20}) ASSERT_OK(engine_.Delete(Post(id)));
  ASSERT_OK(engine_.Delete(User(2)));
  for (int i = 0; i < 8; ++i) {
    ASSERT_OK(
        engine_.Insert("posts", {{"user_id", 1}, {"title", absl::StrCat("again ", i)}}).status());
  }
  ASSERT_OK(engine_.Insert("users", {{"email", "u2@x"}})
                .status());  // takes the deleted user's slot and email
  // Delete a row twice removed from its origin: inserted, updated, deleted.
  ASSERT_OK_AND_ASSIGN(Row temp, engine_.Insert("posts", {{"user_id", 3}, {"title", "temp"}}));
  ASSERT_OK(engine_.Update(temp, {{"user_id", 4}, {"title", std::string(100, 't')}}).status());
  ASSERT_OK(engine_.Delete(temp));
  ASSERT_OK(engine_.CheckConsistency());
  EXPECT_NE(engine_.DebugString(), before);

  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_OK(engine_.CheckConsistency());
  // And the engine keeps working normally afterwards.
  ASSERT_OK_AND_ASSIGN(Row post, engine_.Insert("posts", {{"user_id", 1}}));
  EXPECT_THAT(post.GetInt64("id"), IsOkAndHolds(7));
  EXPECT_EQ(post.id(), RowId(4));  // post 5's slot
}

// String cells live in one blob per column: a transaction that rewrites
// them many times over (growing, shrinking, inline and long, enough to
// compact the blob more than once) and deletes some rolls back to the
// same table, indexes included, and the unique string index still finds
// every key.
TEST_F(TransactionTest, RollbackRestoresStringsAcrossBlobCompactions) {
  for (int i = 4; i <= 200; ++i) {
    ASSERT_OK(engine_.Insert("users", {{"email", absl::StrCat("user-number-", i, "@example.com")}})
                  .status());
  }
  const std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  for (int round = 0; round < 30; ++round) {
    for (int64_t id = 1; id <= 200; ++id) {
      std::string email = round % 3 == 0 ? absl::StrCat("r", round, "-", id)  // often inline
                                         : absl::StrCat(std::string(100 + round * 10, 'x'), "-",
                                                        round, "-", id, "@example.com");
      ASSERT_OK(engine_.Update(User(id), {{"email", email}}).status());
    }
  }
  ASSERT_OK(engine_.Delete(User(7)));
  ASSERT_OK(engine_.Update(Post(1), {{"title", std::string(5000, 't')}}).status());
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  ASSERT_OK(engine_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(
      std::span<const RowId> found,
      engine_.FindTable("users")->Children("email", Value("user-number-150@example.com")));
  EXPECT_THAT(found, ElementsAre(User(150).id()));
  EXPECT_THAT(Post(1).GetString("title"), IsOkAndHolds("post 1"));
}

}  // namespace
}  // namespace kin
