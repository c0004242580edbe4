// kin::Engine: creating and dropping tables, and the write API (Insert,
// Update, Delete) with its defaults, auto-increment ids and type rules.
// Error cases live in errors_test.cc.

#include "engine/engine.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
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

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable("users", Schema()
                                               .Int64("id", PrimaryKey())
                                               .String("email", Unique(), NotNull())
                                               .String("name")
                                               .Int64("score", Default(0))
                                               .Double("rating")
                                               .Bool("active", Default(true))));
    ASSERT_OK(engine_.CreateTable(
        "posts",
        Schema().Int64("id", PrimaryKey()).Int64("user_id", Indexed()).String("title", NotNull())));
  }

  const Table& users() const { return *engine_.FindTable("users"); }
  const Table& posts() const { return *engine_.FindTable("posts"); }

  // The ids of posts.user_id == `user_id`, in the index's order.
  std::vector<int64_t> PostIdsOf(int64_t user_id) const {
    std::vector<int64_t> ids;
    ColumnId fk = *posts().FindColumn("user_id");
    for (RowId r : posts().Children(fk, user_id)) {
      ids.push_back(posts().GetRow(r).GetInt64("id").value());
    }
    return ids;
  }

  Engine engine_;
};

// --- tables ---

TEST_F(EngineTest, CreateTableListsTablesInCreationOrder) {
  EXPECT_THAT(engine_.TableNames(), ElementsAre("users", "posts"));
  ASSERT_OK(engine_.CreateTable("tags", Schema().String("name", PrimaryKey())));
  EXPECT_THAT(engine_.TableNames(), ElementsAre("users", "posts", "tags"));
  ASSERT_OK_AND_ASSIGN(const Table* tags, engine_.GetTable("tags"));
  EXPECT_EQ(tags->name(), "tags");
  EXPECT_EQ(tags->num_columns(), 1u);
  EXPECT_TRUE(tags->empty());
}

TEST_F(EngineTest, CreateTableErrors) {
  EXPECT_THAT(engine_.CreateTable("users", Schema().Int64("id", PrimaryKey())),
              StatusIs(absl::StatusCode::kAlreadyExists, "table 'users' already exists"));
  EXPECT_THAT(engine_.CreateTable("", Schema().Int64("id", PrimaryKey())),
              StatusIs(absl::StatusCode::kInvalidArgument, "table name is empty"));
  EXPECT_THAT(engine_.CreateTable("bad", Schema().Int64("id", PrimaryKey()).Int64("id")),
              StatusIs(absl::StatusCode::kInvalidArgument, "table 'bad': duplicate column 'id'"));
  EXPECT_THAT(engine_.TableNames(), ElementsAre("users", "posts"));
  // The existing table was not replaced.
  EXPECT_EQ(users().num_columns(), 6u);
}

TEST_F(EngineTest, GetTableAndFindTable) {
  EXPECT_EQ(engine_.FindTable("usres"), nullptr);
  EXPECT_THAT(engine_.GetTable("usres"),
              StatusIs(absl::StatusCode::kNotFound, "no table named 'usres'"));
  EXPECT_THAT(engine_.GetTable("users"), IsOkAndHolds(&users()));
}

TEST_F(EngineTest, DropTable) {
  ASSERT_OK(engine_.Insert("posts", {{"title", "Hello"}}).status());
  ASSERT_OK(engine_.DropTable("posts"));
  EXPECT_THAT(engine_.TableNames(), ElementsAre("users"));
  EXPECT_EQ(engine_.FindTable("posts"), nullptr);
  EXPECT_THAT(engine_.Insert("posts", {{"title", "Hello"}}),
              StatusIs(absl::StatusCode::kNotFound, "no table named 'posts'"));
  EXPECT_THAT(engine_.DropTable("posts"),
              StatusIs(absl::StatusCode::kNotFound, "no table named 'posts'"));
  // The name is free again, and the new table starts empty.
  ASSERT_OK(engine_.CreateTable("posts", Schema().Int64("id", PrimaryKey())));
  EXPECT_TRUE(posts().empty());
  EXPECT_THAT(engine_.TableNames(), ElementsAre("users", "posts"));
}

TEST_F(EngineTest, DropTableRefusedWhileAForeignKeyUsesIt) {
  ASSERT_OK(engine_.AddForeignKey({.child_table = "posts",
                                   .child_column = "user_id",
                                   .parent_table = "users",
                                   .parent_column = "id"}));
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.DropTable("users"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "table 'users' is used by the foreign key posts.user_id -> users.id"));
  EXPECT_THAT(engine_.DropTable("posts"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("posts.user_id")));
  EXPECT_EQ(engine_.DebugString(), before);
  ASSERT_OK(engine_.RemoveForeignKey("posts", "user_id"));
  EXPECT_OK(engine_.DropTable("users"));
}

// --- Insert ---

TEST_F(EngineTest, InsertFillsDefaultsAndNulls) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@example.com"}}));
  EXPECT_THAT(ann.GetInt64("id"), IsOkAndHolds(1));  // auto-increment
  EXPECT_THAT(ann.GetString("email"), IsOkAndHolds("ann@example.com"));
  EXPECT_THAT(ann.Get("name"), IsOkAndHolds(Value()));  // nullable: NULL
  EXPECT_THAT(ann.GetInt64("score"), IsOkAndHolds(0));  // Default(0)
  EXPECT_THAT(ann.Get("rating"), IsOkAndHolds(Value()));
  EXPECT_THAT(ann.GetBool("active"), IsOkAndHolds(true));  // Default(true)
  EXPECT_EQ(ann.DebugString(),
            "{id: 1, email: \"ann@example.com\", name: NULL, score: 0, rating: NULL, "
            "active: true}");
  EXPECT_EQ(users().size(), 1u);
}

TEST_F(EngineTest, InsertGivenValuesOverrideDefaults) {
  ASSERT_OK_AND_ASSIGN(Row bob, engine_.Insert("users", {{"email", "bob@example.com"},
                                                         {"name", "Bob"},
                                                         {"score", 42},
                                                         {"rating", 4.5},
                                                         {"active", false}}));
  EXPECT_THAT(bob.GetString("name"), IsOkAndHolds("Bob"));
  EXPECT_THAT(bob.GetInt64("score"), IsOkAndHolds(42));
  EXPECT_THAT(bob.GetDouble("rating"), IsOkAndHolds(4.5));
  EXPECT_THAT(bob.GetBool("active"), IsOkAndHolds(false));
}

TEST_F(EngineTest, InsertExplicitNullOverridesADefault) {
  // NULL given explicitly is stored as NULL, not replaced by the default.
  ASSERT_OK_AND_ASSIGN(Row row, engine_.Insert("users", {{"email", "a@x"}, {"score", nullptr}}));
  EXPECT_THAT(row.Get("score"), IsOkAndHolds(Value()));
  EXPECT_THAT(row.GetInt64("score"),
              StatusIs(absl::StatusCode::kInvalidArgument, "users.score: value is NULL"));
}

TEST_F(EngineTest, AttributeOrderDoesNotMatter) {
  ASSERT_OK_AND_ASSIGN(Row a, engine_.Insert("users", {{"name", "A"}, {"email", "a@x"}}));
  ASSERT_OK_AND_ASSIGN(Row b, engine_.Insert("users", {{"email", "b@x"}, {"name", "B"}}));
  EXPECT_THAT(a.GetString("email"), IsOkAndHolds("a@x"));
  EXPECT_THAT(b.GetString("name"), IsOkAndHolds("B"));
}

TEST_F(EngineTest, AutoIncrementCountsFromOne) {
  for (int64_t want = 1; want <= 3; ++want) {
    ASSERT_OK_AND_ASSIGN(Row post, engine_.Insert("posts", {{"title", "t"}}));
    EXPECT_THAT(post.GetInt64("id"), IsOkAndHolds(want));
  }
  EXPECT_EQ(posts().next_auto_increment(), 4);
}

TEST_F(EngineTest, ExplicitIdBumpsTheCounter) {
  ASSERT_OK(engine_.Insert("posts", {{"title", "a"}}).status());  // id 1
  ASSERT_OK_AND_ASSIGN(Row p100, engine_.Insert("posts", {{"id", 100}, {"title", "b"}}));
  EXPECT_THAT(p100.GetInt64("id"), IsOkAndHolds(100));
  ASSERT_OK_AND_ASSIGN(Row next, engine_.Insert("posts", {{"title", "c"}}));
  EXPECT_THAT(next.GetInt64("id"), IsOkAndHolds(101));
  // A smaller explicit id fills a gap and leaves the counter alone.
  ASSERT_OK_AND_ASSIGN(Row p50, engine_.Insert("posts", {{"id", 50}, {"title", "d"}}));
  EXPECT_THAT(p50.GetInt64("id"), IsOkAndHolds(50));
  ASSERT_OK_AND_ASSIGN(Row last, engine_.Insert("posts", {{"title", "e"}}));
  EXPECT_THAT(last.GetInt64("id"), IsOkAndHolds(102));
  // A NULL id is treated like an omitted one.
  ASSERT_OK_AND_ASSIGN(Row null_id, engine_.Insert("posts", {{"id", nullptr}, {"title", "f"}}));
  EXPECT_THAT(null_id.GetInt64("id"), IsOkAndHolds(103));
}

TEST_F(EngineTest, DeletedIdsAreNotReused) {
  ASSERT_OK(engine_.Insert("posts", {{"title", "a"}}).status());
  ASSERT_OK_AND_ASSIGN(Row second, engine_.Insert("posts", {{"title", "b"}}));
  ASSERT_OK(engine_.Delete(second));
  ASSERT_OK_AND_ASSIGN(Row third, engine_.Insert("posts", {{"title", "c"}}));
  EXPECT_THAT(third.GetInt64("id"), IsOkAndHolds(3));
}

TEST_F(EngineTest, ManualAndStringPrimaryKeys) {
  ASSERT_OK(engine_.CreateTable("counters", Schema().Int64("id", ManualPrimaryKey()).Int64("n")));
  EXPECT_THAT(engine_.Insert("counters", {{"n", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "counters.id: missing value for a NOT NULL column"));
  ASSERT_OK_AND_ASSIGN(Row c, engine_.Insert("counters", {{"id", 7}, {"n", 1}}));
  EXPECT_THAT(c.GetInt64("id"), IsOkAndHolds(7));

  ASSERT_OK(engine_.CreateTable("tags", Schema().String("name", PrimaryKey()).Int64("uses")));
  ASSERT_OK(engine_.Insert("tags", {{"name", "c++"}, {"uses", 3}}).status());
  ASSERT_OK_AND_ASSIGN(Row tag, engine_.FindOrFail("tags", "c++"));
  EXPECT_THAT(tag.GetInt64("uses"), IsOkAndHolds(3));
  EXPECT_THAT(engine_.Insert("tags", {{"uses", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "tags.name: missing value for a NOT NULL column"));
}

TEST_F(EngineTest, Int64IntoADoubleColumnIsStoredAsDouble) {
  ASSERT_OK_AND_ASSIGN(Row row, engine_.Insert("users", {{"email", "a@x"}, {"rating", 3}}));
  EXPECT_THAT(row.Get("rating"), IsOkAndHolds(Value(3.0)));
  EXPECT_THAT(row.GetDouble("rating"), IsOkAndHolds(3.0));
  ASSERT_OK_AND_ASSIGN(auto ratings, users().DoubleColumn("rating"));
  EXPECT_EQ(ratings[row.id().value], 3.0);
  // The reverse is refused: a double never silently becomes an int64.
  EXPECT_THAT(
      engine_.Insert("users", {{"email", "b@x"}, {"score", 1.0}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "users.score: expected int64, got double 1"));
}

TEST_F(EngineTest, InsertManyReturnsRowsInOrder) {
  std::vector<Attrs> batch = {
      {{"email", "a@x"}, {"name", "A"}},
      {{"email", "b@x"}, {"name", "B"}},
      {{"id", 10}, {"email", "c@x"}},
  };
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, engine_.InsertMany("users", batch));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0].GetInt64("id"), IsOkAndHolds(1));
  EXPECT_THAT(rows[1].GetString("name"), IsOkAndHolds("B"));
  EXPECT_THAT(rows[2].GetInt64("id"), IsOkAndHolds(10));
  EXPECT_EQ(users().size(), 3u);
  ASSERT_OK_AND_ASSIGN(std::vector<Row> none, engine_.InsertMany("users", {}));
  EXPECT_THAT(none, IsEmpty());
  EXPECT_THAT(engine_.InsertMany("nope", batch),
              StatusIs(absl::StatusCode::kNotFound, "no table named 'nope'"));
}

TEST_F(EngineTest, InsertCellsIsInsertByColumnId) {
  const ColumnId email = *users().FindColumn("email");
  const ColumnId score = *users().FindColumn("score");
  const Value ann_email("ann@x");
  const Value seven(int64_t{7});
  ASSERT_OK_AND_ASSIGN(
      Row ann,
      engine_.InsertCells("users", {{CellRef{email, &ann_email}, CellRef{score, &seven}}}));
  EXPECT_EQ(ann.DebugString(),
            "{id: 1, email: \"ann@x\", name: NULL, score: 7, rating: NULL, active: true}");
  // The checks of Insert, each leaving the table as it was.
  const std::string before = users().DebugString();
  const Value text("x");
  EXPECT_THAT(engine_.InsertCells("users", {{CellRef{email, &ann_email}}}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("email")));
  EXPECT_THAT(engine_.InsertCells("users", {{CellRef{score, &seven}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("email")));  // NOT NULL
  EXPECT_THAT(engine_.InsertCells("users", {{CellRef{email, &text}, CellRef{score, &text}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("score")));  // wrong type
  EXPECT_THAT(engine_.InsertCells("users", {{CellRef{email, &text}, CellRef{email, &text}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("email")));  // twice
  EXPECT_THAT(engine_.InsertCells("users", {{CellRef{ColumnId(99), &text}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column with id 99")));
  EXPECT_THAT(engine_.InsertCells("nope", {}),
              StatusIs(absl::StatusCode::kNotFound, "no table named 'nope'"));
  EXPECT_EQ(users().DebugString(), before);
  // Enforced foreign keys (those with an action) are checked as for Insert.
  ASSERT_OK(engine_.AddForeignKey({.child_table = "posts",
                                   .child_column = "user_id",
                                   .parent_table = "users",
                                   .parent_column = "id",
                                   .on_delete = OnDelete::kRestrict}));
  const ColumnId user_id = *posts().FindColumn("user_id");
  const ColumnId title = *posts().FindColumn("title");
  const Value nobody(int64_t{42});
  const Value hello("hello");
  const std::string posts_before = posts().DebugString();
  EXPECT_THAT(engine_.InsertCells("posts", {{CellRef{user_id, &nobody}, CellRef{title, &hello}}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("user_id")));
  EXPECT_EQ(posts().DebugString(), posts_before);
  const Value one(int64_t{1});
  ASSERT_OK(
      engine_.InsertCells("posts", {{CellRef{user_id, &one}, CellRef{title, &hello}}}).status());
  // Undone by a rollback, as Insert.
  ASSERT_OK(engine_.Begin());
  const Value ben_email("ben@x");
  ASSERT_OK(engine_.InsertCells("users", {{CellRef{email, &ben_email}}}).status());
  EXPECT_EQ(users().size(), 2u);
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(users().DebugString(), before);
}

// --- Update ---

TEST_F(EngineTest, UpdateSetsGivenColumnsAndReportsChange) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@x"}, {"name", "Ann"}}));
  EXPECT_THAT(engine_.Update(ann, {{"score", 5}, {"name", "Anne"}}), IsOkAndHolds(true));
  EXPECT_THAT(ann.GetInt64("score"), IsOkAndHolds(5));
  EXPECT_THAT(ann.GetString("name"), IsOkAndHolds("Anne"));
  EXPECT_THAT(ann.GetString("email"), IsOkAndHolds("ann@x"));  // untouched
  EXPECT_THAT(engine_.Update(ann, {{"name", nullptr}}), IsOkAndHolds(true));
  EXPECT_THAT(ann.Get("name"), IsOkAndHolds(Value()));
}

TEST_F(EngineTest, NoOpUpdateReturnsFalseAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@x"}, {"rating", 2.0}}));
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Update(ann, {{"email", "ann@x"}, {"score", 0}}), IsOkAndHolds(false));
  EXPECT_THAT(engine_.Update(ann, {{"rating", 2}}), IsOkAndHolds(false));  // 2 == 2.0
  EXPECT_THAT(engine_.Update(ann, {{"name", nullptr}}), IsOkAndHolds(false));
  EXPECT_THAT(engine_.Update(ann, {}), IsOkAndHolds(false));
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(EngineTest, UpdateIndexedColumnMovesTheRowToTheEndOfItsNewKey) {
  for (int64_t user : {1, 2, 1, 2, 1}) {
    ASSERT_OK(engine_.Insert("posts", {{"user_id", user}, {"title", "t"}}).status());
  }
  EXPECT_THAT(PostIdsOf(1), ElementsAre(1, 3, 5));
  EXPECT_THAT(PostIdsOf(2), ElementsAre(2, 4));
  ASSERT_OK_AND_ASSIGN(Row post3, engine_.FindOrFail("posts", 3));
  EXPECT_THAT(engine_.Update(post3, {{"user_id", 2}}), IsOkAndHolds(true));
  EXPECT_THAT(PostIdsOf(1), ElementsAre(1, 5));
  EXPECT_THAT(PostIdsOf(2), ElementsAre(2, 4, 3));
  // NULL is never indexed.
  EXPECT_THAT(engine_.Update(post3, {{"user_id", nullptr}}), IsOkAndHolds(true));
  EXPECT_THAT(PostIdsOf(2), ElementsAre(2, 4));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(EngineTest, UpdateUniqueColumn) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@x"}}));
  ASSERT_OK_AND_ASSIGN(Row bob, engine_.Insert("users", {{"email", "bob@x"}}));
  EXPECT_THAT(engine_.Update(ann, {{"email", "ann@new"}}), IsOkAndHolds(true));
  // The old value is free again; the new one is taken.
  EXPECT_THAT(engine_.Update(bob, {{"email", "ann@x"}}), IsOkAndHolds(true));
  EXPECT_THAT(
      engine_.Update(bob, {{"email", "ann@new"}}),
      StatusIs(absl::StatusCode::kAlreadyExists, "users.email: duplicate value \"ann@new\""));
  EXPECT_THAT(bob.GetString("email"), IsOkAndHolds("ann@x"));
  const Table& t = users();
  EXPECT_EQ(t.index(*t.FindColumn("email"))->Find(absl::string_view("ann@new"))[0], ann.id());
  EXPECT_EQ(t.index(*t.FindColumn("email"))->Find(absl::string_view("ann@x"))[0], bob.id());
  EXPECT_TRUE(t.index(*t.FindColumn("email"))->Find(absl::string_view("bob@x")).empty());
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(EngineTest, UniqueColumnsAllowManyNulls) {
  ASSERT_OK(engine_.CreateTable("accounts",
                                Schema().Int64("id", PrimaryKey()).String("handle", Unique())));
  ASSERT_OK(engine_.Insert("accounts", {}).status());
  ASSERT_OK(engine_.Insert("accounts", {{"handle", nullptr}}).status());
  ASSERT_OK_AND_ASSIGN(Row third, engine_.Insert("accounts", {{"handle", "x"}}));
  EXPECT_THAT(engine_.Update(third, {{"handle", nullptr}}), IsOkAndHolds(true));
  EXPECT_EQ(engine_.FindTable("accounts")->size(), 3u);
}

TEST_F(EngineTest, UpdatePrimaryKey) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@x"}}));
  ASSERT_OK(engine_.Insert("users", {{"email", "bob@x"}}).status());
  EXPECT_THAT(engine_.Update(ann, {{"id", 2}}),
              StatusIs(absl::StatusCode::kAlreadyExists, "users.id: duplicate value 2"));
  EXPECT_THAT(engine_.Update(ann, {{"id", 50}}), IsOkAndHolds(true));
  EXPECT_EQ(users().Find(1), std::nullopt);
  EXPECT_THAT(engine_.FindOrFail("users", 50), IsOkAndHolds(ann));
  // The counter moves past an id set by an update, too.
  ASSERT_OK_AND_ASSIGN(Row next, engine_.Insert("users", {{"email", "cy@x"}}));
  EXPECT_THAT(next.GetInt64("id"), IsOkAndHolds(51));
}

// --- Delete ---

TEST_F(EngineTest, DeleteRemovesTheRowAndItsIndexEntries) {
  ASSERT_OK_AND_ASSIGN(Row p1, engine_.Insert("posts", {{"user_id", 7}, {"title", "a"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, engine_.Insert("posts", {{"user_id", 7}, {"title", "b"}}));
  ASSERT_OK(engine_.Delete(p1));
  EXPECT_EQ(posts().size(), 1u);
  EXPECT_FALSE(p1.valid());
  EXPECT_TRUE(p2.valid());
  EXPECT_EQ(posts().Find(1), std::nullopt);
  EXPECT_THAT(PostIdsOf(7), ElementsAre(2));
  EXPECT_THAT(engine_.FindOrFail("posts", 1),
              StatusIs(absl::StatusCode::kNotFound, "table 'posts': no row with id = 1"));
  ASSERT_OK(engine_.Delete(p2));
  EXPECT_TRUE(posts().empty());
  EXPECT_THAT(PostIdsOf(7), IsEmpty());
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(EngineTest, RowsOfAnotherEngineAreRefused) {
  Engine other;
  ASSERT_OK(other.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK_AND_ASSIGN(Row foreign, other.Insert("users", {}));
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Update(foreign, {{"id", 5}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "row of table 'users' does not belong to this database"));
  EXPECT_THAT(engine_.Delete(foreign),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not belong")));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(other.FindTable("users")->size(), 1u);
}

TEST_F(EngineTest, EngineIsMovable) {
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.Insert("users", {{"email", "ann@x"}}));
  Engine moved = std::move(engine_);
  // Tables live behind stable pointers, so rows survive the move.
  EXPECT_TRUE(ann.valid());
  EXPECT_THAT(moved.Update(ann, {{"score", 3}}), IsOkAndHolds(true));
  EXPECT_THAT(moved.FindOrFail("users", 1), IsOkAndHolds(ann));
}

TEST_F(EngineTest, MemoryBytesGrowsWithData) {
  size_t empty = engine_.MemoryBytes();
  for (int i = 0; i < 100; ++i) {
    ASSERT_OK(
        engine_.Insert("posts", {{"user_id", i % 10}, {"title", std::string(40, 'x')}}).status());
  }
  EXPECT_GT(engine_.MemoryBytes(), empty + 100 * 40);
}

}  // namespace
}  // namespace kin
