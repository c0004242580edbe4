// An old save brought up to a new schema. testdata/world_v5.kin was saved by
// the world demo before schema changes existed (snapshot format 5):
//   bazel run //examples:world -- --seed=7 --scale=0.0005 --ticks=3
//       --save=$PWD/tests/migrate/testdata/world_v5.kin --fsync=false
// Keep the file as it is: every later format must still load it. The test
// loads it, applies a patch's migrations (add a column, rename one, drop
// one, add an index, add a table with a relation over the existing rows) and
// checks every row, relation and index against the untouched load.

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "persist/snapshot.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::StatusIs;
using ::testing::HasSubstr;

constexpr char kOldSave[] = "tests/migrate/testdata/world_v5.kin";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status AttachActive(Database& db) {
  return db.SetOnQuery("guilds", "active_players", [](Query& q) { q.Where("active", true); });
}

// The patch: what a game's next version would ship.
Migrations Patch() {
  Migrations m;
  m.Add(1, "add_player_title", [](Database& db) {
    return db.AddColumn(
        "players",
        {.name = "title", .type = Type::kString, .nullable = false, .default_value = "novice"});
  });
  m.Add(2, "rename_score_to_rating", [](Database& db) -> absl::Status {
    // guilds.active_players' on_query is code reading players: detached for
    // the rename, then attached again.
    KIN_RETURN_IF_ERROR(db.SetOnQuery("guilds", "active_players", nullptr));
    KIN_RETURN_IF_ERROR(db.RenameColumn("players", "score", "rating"));
    return AttachActive(db);
  });
  m.Add(3, "drop_event_amount", [](Database& db) { return db.DropColumn("events", "amount"); });
  m.Add(4, "index_item_rarity",
        [](Database& db) { return db.CreateIndex("items", "rarity", IndexKind::kOrdered); });
  m.Add(5, "add_badges", [](Database& db) -> absl::Status {
    KIN_RETURN_IF_ERROR(db.CreateTable("badges", Schema()
                                                     .Int64("id", PrimaryKey())
                                                     .Int64("player_id", NotNull())
                                                     .String("label", NotNull())));
    // A data change inside the migration: one badge per player in a guild.
    KIN_ASSIGN_OR_RETURN(ResultSet players, db.Query("players").WhereNotNull("guild_id").Get());
    for (const ResultRow& p : players) {
      KIN_ASSIGN_OR_RETURN(int64_t id, p.GetInt64("id"));
      KIN_RETURN_IF_ERROR(db.Insert("badges", {{"player_id", id}, {"label", "founder"}}).status());
    }
    return db.HasMany("players", "badges", {.on_delete = OnDelete::kCascade});
  });
  return m;
}

// Every live row of `table` by primary key: column name -> value.
std::map<int64_t, std::map<std::string, Value>> Rows(const Database& db, absl::string_view table) {
  std::map<int64_t, std::map<std::string, Value>> out;
  const Table* t = db.FindTable(std::string_view(table.data(), table.size()));
  for (Row row : *t) {
    std::map<std::string, Value> cells;
    for (const ColumnSpec& c : t->schema().columns()) cells[c.name] = *row.Get(c.name);
    out[row.GetInt64("id").value()] = std::move(cells);
  }
  return out;
}

std::vector<int64_t> ChildIds(Database& db, absl::string_view table, int64_t id,
                              absl::string_view relation) {
  Row parent = db.FindOrFail(std::string_view(table.data(), table.size()), id).value();
  ResultSet kids =
      db.Related(parent, std::string_view(relation.data(), relation.size())).Get().value();
  std::vector<int64_t> ids;
  for (const ResultRow& k : kids) ids.push_back(k.GetInt64("id").value());
  return ids;
}

class OldSaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = ReadFile(kOldSave);
    ASSERT_FALSE(bytes_.empty()) << kOldSave;
    ASSERT_OK_AND_ASSIGN(old_, LoadSnapshotFromString(bytes_));
    ASSERT_OK(AttachActive(old_));
    ASSERT_OK_AND_ASSIGN(db_, LoadSnapshotFromString(bytes_));
    ASSERT_OK(AttachActive(db_));
  }

  std::string bytes_;
  Database old_;  // the save as it was, for comparison
  Database db_;   // the save migrated
};

TEST_F(OldSaveTest, FixtureIsFormatFiveWithoutHistory) {
  ASSERT_OK_AND_ASSIGN(SnapshotContents contents, DecodeSnapshot(bytes_));
  EXPECT_EQ(contents.format_version, 5u);
  ASSERT_OK_AND_ASSIGN(SchemaHistory history, GetSchemaHistory(old_));
  EXPECT_EQ(history.version, 0);
  EXPECT_TRUE(history.applied.empty());
  EXPECT_EQ(old_.TableNames(), (std::vector<std::string>{"guilds", "players", "items", "events"}));
}

TEST_F(OldSaveTest, MigratesToTheNewSchemaWithItsData) {
  ASSERT_OK(Patch().Apply(db_));
  ASSERT_OK(db_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(SchemaHistory history, GetSchemaHistory(db_));
  EXPECT_EQ(history.version, 5);
  ASSERT_EQ(history.applied.size(), 5u);
  EXPECT_EQ(history.applied[1], (AppliedMigration{2, "rename_score_to_rating"}));

  // players: every row, score now rating, a title added.
  auto old_players = Rows(old_, "players");
  auto players = Rows(db_, "players");
  ASSERT_EQ(players.size(), old_players.size());
  ASSERT_FALSE(players.empty());
  for (auto& [id, cells] : old_players) {
    SCOPED_TRACE(id);
    std::map<std::string, Value> want = cells;
    want["rating"] = want["score"];
    want.erase("score");
    want["title"] = Value("novice");
    EXPECT_EQ(players[id], want);
  }
  // events: amount gone, the rest as it was.
  auto old_events = Rows(old_, "events");
  auto events = Rows(db_, "events");
  ASSERT_EQ(events.size(), old_events.size());
  for (auto& [id, cells] : old_events) {
    std::map<std::string, Value> want = cells;
    want.erase("amount");
    EXPECT_EQ(events[id], want) << id;
  }
  EXPECT_FALSE(db_.FindTable("events")->FindColumn("amount").has_value());
  // guilds and items unchanged, items.rarity ordered.
  EXPECT_EQ(Rows(db_, "guilds"), Rows(old_, "guilds"));
  EXPECT_EQ(Rows(db_, "items"), Rows(old_, "items"));
  const Table* items = db_.FindTable("items");
  EXPECT_NE(items->ordered_index(*items->FindColumn("rarity")), nullptr);
  ASSERT_OK_AND_ASSIGN(ResultSet rare, db_.Query("items").Where("rarity", ">=", 2).Get());
  ASSERT_OK_AND_ASSIGN(ResultSet old_rare, old_.Query("items").Where("rarity", ">=", 2).Get());
  EXPECT_EQ(rare.size(), old_rare.size());
  ASSERT_OK_AND_ASSIGN(std::string plan, db_.Query("items").Where("rarity", ">=", 2).Explain());
  EXPECT_THAT(plan, HasSubstr("rarity"));

  // Relations: the old ones read the same children; the new one holds a
  // badge for every player in a guild and cascades.
  std::vector<std::string> old_relations, relations;
  for (const RelationSpec* r : old_.Relations()) old_relations.push_back(r->QualifiedName());
  for (const RelationSpec* r : db_.Relations()) relations.push_back(r->QualifiedName());
  std::vector<std::string> want_relations = old_relations;
  want_relations.push_back("players.badges");
  want_relations.push_back("badges.player");
  EXPECT_EQ(relations, want_relations);
  size_t in_guild = 0;
  for (auto& [id, cells] : old_players) {
    EXPECT_EQ(ChildIds(db_, "players", id, "items"), ChildIds(old_, "players", id, "items"));
    EXPECT_EQ(ChildIds(db_, "players", id, "events"), ChildIds(old_, "players", id, "events"));
    const size_t badges = ChildIds(db_, "players", id, "badges").size();
    EXPECT_EQ(badges, cells["guild_id"].is_null() ? 0u : 1u) << id;
    in_guild += badges;
  }
  EXPECT_GT(in_guild, 0u);
  for (auto& [id, cells] : Rows(old_, "guilds")) {
    EXPECT_EQ(ChildIds(db_, "guilds", id, "players"), ChildIds(old_, "guilds", id, "players"));
    EXPECT_EQ(ChildIds(db_, "guilds", id, "active_players"),
              ChildIds(old_, "guilds", id, "active_players"));
  }
  // The new relation's action runs on the migrated rows.
  const int64_t first = old_players.begin()->first;
  const size_t badges_before = db_.FindTable("badges")->size();
  const size_t first_badges = ChildIds(db_, "players", first, "badges").size();
  ASSERT_OK(db_.Delete(db_.FindOrFail("players", first).value()));
  EXPECT_EQ(db_.FindTable("badges")->size(), badges_before - first_badges);
  EXPECT_OK(db_.CheckConsistency());

  // The migrated world saves (format 6, with its history) and loads back.
  ASSERT_OK_AND_ASSIGN(std::string saved, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(saved));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
  ASSERT_OK_AND_ASSIGN(SchemaHistory again, GetSchemaHistory(loaded));
  EXPECT_EQ(again.applied, history.applied);
  ASSERT_OK(AttachActive(loaded));
  ASSERT_OK(Patch().Apply(loaded));  // nothing pending
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

TEST_F(OldSaveTest, AFailingPatchLeavesTheSaveAsLoaded) {
  const std::string before = db_.DebugString();
  Migrations m = Patch();
  m.Add(6, "broken", [](Database& db) {
    return db.AddColumn("players", {.name = "nick", .type = Type::kString, .nullable = false});
  });
  EXPECT_THAT(m.Apply(db_), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("migration 6 'broken': players.nick: a NOT NULL "
                                               "column needs a default to fill the")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_EQ(db_.Relations().size(), old_.Relations().size());
  EXPECT_OK(db_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(SchemaHistory history, GetSchemaHistory(db_));
  EXPECT_EQ(history.version, 0);
}

}  // namespace
}  // namespace kin
