// What durability costs: kin's journal (Database::Open, kin/data_dir.h)
// against SQLite on a file in WAL mode, on the same disk, for the two shapes
// a game commits:
//   DurableSet:  one cell written per commit (a write outside a transaction
//                in kin, an autocommit UPDATE in SQLite);
//   DurableTick: 1,000 cells written in one transaction (a tick).
// The argument is the durability: 0 every commit synced (kin kEveryCommit,
// SQLite synchronous=FULL), 1 grouped (kin kGrouped at 100 ms, SQLite
// synchronous=NORMAL: WAL frames synced at WAL checkpoints), 2 none (kin
// kNone, SQLite synchronous=OFF); SmallTxn_Kin/3 is 0 without the
// journal's preallocation. Checkpoint_Kin/<players>: one Checkpoint() (what
// the commit that crosses the automatic threshold pays). 100,000
// players(id, score); the files go in $KIN_BENCH_DIR or /tmp.

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "kin/kin.h"

namespace kin::bench {
namespace {

constexpr int64_t kPlayers = 100'000;
constexpr int kTickWrites = 1'000;

std::string FreshDir(const char* name) {
  const char* base = std::getenv("KIN_BENCH_DIR");
  const std::string dir =
      absl::StrCat(base != nullptr ? base : "/tmp", "/kin-journal-bench-", ::getpid(), "-", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// 3 (SmallTxn only): every commit synced, the journal file not
// preallocated (it grows with each record, so each sync also flushes the
// new size: kin's behaviour before OpenOptions::journal_preallocate_bytes).
SyncPolicy Policy(int64_t arg) {
  return arg == 0 || arg == 3 ? SyncPolicy::kEveryCommit
         : arg == 1           ? SyncPolicy::kGrouped
                              : SyncPolicy::kNone;
}

// Creates players(id, score) holding ids 1..n with score 0, checkpointed.
void SeedPlayers(Database& db, int64_t n) {
  if (!db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")).ok()) {
    std::abort();
  }
  std::vector<int64_t> ids(n), scores(n, 0);
  for (int64_t i = 0; i < n; ++i) ids[i] = i + 1;
  RowBatch batch;
  batch.Int64("id", std::move(ids)).Int64("score", std::move(scores));
  if (!db.InsertBatch("players", std::move(batch)).ok() || !db.Checkpoint().ok()) std::abort();
}

// Opens a fresh directory holding the players, checkpointed.
struct KinWorld {
  explicit KinWorld(int64_t arg) : dir(FreshDir("kin")) {
    OpenOptions options;
    options.sync = Policy(arg);
    if (arg == 3) options.journal_preallocate_bytes = 0;
    db = std::move(Database::Open(dir, options).value());
    SeedPlayers(db, kPlayers);
    score = db.Int64Column("players", "score").value();
    for (int64_t i = 0; i < kPlayers; ++i) rows.push_back(db.FindOrFail("players", i + 1).value());
  }
  ~KinWorld() {
    db = Database();
    std::filesystem::remove_all(dir);
  }
  std::string dir;
  Database db;
  Column<int64_t> score;
  std::vector<Row> rows;
};

size_t Slot(uint64_t i) { return (i * 2654435761u) % kPlayers; }

void BM_DurableSet_Kin(benchmark::State& state) {
  KinWorld w(state.range(0));
  uint64_t i = 0;
  for (auto _ : state) {
    if (!w.db.Set(w.rows[Slot(i)], w.score, static_cast<int64_t>(i)).ok()) {
      state.SkipWithError("set");
    }
    ++i;
  }
}

void BM_DurableTick_Kin(benchmark::State& state) {
  KinWorld w(state.range(0));
  uint64_t i = 0;
  for (auto _ : state) {
    absl::Status s = w.db.Atomically([&]() -> absl::Status {
      for (int k = 0; k < kTickWrites; ++k, ++i) {
        KIN_RETURN_IF_ERROR(w.db.Set(w.rows[Slot(i)], w.score, static_cast<int64_t>(i)));
      }
      return absl::OkStatus();
    });
    if (!s.ok()) state.SkipWithError("tick");
  }
}

struct SqliteWorld {
  explicit SqliteWorld(int64_t arg) : dir(FreshDir("sqlite")) {
    Check(sqlite3_open((dir + "/world.db").c_str(), &db));
    const char* sync = arg == 0 ? "FULL" : arg == 1 ? "NORMAL" : "OFF";
    Check(sqlite3_exec(db,
                       absl::StrCat("PRAGMA journal_mode=WAL; PRAGMA synchronous=", sync,
                                    "; CREATE TABLE players(id INTEGER PRIMARY KEY, score INTEGER "
                                    "NOT NULL); BEGIN")
                           .c_str(),
                       nullptr, nullptr, nullptr));
    sqlite3_stmt* insert = nullptr;
    Check(sqlite3_prepare_v2(db, "INSERT INTO players(id, score) VALUES(?, 0)", -1, &insert,
                             nullptr));
    for (int64_t i = 0; i < kPlayers; ++i) {
      sqlite3_bind_int64(insert, 1, i + 1);
      sqlite3_step(insert);
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr));
    Check(
        sqlite3_prepare_v2(db, "UPDATE players SET score = ? WHERE id = ?", -1, &update, nullptr));
  }
  ~SqliteWorld() {
    sqlite3_finalize(update);
    sqlite3_close(db);
    std::filesystem::remove_all(dir);
  }
  void Check(int rc) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE) {
      std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
      std::abort();
    }
  }
  bool Set(uint64_t i) {
    sqlite3_bind_int64(update, 1, static_cast<int64_t>(i));
    sqlite3_bind_int64(update, 2, static_cast<int64_t>(Slot(i)) + 1);
    const int rc = sqlite3_step(update);
    sqlite3_reset(update);
    return rc == SQLITE_DONE;
  }
  std::string dir;
  sqlite3* db = nullptr;
  sqlite3_stmt* update = nullptr;
};

void BM_DurableSet_Sqlite(benchmark::State& state) {
  SqliteWorld w(state.range(0));
  uint64_t i = 0;
  for (auto _ : state) {
    if (!w.Set(i++)) state.SkipWithError("update");
  }
}

void BM_DurableTick_Sqlite(benchmark::State& state) {
  SqliteWorld w(state.range(0));
  uint64_t i = 0;
  for (auto _ : state) {
    w.Check(sqlite3_exec(w.db, "BEGIN", nullptr, nullptr, nullptr));
    for (int k = 0; k < kTickWrites; ++k) {
      if (!w.Set(i++)) state.SkipWithError("update");
    }
    w.Check(sqlite3_exec(w.db, "COMMIT", nullptr, nullptr, nullptr));
  }
}

// The small transaction: one insert plus one update, committed.
void BM_SmallTxn_Kin(benchmark::State& state) {
  KinWorld w(state.range(0));
  if (!w.db.CreateTable("events", Schema().Int64("id", PrimaryKey()).Int64("player")).ok()) {
    std::abort();
  }
  uint64_t i = 0;
  for (auto _ : state) {
    absl::Status s = w.db.Atomically([&]() -> absl::Status {
      KIN_RETURN_IF_ERROR(
          w.db.Insert("events", {{"player", static_cast<int64_t>(Slot(i)) + 1}}).status());
      return w.db.Set(w.rows[Slot(i)], w.score, static_cast<int64_t>(i));
    });
    if (!s.ok()) state.SkipWithError("txn");
    ++i;
  }
  state.counters["txn_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SmallTxn_Sqlite(benchmark::State& state) {
  SqliteWorld w(state.range(0));
  w.Check(sqlite3_exec(w.db, "CREATE TABLE events(id INTEGER PRIMARY KEY, player INTEGER)", nullptr,
                       nullptr, nullptr));
  sqlite3_stmt* insert = nullptr;
  w.Check(sqlite3_prepare_v2(w.db, "INSERT INTO events(player) VALUES(?)", -1, &insert, nullptr));
  uint64_t i = 0;
  for (auto _ : state) {
    w.Check(sqlite3_exec(w.db, "BEGIN", nullptr, nullptr, nullptr));
    sqlite3_bind_int64(insert, 1, static_cast<int64_t>(Slot(i)) + 1);
    if (sqlite3_step(insert) != SQLITE_DONE) state.SkipWithError("insert");
    sqlite3_reset(insert);
    if (!w.Set(i++)) state.SkipWithError("update");
    w.Check(sqlite3_exec(w.db, "COMMIT", nullptr, nullptr, nullptr));
  }
  sqlite3_finalize(insert);
  state.counters["txn_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// The pause of a checkpoint: the world's snapshot written and synced, a new
// journal, the old files removed (every commit synced, as the default).
void BM_Checkpoint_Kin(benchmark::State& state) {
  const std::string dir = FreshDir("checkpoint");
  Database db = std::move(Database::Open(dir).value());
  SeedPlayers(db, state.range(0));
  for (auto _ : state) {
    if (!db.Checkpoint().ok()) state.SkipWithError("checkpoint");
  }
  state.counters["snapshot_bytes"] = static_cast<double>(db.Journal()->snapshot_bytes);
  db = Database();
  std::filesystem::remove_all(dir);
}

// Recovery: Open of a directory holding a snapshot of 1M players and
// journaled small transactions after it, against loading a snapshot of the
// same final state. Recovery_Kin: the 100,000 transactions
// (automatic checkpoints off, so that there are exactly that many);
// RecoveryBounded_Kin/<percent>: the longest journal that automatic
// checkpoints at auto_checkpoint_percent = <percent> leave (transactions
// until the next one would write a checkpoint), the worst Open a user of
// that setting meets (100: the default; others with a 1 MiB minimum).
constexpr int64_t kRecoveryPlayers = 1'000'000;
constexpr int kRecoveryTxns = 100'000;

struct RecoveryDir {
  std::string dir;
  uint64_t commits = 0;  // journaled after the snapshot
};

// percent 0: the shape, automatic checkpoints off.
RecoveryDir MakeRecoveryDir(int percent) {
  const bool bounded = percent > 0;
  RecoveryDir out{FreshDir(absl::StrCat("recovery-", percent).c_str())};
  OpenOptions options;
  options.sync = SyncPolicy::kNone;  // building it, not measuring it
  options.auto_checkpoint_percent = percent;
  // Other than the default: the percent decides, not the 16 MiB minimum.
  if (percent != 100) options.auto_checkpoint_min_bytes = 1 << 20;
  Database db = std::move(Database::Open(out.dir, options).value());
  if (!db.CreateTable("events", Schema().Int64("id", PrimaryKey()).Int64("player")).ok()) {
    std::abort();
  }
  SeedPlayers(db, kRecoveryPlayers);
  const Column<int64_t> score = db.Int64Column("players", "score").value();
  const JournalInfo start = db.Journal().value();
  const uint64_t threshold = std::max(start.snapshot_bytes * options.auto_checkpoint_percent / 100,
                                      options.auto_checkpoint_min_bytes);
  uint64_t record = 0;
  for (int i = 0;; ++i) {
    if (!bounded && i == kRecoveryTxns) break;
    const JournalInfo before = db.Journal().value();
    // Stop where one more record would reach the threshold.
    if (bounded && before.journal_bytes + 2 * record >= threshold) break;
    const int64_t id = static_cast<int64_t>(Slot(i) * 10 % kRecoveryPlayers) + 1;
    absl::Status s = db.Atomically([&]() -> absl::Status {
      KIN_RETURN_IF_ERROR(db.Insert("events", {{"player", id}}).status());
      KIN_ASSIGN_OR_RETURN(Row p, db.FindOrFail("players", id));
      return db.Set(p, score, i);
    });
    if (!s.ok()) std::abort();
    const JournalInfo after = db.Journal().value();
    if (after.checkpoint != start.checkpoint) std::abort();  // the bound was misjudged
    record = std::max(record, after.journal_bytes - before.journal_bytes);
    ++out.commits;
  }
  if (!db.Sync().ok() || !SaveSnapshot(db, out.dir + "-final.kin").ok()) std::abort();
  return out;
}

const RecoveryDir& TheRecoveryDir(int percent) {
  static auto* const made = new std::map<int, RecoveryDir>;
  auto it = made->find(percent);
  if (it == made->end()) it = made->emplace(percent, MakeRecoveryDir(percent)).first;
  return it->second;
}

void RunRecovery(benchmark::State& state, int percent) {
  const RecoveryDir& dir = TheRecoveryDir(percent);
  for (auto _ : state) {
    // Open writes a new empty segment each time; it is removed below so
    // every iteration replays the same journal.
    absl::StatusOr<Database> db = Database::Open(dir.dir);
    if (!db.ok() || db->recovery()->commits < dir.commits) state.SkipWithError("open");
    state.PauseTiming();
    // Segments are numbered from 0, so the new one's number is the count.
    const uint64_t checkpoint = db->recovery()->checkpoint;
    const uint64_t segment = db->recovery()->segments;
    *db = Database();
    std::filesystem::remove(
        absl::StrFormat("%s/journal-%08d-%06d.log", dir.dir, checkpoint, segment));
    state.ResumeTiming();
  }
  state.counters["commits"] = static_cast<double>(dir.commits);
}

void RunSnapshotLoad(benchmark::State& state, int percent) {
  const std::string path = TheRecoveryDir(percent).dir + "-final.kin";
  for (auto _ : state) {
    absl::StatusOr<Database> db = LoadSnapshot(path);
    if (!db.ok()) state.SkipWithError("load");
  }
}

void BM_Recovery_Kin(benchmark::State& state) { RunRecovery(state, 0); }
void BM_Recovery_SnapshotLoad(benchmark::State& state) { RunSnapshotLoad(state, 0); }
void BM_RecoveryBounded_Kin(benchmark::State& state) {
  RunRecovery(state, static_cast<int>(state.range(0)));
}
void BM_RecoveryBounded_SnapshotLoad(benchmark::State& state) {
  RunSnapshotLoad(state, static_cast<int>(state.range(0)));
}

// Real time: a sync is waiting, not CPU.
BENCHMARK(BM_DurableSet_Kin)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DurableSet_Sqlite)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DurableTick_Kin)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DurableTick_Sqlite)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SmallTxn_Kin)->DenseRange(0, 3)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SmallTxn_Sqlite)->DenseRange(0, 2)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Checkpoint_Kin)
    ->Arg(kPlayers)
    ->Arg(1'000'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Recovery_Kin)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Recovery_SnapshotLoad)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RecoveryBounded_Kin)->Arg(100)->Arg(20)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RecoveryBounded_SnapshotLoad)
    ->Arg(100)
    ->Arg(20)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
