// The relations benchmark (issue 7): kin beside SQLite and a hand-written
// baseline on users and their posts. Benchmarks are named BM_<Op>_<Peer>
// (see bench/peer.h for the operations and their answers).
//
//   bazel run --config=opt //bench:relations_benchmark --
//       [--users=100000] [--posts=1000000] [--skew=0] [--sparse-ids]
//       [--ballast-mb=0] [benchmark flags]
//
// --ballast-mb=N first fills N MB of heap with small blocks the run keeps
// (other data a game holds), for loads and snapshots on a populated heap.
// --skew=s > 0 draws post owners from a Zipf(s) distribution instead of
// uniformly. --sparse-ids (or KIN_BENCH_SPARSE_IDS=1 in the environment)
// makes user ids n * 1000003 instead of 1..users, so per-parent work
// cannot lean on compact keys. Each peer is loaded once and kept while its benchmarks run (one
// peer resident at a time, so memory is measured peer by peer); the load is
// timed by BM_Load_<Peer>, which also reports the memory the loaded data set
// holds (heap_MB: malloc'd bytes, rss_MB / peak_rss_MB: resident growth).
// Rate counters print as "rows=1.2M/s" (rows inserted per second) and
// "MB=900/s" (snapshot file MB per second); JSON output gives the per-second
// value under "rows" and "MB". Query benchmarks count items/s as users
// answered (lookups for Lookup). A summary (memory per peer, how each peer
// answers each op, which SQLite index each query used) goes to stderr, so
// stdout stays clean for --benchmark_format=json.
//
// Times are CPU time of the benchmark thread (system time included).

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/dataset.h"
#include "bench/memory.h"
#include "bench/peer.h"
#include "bench/peers.h"
#include "benchmark/benchmark.h"
#include "kin/status_macros.h"

namespace kin::bench {
namespace {

DatasetOptions& Options() {
  static DatasetOptions options;
  return options;
}

const Dataset& Data() {
  static const Dataset* data = new Dataset(MakeDataset(Options()));
  return *data;
}

constexpr size_t kLookupSample = 4096;
constexpr size_t kPreloadUsers = 1000;

// What loading a peer cost: time, and memory over the process before it.
struct LoadReport {
  double seconds = 0;
  int64_t heap_bytes = 0;  // malloc'd bytes the loaded peer holds
  int64_t rss_bytes = 0;   // resident growth, load to loaded
  int64_t peak_bytes = 0;  // peak resident growth during the load
  bool peak_known = false;
};

struct Fixture {
  std::string peer;
  std::unique_ptr<Peer> instance;
};

Fixture& Current() {
  static Fixture* fixture = new Fixture;
  return *fixture;
}

std::map<std::string, LoadReport>& Reports() {
  static auto* reports = new std::map<std::string, LoadReport>;
  return *reports;
}

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void PrintHow(const Peer& peer) {
  for (Op op : kAllOps) {
    if (!peer.Supports(op)) {
      std::fprintf(stderr, "# %-9s %-12s NOT BENCHMARKED: %s\n", peer.name(), OpName(op),
                   peer.HowItAnswers(op).c_str());
      continue;
    }
    if (!peer.Benchmarked(op)) continue;
    std::fprintf(stderr, "# %-9s %-12s %s\n", peer.name(), OpName(op),
                 peer.HowItAnswers(op).c_str());
  }
}

// Loads `name` as the resident fixture, replacing the previous one, and
// records what it cost.
absl::Status LoadFixture(const std::string& name) {
  Fixture& f = Current();
  f.instance.reset();
  f.peer.clear();
  const Dataset& data = Data();  // generated before measuring
  TrimHeap();
  const bool peak_known = ResetPeakRss();
  const MemorySample before = SampleMemory();
  const double start = Now();
  std::unique_ptr<Peer> peer = MakePeer(name);
  absl::Status status = peer->Load(data);
  if (!status.ok()) return status;
  LoadReport r;
  r.seconds = Now() - start;
  const MemorySample after = SampleMemory();
  r.heap_bytes = after.heap_bytes - before.heap_bytes;
  r.rss_bytes = after.rss_bytes - before.rss_bytes;
  r.peak_known = peak_known;
  if (peak_known) r.peak_bytes = PeakRssBytes() - before.rss_bytes;
  Reports()[name] = r;
  f.instance = std::move(peer);
  f.peer = name;
  std::fprintf(stderr, "# loaded %s (%s) in %.2f s\n", name.c_str(), Describe(data.options).c_str(),
               r.seconds);
  PrintHow(*f.instance);
  return absl::OkStatus();
}

// The loaded peer `name`, loading it if it is not the resident one.
absl::StatusOr<Peer*> GetFixture(const std::string& name) {
  if (Current().peer != name) {
    absl::Status status = LoadFixture(name);
    if (!status.ok()) return status;
  }
  return Current().instance.get();
}

std::string SnapshotPath(const std::string& peer) {
  return "/dev/shm/kin_relations_bench_" + std::to_string(getpid()) + "_" + peer + ".snap";
}

void RemoveSnapshots() {
  for (const std::string& name : PeerNames()) unlink(SnapshotPath(name).c_str());
}

double Mb(int64_t bytes) { return static_cast<double>(bytes) / 1e6; }

// SQLite's plans are long: the label keeps the index names only.
std::string ShortLabel(const std::string& how) {
  std::string label;
  for (size_t pos = how.find("INDEX "); pos != std::string::npos;
       pos = how.find("INDEX ", pos + 6)) {
    size_t end = how.find_first_of(" ;()", pos + 6);
    std::string index = how.substr(pos + 6, end - pos - 6);
    if (label.find(index) == std::string::npos) label += (label.empty() ? "" : ",") + index;
  }
  if (!label.empty()) label = "index " + label;
  if (how.find("SCAN posts") != std::string::npos &&
      how.find("SCAN posts USING") == std::string::npos) {
    label += label.empty() ? "table scan posts" : ", table scan posts";
  }
  return label;
}

bool Check(benchmark::State& state, const absl::Status& status) {
  if (status.ok()) return true;
  state.SkipWithError(std::string(status.message()).c_str());
  return false;
}

// Runs `op` once per iteration; `items` is what items/s counts per call.
template <typename Fn>
void RunQuery(benchmark::State& state, Peer& peer, Op op, int64_t items, Fn fn) {
  if (std::string(peer.name()) == "Sqlite") state.SetLabel(ShortLabel(peer.HowItAnswers(op)));
  for (auto _ : state) {
    auto answer = fn(peer);
    if (!answer.ok()) {
      Check(state, answer.status());
      return;
    }
    benchmark::DoNotOptimize(answer->data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * items);
}

void BM_Load(benchmark::State& state, const std::string& name) {
  for (auto _ : state) {
    if (!Check(state, LoadFixture(name))) return;
  }
  const LoadReport& r = Reports()[name];
  state.counters["heap_MB"] = Mb(r.heap_bytes);
  state.counters["rss_MB"] = Mb(r.rss_bytes);
  if (r.peak_known) state.counters["peak_rss_MB"] = Mb(r.peak_bytes);
  state.counters["rows"] =
      benchmark::Counter(static_cast<double>(Data().num_users() + Data().num_posts()) *
                             static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void BM_Op(benchmark::State& state, const std::string& name, Op op) {
  absl::StatusOr<Peer*> fixture = GetFixture(name);
  if (!fixture.ok()) {
    Check(state, fixture.status());
    return;
  }
  Peer& peer = **fixture;
  const Dataset& data = Data();
  const auto users = static_cast<int64_t>(data.num_users());
  switch (op) {
    case Op::kLookup: {
      static const std::vector<int64_t> ids = SampleUserIds(data, kLookupSample, 1);
      size_t i = 0;
      RunQuery(state, peer, op, 1, [&](Peer& p) { return p.Lookup(ids[i++ % ids.size()]); });
      break;
    }
    case Op::kPreload: {
      static const std::vector<int64_t> ids = SampleUserIds(data, kPreloadUsers, 2);
      RunQuery(state, peer, op, static_cast<int64_t>(ids.size()),
               [&](Peer& p) { return p.Preload(ids); });
      break;
    }
    case Op::kTop5:
      RunQuery(state, peer, op, users, [](Peer& p) { return p.Top5(); });
      break;
    case Op::kCountAll:
      RunQuery(state, peer, op, users, [](Peer& p) { return p.CountAll(); });
      break;
    case Op::kHasGe5:
      RunQuery(state, peer, op, users, [](Peer& p) { return p.HasGe5(); });
      break;
    case Op::kMaxPerParent:
      RunQuery(state, peer, op, users, [](Peer& p) { return p.MaxPerParent(); });
      break;
    case Op::kWhereHas:
      RunQuery(state, peer, op, users, [](Peer& p) { return p.WhereHas(); });
      break;
    case Op::kMoveCount: {
      // Each iteration gives one post to another user, then counts every
      // user's posts. The moves are undone afterwards (untimed), so the
      // fixture's data is as loaded for the ops after this one.
      static const std::vector<int64_t> to = SampleUserIds(data, kLookupSample, 3);
      const size_t n = data.num_posts();
      size_t i = 0;
      std::vector<int64_t> moved;
      RunQuery(state, peer, op, users, [&](Peer& p) -> absl::StatusOr<UserCounts> {
        const int64_t post = data.post_id[(i * 7919 + 1) % n];
        moved.push_back(post);
        KIN_RETURN_IF_ERROR(p.MovePost(post, to[i++ % to.size()]));
        return p.CountAll();
      });
      for (auto it = moved.rbegin(); it != moved.rend(); ++it) {
        const auto row = static_cast<size_t>(*it - 1);  // post ids are 1..N
        if (!Check(state, peer.MovePost(*it, data.post_user_id[row]))) return;
      }
      break;
    }
    default:
      state.SkipWithError("not a query");
  }
}

// Inserts every post into a fresh peer that holds the users only.
void BM_Insert(benchmark::State& state, const std::string& name) {
  const Dataset& data = Data();
  for (auto _ : state) {
    state.PauseTiming();
    std::unique_ptr<Peer> peer = MakePeer(name);
    absl::Status status = peer->LoadUsers(data);
    state.ResumeTiming();
    if (status.ok()) status = peer->InsertPosts(data);
    state.PauseTiming();
    peer.reset();
    state.ResumeTiming();
    if (!Check(state, status)) return;
  }
  state.counters["rows"] = benchmark::Counter(
      static_cast<double>(data.num_posts() * state.iterations()), benchmark::Counter::kIsRate);
}

int64_t FileBytes(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  std::fseek(f, 0, SEEK_END);
  const int64_t size = std::ftell(f);
  std::fclose(f);
  return size;
}

void SetSnapshotCounters(benchmark::State& state, int64_t bytes) {
  state.counters["file_MB"] = Mb(bytes);
  state.counters["MB"] = benchmark::Counter(Mb(bytes) * static_cast<double>(state.iterations()),
                                            benchmark::Counter::kIsRate);
  state.SetBytesProcessed(bytes * state.iterations());
}

void BM_SnapshotSave(benchmark::State& state, const std::string& name) {
  absl::StatusOr<Peer*> fixture = GetFixture(name);
  if (!fixture.ok()) {
    Check(state, fixture.status());
    return;
  }
  const std::string path = SnapshotPath(name);
  for (auto _ : state) {
    if (!Check(state, (*fixture)->SnapshotSave(path))) return;
  }
  SetSnapshotCounters(state, FileBytes(path));
}

// Loads the saved snapshot into a fresh peer per iteration.
void BM_SnapshotLoad(benchmark::State& state, const std::string& name) {
  const std::string path = SnapshotPath(name);
  if (FileBytes(path) == 0) {  // BM_SnapshotSave was filtered out
    absl::StatusOr<Peer*> fixture = GetFixture(name);
    if (!fixture.ok()) {
      Check(state, fixture.status());
      return;
    }
    if (!Check(state, (*fixture)->SnapshotSave(path))) return;
  }
  for (auto _ : state) {
    std::unique_ptr<Peer> peer = MakePeer(name);
    absl::Status status = peer->SnapshotLoad(path);
    state.PauseTiming();
    peer.reset();
    state.ResumeTiming();
    if (!Check(state, status)) return;
  }
  SetSnapshotCounters(state, FileBytes(path));
}

void Register() {
  for (const std::string& name : PeerNames()) {
    const std::unique_ptr<Peer> probe = MakePeer(name);
    for (Op op : kAllOps) {
      if (!probe->Benchmarked(op)) continue;
      const std::string bm = std::string("BM_") + OpName(op) + "_" + name;
      benchmark::internal::Benchmark* b = nullptr;
      switch (op) {
        case Op::kLoad:
          b = benchmark::RegisterBenchmark(bm.c_str(), BM_Load, name)
                  ->Iterations(1)
                  ->Unit(benchmark::kMillisecond);
          break;
        case Op::kInsert:
          b = benchmark::RegisterBenchmark(bm.c_str(), BM_Insert, name)
                  ->Unit(benchmark::kMillisecond);
          break;
        case Op::kSnapshotSave:
          b = benchmark::RegisterBenchmark(bm.c_str(), BM_SnapshotSave, name)
                  ->Unit(benchmark::kMillisecond);
          break;
        case Op::kSnapshotLoad:
          b = benchmark::RegisterBenchmark(bm.c_str(), BM_SnapshotLoad, name)
                  ->Unit(benchmark::kMillisecond);
          break;
        default:
          b = benchmark::RegisterBenchmark(bm.c_str(), BM_Op, name, op)
                  ->Unit(op == Op::kLookup    ? benchmark::kMicrosecond
                         : op == Op::kPreload ? benchmark::kMicrosecond
                                              : benchmark::kMillisecond);
      }
      // CPU time (the default) rather than wall time: the thread's CPU
      // time includes its system time (snapshot I/O goes to tmpfs), and it
      // is steadier on a shared machine.
      (void)b;
    }
  }
}

void PrintSummary() {
  if (Reports().empty()) return;
  std::fprintf(stderr, "\n# data set: %s\n", Describe(Options()).c_str());
  std::fprintf(stderr, "# memory held by the loaded data set, per peer (MB):\n");
  std::fprintf(stderr, "# %-10s %10s %10s %12s %8s\n", "peer", "heap", "rss", "peak_rss", "load_s");
  for (const auto& [name, r] : Reports()) {
    std::fprintf(
        stderr, "# %-10s %10.1f %10.1f %12s %8.2f\n", name.c_str(), Mb(r.heap_bytes),
        Mb(r.rss_bytes),
        r.peak_known ? std::to_string(static_cast<int64_t>(Mb(r.peak_bytes))).c_str() : "n/a",
        r.seconds);
  }
}

int64_t& BallastMb() {
  static int64_t mb = 0;
  return mb;
}

// What a game or simulation holds besides kin's data: `mb` MB of heap in
// blocks of 32 to 2,048 bytes (fixed seed), every byte touched, kept for
// the whole run. Loads and snapshots then run against a populated heap
// rather than a fresh one, which moves both malloc's and the kernel's work.
void AllocateBallast(int64_t mb) {
  static auto* blocks = new std::vector<std::unique_ptr<char[]>>;
  std::mt19937_64 rng(7);
  int64_t left = mb * 1000000;
  while (left > 0) {
    const size_t size = 32 + rng() % 2017;
    auto block = std::make_unique<char[]>(size);
    std::memset(block.get(), static_cast<int>(size), size);
    blocks->push_back(std::move(block));
    left -= static_cast<int64_t>(size);
  }
  std::fprintf(stderr, "# ballast: %lld MB in %zu blocks\n", static_cast<long long>(mb),
               blocks->size());
}

// Parses and removes --ballast-mb=, --users=, --posts=, --skew=, --sparse-ids (Google
// Benchmark leaves flags it does not know in argv), after the environment's
// KIN_BENCH_SPARSE_IDS. Returns false on a bad value.
bool ParseSizeFlags(int* argc, char** argv) {
  if (const char* env = std::getenv("KIN_BENCH_SPARSE_IDS");
      env != nullptr && std::strcmp(env, "") != 0 && std::strcmp(env, "0") != 0) {
    Options().id_stride = kSparseIdStride;
  }
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const char* a = argv[i];
    char* end = nullptr;
    bool ok = true;
    if (std::strncmp(a, "--users=", 8) == 0) {
      Options().users = std::strtoll(a + 8, &end, 10);
      ok = *end == '\0' && Options().users >= 1;
    } else if (std::strncmp(a, "--posts=", 8) == 0) {
      Options().posts = std::strtoll(a + 8, &end, 10);
      ok = *end == '\0' && Options().posts >= 0;
    } else if (std::strncmp(a, "--ballast-mb=", 13) == 0) {
      BallastMb() = std::strtoll(a + 13, &end, 10);
      ok = *end == '\0' && BallastMb() >= 0;
    } else if (std::strcmp(a, "--sparse-ids") == 0) {
      Options().id_stride = kSparseIdStride;
    } else if (std::strncmp(a, "--skew=", 7) == 0) {
      Options().skew = std::strtod(a + 7, &end);
      ok = *end == '\0' && Options().skew >= 0;
    } else {
      argv[out++] = argv[i];
      continue;
    }
    if (!ok) {
      std::fprintf(stderr, "bad flag: %s\n", a);
      return false;
    }
  }
  *argc = out;
  return true;
}

}  // namespace
}  // namespace kin::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!kin::bench::ParseSizeFlags(&argc, argv)) return 2;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("dataset", kin::bench::Describe(kin::bench::Options()));
  if (kin::bench::BallastMb() > 0) {
    benchmark::AddCustomContext("ballast_mb", std::to_string(kin::bench::BallastMb()));
    kin::bench::AllocateBallast(kin::bench::BallastMb());
  }
  kin::bench::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  kin::bench::PrintSummary();
  kin::bench::RemoveSnapshots();
  return 0;
}
