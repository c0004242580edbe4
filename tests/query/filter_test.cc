// Every filter operator on every column type, NULL cells included, and the
// And / Or / group forms.

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

using ::kin::test::Column;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

struct Case {
  std::string name;
  std::function<void(Query&)> build;
  std::vector<int64_t> ids;  // expected, in slot order (a scan or IN probe)
};

class FilterTest : public ::testing::Test {
 protected:
  void SetUp() override { test::MakeTypesTable(engine_); }

  void Run(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      Query q(engine_, "t");
      c.build(q);
      absl::StatusOr<ResultSet> rows = q.Get();
      ASSERT_OK(rows) << c.name;
      EXPECT_THAT(Column(*rows), ElementsAreArray(c.ids)) << c.name;
      EXPECT_THAT(q.Count(), test::IsOkAndHolds(static_cast<int64_t>(c.ids.size()))) << c.name;
      // The compiled predicate agrees row by row.
      absl::StatusOr<internal::CompiledQuery> compiled = internal::QueryAccess::Compile(q);
      ASSERT_OK(compiled) << c.name;
      std::vector<int64_t> matched;
      for (const Row& r : *engine_.FindTable("t")) {
        if (compiled->Matches(r.id())) matched.push_back(*r.GetInt64("id"));
      }
      EXPECT_THAT(matched, ElementsAreArray(c.ids)) << c.name;
    }
  }

  Database engine_;
};

TEST_F(FilterTest, Int64Column) {
  Run({
      {"= 2", [](Query& q) { q.Where("i", 2); }, {2, 5}},
      {"== 2", [](Query& q) { q.Where("i", "==", 2); }, {2, 5}},
      {"!= 2", [](Query& q) { q.Where("i", "!=", 2); }, {1, 4}},
      {"<> 2", [](Query& q) { q.Where("i", "<>", 2); }, {1, 4}},
      {"< 2", [](Query& q) { q.Where("i", "<", 2); }, {1}},
      {"<= 2", [](Query& q) { q.Where("i", "<=", 2); }, {1, 2, 5}},
      {"> 2", [](Query& q) { q.Where("i", ">", 2); }, {4}},
      {">= 2", [](Query& q) { q.Where("i", ">=", 2); }, {2, 4, 5}},
      {"CompareOp", [](Query& q) { q.Where("i", CompareOp::kGe, 2); }, {2, 4, 5}},
      {"in",
       [](Query& q) {
         q.WhereIn("i", {1, 3});
       },
       {1, 4}},
      {"in dup",
       [](Query& q) {
         q.WhereIn("i", {3, 1, 3, 1});
       },
       {1, 4}},
      {"in with NULL",
       [](Query& q) {
         q.WhereIn("i", {1, Value()});
       },
       {1}},
      {"in ()", [](Query& q) { q.WhereIn("i", {}); }, {}},
      {"not in", [](Query& q) { q.WhereNotIn("i", {1}); }, {2, 4, 5}},
      {"not in with NULL",
       [](Query& q) {
         q.WhereNotIn("i", {1, Value()});
       },
       {}},
      {"not in ()", [](Query& q) { q.WhereNotIn("i", {}); }, {1, 2, 3, 4, 5}},
      {"null", [](Query& q) { q.WhereNull("i"); }, {3}},
      {"not null", [](Query& q) { q.WhereNotNull("i"); }, {1, 2, 4, 5}},
      {"= NULL is IS NULL", [](Query& q) { q.Where("i", Value()); }, {3}},
      {"= nullptr", [](Query& q) { q.Where("i", "=", nullptr); }, {3}},
      {"!= NULL is IS NOT NULL", [](Query& q) { q.Where("i", "!=", Value()); }, {1, 2, 4, 5}},
      {"between", [](Query& q) { q.WhereBetween("i", 2, 3); }, {2, 4, 5}},
      {"between reversed", [](Query& q) { q.WhereBetween("i", 3, 2); }, {}},
      {"not between", [](Query& q) { q.WhereNotBetween("i", 2, 3); }, {1}},
      {"large values", [](Query& q) { q.Where("i", "<", INT64_MAX); }, {1, 2, 4, 5}},
  });
}

TEST_F(FilterTest, DoubleColumn) {
  Run({
      {"= 2.5", [](Query& q) { q.Where("d", 2.5); }, {2, 5}},
      {"int literal", [](Query& q) { q.Where("d", -1); }, {4}},
      {"int literal no match", [](Query& q) { q.Where("d", 2); }, {}},
      {"!=", [](Query& q) { q.Where("d", "!=", 2.5); }, {1, 4}},
      {"<", [](Query& q) { q.Where("d", "<", 1.5); }, {4}},
      {"<=", [](Query& q) { q.Where("d", "<=", 1.5); }, {1, 4}},
      {">", [](Query& q) { q.Where("d", ">", 0); }, {1, 2, 5}},
      {">=", [](Query& q) { q.Where("d", ">=", 2.5); }, {2, 5}},
      {"in",
       [](Query& q) {
         q.WhereIn("d", {1.5, -1});
       },
       {1, 4}},
      {"not in",
       [](Query& q) {
         q.WhereNotIn("d", {1.5, -1});
       },
       {2, 5}},
      {"null", [](Query& q) { q.WhereNull("d"); }, {3}},
      {"not null", [](Query& q) { q.WhereNotNull("d"); }, {1, 2, 4, 5}},
      {"between", [](Query& q) { q.WhereBetween("d", 1, 2); }, {1}},
      {"not between", [](Query& q) { q.WhereNotBetween("d", 1, 2); }, {2, 4, 5}},
  });
}

TEST_F(FilterTest, BoolColumn) {
  Run({
      {"= true", [](Query& q) { q.Where("b", true); }, {1, 4}},
      {"= false", [](Query& q) { q.Where("b", false); }, {2, 5}},
      {"!= true", [](Query& q) { q.Where("b", "!=", true); }, {2, 5}},
      {"> false", [](Query& q) { q.Where("b", ">", false); }, {1, 4}},
      {"<= false", [](Query& q) { q.Where("b", "<=", false); }, {2, 5}},
      {"< false", [](Query& q) { q.Where("b", "<", false); }, {}},
      {">= false", [](Query& q) { q.Where("b", ">=", false); }, {1, 2, 4, 5}},
      {"in", [](Query& q) { q.WhereIn("b", {true}); }, {1, 4}},
      {"in both",
       [](Query& q) {
         q.WhereIn("b", {true, false});
       },
       {1, 2, 4, 5}},
      {"not in", [](Query& q) { q.WhereNotIn("b", {true}); }, {2, 5}},
      {"null", [](Query& q) { q.WhereNull("b"); }, {3}},
      {"not null", [](Query& q) { q.WhereNotNull("b"); }, {1, 2, 4, 5}},
      {"between", [](Query& q) { q.WhereBetween("b", false, true); }, {1, 2, 4, 5}},
      {"not between", [](Query& q) { q.WhereNotBetween("b", true, true); }, {2, 5}},
  });
}

TEST_F(FilterTest, StringColumn) {
  Run({
      {"=", [](Query& q) { q.Where("s", "apple"); }, {1}},
      {"= empty", [](Query& q) { q.Where("s", ""); }, {5}},
      {"!=", [](Query& q) { q.Where("s", "!=", "apple"); }, {2, 4, 5}},
      {"<", [](Query& q) { q.Where("s", "<", "b"); }, {1, 4, 5}},
      {"<=", [](Query& q) { q.Where("s", "<=", "apple"); }, {1, 5}},
      {">", [](Query& q) { q.Where("s", ">", "apple"); }, {2, 4}},
      {">=", [](Query& q) { q.Where("s", ">=", "b"); }, {2}},
      {"in",
       [](Query& q) {
         q.WhereIn("s", {"apple", ""});
       },
       {1, 5}},
      {"not in",
       [](Query& q) {
         q.WhereNotIn("s", {"apple", ""});
       },
       {2, 4}},
      {"null", [](Query& q) { q.WhereNull("s"); }, {3}},
      {"not null", [](Query& q) { q.WhereNotNull("s"); }, {1, 2, 4, 5}},
      {"between", [](Query& q) { q.WhereBetween("s", "apple", "apricot"); }, {1, 4}},
      {"not between", [](Query& q) { q.WhereNotBetween("s", "apple", "apricot"); }, {2, 5}},
      {"starts with", [](Query& q) { q.WhereStartsWith("s", "ap"); }, {1, 4}},
      {"starts with empty", [](Query& q) { q.WhereStartsWith("s", ""); }, {1, 2, 4, 5}},
      {"starts with is literal", [](Query& q) { q.WhereStartsWith("s", "a%"); }, {}},
      {"starts with is case-sensitive", [](Query& q) { q.WhereStartsWith("s", "AP"); }, {}},
      {"ends with", [](Query& q) { q.WhereEndsWith("s", "a"); }, {2}},
      {"ends with longer", [](Query& q) { q.WhereEndsWith("s", "xapple"); }, {}},
      {"contains", [](Query& q) { q.WhereContains("s", "an"); }, {2}},
      {"contains p", [](Query& q) { q.WhereContains("s", "p"); }, {1, 4}},
      {"contains empty", [](Query& q) { q.WhereContains("s", ""); }, {1, 2, 4, 5}},
  });
}

TEST_F(FilterTest, NotNullColumns) {
  Run({
      {"null on NOT NULL", [](Query& q) { q.WhereNull("nn_i"); }, {}},
      {"not null on NOT NULL", [](Query& q) { q.WhereNotNull("nn_s"); }, {1, 2, 3, 4, 5}},
      {"=", [](Query& q) { q.Where("nn_i", 30); }, {3}},
      {">", [](Query& q) { q.Where("nn_i", ">", 30); }, {4, 5}},
      {"string =", [](Query& q) { q.Where("nn_s", "r3"); }, {3}},
  });
}

TEST_F(FilterTest, AndOrForms) {
  Run({
      {"and", [](Query& q) { q.Where("i", 2).AndWhere("d", 2.5); }, {2, 5}},
      {"and op", [](Query& q) { q.Where("i", ">=", 2).AndWhere("s", ">", ""); }, {2, 4}},
      {"and CompareOp",
       [](Query& q) { q.Where("i", 2).AndWhere("nn_i", CompareOp::kLt, 50); },
       {2}},
      {"or", [](Query& q) { q.Where("i", 1).OrWhere("s", "banana"); }, {1, 2}},
      {"or op", [](Query& q) { q.Where("i", 1).OrWhere("d", "<", 0); }, {1, 4}},
      {"or CompareOp", [](Query& q) { q.Where("i", 1).OrWhere("d", CompareOp::kLt, 0); }, {1, 4}},
      {"or in",
       [](Query& q) {
         q.Where("i", 1).OrWhereIn("s", {"", "banana"});
       },
       {1, 2, 5}},
      {"and in", [](Query& q) { q.Where("i", 2).AndWhereIn("s", {""}); }, {5}},
      {"or not in",
       [](Query& q) {
         q.WhereNull("i").OrWhereNotIn("i", {2, 3});
       },
       {1, 3}},
      {"and not in", [](Query& q) { q.WhereNotNull("i").AndWhereNotIn("i", {2}); }, {1, 4}},
      {"or null", [](Query& q) { q.Where("i", 1).OrWhereNull("i"); }, {1, 3}},
      {"and null", [](Query& q) { q.WhereNull("s").AndWhereNull("b"); }, {3}},
      {"or not null", [](Query& q) { q.WhereNull("i").OrWhereNotNull("s"); }, {1, 2, 3, 4, 5}},
      {"and not null", [](Query& q) { q.Where("i", 2).AndWhereNotNull("s"); }, {2, 5}},
      {"or between", [](Query& q) { q.Where("i", 1).OrWhereBetween("d", 2, 3); }, {1, 2, 5}},
      {"and between", [](Query& q) { q.Where("i", 2).AndWhereBetween("nn_i", 0, 20); }, {2}},
      {"or not between", [](Query& q) { q.WhereNull("i").OrWhereNotBetween("i", 1, 2); }, {3, 4}},
      {"and not between",
       [](Query& q) { q.WhereNotNull("i").AndWhereNotBetween("i", 2, 2); },
       {1, 4}},
      {"or starts with",
       [](Query& q) { q.Where("i", 2).OrWhereStartsWith("s", "apr"); },
       {2, 4, 5}},
      {"and starts with", [](Query& q) { q.Where("b", true).AndWhereStartsWith("s", "apr"); }, {4}},
      {"or ends with", [](Query& q) { q.WhereNull("s").OrWhereEndsWith("s", "le"); }, {1, 3}},
      {"and ends with", [](Query& q) { q.Where("b", true).AndWhereEndsWith("s", "t"); }, {4}},
      {"or contains", [](Query& q) { q.WhereNull("s").OrWhereContains("s", "nan"); }, {2, 3}},
      {"and contains", [](Query& q) { q.WhereNotNull("s").AndWhereContains("s", "ri"); }, {4}},
  });
}

TEST_F(FilterTest, AndBindsTighterThanOr) {
  Run({
      // i = 1 OR (i = 2 AND s = "") : 1, 5
      {"a or b and c", [](Query& q) { q.Where("i", 1).OrWhere("i", 2).Where("s", ""); }, {1, 5}},
      // (i = 2 AND s = "") OR i = 1
      {"a and b or c", [](Query& q) { q.Where("i", 2).Where("s", "").OrWhere("i", 1); }, {1, 5}},
      // The first condition's connector is ignored.
      {"leading or", [](Query& q) { q.OrWhere("i", 1); }, {1}},
  });
}

TEST_F(FilterTest, Groups) {
  Run({
      // (i = 1 OR i = 2) AND s = "" : 5
      {"group then and",
       [](Query& q) { q.Where([](Query& g) { g.Where("i", 1).OrWhere("i", 2); }).Where("s", ""); },
       {5}},
      // i = 3 OR (b = false AND s = "banana")
      {"or group",
       [](Query& q) {
         q.Where("i", 3).OrWhere([](Query& g) { g.Where("b", false).Where("s", "banana"); });
       },
       {2, 4}},
      {"and group",
       [](Query& q) {
         q.WhereNotNull("i").AndWhere([](Query& g) { g.Where("i", 3).OrWhere("d", 1.5); });
       },
       {1, 4}},
      // Nested: i IS NULL OR (b = true AND (s starts with "apr" OR d > 1))
      {"nested",
       [](Query& q) {
         q.WhereNull("i").OrWhere([](Query& g) {
           g.Where("b", true).Where(
               [](Query& h) { h.WhereStartsWith("s", "apr").OrWhere("d", ">", 1); });
         });
       },
       {1, 3, 4}},
      // An empty group is ignored, also when or-ed.
      {"empty group", [](Query& q) { q.Where("i", 1).OrWhere([](Query&) {}); }, {1}},
      {"only empty group", [](Query& q) { q.Where([](Query&) {}); }, {1, 2, 3, 4, 5}},
      {"empty nested group",
       [](Query& q) { q.Where([](Query& g) { g.Where([](Query&) {}); }).Where("i", 2); },
       {2, 5}},
  });
}

TEST_F(FilterTest, ThreeValuedLogicWithOr) {
  // Row 3 has NULL everywhere: every comparison is UNKNOWN, and
  // UNKNOWN OR TRUE is TRUE.
  Run({
      {"unknown or true",
       [](Query& q) { q.Where("i", ">", 0).OrWhere("nn_i", 30); },
       {1, 2, 3, 4, 5}},
      {"unknown and true", [](Query& q) { q.Where("i", ">", 0).Where("nn_i", 30); }, {}},
      {"not in with null or", [](Query& q) { q.WhereNotIn("i", {Value()}).OrWhereNull("i"); }, {3}},
  });
}

TEST_F(FilterTest, SpecRecordsConditions) {
  Query q(engine_, "t");
  q.Where("i", 1).OrWhere([](Query& g) { g.WhereIn("s", {"a", "b"}).WhereNull("d"); });
  const QuerySpec& spec = q.spec();
  ASSERT_EQ(spec.conditions.size(), 2u);
  EXPECT_EQ(spec.conditions[1].connector, Connector::kOr);
  EXPECT_EQ(spec.conditions[1].kind, ConditionSpec::Kind::kGroup);
  EXPECT_EQ(spec.conditions[1].group.size(), 2u);
  EXPECT_EQ(DescribeConditions(spec.conditions), "i = 1 OR (s IN (\"a\", \"b\") AND d IS NULL)");
}

}  // namespace
}  // namespace kin
