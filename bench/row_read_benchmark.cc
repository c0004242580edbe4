// The cost of reading one int64 cell per row, by every path a user has (issue
// 16): Row::GetInt64("col") (a name lookup and checks per call), a typed
// kin::Column<int64_t>::Get(row) (checks, no lookup), Database::Each (typed
// iteration), and raw spans (engine/table.h, no checks) as the floor; then
// the same over a HasMany's children (teams -> players, 1000 teams): the
// API tour's Related(team, "players").Get() with Row::GetInt64, the same
// with Column::Get, and Database::Each(team, "players", score). The counter
// ns_per_row is the time per row read.
//
//   bazel run -c opt //bench:row_read_benchmark -- --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//
// KIN_BENCH_ROWS sets the table size (default 1,000,000).

#include <cstdint>
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

// A players table as a game keeps it: several columns, so that a name
// lookup has something to search, and one row handle per row.
struct Fixture {
  Database db;
  std::vector<Row> rows;
  std::vector<Row> teams;
};

constexpr int64_t kTeams = 1000;

// Mutable: Database::Related is not const.
Fixture& Data() {
  static Fixture* const fixture = [] {
    auto* f = new Fixture;
    const size_t n = Rows();
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
    std::vector<int64_t> team(n), gold(n), score(n);
    std::vector<double> x(n), y(n);
    std::vector<std::string> name(n);
    for (size_t i = 0; i < n; ++i) {
      team[i] = static_cast<int64_t>(i % kTeams) + 1;
      gold[i] = static_cast<int64_t>(i * 7 % 10007);
      score[i] = static_cast<int64_t>(i * 31 % 100003);
      x[i] = static_cast<double>(i);
      y[i] = -static_cast<double>(i);
      name[i] = "p" + std::to_string(i);
    }
    RowBatch batch;
    batch.String("name", std::move(name))
        .Int64("team_id", std::move(team))
        .Int64("gold", std::move(gold))
        .Double("x", std::move(x))
        .Double("y", std::move(y))
        .Int64("score", std::move(score));
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

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
