// The per-tick table queries of a game, answered by three peers: kin through
// its README API (ordered indexes and the planner), SQLite :memory: with the
// index a user would create for each query, and a hand-written baseline (a
// std::vector per column, absl::btree_set for each order, a hash map of row
// lists for the guild).
//
// Data: players(id 1..n, score, created_at, guild). Scores and created_at
// are uniform random in [0, 2^40) (ties practically absent, so every peer's
// order is the same without a tie-break), guild = about n / 100 guilds of
// about 100 players each. Seeded: every peer loads the same rows.

#ifndef KIN_BENCH_LEADERBOARD_PEERS_H_
#define KIN_BENCH_LEADERBOARD_PEERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kin::bench {

struct Players {
  std::vector<int64_t> id, score, created_at, guild;
  size_t size() const { return id.size(); }
};
// n players, seeded.
Players MakePlayers(size_t n, uint32_t seed = 42);
inline constexpr int64_t kKeyRange = int64_t{1} << 40;
// Players per guild, about.
inline constexpr size_t kGuildSize = 100;

// `count` random (id, new score) pairs, seeded.
std::vector<std::pair<int64_t, int64_t>> MakeTick(size_t n, size_t count, uint32_t seed);

class LeaderboardPeer {
 public:
  virtual ~LeaderboardPeer() = default;
  virtual std::string name() const = 0;
  // Loads the rows (with every index the peer's queries need).
  virtual void Load(const Players& p) = 0;
  // Ids of the top `n` by score, descending.
  virtual std::vector<int64_t> Leaderboard(size_t n) = 0;
  // Ids of the top 10 by score within `guild`, descending.
  virtual std::vector<int64_t> GuildTop10(int64_t guild) = 0;
  // How many players have created_at in [lo, hi], and their ids (in
  // created_at order).
  virtual std::pair<int64_t, std::vector<int64_t>> Window(int64_t lo, int64_t hi) = 0;
  // Ids with score in [lo, hi] (score order).
  virtual std::vector<int64_t> RangeFetch(int64_t lo, int64_t hi) = 0;
  // Ids of the players of `guild` (id order).
  virtual std::vector<int64_t> EqualityFetch(int64_t guild) = 0;
  // Sets every (id, score) of `tick` in one transaction.
  virtual void Tick(const std::vector<std::pair<int64_t, int64_t>>& tick) = 0;
  // Bytes held by the score order (the ordered index or its equivalent),
  // or 0 when the peer cannot tell.
  virtual size_t ScoreIndexBytes() const = 0;
};

std::unique_ptr<LeaderboardPeer> MakeKinLeaderboard();
std::unique_ptr<LeaderboardPeer> MakeSqliteLeaderboard();
std::unique_ptr<LeaderboardPeer> MakeHandLeaderboard();

}  // namespace kin::bench

#endif  // KIN_BENCH_LEADERBOARD_PEERS_H_
