#include "query/internal/planner.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"
#include "query/internal/columns.h"

namespace kin {
namespace internal {

absl::Status QueryPlanner::CompileInto(const Table& table, const QuerySpec& spec,
                                       CompiledQuery* out, const RelationContext* relations) {
  KIN_RETURN_IF_ERROR(spec.error);
  *out = CompiledQuery();
  CompiledQuery& q = *out;
  q.table_ = &table;
  if (spec.scope.empty()) {
    KIN_RETURN_IF_ERROR(
        CompiledPredicate::Compile(table, spec.conditions, relations, &q.predicate_));
  } else {
    KIN_RETURN_IF_ERROR(
        CompiledPredicate::Compile(table, EffectiveConditions(spec), relations, &q.predicate_));
  }
  KIN_RETURN_IF_ERROR(CompiledOrder::Compile(table, spec.order_by, &q.order_));
  if (spec.aggregate.has_value()) {
    KIN_RETURN_IF_ERROR(CompiledAggregate::Compile(table, *spec.aggregate, &q.aggregate_));
    q.has_aggregate_ = true;
  }
  if (spec.limit.has_value()) {
    if (*spec.limit < 0) return errors::BadQueryArgument(table.name(), "limit", 0, *spec.limit);
    q.limit_ = static_cast<size_t>(*spec.limit);
  }
  if (spec.offset.has_value()) {
    if (*spec.offset < 0) return errors::BadQueryArgument(table.name(), "offset", 0, *spec.offset);
    q.offset_ = static_cast<size_t>(*spec.offset);
  }
  // A plan run over candidate spans (a related query per parent) never
  // uses its own access path: do not spend a walk of the index on it.
  const bool own_path = relations == nullptr || !relations->candidate_rows.has_value();
  const uint8_t stages = ApplicableStages(q);
  Choose(&q, own_path ? stages : stages & kAccessStage);
  // Relation tests choose their strategy knowing how many rows they will
  // be asked about: what the caller says, else the access path's bound.
  q.PrepareRelations(relations != nullptr && relations->candidate_rows.has_value()
                         ? *relations->candidate_rows
                         : q.AccessRows());
  return absl::OkStatus();
}

// An equality or IN on an indexed column, ANDed at the top level, is
// answered by the index; the smallest candidate list wins (an equality on
// a tie).
void QueryPlanner::ChooseAccess(CompiledQuery* q) {
  const CompiledPredicate& p = q->predicate_;
  if (!p.conjunctive()) return;
  const Table& t = *q->table_;
  size_t best = SIZE_MAX;
  int best_atom = -1;
  bool best_in = false;
  std::span<const RowId> best_span;
  for (int i : p.top_level_atoms()) {
    const Atom& a = p.atoms()[i];
    const HashIndex* index = t.index(a.column);
    if (index == nullptr) continue;
    if ((a.kind == Atom::Kind::kCmpInt64 || a.kind == Atom::Kind::kCmpString) &&
        a.op == CompareOp::kEq) {
      std::span<const RowId> rows = a.kind == Atom::Kind::kCmpInt64
                                        ? index->Find(a.i0)
                                        : index->Find(absl::string_view(a.s0));
      if (rows.size() < best || (best_in && rows.size() == best)) {
        best = rows.size();
        best_atom = i;
        best_in = false;
        best_span = rows;
      }
    } else if ((a.kind == Atom::Kind::kInInt64 || a.kind == Atom::Kind::kInString) && !a.negate) {
      size_t total = 0;
      if (a.kind == Atom::Kind::kInInt64) {
        for (int64_t k : a.ints) total += index->Find(k).size();
      } else {
        for (const std::string& k : a.strings) total += index->Find(absl::string_view(k)).size();
      }
      if (total < best) {
        best = total;
        best_atom = i;
        best_in = true;
      }
    }
  }
  if (best_atom < 0) return;
  q->probe_atom_ = best_atom;
  q->residual_empty_ = p.num_nodes() == 1;
  if (!best_in) {
    q->access_ = CompiledQuery::Access::kIndexEq;
    q->probe_span_ = best_span;
    return;
  }
  q->access_ = CompiledQuery::Access::kIndexIn;
  const Atom& a = p.atoms()[best_atom];
  const HashIndex* index = t.index(a.column);
  q->probe_rows_.reserve(best);
  auto add = [&](std::span<const RowId> rows) {
    q->probe_rows_.insert(q->probe_rows_.end(), rows.begin(), rows.end());
  };
  if (a.kind == Atom::Kind::kInInt64) {
    for (int64_t k : a.ints) add(index->Find(k));
  } else {
    for (const std::string& k : a.strings) add(index->Find(absl::string_view(k)));
  }
  std::sort(q->probe_rows_.begin(), q->probe_rows_.end());
}

// What AtomRange turns into a key interval: not !=, NOT BETWEEN, IN, nor
// a NaN operand (which matches nothing and has no place in the key order).
bool QueryPlanner::IsRangeAtom(const Atom& a) {
  using K = Atom::Kind;
  switch (a.kind) {
    case K::kCmpInt64:
    case K::kCmpBool:
    case K::kCmpString:
      return a.op != CompareOp::kNe;
    case K::kCmpDouble:
      return a.op != CompareOp::kNe && !std::isnan(a.d0);
    case K::kBetweenInt64:
    case K::kBetweenBool:
    case K::kBetweenString:
      return !a.negate;
    case K::kBetweenDouble:
      return !a.negate && !std::isnan(a.d0) && !std::isnan(a.d1);
    case K::kStartsWith:
      return true;
    default:
      return false;
  }
}

// The key interval a top-level atom selects on an ordered index, or
// nullopt when it is not a range (IsRangeAtom).
std::optional<OrderedRange> QueryPlanner::AtomRange(const Atom& a) {
  using K = Atom::Kind;
  if (!IsRangeAtom(a)) return std::nullopt;
  OrderedRange r;
  auto cmp = [&](Value v) -> std::optional<OrderedRange> {
    switch (a.op) {
      case CompareOp::kEq:
        r.lo = v;
        r.hi = std::move(v);
        break;
      case CompareOp::kNe:
        return std::nullopt;
      case CompareOp::kLt:
      case CompareOp::kLe:
        r.hi = std::move(v);
        r.hi_inclusive = a.op == CompareOp::kLe;
        break;
      case CompareOp::kGt:
      case CompareOp::kGe:
        r.lo = std::move(v);
        r.lo_inclusive = a.op == CompareOp::kGe;
        break;
    }
    return r;
  };
  auto between = [&](Value lo, Value hi) -> std::optional<OrderedRange> {
    if (a.negate) return std::nullopt;
    r.lo = std::move(lo);
    r.hi = std::move(hi);
    return r;
  };
  switch (a.kind) {
    case K::kCmpInt64:
      return cmp(Value(a.i0));
    case K::kCmpDouble:
      if (std::isnan(a.d0)) return std::nullopt;
      return cmp(Value(a.d0));
    case K::kCmpBool:
      return cmp(Value(a.i0 != 0));
    case K::kCmpString:
      return cmp(Value(a.s0));
    case K::kBetweenInt64:
      return between(Value(a.i0), Value(a.i1));
    case K::kBetweenDouble:
      if (std::isnan(a.d0) || std::isnan(a.d1)) return std::nullopt;
      return between(Value(a.d0), Value(a.d1));
    case K::kBetweenBool:
      return between(Value(a.i0 != 0), Value(a.i1 != 0));
    case K::kBetweenString:
      return between(Value(a.s0), Value(a.s1));
    case K::kStartsWith: {
      // [prefix, the next string after every extension of prefix): drop
      // trailing 0xff bytes and bump the last remaining byte.
      r.lo = Value(a.s0);
      std::string end = a.s0;
      while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
      if (!end.empty()) {
        end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
        r.hi = Value(std::move(end));
        r.hi_inclusive = false;
      }
      return r;
    }
    default:
      return std::nullopt;
  }
}

// NOT BETWEEN lo AND hi is `< lo OR > hi`: below lo, then above hi; when
// lo > hi the two overlap and cover every key, so the upper interval
// starts at lo instead (NULL and NaN stay out, as the predicate has them).
std::optional<std::pair<OrderedRange, OrderedRange>> QueryPlanner::OutsideRanges(const Atom& a) {
  using K = Atom::Kind;
  if (!a.negate) return std::nullopt;
  Value lo, hi;
  switch (a.kind) {
    case K::kBetweenInt64:
      lo = Value(a.i0);
      hi = Value(a.i1);
      break;
    case K::kBetweenDouble:
      if (std::isnan(a.d0) || std::isnan(a.d1)) return std::nullopt;
      lo = Value(a.d0);
      hi = Value(a.d1);
      break;
    case K::kBetweenBool:
      lo = Value(a.i0 != 0);
      hi = Value(a.i1 != 0);
      break;
    case K::kBetweenString:
      lo = Value(a.s0);
      hi = Value(a.s1);
      break;
    default:
      return std::nullopt;
  }
  OrderedRange below;
  below.hi = lo;
  below.hi_inclusive = false;
  OrderedRange above;
  const bool overlap = CompareValues(lo, hi) > 0;
  above.lo = overlap ? std::move(lo) : std::move(hi);
  above.lo_inclusive = overlap;
  return std::make_pair(std::move(below), std::move(above));
}

// Narrows `into` to its intersection with `r` (same column, same type).
void QueryPlanner::Intersect(OrderedRange* into, const OrderedRange& r) {
  if (r.lo.has_value()) {
    int c = into->lo.has_value() ? CompareValues(*r.lo, *into->lo) : 1;
    if (c > 0 || (c == 0 && !r.lo_inclusive)) {
      into->lo = r.lo;
      into->lo_inclusive = r.lo_inclusive && (c != 0 || into->lo_inclusive);
    }
  }
  if (r.hi.has_value()) {
    int c = into->hi.has_value() ? CompareValues(*r.hi, *into->hi) : -1;
    if (c < 0 || (c == 0 && !r.hi_inclusive)) {
      into->hi = r.hi;
      into->hi_inclusive = r.hi_inclusive && (c != 0 || into->hi_inclusive);
    }
  }
}

// Rows of `index` in `range`, counting at most `cap` (then returns cap):
// the selectivity estimate, exact below the cap. absl's btree has no
// rank, so counting along the range is the honest way; the cap bounds
// its cost by the cost of the alternative (a probe or a scan).
size_t QueryPlanner::CountRange(const OrderedIndex& index, const OrderedRange& range, size_t cap,
                                std::vector<RowId>* ids) {
  size_t n = 0;
  index.Walk(range, /*desc=*/false, /*with_nulls=*/false, [&](RowId id, bool) {
    if (ids != nullptr) ids->push_back(id);
    return ++n < cap;
  });
  return n;
}

// Ordered-index ranges, chosen against what ChooseAccess picked. Costs in
// row visits: a scan visits every row (cheap, sequential), a probe its
// rows, a range its rows (in key order, so about kRangeScanDivisor times a
// scanned row each). The best range: per ordered column, the intersection
// of its ANDed range atoms.
void QueryPlanner::ChooseRange(CompiledQuery* q) {
  const CompiledPredicate& p = q->predicate_;
  if (!p.conjunctive()) return;
  const Table& t = *q->table_;
  const size_t n = t.size();
  const size_t probe = q->access_ == CompiledQuery::Access::kScan ? SIZE_MAX : q->AccessRows();
  // A range must hold fewer rows than the probe to win: none can beat a
  // probe of one row (a unique key), and counting one would cost a descent
  // of the ordered index, more than the probe itself.
  if (probe <= 1) return;
  const OrderedIndex* best_index = nullptr;
  OrderedRange best_range;
  size_t best_rows = SIZE_MAX;
  int best_atom = -1;
  bool best_single = false;
  // Against a scan, a range on the column a walk orders by is left to
  // ChooseWalk, which then walks it from its bound and stops after the
  // window: counting its rows here (up to an eighth of the table) would
  // cost more than the walk. Against a probe it is counted (up to the
  // probe's rows, so cheaply): ChooseWalk may keep the probe, and a
  // narrower range must still win.
  const bool can_walk = !q->order_.empty() && q->limit_.has_value() && !q->has_aggregate_ &&
                        q->access_ == CompiledQuery::Access::kScan;
  std::span<const int> top = p.top_level_atoms();
  for (size_t i = 0; i < top.size(); ++i) {
    const Atom& a = p.atoms()[top[i]];
    const OrderedIndex* index = t.ordered_index(a.column);
    if (index == nullptr) continue;
    if (can_walk && a.column == q->order_.keys()[0].column) continue;
    std::optional<OrderedRange> r = AtomRange(a);
    if (!r.has_value()) continue;
    bool seen_before = false;
    for (size_t j = 0; j < i && !seen_before; ++j) {
      const Atom& b = p.atoms()[top[j]];
      seen_before = b.column == a.column && AtomRange(b).has_value();
    }
    if (seen_before) continue;  // folded into the first atom's range
    int atoms = 1;
    for (size_t j = i + 1; j < top.size(); ++j) {
      const Atom& b = p.atoms()[top[j]];
      if (b.column != a.column) continue;
      std::optional<OrderedRange> rb = AtomRange(b);
      if (!rb.has_value()) continue;
      Intersect(&*r, *rb);
      ++atoms;
    }
    size_t cap = std::min(std::max<size_t>(n / CompiledQuery::kRangeScanDivisor, 64),
                          std::min(probe, best_rows));
    // The rows counted are kept: if this range is taken, the query reads
    // them instead of walking the index a second time. The first candidate
    // counts into range_ids_ itself (the usual single range: its buffer
    // keeps its capacity from run to run), a later one into the scratch.
    std::vector<RowId>* ids = best_index == nullptr ? &q->range_ids_ : &q->range_ids_next_;
    ids->clear();
    size_t rows = CountRange(*index, *r, cap, ids);
    if (rows >= cap) continue;
    if (ids != &q->range_ids_) q->range_ids_.swap(q->range_ids_next_);
    best_index = index;
    best_range = std::move(*r);
    best_rows = rows;
    best_atom = top[i];
    best_single = atoms == 1;
  }
  if (best_index == nullptr) return;
  q->access_ = CompiledQuery::Access::kIndexRange;
  q->ordered_ = best_index;
  q->range_ = std::move(best_range);
  q->range_ids_ready_ = true;
  q->range_rows_ = best_rows;
  q->range_exact_ = true;
  q->probe_atom_ = best_single ? best_atom : -1;
  q->residual_empty_ = best_single && p.num_nodes() == 1;
  q->probe_span_ = {};
  q->probe_rows_.clear();
}

// Costs as in ChooseRange: the two intervals' rows (each narrowed by the
// column's other range atoms), counted along the index up to the cheaper
// of the current path and 1/kRangeScanDivisor of the table. NOT BETWEEN
// keeps few rows only when [lo, hi] covers most of them, so this is
// usually a scan.
void QueryPlanner::ChooseNotBetween(CompiledQuery* q) {
  const CompiledPredicate& p = q->predicate_;
  if (!p.conjunctive()) return;
  const Table& t = *q->table_;
  const size_t bound = std::max<size_t>(t.size() / CompiledQuery::kRangeScanDivisor, 64);
  size_t best_rows =
      q->access_ == CompiledQuery::Access::kScan ? bound : std::min(bound, q->AccessRows());
  if (best_rows <= 1) return;  // as in ChooseRange
  std::span<const int> top = p.top_level_atoms();
  for (int i : top) {
    const Atom& a = p.atoms()[i];
    const OrderedIndex* index = t.ordered_index(a.column);
    if (index == nullptr) continue;
    std::optional<std::pair<OrderedRange, OrderedRange>> r = OutsideRanges(a);
    if (!r.has_value()) continue;
    size_t atoms = 0;
    if (std::optional<OrderedRange> other = ColumnRange(p, top, a.column, &atoms)) {
      Intersect(&r->first, *other);
      Intersect(&r->second, *other);
    }
    const size_t below = CountRange(*index, r->first, best_rows);
    if (below >= best_rows) continue;
    const size_t rows = below + CountRange(*index, r->second, best_rows - below);
    if (rows >= best_rows) continue;
    best_rows = rows;
    q->access_ = CompiledQuery::Access::kIndexRange;
    q->ordered_ = index;
    q->range_ = std::move(r->first);
    q->range_ids_ready_ = false;
    q->range2_ = std::move(r->second);
    q->range_rows_ = rows;
    q->range_exact_ = true;
    q->probe_atom_ = atoms == 0 ? i : -1;
    q->residual_empty_ = atoms == 0 && p.num_nodes() == 1;
    q->probe_span_ = {};
    q->probe_rows_.clear();
  }
}

// A walk costs about window * table / matches row visits.
void QueryPlanner::ChooseWalk(CompiledQuery* q) {
  if (q->order_.empty() || !q->limit_.has_value() || q->has_aggregate_) return;
  const Table& t = *q->table_;
  const size_t n = t.size();
  const CompiledOrder::Key& key = q->order_.keys()[0];
  const OrderedIndex* index = t.ordered_index(key.column);
  if (index == nullptr) return;
  const size_t window = SaturatingAdd(q->offset_, *q->limit_);
  if (q->access_ == CompiledQuery::Access::kIndexRange && q->ordered_ == index) {
    // The range is on the order column: walk it in order.
    q->access_ = CompiledQuery::Access::kOrderedWalk;
    q->walk_desc_ = key.desc;
    return;
  }
  if (q->access_ != CompiledQuery::Access::kScan) {
    // A probe or range of k rows sorts k rows; a walk meets about one
    // match every n / k entries (assuming independent columns) and needs
    // `window` of them.
    const double k = static_cast<double>(std::max<size_t>(q->AccessRows(), 1));
    const double walk = static_cast<double>(window) * static_cast<double>(n) / k;
    if (walk >= k * 4) return;
  }
  q->access_ = CompiledQuery::Access::kOrderedWalk;
  q->ordered_ = index;
  // The walk starts and ends where the order column's own range atoms do
  // ("name >= ? ORDER BY name LIMIT 10" starts at the bound; a range that
  // holds too many rows to fetch, so ChooseRange left it, still bounds a
  // walk that stops after the window). When that range is the whole
  // filter (one range atom, as ChooseRange's single range), the rows walked
  // pass it and are not filtered again.
  q->range_ = OrderedRange();
  bool implied = false;
  if (q->predicate_.conjunctive()) {
    const CompiledPredicate& p = q->predicate_;
    size_t atoms = 0;
    if (std::optional<OrderedRange> r = ColumnRange(p, p.top_level_atoms(), key.column, &atoms)) {
      q->range_ = *std::move(r);
      implied = atoms == 1 && p.num_nodes() == 1;
    }
  }
  q->filter_implied_ = implied;
  q->range_ids_ready_ = false;
  q->range2_.reset();
  q->walk_desc_ = key.desc;
  q->probe_atom_ = -1;
  q->residual_empty_ = false;
  q->probe_span_ = {};
  q->probe_rows_.clear();
}

std::optional<OrderedRange> QueryPlanner::ColumnRange(const CompiledPredicate& p,
                                                      std::span<const int> top, ColumnId column,
                                                      size_t* atoms) {
  std::optional<OrderedRange> out;
  *atoms = 0;
  for (int i : top) {
    const Atom& a = p.atoms()[i];
    if (a.column != column) continue;
    std::optional<OrderedRange> r = AtomRange(a);
    if (!r.has_value()) continue;
    if (out.has_value()) {
      Intersect(&*out, *r);
    } else {
      out = std::move(r);
    }
    ++*atoms;
  }
  return out;
}

// Candidates per composite index (columns c0, c1[, c2]): the longest run of
// leading columns with an equality (a point range) is the prefix; the next
// column may carry a range. With OrderBy(that next column) + Limit the index
// is walked within the prefix (and range) and stops after offset + limit
// matches; otherwise it is a range of the index. Costs as elsewhere, in row
// visits: the rows the index selects are a subset of what a probe or range
// on one of its own columns yields, so against such a path (or a scan) the
// walk is taken without counting; against a probe on another column, and
// for ranges, the index's rows are counted with that path's rows as the cap
// (exact below it, and never costing more than the alternative).
void QueryPlanner::ChooseComposite(CompiledQuery* q) {
  const CompiledPredicate& p = q->predicate_;
  const Table& t = *q->table_;
  if (t.composite_indexes().empty() || !p.conjunctive()) return;
  std::span<const int> top = p.top_level_atoms();
  const size_t n = t.size();
  const bool can_walk = !q->order_.empty() && q->limit_.has_value() && !q->has_aggregate_;
  // The path chosen so far. Once an index wins, its prefix and range are
  // written into q directly (this runs on every prepared run: no copies).
  const CompiledQuery::Access access = q->access_;
  // The column the current access path is keyed on, if any.
  std::optional<ColumnId> access_column;
  if (access == CompiledQuery::Access::kIndexEq || access == CompiledQuery::Access::kIndexIn ||
      (access == CompiledQuery::Access::kIndexRange && q->probe_atom_ >= 0)) {
    access_column = p.atoms()[q->probe_atom_].column;
  } else if (q->ordered_ != nullptr) {
    access_column = q->ordered_->column();
  }
  const size_t alternative =
      access == CompiledQuery::Access::kScan || access == CompiledQuery::Access::kOrderedWalk
          ? n
          : q->AccessRows();
  auto named = [&](ColumnId c) { return NamesColumn(p, c); };
  // Cheap exclusions first, by column only (no key is built); this runs
  // on every prepared run: when no index passes, nothing else is built.
  auto eligible = [&](const CompositeIndex& index) {
    return CompositeMayServe(*q, index, access == CompiledQuery::Access::kScan);
  };
  if (std::none_of(t.composite_indexes().begin(), t.composite_indexes().end(),
                   [&](const auto& owned) { return eligible(*owned); })) {
    return;
  }
  const CompositeIndex* best = nullptr;
  bool best_walk = false;
  size_t best_rows = SIZE_MAX;
  for (const auto& owned : t.composite_indexes()) {
    const CompositeIndex& index = *owned;
    const std::vector<ColumnId>& cols = index.columns();
    if (!eligible(index)) continue;
    absl::InlinedVector<Value, 3> prefix;
    OrderedRange next;
    bool next_bounded = false;
    size_t k = 0;
    size_t atoms = 0;
    for (; k < cols.size(); ++k) {
      // A column no top-level atom names ends the prefix; checked before
      // ColumnRange builds any key (this runs on every prepared run).
      if (!named(cols[k])) break;
      std::optional<OrderedRange> r = ColumnRange(p, top, cols[k], &atoms);
      if (!r.has_value()) break;
      const bool point = r->lo.has_value() && r->hi.has_value() && r->lo_inclusive &&
                         r->hi_inclusive && CompareValues(*r->lo, *r->hi) == 0;
      if (point && k + 1 < cols.size()) {
        prefix.push_back(*r->lo);
        continue;
      }
      next = std::move(*r);
      next_bounded = true;
      break;
    }
    if (prefix.empty()) continue;  // a single-column index serves the first column
    k = prefix.size();
    const bool walk = can_walk && q->order_.keys()[0].column == cols[k];
    if (!walk && !next_bounded && k == 1 && access != CompiledQuery::Access::kScan) continue;
    if (best_walk && !walk) continue;  // a walk that stops early beats a range
    bool covers_access = access == CompiledQuery::Access::kScan;
    for (size_t i = 0; i <= k && access_column.has_value(); ++i) {
      covers_access = covers_access || cols[i] == *access_column;
    }
    size_t rows = SIZE_MAX;
    if (walk && covers_access) {
      rows = 0;  // not counted: a subset of the alternative, walked in order
    } else {
      if (!walk && access == CompiledQuery::Access::kOrderedWalk) continue;
      size_t cap = std::min(alternative, best_rows);
      if (!walk) cap = std::min(cap, std::max<size_t>(n / CompiledQuery::kRangeScanDivisor, 64));
      rows = 0;
      index.Walk(prefix, next, /*desc=*/false, [&](RowId, bool) { return ++rows < cap; });
      if (rows >= cap) continue;
    }
    if (walk && !best_walk) best_rows = SIZE_MAX;  // walks compare among walks
    if (rows >= best_rows) continue;
    best = &index;
    q->composite_prefix_ = std::move(prefix);
    q->range_ = std::move(next);
    best_walk = walk;
    best_rows = rows;
  }
  if (best == nullptr) return;
  // The filter is implied by the index when it is one AND-term of range
  // atoms on the prefix columns only: each prefix component is a single
  // value inside every such atom's interval (NULL and NaN are outside a
  // point), so the rows walked pass them all. With a range on the next
  // column the filter stays (NULL / NaN placement there is the filter's).
  const absl::InlinedVector<Value, 3>& best_prefix = q->composite_prefix_;
  bool implied =
      !q->range_.lo.has_value() && !q->range_.hi.has_value() && top.size() == p.num_nodes();
  for (size_t j = 0; j < top.size() && implied; ++j) {
    const Atom& a = p.atoms()[top[j]];
    bool on_prefix = false;
    for (size_t c = 0; c < best_prefix.size(); ++c) {
      on_prefix = on_prefix || best->columns()[c] == a.column;
    }
    implied = on_prefix && IsRangeAtom(a);
  }
  q->filter_implied_ = implied;
  q->access_ = best_walk ? CompiledQuery::Access::kOrderedWalk : CompiledQuery::Access::kIndexRange;
  q->ordered_ = nullptr;
  q->composite_ = best;
  q->range_ids_ready_ = false;
  q->range2_.reset();
  q->range_rows_ = best_rows;
  q->range_exact_ = false;
  q->walk_desc_ = best_walk && q->order_.keys()[0].desc;
  q->walk_sort_groups_ = best_walk && q->composite_prefix_.size() + 1 < best->columns().size();
  q->probe_atom_ = -1;
  q->residual_empty_ = false;
  q->probe_span_ = {};
  q->probe_rows_.clear();
}

void QueryPlanner::SetOperand(CompiledQuery* q, size_t atom, int operand, const Value& value) {
  Atom& a = q->predicate_.mutable_atom(atom);
  const Type type = q->table_->column(a.column).type;
  switch (type) {
    case Type::kInt64:
      (operand == 0 ? a.i0 : a.i1) = value.AsInt64();
      break;
    case Type::kDouble:
      (operand == 0 ? a.d0 : a.d1) = value.AsNumber();
      break;
    case Type::kBool:
      (operand == 0 ? a.i0 : a.i1) = value.AsBool() ? 1 : 0;
      break;
    case Type::kString:
      // assign() keeps the capacity: rebinding a string of similar length
      // does not allocate.
      (operand == 0 ? a.s0 : a.s1).assign(value.AsString());
      break;
  }
}

void QueryPlanner::Replan(CompiledQuery* q) {
  const Table& t = *q->table_;
  q->predicate_.Refresh(t);
  q->order_.Refresh(t);
  if (q->has_aggregate_) q->aggregate_.Refresh(t);
  // The access path as CompileInto leaves it before choosing.
  q->access_ = CompiledQuery::Access::kScan;
  q->probe_atom_ = -1;
  q->residual_empty_ = false;
  q->probe_span_ = {};
  q->probe_rows_.clear();
  q->ordered_ = nullptr;
  q->range_ = OrderedRange();
  q->range_ids_ready_ = false;
  q->range2_.reset();
  q->range_rows_ = 0;
  q->range_exact_ = false;
  q->walk_desc_ = false;
  q->composite_ = nullptr;
  q->composite_prefix_.clear();
  q->walk_sort_groups_ = false;
  q->filter_implied_ = false;
  if (!q->stages_known_ || q->stages_index_version_ != t.index_version()) {
    q->stages_ = ApplicableStages(*q);
    q->stages_index_version_ = t.index_version();
    q->stages_known_ = true;
  }
  Choose(q, q->stages_);
}

void QueryPlanner::Choose(CompiledQuery* q, uint8_t stages) {
  if (stages & kAccessStage) ChooseAccess(q);
  if (stages & kRangeStage) {
    ChooseRange(q);
    ChooseNotBetween(q);
  }
  if (stages & kWalkStage) ChooseWalk(q);
  if (stages & kCompositeStage) ChooseComposite(q);
}

bool QueryPlanner::NamesColumn(const CompiledPredicate& p, ColumnId column) {
  for (int i : p.top_level_atoms()) {
    if (p.atoms()[i].column == column) return true;
  }
  return false;
}

bool QueryPlanner::CompositeMayServe(const CompiledQuery& q, const CompositeIndex& index,
                                     bool access_is_scan) {
  const CompiledPredicate& p = q.predicate_;
  const std::vector<ColumnId>& cols = index.columns();
  if (!NamesColumn(p, cols[0])) return false;
  const bool can_walk = !q.order_.empty() && q.limit_.has_value() && !q.has_aggregate_;
  return access_is_scan || NamesColumn(p, cols[1]) ||
         (can_walk && q.order_.keys()[0].column == cols[1]);
}

uint8_t QueryPlanner::ApplicableStages(const CompiledQuery& q) {
  const CompiledPredicate& p = q.predicate_;
  const Table& t = *q.table_;
  uint8_t stages = 0;
  const bool can_walk = !q.order_.empty() && q.limit_.has_value() && !q.has_aggregate_;
  if (can_walk && t.ordered_index(q.order_.keys()[0].column) != nullptr) stages |= kWalkStage;
  if (!p.conjunctive()) return stages;
  std::span<const int> top = p.top_level_atoms();
  for (int i : top) {
    const Atom& a = p.atoms()[i];
    if (t.ordered_index(a.column) != nullptr) stages |= kRangeStage;
    if (t.index(a.column) == nullptr) continue;
    const bool eq = (a.kind == Atom::Kind::kCmpInt64 || a.kind == Atom::Kind::kCmpString) &&
                    a.op == CompareOp::kEq;
    const bool in =
        (a.kind == Atom::Kind::kInInt64 || a.kind == Atom::Kind::kInString) && !a.negate;
    if (eq || in) stages |= kAccessStage;
  }
  for (const auto& index : t.composite_indexes()) {
    // With a hash-index candidate the access path is never a scan by the
    // time ChooseComposite runs (ChooseAccess always takes one, and the
    // choosers after it only replace it with an index path).
    if (CompositeMayServe(q, *index, /*access_is_scan=*/!(stages & kAccessStage))) {
      stages |= kCompositeStage;
    }
  }
  return stages;
}

absl::StatusOr<CompiledQuery> CompiledQuery::Compile(const Table& table, const QuerySpec& spec,
                                                     const RelationContext* relations) {
  CompiledQuery q;
  KIN_RETURN_IF_ERROR(QueryPlanner::CompileInto(table, spec, &q, relations));
  return q;
}

absl::Status CompiledQuery::CompileInto(const Table& table, const QuerySpec& spec,
                                        CompiledQuery* out, const RelationContext* relations) {
  return QueryPlanner::CompileInto(table, spec, out, relations);
}

// --- Explain ---

namespace {

std::string DescribeRange(const OrderedRange& r) {
  if (r.lo.has_value() && r.hi.has_value() && r.lo_inclusive && r.hi_inclusive && *r.lo == *r.hi) {
    return absl::StrCat(" = ", r.lo->DebugString());
  }
  std::string out;
  if (r.lo.has_value()) {
    absl::StrAppend(&out, r.lo_inclusive ? " >= " : " > ", r.lo->DebugString());
  }
  if (r.hi.has_value()) {
    absl::StrAppend(&out, r.lo.has_value() ? " AND" : "", r.hi_inclusive ? " <= " : " < ",
                    r.hi->DebugString());
  }
  return out;
}

// NOT BETWEEN's two intervals: " < 10 OR > 20".
std::string DescribeRange(const OrderedRange& r, const std::optional<OrderedRange>& r2) {
  std::string out = DescribeRange(r);
  if (r2.has_value()) absl::StrAppend(&out, " OR", DescribeRange(*r2));
  return out;
}

}  // namespace

std::string CompiledQuery::ExplainAccess() const {
  const Table& t = *table_;
  if (IndexedMinMax().has_value()) {
    return absl::StrCat("ordered index ", QualifiedName(t.name(), t.column(aggregate_.column).name),
                        " ", aggregate_.function == AggregateFunction::kMin ? "first" : "last",
                        " entry (O(log n))");
  }
  if (access_ == Access::kScan) {
    return absl::StrCat("scan ", t.name(), " (", t.size(), " rows)");
  }
  if (composite_ != nullptr) {
    const size_t k = composite_prefix_.size();
    std::string keys;
    for (size_t i = 0; i < k; ++i) {
      absl::StrAppend(&keys, i == 0 ? " " : " AND ", t.column(composite_->columns()[i]).name, " = ",
                      composite_prefix_[i].DebugString());
    }
    const std::string& next = t.column(composite_->columns()[k]).name;
    if (range_.lo.has_value() || range_.hi.has_value()) {
      absl::StrAppend(&keys, " AND ", next, DescribeRange(range_));
    }
    if (access_ == Access::kOrderedWalk) {
      return absl::StrCat(
          "composite walk ", t.name(), t.CompositeName(*composite_), keys, ", ", next,
          walk_desc_ ? " desc" : " asc", " (composite ordered index, stops after ",
          limit_.has_value() ? SaturatingAdd(offset_, *limit_) : t.size(), " rows)");
    }
    return absl::StrCat("composite range ", t.name(), t.CompositeName(*composite_), keys,
                        " (composite ordered index, ", range_rows_, " rows)");
  }
  if (access_ == Access::kIndexRange) {
    return absl::StrCat("index range ", QualifiedName(t.name(), t.column(ordered_->column()).name),
                        DescribeRange(range_, range2_), " (ordered index, ", range_rows_, " rows)");
  }
  if (access_ == Access::kOrderedWalk) {
    return absl::StrCat("ordered walk ", QualifiedName(t.name(), t.column(ordered_->column()).name),
                        DescribeRange(range_, range2_), walk_desc_ ? " desc" : " asc",
                        " (ordered index, stops after ",
                        limit_.has_value() ? SaturatingAdd(offset_, *limit_) : t.size(), " rows)");
  }
  const Atom& a = predicate_.atoms()[probe_atom_];
  const ColumnSpec& column = t.column(a.column);
  std::string keys;
  if (access_ == Access::kIndexEq) {
    keys = absl::StrCat(" = ", a.kind == Atom::Kind::kCmpInt64 ? Value(a.i0).DebugString()
                                                               : Value(a.s0).DebugString());
  } else {
    keys = " IN (";
    size_t n = a.kind == Atom::Kind::kInInt64 ? a.ints.size() : a.strings.size();
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&keys, i == 0 ? "" : ", ",
                      a.kind == Atom::Kind::kInInt64 ? Value(a.ints[i]).DebugString()
                                                     : Value(a.strings[i]).DebugString());
    }
    absl::StrAppend(&keys, ")");
  }
  absl::string_view kind = column.primary_key ? "primary key"
                           : column.unique    ? "unique index"
                                              : "secondary index";
  return absl::StrCat("index probe ", QualifiedName(t.name(), column.name), keys, " (", kind, ", ",
                      probe_rows().size(), " rows)");
}

std::string CompiledQuery::Explain(const QuerySpec& spec) const {
  std::string out = ExplainAccess();
  if (!spec.conditions.empty() || !spec.scope.empty()) {
    absl::StrAppend(&out, " | filter: ", DescribeConditions(EffectiveConditions(spec)));
  }
  for (size_t i = 0; i < spec.order_by.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? " | order by " : ", ", spec.order_by[i].column, " ",
                    OrderName(spec.order_by[i].order));
  }
  if (spec.offset.has_value()) absl::StrAppend(&out, " | offset ", *spec.offset);
  if (spec.limit.has_value()) absl::StrAppend(&out, " | limit ", *spec.limit);
  if (spec.aggregate.has_value()) {
    absl::StrAppend(&out, " | ", AggregateFunctionName(spec.aggregate->function), "(",
                    spec.aggregate->column, ")");
  }
  if (!spec.alias.empty()) absl::StrAppend(&out, " as ", spec.alias);
  for (const Atom& a : predicate_.atoms()) {
    if (a.kind == Atom::Kind::kRelation)
      absl::StrAppend(&out, " | relation: ", a.relation->Explain());
  }
  return out;
}

}  // namespace internal
}  // namespace kin
