// The planner over ordered indexes: which access path Explain names, and
// random queries checked against the same queries on a twin table without
// ordered indexes (a scan and a sort: the brute force), with fixed seeds.

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "query/internal/compiled_query.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Access = internal::CompiledQuery::Access;

Schema Players(bool ordered) {
  auto o = [&](ColumnOption fallback) { return ordered ? Ordered() : fallback; };
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("score", o(Nullable()))
      .Double("rating", o(Nullable()))
      .String("name", o(Nullable()))
      .Bool("active", o(Nullable()))
      .Int64("guild", Indexed());
}

class OrderedPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(e_.CreateTable("players", Players(true)));
    for (int i = 1; i <= 1000; ++i) {
      ASSERT_OK(e_.Insert("players", {{"score", i % 100 == 0 ? Value() : Value(int64_t{i})},
                                      {"rating", i * 0.25},
                                      {"name", absl::StrCat("p", i)},
                                      {"active", i % 2 == 0},
                                      {"guild", i % 10}})
                    .status());
    }
  }
  std::string Explain(Query q) {
    absl::StatusOr<std::string> s = q.Explain();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "";
  }
  std::vector<int64_t> Ids(const Query& q) {
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<int64_t> out;
    if (!rows.ok()) return out;
    for (const ResultRow& r : *rows) out.push_back(r.Get("id")->AsInt64());
    return out;
  }
  Query Q() { return Query(e_, "players"); }
  Database e_;
};

TEST_F(OrderedPlanTest, NarrowRangeUsesIndex) {
  std::string s = Explain(Q().WhereBetween("score", 10, 19));
  EXPECT_THAT(s, StartsWith("index range players.score >= 10 AND <= 19 (ordered index, 10 rows)"));
  EXPECT_EQ(*Q().WhereBetween("score", 10, 19).Count(), 10);
  EXPECT_EQ(Ids(Q().Where("score", ">", 995)), (std::vector<int64_t>{996, 997, 998, 999}));
  // Two conditions on one column make one range.
  EXPECT_THAT(Explain(Q().Where("score", ">=", 10).Where("score", "<", 15)),
              StartsWith("index range players.score >= 10 AND < 15 (ordered index, 5 rows)"));
  EXPECT_THAT(Explain(Q().WhereStartsWith("name", "p99")),
              StartsWith("index range players.name >= \"p99\" AND < \"p9:\""));
  EXPECT_EQ(*Q().WhereStartsWith("name", "p99").Count(), 11);
}

TEST_F(OrderedPlanTest, WideRangeScans) {
  EXPECT_THAT(Explain(Q().Where("score", ">", 10)), StartsWith("scan players"));
  EXPECT_THAT(Explain(Q().WhereNotBetween("score", 10, 20)), StartsWith("scan players"));
}

TEST_F(OrderedPlanTest, OrderByLimitWalks) {
  EXPECT_THAT(Explain(Q().OrderBy("score", kDesc).Limit(3)),
              StartsWith("ordered walk players.score desc (ordered index, stops after 3 rows)"));
  EXPECT_EQ(Ids(Q().OrderBy("score", kDesc).Limit(3)), (std::vector<int64_t>{999, 998, 997}));
  // NULLs first ascending.
  EXPECT_EQ(Ids(Q().OrderBy("score").Limit(2)), (std::vector<int64_t>{100, 200}));
  EXPECT_EQ(Ids(Q().OrderBy("score", kDesc).Offset(1).Limit(2)), (std::vector<int64_t>{998, 997}));
  // The filter applies along the walk.
  EXPECT_EQ(Ids(Q().Where("active", false).OrderBy("rating", kDesc).Limit(2)),
            (std::vector<int64_t>{999, 997}));
  // An equality probe with few rows beats walking for them.
  EXPECT_THAT(Explain(Q().Where("id", 5).OrderBy("score").Limit(3)), StartsWith("index probe"));
  // No limit: sort.
  EXPECT_THAT(Explain(Q().OrderBy("score")), StartsWith("scan players"));
}

// A range on the order column that holds most rows is not fetched (a scan
// is cheaper), but it still bounds the walk: the walk starts at the bound
// instead of walking past every key below it through the filter.
TEST_F(OrderedPlanTest, WideRangeOnTheOrderColumnBoundsTheWalk) {
  EXPECT_THAT(
      Explain(Q().Where("score", ">", 10).OrderBy("score").Limit(3)),
      StartsWith("ordered walk players.score > 10 asc (ordered index, stops after 3 rows)"));
  EXPECT_EQ(Ids(Q().Where("score", ">", 10).OrderBy("score").Limit(3)),
            (std::vector<int64_t>{11, 12, 13}));
  EXPECT_THAT(Explain(Q().Where("score", "<", 990).OrderBy("score", kDesc).Limit(2)),
              StartsWith("ordered walk players.score < 990 desc"));
  EXPECT_EQ(Ids(Q().Where("score", "<", 990).OrderBy("score", kDesc).Limit(2)),
            (std::vector<int64_t>{989, 988}));
  // Two atoms on the column make one bound; NULL scores are outside it.
  EXPECT_EQ(Ids(Q().Where("score", ">=", 5).Where("score", "<", 900).OrderBy("score").Limit(2)),
            (std::vector<int64_t>{5, 6}));
}

// Against a probe of a few rows, a narrower range on the order column
// still wins, and is walked.
TEST_F(OrderedPlanTest, NarrowRangeOnTheOrderColumnBeatsAProbe) {
  std::vector<Value> ids;
  for (int64_t i = 1; i <= 20; ++i) ids.push_back(Value(i * 37));
  Query q = Q().WhereIn("id", ids).WhereBetween("score", 37, 37).OrderBy("score").Limit(3);
  EXPECT_THAT(Explain(q), StartsWith("ordered walk players.score = 37"));
  EXPECT_EQ(Ids(q), (std::vector<int64_t>{37}));
}

TEST_F(OrderedPlanTest, MinMaxReadTheEnds) {
  EXPECT_THAT(Explain(Q().Max("score")), StartsWith("ordered index players.score last entry"));
  EXPECT_EQ(*Q().Max("score").Aggregate(), Value(int64_t{999}));
  EXPECT_EQ(*Q().Min("score").Aggregate(), Value(int64_t{1}));
  EXPECT_EQ(*Q().Min("name").Aggregate(), Value("p1"));
}

TEST_F(OrderedPlanTest, EmptyTable) {
  ASSERT_OK(e_.CreateTable("empty", Players(true)));
  Query q(e_, "empty");
  EXPECT_EQ(*Query(e_, "empty").Max("score").Aggregate(), Value());
  EXPECT_EQ(*Query(e_, "empty").WhereBetween("score", 1, 5).Count(), 0);
  EXPECT_TRUE(Query(e_, "empty").OrderBy("score").Limit(5).Get()->empty());
}

// --- random queries against the brute force ---

struct Twin {
  Database fast;  // ordered indexes
  Database slow;  // none: scans and sorts
};

Value RandomValue(std::mt19937& rng, int column) {
  if (rng() % 8 == 0) return Value();
  switch (column) {
    case 0:
      return Value(static_cast<int64_t>(rng() % 50));
    case 1: {
      if (rng() % 40 == 0) return Value(std::nan(""));
      return Value(static_cast<double>(rng() % 40) / 4);
    }
    case 2:
      return Value(absl::StrCat(std::string(1, static_cast<char>('a' + rng() % 5)), rng() % 7));
    default:
      return Value(rng() % 2 == 0);
  }
}

const char* kColumns[] = {"score", "rating", "name", "active"};

void AddRandomCondition(std::mt19937& rng, Query& a, Query& b) {
  int c = static_cast<int>(rng() % 4);
  const char* col = kColumns[c];
  Value v = RandomValue(rng, c);
  if (v.is_null() || (v.is_double() && std::isnan(v.AsDouble()))) v = RandomValue(rng, c);
  if (v.is_null()) return;
  switch (rng() % 4) {
    case 0: {
      const char* ops[] = {"=", "<", "<=", ">", ">=", "!="};
      const char* op = ops[rng() % 6];
      a.Where(col, op, v);
      b.Where(col, op, v);
      break;
    }
    case 1: {
      Value w = RandomValue(rng, c);
      if (w.is_null()) w = v;
      a.WhereBetween(col, v, w);
      b.WhereBetween(col, v, w);
      break;
    }
    case 2:
      if (c == 2) {
        std::string p = v.AsString().substr(0, 1 + rng() % 2);
        a.WhereStartsWith(col, p);
        b.WhereStartsWith(col, p);
      } else {
        a.WhereNotBetween(col, v, v);
        b.WhereNotBetween(col, v, v);
      }
      break;
    case 3: {
      int64_t g = rng() % 5;
      a.Where("guild", g);
      b.Where("guild", g);
      break;
    }
  }
}

std::vector<std::string> Rows(const Query& q, std::string_view order_column) {
  absl::StatusOr<ResultSet> rows = q.Get();
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::vector<std::string> out;
  if (!rows.ok()) return out;
  for (const ResultRow& r : *rows) {
    // The order column's value always; the id only when order is total.
    out.push_back(order_column.empty() ? r.Get("id")->DebugString()
                                       : r.Get(order_column)->DebugString());
  }
  return out;
}

class OrderedRandomTest : public ::testing::TestWithParam<int> {};

TEST_P(OrderedRandomTest, MatchesBruteForce) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  Twin t;
  ASSERT_OK(t.fast.CreateTable("p", Players(true)));
  ASSERT_OK(t.slow.CreateTable("p", Players(false)));
  int64_t next_id = 1;
  size_t walks = 0, ranges = 0;
  for (int step = 0; step < 400; ++step) {
    // A write on both.
    int w = static_cast<int>(rng() % 10);
    if (w < 6 || next_id < 20) {
      Attrs attrs = {{"id", next_id++}, {"guild", static_cast<int64_t>(rng() % 5)}};
      for (int c = 0; c < 4; ++c) attrs.emplace_back(kColumns[c], RandomValue(rng, c));
      ASSERT_OK(t.fast.Insert("p", attrs).status());
      ASSERT_OK(t.slow.Insert("p", attrs).status());
    } else {
      Value id(static_cast<int64_t>(rng() % next_id) + 1);
      std::optional<Row> fa = t.fast.FindTable("p")->Find(id);
      std::optional<Row> sa = t.slow.FindTable("p")->Find(id);
      ASSERT_EQ(fa.has_value(), sa.has_value());
      if (!fa) continue;
      if (w < 8) {
        int c = static_cast<int>(rng() % 4);
        Attrs attrs = {{kColumns[c], RandomValue(rng, c)}};
        ASSERT_OK(t.fast.Update(*fa, attrs).status());
        ASSERT_OK(t.slow.Update(*sa, attrs).status());
      } else {
        ASSERT_OK(t.fast.Delete(*fa));
        ASSERT_OK(t.slow.Delete(*sa));
      }
    }
    // A query on both.
    Query a(t.fast, "p"), b(t.slow, "p");
    int conds = static_cast<int>(rng() % 3);
    for (int i = 0; i < conds; ++i) AddRandomCondition(rng, a, b);
    int kind = static_cast<int>(rng() % 4);
    std::string what = *a.Explain();
    if (kind == 0) {
      ASSERT_EQ(*a.Count(), *b.Count()) << what;
      // The same rows; a range yields them in key order, a scan in slot order.
      std::vector<std::string> ra = Rows(a, ""), rb = Rows(b, "");
      std::sort(ra.begin(), ra.end());
      std::sort(rb.begin(), rb.end());
      ASSERT_EQ(ra, rb) << what;
      continue;
    }
    if (kind == 1) {
      int c = static_cast<int>(rng() % 4);
      Query am = a, bm = b;
      if (rng() % 2 == 0) {
        am.Min(kColumns[c]);
        bm.Min(kColumns[c]);
      } else {
        am.Max(kColumns[c]);
        bm.Max(kColumns[c]);
      }
      absl::StatusOr<Value> va = am.Aggregate(), vb = bm.Aggregate();
      ASSERT_OK(va.status());
      ASSERT_EQ(va->DebugString(), vb->DebugString()) << *am.Explain();
      continue;
    }
    int c = static_cast<int>(rng() % 4);
    Order order = rng() % 2 == 0 ? kAsc : kDesc;
    a.OrderBy(kColumns[c], order);
    b.OrderBy(kColumns[c], order);
    bool total = kind == 3;
    if (total) {  // a total order: compare ids
      a.OrderBy("id", kDesc);
      b.OrderBy("id", kDesc);
    }
    int64_t limit = static_cast<int64_t>(rng() % 12);
    int64_t offset = static_cast<int64_t>(rng() % 4);
    a.Offset(offset).Limit(limit);
    b.Offset(offset).Limit(limit);
    what = *a.Explain();
    walks += what.find("ordered walk") != std::string::npos;
    ranges += what.find("index range") != std::string::npos;
    // With one key, ties may differ: a walk breaks them by slot, an
    // equality probe by the key's insertion order. The keys may not.
    ASSERT_EQ(Rows(a, total ? "" : kColumns[c]), Rows(b, total ? "" : kColumns[c])) << what;
  }
  EXPECT_OK(t.fast.CheckConsistency());
  EXPECT_GT(walks, 10u);
  EXPECT_GT(ranges + walks, 10u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, OrderedRandomTest, ::testing::Values(1, 2, 3, 4, 5, 6));

}  // namespace
}  // namespace kin
