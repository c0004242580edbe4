// The smaller holes: RowBatch::Nulls given before the values, Min/Max over
// NaN, values quoted in messages, a column named "*".

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Lt;

TEST(RowBatchNullsTest, NullsBeforeTheValuesAreApplied) {
  Database db;
  ASSERT_OK(db.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("x")));
  RowBatch batch;
  batch.Nulls("x", {false, true, false}).Int64("x", {1, 2, 3});
  ASSERT_THAT(db.InsertBatch("t", std::move(batch)), IsOkAndHolds(3u));
  EXPECT_THAT(db.FindOrFail("t", 2).value().Get("x"), IsOkAndHolds(Value()));
  EXPECT_THAT(db.FindOrFail("t", 3).value().GetInt64("x"), IsOkAndHolds(3));
}

TEST(RowBatchNullsTest, TheLastNullsForAColumnWins) {
  Database db;
  ASSERT_OK(db.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("x")));
  RowBatch before;
  before.Nulls("x", {true, true}).Nulls("x", {false, true}).Int64("x", {1, 2});
  ASSERT_THAT(db.InsertBatch("t", std::move(before)), IsOkAndHolds(2u));
  RowBatch after;
  after.Int64("x", {3, 4}).Nulls("x", {true, true}).Nulls("x", {true, false});
  ASSERT_THAT(db.InsertBatch("t", std::move(after)), IsOkAndHolds(2u));
  EXPECT_THAT(db.Query("t").WhereNull("x").Count(), IsOkAndHolds(2));
  EXPECT_THAT(db.FindOrFail("t", 1).value().GetInt64("x"), IsOkAndHolds(1));
  EXPECT_THAT(db.FindOrFail("t", 4).value().GetInt64("x"), IsOkAndHolds(4));
}

TEST(RowBatchNullsTest, NullsForAColumnWithoutValuesIsStillRefused) {
  Database db;
  ASSERT_OK(db.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("x").Int64("y")));
  RowBatch batch;
  batch.Nulls("y", {true}).Int64("x", {1});
  const std::string before = db.DebugString();
  EXPECT_THAT(db.InsertBatch("t", std::move(batch)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Nulls() for column 'y', which the batch has no values for")));
  EXPECT_EQ(db.DebugString(), before);
}

class NanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("owners", Schema().Int64("id", PrimaryKey())));
    ASSERT_OK(
        db_.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("owner_id").Double("x")));
    ASSERT_OK(db_.HasMany("owners", "t"));
    ASSERT_OK(db_.Insert("owners", {}).status());
    ASSERT_OK(db_.Insert("owners", {}).status());
  }
  void Fill(const std::vector<double>& xs) {
    for (double x : xs) ASSERT_OK(db_.Insert("t", {{"owner_id", 1}, {"x", x}}).status());
  }
  // OrderBy's answer for the smallest / largest x.
  double First(Order order) {
    return db_.Query("t").OrderBy("x", order).First().value().GetDouble("x").value();
  }
  Database db_;
};

TEST_F(NanTest, MinAndMaxAgreeWithOrderByWhateverTheRowOrder) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const std::vector<double>& xs :
       {std::vector<double>{nan, 1.0, 3.0}, {1.0, nan, 3.0}, {1.0, 3.0, nan}}) {
    ASSERT_OK(db_.Query("t").Delete().status());
    Fill(xs);
    // NaN sorts after every number: it is the Max, never the Min.
    ASSERT_OK_AND_ASSIGN(Value max, db_.Query("t").Max("x").Aggregate());
    ASSERT_OK_AND_ASSIGN(Value min, db_.Query("t").Min("x").Aggregate());
    EXPECT_TRUE(std::isnan(max.AsDouble()));
    EXPECT_TRUE(std::isnan(First(kDesc)));
    EXPECT_EQ(min.AsDouble(), 1.0);
    EXPECT_EQ(First(kAsc), 1.0);
    // The per-parent aggregate follows the same rule.
    ASSERT_OK_AND_ASSIGN(ResultSet owners,
                         db_.Query("owners")
                             .WithAggregate("t", [](Query& q) { q.Max("x").As("max_x"); })
                             .WithAggregate("t", [](Query& q) { q.Min("x").As("min_x"); })
                             .Get());
    EXPECT_TRUE(std::isnan(owners[0].Extra("max_x").value().AsDouble()));
    EXPECT_EQ(owners[0].Extra("min_x").value().AsDouble(), 1.0);
    EXPECT_TRUE(owners[1].Extra("max_x").value().is_null());
  }
}

TEST_F(NanTest, AllNanIsNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Fill({nan, nan});
  EXPECT_TRUE(std::isnan(db_.Query("t").Min("x").Aggregate().value().AsDouble()));
  EXPECT_TRUE(std::isnan(db_.Query("t").Max("x").Aggregate().value().AsDouble()));
}

TEST(MessagesTest, AHugeDuplicateKeyIsQuotedInALine) {
  Database db;
  ASSERT_OK(db.CreateTable("t", Schema().Int64("id", PrimaryKey()).String("k", Unique())));
  const std::string huge(64 << 20, 'a');
  ASSERT_OK(db.Insert("t", {{"k", huge}}).status());
  absl::Status dup = db.Insert("t", {{"k", huge}}).status();
  EXPECT_THAT(dup,
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("t.k: duplicate value \"aaaa")));
  EXPECT_THAT(dup.message(), HasSubstr("... (67108864 bytes)"));
  EXPECT_THAT(dup.message().size(), Lt(200u));
  absl::Status wrong = db.Insert("t", {{"id", huge}}).status();
  EXPECT_THAT(wrong.message(), HasSubstr("t.id: expected int64, got string \"aaa"));
  EXPECT_THAT(wrong.message().size(), Lt(200u));
  EXPECT_THAT(db.FindOrFail("t", Value(huge)).status().message().size(), Lt(200u));
  EXPECT_THAT(db.Query(huge).Count().status().message().size(), Lt(200u));
  EXPECT_THAT(db.Query("t").Where(huge, 1).Count().status().message().size(), Lt(200u));
}

TEST(MessagesTest, QuotingCutsAtACharacterBoundary) {
  // 63 ASCII bytes then a 2-byte character: the cut must not split it.
  std::string s(63, 'x');
  for (int i = 0; i < 10; ++i) s += "\xc3\xa9";  // é
  const std::string quoted = errors::Quote(Value(s));
  EXPECT_EQ(quoted, "\"" + std::string(63, 'x') + "\"... (83 bytes)");
  EXPECT_EQ(errors::Quote(Value("short")), "\"short\"");
  EXPECT_EQ(errors::Quote(Value(7)), "7");
}

TEST(SchemaTest, AColumnNamedStarIsRefused) {
  Database db;
  EXPECT_THAT(
      db.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("*")),
      StatusIs(absl::StatusCode::kInvalidArgument, "table 't': '*' is not a valid column name"));
  EXPECT_EQ(db.FindTable("t"), nullptr);
}

}  // namespace
}  // namespace kin::test
