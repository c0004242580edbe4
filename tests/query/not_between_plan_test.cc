// WhereNotBetween on an ordered column as two index ranges (below the low
// operand, above the high one): which plan Explain names, and random
// queries checked against a twin table without ordered indexes (scans and
// sorts: the brute force), with fixed seeds, NULLs, NaN, strings, empty
// ranges and low > high.

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
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Schema Players(bool ordered) {
  auto o = [&](ColumnOption fallback) { return ordered ? Ordered() : fallback; };
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("score", o(Nullable()))
      .Double("rating", o(Nullable()))
      .String("name", o(Nullable()))
      .Bool("active", o(Nullable()));
}

std::vector<int64_t> Ids(const Query& q) {
  absl::StatusOr<ResultSet> rows = q.Get();
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::vector<int64_t> out;
  if (!rows.ok()) return out;
  for (const ResultRow& r : *rows) out.push_back(r.Get("id")->AsInt64());
  return out;
}

std::string Explain(const Query& q) {
  absl::StatusOr<std::string> s = q.Explain();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

// 1000 players: score i (NULL every 100th), rating i / 4 (NaN every
// 250th), name "p<i>", active for even i.
class NotBetweenPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("players", Players(true)));
    for (int i = 1; i <= 1000; ++i) {
      ASSERT_OK(db_.Insert("players", {{"score", i % 100 == 0 ? Value() : Value(int64_t{i})},
                                       {"rating", i % 250 == 0 ? std::nan("") : i * 0.25},
                                       {"name", absl::StrCat("p", i)},
                                       {"active", i % 2 == 0}})
                    .status());
    }
  }
  Query Q() { return Query(db_, "players"); }
  Database db_;
};

TEST_F(NotBetweenPlanTest, NarrowOutsideUsesTwoRanges) {
  Query q = Q().WhereNotBetween("score", 5, 995);
  EXPECT_THAT(Explain(q),
              StartsWith("index range players.score < 5 OR > 995 (ordered index, 8 rows)"));
  EXPECT_EQ(Ids(q), (std::vector<int64_t>{1, 2, 3, 4, 996, 997, 998, 999}));
  EXPECT_EQ(*q.Count(), 8);
  // The column's other ranges narrow both intervals.
  Query narrowed = Q().Where("score", ">", 2).WhereNotBetween("score", 5, 995);
  EXPECT_THAT(Explain(narrowed),
              StartsWith("index range players.score > 2 AND < 5 OR > 995 (ordered index, 6 rows)"));
  EXPECT_EQ(Ids(narrowed), (std::vector<int64_t>{3, 4, 996, 997, 998, 999}));
  // Other conditions filter the ranges' rows.
  EXPECT_EQ(Ids(Q().WhereNotBetween("score", 5, 995).Where("active", true)),
            (std::vector<int64_t>{2, 4, 996, 998}));
}

TEST_F(NotBetweenPlanTest, WideOutsideScans) {
  EXPECT_THAT(Explain(Q().WhereNotBetween("score", 100, 200)), StartsWith("scan players"));
  EXPECT_EQ(*Q().WhereNotBetween("score", 100, 200).Count(), 990 - 99);
}

TEST_F(NotBetweenPlanTest, EmptyRanges) {
  Query q = Q().WhereNotBetween("score", -5, 5000);
  EXPECT_THAT(Explain(q), StartsWith("index range players.score < -5 OR > 5000 (ordered index, "
                                     "0 rows)"));
  EXPECT_TRUE(Ids(q).empty());
  EXPECT_EQ(*q.Count(), 0);
  // An intersection that is empty on one side, and an open interval (k, k).
  EXPECT_EQ(Ids(Q().Where("score", "<", 3).WhereNotBetween("score", 5, 995)),
            (std::vector<int64_t>{1, 2}));
  EXPECT_TRUE(Ids(Q().Where("score", ">", 5).Where("score", "<", 5)).empty());
  EXPECT_EQ(*Q().Where("score", ">", 5).Where("score", "<", 5).Count(), 0);
}

TEST_F(NotBetweenPlanTest, OrderByLimitWalksBothRanges) {
  Query desc = Q().WhereNotBetween("score", 5, 995).OrderBy("score", kDesc).Limit(6);
  EXPECT_THAT(Explain(desc), StartsWith("ordered walk players.score < 5 OR > 995 desc (ordered "
                                        "index, stops after 6 rows)"));
  EXPECT_EQ(Ids(desc), (std::vector<int64_t>{999, 998, 997, 996, 4, 3}));
  Query asc = Q().WhereNotBetween("score", 5, 995).OrderBy("score").Offset(2).Limit(4);
  EXPECT_EQ(Ids(asc), (std::vector<int64_t>{3, 4, 996, 997}));
}

TEST_F(NotBetweenPlanTest, Strings) {
  // "p1" < "p10..." < "p2": below "p1" nothing, above "p999" nothing; the
  // names between "p1" and "p100" are p1, p10 and p100 themselves.
  Query q = Q().WhereNotBetween("name", "p100", "p999");
  EXPECT_THAT(Explain(q), StartsWith("index range players.name < \"p100\" OR > \"p999\""));
  EXPECT_EQ(Ids(q), (std::vector<int64_t>{1, 10}));
}

TEST_F(NotBetweenPlanTest, DoublesLeaveOutNaN) {
  // NaN is in no range (NOT BETWEEN is false for it, as each comparison).
  Query q = Q().WhereNotBetween("rating", 1.0, 249.0);
  EXPECT_THAT(Explain(q), StartsWith("index range players.rating < 1 OR > 249"));
  EXPECT_EQ(Ids(q), (std::vector<int64_t>{1, 2, 3, 997, 998, 999}));
  // A NaN operand is not a range: scanned, with the predicate's answer.
  Query nan = Q().WhereNotBetween("rating", std::nan(""), 249.0);
  EXPECT_THAT(Explain(nan), StartsWith("scan players"));
  EXPECT_EQ(Ids(nan), (std::vector<int64_t>{997, 998, 999}));
}

TEST_F(NotBetweenPlanTest, LowAboveHighTakesEveryKeyOnce) {
  // NOT BETWEEN 10 AND 5 holds for every non-NULL key: one upper interval
  // from the low operand, so no row comes twice.
  ASSERT_OK(db_.CreateTable("sparse", Players(true)));
  for (int i = 1; i <= 1000; ++i) {
    ASSERT_OK(
        db_.Insert("sparse", {{"score", i % 50 == 0 ? Value(int64_t{i}) : Value()}}).status());
  }
  Query q = Query(db_, "sparse").WhereNotBetween("score", 600, 300);
  EXPECT_THAT(Explain(q),
              StartsWith("index range sparse.score < 600 OR >= 600 (ordered index, 20 rows)"));
  std::vector<int64_t> want;
  for (int i = 50; i <= 1000; i += 50) want.push_back(i);
  EXPECT_EQ(Ids(q), want);
  EXPECT_EQ(*q.Count(), 20);
}

// --- random queries against the brute force ---

Value RandomValue(std::mt19937& rng, int column) {
  if (rng() % 8 == 0) return Value();
  switch (column) {
    case 0:
      return Value(static_cast<int64_t>(rng() % 50));
    case 1:
      if (rng() % 20 == 0) return Value(std::nan(""));
      return Value(static_cast<double>(rng() % 40) / 4);
    case 2:
      return Value(absl::StrCat(std::string(1, static_cast<char>('a' + rng() % 5)), rng() % 7));
    default:
      return Value(rng() % 2 == 0);
  }
}

const char* kColumns[] = {"score", "rating", "name", "active"};

// Operands that usually cover most values (so the ranges are narrow and
// chosen), sometimes random (wide, empty, low > high, NaN).
std::pair<Value, Value> Operands(std::mt19937& rng, int c) {
  if (rng() % 3 == 0) {
    Value a, b;
    while (a.is_null()) a = RandomValue(rng, c);
    while (b.is_null()) b = RandomValue(rng, c);
    return {a, b};
  }
  switch (c) {
    case 0:
      return {Value(static_cast<int64_t>(rng() % 4)), Value(static_cast<int64_t>(46 + rng() % 4))};
    case 1:
      return {Value(static_cast<double>(rng() % 4) / 4),
              Value(9.0 + static_cast<double>(rng() % 4) / 4)};
    case 2:
      return {Value(absl::StrCat("a", rng() % 7)), Value(absl::StrCat("e", rng() % 7))};
    default:
      return {Value(rng() % 2 == 0), Value(true)};
  }
}

struct Twin {
  Database fast;  // ordered indexes
  Database slow;  // none
};

void Write(std::mt19937& rng, Twin& t, int64_t& next_id) {
  const int w = static_cast<int>(rng() % 10);
  if (w < 6 || next_id < 20) {
    Attrs attrs = {{"id", next_id++}};
    for (int c = 0; c < 4; ++c) attrs.emplace_back(kColumns[c], RandomValue(rng, c));
    ASSERT_OK(t.fast.Insert("p", attrs).status());
    ASSERT_OK(t.slow.Insert("p", attrs).status());
    return;
  }
  Value id(static_cast<int64_t>(rng() % next_id) + 1);
  std::optional<Row> fa = t.fast.FindTable("p")->Find(id);
  std::optional<Row> sa = t.slow.FindTable("p")->Find(id);
  ASSERT_EQ(fa.has_value(), sa.has_value());
  if (!fa) return;
  if (w < 8) {
    const int c = static_cast<int>(rng() % 4);
    Attrs attrs = {{kColumns[c], RandomValue(rng, c)}};
    ASSERT_OK(t.fast.Update(*fa, attrs).status());
    ASSERT_OK(t.slow.Update(*sa, attrs).status());
  } else {
    ASSERT_OK(t.fast.Delete(*fa));
    ASSERT_OK(t.slow.Delete(*sa));
  }
}

std::vector<std::string> Cells(const Query& q, std::string_view column) {
  absl::StatusOr<ResultSet> rows = q.Get();
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::vector<std::string> out;
  if (!rows.ok()) return out;
  for (const ResultRow& r : *rows) out.push_back(r.Get(column)->DebugString());
  return out;
}

class NotBetweenRandomTest : public ::testing::TestWithParam<int> {};

TEST_P(NotBetweenRandomTest, MatchesBruteForce) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  Twin t;
  ASSERT_OK(t.fast.CreateTable("p", Players(true)));
  ASSERT_OK(t.slow.CreateTable("p", Players(false)));
  int64_t next_id = 1;
  size_t ranges = 0, walks = 0;
  for (int step = 0; step < 500; ++step) {
    Write(rng, t, next_id);
    Query a(t.fast, "p"), b(t.slow, "p");
    const int c = static_cast<int>(rng() % 4);
    auto [lo, hi] = Operands(rng, c);
    a.WhereNotBetween(kColumns[c], lo, hi);
    b.WhereNotBetween(kColumns[c], lo, hi);
    if (rng() % 3 == 0) {  // another condition, maybe on the same column
      const int d = rng() % 2 == 0 ? c : static_cast<int>(rng() % 4);
      Value v = RandomValue(rng, d);
      if (!v.is_null()) {
        const char* ops[] = {"<", ">=", "!="};
        const char* op = ops[rng() % 3];
        a.Where(kColumns[d], op, v);
        b.Where(kColumns[d], op, v);
      }
    }
    const std::string what = Explain(a);
    ranges += what.find(" OR ") != std::string::npos;
    if (rng() % 2 == 0) {
      ASSERT_EQ(*a.Count(), *b.Count()) << what;
      std::vector<std::string> ra = Cells(a, "id"), rb = Cells(b, "id");
      std::sort(ra.begin(), ra.end());
      std::sort(rb.begin(), rb.end());
      ASSERT_EQ(ra, rb) << what;
      continue;
    }
    // A total order (then by id) so the rows themselves must agree.
    const Order order = rng() % 2 == 0 ? kAsc : kDesc;
    const int64_t limit = static_cast<int64_t>(rng() % 8);
    const int64_t offset = static_cast<int64_t>(rng() % 3);
    a.OrderBy(kColumns[c], order).OrderBy("id").Offset(offset).Limit(limit);
    b.OrderBy(kColumns[c], order).OrderBy("id").Offset(offset).Limit(limit);
    const std::string walk = Explain(a);
    walks +=
        walk.find("ordered walk") != std::string::npos && walk.find(" OR ") != std::string::npos;
    ASSERT_EQ(Cells(a, "id"), Cells(b, "id")) << walk;
  }
  EXPECT_OK(t.fast.CheckConsistency());
  EXPECT_GT(ranges, 50u);
  EXPECT_GT(walks, 20u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, NotBetweenRandomTest, ::testing::Values(1, 2, 3, 4, 5));

}  // namespace
}  // namespace kin
