// Typed multi-column writes: Database::Set(row, kin::Assign(...), ...).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// teams (id, tag unique) HasMany players with cascading actions, so the
// foreign key is enforced; players carry a hash (name), an ordered (score)
// and a composite (guild, score) index.
class SetCellsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("teams", Schema().Int64("id", PrimaryKey()).String("tag", Unique())));
    ASSERT_OK(db_.CreateTable("players", Schema()
                                             .Int64("id", PrimaryKey())
                                             .String("name", Unique())
                                             .Int64("score", NotNull(), Default(0))
                                             .Int64("gold")
                                             .String("guild")
                                             .Int64("team_id")
                                             .Double("speed")
                                             .Bool("alive", Default(true))));
    ASSERT_OK(db_.CreateIndex("players", "score", IndexKind::kOrdered));
    ASSERT_OK(db_.CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered));
    ASSERT_OK(db_.HasMany("teams", "players",
                          {.on_delete = OnDelete::kCascade, .on_update = OnUpdate::kCascade}));
    ASSERT_OK_AND_ASSIGN(red_, db_.Insert("teams", {{"tag", "red"}}));
    ASSERT_OK(db_.Insert("teams", {{"tag", "blue"}}).status());
    ASSERT_OK_AND_ASSIGN(
        ann_,
        db_.Insert("players",
                   {{"name", "ann"}, {"score", 10}, {"gold", 5}, {"guild", "a"}, {"team_id", 1}}));
    ASSERT_OK_AND_ASSIGN(
        bob_,
        db_.Insert("players", {{"name", "bob"}, {"score", 20}, {"guild", "a"}, {"team_id", 2}}));
    ASSERT_OK_AND_ASSIGN(name_, db_.StringColumn("players", "name"));
    ASSERT_OK_AND_ASSIGN(score_, db_.Int64Column("players", "score"));
    ASSERT_OK_AND_ASSIGN(gold_, db_.Int64Column("players", "gold"));
    ASSERT_OK_AND_ASSIGN(guild_, db_.StringColumn("players", "guild"));
    ASSERT_OK_AND_ASSIGN(team_id_, db_.Int64Column("players", "team_id"));
    ASSERT_OK_AND_ASSIGN(speed_, db_.DoubleColumn("players", "speed"));
    ASSERT_OK_AND_ASSIGN(alive_, db_.BoolColumn("players", "alive"));
  }

  // The ids of the players rows `q` returns, in order.
  std::vector<int64_t> Ids(const Query& q) {
    std::vector<int64_t> ids;
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_OK(rows.status());
    if (!rows.ok()) return ids;
    for (const ResultRow& row : *rows) ids.push_back(row.GetInt64("id").value_or(-1));
    return ids;
  }

  Database db_;
  Row red_, ann_, bob_;
  Column<std::string_view> name_, guild_;
  Column<int64_t> score_, gold_, team_id_;
  Column<double> speed_;
  Column<bool> alive_;
};

TEST_F(SetCellsTest, WritesEveryCellAndItsIndexes) {
  ASSERT_OK(db_.Set(ann_, Assign(score_, 42), Assign(gold_, 7), Assign(name_, "anna"),
                    Assign(guild_, "b"), Assign(speed_, 2.5), Assign(alive_, false),
                    Assign(team_id_, 2)));
  EXPECT_THAT(score_.Get(ann_), IsOkAndHolds(42));
  EXPECT_THAT(gold_.Get(ann_), IsOkAndHolds(7));
  EXPECT_THAT(name_.Get(ann_), IsOkAndHolds(std::string_view("anna")));
  EXPECT_THAT(speed_.Get(ann_), IsOkAndHolds(2.5));
  EXPECT_THAT(alive_.Get(ann_), IsOkAndHolds(false));
  // Hash, ordered, composite and foreign-key indexes all see the new cells.
  EXPECT_THAT(Ids(db_.Query("players").Where("name", "anna")), ElementsAre(1));
  EXPECT_THAT(Ids(db_.Query("players").Where("name", "ann")), ElementsAre());
  EXPECT_THAT(Ids(db_.Query("players").Where("score", ">=", 30)), ElementsAre(1));
  EXPECT_THAT(Ids(db_.Query("players").Where("guild", "b").OrderBy("score", kDesc).Limit(1)),
              ElementsAre(1));
  EXPECT_THAT(Ids(db_.Query("players").Where("guild", "a").OrderBy("score", kDesc).Limit(5)),
              ElementsAre(2));
  ASSERT_OK_AND_ASSIGN(ResultSet red_players, db_.Related(red_, "players").Get());
  EXPECT_TRUE(red_players.empty());
  EXPECT_OK(db_.CheckConsistency());
  // The old unique value is free again.
  EXPECT_OK(db_.Insert("players", {{"name", "ann"}}).status());
}

TEST_F(SetCellsTest, ExplicitNulls) {
  ASSERT_OK(db_.Set(ann_, AssignNull(gold_), AssignNull(guild_), Assign(score_, 11)));
  EXPECT_THAT(gold_.IsNull(ann_), IsOkAndHolds(true));
  EXPECT_THAT(guild_.GetNullable(ann_), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(Ids(db_.Query("players").Where("guild", "a")), ElementsAre(2));
  EXPECT_OK(db_.CheckConsistency());
  // And back from NULL.
  ASSERT_OK(db_.Set(ann_, Assign(gold_, 3), Assign(guild_, "c")));
  EXPECT_THAT(gold_.Get(ann_), IsOkAndHolds(3));
  EXPECT_THAT(Ids(db_.Query("players").Where("guild", "c")), ElementsAre(1));
}

TEST_F(SetCellsTest, BadValueChangesNothingAndNamesTheColumn) {
  const std::string before = db_.DebugString();
  // The good cells come first: none of them may be written.
  EXPECT_THAT(db_.Set(ann_, Assign(gold_, 1), Assign(name_, "x"), AssignNull(score_)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("players.score")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.Set(ann_, Assign(gold_, 1), Assign(name_, "bob")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("players.name")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(db_.Set(ann_, Assign(gold_, 1), Assign(team_id_, 99), Assign(score_, 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("players.team_id = 99")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(
      db_.Set(ann_, Assign(score_, 1), Assign(score_, 2)),
      StatusIs(absl::StatusCode::kInvalidArgument, "table 'players': column 'score' given twice"));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_OK(db_.CheckConsistency());
}

TEST_F(SetCellsTest, BadHandlesChangeNothing) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> team_pk, db_.Int64Column("teams", "id"));
  ASSERT_OK(db_.CreateTable("scratch", Schema().Int64("id", PrimaryKey()).Int64("n")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> old_n, db_.Int64Column("scratch", "n"));
  ASSERT_OK(db_.DropTable("scratch"));
  ASSERT_OK(db_.CreateTable("scratch", Schema().Int64("id", PrimaryKey()).Int64("n")));
  ASSERT_OK_AND_ASSIGN(Row scratch, db_.Insert("scratch", {{"n", 1}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> new_n, db_.Int64Column("scratch", "n"));
  Database other;
  ASSERT_OK(other.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> other_score, other.Int64Column("players", "score"));
  ASSERT_OK_AND_ASSIGN(Row theirs, other.Insert("players", {{"score", 1}}));
  ASSERT_OK_AND_ASSIGN(Row gone, db_.Insert("players", {{"name", "gone"}}));
  ASSERT_OK(db_.Delete(gone));

  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Set(ann_, Assign(score_, 1), Assign(team_pk, 5)),
              StatusIs(absl::StatusCode::kInvalidArgument, "teams.id: row of table 'players'"));
  EXPECT_THAT(db_.Set(scratch, Assign(new_n, 2), Assign(old_n, 3)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  EXPECT_THAT(db_.Set(ann_, Assign(score_, 1), Assign(other_score, 5)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another database")));
  EXPECT_THAT(
      db_.Set(theirs, Assign(score_, 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not belong to this database")));
  EXPECT_THAT(db_.Set(ann_, Assign(score_, 1), Assign(Column<int64_t>(), 5)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "empty column handle"));
  EXPECT_THAT(db_.Set(gone, Assign(score_, 1), Assign(gold_, 2)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale or deleted row")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(new_n.Get(scratch), IsOkAndHolds(1));
}

TEST_F(SetCellsTest, RollbackRestoresEverything) {
  const std::string before = db_.DebugString();
  {
    Transaction tx(db_);
    ASSERT_OK(db_.Set(ann_, Assign(score_, 99), Assign(name_, "zed"), Assign(guild_, "z"),
                      AssignNull(gold_), Assign(team_id_, 2)));
    ASSERT_OK(db_.Set(bob_, Assign(score_, 98), Assign(name_, "ann")));  // ann's old name
    EXPECT_THAT(Ids(db_.Query("players").Where("name", "ann")), ElementsAre(2));
    ASSERT_OK(tx.Rollback());
  }
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_OK(db_.CheckConsistency());
  EXPECT_THAT(Ids(db_.Query("players").Where("name", "ann")), ElementsAre(1));
  EXPECT_THAT(Ids(db_.Query("players").Where("score", ">=", 50)), ElementsAre());
  EXPECT_THAT(Ids(db_.Query("players").Where("guild", "a").OrderBy("score", kDesc).Limit(5)),
              ElementsAre(2, 1));
  // A failed Set inside a transaction leaves the earlier work in place.
  Transaction tx(db_);
  ASSERT_OK(db_.Set(ann_, Assign(score_, 12), Assign(gold_, 6)));
  const std::string after_first = db_.DebugString();
  EXPECT_THAT(db_.Set(ann_, Assign(score_, 13), Assign(team_id_, 77)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), after_first);
  ASSERT_OK(tx.Commit());
  EXPECT_THAT(score_.Get(ann_), IsOkAndHolds(12));
}

TEST_F(SetCellsTest, ParentKeyChangeCascadesAndRollsBack) {
  ASSERT_OK_AND_ASSIGN(Column<int64_t> team_pk, db_.Int64Column("teams", "id"));
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> tag, db_.StringColumn("teams", "tag"));
  const std::string before = db_.DebugString();
  {
    Transaction tx(db_);
    ASSERT_OK(db_.Set(red_, Assign(team_pk, 10), Assign(tag, "crimson")));
    EXPECT_THAT(team_id_.Get(ann_), IsOkAndHolds(10));  // on update cascade
    ASSERT_OK_AND_ASSIGN(ResultSet kids, db_.Related(red_, "players").Get());
    ASSERT_EQ(kids.size(), 1u);
    EXPECT_EQ(kids[0].id(), ann_.id());
  }
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_THAT(team_id_.Get(ann_), IsOkAndHolds(1));
  // The duplicate is found before the key moves or cascades.
  EXPECT_THAT(db_.Set(red_, Assign(team_pk, 10), Assign(tag, "blue")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("teams.tag")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(SetCellsTest, OneCellFormsStillWork) {
  ASSERT_OK(db_.Set(ann_, score_, 15));
  ASSERT_OK(db_.SetNull(ann_, gold_));
  ASSERT_OK(db_.Set(ann_, Assign(score_, 16)));
  EXPECT_THAT(score_.Get(ann_), IsOkAndHolds(16));
  EXPECT_THAT(gold_.IsNull(ann_), IsOkAndHolds(true));
}

}  // namespace
}  // namespace kin::test
