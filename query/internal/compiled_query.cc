// Running a compiled plan: the access path's rows, filtered block by block,
// then windowed, sorted, counted or aggregated. Compiling and access-path
// choice are in planner.cc.

#include "query/internal/compiled_query.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "query/internal/columns.h"

namespace kin {
namespace internal {

std::span<const RowId> CompiledQuery::probe_rows() const {
  switch (access_) {
    case Access::kScan:
      return {};
    case Access::kIndexEq:
      return probe_span_;
    case Access::kIndexIn:
      return probe_rows_;
    case Access::kIndexRange:
    case Access::kOrderedWalk:
      return {};
  }
  return {};
}

template <typename Sink>
void CompiledQuery::ForEachRangeMatch(Sink&& sink) const {
  const bool trivial =
      predicate_.always_true() || (probe_atom_ >= 0 && residual_empty_) || filter_implied_;
  RowId buf[kBlock];
  if (range_ids_ready_ && access_ == Access::kIndexRange && composite_ == nullptr &&
      !range2_.has_value()) {
    // The planner's count collected the rows: read them, block by block.
    for (size_t i = 0; i < range_ids_.size(); i += kBlock) {
      const size_t n = std::min(kBlock, range_ids_.size() - i);
      const RowId* ids = range_ids_.data() + i;
      size_t k = n;
      if (!trivial) {
        k = predicate_.FilterBlock(ids, n, buf, probe_atom_);
        ids = buf;
      }
      if (k > 0 && !sink(ids, k)) return;
    }
    return;
  }
  size_t n = 0;
  bool go_on = true;
  auto flush = [&]() {
    size_t k = trivial ? n : predicate_.FilterBlock(buf, n, buf, probe_atom_);
    n = 0;
    if (k > 0 && !sink(static_cast<const RowId*>(buf), k)) go_on = false;
    return go_on;
  };
  WalkIndex(/*desc=*/false, /*with_nulls=*/false, [&](RowId id, bool) {
    buf[n++] = id;
    return n < kBlock || flush();
  });
  if (go_on && n > 0) flush();
}

template <typename Walk, typename Ties>
size_t CompiledQuery::WalkWindow(Walk&& walk, Ties&& ties, bool trivial, size_t offset,
                                 std::optional<size_t> limit, bool count_all,
                                 std::vector<RowId>* out) const {
  const size_t want = limit.has_value() ? SaturatingAdd(offset, *limit) : SIZE_MAX;
  if (want == 0 && !count_all) return 0;
  // Matches go straight into `out` from `base`. The rows of one key form a
  // group, closed when the key changes: ORDER BY breaks ties by the next
  // keys, then by input order, so a closed group of two or more is put in
  // input order by `ties` (and sorted on the other keys) in place. Keys are
  // mostly distinct in a top-N: the per-row work is a compare and an
  // append, and the group work is out of line.
  const size_t base = out->size();
  // Written through raw pointers, the vector grown out of line: the walk's
  // state stays in registers between rows.
  // A window holds `want` rows unless a tied key crosses its end (the walk
  // stops at the first new key after it), so that is the presize; callers
  // that append many windows into one vector (GroupWalk) reserve exactly.
  out->resize(base + (limit.has_value() && !count_all ? std::min<size_t>(want, 4096) : 256));
  RowId* first = out->data() + base;
  RowId* dst = first;
  RowId* lim = out->data() + out->size();
  auto grow = [&]() ABSL_ATTRIBUTE_NOINLINE {
    const size_t n = static_cast<size_t>(dst - first);
    // Doubles this walk's part, not the vector: `base` rows of earlier
    // windows may precede it (a preload's walk per parent).
    out->resize(base + std::max<size_t>(2 * n, 16));
    first = out->data() + base;
    dst = first + n;
    lim = out->data() + out->size();
  };
  size_t group_start = 0;  // offset from `first` of the current key's first match
  auto close_group = [&](size_t end) ABSL_ATTRIBUTE_NOINLINE {
    ties(first + group_start, end - group_start);
    if (order_.keys().size() > 1) order_.Sort(first + group_start, end - group_start);
  };
  // Inlined into the index walk: it runs once per row of a top-N.
  walk([&](RowId id, bool new_key) ABSL_ATTRIBUTE_ALWAYS_INLINE {
    if (new_key) {
      const size_t n = static_cast<size_t>(dst - first);
      if (ABSL_PREDICT_FALSE(n - group_start > 1)) close_group(n);
      group_start = n;
      if (!count_all && n >= want) return false;
    }
    if (trivial || predicate_.Matches(id)) {
      if (ABSL_PREDICT_FALSE(dst == lim)) grow();
      *dst++ = id;
    }
    return true;
  });
  const size_t seen = static_cast<size_t>(dst - first);
  if (seen - group_start > 1) close_group(seen);
  const size_t end = std::min(seen, want);
  out->resize(base + end);
  if (offset >= end) {
    out->resize(base);
  } else if (offset > 0) {
    out->erase(out->begin() + static_cast<ptrdiff_t>(base),
               out->begin() + static_cast<ptrdiff_t>(base + offset));
  }
  return seen;
}

// A scan's input order is slot order: a descending walk meets a key's rows
// in descending slot order (reversed), and a composite walk with components
// after the walked one in their order (sorted back).
size_t CompiledQuery::WalkSelect(size_t offset, std::optional<size_t> limit, bool count_all,
                                 std::vector<RowId>* out) const {
  const bool trivial =
      predicate_.always_true() || (probe_atom_ >= 0 && residual_empty_) || filter_implied_;
  const bool bounded = range_.lo.has_value() || range_.hi.has_value();
  return WalkWindow([&](auto&& f) { WalkIndex(walk_desc_, /*with_nulls=*/!bounded, f); },
                    [&](RowId* ids, size_t n) {
                      if (walk_sort_groups_) {
                        std::sort(ids, ids + n);
                      } else if (walk_desc_) {
                        std::reverse(ids, ids + n);
                      }
                    },
                    trivial, offset, limit, count_all, out);
}

void CompiledQuery::SelectPrefixWalk(const CompositeIndex& index, const Value& key, size_t limit,
                                     std::optional<std::span<const RowId>> list,
                                     std::vector<RowId>* out) const {
  const bool desc = order_.keys()[0].desc;
  std::vector<RowId> group;
  WalkWindow(
      [&](auto&& f) { index.Walk(std::span<const Value>(&key, 1), OrderedRange(), desc, f); },
      [&](RowId* ids, size_t n) {
        std::sort(ids, ids + n);
        if (!list.has_value()) return;
        // Input order is the list's: keep the group's rows as they
        // come there (O(list * log n), only for ties).
        group.assign(ids, ids + n);
        size_t k = 0;
        for (RowId r : *list) {
          if (std::binary_search(group.begin(), group.end(), r)) ids[k++] = r;
        }
      },
      predicate_.always_true(), 0, limit, false, out);
}

std::optional<Value> CompiledQuery::IndexedMinMax() const {
  const CompiledAggregate& a = aggregate_;
  if (!has_aggregate_ || a.star || !predicate_.always_true()) return std::nullopt;
  if (a.function != AggregateFunction::kMin && a.function != AggregateFunction::kMax) {
    return std::nullopt;
  }
  const OrderedIndex* index = table_->ordered_index(a.column);
  if (index == nullptr) return std::nullopt;
  std::optional<RowId> found;
  auto first = [&](RowId id, bool) {
    found = id;
    return false;
  };
  if (a.function == AggregateFunction::kMin) {
    // The smallest number; NaN only when every value is NaN (see
    // BetterForAggregate).
    index->Walk(OrderedRange(), /*desc=*/false, /*with_nulls=*/false, first);
    if (found.has_value()) return table_->GetValue(*found, a.column);
  }
  // Descending with NULLs: NaN first, NULLs last.
  index->Walk(OrderedRange(), /*desc=*/true, /*with_nulls=*/true, first);
  if (!found.has_value() || table_->IsNull(*found, a.column)) return Value();
  return table_->GetValue(*found, a.column);
}

template <typename Sink>
void CompiledQuery::ForEachMatch(std::span<const RowId> candidates, int skip_atom,
                                 Sink&& sink) const {
  if (candidates.empty()) return;
  bool trivial = predicate_.always_true() || (skip_atom >= 0 && residual_empty_);
  if (trivial) {
    sink(candidates.data(), candidates.size());
    return;
  }
  RowId buf[kBlock];
  for (size_t i = 0; i < candidates.size(); i += kBlock) {
    size_t n = std::min(kBlock, candidates.size() - i);
    size_t k = predicate_.FilterBlock(candidates.data() + i, n, buf, skip_atom);
    if (k > 0 && !sink(static_cast<const RowId*>(buf), k)) return;
  }
}

template <typename Sink>
void CompiledQuery::ForEachMatch(Sink&& sink) const {
  if (access_ == Access::kIndexRange ||
      (access_ == Access::kOrderedWalk &&
       (composite_ != nullptr || range_.lo.has_value() || range_.hi.has_value()))) {
    ForEachRangeMatch(sink);
    return;
  }
  if (access_ == Access::kIndexEq || access_ == Access::kIndexIn) {
    ForEachMatch(probe_rows(), probe_atom_, sink);
    return;
  }
  const std::vector<uint64_t>& words = table_->live().words();
  const size_t num_words = words.size();
  static_assert(kBlock % 64 == 0, "a block holds whole words: the full-word fill below");
  constexpr size_t kWordsPerBlock = kBlock / 64;
  RowId buf[kBlock];
  for (size_t w0 = 0; w0 < num_words; w0 += kWordsPerBlock) {
    size_t n = 0;
    size_t w_end = std::min(num_words, w0 + kWordsPerBlock);
    for (size_t w = w0; w < w_end; ++w) {
      uint64_t bits = words[w];
      uint32_t base = static_cast<uint32_t>(w * 64);
      if (bits == ~uint64_t{0}) {
        // A word of live rows (the common case between deletes): a
        // counted loop the compiler vectorises, where the bit walk below
        // waits on each bit it clears.
        for (uint32_t b = 0; b < 64; ++b) buf[n + b] = RowId(base + b);
        n += 64;
        continue;
      }
      while (bits != 0) {
        buf[n++] = RowId(base + static_cast<uint32_t>(std::countr_zero(bits)));
        bits &= bits - 1;
      }
    }
    if (n == 0) continue;
    size_t k = predicate_.FilterBlock(buf, n, buf);
    if (k > 0 && !sink(static_cast<const RowId*>(buf), k)) return;
  }
}

template <typename Run>
size_t CompiledQuery::SelectImpl(Run&& run, size_t offset, std::optional<size_t> limit,
                                 bool count_all, std::vector<RowId>* out, SortScratch* scratch,
                                 bool access_path) const {
  if (order_.empty()) {
    // Rows come in access order: skip `offset`, stop after `limit` (unless
    // every match must be counted).
    if (limit.has_value() && *limit == 0 && !count_all) return 0;
    size_t seen = 0;
    size_t to_skip = offset;
    size_t remaining = limit.value_or(SIZE_MAX);
    run([&](const RowId* ids, size_t n) {
      seen += n;
      if (to_skip >= n) {
        to_skip -= n;
        return true;
      }
      ids += to_skip;
      n -= to_skip;
      to_skip = 0;
      size_t take = std::min(n, remaining);
      out->insert(out->end(), ids, ids + take);
      remaining -= take;
      return remaining > 0 || count_all;
    });
    return seen;
  }
  const size_t start = out->size();
  run([&](const RowId* ids, size_t n) {
    out->insert(out->end(), ids, ids + n);
    return true;
  });
  const size_t total = out->size() - start;
  if (access_path && access_ == Access::kIndexRange && composite_ != nullptr) {
    // A composite range yields rows in index order; the stable sort below
    // breaks ties by input order, and the brute force's is slot order.
    std::sort(out->begin() + static_cast<ptrdiff_t>(start), out->end());
  }
  const size_t keep = limit.has_value() ? std::min(total, SaturatingAdd(offset, *limit)) : total;
  order_.Sort(out->data() + start, total, keep, scratch);
  if (offset >= keep) {
    out->resize(start);
    return total;
  }
  out->erase(out->begin() + static_cast<ptrdiff_t>(start),
             out->begin() + static_cast<ptrdiff_t>(start + offset));
  out->resize(start + keep - offset);
  return total;
}

void CompiledQuery::Select(std::vector<RowId>* out) const { Select(offset_, limit_, out); }

void CompiledQuery::Select(size_t offset, std::optional<size_t> limit,
                           std::vector<RowId>* out) const {
  if (access_ == Access::kOrderedWalk) {
    WalkSelect(offset, limit, false, out);
    return;
  }
  if (access_ == Access::kScan && predicate_.always_true()) {
    // Every live row matches: room for all at once instead of regrowing
    // (an ordered select takes every row before it sorts and cuts).
    const size_t rows = table_->size() - std::min(offset, table_->size());
    out->reserve(out->size() +
                 (order_.empty() ? std::min(rows, limit.value_or(rows)) : table_->size()));
  }
  SelectImpl([&](auto&& sink) { ForEachMatch(sink); }, offset, limit, false, out, nullptr,
             /*access_path=*/true);
}

size_t CompiledQuery::SelectAndCount(size_t offset, std::optional<size_t> limit,
                                     std::vector<RowId>* out) const {
  if (access_ == Access::kOrderedWalk) return WalkSelect(offset, limit, true, out);
  return SelectImpl([&](auto&& sink) { ForEachMatch(sink); }, offset, limit, true, out, nullptr,
                    /*access_path=*/true);
}

void CompiledQuery::Select(std::span<const RowId> candidates, std::vector<RowId>* out) const {
  Select(candidates, offset_, limit_, out);
}

void CompiledQuery::Select(std::span<const RowId> candidates, size_t offset,
                           std::optional<size_t> limit, std::vector<RowId>* out,
                           SortScratch* scratch) const {
  SelectImpl([&](auto&& sink) { ForEachMatch(candidates, -1, sink); }, offset, limit, false, out,
             scratch);
}

size_t CompiledQuery::Count() const {
  if (access_ == Access::kScan && predicate_.always_true()) return table_->size();
  if (access_ == Access::kIndexRange && range_exact_ && probe_atom_ >= 0 && residual_empty_) {
    return range_rows_;  // counted along the index while planning
  }
  size_t total = 0;
  ForEachMatch([&](const RowId*, size_t n) {
    total += n;
    return true;
  });
  return total;
}

void CompiledQuery::PrepareRelations(size_t rows) {
  for (const Atom& a : predicate_.atoms()) {
    if (a.kind == Atom::Kind::kRelation) a.relation->Prepare(rows);
  }
}

void CompiledQuery::ForEachMatchBlock(absl::FunctionRef<bool(const RowId*, size_t)> sink) const {
  ForEachMatch([&](const RowId* ids, size_t n) { return sink(ids, n); });
}

size_t CompiledQuery::Count(std::span<const RowId> candidates) const {
  return predicate_.Count(candidates);
}

template <typename Run>
absl::StatusOr<Value> CompiledQuery::AggregateImpl(Run&& run) const {
  if (!has_aggregate_ || aggregate_.star) {
    int64_t n = 0;
    run([&](const RowId*, size_t k) {
      n += static_cast<int64_t>(k);
      return true;
    });
    return Value(n);
  }
  Accumulator acc(*table_, aggregate_, 1);
  acc.Accumulate([&](auto&& add) {
    run([&](const RowId* ids, size_t k) {
      for (size_t i = 0; i < k; ++i) add(0, ids[i].value);
      return true;
    });
  });
  return acc.Result(0);
}

absl::StatusOr<Value> CompiledQuery::Aggregate() const {
  if (std::optional<Value> v = IndexedMinMax(); v.has_value()) return *std::move(v);
  return AggregateImpl([&](auto&& sink) { ForEachMatch(sink); });
}

absl::StatusOr<Value> CompiledQuery::Aggregate(std::span<const RowId> candidates) const {
  return AggregateImpl([&](auto&& sink) { ForEachMatch(candidates, -1, sink); });
}

}  // namespace internal
}  // namespace kin
