// The ManyToMany / HasManyThrough benchmark (issue 21): kin beside SQLite
// and a hand-written baseline (bench/pivot_peers.h).
//
//   bazel run -c opt //bench:pivot_benchmark -- [benchmark flags]
//
// Data: 100,000 players with 10 quests each out of 1,000 (1M pivot rows
// with progress), 1,000 guilds, 10 items per player (1M items). Operations:
//   PreloadQuests   ManyToMany Preload of 1,000 random players' quests with
//                   the pivot's progress (items/s: players answered)
//   CountQuests     ManyToMany WithCount for every player
//   MaxItemPerGuild HasManyThrough WithAggregate (max item value) for every
//                   guild, through its players
//   Attach          1M links attached onto an empty pivot, one Attach (one
//                   transaction) per player (items/s: links)
// Each peer is loaded once per benchmark family and kept.

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/pivot_peers.h"
#include "benchmark/benchmark.h"

namespace kin::bench::pivot {
namespace {

constexpr int64_t kPlayers = 100000;
constexpr int64_t kQuests = 1000;
constexpr int64_t kGuilds = 1000;
constexpr int kLinksPerPlayer = 10;
constexpr int kItemsPerPlayer = 10;
constexpr size_t kPreloadPlayers = 1000;

const Data& TheData() {
  static const Data* data = new Data(
      MakeData(kPlayers, kQuests, kGuilds, kLinksPerPlayer, kItemsPerPlayer, /*seed=*/2026));
  return *data;
}

std::unique_ptr<Peer> Make(const std::string& name) {
  if (name == "kin") return MakeKinPeer();
  if (name == "sqlite") return MakeSqlitePeer();
  return MakeHandPeer();
}

// One loaded peer per name, with links.
Peer& Loaded(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Peer>>* peers =
      new std::map<std::string, std::unique_ptr<Peer>>();
  auto it = peers->find(name);
  if (it == peers->end()) {
    // Keep one peer resident at a time.
    peers->clear();
    std::unique_ptr<Peer> peer = Make(name);
    absl::Status loaded = peer->Load(TheData(), /*with_links=*/true);
    if (!loaded.ok()) std::abort();
    it = peers->emplace(name, std::move(peer)).first;
  }
  return *it->second;
}

std::vector<int64_t> RandomPlayers() {
  std::mt19937_64 rng(7);
  std::vector<int64_t> out;
  for (size_t i = 0; i < kPreloadPlayers; ++i) {
    out.push_back(std::uniform_int_distribution<int64_t>(1, kPlayers)(rng));
  }
  return out;
}

void BM_PreloadQuests(benchmark::State& state, const std::string& name) {
  Peer& peer = Loaded(name);
  const std::vector<int64_t> players = RandomPlayers();
  for (auto _ : state) {
    auto answer = peer.PreloadQuests(players);
    if (!answer.ok()) state.SkipWithError(answer.status().ToString().c_str());
    benchmark::DoNotOptimize(answer);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(players.size()));
}

void BM_CountQuests(benchmark::State& state, const std::string& name) {
  Peer& peer = Loaded(name);
  for (auto _ : state) {
    auto answer = peer.CountQuests();
    if (!answer.ok()) state.SkipWithError(answer.status().ToString().c_str());
    benchmark::DoNotOptimize(answer);
  }
  state.SetItemsProcessed(state.iterations() * kPlayers);
}

void BM_MaxItemPerGuild(benchmark::State& state, const std::string& name) {
  Peer& peer = Loaded(name);
  for (auto _ : state) {
    auto answer = peer.MaxItemValuePerGuild();
    if (!answer.ok()) state.SkipWithError(answer.status().ToString().c_str());
    benchmark::DoNotOptimize(answer);
  }
  state.SetItemsProcessed(state.iterations() * kGuilds);
}

void BM_Attach(benchmark::State& state, const std::string& name) {
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Peer> peer = Make(name);
    if (!peer->Load(TheData(), /*with_links=*/false).ok()) state.SkipWithError("load");
    state.ResumeTiming();
    absl::Status attached = peer->AttachAll(TheData());
    if (!attached.ok()) state.SkipWithError(attached.ToString().c_str());
    state.PauseTiming();
    peer.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(TheData().links.size()));
}

void Register() {
  for (const char* name : {"kin", "hand", "sqlite"}) {
    const std::string n = name;
    benchmark::RegisterBenchmark(("BM_PreloadQuests_" + n).c_str(), BM_PreloadQuests, n)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_CountQuests_" + n).c_str(), BM_CountQuests, n)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_MaxItemPerGuild_" + n).c_str(), BM_MaxItemPerGuild, n)
        ->Unit(benchmark::kMillisecond);
  }
  for (const char* name : {"kin", "hand", "sqlite"}) {
    benchmark::RegisterBenchmark((std::string("BM_Attach_") + name).c_str(), BM_Attach,
                                 std::string(name))
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
  }
}

}  // namespace
}  // namespace kin::bench::pivot

int main(int argc, char** argv) {
  kin::bench::pivot::Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
