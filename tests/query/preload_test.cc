// Preload, GroupLimit / GroupOrderBy: the Lucid v6 hasMany guide's eager
// loading examples translated to kin, plus empty parents, NULL foreign keys
// and orphans, nested and multiple preloads, BelongsTo, on_query, ties and
// the misplaced-call errors.

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "query/internal/query_access.h"
#include "tests/query/relation_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PreloadTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    alice_ = AddUser("alice", 10);
    bob_ = AddUser("bob", 20);
    carol_ = AddUser("carol");  // no posts
    // alice: 4 posts, bob: 2; created_at is not in insertion order.
    AddPost(Id(alice_), "a1", 30, true);
    AddPost(Id(alice_), "a2", 10, false);
    AddPost(Id(bob_), "b1", 50, true);
    AddPost(Id(alice_), "a3", 40, true);
    AddPost(Id(bob_), "b2", 20, false);
    AddPost(Id(alice_), "a4", 20, false);
  }

  Row alice_, bob_, carol_;
};

// Lucid: const users = await User.query().preload('posts')
TEST_F(PreloadTest, EveryParentCarriesItsChildrenInInsertionOrder) {
  ASSERT_OK_AND_ASSIGN(ResultSet users, db_.Query("users").Preload("posts").Get());
  ASSERT_EQ(users.size(), 3u);
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a1", "a2", "a3", "a4"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b1", "b2"));
  // "When no related rows exist, user.posts is an empty array."
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> none, users[2].Preloaded("posts"));
  EXPECT_THAT(none, IsEmpty());
  // The children are full rows of their table.
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> posts, users[1].Preloaded("posts"));
  EXPECT_EQ(posts[0].table(), db_.FindTable("posts"));
  EXPECT_THAT(posts[0].GetInt64("created_at"), IsOkAndHolds(50));
  // A relation that was not preloaded is NotFound, not empty.
  EXPECT_THAT(users[0].Preloaded("comments"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'comments' was not preloaded")));
}

// Lucid: preload('posts', (q) => q.where('is_published', true).orderBy('created_at', 'desc'))
TEST_F(PreloadTest, CallbackFiltersAndOrdersTheChildren) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Preload("posts",
                   [](Query& q) { q.Where("is_published", true).OrderBy("created_at", kDesc); })
          .Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a3", "a1"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b1"));
  EXPECT_THAT(PreloadedTitles(users[2]), IsEmpty());
}

// Lucid: preload('posts', (q) => q.groupLimit(5).groupOrderBy('created_at', 'desc'))
TEST_F(PreloadTest, GroupLimitKeepsTheTopNOfEachParent) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Preload("posts", [](Query& q) { q.GroupLimit(2).GroupOrderBy("created_at", kDesc); })
          .Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a3", "a1"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b1", "b2"));
  EXPECT_THAT(PreloadedTitles(users[2]), IsEmpty());
}

// Lucid's groupLimit without groupOrderBy ranks by primary key descending:
// the newest n rows, not the first n inserted.
TEST_F(PreloadTest, GroupLimitWithoutGroupOrderByKeepsTheNewestByPrimaryKey) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Preload("posts", [](Query& q) { q.Where("is_published", false).GroupLimit(1); })
          .Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a4"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b2"));
  // Kept rows are listed in rank order (id descending) without an OrderBy.
  ASSERT_OK_AND_ASSIGN(
      ResultSet two, db_.Query("users").Preload("posts", [](Query& q) { q.GroupLimit(2); }).Get());
  EXPECT_THAT(PreloadedTitles(two[0]), ElementsAre("a4", "a3"));
  EXPECT_THAT(PreloadedTitles(two[1]), ElementsAre("b2", "b1"));
  // GroupLimit(0) keeps nothing, and every parent still gets its list.
  ASSERT_OK_AND_ASSIGN(
      ResultSet zero, db_.Query("users").Preload("posts", [](Query& q) { q.GroupLimit(0); }).Get());
  for (const ResultRow& u : zero) EXPECT_THAT(PreloadedTitles(u), IsEmpty());
}

TEST_F(PreloadTest, GroupOrderByRanksAndOrderByListsTheKeptRows) {
  // The two most recent of each user, listed by title descending.
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Preload(
              "posts",
              [](Query& q) { q.GroupLimit(2).GroupOrderBy("created_at", "desc").OrderBy("title"); })
          .Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a1", "a3"));
  // Without GroupOrderBy the primary key ranks (descending, as Lucid), and
  // OrderBy only lists the kept rows: the two newest, by title ascending.
  ASSERT_OK_AND_ASSIGN(ResultSet by_title,
                       db_.Query("users")
                           .Preload("posts", [](Query& q) { q.OrderBy("title").GroupLimit(2); })
                           .Get());
  EXPECT_THAT(PreloadedTitles(by_title[0]), ElementsAre("a3", "a4"));
}

TEST_F(PreloadTest, TopNTiesKeepInsertionOrder) {
  Row dave = AddUser("dave");
  for (const char* t : {"d1", "d2", "d3", "d4", "d5"}) AddPost(Id(dave), t, 7);
  AddPost(Id(dave), "d6", 9);
  for (int run = 0; run < 3; ++run) {
    ASSERT_OK_AND_ASSIGN(
        ResultSet users,
        db_.Query("users")
            .Where("name", "dave")
            .Preload("posts", [](Query& q) { q.GroupLimit(4).GroupOrderBy("created_at", kDesc); })
            .Get());
    EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("d6", "d1", "d2", "d3"));
  }
  // Ascending too: equal keys in insertion order.
  ASSERT_OK_AND_ASSIGN(
      ResultSet asc,
      db_.Query("users")
          .Where("name", "dave")
          .Preload("posts", [](Query& q) { q.GroupLimit(3).GroupOrderBy("created_at"); })
          .Get());
  EXPECT_THAT(PreloadedTitles(asc[0]), ElementsAre("d1", "d2", "d3"));
}

TEST_F(PreloadTest, ManyChildrenPerParentPartialSelection) {
  // More children than the insertion-sort cut-off: partial_sort path.
  Row erin = AddUser("erin");
  for (int i = 0; i < 200; ++i) {
    AddPost(Id(erin), "e" + std::to_string(i), (i * 37) % 101);
  }
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Where("name", "erin")
          .Preload("posts", [](Query& q) { q.GroupLimit(3).GroupOrderBy("created_at", kDesc); })
          .Get());
  // The expected answer, the plain way: a stable sort of every child.
  std::vector<std::pair<int64_t, int>> keyed;
  for (int i = 0; i < 200; ++i) keyed.emplace_back((i * 37) % 101, i);
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> want;
  for (int k = 0; k < 3; ++k) want.push_back("e" + std::to_string(keyed[k].second));
  EXPECT_EQ(PreloadedTitles(users[0]), want);
}

TEST_F(PreloadTest, NullForeignKeysAndOrphansBelongToNobody) {
  AddPost(Value(), "no owner");
  AddPost(999, "orphan");
  ASSERT_OK_AND_ASSIGN(ResultSet users, db_.Query("users").Preload("posts").Get());
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("a1", "a2", "a3", "a4"));
  EXPECT_THAT(PreloadedTitles(users[1]), ElementsAre("b1", "b2"));
  EXPECT_THAT(PreloadedTitles(users[2]), IsEmpty());
  // From the other side: BelongsTo preload gives no parent for either.
  ASSERT_OK_AND_ASSIGN(
      ResultSet posts,
      db_.Query("posts").WhereIn("title", {"no owner", "orphan", "b1"}).Preload("user").Get());
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_THAT(Names(posts[0].Preloaded("user").value()), ElementsAre("bob"));
  EXPECT_THAT(posts[1].Preloaded("user").value(), IsEmpty());
  EXPECT_THAT(posts[2].Preloaded("user").value(), IsEmpty());
}

TEST_F(PreloadTest, BelongsToPreloadsTheParent) {
  ASSERT_OK_AND_ASSIGN(ResultSet posts,
                       db_.Query("posts").OrderBy("created_at").Preload("user").Get());
  std::vector<std::string> owners;
  for (const ResultRow& p : posts) {
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> user, p.Preloaded("user"));
    ASSERT_EQ(user.size(), 1u);
    owners.emplace_back(user[0].GetString("name").value());
  }
  EXPECT_THAT(owners, ElementsAre("alice", "bob", "alice", "alice", "alice", "bob"));
}

TEST_F(PreloadTest, NestedPreloadsInsideTheCallback) {
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db_.Query("posts").Where("title", "a1").Get());
  Row a1 = posts[0];
  Row a3 = db_.Query("posts").Where("title", "a3").Get().value()[0];
  AddComment(a1, "first", 1);
  AddComment(a3, "hi", 5);
  AddComment(a1, "second", 3);
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users")
                           .Where("name", "alice")
                           .Preload("posts",
                                    [](Query& q) {
                                      q.Where("is_published", true)
                                          .Preload("comments",
                                                   [](Query& c) { c.OrderBy("score", kDesc); })
                                          .Preload("user");
                                    })
                           .Get());
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> alice_posts, users[0].Preloaded("posts"));
  ASSERT_EQ(alice_posts.size(), 2u);
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> c1, alice_posts[0].Preloaded("comments"));
  EXPECT_THAT(Strings(c1, "body"), ElementsAre("second", "first"));
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> c3, alice_posts[1].Preloaded("comments"));
  EXPECT_THAT(Strings(c3, "body"), ElementsAre("hi"));
  // The inverse, preloaded on the children, leads back to alice.
  EXPECT_THAT(Names(alice_posts[1].Preloaded("user").value()), ElementsAre("alice"));
}

TEST_F(PreloadTest, SeveralRelationsOnOneQuery) {
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users")
                           .Preload("posts")
                           .Preload("published", [](Query& q) { q.OrderBy("created_at"); })
                           .WithCount("posts")
                           .Get());
  EXPECT_THAT(PreloadedTitles(users[0], "posts"), ElementsAre("a1", "a2", "a3", "a4"));
  // "published" carries its on_query (is_published = true).
  EXPECT_THAT(PreloadedTitles(users[0], "published"), ElementsAre("a1", "a3"));
  EXPECT_THAT(users[0].Extra("posts_count"), IsOkAndHolds(Value(4)));
}

TEST_F(PreloadTest, OnQueryAppliesAndCannotBeWidenedByOrWhere) {
  // The callback's OrWhere is ANDed with on_query, not with its last
  // condition: unpublished a2 stays out.
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users")
          .Where("name", "alice")
          .Preload("published", [](Query& q) { q.Where("title", "a2").OrWhere("title", "a3"); })
          .Get());
  EXPECT_THAT(PreloadedTitles(users[0], "published"), ElementsAre("a3"));
}

TEST_F(PreloadTest, ParentFiltersOrderAndPaginationStillApply) {
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users").WhereNotNull("score").OrderBy("score", kDesc).Preload("posts").Get());
  EXPECT_THAT(Names(users), ElementsAre("bob", "alice"));
  EXPECT_THAT(PreloadedTitles(users[0]), ElementsAre("b1", "b2"));
  // Paginating the parents preloads the page's rows.
  ASSERT_OK_AND_ASSIGN(Page page, db_.Query("users").Preload("posts").Paginate(2, 1));
  ASSERT_EQ(page.rows.size(), 1u);
  EXPECT_THAT(PreloadedTitles(page.rows[0]), ElementsAre("b1", "b2"));
  EXPECT_EQ(page.meta.total, 3);
}

TEST_F(PreloadTest, RelatedQueryCanPreloadAndPaginate) {
  // Lucid: user.related('posts').query() ... here with a nested preload.
  Row a1 = db_.Query("posts").Where("title", "a1").Get().value()[0];
  AddComment(a1, "c");
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db_.Related(alice_, "posts")
                                            .Query()
                                            .OrderBy("created_at", kDesc)
                                            .Limit(2)
                                            .Preload("comments")
                                            .Get());
  EXPECT_THAT(Titles(posts), ElementsAre("a3", "a1"));
  EXPECT_THAT(Strings(posts[1].Preloaded("comments").value(), "body"), ElementsAre("c"));
  // "paginate works when you lazy-load the relationship".
  ASSERT_OK_AND_ASSIGN(Page page, db_.Related(alice_, "posts").Query().Paginate(2, 3));
  EXPECT_THAT(Titles(page.rows), ElementsAre("a4"));
}

TEST_F(PreloadTest, ResultsStayReadableWhileTheDatabaseIsUnmodified) {
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users").Preload("posts").WithCount("posts").Get());
  ResultSet moved = std::move(users);
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(PreloadedTitles(moved[1]), ElementsAre("b1", "b2"));
    EXPECT_THAT(moved[1].Extra("posts_count"), IsOkAndHolds(Value(2)));
  }
  // Copies of a child Row keep working after the set moves on.
  std::vector<Row> kids(moved[0].Preloaded("posts").value().begin(),
                        moved[0].Preloaded("posts").value().end());
  EXPECT_THAT(kids[3].GetString("title"), IsOkAndHolds("a4"));
  // After a delete, the deleted child's handle reports it.
  ASSERT_OK(db_.Delete(kids[3]));
  EXPECT_THAT(moved[0].Preloaded("posts").value()[3].GetString("title"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// --- misplaced calls ---

TEST_F(PreloadTest, PlainLimitInsidePreloadPointsToGroupLimit) {
  // Lucid's trap: limit(5) inside preload caps all parents together. kin
  // refuses it and names the fix.
  Query q = db_.Query("users");
  q.Preload("posts", [](Query& p) { p.Limit(5); });
  EXPECT_THAT(q.Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "Preload on 'users.posts': Limit inside a Preload callback would cap the "
                       "rows of all parents together; use GroupLimit(n) for n rows per parent"));
  Query o = db_.Query("users");
  o.Preload("posts", [](Query& p) { p.Offset(1); });
  EXPECT_THAT(o.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("Offset is not allowed inside a Preload callback")));
}

TEST_F(PreloadTest, PaginateInsidePreloadIsAnError) {
  Query q = db_.Query("users");
  absl::Status inner;
  q.Preload("posts", [&](Query& p) { inner = p.Paginate(1, 10).status(); });
  const std::string message =
      "Paginate is not allowed in a Preload callback of users.posts: a callback only records a "
      "query, which runs as part of the query that owns it; query the parent, then "
      "db.Related(parent, \"posts\").Query().Paginate(page, per_page)";
  EXPECT_THAT(inner, StatusIs(absl::StatusCode::kFailedPrecondition, message));
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kFailedPrecondition, message));
}

TEST_F(PreloadTest, GroupLimitOutsidePreloadIsAnError) {
  const std::string message =
      "query on 'posts': GroupLimit is only allowed inside a Preload callback; use Limit on a "
      "related query (db.Related(row, \"posts\").Query().Limit(n))";
  Query top = db_.Query("posts");
  top.GroupLimit(5);
  EXPECT_THAT(top.Get(), StatusIs(absl::StatusCode::kFailedPrecondition, message));
  EXPECT_THAT(top.Count(), StatusIs(absl::StatusCode::kFailedPrecondition, message));
  EXPECT_THAT(top.Explain(), StatusIs(absl::StatusCode::kFailedPrecondition, message));
  // On a related query too.
  Query related = db_.Related(alice_, "posts").Query();
  related.GroupLimit(2);
  EXPECT_THAT(related.Get(), StatusIs(absl::StatusCode::kFailedPrecondition, message));
  Query order = db_.Query("posts");
  order.GroupOrderBy("created_at", kDesc);
  EXPECT_THAT(order.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("GroupOrderBy is only allowed inside a Preload "
                                              "callback; use OrderBy on a related query")));
  // Inside a WhereHas or WithCount callback it has no meaning either.
  Query has = db_.Query("users");
  has.WhereHas("posts", [](Query& p) { p.GroupLimit(1); });
  EXPECT_THAT(has.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                  HasSubstr("WhereHas on 'users.posts': GroupLimit is only "
                                            "allowed inside a Preload callback")));
}

TEST_F(PreloadTest, BadPreloadsAreErrorsWhenTheQueryRuns) {
  Query unknown = db_.Query("users");
  unknown.Preload("postz");
  EXPECT_THAT(unknown.Get(),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no relation named 'postz'"));
  Query column = db_.Query("users");
  column.Preload("posts", [](Query& p) { p.Where("titel", "x"); });
  EXPECT_THAT(column.Get(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     "Preload on 'users.posts': table 'posts': no column named "
                                     "'titel'"));
  Query nested = db_.Query("users");
  nested.Preload("posts", [](Query& p) { p.Preload("commentz"); });
  EXPECT_THAT(nested.Get(), StatusIs(absl::StatusCode::kNotFound,
                                     HasSubstr("table 'posts': no relation named 'commentz'")));
  Query twice = db_.Query("users");
  twice.Preload("posts").Preload("posts");
  EXPECT_THAT(twice.Get(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    "query on 'users': relation 'posts' is preloaded twice"));
  Query aggregate = db_.Query("users");
  aggregate.Preload("posts", [](Query& p) { p.Max("created_at"); });
  EXPECT_THAT(aggregate.Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("use WithAggregate")));
  // First returns a bare row: preloads would be silently lost.
  Query first = db_.Query("users");
  first.Preload("posts");
  EXPECT_THAT(first.First(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use Limit(1).Get()")));
}

TEST_F(PreloadTest, QueryWithoutCatalogCannotPreload) {
  Query q = ::kin::internal::QueryAccess::Make(::kin::internal::DatabaseAccess::engine(db_),
                                               "users", nullptr);  // no catalog
  q.Preload("posts");
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("Preload needs the relations of a Database")));
}

}  // namespace
}  // namespace kin::test
