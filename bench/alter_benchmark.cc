// Schema changes on a 1M-row table: kin's AddColumn with a default (one
// column filled, no other copied) and RenameColumn (O(1)), beside SQLite's
// ALTER TABLE on the same rows (in memory).
//
//   bazel run --config=opt //bench:alter_benchmark
//
// SQLite's ADD COLUMN with a constant default rewrites no row either: old
// rows lack the column in their record and read the default from the schema
// when queried. kin stores the value in every row, so its reads stay a span
// read; the cost moves to the ALTER (a 1M-cell fill).

#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "kin/kin.h"

namespace kin::bench {
namespace {

constexpr int64_t kRows = 1'000'000;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "alter_benchmark: %s failed\n", what);
    std::abort();
  }
}

void Check(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "alter_benchmark: %s\n", std::string(status.message()).c_str());
    std::abort();
  }
}

// players(id, guild, score, name), kRows rows, the same in both engines.
Database& KinWorld() {
  static Database* db = [] {
    auto* d = new Database();
    Check(d->CreateTable("players", Schema()
                                        .Int64("id", PrimaryKey())
                                        .Int64("guild", NotNull())
                                        .Int64("score", NotNull())
                                        .String("name", NotNull())));
    std::vector<int64_t> ids(kRows), guilds(kRows), scores(kRows);
    std::vector<std::string> names(kRows);
    for (int64_t i = 0; i < kRows; ++i) {
      ids[i] = i + 1;
      guilds[i] = i % 1000;
      scores[i] = (i * 7919) % 100000;
      names[i] = absl::StrCat("player", i);
    }
    RowBatch batch;
    batch.Int64("id", std::move(ids))
        .Int64("guild", std::move(guilds))
        .Int64("score", std::move(scores))
        .String("name", std::move(names));
    Check(d->InsertBatch("players", std::move(batch)).status());
    return d;
  }();
  return *db;
}

sqlite3* SqliteWorld() {
  static sqlite3* db = [] {
    sqlite3* d = nullptr;
    Check(sqlite3_open(":memory:", &d) == SQLITE_OK, "sqlite3_open");
    Check(sqlite3_exec(d,
                       "CREATE TABLE players (id INTEGER PRIMARY KEY, guild INTEGER NOT NULL, "
                       "score INTEGER NOT NULL, name TEXT NOT NULL); BEGIN",
                       nullptr, nullptr, nullptr) == SQLITE_OK,
          "create");
    sqlite3_stmt* insert = nullptr;
    Check(sqlite3_prepare_v2(d, "INSERT INTO players VALUES (?, ?, ?, ?)", -1, &insert, nullptr) ==
              SQLITE_OK,
          "prepare");
    for (int64_t i = 0; i < kRows; ++i) {
      const std::string name = absl::StrCat("player", i);
      sqlite3_bind_int64(insert, 1, i + 1);
      sqlite3_bind_int64(insert, 2, i % 1000);
      sqlite3_bind_int64(insert, 3, (i * 7919) % 100000);
      sqlite3_bind_text(insert, 4, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
      Check(sqlite3_step(insert) == SQLITE_DONE, "insert");
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    Check(sqlite3_exec(d, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK, "commit");
    return d;
  }();
  return db;
}

void Exec(sqlite3* db, const std::string& sql) {
  Check(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK, sql.c_str());
}

// Adds a NOT NULL int64 column with a default (every row then holds it),
// then drops it outside the timed region so the table stays the same.
void BM_Alter_AddColumnDefault_Kin(benchmark::State& state) {
  Database& db = KinWorld();
  for (auto _ : state) {
    Check(db.AddColumn(
        "players", {.name = "level", .type = Type::kInt64, .nullable = false, .default_value = 1}));
    state.PauseTiming();
    Check(db.DropColumn("players", "level"));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_Alter_AddColumnDefault_Kin)->Unit(benchmark::kMillisecond)->Iterations(20);

void BM_Alter_AddColumnDefault_Sqlite(benchmark::State& state) {
  sqlite3* db = SqliteWorld();
  for (auto _ : state) {
    Exec(db, "ALTER TABLE players ADD COLUMN level INTEGER NOT NULL DEFAULT 1");
    state.PauseTiming();
    Exec(db, "ALTER TABLE players DROP COLUMN level");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_Alter_AddColumnDefault_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(20);

void BM_Alter_RenameColumn_Kin(benchmark::State& state) {
  Database& db = KinWorld();
  bool renamed = false;
  for (auto _ : state) {
    Check(db.RenameColumn("players", renamed ? "rating" : "score", renamed ? "score" : "rating"));
    renamed = !renamed;
  }
  if (renamed) Check(db.RenameColumn("players", "rating", "score"));
}
BENCHMARK(BM_Alter_RenameColumn_Kin)->Unit(benchmark::kMicrosecond);

void BM_Alter_RenameColumn_Sqlite(benchmark::State& state) {
  sqlite3* db = SqliteWorld();
  bool renamed = false;
  for (auto _ : state) {
    Exec(db, renamed ? "ALTER TABLE players RENAME COLUMN rating TO score"
                     : "ALTER TABLE players RENAME COLUMN score TO rating");
    renamed = !renamed;
  }
  if (renamed) Exec(db, "ALTER TABLE players RENAME COLUMN rating TO score");
}
BENCHMARK(BM_Alter_RenameColumn_Sqlite)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
