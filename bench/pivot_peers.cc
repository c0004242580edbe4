#include "bench/pivot_peers.h"

#include <sqlite3.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "kin/kin.h"
#include "kin/status_macros.h"

namespace kin::bench::pivot {

Data MakeData(int64_t players, int64_t quests, int64_t guilds, int links_per_player,
              int items_per_player, uint32_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Data d;
  d.players = players;
  d.quests = quests;
  d.guilds = guilds;
  d.player_guild.reserve(players);
  for (int64_t p = 1; p <= players; ++p) d.player_guild.push_back(uniform(1, guilds));
  const int per_player = static_cast<int>(std::min<int64_t>(links_per_player, quests));
  d.links.reserve(players * per_player);
  std::vector<int64_t> picked;
  for (int64_t p = 1; p <= players; ++p) {
    picked.clear();
    while (static_cast<int>(picked.size()) < per_player) {
      const int64_t q = uniform(1, quests);
      if (std::find(picked.begin(), picked.end(), q) == picked.end()) picked.push_back(q);
    }
    for (int64_t q : picked) d.links.push_back({p, q, uniform(0, 100)});
  }
  d.items.reserve(players * items_per_player);
  for (int64_t p = 1; p <= players; ++p) {
    for (int i = 0; i < items_per_player; ++i) d.items.push_back({p, uniform(1, 1000000)});
  }
  return d;
}

namespace {

// --- kin ---

class KinPeer : public Peer {
 public:
  std::string name() const override { return "kin"; }

  absl::Status Load(const Data& data, bool with_links) override {
    KIN_RETURN_IF_ERROR(db_.CreateTable("guilds", Schema().Int64("id", PrimaryKey())));
    KIN_RETURN_IF_ERROR(db_.CreateTable(
        "players", Schema().Int64("id", PrimaryKey()).Int64("guild_id", NotNull())));
    KIN_RETURN_IF_ERROR(db_.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
    KIN_RETURN_IF_ERROR(db_.CreateTable("player_quest", Schema()
                                                            .Int64("id", PrimaryKey())
                                                            .Int64("player_id", NotNull())
                                                            .Int64("quest_id", NotNull())
                                                            .Int64("progress", NotNull())));
    KIN_RETURN_IF_ERROR(db_.CreateTable("items", Schema()
                                                     .Int64("id", PrimaryKey())
                                                     .Int64("player_id", NotNull())
                                                     .Int64("value", NotNull())));
    KIN_RETURN_IF_ERROR(db_.HasMany("guilds", "players"));
    KIN_RETURN_IF_ERROR(db_.HasMany("players", "items"));
    KIN_RETURN_IF_ERROR(db_.ManyToMany("players", "quests", {.pivot_columns = {"progress"}}));
    KIN_RETURN_IF_ERROR(db_.HasManyThrough("guilds", "players", "items"));
    KIN_ASSIGN_OR_RETURN(player_id_, db_.Int64Column("players", "id"));
    KIN_ASSIGN_OR_RETURN(quest_id_, db_.Int64Column("quests", "id"));
    auto ids = [](int64_t n) {
      std::vector<int64_t> out(n);
      for (int64_t i = 0; i < n; ++i) out[i] = i + 1;
      return out;
    };
    KIN_RETURN_IF_ERROR(
        db_.InsertBatch("guilds", RowBatch().Int64("id", ids(data.guilds))).status());
    KIN_RETURN_IF_ERROR(
        db_.InsertBatch("quests", RowBatch().Int64("id", ids(data.quests))).status());
    KIN_RETURN_IF_ERROR(
        db_.InsertBatch(
               "players",
               RowBatch().Int64("id", ids(data.players)).Int64("guild_id", data.player_guild))
            .status());
    std::vector<int64_t> owner, value;
    for (const Item& i : data.items) {
      owner.push_back(i.player);
      value.push_back(i.value);
    }
    KIN_RETURN_IF_ERROR(db_.InsertBatch("items", RowBatch()
                                                     .Int64("id", ids(data.items.size()))
                                                     .Int64("player_id", std::move(owner))
                                                     .Int64("value", std::move(value)))
                            .status());
    if (!with_links) return absl::OkStatus();
    std::vector<int64_t> player, quest, progress;
    for (const Link& l : data.links) {
      player.push_back(l.player);
      quest.push_back(l.quest);
      progress.push_back(l.progress);
    }
    return db_
        .InsertBatch("player_quest", RowBatch()
                                         .Int64("id", ids(data.links.size()))
                                         .Int64("player_id", std::move(player))
                                         .Int64("quest_id", std::move(quest))
                                         .Int64("progress", std::move(progress)))
        .status();
  }

  absl::StatusOr<PreloadAnswer> PreloadQuests(std::span<const int64_t> players) override {
    std::vector<Value> keys(players.begin(), players.end());
    KIN_ASSIGN_OR_RETURN(
        ResultSet rows,
        db_.Query("players").WhereIn("id", std::move(keys)).Preload("quests").Get());
    // Read as the README's hot-loop section shows: column handles resolved
    // at load, each parent's pivot extras looked up once.
    absl::flat_hash_map<int64_t, const ResultRow*> by_id;
    by_id.reserve(rows.size());
    for (const ResultRow& p : rows) {
      KIN_ASSIGN_OR_RETURN(int64_t id, player_id_.Get(p));
      by_id.emplace(id, &p);
    }
    // A player asked twice is answered twice (the query returns it once).
    PreloadAnswer out(players.size());
    for (size_t i = 0; i < players.size(); ++i) {
      auto it = by_id.find(players[i]);
      if (it == by_id.end()) continue;
      const ResultRow& p = *it->second;
      KIN_ASSIGN_OR_RETURN(std::span<const ResultRow> quests, p.Preloaded("quests"));
      KIN_ASSIGN_OR_RETURN(ExtraColumn progress, p.PreloadedExtras("quests", "pivot_progress"));
      auto& list = out[i];
      list.reserve(quests.size());
      for (size_t k = 0; k < quests.size(); ++k) {
        KIN_ASSIGN_OR_RETURN(int64_t quest, quest_id_.Get(quests[k]));
        list.emplace_back(quest, progress.Int64(k));
      }
      std::sort(list.begin(), list.end());
    }
    return out;
  }

  absl::StatusOr<std::vector<int64_t>> CountQuests() override {
    KIN_ASSIGN_OR_RETURN(ResultSet rows, db_.Query("players").WithCount("quests").Get());
    KIN_ASSIGN_OR_RETURN(ExtraColumn counts, rows.Extras("quests_count"));
    std::vector<int64_t> out(counts.size());
    for (size_t i = 0; i < counts.size(); ++i) out[i] = counts.Int64(i);
    return out;
  }

  absl::StatusOr<std::vector<std::optional<int64_t>>> MaxItemValuePerGuild() override {
    KIN_ASSIGN_OR_RETURN(ResultSet rows,
                         db_.Query("guilds")
                             .WithAggregate("items", [](Query& q) { q.Max("value").As("best"); })
                             .Get());
    KIN_ASSIGN_OR_RETURN(ExtraColumn best, rows.Extras("best"));
    std::vector<std::optional<int64_t>> out(best.size());
    for (size_t i = 0; i < best.size(); ++i) {
      const Value v = best[i];
      if (!v.is_null()) out[i] = v.AsInt64();
    }
    return out;
  }

  absl::Status AttachAll(const Data& data) override {
    // One Attach (one transaction) per player, as a game linking a
    // player's new quests would.
    PivotValues batch;
    for (size_t i = 0; i < data.links.size(); ++i) {
      const Link& l = data.links[i];
      batch.emplace_back(Value(l.quest), Attrs{{"progress", l.progress}});
      if (i + 1 == data.links.size() || data.links[i + 1].player != l.player) {
        KIN_ASSIGN_OR_RETURN(Row player, db_.FindOrFail("players", l.player));
        KIN_RETURN_IF_ERROR(db_.Related(player, "quests").Attach(batch).status());
        batch.clear();
      }
    }
    return absl::OkStatus();
  }

 private:
  Database db_;
  Column<int64_t> player_id_;
  Column<int64_t> quest_id_;
};

// --- SQLite ---

class SqlitePeer : public Peer {
 public:
  ~SqlitePeer() override {
    for (sqlite3_stmt* s : {preload_, count_, best_, attach_}) sqlite3_finalize(s);
    sqlite3_close(db_);
  }
  std::string name() const override { return "sqlite"; }

  absl::Status Load(const Data& data, bool with_links) override {
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) return Error("open");
    // The indexes a user would create: the pivot's primary key leads with
    // the player, a second index serves the quest side; each foreign key
    // of the HasMany chain is indexed.
    KIN_RETURN_IF_ERROR(Exec(R"sql(
      PRAGMA foreign_keys = ON;
      CREATE TABLE guilds(id INTEGER PRIMARY KEY);
      CREATE TABLE players(id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL REFERENCES guilds(id));
      CREATE INDEX players_guild_id ON players(guild_id);
      CREATE TABLE quests(id INTEGER PRIMARY KEY);
      CREATE TABLE player_quest(
        player_id INTEGER NOT NULL REFERENCES players(id) ON DELETE CASCADE,
        quest_id INTEGER NOT NULL REFERENCES quests(id) ON DELETE CASCADE,
        progress INTEGER NOT NULL,
        PRIMARY KEY(player_id, quest_id)) WITHOUT ROWID;
      CREATE INDEX player_quest_quest_id ON player_quest(quest_id);
      CREATE TABLE items(id INTEGER PRIMARY KEY, player_id INTEGER NOT NULL REFERENCES players(id),
                         value INTEGER NOT NULL);
      CREATE INDEX items_player_id ON items(player_id);
      BEGIN;
    )sql"));
    for (int64_t g = 1; g <= data.guilds; ++g) {
      KIN_RETURN_IF_ERROR(Exec(absl::StrCat("INSERT INTO guilds VALUES(", g, ")")));
    }
    for (int64_t q = 1; q <= data.quests; ++q) {
      KIN_RETURN_IF_ERROR(Exec(absl::StrCat("INSERT INTO quests VALUES(", q, ")")));
    }
    for (int64_t p = 1; p <= data.players; ++p) {
      KIN_RETURN_IF_ERROR(
          Exec(absl::StrCat("INSERT INTO players VALUES(", p, ",", data.player_guild[p - 1], ")")));
    }
    sqlite3_stmt* item = nullptr;
    KIN_RETURN_IF_ERROR(Prepare("INSERT INTO items(player_id, value) VALUES(?1, ?2)", &item));
    for (const Item& i : data.items) {
      sqlite3_bind_int64(item, 1, i.player);
      sqlite3_bind_int64(item, 2, i.value);
      if (sqlite3_step(item) != SQLITE_DONE) return Error("insert item");
      sqlite3_reset(item);
    }
    sqlite3_finalize(item);
    KIN_RETURN_IF_ERROR(Prepare(
        "INSERT OR IGNORE INTO player_quest(player_id, quest_id, progress) VALUES(?1, ?2, ?3)",
        &attach_));
    if (with_links) {
      for (const Link& l : data.links) KIN_RETURN_IF_ERROR(Link1(l));
    }
    KIN_RETURN_IF_ERROR(Exec("COMMIT; ANALYZE;"));
    KIN_RETURN_IF_ERROR(
        Prepare("SELECT q.id, pq.progress FROM player_quest pq JOIN quests q ON q.id = pq.quest_id"
                " WHERE pq.player_id = ?1",
                &preload_));
    KIN_RETURN_IF_ERROR(
        Prepare("SELECT p.id, (SELECT COUNT(*) FROM player_quest pq WHERE pq.player_id = p.id)"
                " FROM players p ORDER BY p.id",
                &count_));
    return Prepare(
        "SELECT g.id, (SELECT MAX(i.value) FROM players p JOIN items i ON i.player_id = p.id"
        " WHERE p.guild_id = g.id) FROM guilds g ORDER BY g.id",
        &best_);
  }

  absl::StatusOr<PreloadAnswer> PreloadQuests(std::span<const int64_t> players) override {
    PreloadAnswer out(players.size());
    for (size_t i = 0; i < players.size(); ++i) {
      sqlite3_bind_int64(preload_, 1, players[i]);
      while (sqlite3_step(preload_) == SQLITE_ROW) {
        out[i].emplace_back(sqlite3_column_int64(preload_, 0), sqlite3_column_int64(preload_, 1));
      }
      sqlite3_reset(preload_);
      std::sort(out[i].begin(), out[i].end());
    }
    return out;
  }

  absl::StatusOr<std::vector<int64_t>> CountQuests() override {
    std::vector<int64_t> out;
    while (sqlite3_step(count_) == SQLITE_ROW) out.push_back(sqlite3_column_int64(count_, 1));
    sqlite3_reset(count_);
    return out;
  }

  absl::StatusOr<std::vector<std::optional<int64_t>>> MaxItemValuePerGuild() override {
    std::vector<std::optional<int64_t>> out;
    while (sqlite3_step(best_) == SQLITE_ROW) {
      out.push_back(sqlite3_column_type(best_, 1) == SQLITE_NULL
                        ? std::nullopt
                        : std::optional<int64_t>(sqlite3_column_int64(best_, 1)));
    }
    sqlite3_reset(best_);
    return out;
  }

  absl::Status AttachAll(const Data& data) override {
    // One transaction per player, as kin's Attach.
    for (size_t i = 0; i < data.links.size(); ++i) {
      const Link& l = data.links[i];
      if (i == 0 || data.links[i - 1].player != l.player) KIN_RETURN_IF_ERROR(Exec("BEGIN"));
      KIN_RETURN_IF_ERROR(Link1(l));
      if (i + 1 == data.links.size() || data.links[i + 1].player != l.player) {
        KIN_RETURN_IF_ERROR(Exec("COMMIT"));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) {
    return absl::InternalError(absl::StrCat("sqlite ", what, ": ", sqlite3_errmsg(db_)));
  }
  absl::Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err != nullptr ? err : "?";
      sqlite3_free(err);
      return absl::InternalError(absl::StrCat("sqlite: ", message));
    }
    return absl::OkStatus();
  }
  absl::Status Prepare(const char* sql, sqlite3_stmt** out) {
    if (sqlite3_prepare_v2(db_, sql, -1, out, nullptr) != SQLITE_OK) return Error(sql);
    return absl::OkStatus();
  }
  absl::Status Link1(const Link& l) {
    sqlite3_bind_int64(attach_, 1, l.player);
    sqlite3_bind_int64(attach_, 2, l.quest);
    sqlite3_bind_int64(attach_, 3, l.progress);
    const int rc = sqlite3_step(attach_);
    sqlite3_reset(attach_);
    return rc == SQLITE_DONE ? absl::OkStatus() : Error("attach");
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* preload_ = nullptr;
  sqlite3_stmt* count_ = nullptr;
  sqlite3_stmt* best_ = nullptr;
  sqlite3_stmt* attach_ = nullptr;
};

// --- hand-written ---

// What a programmer writes without a database: adjacency lists by dense
// id, a link list per player holding (quest, progress).
class HandPeer : public Peer {
 public:
  std::string name() const override { return "hand"; }

  absl::Status Load(const Data& data, bool with_links) override {
    quests_ = data.quests;
    links_.assign(data.players + 1, {});
    guild_players_.assign(data.guilds + 1, {});
    player_items_.assign(data.players + 1, {});
    for (int64_t p = 1; p <= data.players; ++p) {
      guild_players_[data.player_guild[p - 1]].push_back(p);
    }
    for (const Item& i : data.items) player_items_[i.player].push_back(i.value);
    if (with_links) {
      for (const Link& l : data.links) links_[l.player].emplace_back(l.quest, l.progress);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<PreloadAnswer> PreloadQuests(std::span<const int64_t> players) override {
    PreloadAnswer out(players.size());
    for (size_t i = 0; i < players.size(); ++i) {
      out[i] = links_[players[i]];
      std::sort(out[i].begin(), out[i].end());
    }
    return out;
  }

  absl::StatusOr<std::vector<int64_t>> CountQuests() override {
    std::vector<int64_t> out(links_.size() - 1);
    for (size_t p = 1; p < links_.size(); ++p) out[p - 1] = static_cast<int64_t>(links_[p].size());
    return out;
  }

  absl::StatusOr<std::vector<std::optional<int64_t>>> MaxItemValuePerGuild() override {
    std::vector<std::optional<int64_t>> out(guild_players_.size() - 1);
    for (size_t g = 1; g < guild_players_.size(); ++g) {
      std::optional<int64_t> best;
      for (int64_t p : guild_players_[g]) {
        for (int64_t v : player_items_[p]) best = best.has_value() ? std::max(*best, v) : v;
      }
      out[g - 1] = best;
    }
    return out;
  }

  absl::Status AttachAll(const Data& data) override {
    for (const Link& l : data.links) {
      if (l.quest < 1 || l.quest > quests_) return absl::NotFoundError("quest");
      auto& list = links_[l.player];
      bool linked = false;
      for (const auto& [q, progress] : list) linked = linked || q == l.quest;
      if (!linked) list.emplace_back(l.quest, l.progress);
    }
    return absl::OkStatus();
  }

 private:
  int64_t quests_ = 0;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> links_;  // by player
  std::vector<std::vector<int64_t>> guild_players_;
  std::vector<std::vector<int64_t>> player_items_;
};

}  // namespace

std::unique_ptr<Peer> MakeKinPeer() { return std::make_unique<KinPeer>(); }
std::unique_ptr<Peer> MakeSqlitePeer() { return std::make_unique<SqlitePeer>(); }
std::unique_ptr<Peer> MakeHandPeer() { return std::make_unique<HandPeer>(); }

}  // namespace kin::bench::pivot
