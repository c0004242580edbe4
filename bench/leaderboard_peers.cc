#include "bench/leaderboard_peers.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "engine/table.h"
#include "kin/database.h"

namespace kin::bench {

Players MakePlayers(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> key(0, kKeyRange - 1);
  const int64_t guilds = static_cast<int64_t>(std::max<size_t>(n / kGuildSize, 1));
  std::uniform_int_distribution<int64_t> guild(0, guilds - 1);
  Players p;
  p.id.reserve(n);
  p.score.reserve(n);
  p.created_at.reserve(n);
  p.guild.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    p.id.push_back(static_cast<int64_t>(i) + 1);
    p.score.push_back(key(rng));
    p.created_at.push_back(key(rng));
    p.guild.push_back(guild(rng));
  }
  return p;
}

std::vector<std::pair<int64_t, int64_t>> MakeTick(size_t n, size_t count, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> id(1, static_cast<int64_t>(n));
  std::uniform_int_distribution<int64_t> key(0, kKeyRange - 1);
  std::vector<std::pair<int64_t, int64_t>> tick;
  tick.reserve(count);
  for (size_t i = 0; i < count; ++i) tick.emplace_back(id(rng), key(rng));
  return tick;
}

namespace {

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "kin: %s\n", std::string(s.message()).c_str());
    std::abort();
  }
}

template <typename T>
T Check(absl::StatusOr<T> s) {
  Check(s.status());
  return *std::move(s);
}

// --- kin: the README API ---

class KinLeaderboard : public LeaderboardPeer {
 public:
  std::string name() const override { return "Kin"; }

  void Load(const Players& p) override {
    prepared_ = {};
    db_ = Database();
    Check(db_.CreateTable("players", Schema()
                                         .Int64("id", PrimaryKey())
                                         .Int64("score", NotNull(), Ordered())
                                         .Int64("created_at", NotNull(), Ordered())
                                         .Int64("guild", NotNull(), Indexed())));
    // GuildTop10 walks (guild, score) within one guild, as SQLite walks its
    // players(guild, score); created before the rows so the batch builds it
    // in bulk.
    Check(db_.CreateIndex("players", {"guild", "score"}, IndexKind::kOrdered));
    Check(db_.InsertBatch("players", RowBatch()
                                         .Int64("id", p.id)
                                         .Int64("score", p.score)
                                         .Int64("created_at", p.created_at)
                                         .Int64("guild", p.guild))
              .status());
    table_ = db_.FindTable("players");
    id_ = Check(db_.Int64Column("players", "id"));
    score_ = Check(db_.Int64Column("players", "score"));
    // The queries a game runs every tick, prepared once (the README's
    // "Prepared queries"): each call binds its values and reads.
    prepared_.guild_top10 = Check(
        db_.Query("players").Where("guild", Param(0)).OrderBy("score", kDesc).Limit(10).Prepare());
    prepared_.window =
        Check(db_.Query("players").WhereBetween("created_at", Param(0), Param(1)).Prepare());
    prepared_.range =
        Check(db_.Query("players").WhereBetween("score", Param(0), Param(1)).Prepare());
    prepared_.equality = Check(db_.Query("players").Where("guild", Param(0)).Prepare());
  }

  std::vector<int64_t> Leaderboard(size_t n) override {
    // No parameter (a Limit is not one): prepared once per window size.
    if (!prepared_.leaderboard.has_value() || prepared_.leaderboard_n != n) {
      prepared_.leaderboard = Check(
          db_.Query("players").OrderBy("score", kDesc).Limit(static_cast<int64_t>(n)).Prepare());
      prepared_.leaderboard_n = n;
    }
    return Check(prepared_.leaderboard->Pluck(id_));
  }

  std::vector<int64_t> GuildTop10(int64_t guild) override {
    return Check(prepared_.guild_top10->Bind(0, guild).Pluck(id_));
  }

  std::pair<int64_t, std::vector<int64_t>> Window(int64_t lo, int64_t hi) override {
    PreparedQuery& q = *prepared_.window;
    q.Bind(0, lo).Bind(1, hi);
    int64_t count = Check(q.Count());
    return {count, Check(q.Pluck(id_))};
  }

  std::vector<int64_t> RangeFetch(int64_t lo, int64_t hi) override {
    return Check(prepared_.range->Bind(0, lo).Bind(1, hi).Pluck(id_));
  }

  std::vector<int64_t> EqualityFetch(int64_t guild) override {
    return Check(prepared_.equality->Bind(0, guild).Pluck(id_));
  }

  void Tick(const std::vector<std::pair<int64_t, int64_t>>& tick) override {
    Transaction tx(db_);
    for (const auto& [id, score] : tick) {
      Row row = Check(db_.FindOrFail("players", id));
      Check(db_.Set(row, score_, score));
    }
    Check(tx.Commit());
  }

  size_t ScoreIndexBytes() const override {
    return table_->ordered_index(*table_->FindColumn("score"))->MemoryBytes();
  }

 private:
  Database db_;
  const Table* table_ = nullptr;  // for ScoreIndexBytes only
  // Resolved once per load: reads through Query::Pluck(id_), ticks through
  // Database::Set(row, score_, v), the README's typed path.
  Column<int64_t> id_;
  Column<int64_t> score_;
  // Prepared at load (optional: a PreparedQuery has no empty state).
  struct Prepared {
    std::optional<PreparedQuery> guild_top10, window, range, equality, leaderboard;
    size_t leaderboard_n = 0;
  };
  Prepared prepared_;
};

// --- SQLite ---

class SqliteLeaderboard : public LeaderboardPeer {
 public:
  ~SqliteLeaderboard() override { Close(); }
  std::string name() const override { return "Sqlite"; }

  void Load(const Players& p) override {
    Close();
    if (sqlite3_open(":memory:", &db_) != SQLITE_OK) Fail("open");
    Exec(
        "CREATE TABLE players(id INTEGER PRIMARY KEY, score INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL, guild INTEGER NOT NULL);"
        "CREATE INDEX players_score ON players(score);"
        "CREATE INDEX players_created_at ON players(created_at);"
        "CREATE INDEX players_guild ON players(guild);"
        "CREATE INDEX players_guild_score ON players(guild, score);");
    Exec("BEGIN");
    sqlite3_stmt* ins = Prepare("INSERT INTO players VALUES (?1, ?2, ?3, ?4)");
    for (size_t i = 0; i < p.size(); ++i) {
      sqlite3_bind_int64(ins, 1, p.id[i]);
      sqlite3_bind_int64(ins, 2, p.score[i]);
      sqlite3_bind_int64(ins, 3, p.created_at[i]);
      sqlite3_bind_int64(ins, 4, p.guild[i]);
      if (sqlite3_step(ins) != SQLITE_DONE) Fail("insert");
      sqlite3_reset(ins);
    }
    Exec("COMMIT; ANALYZE;");
    top_ = Prepare("SELECT id FROM players ORDER BY score DESC LIMIT ?1");
    guild_top_ = Prepare("SELECT id FROM players WHERE guild = ?1 ORDER BY score DESC LIMIT 10");
    window_count_ = Prepare("SELECT COUNT(*) FROM players WHERE created_at BETWEEN ?1 AND ?2");
    window_ = Prepare("SELECT id FROM players WHERE created_at BETWEEN ?1 AND ?2");
    range_ = Prepare("SELECT id FROM players WHERE score BETWEEN ?1 AND ?2");
    // players(guild) holds (guild, rowid): the guild's ids in id order, no
    // sort, covered by the index.
    equal_ = Prepare("SELECT id FROM players WHERE guild = ?1 ORDER BY id");
    update_ = Prepare("UPDATE players SET score = ?2 WHERE id = ?1");
  }

  std::vector<int64_t> Leaderboard(size_t n) override {
    sqlite3_bind_int64(top_, 1, static_cast<int64_t>(n));
    return Column(top_);
  }
  std::vector<int64_t> GuildTop10(int64_t guild) override {
    sqlite3_bind_int64(guild_top_, 1, guild);
    return Column(guild_top_);
  }
  std::pair<int64_t, std::vector<int64_t>> Window(int64_t lo, int64_t hi) override {
    sqlite3_bind_int64(window_count_, 1, lo);
    sqlite3_bind_int64(window_count_, 2, hi);
    std::vector<int64_t> count = Column(window_count_);
    sqlite3_bind_int64(window_, 1, lo);
    sqlite3_bind_int64(window_, 2, hi);
    return {count.at(0), Column(window_)};
  }
  std::vector<int64_t> RangeFetch(int64_t lo, int64_t hi) override {
    sqlite3_bind_int64(range_, 1, lo);
    sqlite3_bind_int64(range_, 2, hi);
    return Column(range_);
  }
  std::vector<int64_t> EqualityFetch(int64_t guild) override {
    sqlite3_bind_int64(equal_, 1, guild);
    return Column(equal_);
  }
  void Tick(const std::vector<std::pair<int64_t, int64_t>>& tick) override {
    Exec("BEGIN");
    for (const auto& [id, score] : tick) {
      sqlite3_bind_int64(update_, 1, id);
      sqlite3_bind_int64(update_, 2, score);
      if (sqlite3_step(update_) != SQLITE_DONE) Fail("update");
      sqlite3_reset(update_);
    }
    Exec("COMMIT");
  }
  size_t ScoreIndexBytes() const override { return 0; }

 private:
  [[noreturn]] void Fail(const char* what) {
    std::fprintf(stderr, "sqlite %s: %s\n", what, db_ ? sqlite3_errmsg(db_) : "");
    std::abort();
  }
  void Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) Fail(sql);
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) Fail(sql);
    stmts_.push_back(s);
    return s;
  }
  std::vector<int64_t> Column(sqlite3_stmt* s) {
    std::vector<int64_t> out;
    while (sqlite3_step(s) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return out;
  }
  void Close() {
    for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
    stmts_.clear();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
  sqlite3_stmt* top_ = nullptr;
  sqlite3_stmt* guild_top_ = nullptr;
  sqlite3_stmt* window_count_ = nullptr;
  sqlite3_stmt* window_ = nullptr;
  sqlite3_stmt* range_ = nullptr;
  sqlite3_stmt* equal_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
};

// --- hand-written: vectors, btrees, a hash map of row lists ---

class HandLeaderboard : public LeaderboardPeer {
 public:
  std::string name() const override { return "Hand"; }

  void Load(const Players& p) override {
    players_ = p;
    // Row r holds id r + 1.
    by_score_.clear();
    by_created_.clear();
    by_guild_.clear();
    std::vector<std::pair<int64_t, uint32_t>> entries(p.size());
    for (uint32_t r = 0; r < p.size(); ++r) entries[r] = {p.score[r], r};
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) by_score_.insert(by_score_.end(), e);
    for (uint32_t r = 0; r < p.size(); ++r) entries[r] = {p.created_at[r], r};
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries) by_created_.insert(by_created_.end(), e);
    for (uint32_t r = 0; r < p.size(); ++r) by_guild_[p.guild[r]].push_back(r);
  }

  std::vector<int64_t> Leaderboard(size_t n) override {
    std::vector<int64_t> out;
    out.reserve(n);
    for (auto it = by_score_.rbegin(); it != by_score_.rend() && out.size() < n; ++it) {
      out.push_back(players_.id[it->second]);
    }
    return out;
  }

  std::vector<int64_t> GuildTop10(int64_t guild) override {
    std::vector<uint32_t> rows = Guild(guild);
    size_t keep = std::min<size_t>(10, rows.size());
    std::partial_sort(rows.begin(), rows.begin() + keep, rows.end(), [&](uint32_t a, uint32_t b) {
      return players_.score[a] > players_.score[b];
    });
    std::vector<int64_t> out;
    for (size_t i = 0; i < keep; ++i) out.push_back(players_.id[rows[i]]);
    return out;
  }

  std::pair<int64_t, std::vector<int64_t>> Window(int64_t lo, int64_t hi) override {
    int64_t count = 0;
    for (auto it = by_created_.lower_bound({lo, 0}); it != by_created_.end() && it->first <= hi;
         ++it) {
      ++count;
    }
    std::vector<int64_t> ids;
    for (auto it = by_created_.lower_bound({lo, 0}); it != by_created_.end() && it->first <= hi;
         ++it) {
      ids.push_back(players_.id[it->second]);
    }
    return {count, std::move(ids)};
  }

  std::vector<int64_t> RangeFetch(int64_t lo, int64_t hi) override {
    std::vector<int64_t> ids;
    for (auto it = by_score_.lower_bound({lo, 0}); it != by_score_.end() && it->first <= hi; ++it) {
      ids.push_back(players_.id[it->second]);
    }
    return ids;
  }

  std::vector<int64_t> EqualityFetch(int64_t guild) override {
    std::vector<int64_t> ids;
    auto it = by_guild_.find(guild);
    if (it == by_guild_.end()) return ids;
    ids.reserve(it->second.size());
    for (uint32_t r : it->second) ids.push_back(players_.id[r]);
    return ids;
  }

  void Tick(const std::vector<std::pair<int64_t, int64_t>>& tick) override {
    for (const auto& [id, score] : tick) {
      uint32_t r = static_cast<uint32_t>(id - 1);
      by_score_.erase({players_.score[r], r});
      players_.score[r] = score;
      by_score_.insert({score, r});
    }
  }

  size_t ScoreIndexBytes() const override {
    // Same estimate as kin's OrderedIndex::MemoryBytes: entries at 3/4
    // node occupancy plus child pointers.
    size_t n = by_score_.size();
    return n * sizeof(std::pair<int64_t, uint32_t>) * 4 / 3 + n / 8 * sizeof(void*);
  }

 private:
  std::vector<uint32_t> Guild(int64_t guild) const {
    auto it = by_guild_.find(guild);
    return it == by_guild_.end() ? std::vector<uint32_t>() : it->second;
  }

  Players players_;
  absl::btree_set<std::pair<int64_t, uint32_t>> by_score_;
  absl::btree_set<std::pair<int64_t, uint32_t>> by_created_;
  absl::flat_hash_map<int64_t, std::vector<uint32_t>> by_guild_;
};

}  // namespace

std::unique_ptr<LeaderboardPeer> MakeKinLeaderboard() { return std::make_unique<KinLeaderboard>(); }
std::unique_ptr<LeaderboardPeer> MakeSqliteLeaderboard() {
  return std::make_unique<SqliteLeaderboard>();
}
std::unique_ptr<LeaderboardPeer> MakeHandLeaderboard() {
  return std::make_unique<HandLeaderboard>();
}

}  // namespace kin::bench
