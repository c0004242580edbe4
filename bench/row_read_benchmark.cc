// The cost of reading one int64 cell per row, by every path a user has (issue
// 16): Row::GetInt64("col") (a name lookup and checks per call), a typed
// kin::Column<int64_t>::Get(row) (checks, no lookup), Database::Each (typed
// iteration), and raw spans (engine/table.h, no checks) as the floor; then
// the same over a HasMany's children (teams -> players, 1000 teams): the
// API tour's Related(team, "players").Get() with Row::GetInt64, the same
// with Column::Get, and Database::Each(team, "players", score). Then one
// int64 cell written per call: db.Set(row, column, v) (and FindOrFail + Set)
// against SQLite's prepared UPDATE ... SET score = ? WHERE id = ?. The
// counter ns_per_row is the time per row read or written.
//
//   bazel run -c opt //bench:row_read_benchmark -- --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//
// KIN_BENCH_ROWS sets the table size (default 1,000,000).

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/table.h"
#include "kin/kin.h"

namespace kin::bench {
namespace {

size_t Rows() {
  const char* env = std::getenv("KIN_BENCH_ROWS");
  return env != nullptr ? static_cast<size_t>(std::atoll(env)) : 1000000;
}

// The players' columns, generated once for kin and SQLite alike.
struct Players {
  std::vector<int64_t> team, gold, score;
  std::vector<double> x, y;
  std::vector<std::string> name;
};

constexpr int64_t kTeams = 1000;

Players MakePlayers(size_t n) {
  Players p;
  p.team.resize(n);
  p.gold.resize(n);
  p.score.resize(n);
  p.x.resize(n);
  p.y.resize(n);
  p.name.resize(n);
  for (size_t i = 0; i < n; ++i) {
    p.team[i] = static_cast<int64_t>(i % kTeams) + 1;
    p.gold[i] = static_cast<int64_t>(i * 7 % 10007);
    p.score[i] = static_cast<int64_t>(i * 31 % 100003);
    p.x[i] = static_cast<double>(i);
    p.y[i] = -static_cast<double>(i);
    p.name[i] = "p" + std::to_string(i);
  }
  return p;
}

// A players table as a game keeps it: several columns, so that a name
// lookup has something to search, and one row handle per row.
struct Fixture {
  Database db;
  std::vector<Row> rows;
  std::vector<Row> teams;
};

// Mutable: Database::Related is not const.
Fixture& Data() {
  static Fixture* const fixture = [] {
    auto* f = new Fixture;
    if (!f->db
             .CreateTable("players", Schema()
                                         .Int64("id", PrimaryKey())
                                         .String("name")
                                         .Int64("team_id")
                                         .Int64("gold", NotNull())
                                         .Double("x")
                                         .Double("y")
                                         .Int64("score", NotNull()))
             .ok()) {
      std::abort();
    }
    Players p = MakePlayers(Rows());
    RowBatch batch;
    batch.String("name", std::move(p.name))
        .Int64("team_id", std::move(p.team))
        .Int64("gold", std::move(p.gold))
        .Double("x", std::move(p.x))
        .Double("y", std::move(p.y))
        .Int64("score", std::move(p.score));
    if (!f->db.InsertBatch("players", std::move(batch)).ok()) std::abort();
    for (const Row& row : *f->db.FindTable("players")) f->rows.push_back(row);
    if (!f->db.CreateTable("teams", Schema().Int64("id", PrimaryKey())).ok()) std::abort();
    std::vector<int64_t> ids(kTeams);
    for (int64_t i = 0; i < kTeams; ++i) ids[i] = i + 1;
    RowBatch team_rows;
    team_rows.Int64("id", std::move(ids));
    if (!f->db.InsertBatch("teams", std::move(team_rows)).ok()) std::abort();
    if (!f->db.HasMany("teams", "players").ok()) std::abort();
    for (const Row& row : *f->db.FindTable("teams")) f->teams.push_back(row);
    return f;
  }();
  return *fixture;
}

void SetRowCounter(benchmark::State& state, size_t rows) {
  state.counters["ns_per_row"] = benchmark::Counter(
      static_cast<double>(rows) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_RowRead_RowGetInt64(benchmark::State& state) {
  const Fixture& f = Data();
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& row : f.rows) sum += *row.GetInt64("score");
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_RowGetInt64)->Unit(benchmark::kMillisecond);

void BM_RowRead_ColumnGet(benchmark::State& state) {
  const Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& row : f.rows) sum += *score.Get(row);
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_ColumnGet)->Unit(benchmark::kMillisecond);

void BM_RowRead_Each(benchmark::State& state) {
  const Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  for (auto _ : state) {
    auto range = *f.db.Each("players", score);
    int64_t sum = 0;
    for (auto [row, s] : range) {
      benchmark::DoNotOptimize(row);
      sum += s;
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_Each)->Unit(benchmark::kMillisecond);

// The floor for Column::Get: the same row handles, read through a span with
// no check at all.
void BM_RowRead_RawSpanByRow(benchmark::State& state) {
  const Fixture& f = Data();
  const Table* t = f.db.FindTable("players");
  const std::span<const int64_t> score = t->Int64Column(*t->FindColumn("score"));
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& row : f.rows) sum += score[row.id().value];
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_RawSpanByRow)->Unit(benchmark::kMillisecond);

// The floor for Each: a dense scan of the span (every row is live here).
void BM_RowRead_RawSpanScan(benchmark::State& state) {
  const Fixture& f = Data();
  const Table* t = f.db.FindTable("players");
  const std::span<const int64_t> score = t->Int64Column(*t->FindColumn("score"));
  for (auto _ : state) {
    int64_t sum = 0;
    for (int64_t v : score) sum += v;
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_RawSpanScan)->Unit(benchmark::kMillisecond);

// --- a HasMany's children (every player is a child of one team) ---

// The API tour's code: the relation's rows, each read by name.
void BM_RowRead_Related_RowGetInt64(benchmark::State& state) {
  Fixture& f = Data();
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& team : f.teams) {
      const absl::StatusOr<ResultSet> rows = f.db.Related(team, "players").Get();
      for (const ResultRow& row : *rows) sum += *row.GetInt64("score");
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_Related_RowGetInt64)->Unit(benchmark::kMillisecond);

void BM_RowRead_Related_ColumnGet(benchmark::State& state) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& team : f.teams) {
      const absl::StatusOr<ResultSet> rows = f.db.Related(team, "players").Get();
      for (const ResultRow& row : *rows) sum += *score.Get(row);
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_Related_ColumnGet)->Unit(benchmark::kMillisecond);

void BM_RowRead_Related_Each(benchmark::State& state) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  for (auto _ : state) {
    int64_t sum = 0;
    for (const Row& team : f.teams) {
      auto range = *f.db.Each(team, "players", score);
      for (auto [row, s] : range) {
        benchmark::DoNotOptimize(row);
        sum += s;
      }
    }
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_Related_Each)->Unit(benchmark::kMillisecond);

// Where Row::GetInt64's time went before: the schema's hash-map lookup by
// name, against Table::FindColumn's linear scan of lengths and prefixes.
void BM_RowRead_SchemaHashLookup(benchmark::State& state) {
  const Fixture& f = Data();
  const Table* t = f.db.FindTable("players");
  for (auto _ : state) {
    uint32_t sum = 0;
    for (size_t i = 0; i < f.rows.size(); ++i) sum += t->schema().Find("score")->value;
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_SchemaHashLookup)->Unit(benchmark::kMillisecond);

void BM_RowRead_FindColumn(benchmark::State& state) {
  const Fixture& f = Data();
  const Table* t = f.db.FindTable("players");
  for (auto _ : state) {
    uint32_t sum = 0;
    for (size_t i = 0; i < f.rows.size(); ++i) sum += t->FindColumn("score")->value;
    benchmark::DoNotOptimize(sum);
  }
  SetRowCounter(state, f.rows.size());
}
BENCHMARK(BM_RowRead_FindColumn)->Unit(benchmark::kMillisecond);

// --- one int64 cell written: db.Set against SQLite's prepared UPDATE ---

// Writes per iteration, to rows visited in a fixed scattered order (a prime
// stride over the slots), the same rows in the same order for both.
constexpr size_t kWrites = 4096;
constexpr size_t kWriteStride = 7919;

size_t WriteSlot(size_t i, size_t rows) { return i * kWriteStride % rows; }

// Runs kWrites writes per iteration: write(slot, value) writes one cell and
// returns whether it succeeded.
template <typename Write>
void RunWrites(benchmark::State& state, size_t rows, const Write& write) {
  int64_t value = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < kWrites; ++i) {
      if (!write(WriteSlot(i, rows), ++value)) {
        state.SkipWithError("write failed");
        return;
      }
    }
  }
  SetRowCounter(state, kWrites);
}

// The README's hot-loop write: a typed handle and a row handle the game
// already holds. Each Set is one atomic Update (checks, undo only inside a
// transaction).
void BM_RowWrite_Set(benchmark::State& state) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  RunWrites(state, f.rows.size(),
            [&](size_t slot, int64_t v) { return f.db.Set(f.rows[slot], score, v).ok(); });
}
BENCHMARK(BM_RowWrite_Set)->Unit(benchmark::kMicrosecond);

// The cost of the commit feed (Database::OnCommit). A listener that counts
// changed cells, as a replication or UI system would walk them: each Set
// outside a transaction is then one Commit with one change; inside one
// transaction (a tick) the 4,096 Sets are one Commit built at its end.
void BM_RowWrite_SetWithFeed(benchmark::State& state) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  int64_t cells = 0;
  const uint64_t listener = f.db.OnCommit([&](const Commit& commit) {
    for (const RowChange& change : commit.changes) cells += change.cells.size();
  });
  RunWrites(state, f.rows.size(),
            [&](size_t slot, int64_t v) { return f.db.Set(f.rows[slot], score, v).ok(); });
  if (!f.db.RemoveCommitListener(listener).ok() || cells == 0) state.SkipWithError("feed");
}
BENCHMARK(BM_RowWrite_SetWithFeed)->Unit(benchmark::kMicrosecond);

// A tick: the 4,096 Sets in one transaction, without and with a listener.
void RunTick(benchmark::State& state, bool feed) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  int64_t cells = 0;
  const uint64_t listener = feed ? f.db.OnCommit([&](const Commit& commit) {
    for (const RowChange& change : commit.changes) cells += change.cells.size();
  })
                                 : 0;
  int64_t value = 0;
  for (auto _ : state) {
    if (!f.db.Begin().ok()) state.SkipWithError("begin");
    for (size_t i = 0; i < kWrites; ++i) {
      if (!f.db.Set(f.rows[WriteSlot(i, f.rows.size())], score, ++value).ok()) {
        state.SkipWithError("write failed");
      }
    }
    if (!f.db.Commit().ok()) state.SkipWithError("commit");
  }
  SetRowCounter(state, kWrites);
  if (feed && (!f.db.RemoveCommitListener(listener).ok() || cells == 0)) {
    state.SkipWithError("feed");
  }
}
void BM_RowWrite_TickSet(benchmark::State& state) { RunTick(state, false); }
void BM_RowWrite_TickSetWithFeed(benchmark::State& state) { RunTick(state, true); }
BENCHMARK(BM_RowWrite_TickSet)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RowWrite_TickSetWithFeed)->Unit(benchmark::kMicrosecond);

// The same by primary key, as SQLite's WHERE id = ? finds the row.
void BM_RowWrite_FindOrFailSet(benchmark::State& state) {
  Fixture& f = Data();
  const Column<int64_t> score = *f.db.Int64Column("players", "score");
  RunWrites(state, f.rows.size(), [&](size_t slot, int64_t v) {
    absl::StatusOr<Row> row = f.db.FindOrFail("players", static_cast<int64_t>(slot) + 1);
    return row.ok() && f.db.Set(*row, score, v).ok();
  });
}
BENCHMARK(BM_RowWrite_FindOrFailSet)->Unit(benchmark::kMicrosecond);

// The same players in SQLite 3 ":memory:" (INTEGER PRIMARY KEY, an index on
// team_id as kin's relation has), loaded in one transaction; the UPDATE is
// prepared once and runs in autocommit mode, each statement atomic as a
// kin Set is.
struct SqliteFixture {
  sqlite3* db = nullptr;
  sqlite3_stmt* update = nullptr;  // UPDATE players SET score = ? WHERE id = ?
};

void CheckSqlite(sqlite3* db, int rc) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    std::fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    std::abort();
  }
}

const SqliteFixture& SqliteData() {
  static const SqliteFixture* const fixture = [] {
    auto* f = new SqliteFixture;
    CheckSqlite(f->db, sqlite3_open(":memory:", &f->db));
    CheckSqlite(f->db, sqlite3_exec(f->db,
                                    "CREATE TABLE players(id INTEGER PRIMARY KEY, name TEXT, "
                                    "team_id INTEGER, gold INTEGER NOT NULL, x REAL, y REAL, "
                                    "score INTEGER NOT NULL);"
                                    "CREATE INDEX players_team ON players(team_id); BEGIN",
                                    nullptr, nullptr, nullptr));
    sqlite3_stmt* insert = nullptr;
    CheckSqlite(f->db, sqlite3_prepare_v2(f->db,
                                          "INSERT INTO players(name, team_id, gold, x, y, score) "
                                          "VALUES (?, ?, ?, ?, ?, ?)",
                                          -1, &insert, nullptr));
    const Players p = MakePlayers(Rows());
    for (size_t i = 0; i < p.score.size(); ++i) {
      sqlite3_bind_text(insert, 1, p.name[i].data(), static_cast<int>(p.name[i].size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert, 2, p.team[i]);
      sqlite3_bind_int64(insert, 3, p.gold[i]);
      sqlite3_bind_double(insert, 4, p.x[i]);
      sqlite3_bind_double(insert, 5, p.y[i]);
      sqlite3_bind_int64(insert, 6, p.score[i]);
      CheckSqlite(f->db, sqlite3_step(insert));
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    CheckSqlite(f->db, sqlite3_exec(f->db, "COMMIT", nullptr, nullptr, nullptr));
    CheckSqlite(f->db, sqlite3_prepare_v2(f->db, "UPDATE players SET score = ? WHERE id = ?", -1,
                                          &f->update, nullptr));
    return f;
  }();
  return *fixture;
}

void BM_RowWrite_SqliteUpdate(benchmark::State& state) {
  const SqliteFixture& f = SqliteData();
  RunWrites(state, Rows(), [&](size_t slot, int64_t v) {
    sqlite3_bind_int64(f.update, 1, v);
    sqlite3_bind_int64(f.update, 2, static_cast<int64_t>(slot) + 1);
    const int rc = sqlite3_step(f.update);
    sqlite3_reset(f.update);
    return rc == SQLITE_DONE && sqlite3_changes(f.db) == 1;
  });
}
BENCHMARK(BM_RowWrite_SqliteUpdate)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
