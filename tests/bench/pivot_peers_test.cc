// The ManyToMany / HasManyThrough benchmark's peers (bench/pivot_peers.h)
// agree on small data, for every operation, with a reference computed from
// the data itself.

#include "bench/pivot_peers.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace kin::bench::pivot {
namespace {

TEST(PivotPeersTest, EveryPeerGivesTheReferenceAnswers) {
  const Data data = MakeData(/*players=*/200, /*quests=*/30, /*guilds=*/25,
                             /*links_per_player=*/5, /*items_per_player=*/3, /*seed=*/11);
  // Reference answers.
  std::vector<int64_t> asked = {1, 7, 7, 200, 42, 3};
  PreloadAnswer preload(asked.size());
  std::vector<int64_t> counts(data.players, 0);
  for (const Link& l : data.links) {
    ++counts[l.player - 1];
    for (size_t i = 0; i < asked.size(); ++i) {
      if (asked[i] == l.player) preload[i].emplace_back(l.quest, l.progress);
    }
  }
  for (auto& list : preload) std::sort(list.begin(), list.end());
  std::vector<std::optional<int64_t>> best(data.guilds);
  for (const Item& i : data.items) {
    auto& b = best[data.player_guild[i.player - 1] - 1];
    b = b.has_value() ? std::max(*b, i.value) : i.value;
  }
  ASSERT_TRUE(std::count(best.begin(), best.end(), std::nullopt) < data.guilds);

  std::vector<std::unique_ptr<Peer>> peers;
  peers.push_back(MakeKinPeer());
  peers.push_back(MakeSqlitePeer());
  peers.push_back(MakeHandPeer());
  for (auto& peer : peers) {
    SCOPED_TRACE(peer->name());
    ASSERT_TRUE(peer->Load(data, /*with_links=*/true).ok());
    absl::StatusOr<PreloadAnswer> got = peer->PreloadQuests(asked);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, preload);
    absl::StatusOr<std::vector<int64_t>> n = peer->CountQuests();
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, counts);
    absl::StatusOr<std::vector<std::optional<int64_t>>> b = peer->MaxItemValuePerGuild();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(*b, best);
  }
  // Attaching every link onto an empty pivot gives the same answers.
  peers.clear();
  peers.push_back(MakeKinPeer());
  peers.push_back(MakeSqlitePeer());
  peers.push_back(MakeHandPeer());
  for (auto& peer : peers) {
    SCOPED_TRACE(peer->name());
    ASSERT_TRUE(peer->Load(data, /*with_links=*/false).ok());
    absl::Status attached = peer->AttachAll(data);
    ASSERT_TRUE(attached.ok()) << attached;
    absl::StatusOr<std::vector<int64_t>> n = peer->CountQuests();
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, counts);
    absl::StatusOr<PreloadAnswer> got = peer->PreloadQuests(asked);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, preload);
  }
}

}  // namespace
}  // namespace kin::bench::pivot
