// The planner over composite ordered indexes: Explain names the index and
// the prefix / range, OrderBy + Limit within an equality prefix walks the
// index, and random queries give what the same queries give on a twin
// table without the index (scans and sorts: the brute force), with fixed
// seeds.

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
#include "tests/query/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Schema Players(bool guild_index) {
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("guild", guild_index ? Indexed() : Nullable())
      .Int64("score", Nullable())
      .Double("rating", Nullable())
      .String("name", Nullable())
      .Bool("active", Nullable());
}

std::vector<int64_t> Ids(const Query& q) {
  absl::StatusOr<ResultSet> rows = q.Get();
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? test::Column(*rows) : std::vector<int64_t>{};
}

std::string Explain(const Query& q) {
  absl::StatusOr<std::string> s = q.Explain();
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

class CompositePlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two databases with the same rows in the same slots: `db_` has the
    // composite indexes, `plain_` only its guild hash index.
    for (Database* db : {&db_, &plain_}) {
      ASSERT_OK(db->CreateTable("players", Players(true)));
      for (int i = 1; i <= 2000; ++i) {
        ASSERT_OK(db->Insert("players", {{"guild", i % 20},
                                         {"score", i % 37 == 0 ? Value() : Value(int64_t{i % 300})},
                                         {"rating", i * 0.5},
                                         {"name", absl::StrCat("p", i % 50)},
                                         {"active", i % 3 == 0}})
                      .status());
      }
    }
    ASSERT_OK(db_.CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered));
    ASSERT_OK(db_.CreateIndex("players", {"name", "active", "rating"}, IndexKind::kOrdered));
  }
  void ExpectSame(Query a, Query b) { EXPECT_EQ(Ids(a), Ids(b)) << Explain(a); }
  Database db_;
  Database plain_;
};

TEST_F(CompositePlanTest, GuildTopWalksThePrefix) {
  Query q = db_.Query("players").Where("guild", 7).OrderBy("score", kDesc).Limit(10);
  EXPECT_THAT(Explain(q), StartsWith("composite walk players(guild, score) guild = 7, score desc "
                                     "(composite ordered index, stops after 10 rows)"));
  EXPECT_THAT(Explain(plain_.Query("players").Where("guild", 7).OrderBy("score", kDesc).Limit(10)),
              StartsWith("index probe players.guild = 7"));
  ExpectSame(q, plain_.Query("players").Where("guild", 7).OrderBy("score", kDesc).Limit(10));
  // Ascending: NULL scores first; ties (score repeats every 300 ids) by slot.
  ExpectSame(db_.Query("players").Where("guild", 0).OrderBy("score").Limit(30),
             plain_.Query("players").Where("guild", 0).OrderBy("score").Limit(30));
  ExpectSame(
      db_.Query("players").Where("guild", 0).OrderBy("score", kDesc).Offset(90).Limit(20),
      plain_.Query("players").Where("guild", 0).OrderBy("score", kDesc).Offset(90).Limit(20));
  // Remaining predicates still filter.
  ExpectSame(
      db_.Query("players").Where("guild", 3).Where("active", true).OrderBy("score").Limit(7),
      plain_.Query("players").Where("guild", 3).Where("active", true).OrderBy("score").Limit(7));
  // A range on the walked column.
  Query r =
      db_.Query("players").Where("guild", 5).Where("score", ">=", 100).OrderBy("score").Limit(5);
  EXPECT_THAT(Explain(r), StartsWith("composite walk players(guild, score) guild = 5 AND score >= "
                                     "100, score asc"));
  ExpectSame(r, plain_.Query("players")
                    .Where("guild", 5)
                    .Where("score", ">=", 100)
                    .OrderBy("score")
                    .Limit(5));
  // An empty prefix.
  EXPECT_TRUE(Ids(db_.Query("players").Where("guild", 99).OrderBy("score").Limit(5)).empty());
}

TEST_F(CompositePlanTest, EqualityPrefixAndRangeScansTheIndex) {
  Query q = db_.Query("players")
                .Where("name", "p7")
                .Where("active", true)
                .WhereBetween("rating", 100, 500);
  EXPECT_THAT(Explain(q), StartsWith("composite range players(name, active, rating) name = \"p7\" "
                                     "AND active = true AND rating >= 100 AND <= 500 (composite "
                                     "ordered index, "));
  auto sorted = [](std::vector<int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<int64_t> expected = sorted(Ids(plain_.Query("players")
                                                       .Where("name", "p7")
                                                       .Where("active", true)
                                                       .WhereBetween("rating", 100, 500)));
  EXPECT_FALSE(expected.empty());
  EXPECT_EQ(sorted(Ids(q)), expected);
  EXPECT_EQ(*q.Count(), static_cast<int64_t>(expected.size()));
  for (const char* op : {"<", "<=", ">", ">="}) {
    Query a =
        db_.Query("players").Where("name", "p9").Where("active", false).Where("rating", op, 600);
    Query b =
        plain_.Query("players").Where("name", "p9").Where("active", false).Where("rating", op, 600);
    EXPECT_THAT(Explain(a), StartsWith("composite range players(name, active, rating)")) << op;
    EXPECT_EQ(sorted(Ids(a)), sorted(Ids(b))) << op;
  }
  // An equality prefix alone, on a column without a hash index.
  EXPECT_THAT(Explain(db_.Query("players").Where("name", "p1")),
              StartsWith("composite range players(name, active, rating) name = \"p1\""));
  EXPECT_EQ(sorted(Ids(db_.Query("players").Where("name", "p1").Where("score", ">", 20))),
            sorted(Ids(plain_.Query("players").Where("name", "p1").Where("score", ">", 20))));
  // OR is not a prefix: no composite.
  EXPECT_THAT(Explain(db_.Query("players").Where("name", "p1").OrWhere("active", true)),
              StartsWith("scan players"));
}

TEST_F(CompositePlanTest, PersistsInDatabaseDebugString) {
  EXPECT_THAT(db_.DebugString(), HasSubstr("composite index (guild, score): "));
  const std::string before = db_.DebugString();
  ASSERT_OK(db_.Begin());
  ASSERT_OK(db_.Insert("players", {{"guild", 7}, {"score", 1000}}).status());
  EXPECT_EQ(Ids(db_.Query("players").Where("guild", 7).OrderBy("score", kDesc).Limit(1)),
            (std::vector<int64_t>{2001}));
  ASSERT_OK(db_.Rollback());
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered),
              test::StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(db_.CreateIndex("players", {"guild", "nope"}, IndexKind::kOrdered),
              test::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope")));
  EXPECT_EQ(db_.DebugString(), before);
}

// --- random queries against the brute force ---

Value RandomValue(std::mt19937& rng, int column) {
  if (rng() % 10 == 0) return Value();
  switch (column) {
    case 0:  // guild
      return Value(static_cast<int64_t>(rng() % 6));
    case 1:  // score
      return Value(static_cast<int64_t>(rng() % 30));
    case 2:  // rating
      if (rng() % 40 == 0) return Value(std::nan(""));
      return Value(static_cast<double>(rng() % 20) / 2);
    case 3:  // name
      return Value(absl::StrCat("n", rng() % 5));
    default:  // active
      return Value(rng() % 2 == 0);
  }
}

const char* kColumns[] = {"guild", "score", "rating", "name", "active"};

Attrs RandomAttrs(std::mt19937& rng) {
  Attrs attrs;
  for (int c = 0; c < 5; ++c) {
    if (rng() % 4 != 0) attrs.emplace_back(kColumns[c], RandomValue(rng, c));
  }
  return attrs;
}

class CompositeRandomTest : public ::testing::TestWithParam<int> {};

TEST_P(CompositeRandomTest, MatchesBruteForce) {
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  Database fast, slow;
  ASSERT_OK(fast.CreateTable("p", Players(false)));
  ASSERT_OK(slow.CreateTable("p", Players(false)));
  ASSERT_OK(fast.CreateIndex("p", {"guild", "score"}, IndexKind::kOrdered));
  ASSERT_OK(fast.CreateIndex("p", {"name", "rating", "active"}, IndexKind::kOrdered));
  ASSERT_OK(fast.CreateIndex("p", {"active", "guild"}, IndexKind::kOrdered));
  // The same writes on both: the same rows in the same slots.
  auto write = [&]() {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5 || fast.FindTable("p")->empty()) {
      Attrs attrs = RandomAttrs(rng);
      ASSERT_EQ(fast.Insert("p", attrs).ok(), slow.Insert("p", attrs).ok());
      return;
    }
    std::vector<RowId> live = fast.FindTable("p")->LiveRowIds();
    RowId id = live[rng() % live.size()];
    Row a = fast.FindTable("p")->GetRow(id);
    Row b = slow.FindTable("p")->GetRow(id);
    if (op < 8) {
      Attrs attrs = RandomAttrs(rng);
      ASSERT_EQ(fast.Update(a, attrs).ok(), slow.Update(b, attrs).ok());
    } else {
      ASSERT_OK(fast.Delete(a));
      ASSERT_OK(slow.Delete(b));
    }
  };
  for (int round = 0; round < 60; ++round) {
    for (int i = 0; i < 50; ++i) write();
    ASSERT_OK(fast.CheckConsistency());
    for (int k = 0; k < 10; ++k) {
      Query a = fast.Query("p");
      Query b = slow.Query("p");
      // An equality prefix on the first one or two columns of an index.
      const int index = static_cast<int>(rng() % 3);
      const char* const cols[3][3] = {
          {"guild", "score", nullptr}, {"name", "rating", "active"}, {"active", "guild", nullptr}};
      const int col_ids[3][3] = {{0, 1, -1}, {3, 2, 4}, {4, 0, -1}};
      const int width = cols[index][2] == nullptr ? 2 : 3;
      const int prefix = 1 + static_cast<int>(rng() % (width - 1));
      for (int c = 0; c < prefix; ++c) {
        Value v = RandomValue(rng, col_ids[index][c]);
        if (v.is_null()) v = RandomValue(rng, col_ids[index][c]);
        if (v.is_null() || (v.is_double() && std::isnan(v.AsDouble()))) continue;
        a.Where(cols[index][c], v);
        b.Where(cols[index][c], v);
      }
      const char* next = cols[index][prefix];
      const int next_id = col_ids[index][prefix];
      Value v = RandomValue(rng, next_id);
      if (!v.is_null() && !(v.is_double() && std::isnan(v.AsDouble()))) {
        switch (rng() % 4) {
          case 0: {
            const char* ops[] = {"<", "<=", ">", ">="};
            const char* op = ops[rng() % 4];
            a.Where(next, op, v);
            b.Where(next, op, v);
            break;
          }
          case 1: {
            Value w = RandomValue(rng, next_id);
            if (w.is_null() || (w.is_double() && std::isnan(w.AsDouble()))) w = v;
            a.WhereBetween(next, v, w);
            b.WhereBetween(next, v, w);
            break;
          }
          default:
            break;
        }
      }
      if (rng() % 3 == 0) {  // another condition, left to the filter
        const int c = static_cast<int>(rng() % 5);
        Value w = RandomValue(rng, c);
        if (!w.is_null() && !(w.is_double() && std::isnan(w.AsDouble()))) {
          a.Where(kColumns[c], "!=", w);
          b.Where(kColumns[c], "!=", w);
        }
      }
      const bool ordered = rng() % 3 != 0;
      if (ordered) {
        const Order order = rng() % 2 == 0 ? kAsc : kDesc;
        a.OrderBy(next, order);
        b.OrderBy(next, order);
        if (rng() % 2 == 0) {
          a.Offset(static_cast<int64_t>(rng() % 5));
          b.Offset(a.spec().offset.value_or(0));
        }
        const int64_t limit = 1 + static_cast<int64_t>(rng() % 15);
        a.Limit(limit);
        b.Limit(limit);
        // Ties by slot in both: the walk closes each tie group in slot order.
        ASSERT_EQ(Ids(a), Ids(b)) << Explain(a) << " vs " << Explain(b);
      } else {
        std::vector<int64_t> x = Ids(a), y = Ids(b);
        std::sort(x.begin(), x.end());
        std::sort(y.begin(), y.end());
        ASSERT_EQ(x, y) << Explain(a);
        ASSERT_EQ(*a.Count(), *b.Count()) << Explain(a);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, CompositeRandomTest, ::testing::Values(15, 1515, 151515));

}  // namespace
}  // namespace kin
