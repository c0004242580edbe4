// The relations benchmark's Top5 (every user's 5 newest posts:
// Preload("posts", GroupOrderBy(created_at, desc).GroupLimit(5))) on kin
// alone, with and without a composite (user_id, created_at) index, over the
// relations data set at 1M posts and 100k, 10k or 1k users (10, 100 or 1000
// posts a user). With the index the planner walks it per user and stops
// after 5 rows when that is cheaper than sorting the user's posts (Explain
// is printed as the benchmark's label).
//
//   bazel run -c opt //bench:group_limit_benchmark --
//       --benchmark_repetitions=3 --benchmark_report_aggregates_only=true

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "bench/dataset.h"
#include "benchmark/benchmark.h"
#include "kin/database.h"
#include "kin/query.h"
#include "kin/row_batch.h"

namespace kin::bench {
namespace {

Database Load(int64_t users, bool composite) {
  DatasetOptions options;
  options.users = users;
  const Dataset data = MakeDataset(options);
  Database db;
  auto check = [](const absl::Status& s) {
    if (!s.ok()) std::abort();
  };
  check(db.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  check(db.CreateTable("posts", Schema()
                                    .Int64("id", PrimaryKey())
                                    .Int64("user_id", NotNull())
                                    .Int64("created_at", NotNull())));
  check(db.HasMany("users", "posts"));
  RowBatch u;
  u.Int64("id", data.user_id);
  check(db.InsertBatch("users", std::move(u)).status());
  RowBatch p;
  p.Int64("id", data.post_id)
      .Int64("user_id", data.post_user_id)
      .Int64("created_at", data.post_created_at);
  check(db.InsertBatch("posts", std::move(p)).status());
  if (composite) check(db.CreateIndex("posts", {"user_id", "created_at"}, IndexKind::kOrdered));
  return db;
}

Query Top5(Database& db) {
  return db.Query("users").Preload(
      "posts", [](Query& q) { q.GroupOrderBy("created_at", kDesc).GroupLimit(5); });
}

// Arguments: users, composite index (0 / 1).
void BM_Top5Composite(benchmark::State& state) {
  Database db = Load(state.range(0), state.range(1) != 0);
  const std::string plan = *Top5(db).Explain();
  state.SetLabel(plan.substr(plan.find("| preload")));
  for (auto _ : state) {
    absl::StatusOr<ResultSet> rows = Top5(db).Get();
    if (!rows.ok()) std::abort();
    benchmark::DoNotOptimize(rows->size());
  }
}
BENCHMARK(BM_Top5Composite)
    ->ArgsProduct({{100'000, 10'000, 1'000}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kin::bench

BENCHMARK_MAIN();
