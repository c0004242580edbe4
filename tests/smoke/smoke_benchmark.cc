// Toolchain smoke benchmark: proves Google Benchmark links and runs.
#include <string>

#include "absl/container/flat_hash_map.h"
#include "benchmark/benchmark.h"

namespace {

void BM_FlatHashMapInsert(benchmark::State& state) {
  for (auto _ : state) {
    absl::flat_hash_map<int, int> m;
    for (int i = 0; i < state.range(0); ++i) m[i] = i;
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_FlatHashMapInsert)->Arg(1 << 10);

}  // namespace
