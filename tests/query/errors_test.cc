// Every bad input is a clear error naming the table, column and value, from
// every way of running the query, and changes nothing in the database.

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "query/internal/query_access.h"
#include "tests/query/fixture.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;

struct BadCase {
  std::string name;
  std::function<void(Query&)> build;
  absl::StatusCode code;
  std::string message;  // the exact message
};

class ErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MakeTypesTable(engine_);
    test::MakeBlogSchema(engine_);
    ASSERT_OK(engine_.Insert("users", {{"id", 1}, {"email", "a@x"}}).status());
    ASSERT_OK(
        engine_.Insert("posts", {{"id", 1}, {"user_id", 1}, {"title", "hello"}, {"created_at", 5}})
            .status());
  }

  // Runs `c` through every entry point; each must fail with the same status
  // and leave the database as it was.
  void ExpectFailsEverywhere(const std::string& table, const BadCase& c) {
    SCOPED_TRACE(c.name);
    const std::string before = engine_.DebugString();
    auto make = [&] {
      Query q(engine_, table);
      c.build(q);
      return q;
    };
    auto matcher = StatusIs(c.code, c.message);
    EXPECT_THAT(make().Get(), matcher);
    EXPECT_THAT(make().First(), matcher);
    EXPECT_THAT(make().FirstOrFail(), matcher);
    EXPECT_THAT(make().Count(), matcher);
    EXPECT_THAT(make().Aggregate(), matcher);
    EXPECT_THAT(make().Paginate(1, 10), matcher);
    EXPECT_THAT(make().Explain(), matcher);
    EXPECT_THAT(internal::QueryAccess::Compile(make()), matcher);
    Query u = make();
    EXPECT_THAT(u.Update({{"id", 99}}), matcher);
    Query d = make();
    EXPECT_THAT(d.Delete(), matcher);
    EXPECT_EQ(engine_.DebugString(), before);
  }

  Database engine_;
};

TEST_F(ErrorsTest, UnknownTable) {
  ExpectFailsEverywhere("psots", {"unknown table", [](Query&) {}, absl::StatusCode::kNotFound,
                                  "no table named 'psots'"});
}

TEST_F(ErrorsTest, UnknownColumns) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const std::string kMsg = "table 'posts': no column named 'titel'";
  std::vector<BadCase> cases = {
      {"where", [](Query& q) { q.Where("titel", "x"); }, kInvalid, kMsg},
      {"where op", [](Query& q) { q.Where("titel", "!=", "x"); }, kInvalid, kMsg},
      {"or where", [](Query& q) { q.Where("id", 1).OrWhere("titel", "x"); }, kInvalid, kMsg},
      {"where in", [](Query& q) { q.WhereIn("titel", {"x"}); }, kInvalid, kMsg},
      {"where not in", [](Query& q) { q.WhereNotIn("titel", {}); }, kInvalid, kMsg},
      {"where null", [](Query& q) { q.WhereNull("titel"); }, kInvalid, kMsg},
      {"where not null", [](Query& q) { q.OrWhereNotNull("titel"); }, kInvalid, kMsg},
      {"between", [](Query& q) { q.WhereBetween("titel", "a", "b"); }, kInvalid, kMsg},
      {"starts with", [](Query& q) { q.WhereStartsWith("titel", "a"); }, kInvalid, kMsg},
      {"contains", [](Query& q) { q.WhereContains("titel", "a"); }, kInvalid, kMsg},
      {"in a group",
       [](Query& q) {
         q.Where("id", 1).OrWhere([](Query& g) { g.Where("id", 2).Where("titel", "x"); });
       },
       kInvalid, kMsg},
      {"in an empty-looking nested group",
       [](Query& q) { q.Where([](Query& g) { g.Where([](Query& h) { h.WhereNull("titel"); }); }); },
       kInvalid, kMsg},
      {"order by", [](Query& q) { q.OrderBy("titel"); }, kInvalid, kMsg},
      {"aggregate", [](Query& q) { q.Max("titel"); }, kInvalid, kMsg},
      // Case matters.
      {"case", [](Query& q) { q.Where("Title", "x"); }, kInvalid,
       "table 'posts': no column named 'Title'"},
  };
  for (const BadCase& c : cases) ExpectFailsEverywhere("posts", c);
}

TEST_F(ErrorsTest, WrongValueTypes) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  std::vector<BadCase> cases = {
      {"string for int64", [](Query& q) { q.Where("user_id", "abc"); }, kInvalid,
       "posts.user_id: expected int64, got string \"abc\""},
      {"double for int64", [](Query& q) { q.Where("user_id", ">", 1.5); }, kInvalid,
       "posts.user_id: expected int64, got double 1.5"},
      {"bool for int64", [](Query& q) { q.Where("user_id", true); }, kInvalid,
       "posts.user_id: expected int64, got bool true"},
      {"int for string", [](Query& q) { q.Where("title", 7); }, kInvalid,
       "posts.title: expected string, got int64 7"},
      {"string for double", [](Query& q) { q.Where("rating", "<", "high"); }, kInvalid,
       "posts.rating: expected double, got string \"high\""},
      {"int for bool", [](Query& q) { q.Where("is_published", 1); }, kInvalid,
       "posts.is_published: expected bool, got int64 1"},
      {"in list member",
       [](Query& q) {
         q.WhereIn("id", {1, 2, "3"});
       },
       kInvalid, "posts.id: expected int64, got string \"3\""},
      {"not in list member",
       [](Query& q) {
         q.WhereNotIn("title", {"a", 2.5});
       },
       kInvalid, "posts.title: expected string, got double 2.5"},
      {"between bound", [](Query& q) { q.WhereBetween("created_at", 1, "z"); }, kInvalid,
       "posts.created_at: expected int64, got string \"z\""},
      {"null ordering comparison", [](Query& q) { q.Where("created_at", "<", Value()); }, kInvalid,
       "posts.created_at: cannot compare with NULL using '<' (use WhereNull or WhereNotNull)"},
      {"null between", [](Query& q) { q.WhereNotBetween("created_at", Value(), 3); }, kInvalid,
       "posts.created_at: cannot compare with NULL using 'not between' (use WhereNull or "
       "WhereNotNull)"},
      {"starts with on int64", [](Query& q) { q.WhereStartsWith("user_id", "1"); }, kInvalid,
       "posts.user_id: starts with needs a string column, not int64"},
      {"ends with on bool", [](Query& q) { q.OrWhereEndsWith("is_published", "e"); }, kInvalid,
       "posts.is_published: ends with needs a string column, not bool"},
      {"contains on double", [](Query& q) { q.WhereContains("rating", "1"); }, kInvalid,
       "posts.rating: contains needs a string column, not double"},
  };
  for (const BadCase& c : cases) ExpectFailsEverywhere("posts", c);
}

TEST_F(ErrorsTest, BadBuilderCalls) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  std::vector<BadCase> cases = {
      {"unknown operator", [](Query& q) { q.Where("id", "=~", 1); }, kInvalid,
       "posts.id: unknown operator '=~'"},
      {"unknown operator like", [](Query& q) { q.Where("title", "like", "a%"); }, kInvalid,
       "posts.title: unknown operator 'like'"},
      {"direction", [](Query& q) { q.OrderBy("id", "up"); }, kInvalid,
       "query on 'posts': order by id: direction must be \"asc\" or \"desc\", got \"up\""},
      {"negative limit", [](Query& q) { q.Limit(-1); }, kInvalid,
       "query on 'posts': limit must be >= 0, got -1"},
      {"negative offset", [](Query& q) { q.Offset(-5); }, kInvalid,
       "query on 'posts': offset must be >= 0, got -5"},
      {"order by in a group",
       [](Query& q) { q.Where([](Query& g) { g.Where("id", 1).OrderBy("id"); }); }, kInvalid,
       "query on 'posts': only conditions may be recorded inside a where group (found OrderBy, "
       "Limit, Offset, an aggregate, As or Select)"},
      {"bad call in a group", [](Query& q) { q.Where([](Query& g) { g.Where("id", "~", 1); }); },
       kInvalid, "posts.id: unknown operator '~'"},
      {"second aggregate", [](Query& q) { q.Max("id").Min("id"); }, kInvalid,
       "query on 'posts': a second aggregate min(id) after max(id)"},
      {"sum of string", [](Query& q) { q.Sum("title"); }, kInvalid,
       "posts.title: sum needs a numeric column, not string"},
      {"avg of bool", [](Query& q) { q.Avg("is_published"); }, kInvalid,
       "posts.is_published: avg needs a numeric column, not bool"},
      {"max of star", [](Query& q) { q.Max("*"); }, kInvalid,
       "query on 'posts': max needs a column, not '*'"},
      // The first bad call wins: builder errors are found first, then names
      // in the order they were given.
      {"first of two", [](Query& q) { q.Where("nope", 1).Where("title", 5); }, kInvalid,
       "table 'posts': no column named 'nope'"},
      {"first of two reversed", [](Query& q) { q.Where("title", 5).Where("nope", 1); }, kInvalid,
       "posts.title: expected string, got int64 5"},
  };
  for (const BadCase& c : cases) ExpectFailsEverywhere("posts", c);
}

TEST_F(ErrorsTest, GetWithRecordedAggregate) {
  Query q(engine_, "posts");
  q.Max("created_at").As("last");
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kInvalidArgument,
                                "query on 'posts': the query records max(created_at): run it "
                                "with Aggregate()"));
  EXPECT_THAT(q.Aggregate(), IsOkAndHolds(Value(5)));
}

TEST_F(ErrorsTest, BadUpdateAttributesChangeNothing) {
  const std::string before = engine_.DebugString();
  struct Case {
    std::string table;
    Attrs attrs;
    std::string message;
  };
  std::vector<Case> cases = {
      {"posts", {{"titel", "x"}}, "table 'posts': no column named 'titel'"},
      {"posts", {{"user_id", "abc"}}, "posts.user_id: expected int64, got string \"abc\""},
      {"posts", {{"title", "a"}, {"title", "b"}}, "table 'posts': column 'title' given twice"},
      {"posts", {{"id", Value()}}, "posts.id: NULL for a NOT NULL column"},
      {"t", {{"nn_i", Value()}}, "t.nn_i: NULL for a NOT NULL column"},
  };
  for (const Case& c : cases) {
    // Whether the query selects rows or none, the attributes are checked.
    for (bool matches : {true, false}) {
      Query q(engine_, c.table);
      q.Where("id", matches ? 1 : 12345);
      EXPECT_THAT(q.Update(c.attrs), StatusIs(absl::StatusCode::kInvalidArgument, c.message))
          << c.message;
      EXPECT_EQ(engine_.DebugString(), before);
    }
  }
}

TEST_F(ErrorsTest, FirstOnNoRows) {
  Query q(engine_, "posts");
  q.Where("user_id", 7).Where("created_at", ">", 3);
  EXPECT_THAT(q.First(),
              StatusIs(absl::StatusCode::kNotFound, "table 'posts': no row matches the query"));
  EXPECT_THAT(q.FirstOrFail(),
              StatusIs(absl::StatusCode::kNotFound,
                       "table 'posts': no row matches user_id = 7 AND created_at > 3"));
  Query empty(engine_, "users");
  empty.Where("id", 2);
  EXPECT_THAT(empty.FirstOrFail(),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no row matches id = 2"));
}

TEST_F(ErrorsTest, QueryIsReusableAfterFixingNothing) {
  // The same Query object reports the same error every time it runs.
  Query q(engine_, "posts");
  q.Where("titel", "x");
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("titel")));
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("titel")));
}

}  // namespace
}  // namespace kin
