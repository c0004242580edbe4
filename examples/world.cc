#include "examples/world.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "engine/table.h"
#include "examples/world_check.h"
#include "kin/kin.h"
#include "kin/row_batch.h"

namespace kin::examples {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// --- deterministic randomness ---

// std::mt19937_64's output is fixed by the standard, but the std::*_distribution
// classes are not (libstdc++ and libc++ differ), so reductions are done here
// with integers only: the same seed gives the same world everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // Uniform in [0, n) (Lemire's multiply-shift). REQUIRES: n > 0.
  uint64_t Below(uint64_t n) { return absl::Uint128High64(absl::uint128(gen_()) * n); }
  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // True with probability percent / 100.
  bool Percent(uint64_t percent) { return Below(100) < percent; }

 private:
  std::mt19937_64 gen_;
};

// --- the world's shape ---

// Rarities, common to legendary.
constexpr int64_t kLegendary = 4;
// A guild counts as active from this many active players.
constexpr int64_t kActiveGuildPlayers = 50;
// The raid roster: active players of at least this level who hold a
// legendary item. (Filtering the players first keeps the read to a tenth of
// the items: a player's items are scattered over the whole items table, so
// every one of them visited is a cache miss.)
constexpr int64_t kRaidLevel = 55;
// Items per loot drop, and in a new player's starter kit.
constexpr int kLootPerDrop = 4;
constexpr int kStarterKit = 3;
// A guild disbands (and a new one is founded) every this many ticks.
constexpr int kDisbandEvery = 10;
// Rows per InsertMany call while seeding: big enough that the per-call cost
// vanishes, small enough that a batch of Attrs stays a few MB.
constexpr size_t kSeedBatch = 8192;
// A quest is done at this progress (the pivot column of players.quests);
// a done quest is turned in (detached) the next time it comes up.
constexpr int64_t kQuestDone = 100;
// Seeded quests per player: 0 to this many, distinct.
constexpr uint64_t kMaxSeededQuests = 3;
// One seeded player in this many has a profile (players.profile, HasOne).
constexpr int64_t kProfileEvery = 4;
constexpr double kMaxScale = 100;

int64_t Scaled(double base, double scale) {
  return std::max<int64_t>(1, std::llround(base * scale));
}

// How big the world is and how much happens per tick, for a scale.
struct Sizes {
  explicit Sizes(double scale)
      : guilds(Scaled(1'000, scale)),
        players(Scaled(100'000, scale)),
        items(Scaled(1'000'000, scale)),
        score_updates(Scaled(2'000, scale)),
        activity_toggles(Scaled(1'000, scale)),
        joins(Scaled(200, scale)),
        leaves(Scaled(100, scale)),
        loot_drops(Scaled(500, scale)),
        breaks(Scaled(1'500, scale)),
        trades(Scaled(500, scale)),
        quits(Scaled(50, scale)),
        registrations(Scaled(50, scale)),
        quests(std::max<int64_t>(10, Scaled(100, scale))),
        quest_moves(Scaled(300, scale)) {}
  int64_t guilds, players, items;
  int64_t score_updates, activity_toggles, joins, leaves, loot_drops, breaks, trades, quits,
      registrations;
  int64_t quests, quest_moves;
};

// The operations a tick runs, in order, with the names the report prints.
enum Op : int {
  kScores,
  kActivity,
  kJoin,
  kLeave,
  kPurge,
  kLoot,
  kBreak,
  kTrade,
  kRefusedTrade,
  kQuit,
  kRegister,
  kQuest,
  kDisband,
  kLeaderboard,
  kGuildSizes,
  kActiveGuilds,
  kRichest,
  kRaidRoster,
  kQuestBoard,
  kNumOps,
};
constexpr std::array<const char*, kNumOps> kOpNames = {
    "score       Update(player, {score})",
    "activity    Update(player, {active})",
    "join        Related(guild, players).Add",
    "leave       Related(player, guild).Parent + Remove",
    "purge       Related(guild, active_players) + Set",
    "loot        Related(player, items).CreateMany",
    "break       Delete(item)",
    "trade       Atomically: Add + Update x2 + 2 events",
    "refusal     Atomically -> error -> rolled back",
    "quit        Delete(player): items, events cascade",
    "register    Related(NewRow, items).CreateMany",
    "quest       Attach / UpdatePivot / Detach",
    "disband     Delete(guild): members' guild_id NULL",
    "leaderboard Preload(players): GroupLimit 3 by score",
    "sizes       WithCount(players)",
    "active      Has(active_players, >=, 50).Count",
    "richest     WithAggregate(players, Max(gold))",
    "raid        WhereHas(items, legendary).Count",
    "questboard  Preload(quests): WherePivot + top 3",
};

absl::Status CreateSchema(Database& db) {
  KIN_RETURN_IF_ERROR(db.CreateTable("guilds", Schema()
                                                   .Int64("id", ManualPrimaryKey())
                                                   .String("name", NotNull())
                                                   .Int64("founded_tick", NotNull())));
  KIN_RETURN_IF_ERROR(db.CreateTable("players", Schema()
                                                    .Int64("id", ManualPrimaryKey())
                                                    .Int64("guild_id")  // NULL: guildless
                                                    .String("name", NotNull())
                                                    .Int64("level", NotNull())
                                                    .Int64("score", NotNull())
                                                    .Int64("gold", NotNull())
                                                    .Bool("active", NotNull())));
  KIN_RETURN_IF_ERROR(db.CreateTable("items", Schema()
                                                  .Int64("id", PrimaryKey())
                                                  .Int64("player_id", NotNull())
                                                  .Int64("kind", NotNull())
                                                  .Int64("rarity", NotNull())
                                                  .Int64("value", NotNull())
                                                  .Int64("created_tick", NotNull())));
  KIN_RETURN_IF_ERROR(db.CreateTable("events", Schema()
                                                   .Int64("id", PrimaryKey())
                                                   .Int64("player_id", NotNull())
                                                   .Int64("tick", NotNull())
                                                   .String("kind", NotNull())
                                                   .Int64("amount", Default(0))));
  // A disbanded guild leaves its members guildless; a player who quits takes
  // their items and history along. Both actions run inside the engine, in
  // the same transaction as the delete.
  KIN_RETURN_IF_ERROR(db.HasMany("guilds", "players", {.on_delete = OnDelete::kSetNull}));
  KIN_RETURN_IF_ERROR(db.HasMany("players", "items", {.on_delete = OnDelete::kCascade}));
  KIN_RETURN_IF_ERROR(db.HasMany("players", "events", {.on_delete = OnDelete::kCascade}));
  // The same foreign key seen through a filter. on_query is code, so it is
  // not saved in snapshots: AttachHooks() re-attaches it after a load.
  KIN_RETURN_IF_ERROR(
      db.HasMany("guilds", "players", {.name = "active_players", .create_inverse = false}));
  // A guild's items are its players' items: read through the two relations.
  KIN_RETURN_IF_ERROR(db.HasManyThrough("guilds", "players", "items"));
  // Players take many quests and quests have many players, with each
  // player's progress on the link (the pivot row). A player who quits
  // takes their links along (the ManyToMany's default kCascade).
  KIN_RETURN_IF_ERROR(db.CreateTable("quests", Schema()
                                                   .Int64("id", ManualPrimaryKey())
                                                   .String("name", NotNull())
                                                   .Int64("reward", NotNull())));
  KIN_RETURN_IF_ERROR(db.CreateTable("player_quest", Schema()
                                                         .Int64("id", PrimaryKey())
                                                         .Int64("player_id", NotNull())
                                                         .Int64("quest_id", NotNull())
                                                         .Int64("progress", NotNull())));
  KIN_RETURN_IF_ERROR(db.ManyToMany("players", "quests", {.pivot_columns = {"progress"}}));
  // A player has at most one profile (its key is unique), gone with them.
  KIN_RETURN_IF_ERROR(db.CreateTable(
      "profiles",
      Schema().Int64("id", PrimaryKey()).Int64("player_id", Unique()).String("title", NotNull())));
  KIN_RETURN_IF_ERROR(db.HasOne("players", "profiles", {.on_delete = OnDelete::kCascade}));
  return absl::OkStatus();
}

absl::Status AttachHooks(Database& db) {
  return db.SetOnQuery("guilds", "active_players", [](kin::Query& q) { q.Where("active", true); });
}

// Tables and columns resolved once, for the typed-span code paths.
struct Handles {
  const Table* guilds = nullptr;
  const Table* players = nullptr;
  const Table* items = nullptr;
  const Table* events = nullptr;
  const Table* links = nullptr;  // player_quest, the pivot
  const Table* profiles = nullptr;
  ColumnId guild_id, player_id, player_guild, player_level, player_score, player_gold,
      player_active;
  ColumnId item_player, item_rarity, item_value, event_player;
  ColumnId link_player, link_quest, link_progress, profile_id, profile_player;
};

absl::StatusOr<Handles> Resolve(const Database& db) {
  Handles h;
  KIN_ASSIGN_OR_RETURN(h.guilds, db.GetTable("guilds"));
  KIN_ASSIGN_OR_RETURN(h.players, db.GetTable("players"));
  KIN_ASSIGN_OR_RETURN(h.items, db.GetTable("items"));
  KIN_ASSIGN_OR_RETURN(h.events, db.GetTable("events"));
  KIN_ASSIGN_OR_RETURN(h.guild_id, h.guilds->GetColumn("id"));
  KIN_ASSIGN_OR_RETURN(h.player_id, h.players->GetColumn("id"));
  KIN_ASSIGN_OR_RETURN(h.player_guild, h.players->GetColumn("guild_id"));
  KIN_ASSIGN_OR_RETURN(h.player_level, h.players->GetColumn("level"));
  KIN_ASSIGN_OR_RETURN(h.player_score, h.players->GetColumn("score"));
  KIN_ASSIGN_OR_RETURN(h.player_gold, h.players->GetColumn("gold"));
  KIN_ASSIGN_OR_RETURN(h.player_active, h.players->GetColumn("active"));
  KIN_ASSIGN_OR_RETURN(h.item_player, h.items->GetColumn("player_id"));
  KIN_ASSIGN_OR_RETURN(h.item_rarity, h.items->GetColumn("rarity"));
  KIN_ASSIGN_OR_RETURN(h.item_value, h.items->GetColumn("value"));
  KIN_ASSIGN_OR_RETURN(h.event_player, h.events->GetColumn("player_id"));
  KIN_ASSIGN_OR_RETURN(h.links, db.GetTable("player_quest"));
  KIN_ASSIGN_OR_RETURN(h.profiles, db.GetTable("profiles"));
  KIN_ASSIGN_OR_RETURN(h.link_player, h.links->GetColumn("player_id"));
  KIN_ASSIGN_OR_RETURN(h.link_quest, h.links->GetColumn("quest_id"));
  KIN_ASSIGN_OR_RETURN(h.link_progress, h.links->GetColumn("progress"));
  KIN_ASSIGN_OR_RETURN(h.profile_id, h.profiles->GetColumn("id"));
  KIN_ASSIGN_OR_RETURN(h.profile_player, h.profiles->GetColumn("player_id"));
  return h;
}

// --- the relation-aware reads ---

// What one tick's reads found. Digests rather than row lists, so that two
// ways of computing them compare in O(1) and a run's totals fit a report.
struct Reads {
  uint64_t leaderboard = 0;  // each guild's id and its top 3 scores
  uint64_t sizes = 0;        // each guild's id and member count
  int64_t largest = 0;
  int64_t active_guilds = 0;
  uint64_t richest = 0;  // each guild's id and its richest member's gold
  int64_t richest_gold = 0;
  int64_t raid_ready = 0;
  // One guild's quest board: each member's id, their 3 unfinished quests
  // furthest along (id and progress), how many they finished, and their
  // profile's id (0: none).
  int64_t quest_guild = 0;
  uint64_t quest_board = 0;

  friend bool operator==(const Reads&, const Reads&) = default;
};

// The quest board of guild `guild`, by hand: each member's links in the
// pivot's index (link) order, the unfinished ones ranked by progress
// (stable), as the preload ranks them.
uint64_t QuestBoardByHand(const Handles& h, int64_t guild) {
  const std::span<const int64_t> player_ids = h.players->Int64Column(h.player_id);
  const std::span<const int64_t> quest = h.links->Int64Column(h.link_quest);
  const std::span<const int64_t> progress = h.links->Int64Column(h.link_progress);
  const std::span<const int64_t> profile_ids = h.profiles->Int64Column(h.profile_id);
  Digest d;
  d.AddInt(guild);
  std::vector<RowId> open;
  for (RowId m : h.players->Children(h.player_guild, guild)) {
    const int64_t id = player_ids[m.value];
    open.clear();
    int64_t done = 0;
    for (RowId link : h.links->Children(h.link_player, id)) {
      if (progress[link.value] >= kQuestDone) {
        ++done;
      } else {
        open.push_back(link);
      }
    }
    std::stable_sort(open.begin(), open.end(),
                     [&](RowId a, RowId b) { return progress[a.value] > progress[b.value]; });
    if (open.size() > 3) open.resize(3);
    d.AddInt(id);
    d.Add(open.size());
    for (RowId link : open) {
      d.AddInt(quest[link.value]);
      d.AddInt(progress[link.value]);
    }
    d.AddInt(done);
    const std::span<const RowId> profile = h.profiles->Children(h.profile_player, id);
    d.AddInt(profile.empty() ? 0 : profile_ids[profile[0].value]);
  }
  return d.value();
}

// The same reads by hand, on typed spans and child lists: the code a game
// would write in its hottest loop, and the reference the queries are
// checked against. Guilds are visited in slot order, as a query's scan
// returns them.
Reads ReadByHand(const Handles& h, int64_t quest_guild) {
  Reads r;
  r.quest_guild = quest_guild;
  r.quest_board = QuestBoardByHand(h, quest_guild);
  const std::span<const int64_t> guild_ids = h.guilds->Int64Column(h.guild_id);
  const std::span<const int64_t> score = h.players->Int64Column(h.player_score);
  const std::span<const int64_t> gold = h.players->Int64Column(h.player_gold);
  const std::span<const uint8_t> active = h.players->BoolColumn(h.player_active);
  Digest leaderboard, sizes, richest;
  for (uint32_t slot = 0; slot < h.guilds->slot_count(); ++slot) {
    if (!h.guilds->IsLive(RowId(slot))) continue;
    const int64_t id = guild_ids[slot];
    const std::span<const RowId> members = h.players->Children(h.player_guild, id);
    // Top 3 scores, descending: an insertion into three slots beats sorting.
    std::array<int64_t, 3> top{};
    size_t n = 0;
    int64_t active_members = 0;
    std::optional<int64_t> max_gold;
    for (RowId m : members) {
      const int64_t s = score[m.value];
      size_t pos = n;
      while (pos > 0 && top[pos - 1] < s) --pos;
      if (pos < 3) {
        for (size_t i = std::min<size_t>(n, 2); i > pos; --i) top[i] = top[i - 1];
        top[pos] = s;
        n = std::min<size_t>(n + 1, 3);
      }
      active_members += active[m.value];
      if (!max_gold || gold[m.value] > *max_gold) max_gold = gold[m.value];
    }
    leaderboard.AddInt(id);
    leaderboard.Add(n);
    for (size_t i = 0; i < n; ++i) leaderboard.AddInt(top[i]);
    sizes.AddInt(id);
    sizes.Add(members.size());
    r.largest = std::max<int64_t>(r.largest, static_cast<int64_t>(members.size()));
    if (active_members >= kActiveGuildPlayers) ++r.active_guilds;
    richest.AddInt(id);
    if (max_gold) {
      richest.AddInt(*max_gold);
      r.richest_gold = std::max(r.richest_gold, *max_gold);
    } else {
      richest.Add(kNullTag);
    }
  }
  const std::span<const int64_t> player_ids = h.players->Int64Column(h.player_id);
  const std::span<const int64_t> level = h.players->Int64Column(h.player_level);
  const std::span<const int64_t> rarity = h.items->Int64Column(h.item_rarity);
  for (uint32_t slot = 0; slot < h.players->slot_count(); ++slot) {
    if (!h.players->IsLive(RowId(slot)) || !active[slot] || level[slot] < kRaidLevel) continue;
    for (RowId item : h.items->Children(h.item_player, player_ids[slot])) {
      if (rarity[item.value] == kLegendary) {
        ++r.raid_ready;
        break;
      }
    }
  }
  r.leaderboard = leaderboard.value();
  r.sizes = sizes.value();
  r.richest = richest.value();
  return r;
}

// --- process memory (Linux) ---

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmHWM:") {
      uint64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

// The same reads through kin's relation-aware queries: what the demo
// times. Each fills its part of `r`.

absl::Status QueryLeaderboard(Database& db, Reads& r) {
  KIN_ASSIGN_OR_RETURN(
      ResultSet guilds,
      db.Query("guilds")
          .Preload("players", [](kin::Query& q) { q.GroupOrderBy("score", kDesc).GroupLimit(3); })
          .Get());
  Digest d;
  for (const ResultRow& guild : guilds) {
    KIN_ASSIGN_OR_RETURN(int64_t id, guild.GetInt64("id"));
    KIN_ASSIGN_OR_RETURN(std::span<const ResultRow> top, guild.Preloaded("players"));
    d.AddInt(id);
    d.Add(top.size());
    for (const ResultRow& player : top) {
      KIN_ASSIGN_OR_RETURN(int64_t score, player.GetInt64("score"));
      d.AddInt(score);
    }
  }
  r.leaderboard = d.value();
  return absl::OkStatus();
}

absl::Status QueryGuildSizes(Database& db, Reads& r) {
  KIN_ASSIGN_OR_RETURN(ResultSet guilds, db.Query("guilds").WithCount("players").Get());
  Digest d;
  r.largest = 0;
  for (const ResultRow& guild : guilds) {
    KIN_ASSIGN_OR_RETURN(int64_t id, guild.GetInt64("id"));
    KIN_ASSIGN_OR_RETURN(Value count, guild.Extra("players_count"));
    d.AddInt(id);
    d.AddInt(count.AsInt64());
    r.largest = std::max(r.largest, count.AsInt64());
  }
  r.sizes = d.value();
  return absl::OkStatus();
}

absl::Status QueryActiveGuilds(Database& db, Reads& r) {
  // active_players carries an on_query (active = true), so this counts
  // active members only.
  KIN_ASSIGN_OR_RETURN(r.active_guilds,
                       db.Query("guilds").Has("active_players", ">=", kActiveGuildPlayers).Count());
  return absl::OkStatus();
}

absl::Status QueryRichest(Database& db, Reads& r) {
  KIN_ASSIGN_OR_RETURN(
      ResultSet guilds,
      db.Query("guilds")
          .WithAggregate("players", [](kin::Query& q) { q.Max("gold").As("richest_gold"); })
          .Get());
  Digest d;
  r.richest_gold = 0;
  for (const ResultRow& guild : guilds) {
    KIN_ASSIGN_OR_RETURN(int64_t id, guild.GetInt64("id"));
    KIN_ASSIGN_OR_RETURN(Value gold, guild.Extra("richest_gold"));
    d.AddInt(id);
    if (gold.is_null()) {  // a guild without members
      d.Add(kNullTag);
    } else {
      d.AddInt(gold.AsInt64());
      r.richest_gold = std::max(r.richest_gold, gold.AsInt64());
    }
  }
  r.richest = d.value();
  return absl::OkStatus();
}

absl::Status QueryRaidRoster(Database& db, Reads& r) {
  KIN_ASSIGN_OR_RETURN(r.raid_ready,
                       db.Query("players")
                           .Where("active", true)
                           .Where("level", ">=", kRaidLevel)
                           .WhereHas("items", [](kin::Query& q) { q.Where("rarity", kLegendary); })
                           .Count());
  return absl::OkStatus();
}

// A guild's quest board through the relations: each member's unfinished
// quests ranked by the pivot's progress (WherePivot + GroupOrderByPivot,
// both applied per link as the ManyToMany walks it), finished quests
// counted by a pivot condition, and the HasOne profile preloaded.
absl::Status QueryQuestBoard(Database& db, int64_t guild, Reads& r) {
  KIN_ASSIGN_OR_RETURN(
      ResultSet members,
      db.Query("players")
          .Where("guild_id", guild)
          .Preload("quests",
                   [](kin::Query& q) {
                     q.WherePivot("progress", "<", kQuestDone)
                         .GroupOrderByPivot("progress", kDesc)
                         .GroupLimit(3);
                   })
          .WithCount("quests",
                     [](kin::Query& q) { q.WherePivot("progress", ">=", kQuestDone).As("done"); })
          .Preload("profile")
          .Get());
  Digest d;
  d.AddInt(guild);
  for (const ResultRow& m : members) {
    KIN_ASSIGN_OR_RETURN(int64_t id, m.GetInt64("id"));
    KIN_ASSIGN_OR_RETURN(std::span<const ResultRow> open, m.Preloaded("quests"));
    d.AddInt(id);
    d.Add(open.size());
    for (const ResultRow& q : open) {
      KIN_ASSIGN_OR_RETURN(int64_t quest, q.GetInt64("id"));
      KIN_ASSIGN_OR_RETURN(Value progress, q.Extra("pivot_progress"));
      d.AddInt(quest);
      d.AddInt(progress.AsInt64());
    }
    KIN_ASSIGN_OR_RETURN(Value done, m.Extra("done"));
    d.AddInt(done.AsInt64());
    KIN_ASSIGN_OR_RETURN(std::span<const ResultRow> profile, m.Preloaded("profile"));
    int64_t profile_id = 0;
    if (!profile.empty()) {
      KIN_ASSIGN_OR_RETURN(profile_id, profile[0].GetInt64("id"));
    }
    d.AddInt(profile_id);
  }
  r.quest_guild = guild;
  r.quest_board = d.value();
  return absl::OkStatus();
}

// All of them, untimed: for comparing two worlds.
absl::StatusOr<Reads> QueryReads(Database& db, int64_t quest_guild) {
  Reads r;
  KIN_RETURN_IF_ERROR(QueryQuestBoard(db, quest_guild, r));
  KIN_RETURN_IF_ERROR(QueryLeaderboard(db, r));
  KIN_RETURN_IF_ERROR(QueryGuildSizes(db, r));
  KIN_RETURN_IF_ERROR(QueryActiveGuilds(db, r));
  KIN_RETURN_IF_ERROR(QueryRichest(db, r));
  KIN_RETURN_IF_ERROR(QueryRaidRoster(db, r));
  return r;
}

// "leaderboards, active guilds 3 vs 4": what differs between two reads.
std::string DescribeMismatch(const Reads& a, const Reads& b) {
  std::vector<std::string> parts;
  if (a.leaderboard != b.leaderboard) parts.push_back("leaderboards");
  if (a.sizes != b.sizes || a.largest != b.largest) parts.push_back("guild sizes");
  if (a.active_guilds != b.active_guilds) {
    parts.push_back(absl::StrCat("active guilds ", a.active_guilds, " vs ", b.active_guilds));
  }
  if (a.richest != b.richest || a.richest_gold != b.richest_gold) parts.push_back("richest");
  if (a.raid_ready != b.raid_ready) {
    parts.push_back(absl::StrCat("raid roster ", a.raid_ready, " vs ", b.raid_ready));
  }
  if (a.quest_guild != b.quest_guild || a.quest_board != b.quest_board) {
    parts.push_back(absl::StrCat("quest board of guild ", a.quest_guild));
  }
  return absl::StrJoin(parts, ", ");
}

// --- the world ---

class World {
 public:
  World(const WorldOptions& options, std::ostream& progress)
      : options_(options),
        sizes_(options.scale),
        rng_(options.seed),
        quest_rng_(QuestSeed(options.seed, 0)),
        progress_(progress) {
    for (int op = 0; op < kNumOps; ++op) timings_.ops.push_back({.name = kOpNames[op]});
  }

  absl::StatusOr<WorldReport> Run() {
    bool resumed = false;
    if (!options_.data_dir.empty()) {
      OpenOptions open;
      open.sync = options_.sync;
      KIN_ASSIGN_OR_RETURN(db_, Database::Open(options_.data_dir, open));
      resumed = !db_.TableNames().empty();
    }
    if (!resumed) {
      KIN_RETURN_IF_ERROR(CreateSchema(db_));
      if (!options_.data_dir.empty()) {
        KIN_RETURN_IF_ERROR(
            db_.CreateTable(std::string(kProgressTable),
                            Schema().Int64("id", ManualPrimaryKey()).Int64("tick", NotNull())));
      }
    }
    KIN_RETURN_IF_ERROR(AttachHooks(db_));
    KIN_ASSIGN_OR_RETURN(h_, Resolve(db_));
    int first_tick = 0;
    if (resumed) {
      KIN_ASSIGN_OR_RETURN(first_tick, Resume());
    } else {
      KIN_RETURN_IF_ERROR(Seed());
      if (!options_.data_dir.empty()) {
        // The seeded world as the first checkpoint, so the journal holds
        // ticks only.
        KIN_RETURN_IF_ERROR(db_.Insert(kProgressTable, {{"id", 1}, {"tick", 0}}).status());
        KIN_RETURN_IF_ERROR(db_.Checkpoint());
      }
    }
    WatchCommits();
    for (int tick = first_tick; tick < first_tick + options_.ticks; ++tick) {
      KIN_RETURN_IF_ERROR(options_.data_dir.empty() ? Tick(tick) : DurableTick(tick));
    }
    if (options_.progress_in_place && options_.ticks > 0) progress_ << "\n";
    KIN_RETURN_IF_ERROR(Finish());

    WorldReport report;
    report.options = options_;
    report.counts = counts_;
    report.timings = std::move(timings_);
    report.checks = std::move(checks_);
    report.snapshot_path = snapshot_path_;
    report.snapshot_kept = !options_.save_path.empty();
    if (!options_.data_dir.empty()) {
      KIN_ASSIGN_OR_RETURN(report.journal, db_.Journal());
    }
    return report;
  }

 private:
  // --- seeding ---

  absl::Status Seed() {
    progress_ << absl::StrFormat("seeding %s guilds, %s players, %s items, %s events ...\n",
                                 FormatCount(sizes_.guilds), FormatCount(sizes_.players),
                                 FormatCount(sizes_.items), FormatCount(2 * sizes_.players))
              << std::flush;
    const Clock::time_point start = Clock::now();

    // Guilds and players row by row, as an application adds rows it gets one
    // at a time: InsertMany, a batch of Attrs a call.
    std::vector<Attrs> batch;
    batch.reserve(kSeedBatch);
    auto flush = [&](std::string_view table) -> absl::Status {
      KIN_RETURN_IF_ERROR(db_.InsertMany(table, batch).status());
      batch.clear();
      return absl::OkStatus();
    };
    Clock::time_point t0 = Clock::now();
    for (int64_t g = 1; g <= sizes_.guilds; ++g) {
      batch.push_back(
          {{"id", g}, {"name", absl::StrCat("guild-", g)}, {"founded_tick", int64_t{0}}});
      if (batch.size() == kSeedBatch || g == sizes_.guilds) KIN_RETURN_IF_ERROR(flush("guilds"));
    }
    next_guild_id_ = sizes_.guilds + 1;
    for (int64_t p = 1; p <= sizes_.players; ++p) {
      // min of two uniform draws: guild sizes fall linearly from about twice
      // the average to almost nothing, so "at least 50 active players" splits
      // the guilds instead of taking all or none. 5% start guildless.
      Value guild;
      if (!rng_.Percent(5)) {
        guild = 1 + static_cast<int64_t>(
                        std::min(rng_.Below(sizes_.guilds), rng_.Below(sizes_.guilds)));
      }
      const int64_t level = rng_.Between(1, 60);
      const int64_t gold = rng_.Between(0, 2'000);
      total_gold_ += gold;
      batch.push_back({{"id", p},
                       {"guild_id", std::move(guild)},
                       {"name", absl::StrCat("player-", p)},
                       {"level", level},
                       {"score", level * 100 + rng_.Between(0, 999)},
                       {"gold", gold},
                       {"active", rng_.Percent(60)}});
      if (batch.size() == kSeedBatch || p == sizes_.players) {
        KIN_RETURN_IF_ERROR(flush("players"));
      }
    }
    next_player_id_ = sizes_.players + 1;
    timings_.seed.push_back({.what = absl::StrCat("guilds + players, InsertMany (",
                                                  FormatCount(kSeedBatch), " Attrs a call)"),
                             .rows = sizes_.guilds + sizes_.players,
                             .seconds = MsSince(t0) / 1e3});

    // Items and events in bulk, as a level or a save game loads: InsertBatch
    // takes whole typed columns, no Value per cell.
    t0 = Clock::now();
    {
      std::vector<int64_t> player(sizes_.items), kind(sizes_.items), rarity(sizes_.items),
          value(sizes_.items);
      for (int64_t i = 0; i < sizes_.items; ++i) {
        player[i] = 1 + rng_.Between(0, sizes_.players - 1);
        const ItemDraw item = DrawItem();
        kind[i] = item.kind;
        rarity[i] = item.rarity;
        value[i] = item.value;
      }
      RowBatch items;
      items.Int64("player_id", std::move(player))
          .Int64("kind", std::move(kind))
          .Int64("rarity", std::move(rarity))
          .Int64("value", std::move(value))
          .Int64("created_tick", std::vector<int64_t>(sizes_.items, 0));
      KIN_RETURN_IF_ERROR(db_.InsertBatch("items", std::move(items)).status());
    }
    {
      const size_t n = 2 * static_cast<size_t>(sizes_.players);
      std::vector<int64_t> player(n);
      std::vector<std::string> kind(n);
      for (size_t i = 0; i < n; ++i) {
        player[i] = 1 + static_cast<int64_t>(i / 2);
        kind[i] = i % 2 == 0 ? "register" : "login";
      }
      RowBatch events;
      events.Int64("player_id", std::move(player))
          .Int64("tick", std::vector<int64_t>(n, 0))
          .String("kind", std::move(kind));
      KIN_RETURN_IF_ERROR(db_.InsertBatch("events", std::move(events)).status());
    }
    timings_.seed.push_back({.what = "items + events, InsertBatch (typed columns)",
                             .rows = sizes_.items + 2 * sizes_.players,
                             .seconds = MsSince(t0) / 1e3});
    t0 = Clock::now();
    KIN_ASSIGN_OR_RETURN(const int64_t quest_rows, SeedQuests());
    timings_.seed.push_back({.what = "quests + their links + profiles, InsertBatch",
                             .rows = quest_rows,
                             .seconds = MsSince(t0) / 1e3});

    counts_.seeded_guilds = static_cast<int64_t>(h_.guilds->size());
    counts_.seeded_players = static_cast<int64_t>(h_.players->size());
    counts_.seeded_items = static_cast<int64_t>(h_.items->size());
    counts_.seeded_events = static_cast<int64_t>(h_.events->size());
    counts_.seeded_quest_links = static_cast<int64_t>(h_.links->size());
    counts_.seeded_profiles = static_cast<int64_t>(h_.profiles->size());
    progress_ << absl::StrFormat("seeded in %.2f s\n", MsSince(start) / 1e3) << std::flush;
    return absl::OkStatus();
  }

  // The quests, each player's first links (0 to kMaxSeededQuests distinct
  // quests, some progress made) and every kProfileEvery-th player's
  // profile, from quest_rng_ (so the other draws stay as they were).
  // Returns the rows inserted.
  absl::StatusOr<int64_t> SeedQuests() {
    const int64_t n = sizes_.quests;
    {
      std::vector<int64_t> id(n), reward(n);
      std::vector<std::string> name(n);
      for (int64_t q = 0; q < n; ++q) {
        id[q] = q + 1;
        name[q] = absl::StrCat("quest-", q + 1);
        reward[q] = quest_rng_.Between(10, 500);
      }
      RowBatch quests;
      quests.Int64("id", std::move(id))
          .String("name", std::move(name))
          .Int64("reward", std::move(reward));
      KIN_RETURN_IF_ERROR(db_.InsertBatch("quests", std::move(quests)).status());
    }
    std::vector<int64_t> player, quest, progress;
    std::vector<int64_t> profile_player;
    std::vector<std::string> title;
    for (int64_t p = 1; p <= sizes_.players; ++p) {
      const uint64_t k =
          std::min<uint64_t>(quest_rng_.Below(kMaxSeededQuests + 1), static_cast<uint64_t>(n));
      const size_t first = quest.size();
      while (quest.size() - first < k) {
        const int64_t q = 1 + static_cast<int64_t>(quest_rng_.Below(static_cast<uint64_t>(n)));
        if (std::find(quest.begin() + first, quest.end(), q) != quest.end()) continue;
        player.push_back(p);
        quest.push_back(q);
        progress.push_back(quest_rng_.Between(0, kQuestDone));
      }
      if (p % kProfileEvery == 0) {
        profile_player.push_back(p);
        title.push_back(absl::StrCat("veteran-", p));
      }
    }
    const int64_t rows = n + static_cast<int64_t>(quest.size() + profile_player.size());
    RowBatch links;
    links.Int64("player_id", std::move(player))
        .Int64("quest_id", std::move(quest))
        .Int64("progress", std::move(progress));
    KIN_RETURN_IF_ERROR(db_.InsertBatch("player_quest", std::move(links)).status());
    RowBatch profiles;
    profiles.Int64("player_id", std::move(profile_player)).String("title", std::move(title));
    KIN_RETURN_IF_ERROR(db_.InsertBatch("profiles", std::move(profiles)).status());
    return rows;
  }

  // quest_rng_'s seed: its own stream, and after a resume one per tick.
  static uint64_t QuestSeed(uint64_t seed, int64_t tick) {
    return seed * 0x9e3779b97f4a7c15ull + 0x51ed270b27ull + static_cast<uint64_t>(tick);
  }

  // A random item: mostly common, 1 in 200 legendary; the rarer, the dearer.
  struct ItemDraw {
    int64_t kind, rarity, value;
  };
  ItemDraw DrawItem() {
    const uint64_t roll = rng_.Below(1000);
    int64_t rarity, value;
    if (roll < 600) {
      rarity = 0, value = rng_.Between(1, 20);
    } else if (roll < 850) {
      rarity = 1, value = rng_.Between(20, 100);
    } else if (roll < 960) {
      rarity = 2, value = rng_.Between(100, 500);
    } else if (roll < 995) {
      rarity = 3, value = rng_.Between(500, 2'000);
    } else {
      rarity = kLegendary, value = rng_.Between(2'000, 10'000);
    }
    return {.kind = rng_.Between(0, 15), .rarity = rarity, .value = value};
  }
  // A new item's attributes; the relation writes fill in the owner.
  Attrs ItemAttrs(int64_t tick) {
    const ItemDraw item = DrawItem();
    return {{"kind", item.kind},
            {"rarity", item.rarity},
            {"value", item.value},
            {"created_tick", tick}};
  }

  // --- sampling ---

  // A live row of `t` drawn uniformly by slot (tables stay dense because
  // freed slots are reused), or nullopt if none was found quickly.
  std::optional<Row> PickLive(const Table* t) { return PickLive(t, rng_); }
  std::optional<Row> PickLive(const Table* t, Rng& rng) {
    if (t->empty()) return std::nullopt;
    for (int attempt = 0; attempt < 64; ++attempt) {
      const RowId id(static_cast<uint32_t>(rng.Below(t->slot_count())));
      if (t->IsLive(id)) return t->GetRow(id);
    }
    return std::nullopt;
  }

  int64_t IdOf(const Row& row) const {
    const Table* t = row.table();
    return t->Int64Column(t->primary_key())[row.id().value];
  }
  // The player's guild id; nullopt when guildless.
  std::optional<int64_t> GuildOf(const Row& player) const {
    if (h_.players->IsNull(player.id(), h_.player_guild)) return std::nullopt;
    return h_.players->Int64Column(h_.player_guild)[player.id().value];
  }
  int64_t Gold(const Row& player) const {
    return h_.players->Int64Column(h_.player_gold)[player.id().value];
  }

  absl::Status LogEvent(const Row& player, int tick, absl::string_view kind, int64_t amount) {
    ++counts_.events_logged;
    return db_.Related(player, "events")
        .Create({{"tick", int64_t{tick}}, {"kind", kind}, {"amount", amount}})
        .status();
  }

  // Records a failure of a check made many times during the ticks (see
  // AddFailures); the first few are kept with their details.
  void Fail(absl::string_view check, absl::string_view detail) {
    Failures& f = failures_[check];
    if (f.first.size() < 5) f.first.emplace_back(detail);
    ++f.count;
  }

  // --- one tick ---

  absl::Status Tick(int tick) {
    const Clock::time_point start = Clock::now();
    auto timed = [&](Op op, int64_t calls, auto&& body) -> absl::Status {
      const Clock::time_point t0 = Clock::now();
      absl::Status s = body();
      timings_.ops[op].tick_ms.push_back(MsSince(t0));
      timings_.ops[op].calls += calls;
      return s;
    };
    KIN_RETURN_IF_ERROR(timed(kScores, sizes_.score_updates, [&] { return UpdateScores(); }));
    KIN_RETURN_IF_ERROR(
        timed(kActivity, sizes_.activity_toggles, [&] { return ToggleActivity(); }));
    KIN_RETURN_IF_ERROR(timed(kJoin, sizes_.joins, [&] { return Joins(tick); }));
    KIN_RETURN_IF_ERROR(timed(kLeave, sizes_.leaves, [&] { return Leaves(tick); }));
    KIN_RETURN_IF_ERROR(timed(kPurge, 1, [&] { return Purge(); }));
    KIN_RETURN_IF_ERROR(timed(kLoot, sizes_.loot_drops, [&] { return Loot(tick); }));
    KIN_RETURN_IF_ERROR(timed(kBreak, sizes_.breaks, [&] { return Breaks(); }));
    KIN_RETURN_IF_ERROR(timed(kTrade, sizes_.trades, [&] { return Trades(tick); }));
    KIN_RETURN_IF_ERROR(timed(kRefusedTrade, 1, [&] { return RefusedTrade(tick); }));
    KIN_RETURN_IF_ERROR(timed(kQuit, sizes_.quits, [&] { return Quits(); }));
    KIN_RETURN_IF_ERROR(
        timed(kRegister, sizes_.registrations, [&] { return Registrations(tick); }));
    KIN_RETURN_IF_ERROR(timed(kQuest, sizes_.quest_moves, [&] { return QuestMoves(); }));
    if (tick % kDisbandEvery == kDisbandEvery - 1) {
      KIN_RETURN_IF_ERROR(timed(kDisband, 1, [&] { return Disband(tick); }));
    }

    Reads reads;
    KIN_RETURN_IF_ERROR(RunReads(reads, timed));
    const double tick_ms = MsSince(start);
    timings_.tick_ms.push_back(tick_ms);

    auto fold = [](uint64_t& run, uint64_t tick_digest) {
      Digest d;
      d.Add(run);
      d.Add(tick_digest);
      run = d.value();
    };
    fold(counts_.leaderboard_checksum, reads.leaderboard);
    fold(counts_.guild_size_checksum, reads.sizes);
    fold(counts_.richest_checksum, reads.richest);
    counts_.guilds_with_50_active = reads.active_guilds;
    counts_.largest_guild = reads.largest;
    counts_.richest_gold = reads.richest_gold;
    counts_.raid_ready_players = reads.raid_ready;
    fold(counts_.quest_board_checksum, reads.quest_board);

    const bool last = tick + 1 == options_.ticks;
    if (options_.cross_check_every > 0 && (tick % options_.cross_check_every == 0 || last)) {
      const Clock::time_point t0 = Clock::now();
      ++timings_.cross_checks;
      const Reads by_hand = ReadByHand(h_, reads.quest_guild);
      if (!(by_hand == reads)) {
        Fail(kCheckCrossCheck,
             absl::StrCat("tick ", tick + 1, ": queries and typed spans differ on ",
                          DescribeMismatch(reads, by_hand)));
      }
      timings_.cross_check_s += MsSince(t0) / 1e3;
    }

    if (options_.progress_in_place) {
      progress_ << absl::StrFormat("\rtick %d/%d  %.1f ms   ", tick + 1, options_.ticks, tick_ms)
                << std::flush;
    } else if (options_.progress_every > 0 && ((tick + 1) % options_.progress_every == 0 || last)) {
      progress_ << absl::StrFormat("tick %d/%d  %.1f ms\n", tick + 1, options_.ticks, tick_ms)
                << std::flush;
    }
    return absl::OkStatus();
  }

  // --- writes ---

  absl::Status UpdateScores() {
    for (int64_t i = 0; i < sizes_.score_updates; ++i) {
      std::optional<Row> p = PickLive(h_.players);
      if (!p) continue;
      const int64_t score = h_.players->Int64Column(h_.player_score)[p->id().value];
      KIN_RETURN_IF_ERROR(db_.Update(*p, {{"score", score + rng_.Between(1, 100)}}).status());
      ++counts_.score_updates;
    }
    return absl::OkStatus();
  }

  absl::Status ToggleActivity() {
    for (int64_t i = 0; i < sizes_.activity_toggles; ++i) {
      std::optional<Row> p = PickLive(h_.players);
      if (!p) continue;
      const bool active = h_.players->BoolColumn(h_.player_active)[p->id().value] != 0;
      KIN_RETURN_IF_ERROR(db_.Update(*p, {{"active", !active}}).status());
      ++counts_.activity_toggles;
    }
    return absl::OkStatus();
  }

  absl::Status Joins(int tick) {
    for (int64_t i = 0; i < sizes_.joins; ++i) {
      std::optional<Row> p = PickLive(h_.players);
      std::optional<Row> g = PickLive(h_.guilds);
      if (!p || !g) continue;
      // Joining another guild leaves the old one: Add re-parents.
      KIN_ASSIGN_OR_RETURN(int64_t changed, db_.Related(*g, "players").Add(*p));
      if (changed == 0) continue;  // already a member
      if (GuildOf(*p) != IdOf(*g)) Fail(kCheckWrites, "a join left the player elsewhere");
      ++counts_.joins;
      KIN_RETURN_IF_ERROR(LogEvent(*p, tick, "join", IdOf(*g)));
    }
    return absl::OkStatus();
  }

  absl::Status Leaves(int tick) {
    for (int64_t i = 0; i < sizes_.leaves; ++i) {
      // A guild member: a few draws, as most players have a guild.
      std::optional<Row> p;
      for (int attempt = 0; attempt < 16 && !p; ++attempt) {
        p = PickLive(h_.players);
        if (p && h_.players->IsNull(p->id(), h_.player_guild)) p.reset();
      }
      if (!p) continue;
      // BelongsTo: the player's guild.
      KIN_ASSIGN_OR_RETURN(std::optional<Row> guild, db_.Related(*p, "guild").Parent());
      if (!guild) continue;
      KIN_ASSIGN_OR_RETURN(int64_t removed, db_.Related(*guild, "players").Remove(*p));
      if (removed != 1 || GuildOf(*p).has_value()) {
        Fail(kCheckWrites, "a leave kept the player in the guild");
      }
      counts_.leaves += removed;
      KIN_RETURN_IF_ERROR(LogEvent(*p, tick, "leave", IdOf(*guild)));
    }
    return absl::OkStatus();
  }

  // A guild keeps only its active members: the on_query relation reads
  // them, Set makes them the whole membership (the others get NULL).
  absl::Status Purge() {
    std::optional<Row> g = PickLive(h_.guilds);
    if (!g) return absl::OkStatus();
    const size_t before = h_.players->Children(h_.player_guild, IdOf(*g)).size();
    KIN_ASSIGN_OR_RETURN(ResultSet active, db_.Related(*g, "active_players").Get());
    std::vector<RowOrKey> keep(active.begin(), active.end());
    KIN_RETURN_IF_ERROR(db_.Related(*g, "players").Set(keep).status());
    const size_t after = h_.players->Children(h_.player_guild, IdOf(*g)).size();
    if (after != active.size()) {
      Fail(kCheckWrites, absl::StrCat("purge kept ", after, " members, expected ", active.size()));
    }
    ++counts_.purges;
    counts_.purged_players += static_cast<int64_t>(before - after);
    return absl::OkStatus();
  }

  absl::Status Loot(int tick) {
    std::vector<Attrs> drop;
    for (int64_t i = 0; i < sizes_.loot_drops; ++i) {
      std::optional<Row> p = PickLive(h_.players);
      if (!p) continue;
      drop.clear();
      // The relation sets each item's player_id.
      for (int k = 0; k < kLootPerDrop; ++k) drop.push_back(ItemAttrs(tick));
      KIN_ASSIGN_OR_RETURN(std::vector<Row> items, db_.Related(*p, "items").CreateMany(drop));
      counts_.items_looted += static_cast<int64_t>(items.size());
    }
    return absl::OkStatus();
  }

  absl::Status Breaks() {
    for (int64_t i = 0; i < sizes_.breaks; ++i) {
      std::optional<Row> item = PickLive(h_.items);
      if (!item) continue;
      KIN_RETURN_IF_ERROR(db_.Delete(*item));
      ++counts_.items_broken;
    }
    return absl::OkStatus();
  }

  // What a refused trade must leave unchanged.
  struct TradeState {
    int64_t owner, buyer_gold, seller_gold;
    size_t buyer_items, seller_items, items, events;
    friend bool operator==(const TradeState&, const TradeState&) = default;
  };
  TradeState StateOf(const Row& item, const Row& seller, const Row& buyer) const {
    return {.owner = h_.items->Int64Column(h_.item_player)[item.id().value],
            .buyer_gold = Gold(buyer),
            .seller_gold = Gold(seller),
            .buyer_items = h_.items->Children(h_.item_player, IdOf(buyer)).size(),
            .seller_items = h_.items->Children(h_.item_player, IdOf(seller)).size(),
            .items = h_.items->size(),
            .events = h_.events->size()};
  }

  // `buyer` buys `item` from its owner `seller` for `price` gold: one
  // transaction that moves the item through the relation, moves the gold
  // and logs both sides. A buyer who cannot pay makes the body return an
  // error after the item has already moved, and Atomically rolls it all
  // back. Returns whether the trade went through.
  absl::StatusOr<bool> Trade(int tick, const Row& item, const Row& seller, const Row& buyer,
                             int64_t price) {
    const TradeState before = StateOf(item, seller, buyer);
    bool refused = false;
    absl::Status status = db_.Atomically([&]() -> absl::Status {
      KIN_RETURN_IF_ERROR(db_.Related(buyer, "items").Add(item).status());
      KIN_ASSIGN_OR_RETURN(int64_t buyer_gold, buyer.GetInt64("gold"));
      if (buyer_gold < price) {
        refused = true;
        return absl::FailedPreconditionError(absl::StrCat(
            "player ", IdOf(buyer), " has ", buyer_gold, " gold, the item costs ", price));
      }
      KIN_ASSIGN_OR_RETURN(int64_t seller_gold, seller.GetInt64("gold"));
      KIN_RETURN_IF_ERROR(db_.Update(buyer, {{"gold", buyer_gold - price}}).status());
      KIN_RETURN_IF_ERROR(db_.Update(seller, {{"gold", seller_gold + price}}).status());
      KIN_RETURN_IF_ERROR(LogEvent(buyer, tick, "buy", price));
      KIN_RETURN_IF_ERROR(LogEvent(seller, tick, "sell", price));
      return absl::OkStatus();
    });
    if (status.ok()) {
      if (h_.items->Int64Column(h_.item_player)[item.id().value] != IdOf(buyer) ||
          Gold(buyer) != before.buyer_gold - price || Gold(seller) != before.seller_gold + price) {
        Fail(kCheckWrites, absl::StrCat("trade of item ", IdOf(item), " did not add up"));
      }
      ++counts_.trades;
      return true;
    }
    if (!refused) return status;  // not the rule: a real error
    ++counts_.failed_trades;
    const TradeState after = StateOf(item, seller, buyer);
    if (!(after == before) || !item.valid() || db_.transaction_depth() != tick_depth_) {
      Fail(kCheckRollback,
           absl::StrCat("tick ", tick + 1, ": refused trade of item ", IdOf(item),
                        " changed the world (owner ", before.owner, " -> ", after.owner,
                        ", buyer gold ", before.buyer_gold, " -> ", after.buyer_gold, ")"));
    }
    return false;
  }

  struct Deal {
    Row item, seller, buyer;
  };
  // An item, its owner (through the BelongsTo) and another player.
  absl::StatusOr<std::optional<Deal>> PickTrade() {
    std::optional<Row> item = PickLive(h_.items);
    std::optional<Row> buyer = PickLive(h_.players);
    if (!item || !buyer) return std::nullopt;
    KIN_ASSIGN_OR_RETURN(std::optional<Row> seller, db_.Related(*item, "player").Parent());
    if (!seller || *seller == *buyer) return std::nullopt;
    return Deal{*item, *seller, *buyer};
  }

  absl::Status Trades(int tick) {
    for (int64_t i = 0; i < sizes_.trades; ++i) {
      KIN_ASSIGN_OR_RETURN(std::optional<Deal> t, PickTrade());
      if (!t) continue;
      const auto& [item, seller, buyer] = *t;
      const int64_t price = h_.items->Int64Column(h_.item_value)[item.id().value];
      KIN_RETURN_IF_ERROR(Trade(tick, item, seller, buyer, price).status());
    }
    return absl::OkStatus();
  }

  // Once a tick, the failure on purpose: the seller asks one gold more than
  // the buyer has. The rule must refuse it and the world must not change.
  absl::Status RefusedTrade(int tick) {
    for (int attempt = 0; attempt < 16; ++attempt) {
      KIN_ASSIGN_OR_RETURN(std::optional<Deal> t, PickTrade());
      if (!t) continue;
      const auto& [item, seller, buyer] = *t;
      KIN_ASSIGN_OR_RETURN(bool done, Trade(tick, item, seller, buyer, Gold(buyer) + 1));
      ++refusals_attempted_;
      if (done) {
        Fail(kCheckRollback,
             absl::StrCat("tick ", tick + 1, ": an unaffordable trade went through"));
      }
      return absl::OkStatus();
    }
    return absl::OkStatus();
  }

  absl::Status Quits() {
    for (int64_t i = 0; i < sizes_.quits; ++i) {
      std::optional<Row> p = PickLive(h_.players);
      if (!p) continue;
      const int64_t id = IdOf(*p);
      const size_t items = h_.items->Children(h_.item_player, id).size();
      const size_t events = h_.events->Children(h_.event_player, id).size();
      const size_t items_before = h_.items->size();
      const size_t events_before = h_.events->size();
      total_gold_ -= Gold(*p);
      KIN_RETURN_IF_ERROR(db_.Delete(*p));
      if (h_.items->size() != items_before - items || h_.events->size() != events_before - events) {
        Fail(kCheckWrites, absl::StrCat("player ", id, ": the cascade missed rows"));
      }
      ++counts_.players_quit;
      counts_.cascaded_items += static_cast<int64_t>(items);
      counts_.cascaded_events += static_cast<int64_t>(events);
    }
    return absl::OkStatus();
  }

  // A new player arrives with a starter kit: the player is not saved yet,
  // and the relation inserts it and its items in one transaction.
  absl::Status Registrations(int tick) {
    for (int64_t i = 0; i < sizes_.registrations; ++i) {
      const int64_t id = next_player_id_++;
      Value guild;
      if (std::optional<Row> g = PickLive(h_.guilds); g && rng_.Percent(80)) guild = IdOf(*g);
      constexpr int64_t kStartingGold = 500;
      RelationHandle kit = db_.Related(NewRow{.table = "players",
                                              .attrs = {{"id", id},
                                                        {"guild_id", std::move(guild)},
                                                        {"name", absl::StrCat("player-", id)},
                                                        {"level", int64_t{1}},
                                                        {"score", int64_t{0}},
                                                        {"gold", kStartingGold},
                                                        {"active", true}}},
                                       "items");
      std::vector<Attrs> starter;
      for (int k = 0; k < kStarterKit; ++k) starter.push_back(ItemAttrs(tick));
      KIN_RETURN_IF_ERROR(kit.CreateMany(starter).status());
      KIN_ASSIGN_OR_RETURN(Row player, kit.parent());
      if (counts_.players_registered % 2 == 0) {
        // HasOne: every other newcomer's profile, its key set by the
        // relation.
        KIN_RETURN_IF_ERROR(
            db_.Related(player, "profile").Create({{"title", "newcomer"}}).status());
        ++counts_.profiles_created;
      }
      total_gold_ += kStartingGold;
      ++counts_.players_registered;
      KIN_RETURN_IF_ERROR(LogEvent(player, tick, "register", 0));
    }
    return absl::OkStatus();
  }

  // Players pick up quests, make progress on them (the link's pivot
  // column) and turn in finished ones, each a write through the ManyToMany.
  absl::Status QuestMoves() {
    for (int64_t i = 0; i < sizes_.quest_moves; ++i) {
      std::optional<Row> p = PickLive(h_.players, quest_rng_);
      if (!p) continue;
      // Mostly one of the player's own quests (progress, or turning in a
      // finished one); else any quest, which the player takes if new.
      const std::span<const RowId> mine = h_.links->Children(h_.link_player, IdOf(*p));
      const std::span<const int64_t> link_quest = h_.links->Int64Column(h_.link_quest);
      const Value quest(!mine.empty() && quest_rng_.Percent(75)
                            ? link_quest[mine[quest_rng_.Below(mine.size())].value]
                            : 1 + static_cast<int64_t>(quest_rng_.Below(sizes_.quests)));
      RelationHandle quests = db_.Related(*p, "quests");
      std::optional<int64_t> progress;
      for (RowId link : mine) {
        if (link_quest[link.value] == quest.AsInt64()) {
          progress = h_.links->Int64Column(h_.link_progress)[link.value];
        }
      }
      if (!progress.has_value()) {
        KIN_ASSIGN_OR_RETURN(int64_t linked, quests.Attach({quest}, {{"progress", int64_t{0}}}));
        if (linked != 1) Fail(kCheckWrites, "a quest was not taken");
        ++counts_.quests_taken;
      } else if (*progress >= kQuestDone) {
        KIN_ASSIGN_OR_RETURN(int64_t detached, quests.Detach({quest}));
        if (detached != 1) Fail(kCheckWrites, "a finished quest was not turned in");
        ++counts_.quests_turned_in;
      } else {
        const int64_t next = std::min(kQuestDone, *progress + quest_rng_.Between(5, 40));
        KIN_ASSIGN_OR_RETURN(int64_t updated, quests.UpdatePivot(quest, {{"progress", next}}));
        if (updated != 1) Fail(kCheckWrites, "quest progress was not updated");
        ++counts_.quest_updates;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Disband(int tick) {
    std::optional<Row> g = PickLive(h_.guilds);
    if (!g) return absl::OkStatus();
    const std::span<const RowId> span = h_.players->Children(h_.player_guild, IdOf(*g));
    std::vector<Row> members;
    for (RowId m : span) members.push_back(h_.players->GetRow(m));
    KIN_RETURN_IF_ERROR(db_.Delete(*g));
    for (const Row& m : members) {
      if (!m.valid() || !h_.players->IsNull(m.id(), h_.player_guild)) {
        Fail(kCheckWrites, "a disbanded guild's member kept its guild_id");
        break;
      }
    }
    ++counts_.guilds_disbanded;
    const int64_t id = next_guild_id_++;
    return db_
        .Insert(
            "guilds",
            {{"id", id}, {"name", absl::StrCat("guild-", id)}, {"founded_tick", int64_t{tick + 1}}})
        .status();
  }

  // --- reads ---

  template <typename Timed>
  absl::Status RunReads(Reads& r, Timed& timed) {
    KIN_RETURN_IF_ERROR(timed(kLeaderboard, 1, [&] { return QueryLeaderboard(db_, r); }));
    KIN_RETURN_IF_ERROR(timed(kGuildSizes, 1, [&] { return QueryGuildSizes(db_, r); }));
    KIN_RETURN_IF_ERROR(timed(kActiveGuilds, 1, [&] { return QueryActiveGuilds(db_, r); }));
    KIN_RETURN_IF_ERROR(timed(kRichest, 1, [&] { return QueryRichest(db_, r); }));
    KIN_RETURN_IF_ERROR(timed(kRaidRoster, 1, [&] { return QueryRaidRoster(db_, r); }));
    // One guild's quest board a tick, as a game shows the guild screen.
    std::optional<Row> g = PickLive(h_.guilds, quest_rng_);
    quest_guild_ = g.has_value() ? IdOf(*g) : 0;
    return timed(kQuestBoard, 1, [&] { return QueryQuestBoard(db_, quest_guild_, r); });
  }

  // --- a data directory ---

  // One tick as one transaction that also records the tick's number, so a
  // restart resumes after the last tick whose commit returned.
  absl::Status DurableTick(int tick) {
    KIN_RETURN_IF_ERROR(db_.Begin());
    tick_depth_ = db_.transaction_depth();
    absl::Status ticked = Tick(tick);
    tick_depth_ = 0;
    if (ticked.ok()) {
      ticked =
          db_.Update(*db_.FindOrFail(kProgressTable, 1), {{"tick", int64_t{tick + 1}}}).status();
    }
    if (!ticked.ok()) {
      (void)db_.Rollback();
      return ticked;
    }
    const Clock::time_point commit_start = Clock::now();
    KIN_RETURN_IF_ERROR(db_.Commit());
    timings_.commit_ms.push_back(MsSince(commit_start));
    counts_.last_committed_tick = tick + 1;
    progress_ << "committed tick " << tick + 1 << "\n" << std::flush;
    return absl::OkStatus();
  }

  // A reopened world: the tick to go on from, and what the run keeps in
  // memory rebuilt from the data (next ids, the gold books). The random
  // choices go on from a seed of their own, derived from the tick.
  absl::StatusOr<int> Resume() {
    KIN_ASSIGN_OR_RETURN(Row progress, db_.FindOrFail(kProgressTable, 1));
    KIN_ASSIGN_OR_RETURN(int64_t tick, progress.GetInt64("tick"));
    KIN_ASSIGN_OR_RETURN(Value max_guild, db_.Query("guilds").Max("id").Aggregate());
    KIN_ASSIGN_OR_RETURN(Value max_player, db_.Query("players").Max("id").Aggregate());
    next_guild_id_ = max_guild.is_null() ? 1 : max_guild.AsInt64() + 1;
    next_player_id_ = max_player.is_null() ? 1 : max_player.AsInt64() + 1;
    total_gold_ = 0;
    const std::span<const int64_t> golds = h_.players->Int64Column(h_.player_gold);
    for (uint32_t s = 0; s < h_.players->slot_count(); ++s) {
      if (h_.players->IsLive(RowId(s))) total_gold_ += golds[s];
    }
    rng_ = Rng(options_.seed * 1'000'003 + static_cast<uint64_t>(tick));
    quest_rng_ = Rng(QuestSeed(options_.seed, tick));
    counts_.resumed_at_tick = tick;
    counts_.last_committed_tick = tick;
    progress_ << "resumed at tick " << tick << "\n" << std::flush;
    return static_cast<int>(tick);
  }

  static constexpr std::string_view kProgressTable = "progress";
  // The transaction depth a tick runs at: 1 in DurableTick's transaction.
  int tick_depth_ = 0;

  // --- the commit feed ---

  // From the first tick on, counts every committed row change per table
  // (what a replication or UI system would consume), and the table sizes it
  // starts from, so that Finish can check the feed missed nothing.
  void WatchCommits() {
    for (const std::string& table : db_.TableNames()) {
      counts_.changes.push_back({.table = table});
      sizes_before_feed_.push_back(TableSize(table));
    }
    db_.OnCommit([this](const kin::Commit& commit) {
      ++counts_.commits;
      for (const kin::RowChange& change : commit.changes) {
        for (WorldCounts::TableChanges& t : counts_.changes) {
          if (t.table != change.table) continue;
          ++(change.kind == kin::RowChange::kInsert   ? t.inserted
             : change.kind == kin::RowChange::kUpdate ? t.updated
                                                      : t.deleted);
        }
      }
    });
  }

  int64_t TableSize(const std::string& table) {
    absl::StatusOr<int64_t> n = db_.Query(table).Count();
    return n.ok() ? *n : -1;
  }

  // Every table's size now is its size when the feed started plus the
  // inserts minus the deletes the feed reported.
  // guilds.items (HasManyThrough) against a walk of the rows: each guild's
  // item count and best item value.
  void CheckItemsThroughPlayers() {
    const std::string name = "a guild's items through its players agree with a walk of the rows";
    absl::StatusOr<ResultSet> guilds =
        db_.Query("guilds")
            .WithCount("items")
            .WithAggregate("items", [](kin::Query& q) { q.Max("value").As("best_item"); })
            .Get();
    absl::StatusOr<ResultSet> players = db_.Query("players").Get();
    absl::StatusOr<ResultSet> items = db_.Query("items").Get();
    if (!guilds.ok() || !players.ok() || !items.ok()) {
      AddCheck(name, false, "a query failed");
      return;
    }
    absl::flat_hash_map<int64_t, int64_t> guild_of, count, best;
    for (const Row& p : *players) {
      const Value g = p.Get("guild_id").value();
      if (!g.is_null()) guild_of[p.GetInt64("id").value()] = g.AsInt64();
    }
    for (const Row& i : *items) {
      const auto it = guild_of.find(i.GetInt64("player_id").value());
      if (it == guild_of.end()) continue;
      const int64_t value = i.GetInt64("value").value();
      const int64_t n = ++count[it->second];
      best[it->second] = n == 1 ? value : std::max(best[it->second], value);
    }
    int64_t wrong = 0;
    for (const ResultRow& g : *guilds) {
      const int64_t id = g.GetInt64("id").value();
      const int64_t n = count.contains(id) ? count[id] : 0;
      const Value want = n == 0 ? Value() : Value(best[id]);
      wrong += g.Extra("items_count").value() != Value(n) || g.Extra("best_item").value() != want;
    }
    AddCheck(name, wrong == 0, absl::StrCat(wrong, " guilds differ"));
  }

  // players.quests (ManyToMany) against a walk of the pivot rows: each
  // player's links, finished ones (a pivot condition) and progress summed
  // (an aggregate of the pivot column).
  void CheckQuestsThroughPivot() {
    const std::string name =
        "each player's quests and progress (ManyToMany pivot) agree with a walk of the links";
    absl::StatusOr<ResultSet> players =
        db_.Query("players")
            .WithCount("quests")
            .WithCount("quests",
                       [](kin::Query& q) { q.WherePivot("progress", ">=", kQuestDone).As("done"); })
            .WithAggregate("quests", [](kin::Query& q) { q.SumPivot("progress").As("progress"); })
            .Get();
    absl::StatusOr<ResultSet> links = db_.Query("player_quest").Get();
    if (!players.ok() || !links.ok()) {
      AddCheck(name, false, "a query failed");
      return;
    }
    absl::flat_hash_map<int64_t, int64_t> count, done, sum;
    for (const Row& l : *links) {
      const int64_t p = l.GetInt64("player_id").value();
      const int64_t progress = l.GetInt64("progress").value();
      ++count[p];
      done[p] += progress >= kQuestDone;
      sum[p] += progress;
    }
    int64_t wrong = 0;
    for (const ResultRow& p : *players) {
      const int64_t id = p.GetInt64("id").value();
      const int64_t n = count.contains(id) ? count[id] : 0;
      wrong += p.Extra("quests_count").value() != Value(n) ||
               p.Extra("done").value() != Value(done.contains(id) ? done[id] : 0) ||
               p.Extra("progress").value() != (n == 0 ? Value() : Value(sum[id]));
    }
    AddCheck(name, wrong == 0, absl::StrCat(wrong, " players differ"));
  }

  // players.profile (HasOne) against a walk of the profiles: a player with
  // a profile row preloads exactly it, the others none.
  void CheckProfiles() {
    const std::string name = "each player's profile (HasOne) agrees with a walk of the profiles";
    absl::StatusOr<ResultSet> players = db_.Query("players").Preload("profile").Get();
    absl::StatusOr<ResultSet> profiles = db_.Query("profiles").Get();
    absl::StatusOr<int64_t> with = db_.Query("players").Has("profile").Count();
    if (!players.ok() || !profiles.ok() || !with.ok()) {
      AddCheck(name, false, "a query failed");
      return;
    }
    absl::flat_hash_map<int64_t, int64_t> profile_of;
    for (const Row& p : *profiles) {
      profile_of[p.GetInt64("player_id").value()] = p.GetInt64("id").value();
    }
    int64_t wrong = *with != static_cast<int64_t>(profile_of.size());
    for (const ResultRow& p : *players) {
      const auto it = profile_of.find(p.GetInt64("id").value());
      const std::span<const ResultRow> got = p.Preloaded("profile").value();
      wrong += it == profile_of.end()
                   ? !got.empty()
                   : got.size() != 1 || got[0].GetInt64("id").value() != it->second;
    }
    AddCheck(name, wrong == 0, absl::StrCat(wrong, " players differ"));
  }

  void CheckCommitFeed() {
    std::vector<std::string> wrong;
    for (size_t i = 0; i < counts_.changes.size(); ++i) {
      const WorldCounts::TableChanges& t = counts_.changes[i];
      const int64_t expected = sizes_before_feed_[i] + t.inserted - t.deleted;
      const int64_t now = TableSize(t.table);
      if (now != expected) {
        wrong.push_back(absl::StrCat(t.table, " has ", now, " rows, the feed says ", expected));
      }
    }
    AddCheck(absl::StrCat("the commit feed accounts for every row (", FormatCount(counts_.commits),
                          " commits)"),
             wrong.empty(), absl::StrJoin(wrong, "; "));
  }

  // --- the end: consistency, snapshot, comparison ---

  absl::Status Finish() {
    // Books: trades only move gold, so the total follows arrivals and quits.
    int64_t gold = 0;
    const std::span<const int64_t> golds = h_.players->Int64Column(h_.player_gold);
    for (uint32_t s = 0; s < h_.players->slot_count(); ++s) {
      if (h_.players->IsLive(RowId(s))) gold += golds[s];
    }
    counts_.total_gold = gold;
    AddCheck("gold is conserved by trades (total " + FormatCount(gold) + ")", gold == total_gold_,
             absl::StrCat("total gold ", gold, ", expected ", total_gold_));

    counts_.guilds = static_cast<int64_t>(h_.guilds->size());
    counts_.players = static_cast<int64_t>(h_.players->size());
    counts_.items = static_cast<int64_t>(h_.items->size());
    counts_.events = static_cast<int64_t>(h_.events->size());
    KIN_ASSIGN_OR_RETURN(counts_.guildless_players,
                         db_.Query("players").WhereNull("guild_id").Count());

    counts_.quest_links = static_cast<int64_t>(h_.links->size());
    counts_.profiles = static_cast<int64_t>(h_.profiles->size());

    CheckCommitFeed();
    CheckItemsThroughPlayers();
    CheckQuestsThroughPivot();
    CheckProfiles();
    AddFailures(kCheckRollback,
                absl::StrCat("every refused trade was rolled back, world unchanged (",
                             FormatCount(counts_.failed_trades), " refused, ",
                             FormatCount(refusals_attempted_), " on purpose)"));
    AddFailures(kCheckWrites,
                "every write did what it said (joins, leaves, purges, trades, cascades, set null)");
    AddFailures(kCheckCrossCheck,
                absl::StrCat("queries agree with typed spans (", timings_.cross_checks, " ticks)"));

    Clock::time_point t0;
    if (options_.check_consistency) {
      progress_ << "checking every index against its column ...\n" << std::flush;
      t0 = Clock::now();
      const absl::Status consistent = db_.CheckConsistency();
      timings_.consistency_s = MsSince(t0) / 1e3;
      AddCheck("indexes agree with the columns (CheckConsistency)", consistent.ok(),
               std::string(consistent.message()));
    }

    timings_.kin_bytes = db_.MemoryBytes();
    timings_.rss_bytes = RssBytes();
    t0 = Clock::now();
    const std::vector<TableDigest> live_tables = DigestTables(db_);
    counts_.world_digest = WorldDigest(live_tables, DigestDeclarations(db_));
    timings_.compare_s = MsSince(t0) / 1e3;

    KIN_RETURN_IF_ERROR(SaveLoadCompare(live_tables));
    timings_.peak_rss_bytes = PeakRssBytes();
    return absl::OkStatus();
  }

  absl::Status SaveLoadCompare(const std::vector<TableDigest>& live_tables) {
    snapshot_path_ = options_.save_path;
    if (snapshot_path_.empty()) {
      std::error_code ec;
      std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
      if (ec) dir = "/tmp";
      snapshot_path_ = (dir / absl::StrCat("kin-world-", getpid(), ".kin")).string();
    }
    progress_ << "saving the snapshot to " << snapshot_path_ << " ...\n" << std::flush;
    Clock::time_point t0 = Clock::now();
    KIN_RETURN_IF_ERROR(SaveSnapshot(db_, snapshot_path_, {.fsync = options_.fsync}));
    timings_.save_s = MsSince(t0) / 1e3;
    std::error_code ec;
    timings_.snapshot_bytes = std::filesystem::file_size(snapshot_path_, ec);

    progress_ << "loading it back and comparing ...\n" << std::flush;
    t0 = Clock::now();
    absl::StatusOr<Database> loaded = LoadSnapshot(snapshot_path_);
    timings_.load_s = MsSince(t0) / 1e3;
    if (options_.save_path.empty()) std::filesystem::remove(snapshot_path_, ec);
    if (!loaded.ok()) {
      AddCheck("the snapshot loads back", false, std::string(loaded.status().message()));
      return absl::OkStatus();
    }

    t0 = Clock::now();
    const std::vector<std::string> diffs = CompareWorlds(db_, live_tables, *loaded);
    AddCheck(
        absl::StrCat("the loaded world equals the live one (", db_.TableNames().size(), " tables, ",
                     FormatCount(counts_.guilds + counts_.players + counts_.items + counts_.events),
                     " rows, ", db_.Relations().size(), " relations)"),
        diffs.empty(), absl::StrJoin(diffs, "; "));

    // A resumed game must answer as the live one did: the on_query callback
    // is code, not data, so it is re-attached first.
    KIN_RETURN_IF_ERROR(AttachHooks(*loaded));
    KIN_ASSIGN_OR_RETURN(const Reads live_reads, QueryReads(db_, quest_guild_));
    KIN_ASSIGN_OR_RETURN(const Reads loaded_reads, QueryReads(*loaded, quest_guild_));
    AddCheck("the loaded world answers the relation queries as the live one",
             loaded_reads == live_reads,
             absl::StrCat("they differ on ", DescribeMismatch(loaded_reads, live_reads)));
    timings_.compare_s += MsSince(t0) / 1e3;
    return absl::OkStatus();
  }

  void AddCheck(std::string name, bool passed, std::string detail) {
    checks_.push_back(
        {.name = std::move(name), .passed = passed, .detail = passed ? "" : std::move(detail)});
  }
  // A check made many times during the ticks, failed by any Fail(key, ...).
  void AddFailures(absl::string_view key, std::string name) {
    const auto it = failures_.find(key);
    if (it == failures_.end()) {
      AddCheck(std::move(name), true, "");
      return;
    }
    AddCheck(std::move(name), false,
             absl::StrCat(it->second.count,
                          " failures, the first: ", absl::StrJoin(it->second.first, "; ")));
  }

  static constexpr absl::string_view kCheckRollback = "rollback";
  static constexpr absl::string_view kCheckWrites = "writes";
  static constexpr absl::string_view kCheckCrossCheck = "cross-check";

  const WorldOptions options_;
  const Sizes sizes_;
  Rng rng_;
  Rng quest_rng_;            // quests and profiles, apart from the older draws
  int64_t quest_guild_ = 0;  // the last quest board's guild
  std::ostream& progress_;
  Database db_;
  Handles h_;
  int64_t next_guild_id_ = 1;
  int64_t next_player_id_ = 1;
  int64_t total_gold_ = 0;                  // what the books say the players hold
  std::vector<int64_t> sizes_before_feed_;  // per counts_.changes entry
  int64_t refusals_attempted_ = 0;
  WorldCounts counts_;
  WorldTimings timings_;
  std::vector<Check> checks_;
  struct Failures {
    int64_t count = 0;
    std::vector<std::string> first;  // the first few details
  };
  absl::flat_hash_map<std::string, Failures> failures_;  // by check key
  std::string snapshot_path_;
};

}  // namespace

absl::StatusOr<WorldReport> RunWorld(const WorldOptions& options, std::ostream& progress) {
  if (!(options.scale > 0) || options.scale > kMaxScale) {
    return absl::InvalidArgumentError(
        absl::StrCat("scale must be in (0, ", kMaxScale, "], got ", options.scale));
  }
  if (options.ticks < 0) {
    return absl::InvalidArgumentError(absl::StrCat("ticks must be >= 0, got ", options.ticks));
  }
  World world(options, progress);
  return world.Run();
}

}  // namespace kin::examples
