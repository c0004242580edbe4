// Count / Sum / Avg / Min / Max: result types, NULL handling, empty inputs,
// overflow, recorded aggregates with As(), and running a compiled aggregate
// over a candidate span (as WithAggregate does per parent).

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "query/internal/query_access.h"
#include "tests/query/fixture.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;

class AggregateTest : public ::testing::Test {
 protected:
  void SetUp() override { test::MakeTypesTable(engine_); }
  absl::StatusOr<Value> Agg(AggregateFunction f, const std::string& column,
                            std::function<void(Query&)> filter = nullptr) {
    Query q(engine_, "t");
    if (filter) filter(q);
    return q.Aggregate(f, column);
  }
  Database engine_;
};

// i = 1, 2, NULL, 3, 2; d = 1.5, 2.5, NULL, -1, 2.5; b = true, false, NULL,
// true, false; s = "apple", "banana", NULL, "apricot", "".
TEST_F(AggregateTest, Count) {
  EXPECT_THAT(Query(engine_, "t").Count(), IsOkAndHolds(5));
  EXPECT_THAT(Agg(AggregateFunction::kCount, "*"), IsOkAndHolds(Value(5)));
  EXPECT_THAT(Agg(AggregateFunction::kCount, "i"), IsOkAndHolds(Value(4)));
  EXPECT_THAT(Agg(AggregateFunction::kCount, "s"), IsOkAndHolds(Value(4)));
  EXPECT_THAT(Agg(AggregateFunction::kCount, "nn_i"), IsOkAndHolds(Value(5)));
  EXPECT_THAT(Agg(AggregateFunction::kCount, "i", [](Query& q) { q.Where("id", 99); }),
              IsOkAndHolds(Value(0)));
  // Count ignores the window.
  Query limited(engine_, "t");
  limited.OrderBy("id").Limit(2).Offset(1);
  EXPECT_THAT(limited.Count(), IsOkAndHolds(5));
}

// SQL COUNT(DISTINCT column): distinct non-NULL values.
TEST_F(AggregateTest, CountDistinct) {
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "i"), IsOkAndHolds(Value(3)));  // 1 2 3
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "d"), IsOkAndHolds(Value(3)));  // 1.5 2.5 -1
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "b"), IsOkAndHolds(Value(2)));
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "s"), IsOkAndHolds(Value(4)));
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "nn_i"), IsOkAndHolds(Value(5)));
  // No rows, or only NULLs: 0 (a count, never NULL).
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "i", [](Query& q) { q.WhereNull("i"); }),
              IsOkAndHolds(Value(0)));
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "s", [](Query& q) { q.Where("id", 99); }),
              IsOkAndHolds(Value(0)));
  // Recorded, as WithAggregate records it.
  Query q(engine_, "t");
  q.Where("id", "<=", 2).OrWhere("id", 5).CountDistinct("d");
  EXPECT_THAT(q.Aggregate(), IsOkAndHolds(Value(2)));  // 1.5, 2.5, 2.5
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "*"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a column")));
  EXPECT_THAT(Agg(AggregateFunction::kCountDistinct, "nope"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'nope'")));
}

// -0.0 equals 0.0 and every NaN counts once.
TEST_F(AggregateTest, CountDistinctDoubles) {
  Database engine;
  ASSERT_OK(engine.CreateTable("m", Schema().Int64("id", PrimaryKey()).Double("x")));
  for (double x : {0.0, -0.0, std::nan(""), -std::nan(""), 1.0, 1.0}) {
    ASSERT_OK(engine.Insert("m", {{"x", x}}).status());
  }
  EXPECT_THAT(Query(engine, "m").Aggregate(AggregateFunction::kCountDistinct, "x"),
              IsOkAndHolds(Value(3)));
}

TEST_F(AggregateTest, SumAndAvg) {
  EXPECT_THAT(Agg(AggregateFunction::kSum, "i"), IsOkAndHolds(Value(8)));
  EXPECT_THAT(Agg(AggregateFunction::kSum, "d"), IsOkAndHolds(Value(5.5)));
  EXPECT_THAT(Agg(AggregateFunction::kAvg, "i"), IsOkAndHolds(Value(2.0)));
  EXPECT_THAT(Agg(AggregateFunction::kAvg, "d"), IsOkAndHolds(Value(5.5 / 4)));
  EXPECT_THAT(Agg(AggregateFunction::kAvg, "nn_i"), IsOkAndHolds(Value(30.0)));
  // Only NULLs, or no rows: NULL.
  auto only_null = [](Query& q) { q.WhereNull("i"); };
  EXPECT_THAT(Agg(AggregateFunction::kSum, "i", only_null), IsOkAndHolds(Value()));
  EXPECT_THAT(Agg(AggregateFunction::kAvg, "d", only_null), IsOkAndHolds(Value()));
  auto none = [](Query& q) { q.Where("id", 0); };
  EXPECT_THAT(Agg(AggregateFunction::kSum, "nn_i", none), IsOkAndHolds(Value()));
  // Filtered.
  EXPECT_THAT(Agg(AggregateFunction::kSum, "i", [](Query& q) { q.Where("b", false); }),
              IsOkAndHolds(Value(4)));
}

TEST_F(AggregateTest, MinAndMaxKeepTheColumnType) {
  EXPECT_THAT(Agg(AggregateFunction::kMin, "i"), IsOkAndHolds(Value(1)));
  EXPECT_THAT(Agg(AggregateFunction::kMax, "i"), IsOkAndHolds(Value(3)));
  EXPECT_THAT(Agg(AggregateFunction::kMin, "d"), IsOkAndHolds(Value(-1.0)));
  EXPECT_THAT(Agg(AggregateFunction::kMax, "d"), IsOkAndHolds(Value(2.5)));
  EXPECT_THAT(Agg(AggregateFunction::kMin, "b"), IsOkAndHolds(Value(false)));
  EXPECT_THAT(Agg(AggregateFunction::kMax, "b"), IsOkAndHolds(Value(true)));
  EXPECT_THAT(Agg(AggregateFunction::kMin, "s"), IsOkAndHolds(Value("")));
  EXPECT_THAT(Agg(AggregateFunction::kMax, "s"), IsOkAndHolds(Value("banana")));
  EXPECT_THAT(Agg(AggregateFunction::kMax, "s", [](Query& q) { q.WhereNull("s"); }),
              IsOkAndHolds(Value()));
}

TEST_F(AggregateTest, TypeErrorsNameTheColumn) {
  EXPECT_THAT(
      Agg(AggregateFunction::kSum, "s"),
      StatusIs(absl::StatusCode::kInvalidArgument, "t.s: sum needs a numeric column, not string"));
  EXPECT_THAT(
      Agg(AggregateFunction::kAvg, "b"),
      StatusIs(absl::StatusCode::kInvalidArgument, "t.b: avg needs a numeric column, not bool"));
  EXPECT_THAT(Agg(AggregateFunction::kMin, "nope"),
              StatusIs(absl::StatusCode::kInvalidArgument, "table 't': no column named 'nope'"));
  EXPECT_THAT(Agg(AggregateFunction::kSum, "*"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sum needs a column")));
}

TEST_F(AggregateTest, Int64SumOverflowIsAnError) {
  ASSERT_OK(engine_.CreateTable("big", Schema().Int64("id", PrimaryKey()).Int64("v")));
  ASSERT_OK(
      engine_.Insert("big", {{"id", 1}, {"v", std::numeric_limits<int64_t>::max()}}).status());
  ASSERT_OK(engine_.Insert("big", {{"id", 2}, {"v", 1}}).status());
  Query q(engine_, "big");
  EXPECT_THAT(q.Aggregate(AggregateFunction::kSum, "v"),
              StatusIs(absl::StatusCode::kOutOfRange, "big.v: sum overflows int64"));
  // Avg does not overflow.
  EXPECT_THAT(q.Aggregate(AggregateFunction::kAvg, "v"),
              IsOkAndHolds(Value(static_cast<double>(std::numeric_limits<int64_t>::max()) / 2)));
}

TEST_F(AggregateTest, RecordedAggregateWithAlias) {
  Query q(engine_, "t");
  q.Where("b", true).Max("d").As("best");
  ASSERT_TRUE(q.spec().aggregate.has_value());
  EXPECT_EQ(q.spec().aggregate->function, AggregateFunction::kMax);
  EXPECT_EQ(q.spec().aggregate->column, "d");
  EXPECT_EQ(q.spec().alias, "best");
  EXPECT_THAT(q.Aggregate(), IsOkAndHolds(Value(1.5)));
  EXPECT_EQ(DescribeSpec(q.spec()), "t where b = true max(d) as best");

  Query count(engine_, "t");
  count.Count("*").As("n");
  EXPECT_THAT(count.Aggregate(), IsOkAndHolds(Value(5)));
  Query count_col(engine_, "t");
  count_col.Count("s");
  EXPECT_THAT(count_col.Aggregate(), IsOkAndHolds(Value(4)));
}

TEST_F(AggregateTest, WithoutARecordedAggregateAggregateCounts) {
  // WithCount's callback records filters (and maybe As) only.
  Query q(engine_, "t");
  q.WhereNotNull("s").As("named_count");
  EXPECT_THAT(q.Aggregate(), IsOkAndHolds(Value(4)));
}

// The next layer's use: compile once, run per parent over its children.
TEST(AggregatePerParentTest, CompiledAggregateOverChildSpans) {
  Database engine;
  test::MakeBlogSchema(engine);
  for (int u = 1; u <= 3; ++u) {
    ASSERT_OK(engine.Insert("users", {{"id", u}, {"email", absl::StrCat(u)}}).status());
  }
  // user 1: created 10, 30 (published), 20; user 2: 5; user 3: none.
  struct P {
    int64_t id, user, created;
    bool published;
  };
  for (const P& p :
       std::vector<P>{{1, 1, 10, false}, {2, 1, 30, true}, {3, 2, 5, true}, {4, 1, 20, true}}) {
    ASSERT_OK(engine
                  .Insert("posts", {{"id", p.id},
                                    {"user_id", p.user},
                                    {"created_at", p.created},
                                    {"is_published", p.published}})
                  .status());
  }
  Query child(engine, "posts");
  child.Where("is_published", true).Max("created_at").As("last_post_at");
  ASSERT_OK_AND_ASSIGN(internal::CompiledQuery compiled, internal::QueryAccess::Compile(child));
  const Table& posts = *engine.FindTable("posts");
  ColumnId fk = *posts.FindColumn("user_id");
  std::vector<Value> got;
  std::vector<int64_t> counts;
  for (int64_t u = 1; u <= 3; ++u) {
    std::span<const RowId> kids = posts.Children(fk, u);
    ASSERT_OK_AND_ASSIGN(Value v, compiled.Aggregate(kids));
    got.push_back(v);
    counts.push_back(static_cast<int64_t>(compiled.Count(kids)));
  }
  EXPECT_THAT(got, testing::ElementsAre(Value(30), Value(5), Value()));
  EXPECT_THAT(counts, testing::ElementsAre(2, 1, 0));
}

}  // namespace
}  // namespace kin
