// Index-or-scan choice (seen through Explain), compiled queries run over
// candidate spans, First, result sets and their row handles.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "query/internal/loads.h"
#include "query/internal/query_access.h"
#include "query/internal/query_plan.h"
#include "query/row_set.h"
#include "tests/query/fixture.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::Column;
using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Access = internal::CompiledQuery::Access;

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MakeBlogSchema(engine_);
    for (int u = 1; u <= 4; ++u) {
      ASSERT_OK(engine_
                    .Insert("users", {{"id", u},
                                      {"email", absl::StrCat("u", u, "@x")},
                                      {"name", u % 2 == 0 ? Value("even") : Value()},
                                      {"score", u * 10}})
                    .status());
    }
    // 40 posts: user (k % 4) + 1, so 10 each; created_at = k.
    for (int k = 1; k <= 40; ++k) {
      ASSERT_OK(engine_
                    .Insert("posts", {{"id", k},
                                      {"user_id", k % 4 + 1},
                                      {"title", absl::StrCat("post ", k)},
                                      {"created_at", k},
                                      {"is_published", k % 3 == 0}})
                    .status());
    }
  }

  std::string Explain(const std::function<void(Query&)>& build,
                      const std::string& table = "posts") {
    Query q(engine_, table);
    build(q);
    absl::StatusOr<std::string> s = q.Explain();
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "";
  }

  Database engine_;
};

TEST_F(PlanTest, EqualityOnPrimaryKeyProbesIt) {
  EXPECT_EQ(Explain([](Query& q) { q.Where("id", 7); }),
            "index probe posts.id = 7 (primary key, 1 rows) | filter: id = 7");
  Query q(engine_, "posts");
  q.Where("id", 7);
  ASSERT_OK_AND_ASSIGN(internal::CompiledQuery c, internal::QueryAccess::Compile(q));
  EXPECT_EQ(c.access(), Access::kIndexEq);
  EXPECT_EQ(c.probe_rows().size(), 1u);
}

TEST_F(PlanTest, EqualityOnUniqueAndSecondaryIndexes) {
  EXPECT_THAT(Explain([](Query& q) { q.Where("email", "u2@x"); }, "users"),
              StartsWith("index probe users.email = \"u2@x\" (unique index, 1 rows)"));
  EXPECT_THAT(Explain([](Query& q) { q.Where("user_id", 2).Where("is_published", true); }),
              StartsWith("index probe posts.user_id = 2 (secondary index, 10 rows) | filter: "
                         "user_id = 2 AND is_published = true"));
}

TEST_F(PlanTest, SmallestProbeWins) {
  // Both user_id and id are indexed equalities; id has 1 row.
  EXPECT_THAT(Explain([](Query& q) { q.Where("user_id", 2).Where("id", 5); }),
              StartsWith("index probe posts.id = 5"));
  // An equality with no rows is the best of all.
  EXPECT_THAT(Explain([](Query& q) { q.Where("id", 5).Where("user_id", 99); }),
              StartsWith("index probe posts.user_id = 99 (secondary index, 0 rows)"));
}

TEST_F(PlanTest, InOnIndexedColumn) {
  EXPECT_THAT(Explain([](Query& q) {
                q.WhereIn("id", {3, 1, 2, 3});
              }),
              StartsWith("index probe posts.id IN (1, 2, 3) (primary key, 3 rows)"));
  Query q(engine_, "posts");
  q.WhereIn("id", {30, 10, 20}).OrderBy("created_at", kDesc);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
  EXPECT_THAT(Column(rows), ElementsAre(30, 20, 10));
}

TEST_F(PlanTest, ScansWhenNoIndexedEqualityIsAndedAtTheTop) {
  struct Case {
    std::string name;
    std::function<void(Query&)> build;
  };
  std::vector<Case> cases = {
      {"no filter", [](Query&) {}},
      {"unindexed column", [](Query& q) { q.Where("created_at", 5); }},
      {"range on indexed column", [](Query& q) { q.Where("id", ">", 5); }},
      {"not equal", [](Query& q) { q.Where("user_id", "!=", 2); }},
      {"not in",
       [](Query& q) {
         q.WhereNotIn("id", {1, 2});
       }},
      {"or-ed equality", [](Query& q) { q.Where("user_id", 2).OrWhere("created_at", 1); }},
      {"equality inside an or group",
       [](Query& q) { q.Where([](Query& g) { g.Where("id", 1).OrWhere("id", 2); }); }},
      {"null", [](Query& q) { q.WhereNull("user_id"); }},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Explain(c.build), StartsWith("scan posts (40 rows)")) << c.name;
  }
}

TEST_F(PlanTest, GroupWithOneAndTermIsFlattenedAndCanProbe) {
  EXPECT_THAT(Explain([](Query& q) {
                q.Where("created_at", ">", 3).Where([](Query& g) { g.Where("user_id", 3); });
              }),
              StartsWith("index probe posts.user_id = 3"));
}

TEST_F(PlanTest, ExplainShowsTheWholeSpec) {
  EXPECT_EQ(Explain([](Query& q) {
              q.Where("user_id", 1)
                  .WhereStartsWith("title", "post 1")
                  .OrderBy("created_at", kDesc)
                  .OrderBy("id")
                  .Offset(2)
                  .Limit(5);
            }),
            "index probe posts.user_id = 1 (secondary index, 10 rows) | filter: user_id = 1 AND "
            "title starts with \"post 1\" | order by created_at desc, id asc | offset 2 | limit 5");
}

TEST_F(PlanTest, ProbeAndScanGiveTheSameRows) {
  // The probe answers the equality; the other filters still apply.
  Query probe(engine_, "posts");
  probe.Where("user_id", 2).Where("is_published", true).OrderBy("created_at", kDesc);
  ASSERT_OK_AND_ASSIGN(ResultSet a, probe.Get());
  Query scan(engine_, "posts");
  scan.Where("user_id", ">=", 2)
      .Where("user_id", "<=", 2)
      .Where("is_published", true)
      .OrderBy("created_at", kDesc);
  ASSERT_OK_AND_ASSIGN(ResultSet b, scan.Get());
  EXPECT_THAT(Column(a), ElementsAre(33, 21, 9));
  EXPECT_EQ(Column(a), Column(b));
}

TEST_F(PlanTest, CompiledQueryOverCandidateSpans) {
  // As a preload does: one compiled child query, run per parent.
  Query child(engine_, "posts");
  child.Where("is_published", false).OrderBy("created_at", kDesc).Limit(2);
  ASSERT_OK_AND_ASSIGN(internal::CompiledQuery compiled, internal::QueryAccess::Compile(child));
  const Table& posts = *engine_.FindTable("posts");
  ColumnId fk = *posts.FindColumn("user_id");
  std::vector<std::vector<int64_t>> per_user;
  for (int64_t u = 1; u <= 4; ++u) {
    std::vector<RowId> ids;
    compiled.Select(posts.Children(fk, u), &ids);
    std::vector<int64_t> keys;
    for (RowId id : ids) keys.push_back(*posts.GetRow(id).GetInt64("id"));
    per_user.push_back(keys);
  }
  // user 1: posts 4, 8, ..., 40; unpublished excludes multiples of 3.
  EXPECT_THAT(per_user, ElementsAre(ElementsAre(40, 32), ElementsAre(37, 29), ElementsAre(38, 34),
                                    ElementsAre(35, 31)));
  // An explicit window (GroupLimit) overrides the spec's.
  std::vector<RowId> ids;
  compiled.Select(posts.Children(fk, 1), 1, 3, &ids);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_THAT(posts.GetRow(ids[0]).GetInt64("id"), IsOkAndHolds(32));
  // The predicate alone, over a span.
  std::vector<RowId> matched;
  compiled.predicate().Filter(posts.Children(fk, 1), &matched);
  EXPECT_EQ(matched.size(), 7u);  // 10 posts, 3 published
  EXPECT_EQ(compiled.Count(posts.Children(fk, 1)), 7u);
}

TEST_F(PlanTest, FirstHonoursOrderAndOffset) {
  Query q(engine_, "posts");
  q.Where("user_id", 3).OrderBy("created_at", kDesc).Offset(1).Limit(100);
  ASSERT_OK_AND_ASSIGN(Row r, q.First());
  EXPECT_THAT(r.GetInt64("id"), IsOkAndHolds(34));
  ASSERT_OK_AND_ASSIGN(Row r2, q.FirstOrFail());
  EXPECT_EQ(r, r2);
}

TEST_F(PlanTest, ResultSetIterationAndRowGetters) {
  Query q(engine_, "users");
  q.OrderBy("id", kDesc);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_FALSE(rows.empty());
  EXPECT_EQ(rows.table(), engine_.FindTable("users"));
  std::vector<int64_t> ids;
  for (const ResultRow& r : rows) ids.push_back(*r.GetInt64("id"));
  EXPECT_THAT(ids, ElementsAre(4, 3, 2, 1));
  EXPECT_EQ(rows.rows().size(), 4u);
  const ResultRow& r = rows[0];
  EXPECT_THAT(r.Get("email"), IsOkAndHolds(Value("u4@x")));
  EXPECT_THAT(r.GetString("name"), IsOkAndHolds("even"));
  EXPECT_THAT(r.GetInt64("score"), IsOkAndHolds(40));
  EXPECT_THAT(r.GetString("score"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("users.score")));
  EXPECT_THAT(rows[1].GetString("name"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NULL")));
  EXPECT_THAT(rows[1].Get("name"), IsOkAndHolds(Value()));
  EXPECT_THAT(r.Get("nope"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Rows carry the set: no preload or extra recorded.
  EXPECT_THAT(r.Preloaded("posts"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r.Extra("posts_count"), StatusIs(absl::StatusCode::kNotFound));
  // Moving the set keeps the rows usable.
  ResultSet moved = std::move(rows);
  EXPECT_THAT(moved[3].GetInt64("id"), IsOkAndHolds(1));
}

TEST_F(PlanTest, RowsAfterWritesDetectDeletion) {
  Query q(engine_, "posts");
  q.Where("user_id", 1).OrderBy("id").Limit(3);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_OK(engine_.Delete(rows[0]));
  // A deleted row is an error, not another row's data, even after its slot
  // is reused.
  ASSERT_OK(engine_.Insert("posts", {{"id", 1000}, {"user_id", 1}}).status());
  EXPECT_THAT(rows[0].Get("id"), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(rows[1].GetInt64("id"), IsOkAndHolds(8));
  // The query itself holds names only and sees the new state.
  ASSERT_OK_AND_ASSIGN(ResultSet again, q.Get());
  EXPECT_THAT(Column(again), ElementsAre(8, 12, 16));
}

// The shape the preload / withCount layer builds: parents from a query,
// per parent its children from a compiled child query, extras per row.
TEST_F(PlanTest, ResultSetCarriesPreloadsAndExtras) {
  Query parents(engine_, "users");
  parents.Where("id", "<=", 2);
  ASSERT_OK_AND_ASSIGN(ResultSet plain, parents.Get());
  // A query without loads returns a plain set; the query layer attaches to
  // sets built by FromRowIds.
  ResultSet users = ResultSet::FromRowIds(*engine_.FindTable("users"), plain.row_ids());
  EXPECT_THAT(plain[0].Preloaded("posts"), StatusIs(absl::StatusCode::kNotFound));
  Query child(engine_, "posts");
  child.OrderBy("created_at", kDesc).Limit(2);
  ASSERT_OK_AND_ASSIGN(internal::CompiledQuery compiled, internal::QueryAccess::Compile(child));
  const Table& posts = *engine_.FindTable("posts");
  ColumnId fk = *posts.FindColumn("user_id");
  internal::RowSetData::Preload preload;
  preload.name = "posts";
  preload.offsets.push_back(0);
  std::vector<RowId> kids;
  internal::RowSetData::Extra count{"posts_count", {}};
  for (const ResultRow& u : users) {
    std::span<const RowId> span = posts.Children(fk, *u.GetInt64("id"));
    compiled.Select(span, &kids);
    preload.offsets.push_back(static_cast<uint32_t>(kids.size()));
    count.values.push_back(Value(static_cast<int64_t>(compiled.Count(span))));
  }
  preload.children = ResultSet::MakeData(posts, kids, users.data());
  users.data().preloads.push_back(std::move(preload));
  users.data().extras.push_back(std::move(count));

  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> of1, users[0].Preloaded("posts"));
  ASSERT_EQ(of1.size(), 2u);
  EXPECT_THAT(of1[0].GetInt64("id"), IsOkAndHolds(40));
  EXPECT_THAT(of1[1].GetInt64("id"), IsOkAndHolds(36));
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> of2, users[1].Preloaded("posts"));
  EXPECT_THAT(of2[0].GetInt64("id"), IsOkAndHolds(37));
  EXPECT_THAT(users[1].Extra("posts_count"), IsOkAndHolds(Value(10)));
}

TEST_F(PlanTest, QueryIsCheapToCopyAndSpecIsEditable) {
  Query base(engine_, "posts");
  base.Where("user_id", 2);
  Query copy = base;
  copy.Where("created_at", "<", 10);
  EXPECT_THAT(base.Count(), IsOkAndHolds(10));
  EXPECT_THAT(copy.Count(), IsOkAndHolds(3));  // 1, 5, 9
  internal::QueryAccess::mutable_spec(copy).conditions.pop_back();
  EXPECT_THAT(copy.Count(), IsOkAndHolds(10));
}

TEST_F(PlanTest, ExplainListsEveryLoad) {
  ASSERT_OK(engine_.HasMany("users", "posts"));
  Query q(engine_, "users");
  q.Where("id", 1)
      .Preload("posts",
               [](Query& p) {
                 p.Where("created_at", ">", 4).OrderBy("created_at", "desc").Preload("user");
               })
      .WithCount("posts");
  ASSERT_OK_AND_ASSIGN(std::string text, q.Explain());
  EXPECT_THAT(text, StartsWith("index probe users.id = 1 (primary key, 1 rows) | filter: id = 1"));
  EXPECT_THAT(text, HasSubstr(" | preload users.posts: index probe posts.user_id per row "
                              "(filter: created_at > 4) (order by created_at desc)"));
  EXPECT_THAT(text, HasSubstr(" | preload users.posts > posts.user: index probe users.id per row"));
  EXPECT_THAT(text, HasSubstr(" | with count users.posts as posts_count: index probe "
                              "posts.user_id per row or one scan of posts, by cost"));
  // Loads are listed in the order they were recorded, nested ones after
  // their preload.
  EXPECT_LT(text.find("preload users.posts:"), text.find("posts.user:"));
  EXPECT_LT(text.find("posts.user:"), text.find("with count"));
}

TEST_F(PlanTest, GetBuildsOnePlanAndResolvesEachRelationOnce) {
  ASSERT_OK(engine_.HasMany("users", "posts"));
  Query q(engine_, "users");
  q.Preload("posts", [](Query& p) { p.Preload("user"); }).WithCount("posts");
  const int64_t builds = internal::QueryPlan::BuildsForTesting();
  const int64_t lookups = internal::RelationLookupsForTesting();
  ASSERT_OK_AND_ASSIGN(ResultSet users, q.Get());
  EXPECT_EQ(internal::QueryPlan::BuildsForTesting() - builds, 1);
  // users.posts twice (the preload and the count), posts.user once.
  EXPECT_EQ(internal::RelationLookupsForTesting() - lookups, 3);
  ASSERT_EQ(users.size(), 4u);
  EXPECT_THAT(users[0].Extra("posts_count"), IsOkAndHolds(Value(10)));
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> posts, users[0].Preloaded("posts"));
  ASSERT_EQ(posts.size(), 10u);
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> owner, posts[0].Preloaded("user"));
  ASSERT_EQ(owner.size(), 1u);
  EXPECT_THAT(owner[0].GetInt64("id"), IsOkAndHolds(1));
  // Paginate builds one plan too.
  const int64_t before_page = internal::QueryPlan::BuildsForTesting();
  ASSERT_OK(q.Paginate(1, 2).status());
  EXPECT_EQ(internal::QueryPlan::BuildsForTesting() - before_page, 1);
}

}  // namespace
}  // namespace kin
