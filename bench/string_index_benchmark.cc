// String keys in indexes (issue 17): a unique index and an ordered index
// on a player name, at 1M players, in kin, SQLite :memory: and a careful
// hand-written layout. kin's indexes keep no copy of a key: they read keys
// from the column. This measures what that costs a lookup and a walk, and
// what it saves in memory. Names BM_<Op>_<Kin|Sqlite|Hand>.
//
//   bazel run --config=opt //bench:string_index_benchmark --
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// The names are "player-" and 16 hex digits (23 bytes): every key shares
// its first 7 bytes. With KIN_BENCH_NAMES=padded they are "player-" and a
// zero-padded 16-digit number below 10^9 instead, sharing their first 14
// bytes: every comparison of kin's ordered index, which orders by a key's
// first 12 bytes and reads the column on a tie, then reads the column.
// That is its worst case. The index memory of each peer (heap bytes malloc
// handed out for the indexes alone, mallinfo2) is printed to stderr before
// the benchmarks run.
//
// KIN_BENCH_ROWS sets the table size (default 1,000,000).

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "bench/memory.h"
#include "benchmark/benchmark.h"
#include "kin/kin.h"

namespace kin::bench {
namespace {

size_t Rows() {
  const char* env = std::getenv("KIN_BENCH_ROWS");
  return env != nullptr ? static_cast<size_t>(std::atoll(env)) : 1000000;
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "kin: %s\n", s.ToString().c_str());
    std::abort();
  }
}
template <typename T>
T Check(absl::StatusOr<T> v) {
  Check(v.status());
  return *std::move(v);
}

struct Names {
  std::vector<int64_t> id;
  std::vector<std::string> name;
  std::vector<std::string> probes;  // existing names, in random order
  std::vector<std::string> starts;  // random names, mostly absent
};

bool Padded() {
  const char* env = std::getenv("KIN_BENCH_NAMES");
  return env != nullptr && std::string_view(env) == "padded";
}

std::string RandomName(std::mt19937_64& rng) {
  static const bool padded = Padded();
  if (padded) return absl::StrFormat("player-%016d", rng() % 1000000000);
  return absl::StrFormat("player-%016x", rng());
}

const Names& Data() {
  static const Names* data = [] {
    auto* d = new Names();
    std::mt19937_64 rng(17);
    absl::flat_hash_set<std::string> seen;
    const size_t n = Rows();
    while (d->name.size() < n) {
      std::string name = RandomName(rng);
      if (!seen.insert(name).second) continue;
      d->id.push_back(static_cast<int64_t>(d->name.size()) + 1);
      d->name.push_back(std::move(name));
    }
    for (int i = 0; i < 4096; ++i) {
      d->probes.push_back(d->name[rng() % n]);
      d->starts.push_back(RandomName(rng));
    }
    return d;
  }();
  return *data;
}

int64_t HeapBytes() { return SampleMemory().heap_bytes; }

// --- kin: the README's prepared queries over a Unique, Ordered column ---

struct KinPeer {
  Database db;
  Column<int64_t> id;
  std::optional<PreparedQuery> lookup, next10;

  explicit KinPeer(bool indexed) {
    const Names& d = Data();
    Check(
        indexed
            ? db.CreateTable(
                  "players",
                  Schema().Int64("id", PrimaryKey()).String("name", Unique(), Ordered(), NotNull()))
            : db.CreateTable("players",
                             Schema().Int64("id", PrimaryKey()).String("name", NotNull())));
    Check(db.InsertBatch("players", RowBatch().Int64("id", d.id).String("name", d.name)));
    id = Check(db.Int64Column("players", "id"));
    if (!indexed) return;
    lookup = Check(db.Query("players").Where("name", Param(0)).Prepare());
    next10 = Check(
        db.Query("players").Where("name", ">=", Param(0)).OrderBy("name").Limit(10).Prepare());
  }
};

KinPeer& Kin() {
  static KinPeer* peer = new KinPeer(/*indexed=*/true);
  return *peer;
}

// --- Hand: names in one blob plus offsets; a hash map of views into the
// blob for lookups, the row ids sorted by name for ordered walks ---

struct HandPeer {
  std::vector<int64_t> id;
  std::string blob;
  std::vector<uint32_t> offsets;  // n + 1
  absl::flat_hash_map<std::string_view, uint32_t> by_name;
  std::vector<uint32_t> sorted;

  std::string_view Name(uint32_t r) const {
    return std::string_view(blob).substr(offsets[r], offsets[r + 1] - offsets[r]);
  }

  HandPeer() {
    const Names& d = Data();
    id = d.id;
    for (const std::string& n : d.name) {
      offsets.push_back(static_cast<uint32_t>(blob.size()));
      blob += n;
    }
    offsets.push_back(static_cast<uint32_t>(blob.size()));
    blob.shrink_to_fit();
  }
  void BuildIndexes() {
    by_name.reserve(id.size());
    for (uint32_t r = 0; r < id.size(); ++r) by_name.emplace(Name(r), r);
    sorted.resize(id.size());
    for (uint32_t r = 0; r < id.size(); ++r) sorted[r] = r;
    std::sort(sorted.begin(), sorted.end(),
              [&](uint32_t a, uint32_t b) { return Name(a) < Name(b); });
  }
  std::vector<int64_t> Lookup(std::string_view name) const {
    auto it = by_name.find(name);
    if (it == by_name.end()) return {};
    return {id[it->second]};
  }
  std::vector<int64_t> Next10(std::string_view start) const {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), start,
                               [&](uint32_t r, std::string_view s) { return Name(r) < s; });
    std::vector<int64_t> out;
    for (; it != sorted.end() && out.size() < 10; ++it) out.push_back(id[*it]);
    return out;
  }
};

HandPeer& Hand() {
  static HandPeer* peer = [] {
    auto* p = new HandPeer();
    p->BuildIndexes();
    return p;
  }();
  return *peer;
}

// --- SQLite :memory:, a UNIQUE index on name (one b-tree serves both) ---

struct SqlitePeer {
  sqlite3* db = nullptr;
  sqlite3_stmt* lookup = nullptr;
  sqlite3_stmt* next10 = nullptr;

  void Exec(const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
      std::abort();
    }
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) std::abort();
    return s;
  }
  SqlitePeer(const SqlitePeer&) = delete;
  SqlitePeer& operator=(const SqlitePeer&) = delete;
  ~SqlitePeer() {
    sqlite3_finalize(lookup);
    sqlite3_finalize(next10);
    sqlite3_close(db);
  }
  // Loads the rows; the index comes with CreateIndex().
  SqlitePeer() {
    const Names& d = Data();
    sqlite3_open(":memory:", &db);
    Exec("CREATE TABLE players(id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
    Exec("BEGIN");
    sqlite3_stmt* ins = Prepare("INSERT INTO players VALUES (?1, ?2)");
    for (size_t i = 0; i < d.id.size(); ++i) {
      sqlite3_bind_int64(ins, 1, d.id[i]);
      sqlite3_bind_text(ins, 2, d.name[i].data(), static_cast<int>(d.name[i].size()),
                        SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE) std::abort();
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    Exec("COMMIT");
  }
  void CreateIndex() {
    Exec("CREATE UNIQUE INDEX players_name ON players(name)");
    lookup = Prepare("SELECT id FROM players WHERE name = ?1");
    next10 = Prepare("SELECT id FROM players WHERE name >= ?1 ORDER BY name LIMIT 10");
  }
  std::vector<int64_t> Run(sqlite3_stmt* s, std::string_view key) {
    sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    std::vector<int64_t> out;
    while (sqlite3_step(s) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return out;
  }
};

SqlitePeer& Sqlite() {
  static SqlitePeer* peer = [] {
    auto* p = new SqlitePeer();
    p->CreateIndex();
    return p;
  }();
  return *peer;
}

// Heap bytes of each peer's name indexes alone, built over the same rows:
// kin's by the difference of a load with and without them (and of
// CreateIndex for the ordered one alone), Hand's and SQLite's around their
// builds. Printed once, before the timings.
void ReportIndexMemory() {
  const size_t n = Data().id.size();
  auto line = [&](const char* peer, const char* what, int64_t bytes) {
    std::fprintf(stderr, "index memory: %-6s %-34s %8.1f MB  %5.1f bytes/key\n", peer, what,
                 bytes / 1e6, static_cast<double>(bytes) / n);
  };
  int64_t h0 = HeapBytes();
  auto* plain = new KinPeer(/*indexed=*/false);
  const int64_t plain_bytes = HeapBytes() - h0;
  h0 = HeapBytes();
  Check(plain->db.CreateIndex("players", "name", IndexKind::kOrdered));
  const int64_t kin_ordered = HeapBytes() - h0;
  delete plain;
  h0 = HeapBytes();
  Kin();
  const int64_t kin_both = HeapBytes() - h0 - plain_bytes;
  line("Kin", "unique hash + ordered", kin_both);
  line("Kin", "  ordered (CreateIndex)", kin_ordered);
  line("Kin", "  unique hash (the rest)", kin_both - kin_ordered);
  h0 = HeapBytes();
  auto* hand = new HandPeer();
  h0 = HeapBytes();
  hand->BuildIndexes();
  line("Hand", "hash map of views + sorted ids", HeapBytes() - h0);
  delete hand;
  Hand();
  auto* sqlite = new SqlitePeer();
  h0 = HeapBytes();
  sqlite->CreateIndex();
  line("Sqlite", "UNIQUE index (one b-tree)", HeapBytes() - h0);
  delete sqlite;
  Sqlite();
}

void BM_NameLookup_Kin(benchmark::State& state) {
  KinPeer& k = Kin();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Check(k.lookup->Bind(0, d.probes[i++ % d.probes.size()]).Pluck(k.id)));
  }
}
void BM_NameLookup_Hand(benchmark::State& state) {
  HandPeer& h = Hand();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(h.Lookup(d.probes[i++ % d.probes.size()]));
}
void BM_NameLookup_Sqlite(benchmark::State& state) {
  SqlitePeer& s = Sqlite();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.Run(s.lookup, d.probes[i++ % d.probes.size()]));
  }
}

void BM_NameNext10_Kin(benchmark::State& state) {
  KinPeer& k = Kin();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(Check(k.next10->Bind(0, d.starts[i++ % d.starts.size()]).Pluck(k.id)));
  }
}
void BM_NameNext10_Hand(benchmark::State& state) {
  HandPeer& h = Hand();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(h.Next10(d.starts[i++ % d.starts.size()]));
}
void BM_NameNext10_Sqlite(benchmark::State& state) {
  SqlitePeer& s = Sqlite();
  const Names& d = Data();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(s.Run(s.next10, d.starts[i++ % d.starts.size()]));
  }
}

BENCHMARK(BM_NameLookup_Kin);
BENCHMARK(BM_NameLookup_Hand);
BENCHMARK(BM_NameLookup_Sqlite);
BENCHMARK(BM_NameNext10_Kin);
BENCHMARK(BM_NameNext10_Hand);
BENCHMARK(BM_NameNext10_Sqlite);

}  // namespace
}  // namespace kin::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  kin::bench::ReportIndexMemory();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
