// Has / WhereHas / DoesntHave / WhereDoesntHave and their And / Or forms:
// the seed's examples, every count operator, combinations with Where and
// groups, BelongsTo, string and NULL keys, on_query, nesting, the strategy
// shown by Explain, and bad input.

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "query/internal/query_access.h"
#include "query/internal/relation_plan.h"
#include "tests/query/relation_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

class HasTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    // alice: 5 posts (2 published), bob: 2 (1 published), carol: 1 draft,
    // dave: none. Plus a post without owner and an orphan.
    Row alice = AddUser("alice", 10);
    Row bob = AddUser("bob", 20);
    Row carol = AddUser("carol");
    AddUser("dave", 40);
    AddPost(Id(alice), "a1", 100, true, 5);
    AddPost(Id(alice), "a2", 200, false, 50);
    AddPost(Id(alice), "a3", 300, true, 500);
    AddPost(Id(alice), "a4", 400, false);
    AddPost(Id(alice), "a5", 500, false, 1);
    AddPost(Id(bob), "b1", 150, true, 200);
    AddPost(Id(bob), "b2", 250, false, 3);
    AddPost(Id(carol), "c1", 50, false, 1000);
    AddPost(Value(), "nobody", 10, true, 1);
    AddPost(77, "orphan", 10, true, 1);
  }

  // Names of the users `build` selects.
  std::vector<std::string> Users(const std::function<void(Query&)>& build) {
    Query q = db_.Query("users");
    build(q);
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return {};
    // Count agrees with Get.
    EXPECT_THAT(q.Count(), IsOkAndHolds(static_cast<int64_t>(rows->size())));
    return Names(*rows);
  }
};

// Lucid: User.query().has('posts'), .has('posts', '>=', 5) and whereHas.
TEST_F(HasTest, SeedExamples) {
  EXPECT_THAT(Users([](Query& q) { q.Has("posts"); }), ElementsAre("alice", "bob", "carol"));
  EXPECT_THAT(Users([](Query& q) { q.Has("posts", ">=", 5); }), ElementsAre("alice"));
  // Users with at least one published post created after 120.
  EXPECT_THAT(Users([](Query& q) {
                q.WhereHas("posts", [](Query& p) {
                  p.Where("is_published", true).Where("created_at", ">", 120);
                });
              }),
              ElementsAre("alice", "bob"));
}

TEST_F(HasTest, EveryCountOperator) {
  // Post counts: alice 5, bob 2, carol 1, dave 0.
  struct Case {
    std::string op;
    int64_t n;
    std::vector<std::string> want;
  };
  std::vector<Case> cases = {
      {"=", 2, {"bob"}},
      {"==", 0, {"dave"}},
      {"!=", 2, {"alice", "carol", "dave"}},
      {"<>", 5, {"bob", "carol", "dave"}},
      {"<", 2, {"carol", "dave"}},
      {"<=", 2, {"bob", "carol", "dave"}},
      {">", 1, {"alice", "bob"}},
      {">=", 1, {"alice", "bob", "carol"}},
      {">", -1, {"alice", "bob", "carol", "dave"}},
      {"<", 0, {}},
      {">=", 6, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Users([&](Query& q) { q.Has("posts", c.op, c.n); }), c.want) << c.op << " " << c.n;
  }
  EXPECT_THAT(Users([](Query& q) { q.Has("posts", CompareOp::kGt, 2); }), ElementsAre("alice"));
}

TEST_F(HasTest, WhereHasWithCountOperator) {
  // Published posts: alice 2, bob 1, carol 0, dave 0.
  auto published = [](Query& p) { p.Where("is_published", true); };
  EXPECT_THAT(Users([&](Query& q) { q.WhereHas("posts", published, ">=", 2); }),
              ElementsAre("alice"));
  EXPECT_THAT(Users([&](Query& q) { q.WhereHas("posts", published, "=", 0); }),
              ElementsAre("carol", "dave"));
  EXPECT_THAT(Users([&](Query& q) { q.WhereHas("posts", published, CompareOp::kLt, 2); }),
              ElementsAre("bob", "carol", "dave"));
  // A filter on a NULL-able column: NULL likes never pass likes > 10.
  EXPECT_THAT(Users([](Query& q) {
                q.WhereHas(
                    "posts", [](Query& p) { p.Where("likes", ">", 10); }, "=", 2);
              }),
              ElementsAre("alice"));
}

TEST_F(HasTest, DoesntHaveAndWhereDoesntHave) {
  EXPECT_THAT(Users([](Query& q) { q.DoesntHave("posts"); }), ElementsAre("dave"));
  EXPECT_THAT(Users([](Query& q) {
                q.WhereDoesntHave("posts", [](Query& p) { p.Where("is_published", true); });
              }),
              ElementsAre("carol", "dave"));
}

// The guide's table of variants: each of the 12 names, combined with a
// condition on the parent (score > 15: bob, dave).
TEST_F(HasTest, AndOrFormsOfEveryVariant) {
  auto published = [](Query& p) { p.Where("is_published", true); };
  struct Case {
    std::string name;
    std::function<void(Query&)> build;
    std::vector<std::string> want;
  };
  std::vector<Case> cases = {
      {"has", [](Query& q) { q.Where("score", ">", 15).Has("posts"); }, {"bob"}},
      {"andHas", [](Query& q) { q.Where("score", ">", 15).AndHas("posts", ">=", 1); }, {"bob"}},
      {"orHas",
       [](Query& q) { q.Where("score", ">", 15).OrHas("posts", ">=", 3); },
       {"alice", "bob", "dave"}},
      {"doesntHave", [](Query& q) { q.DoesntHave("posts").Where("score", ">", 15); }, {"dave"}},
      {"andDoesntHave",
       [](Query& q) { q.Where("score", ">", 15).AndDoesntHave("posts"); },
       {"dave"}},
      {"orDoesntHave",
       [](Query& q) { q.Where("name", "alice").OrDoesntHave("posts"); },
       {"alice", "dave"}},
      {"whereHas",
       [&](Query& q) { q.Where("score", ">", 15).WhereHas("posts", published); },
       {"bob"}},
      {"andWhereHas",
       [&](Query& q) { q.Where("score", "<", 15).AndWhereHas("posts", published); },
       {"alice"}},
      {"orWhereHas",
       [&](Query& q) { q.Where("name", "dave").OrWhereHas("posts", published, ">", 1); },
       {"alice", "dave"}},
      {"whereDoesntHave",
       [&](Query& q) { q.Where("score", ">", 15).WhereDoesntHave("posts", published); },
       {"dave"}},
      {"andWhereDoesntHave",
       [&](Query& q) { q.WhereNull("score").AndWhereDoesntHave("posts", published); },
       {"carol"}},
      {"orWhereDoesntHave",
       [&](Query& q) { q.Where("name", "bob").OrWhereDoesntHave("posts", published); },
       {"bob", "carol", "dave"}},
  };
  for (const Case& c : cases) EXPECT_EQ(Users(c.build), c.want) << c.name;
  // AND binds tighter than OR, as for every condition: a OR (b AND c).
  EXPECT_THAT(
      Users([](Query& q) { q.Where("name", "dave").OrHas("posts").Where("score", ">", 15); }),
      ElementsAre("bob", "dave"));
}

TEST_F(HasTest, InsideWhereGroups) {
  EXPECT_THAT(Users([](Query& q) {
                q.Where([](Query& g) {
                   g.Has("posts", ">", 3).OrWhereNull("score");
                 }).Where("name", "!=", "carol");
              }),
              ElementsAre("alice"));
  EXPECT_THAT(Users([](Query& q) {
                q.Where("score", ">", 30).OrWhere([](Query& g) {
                  g.Has("posts").WhereDoesntHave("posts",
                                                 [](Query& p) { p.Where("likes", ">", 100); });
                });
              }),
              ElementsAre("dave"));
}

TEST_F(HasTest, OnQueryAppliesToHasAndWhereHas) {
  // "published" keeps is_published = true posts (on_query).
  EXPECT_THAT(Users([](Query& q) { q.Has("published"); }), ElementsAre("alice", "bob"));
  EXPECT_THAT(Users([](Query& q) { q.Has("published", "=", 2); }), ElementsAre("alice"));
  EXPECT_THAT(Users([](Query& q) { q.DoesntHave("published"); }), ElementsAre("carol", "dave"));
  // The callback's OrWhere cannot widen on_query: a2 is a draft.
  EXPECT_THAT(Users([](Query& q) {
                q.WhereHas("published",
                           [](Query& p) { p.Where("title", "c1").OrWhere("title", "a2"); });
              }),
              IsEmpty());
  EXPECT_THAT(Users([](Query& q) {
                q.WhereHas("published",
                           [](Query& p) { p.Where("likes", ">", 100).OrWhere("title", "a1"); });
              }),
              ElementsAre("alice", "bob"));
}

TEST_F(HasTest, BelongsToHasAndOrphans) {
  auto posts = [&](const std::function<void(Query&)>& build) {
    Query q = db_.Query("posts");
    build(q);
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? Titles(*rows) : std::vector<std::string>{};
  };
  // Posts whose user exists: not the NULL one, not the orphan.
  EXPECT_EQ(posts([](Query& q) { q.Has("user"); }).size(), 8u);
  EXPECT_THAT(posts([](Query& q) { q.DoesntHave("user"); }), ElementsAre("nobody", "orphan"));
  EXPECT_THAT(
      posts([](Query& q) { q.WhereHas("user", [](Query& u) { u.Where("score", ">=", 20); }); }),
      ElementsAre("b1", "b2"));
  EXPECT_THAT(posts([](Query& q) { q.Has("user", ">", 1); }), IsEmpty());
}

TEST_F(HasTest, NestedWhereHasAndHasOnPreloadedChildren) {
  Row a3 = db_.Query("posts").Where("title", "a3").Get().value()[0];
  Row b2 = db_.Query("posts").Where("title", "b2").Get().value()[0];
  AddComment(a3, "x", 5);
  AddComment(b2, "y", 1);
  AddComment(b2, "z", 9);
  // Users with a post that has a comment scored above 4.
  EXPECT_THAT(Users([](Query& q) {
                q.WhereHas("posts", [](Query& p) {
                  p.WhereHas("comments", [](Query& c) { c.Where("score", ">", 4); });
                });
              }),
              ElementsAre("alice", "bob"));
  EXPECT_THAT(
      Users([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Has("comments", ">=", 2); }); }),
      ElementsAre("bob"));
  // Has as a filter of preloaded children.
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users").Preload("posts", [](Query& p) { p.Has("comments"); }).Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a3"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b2"));
  // From a related query.
  ASSERT_OK_AND_ASSIGN(Row bob, db_.FindOrFail("users", 2));
  ASSERT_OK_AND_ASSIGN(ResultSet commented,
                       db_.Related(bob, "posts").Query().DoesntHave("comments").Get());
  EXPECT_THAT(Titles(commented), ElementsAre("b1"));
}

TEST_F(HasTest, StringAndNullLocalKeys) {
  ASSERT_OK(db_.CreateTable(
      "teams",
      Schema().Int64("id", PrimaryKey()).String("code", Unique()).String("name", NotNull())));
  ASSERT_OK(db_.CreateTable("players", Schema()
                                           .Int64("id", PrimaryKey())
                                           .String("team_code")
                                           .String("team_name")
                                           .Int64("level", Default(1))));
  ASSERT_OK(db_.HasMany("teams", "players",
                        {.foreign_key = "team_code", .local_key = "code", .inverse = "team"}));
  // A BelongsTo on a key without an index (teams.name is not unique).
  ASSERT_OK(db_.BelongsTo("players", "teams",
                          {.name = "named_team", .foreign_key = "team_name", .owner_key = "name"}));
  ASSERT_OK(db_.Insert("teams", {{"code", "red"}, {"name", "Reds"}}).status());
  ASSERT_OK(db_.Insert("teams", {{"code", "blue"}, {"name", "Blues"}}).status());
  ASSERT_OK(db_.Insert("teams", {{"code", Value()}, {"name", "Nameless"}}).status());
  ASSERT_OK(
      db_.Insert("players", {{"team_code", "red"}, {"team_name", "Reds"}, {"level", 5}}).status());
  ASSERT_OK(db_.Insert("players", {{"team_code", "red"}, {"team_name", "Blues"}}).status());
  ASSERT_OK(db_.Insert("players", {{"team_code", Value()}, {"team_name", "Nameless"}}).status());
  ASSERT_OK(db_.Insert("players", {{"team_code", "green"}, {"team_name", "Greens"}}).status());
  auto teams = [&](const std::function<void(Query&)>& build) {
    Query q = db_.Query("teams");
    build(q);
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? Strings(*rows, "name") : std::vector<std::string>{};
  };
  for (auto strategy :
       {::kin::internal::RelationStrategy::kWalk, ::kin::internal::RelationStrategy::kScan,
        ::kin::internal::RelationStrategy::kIndexScan, ::kin::internal::RelationStrategy::kAuto}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    SCOPED_TRACE(static_cast<int>(strategy));
    EXPECT_THAT(teams([](Query& q) { q.Has("players"); }), ElementsAre("Reds"));
    // A NULL local key has no related rows, whatever the players say.
    EXPECT_THAT(teams([](Query& q) { q.DoesntHave("players"); }), ElementsAre("Blues", "Nameless"));
    EXPECT_THAT(
        teams([](Query& q) { q.WhereHas("players", [](Query& p) { p.Where("level", ">", 2); }); }),
        ElementsAre("Reds"));
    Query players = db_.Query("players");
    players.Has("named_team").OrderBy("id");
    ASSERT_OK_AND_ASSIGN(ResultSet named, players.Get());
    EXPECT_EQ(named.size(), 3u);
    ASSERT_OK_AND_ASSIGN(ResultSet with_team,
                         db_.Query("players").Preload("named_team").WithCount("team").Get());
    EXPECT_THAT(Strings(with_team[1].Preloaded("named_team").value(), "name"),
                ElementsAre("Blues"));
    EXPECT_THAT(with_team[1].Extra("team_count"), IsOkAndHolds(Value(1)));
    EXPECT_THAT(with_team[2].Extra("team_count"), IsOkAndHolds(Value(0)));
    EXPECT_THAT(with_team[3].Preloaded("named_team").value(), IsEmpty());
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
}

// A WhereHas may compare an aggregate of the related rows, not only their
// number: SQL's WHERE (SELECT SUM(likes) FROM posts WHERE ...) > 100. A NULL
// aggregate (no related rows, or only NULL cells) passes no test.
TEST_F(HasTest, WhereHasComparesAnAggregate) {
  // likes: alice 5 50 500 NULL 1 (sum 556), bob 200 3, carol 1000, dave none.
  for (auto strategy :
       {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kScan}) {
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.Sum("likes"); }, ">", 500);
                }),
                ElementsAre("alice", "carol"));
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.Where("is_published", true).Sum("likes"); }, ">",
                      100);
                }),
                ElementsAre("alice", "bob"));
    // dave's sum is NULL: not < 300.
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.Sum("likes"); }, "<", 300);
                }),
                ElementsAre("bob"));
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.CountDistinct("is_published"); }, "=", 2);
                }),
                ElementsAre("alice", "bob"));
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.Avg("likes"); }, ">", 139);
                }),
                ElementsAre("carol"));  // alice 139.0 exactly, bob 101.5
    EXPECT_THAT(Users([](Query& q) {
                  q.WhereHas(
                      "posts", [](Query& p) { p.Count("likes"); }, ">=", 4);
                }),
                ElementsAre("alice"));
    // A condition like any other: ORed, grouped, negated by DoesntHave.
    EXPECT_THAT(Users([](Query& q) {
                  q.Where("name", "dave")
                      .OrWhereHas(
                          "posts", [](Query& p) { p.Max("likes"); }, ">=", 1000);
                }),
                ElementsAre("carol", "dave"));
    // WhereDoesntHave is the test `< 1`: no minimum is below 1, and dave's
    // NULL minimum passes no test.
    EXPECT_THAT(
        Users([](Query& q) { q.WhereDoesntHave("posts", [](Query& p) { p.Min("created_at"); }); }),
        IsEmpty());
  }
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
  Query q = db_.Query("users");
  q.WhereHas(
      "posts", [](Query& p) { p.Sum("likes"); }, ">", 500);
  EXPECT_THAT(q.Explain(), IsOkAndHolds(HasSubstr("sum(likes) of users.posts > 500 by walk")));
}

TEST_F(HasTest, WhereHasAggregateOverflowIsTheQuerysError) {
  Row eve = AddUser("eve");
  AddPost(Id(eve), "e1", 0, false, std::numeric_limits<int64_t>::max());
  AddPost(Id(eve), "e2", 0, false, 1);
  const std::string before = db_.DebugString();
  Query q = db_.Query("users");
  q.WhereHas(
      "posts", [](Query& p) { p.Sum("likes"); }, ">", 0);
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("likes")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(HasTest, ExplainShowsTheStrategy) {
  // Many users with two posts each: the shape the cost estimate is for.
  for (int u = 0; u < 200; ++u) {
    Row user = AddUser("u" + std::to_string(u));
    AddPost(Id(user), "p", u, u % 2 == 0, u);
    AddPost(Id(user), "q", u, false, 1);
  }
  auto plan = [&](const std::function<void(Query&)>& build) {
    Query q = db_.Query("users");
    build(q);
    absl::StatusOr<std::string> text = q.Explain();
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  };
  auto likes = [](Query& p) { p.Where("likes", ">", 3); };
  // One parent through the primary key: an index probe per row.
  EXPECT_THAT(plan([](Query& q) { q.Where("id", 1).Has("posts", ">=", 5); }),
              HasSubstr("filter: id = 1 AND count(posts) >= 5 | relation: count(users.posts) "
                        ">= 5 by index"));
  EXPECT_THAT(plan([&](Query& q) { q.Where("id", 1).WhereHas("posts", likes); }),
              HasSubstr("count(posts where likes > 3) >= 1 | relation: count(users.posts "
                        "filtered) >= 1 by walk"));
  // Every parent: each one's list size read from the index, which is an
  // array while the keys are compact (auto-increment ids, as here; sparse
  // keys take one pass over the index, below); a filter scans the posts.
  const std::string every = plan([](Query& q) { q.Has("posts", ">=", 2); });
  EXPECT_THAT(every, HasSubstr("count(users.posts) >= 2 by index"));
  EXPECT_THAT(every, Not(HasSubstr("index scan")));
  EXPECT_THAT(plan([&](Query& q) { q.WhereHas("posts", likes); }),
              HasSubstr("count(users.posts filtered) >= 1 by scan of posts"));
  // Forced, for tests.
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kWalk);
  EXPECT_THAT(plan([&](Query& q) { q.WhereHas("posts", likes); }), HasSubstr("by walk"));
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kScan);
  EXPECT_THAT(plan([](Query& q) { q.Where("id", 1).Has("posts"); }), HasSubstr("by scan of posts"));
  ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
}

// Sparse parent keys (10^12 apart) make the foreign-key index a hash map:
// counting every parent is then one pass over it, slotting each key, and
// gives what probing each parent gives.
TEST(HasPlanTest, SparseKeysCountEveryParentInOnePassOverTheIndex) {
  Database db;
  ASSERT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db.HasMany("users", "posts"));
  std::vector<int64_t> busy;
  for (int64_t u = 0; u < 200; ++u) {
    const int64_t id = u * int64_t{1'000'000'000'000};
    ASSERT_OK(db.Insert("users", {{"id", id}}).status());
    for (int64_t p = 0; p < u % 4; ++p) ASSERT_OK(db.Insert("posts", {{"user_id", id}}).status());
    if (u % 4 >= 2) busy.push_back(id);
  }
  Query q = db.Query("users");
  q.Has("posts", ">=", 2);
  EXPECT_THAT(q.Explain(), IsOkAndHolds(HasSubstr("count(users.posts) >= 2 by index scan")));
  for (auto strategy :
       {::kin::internal::RelationStrategy::kAuto, ::kin::internal::RelationStrategy::kWalk}) {
    ForcedStrategy forced(strategy);
    ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
    std::vector<int64_t> got;
    for (const ResultRow& r : rows) got.push_back(r.GetInt64("id").value());
    EXPECT_EQ(got, busy);
  }
}

TEST_F(HasTest, PaginateAndAggregateOverHas) {
  Query q = db_.Query("users");
  q.Has("posts");
  ASSERT_OK_AND_ASSIGN(Page page, q.Paginate(1, 2));
  EXPECT_THAT(Names(page.rows), ElementsAre("alice", "bob"));
  EXPECT_EQ(page.meta.total, 3);
  EXPECT_THAT(q.Aggregate(AggregateFunction::kSum, "score"), IsOkAndHolds(Value(30)));
  // Writes select through Has too.
  Query stale = db_.Query("users");
  stale.DoesntHave("posts");
  EXPECT_THAT(stale.Update({{"score", 0}}), IsOkAndHolds(1));
  ASSERT_OK_AND_ASSIGN(Row dave, db_.FindOrFail("users", 4));
  EXPECT_THAT(dave.GetInt64("score"), IsOkAndHolds(0));
}

TEST_F(HasTest, BadInput) {
  auto run = [&](const std::function<void(Query&)>& build) {
    Query q = db_.Query("users");
    build(q);
    return q.Get().status();
  };
  EXPECT_THAT(run([](Query& q) { q.Has("postz"); }),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no relation named 'postz'"));
  EXPECT_THAT(run([](Query& q) { q.OrWhereDoesntHave("postz", [](Query&) {}); }),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no relation named 'postz'"));
  EXPECT_THAT(run([](Query& q) { q.Has("posts", "=~", 3); }),
              StatusIs(absl::StatusCode::kInvalidArgument, "users.posts: unknown operator '=~'"));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Where("nope", 1); }); }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "WhereHas on 'users.posts': table 'posts': no column named 'nope'"));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Limit(1); }); }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("WhereHas on 'users.posts': Limit is not allowed in a WhereHas "
                                 "callback")));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Max("title"); }); }),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "WhereHas on 'users.posts': max(title) is a string, it cannot be compared "
                       "with the number 1"));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Sum("title"); }); }),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("title")));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Sum("likes").As("x"); }); }),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("As")));
  EXPECT_THAT(run([](Query& q) { q.WhereHas("posts", [](Query& p) { p.Preload("comments"); }); }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not allowed in a WhereHas callback")));
  // Every entry point reports it.
  Query q = db_.Query("users");
  q.Has("postz");
  EXPECT_THAT(q.Count(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(q.Explain(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(q.First(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(q.Delete(), StatusIs(absl::StatusCode::kNotFound));
  // Without a catalog.
  Query bare = ::kin::internal::QueryAccess::Make(::kin::internal::DatabaseAccess::engine(db_),
                                                  "users", nullptr);
  bare.Has("posts");
  EXPECT_THAT(bare.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                   HasSubstr("Has needs the relations of a Database")));
}

}  // namespace
}  // namespace kin::test
