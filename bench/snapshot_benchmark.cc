// Snapshot save/load, and the question behind the format: should indexes
// be rebuilt from the columns on load, or stored in the file?
//
//   bazel run --config=opt //bench:snapshot_benchmark
//
// Table: N rows of (id int64 primary key, owner int64 secondary index with
// N/1000 keys, name string, score double). BM_Snapshot_BuildIndexes is what
// loading does (both indexes from the column data in bulk, as
// Table::Restore does); BM_Snapshot_RebuildIndexes the same one row at a
// time; BM_Snapshot_LoadStoredIndexes is the best a stored index could do:
// keys and row ids as flat arrays read with one copy each, then inserted.
// The inserts cannot be skipped either way: absl's hash tables are seeded
// per process, so a table's memory image cannot be saved and mapped back.

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "cereal/archives/portable_binary.hpp"
#include "engine/engine.h"
#include "engine/hash_index.h"
#include "persist/snapshot.h"
#include "relations/relation_catalog.h"

namespace kin {
namespace {

struct Fixture {
  Engine engine;
  RelationCatalog relations;
  std::string snapshot;
};

// One fixture per size, built outside the timed loops. Seeded: every run
// sees the same data.
const Fixture& GetFixture(int64_t rows) {
  static std::map<int64_t, std::unique_ptr<Fixture>>* cache =
      new std::map<int64_t, std::unique_ptr<Fixture>>();
  auto it = cache->find(rows);
  if (it != cache->end()) return *it->second;
  auto f = std::make_unique<Fixture>();
  if (!f->engine
           .CreateTable("items", Schema()
                                     .Int64("id", PrimaryKey())
                                     .Int64("owner", Indexed())
                                     .String("name")
                                     .Double("score"))
           .ok()) {
    std::abort();
  }
  std::mt19937_64 rng(42);
  std::vector<Attrs> batch;
  int64_t owners = std::max<int64_t>(1, rows / 1000);
  for (int64_t i = 0; i < rows; ++i) {
    batch.push_back({{"owner", static_cast<int64_t>(rng() % owners)},
                     {"name", absl::StrCat("item-", i)},
                     {"score", static_cast<double>(rng() % 100000) / 7.0}});
  }
  if (!f->engine.InsertMany("items", batch).ok()) std::abort();
  f->snapshot = *EncodeSnapshot(f->engine, f->relations);
  auto [pos, inserted] = cache->emplace(rows, std::move(f));
  return *pos->second;
}

void BM_Snapshot_Encode(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<std::string> bytes = EncodeSnapshot(f.engine, f.relations);
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(f.snapshot.size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_Encode)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// The whole load: envelope and checksum, decode, restore, index rebuild.
void BM_Snapshot_Decode(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<SnapshotContents> loaded = DecodeSnapshot(f.snapshot);
    if (!loaded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(loaded);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_Decode)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// Rebuild: the primary-key and secondary indexes from the columns, the way
// Table::Restore does it: HashIndex::Build over the live rows, index by
// index.
void BM_Snapshot_BuildIndexes(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const Table* t = f.engine.FindTable("items");
  std::span<const int64_t> ids = t->Int64Column(ColumnId(0));
  std::span<const int64_t> owners = t->Int64Column(ColumnId(1));
  std::vector<uint32_t> rows;
  for (uint32_t s = 0; s < ids.size(); ++s) {
    if (t->live().Get(s)) rows.push_back(s);
  }
  for (auto _ : state) {
    HashIndex pk(Type::kInt64, /*unique=*/true);
    HashIndex owner(Type::kInt64, /*unique=*/false);
    if (pk.Build(ids, rows).has_value() || owner.Build(owners, rows).has_value()) {
      state.SkipWithError("duplicate key");
    }
    benchmark::DoNotOptimize(pk);
    benchmark::DoNotOptimize(owner);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_BuildIndexes)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// The same indexes built one Add per live row, as Restore did before
// HashIndex::Build (only the unique index reserved).
void BM_Snapshot_RebuildIndexes(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const Table* t = f.engine.FindTable("items");
  std::span<const int64_t> ids = t->Int64Column(ColumnId(0));
  std::span<const int64_t> owners = t->Int64Column(ColumnId(1));
  for (auto _ : state) {
    HashIndex pk(Type::kInt64, /*unique=*/true);
    HashIndex owner(Type::kInt64, /*unique=*/false);
    pk.Reserve(ids.size());
    for (uint32_t s = 0; s < ids.size(); ++s) {
      if (t->live().Get(s)) pk.Add(Value(ids[s]), RowId(s));
    }
    for (uint32_t s = 0; s < owners.size(); ++s) {
      if (t->live().Get(s)) owner.Add(Value(owners[s]), RowId(s));
    }
    benchmark::DoNotOptimize(pk);
    benchmark::DoNotOptimize(owner);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_RebuildIndexes)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// The real thing: Engine::RestoreTable on the decoded columns (validation,
// free list, both indexes). The copy of the image is not timed.
void BM_Snapshot_RestoreTable(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const Table* t = f.engine.FindTable("items");
  for (auto _ : state) {
    state.PauseTiming();
    TableImage image;
    for (uint32_t i = 0; i < t->num_columns(); ++i) {
      image.columns.push_back(t->column_data(ColumnId(i)));
      const Bitmap* validity = t->validity(ColumnId(i));
      image.validity.push_back(validity != nullptr ? *validity : Bitmap());
    }
    image.live = t->live();
    image.generations.assign(t->generations().begin(), t->generations().end());
    image.next_auto_increment = t->next_auto_increment();
    Engine engine;
    state.ResumeTiming();
    absl::Status status = engine.RestoreTable("items", t->schema(), std::move(image));
    if (!status.ok()) state.SkipWithError("restore failed");
    state.PauseTiming();
    {
      Engine discard = std::move(engine);  // destruction is not timed
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_RestoreTable)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// Stored: both indexes serialized as flat arrays (unique: keys[], rows[];
// secondary: keys[], list sizes[], rows[] key by key), then loaded with
// cereal and inserted. The extra file bytes are reported as a counter.
void BM_Snapshot_LoadStoredIndexes(benchmark::State& state) {
  const Fixture& f = GetFixture(state.range(0));
  const Table* t = f.engine.FindTable("items");
  std::vector<int64_t> pk_keys, owner_keys;
  std::vector<uint32_t> pk_rows, owner_sizes, owner_rows;
  t->index(ColumnId(0))->ForEachSorted([&](const Value& key, std::span<const RowId> rows) {
    pk_keys.push_back(key.AsInt64());
    pk_rows.push_back(rows[0].value);
  });
  t->index(ColumnId(1))->ForEachSorted([&](const Value& key, std::span<const RowId> rows) {
    owner_keys.push_back(key.AsInt64());
    owner_sizes.push_back(static_cast<uint32_t>(rows.size()));
    for (RowId r : rows) owner_rows.push_back(r.value);
  });
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out);
    auto put = [&](const auto& v) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      ar(static_cast<uint64_t>(v.size()));
      ar(cereal::binary_data(v.data(), v.size() * sizeof(T)));
    };
    put(pk_keys);
    put(pk_rows);
    put(owner_keys);
    put(owner_sizes);
    put(owner_rows);
  }
  const std::string stored = out.str();
  for (auto _ : state) {
    std::istringstream in(stored);
    cereal::PortableBinaryInputArchive ar(in);
    auto get = [&](auto& v) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      uint64_t n = 0;
      ar(n);
      v.resize(n);
      ar(cereal::binary_data(v.data(), n * sizeof(T)));
    };
    std::vector<int64_t> keys, okeys;
    std::vector<uint32_t> rows, sizes, orows;
    get(keys);
    get(rows);
    get(okeys);
    get(sizes);
    get(orows);
    HashIndex pk(Type::kInt64, /*unique=*/true);
    HashIndex owner(Type::kInt64, /*unique=*/false);
    pk.Reserve(keys.size());
    owner.Reserve(okeys.size());
    for (size_t i = 0; i < keys.size(); ++i) pk.Add(Value(keys[i]), RowId(rows[i]));
    size_t next = 0;
    for (size_t k = 0; k < okeys.size(); ++k) {
      Value key(okeys[k]);
      for (uint32_t j = 0; j < sizes[k]; ++j) owner.Add(key, RowId(orows[next++]));
    }
    benchmark::DoNotOptimize(pk);
    benchmark::DoNotOptimize(owner);
  }
  state.counters["extra_bytes"] = static_cast<double>(stored.size());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Snapshot_LoadStoredIndexes)->Arg(1 << 17)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kin

BENCHMARK_MAIN();
