// The ManyToMany and HasManyThrough benchmark (issue 21): players take many
// quests (progress on the pivot row), guilds have many players, players
// have many items, so guilds have many items through players. Three peers
// answer the same operations: kin (ManyToMany / HasManyThrough relations),
// SQLite (with the indexes a user would create) and a hand-written
// baseline (vectors and hash maps, the least a C++ programmer would write).
// //tests/bench:pivot_peers_test checks on small data that they agree.

#ifndef KIN_BENCH_PIVOT_PEERS_H_
#define KIN_BENCH_PIVOT_PEERS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kin::bench::pivot {

struct Link {
  int64_t player;
  int64_t quest;
  int64_t progress;
};

struct Item {
  int64_t player;
  int64_t value;
};

// Ids are 1-based and dense: players 1..players, quests 1..quests, guilds
// 1..guilds, items in insertion order.
struct Data {
  int64_t players = 0;
  int64_t quests = 0;
  int64_t guilds = 0;
  std::vector<int64_t> player_guild;  // [player - 1]
  std::vector<Link> links;            // distinct (player, quest) pairs
  std::vector<Item> items;
};

// Deterministic for a seed: each player links `links_per_player` distinct
// random quests and owns `items_per_player` items of random value.
Data MakeData(int64_t players, int64_t quests, int64_t guilds, int links_per_player,
              int items_per_player, uint32_t seed);

// Per asked player: its (quest id, progress) pairs, sorted by quest id.
using PreloadAnswer = std::vector<std::vector<std::pair<int64_t, int64_t>>>;

class Peer {
 public:
  virtual ~Peer() = default;
  virtual std::string name() const = 0;
  // Loads every table; the links too unless `with_links` is false (the
  // attach benchmark attaches them).
  virtual absl::Status Load(const Data& data, bool with_links) = 0;
  // ManyToMany preload of these players' quests with the pivot's progress.
  virtual absl::StatusOr<PreloadAnswer> PreloadQuests(std::span<const int64_t> players) = 0;
  // ManyToMany count of every player's quests, in player id order.
  virtual absl::StatusOr<std::vector<int64_t>> CountQuests() = 0;
  // HasManyThrough: the highest item value of every guild (through its
  // players), in guild id order; nullopt for a guild without items.
  virtual absl::StatusOr<std::vector<std::optional<int64_t>>> MaxItemValuePerGuild() = 0;
  // Attaches every link of `data` (after Load(data, false)), per player.
  virtual absl::Status AttachAll(const Data& data) = 0;
};

std::unique_ptr<Peer> MakeKinPeer();
std::unique_ptr<Peer> MakeSqlitePeer();
std::unique_ptr<Peer> MakeHandPeer();

}  // namespace kin::bench::pivot

#endif  // KIN_BENCH_PIVOT_PEERS_H_
