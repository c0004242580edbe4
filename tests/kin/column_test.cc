// Typed column handles (kin/column.h): resolution, checked reads, typed
// writes through Database::Set and typed iteration with Database::Each.

#include "kin/column.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// players: id, name (unique), score NOT NULL, gold (nullable), speed, alive.
Database Players() {
  Database db;
  EXPECT_OK(db.CreateTable("players", Schema()
                                          .Int64("id", PrimaryKey())
                                          .String("name", Unique())
                                          .Int64("score", NotNull(), Default(0))
                                          .Int64("gold")
                                          .Double("speed")
                                          .Bool("alive", Default(true))));
  EXPECT_OK(
      db.Insert("players", {{"name", "ann"}, {"score", 10}, {"gold", 5}, {"speed", 1.5}}).status());
  EXPECT_OK(db.Insert("players", {{"name", "bob"}, {"score", 20}, {"speed", 2.5}}).status());
  EXPECT_OK(db.Insert("players", {{"name", "cyd"}, {"score", 30}, {"gold", 7}, {"alive", false}})
                .status());
  return db;
}

Row PlayerRow(const Database& db, int64_t id) {
  absl::StatusOr<Row> row = db.FindOrFail("players", id);
  EXPECT_OK(row.status());
  return row.value_or(Row());
}

TEST(ColumnTest, ReadsEveryType) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Column<double> speed, db.DoubleColumn("players", "speed"));
  ASSERT_OK_AND_ASSIGN(Column<bool> alive, db.BoolColumn("players", "alive"));
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> name, db.StringColumn("players", "name"));
  const Row ann = PlayerRow(db, 1);
  const Row cyd = PlayerRow(db, 3);
  EXPECT_THAT(score.Get(ann), IsOkAndHolds(10));
  EXPECT_THAT(speed.Get(ann), IsOkAndHolds(1.5));
  EXPECT_THAT(alive.Get(ann), IsOkAndHolds(true));
  EXPECT_THAT(alive.Get(cyd), IsOkAndHolds(false));
  EXPECT_THAT(name.Get(cyd), IsOkAndHolds(std::string_view("cyd")));
  // The same answers as the by-name reads.
  EXPECT_EQ(*score.Get(cyd), *cyd.GetInt64("score"));
  EXPECT_EQ(*name.Get(ann), *ann.GetString("name"));
}

TEST(ColumnTest, NullCells) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> gold, db.Int64Column("players", "gold"));
  ASSERT_OK_AND_ASSIGN(Column<double> speed, db.DoubleColumn("players", "speed"));
  const Row ann = PlayerRow(db, 1);
  const Row bob = PlayerRow(db, 2);
  EXPECT_THAT(gold.Get(bob),
              StatusIs(absl::StatusCode::kInvalidArgument, "players.gold: value is NULL"));
  EXPECT_THAT(gold.IsNull(bob), IsOkAndHolds(true));
  EXPECT_THAT(gold.IsNull(ann), IsOkAndHolds(false));
  EXPECT_THAT(gold.GetNullable(bob), IsOkAndHolds(std::optional<int64_t>()));
  EXPECT_THAT(gold.GetNullable(ann), IsOkAndHolds(std::optional<int64_t>(5)));
  EXPECT_THAT(speed.Get(PlayerRow(db, 3)), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    HasSubstr("players.speed: value is NULL")));
}

TEST(ColumnTest, ResolutionErrorsNameWhatWasWrong) {
  Database db = Players();
  EXPECT_THAT(db.Int64Column("plyers", "score"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("plyers")));
  EXPECT_THAT(db.Int64Column("players", "scroe"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'players': no column named 'scroe'")));
  EXPECT_THAT(
      db.DoubleColumn("players", "score"),
      StatusIs(absl::StatusCode::kInvalidArgument, "players.score: column is int64, not double"));
  EXPECT_THAT(
      db.StringColumn("players", "alive"),
      StatusIs(absl::StatusCode::kInvalidArgument, "players.alive: column is bool, not string"));
  EXPECT_THAT(
      db.BoolColumn("players", "name"),
      StatusIs(absl::StatusCode::kInvalidArgument, "players.name: column is string, not bool"));
  EXPECT_THAT(
      db.Int64Column("players", "speed"),
      StatusIs(absl::StatusCode::kInvalidArgument, "players.speed: column is double, not int64"));
}

TEST(ColumnTest, EmptyHandlesAndRows) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  EXPECT_THAT(Column<int64_t>().Get(PlayerRow(db, 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "empty column handle"));
  EXPECT_THAT(score.Get(Row()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "empty row handle"));
  EXPECT_THAT(score.IsNull(Row()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ColumnTest, StaleRow) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  const Row bob = PlayerRow(db, 2);
  ASSERT_OK(db.Delete(bob));
  EXPECT_THAT(score.Get(bob),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale or deleted row")));
  // The slot is reused by the next insert: the old handle stays stale.
  ASSERT_OK_AND_ASSIGN(Row dan, db.Insert("players", {{"name", "dan"}, {"score", 40}}));
  ASSERT_EQ(dan.id(), bob.id());
  EXPECT_THAT(score.Get(bob),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale or deleted row")));
  EXPECT_THAT(score.GetNullable(bob), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(score.Get(dan), IsOkAndHolds(40));
}

TEST(ColumnTest, RowOfAnotherTable) {
  Database db = Players();
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Row item, db.Insert("items", {{"score", 1}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  EXPECT_THAT(score.Get(item),
              StatusIs(absl::StatusCode::kInvalidArgument, "players.score: row of table 'items'"));
}

TEST(ColumnTest, RowOfAnotherDatabase) {
  Database db = Players();
  Database other = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  const Row theirs = PlayerRow(other, 1);
  EXPECT_THAT(score.Get(theirs),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("row of table 'players' does not belong to this database")));
  // Writes: a row of the other database, and a handle of the other database.
  const std::string before = db.DebugString();
  EXPECT_THAT(db.Set(theirs, score, 1), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("does not belong to this database")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> their_score, other.Int64Column("players", "score"));
  EXPECT_THAT(db.Set(PlayerRow(db, 1), their_score, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another database")));
  EXPECT_THAT(db.Each("players", their_score),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another database")));
  EXPECT_EQ(db.DebugString(), before);
}

TEST(ColumnTest, DroppedAndRecreatedTable) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  const Row ann = PlayerRow(db, 1);
  ASSERT_OK(db.DropTable("players"));
  EXPECT_THAT(score.Get(ann),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(score.CheckValid(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                           HasSubstr("players.score: stale column handle")));
  EXPECT_THAT(db.Each("players", score), StatusIs(absl::StatusCode::kNotFound));

  // A new incarnation under the same name.
  Database same;
  ASSERT_OK(same.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> old_score, same.Int64Column("players", "score"));
  ASSERT_OK(same.DropTable("players"));
  ASSERT_OK(same.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Row fresh, same.Insert("players", {{"score", 9}}));
  const std::string before = same.DebugString();
  EXPECT_THAT(old_score.Get(fresh),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(same.Set(fresh, old_score, 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(same.Each("players", old_score),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  EXPECT_EQ(same.DebugString(), before);
  ASSERT_OK_AND_ASSIGN(Column<int64_t> new_score, same.Int64Column("players", "score"));
  EXPECT_THAT(new_score.Get(fresh), IsOkAndHolds(9));
}

TEST(ColumnTest, SetWritesAndRollbackUndoes) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> gold, db.Int64Column("players", "gold"));
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> name, db.StringColumn("players", "name"));
  ASSERT_OK_AND_ASSIGN(Column<double> speed, db.DoubleColumn("players", "speed"));
  const Row ann = PlayerRow(db, 1);
  const std::string before = db.DebugString();
  ASSERT_OK(db.Begin());
  ASSERT_OK(db.Set(ann, score, 42));
  ASSERT_OK(db.Set(ann, name, "anna"));
  ASSERT_OK(db.SetNull(ann, gold));
  ASSERT_OK(db.Set(ann, speed, 3.25));
  EXPECT_THAT(score.Get(ann), IsOkAndHolds(42));
  EXPECT_THAT(ann.GetString("name"), IsOkAndHolds(std::string_view("anna")));
  EXPECT_THAT(gold.IsNull(ann), IsOkAndHolds(true));
  // The unique index follows the new name.
  EXPECT_THAT(db.Insert("players", {{"name", "anna"}}), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK(db.Rollback());
  EXPECT_EQ(db.DebugString(), before);
  EXPECT_OK(db.CheckConsistency());
  EXPECT_THAT(score.Get(ann), IsOkAndHolds(10));

  // Set and Update leave the same state.
  Database by_name = Players();
  ASSERT_OK(db.Set(ann, score, 7));
  ASSERT_OK(by_name.Update(PlayerRow(by_name, 1), {{"score", 7}}).status());
  EXPECT_EQ(db.DebugString(), by_name.DebugString());
}

TEST(ColumnTest, SetRefusesNullIntoNotNullAndDuplicateKeys) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> name, db.StringColumn("players", "name"));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> id, db.Int64Column("players", "id"));
  const Row ann = PlayerRow(db, 1);
  const std::string before = db.DebugString();
  EXPECT_THAT(db.SetNull(ann, score), StatusIs(absl::StatusCode::kInvalidArgument,
                                               "players.score: NULL for a NOT NULL column"));
  EXPECT_THAT(db.Set(ann, name, "bob"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("players.name")));
  EXPECT_THAT(db.Set(ann, id, 2),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("players.id")));
  EXPECT_EQ(db.DebugString(), before);
  // Writing the value a cell already holds is not a duplicate.
  EXPECT_OK(db.Set(ann, name, "ann"));
  EXPECT_EQ(db.DebugString(), before);
}

TEST(ColumnTest, SetKeepsForeignKeysAsUpdateDoes) {
  Database db;
  ASSERT_OK(db.CreateTable("teams", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("team_id")));
  ASSERT_OK(db.HasMany("teams", "players", {.on_delete = OnDelete::kRestrict}));
  ASSERT_OK_AND_ASSIGN(Row team, db.Insert("teams", {}));
  ASSERT_OK_AND_ASSIGN(Row player, db.Insert("players", {{"team_id", 1}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> team_id, db.Int64Column("players", "team_id"));
  const std::string before = db.DebugString();
  EXPECT_THAT(db.Set(player, team_id, 99), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db.DebugString(), before);
  ASSERT_OK_AND_ASSIGN(Row team2, db.Insert("teams", {}));
  ASSERT_OK(db.Set(player, team_id, 2));
  // The foreign-key index follows: team 1 has no children left.
  EXPECT_THAT(db.Related(team, "players").Count(), IsOkAndHolds(0));
  EXPECT_THAT(db.Related(team2, "players").Count(), IsOkAndHolds(1));
  EXPECT_OK(db.CheckConsistency());
}

TEST(ColumnTest, SetRowOfAnotherTableIsRefused) {
  Database db = Players();
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Row item, db.Insert("items", {{"score", 1}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  const std::string before = db.DebugString();
  EXPECT_THAT(db.Set(item, score, 5),
              StatusIs(absl::StatusCode::kInvalidArgument, "players.score: row of table 'items'"));
  EXPECT_THAT(db.Set(Row(), score, 5), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db.DebugString(), before);
}

// (name, score) pairs of an Each over players.
std::vector<std::pair<std::string, int64_t>> Scores(const Database& db) {
  std::vector<std::pair<std::string, int64_t>> out;
  absl::StatusOr<Column<std::string_view>> name = db.StringColumn("players", "name");
  absl::StatusOr<Column<int64_t>> score = db.Int64Column("players", "score");
  EXPECT_OK(name.status());
  EXPECT_OK(score.status());
  absl::StatusOr<EachRange<std::string_view, int64_t>> range = db.Each("players", *name, *score);
  EXPECT_OK(range.status());
  if (!range.ok()) return out;
  for (auto [row, n, s] : *range) {
    EXPECT_TRUE(row.valid());
    out.emplace_back(std::string(n), s);
  }
  return out;
}

TEST(EachTest, VisitsLiveRowsInSlotOrder) {
  Database db = Players();
  using P = std::pair<std::string, int64_t>;
  EXPECT_THAT(Scores(db), ElementsAre(P("ann", 10), P("bob", 20), P("cyd", 30)));
  ASSERT_OK(db.Delete(PlayerRow(db, 2)));
  EXPECT_THAT(Scores(db), ElementsAre(P("ann", 10), P("cyd", 30)));
  ASSERT_OK(db.Delete(PlayerRow(db, 1)));
  ASSERT_OK(db.Delete(PlayerRow(db, 3)));
  EXPECT_THAT(Scores(db), ElementsAre());
}

TEST(EachTest, RowsAreCheckedHandles) {
  Database db = Players();
  ASSERT_OK(db.Delete(PlayerRow(db, 2)));  // generations move: rows carry them
  ASSERT_OK_AND_ASSIGN(Row dan, db.Insert("players", {{"name", "dan"}, {"score", 40}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(auto range, db.Each("players", score));
  std::vector<Row> rows;
  for (auto [row, s] : range) {
    EXPECT_THAT(row.GetInt64("score"), IsOkAndHolds(s));
    rows.push_back(row);
  }
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], dan);
}

TEST(EachTest, EmptyTableAndNoColumns) {
  Database db;
  ASSERT_OK(db.CreateTable("empty", Schema().Int64("id", PrimaryKey()).Int64("v")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> v, db.Int64Column("empty", "v"));
  ASSERT_OK_AND_ASSIGN(auto range, db.Each("empty", v));
  EXPECT_EQ(range.begin(), range.end());
  Database players = Players();
  ASSERT_OK_AND_ASSIGN(auto rows, players.Each("players"));
  int n = 0;
  for (auto [row] : rows) n += row.valid() ? 1 : 0;
  EXPECT_EQ(n, 3);
}

TEST(EachTest, SkipsRowsWithNullInAnyColumn) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> gold, db.Int64Column("players", "gold"));
  ASSERT_OK_AND_ASSIGN(Column<double> speed, db.DoubleColumn("players", "speed"));
  ASSERT_OK_AND_ASSIGN(auto with_gold, db.Each("players", gold));
  std::vector<int64_t> golds;
  for (auto [row, g] : with_gold) golds.push_back(g);
  EXPECT_THAT(golds, ElementsAre(5, 7));
  ASSERT_OK_AND_ASSIGN(auto both, db.Each("players", gold, speed));
  std::vector<double> speeds;
  for (auto [row, g, s] : both) speeds.push_back(s);
  EXPECT_THAT(speeds, ElementsAre(1.5));  // bob has no gold, cyd no speed
}

TEST(EachTest, ManyRowsAcrossBitmapWords) {
  Database db;
  ASSERT_OK(db.CreateTable("t", Schema().Int64("id", PrimaryKey()).Int64("v")));
  RowBatch batch;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < 1000; ++i) values.push_back(i);
  batch.Int64("v", values);
  ASSERT_OK(db.InsertBatch("t", std::move(batch)).status());
  // Delete every row whose value is a multiple of 3, and set some NULL.
  ASSERT_OK_AND_ASSIGN(Column<int64_t> v, db.Int64Column("t", "v"));
  int64_t expected = 0;
  {
    ASSERT_OK_AND_ASSIGN(auto range, db.Each("t", v));
    std::vector<Row> doomed;
    for (auto [row, x] : range) {
      if (x % 3 == 0) doomed.push_back(row);
      if (x % 3 == 1 && x % 64 == 1) {
        ASSERT_OK(db.SetNull(row, v));
      }
    }
    for (const Row& row : doomed) ASSERT_OK(db.Delete(row));
  }
  for (int64_t i = 0; i < 1000; ++i) {
    if (i % 3 != 0 && !(i % 3 == 1 && i % 64 == 1)) expected += i;
  }
  ASSERT_OK_AND_ASSIGN(auto range, db.Each("t", v));
  int64_t sum = 0;
  for (auto [row, x] : range) sum += x;
  EXPECT_EQ(sum, expected);
}

TEST(EachTest, WritesDuringTheLoopAreSafe) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(auto range, db.Each("players", score));
  std::vector<int64_t> seen;
  for (auto [row, s] : range) {
    seen.push_back(s);
    ASSERT_OK(db.Set(row, score, s + 1));
    if (s == 10) {
      ASSERT_OK(db.Delete(PlayerRow(db, 2)));  // ahead: skipped
      // Appended (no free slot is reused by a batch): visited, and the
      // columns' storage may move under the loop.
      RowBatch batch;
      batch.String("name", {"eve", "fay"}).Int64("score", {100, 200});
      ASSERT_OK(db.InsertBatch("players", std::move(batch)).status());
    }
  }
  EXPECT_THAT(seen, ElementsAre(10, 30, 100, 200));
  EXPECT_THAT(score.Get(PlayerRow(db, 3)), IsOkAndHolds(31));
}

TEST(EachTest, ErrorsAndTableMismatch) {
  Database db = Players();
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> item_score, db.Int64Column("items", "score"));
  EXPECT_THAT(db.Each("players", item_score),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items.score")));
  EXPECT_THAT(db.Each("nope", item_score), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db.Each("players", Column<int64_t>()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "empty column handle"));
}

TEST(EachTest, DropInsideTheLoopEndsIt) {
  Database db = Players();
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(auto range, db.Each("players", score));
  int n = 0;
  for ([[maybe_unused]] auto [row, s] : range) {
    ++n;
    ASSERT_OK(db.DropTable("players"));
  }
  EXPECT_EQ(n, 1);
}

// Row::Get*("name") resolves names by length and an 8-byte prefix on tables
// of up to 24 columns, by hash beyond: both must find exactly the column.
TEST(RowNameLookupTest, LongSharedPrefixesAndWideTables) {
  Database db;
  ASSERT_OK(db.CreateTable("units", Schema()
                                        .Int64("id", PrimaryKey())
                                        .Double("position_x")
                                        .Double("position_y")
                                        .Int64("position")
                                        .Int64("positio")
                                        .String("p")));
  ASSERT_OK_AND_ASSIGN(Row unit, db.Insert("units", {{"position_x", 1.0},
                                                     {"position_y", 2.0},
                                                     {"position", 3},
                                                     {"positio", 4},
                                                     {"p", "short"}}));
  EXPECT_THAT(unit.GetDouble("position_x"), IsOkAndHolds(1.0));
  EXPECT_THAT(unit.GetDouble("position_y"), IsOkAndHolds(2.0));
  EXPECT_THAT(unit.GetInt64("position"), IsOkAndHolds(3));
  EXPECT_THAT(unit.GetInt64("positio"), IsOkAndHolds(4));
  EXPECT_THAT(unit.GetString("p"), IsOkAndHolds(std::string_view("short")));
  EXPECT_THAT(unit.GetDouble("position_z"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'units': no column named 'position_z'")));
  EXPECT_THAT(unit.GetInt64("position_x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "units.position_x: column is double, not int64"));

  Schema wide = Schema().Int64("id", PrimaryKey());
  for (int i = 0; i < 40; ++i) wide.Int64("column_number_" + std::to_string(i));
  ASSERT_OK(db.CreateTable("wide", std::move(wide)));
  Attrs attrs;
  for (int i = 0; i < 40; ++i) attrs.emplace_back("column_number_" + std::to_string(i), i * 10);
  ASSERT_OK_AND_ASSIGN(Row row, db.Insert("wide", attrs));
  for (int i = 0; i < 40; ++i) {
    EXPECT_THAT(row.GetInt64("column_number_" + std::to_string(i)), IsOkAndHolds(i * 10));
  }
  EXPECT_THAT(row.GetInt64("column_number_40"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kin::test
