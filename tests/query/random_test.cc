// Thousands of random queries (nested And / Or groups, every operator,
// NULLs, several order keys, limit / offset) against a brute-force
// evaluator that reads cells through Table::GetValue and applies SQL's
// three-valued logic directly. Fixed seeds: failures replay.

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "query/internal/query_access.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::ElementsAreArray;

// --- the brute-force reference ---

enum class TV { kFalse, kUnknown, kTrue };

TV And(TV a, TV b) {
  if (a == TV::kFalse || b == TV::kFalse) return TV::kFalse;
  if (a == TV::kUnknown || b == TV::kUnknown) return TV::kUnknown;
  return TV::kTrue;
}

TV Or(TV a, TV b) {
  if (a == TV::kTrue || b == TV::kTrue) return TV::kTrue;
  if (a == TV::kUnknown || b == TV::kUnknown) return TV::kUnknown;
  return TV::kFalse;
}

TV FromBool(bool b) { return b ? TV::kTrue : TV::kFalse; }

bool Equal(const Value& a, const Value& b) { return CompareValues(a, b) == 0; }

TV EvalAtom(const Table& t, RowId row, const ConditionSpec& c) {
  using K = ConditionSpec::Kind;
  Value x = t.GetValue(row, *t.FindColumn(c.column));
  switch (c.kind) {
    case K::kNull:
      return FromBool(x.is_null());
    case K::kNotNull:
      return FromBool(!x.is_null());
    case K::kCompare: {
      if (x.is_null()) return TV::kUnknown;
      int r = CompareValues(x, c.values[0]);
      switch (c.op) {
        case CompareOp::kEq:
          return FromBool(r == 0);
        case CompareOp::kNe:
          return FromBool(r != 0);
        case CompareOp::kLt:
          return FromBool(r < 0);
        case CompareOp::kLe:
          return FromBool(r <= 0);
        case CompareOp::kGt:
          return FromBool(r > 0);
        case CompareOp::kGe:
          return FromBool(r >= 0);
      }
      return TV::kFalse;
    }
    case K::kIn:
    case K::kNotIn: {
      bool negate = c.kind == K::kNotIn;
      if (c.values.empty()) return FromBool(negate);
      // x IN (v1, v2, ...) = x = v1 OR x = v2 OR ...; NOT IN negates it.
      TV in = TV::kFalse;
      for (const Value& v : c.values) {
        TV eq = x.is_null() || v.is_null() ? TV::kUnknown : FromBool(Equal(x, v));
        in = Or(in, eq);
      }
      if (!negate) return in;
      return in == TV::kTrue ? TV::kFalse : (in == TV::kFalse ? TV::kTrue : TV::kUnknown);
    }
    case K::kBetween:
    case K::kNotBetween: {
      if (x.is_null()) return TV::kUnknown;
      bool inside = CompareValues(c.values[0], x) <= 0 && CompareValues(x, c.values[1]) <= 0;
      return FromBool(c.kind == K::kBetween ? inside : !inside);
    }
    case K::kStartsWith:
      if (x.is_null()) return TV::kUnknown;
      return FromBool(absl::StartsWith(x.AsString(), c.values[0].AsString()));
    case K::kEndsWith:
      if (x.is_null()) return TV::kUnknown;
      return FromBool(absl::EndsWith(x.AsString(), c.values[0].AsString()));
    case K::kContains:
      if (x.is_null()) return TV::kUnknown;
      return FromBool(absl::StrContains(x.AsString(), c.values[0].AsString()));
    case K::kGroup:
    case K::kRelation:  // not generated here (see relation_random_test)
      break;
  }
  return TV::kFalse;
}

bool HasConditions(const std::vector<ConditionSpec>& list) {
  for (const ConditionSpec& c : list) {
    if (c.kind != ConditionSpec::Kind::kGroup || HasConditions(c.group)) return true;
  }
  return false;
}

// SQL precedence: the list is an OR of AND-chains. Groups that record no
// condition are left out entirely (documented Query behaviour).
TV EvalList(const Table& t, RowId row, const std::vector<ConditionSpec>& list) {
  TV result = TV::kFalse;
  TV chain = TV::kTrue;
  bool any = false;
  for (const ConditionSpec& c : list) {
    TV v;
    if (c.kind == ConditionSpec::Kind::kGroup) {
      if (!HasConditions(c.group)) continue;
      v = EvalList(t, row, c.group);
    } else {
      v = EvalAtom(t, row, c);
    }
    if (any && c.connector == Connector::kOr) {
      result = Or(result, chain);
      chain = TV::kTrue;
    }
    chain = And(chain, v);
    any = true;
  }
  if (!any) return TV::kTrue;
  return Or(result, chain);
}

// -1 / 0 / 1 on the order keys, NULL smallest.
int CompareRows(const Table& t, RowId a, RowId b, const std::vector<OrderSpec>& keys) {
  for (const OrderSpec& k : keys) {
    ColumnId col = *t.FindColumn(k.column);
    Value x = t.GetValue(a, col);
    Value y = t.GetValue(b, col);
    int c;
    if (x.is_null() || y.is_null()) {
      c = static_cast<int>(y.is_null()) - static_cast<int>(x.is_null());
    } else {
      c = CompareValues(x, y);
    }
    if (k.order == Order::kDesc) c = -c;
    if (c != 0) return c;
  }
  return 0;
}

// --- random data and queries ---

const std::vector<std::string>& Strings() {
  static const auto* s =
      new std::vector<std::string>{"", "a", "ab", "abc", "b", "ba", "bab", "c", "ca"};
  return *s;
}

class RandomQueryTest : public ::testing::Test {
 public:
  // t(id pk, i indexed, j, d, b, s indexed, u unique string, n NOT NULL)
  void MakeTable(std::mt19937& rng, int rows) {
    ASSERT_OK(engine_.CreateTable("t", Schema()
                                           .Int64("id", PrimaryKey())
                                           .Int64("i", Indexed())
                                           .Int64("j")
                                           .Double("d")
                                           .Bool("b")
                                           .String("s", Indexed())
                                           .String("u", Unique())
                                           .Int64("n", NotNull())));
    for (int r = 0; r < rows; ++r) {
      ASSERT_OK(engine_.Insert("t", RandomRow(rng, r)).status());
      // Deletes make free slots that later inserts reuse, so slot order
      // differs from insertion order and index lists from slot order.
      if (rng() % 5 == 0) {
        std::vector<RowId> live = engine_.FindTable("t")->LiveRowIds();
        RowId victim = live[rng() % live.size()];
        ASSERT_OK(engine_.Delete(engine_.FindTable("t")->GetRow(victim)));
      }
    }
    // Some updates move rows between index keys.
    std::vector<RowId> live = engine_.FindTable("t")->LiveRowIds();
    for (int k = 0; k < rows / 10; ++k) {
      RowId id = live[rng() % live.size()];
      ASSERT_OK(
          engine_.Update(engine_.FindTable("t")->GetRow(id), {{"i", RandomInt(rng)}}).status());
    }
  }

  Attrs RandomRow(std::mt19937& rng, int r) {
    Attrs a;
    a.emplace_back("i", RandomInt(rng));
    a.emplace_back("j", RandomInt(rng));
    a.emplace_back("d", RandomDouble(rng));
    a.emplace_back("b", RandomBool(rng));
    a.emplace_back("s", RandomString(rng));
    a.emplace_back("u", rng() % 4 == 0 ? Value() : Value(absl::StrCat("u", r)));
    a.emplace_back("n", static_cast<int64_t>(rng() % 4));
    return a;
  }

  static bool Null(std::mt19937& rng) { return rng() % 6 == 0; }
  static Value RandomInt(std::mt19937& rng) {
    return Null(rng) ? Value() : Value(static_cast<int64_t>(rng() % 7) - 1);
  }
  static Value RandomDouble(std::mt19937& rng) {
    static const double kValues[] = {-1.5, 0, 0.5, 1, 2.25};
    return Null(rng) ? Value() : Value(kValues[rng() % 5]);
  }
  static Value RandomBool(std::mt19937& rng) { return Null(rng) ? Value() : Value(rng() % 2 == 0); }
  static Value RandomString(std::mt19937& rng) {
    return Null(rng) ? Value() : Value(Strings()[rng() % Strings().size()]);
  }

  // A non-NULL operand for `column`.
  static Value Operand(std::mt19937& rng, const std::string& column) {
    Value v;
    while (v.is_null()) {
      if (column == "i" || column == "j" || column == "n" || column == "id") {
        v = Value(static_cast<int64_t>(rng() % 9) - 2);
      } else if (column == "d") {
        v = rng() % 3 == 0 ? Value(static_cast<int64_t>(rng() % 3)) : RandomDouble(rng);
      } else if (column == "b") {
        v = RandomBool(rng);
      } else if (column == "u") {
        v = Value(absl::StrCat("u", rng() % 40));
      } else {
        v = RandomString(rng);
      }
    }
    return v;
  }

  static std::string RandomColumn(std::mt19937& rng) {
    static const char* kColumns[] = {"id", "i", "j", "d", "b", "s", "u", "n"};
    return kColumns[rng() % 8];
  }

  void AddRandomCondition(std::mt19937& rng, Query& q, int depth) {
    bool use_or = rng() % 3 == 0;
    int kind = static_cast<int>(rng() % (depth < 3 ? 12 : 11));
    std::string col = RandomColumn(rng);
    bool is_string = col == "s" || col == "u";
    switch (kind) {
      case 0:
      case 1:
      case 2: {
        static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">="};
        const char* op = kOps[rng() % 6];
        Value v = Operand(rng, col);
        // = NULL and != NULL mean IS NULL / IS NOT NULL.
        if (rng() % 10 == 0 && (op[0] == '=' || op[0] == '!')) v = Value();
        use_or ? q.OrWhere(col, op, v) : q.Where(col, op, v);
        return;
      }
      case 3:
      case 4: {
        std::vector<Value> list;
        int n = static_cast<int>(rng() % 4);
        for (int k = 0; k < n; ++k) list.push_back(rng() % 8 == 0 ? Value() : Operand(rng, col));
        if (kind == 3) {
          use_or ? q.OrWhereIn(col, list) : q.WhereIn(col, list);
        } else {
          use_or ? q.OrWhereNotIn(col, list) : q.WhereNotIn(col, list);
        }
        return;
      }
      case 5:
        use_or ? q.OrWhereNull(col) : q.WhereNull(col);
        return;
      case 6:
        use_or ? q.OrWhereNotNull(col) : q.WhereNotNull(col);
        return;
      case 7: {
        Value lo = Operand(rng, col);
        Value hi = Operand(rng, col);
        if (rng() % 2 == 0) {
          use_or ? q.OrWhereBetween(col, lo, hi) : q.WhereBetween(col, lo, hi);
        } else {
          use_or ? q.OrWhereNotBetween(col, lo, hi) : q.WhereNotBetween(col, lo, hi);
        }
        return;
      }
      case 8:
      case 9:
      case 10: {
        if (!is_string) col = rng() % 2 == 0 ? "s" : "u";
        std::string text = Operand(rng, col).AsString();
        if (col == "u" && rng() % 2 == 0) text = text.substr(0, 1 + rng() % text.size());
        int which = static_cast<int>(rng() % 3);
        if (which == 0) {
          use_or ? q.OrWhereStartsWith(col, text) : q.WhereStartsWith(col, text);
        } else if (which == 1) {
          use_or ? q.OrWhereEndsWith(col, text) : q.WhereEndsWith(col, text);
        } else {
          use_or ? q.OrWhereContains(col, text) : q.WhereContains(col, text);
        }
        return;
      }
      default: {
        int n = static_cast<int>(rng() % 4);  // 0: an empty group
        auto build = [&](Query& g) {
          for (int k = 0; k < n; ++k) AddRandomCondition(rng, g, depth + 1);
        };
        use_or ? q.OrWhere(build) : q.Where(build);
        return;
      }
    }
  }

  Database engine_;
};

// The rows the query must return: the matching rows in `access` order,
// stably sorted by the keys, then the window.
std::vector<RowId> Expected(const Table& t, const QuerySpec& spec, const std::vector<RowId>& access,
                            size_t offset, std::optional<size_t> limit) {
  std::vector<RowId> rows;
  for (RowId id : access) {
    if (EvalList(t, id, spec.conditions) == TV::kTrue) rows.push_back(id);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](RowId a, RowId b) { return CompareRows(t, a, b, spec.order_by) < 0; });
  std::vector<RowId> out;
  for (size_t k = offset; k < rows.size() && (!limit.has_value() || out.size() < *limit); ++k) {
    out.push_back(rows[k]);
  }
  return out;
}

std::vector<uint32_t> Slots(const std::vector<RowId>& ids) {
  std::vector<uint32_t> out;
  for (RowId id : ids) out.push_back(id.value);
  return out;
}

void RunRandomQueries(RandomQueryTest* test, Database& engine, uint32_t seed, int rows,
                      int queries) {
  std::mt19937 rng(seed);
  test->MakeTable(rng, rows);
  const Table& t = *engine.FindTable("t");
  ASSERT_OK(engine.CheckConsistency());
  int index_probes = 0;
  int nonempty = 0;
  for (int n = 0; n < queries; ++n) {
    Query q(engine, "t");
    int conditions = static_cast<int>(rng() % 5);
    for (int k = 0; k < conditions; ++k) test->AddRandomCondition(rng, q, 0);
    // An equality on an indexed column now and then, so probes get tested.
    if (rng() % 4 == 0) {
      static const char* kIndexed[] = {"id", "i", "s", "u"};
      std::string col = kIndexed[rng() % 4];
      q.Where(col, RandomQueryTest::Operand(rng, col));
    }
    int keys = static_cast<int>(rng() % 4);
    for (int k = 0; k < keys; ++k) {
      q.OrderBy(RandomQueryTest::RandomColumn(rng), rng() % 2 == 0 ? kAsc : kDesc);
    }
    size_t offset = 0;
    std::optional<size_t> limit;
    if (rng() % 3 == 0) {
      offset = rng() % 8;
      q.Offset(static_cast<int64_t>(offset));
    }
    if (rng() % 2 == 0) {
      limit = rng() % 12;
      q.Limit(static_cast<int64_t>(*limit));
    }
    const QuerySpec& spec = q.spec();
    SCOPED_TRACE(absl::StrCat("seed ", seed, " query ", n, ": ", DescribeSpec(spec)));

    ASSERT_OK_AND_ASSIGN(internal::CompiledQuery compiled, internal::QueryAccess::Compile(q));
    // The access order the contract promises: the probed key's index list
    // for an equality probe, else slot order.
    std::vector<RowId> access = t.LiveRowIds();
    if (compiled.access() == internal::CompiledQuery::Access::kIndexEq) {
      ++index_probes;
      access.clear();
      std::span<const RowId> probe = compiled.probe_rows();
      access.assign(probe.begin(), probe.end());
    } else if (compiled.access() == internal::CompiledQuery::Access::kIndexIn) {
      ++index_probes;
    }
    std::vector<RowId> want = Expected(t, spec, access, offset, limit);
    if (!want.empty()) ++nonempty;

    ASSERT_OK_AND_ASSIGN(ResultSet got, q.Get());
    ASSERT_THAT(Slots(got.row_ids()), ElementsAreArray(Slots(want)));

    // Count ignores the window; Matches agrees with the reference per row.
    std::vector<RowId> all = Expected(t, spec, t.LiveRowIds(), 0, std::nullopt);
    ASSERT_THAT(q.Count(), test::IsOkAndHolds(static_cast<int64_t>(all.size())));
    for (RowId id : t.LiveRowIds()) {
      ASSERT_EQ(compiled.Matches(id), EvalList(t, id, spec.conditions) == TV::kTrue)
          << "slot " << id.value;
    }

    // Over a shuffled candidate list (as a parent's children span), order
    // and window apply to the candidates' order.
    std::vector<RowId> candidates = t.LiveRowIds();
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(candidates.size() / 2);
    std::vector<RowId> from_span;
    compiled.Select(candidates, &from_span);
    ASSERT_THAT(Slots(from_span),
                ElementsAreArray(Slots(Expected(t, spec, candidates, offset, limit))));
    ASSERT_EQ(compiled.Count(candidates), Expected(t, spec, candidates, 0, std::nullopt).size());

    // An aggregate over the matching rows.
    if (n % 4 == 0) {
      static const char* kNumeric[] = {"i", "j", "d", "n"};
      std::string col = kNumeric[rng() % 4];
      ColumnId c = *t.FindColumn(col);
      Value min, max;
      int64_t count = 0;
      double sum = 0;
      for (RowId id : all) {
        Value v = t.GetValue(id, c);
        if (v.is_null()) continue;
        ++count;
        sum += v.AsNumber();
        if (min.is_null() || CompareValues(v, min) < 0) min = v;
        if (max.is_null() || CompareValues(v, max) > 0) max = v;
      }
      EXPECT_THAT(q.Aggregate(AggregateFunction::kMin, col), test::IsOkAndHolds(min));
      EXPECT_THAT(q.Aggregate(AggregateFunction::kMax, col), test::IsOkAndHolds(max));
      EXPECT_THAT(q.Aggregate(AggregateFunction::kCount, col), test::IsOkAndHolds(Value(count)));
      ASSERT_OK_AND_ASSIGN(Value s, q.Aggregate(AggregateFunction::kSum, col));
      if (count == 0) {
        EXPECT_TRUE(s.is_null());
      } else {
        EXPECT_DOUBLE_EQ(s.AsNumber(), sum);
      }
    }
  }
  // The generator must exercise both paths and non-trivial results.
  if (rows > 0) {
    EXPECT_GT(index_probes, queries / 10);
    EXPECT_GT(nonempty, queries / 4);
  }
}

TEST_F(RandomQueryTest, SmallTable) { RunRandomQueries(this, engine_, 1, 40, 3000); }

TEST_F(RandomQueryTest, LargerTable) { RunRandomQueries(this, engine_, 2, 400, 1000); }

TEST_F(RandomQueryTest, EmptyTable) { RunRandomQueries(this, engine_, 3, 0, 200); }

}  // namespace
}  // namespace kin
