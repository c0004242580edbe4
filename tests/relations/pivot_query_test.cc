// Pivot columns inside the query callbacks of a ManyToMany (Lucid's
// wherePivot family inside preload / whereHas / withCount /
// withAggregate): WherePivot... conditions, GroupOrderByPivot for a
// preload's per-parent top-N, and aggregates of a pivot column (SumPivot...)
// in WithAggregate and WhereHas. Results are checked against a brute-force
// walk of the tables, with edge cases (no links, NULL pivot values,
// duplicate links, a scope, the inverse relation), bad input (unknown pivot
// column, wrong type, a relation that is not a ManyToMany, misplaced calls)
// and random data with a fixed seed.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PivotQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("players", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("quests",
                              Schema().Int64("id", PrimaryKey()).String("title").Int64("reward")));
    // progress may be NULL (not started); role is the scope's column.
    ASSERT_OK(db_.CreateTable("player_quest", Schema()
                                                  .Int64("id", PrimaryKey())
                                                  .Int64("player_id", NotNull())
                                                  .Int64("quest_id", NotNull())
                                                  .Int64("progress")
                                                  .String("role", Default("member"))));
    ASSERT_OK(db_.CreateTable(
        "items", Schema().Int64("id", PrimaryKey()).Int64("player_id").Int64("value")));
    ASSERT_OK(db_.ManyToMany("players", "quests", {.pivot_columns = {"progress", "role"}}));
    ASSERT_OK(db_.HasMany("players", "items"));
    for (const char* name : {"ann", "ben", "cat"}) {
      ASSERT_OK_AND_ASSIGN(Row p, db_.Insert("players", {{"name", name}}));
      players_.push_back(p);
    }
    int64_t reward = 10;
    for (const char* title : {"q1", "q2", "q3", "q4"}) {
      ASSERT_OK_AND_ASSIGN(Row q, db_.Insert("quests", {{"title", title}, {"reward", reward}}));
      reward += 10;
      quests_.push_back(q);
    }
    // ann: q1 10, q2 60, q3 NULL, q4 90; ben: q2 60 (lead), q4 20; cat: none.
    ASSERT_OK(db_.Related(players_[0], "quests")
                  .Attach(PivotValues{{quests_[0], {{"progress", 10}}},
                                      {quests_[1], {{"progress", 60}}},
                                      {quests_[2], {{"progress", Value()}}},
                                      {quests_[3], {{"progress", 90}}}})
                  .status());
    ASSERT_OK(db_.Related(players_[1], "quests")
                  .Attach(PivotValues{{quests_[1], {{"progress", 60}, {"role", "lead"}}},
                                      {quests_[3], {{"progress", 20}}}})
                  .status());
  }

  // Each player's preloaded quest titles (players by id).
  std::vector<std::vector<std::string>> PreloadTitles(Query::RelatedFn callback) {
    absl::StatusOr<ResultSet> players =
        db_.Query("players").Preload("quests", callback).OrderBy("id").Get();
    EXPECT_OK(players.status());
    std::vector<std::vector<std::string>> out;
    if (!players.ok()) return out;
    for (const ResultRow& p : *players) {
      std::vector<std::string>& titles = out.emplace_back();
      // A copy of the span: a range-for over .value() of the temporary
      // StatusOr would read the span after the StatusOr is gone.
      const std::span<const ResultRow> quests = p.Preloaded("quests").value();
      for (const ResultRow& q : quests) {
        titles.push_back(std::string(q.GetString("title").value()));
      }
    }
    return out;
  }

  // The extra `name` of each player (by id).
  std::vector<Value> Extras(Query& query, const std::string& name) {
    absl::StatusOr<ResultSet> players = query.OrderBy("id").Get();
    EXPECT_OK(players.status());
    std::vector<Value> out;
    if (!players.ok()) return out;
    for (const ResultRow& p : *players) out.push_back(p.Extra(name).value());
    return out;
  }

  // The names of the players the query selects (by id).
  std::vector<std::string> Names(Query query) {
    absl::StatusOr<ResultSet> players = query.OrderBy("id").Get();
    EXPECT_OK(players.status());
    std::vector<std::string> out;
    if (!players.ok()) return out;
    for (const ResultRow& p : *players) out.push_back(std::string(p.GetString("name").value()));
    return out;
  }

  Database db_;
  std::vector<Row> players_;
  std::vector<Row> quests_;
};

TEST_F(PivotQueryTest, PreloadWherePivotFiltersLinks) {
  using V = std::vector<std::vector<std::string>>;
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivot("progress", ">", 50); }),
            (V{{"q2", "q4"}, {"q2"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivot("progress", 60); }), (V{{"q2"}, {"q2"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivot("progress", CompareOp::kLe, 20); }),
            (V{{"q1"}, {"q4"}, {}}));
  // NULL: not started. A comparison never matches it (three-valued logic).
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivotNull("progress"); }), (V{{"q3"}, {}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivotNotNull("progress"); }),
            (V{{"q1", "q2", "q4"}, {"q2", "q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivot("progress", "!=", 60); }),
            (V{{"q1", "q4"}, {"q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) {
              q.WherePivotIn("progress", {Value(10), Value(20)});
            }),
            (V{{"q1"}, {"q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivotNotIn("progress", {Value(10)}); }),
            (V{{"q2", "q4"}, {"q2", "q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) { q.WherePivotBetween("progress", 15, 60); }),
            (V{{"q2"}, {"q2", "q4"}, {}}));
  // OR among pivot conditions, AND with the related row's conditions.
  EXPECT_EQ(PreloadTitles(
                [](Query& q) { q.WherePivot("progress", ">=", 90).OrWherePivotNull("progress"); }),
            (V{{"q3", "q4"}, {}, {}}));
  EXPECT_EQ(
      PreloadTitles([](Query& q) { q.Where("reward", ">=", 30).WherePivot("progress", ">=", 20); }),
      (V{{"q4"}, {"q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) {
              q.WherePivot("role", "lead").AndWherePivot([](Query& g) {
                g.Where("progress", ">", 50).OrWhereNull("progress");
              });
            }),
            (V{{}, {"q2"}, {}}));
  // The preloaded rows' pivot extras come from the links that passed.
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db_.Query("players")
                           .Preload("quests", [](Query& q) { q.WherePivot("progress", ">", 50); })
                           .OrderBy("id")
                           .Get());
  std::span<const ResultRow> ann = players[0].Preloaded("quests").value();
  ASSERT_EQ(ann.size(), 2u);
  EXPECT_EQ(ann[0].Extra("pivot_progress").value(), Value(60));
  EXPECT_EQ(ann[1].Extra("pivot_progress").value(), Value(90));
  EXPECT_EQ(players[1].Preloaded("quests").value()[0].Extra("pivot_role").value(), Value("lead"));
}

TEST_F(PivotQueryTest, HasAndCountsWithPivotConditions) {
  EXPECT_THAT(Names(db_.Query("players").WhereHas(
                  "quests", [](Query& q) { q.WherePivot("progress", ">=", 90); })),
              ElementsAre("ann"));
  EXPECT_THAT(Names(db_.Query("players").WhereHas(
                  "quests", [](Query& q) { q.WherePivot("progress", ">=", 20); }, ">=", 2)),
              ElementsAre("ann", "ben"));
  EXPECT_THAT(Names(db_.Query("players").WhereDoesntHave(
                  "quests", [](Query& q) { q.WherePivotNull("progress"); })),
              ElementsAre("ben", "cat"));
  EXPECT_THAT(Names(db_.Query("players")
                        .Where("name", "cat")
                        .OrWhereHas("quests", [](Query& q) { q.WherePivot("role", "lead"); })),
              ElementsAre("ben", "cat"));
  // The inverse shares the pivot: quests with a link past 50.
  ASSERT_OK_AND_ASSIGN(
      ResultSet quests,
      db_.Query("quests")
          .WhereHas("players", [](Query& q) { q.WherePivot("progress", ">", 50); })
          .WithCount("players", [](Query& q) { q.WherePivot("progress", ">", 50).As("busy"); })
          .OrderBy("id")
          .Get());
  ASSERT_EQ(quests.size(), 2u);
  EXPECT_EQ(quests[0].GetString("title").value(), "q2");
  EXPECT_EQ(quests[0].Extra("busy").value(), Value(2));
  EXPECT_EQ(quests[1].Extra("busy").value(), Value(1));

  Query counted = db_.Query("players").WithCount("quests", [](Query& q) {
    q.WherePivotNotNull("progress").Where("reward", ">", 10).As("started");
  });
  EXPECT_THAT(Extras(counted, "started"), ElementsAre(Value(2), Value(2), Value(0)));
}

TEST_F(PivotQueryTest, AggregatesOfAPivotColumn) {
  Query q = db_.Query("players")
                .WithAggregate("quests", [](Query& a) { a.SumPivot("progress").As("total"); })
                .WithAggregate("quests", [](Query& a) { a.MaxPivot("progress").As("best"); })
                .WithAggregate("quests", [](Query& a) { a.MinPivot("progress").As("least"); })
                .WithAggregate("quests", [](Query& a) { a.AvgPivot("progress").As("mean"); })
                .WithAggregate("quests", [](Query& a) { a.CountPivot("progress").As("n"); })
                .WithAggregate("quests", [](Query& a) { a.CountPivot("*").As("links"); })
                .WithAggregate("quests",
                               [](Query& a) { a.CountDistinctPivot("progress").As("distinct"); })
                .WithAggregate("quests", [](Query& a) {
                  a.Where("reward", ">=", 20).WherePivot("progress", "<", 90).SumPivot("progress");
                  a.As("mid");
                });
  EXPECT_THAT(Extras(q, "total"), ElementsAre(Value(160), Value(80), Value()));
  EXPECT_THAT(Extras(q, "best"), ElementsAre(Value(90), Value(60), Value()));
  EXPECT_THAT(Extras(q, "least"), ElementsAre(Value(10), Value(20), Value()));
  EXPECT_THAT(Extras(q, "mean"), ElementsAre(Value(160.0 / 3), Value(40.0), Value()));
  EXPECT_THAT(Extras(q, "n"), ElementsAre(Value(3), Value(2), Value(0)));
  EXPECT_THAT(Extras(q, "links"), ElementsAre(Value(4), Value(2), Value(0)));
  EXPECT_THAT(Extras(q, "distinct"), ElementsAre(Value(3), Value(2), Value(0)));
  EXPECT_THAT(Extras(q, "mid"), ElementsAre(Value(60), Value(80), Value()));
  // WhereHas compares a pivot aggregate, as it does a related column's.
  EXPECT_THAT(Names(db_.Query("players").WhereHas(
                  "quests", [](Query& a) { a.SumPivot("progress"); }, ">", 100)),
              ElementsAre("ann"));
  EXPECT_THAT(Names(db_.Query("players").WhereHas(
                  "quests", [](Query& a) { a.MaxPivot("progress"); }, "<=", 60)),
              ElementsAre("ben"));
}

TEST_F(PivotQueryTest, GroupOrderByPivotKeepsTopNPerParent) {
  using V = std::vector<std::vector<std::string>>;
  EXPECT_EQ(PreloadTitles([](Query& q) { q.GroupOrderByPivot("progress", kDesc).GroupLimit(2); }),
            (V{{"q4", "q2"}, {"q2", "q4"}, {}}));
  // NULL is the smallest: first ascending.
  EXPECT_EQ(PreloadTitles([](Query& q) { q.GroupOrderByPivot("progress", "asc").GroupLimit(2); }),
            (V{{"q3", "q1"}, {"q4", "q2"}, {}}));
  // Without GroupLimit: every row, in rank order; with OrderBy, listed by it.
  EXPECT_EQ(PreloadTitles([](Query& q) { q.GroupOrderByPivot("progress", kDesc); }),
            (V{{"q4", "q2", "q1", "q3"}, {"q2", "q4"}, {}}));
  EXPECT_EQ(PreloadTitles([](Query& q) {
              q.GroupOrderByPivot("progress", kDesc).GroupLimit(2).OrderBy("title");
            }),
            (V{{"q2", "q4"}, {"q2", "q4"}, {}}));
  // With a filter of each side, and a related column breaking ties.
  ASSERT_OK(db_.Related(players_[2], "quests")
                .Attach(PivotValues{{quests_[0], {{"progress", 5}}},
                                    {quests_[1], {{"progress", 5}}},
                                    {quests_[2], {{"progress", 7}}}})
                .status());
  EXPECT_EQ(PreloadTitles([](Query& q) {
              q.Where("reward", "<=", 30)
                  .WherePivotNotNull("progress")
                  .GroupOrderByPivot("progress")
                  .GroupOrderBy("reward", kDesc)
                  .GroupLimit(2);
            }),
            (V{{"q1", "q2"}, {"q2"}, {"q2", "q1"}}));
  // The kept rows carry their own link's values.
  ASSERT_OK_AND_ASSIGN(
      ResultSet players,
      db_.Query("players")
          .Preload("quests", [](Query& q) { q.GroupOrderByPivot("progress", kDesc).GroupLimit(1); })
          .OrderBy("id")
          .Get());
  EXPECT_EQ(players[0].Preloaded("quests").value()[0].Extra("pivot_progress").value(), Value(90));
  EXPECT_EQ(players[2].Preloaded("quests").value()[0].Extra("pivot_progress").value(), Value(7));
  // A relation window (on_query's Limit) is cut before the ranking.
  ASSERT_OK(db_.ManyToMany("players", "quests",
                           {.name = "first_quests",
                            .pivot_columns = {"progress"},
                            .on_query = [](Query& q) { q.OrderBy("reward").Limit(2); },
                            .create_inverse = false}));
  ASSERT_OK_AND_ASSIGN(
      players, db_.Query("players")
                   .Preload("first_quests",
                            [](Query& q) { q.GroupOrderByPivot("progress", kDesc).GroupLimit(1); })
                   .OrderBy("id")
                   .Get());
  EXPECT_EQ(players[0].Preloaded("first_quests").value()[0].GetString("title").value(), "q2");
  EXPECT_EQ(players[1].Preloaded("first_quests").value()[0].GetString("title").value(), "q2");
}

TEST_F(PivotQueryTest, DuplicateLinksScopeAndNoLinks) {
  // A second link ann → q1, written straight into the pivot table (the
  // relation's Attach would ignore it): each link leads to its row.
  ASSERT_OK(
      db_.Insert("player_quest", {{"player_id", 1}, {"quest_id", 1}, {"progress", 70}}).status());
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db_.Query("players")
                           .Preload("quests", [](Query& q) { q.WherePivot("progress", ">", 50); })
                           .Preload("items")
                           .Where("name", "ann")
                           .Get());
  std::span<const ResultRow> ann = players[0].Preloaded("quests").value();
  ASSERT_EQ(ann.size(), 3u);
  EXPECT_EQ(ann[0].GetString("title").value(), "q2");
  EXPECT_EQ(ann[2].GetString("title").value(), "q1");
  EXPECT_EQ(ann[2].Extra("pivot_progress").value(), Value(70));
  ASSERT_OK_AND_ASSIGN(players, db_.Query("players")
                                    .Preload("quests", [](Query& q) { q.Where("title", "q1"); })
                                    .Where("name", "ann")
                                    .Get());
  ann = players[0].Preloaded("quests").value();
  ASSERT_EQ(ann.size(), 2u);
  EXPECT_EQ(ann[0].Extra("pivot_progress").value(), Value(10));
  EXPECT_EQ(ann[1].Extra("pivot_progress").value(), Value(70));
  Query sums = db_.Query("players").WithAggregate(
      "quests", [](Query& q) { q.Where("title", "q1").SumPivot("progress").As("s"); });
  EXPECT_THAT(Extras(sums, "s"), ElementsAre(Value(80), Value(), Value()));

  // A scoped relation: the scope and WherePivot both apply.
  ASSERT_OK(db_.ManyToMany("players", "quests",
                           {.name = "led_quests",
                            .pivot_columns = {"progress"},
                            .scope = {{"role", Value("lead")}},
                            .create_inverse = false}));
  Query led = db_.Query("players").WithCount(
      "led_quests", [](Query& q) { q.WherePivot("progress", ">", 0).As("led"); });
  EXPECT_THAT(Extras(led, "led"), ElementsAre(Value(0), Value(1), Value(0)));
  Query none = db_.Query("players").WithCount(
      "led_quests", [](Query& q) { q.WherePivot("progress", ">", 60).As("led"); });
  EXPECT_THAT(Extras(none, "led"), ElementsAre(Value(0), Value(0), Value(0)));
  // No links at all: empty lists, zero counts, NULL aggregates.
  ASSERT_OK(db_.Related(players_[0], "quests").DetachAll().status());
  ASSERT_OK(db_.Related(players_[1], "quests").DetachAll().status());
  using V = std::vector<std::vector<std::string>>;
  EXPECT_EQ(PreloadTitles([](Query& q) {
              q.WherePivotNotNull("progress").GroupOrderByPivot("progress").GroupLimit(3);
            }),
            (V{{}, {}, {}}));
  Query empty = db_.Query("players").WithAggregate(
      "quests", [](Query& q) { q.MaxPivot("progress").As("m"); });
  EXPECT_THAT(Extras(empty, "m"), ElementsAre(Value(), Value(), Value()));
}

TEST_F(PivotQueryTest, ExplainShowsThePivotSteps) {
  ASSERT_OK_AND_ASSIGN(std::string plan, db_.Query("players")
                                             .Preload("quests",
                                                      [](Query& q) {
                                                        q.WherePivot("progress", ">", 50)
                                                            .GroupOrderByPivot("progress", kDesc)
                                                            .GroupLimit(2);
                                                      })
                                             .Explain());
  EXPECT_THAT(plan, HasSubstr("pivot filter per link: progress > 50"));
  EXPECT_THAT(plan, HasSubstr("ranked with each row's link"));
  ASSERT_OK_AND_ASSIGN(
      plan, db_.Query("players")
                .WhereHas(
                    "quests", [](Query& q) { q.WherePivot("progress", ">", 50); }, ">=", 2)
                .Explain());
  EXPECT_THAT(plan, HasSubstr("count(players.quests pivot filtered) >= 2 by walk"));
  EXPECT_THAT(plan, HasSubstr("where pivot progress > 50"));
  EXPECT_THAT(DescribeSpec(db_.Query("players")
                               .WithAggregate("quests",
                                              [](Query& q) {
                                                q.WherePivotNull("progress").MaxPivot("progress");
                                                q.As("m");
                                              })
                               .spec()),
              AllOf(HasSubstr("where pivot progress IS NULL"), HasSubstr("max(pivot progress)")));
}

TEST_F(PivotQueryTest, BadInputIsAClearErrorAndChangesNothing) {
  ASSERT_OK(db_.ManyToMany("players", "quests",
                           {.name = "bad",
                            .on_query = [](Query& q) { q.WherePivot("progress", 1); },
                            .create_inverse = false}));
  const std::string before = db_.DebugString();
  auto invalid = [](auto... parts) {
    return StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(parts)...));
  };
  // An unknown pivot column, in each kind of callback (and Count, which
  // plans loads without running them).
  EXPECT_THAT(
      db_.Query("players").Preload("quests", [](Query& q) { q.WherePivot("progres", 1); }).Get(),
      invalid("Preload on 'players.quests'", "pivot: ", "no column named 'progres'"));
  EXPECT_THAT(
      db_.Query("players").Preload("quests", [](Query& q) { q.WherePivot("progres", 1); }).Count(),
      invalid("Preload on 'players.quests'", "no column named 'progres'"));
  EXPECT_THAT(
      db_.Query("players").WhereHas("quests", [](Query& q) { q.WherePivotNull("progres"); }).Get(),
      invalid("WhereHas on 'players.quests'", "no column named 'progres'"));
  EXPECT_THAT(db_.Query("players")
                  .WithCount("quests", [](Query& q) { q.WherePivotIn("progres", {}); })
                  .Get(),
              invalid("WithCount on 'players.quests'", "no column named 'progres'"));
  EXPECT_THAT(db_.Query("players")
                  .WithAggregate("quests", [](Query& q) { q.SumPivot("progres").As("s"); })
                  .Get(),
              invalid("WithAggregate on 'players.quests'", "pivot: ", "progres"));
  EXPECT_THAT(db_.Query("players")
                  .Preload("quests", [](Query& q) { q.GroupOrderByPivot("progres").GroupLimit(1); })
                  .Get(),
              invalid("Preload on 'players.quests'", "pivot: ", "progres"));
  // A column of the related table is not a pivot column (and back).
  EXPECT_THAT(
      db_.Query("players").Preload("quests", [](Query& q) { q.WherePivot("reward", 1); }).Get(),
      invalid("pivot: ", "no column named 'reward'"));
  EXPECT_THAT(
      db_.Query("players").Preload("quests", [](Query& q) { q.Where("progress", 1); }).Get(),
      invalid("table 'quests'", "no column named 'progress'"));
  // Wrong types.
  EXPECT_THAT(db_.Query("players")
                  .Preload("quests", [](Query& q) { q.WherePivot("progress", ">", "lots"); })
                  .Get(),
              invalid("progress", "expected int64"));
  EXPECT_THAT(db_.Query("players")
                  .WithAggregate("quests", [](Query& q) { q.SumPivot("role").As("s"); })
                  .Get(),
              invalid("role"));
  EXPECT_THAT(db_.Query("players")
                  .WhereHas(
                      "quests", [](Query& q) { q.MaxPivot("role"); }, ">", 1)
                  .Get(),
              invalid("string"));
  // Not a ManyToMany: no pivot row.
  EXPECT_THAT(
      db_.Query("players").Preload("items", [](Query& q) { q.WherePivot("progress", 1); }).Get(),
      invalid("Preload on 'players.items'", "WherePivot(progress = 1)", "has many"));
  EXPECT_THAT(db_.Query("items")
                  .WithAggregate("player", [](Query& q) { q.MaxPivot("progress").As("m"); })
                  .Get(),
              invalid("items.player", "MaxPivot(progress)", "belongs to"));
  EXPECT_THAT(
      db_.Query("players").WhereHas("items", [](Query& q) { q.WherePivotNull("progress"); }).Get(),
      invalid("WhereHas on 'players.items'", "has many"));
  // Not a relation callback at all.
  EXPECT_THAT(db_.Query("quests").WherePivot("progress", 1).Get(),
              invalid("query on 'quests'", "WherePivot(progress = 1)", "QueryWherePivot"));
  EXPECT_THAT(db_.Query("quests").SumPivot("progress").Aggregate(), invalid("SumPivot(progress)"));
  EXPECT_THAT(db_.Related(players_[0], "quests").Query().WherePivot("progress", 1).Get(),
              invalid("QueryWherePivot"));
  EXPECT_THAT(db_.Query("players")
                  .Preload("quests",
                           [](Query& q) { q.Where([](Query& g) { g.WherePivot("progress", 1); }); })
                  .Get(),
              invalid("WherePivot inside a where group"));
  EXPECT_THAT(
      db_.Query("players")
          .Preload("quests", [](Query& q) { q.Where("reward", 10).OrWherePivot("progress", 1); })
          .Get(),
      invalid("OrWherePivot must follow a WherePivot"));
  EXPECT_THAT(db_.Query("players")
                  .Preload("quests", [](Query& q) { q.GroupOrderByPivot("progress", "sideways"); })
                  .Get(),
              invalid("direction"));
  // Outside a preload, GroupOrderByPivot is the GroupOrderBy error.
  EXPECT_THAT(db_.Query("players")
                  .WithCount("quests", [](Query& q) { q.GroupOrderByPivot("progress"); })
                  .Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GroupOrderBy")));
  EXPECT_THAT(db_.Query("players").Preload("bad").Get(),
              invalid("relation 'players.bad'", "on_query may not record", "scope"));
  // Reads only: nothing changed, and updates and deletes with such loads fail first.
  EXPECT_THAT(db_.Query("players")
                  .Preload("quests", [](Query& q) { q.WherePivot("progres", 1); })
                  .Update({{"name", "x"}}),
              invalid("progres"));
  EXPECT_THAT(
      db_.Query("players").Preload("quests", [](Query& q) { q.WherePivot("progres", 1); }).Delete(),
      invalid("progres"));
  EXPECT_EQ(db_.DebugString(), before);
}

// Random links and pivot values (some NULL, some duplicate), random
// thresholds: every pivot-aware load and test agrees with a walk of the
// tables.
TEST_F(PivotQueryTest, RandomAgainstBruteForce) {
  std::mt19937 rng(20261206);
  for (int i = 0; i < 40; ++i) {
    ASSERT_OK_AND_ASSIGN(Row p, db_.Insert("players", {{"name", "p" + std::to_string(i)}}));
    players_.push_back(p);
  }
  for (int i = 0; i < 25; ++i) {
    ASSERT_OK_AND_ASSIGN(Row q, db_.Insert("quests", {{"title", "r" + std::to_string(i)},
                                                      {"reward", int64_t(rng() % 50)}}));
    quests_.push_back(q);
  }
  for (int i = 0; i < 300; ++i) {
    const int64_t player = players_[rng() % players_.size()].GetInt64("id").value();
    const int64_t quest = quests_[rng() % quests_.size()].GetInt64("id").value();
    Value progress = rng() % 8 == 0 ? Value() : Value(int64_t(rng() % 100));
    ASSERT_OK(db_.Insert("player_quest",
                         {{"player_id", player}, {"quest_id", quest}, {"progress", progress}})
                  .status());
  }
  // The model: each player's links (in pivot insertion order) as (quest,
  // progress), read from the tables.
  struct Link {
    int64_t quest;
    std::optional<int64_t> progress;
    int64_t reward;
  };
  std::map<int64_t, std::vector<Link>> links;
  std::map<int64_t, int64_t> reward;
  ASSERT_OK_AND_ASSIGN(ResultSet quests, db_.Query("quests").Get());
  for (const ResultRow& q : quests) reward[q.GetInt64("id").value()] = q.GetInt64("reward").value();
  ASSERT_OK_AND_ASSIGN(ResultSet pivot, db_.Query("player_quest").OrderBy("id").Get());
  for (const ResultRow& l : pivot) {
    Value v = l.Get("progress").value();
    const int64_t quest = l.GetInt64("quest_id").value();
    links[l.GetInt64("player_id").value()].push_back(
        {quest, v.is_null() ? std::nullopt : std::optional<int64_t>(v.AsInt64()), reward[quest]});
  }
  for (int round = 0; round < 20; ++round) {
    const int64_t t = rng() % 100;
    const int64_t r = rng() % 50;
    const int64_t n = 1 + rng() % 4;
    auto pass = [&](const Link& l) { return l.progress.has_value() && *l.progress >= t; };
    ASSERT_OK_AND_ASSIGN(
        ResultSet got,
        db_.Query("players")
            .Preload("quests",
                     [&](Query& q) {
                       q.Where("reward", "<", r)
                           .WherePivot("progress", ">=", t)
                           .GroupOrderByPivot("progress", kDesc)
                           .GroupLimit(n);
                     })
            .WithCount("quests", [&](Query& q) { q.WherePivot("progress", ">=", t).As("c"); })
            .WithAggregate(
                "quests", [&](Query& q) { q.Where("reward", "<", r).SumPivot("progress").As("s"); })
            .WithAggregate(
                "quests",
                [&](Query& q) { q.WherePivot("progress", ">=", t).MaxPivot("progress").As("m"); })
            .OrderBy("id")
            .Get());
    ASSERT_OK_AND_ASSIGN(
        ResultSet has,
        db_.Query("players")
            .WhereHas(
                "quests", [&](Query& q) { q.WherePivot("progress", ">=", t); }, ">=", 2)
            .OrderBy("id")
            .Get());
    std::vector<int64_t> want_has;
    size_t i = 0;
    for (const ResultRow& p : got) {
      const int64_t id = p.GetInt64("id").value();
      const std::vector<Link>& mine = links[id];
      std::vector<Link> kept;
      int64_t count = 0;
      std::optional<int64_t> sum;
      std::optional<int64_t> max;
      for (const Link& l : mine) {
        if (pass(l)) {
          ++count;
          max = std::max(max.value_or(INT64_MIN), *l.progress);
          if (l.reward < r) kept.push_back(l);
        }
        if (l.reward < r && l.progress.has_value()) sum = sum.value_or(0) + *l.progress;
      }
      std::stable_sort(kept.begin(), kept.end(),
                       [](const Link& a, const Link& b) { return *a.progress > *b.progress; });
      if (kept.size() > static_cast<size_t>(n)) kept.resize(static_cast<size_t>(n));
      std::span<const ResultRow> pre = p.Preloaded("quests").value();
      ASSERT_EQ(pre.size(), kept.size()) << "player " << id << " round " << round;
      for (size_t k = 0; k < kept.size(); ++k) {
        EXPECT_EQ(pre[k].GetInt64("id").value(), kept[k].quest);
        EXPECT_EQ(pre[k].Extra("pivot_progress").value(), Value(*kept[k].progress));
      }
      EXPECT_EQ(p.Extra("c").value(), Value(count));
      EXPECT_EQ(p.Extra("s").value(), sum.has_value() ? Value(*sum) : Value());
      EXPECT_EQ(p.Extra("m").value(), max.has_value() ? Value(*max) : Value());
      if (count >= 2) want_has.push_back(id);
      ++i;
    }
    std::vector<int64_t> got_has;
    for (const ResultRow& p : has) got_has.push_back(p.GetInt64("id").value());
    EXPECT_EQ(got_has, want_has) << "round " << round;
  }
}

}  // namespace
}  // namespace kin::test
