// OrderBy: directions, several keys, stability (ties keep the access
// order), NULL placement per type, partial sorts under Limit, and the order
// of rows without OrderBy for scans and index probes.

#include <cmath>
#include <limits>
#include <random>
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

using ::kin::test::Column;
using ::kin::test::IsOk;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::vector<int64_t> Ids(Query& q) {
  absl::StatusOr<ResultSet> rows = q.Get();
  EXPECT_THAT(rows, IsOk());
  return rows.ok() ? Column(*rows) : std::vector<int64_t>{};
}

class OrderTest : public ::testing::Test {
 protected:
  void SetUp() override { test::MakeTypesTable(engine_); }
  Database engine_;
};

// Types table: i = 1, 2, NULL, 3, 2 (ids 1..5).
TEST_F(OrderTest, AscendingPutsNullsFirstAndKeepsTies) {
  Query q(engine_, "t");
  q.OrderBy("i");
  EXPECT_THAT(Ids(q), ElementsAre(3, 1, 2, 5, 4));
}

TEST_F(OrderTest, DescendingPutsNullsLastAndKeepsTies) {
  Query q(engine_, "t");
  q.OrderBy("i", kDesc);
  EXPECT_THAT(Ids(q), ElementsAre(4, 2, 5, 1, 3));
}

TEST_F(OrderTest, NullPlacementForEveryType) {
  // d = 1.5, 2.5, NULL, -1, 2.5; b = true, false, NULL, true, false;
  // s = "apple", "banana", NULL, "apricot", "".
  struct Case {
    std::string column;
    Order order;
    std::vector<int64_t> ids;
  };
  std::vector<Case> cases = {
      {"d", kAsc, {3, 4, 1, 2, 5}},     {"d", kDesc, {2, 5, 1, 4, 3}},
      {"b", kAsc, {3, 2, 5, 1, 4}},     {"b", kDesc, {1, 4, 2, 5, 3}},
      {"s", kAsc, {3, 5, 1, 4, 2}},     {"s", kDesc, {2, 4, 1, 5, 3}},
      {"nn_s", kDesc, {5, 4, 3, 2, 1}}, {"nn_i", kAsc, {1, 2, 3, 4, 5}},
  };
  for (const Case& c : cases) {
    Query q(engine_, "t");
    q.OrderBy(c.column, c.order);
    EXPECT_THAT(Ids(q), ElementsAreArray(c.ids)) << c.column << " " << OrderName(c.order);
  }
}

TEST_F(OrderTest, SeveralKeys) {
  Query q(engine_, "t");
  q.OrderBy("b", kDesc).OrderBy("d", kAsc).OrderBy("id", kDesc);
  // b true: 1 (1.5), 4 (-1) → 4, 1; b false: 2 (2.5), 5 (2.5) → id desc 5, 2;
  // b NULL last.
  EXPECT_THAT(Ids(q), ElementsAre(4, 1, 5, 2, 3));
}

TEST_F(OrderTest, DirectionAsText) {
  Query q(engine_, "t");
  q.OrderBy("nn_i", "DESC");
  EXPECT_THAT(Ids(q), ElementsAre(5, 4, 3, 2, 1));
  Query q2(engine_, "t");
  q2.OrderBy("nn_i", "asc");
  EXPECT_THAT(Ids(q2), ElementsAre(1, 2, 3, 4, 5));
}

TEST_F(OrderTest, LimitAndOffsetApplyAfterOrdering) {
  Query q(engine_, "t");
  q.OrderBy("i", kDesc).Offset(1).Limit(2);
  EXPECT_THAT(Ids(q), ElementsAre(2, 5));
  Query past(engine_, "t");
  past.OrderBy("i").Offset(10).Limit(2);
  EXPECT_THAT(Ids(past), ElementsAre());
  Query zero(engine_, "t");
  zero.OrderBy("i").Limit(0);
  EXPECT_THAT(Ids(zero), ElementsAre());
}

TEST_F(OrderTest, NanSortsAfterNumbers) {
  ASSERT_OK(engine_.CreateTable("f", Schema().Int64("id", PrimaryKey()).Double("x")));
  double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<Value> xs = {2.0, nan, Value(), -1.0, nan, 0.5};
  for (size_t k = 0; k < xs.size(); ++k) {
    ASSERT_OK(engine_.Insert("f", {{"id", static_cast<int64_t>(k + 1)}, {"x", xs[k]}}).status());
  }
  Query q(engine_, "f");
  q.OrderBy("x");
  EXPECT_THAT(Ids(q), ElementsAre(3, 4, 6, 1, 2, 5));
  Query d(engine_, "f");
  d.OrderBy("x", kDesc).OrderBy("id");
  EXPECT_THAT(Ids(d), ElementsAre(2, 5, 1, 6, 4, 3));
}

// A larger table: the partial-sort paths (small and large limits) agree
// with a full stable sort.
TEST(OrderLargeTest, PartialSortsMatchFullSort) {
  Database engine;
  ASSERT_OK(engine.CreateTable(
      "t", Schema().Int64("id", PrimaryKey()).Int64("k").String("s").Double("x")));
  std::mt19937 rng(7);
  for (int n = 1; n <= 3000; ++n) {
    Value k = rng() % 10 == 0 ? Value() : Value(static_cast<int64_t>(rng() % 50));
    Value x = rng() % 10 == 0 ? Value() : Value(static_cast<double>(rng() % 30) / 4);
    ASSERT_OK(engine
                  .Insert("t", {{"id", n},
                                {"k", k},
                                {"s", std::string(1, static_cast<char>('a' + rng() % 5))},
                                {"x", x}})
                  .status());
  }
  struct Keys {
    std::vector<std::pair<std::string, Order>> keys;
  };
  std::vector<Keys> orders = {
      {{{"k", kAsc}}},
      {{{"k", kDesc}}},
      {{{"x", kDesc}}},
      {{{"s", kAsc}}},
      {{{"s", kDesc}, {"k", kAsc}}},
      {{{"x", kAsc}, {"s", kDesc}, {"k", kDesc}}},
  };
  for (const Keys& keys : orders) {
    Query full(engine, "t");
    for (const auto& [c, o] : keys.keys) full.OrderBy(c, o);
    std::vector<int64_t> all = Ids(full);
    ASSERT_EQ(all.size(), 3000u);
    for (int64_t limit : {1, 5, 64, 65, 500, 2999, 3000, 4000}) {
      for (int64_t offset : {0, 3, 100}) {
        Query q(engine, "t");
        for (const auto& [c, o] : keys.keys) q.OrderBy(c, o);
        q.Limit(limit).Offset(offset);
        std::vector<int64_t> want;
        for (int64_t k = offset; k < std::min<int64_t>(3000, offset + limit); ++k) {
          want.push_back(all[k]);
        }
        EXPECT_THAT(Ids(q), ElementsAreArray(want)) << limit << " " << offset;
      }
    }
    // Stability: within equal keys ids (insertion = slot order) ascend.
    Query check(engine, "t");
    for (const auto& [c, o] : keys.keys) check.OrderBy(c, o);
    ASSERT_OK_AND_ASSIGN(ResultSet rows, check.Get());
    ASSERT_OK_AND_ASSIGN(internal::CompiledQuery compiled, internal::QueryAccess::Compile(check));
    for (size_t k = 1; k < rows.size(); ++k) {
      int c = compiled.order().Compare(rows[k - 1].id(), rows[k].id());
      ASSERT_LE(c, 0);
      if (c == 0) {
        ASSERT_LT(*rows[k - 1].GetInt64("id"), *rows[k].GetInt64("id"));
      }
    }
  }
}

// Without OrderBy: slot order for a scan and an IN probe, the key's
// insertion order for an equality probe. Slot reuse makes them differ.
class AccessOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MakeBlogSchema(engine_);
    ASSERT_OK(engine_.Insert("users", {{"id", 1}, {"email", "a@x"}}).status());
    ASSERT_OK(engine_.Insert("users", {{"id", 2}, {"email", "b@x"}}).status());
    auto post = [&](int64_t id, int64_t user) {
      return engine_.Insert("posts",
                            {{"id", id}, {"user_id", user}, {"title", "t"}, {"created_at", 100}});
    };
    ASSERT_OK(post(10, 1).status());             // slot 0
    ASSERT_OK_AND_ASSIGN(Row p11, post(11, 2));  // slot 1
    ASSERT_OK(post(12, 1).status());             // slot 2
    ASSERT_OK(engine_.Delete(p11));              // frees slot 1
    ASSERT_OK(post(13, 1).status());             // reuses slot 1
  }
  Database engine_;
};

TEST_F(AccessOrderTest, ScanIsSlotOrder) {
  Query q(engine_, "posts");
  q.Where("title", "t");
  EXPECT_THAT(Ids(q), ElementsAre(10, 13, 12));
  EXPECT_THAT(q.Explain(), test::IsOkAndHolds(testing::StartsWith("scan posts")));
}

TEST_F(AccessOrderTest, EqualityProbeIsIndexOrder) {
  Query q(engine_, "posts");
  q.Where("user_id", 1);
  EXPECT_THAT(Ids(q), ElementsAre(10, 12, 13));
  EXPECT_THAT(q.Explain(), test::IsOkAndHolds(testing::StartsWith("index probe posts.user_id")));
  // Ties under OrderBy keep that order too.
  Query tied(engine_, "posts");
  tied.Where("user_id", 1).OrderBy("created_at", kDesc);
  EXPECT_THAT(Ids(tied), ElementsAre(10, 12, 13));
}

TEST_F(AccessOrderTest, InProbeIsSlotOrder) {
  Query q(engine_, "posts");
  q.WhereIn("user_id", {1, 2});
  EXPECT_THAT(Ids(q), ElementsAre(10, 13, 12));
  EXPECT_THAT(q.Explain(), test::IsOkAndHolds(testing::StartsWith("index probe posts.user_id IN")));
}

TEST_F(AccessOrderTest, LimitWithoutOrderTakesTheFirstInAccessOrder) {
  Query q(engine_, "posts");
  q.Where("user_id", 1).Offset(1).Limit(1);
  EXPECT_THAT(Ids(q), ElementsAre(12));
  Query scan(engine_, "posts");
  scan.Offset(1).Limit(5);
  EXPECT_THAT(Ids(scan), ElementsAre(13, 12));
}

}  // namespace
}  // namespace kin
