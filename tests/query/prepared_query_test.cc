// PreparedQuery: Query::Prepare, then Bind and run many times. Every result
// is checked against the same query built with the values written in (the
// reference path, and its Explain text) and, for the shapes a game runs,
// against a brute force over the rows.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

// Counts heap allocations made on this thread while g_counting is set, to
// check that a prepared run allocates only its result.
namespace {
thread_local bool g_counting = false;
thread_local int64_t g_allocations = 0;
}  // namespace

// Every unaligned form is replaced, so that new and delete always pair
// (AddressSanitizer checks it).
namespace {
void* CountedAlloc(size_t n) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* CountedAllocOrThrow(size_t n) {
  void* p = CountedAlloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t n) { return CountedAllocOrThrow(n); }
void* operator new[](size_t n) { return CountedAllocOrThrow(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return CountedAlloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Entry {
  int64_t id;
  std::string name;
  friend bool operator==(const Entry&, const Entry&) = default;
};

class PreparedQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("players", Schema()
                                             .Int64("id", PrimaryKey())
                                             .Int64("guild", Indexed())
                                             .Int64("score", Ordered())
                                             .Int64("created_at")
                                             .Double("speed", Ordered())
                                             .String("name", Ordered())
                                             .Bool("online", Default(false))));
    ASSERT_OK(db_.CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered));
    ASSERT_OK_AND_ASSIGN(id_, db_.Int64Column("players", "id"));
    ASSERT_OK_AND_ASSIGN(guild_, db_.Int64Column("players", "guild"));
    ASSERT_OK_AND_ASSIGN(score_, db_.Int64Column("players", "score"));
    ASSERT_OK_AND_ASSIGN(name_, db_.StringColumn("players", "name"));
  }

  // Rows next_id_.. with random guilds (some NULL), scores with ties,
  // speeds and names.
  void AddPlayers(int n, std::mt19937_64& rng) {
    for (int i = 0; i < n; ++i) {
      const int64_t id = next_id_++;
      const int64_t g = static_cast<int64_t>(rng() % 25);
      ASSERT_OK(db_.Insert("players", {{"id", id},
                                       {"guild", g == 0 ? Value() : Value(g)},
                                       {"score", static_cast<int64_t>(rng() % 200)},
                                       {"created_at", static_cast<int64_t>(rng() % 1000)},
                                       {"speed", static_cast<double>(rng() % 1000) / 10.0},
                                       {"name", "p" + std::to_string(rng() % 500)},
                                       {"online", rng() % 2 == 0}})
                    .status());
    }
  }

  // The ids Get() returns, in its order.
  static std::vector<int64_t> Ids(const absl::StatusOr<ResultSet>& rows) {
    std::vector<int64_t> out;
    EXPECT_OK(rows.status());
    if (!rows.ok()) return out;
    for (const ResultRow& row : *rows) out.push_back(*row.GetInt64("id"));
    return out;
  }

  // Every live row as (id, guild, score, created_at, speed, name).
  struct Player {
    int64_t id;
    std::optional<int64_t> guild;
    int64_t score;
    int64_t created_at;
    double speed;
    std::string name;
  };
  std::vector<Player> All() {
    std::vector<Player> out;
    absl::StatusOr<ResultSet> rows = db_.Query("players").OrderBy("id").Get();
    EXPECT_OK(rows.status());
    for (const ResultRow& r : *rows) {
      Value g = *r.Get("guild");
      out.push_back(Player{*r.GetInt64("id"),
                           g.is_null() ? std::nullopt : std::optional(g.AsInt64()),
                           *r.GetInt64("score"), *r.GetInt64("created_at"),
                           r.Get("speed")->AsDouble(), std::string(*r.GetString("name"))});
    }
    return out;
  }

  Database db_;
  int64_t next_id_ = 1;
  Column<int64_t> id_, guild_, score_;
  Column<std::string_view> name_;
};

// Runs `shape` prepared with params and unprepared with `values` written in,
// and checks Pluck / Count / Get / Explain agree.
template <typename Shape>
void ExpectSame(PreparedQuery& p, Shape shape, const std::vector<Value>& values,
                const Column<int64_t>& id) {
  for (size_t i = 0; i < values.size(); ++i) ASSERT_OK(p.TryBind(static_cast<int>(i), values[i]));
  Query q = shape(values);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> want, q.Pluck(id));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> got, p.Pluck(id));
  EXPECT_EQ(got, want);
  ASSERT_OK_AND_ASSIGN(int64_t want_count, q.Count());
  EXPECT_THAT(p.Count(), IsOkAndHolds(want_count));
  ASSERT_OK_AND_ASSIGN(ResultSet rows, p.Get());
  std::vector<int64_t> get_ids;
  for (const ResultRow& row : rows) get_ids.push_back(*row.GetInt64("id"));
  EXPECT_EQ(get_ids, want);
  ASSERT_OK_AND_ASSIGN(std::string want_plan, q.Explain());
  EXPECT_THAT(p.Explain(), IsOkAndHolds(want_plan));
}

TEST_F(PreparedQueryTest, EqualityMatchesBruteForceForManyValues) {
  std::mt19937_64 rng(15);
  AddPlayers(2000, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("players").Where("guild", Param(0)).Prepare());
  EXPECT_EQ(p.num_params(), 1);
  std::vector<Player> all = All();
  for (int64_t g = -1; g <= 26; ++g) {
    std::vector<int64_t> want;
    for (const Player& pl : all) {
      if (pl.guild == g) want.push_back(pl.id);
    }
    ASSERT_OK_AND_ASSIGN(std::vector<int64_t> got, p.Bind(0, g).Pluck(id_));
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << "guild " << g;
  }
}

TEST_F(PreparedQueryTest, GuildTopMatchesBruteForce) {
  std::mt19937_64 rng(16);
  AddPlayers(3000, rng);
  ASSERT_OK_AND_ASSIGN(
      PreparedQuery p,
      db_.Query("players").Where("guild", Param(0)).OrderBy("score", kDesc).Limit(10).Prepare());
  std::vector<Player> all = All();
  for (int64_t g = 0; g <= 26; ++g) {
    std::vector<const Player*> in;
    for (const Player& pl : all) {
      if (pl.guild == g) in.push_back(&pl);
    }
    // Ties by slot order = insertion order = id order here.
    std::stable_sort(in.begin(), in.end(),
                     [](const Player* a, const Player* b) { return a->score > b->score; });
    std::vector<int64_t> want;
    for (size_t i = 0; i < in.size() && i < 10; ++i) want.push_back(in[i]->id);
    EXPECT_THAT(p.Bind(0, g).Pluck(id_), IsOkAndHolds(want)) << "guild " << g;
    ASSERT_OK_AND_ASSIGN(std::string plan, p.Explain());
    if (g >= 1 && g <= 24) {
      EXPECT_THAT(plan, HasSubstr("composite walk players(guild, score)"));
    }
  }
}

TEST_F(PreparedQueryTest, RandomShapesMatchUnpreparedQuery) {
  std::mt19937_64 rng(17);
  AddPlayers(1500, rng);
  auto players = [this] { return db_.Query("players"); };
  // Each shape built twice: with Params (prepared) and with the values.
  struct Case {
    std::string name;
    std::function<Query(bool, const std::vector<Value>&)> build;
    std::function<std::vector<Value>(std::mt19937_64&)> values;
  };
  std::vector<Case> cases;
  cases.push_back({"score between",
                   [&](bool prep, const std::vector<Value>& x) {
                     return prep ? players().WhereBetween("score", Param(0), Param(1))
                                 : players().WhereBetween("score", x[0], x[1]);
                   },
                   [](std::mt19937_64& r) {
                     int64_t lo = static_cast<int64_t>(r() % 220) - 10;
                     return std::vector<Value>{lo, lo + static_cast<int64_t>(r() % 30)};
                   }});
  cases.push_back({"score not between ordered limit",
                   [&](bool prep, const std::vector<Value>& x) {
                     Query q = prep ? players().WhereNotBetween("score", Param(0), Param(1))
                                    : players().WhereNotBetween("score", x[0], x[1]);
                     return q.OrderBy("score").OrderBy("id", kDesc).Limit(7).Offset(2);
                   },
                   [](std::mt19937_64& r) {
                     int64_t lo = static_cast<int64_t>(r() % 200);
                     return std::vector<Value>{lo, lo + static_cast<int64_t>(r() % 200)};
                   }});
  cases.push_back({"speed > double or int",
                   [&](bool prep, const std::vector<Value>& x) {
                     return (prep ? players().Where("speed", ">", Param(0))
                                  : players().Where("speed", ">", x[0]))
                         .OrderBy("speed", kDesc)
                         .Limit(5);
                   },
                   [](std::mt19937_64& r) {
                     return std::vector<Value>{r() % 2 == 0
                                                   ? Value(static_cast<double>(r() % 1000) / 10.0)
                                                   : Value(static_cast<int64_t>(r() % 100))};
                   }});
  cases.push_back({"name range strings",
                   [&](bool prep, const std::vector<Value>& x) {
                     return prep ? players()
                                       .Where("name", ">=", Param(0))
                                       .Where("name", CompareOp::kLt, Param(1))
                                 : players().Where("name", ">=", x[0]).Where("name", "<", x[1]);
                   },
                   [](std::mt19937_64& r) {
                     std::string a = "p" + std::to_string(r() % 500);
                     std::string b = a + std::to_string(r() % 10);
                     return std::vector<Value>{a, b};
                   }});
  cases.push_back(
      {"guild or low score, one param twice",
       [&](bool prep, const std::vector<Value>& x) {
         return prep ? players()
                           .Where("guild", Param(0))
                           .OrWhere("score", "<", Param(1))
                           .OrWhere("created_at", Param(1))
                     : players()
                           .Where("guild", x[0])
                           .OrWhere("score", "<", x[1])
                           .OrWhere("created_at", x[1]);
       },
       [](std::mt19937_64& r) {
         return std::vector<Value>{static_cast<int64_t>(r() % 26), static_cast<int64_t>(r() % 20)};
       }});
  cases.push_back(
      {"group with literal and params",
       [&](bool prep, const std::vector<Value>& x) {
         Query q = players().Where("online", true);
         if (prep) {
           q.Where(
               [](Query& g) { g.Where("guild", Param(0)).OrWhere("created_at", ">", Param(1)); });
         } else {
           q.Where([&](Query& g) { g.Where("guild", x[0]).OrWhere("created_at", ">", x[1]); });
         }
         return q.OrderBy("created_at").Limit(20);
       },
       [](std::mt19937_64& r) {
         return std::vector<Value>{static_cast<int64_t>(r() % 26),
                                   static_cast<int64_t>(r() % 1000)};
       }});
  cases.push_back(
      {"guild and score range (composite range)",
       [&](bool prep, const std::vector<Value>& x) {
         return prep ? players().Where("guild", Param(0)).WhereBetween("score", Param(1), Param(2))
                     : players().Where("guild", x[0]).WhereBetween("score", x[1], x[2]);
       },
       [](std::mt19937_64& r) {
         int64_t lo = static_cast<int64_t>(r() % 200);
         return std::vector<Value>{static_cast<int64_t>(r() % 26), lo,
                                   lo + static_cast<int64_t>(r() % 100)};
       }});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_OK_AND_ASSIGN(PreparedQuery p, c.build(true, {}).Prepare());
    for (int round = 0; round < 40; ++round) {
      std::vector<Value> values = c.values(rng);
      ExpectSame(
          p, [&](const std::vector<Value>& x) { return c.build(false, x); }, values, id_);
    }
  }
}

TEST_F(PreparedQueryTest, TypedResultsAndAggregate) {
  std::mt19937_64 rng(18);
  AddPlayers(500, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("players")
                                            .Where("guild", Param(0))
                                            .OrderBy("score", kDesc)
                                            .OrderBy("id")
                                            .Limit(5)
                                            .Prepare());
  Query q = db_.Query("players").Where("guild", 3).OrderBy("score", kDesc).OrderBy("id").Limit(5);
  p.Bind(0, 3);
  EXPECT_EQ(*p.Columns(id_, score_), *q.Columns(id_, score_));
  ASSERT_OK_AND_ASSIGN(std::vector<Entry> entries, p.As<Entry>(id_, name_));
  ASSERT_OK_AND_ASSIGN(std::vector<Entry> want_entries, q.As<Entry>(id_, name_));
  EXPECT_EQ(entries, want_entries);
  ASSERT_OK_AND_ASSIGN(auto range, p.Each(id_, score_));
  std::vector<int64_t> seen;
  for (auto [row, i, s] : range) seen.push_back(i);
  EXPECT_EQ(seen, *q.Pluck(id_));

  ASSERT_OK_AND_ASSIGN(
      PreparedQuery sum,
      db_.Query("players").WhereBetween("score", Param(0), Param(1)).Sum("score").Prepare());
  for (int64_t lo : {0, 50, 150, 300}) {
    sum.Bind(0, lo).Bind(1, lo + 40);
    EXPECT_EQ(*sum.Aggregate(),
              *db_.Query("players").WhereBetween("score", lo, lo + 40).Sum("score").Aggregate());
  }
  // An aggregate query has no rows to read.
  EXPECT_THAT(sum.Pluck(id_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Aggregate")));
}

TEST_F(PreparedQueryTest, NoRowsNullsAndDuplicates) {
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("players").Where("guild", Param(0)).Prepare());
  EXPECT_THAT(p.Bind(0, 1).Pluck(id_), IsOkAndHolds(IsEmpty()));  // empty table
  EXPECT_THAT(p.Count(), IsOkAndHolds(0));
  // NULL guilds: never equal to a bound value; IS NULL in a prepared query
  // notices NULLs inserted after Prepare.
  ASSERT_OK_AND_ASSIGN(
      PreparedQuery nulls,
      db_.Query("players").WhereNull("guild").Where("score", ">=", Param(0)).Prepare());
  EXPECT_THAT(nulls.Bind(0, 0).Count(), IsOkAndHolds(0));
  for (int64_t i = 1; i <= 6; ++i) {
    ASSERT_OK(db_.Insert("players", {{"id", i},
                                     {"guild", i % 2 == 0 ? Value() : Value(int64_t{7})},
                                     {"score", 10},
                                     {"created_at", 0},
                                     {"speed", 1.0},
                                     {"name", "dup"}})
                  .status());
  }
  EXPECT_THAT(nulls.Count(), IsOkAndHolds(3));
  EXPECT_THAT(nulls.Pluck(id_), IsOkAndHolds(ElementsAre(2, 4, 6)));
  EXPECT_THAT(p.Bind(0, 7).Pluck(id_),
              IsOkAndHolds(ElementsAre(1, 3, 5)));  // duplicates of one key
  ASSERT_OK_AND_ASSIGN(PreparedQuery by_name,
                       db_.Query("players").Where("name", Param(0)).OrderBy("id").Prepare());
  EXPECT_THAT(by_name.Bind(0, "dup").Pluck(id_), IsOkAndHolds(ElementsAre(1, 2, 3, 4, 5, 6)));
  EXPECT_THAT(by_name.Bind(0, "dup2").Pluck(id_), IsOkAndHolds(IsEmpty()));
  // Rebinding: the last value wins; a value stays bound across runs.
  EXPECT_THAT(p.Bind(0, 8).Bind(0, 7).Count(), IsOkAndHolds(3));
  EXPECT_THAT(p.Count(), IsOkAndHolds(3));
}

TEST_F(PreparedQueryTest, ReusedAfterWritesAndRollback) {
  std::mt19937_64 rng(19);
  AddPlayers(100, rng);
  ASSERT_OK_AND_ASSIGN(
      PreparedQuery top,
      db_.Query("players").Where("guild", Param(0)).OrderBy("score", kDesc).Limit(3).Prepare());
  ASSERT_OK_AND_ASSIGN(PreparedQuery range,
                       db_.Query("players").WhereBetween("score", Param(0), Param(1)).Prepare());
  auto check = [&] {
    for (int64_t g = 1; g < 25; g += 3) {
      EXPECT_EQ(
          *top.Bind(0, g).Pluck(id_),
          *db_.Query("players").Where("guild", g).OrderBy("score", kDesc).Limit(3).Pluck(id_));
    }
    for (int64_t lo = 0; lo < 200; lo += 37) {
      EXPECT_EQ(*range.Bind(0, lo).Bind(1, lo + 5).Pluck(id_),
                *db_.Query("players").WhereBetween("score", lo, lo + 5).Pluck(id_));
    }
  };
  check();
  // Enough inserts to move every column's storage.
  AddPlayers(5000, rng);
  check();
  ASSERT_OK_AND_ASSIGN(int64_t updated,
                       db_.Query("players").Where("score", "<", 50).Update({{"score", 199}}));
  EXPECT_GT(updated, 0);
  ASSERT_OK_AND_ASSIGN(int64_t deleted, db_.Query("players").Where("guild", 4).Delete());
  EXPECT_GT(deleted, 0);
  check();
  const std::string before = db_.DebugString();
  ASSERT_OK(db_.Begin());
  AddPlayers(300, rng);
  ASSERT_OK(db_.Query("players").Where("guild", 5).Delete().status());
  check();
  ASSERT_OK(db_.Rollback());
  EXPECT_EQ(db_.DebugString(), before);
  check();
}

TEST_F(PreparedQueryTest, IndexCreatedAfterPrepareIsUsed) {
  std::mt19937_64 rng(20);
  AddPlayers(2000, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery p,
                       db_.Query("players").Where("created_at", Param(0)).Prepare());
  p.Bind(0, 500);
  EXPECT_THAT(*p.Explain(), HasSubstr("scan players"));
  const std::vector<int64_t> before = *p.Pluck(id_);
  ASSERT_OK(db_.CreateIndex("players", "created_at"));
  EXPECT_THAT(*p.Explain(), HasSubstr("index probe players.created_at = 500"));
  EXPECT_THAT(p.Pluck(id_), IsOkAndHolds(before));
}

// A prepared run skips the choosers that cannot fire for its shape, decided
// against the table's index set: every index created or dropped between
// runs must change the next run's plan exactly as a fresh query's.
TEST_F(PreparedQueryTest, IndexesCreatedAndDroppedBetweenRunsChangeThePlan) {
  ASSERT_OK(db_.CreateTable(
      "scores",
      Schema().Int64("id", PrimaryKey()).Int64("team", NotNull()).Int64("points", NotNull())));
  std::mt19937_64 rng(31);
  for (int64_t id = 1; id <= 3000; ++id) {
    ASSERT_OK(db_.Insert("scores", {{"id", id},
                                    {"team", static_cast<int64_t>(rng() % 40)},
                                    {"points", static_cast<int64_t>(rng() % 500)}})
                  .status());
  }
  ASSERT_OK_AND_ASSIGN(Column<int64_t> id, db_.Int64Column("scores", "id"));
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("scores")
                                            .Where("team", Param(0))
                                            .Where("points", ">=", Param(1))
                                            .OrderBy("points", kDesc)
                                            .Limit(5)
                                            .Prepare());
  auto check = [&](absl::string_view want_plan) {
    SCOPED_TRACE(want_plan);
    for (int64_t team : {3, 17}) {
      Query q = db_.Query("scores").Where("team", team).Where("points", ">=", 100);
      q.OrderBy("points", kDesc).Limit(5);
      p.Bind(0, team).Bind(1, 100);
      ASSERT_OK_AND_ASSIGN(std::string plan, q.Explain());
      EXPECT_THAT(plan, HasSubstr(want_plan));
      EXPECT_THAT(p.Explain(), IsOkAndHolds(plan));
      EXPECT_THAT(p.Pluck(id), IsOkAndHolds(*q.Pluck(id)));
    }
  };
  check("scan scores");
  ASSERT_OK(db_.CreateIndex("scores", "team"));
  check("index probe scores.team = ");
  ASSERT_OK(db_.CreateIndex("scores", "points", IndexKind::kOrdered));
  ASSERT_OK(db_.CreateIndex("scores", {"team", "points"}, IndexKind::kOrdered));
  check("(team, points)");
  ASSERT_OK(db_.DropIndex("scores", {"team", "points"}));
  ASSERT_OK(db_.DropIndex("scores", "team"));
  check("points");
  ASSERT_OK(db_.DropIndex("scores", "points", IndexKind::kOrdered));
  check("scan scores");
}

TEST_F(PreparedQueryTest, BadBindsAreErrorsNamingParameterAndColumn) {
  std::mt19937_64 rng(21);
  AddPlayers(50, rng);
  ASSERT_OK_AND_ASSIGN(
      PreparedQuery p,
      db_.Query("players").Where("guild", Param(0)).Where("speed", ">", Param(2)).Prepare());
  const std::string before = db_.DebugString();
  EXPECT_EQ(p.num_params(), 3);
  EXPECT_THAT(p.Pluck(id_), StatusIs(absl::StatusCode::kInvalidArgument,
                                     "Pluck on 'players': parameter ?0 (players.guild) is not "
                                     "bound"));
  p.Bind(0, 1);
  EXPECT_THAT(p.Count(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("parameter ?2 (players.speed) is not bound")));
  EXPECT_THAT(p.TryBind(1, 5), StatusIs(absl::StatusCode::kInvalidArgument,
                                        "Bind on 'players': no parameter ?1 (the query has ?0, "
                                        "?2)"));
  EXPECT_THAT(p.TryBind(-1, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(p.TryBind(9, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(p.TryBind(0, "x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Bind on 'players': parameter ?0 (players.guild): expected int64, got "
                       "string \"x\""));
  EXPECT_THAT(p.TryBind(0, 1.5), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("expected int64, got double")));
  EXPECT_THAT(p.TryBind(2, Value()), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("(players.speed): cannot be NULL")));
  // A failed Bind leaves ?0 unbound: reported by the next run.
  ASSERT_OK(p.TryBind(2, 3));  // int64 for a double column, as in Where
  EXPECT_THAT(p.Count(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("parameter ?0 (players.guild) is not bound")));
  // Chained Bind: its error comes from the next run, once.
  EXPECT_THAT(p.Bind(0, "x").Pluck(id_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected int64")));
  EXPECT_THAT(p.Pluck(id_), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("?0 (players.guild) is not bound")));
  EXPECT_OK(p.Bind(0, 2).Pluck(id_).status());
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(PreparedQueryTest, UnpreparedRunsAndUnsupportedQueriesAreRefused) {
  ASSERT_OK(db_.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
  ASSERT_OK(db_.HasMany("players", "items"));
  const std::string before = db_.DebugString();
  Query q = db_.Query("players").Where("guild", Param(3));
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kInvalidArgument,
                                "players.guild: parameter ?3 needs a prepared query "
                                "(Query::Prepare, then Bind(3, value))"));
  EXPECT_THAT(q.Count(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("?3")));
  EXPECT_THAT(q.Pluck(id_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("?3")));
  EXPECT_THAT(db_.Query("players").Where("guild", Param(0)).Update({{"score", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db_.Query("players").Where("guild", Param(-1)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameter index")));
  EXPECT_THAT(db_.Query("players").Where("guild", Param(Query::kMaxParams)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parameter index")));
  EXPECT_THAT(db_.Query("players").Where("gild", Param(0)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'gild'")));
  EXPECT_THAT(db_.Query("players").Where("guild", "~", Param(0)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown operator")));
  EXPECT_THAT(db_.Query("nope").Where("guild", Param(0)).Prepare(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db_.Query("players").Has("items").Where("guild", Param(0)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("relation condition")));
  EXPECT_THAT(db_.Query("players").Preload("items").Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Preload")));
  // Literal values are still checked when preparing.
  EXPECT_THAT(db_.Query("players").Where("guild", "x").Where("score", Param(0)).Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected int64")));
  // A Select limits the handles, as for Query::Pluck.
  ASSERT_OK_AND_ASSIGN(PreparedQuery sel,
                       db_.Query("players").Select("id").Where("guild", Param(0)).Prepare());
  EXPECT_THAT(sel.Bind(0, 1).Pluck(score_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not selected")));
  EXPECT_OK(sel.Pluck(id_).status());
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(PreparedQueryTest, DroppedTableIsFailedPrecondition) {
  std::mt19937_64 rng(22);
  AddPlayers(20, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("players").Where("guild", Param(0)).Prepare());
  p.Bind(0, 1);
  ASSERT_OK(p.Count().status());
  ASSERT_OK(db_.DropTable("players"));
  EXPECT_THAT(p.Count(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                  "prepared query on 'players': table 'players' was dropped "
                                  "(prepare the query again)"));
  // A table of the same name created again is another table.
  ASSERT_OK(db_.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild")));
  ASSERT_OK(db_.Insert("players", {{"id", 1}, {"guild", 1}}).status());
  EXPECT_THAT(p.Get(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(p.Explain(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> new_id, db_.Int64Column("players", "id"));
  EXPECT_THAT(p.Pluck(new_id), StatusIs(absl::StatusCode::kFailedPrecondition));
  // Preparing again reads the new table.
  ASSERT_OK_AND_ASSIGN(PreparedQuery again,
                       db_.Query("players").Where("guild", Param(0)).Prepare());
  EXPECT_THAT(again.Bind(0, 1).Pluck(new_id), IsOkAndHolds(ElementsAre(1)));
}

TEST_F(PreparedQueryTest, MovedFromIsAnError) {
  ASSERT_OK_AND_ASSIGN(PreparedQuery p, db_.Query("players").Where("guild", Param(0)).Prepare());
  PreparedQuery q = std::move(p);
  EXPECT_THAT(q.Bind(0, 1).Count(), IsOkAndHolds(0));
  EXPECT_THAT(p.Count(),
              StatusIs(absl::StatusCode::kFailedPrecondition));  // NOLINT: use after move
}

TEST_F(PreparedQueryTest, ExplainShowsParametersInTheSpec) {
  Query q = db_.Query("players").WhereBetween("score", Param(0), Param(1));
  EXPECT_EQ(DescribeSpec(q.spec()), "players where score BETWEEN ?0 AND ?1");
}

// A range run reads the rows the planner counted along the index: each run
// counts again, so writes between runs (moved scores, inserts, deletes)
// are seen, with or without a residual filter.
TEST_F(PreparedQueryTest, RangeRunsSeeWritesBetweenRuns) {
  std::mt19937_64 rng(31);
  AddPlayers(3000, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery range,
                       db_.Query("players").WhereBetween("score", Param(0), Param(1)).Prepare());
  ASSERT_OK_AND_ASSIGN(PreparedQuery filtered, db_.Query("players")
                                                   .WhereBetween("score", Param(0), Param(1))
                                                   .Where("online", true)
                                                   .Prepare());
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(round);
    const int64_t lo = static_cast<int64_t>(rng() % 190);
    range.Bind(0, lo).Bind(1, lo + 3);
    filtered.Bind(0, lo).Bind(1, lo + 3);
    EXPECT_THAT(range.Explain(), IsOkAndHolds(HasSubstr("range")));
    EXPECT_EQ(Ids(range.Get()), Ids(db_.Query("players").WhereBetween("score", lo, lo + 3).Get()));
    EXPECT_EQ(range.Pluck(id_).value(),
              db_.Query("players").WhereBetween("score", lo, lo + 3).Pluck(id_).value());
    EXPECT_EQ(filtered.Pluck(id_).value(), db_.Query("players")
                                               .WhereBetween("score", lo, lo + 3)
                                               .Where("online", true)
                                               .Pluck(id_)
                                               .value());
    EXPECT_EQ(range.Count().value(),
              db_.Query("players").WhereBetween("score", lo, lo + 3).Count().value());
    // Writes before the next run: scores move into and out of the range,
    // rows come and go.
    ASSERT_OK_AND_ASSIGN(ResultSet some, db_.Query("players").Limit(40).Offset(round * 40).Get());
    for (size_t i = 0; i < some.size(); ++i) {
      if (i % 3 == 0) {
        ASSERT_OK(db_.Delete(some[i]));
      } else {
        ASSERT_OK(db_.Set(some[i], score_, lo + static_cast<int64_t>(i % 5)));
      }
    }
    AddPlayers(30, rng);
  }
}

// Runs without a Bind in between reuse the plan the first one chose, until
// a write or an index change: then the next run chooses again.
TEST_F(PreparedQueryTest, RunsWithoutRebindingSeeWritesAndIndexChanges) {
  std::mt19937_64 rng(32);
  AddPlayers(2000, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery range,
                       db_.Query("players").WhereBetween("score", Param(0), Param(1)).Prepare());
  ASSERT_OK_AND_ASSIGN(PreparedQuery top, db_.Query("players")
                                              .Where("created_at", ">=", Param(0))
                                              .OrderBy("created_at", kDesc)
                                              .Limit(5)
                                              .Prepare());
  range.Bind(0, 40).Bind(1, 44);
  top.Bind(0, 100);
  auto check = [&]() {
    Query want_range = db_.Query("players").WhereBetween("score", 40, 44);
    EXPECT_THAT(range.Count(), IsOkAndHolds(*want_range.Count()));
    EXPECT_THAT(range.Pluck(id_), IsOkAndHolds(*want_range.Pluck(id_)));
    EXPECT_THAT(range.Count(), IsOkAndHolds(*want_range.Count()));
    Query want_top = db_.Query("players").Where("created_at", ">=", 100);
    want_top.OrderBy("created_at", kDesc).Limit(5);
    EXPECT_THAT(top.Pluck(id_), IsOkAndHolds(*want_top.Pluck(id_)));
    EXPECT_THAT(top.Explain(), IsOkAndHolds(*want_top.Explain()));
  };
  check();
  // Rows move into and out of the range, are deleted and inserted.
  ASSERT_OK_AND_ASSIGN(ResultSet some, db_.Query("players").Limit(60).Get());
  for (size_t i = 0; i < some.size(); ++i) {
    if (i % 3 == 0) {
      ASSERT_OK(db_.Delete(some[i]));
    } else {
      ASSERT_OK(db_.Set(some[i], score_, 40 + static_cast<int64_t>(i % 7)));
    }
  }
  check();
  AddPlayers(50, rng);
  check();
  // A write rolled back, and an index that the next run must use.
  ASSERT_OK(db_.Begin());
  ASSERT_OK(db_.Query("players").Where("score", ">=", 42).Delete().status());
  check();
  ASSERT_OK(db_.Rollback());
  check();
  ASSERT_OK(db_.CreateIndex("players", "created_at", IndexKind::kOrdered));
  EXPECT_THAT(top.Explain(), IsOkAndHolds(HasSubstr("walk")));
  check();
}

// An equality probe that answers the whole query is read straight from
// the index's list (no copy): Pluck / Columns / As give what Get gives, in
// its order, with the offset and limit cut from the list, and read the
// list again after writes.
TEST_F(PreparedQueryTest, ProbeAnswersReadTheIndexListInGetOrder) {
  std::mt19937_64 rng(41);
  AddPlayers(500, rng);
  struct Window {
    int64_t offset;
    std::optional<int64_t> limit;
  };
  for (Window w : {Window{0, std::nullopt}, Window{0, 3}, Window{2, std::nullopt}, Window{5, 4},
                   Window{1000, 2}, Window{0, 0}}) {
    SCOPED_TRACE("offset " + std::to_string(w.offset) + " limit " +
                 std::to_string(w.limit.value_or(-1)));
    auto shape = [&](Query q) {
      if (w.offset > 0) q.Offset(w.offset);
      if (w.limit.has_value()) q.Limit(*w.limit);
      return q;
    };
    ASSERT_OK_AND_ASSIGN(PreparedQuery p,
                         shape(db_.Query("players").Where("guild", Param(0))).Prepare());
    for (int64_t g = 1; g <= 4; ++g) {
      p.Bind(0, g);
      const std::vector<int64_t> want = Ids(shape(db_.Query("players").Where("guild", g)).Get());
      EXPECT_EQ(p.Pluck(id_).value(), want);
      ASSERT_OK_AND_ASSIGN(auto columns, p.Columns(id_, score_));
      EXPECT_EQ(std::get<0>(columns), want);
      ASSERT_OK_AND_ASSIGN(std::vector<Entry> entries, p.As<Entry>(id_, name_));
      std::vector<int64_t> entry_ids;
      for (const Entry& e : entries) entry_ids.push_back(e.id);
      EXPECT_EQ(entry_ids, want);
      // Writes between runs: the next run reads the changed list.
      ASSERT_OK(
          db_.Insert("players", {{"id", next_id_++}, {"guild", g}, {"score", 1}, {"name", "new"}})
              .status());
    }
  }
}

TEST_F(PreparedQueryTest, RunsAllocateOnlyTheirResult) {
  std::mt19937_64 rng(24);
  AddPlayers(3000, rng);
  ASSERT_OK_AND_ASSIGN(PreparedQuery equality,
                       db_.Query("players").Where("guild", Param(0)).Prepare());
  ASSERT_OK_AND_ASSIGN(
      PreparedQuery top,
      db_.Query("players").Where("guild", Param(0)).OrderBy("score", kDesc).Limit(10).Prepare());
  ASSERT_OK_AND_ASSIGN(PreparedQuery range,
                       db_.Query("players").WhereBetween("score", Param(0), Param(1)).Prepare());
  // First runs size the plans' buffers.
  for (int64_t g = 1; g < 25; ++g) {
    ASSERT_OK(equality.Bind(0, g).Pluck(id_).status());
    ASSERT_OK(top.Bind(0, g).Pluck(id_).status());
    ASSERT_OK(range.Bind(0, g).Bind(1, g + 40).Pluck(id_).status());
  }
  for (int64_t g = 1; g < 25; ++g) {
    g_allocations = 0;
    g_counting = true;
    absl::StatusOr<std::vector<int64_t>> a = equality.Bind(0, g).Pluck(id_);
    absl::StatusOr<std::vector<int64_t>> b = top.Bind(0, g).Pluck(id_);
    absl::StatusOr<int64_t> c = range.Bind(0, g).Bind(1, g + 3).Count();
    absl::StatusOr<std::vector<int64_t>> d = range.Pluck(id_);
    g_counting = false;
    ASSERT_OK(a.status());
    ASSERT_FALSE(a->empty());
    ASSERT_OK(b.status());
    ASSERT_OK(c.status());
    ASSERT_OK(d.status());
    ASSERT_FALSE(d->empty());
    EXPECT_EQ(g_allocations, 3) << "guild " << g;  // the three result vectors
  }
}

// The README's "Prepared queries" example, as written there.
absl::Status ReadmeExample(Database& db, int64_t guild, int64_t t0, int64_t t1,
                           std::vector<int64_t>* top_out, int64_t* n_out, std::string* plan_out) {
  KIN_ASSIGN_OR_RETURN(kin::Column<int64_t> id, db.Int64Column("players", "id"));
  // Once: names resolved, literal values and parameter columns type-checked.
  KIN_ASSIGN_OR_RETURN(kin::PreparedQuery guild_top, db.Query("players")
                                                         .Where("guild", kin::Param(0))
                                                         .OrderBy("score", kin::kDesc)
                                                         .Limit(10)
                                                         .Prepare());
  KIN_ASSIGN_OR_RETURN(
      kin::PreparedQuery window,
      db.Query("players").WhereBetween("created_at", kin::Param(0), kin::Param(1)).Prepare());
  // Every tick: bind, run (the access path is chosen from the values), read.
  KIN_ASSIGN_OR_RETURN(std::vector<int64_t> top, guild_top.Bind(0, guild).Pluck(id));
  window.Bind(0, t0).Bind(1, t1);
  KIN_ASSIGN_OR_RETURN(int64_t n, window.Count());
  KIN_ASSIGN_OR_RETURN(std::string plan, guild_top.Explain());
  *top_out = std::move(top);
  *n_out = n;
  *plan_out = std::move(plan);
  return absl::OkStatus();
}

TEST_F(PreparedQueryTest, ReadmeExample) {
  std::mt19937_64 rng(23);
  AddPlayers(300, rng);
  std::vector<int64_t> top;
  int64_t n = 0;
  std::string plan;
  ASSERT_OK(ReadmeExample(db_, 7, 100, 200, &top, &n, &plan));
  EXPECT_EQ(top,
            *db_.Query("players").Where("guild", 7).OrderBy("score", kDesc).Limit(10).Pluck(id_));
  EXPECT_EQ(n, *db_.Query("players").WhereBetween("created_at", 100, 200).Count());
  EXPECT_EQ(plan,
            "composite walk players(guild, score) guild = 7, score desc (composite ordered "
            "index, stops after 10 rows) | filter: guild = 7 | order by score desc | limit 10");
}

}  // namespace
}  // namespace kin::test
