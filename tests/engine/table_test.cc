// kin::Table: reading what the Engine wrote. Lookups by primary key, checked
// Row accessors, typed zero-copy columns, slot order and slot reuse, stale
// handles, secondary indexes (Children) and the canonical DebugString.

#include "engine/table.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;
constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable("players", Schema()
                                                 .Int64("id", PrimaryKey())
                                                 .String("name", NotNull())
                                                 .String("team", Indexed())
                                                 .Int64("level", Default(1))
                                                 .Double("hp")
                                                 .Bool("alive", Default(true))));
    table_ = engine_.FindTable("players");
  }

  Row Add(absl::string_view name, Value team, Value hp = Value()) {
    absl::StatusOr<Row> row =
        engine_.Insert("players", {{"name", name}, {"team", std::move(team)}, {"hp", hp}});
    EXPECT_OK(row);
    return row.value_or(Row());
  }

  // Names of the rows in `ids`, in order.
  std::vector<std::string> Names(std::span<const RowId> ids) const {
    std::vector<std::string> names;
    for (RowId id : ids) names.emplace_back(table_->GetRow(id).GetString("name").value());
    return names;
  }
  // Names of all rows in iteration (slot) order.
  std::vector<std::string> NamesInOrder() const {
    std::vector<std::string> names;
    for (const Row& row : *table_) names.emplace_back(row.GetString("name").value());
    return names;
  }

  Engine engine_;
  const Table* table_ = nullptr;
};

// --- lookups by primary key ---

TEST_F(TableTest, FindByPrimaryKey) {
  Row ann = Add("ann", "red");
  Row bob = Add("bob", "blue");
  EXPECT_EQ(table_->Find(1), ann);
  EXPECT_EQ(table_->Find(2), bob);
  EXPECT_EQ(table_->Find(3), std::nullopt);
  EXPECT_EQ(table_->Find("1"), std::nullopt);  // a key of the wrong type matches nothing
  EXPECT_EQ(table_->Find(Value()), std::nullopt);
  EXPECT_EQ(table_->FindRowId(2), bob.id());
  EXPECT_THAT(table_->FindOrFail(2), IsOkAndHolds(bob));
}

TEST_F(TableTest, FindOrFailErrors) {
  Add("ann", "red");
  EXPECT_THAT(table_->FindOrFail(7), StatusIs(kNotFound, "table 'players': no row with id = 7"));
  EXPECT_THAT(table_->FindOrFail("1"),
              StatusIs(kInvalidArgument, "players.id: expected int64, got string \"1\""));
  EXPECT_THAT(table_->FindOrFail(1.0),
              StatusIs(kInvalidArgument, "players.id: expected int64, got double 1"));
  EXPECT_THAT(table_->FindOrFail(Value()),
              StatusIs(kInvalidArgument, "players.id: expected int64, got NULL"));
  EXPECT_THAT(engine_.FindOrFail("players", 7), StatusIs(kNotFound, HasSubstr("id = 7")));
}

TEST_F(TableTest, StringPrimaryKey) {
  ASSERT_OK(engine_.CreateTable("items", Schema().String("sku", PrimaryKey()).Int64("qty")));
  ASSERT_OK(engine_.Insert("items", {{"sku", "A-1"}, {"qty", 3}}).status());
  const Table& items = *engine_.FindTable("items");
  ASSERT_OK_AND_ASSIGN(Row a1, items.FindOrFail("A-1"));
  EXPECT_THAT(a1.GetInt64("qty"), IsOkAndHolds(3));
  EXPECT_EQ(items.Find(1), std::nullopt);
  EXPECT_THAT(items.FindOrFail("B-2"),
              StatusIs(kNotFound, "table 'items': no row with sku = \"B-2\""));
  EXPECT_THAT(items.FindOrFail(1),
              StatusIs(kInvalidArgument, "items.sku: expected string, got int64 1"));
}

// --- checked Row accessors ---

TEST_F(TableTest, RowAccessors) {
  Row ann = Add("ann", "red", 12.5);
  EXPECT_EQ(ann.table(), table_);
  EXPECT_EQ(ann.id(), RowId(0));
  EXPECT_EQ(ann.generation(), 0u);
  EXPECT_OK(ann.CheckValid());
  EXPECT_THAT(ann.Get("name"), IsOkAndHolds(Value("ann")));
  EXPECT_THAT(ann.Get("level"), IsOkAndHolds(Value(1)));
  EXPECT_THAT(ann.GetInt64("id"), IsOkAndHolds(1));
  EXPECT_THAT(ann.GetString("team"), IsOkAndHolds("red"));
  EXPECT_THAT(ann.GetDouble("hp"), IsOkAndHolds(12.5));
  EXPECT_THAT(ann.GetBool("alive"), IsOkAndHolds(true));
  EXPECT_EQ(ann.DebugString(),
            "{id: 1, name: \"ann\", team: \"red\", level: 1, hp: 12.5, alive: true}");
}

TEST_F(TableTest, RowAccessorErrors) {
  Row bob = Add("bob", nullptr);
  EXPECT_THAT(bob.GetInt64("name"),
              StatusIs(kInvalidArgument, "players.name: column is string, not int64"));
  EXPECT_THAT(bob.GetDouble("level"),
              StatusIs(kInvalidArgument, "players.level: column is int64, not double"));
  EXPECT_THAT(bob.GetString("team"), StatusIs(kInvalidArgument, "players.team: value is NULL"));
  EXPECT_THAT(bob.Get("team"), IsOkAndHolds(Value()));
  EXPECT_THAT(bob.GetBool("dead"),
              StatusIs(kInvalidArgument, "table 'players': no column named 'dead'"));
  // Rows read straight from a table carry no query results: a Row has no
  // Preloaded / Extra at all (kin::ResultRow has; see tests/query).
  Row empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_THAT(empty.Get("id"), StatusIs(kFailedPrecondition, "empty row handle"));
  EXPECT_EQ(empty.DebugString(), "<stale row>");
}

// --- typed columns ---

TEST_F(TableTest, TypedColumnsByName) {
  Add("ann", "red", 10.0);
  Add("bob", "blue");
  Add("cy", "red", 30.0);
  ASSERT_OK_AND_ASSIGN(std::span<const int64_t> ids, table_->Int64Column("id"));
  EXPECT_THAT(ids, ElementsAre(1, 2, 3));
  ASSERT_OK_AND_ASSIGN(const StringStore* names, table_->StringColumn("name"));
  ASSERT_EQ(names->size(), 3u);
  EXPECT_EQ((*names)[0], "ann");
  EXPECT_EQ((*names)[1], "bob");
  EXPECT_EQ((*names)[2], "cy");
  ASSERT_OK_AND_ASSIGN(std::span<const double> hp, table_->DoubleColumn("hp"));
  EXPECT_THAT(hp, ElementsAre(10.0, 0.0, 30.0));  // a NULL cell holds zero
  ASSERT_OK_AND_ASSIGN(std::span<const uint8_t> alive, table_->BoolColumn("alive"));
  EXPECT_THAT(alive, ElementsAre(1, 1, 1));

  EXPECT_THAT(table_->Int64Column("name"),
              StatusIs(kInvalidArgument, "players.name: column is string, not int64"));
  EXPECT_THAT(table_->DoubleColumn("level"),
              StatusIs(kInvalidArgument, "players.level: column is int64, not double"));
  EXPECT_THAT(table_->BoolColumn("nope"),
              StatusIs(kInvalidArgument, "table 'players': no column named 'nope'"));
  EXPECT_THAT(table_->StringColumn("hp"), StatusIs(kInvalidArgument));
}

TEST_F(TableTest, TypedColumnsByIdForHotLoops) {
  for (int i = 0; i < 10; ++i) Add("p", "t", i * 1.5);
  // Resolve names once, then index without checks.
  ColumnId hp_column = *table_->FindColumn("hp");
  ColumnId id_column = table_->primary_key();
  std::span<const double> hp = table_->DoubleColumn(hp_column);
  std::span<const int64_t> ids = table_->Int64Column(id_column);
  double total = 0;
  int64_t id_sum = 0;
  for (uint32_t s = 0; s < table_->slot_count(); ++s) {
    if (!table_->live().Get(s)) continue;
    total += hp[s];
    id_sum += ids[s];
  }
  EXPECT_EQ(total, 1.5 * 45);
  EXPECT_EQ(id_sum, 55);
}

TEST_F(TableTest, ValidityBitmaps) {
  Add("ann", "red", 1.0);
  Add("bob", nullptr);
  const Bitmap* team = table_->validity(*table_->FindColumn("team"));
  ASSERT_NE(team, nullptr);
  EXPECT_TRUE(team->Get(0));
  EXPECT_FALSE(team->Get(1));
  EXPECT_TRUE(table_->IsNull(RowId(1), *table_->FindColumn("team")));
  EXPECT_FALSE(table_->IsNull(RowId(0), *table_->FindColumn("team")));
  // NOT NULL columns have no bitmap.
  EXPECT_EQ(table_->validity(*table_->FindColumn("name")), nullptr);
  EXPECT_EQ(table_->validity(table_->primary_key()), nullptr);
  EXPECT_EQ(table_->GetValue(RowId(1), *table_->FindColumn("team")), Value());
}

// --- slots, iteration order and stale handles ---

TEST_F(TableTest, IterationFollowsSlotsAndReusesTheLastFreedSlotFirst) {
  Row a = Add("a", "x");
  Row b = Add("b", "x");
  Row c = Add("c", "x");
  Row d = Add("d", "x");
  Add("e", "x");
  EXPECT_THAT(NamesInOrder(), ElementsAre("a", "b", "c", "d", "e"));
  ASSERT_OK(engine_.Delete(b));  // frees slot 1
  ASSERT_OK(engine_.Delete(d));  // frees slot 3
  EXPECT_THAT(NamesInOrder(), ElementsAre("a", "c", "e"));
  EXPECT_THAT(table_->free_slots(), ElementsAre(1, 3));
  Row f = Add("f", "x");
  EXPECT_EQ(f.id(), RowId(3));  // most recently freed first
  Row g = Add("g", "x");
  EXPECT_EQ(g.id(), RowId(1));
  Row h = Add("h", "x");
  EXPECT_EQ(h.id(), RowId(5));  // then appended
  EXPECT_THAT(NamesInOrder(), ElementsAre("a", "g", "c", "f", "e", "h"));
  EXPECT_THAT(table_->LiveRowIds(),
              ElementsAre(RowId(0), RowId(1), RowId(2), RowId(3), RowId(4), RowId(5)));
  EXPECT_EQ(table_->size(), 6u);
  EXPECT_EQ(table_->slot_count(), 6u);
  EXPECT_EQ(a.id(), RowId(0));
  EXPECT_EQ(c.id(), RowId(2));
}

TEST_F(TableTest, StaleHandleAfterSlotReuse) {
  Add("a", "x");
  Row bob = Add("bob", "x");
  RowId slot = bob.id();
  ASSERT_OK(engine_.Delete(bob));
  EXPECT_FALSE(bob.valid());
  EXPECT_THAT(bob.CheckValid(),
              StatusIs(kFailedPrecondition, "table 'players': stale or deleted row (slot 1)"));
  EXPECT_THAT(table_->RowAt(slot), StatusIs(kFailedPrecondition, HasSubstr("slot 1")));
  EXPECT_THAT(table_->RowAt(RowId(99)), StatusIs(kFailedPrecondition, HasSubstr("slot 99")));
  EXPECT_EQ(bob.DebugString(), "<stale row>");

  Row cy = Add("cy", "y");
  ASSERT_EQ(cy.id(), slot);        // same slot...
  EXPECT_EQ(cy.generation(), 1u);  // ...new generation
  EXPECT_NE(cy, bob);
  // The old handle must not read or write the new row.
  EXPECT_FALSE(bob.valid());
  EXPECT_THAT(bob.GetString("name"), StatusIs(kFailedPrecondition, HasSubstr("stale")));
  EXPECT_THAT(engine_.Update(bob, {{"name", "oops"}}), StatusIs(kFailedPrecondition));
  EXPECT_THAT(engine_.Delete(bob), StatusIs(kFailedPrecondition));
  EXPECT_THAT(cy.GetString("name"), IsOkAndHolds("cy"));
  EXPECT_THAT(table_->RowAt(slot), IsOkAndHolds(cy));
}

// all_generations_zero() lets result sets skip reading generations; it must
// turn false before any handle could carry a non-zero generation.
TEST_F(TableTest, AllGenerationsZeroUntilARowIsDeletedOrRolledBack) {
  Row a = Add("a", "x");
  EXPECT_TRUE(table_->all_generations_zero());
  ASSERT_OK(engine_.Begin());
  Add("b", "x");
  ASSERT_OK(engine_.Rollback());
  // The rolled-back slot's next insert gets generation 1.
  Row c = Add("c", "x");
  EXPECT_EQ(c.generation(), 1u);
  EXPECT_FALSE(table_->all_generations_zero());

  Engine other;
  ASSERT_OK(other.CreateTable("t", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK_AND_ASSIGN(Row t, other.Insert("t", {}));
  EXPECT_TRUE(other.FindTable("t")->all_generations_zero());
  ASSERT_OK(other.Delete(t));
  EXPECT_FALSE(other.FindTable("t")->all_generations_zero());
  ASSERT_OK_AND_ASSIGN(Row again, other.Insert("t", {}));
  EXPECT_EQ(again.generation(), 1u);
  EXPECT_TRUE(a.valid());
}

TEST_F(TableTest, LargeStrings) {
  std::string big(1 << 20, 'x');
  big[12345] = 'y';
  std::string with_nul("a\0b\0c", 5);
  Row row = Add(big, with_nul);
  EXPECT_THAT(row.GetString("name"), IsOkAndHolds(big));
  EXPECT_THAT(row.GetString("team"), IsOkAndHolds(std::string_view(with_nul)));
  ASSERT_OK_AND_ASSIGN(std::span<const RowId> kids, table_->Children("team", with_nul));
  EXPECT_THAT(kids, ElementsAre(row.id()));
  EXPECT_GT(engine_.MemoryBytes(), big.size());
  ASSERT_OK(engine_.Delete(row));
  EXPECT_LT(engine_.MemoryBytes(), big.size());  // a deleted cell frees its string
}

// --- secondary indexes ---

TEST_F(TableTest, ChildrenInInsertionOrder) {
  Add("a", "red");
  Row b = Add("b", "blue");
  Add("c", "red");
  Row d = Add("d", "blue");
  Add("e", "red");
  ASSERT_OK_AND_ASSIGN(std::span<const RowId> red, table_->Children("team", "red"));
  EXPECT_THAT(Names(red), ElementsAre("a", "c", "e"));
  ASSERT_OK(engine_.Delete(b));
  ASSERT_OK(engine_.Delete(d));
  Add("f", "red");  // takes slot 3, before e's slot 4...
  Add("g", "red");  // ...and this one slot 1
  ASSERT_OK_AND_ASSIGN(red, table_->Children("team", "red"));
  EXPECT_THAT(Names(red),
              ElementsAre("a", "c", "e", "f", "g"));  // ...but lists keep insertion order
  ASSERT_OK_AND_ASSIGN(std::span<const RowId> blue, table_->Children("team", "blue"));
  EXPECT_THAT(blue, IsEmpty());
  // The unchecked probe for hot loops.
  EXPECT_THAT(Names(table_->Children(*table_->FindColumn("team"), absl::string_view("red"))),
              ElementsAre("a", "c", "e", "f", "g"));
}

TEST_F(TableTest, ChildrenErrors) {
  Add("a", "red");
  EXPECT_THAT(table_->Children("level", 1),
              StatusIs(kInvalidArgument, "players.level: column has no index"));
  EXPECT_THAT(table_->Children("team", 1),
              StatusIs(kInvalidArgument, "players.team: expected string, got int64 1"));
  EXPECT_THAT(table_->Children("squad", "red"),
              StatusIs(kInvalidArgument, "table 'players': no column named 'squad'"));
  EXPECT_THAT(table_->Children("team", Value()), IsOkAndHolds(IsEmpty()));  // NULL matches nothing
  EXPECT_THAT(table_->Children("team", "green"), IsOkAndHolds(IsEmpty()));
  // The primary key has a (unique) index too.
  EXPECT_THAT(table_->Children("id", 1), IsOkAndHolds(ElementsAre(RowId(0))));
}

TEST_F(TableTest, CreateIndexOnExistingData) {
  for (int64_t level : {3, 1, 3, 2, 3}) {
    ASSERT_OK(engine_.Insert("players", {{"name", "p"}, {"level", level}}).status());
  }
  EXPECT_EQ(table_->index(*table_->FindColumn("level")), nullptr);
  ASSERT_OK(engine_.CreateIndex("players", "level"));
  const HashIndex* index = table_->index(*table_->FindColumn("level"));
  ASSERT_NE(index, nullptr);
  EXPECT_FALSE(index->unique());
  EXPECT_EQ(index->num_keys(), 3u);
  EXPECT_TRUE(table_->column(*table_->FindColumn("level")).indexed);
  EXPECT_THAT(table_->Children("level", 3),
              IsOkAndHolds(ElementsAre(RowId(0), RowId(2), RowId(4))));
  // New rows are indexed from now on.
  ASSERT_OK(engine_.Insert("players", {{"name", "q"}, {"level", 1}}).status());
  EXPECT_THAT(table_->Children("level", 1), IsOkAndHolds(ElementsAre(RowId(1), RowId(5))));
  // Indexing an indexed column is a no-op.
  std::string before = engine_.DebugString();
  EXPECT_OK(engine_.CreateIndex("players", "level"));
  EXPECT_OK(engine_.CreateIndex("players", "id"));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_OK(engine_.CheckConsistency());
  EXPECT_THAT(engine_.CreateIndex("players", "hp"),
              StatusIs(kInvalidArgument, HasSubstr("players.hp: only int64 and string")));
  EXPECT_THAT(engine_.CreateIndex("players", "alive"), StatusIs(kInvalidArgument));
}

// --- whole-table views ---

TEST_F(TableTest, EmptyTable) {
  EXPECT_TRUE(table_->empty());
  EXPECT_EQ(table_->size(), 0u);
  EXPECT_EQ(table_->slot_count(), 0u);
  EXPECT_TRUE(table_->begin() == table_->end());
  EXPECT_THAT(table_->LiveRowIds(), IsEmpty());
  EXPECT_EQ(table_->Find(1), std::nullopt);
  EXPECT_THAT(table_->Int64Column("id"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(table_->Children("team", "red"), IsOkAndHolds(IsEmpty()));
  EXPECT_THAT(table_->RowAt(RowId(0)), StatusIs(kFailedPrecondition));
  EXPECT_OK(table_->CheckConsistency());
  EXPECT_EQ(table_->next_auto_increment(), 1);
}

// DebugString is the canonical dump that tests compare: schema, slots with
// generations, the free list, every row, and every index in key order.
TEST_F(TableTest, DebugStringFormat) {
  Add("ann", "red", 1.5);
  Row bob = Add("bob", nullptr);
  Add("cy", "red");
  ASSERT_OK(engine_.Delete(bob));
  EXPECT_EQ(table_->DebugString(),
            "table players\n"
            "  column id int64 not-null pk auto indexed\n"
            "  column name string not-null\n"
            "  column team string null indexed\n"
            "  column level int64 null default=1\n"
            "  column hp double null\n"
            "  column alive bool null default=true\n"
            "  slots=3 live=2 next_auto=4 free=[1]\n"
            "  slot 0 gen 0 {id: 1, name: \"ann\", team: \"red\", level: 1, hp: 1.5, "
            "alive: true}\n"
            "  slot 1 gen 1\n"
            "  slot 2 gen 0 {id: 3, name: \"cy\", team: \"red\", level: 1, hp: NULL, "
            "alive: true}\n"
            "  index id: 1->[0] 3->[2]\n"
            "  index team: \"red\"->[0,2]\n");
  EXPECT_EQ(engine_.DebugString(), table_->DebugString());
}

}  // namespace
}  // namespace kin
