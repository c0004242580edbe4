// A relation whose on_query orders and pages its rows (OrderBy / Limit /
// Offset): counts, Has / WhereHas and aggregates ignore the window (as a
// scalar SQL subquery does, and as Lucid's withCount does: counts of 3 and
// 2, not an error); Related(parent).Get() / Query() apply it; Preload
// applies it per parent (Lucid would cap all parents together).

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/query/relation_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class OnQueryWindowTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    // "recent": each user's two newest posts.
    ASSERT_OK(db_.HasMany("users", "posts",
                          {.name = "recent",
                           .on_query = [](Query& q) { q.OrderBy("created_at", kDesc).Limit(2); },
                           .create_inverse = false}));
    // "older": the next two after the newest.
    ASSERT_OK(db_.HasMany(
        "users", "posts",
        {.name = "older",
         .on_query = [](Query& q) { q.OrderBy("created_at", kDesc).Offset(1).Limit(2); },
         .create_inverse = false}));
    alice_ = AddUser("alice", 10);
    bob_ = AddUser("bob", 20);
    carol_ = AddUser("carol");  // no posts
    AddPost(Id(alice_), "a1", 30, true, 5);
    a2_ = AddPost(Id(alice_), "a2", 10, false, 1);
    AddPost(Id(bob_), "b1", 50, true, 2);
    AddPost(Id(alice_), "a3", 40, true, 7);
    AddPost(Id(bob_), "b2", 20, false);
    AddPost(Id(alice_), "a4", 20, false, 3);
  }

  std::vector<Value> Extra(Query q, const std::string& name) {
    std::vector<Value> out;
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (!rows.ok()) return out;
    for (const ResultRow& r : *rows) out.push_back(r.Extra(name).value());
    return out;
  }

  Row alice_, bob_, carol_, a2_;
};

TEST_F(OnQueryWindowTest, CountsAndHasIgnoreTheWindow) {
  EXPECT_THAT(Extra(db_.Query("users").WithCount("recent"), "recent_count"),
              ElementsAre(Value(4), Value(2), Value(0)));
  EXPECT_THAT(Extra(db_.Query("users").WithCount("older"), "older_count"),
              ElementsAre(Value(4), Value(2), Value(0)));
  ASSERT_OK_AND_ASSIGN(ResultSet three, db_.Query("users").Has("recent", ">=", 3).Get());
  EXPECT_THAT(Names(three), ElementsAre("alice"));
  ASSERT_OK_AND_ASSIGN(ResultSet any, db_.Query("users").Has("older").Get());
  EXPECT_THAT(Names(any), ElementsAre("alice", "bob"));
  ASSERT_OK_AND_ASSIGN(ResultSet none, db_.Query("users").DoesntHave("recent").Get());
  EXPECT_THAT(Names(none), ElementsAre("carol"));
  // WhereHas counts every matching row, not only those in the window: a2
  // is alice's oldest post, outside "recent"'s two.
  ASSERT_OK_AND_ASSIGN(ResultSet oldest,
                       db_.Query("users")
                           .WhereHas("recent", [](Query& p) { p.Where("created_at", "<", 15); })
                           .Get());
  EXPECT_THAT(Names(oldest), ElementsAre("alice"));
}

TEST_F(OnQueryWindowTest, AggregatesIgnoreTheWindow) {
  EXPECT_THAT(Extra(db_.Query("users").WithAggregate(
                        "recent", [](Query& p) { p.Min("created_at").As("first"); }),
                    "first"),
              ElementsAre(Value(10), Value(20), Value()));
  EXPECT_THAT(
      Extra(db_.Query("users").WithAggregate("older", [](Query& p) { p.Sum("likes").As("n"); }),
            "n"),
      ElementsAre(Value(16), Value(2), Value()));
}

TEST_F(OnQueryWindowTest, PreloadAppliesTheWindowPerParent) {
  ASSERT_OK_AND_ASSIGN(ResultSet users, db_.Query("users").Preload("recent").Get());
  EXPECT_THAT(PreloadedTitles(users[0], "recent"), ElementsAre("a3", "a1"));
  EXPECT_THAT(PreloadedTitles(users[1], "recent"), ElementsAre("b1", "b2"));
  EXPECT_THAT(PreloadedTitles(users[2], "recent"), IsEmpty());
  ASSERT_OK_AND_ASSIGN(ResultSet older, db_.Query("users").Preload("older").Get());
  EXPECT_THAT(PreloadedTitles(older[0], "older"), ElementsAre("a1", "a4"));
  EXPECT_THAT(PreloadedTitles(older[1], "older"), ElementsAre("b2"));
  EXPECT_THAT(PreloadedTitles(older[2], "older"), IsEmpty());
}

TEST_F(OnQueryWindowTest, PreloadCallbackFiltersBeforeTheWindowAndRefinesIt) {
  // The callback's conditions filter before the window (one query per
  // parent): alice's two newest unpublished posts.
  ASSERT_OK_AND_ASSIGN(
      ResultSet drafts,
      db_.Query("users").Preload("recent", [](Query& p) { p.Where("is_published", false); }).Get());
  EXPECT_THAT(PreloadedTitles(drafts[0], "recent"), ElementsAre("a4", "a2"));
  EXPECT_THAT(PreloadedTitles(drafts[1], "recent"), ElementsAre("b2"));
  // The callback's OrderBy comes after on_query's keys (a tie-breaker).
  ASSERT_OK_AND_ASSIGN(
      ResultSet ordered,
      db_.Query("users").Preload("recent", [](Query& p) { p.OrderBy("title", kDesc); }).Get());
  EXPECT_THAT(PreloadedTitles(ordered[0], "recent"), ElementsAre("a3", "a1"));
  // GroupLimit ranks within the window (primary key descending by
  // default); the kept rows are listed in on_query's order.
  ASSERT_OK_AND_ASSIGN(
      ResultSet one, db_.Query("users").Preload("recent", [](Query& p) { p.GroupLimit(1); }).Get());
  EXPECT_THAT(PreloadedTitles(one[0], "recent"), ElementsAre("a3"));
  EXPECT_THAT(PreloadedTitles(one[1], "recent"), ElementsAre("b2"));
  ASSERT_OK_AND_ASSIGN(
      ResultSet ranked,
      db_.Query("users")
          .Preload("older", [](Query& p) { p.GroupLimit(1).GroupOrderBy("likes", kDesc); })
          .Get());
  EXPECT_THAT(PreloadedTitles(ranked[0], "older"), ElementsAre("a1"));
  // A Limit of the callback itself is still Lucid's trap: an error.
  EXPECT_THAT(db_.Query("users").Preload("recent", [](Query& p) { p.Limit(1); }).Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(OnQueryWindowTest, RelatedGetAndQueryApplyTheWindow) {
  EXPECT_THAT(Titles(db_.Related(alice_, "recent").Get().value()), ElementsAre("a3", "a1"));
  EXPECT_THAT(Titles(db_.Related(alice_, "older").Get().value()), ElementsAre("a1", "a4"));
  EXPECT_THAT(Titles(db_.Related(carol_, "recent").Get().value()), IsEmpty());
  // The caller's window applies inside the relation's.
  EXPECT_THAT(Titles(db_.Related(alice_, "recent").Query().Limit(5).Get().value()),
              ElementsAre("a3", "a1"));
  EXPECT_THAT(Titles(db_.Related(alice_, "recent").Query().Offset(1).Get().value()),
              ElementsAre("a1"));
  EXPECT_THAT(Titles(db_.Related(alice_, "older").Query().Offset(1).Limit(5).Get().value()),
              ElementsAre("a4"));
  EXPECT_THAT(Titles(db_.Related(alice_, "recent").Query().Offset(2).Get().value()), IsEmpty());
  EXPECT_THAT(Titles(db_.Related(alice_, "recent")
                         .Query()
                         .Where("is_published", false)
                         .OrderBy("title")
                         .Get()
                         .value()),
              ElementsAre("a4", "a2"));
  ASSERT_OK_AND_ASSIGN(Row first, db_.Related(alice_, "older").Query().First());
  EXPECT_THAT(first.GetString("title"), IsOkAndHolds("a1"));
  EXPECT_THAT(db_.Related(alice_, "recent").Query().Offset(2).First(),
              StatusIs(absl::StatusCode::kNotFound));
  // Paginate pages within the window and counts only its rows.
  ASSERT_OK_AND_ASSIGN(Page page, db_.Related(alice_, "older").Query().Paginate(2, 1));
  EXPECT_THAT(Titles(page.rows), ElementsAre("a4"));
  EXPECT_EQ(page.meta.total, 2);
  EXPECT_EQ(page.meta.last_page, 2);
  ASSERT_OK_AND_ASSIGN(Page past, db_.Related(alice_, "older").Query().Paginate(3, 1));
  EXPECT_THAT(past.rows, IsEmpty());
  EXPECT_EQ(past.meta.total, 2);
}

// The documented rule: Count() (and Has, Find) see the relation's rows,
// ignoring the window, as WithCount does; Get().size() is the window's.
TEST_F(OnQueryWindowTest, HandleCountIsTheRelationsSizeGetIsTheWindow) {
  EXPECT_THAT(db_.Related(alice_, "recent").Count(), IsOkAndHolds(4));
  EXPECT_EQ(db_.Related(alice_, "recent").Get().value().size(), 2u);
  EXPECT_THAT(db_.Related(alice_, "recent").Count([](Query& q) { q.Where("is_published", false); }),
              IsOkAndHolds(2));
  EXPECT_THAT(db_.Related(alice_, "recent").Query().Count(), IsOkAndHolds(4));
  EXPECT_THAT(db_.Related(alice_, "recent").Has(a2_), IsOkAndHolds(true));
  ASSERT_OK_AND_ASSIGN(Row found, db_.Related(alice_, "recent").Find(Id(a2_)));
  EXPECT_EQ(found.id(), a2_.id());
  EXPECT_THAT(db_.Related(bob_, "recent").Find(Id(a2_)), StatusIs(absl::StatusCode::kNotFound));
}

// Writes through a query follow what it selects: an Update through the
// related query touches the window's rows only.
TEST_F(OnQueryWindowTest, UpdateThroughTheRelatedQueryTouchesTheWindow) {
  ASSERT_OK_AND_ASSIGN(int64_t n, db_.Related(alice_, "recent").Query().Update({{"likes", 0}}));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(int64_t zero, db_.Query("posts").Where("likes", 0).Count());
  EXPECT_EQ(zero, 2);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, db_.Query("posts").Where("likes", 0).OrderBy("title").Get());
  EXPECT_THAT(Titles(rows), ElementsAre("a1", "a3"));
}

TEST_F(OnQueryWindowTest, BadColumnInTheWindowIsAnErrorEverywhere) {
  ASSERT_OK(db_.SetOnQuery("users", "recent", [](Query& q) { q.OrderBy("creatd_at").Limit(2); }));
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Query("users").Preload("recent").Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("creatd_at")));
  EXPECT_THAT(db_.Related(alice_, "recent").Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("creatd_at")));
  EXPECT_EQ(db_.DebugString(), before);
}

}  // namespace
}  // namespace kin::test
