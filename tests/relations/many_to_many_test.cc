// ManyToMany through a pivot table (Lucid manyToMany, Sequelize
// BelongsToMany): declaration and its errors, the handle's reads (Get,
// GetWithPivot, QueryWherePivot, Count, Has) and writes (Attach, Detach,
// Sync, Toggle, UpdatePivot, Create, Sequelize's add / set / remove), the
// relation-aware queries over it (Preload, Has, WithCount, WithAggregate),
// deletes on either side, scopes, snapshots, and random operations checked
// against a brute-force model.

#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "kin/snapshot.h"
#include "query/internal/relation_plan.h"
#include "tests/query/relation_fixture.h"  // ForcedStrategy
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

Schema PivotSchema() {
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("player_id", NotNull())
      .Int64("quest_id", NotNull())
      .Int64("progress", Default(0))
      .String("role");
}

class ManyToManyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("players", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("quests",
                              Schema().Int64("id", PrimaryKey()).String("title").Int64("reward")));
    ASSERT_OK(db_.CreateTable("player_quest", PivotSchema()));
    for (const char* name : {"ann", "ben", "cat"}) {
      ASSERT_OK_AND_ASSIGN(Row p, db_.Insert("players", {{"name", name}}));
      players_.push_back(p);
    }
    int64_t reward = 10;
    for (const char* title : {"q1", "q2", "q3", "q4"}) {
      ASSERT_OK_AND_ASSIGN(Row q, db_.Insert("quests", {{"title", title}, {"reward", reward}}));
      reward += 10;
      quests_.push_back(q);
    }
  }

  absl::Status Declare(ManyToManyOptions options = {}) {
    if (options.pivot_columns.empty()) options.pivot_columns = {"progress"};
    return db_.ManyToMany("players", "quests", std::move(options));
  }

  template <typename Rows>
  static std::vector<std::string> Titles(const Rows& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("title").value()));
    return out;
  }
  static std::vector<std::string> Titles(const std::vector<PivotRow>& rows) {
    std::vector<std::string> out;
    for (const PivotRow& r : rows) out.push_back(std::string(r.row.GetString("title").value()));
    return out;
  }
  static std::vector<int64_t> Progress(const std::vector<PivotRow>& rows) {
    std::vector<int64_t> out;
    for (const PivotRow& r : rows) out.push_back(r.pivot.GetInt64("progress").value());
    return out;
  }
  int64_t PivotRows() { return db_.Query("player_quest").Count().value(); }

  Database db_;
  std::vector<Row> players_;
  std::vector<Row> quests_;
};

TEST_F(ManyToManyTest, DeclaresWithDefaultsAndInverse) {
  ASSERT_OK(Declare());
  ASSERT_OK_AND_ASSIGN(const RelationSpec* quests, db_.GetRelation("players", "quests"));
  EXPECT_EQ(quests->kind, RelationKind::kManyToMany);
  EXPECT_EQ(quests->related_table, "quests");
  EXPECT_EQ(quests->through_table, "player_quest");
  EXPECT_EQ(quests->foreign_key, "player_id");
  EXPECT_EQ(quests->through_key, "quest_id");
  EXPECT_EQ(quests->local_key, "id");
  EXPECT_EQ(quests->related_key, "id");
  EXPECT_THAT(quests->pivot_columns, ElementsAre("progress"));
  EXPECT_EQ(quests->on_delete, OnDelete::kCascade);
  EXPECT_EQ(quests->on_duplicate, OnDuplicate::kIgnore);
  EXPECT_EQ(quests->inverse, "players");
  EXPECT_EQ(quests->child_table(), "player_quest");
  ASSERT_OK_AND_ASSIGN(const RelationSpec* players, db_.GetRelation("quests", "players"));
  EXPECT_EQ(players->kind, RelationKind::kManyToMany);
  EXPECT_EQ(players->foreign_key, "quest_id");
  EXPECT_EQ(players->through_key, "player_id");
  EXPECT_EQ(players->inverse, "quests");
  // Both pivot keys got an engine foreign key (and so a hash index).
  ASSERT_EQ(db_.foreign_keys().size(), 2u);
  EXPECT_EQ(db_.foreign_keys()[0].child_column, "player_id");
  EXPECT_EQ(db_.foreign_keys()[1].child_column, "quest_id");
  EXPECT_EQ(RelationKindName(RelationKind::kManyToMany), "many to many");
}

TEST_F(ManyToManyTest, DeclareBadInputChangesNothing) {
  ASSERT_OK(db_.CreateTable("badges", Schema().Int64("id", PrimaryKey()).String("name")));
  ASSERT_OK(db_.CreateTable(
      "badge_player",
      Schema().Int64("id", PrimaryKey()).String("player_id").Int64("badge_id").Int64("level")));
  ASSERT_OK(db_.Insert("player_quest", {{"player_id", 1}, {"quest_id", 99}}).status());
  const std::string before = db_.DebugString();
  auto unchanged = [&] {
    EXPECT_EQ(db_.DebugString(), before);
    EXPECT_TRUE(db_.Relations().empty());
    EXPECT_TRUE(db_.foreign_keys().empty());
  };
  EXPECT_THAT(db_.ManyToMany("players", "nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.pivot_table = "pq"}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("relation players.quests: no pivot table named 'pq'")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.foreign_key = "owner_id"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'player_quest': no column named 'owner_id' (foreign key "
                                 "of players.quests)")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.related_key = "rank"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'quests': no column named 'rank' (related key of "
                                 "players.quests)")));
  EXPECT_THAT(db_.ManyToMany("players", "badges"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("foreign key badge_player.player_id is string but local key "
                                 "players.id is int64")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.pivot_columns = {"progres"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no column named 'progres' (pivot column of players.quests)")));
  EXPECT_THAT(db_.ManyToMany("players", "quests",
                             {.related_foreign_key = "quest_id", .related_key = "reward"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("quests.reward is neither primary nor unique")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.on_delete = OnDelete::kSetNull}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("on_delete must be")));
  EXPECT_THAT(db_.ManyToMany("players", "quests", {.scope = {{"quest_id", 1}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pivot key")));
  EXPECT_THAT(db_.ManyToMany("players", "players"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("self-relation")));
  // A pivot row naming a missing quest: the foreign key could not hold.
  EXPECT_THAT(db_.ManyToMany("players", "quests"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("player_quest.quest_id = 99, which names no 'quests' row")));
  unchanged();
}

// Schema changes follow the relation's second step: renaming the pivot
// table, its keys and pivot columns keeps the relation working, and
// dropping a column the relation reads is refused naming it.
TEST_F(ManyToManyTest, RenamesFollowThePivotAndDropsAreRefused) {
  ASSERT_OK(Declare());
  ASSERT_OK(db_.Related(players_[0], "quests")
                .Attach({quests_[0], quests_[2]}, {{"progress", 5}})
                .status());
  ASSERT_OK(db_.RenameTable("player_quest", "quest_log"));
  ASSERT_OK(db_.RenameColumn("quest_log", "quest_id", "task_id"));
  ASSERT_OK(db_.RenameColumn("quest_log", "progress", "done"));
  ASSERT_OK(db_.RenameColumn("quests", "id", "quest_no"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* spec, db_.GetRelation("players", "quests"));
  EXPECT_EQ(spec->through_table, "quest_log");
  EXPECT_EQ(spec->through_key, "task_id");
  EXPECT_EQ(spec->related_key, "quest_no");
  EXPECT_THAT(spec->pivot_columns, ElementsAre("done"));
  ASSERT_OK_AND_ASSIGN(ResultSet quests, db_.Related(players_[0], "quests").Get());
  EXPECT_THAT(Titles(quests), ElementsAre("q1", "q3"));
  ASSERT_OK_AND_ASSIGN(ResultSet counted, db_.Query("players").WithCount("quests").Get());
  EXPECT_THAT(counted[0].Extra("quests_count"), IsOkAndHolds(Value(2)));
  ASSERT_OK(db_.Related(players_[1], "quests").Attach({quests_[1]}).status());
  EXPECT_THAT(db_.Related(players_[1], "quests").Count(), IsOkAndHolds(1));

  const std::string before = db_.DebugString();
  for (auto [table, column] : std::vector<std::pair<std::string, std::string>>{
           {"quest_log", "task_id"}, {"quest_log", "done"}, {"quests", "quest_no"}}) {
    absl::Status dropped = db_.DropColumn(table, column);
    EXPECT_THAT(dropped, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("quests")))
        << table << "." << column;
  }
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ManyToManyTest, AttachReadsAndPivotColumns) {
  ASSERT_OK(Declare());
  RelationHandle ann = db_.Related(players_[0], "quests");
  EXPECT_THAT(Titles(ann.Get().value()), IsEmpty());
  EXPECT_EQ(ann.Count().value(), 0);
  ASSERT_OK_AND_ASSIGN(int64_t n, ann.Attach({quests_[2], Value(int64_t{1})}, {{"progress", 5}}));
  EXPECT_EQ(n, 2);
  ASSERT_OK_AND_ASSIGN(n, ann.Attach(PivotValues{{quests_[3], {{"progress", 40}}}}));
  EXPECT_EQ(n, 1);
  // Link order, pivot columns on each row.
  EXPECT_THAT(Titles(ann.Get().value()), ElementsAre("q3", "q1", "q4"));
  ASSERT_OK_AND_ASSIGN(std::vector<PivotRow> linked, ann.GetWithPivot());
  EXPECT_THAT(Titles(linked), ElementsAre("q3", "q1", "q4"));
  EXPECT_THAT(Progress(linked), ElementsAre(5, 5, 40));
  EXPECT_EQ(linked[0].pivot.GetInt64("player_id").value(), 1);
  EXPECT_EQ(ann.Count().value(), 3);
  EXPECT_TRUE(ann.Has(quests_[0]).value());
  EXPECT_FALSE(ann.Has(quests_[1]).value());
  EXPECT_TRUE(ann.HasAll({quests_[0], Value(int64_t{4})}).value());
  EXPECT_EQ(ann.Find(Value(int64_t{3})).value(), quests_[2]);
  EXPECT_THAT(ann.Find(Value(int64_t{2})), StatusIs(absl::StatusCode::kNotFound));
  // Query narrows the related rows; QueryWherePivot the links.
  EXPECT_THAT(Titles(ann.Query().Where("reward", ">", 15).OrderBy("reward").Get().value()),
              ElementsAre("q3", "q4"));
  EXPECT_THAT(
      Titles(ann.QueryWherePivot([](Query& q) { q.Where("progress", ">=", 10); }).Get().value()),
      ElementsAre("q4"));
  EXPECT_THAT(Titles(ann.GetWithPivot([](Query& q) { q.Where("progress", "<", 10); }).value()),
              ElementsAre("q3", "q1"));
  // The inverse sees the same links.
  EXPECT_THAT(db_.Related(quests_[0], "players").Get().value().size(), 1u);
  EXPECT_EQ(db_.Related(quests_[1], "players").Count().value(), 0);
  // A duplicate is ignored by default: nothing inserted, nothing changed.
  const std::string before = db_.DebugString();
  EXPECT_EQ(ann.Attach({quests_[0]}, {{"progress", 99}}).value(), 0);
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ManyToManyTest, AttachBadInputChangesNothing) {
  ASSERT_OK(Declare({.on_duplicate = OnDuplicate::kRefuse}));
  RelationHandle ann = db_.Related(players_[0], "quests");
  ASSERT_OK(ann.Attach({quests_[0]}).status());
  const std::string before = db_.DebugString();
  EXPECT_THAT(ann.Attach({quests_[1], quests_[0]}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("relation 'players.quests': the 'players' row with id = 1 is "
                                 "already linked to the 'quests' row with id = 1")));
  EXPECT_THAT(ann.Attach({quests_[1], Value(int64_t{42})}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("42")));
  EXPECT_THAT(ann.Attach({players_[1]}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a row of 'players' is not a 'quests' row")));
  EXPECT_THAT(ann.Attach({quests_[1]}, {{"bogus", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus")));
  EXPECT_THAT(ann.Attach({quests_[1]}, {{"progress", "lots"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("player_quest.progress")));
  EXPECT_THAT(ann.Attach({Value("q2")}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db_.Related(players_[0], "quest").Attach({quests_[1]}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no relation named 'quest'")));
  // An unsaved parent is not inserted when the attach fails.
  EXPECT_THAT(
      db_.Related(NewRow{"players", {{"name", "dan"}}}, "quests").Attach({Value(int64_t{42})}),
      StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(db_.DebugString(), before);
  // ... and is inserted with its links when it succeeds.
  RelationHandle dan = db_.Related(NewRow{"players", {{"name", "dan"}}}, "quests");
  EXPECT_EQ(dan.Attach({quests_[1]}).value(), 1);
  EXPECT_THAT(Titles(dan.Get().value()), ElementsAre("q2"));
}

TEST_F(ManyToManyTest, DetachSyncToggleUpdatePivot) {
  ASSERT_OK(Declare());
  RelationHandle ann = db_.Related(players_[0], "quests");
  ASSERT_OK(ann.Attach({quests_[0], quests_[1], quests_[2]}).status());
  // Detach: linked ones count, others (and repeats) count 0.
  EXPECT_EQ(ann.Detach({quests_[1], quests_[3], quests_[1]}).value(), 1);
  EXPECT_THAT(Titles(ann.Get().value()), ElementsAre("q1", "q3"));
  EXPECT_EQ(ann.Detach({}).value(), 0);
  // Sync with detaching: exactly these, values updated where they differ.
  ASSERT_OK_AND_ASSIGN(SyncResult done, ann.Sync(PivotValues{{quests_[2], {{"progress", 7}}},
                                                             {quests_[3], {{"progress", 1}}}}));
  EXPECT_EQ(done, (SyncResult{.attached = 1, .detached = 1, .updated = 1}));
  EXPECT_THAT(Titles(ann.GetWithPivot().value()), ElementsAre("q3", "q4"));
  EXPECT_THAT(Progress(ann.GetWithPivot().value()), ElementsAre(7, 1));
  // The same again changes nothing.
  EXPECT_EQ(ann.Sync(PivotValues{{quests_[2], {{"progress", 7}}}, {quests_[3], {}}}).value(),
            SyncResult{});
  // Without detaching: others stay.
  ASSERT_OK_AND_ASSIGN(done, ann.Sync({quests_[0]}, /*detaching=*/false));
  EXPECT_EQ(done, (SyncResult{.attached = 1}));
  EXPECT_EQ(ann.Count().value(), 3);
  // Toggle.
  ASSERT_OK_AND_ASSIGN(done, ann.Toggle({quests_[0], quests_[1]}));
  EXPECT_EQ(done, (SyncResult{.attached = 1, .detached = 1}));
  EXPECT_THAT(Titles(ann.Get().value()), ElementsAre("q3", "q4", "q2"));
  // UpdatePivot: 1 for a link, 0 otherwise; the keys cannot be moved.
  EXPECT_EQ(ann.UpdatePivot(quests_[1], {{"progress", 50}, {"quest_id", 4}}).value(), 1);
  EXPECT_EQ(ann.UpdatePivot(quests_[0], {{"progress", 50}}).value(), 0);
  EXPECT_THAT(Progress(ann.GetWithPivot().value()), ElementsAre(7, 1, 50));
  // Sync to nothing, DetachAll.
  EXPECT_EQ(ann.Sync(std::vector<RowOrKey>{}).value(), (SyncResult{.detached = 3}));
  ASSERT_OK(ann.Attach({quests_[0], quests_[1]}).status());
  EXPECT_EQ(ann.DetachAll().value(), 2);
  EXPECT_EQ(PivotRows(), 0);
  // Bad input changes nothing.
  ASSERT_OK(ann.Attach({quests_[0]}).status());
  const std::string before = db_.DebugString();
  EXPECT_THAT(ann.Sync({quests_[1], Value(int64_t{77})}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("77")));
  EXPECT_THAT(ann.Toggle({quests_[0], Value(int64_t{77})}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ann.Detach({quests_[0], Value(int64_t{77})}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ann.UpdatePivot(quests_[0], {{"progress", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ManyToManyTest, CreateAndSequelizeNames) {
  ASSERT_OK(Declare());
  RelationHandle ben = db_.Related(players_[1], "quests");
  ASSERT_OK_AND_ASSIGN(Row q5, ben.Create({{"title", "q5"}, {"reward", 5}}));
  EXPECT_EQ(q5.GetString("title").value(), "q5");
  ASSERT_OK_AND_ASSIGN(Row q6, ben.CreateWithPivot({{"title", "q6"}}, {{"progress", 3}}));
  EXPECT_TRUE(ben.Has(q6).value());
  ASSERT_OK_AND_ASSIGN(std::vector<Row> more,
                       ben.CreateMany({{{"title", "q7"}}, {{"title", "q8"}}}));
  EXPECT_EQ(more.size(), 2u);
  EXPECT_THAT(Titles(ben.Get().value()), ElementsAre("q5", "q6", "q7", "q8"));
  EXPECT_THAT(Progress(ben.GetWithPivot().value()), ElementsAre(0, 3, 0, 0));
  // Failures leave nothing behind: neither the related row nor its link.
  const std::string before = db_.DebugString();
  EXPECT_THAT(ben.Create({{"nope", 1}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ben.CreateWithPivot({{"title", "q9"}}, {{"progress", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ben.CreateMany({{{"title", "ok"}}, {{"reward", "bad"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1")));
  EXPECT_EQ(db_.DebugString(), before);
  // Sequelize: add / set / remove / has / count.
  RelationHandle cat = db_.Related(players_[2], "quests");
  EXPECT_EQ(cat.Add(quests_[0]).value(), 1);
  EXPECT_EQ(cat.AddMany({quests_[0], quests_[1]}).value(), 1);
  EXPECT_EQ(cat.Set({quests_[1], quests_[2]}).value(), 2);  // one attached, one detached
  EXPECT_THAT(Titles(cat.Get().value()), ElementsAre("q2", "q3"));
  EXPECT_EQ(cat.Remove(quests_[1]).value(), 1);
  EXPECT_EQ(cat.RemoveMany({quests_[1], quests_[2]}).value(), 1);
  EXPECT_EQ(cat.Count().value(), 0);
  EXPECT_EQ(cat.Count([](Query& q) { q.Where("reward", ">", 0); }).value(), 0);
  // HasMany-only writes and BelongsTo calls name the kind.
  EXPECT_THAT(cat.Update({{"title", "x"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'players.quests' is many to many; update needs a has many or "
                                 "has one relation")));
  EXPECT_THAT(cat.Children(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cat.Associate(players_[0]),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is many to many")));
}

TEST_F(ManyToManyTest, WrongKindForPivotOperations) {
  ASSERT_OK(db_.CreateTable("scores", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
  ASSERT_OK(db_.HasMany("players", "scores"));
  const std::string before = db_.DebugString();
  RelationHandle scores = db_.Related(players_[0], "scores");
  auto refused = StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("is has many; attach needs a many to many relation"));
  EXPECT_THAT(scores.Attach({Value(int64_t{1})}), refused);
  EXPECT_THAT(scores.GetWithPivot(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(scores.Toggle({}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(scores.QueryWherePivot([](Query&) {}).Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ManyToManyTest, DeletingEitherSideRemovesOrIsRefused) {
  ASSERT_OK(Declare());
  ASSERT_OK(db_.Related(players_[0], "quests").Attach({quests_[0], quests_[1]}).status());
  ASSERT_OK(db_.Related(players_[1], "quests").Attach({quests_[0]}).status());
  ASSERT_OK(db_.Delete(quests_[0]));
  EXPECT_EQ(PivotRows(), 1);
  EXPECT_THAT(Titles(db_.Related(players_[0], "quests").Get().value()), ElementsAre("q2"));
  ASSERT_OK(db_.Delete(players_[0]));
  EXPECT_EQ(PivotRows(), 0);
  // The foreign keys hold on the pivot side too: no link to a missing row.
  EXPECT_FALSE(db_.Insert("player_quest", {{"player_id", 1}, {"quest_id", 2}}).ok());
}

TEST(ManyToManyRestrictTest, DeleteOfALinkedRowIsRefused) {
  Database db;
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("player_quest", PivotSchema()));
  ASSERT_OK(db.ManyToMany("players", "quests", {.on_delete = OnDelete::kRestrict}));
  ASSERT_OK_AND_ASSIGN(Row p, db.Insert("players", {}));
  ASSERT_OK_AND_ASSIGN(Row q, db.Insert("quests", {}));
  ASSERT_OK_AND_ASSIGN(Row lone, db.Insert("quests", {}));
  ASSERT_OK(db.Related(p, "quests").Attach({q}).status());
  const std::string before = db.DebugString();
  EXPECT_FALSE(db.Delete(p).ok());
  EXPECT_FALSE(db.Delete(q).ok());
  EXPECT_EQ(db.DebugString(), before);
  ASSERT_OK(db.Delete(lone));
  ASSERT_OK(db.Related(p, "quests").DetachAll().status());
  ASSERT_OK(db.Delete(q));
}

TEST_F(ManyToManyTest, RelationAwareQueries) {
  ASSERT_OK(Declare());
  // ann: q1 q2 q3, ben: q2, cat: none.
  ASSERT_OK(db_.Related(players_[0], "quests")
                .Attach(PivotValues{{quests_[0], {{"progress", 1}}},
                                    {quests_[1], {{"progress", 2}}},
                                    {quests_[2], {{"progress", 3}}}})
                .status());
  ASSERT_OK(db_.Related(players_[1], "quests").Attach({quests_[1]}, {{"progress", 9}}).status());
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db_.Query("players")
                           .Preload("quests")
                           .WithCount("quests")
                           .WithAggregate("quests", [](Query& q) { q.Max("reward").As("best"); })
                           .OrderBy("id")
                           .Get());
  ASSERT_EQ(players.size(), 3u);
  EXPECT_THAT(Titles(players[0].Preloaded("quests").value()), ElementsAre("q1", "q2", "q3"));
  EXPECT_THAT(Titles(players[1].Preloaded("quests").value()), ElementsAre("q2"));
  EXPECT_THAT(Titles(players[2].Preloaded("quests").value()), IsEmpty());
  // Pivot columns ride on the preloaded rows, as Lucid's $extras.pivot_*.
  EXPECT_EQ(players[0].Preloaded("quests").value()[2].Extra("pivot_progress").value(),
            Value(int64_t{3}));
  EXPECT_EQ(players[1].Preloaded("quests").value()[0].Extra("pivot_progress").value(),
            Value(int64_t{9}));
  EXPECT_EQ(players[0].Extra("quests_count").value(), Value(int64_t{3}));
  EXPECT_EQ(players[2].Extra("quests_count").value(), Value(int64_t{0}));
  EXPECT_EQ(players[0].Extra("best").value(), Value(int64_t{30}));
  EXPECT_EQ(players[1].Extra("best").value(), Value(int64_t{20}));
  EXPECT_TRUE(players[2].Extra("best").value().is_null());

  // Preload with a callback, per-parent GroupLimit / GroupOrderBy.
  ASSERT_OK_AND_ASSIGN(
      players,
      db_.Query("players")
          .Preload("quests",
                   [](Query& q) {
                     q.Where("reward", ">=", 20).GroupLimit(1).GroupOrderBy("reward", kDesc);
                   })
          .OrderBy("id")
          .Get());
  EXPECT_THAT(Titles(players[0].Preloaded("quests").value()), ElementsAre("q3"));
  EXPECT_THAT(Titles(players[1].Preloaded("quests").value()), ElementsAre("q2"));

  // Nested: quests preload their players.
  ASSERT_OK_AND_ASSIGN(ResultSet quests,
                       db_.Query("quests").Preload("players").WithCount("players").Get());
  EXPECT_EQ(quests[1].Extra("players_count").value(), Value(int64_t{2}));
  EXPECT_EQ(quests[1].Preloaded("players").value().size(), 2u);

  auto names = [](const ResultSet& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("name").value()));
    return out;
  };
  EXPECT_THAT(names(db_.Query("players").Has("quests").OrderBy("id").Get().value()),
              ElementsAre("ann", "ben"));
  EXPECT_THAT(names(db_.Query("players").Has("quests", ">=", 2).Get().value()), ElementsAre("ann"));
  EXPECT_THAT(names(db_.Query("players").Has("quests", "=", 1).Get().value()), ElementsAre("ben"));
  EXPECT_THAT(names(db_.Query("players").DoesntHave("quests").Get().value()), ElementsAre("cat"));
  EXPECT_THAT(names(db_.Query("players")
                        .WhereHas("quests", [](Query& q) { q.Where("title", "q3"); })
                        .Get()
                        .value()),
              ElementsAre("ann"));
  EXPECT_THAT(names(db_.Query("players")
                        .WhereDoesntHave("quests", [](Query& q) { q.Where("title", "q2"); })
                        .Get()
                        .value()),
              ElementsAre("cat"));
  // Bad input in a callback names the relation.
  EXPECT_THAT(db_.Query("players").WhereHas("quests", [](Query& q) { q.Where("nope", 1); }).Get(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("players.quests")));
  EXPECT_THAT(db_.Query("players").Preload("questz").Get(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("questz")));
}

TEST_F(ManyToManyTest, PreloadedPivotColumnsOfEveryType) {
  ASSERT_OK(Declare({.pivot_columns = {"role", "progress"}}));
  ASSERT_OK(
      db_.Related(players_[0], "quests")
          .Attach(PivotValues{{quests_[1], {{"role", "lead"}, {"progress", 8}}}, {quests_[0], {}}})
          .status());
  ASSERT_OK_AND_ASSIGN(ResultSet players, db_.Query("players")
                                              .Preload("quests", [](Query& q) { q.OrderBy("id"); })
                                              .OrderBy("id")
                                              .Get());
  ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> quests, players[0].Preloaded("quests"));
  ASSERT_EQ(quests.size(), 2u);  // ordered by the callback: q1, then q2
  EXPECT_TRUE(quests[0].Extra("pivot_role").value().is_null());
  EXPECT_EQ(quests[0].Extra("pivot_progress").value(), Value(int64_t{0}));
  EXPECT_EQ(quests[1].Extra("pivot_role").value(), Value("lead"));
  EXPECT_EQ(quests[1].Extra("pivot_progress").value(), Value(int64_t{8}));
  EXPECT_THAT(quests[0].Extra("pivot_nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ManyToManyTest, OnQueryFiltersEveryRead) {
  ASSERT_OK(Declare({.name = "rich_quests",
                     .on_query = [](Query& q) { q.Where("reward", ">=", 30); },
                     .create_inverse = false}));
  RelationHandle rich = db_.Related(players_[0], "rich_quests");
  ASSERT_OK(rich.Attach({quests_[0], quests_[2], quests_[3]}).status());
  EXPECT_THAT(Titles(rich.Get().value()), ElementsAre("q3", "q4"));
  EXPECT_THAT(Titles(rich.GetWithPivot().value()), ElementsAre("q3", "q4"));
  EXPECT_EQ(rich.Count().value(), 2);
  EXPECT_FALSE(rich.Has(quests_[0]).value());
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db_.Query("players").WithCount("rich_quests").OrderBy("id").Get());
  EXPECT_EQ(players[0].Extra("rich_quests_count").value(), Value(int64_t{2}));
}

TEST_F(ManyToManyTest, ScopedPivotRowsStayApart) {
  ASSERT_OK(Declare());
  ASSERT_OK(Declare({.name = "led_quests", .scope = {{"role", "lead"}}, .create_inverse = false}));
  EXPECT_EQ(db_.foreign_keys().size(), 2u);  // shared with "quests"
  RelationHandle led = db_.Related(players_[0], "led_quests");
  ASSERT_OK(db_.Related(players_[0], "quests").Attach({quests_[0]}).status());
  ASSERT_OK(led.Attach({quests_[1]}, {{"role", "member"}}).status());  // the scope wins
  EXPECT_THAT(Titles(led.Get().value()), ElementsAre("q2"));
  EXPECT_EQ(led.GetWithPivot().value()[0].pivot.GetString("role").value(), "lead");
  EXPECT_THAT(Titles(db_.Related(players_[0], "quests").Get().value()), ElementsAre("q1", "q2"));
  EXPECT_EQ(led.DetachAll().value(), 1);
  EXPECT_THAT(Titles(db_.Related(players_[0], "quests").Get().value()), ElementsAre("q1"));
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db_.Query("players").WithCount("led_quests").WithCount("quests").Get());
  EXPECT_EQ(players[0].Extra("led_quests_count").value(), Value(int64_t{0}));
  EXPECT_EQ(players[0].Extra("quests_count").value(), Value(int64_t{1}));
}

TEST_F(ManyToManyTest, SnapshotKeepsTheRelation) {
  ASSERT_OK(Declare({.on_duplicate = OnDuplicate::kRefuse}));
  ASSERT_OK(db_.Related(players_[0], "quests").Attach({quests_[1]}, {{"progress", 4}}).status());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
  ASSERT_OK_AND_ASSIGN(const RelationSpec* quests, loaded.GetRelation("players", "quests"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* original, db_.GetRelation("players", "quests"));
  EXPECT_TRUE(quests->DeclarationEquals(*original));
  EXPECT_EQ(quests->on_duplicate, OnDuplicate::kRefuse);
  EXPECT_THAT(quests->pivot_columns, ElementsAre("progress"));
  ASSERT_OK_AND_ASSIGN(Row ann, loaded.FindOrFail("players", 1));
  ASSERT_OK_AND_ASSIGN(std::vector<PivotRow> linked, loaded.Related(ann, "quests").GetWithPivot());
  EXPECT_THAT(Titles(linked), ElementsAre("q2"));
  EXPECT_THAT(Progress(linked), ElementsAre(4));
  EXPECT_THAT(loaded.Related(ann, "quests").Attach({Value(int64_t{2})}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_OK_AND_ASSIGN(Row q2, loaded.FindOrFail("quests", 2));
  ASSERT_OK(loaded.Delete(q2));  // the cascade came back with the foreign keys
  EXPECT_EQ(loaded.Query("player_quest").Count().value(), 0);
}

TEST_F(ManyToManyTest, DropTableRemovesRelationsThroughIt) {
  ASSERT_OK(Declare());
  ASSERT_OK(db_.DropTable("player_quest"));
  EXPECT_TRUE(db_.Relations().empty());
  EXPECT_TRUE(db_.foreign_keys().empty());
}

// Random attach / detach / sync / toggle / deletes against a set of pairs.
TEST_F(ManyToManyTest, RandomOperationsMatchAModel) {
  ASSERT_OK(Declare());
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    std::set<std::pair<int64_t, int64_t>> model;
    ASSERT_OK(db_.Query("player_quest").Delete().status());
    for (int step = 0; step < 300; ++step) {
      const int64_t p = 1 + pick(3);
      std::vector<int64_t> qs;
      for (int i = pick(4); i > 0; --i) qs.push_back(1 + pick(4));
      std::vector<RowOrKey> keys;
      for (int64_t q : qs) keys.emplace_back(Value(q));
      ASSERT_OK_AND_ASSIGN(Row parent, db_.FindOrFail("players", p));
      RelationHandle h = db_.Related(parent, "quests");
      switch (pick(4)) {
        case 0:
          ASSERT_OK(h.Attach(keys).status());
          for (int64_t q : qs) model.insert({p, q});
          break;
        case 1:
          ASSERT_OK(h.Detach(keys).status());
          for (int64_t q : qs) model.erase({p, q});
          break;
        case 2: {
          const bool detaching = pick(2) == 0;
          ASSERT_OK(h.Sync(keys, detaching).status());
          if (detaching) std::erase_if(model, [&](const auto& l) { return l.first == p; });
          for (int64_t q : qs) model.insert({p, q});
          break;
        }
        case 3: {
          for (int64_t q : qs) {
            if (model.erase({p, q}) == 0) model.insert({p, q});
          }
          ASSERT_OK(h.Toggle(keys).status());
          break;
        }
      }
    }
    ASSERT_OK_AND_ASSIGN(
        ResultSet players,
        db_.Query("players").Preload("quests").WithCount("quests").Has("quests", ">=", 2).Get());
    std::map<int64_t, std::set<int64_t>> by_player;
    for (const auto& [p, q] : model) by_player[p].insert(q);
    size_t expect_rows = 0;
    for (const auto& [p, qs] : by_player) expect_rows += qs.size() >= 2 ? 1 : 0;
    EXPECT_EQ(players.size(), expect_rows);
    for (const ResultRow& row : players) {
      const int64_t p = row.GetInt64("id").value();
      std::set<int64_t> got;
      ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> quests, row.Preloaded("quests"));
      for (const ResultRow& q : quests) got.insert(q.GetInt64("id").value());
      EXPECT_EQ(got, by_player[p]);
      EXPECT_EQ(row.Extra("quests_count").value(),
                Value(static_cast<int64_t>(by_player[p].size())));
    }
    for (const Row& player : players_) {
      const int64_t p = player.GetInt64("id").value();
      EXPECT_EQ(db_.Related(player, "quests").Count().value(),
                static_cast<int64_t>(by_player[p].size()));
    }
    EXPECT_EQ(PivotRows(), static_cast<int64_t>(model.size()));
  }
}

TEST_F(ManyToManyTest, PreloadedExtrasReadEachParentsPivotValues) {
  ASSERT_OK(Declare({.pivot_columns = {"progress", "role"}}));
  // ann: q3 (30), q1 (10), q2 (NULL role); ben: q4 (40); cat: none.
  ASSERT_OK(db_.Related(players_[0], "quests")
                .Attach(PivotValues{{quests_[2], {{"progress", 30}, {"role", "lead"}}},
                                    {quests_[0], {{"progress", 10}, {"role", "scout"}}},
                                    {quests_[1], {{"progress", 20}}}})
                .status());
  ASSERT_OK(db_.Related(players_[1], "quests").Attach({quests_[3]}, {{"progress", 40}}).status());
  // As listed (link order), and ranked by a pivot column: each child's
  // entry is the value of the link it came by.
  for (bool ranked : {false, true}) {
    SCOPED_TRACE(ranked);
    ASSERT_OK_AND_ASSIGN(ResultSet players,
                         db_.Query("players")
                             .Preload("quests",
                                      [&](Query& q) {
                                        if (ranked) q.GroupOrderByPivot("progress").GroupLimit(2);
                                      })
                             .OrderBy("id")
                             .Get());
    ASSERT_EQ(players.size(), 3u);
    ASSERT_OK_AND_ASSIGN(ExtraColumn progress,
                         players[0].PreloadedExtras("quests", "pivot_progress"));
    ASSERT_OK_AND_ASSIGN(ExtraColumn role, players[0].PreloadedExtras("quests", "pivot_role"));
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> quests, players[0].Preloaded("quests"));
    ASSERT_EQ(progress.size(), quests.size());
    ASSERT_EQ(role.size(), quests.size());
    EXPECT_TRUE(progress.is_int64());
    EXPECT_EQ(progress.name(), "pivot_progress");
    for (size_t k = 0; k < quests.size(); ++k) {
      EXPECT_EQ(progress[k], quests[k].Extra("pivot_progress").value());
      EXPECT_EQ(role[k], quests[k].Extra("pivot_role").value());
    }
    if (ranked) {
      EXPECT_THAT(Titles(quests), ElementsAre("q1", "q2"));
      EXPECT_EQ(progress.Int64(0), 10);
      EXPECT_TRUE(role[1].is_null());
    } else {
      EXPECT_THAT(Titles(quests), ElementsAre("q3", "q1", "q2"));
      EXPECT_EQ(progress.Int64(0), 30);
      EXPECT_EQ(role[0], Value("lead"));
    }
    ASSERT_OK_AND_ASSIGN(ExtraColumn ben, players[1].PreloadedExtras("quests", "pivot_progress"));
    ASSERT_EQ(ben.size(), 1u);
    EXPECT_EQ(ben.Int64(0), 40);
    // A parent without children: an empty column.
    ASSERT_OK_AND_ASSIGN(ExtraColumn none, players[2].PreloadedExtras("quests", "pivot_progress"));
    EXPECT_EQ(none.size(), 0u);
    // Bad input names what was missing.
    EXPECT_THAT(players[0].PreloadedExtras("questz", "pivot_progress"),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("relation 'questz'")));
    EXPECT_THAT(players[0].PreloadedExtras("quests", "pivot_nope"),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("'pivot_nope'")));
  }
  // A row outside any result has no preloads.
  EXPECT_THAT(ResultRow().PreloadedExtras("quests", "pivot_progress"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("quests")));
}

TEST_F(ManyToManyTest, AttachPivotValuesNamingTheKeysOrAColumnTwice) {
  ASSERT_OK(Declare());
  RelationHandle quests = db_.Related(players_[0], "quests");
  // The keys are the relation's to set: given among the pivot values, they
  // are ignored.
  ASSERT_OK(
      quests.Attach({quests_[0]}, {{"player_id", 99}, {"quest_id", 98}, {"progress", 5}}).status());
  ASSERT_OK_AND_ASSIGN(std::vector<PivotRow> rows, quests.GetWithPivot());
  EXPECT_THAT(Titles(rows), ElementsAre("q1"));
  EXPECT_THAT(Progress(rows), ElementsAre(5));
  EXPECT_EQ(rows[0].pivot.GetInt64("player_id").value(), players_[0].GetInt64("id").value());
  // Bad pivot values: the first error in the order given, nothing written.
  EXPECT_THAT(quests.Attach({quests_[1]}, {{"progress", 1}, {"progress", 2}, {"nope", 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'player_quest': column 'progress' given twice")));
  EXPECT_THAT(quests.Attach({quests_[1]}, {{"nope", 3}, {"progress", 1}, {"progress", 2}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'player_quest': no column named 'nope'")));
  EXPECT_THAT(quests.Attach({quests_[1]}, {{"progress", "high"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("progress")));
  EXPECT_EQ(PivotRows(), 1);
}

// A ManyToMany's counts (WithCount, Has with a count) are the same whether
// each parent's links are probed or the pivot's index is scanned once (the
// plan for many parents), with a NOT NULL or a nullable pivot key (a NULL
// link leads nowhere and does not count), and with a WherePivot filter
// (which always probes).
TEST(ManyToManyCountTest, CountsAgreeUnderEveryStrategy) {
  using ::kin::internal::RelationStrategy;
  for (bool nullable : {false, true}) {
    SCOPED_TRACE(nullable);
    Database db;
    ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey())));
    ASSERT_OK(db.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
    Schema pivot = Schema().Int64("id", PrimaryKey()).Int64("player_id", NotNull());
    pivot = nullable ? pivot.Int64("quest_id") : pivot.Int64("quest_id", NotNull());
    ASSERT_OK(db.CreateTable("player_quest", pivot.Int64("progress", NotNull())));
    ASSERT_OK(db.ManyToMany("players", "quests", {.pivot_columns = {"progress"}}));
    constexpr int64_t kPlayers = 200;
    for (int64_t q = 1; q <= 8; ++q) ASSERT_OK(db.Insert("quests", {{"id", q}}).status());
    std::mt19937 rng(11);
    // player → its links' (counted, progress).
    std::map<int64_t, std::vector<std::pair<bool, int64_t>>> model;
    for (int64_t p = 1; p <= kPlayers; ++p) {
      ASSERT_OK_AND_ASSIGN(Row player, db.Insert("players", {{"id", p}}));
      model[p];
      PivotValues links;
      for (int64_t q = 1; q <= 8; ++q) {
        if (rng() % 3 != 0) continue;
        const int64_t progress = static_cast<int64_t>(rng() % 100);
        links.emplace_back(Value(q), Attrs{{"progress", progress}});
        model[p].emplace_back(true, progress);
      }
      ASSERT_OK(db.Related(player, "quests").Attach(links).status());
    }
    if (nullable) {
      // Every fifth link loses its quest.
      ASSERT_OK_AND_ASSIGN(ResultSet links, db.Query("player_quest").OrderBy("id").Get());
      std::map<int64_t, size_t> seen;
      for (size_t i = 0; i < links.size(); ++i) {
        const int64_t p = links[i].GetInt64("player_id").value();
        const size_t k = seen[p]++;
        if (i % 5 != 0) continue;
        ASSERT_OK(db.Update(links[i], {{"quest_id", nullptr}}).status());
        model[p][k].first = false;
      }
    }
    auto expected = [&](int64_t min_progress) {
      std::vector<int64_t> out;
      for (const auto& [p, links] : model) {
        int64_t n = 0;
        for (const auto& [counted, progress] : links) {
          if (counted && progress >= min_progress) ++n;
        }
        out.push_back(n);
      }
      return out;
    };
    for (RelationStrategy strategy : {RelationStrategy::kAuto, RelationStrategy::kWalk,
                                      RelationStrategy::kScan, RelationStrategy::kIndexScan}) {
      SCOPED_TRACE(static_cast<int>(strategy));
      ForcedStrategy forced(strategy);
      for (int64_t min_progress : {int64_t{0}, int64_t{50}}) {
        Query q = db.Query("players").OrderBy("id");
        if (min_progress == 0) {
          q.WithCount("quests");
        } else {
          q.WithCount("quests", [&](Query& r) { r.WherePivot("progress", ">=", min_progress); });
        }
        ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
        ASSERT_OK_AND_ASSIGN(ExtraColumn counts, rows.Extras("quests_count"));
        std::vector<int64_t> got;
        for (size_t i = 0; i < counts.size(); ++i) got.push_back(counts.Int64(i));
        EXPECT_EQ(got, expected(min_progress)) << "from progress " << min_progress;
      }
      ASSERT_OK_AND_ASSIGN(ResultSet has,
                           db.Query("players").Has("quests", ">=", 4).OrderBy("id").Get());
      std::vector<int64_t> busy, want;
      for (const ResultRow& r : has) busy.push_back(r.GetInt64("id").value());
      const std::vector<int64_t> all = expected(0);
      for (size_t i = 0; i < all.size(); ++i) {
        if (all[i] >= 4) want.push_back(static_cast<int64_t>(i) + 1);
      }
      EXPECT_EQ(busy, want);
      // A counting aggregate always probes (its rows have no key to scan
      // by), whatever the strategy asks.
      ASSERT_OK_AND_ASSIGN(ResultSet counted,
                           db.Query("players")
                               .OrderBy("id")
                               .WithAggregate("quests", [](Query& r) { r.Count("*").As("n"); })
                               .Get());
      ASSERT_OK_AND_ASSIGN(ExtraColumn n, counted.Extras("n"));
      for (size_t i = 0; i < n.size(); ++i) EXPECT_EQ(n[i], Value(all[i])) << "player " << i + 1;
    }
    // Plain counts of every player read each one's list size in the pivot
    // index (an array: player ids are compact) when the key is NOT NULL; a
    // nullable key probes each player's links, skipping NULL ones. Neither
    // scans the index (sparse keys do, see has_test).
    const std::string plan = db.Query("players").Has("quests", ">=", 4).Explain().value();
    EXPECT_THAT(plan, HasSubstr("count(players.quests) >= 4 by index"));
    EXPECT_THAT(plan, Not(HasSubstr("index scan")));
    EXPECT_THAT(db.Query("players").WithCount("quests").Explain().value(),
                HasSubstr("index probe player_quest.player_id then quests.id per row or one pass "
                          "over the index of player_quest.player_id"));
  }
}

// The index-scan counts slot parents by key however the keys look: sparse
// int64 ids (slotted by hash), string ids; a parent whose key is NULL
// counts 0; a scoped ManyToMany and a HasManyThrough probe per parent.
TEST(ManyToManyCountTest, IndexScanCountsWithSparseAndStringKeysAndScopes) {
  using ::kin::internal::RelationStrategy;
  for (bool strings : {false, true}) {
    SCOPED_TRACE(strings);
    Database db;
    ASSERT_OK(db.CreateTable("players", (strings ? Schema().String("id", PrimaryKey())
                                                 : Schema().Int64("id", PrimaryKey()))
                                            .Int64("rank", NotNull())));
    ASSERT_OK(db.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
    ASSERT_OK(db.CreateTable(
        "player_quest", (strings ? Schema().Int64("id", PrimaryKey()).String("player_id", NotNull())
                                 : Schema().Int64("id", PrimaryKey()).Int64("player_id", NotNull()))
                            .Int64("quest_id", NotNull())
                            .String("role")));
    ASSERT_OK(db.ManyToMany("players", "quests"));
    ASSERT_OK(db.ManyToMany("players", "quests",
                            {.name = "led_quests",
                             .pivot_table = "player_quest",
                             .scope = {{"role", "lead"}},
                             .create_inverse = false}));
    for (int64_t q = 1; q <= 5; ++q) ASSERT_OK(db.Insert("quests", {{"id", q}}).status());
    // Players keyed 10^12 apart (or by name); player i takes i quests, the
    // first of them as lead.
    std::vector<int64_t> links, leads;
    for (int64_t i = 0; i < 5; ++i) {
      const Value key =
          strings ? Value(absl::StrCat("player-", i)) : Value(i * int64_t{1'000'000'000'000});
      ASSERT_OK_AND_ASSIGN(Row p, db.Insert("players", {{"id", key}, {"rank", i}}));
      for (int64_t q = 1; q <= i; ++q) {
        ASSERT_OK(db.Related(p, q == 1 ? "led_quests" : "quests").Attach({Value(q)}).status());
      }
      links.push_back(i);
      leads.push_back(i >= 1 ? 1 : 0);
    }
    for (RelationStrategy strategy : {RelationStrategy::kIndexScan, RelationStrategy::kWalk}) {
      SCOPED_TRACE(static_cast<int>(strategy));
      ForcedStrategy forced(strategy);
      ASSERT_OK_AND_ASSIGN(
          ResultSet rows,
          db.Query("players").OrderBy("rank").WithCount("quests").WithCount("led_quests").Get());
      ASSERT_EQ(rows.size(), links.size());
      ASSERT_OK_AND_ASSIGN(ExtraColumn all, rows.Extras("quests_count"));
      ASSERT_OK_AND_ASSIGN(ExtraColumn led, rows.Extras("led_quests_count"));
      for (size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(all.Int64(i), links[i]) << "player " << i;
        EXPECT_EQ(led.Int64(i), leads[i]) << "player " << i;
      }
    }
  }
}

TEST(ManyToManyCountTest, NullParentKeyAndHasManyThroughUnderIndexScan) {
  using ::kin::internal::RelationStrategy;
  Database db;
  ASSERT_OK(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).Int64("tag", Unique())));
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild_tag")));
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
  ASSERT_OK(db.HasMany("guilds", "players", {.foreign_key = "guild_tag", .local_key = "tag"}));
  ASSERT_OK(db.HasMany("players", "items"));
  ASSERT_OK(db.HasManyThrough("guilds", "players", "items"));
  ASSERT_OK(db.Insert("guilds", {{"id", 1}, {"tag", 10}}).status());
  ASSERT_OK(db.Insert("guilds", {{"id", 2}}).status());  // NULL tag: no players
  ASSERT_OK(db.Insert("players", {{"id", 1}, {"guild_tag", 10}}).status());
  ASSERT_OK(db.Insert("players", {{"id", 2}, {"guild_tag", 10}}).status());
  for (int64_t i = 1; i <= 3; ++i) {
    ASSERT_OK(db.Insert("items", {{"player_id", i == 3 ? 2 : 1}}).status());
  }
  ForcedStrategy forced(RelationStrategy::kIndexScan);
  ASSERT_OK_AND_ASSIGN(ResultSet guilds, db.Query("guilds").OrderBy("id").WithCount("items").Get());
  ASSERT_OK_AND_ASSIGN(ExtraColumn items, guilds.Extras("items_count"));
  EXPECT_EQ(items.Int64(0), 3);
  EXPECT_EQ(items.Int64(1), 0);
}

// A preload over many parents fills several of the hop's row chunks, and
// one parent with more links than a chunk gets a chunk of its own: every
// parent still reads its own rows and pivot values.
TEST(ManyToManyPreloadTest, ManyParentsAndALongListKeepTheirRows) {
  Database db;
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("player_quest", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("player_id", NotNull())
                                               .Int64("quest_id", NotNull())
                                               .Int64("progress")));
  ASSERT_OK(db.ManyToMany("players", "quests", {.pivot_columns = {"progress"}}));
  constexpr int64_t kQuests = 6000;
  constexpr int64_t kPlayers = 800;
  std::vector<int64_t> ids(kQuests);
  for (int64_t q = 0; q < kQuests; ++q) ids[q] = q + 1;
  ASSERT_OK(db.InsertBatch("quests", RowBatch().Int64("id", ids)).status());
  ids.resize(kPlayers);
  ASSERT_OK(db.InsertBatch("players", RowBatch().Int64("id", ids)).status());
  // Player 1 takes every quest; player p > 1 takes quests p .. p + 9, with
  // progress p * 100 + k, NULL for its fifth link.
  std::vector<int64_t> player, quest, progress;
  std::vector<bool> no_progress;
  for (int64_t q = 1; q <= kQuests; ++q) {
    player.push_back(1);
    quest.push_back(q);
    progress.push_back(q);
    no_progress.push_back(false);
  }
  for (int64_t p = 2; p <= kPlayers; ++p) {
    for (int64_t k = 0; k < 10; ++k) {
      player.push_back(p);
      quest.push_back(p + k);
      progress.push_back(p * 100 + k);
      no_progress.push_back(k == 4);
    }
  }
  ids.resize(player.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) + 1;
  ASSERT_OK(db.InsertBatch("player_quest", RowBatch()
                                               .Int64("id", ids)
                                               .Int64("player_id", player)
                                               .Int64("quest_id", quest)
                                               .Int64("progress", progress)
                                               .Nulls("progress", no_progress))
                .status());
  ASSERT_OK_AND_ASSIGN(Column<int64_t> quest_id, db.Int64Column("quests", "id"));
  ASSERT_OK_AND_ASSIGN(ResultSet players,
                       db.Query("players").OrderBy("id", kDesc).Preload("quests").Get());
  ASSERT_EQ(players.size(), static_cast<size_t>(kPlayers));
  for (const ResultRow& row : players) {
    const int64_t p = row.GetInt64("id").value();
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> quests, row.Preloaded("quests"));
    ASSERT_OK_AND_ASSIGN(ExtraColumn progress_of, row.PreloadedExtras("quests", "pivot_progress"));
    ASSERT_EQ(quests.size(), static_cast<size_t>(p == 1 ? kQuests : 10)) << "player " << p;
    ASSERT_EQ(progress_of.size(), quests.size());
    for (size_t k = 0; k < quests.size(); ++k) {
      const int64_t want_quest = p == 1 ? static_cast<int64_t>(k) + 1 : p + static_cast<int64_t>(k);
      ASSERT_EQ(quest_id.Get(quests[k]).value(), want_quest) << "player " << p << " link " << k;
      if (p != 1 && k == 4) {
        EXPECT_TRUE(progress_of.IsNull(k));
        EXPECT_TRUE(progress_of[k].is_null());
      } else {
        EXPECT_EQ(progress_of[k], Value(p == 1 ? want_quest : p * 100 + static_cast<int64_t>(k)));
      }
    }
  }
}

// Parents whose key is NULL (a unique local key other than the primary
// key) have no related rows: first, in the middle and last in a preload,
// they get empty lists and their neighbours keep their own rows, over a
// ManyToMany (with its pivot values) and a HasManyThrough alike; and a
// parent reached twice in a nested preload gets its rows both times.
TEST(ManyToManyPreloadTest, NullParentKeysGetNoRowsWherever) {
  Database db;
  ASSERT_OK(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).Int64("tag", Unique())));
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild_tag")));
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
  ASSERT_OK(db.CreateTable("banners", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("banner_guild", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("guild_tag", NotNull())
                                               .Int64("banner_id", NotNull())
                                               .Int64("rank", NotNull())));
  ASSERT_OK(db.HasMany("guilds", "players", {.foreign_key = "guild_tag", .local_key = "tag"}));
  ASSERT_OK(db.HasMany("players", "items"));
  ASSERT_OK(db.HasManyThrough("guilds", "players", "items"));
  ASSERT_OK(
      db.ManyToMany("guilds", "banners",
                    {.foreign_key = "guild_tag", .local_key = "tag", .pivot_columns = {"rank"}}));
  // Guilds 1, 3 and 5 have no tag; guild 2 has tag 20, guild 4 tag 40.
  for (int64_t g = 1; g <= 5; ++g) {
    ASSERT_OK(
        db.Insert("guilds", {{"id", g}, {"tag", g % 2 == 0 ? Value(g * 10) : Value()}}).status());
  }
  for (int64_t b = 1; b <= 3; ++b) ASSERT_OK(db.Insert("banners", {{"id", b}}).status());
  // Player 1 in guild 20 (items 1, 2), player 2 in guild 40 (item 3),
  // player 3 in guild 20 (no items), player 4 in none.
  ASSERT_OK(db.Insert("players", {{"id", 1}, {"guild_tag", 20}}).status());
  ASSERT_OK(db.Insert("players", {{"id", 2}, {"guild_tag", 40}}).status());
  ASSERT_OK(db.Insert("players", {{"id", 3}, {"guild_tag", 20}}).status());
  ASSERT_OK(db.Insert("players", {{"id", 4}}).status());
  for (int64_t owner : {1, 1, 2}) ASSERT_OK(db.Insert("items", {{"player_id", owner}}).status());
  // Guild 20 flies banners 3 (rank 1) and 1 (rank 2); guild 40 banner 2.
  ASSERT_OK(db.Insert("banner_guild", {{"guild_tag", 20}, {"banner_id", 3}, {"rank", 1}}).status());
  ASSERT_OK(db.Insert("banner_guild", {{"guild_tag", 20}, {"banner_id", 1}, {"rank", 2}}).status());
  ASSERT_OK(db.Insert("banner_guild", {{"guild_tag", 40}, {"banner_id", 2}, {"rank", 7}}).status());

  ASSERT_OK_AND_ASSIGN(ResultSet guilds,
                       db.Query("guilds").OrderBy("id").Preload("items").Preload("banners").Get());
  ASSERT_EQ(guilds.size(), 5u);
  auto ids = [](std::span<const ResultRow> rows) {
    std::vector<int64_t> out;
    for (const ResultRow& r : rows) out.push_back(r.GetInt64("id").value());
    return out;
  };
  const std::vector<std::vector<int64_t>> want_items = {{}, {1, 2}, {}, {3}, {}};
  const std::vector<std::vector<int64_t>> want_banners = {{}, {3, 1}, {}, {2}, {}};
  const std::vector<std::vector<int64_t>> want_ranks = {{}, {1, 2}, {}, {7}, {}};
  for (size_t g = 0; g < guilds.size(); ++g) {
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> items, guilds[g].Preloaded("items"));
    EXPECT_EQ(ids(items), want_items[g]) << "guild " << g + 1;
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> banners, guilds[g].Preloaded("banners"));
    EXPECT_EQ(ids(banners), want_banners[g]) << "guild " << g + 1;
    ASSERT_OK_AND_ASSIGN(ExtraColumn rank, guilds[g].PreloadedExtras("banners", "pivot_rank"));
    std::vector<int64_t> ranks;
    for (size_t k = 0; k < rank.size(); ++k) ranks.push_back(rank.Int64(k));
    EXPECT_EQ(ranks, want_ranks[g]) << "guild " << g + 1;
  }

  // Nested under each player's guild, guild 20 is a parent twice (players
  // 1 and 3): both get its rows; player 4's guild is none.
  ASSERT_OK_AND_ASSIGN(
      ResultSet players,
      db.Query("players")
          .OrderBy("id")
          .Preload("guild", [](Query& q) { q.Preload("items").Preload("banners"); })
          .Get());
  ASSERT_EQ(players.size(), 4u);
  const std::vector<std::vector<int64_t>> want_guild_items = {{1, 2}, {3}, {1, 2}, {}};
  const std::vector<std::vector<int64_t>> want_guild_banners = {{3, 1}, {2}, {3, 1}, {}};
  for (size_t p = 0; p < players.size(); ++p) {
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> guild, players[p].Preloaded("guild"));
    ASSERT_EQ(guild.size(), p == 3 ? 0u : 1u) << "player " << p + 1;
    if (guild.empty()) continue;
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> items, guild[0].Preloaded("items"));
    EXPECT_EQ(ids(items), want_guild_items[p]) << "player " << p + 1;
    ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> banners, guild[0].Preloaded("banners"));
    EXPECT_EQ(ids(banners), want_guild_banners[p]) << "player " << p + 1;
    ASSERT_OK_AND_ASSIGN(ExtraColumn rank, guild[0].PreloadedExtras("banners", "pivot_rank"));
    ASSERT_EQ(rank.size(), want_guild_banners[p].size());
    EXPECT_EQ(rank.Int64(0), p == 1 ? 7 : 1) << "player " << p + 1;
  }
}

}  // namespace
}  // namespace kin::test
