// Ordered indexes: contents after every write path, rollback equality,
// bulk builds, bad input.

#include "engine/ordered_index.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::StatusIs;
using ::testing::HasSubstr;

Schema PlayerSchema() {
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("score", Ordered())
      .Double("rating", Ordered())
      .String("name", Ordered())
      .Bool("active", Ordered())
      .Int64("guild", Indexed());
}

// The ordered index of `column` as text.
std::string Dump(const Engine& e, absl::string_view table, absl::string_view column) {
  const Table* t = e.FindTable(table);
  const OrderedIndex* idx = t->ordered_index(*t->FindColumn(column));
  return idx == nullptr ? "<none>" : idx->DebugString();
}

// Rows of `column` in ascending walk order (NULLs first), as slots.
std::vector<uint32_t> Walk(const Engine& e, absl::string_view column, bool desc = false) {
  const Table* t = e.FindTable("players");
  std::vector<uint32_t> out;
  t->ordered_index(*t->FindColumn(column))->Walk(OrderedRange(), desc, true, [&](RowId r, bool) {
    out.push_back(r.value);
    return true;
  });
  return out;
}

class OrderedIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(e_.CreateTable("players", PlayerSchema())); }
  Row Add(int64_t id, Value score, Value rating = Value(), Value name = Value(),
          Value active = Value()) {
    absl::StatusOr<Row> r = e_.Insert("players", {{"id", id},
                                                  {"score", std::move(score)},
                                                  {"rating", std::move(rating)},
                                                  {"name", std::move(name)},
                                                  {"active", std::move(active)},
                                                  {"guild", id % 3}});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Row();
  }
  Engine e_;
};

TEST_F(OrderedIndexTest, InsertOrdersKeysNullsFirstTiesBySlot) {
  Add(1, 50);
  Add(2, Value());
  Add(3, 10);
  Add(4, 50);
  EXPECT_EQ(Dump(e_, "players", "score"), "NULL->[1] 10->[2] 50->[0,3]");
  EXPECT_EQ(Walk(e_, "score"), (std::vector<uint32_t>{1, 2, 0, 3}));
  // Descending: NULLs last, ties in descending slot order.
  EXPECT_EQ(Walk(e_, "score", true), (std::vector<uint32_t>{3, 0, 2, 1}));
  EXPECT_THAT(e_.DebugString(), HasSubstr("ordered index score: NULL->[1] 10->[2] 50->[0,3]"));
  EXPECT_OK(e_.CheckConsistency());
}

TEST_F(OrderedIndexTest, AllTypes) {
  Add(1, 1, 2.5, "bob", true);
  Add(2, 2, std::nan(""), "al", false);
  Add(3, 3, -1.0, "", Value());
  Add(4, 4, 2.5, "bob", true);
  EXPECT_EQ(Dump(e_, "players", "rating"), "-1->[2] 2.5->[0,3] nan->[1]");
  EXPECT_EQ(Dump(e_, "players", "name"), "\"\"->[2] \"al\"->[1] \"bob\"->[0,3]");
  EXPECT_EQ(Dump(e_, "players", "active"), "NULL->[2] false->[1] true->[0,3]");
  EXPECT_OK(e_.CheckConsistency());
}

TEST_F(OrderedIndexTest, RangeWalks) {
  for (int i = 0; i < 10; ++i) Add(i + 1, i * 10);
  const Table* t = e_.FindTable("players");
  const OrderedIndex* idx = t->ordered_index(*t->FindColumn("score"));
  auto walk = [&](OrderedRange r, bool desc) {
    std::vector<uint32_t> out;
    idx->Walk(r, desc, false, [&](RowId id, bool) {
      out.push_back(id.value);
      return true;
    });
    return out;
  };
  OrderedRange r;
  r.lo = Value(int64_t{20});
  r.hi = Value(int64_t{50});
  r.hi_inclusive = false;
  EXPECT_EQ(walk(r, false), (std::vector<uint32_t>{2, 3, 4}));
  EXPECT_EQ(walk(r, true), (std::vector<uint32_t>{4, 3, 2}));
  r.lo_inclusive = false;
  EXPECT_EQ(walk(r, false), (std::vector<uint32_t>{3, 4}));
  r.lo = Value(int64_t{60});  // lo > hi: empty
  EXPECT_TRUE(walk(r, false).empty());
}

TEST_F(OrderedIndexTest, UpdateAndDeleteMaintainIt) {
  Row a = Add(1, 5);
  Add(2, 7);
  Row c = Add(3, 9);
  ASSERT_OK(e_.Update(a, {{"score", 8}}).status());
  ASSERT_OK(e_.Update(c, {{"score", Value()}}).status());
  EXPECT_EQ(Dump(e_, "players", "score"), "NULL->[2] 7->[1] 8->[0]");
  ASSERT_OK(e_.Delete(e_.FindOrFail("players", Value(int64_t{2})).value()));
  EXPECT_EQ(Dump(e_, "players", "score"), "NULL->[2] 8->[0]");
  Add(4, 1);  // reuses slot 1
  EXPECT_EQ(Dump(e_, "players", "score"), "NULL->[2] 1->[1] 8->[0]");
  EXPECT_OK(e_.CheckConsistency());
}

TEST_F(OrderedIndexTest, InsertManyAndBatch) {
  ASSERT_OK(
      e_.InsertMany("players", {{{"id", 1}, {"score", 3}}, {{"id", 2}, {"score", 1}}}).status());
  // Batch into a table with rows: per-row inserts.
  ASSERT_OK(
      e_.InsertBatch("players", RowBatch().Int64("id", {3, 4}).Int64("score", {2, 0})).status());
  EXPECT_EQ(Dump(e_, "players", "score"), "0->[3] 1->[1] 2->[2] 3->[0]");
  // Batch into an empty table: the bulk build.
  ASSERT_OK(e_.CreateTable("t", Schema().Int64("id", PrimaryKey()).String("s", Ordered())));
  ASSERT_OK(e_.InsertBatch("t", RowBatch()
                                    .Int64("id", {1, 2, 3})
                                    .String("s", {"b", "a", "b"})
                                    .Nulls("s", {false, false, true}))
                .status());
  EXPECT_EQ(Dump(e_, "t", "s"), "NULL->[2] \"a\"->[1] \"b\"->[0]");
  EXPECT_OK(e_.CheckConsistency());
}

TEST_F(OrderedIndexTest, CascadeDeleteMaintainsChildIndex) {
  ASSERT_OK(e_.CreateTable(
      "scores", Schema().Int64("id", PrimaryKey()).Int64("player_id").Int64("points", Ordered())));
  ASSERT_OK(e_.AddForeignKey({.child_table = "scores",
                              .child_column = "player_id",
                              .parent_table = "players",
                              .parent_column = "id",
                              .on_delete = OnDelete::kCascade}));
  Row p = Add(1, 1);
  Add(2, 2);
  ASSERT_OK(e_.Insert("scores", {{"player_id", 1}, {"points", 30}}).status());
  ASSERT_OK(e_.Insert("scores", {{"player_id", 2}, {"points", 20}}).status());
  ASSERT_OK(e_.Insert("scores", {{"player_id", 1}, {"points", 10}}).status());
  ASSERT_OK(e_.Delete(p));
  EXPECT_EQ(Dump(e_, "scores", "points"), "20->[1]");
  EXPECT_OK(e_.CheckConsistency());
}

TEST_F(OrderedIndexTest, RollbackRestoresDebugString) {
  for (int i = 1; i <= 20; ++i) Add(i, i % 7, i * 0.5, absl::StrCat("n", i % 5), i % 2 == 0);
  ASSERT_OK(e_.Delete(e_.FindOrFail("players", Value(int64_t{4})).value()));
  const std::string before = e_.DebugString();
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    ASSERT_OK(e_.Begin());
    for (int op = 0; op < 15; ++op) {
      int64_t id = static_cast<int64_t>(rng() % 30) + 1;
      std::optional<Row> row = e_.FindTable("players")->Find(Value(id));
      switch (rng() % 4) {
        case 0:
          if (!row) Add(id, static_cast<int64_t>(rng() % 9), Value(), "x", true);
          break;
        case 1:
          if (row) {
            ASSERT_OK(e_.Delete(*row));
          }
          break;
        case 2:
          if (row) {
            ASSERT_OK(
                e_.Update(*row, {{"score", rng() % 3 == 0 ? Value() : Value(int64_t(rng() % 9))},
                                 {"name", absl::StrCat("m", rng() % 4)}})
                    .status());
          }
          break;
        case 3:
          ASSERT_OK(e_.InsertBatch("players", RowBatch()
                                                  .Int64("id", {1000 + round * 100 + op})
                                                  .Int64("score", {int64_t(rng() % 9)}))
                        .status());
          break;
      }
    }
    ASSERT_OK(e_.CheckConsistency());
    ASSERT_OK(e_.Rollback());
    ASSERT_EQ(e_.DebugString(), before) << "round " << round;
  }
}

TEST_F(OrderedIndexTest, CreateIndexOnExistingRows) {
  ASSERT_OK(e_.CreateTable("t", Schema().Int64("id", PrimaryKey()).Double("x")));
  ASSERT_OK(e_.Insert("t", {{"x", 2.0}}).status());
  ASSERT_OK(e_.Insert("t", {{"x", Value()}}).status());
  ASSERT_OK(e_.Insert("t", {{"x", 1.0}}).status());
  size_t bytes = e_.MemoryBytes();
  ASSERT_OK(e_.CreateIndex("t", "x", IndexKind::kOrdered));
  EXPECT_EQ(Dump(e_, "t", "x"), "NULL->[1] 1->[2] 2->[0]");
  EXPECT_TRUE(e_.FindTable("t")->schema().columns()[1].ordered);
  EXPECT_GT(e_.MemoryBytes(), bytes);
  ASSERT_OK(e_.CreateIndex("t", "x", IndexKind::kOrdered));  // no-op
  ASSERT_OK(e_.Insert("t", {{"x", 1.5}}).status());
  EXPECT_EQ(Dump(e_, "t", "x"), "NULL->[1] 1->[2] 1.5->[3] 2->[0]");
}

TEST_F(OrderedIndexTest, BadCreateIndexLeavesDatabaseUnchanged) {
  Add(1, 1);
  const std::string before = e_.DebugString();
  EXPECT_THAT(e_.CreateIndex("players", "nope", IndexKind::kOrdered),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope")));
  EXPECT_THAT(e_.CreateIndex("ghosts", "id", IndexKind::kOrdered),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("ghosts")));
  ASSERT_OK(e_.Begin());
  EXPECT_THAT(e_.CreateIndex("players", "guild", IndexKind::kOrdered),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("players")));
  ASSERT_OK(e_.Rollback());
  EXPECT_EQ(e_.DebugString(), before);
}

}  // namespace
}  // namespace kin
