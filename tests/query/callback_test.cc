// Callbacks only record: the Query handed to a Preload, Has / WhereHas /
// WhereDoesntHave (every form), WithCount, WithAggregate or where-group
// callback, or to a relation's on_query, refuses every run method (Get,
// First, FirstOrFail, Count, Aggregate, Paginate, Update, Delete, Explain)
// with a FailedPrecondition naming the method, the callback and the
// relation; nothing changes, and the query owning the callback fails too.
// Before this rule an Update inside a WhereHas or Preload callback rewrote
// the posts of every user, not of the parent.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/query/relation_fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

// One run method called on the Query a callback is given.
struct RunMethod {
  std::string name;
  std::function<absl::Status(Query&)> run;
};

std::vector<RunMethod> RunMethods() {
  return {
      {"Get", [](Query& q) { return q.Get().status(); }},
      {"First", [](Query& q) { return q.First().status(); }},
      {"FirstOrFail", [](Query& q) { return q.FirstOrFail().status(); }},
      {"Count", [](Query& q) { return q.Count().status(); }},
      {"Aggregate", [](Query& q) { return q.Aggregate().status(); }},
      {"Aggregate", [](Query& q) { return q.Aggregate(AggregateFunction::kMax, "id").status(); }},
      {"Paginate", [](Query& q) { return q.Paginate(1, 10).status(); }},
      {"Update",
       [](Query& q) {
         return q.Update({{"likes", 0}}).status();
       }},
      {"Delete", [](Query& q) { return q.Delete().status(); }},
      {"Explain", [](Query& q) { return q.Explain().status(); }},
  };
}

// One way of handing user code a recording Query: builds a users query
// whose callback calls `inside` on the Query it is given.
struct CallbackKind {
  std::string kind;      // as the message names it
  std::string relation;  // the relation (or table) the message names
  std::function<void(Query&, const std::function<void(Query&)>&)> build;
};

std::vector<CallbackKind> CallbackKinds() {
  using Inside = std::function<void(Query&)>;
  return {
      {"Preload", "users.posts", [](Query& q, const Inside& f) { q.Preload("posts", f); }},
      {"WhereHas", "users.posts", [](Query& q, const Inside& f) { q.WhereHas("posts", f); }},
      {"WhereHas", "users.posts", [](Query& q, const Inside& f) { q.OrWhereHas("posts", f); }},
      {"WhereHas", "users.posts",
       [](Query& q, const Inside& f) { q.AndWhereHas("posts", f, ">=", 2); }},
      {"WhereDoesntHave", "users.posts",
       [](Query& q, const Inside& f) { q.WhereDoesntHave("posts", f); }},
      {"WhereDoesntHave", "users.posts",
       [](Query& q, const Inside& f) { q.OrWhereDoesntHave("posts", f); }},
      {"WithCount", "users.posts", [](Query& q, const Inside& f) { q.WithCount("posts", f); }},
      {"WithAggregate", "users.posts",
       [](Query& q, const Inside& f) {
         q.WithAggregate("posts", [&](Query& p) {
           f(p);
           p.Max("likes").As("most_likes");
         });
       }},
      {"where group", "users", [](Query& q, const Inside& f) { q.Where([&](Query& g) { f(g); }); }},
      // Nested: a Preload callback inside a Preload callback names the
      // inner relation.
      {"Preload", "posts.comments",
       [](Query& q, const Inside& f) {
         q.Preload("posts", [&](Query& p) { p.Preload("comments", f); });
       }},
      {"WithCount", "posts.comments",
       [](Query& q, const Inside& f) {
         q.Preload("posts", [&](Query& p) { p.WithCount("comments", f); });
       }},
      {"WhereHas", "posts.comments",
       [](Query& q, const Inside& f) {
         q.WhereHas("posts", [&](Query& p) { p.WhereHas("comments", f); });
       }},
  };
}

class CallbackTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    Row alice = AddUser("alice", 10);
    Row bob = AddUser("bob", 20);
    Row a1 = AddPost(Id(alice), "a1", 10, true, 5);
    AddPost(Id(alice), "a2", 20, false, 7);
    AddPost(Id(bob), "b1", 30, true, 1);
    AddComment(a1, "nice", 3);
  }
};

TEST_F(CallbackTest, EveryRunMethodInEveryCallbackIsRefusedAndChangesNothing) {
  for (const CallbackKind& kind : CallbackKinds()) {
    for (const RunMethod& method : RunMethods()) {
      SCOPED_TRACE(absl::StrCat(method.name, " in a ", kind.kind, " callback of ", kind.relation));
      const std::string before = db_.DebugString();
      absl::Status inner;
      int calls = 0;
      Query q = db_.Query("users");
      kind.build(q, [&](Query& recording) {
        ++calls;
        inner = method.run(recording);
      });
      ASSERT_EQ(calls, 1);
      const std::string expected =
          absl::StrCat(method.name, " is not allowed in a ", kind.kind, " callback of ",
                       kind.relation, ": a callback only records a query");
      EXPECT_THAT(inner, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(expected)));
      // The owning query fails with it, even though the callback ignored it.
      EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(expected)));
      EXPECT_THAT(q.Count(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(expected)));
      EXPECT_EQ(db_.DebugString(), before);
    }
  }
}

// What the guard prevents: this Update would have rewritten every user's
// posts (the callback's Query reads the whole posts table).
TEST_F(CallbackTest, UpdateInWhereHasDoesNotRewriteOtherParentsRows) {
  const std::string before = db_.DebugString();
  absl::StatusOr<int64_t> updated;
  Query q = db_.Query("users");
  q.Where("name", "alice").WhereHas("posts", [&](Query& p) {
    updated = p.Update({{"title", "rewritten"}});
    p.Where("is_published", true);
  });
  EXPECT_THAT(updated, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("Update is not allowed in a WhereHas callback of "
                                          "users.posts")));
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), before);
  ASSERT_OK_AND_ASSIGN(int64_t rewritten, db_.Query("posts").Where("title", "rewritten").Count());
  EXPECT_EQ(rewritten, 0);
}

TEST_F(CallbackTest, RunMethodsInOnQueryAreRefusedOnEveryRead) {
  for (const RunMethod& method : RunMethods()) {
    SCOPED_TRACE(method.name);
    const std::string before = db_.DebugString();
    int calls = 0;
    absl::Status inner;
    ASSERT_OK(db_.SetOnQuery("users", "published", [&](Query& q) {
      ++calls;
      inner = method.run(q);
      q.Where("is_published", true);
    }));
    const std::string expected =
        absl::StrCat(method.name, " is not allowed in an on_query callback of users.published");
    auto refused = StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(expected));
    EXPECT_THAT(db_.Query("users").Preload("published").Get(), refused);
    EXPECT_THAT(db_.Query("users").Has("published").Get(), refused);
    EXPECT_THAT(db_.Query("users").WithCount("published").Get(), refused);
    EXPECT_THAT(db_.Query("users")
                    .WithAggregate("published", [](Query& p) { p.Sum("likes").As("likes"); })
                    .Get(),
                refused);
    ASSERT_OK_AND_ASSIGN(Row alice, db_.FindOrFail("users", 1));
    EXPECT_THAT(db_.Related(alice, "published").Get(), refused);
    EXPECT_THAT(db_.Related(alice, "published").Count(), refused);
    EXPECT_THAT(db_.Related(alice, "published").Query().Get(), refused);
    EXPECT_THAT(inner, refused);
    EXPECT_GE(calls, 7);
    EXPECT_EQ(db_.DebugString(), before);
  }
}

// A relation handle's Count(filter) records the filter as a where group of
// the related query: running anything there is refused too.
TEST_F(CallbackTest, HandleCountFilterOnlyRecords) {
  ASSERT_OK_AND_ASSIGN(Row alice, db_.FindOrFail("users", 1));
  const std::string before = db_.DebugString();
  absl::StatusOr<int64_t> deleted;
  EXPECT_THAT(db_.Related(alice, "posts").Count([&](Query& q) {
    deleted = q.Delete();
    q.Where("is_published", true);
  }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("Delete is not allowed in a where group callback of posts")));
  EXPECT_THAT(deleted, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.Related(alice, "posts").Count([](Query& q) { q.Where("is_published", true); }),
              IsOkAndHolds(1));
}

// The same query object runs normally outside any callback, and a callback
// that only records is unaffected.
TEST_F(CallbackTest, RecordingCallbacksStillWork) {
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users")
                           .WhereHas("posts", [](Query& p) { p.Where("is_published", true); })
                           .Preload("posts", [](Query& p) { p.OrderBy("created_at", kDesc); })
                           .Get());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_THAT(PreloadedTitles(users[0]), ::testing::ElementsAre("a2", "a1"));
  Query top = db_.Query("posts");
  ASSERT_OK_AND_ASSIGN(int64_t n, top.Where("likes", ">", 1).Count());
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(int64_t changed, top.Update({{"likes", 0}}));
  EXPECT_EQ(changed, 2);
}

}  // namespace
}  // namespace kin::test
