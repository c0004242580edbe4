// Select: the columns a result carries (Lucid select, Sequelize
// attributes). A ResultRow of a query with a Select reads only the selected
// columns (another is InvalidArgument naming it); inside a Preload callback
// it restricts the preloaded rows. Bad columns are errors on every run
// method; First, counts and writes do not take it.

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
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class SelectTest : public RelationTest {
 protected:
  void SetUp() override {
    RelationTest::SetUp();
    alice_ = AddUser("alice", 10);
    AddUser("bob", 20);
    Row a1 = AddPost(Id(alice_), "a1", 30, true, 5);
    AddPost(Id(alice_), "a2", 10, false, 7);
    AddComment(a1, "nice", 3);
  }

  Row alice_;
};

// Lucid: Post.query().select('id', 'title')
TEST_F(SelectTest, ResultRowsReadOnlyTheSelectedColumns) {
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db_.Query("posts").Select("id", "title").Get());
  ASSERT_EQ(posts.size(), 2u);
  const ResultRow& p = posts[0];
  EXPECT_THAT(p.GetString("title"), IsOkAndHolds("a1"));
  EXPECT_THAT(p.GetInt64("id"), IsOkAndHolds(1));
  EXPECT_THAT(p.Get("title"), IsOkAndHolds(Value("a1")));
  auto not_selected = StatusIs(absl::StatusCode::kInvalidArgument,
                               "table 'posts': column 'created_at' was not selected (selected: id, "
                               "title)");
  EXPECT_THAT(p.GetInt64("created_at"), not_selected);
  EXPECT_THAT(p.Get("created_at"), not_selected);
  EXPECT_THAT(p.GetBool("is_published"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("'is_published' was not selected")));
  EXPECT_THAT(p.GetDouble("rating"), StatusIs(absl::StatusCode::kInvalidArgument));
  // An unknown column is still reported as unknown.
  EXPECT_THAT(p.Get("titel"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'titel'")));
  // Calls add up; the order of the selected list is the schema's.
  ASSERT_OK_AND_ASSIGN(ResultSet more,
                       db_.Query("posts").Select("title").Select("likes").Where("id", 2).Get());
  EXPECT_THAT(more[0].GetInt64("likes"), IsOkAndHolds(7));
  EXPECT_THAT(more[0].GetInt64("id"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(selected: title, likes)")));
  // A plain Row copied out of the result is an engine handle: every column.
  Row plain = posts[0];
  EXPECT_THAT(plain.GetInt64("created_at"), IsOkAndHolds(30));
  // Without Select, every column.
  ASSERT_OK_AND_ASSIGN(ResultSet all, db_.Query("posts").Get());
  EXPECT_THAT(all[0].GetInt64("created_at"), IsOkAndHolds(30));
}

TEST_F(SelectTest, PaginateRelatedQueryAndEmptyResults) {
  ASSERT_OK_AND_ASSIGN(Page page, db_.Query("posts").Select("title").OrderBy("id").Paginate(1, 1));
  EXPECT_THAT(page.rows[0].GetString("title"), IsOkAndHolds("a1"));
  EXPECT_THAT(page.rows[0].GetInt64("likes"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(page.meta.total, 2);
  ASSERT_OK_AND_ASSIGN(ResultSet mine, db_.Related(alice_, "posts").Query().Select("title").Get());
  EXPECT_THAT(mine[1].GetString("title"), IsOkAndHolds("a2"));
  EXPECT_THAT(mine[1].GetInt64("user_id"), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(ResultSet none, db_.Query("posts").Select("title").Where("id", 99).Get());
  EXPECT_THAT(none, IsEmpty());
}

// Lucid: preload('posts', (q) => q.select('id', 'title')). kin needs no key
// among them: preloads work on row ids.
TEST_F(SelectTest, PreloadCallbackSelectsTheChildrensColumns) {
  ASSERT_OK_AND_ASSIGN(ResultSet users, db_.Query("users")
                                            .Preload("posts",
                                                     [](Query& q) {
                                                       q.Select("title").Preload(
                                                           "comments",
                                                           [](Query& c) { c.Select("body"); });
                                                     })
                                            .Get());
  EXPECT_THAT(users[0].GetInt64("score"), IsOkAndHolds(10));  // parents: every column
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> posts, users[0].Preloaded("posts"));
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_THAT(posts[0].GetString("title"), IsOkAndHolds("a1"));
  EXPECT_THAT(posts[0].GetInt64("user_id"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     HasSubstr("'user_id' was not selected")));
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> comments, posts[0].Preloaded("comments"));
  EXPECT_THAT(comments[0].GetString("body"), IsOkAndHolds("nice"));
  EXPECT_THAT(comments[0].GetInt64("score"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SelectTest, BadSelectsAreErrorsEverywhereAndChangeNothing) {
  const std::string before = db_.DebugString();
  auto unknown = StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("table 'posts': no column named 'titel'"));
  auto bad = [&]() { return db_.Query("posts").Select("id", "titel"); };
  EXPECT_THAT(bad().Get(), unknown);
  EXPECT_THAT(bad().Count(), unknown);
  EXPECT_THAT(bad().Paginate(1, 5), unknown);
  EXPECT_THAT(bad().Explain(), unknown);
  EXPECT_THAT(bad().Update({{"likes", 0}}), unknown);
  EXPECT_THAT(bad().Delete(), unknown);
  EXPECT_THAT(db_.Query("users").Preload("posts", [](Query& q) { q.Select("titel"); }).Get(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Preload on 'users.posts': table 'posts': no column named 'titel'"));
  // First returns a bare row, which cannot restrict its columns.
  EXPECT_THAT(db_.Query("posts").Select("title").First(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use Limit(1).Get()")));
  EXPECT_THAT(db_.Query("posts").Select("title").FirstOrFail(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Callbacks whose rows are only counted, and where groups, take none.
  EXPECT_THAT(db_.Query("users").WhereHas("posts", [](Query& q) { q.Select("title"); }).Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("Select is not allowed in a WhereHas callback")));
  EXPECT_THAT(db_.Query("users").WithCount("posts", [](Query& q) { q.Select("title"); }).Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db_.Query("posts").Where([](Query& g) { g.Select("title"); }).Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Select")));
  EXPECT_EQ(db_.DebugString(), before);
}

// Count, Aggregate, Update and Delete ignore the selection: they return no
// rows.
TEST_F(SelectTest, CountsAndWritesIgnoreIt) {
  EXPECT_THAT(db_.Query("posts").Select("title").Count(), IsOkAndHolds(2));
  EXPECT_THAT(db_.Query("posts").Select("title").Aggregate(AggregateFunction::kSum, "likes"),
              IsOkAndHolds(Value(12)));
  ASSERT_OK_AND_ASSIGN(int64_t n,
                       db_.Query("posts").Select("title").Where("id", 2).Update({{"likes", 1}}));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(ResultSet rows, db_.Query("posts").Where("id", 2).Get());
  EXPECT_THAT(rows[0].GetInt64("likes"), IsOkAndHolds(1));
}

}  // namespace
}  // namespace kin::test
