// WithCount and WithAggregate: the seed's examples, every aggregate and its
// result type, parents without children (0 / NULL), NULL foreign keys and
// orphans, on_query, BelongsTo, the typed ExtraColumn, every strategy, and
// bad input.

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "query/internal/relation_plan.h"
#include "tests/query/relation_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class WithCountTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    Row alice = AddUser("alice", 10);
    Row bob = AddUser("bob", 20);
    AddUser("carol");  // no posts
    AddPost(Id(alice), "a1", 100, true, 5, 1.5);
    AddPost(Id(alice), "a2", 300, false, Value(), 2.0);
    AddPost(Id(alice), "a3", 200, true, 7);
    AddPost(Id(bob), "b1", 50, false, 1, -1.0);
    AddPost(Value(), "nobody", 999, true, 100, 9.0);
    AddPost(42, "orphan", 999, true, 100, 9.0);
  }

  // The extra `name` of every user, in row order (users by id).
  std::vector<Value> Extras(const std::function<void(Query&)>& build, const std::string& name) {
    Query q = db_.Query("users");
    build(q);
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    std::vector<Value> out;
    if (!rows.ok()) return out;
    for (const ResultRow& r : *rows) {
      absl::StatusOr<Value> v = r.Extra(name);
      EXPECT_TRUE(v.ok()) << v.status();
      out.push_back(v.ok() ? *v : Value("missing"));
    }
    return out;
  }

  absl::Status Error(const std::function<void(Query&)>& build) {
    Query q = db_.Query("users");
    build(q);
    return q.Get().status();
  }
};

// Lucid: User.query().withCount('posts') → user.$extras.posts_count
TEST_F(WithCountTest, SeedWithCount) {
  EXPECT_THAT(Extras([](Query& q) { q.WithCount("posts"); }, "posts_count"),
              ElementsAre(Value(3), Value(1), Value(0)));
  // withCount('posts', (q) => q.where('is_published', true).as('publishedPostsCount'))
  EXPECT_THAT(Extras(
                  [](Query& q) {
                    q.WithCount("posts", [](Query& p) {
                      p.Where("is_published", true).As("publishedPostsCount");
                    });
                  },
                  "publishedPostsCount"),
              ElementsAre(Value(2), Value(0), Value(0)));
}

// Lucid: withAggregate('posts', (q) => q.max('created_at').as('lastPostAt'))
TEST_F(WithCountTest, SeedWithAggregate) {
  EXPECT_THAT(Extras(
                  [](Query& q) {
                    q.WithAggregate("posts",
                                    [](Query& p) { p.Max("created_at").As("lastPostAt"); });
                  },
                  "lastPostAt"),
              ElementsAre(Value(300), Value(50), Value()));
}

TEST_F(WithCountTest, EveryAggregateAndItsType) {
  struct Case {
    std::string name;
    std::function<void(Query&)> aggregate;
    std::vector<Value> want;  // alice, bob, carol
  };
  std::vector<Case> cases = {
      {"count *", [](Query& p) { p.Count("*"); }, {3, 1, 0}},
      {"count column skips NULL", [](Query& p) { p.Count("likes"); }, {2, 1, 0}},
      {"sum int64", [](Query& p) { p.Sum("likes"); }, {12, 1, Value()}},
      {"sum double", [](Query& p) { p.Sum("rating"); }, {3.5, -1.0, Value()}},
      {"avg int64", [](Query& p) { p.Avg("likes"); }, {6.0, 1.0, Value()}},
      {"avg double", [](Query& p) { p.Avg("rating"); }, {1.75, -1.0, Value()}},
      {"min int64", [](Query& p) { p.Min("created_at"); }, {100, 50, Value()}},
      {"max double", [](Query& p) { p.Max("rating"); }, {2.0, -1.0, Value()}},
      {"min string", [](Query& p) { p.Min("title"); }, {"a1", "b1", Value()}},
      {"max string", [](Query& p) { p.Max("title"); }, {"a3", "b1", Value()}},
      {"max bool", [](Query& p) { p.Max("is_published"); }, {true, false, Value()}},
      {"min bool", [](Query& p) { p.Min("is_published"); }, {false, false, Value()}},
  };
  for (auto strategy :
       {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kWalk,
        ::kin::internal::RelationStrategy::kScan}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    for (const Case& c : cases) {
      EXPECT_EQ(Extras(
                    [&](Query& q) {
                      q.WithAggregate("posts", [&](Query& p) {
                        c.aggregate(p);
                        p.As("x");
                      });
                    },
                    "x"),
                c.want)
          << c.name << " strategy " << static_cast<int>(strategy);
    }
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
}

// withAggregate('posts', (q) => q.countDistinct('likes').as('n')): distinct
// non-NULL values per parent, 0 (not NULL) without related rows.
TEST_F(WithCountTest, CountDistinctPerParent) {
  for (auto strategy :
       {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kScan,
        ::kin::internal::RelationStrategy::kWalk}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    EXPECT_THAT(Extras(
                    [](Query& q) {
                      q.WithAggregate(
                          "posts", [](Query& p) { p.CountDistinct("is_published").As("kinds"); });
                    },
                    "kinds"),
                ElementsAre(Value(2), Value(1), Value(0)));
    EXPECT_THAT(Extras(
                    [](Query& q) {
                      q.WithAggregate("posts", [](Query& p) { p.CountDistinct("likes").As("n"); });
                    },
                    "n"),
                ElementsAre(Value(2), Value(1), Value(0)));
    EXPECT_THAT(Extras(
                    [](Query& q) {
                      q.WithAggregate("posts", [](Query& p) {
                        p.Where("is_published", true).CountDistinct("rating").As("n");
                      });
                    },
                    "n"),
                ElementsAre(Value(1), Value(0), Value(0)));
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
  EXPECT_THAT(Error([](Query& q) {
                q.WithAggregate("posts", [](Query& p) { p.CountDistinct("*").As("n"); });
              }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a column")));
  EXPECT_THAT(Error([](Query& q) {
                q.WithAggregate("posts", [](Query& p) { p.CountDistinct("nope").As("n"); });
              }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'nope'")));
}

TEST_F(WithCountTest, FilteredAggregatesAndCounts) {
  auto published = [](Query& p) { p.Where("is_published", true); };
  for (auto strategy :
       {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kWalk,
        ::kin::internal::RelationStrategy::kScan, ::kin::internal::RelationStrategy::kIndexScan}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    SCOPED_TRACE(static_cast<int>(strategy));
    EXPECT_THAT(Extras([&](Query& q) { q.WithCount("posts", published); }, "posts_count"),
                ElementsAre(Value(2), Value(0), Value(0)));
    EXPECT_THAT(Extras([&](Query& q) { q.WithCount("posts"); }, "posts_count"),
                ElementsAre(Value(3), Value(1), Value(0)));
    EXPECT_THAT(Extras(
                    [](Query& q) {
                      q.WithAggregate("posts", [](Query& p) {
                        p.Where("created_at", "<", 250).Sum("likes").As("early_likes");
                      });
                    },
                    "early_likes"),
                ElementsAre(Value(12), Value(1), Value()));
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
}

TEST_F(WithCountTest, OnQueryApplies) {
  // "published" keeps is_published = true (on_query).
  EXPECT_THAT(Extras([](Query& q) { q.WithCount("published"); }, "published_count"),
              ElementsAre(Value(2), Value(0), Value(0)));
  EXPECT_THAT(Extras(
                  [](Query& q) {
                    q.WithAggregate("published", [](Query& p) {
                      p.OrWhere("likes", ">", 0).Max("created_at").As("last");
                    });
                  },
                  "last"),
              ElementsAre(Value(200), Value(), Value()));
}

TEST_F(WithCountTest, SeveralExtrasWithParentsFilteredAndOrdered) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .WhereNotNull("score")
          .OrderBy("score", kDesc)
          .WithCount("posts")
          .WithAggregate("posts", [](Query& p) { p.Avg("rating").As("avg_rating"); })
          .Preload("posts", [](Query& p) { p.GroupLimit(1).GroupOrderBy("created_at", kDesc); })
          .Get());
  EXPECT_THAT(Names(users), ElementsAre("bob", "alice"));
  EXPECT_THAT(users[0].Extra("posts_count"), IsOkAndHolds(Value(1)));
  EXPECT_THAT(users[1].Extra("posts_count"), IsOkAndHolds(Value(3)));
  EXPECT_THAT(users[1].Extra("avg_rating"), IsOkAndHolds(Value(1.75)));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("a2"));
  EXPECT_THAT(users[0].Extra("nope"),
              StatusIs(absl::StatusCode::kNotFound, "no extra named 'nope' on this row"));
}

TEST_F(WithCountTest, ExtraColumnReadsEveryRowAtOnce) {
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users")
                           .WithCount("posts")
                           .WithAggregate("posts", [](Query& p) { p.Max("created_at").As("last"); })
                           .WithAggregate("posts", [](Query& p) { p.Avg("likes").As("avg_likes"); })
                           .Get());
  ASSERT_OK_AND_ASSIGN(ExtraColumn counts, users.Extras("posts_count"));
  EXPECT_EQ(counts.name(), "posts_count");
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_TRUE(counts.is_int64());
  EXPECT_EQ(counts.Int64(0), 3);
  EXPECT_FALSE(counts.IsNull(2));
  EXPECT_EQ(counts.Int64(2), 0);
  ASSERT_OK_AND_ASSIGN(ExtraColumn last, users.Extras("last"));
  EXPECT_TRUE(last.is_int64());
  EXPECT_FALSE(last.IsNull(1));
  EXPECT_EQ(last.Int64(1), 50);
  EXPECT_TRUE(last.IsNull(2));
  EXPECT_EQ(last[2], Value());
  ASSERT_OK_AND_ASSIGN(ExtraColumn avg, users.Extras("avg_likes"));
  EXPECT_FALSE(avg.is_int64());
  EXPECT_EQ(avg[0], Value(6.0));
  EXPECT_THAT(users.Extras("nope"),
              StatusIs(absl::StatusCode::kNotFound, "no extra named 'nope' on this result"));
}

TEST_F(WithCountTest, BelongsToCountsAndAggregates) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet posts,
      db_.Query("posts")
          .OrderBy("id")
          .WithCount("user")
          .WithAggregate("user", [](Query& u) { u.Max("score").As("owner_score"); })
          .Get());
  std::vector<Value> counts, scores;
  for (const ResultRow& p : posts) {
    counts.push_back(p.Extra("user_count").value());
    scores.push_back(p.Extra("owner_score").value());
  }
  EXPECT_THAT(counts, ElementsAre(Value(1), Value(1), Value(1), Value(1), Value(0), Value(0)));
  EXPECT_THAT(scores, ElementsAre(Value(10), Value(10), Value(10), Value(20), Value(), Value()));
}

// Min / Max over a NOT NULL int64 column take a path that infers "has a
// result" from the index rather than flagging rows: values at the int64
// limits (equal to the scan's starting value), parents without children,
// dangling and NULL keys, and a dead slot in the middle all answer as a
// walk of each parent's list would.
TEST(WithAggregateNotNullTest, MinMaxAtTheLimitsEveryStrategy) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Database db;
  ASSERT_OK(db.CreateTable("teams", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable(
      "scores", Schema().Int64("id", PrimaryKey()).Int64("team_id").Int64("points", NotNull())));
  ASSERT_OK(db.HasMany("teams", "scores"));
  for (int i = 0; i < 6; ++i) ASSERT_OK(db.Insert("teams", {}).status());
  // Team 1: only the limits. Team 2: one ordinary value. Team 3: none.
  // Team 4: its only score is deleted (a dead slot the scan must skip).
  // Teams 5 and 6: one score equal to Max's / Min's starting value, so
  // only the index can tell "one row" from "no rows".
  ASSERT_OK(db.Insert("scores", {{"team_id", 1}, {"points", kMin}}).status());
  ASSERT_OK(db.Insert("scores", {{"team_id", 1}, {"points", kMax}}).status());
  ASSERT_OK_AND_ASSIGN(Row gone, db.Insert("scores", {{"team_id", 4}, {"points", 9}}));
  ASSERT_OK(db.Insert("scores", {{"team_id", 2}, {"points", -5}}).status());
  ASSERT_OK(db.Insert("scores", {{"team_id", 5}, {"points", kMin}}).status());
  ASSERT_OK(db.Insert("scores", {{"team_id", 6}, {"points", kMax}}).status());
  ASSERT_OK(db.Insert("scores", {{"team_id", 99}, {"points", 1}}).status());  // dangling
  ASSERT_OK(db.Insert("scores", {{"team_id", Value()}, {"points", 2}}).status());
  auto run = [&]() {
    std::vector<std::pair<Value, Value>> out;
    absl::StatusOr<ResultSet> teams =
        db.Query("teams")
            .WithAggregate("scores", [](Query& q) { q.Min("points").As("low"); })
            .WithAggregate("scores", [](Query& q) { q.Max("points").As("high"); })
            .Get();
    EXPECT_TRUE(teams.ok()) << teams.status();
    if (!teams.ok()) return out;
    for (const ResultRow& t : *teams) out.emplace_back(*t.Extra("low"), *t.Extra("high"));
    return out;
  };
  using P = std::pair<Value, Value>;
  for (int round = 0; round < 2; ++round) {
    for (auto strategy :
         {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kWalk,
          ::kin::internal::RelationStrategy::kScan}) {
      ::kin::internal::SetRelationStrategyForTesting(strategy);
      EXPECT_THAT(run(), ElementsAre(P(Value(kMin), Value(kMax)), P(Value(-5), Value(-5)),
                                     P(Value(), Value()),
                                     round == 0 ? P(Value(9), Value(9)) : P(Value(), Value()),
                                     P(Value(kMin), Value(kMin)), P(Value(kMax), Value(kMax))))
          << "round " << round;
    }
    ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
    if (round == 0) {
      ASSERT_OK(db.Delete(gone));
    }
  }
}

// Counts through a non-primary local key (guilds.tag): a guild whose tag is
// NULL has no players even when another guild's tag is 0 (the value a NULL
// cell's slot may hold), and every strategy agrees, for WithCount, a
// Count("*") aggregate and Has, before and after the players of tag 0 move
// away. With compact tags the foreign-key index is dense and the automatic
// plan reads each guild's list size (Explain "by index"); a negative tag
// makes the index a hash map, where it scans the index instead.
TEST(WithCountNullKeyTest, NullLocalKeyCountsNothingEveryStrategy) {
  for (bool sparse : {false, true}) {
    SCOPED_TRACE(sparse);
    const int64_t other = sparse ? -7 : 9;
    Database db;
    ASSERT_OK(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).Int64("tag", Unique())));
    ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild_tag")));
    ASSERT_OK(db.HasMany("guilds", "players", {.foreign_key = "guild_tag", .local_key = "tag"}));
    ASSERT_OK(db.Insert("guilds", {{"id", 1}, {"tag", 0}}).status());
    ASSERT_OK(db.Insert("guilds", {{"id", 2}}).status());  // NULL tag
    ASSERT_OK(db.Insert("guilds", {{"id", 3}, {"tag", 5}}).status());
    ASSERT_OK(db.Insert("guilds", {{"id", 4}, {"tag", other}}).status());
    std::vector<Row> tag0;
    for (int i = 0; i < 3; ++i) {
      ASSERT_OK_AND_ASSIGN(Row p, db.Insert("players", {{"guild_tag", 0}}));
      tag0.push_back(p);
    }
    ASSERT_OK(db.Insert("players", {{"guild_tag", 5}}).status());
    ASSERT_OK(db.Insert("players", {{"guild_tag", other}}).status());
    ASSERT_OK(db.Insert("players", {{"guild_tag", other}}).status());
    ASSERT_OK(db.Insert("players", {}).status());  // no guild
    // Per guild: its WithCount, then its Count("*") aggregate.
    auto counts = [&]() {
      std::vector<int64_t> out;
      absl::StatusOr<ResultSet> guilds =
          db.Query("guilds")
              .WithCount("players")
              .WithAggregate("players", [](Query& q) { q.Count("*").As("n"); })
              .Get();
      EXPECT_TRUE(guilds.ok()) << guilds.status();
      if (!guilds.ok()) return out;
      absl::StatusOr<ExtraColumn> count = guilds->Extras("players_count");
      absl::StatusOr<ExtraColumn> n = guilds->Extras("n");
      EXPECT_TRUE(count.ok() && n.ok());
      if (!count.ok() || !n.ok()) return out;
      for (size_t i = 0; i < count->size(); ++i) {
        out.push_back(count->Int64(i));
        out.push_back((*n)[i].AsInt64());
      }
      return out;
    };
    auto busy = [&]() {
      std::vector<int64_t> out;
      absl::StatusOr<ResultSet> guilds = db.Query("guilds").Has("players", ">=", 2).Get();
      EXPECT_TRUE(guilds.ok()) << guilds.status();
      if (!guilds.ok()) return out;
      for (const ResultRow& g : *guilds) out.push_back(g.GetInt64("id").value());
      return out;
    };
    const std::string plan = db.Query("guilds").Has("players", ">=", 2).Explain().value();
    EXPECT_THAT(plan, HasSubstr("count(guilds.players) >= 2 by index"));
    EXPECT_EQ(plan.find("index scan") != std::string::npos, sparse) << plan;
    for (int round = 0; round < 2; ++round) {
      for (auto strategy :
           {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kWalk,
            ::kin::internal::RelationStrategy::kScan,
            ::kin::internal::RelationStrategy::kIndexScan}) {
        SCOPED_TRACE(static_cast<int>(strategy));
        ForcedStrategy forced(strategy);
        if (round == 0) {
          EXPECT_THAT(counts(), ElementsAre(3, 3, 0, 0, 1, 1, 2, 2));
          EXPECT_THAT(busy(), ElementsAre(1, 4));
        } else {
          EXPECT_THAT(counts(), ElementsAre(0, 0, 0, 0, 4, 4, 2, 2));
          EXPECT_THAT(busy(), ElementsAre(3, 4));
        }
      }
      for (const Row& p : tag0) ASSERT_OK(db.Update(p, {{"guild_tag", 5}}).status());
    }
  }
}

TEST_F(WithCountTest, SumOverflowIsAnError) {
  Row big = AddUser("big");
  AddPost(Id(big), "x", 0, false, std::numeric_limits<int64_t>::max());
  AddPost(Id(big), "y", 0, false, 1);
  for (auto strategy :
       {::kin::internal::RelationStrategy::kWalk, ::kin::internal::RelationStrategy::kScan}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    EXPECT_THAT(
        Error([](Query& q) { q.WithAggregate("posts", [](Query& p) { p.Sum("likes").As("s"); }); }),
        StatusIs(absl::StatusCode::kOutOfRange, "posts.likes: sum overflows int64"));
    // The same data without the big parent is fine, and the order of the
    // rows does not matter (exact 128-bit sums).
    EXPECT_THAT(Extras(
                    [](Query& q) {
                      q.Where("name", "!=", "big").WithAggregate("posts", [](Query& p) {
                        p.Sum("likes").As("s");
                      });
                    },
                    "s"),
                ElementsAre(Value(12), Value(1), Value()));
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
}

TEST_F(WithCountTest, BadInput) {
  EXPECT_THAT(
      Error([](Query& q) { q.WithAggregate("posts", [](Query& p) { p.Max("created_at"); }); }),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "WithAggregate on 'users.posts' needs As(alias)"));
  EXPECT_THAT(Error([](Query& q) { q.WithAggregate("posts", [](Query& p) { p.As("x"); }); }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "WithAggregate on 'users.posts' needs an aggregate: Count, Sum, Avg, Min "
                       "or Max"));
  EXPECT_THAT(
      Error([](Query& q) { q.WithAggregate("posts", [](Query& p) { p.Sum("title").As("x"); }); }),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "WithAggregate on 'users.posts': posts.title: sum needs a numeric "
               "column, not string"));
  EXPECT_THAT(Error([](Query& q) {
                q.WithAggregate("posts", [](Query& p) { p.Avg("is_published").As("x"); });
              }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("posts.is_published: avg needs a numeric column, not bool")));
  EXPECT_THAT(
      Error([](Query& q) { q.WithAggregate("posts", [](Query& p) { p.Max("nope").As("x"); }); }),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "WithAggregate on 'users.posts': table 'posts': no column named 'nope'"));
  EXPECT_THAT(Error([](Query& q) { q.WithCount("postz"); }),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no relation named 'postz'"));
  EXPECT_THAT(Error([](Query& q) { q.WithCount("posts", [](Query& p) { p.Sum("likes"); }); }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("WithCount counts rows; use WithAggregate")));
  EXPECT_THAT(Error([](Query& q) { q.WithCount("posts", [](Query& p) { p.Limit(2); }); }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("Limit is not allowed in a WithCount callback")));
  EXPECT_THAT(Error([](Query& q) {
                q.WithCount("posts").WithCount("published", [](Query& p) { p.As("posts_count"); });
              }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "query on 'users': extra 'posts_count' is loaded twice (name each with "
                       "As)"));
  // Structural errors are reported by the entry points that ignore loads.
  Query q = db_.Query("users");
  q.WithAggregate("posts", [](Query& p) { p.Max("created_at"); });
  EXPECT_THAT(q.Count(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("As(alias)")));
  EXPECT_THAT(q.Explain(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("As(alias)")));
  EXPECT_THAT(q.Paginate(1, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("As(alias)")));
}

}  // namespace
}  // namespace kin::test
