// The aggregate stage: a recorded aggregate (Count, Sum, Avg, Min, Max,
// CountDistinct) resolved against a table, and the one Accumulator that
// computes it, both for a query's Aggregate() (one group: every matching
// row) and for WithAggregate's scan of a related table (one group per
// parent key). Sharing it keeps the two answers the same by construction:
// NULL handling, exact int64 sums, NaN ordering for Min / Max.

#ifndef KIN_QUERY_INTERNAL_AGGREGATE_H_
#define KIN_QUERY_INTERNAL_AGGREGATE_H_

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"
#include "query/internal/columns.h"

namespace kin {
namespace internal {

// A resolved aggregate.
struct CompiledAggregate {
  AggregateFunction function = AggregateFunction::kCount;
  bool star = true;  // Count("*") or no recorded aggregate: count rows
  ColumnId column;
  Type type = Type::kInt64;
  const void* data = nullptr;
  const uint64_t* validity = nullptr;

  // Resolves `spec` against `table` into `out`. InvalidArgument for an
  // unknown column, Sum / Avg of a string or bool column, Min / Max / Sum /
  // Avg of "*".
  static absl::Status Compile(const Table& table, const AggregateSpec& spec,
                              CompiledAggregate* out);
  // Re-reads the storage pointers from `table` (a prepared query).
  void Refresh(const Table& table);

  // Whether every result is an int64 or NULL: counts, and Sum / Min / Max
  // of an int64 column.
  bool yields_int64() const {
    if (star || function == AggregateFunction::kCount ||
        function == AggregateFunction::kCountDistinct) {
      return true;
    }
    return type == Type::kInt64 && function != AggregateFunction::kAvg;
  }
};

// Whether `candidate` beats `best` for Min (smaller) or Max (larger). Doubles
// compare in OrderBy's total order (NaN after every number), so Min and Max
// agree with OrderBy(..).First() whatever the rows' order: Max is NaN when
// any value is, Min is NaN only when all are.
template <typename T>
inline bool BetterForAggregate(AggregateFunction f, const T& candidate, const T& best) {
  return f == AggregateFunction::kMin ? candidate < best : best < candidate;
}
inline bool BetterForAggregate(AggregateFunction f, double candidate, double best) {
  const bool cn = std::isnan(candidate);
  const bool bn = std::isnan(best);
  if (cn || bn) return f == AggregateFunction::kMin ? bn && !cn : cn && !bn;
  return f == AggregateFunction::kMin ? candidate < best : best < candidate;
}

// One aggregate accumulated over `groups` groups of rows. The per-row work
// is a typed loop chosen once per Accumulate, and the state of one group
// lives inline: a single-group accumulator allocates nothing (except
// CountDistinct's set).
class Accumulator {
 public:
  // REQUIRES: `table` and `aggregate` outlive this. `track_presence`: int64
  // Min / Max record which groups received a row; without it a row costs
  // one store less, and IntResult asks the caller when in doubt.
  Accumulator(const Table& table, const CompiledAggregate& aggregate, size_t groups,
              bool track_presence = true);

  // Runs `feed(add)` once; it calls add(size_t group, uint32_t slot) for
  // every row of every group. Rows whose aggregated cell is NULL are
  // skipped here. May be called again to add more rows.
  template <typename Feed>
  void Accumulate(Feed&& feed);

  // Group g's value: NULL for Sum / Avg / Min / Max of no (non-NULL)
  // values; OutOfRange when an int64 Sum overflows (the sum is exact in 128
  // bits, so whether it does never depends on the order rows came in).
  // REQUIRES: presence tracked, for an int64 Min / Max.
  absl::StatusOr<Value> Result(size_t g) const;
  // The same without building a Value. REQUIRES: yields_int64(). nullopt
  // stands for NULL. Untracked int64 Min / Max: a group still at the
  // identity is non-empty when `nonempty()` says so.
  template <typename NonEmpty>
  absl::StatusOr<std::optional<int64_t>> IntResult(size_t g, NonEmpty&& nonempty) const;
  // The value of a group no row was added to: 0 for counts, else NULL.
  Value EmptyResult() const {
    return mode_ == Mode::kCount || mode_ == Mode::kDistinct ? Value(int64_t{0}) : Value();
  }

 private:
  enum class Mode : uint8_t { kCount, kSumInt, kSumDouble, kDistinct, kMinMaxInt, kMinMaxSlot };

  template <typename Run>
  void AccumulateDistinct(Run&& run);
  template <typename Run>
  void AccumulateMinMaxInt(Run&& run);
  template <typename Run>
  void AccumulateMinMaxSlot(Run&& run);
  absl::Status Overflow() const;
  int64_t Identity() const {
    return a_->function == AggregateFunction::kMin ? std::numeric_limits<int64_t>::max()
                                                   : std::numeric_limits<int64_t>::min();
  }

  template <typename T>
  using PerGroup = absl::InlinedVector<T, 1>;

  const Table* table_;
  const CompiledAggregate* a_;
  Mode mode_ = Mode::kCount;
  bool track_presence_ = true;
  PerGroup<int64_t> counts_;         // kCount, kSum*, kDistinct
  PerGroup<absl::int128> int_sums_;  // kSumInt
  PerGroup<double> double_sums_;     // kSumDouble
  PerGroup<int64_t> best_ints_;      // kMinMaxInt
  PerGroup<uint32_t> best_slots_;    // kMinMaxSlot
  PerGroup<uint8_t> any_;            // kMinMaxSlot, kMinMaxInt when tracked
  // kDistinct: values as stored; a double by its bits once -0.0 is folded
  // into 0.0 and every NaN into one NaN, so "distinct" means unequal values
  // (and NaN counts once, as SQL's DISTINCT groups NULLs).
  PerGroup<absl::flat_hash_set<uint64_t>> distinct_words_;
  PerGroup<absl::flat_hash_set<absl::string_view>> distinct_strings_;
};

template <typename Feed>
void Accumulator::Accumulate(Feed&& feed) {
  const uint64_t* valid = a_->star ? nullptr : a_->validity;
  auto run = [&](auto&& add) {
    if (valid == nullptr) {
      feed(add);
    } else {
      feed([&](size_t g, uint32_t s) {
        if (Bit(valid, s)) add(g, s);
      });
    }
  };
  switch (mode_) {
    case Mode::kCount: {
      int64_t* __restrict n = counts_.data();
      run([n](size_t g, uint32_t) { ++n[g]; });
      return;
    }
    case Mode::kSumInt: {
      int64_t* __restrict n = counts_.data();
      absl::int128* __restrict sum = int_sums_.data();
      const int64_t* d = static_cast<const int64_t*>(a_->data);
      run([n, sum, d](size_t g, uint32_t s) {
        ++n[g];
        sum[g] += d[s];
      });
      return;
    }
    case Mode::kSumDouble: {
      int64_t* __restrict n = counts_.data();
      double* __restrict sum = double_sums_.data();
      const double* d = static_cast<const double*>(a_->data);
      run([n, sum, d](size_t g, uint32_t s) {
        ++n[g];
        sum[g] += d[s];
      });
      return;
    }
    case Mode::kDistinct:
      AccumulateDistinct(run);
      return;
    case Mode::kMinMaxInt:
      AccumulateMinMaxInt(run);
      return;
    case Mode::kMinMaxSlot:
      AccumulateMinMaxSlot(run);
      return;
  }
}

template <typename Run>
void Accumulator::AccumulateDistinct(Run&& run) {
  auto words = [&](auto* d, auto key) {
    run([&, d](size_t g, uint32_t s) {
      counts_[g] += distinct_words_[g].insert(key(d[s])).second;
    });
  };
  switch (a_->type) {
    case Type::kInt64:
      words(static_cast<const int64_t*>(a_->data),
            [](int64_t x) { return static_cast<uint64_t>(x); });
      return;
    case Type::kDouble:
      words(static_cast<const double*>(a_->data), [](double x) {
        if (x == 0) x = 0.0;
        if (std::isnan(x)) x = std::numeric_limits<double>::quiet_NaN();
        return std::bit_cast<uint64_t>(x);
      });
      return;
    case Type::kBool:
      words(static_cast<const uint8_t*>(a_->data), [](uint8_t x) { return uint64_t{x != 0}; });
      return;
    case Type::kString: {
      const StringCells d = StringCellsOf(a_->data);
      run([&, d](size_t g, uint32_t s) {
        counts_[g] += distinct_strings_[g].insert(d[s]).second;
      });
      return;
    }
  }
}

template <typename Run>
void Accumulator::AccumulateMinMaxInt(Run&& run) {
  // The hot case (the latest post per user): the best values alone in a
  // dense array, updated without a branch. Raw restrict pointers: a byte
  // store would otherwise alias every captured pointer and force reloads
  // each row.
  const int64_t* d = static_cast<const int64_t*>(a_->data);
  int64_t* __restrict best = best_ints_.data();
  uint8_t* __restrict any = any_.data();
  auto scan = [&](auto better) {
    if (track_presence_) {
      run([best, any, d, better](size_t g, uint32_t s) {
        best[g] = better(best[g], d[s]);
        any[g] = 1;
      });
    } else {
      run([best, d, better](size_t g, uint32_t s) { best[g] = better(best[g], d[s]); });
    }
  };
  if (a_->function == AggregateFunction::kMin) {
    scan([](int64_t x, int64_t y) { return std::min(x, y); });
  } else {
    scan([](int64_t x, int64_t y) { return std::max(x, y); });
  }
}

template <typename Run>
void Accumulator::AccumulateMinMaxSlot(Run&& run) {
  // Compare in place and keep the best row: only the winner is copied out.
  const AggregateFunction fn = a_->function;
  uint32_t* __restrict best = best_slots_.data();
  uint8_t* __restrict any = any_.data();
  auto track = [&](auto d) {
    run([fn, best, any, d](size_t g, uint32_t s) {
      if (!any[g] || BetterForAggregate(fn, d[s], d[best[g]])) best[g] = s;
      any[g] = 1;
    });
  };
  switch (a_->type) {
    case Type::kInt64:
      track(static_cast<const int64_t*>(a_->data));
      return;
    case Type::kDouble:
      track(static_cast<const double*>(a_->data));
      return;
    case Type::kBool:
      track(static_cast<const uint8_t*>(a_->data));
      return;
    case Type::kString:
      track(StringCellsOf(a_->data));
      return;
  }
}

template <typename NonEmpty>
absl::StatusOr<std::optional<int64_t>> Accumulator::IntResult(size_t g, NonEmpty&& nonempty) const {
  switch (mode_) {
    case Mode::kCount:
    case Mode::kDistinct:
      return std::optional<int64_t>(counts_[g]);
    case Mode::kSumInt: {
      const absl::int128 sum = int_sums_[g];
      if (sum > std::numeric_limits<int64_t>::max() || sum < std::numeric_limits<int64_t>::min()) {
        return Overflow();
      }
      if (counts_[g] == 0) return std::optional<int64_t>();
      return std::optional<int64_t>(static_cast<int64_t>(sum));
    }
    case Mode::kMinMaxInt: {
      const int64_t v = best_ints_[g];
      const bool has = track_presence_ ? any_[g] != 0 : v != Identity() || nonempty();
      return has ? std::optional<int64_t>(v) : std::optional<int64_t>();
    }
    case Mode::kSumDouble:
    case Mode::kMinMaxSlot:
      break;
  }
  return std::optional<int64_t>();
}

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_AGGREGATE_H_
