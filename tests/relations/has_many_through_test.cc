// HasManyThrough (Lucid hasManyThrough): a guild's items through its
// players. Declaration over two existing relations and its errors, the
// handle's reads, the relation-aware queries (Preload with GroupLimit,
// Has / WhereHas, WithCount / WithAggregate), refused writes, snapshots,
// and random data checked against a brute-force model.

#include <map>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "kin/snapshot.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class HasManyThroughTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild_id")));
    ASSERT_OK(db_.CreateTable(
        "items",
        Schema().Int64("id", PrimaryKey()).Int64("player_id").String("name").Int64("value")));
    ASSERT_OK(db_.HasMany("guilds", "players"));
    ASSERT_OK(db_.HasMany("players", "items"));
  }

  // guild 1: players 1 (a:5, b:7), 2 (c:1); guild 2: player 3 (none);
  // guild 3: none; player 4 has no guild (d:100).
  void Fill() {
    for (const char* name : {"red", "blue", "green"}) {
      ASSERT_OK(db_.Insert("guilds", {{"name", name}}).status());
    }
    for (Value guild : {Value(int64_t{1}), Value(int64_t{1}), Value(int64_t{2}), Value()}) {
      ASSERT_OK(db_.Insert("players", {{"guild_id", guild}}).status());
    }
    struct Item {
      int64_t player;
      const char* name;
      int64_t value;
    };
    for (const Item& i : {Item{1, "a", 5}, Item{2, "c", 1}, Item{1, "b", 7}, Item{4, "d", 100}}) {
      ASSERT_OK(db_.Insert("items", {{"player_id", i.player}, {"name", i.name}, {"value", i.value}})
                    .status());
    }
  }

  Row Guild(int64_t id) { return db_.FindOrFail("guilds", id).value(); }

  template <typename Rows>
  static std::vector<std::string> Names(const Rows& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("name").value()));
    return out;
  }

  Database db_;
};

TEST_F(HasManyThroughTest, Declares) {
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* items, db_.GetRelation("guilds", "items"));
  EXPECT_EQ(items->kind, RelationKind::kHasManyThrough);
  EXPECT_EQ(items->related_table, "items");
  EXPECT_EQ(items->through_table, "players");
  EXPECT_EQ(items->foreign_key, "guild_id");
  EXPECT_EQ(items->local_key, "id");
  EXPECT_EQ(items->through_key, "id");
  EXPECT_EQ(items->related_key, "player_id");
  EXPECT_EQ(RelationKindName(items->kind), "has many through");
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items", {.name = "loot"}));
  EXPECT_TRUE(db_.GetRelation("guilds", "loot").ok());
}

TEST_F(HasManyThroughTest, DeclareBadInputChangesNothing) {
  const std::string before = db_.DebugString();
  const size_t relations = db_.Relations().size();
  EXPECT_THAT(db_.HasManyThrough("guildz", "players", "items"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("guildz")));
  EXPECT_THAT(db_.HasManyThrough("guilds", "members", "items"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("table 'guilds': no relation named 'members'")));
  EXPECT_THAT(db_.HasManyThrough("guilds", "players", "gear"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("has many through guilds.players: table 'players': no relation "
                                 "named 'gear'")));
  EXPECT_THAT(
      db_.HasManyThrough("items", "player", "items"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("items.player is belongs to")));
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  const std::string declared = db_.DebugString();
  EXPECT_THAT(db_.HasManyThrough("guilds", "players", "items"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("'items' already exists")));
  EXPECT_EQ(db_.DebugString(), declared);
  EXPECT_EQ(db_.Relations().size(), relations + 1);
  EXPECT_EQ(before, declared);  // declaring adds no rows or indexes
}

TEST_F(HasManyThroughTest, HandleReads) {
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  Fill();
  RelationHandle red = db_.Related(Guild(1), "items");
  // Players in the index's order, each player's items in theirs.
  EXPECT_THAT(Names(red.Get().value()), ElementsAre("a", "b", "c"));
  EXPECT_EQ(red.Count().value(), 3);
  ASSERT_OK_AND_ASSIGN(Row d, db_.FindOrFail("items", 4));
  ASSERT_OK_AND_ASSIGN(Row a, db_.FindOrFail("items", 1));
  EXPECT_TRUE(red.Has(a).value());
  EXPECT_FALSE(red.Has(d).value());
  EXPECT_EQ(red.Find(Value(int64_t{3})).value().GetString("name").value(), "b");
  EXPECT_THAT(red.Find(Value(int64_t{4})), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Names(red.Query().Where("value", ">", 2).OrderBy("value", kDesc).Get().value()),
              ElementsAre("b", "a"));
  EXPECT_THAT(Names(db_.Related(Guild(2), "items").Get().value()), IsEmpty());
  EXPECT_EQ(db_.Related(Guild(3), "items").Count().value(), 0);
  // Writes are refused, naming the kind; nothing changes.
  const std::string before = db_.DebugString();
  EXPECT_THAT(red.Create({{"name", "x"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'guilds.items' is has many through; create needs a has many or "
                                 "has one relation")));
  EXPECT_THAT(red.Attach({a}), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        HasSubstr("attach needs a many to many relation")));
  EXPECT_THAT(red.Delete(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(red.Set({}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(HasManyThroughTest, RelationAwareQueries) {
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  Fill();
  ASSERT_OK_AND_ASSIGN(
      ResultSet guilds,
      db_.Query("guilds")
          .Preload("items", [](Query& q) { q.GroupLimit(2).GroupOrderBy("value", kDesc); })
          .WithCount("items")
          .WithAggregate("items", [](Query& q) { q.Max("value").As("best"); })
          .OrderBy("id")
          .Get());
  ASSERT_EQ(guilds.size(), 3u);
  EXPECT_THAT(Names(guilds[0].Preloaded("items").value()), ElementsAre("b", "a"));
  EXPECT_THAT(Names(guilds[1].Preloaded("items").value()), IsEmpty());
  EXPECT_EQ(guilds[0].Extra("items_count").value(), Value(int64_t{3}));
  EXPECT_EQ(guilds[1].Extra("items_count").value(), Value(int64_t{0}));
  EXPECT_EQ(guilds[0].Extra("best").value(), Value(int64_t{7}));
  EXPECT_TRUE(guilds[2].Extra("best").value().is_null());
  EXPECT_THAT(Names(db_.Query("guilds").Has("items").Get().value()), ElementsAre("red"));
  EXPECT_THAT(Names(db_.Query("guilds").Has("items", "<", 1).OrderBy("id").Get().value()),
              ElementsAre("blue", "green"));
  EXPECT_THAT(Names(db_.Query("guilds")
                        .WhereHas("items", [](Query& q) { q.Where("value", ">=", 7); })
                        .Get()
                        .value()),
              ElementsAre("red"));
  EXPECT_THAT(Names(db_.Query("guilds")
                        .WhereHas(
                            "items", [](Query& q) { q.Sum("value"); }, ">", 12)
                        .Get()
                        .value()),
              ElementsAre("red"));
  // Nested through a through relation: each item's player.
  ASSERT_OK_AND_ASSIGN(
      ResultSet nested,
      db_.Query("guilds").Preload("items", [](Query& q) { q.Preload("player"); }).Get());
  ASSERT_EQ(nested[0].Preloaded("items").value().size(), 3u);
  EXPECT_EQ(nested[0].Preloaded("items").value()[0].Preloaded("player").value().size(), 1u);
}

TEST_F(HasManyThroughTest, SnapshotAndDrop) {
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  Fill();
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* items, loaded.GetRelation("guilds", "items"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* original, db_.GetRelation("guilds", "items"));
  EXPECT_TRUE(items->DeclarationEquals(*original));
  ASSERT_OK_AND_ASSIGN(Row red, loaded.FindOrFail("guilds", 1));
  EXPECT_THAT(Names(loaded.Related(red, "items").Get().value()), ElementsAre("a", "b", "c"));
  // Dropping the intermediate table drops the relation through it.
  ASSERT_OK(db_.DropTable("players"));
  EXPECT_FALSE(db_.GetRelation("guilds", "items").ok());
}

TEST_F(HasManyThroughTest, RandomDataMatchesAModel) {
  ASSERT_OK(db_.HasManyThrough("guilds", "players", "items"));
  for (uint32_t seed : {7u, 8u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); };
    ASSERT_OK(db_.Query("items").Delete().status());
    ASSERT_OK(db_.Query("players").Delete().status());
    ASSERT_OK(db_.Query("guilds").Delete().status());
    std::vector<int64_t> guild_ids, player_guild;
    for (int i = 0; i < 6; ++i) {
      guild_ids.push_back(db_.Insert("guilds", {{"name", "g"}}).value().GetInt64("id").value());
    }
    std::map<int64_t, int64_t> guild_of;  // player -> guild
    std::map<int64_t, int64_t> best;      // guild -> max value
    std::map<int64_t, int64_t> count;     // guild -> items
    std::vector<int64_t> player_ids;
    for (int i = 0; i < 20; ++i) {
      const int64_t g = guild_ids[pick(6)];
      const int64_t id = db_.Insert("players", {{"guild_id", g}}).value().GetInt64("id").value();
      guild_of[id] = g;
      player_ids.push_back(id);
    }
    for (int i = 0; i < 80; ++i) {
      const int64_t p = player_ids[pick(20)];
      const int64_t v = pick(1000);
      ASSERT_OK(db_.Insert("items", {{"player_id", p}, {"name", "i"}, {"value", v}}).status());
      const int64_t g = guild_of[p];
      ++count[g];
      best[g] = std::max(best.count(g) ? best[g] : v, v);
    }
    ASSERT_OK_AND_ASSIGN(ResultSet guilds,
                         db_.Query("guilds")
                             .WithCount("items")
                             .WithAggregate("items", [](Query& q) { q.Max("value").As("best"); })
                             .Preload("items")
                             .Get());
    for (const ResultRow& g : guilds) {
      const int64_t id = g.GetInt64("id").value();
      EXPECT_EQ(g.Extra("items_count").value(), Value(count[id]));
      EXPECT_EQ(static_cast<int64_t>(g.Preloaded("items").value().size()), count[id]);
      EXPECT_EQ(g.Extra("best").value(), count[id] ? Value(best[id]) : Value());
      EXPECT_EQ(db_.Related(Row(g), "items").Count().value(), count[id]);
    }
  }
}

}  // namespace
}  // namespace kin::test
