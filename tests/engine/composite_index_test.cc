// Composite ordered indexes in the engine: key order (NULLs first in each
// component), maintenance by every write path checked against a fresh build
// (CheckConsistency), rollback restoring DebugString exactly, and bad
// CreateIndex calls leaving everything unchanged.

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using test::StatusIs;
using ::testing::HasSubstr;

absl::Status CreateComposite(Engine& e, absl::string_view table,
                             std::vector<absl::string_view> columns,
                             IndexKind kind = IndexKind::kOrdered) {
  return e.CreateIndex(table, columns, kind);
}

Schema Scores() {
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("guild", Nullable())
      .Double("score", Nullable())
      .String("name", Nullable())
      .Bool("active", Nullable());
}

// Slots visited by an ascending walk of `index` with `prefix`.
std::vector<uint32_t> WalkSlots(const CompositeIndex& index, std::vector<Value> prefix,
                                OrderedRange range = {}, bool desc = false) {
  std::vector<uint32_t> out;
  index.Walk(prefix, range, desc, [&](RowId id, bool) {
    out.push_back(id.value);
    return true;
  });
  return out;
}

TEST(CompositeIndexTest, LexicographicWithNullsFirst) {
  Engine e;
  ASSERT_OK(e.CreateTable("t", Scores()));
  // slot: (guild, score)
  ASSERT_OK(e.Insert("t", {{"guild", 2}, {"score", 1.5}}).status());           // 0
  ASSERT_OK(e.Insert("t", {{"guild", 1}, {"score", Value()}}).status());       // 1
  ASSERT_OK(e.Insert("t", {{"guild", Value()}, {"score", 9.0}}).status());     // 2
  ASSERT_OK(e.Insert("t", {{"guild", 1}, {"score", 3.0}}).status());           // 3
  ASSERT_OK(e.Insert("t", {{"guild", 1}, {"score", 3.0}}).status());           // 4 (duplicate key)
  ASSERT_OK(e.Insert("t", {{"guild", 1}, {"score", std::nan("")}}).status());  // 5
  ASSERT_OK(CreateComposite(e, "t", {"guild", "score"}));
  const Table* t = e.FindTable("t");
  ASSERT_EQ(t->composite_indexes().size(), 1u);
  const CompositeIndex& index = *t->composite_indexes()[0];
  EXPECT_EQ(index.DebugString(),
            "(NULL, 9)->[2] (1, NULL)->[1] (1, 3)->[3,4] (1, nan)->[5] (2, 1.5)->[0]");
  EXPECT_THAT(e.DebugString(), HasSubstr("composite index (guild, score): (NULL, 9)->[2]"));
  // A prefix: every row of guild 1, NULL score first, NaN last.
  EXPECT_EQ(WalkSlots(index, {Value(int64_t{1})}), (std::vector<uint32_t>{1, 3, 4, 5}));
  EXPECT_EQ(WalkSlots(index, {Value(int64_t{1})}, {}, /*desc=*/true),
            (std::vector<uint32_t>{5, 4, 3, 1}));
  // A bounded range excludes NULL and NaN; an int64 bound works on doubles.
  OrderedRange from3;
  from3.lo = Value(int64_t{3});
  EXPECT_EQ(WalkSlots(index, {Value(int64_t{1})}, from3), (std::vector<uint32_t>{3, 4}));
  OrderedRange below3;
  below3.hi = Value(3.0);
  below3.hi_inclusive = false;
  EXPECT_TRUE(WalkSlots(index, {Value(int64_t{1})}, below3).empty());
  OrderedRange empty;
  empty.lo = Value(5.0);
  empty.hi = Value(4.0);
  EXPECT_TRUE(WalkSlots(index, {Value(int64_t{1})}, empty).empty());
  EXPECT_TRUE(WalkSlots(index, {Value(int64_t{7})}).empty());
  EXPECT_OK(e.CheckConsistency());
}

TEST(CompositeIndexTest, EmptyTableAndMemory) {
  Engine e;
  ASSERT_OK(e.CreateTable("t", Scores()));
  ASSERT_OK(CreateComposite(e, "t", {"name", "active", "guild"}));
  const Table* t = e.FindTable("t");
  EXPECT_EQ(t->composite_indexes()[0]->DebugString(), "");
  EXPECT_TRUE(WalkSlots(*t->composite_indexes()[0], {Value("a")}).empty());
  const size_t before = e.MemoryBytes();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(e.Insert("t", {{"name", absl::StrCat("n", i % 7)}, {"guild", i}}).status());
  }
  Engine plain;
  ASSERT_OK(plain.CreateTable("t", Scores()));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(plain.Insert("t", {{"name", absl::StrCat("n", i % 7)}, {"guild", i}}).status());
  }
  EXPECT_GT(e.MemoryBytes(), before);
  EXPECT_GE(e.MemoryBytes(), plain.MemoryBytes() + 1000 * sizeof(uint32_t));
  EXPECT_OK(e.CheckConsistency());
}

TEST(CompositeIndexTest, BadInputLeavesEverythingUnchanged) {
  Engine e;
  ASSERT_OK(e.CreateTable("t", Scores()));
  ASSERT_OK(e.Insert("t", {{"guild", 1}, {"score", 2.0}}).status());
  ASSERT_OK(CreateComposite(e, "t", {"guild", "score"}));
  const std::string before = e.DebugString();
  auto check = [&](absl::Status s, absl::StatusCode code, const std::string& text) {
    EXPECT_THAT(s, StatusIs(code, HasSubstr(text)));
    EXPECT_EQ(e.DebugString(), before);
  };
  check(CreateComposite(e, "nope", {"guild", "score"}), absl::StatusCode::kNotFound,
        "no table named 'nope'");
  check(CreateComposite(e, "t", {"guild", "scroe"}), absl::StatusCode::kInvalidArgument,
        "no column named 'scroe'");
  check(CreateComposite(e, "t", {"guild", "name", "guild"}), absl::StatusCode::kInvalidArgument,
        "names column 'guild' twice");
  check(CreateComposite(e, "t", {"guild"}), absl::StatusCode::kInvalidArgument,
        "needs 2 or 3 columns, got 1");
  check(CreateComposite(e, "t", {}), absl::StatusCode::kInvalidArgument,
        "needs 2 or 3 columns, got 0");
  check(CreateComposite(e, "t", {"guild", "score", "name", "active"}),
        absl::StatusCode::kInvalidArgument, "needs 2 or 3 columns, got 4");
  check(CreateComposite(e, "t", {"guild", "name"}, IndexKind::kHash),
        absl::StatusCode::kInvalidArgument, "a composite index must be ordered");
  check(CreateComposite(e, "t", {"guild", "score"}), absl::StatusCode::kAlreadyExists,
        "composite index (guild, score) already exists");
  ASSERT_OK(e.Begin());
  check(CreateComposite(e, "t", {"name", "guild"}), absl::StatusCode::kFailedPrecondition,
        "transaction");
  ASSERT_OK(e.Rollback());
  // Another order of the same columns is another index.
  ASSERT_OK(CreateComposite(e, "t", {"score", "guild"}));
  EXPECT_EQ(e.FindTable("t")->composite_indexes().size(), 2u);
}

// Random writes through every path, some inside rolled-back transactions;
// after each step the indexes equal a fresh build, and after each rollback
// the whole dump equals the one before.
// The index holds encoded keys (strings by their first 8 bytes): its order
// must still be the values' order at every edge of the encodings.
TEST(CompositeIndexTest, EncodedKeysOrderAsTheValuesDo) {
  Engine e;
  ASSERT_OK(e.CreateTable("t", Schema()
                                   .Int64("id", PrimaryKey())
                                   .String("name", Nullable())
                                   .Double("score", Nullable())
                                   .Int64("level", Nullable())));
  const std::vector<Value> names = {
      Value(),           Value(""),         Value("abc"),       Value(std::string("abc\0", 4)),
      Value("prefix_"),  Value("prefix__"), Value("prefix__a"), Value("prefix__b"),
      Value("prefix__"), Value("\x80z"),    Value("\xff"),      Value("zzzzzzzzzzzzzzzz")};
  const std::vector<Value> scores = {
      Value(),       Value(-HUGE_VAL), Value(-1.5),     Value(-0.0),         Value(0.0),
      Value(1e-300), Value(2.5),       Value(HUGE_VAL), Value(std::nan("")), Value(-std::nan(""))};
  const std::vector<Value> levels = {Value(),           Value(INT64_MIN),  Value(int64_t{-1}),
                                     Value(int64_t{0}), Value(int64_t{1}), Value(INT64_MAX)};
  std::mt19937 rng(77);
  struct Cells {
    Value name, score, level;
  };
  std::vector<Cells> rows;
  for (int i = 0; i < 400; ++i) {
    Cells c{names[rng() % names.size()], scores[rng() % scores.size()],
            levels[rng() % levels.size()]};
    ASSERT_OK(e.Insert("t", {{"name", c.name}, {"score", c.score}, {"level", c.level}}).status());
    rows.push_back(c);
  }
  ASSERT_OK(CreateComposite(e, "t", {"name", "score", "level"}));
  const CompositeIndex& index = *e.FindTable("t")->composite_indexes()[0];

  // The reference order: NULL first; strings bytewise; NaN after every
  // number, all NaN equal; -0 equal to 0; then the slot.
  auto cmp = [](const Value& a, const Value& b) -> int {
    if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
    if (a.is_string()) {
      const int c = std::string(a.AsString()).compare(std::string(b.AsString()));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.is_int64()) return a.AsInt64() < b.AsInt64() ? -1 : (a.AsInt64() > b.AsInt64() ? 1 : 0);
    const double x = a.AsNumber(), y = b.AsNumber();
    if (std::isnan(x) || std::isnan(y))
      return std::isnan(x) == std::isnan(y) ? 0 : (std::isnan(x) ? 1 : -1);
    return x < y ? -1 : (x > y ? 1 : 0);
  };
  auto row_less = [&](uint32_t a, uint32_t b) {
    for (int c : {cmp(rows[a].name, rows[b].name), cmp(rows[a].score, rows[b].score),
                  cmp(rows[a].level, rows[b].level)}) {
      if (c != 0) return c < 0;
    }
    return a < b;
  };
  std::vector<uint32_t> want(rows.size());
  for (uint32_t i = 0; i < want.size(); ++i) want[i] = i;
  std::sort(want.begin(), want.end(), row_less);
  EXPECT_EQ(WalkSlots(index, {}), want);

  // Every prefix of one and two components finds exactly its rows, in order,
  // also descending.
  for (const Value& name : names) {
    if (name.is_null()) continue;
    std::vector<uint32_t> of_name;
    for (uint32_t s : want) {
      if (cmp(rows[s].name, name) == 0) of_name.push_back(s);
    }
    EXPECT_EQ(WalkSlots(index, {name}), of_name) << name.DebugString();
    std::vector<uint32_t> reversed(of_name.rbegin(), of_name.rend());
    EXPECT_EQ(WalkSlots(index, {name}, {}, /*desc=*/true), reversed) << name.DebugString();
    for (const Value& score : scores) {
      if (score.is_null()) continue;
      std::vector<uint32_t> both;
      for (uint32_t s : of_name) {
        if (cmp(rows[s].score, score) == 0) both.push_back(s);
      }
      EXPECT_EQ(WalkSlots(index, {name, score}), both)
          << name.DebugString() << ", " << score.DebugString();
    }
    // A range on the second component: scores in [-1.5, 0] (-0 and 0 both).
    OrderedRange range;
    range.lo = Value(-1.5);
    range.hi = Value(int64_t{0});
    std::vector<uint32_t> in_range;
    for (uint32_t s : of_name) {
      const Value& v = rows[s].score;
      if (!v.is_null() && !std::isnan(v.AsNumber()) && v.AsNumber() >= -1.5 && v.AsNumber() <= 0) {
        in_range.push_back(s);
      }
    }
    EXPECT_EQ(WalkSlots(index, {name}, range), in_range) << name.DebugString();
  }
  ASSERT_OK(e.CheckConsistency());
}

TEST(CompositeIndexTest, RandomWritesAndRollbacks) {
  std::mt19937 rng(1515);
  Engine e;
  ASSERT_OK(e.CreateTable("parents", Schema().Int64("id", PrimaryKey()).Int64("rank")));
  ASSERT_OK(e.CreateTable("t", Schema()
                                   .Int64("id", PrimaryKey())
                                   .Int64("parent_id", Nullable())
                                   .Int64("guild", Nullable())
                                   .Double("score", Nullable())
                                   .String("name", Nullable())
                                   .Bool("active", Nullable())));
  ASSERT_OK(
      e.AddForeignKey({.child_table = "t",
                       .child_column = "parent_id",
                       .parent_table = "parents",
                       .parent_column = "id",
                       .on_delete = rng() % 2 == 0 ? OnDelete::kCascade : OnDelete::kSetNull}));
  for (int p = 1; p <= 20; ++p) ASSERT_OK(e.Insert("parents", {{"id", p}, {"rank", p}}).status());
  // Filled in bulk while empty, then indexed again on a loaded table.
  std::vector<int64_t> guilds, parents;
  std::vector<double> scores;
  for (int i = 0; i < 200; ++i) {
    guilds.push_back(rng() % 6);
    parents.push_back(1 + rng() % 20);
    scores.push_back(static_cast<double>(rng() % 10));
  }
  ASSERT_OK(CreateComposite(e, "t", {"guild", "score"}));
  ASSERT_OK(CreateComposite(e, "t", {"parent_id", "name", "active"}));
  ASSERT_OK(
      e.InsertBatch(
           "t",
           RowBatch().Int64("guild", guilds).Int64("parent_id", parents).Double("score", scores))
          .status());
  ASSERT_OK(CreateComposite(e, "t", {"active", "guild"}));
  ASSERT_OK(e.CheckConsistency());
  auto random_value = [&](int column) -> Value {
    if (rng() % 6 == 0) return Value();
    switch (column) {
      case 0:
        return Value(static_cast<int64_t>(1 + rng() % 20));
      case 1:
        return Value(static_cast<int64_t>(rng() % 6));
      case 2:
        return rng() % 30 == 0 ? Value(std::nan("")) : Value(static_cast<double>(rng() % 10));
      case 3:
        return Value(absl::StrCat("n", rng() % 4));
      default:
        return Value(rng() % 2 == 0);
    }
  };
  const char* kCols[] = {"parent_id", "guild", "score", "name", "active"};
  auto random_attrs = [&]() {
    Attrs attrs;
    for (int c = 0; c < 5; ++c) {
      if (rng() % 2 == 0) attrs.emplace_back(kCols[c], random_value(c));
    }
    return attrs;
  };
  auto random_row = [&](const Table* t) -> std::optional<Row> {
    if (t->empty()) return std::nullopt;
    std::vector<RowId> live = t->LiveRowIds();
    return t->GetRow(live[rng() % live.size()]);
  };
  auto step = [&]() {
    const Table* t = e.FindTable("t");
    switch (rng() % 7) {
      case 0:
      case 1:
        (void)e.Insert("t", random_attrs());
        break;
      case 2: {
        std::vector<Attrs> rows(1 + rng() % 3);
        for (Attrs& a : rows) a = random_attrs();
        (void)e.InsertMany("t", rows);
        break;
      }
      case 3:
      case 4:
        if (auto row = random_row(t)) (void)e.Update(*row, random_attrs());
        break;
      case 5:
        if (auto row = random_row(t)) (void)e.Delete(*row);
        break;
      case 6:
        // Cascade or set-null through the foreign key.
        if (auto row = random_row(e.FindTable("parents"))) {
          const Value id = row->table()->GetValue(row->id(), ColumnId(0));
          (void)e.Delete(*row);
          (void)e.Insert("parents", {{"id", id}, {"rank", 0}});  // children may point at it
        }
        break;
    }
  };
  for (int round = 0; round < 150; ++round) {
    if (rng() % 3 == 0) {
      const std::string before = e.DebugString();
      ASSERT_OK(e.Begin());
      for (int i = 0; i < 8; ++i) step();
      ASSERT_OK(e.CheckConsistency());
      ASSERT_OK(e.Rollback());
      ASSERT_EQ(e.DebugString(), before) << "round " << round;
    } else {
      for (int i = 0; i < 8; ++i) step();
    }
    ASSERT_OK(e.CheckConsistency()) << "round " << round;
  }
  EXPECT_GT(e.FindTable("t")->size(), 0u);
}

}  // namespace
}  // namespace kin
