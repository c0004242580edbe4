// Database's alter operations one at a time: the change itself, what
// follows it (relations, foreign keys, indexes, handles), and every refusal
// naming what was wrong with the database left exactly as it was.

#include <optional>
#include <string>
#include <vector>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;

constexpr auto kNotFound = absl::StatusCode::kNotFound;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kExists = absl::StatusCode::kAlreadyExists;
constexpr auto kPrecondition = absl::StatusCode::kFailedPrecondition;

// Two teams; players 1-3 on team 1, player 4 on team 2, player 5 on none;
// player 2 deleted and re-inserted so a slot was reused.
class AlterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("teams", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("players", Schema()
                                             .Int64("id", PrimaryKey())
                                             .Int64("team_id")
                                             .String("name", NotNull())
                                             .Int64("score", NotNull(), Default(0))
                                             .String("motto")));
    ASSERT_OK(db_.HasMany("teams", "players", {.on_delete = OnDelete::kCascade}));
    ASSERT_OK(db_.Insert("teams", {{"name", "red"}}).status());
    ASSERT_OK(db_.Insert("teams", {{"name", "blue"}}).status());
    for (auto [team, name] : std::vector<std::pair<Value, std::string>>{
             {1, "ann"}, {1, "bob"}, {1, "cy"}, {2, "dee"}, {Value(), "eve"}}) {
      ASSERT_OK(db_.Insert("players", {{"team_id", team}, {"name", name}, {"score", 10}}).status());
    }
    ASSERT_OK_AND_ASSIGN(Row bob, db_.FindOrFail("players", 2));
    ASSERT_OK(db_.Delete(bob));
    ASSERT_OK(db_.Insert("players", {{"id", 6}, {"team_id", 1}, {"name", "fay"}}).status());
    ASSERT_OK(db_.Insert("players", {{"id", 2}, {"team_id", 2}, {"name", "bob"}}).status());
  }

  // Expects `status` to be an error matching `matcher`, and the database
  // unchanged.
  template <typename M>
  void ExpectRefused(const absl::Status& status, const M& matcher, const std::string& before) {
    EXPECT_THAT(status, matcher);
    EXPECT_EQ(db_.DebugString(), before);
    EXPECT_OK(db_.CheckConsistency());
  }

  Database db_;
};

TEST_F(AlterTest, AddNullableColumnHoldsNull) {
  ASSERT_OK(db_.AddColumn("players", {.name = "nick", .type = Type::kString}));
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  ASSERT_OK_AND_ASSIGN(Value nick, ann.Get("nick"));
  EXPECT_TRUE(nick.is_null());
  ASSERT_OK_AND_ASSIGN(Row gus, db_.Insert("players", {{"name", "gus"}, {"nick", "g"}}));
  EXPECT_EQ(gus.GetString("nick").value(), "g");
  EXPECT_OK(db_.CheckConsistency());
}

TEST_F(AlterTest, AddNotNullColumnFillsDefault) {
  ASSERT_OK(db_.AddColumn("players", {.name = "level",
                                      .type = Type::kInt64,
                                      .nullable = false,
                                      .ordered = true,
                                      .default_value = 1}));
  const Table* players = db_.FindTable("players");
  ASSERT_NE(players, nullptr);
  for (Row row : *players) EXPECT_EQ(row.GetInt64("level").value(), 1);
  ColumnId level = *players->FindColumn("level");
  EXPECT_NE(players->ordered_index(level), nullptr);
  // Later inserts take the default; NOT NULL holds.
  ASSERT_OK_AND_ASSIGN(Row gus, db_.Insert("players", {{"name", "gus"}}));
  EXPECT_EQ(gus.GetInt64("level").value(), 1);
  EXPECT_THAT(db_.Insert("players", {{"name", "hal"}, {"level", nullptr}}).status(),
              StatusIs(kInvalid, HasSubstr("players.level")));
  ASSERT_OK_AND_ASSIGN(auto top, db_.Query("players").Where("level", ">=", 1).Get());
  EXPECT_EQ(top.size(), 7u);
  EXPECT_OK(db_.CheckConsistency());
  // A snapshot of the altered table loads to the same state.
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

TEST_F(AlterTest, AddColumnKeepsHandlesAndUniqueOnOneRow) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db_.Int64Column("players", "score"));
  ASSERT_OK(db_.AddColumn("players", {.name = "rank", .type = Type::kDouble, .default_value = 2}));
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  EXPECT_EQ(score.Get(ann).value(), 10);
  EXPECT_EQ(ann.Get("rank").value(), Value(2.0));
  // A unique column starts all NULL, then holds its constraint.
  ASSERT_OK(db_.AddColumn("teams", {.name = "code", .type = Type::kString, .unique = true}));
  ASSERT_OK_AND_ASSIGN(Row red, db_.FindOrFail("teams", 1));
  ASSERT_OK(db_.Update(red, {{"code", "R"}}).status());
  EXPECT_THAT(db_.Insert("teams", {{"code", "R"}}).status(), StatusIs(kExists));
  ASSERT_OK_AND_ASSIGN(auto by_code, db_.Query("teams").Where("code", "R").Get());
  EXPECT_EQ(by_code.size(), 1u);
  EXPECT_OK(db_.CheckConsistency());
  // NOT NULL without a default is fine on an empty table.
  ASSERT_OK(db_.CreateTable("empty", Schema().Int64("id", PrimaryKey())));
  EXPECT_OK(db_.AddColumn("empty", {.name = "n", .type = Type::kInt64, .nullable = false}));
}

TEST_F(AlterTest, AddColumnBadInput) {
  const std::string before = db_.DebugString();
  ExpectRefused(db_.AddColumn("nope", {.name = "x"}), StatusIs(kNotFound, HasSubstr("'nope'")),
                before);
  ExpectRefused(db_.AddColumn("players", {.name = "score"}),
                StatusIs(kExists, HasSubstr("'score'")), before);
  ExpectRefused(db_.AddColumn("players", {.name = ""}),
                StatusIs(kInvalid, HasSubstr("empty column name")), before);
  ExpectRefused(db_.AddColumn("players", {.name = "*"}), StatusIs(kInvalid, HasSubstr("'*'")),
                before);
  ExpectRefused(db_.AddColumn("players", {.name = "key", .primary_key = true}),
                StatusIs(kInvalid, HasSubstr("players.key: a table's primary key")), before);
  ExpectRefused(
      db_.AddColumn("players", {.name = "level", .type = Type::kInt64, .default_value = "one"}),
      StatusIs(kInvalid, HasSubstr("players.level: default expected int64")), before);
  ExpectRefused(
      db_.AddColumn("players", {.name = "level", .type = Type::kInt64, .nullable = false}),
      StatusIs(kInvalid, HasSubstr("players.level: a NOT NULL column needs a default "
                                   "to fill the 6 existing row(s)")),
      before);
  ExpectRefused(
      db_.AddColumn("players",
                    {.name = "tag", .type = Type::kString, .unique = true, .default_value = "x"}),
      StatusIs(kInvalid, HasSubstr("players.tag: a key column cannot have a default")), before);
  ExpectRefused(db_.AddColumn("players", {.name = "w", .type = Type::kDouble, .indexed = true}),
                StatusIs(kInvalid, HasSubstr("players.w: only int64 and string")), before);
  ASSERT_OK(db_.Begin());
  ExpectRefused(db_.AddColumn("players", {.name = "x"}),
                StatusIs(kPrecondition, HasSubstr("inside a transaction")), before);
  ASSERT_OK(db_.Rollback());
}

TEST_F(AlterTest, DropColumn) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db_.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> name, db_.StringColumn("players", "name"));
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  ASSERT_OK(db_.CreateIndex("players", "motto"));
  ASSERT_OK(db_.DropColumn("players", "name"));
  EXPECT_THAT(ann.Get("name").status(), StatusIs(kInvalid, HasSubstr("name")));
  EXPECT_EQ(ann.GetInt64("score").value(), 10);
  // Ids after the dropped column moved: old handles are stale, not wrong.
  EXPECT_THAT(score.Get(ann).status(), StatusIs(kPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(name.Get(ann).status(), StatusIs(kPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(db_.Each("players", score).status(), StatusIs(kPrecondition, HasSubstr("stale")));
  EXPECT_THAT(db_.Set(ann, score, 3), StatusIs(kPrecondition, HasSubstr("stale")));
  ASSERT_OK_AND_ASSIGN(score, db_.Int64Column("players", "score"));
  EXPECT_EQ(score.Get(ann).value(), 10);
  // The relation still reads through its (moved) foreign key, and the
  // ordered and hash indexes after it still answer.
  ASSERT_OK_AND_ASSIGN(Row red, db_.FindOrFail("teams", 1));
  ASSERT_OK_AND_ASSIGN(auto kids, db_.Related(red, "players").Get());
  EXPECT_EQ(kids.size(), 3u);
  ASSERT_OK_AND_ASSIGN(auto none, db_.Query("players").Where("motto", "x").Get());
  EXPECT_TRUE(none.empty());
  EXPECT_OK(db_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

TEST_F(AlterTest, PreparedQueriesAndLoopsAcrossChanges) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> id, db_.Int64Column("players", "id"));
  ASSERT_OK_AND_ASSIGN(PreparedQuery by_score,
                       db_.Query("players").Where("score", Param(0)).Prepare());
  // A rename or an added column keeps the compiled ids.
  ASSERT_OK(db_.RenameColumn("players", "name", "handle"));
  ASSERT_OK(db_.AddColumn("players", {.name = "level", .type = Type::kInt64}));
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids, by_score.Bind(0, 10).Pluck(id));
  EXPECT_EQ(ids.size(), 4u);
  // A dropped column moves them: the prepared query asks to be prepared again.
  ASSERT_OK(db_.DropColumn("players", "level"));
  EXPECT_THAT(by_score.Bind(0, 10).Count().status(),
              StatusIs(kPrecondition, HasSubstr("a column of table 'players' was dropped since "
                                                "(prepare the query again)")));
  // A loop whose table drops a column ends (its ids may name other columns).
  ASSERT_OK_AND_ASSIGN(id, db_.Int64Column("players", "id"));
  ASSERT_OK_AND_ASSIGN(auto range, db_.Each("players", id));
  int visited = 0;
  for ([[maybe_unused]] auto [row, i] : range) {
    if (++visited == 1) {
      ASSERT_OK(db_.DropColumn("players", "motto"));
    }
  }
  EXPECT_EQ(visited, 1);
}

TEST_F(AlterTest, DropColumnRefusedNamingUsers) {
  ASSERT_OK(db_.CreateIndex("players", {"score", "motto"}, IndexKind::kOrdered));
  const std::string before = db_.DebugString();
  ExpectRefused(db_.DropColumn("players", "id"),
                StatusIs(kPrecondition, HasSubstr("players.id: it is the table's primary key")),
                before);
  ExpectRefused(db_.DropColumn("players", "team_id"),
                StatusIs(kPrecondition, HasSubstr("relation 'teams.players', 'players.team'")),
                before);
  ExpectRefused(db_.DropColumn("players", "score"),
                StatusIs(kPrecondition, HasSubstr("composite index (score, motto)")), before);
  ExpectRefused(db_.DropColumn("players", "nope"),
                StatusIs(kInvalid, HasSubstr("no column named 'nope'")), before);
  ExpectRefused(db_.DropColumn("nope", "x"), StatusIs(kNotFound), before);
  // A foreign key without a relation (the engine's own) names itself.
  ASSERT_OK(db_.DropIndex("players", {"score", "motto"}));
  ASSERT_OK(db_.Begin());
  ExpectRefused(db_.DropColumn("players", "motto"),
                StatusIs(kPrecondition, HasSubstr("inside a transaction")), db_.DebugString());
  ASSERT_OK(db_.Rollback());
}

TEST_F(AlterTest, RenameColumnRelationsAndForeignKeysFollow) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db_.Int64Column("players", "score"));
  ASSERT_OK(db_.RenameColumn("players", "team_id", "squad_id"));
  ASSERT_OK(db_.RenameColumn("teams", "id", "team_key"));
  ASSERT_OK(db_.RenameColumn("players", "score", "points"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* rel, db_.GetRelation("teams", "players"));
  EXPECT_EQ(rel->foreign_key, "squad_id");
  EXPECT_EQ(rel->local_key, "team_key");
  ASSERT_EQ(db_.foreign_keys().size(), 1u);
  EXPECT_EQ(db_.foreign_keys()[0].child_column, "squad_id");
  EXPECT_EQ(db_.foreign_keys()[0].parent_column, "team_key");
  ASSERT_OK_AND_ASSIGN(Row red, db_.FindOrFail("teams", 1));
  ASSERT_OK_AND_ASSIGN(auto kids, db_.Related(red, "players").Get());
  EXPECT_EQ(kids.size(), 3u);
  // Handles survive a rename (same column, same id).
  EXPECT_EQ(score.Get(kids[0]).value(), 10);
  ASSERT_OK_AND_ASSIGN(auto rows, db_.Query("players").Where("points", 10).Get());
  EXPECT_EQ(rows.size(), 4u);
  EXPECT_THAT(db_.Query("players").Where("score", 10).Get().status(),
              StatusIs(kInvalid, HasSubstr("'score'")));
  // The foreign key's action still runs under the new names.
  ASSERT_OK(db_.Delete(red));
  ASSERT_OK_AND_ASSIGN(auto left, db_.Query("players").Get());
  EXPECT_EQ(left.size(), 3u);
  EXPECT_OK(db_.CheckConsistency());
}

TEST_F(AlterTest, RenameColumnBadInput) {
  ASSERT_OK(db_.HasMany("teams", "players",
                        {.name = "stars",
                         .on_query = [](Query& q) { q.Where("score", ">", 5); },
                         .create_inverse = false}));
  const std::string before = db_.DebugString();
  ExpectRefused(db_.RenameColumn("players", "score", "points"),
                StatusIs(kPrecondition, HasSubstr("relation 'teams.stars' has an on_query")),
                before);
  ASSERT_OK(db_.SetOnQuery("teams", "stars", nullptr));
  ExpectRefused(db_.RenameColumn("players", "score", "name"),
                StatusIs(kExists, HasSubstr("already has a column named 'name'")), before);
  ExpectRefused(db_.RenameColumn("players", "nope", "x"),
                StatusIs(kInvalid, HasSubstr("no column named 'nope'")), before);
  ExpectRefused(db_.RenameColumn("players", "score", ""),
                StatusIs(kInvalid, HasSubstr("empty column name")), before);
  ExpectRefused(db_.RenameColumn("nope", "a", "b"), StatusIs(kNotFound, HasSubstr("'nope'")),
                before);
  EXPECT_OK(db_.RenameColumn("players", "score", "points"));
}

TEST_F(AlterTest, RenameTable) {
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  ASSERT_OK(db_.RenameTable("players", "members"));
  EXPECT_EQ(db_.FindTable("players"), nullptr);
  EXPECT_THAT(db_.Query("players").Get().status(), StatusIs(kNotFound, HasSubstr("'players'")));
  ASSERT_OK_AND_ASSIGN(auto members, db_.Query("members").Get());
  EXPECT_EQ(members.size(), 6u);
  EXPECT_EQ(ann.GetString("name").value(), "ann");  // rows keep working
  ASSERT_OK_AND_ASSIGN(const RelationSpec* rel, db_.GetRelation("teams", "players"));
  EXPECT_EQ(rel->related_table, "members");
  ASSERT_OK_AND_ASSIGN(const RelationSpec* inverse, db_.GetRelation("members", "team"));
  EXPECT_EQ(inverse->related_table, "teams");
  EXPECT_EQ(db_.foreign_keys()[0].child_table, "members");
  ASSERT_OK_AND_ASSIGN(Row red, db_.FindOrFail("teams", 1));
  ASSERT_OK(db_.Delete(red));  // the cascade follows the rename
  ASSERT_OK_AND_ASSIGN(members, db_.Query("members").Get());
  EXPECT_EQ(members.size(), 3u);

  const std::string before = db_.DebugString();
  ExpectRefused(db_.RenameTable("members", "teams"),
                StatusIs(kExists, HasSubstr("table 'teams' already exists")), before);
  ExpectRefused(db_.RenameTable("nope", "x"), StatusIs(kNotFound, HasSubstr("'nope'")), before);
  ExpectRefused(db_.RenameTable("members", ""), StatusIs(kInvalid, HasSubstr("empty")), before);
}

TEST_F(AlterTest, DefaultsAndNullability) {
  ASSERT_OK(db_.SetColumnDefault("players", "motto", Value("gg")));
  ASSERT_OK_AND_ASSIGN(Row gus, db_.Insert("players", {{"name", "gus"}}));
  EXPECT_EQ(gus.GetString("motto").value(), "gg");
  ASSERT_OK(db_.SetColumnDefault("players", "motto", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Row hal, db_.Insert("players", {{"name", "hal"}}));
  EXPECT_TRUE(hal.Get("motto").value().is_null());

  std::string before = db_.DebugString();
  ExpectRefused(db_.SetColumnDefault("players", "motto", Value(3)),
                StatusIs(kInvalid, HasSubstr("players.motto: default expected string")), before);
  ExpectRefused(db_.SetColumnDefault("players", "id", Value(3)),
                StatusIs(kInvalid, HasSubstr("players.id: a key column cannot have a default")),
                before);
  ExpectRefused(db_.SetColumnDefault("players", "nope", Value(3)),
                StatusIs(kInvalid, HasSubstr("'nope'")), before);
  // NOT NULL while NULLs exist names the first such row.
  ExpectRefused(db_.SetColumnNullable("players", "motto", false),
                StatusIs(kPrecondition, HasSubstr("players.motto: the row with id = 1 holds NULL")),
                before);
  ExpectRefused(db_.SetColumnNullable("players", "id", true),
                StatusIs(kPrecondition, HasSubstr("primary key")), before);
  ExpectRefused(db_.SetColumnNullable("players", "team_id", false),
                StatusIs(kPrecondition, HasSubstr("the row with id = 5 holds NULL")), before);

  // Once every row has a value, NOT NULL holds from then on.
  ASSERT_OK_AND_ASSIGN(auto rows, db_.Query("players").Get());
  for (const ResultRow& r : rows) ASSERT_OK(db_.Update(r, {{"motto", "hi"}}).status());
  ASSERT_OK(db_.SetColumnNullable("players", "motto", false));
  EXPECT_THAT(db_.Insert("players", {{"name", "ivy"}}).status(),
              StatusIs(kInvalid, HasSubstr("motto")));
  EXPECT_OK(db_.CheckConsistency());
  ASSERT_OK(db_.SetColumnNullable("players", "score", true));
  ASSERT_OK_AND_ASSIGN(
      Row ivy, db_.Insert("players", {{"name", "ivy"}, {"motto", "m"}, {"score", nullptr}}));
  EXPECT_TRUE(ivy.Get("score").value().is_null());
  EXPECT_OK(db_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

TEST_F(AlterTest, ChangeColumnType) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db_.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  ASSERT_OK(db_.CreateIndex("players", "score", IndexKind::kOrdered));
  ASSERT_OK(db_.ChangeColumnType("players", "score", Type::kDouble));
  EXPECT_EQ(ann.Get("score").value(), Value(10.0));
  EXPECT_THAT(score.Get(ann).status(), StatusIs(kPrecondition, HasSubstr("stale column handle")));
  ASSERT_OK_AND_ASSIGN(Row gus, db_.Insert("players", {{"name", "gus"}}));
  EXPECT_EQ(gus.Get("score").value(), Value(0.0));  // the default converted too
  ASSERT_OK_AND_ASSIGN(auto high, db_.Query("players").Where("score", ">", 5.5).Get());
  EXPECT_EQ(high.size(), 4u);
  // Strings that read as numbers convert; a unique string column stays unique.
  ASSERT_OK(db_.AddColumn("players", {.name = "code", .type = Type::kString, .unique = true}));
  ASSERT_OK(db_.Update(ann, {{"code", "7"}}).status());
  ASSERT_OK(db_.ChangeColumnType("players", "code", Type::kInt64));
  EXPECT_EQ(ann.GetInt64("code").value(), 7);
  ASSERT_OK_AND_ASSIGN(auto by_code, db_.Query("players").Where("code", 7).Get());
  EXPECT_EQ(by_code.size(), 1u);
  ASSERT_OK(db_.ChangeColumnType("players", "score", Type::kString));
  EXPECT_EQ(ann.GetString("score").value(), "10");
  EXPECT_OK(db_.CheckConsistency());

  const std::string before = db_.DebugString();
  ExpectRefused(db_.ChangeColumnType("players", "name", Type::kInt64),
                StatusIs(kInvalid, HasSubstr("change players.name from string to int64: \"ann\" "
                                             "in the row with id = 1 does not convert")),
                before);
  ExpectRefused(db_.ChangeColumnType("players", "id", Type::kString),
                StatusIs(kPrecondition, HasSubstr("primary key")), before);
  ExpectRefused(db_.ChangeColumnType("players", "team_id", Type::kString),
                StatusIs(kPrecondition, HasSubstr("relation 'teams.players'")), before);
  ExpectRefused(db_.ChangeColumnType("players", "code", Type::kDouble),
                StatusIs(kInvalid, HasSubstr("has a hash index")), before);
  ExpectRefused(db_.ChangeColumnType("players", "nope", Type::kDouble),
                StatusIs(kInvalid, HasSubstr("'nope'")), before);
  ExpectRefused(db_.ChangeColumnType("nope", "x", Type::kDouble), StatusIs(kNotFound), before);
  ASSERT_OK(db_.SetColumnDefault("players", "motto", Value("none")));
  const std::string with_default = db_.DebugString();
  ExpectRefused(db_.ChangeColumnType("players", "motto", Type::kBool),
                StatusIs(kInvalid, HasSubstr("the default \"none\" does not convert")),
                with_default);
}

TEST_F(AlterTest, CreateAndDropIndexes) {
  ASSERT_OK(db_.CreateIndex("players", "motto"));
  ASSERT_OK(db_.CreateIndex("players", "score", IndexKind::kOrdered));
  ASSERT_OK(db_.CreateIndex("players", {"team_id", "score"}, IndexKind::kOrdered));
  EXPECT_THAT(db_.CreateIndex("players", {"team_id", "score"}, IndexKind::kOrdered),
              StatusIs(kExists, HasSubstr("(team_id, score) already exists")));
  const Table* players = db_.FindTable("players");
  ColumnId motto = *players->FindColumn("motto"), score = *players->FindColumn("score");
  ASSERT_OK(db_.DropIndex("players", "motto"));
  EXPECT_EQ(players->index(motto), nullptr);
  ASSERT_OK(db_.DropIndex("players", "score", IndexKind::kOrdered));
  EXPECT_EQ(players->ordered_index(score), nullptr);
  ASSERT_OK(db_.DropIndex("players", {"team_id", "score"}));
  EXPECT_TRUE(players->composite_indexes().empty());
  ASSERT_OK_AND_ASSIGN(auto rows, db_.Query("players").Where("score", ">", 5).Get());
  EXPECT_EQ(rows.size(), 4u);
  EXPECT_OK(db_.CheckConsistency());

  const std::string before = db_.DebugString();
  ExpectRefused(db_.DropIndex("players", "motto"),
                StatusIs(kNotFound, HasSubstr("players.motto: no hash index")), before);
  ExpectRefused(db_.DropIndex("players", "score", IndexKind::kOrdered),
                StatusIs(kNotFound, HasSubstr("no ordered index")), before);
  ExpectRefused(db_.DropIndex("players", {"team_id", "score"}),
                StatusIs(kNotFound, HasSubstr("no composite index (team_id, score)")), before);
  ExpectRefused(db_.DropIndex("players", "id"), StatusIs(kPrecondition, HasSubstr("primary key")),
                before);
  ExpectRefused(db_.DropIndex("players", "team_id"),
                StatusIs(kPrecondition, HasSubstr("relation 'teams.players'")), before);
  ExpectRefused(db_.DropIndex("players", "nope"), StatusIs(kInvalid, HasSubstr("'nope'")), before);
  ExpectRefused(db_.DropIndex("nope", "x"), StatusIs(kNotFound), before);
}

TEST_F(AlterTest, RelationOnTablesWithRowsChecksExistingRows) {
  ASSERT_OK(db_.CreateTable("badges",
                            Schema().Int64("id", PrimaryKey()).Int64("player_id").String("label")));
  ASSERT_OK(db_.Insert("badges", {{"player_id", 1}, {"label", "first"}}).status());
  ASSERT_OK(db_.Insert("badges", {{"player_id", 99}, {"label", "ghost"}}).status());
  const std::string before = db_.DebugString();
  const size_t relations = db_.Relations().size();
  // With an action the foreign key holds on existing rows too: refused,
  // naming the orphan.
  ExpectRefused(db_.HasMany("players", "badges", {.on_delete = OnDelete::kCascade}),
                StatusIs(kPrecondition, HasSubstr("99")), before);
  EXPECT_EQ(db_.Relations().size(), relations);
  // Without one (Lucid's), it is declared over the rows as they are.
  ASSERT_OK(db_.HasMany("players", "badges"));
  ASSERT_OK_AND_ASSIGN(Row ann, db_.FindOrFail("players", 1));
  ASSERT_OK_AND_ASSIGN(auto badges, db_.Related(ann, "badges").Get());
  ASSERT_EQ(badges.size(), 1u);
  EXPECT_EQ(badges[0].GetString("label").value(), "first");
}

}  // namespace
}  // namespace kin
