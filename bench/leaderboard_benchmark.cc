// Per-tick table queries (issue 15): kin's ordered indexes and planner
// beside SQLite :memory: (with the index a user would create for each
// query) and a hand-written baseline, in one binary. Names
// BM_<Op>_<Kin|Sqlite|Hand>; bench/leaderboard_report.py turns the JSON into
// the README's table.
//
//   bazel run --config=opt //bench:leaderboard_benchmark --
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//       --benchmark_format=json > /tmp/leaderboard.json
//
// KIN_BENCH_ROWS sets the table size (default 1,000,000).

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "bench/leaderboard_peers.h"
#include "bench/memory.h"
#include "benchmark/benchmark.h"
#include "kin/database.h"

namespace kin::bench {
namespace {

size_t Rows() {
  const char* env = std::getenv("KIN_BENCH_ROWS");
  return env != nullptr ? static_cast<size_t>(std::atoll(env)) : 1000000;
}

const Players& Data() {
  static const Players* players = new Players(MakePlayers(Rows()));
  return *players;
}

using Factory = std::unique_ptr<LeaderboardPeer> (*)();

// One loaded peer per kind, shared by the read benchmarks (loading 1M rows
// into SQLite takes seconds). TickLeaderboard writes to it: scores drift,
// the shape of the data does not.
LeaderboardPeer& Loaded(Factory make) {
  static auto* peers = new std::map<Factory, std::unique_ptr<LeaderboardPeer>>();
  auto& p = (*peers)[make];
  if (p == nullptr) {
    p = make();
    p->Load(Data());
  }
  return *p;
}

// 64 query arguments per op, cycled, so no peer answers one cached range.
std::vector<int64_t> Starts(uint32_t seed, int64_t span) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> d(0, kKeyRange - span - 1);
  std::vector<int64_t> out;
  for (int i = 0; i < 64; ++i) out.push_back(d(rng));
  return out;
}
std::vector<int64_t> Guilds() {
  std::vector<int64_t> out;
  const Players& p = Data();
  for (size_t i = 0; i < 64; ++i) out.push_back(p.guild[i * 7919 % p.size()]);
  return out;
}

void Leaderboard(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  for (auto _ : state) benchmark::DoNotOptimize(peer.Leaderboard(100));
}

void GuildTop10(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  std::vector<int64_t> guilds = Guilds();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(peer.GuildTop10(guilds[i++ % guilds.size()]));
}

void Window(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  const int64_t span = kKeyRange / 1000;  // 0.1% of the rows
  std::vector<int64_t> starts = Starts(1, span);
  size_t i = 0, rows = 0;
  for (auto _ : state) {
    int64_t lo = starts[i++ % starts.size()];
    auto r = peer.Window(lo, lo + span);
    rows += r.second.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kAvgIterations);
}

void RangeFetch(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  const int64_t span = kKeyRange / 100;  // 1% of the rows
  std::vector<int64_t> starts = Starts(2, span);
  size_t i = 0;
  for (auto _ : state) {
    int64_t lo = starts[i++ % starts.size()];
    benchmark::DoNotOptimize(peer.RangeFetch(lo, lo + span));
  }
}

void EqualityFetch(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  std::vector<int64_t> guilds = Guilds();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(peer.EqualityFetch(guilds[i++ % guilds.size()]));
}

void TickLeaderboard(benchmark::State& state, Factory make) {
  LeaderboardPeer& peer = Loaded(make);
  std::vector<std::vector<std::pair<int64_t, int64_t>>> ticks;
  for (uint32_t s = 0; s < 16; ++s) ticks.push_back(MakeTick(Data().size(), 1000, 100 + s));
  size_t i = 0;
  for (auto _ : state) {
    peer.Tick(ticks[i++ % ticks.size()]);
    benchmark::DoNotOptimize(peer.Leaderboard(100));
  }
}

void InsertWithOrderedIndex(benchmark::State& state, Factory make) {
  const Players& data = Data();
  for (auto _ : state) {
    std::unique_ptr<LeaderboardPeer> peer = make();
    peer->Load(data);
    state.PauseTiming();
    peer.reset();  // freeing is not inserting
    state.ResumeTiming();
  }
  state.counters["rows"] = benchmark::Counter(static_cast<double>(data.size()),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Heap bytes of the score order alone: kin's CreateIndex(kOrdered) on a
// loaded table vs Hand's btree_set of (score, row), measured as the growth
// of malloc'd bytes (bench/memory.h) while each is built.
void ScoreIndexMemory_Kin(benchmark::State& state) {
  const Players& data = Data();
  int64_t bytes = 0;
  for (auto _ : state) {
    Database db;
    if (!db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score", NotNull()))
             .ok() ||
        !db.InsertBatch("players", RowBatch().Int64("id", data.id).Int64("score", data.score))
             .ok()) {
      state.SkipWithError("load failed");
      return;
    }
    int64_t before = SampleMemory().heap_bytes;
    if (!db.CreateIndex("players", "score", IndexKind::kOrdered).ok()) {
      state.SkipWithError("index failed");
      return;
    }
    bytes = SampleMemory().heap_bytes - before;
  }
  state.counters["index_MB"] = static_cast<double>(bytes) / 1e6;
}

void ScoreIndexMemory_Hand(benchmark::State& state) {
  const Players& data = Data();
  int64_t bytes = 0;
  for (auto _ : state) {
    int64_t before = SampleMemory().heap_bytes;
    {
      std::vector<std::pair<int64_t, uint32_t>> entries(data.size());
      for (uint32_t r = 0; r < data.size(); ++r) entries[r] = {data.score[r], r};
      std::sort(entries.begin(), entries.end());
      absl::btree_set<std::pair<int64_t, uint32_t>> set;
      for (const auto& e : entries) set.insert(set.end(), e);
      std::vector<std::pair<int64_t, uint32_t>>().swap(entries);
      bytes = SampleMemory().heap_bytes - before;
      benchmark::DoNotOptimize(set);
    }
  }
  state.counters["index_MB"] = static_cast<double>(bytes) / 1e6;
}

#define KIN_LEADERBOARD_BENCH(op)                                                   \
  BENCHMARK_CAPTURE(op, Kin, &MakeKinLeaderboard)->Name("BM_" #op "_Kin");          \
  BENCHMARK_CAPTURE(op, Sqlite, &MakeSqliteLeaderboard)->Name("BM_" #op "_Sqlite"); \
  BENCHMARK_CAPTURE(op, Hand, &MakeHandLeaderboard)->Name("BM_" #op "_Hand")

KIN_LEADERBOARD_BENCH(Leaderboard);
KIN_LEADERBOARD_BENCH(GuildTop10);
KIN_LEADERBOARD_BENCH(Window);
KIN_LEADERBOARD_BENCH(RangeFetch);
KIN_LEADERBOARD_BENCH(EqualityFetch);
KIN_LEADERBOARD_BENCH(TickLeaderboard);
BENCHMARK_CAPTURE(InsertWithOrderedIndex, Kin, &MakeKinLeaderboard)
    ->Name("BM_InsertWithOrderedIndex_Kin")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(InsertWithOrderedIndex, Sqlite, &MakeSqliteLeaderboard)
    ->Name("BM_InsertWithOrderedIndex_Sqlite")
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(InsertWithOrderedIndex, Hand, &MakeHandLeaderboard)
    ->Name("BM_InsertWithOrderedIndex_Hand")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(ScoreIndexMemory_Kin)->Name("BM_ScoreIndexMemory_Kin")->Iterations(1);
BENCHMARK(ScoreIndexMemory_Hand)->Name("BM_ScoreIndexMemory_Hand")->Iterations(1);

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
