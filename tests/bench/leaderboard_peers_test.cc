// The leaderboard benchmark's peers give the same answers on small data,
// before and after ticks of score updates (ties are absent by construction:
// scores are random 40-bit keys with a fixed seed).

#include "bench/leaderboard_peers.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin::bench {
namespace {

std::vector<int64_t> Sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(LeaderboardPeersTest, AllPeersAgree) {
  const size_t n = 3000;
  Players data = MakePlayers(n, 7);
  std::vector<std::unique_ptr<LeaderboardPeer>> peers;
  peers.push_back(MakeKinLeaderboard());
  peers.push_back(MakeSqliteLeaderboard());
  peers.push_back(MakeHandLeaderboard());
  for (auto& p : peers) p->Load(data);
  LeaderboardPeer& ref = *peers.back();  // Hand
  for (int round = 0; round < 3; ++round) {
    for (auto& p : peers) {
      SCOPED_TRACE(p->name());
      EXPECT_EQ(p->Leaderboard(100), ref.Leaderboard(100));
      for (int64_t g : {0, 5, 17}) {
        EXPECT_EQ(p->GuildTop10(g), ref.GuildTop10(g));
        EXPECT_EQ(Sorted(p->EqualityFetch(g)), Sorted(ref.EqualityFetch(g)));
      }
      const int64_t lo = kKeyRange / 3, span = kKeyRange / 50;
      auto w = p->Window(lo, lo + span);
      auto wr = ref.Window(lo, lo + span);
      EXPECT_EQ(w.first, wr.first);
      EXPECT_GT(w.first, 0);
      EXPECT_EQ(w.second, wr.second);
      EXPECT_EQ(p->RangeFetch(lo, lo + span), ref.RangeFetch(lo, lo + span));
    }
    auto tick = MakeTick(n, 200, 11 + round);
    for (auto& p : peers) p->Tick(tick);
  }
}

}  // namespace
}  // namespace kin::bench
