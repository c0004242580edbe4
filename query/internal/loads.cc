#include "query/internal/loads.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/port.h"
#include "kin/result_set.h"
#include "kin/status_macros.h"
#include "query/internal/aggregate.h"
#include "query/internal/compiled_query.h"
#include "query/internal/pivot.h"
#include "query/internal/relation_errors.h"
#include "query/internal/relation_plan.h"

namespace kin {
namespace internal {

namespace {

RelatedUse UseOf(RelationLoadSpec::Kind kind) {
  switch (kind) {
    case RelationLoadSpec::Kind::kPreload:
      return RelatedUse::kPreload;
    case RelationLoadSpec::Kind::kCount:
      return RelatedUse::kWithCount;
    case RelationLoadSpec::Kind::kAggregate:
      return RelatedUse::kWithAggregate;
  }
  return RelatedUse::kPreload;
}

// The name an extra is attached under.
std::string ExtraName(const RelationLoadSpec& load) {
  if (load.kind == RelationLoadSpec::Kind::kCount && load.query.alias.empty()) {
    return absl::StrCat(load.relation, "_count");
  }
  return load.query.alias;
}

struct ResolvedLoad {
  const RelationSpec* spec;
  const Table* to;
  const Table* through;  // RelationSpec::via(): the second table
};

absl::StatusOr<ResolvedLoad> ResolveLoad(const RelationContext& context, const Table& table,
                                         const RelationLoadSpec& load) {
  if (context.relations == nullptr || context.engine == nullptr) {
    absl::string_view method = load.kind == RelationLoadSpec::Kind::kPreload ? "Preload"
                               : load.kind == RelationLoadSpec::Kind::kCount ? "WithCount"
                                                                             : "WithAggregate";
    return errors::NoRelationCatalog(table.name(), method);
  }
  KIN_ASSIGN_OR_RETURN(const RelationSpec* spec,
                       context.relations->Get(table.name(), load.relation));
  KIN_ASSIGN_OR_RETURN(const Table* to, context.engine->GetTable(spec->related_table));
  const Table* through = nullptr;
  if (spec->via()) {
    KIN_ASSIGN_OR_RETURN(through, context.engine->GetTable(spec->through_table));
  }
  return ResolvedLoad{spec, to, through};
}

// Packs per-row aggregate results: unboxed when every value is an int64 or
// NULL (and `int_result` says the aggregate yields int64).
void PackValues(std::vector<Value> values, bool int_result, RowSetData::Extra* e) {
  if (!int_result) {
    e->values = std::move(values);
    return;
  }
  e->unboxed = true;
  e->ints.resize(values.size());
  bool any_null = false;
  for (const Value& v : values) any_null = any_null || v.is_null();
  if (any_null) e->nulls.assign(values.size(), 0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) {
      e->nulls[i] = 1;
    } else {
      e->ints[i] = values[i].AsInt64();
    }
  }
}

// One scan of the related table, accumulating the aggregate per key of
// `rows`; then one result per row. The same results as CompiledQuery::
// Aggregate over each row's related rows (double sums may differ in the
// last bits: the rows are added in slot order, not index order).
absl::Status ScanAggregate(const RelationHop& hop, const CompiledQuery& child,
                           std::span<const RowId> rows, RowSetData::Extra* e) {
  const CompiledAggregate& a = child.aggregate();
  const CompiledQuery* filter = child.predicate().always_true() ? nullptr : &child;
  const KeySlots slots(hop, rows);
  // Without a filter or NULLs, a row has an int64 Min / Max exactly when
  // its index list is non-empty: the accumulator need not flag the keys it
  // saw (one store less per related row).
  const bool presence = filter != nullptr || (!a.star && a.validity != nullptr);
  Accumulator acc(hop.to(), a, slots.size(), presence);
  acc.Accumulate([&](auto&& add) {
    ScanRelated(hop, filter, slots, [&](size_t s, RowId r) { add(s, r.value); });
  });
  const size_t m = rows.size();
  if (!a.yields_int64()) {
    e->values.resize(m);
    for (size_t i = 0; i < m; ++i) {
      const int64_t s = slots.FromSlot(rows[i]);
      if (s < 0) continue;
      KIN_ASSIGN_OR_RETURN(e->values[i], acc.Result(static_cast<size_t>(s)));
    }
    return absl::OkStatus();
  }
  e->unboxed = true;
  e->ints.assign(m, 0);
  const Value empty = acc.EmptyResult();
  for (size_t i = 0; i < m; ++i) {
    const int64_t s = slots.FromSlot(rows[i]);
    std::optional<int64_t> v;
    if (s >= 0) {
      KIN_ASSIGN_OR_RETURN(
          v, acc.IntResult(static_cast<size_t>(s), [&] { return !hop.Related(rows[i]).empty(); }));
    } else if (!empty.is_null()) {
      v = empty.AsInt64();
    }
    if (v.has_value()) {
      e->ints[i] = *v;
      continue;
    }
    if (e->nulls.empty()) e->nulls.assign(m, 0);
    e->nulls[i] = 1;
  }
  return absl::OkStatus();
}

// A Preload's related query, compiled into up to three steps run per
// parent:
//  1. the relation's window, when its on_query recorded a Limit or
//     Offset: the filtered rows in `listed` order (on_query's OrderBy
//     keys, then the callback's), offset and limit applied per parent;
//  2. the group window (GroupLimit / GroupOrderBy): the rows ranked by
//     GroupOrderBy, else by primary key descending (Lucid's groupLimit
//     default: the newest n), the first GroupLimit kept;
//  3. when step 2 ranked them and `listed` is not empty, the kept rows
//     shown in `listed` order (stable: rank order breaks its ties).
// Without steps 1 and 2, one filtered select in `listed` order.
struct PreloadSteps {
  // Filters (step 1, else step 2, else the only select).
  CompiledQuery child;
  // Step 2 after step 1 (no filter: its input is filtered already).
  std::optional<CompiledQuery> rank;
  std::optional<CompiledQuery> reorder;  // step 3
  bool relation_window = false;
  size_t relation_offset = 0;
  std::optional<size_t> relation_limit;
  std::optional<size_t> window;  // GroupLimit
  // Step 2 by a walk of this composite index per parent (PlannedLoad).
  const CompositeIndex* group_walk = nullptr;
  // Every related row, in index order: nothing to filter, order or cut.
  bool copy = false;
  // A ManyToMany's GroupOrderBy naming a pivot column: steps 1 to 3 run on
  // (related row, link) pairs per parent (PivotRankedSelect), `child`
  // filtering (and ordering step 1) and this ranking.
  std::optional<PivotRank> pivot_rank;
};

// The first column GroupLimit ranks by: GroupOrderBy's, else the primary
// key (descending).
OrderSpec RankKey(const Table& to, const QuerySpec& sub) {
  if (!sub.group_order_by.empty()) return sub.group_order_by[0];
  return OrderSpec{to.column(to.primary_key()).name, Order::kDesc};
}

// A walk costs two descents of the index (about 2 log2 n comparisons, each
// reading two cells) plus the window's rows; the partial sort reads every
// child once. So the walk is taken when the window is small against the
// children per parent: at 1M posts, 4 * 20 + window children a parent
// (group_limit_benchmark measured the two even at about 100).
constexpr double kDescentCost = 2.0;

// The composite index a Preload's GroupLimit can walk per parent, by cost;
// null when there is none or the per-parent sort is cheaper. Not with a
// relation window (GroupLimit then ranks that window's rows, not the
// index's).
const CompositeIndex* ChooseGroupWalk(const RelationHop& hop, const QuerySpec& sub) {
  const Table& to = hop.to();
  if (hop.spec().kind != RelationKind::kHasMany || !sub.group_limit.has_value() ||
      sub.relation_limit.has_value() || sub.relation_offset.has_value() ||
      to.composite_indexes().empty()) {
    return nullptr;
  }
  std::optional<ColumnId> fk = to.FindColumn(hop.spec().foreign_key);
  std::optional<ColumnId> rank = to.FindColumn(RankKey(to, sub).column);
  if (!fk.has_value() || !rank.has_value()) return nullptr;
  const double descents = kDescentCost * 2 * std::log2(static_cast<double>(to.size()) + 2);
  const double window = static_cast<double>(*sub.group_limit);
  if (descents + window >= hop.AverageFanout()) return nullptr;
  for (const auto& index : to.composite_indexes()) {
    if (index->columns()[0] == *fk && index->columns()[1] == *rank) return index.get();
  }
  return nullptr;
}

absl::Status CompilePreloadSteps(const RelationContext& context, const RelationHop& hop,
                                 const QuerySpec& sub, size_t num_rows, PreloadSteps* out) {
  std::vector<OrderSpec> listed = sub.relation_order_by;
  listed.insert(listed.end(), sub.order_by.begin(), sub.order_by.end());
  out->relation_window = sub.relation_limit.has_value() || sub.relation_offset.has_value();
  const bool group_window = sub.group_limit.has_value() || !sub.group_order_by.empty();
  auto compile = [&](std::vector<OrderSpec> order, bool filter, const RelationContext* ctx,
                     CompiledQuery* q) -> absl::Status {
    QuerySpec spec;
    spec.table = sub.table;
    if (filter) {
      spec.scope = sub.scope;
      spec.conditions = sub.conditions;
    }
    spec.order_by = std::move(order);
    absl::Status s = CompiledQuery::CompileInto(hop.to(), spec, q, ctx);
    return s.ok() ? s : errors::InRelatedQuery("Preload", hop.name(), s);
  };
  std::vector<OrderSpec> rank_order = sub.group_order_by;
  if (group_window && rank_order.empty()) rank_order.push_back(RankKey(hop.to(), sub));
  // Preload walks: the filter's relation conditions see each row's list.
  RelationContext walk = context;
  walk.candidate_rows = ProbedRows(num_rows, hop);
  const bool pivot_rank = RanksByPivot(rank_order);
  if (pivot_rank) {
    out->pivot_rank.emplace();
    absl::Status s = PivotRank::Compile(hop, rank_order, &*out->pivot_rank);
    if (!s.ok()) return errors::InRelatedQuery("Preload", hop.name(), s);
  }
  KIN_RETURN_IF_ERROR(
      compile(out->relation_window || !group_window || pivot_rank ? listed : rank_order,
              /*filter=*/true, &walk, &out->child));
  if (out->relation_window && group_window && !pivot_rank) {
    out->rank.emplace();
    KIN_RETURN_IF_ERROR(compile(rank_order, /*filter=*/false, nullptr, &*out->rank));
  }
  if (group_window && !listed.empty()) {
    out->reorder.emplace();
    KIN_RETURN_IF_ERROR(compile(listed, /*filter=*/false, nullptr, &*out->reorder));
  }
  if (out->relation_window) {
    out->relation_offset = static_cast<size_t>(sub.relation_offset.value_or(0));
  }
  if (sub.relation_limit.has_value()) {
    out->relation_limit = static_cast<size_t>(*sub.relation_limit);
  }
  if (sub.group_limit.has_value()) out->window = static_cast<size_t>(*sub.group_limit);
  out->copy = out->child.predicate().always_true() && out->child.order().empty() && !out->window &&
              !out->relation_window && !pivot_rank;
  return absl::OkStatus();
}

// Step 2 (and 3) for one parent by a walk of steps.group_walk.
void GroupWalk(const PreloadSteps& steps, const RelationHop& hop, RowId row,
               std::vector<RowId>* kids) {
  if (hop.FromNull(row)) return;
  const Value key = hop.key_type() == Type::kInt64 ? Value(hop.FromInt(row))
                                                   : Value(std::string(hop.FromString(row)));
  std::optional<std::span<const RowId>> list;
  if (!hop.RelatedInSlotOrder()) list = hop.Related(row);
  const size_t start = kids->size();
  steps.child.SelectPrefixWalk(*steps.group_walk, key, *steps.window, list, kids);
  if (steps.reorder.has_value()) {
    steps.reorder->order().Sort(kids->data() + start, kids->size() - start);
  }
}

// Steps 1 to 3 for one parent's related rows and their links when the
// group window ranks by a pivot column: each row is ranked with the link it
// came by, so the pairs are filtered, cut and sorted together (stably:
// ties keep link order). `picked` is scratch.
void PivotRankedSelect(const PreloadSteps& steps, std::span<const RowId> related,
                       std::span<const RowId> links, std::vector<uint32_t>* picked,
                       std::vector<RowId>* kids, std::vector<RowId>* kid_links) {
  picked->clear();
  for (uint32_t p = 0; p < related.size(); ++p) {
    if (steps.child.Matches(related[p])) picked->push_back(p);
  }
  auto by_rows = [&](const CompiledOrder& order) {
    std::stable_sort(picked->begin(), picked->end(), [&](uint32_t a, uint32_t b) {
      return order.Compare(related[a], related[b]) < 0;
    });
  };
  if (steps.relation_window) {
    if (!steps.child.order().empty()) by_rows(steps.child.order());
    const size_t from = std::min(steps.relation_offset, picked->size());
    picked->erase(picked->begin(), picked->begin() + static_cast<std::ptrdiff_t>(from));
    if (steps.relation_limit.has_value() && picked->size() > *steps.relation_limit) {
      picked->resize(*steps.relation_limit);
    }
  }
  std::stable_sort(picked->begin(), picked->end(), [&](uint32_t a, uint32_t b) {
    return steps.pivot_rank->Compare(related[a], links[a], related[b], links[b]) < 0;
  });
  if (steps.window.has_value() && picked->size() > *steps.window) picked->resize(*steps.window);
  if (steps.reorder.has_value()) by_rows(steps.reorder->order());
  for (uint32_t p : *picked) {
    kids->push_back(related[p]);
    kid_links->push_back(links[p]);
  }
}

// Runs `steps` for every row (`distinct_rows` as RunLoads's): the related
// rows into `kids`, parent after parent, and each parent's end into
// `offsets`; when ranked by a pivot column, or when `copy_links` asks for
// them and the rows are copied as listed, each kid's link into `kid_links`
// (else it stays empty).
void RunPreloadSteps(const PreloadSteps& steps, const RelationHop& hop, std::span<const RowId> rows,
                     bool distinct_rows, bool copy_links, std::vector<uint32_t>* offsets,
                     std::vector<RowId>* kids, std::vector<RowId>* kid_links) {
  const double per_row = hop.AverageFanout();
  kids->reserve(static_cast<size_t>(static_cast<double>(rows.size()) *
                                    (steps.window.has_value()
                                         ? std::min(per_row, static_cast<double>(*steps.window))
                                         : per_row)));
  // A plain copy of a ManyToMany's or HasManyThrough's rows, each parent
  // read once, goes straight from the pivot lists to `kids`. Where a
  // parent repeats, its list is gathered once and kept (GatherAhead).
  if (distinct_rows && steps.copy && steps.group_walk == nullptr &&
      hop.GatherInto(rows, offsets, kids, copy_links ? kid_links : nullptr)) {
    return;
  }
  // Probe every row's list first, then read them: the probes' cache misses
  // overlap instead of alternating with the lists' own.
  SortScratch scratch;           // per-parent sorts share it: no allocation per parent
  std::vector<RowId> in_window;  // step 1's rows, when step 2 follows
  std::vector<uint32_t> picked;  // PivotRankedSelect's
  std::vector<std::span<const RowId>> lists(rows.size());
  if (steps.group_walk == nullptr) {
    hop.GatherAhead(rows);
    for (size_t i = 0; i < rows.size(); ++i) lists[i] = hop.Related(rows[i]);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + 4 < rows.size() && !lists[i + 4].empty()) KIN_PREFETCH(lists[i + 4].data());
    std::span<const RowId> related = lists[i];
    if (steps.copy) {
      kids->insert(kids->end(), related.begin(), related.end());
      if (copy_links) {
        const std::span<const RowId> links = hop.RelatedLinks(rows[i]);
        kid_links->insert(kid_links->end(), links.begin(), links.end());
      }
    } else if (steps.group_walk != nullptr) {
      GroupWalk(steps, hop, rows[i], kids);
    } else if (steps.pivot_rank.has_value()) {
      PivotRankedSelect(steps, related, hop.RelatedLinks(rows[i]), &picked, kids, kid_links);
    } else if (!related.empty()) {
      const size_t start = kids->size();
      if (!steps.relation_window) {
        steps.child.Select(related, 0, steps.window, kids, &scratch);
      } else if (!steps.rank.has_value()) {
        steps.child.Select(related, steps.relation_offset, steps.relation_limit, kids, &scratch);
      } else {
        in_window.clear();
        steps.child.Select(related, steps.relation_offset, steps.relation_limit, &in_window,
                           &scratch);
        steps.rank->Select(in_window, 0, steps.window, kids, &scratch);
      }
      if (steps.reorder.has_value()) {
        steps.reorder->order().Sort(kids->data() + start, kids->size() - start, SIZE_MAX, &scratch);
      }
    }
    offsets->push_back(static_cast<uint32_t>(kids->size()));
  }
}

// Drops the NULL marks of the unboxed pivot extras [first, first + n) of
// `children` that have no NULL.
void FinishPivotColumns(size_t first, size_t n, RowSetData* children) {
  for (size_t c = 0; c < n; ++c) {
    RowSetData::Extra& e = children->extras[first + c];
    if (e.unboxed && std::find(e.nulls.begin(), e.nulls.end(), 1) == e.nulls.end()) e.nulls.clear();
  }
}

// A ManyToMany preload's pivot columns (RelationSpec::pivot_columns) as
// extras of its related rows, named "pivot_{column}" as Lucid's $extras:
// each preloaded row gets the values of the link it came by. The hop
// gathered each parent's rows with their links (filtered by the scope and
// any WherePivot), and every preload step is stable, so the k-th time a
// row appears among a parent's preloaded rows is the k-th time it appears
// in that list: the cost is the parent's links plus its preloaded rows.
absl::Status AttachPivotColumns(const PlannedLoad& planned, const RelationHop& hop,
                                std::span<const RowId> rows, const std::vector<uint32_t>& offsets,
                                const std::vector<RowId>& kids, const std::vector<RowId>& kid_links,
                                RowSetData* children) {
  const RelationSpec& spec = *planned.relation;
  const Table& pivot = *planned.through;
  std::vector<ColumnId> columns;
  for (const std::string& name : spec.pivot_columns) {
    KIN_ASSIGN_OR_RETURN(ColumnId c, pivot.GetColumn(name));
    columns.push_back(c);
  }
  // An int64 pivot column is attached unboxed (as WithCount's extras).
  const size_t first = children->extras.size();
  for (size_t c = 0; c < columns.size(); ++c) {
    RowSetData::Extra& e = children->extras.emplace_back();
    e.name = absl::StrCat("pivot_", spec.pivot_columns[c]);
    e.unboxed = pivot.column(columns[c]).type == Type::kInt64;
    if (e.unboxed) {
      e.ints.assign(kids.size(), 0);
      e.nulls.assign(kids.size(), 1);
    } else {
      e.values.resize(kids.size());
    }
  }
  // A parent's links are few as a rule: matched by a scan of its list; a
  // long list is indexed by row instead (first position, then the next
  // position holding the same row).
  constexpr size_t kScanLinks = 32;
  constexpr uint32_t kNone = UINT32_MAX;
  auto write = [&](uint32_t k, RowId link) {
    for (size_t c = 0; c < columns.size(); ++c) {
      RowSetData::Extra& e = children->extras[first + c];
      if (!e.unboxed) {
        e.values[k] = pivot.GetValue(link, columns[c]);
      } else if (!pivot.IsNull(link, columns[c])) {
        e.ints[k] = pivot.Int64Column(columns[c])[link.value];
        e.nulls[k] = 0;
      }
    }
  };
  if (!kid_links.empty()) {
    // Each kid's link came with it: copied as listed, or ranked by a pivot
    // column (where a row linked twice may have moved against its other
    // link).
    for (uint32_t k = 0; k < kids.size(); ++k) write(k, kid_links[k]);
    FinishPivotColumns(first, columns.size(), children);
    return absl::OkStatus();
  }
  std::vector<uint8_t> used;
  std::vector<uint32_t> next;
  absl::flat_hash_map<uint32_t, uint32_t> first_at;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (offsets[i] == offsets[i + 1]) continue;
    const std::span<const RowId> related = hop.Related(rows[i]);
    const std::span<const RowId> links = hop.RelatedLinks(rows[i]);
    const bool scan = related.size() <= kScanLinks;
    if (scan) {
      used.assign(related.size(), 0);
    } else {
      first_at.clear();
      next.assign(related.size(), kNone);
      for (size_t p = related.size(); p-- > 0;) {
        auto [it, fresh] = first_at.try_emplace(related[p].value, static_cast<uint32_t>(p));
        if (!fresh) {
          next[p] = it->second;
          it->second = static_cast<uint32_t>(p);
        }
      }
    }
    for (uint32_t k = offsets[i]; k < offsets[i + 1]; ++k) {
      uint32_t at = kNone;
      if (scan) {
        for (size_t p = 0; p < related.size(); ++p) {
          if (!used[p] && related[p] == kids[k]) {
            used[p] = 1;
            at = static_cast<uint32_t>(p);
            break;
          }
        }
      } else if (auto it = first_at.find(kids[k].value); it != first_at.end()) {
        at = it->second;
        it->second = next[at];
        if (it->second == kNone) first_at.erase(it);
      }
      if (at != kNone) write(k, links[at]);  // else stays NULL
    }
  }
  FinishPivotColumns(first, columns.size(), children);
  return absl::OkStatus();
}

absl::Status RunPreload(const RelationContext& context, const RelationHop& hop,
                        const PlannedLoad& planned, std::span<const RowId> rows, bool distinct_rows,
                        RowSetData* data) {
  const RelationLoadSpec& load = *planned.load;
  const QuerySpec& sub = load.query;
  PreloadSteps steps;
  KIN_RETURN_IF_ERROR(CompilePreloadSteps(context, hop, sub, rows.size(), &steps));
  steps.group_walk = planned.group_walk;
  RowSetData::Preload preload;
  preload.name = load.relation;
  preload.offsets.reserve(rows.size() + 1);
  preload.offsets.push_back(0);
  std::vector<RowId> kids;
  // Each kid's link, when pivot columns are attached and the kids are the
  // links' rows as listed or ranked by a pivot column.
  std::vector<RowId> kid_links;
  const bool pivot_columns = planned.relation->kind == RelationKind::kManyToMany &&
                             !planned.relation->pivot_columns.empty();
  RunPreloadSteps(steps, hop, rows, distinct_rows, pivot_columns, &preload.offsets, &kids,
                  &kid_links);
  preload.children = ResultSet::MakeData(hop.to(), kids, *data);
  preload.children->selected = planned.selected;
  if (pivot_columns) {
    KIN_RETURN_IF_ERROR(AttachPivotColumns(planned, hop, rows, preload.offsets, kids, kid_links,
                                           preload.children.get()));
  }
  // The same child under two parents (a quest two players took) is two
  // rows of `kids`.
  KIN_RETURN_IF_ERROR(RunLoads(context, hop.to(), *planned.children, kids, /*distinct_rows=*/false,
                               preload.children.get()));
  data->preloads.push_back(std::move(preload));
  return absl::OkStatus();
}

absl::Status RunCount(const RelationContext& context, const RelationHop& hop,
                      const RelationLoadSpec& load, std::span<const RowId> rows, RowSetData* data) {
  KIN_ASSIGN_OR_RETURN(std::unique_ptr<CompiledQuery> filter,
                       CompileRelatedFilter(context, hop, RelatedUse::kWithCount, load.query));
  RowSetData::Extra e;
  e.name = ExtraName(load);
  e.unboxed = true;
  e.ints.resize(rows.size());
  const bool filtered = filter != nullptr;
  const HopPlan plan = ChooseHopPlan(rows.size(), hop, filter.get(), filtered, rows.size());
  if (filtered) filter->PrepareRelations(VisitedRows(plan, rows.size(), hop, *filter));
  if (plan == HopPlan::kProbe && !filtered && hop.CountIndex() != nullptr) {
    // Each row's count is its key's list size, read in one pass.
    hop.CountEach(rows, e.ints.data());
  } else if (plan != HopPlan::kProbe) {
    const KeySlots slots(hop, rows);
    std::vector<uint32_t> counts(slots.size(), 0);
    if (plan == HopPlan::kIndexScan) {
      IndexCounts(hop, slots, counts.data());
    } else {
      ScanRelated(hop, filter.get(), slots, [&](size_t s, RowId) { ++counts[s]; });
    }
    if (slots.dense() && hop.FromDenseReady()) {
      // The hot case inline: compact NOT NULL int64 keys.
      const uint64_t min = static_cast<uint64_t>(slots.min());
      for (size_t i = 0; i < rows.size(); ++i) {
        const uint64_t off = static_cast<uint64_t>(hop.FromInt(rows[i])) - min;
        e.ints[i] = off < slots.size() ? counts[off] : 0;
      }
    } else {
      for (size_t i = 0; i < rows.size(); ++i) {
        int64_t s = slots.FromSlot(rows[i]);
        e.ints[i] = s < 0 ? 0 : counts[static_cast<size_t>(s)];
      }
    }
  } else if (filtered) {
    for (size_t i = 0; i < rows.size(); ++i) {
      e.ints[i] = static_cast<int64_t>(filter->Count(hop.Related(rows[i])));
    }
  } else {
    for (size_t i = 0; i < rows.size(); ++i) {
      e.ints[i] = static_cast<int64_t>(hop.RelatedCount(rows[i]));
    }
  }
  data->extras.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status RunAggregate(const RelationContext& context, const RelationHop& hop,
                          const RelationLoadSpec& load, std::span<const RowId> rows,
                          RowSetData* data) {
  if (load.query.aggregate.has_value() && load.query.aggregate->pivot) {
    // SumPivot...: over each parent's links, walked (a via() hop probes).
    PivotAggregate pivot;
    KIN_RETURN_IF_ERROR(
        PivotAggregate::Compile(context, hop, RelatedUse::kWithAggregate, load.query, &pivot));
    pivot.Prepare(rows.size());
    std::vector<Value> values;
    values.reserve(rows.size());
    for (RowId r : rows) {
      absl::StatusOr<Value> v = pivot.Of(r);
      if (!v.ok()) return errors::InRelatedQuery("WithAggregate", hop.name(), v.status());
      values.push_back(*std::move(v));
    }
    RowSetData::Extra e;
    e.name = ExtraName(load);
    PackValues(std::move(values), pivot.aggregate().yields_int64(), &e);
    data->extras.push_back(std::move(e));
    return absl::OkStatus();
  }
  CompiledQuery child;
  const RelationContext deferred = DeferredContext(context);
  if (absl::Status s = CompiledQuery::CompileInto(hop.to(), load.query, &child, &deferred);
      !s.ok()) {
    return errors::InRelatedQuery("WithAggregate", hop.name(), s);
  }
  RowSetData::Extra e;
  e.name = ExtraName(load);
  const bool filtered = !child.predicate().always_true();
  const bool visits = filtered || !child.aggregate().star;
  // CountDistinct keeps a set per row: its scan would hold one per key at
  // once, so it always probes (the results are the same either way). A
  // via() hop's related rows have nothing to be scanned by.
  const HopPlan plan =
      child.aggregate().function == AggregateFunction::kCountDistinct || hop.via()
          ? HopPlan::kProbe
          : ChooseHopPlan(rows.size(), hop, filtered ? &child : nullptr, visits, rows.size());
  child.PrepareRelations(VisitedRows(plan, rows.size(), hop, child));
  if (plan != HopPlan::kProbe) {
    KIN_RETURN_IF_ERROR(ScanAggregate(hop, child, rows, &e));
  } else if (!filtered && child.aggregate().star && hop.CountIndex() != nullptr) {
    // Count("*") of every related row: each row's list size, as WithCount.
    e.unboxed = true;
    e.ints.resize(rows.size());
    hop.CountEach(rows, e.ints.data());
  } else {
    std::vector<Value> values;
    values.reserve(rows.size());
    for (RowId r : rows) {
      KIN_ASSIGN_OR_RETURN(Value v, child.Aggregate(hop.Related(r)));
      values.push_back(std::move(v));
    }
    PackValues(std::move(values), child.aggregate().yields_int64(), &e);
  }
  data->extras.push_back(std::move(e));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> SelectedColumns(const Table& table, const QuerySpec& spec) {
  std::vector<uint8_t> out;
  if (spec.select.empty()) return out;
  out.assign(table.num_columns(), 0);
  for (const std::string& name : spec.select) {
    std::optional<ColumnId> c = table.FindColumn(name);
    if (!c.has_value()) return errors::UnknownColumn(table.name(), name);
    out[c->value] = 1;
  }
  return out;
}

namespace {

std::atomic<int64_t> g_relation_lookups{0};

// What a ManyToMany's related query records on the pivot table, compiled
// once at plan time, so that Count, Aggregate, Update and Delete (which
// plan loads without running them) report a bad pivot column too.
absl::Status CheckPivot(const RelationContext& context, const Table& table, const ResolvedLoad& r,
                        RelatedUse use, const QuerySpec& sub) {
  if (r.spec->kind != RelationKind::kManyToMany || DescribePivotUse(sub).empty()) {
    return absl::OkStatus();
  }
  KIN_ASSIGN_OR_RETURN(RelationHop hop, RelationHop::Make(table, *r.spec, *r.to, r.through));
  KIN_RETURN_IF_ERROR(ApplyPivotFilter(&hop, use, sub));
  if (RanksByPivot(sub.group_order_by)) {
    PivotRank rank;
    absl::Status s = PivotRank::Compile(hop, sub.group_order_by, &rank);
    if (!s.ok()) return errors::InRelatedQuery(RelatedUseName(use), hop.name(), s);
  }
  if (sub.aggregate.has_value() && sub.aggregate->pivot) {
    PivotAggregate aggregate;
    KIN_RETURN_IF_ERROR(PivotAggregate::Compile(context, hop, use, sub, &aggregate));
  }
  return absl::OkStatus();
}

// Plans one Preload: its children's columns and loads.
absl::Status PlanPreload(const RelationContext& context, const Table& from, PlannedLoad* p) {
  const RelationLoadSpec& load = *p->load;
  absl::StatusOr<std::vector<uint8_t>> selected = SelectedColumns(*p->to, load.query);
  if (!selected.ok()) {
    return errors::InRelatedQuery("Preload", p->relation->QualifiedName(), selected.status());
  }
  p->selected = *std::move(selected);
  if (p->relation->parent_side()) {
    absl::StatusOr<RelationHop> hop = RelationHop::Make(from, *p->relation, *p->to, p->through);
    if (hop.ok()) p->group_walk = ChooseGroupWalk(*hop, load.query);
  }
  p->children = std::make_unique<LoadLevel>();
  absl::Status nested = PlanLoads(context, *p->to, load.query, p->children.get());
  if (!nested.ok()) return errors::InRelatedQuery("Preload", p->relation->QualifiedName(), nested);
  return absl::OkStatus();
}

}  // namespace

absl::Status PlanLoads(const RelationContext& context, const Table& table, const QuerySpec& spec,
                       LoadLevel* out) {
  out->loads.clear();
  std::vector<absl::string_view> preloads;
  std::vector<std::string> extras;
  for (const RelationLoadSpec& load : spec.loads) {
    g_relation_lookups.fetch_add(1, std::memory_order_relaxed);
    KIN_ASSIGN_OR_RETURN(ResolvedLoad r, ResolveLoad(context, table, load));
    KIN_RETURN_IF_ERROR(CheckRelatedSpec(*r.spec, UseOf(load.kind), load.query));
    KIN_RETURN_IF_ERROR(CheckPivot(context, table, r, UseOf(load.kind), load.query));
    PlannedLoad& p = out->loads.emplace_back();
    p.load = &load;
    p.relation = r.spec;
    p.to = r.to;
    p.through = r.through;
    p.from = &table;
    if (load.kind == RelationLoadSpec::Kind::kPreload) {
      if (std::find(preloads.begin(), preloads.end(), load.relation) != preloads.end()) {
        return errors::DuplicatePreload(table.name(), load.relation);
      }
      preloads.push_back(load.relation);
      KIN_RETURN_IF_ERROR(PlanPreload(context, table, &p));
      continue;
    }
    std::string name = ExtraName(load);
    if (std::find(extras.begin(), extras.end(), name) != extras.end()) {
      return errors::DuplicateExtra(table.name(), name);
    }
    extras.push_back(std::move(name));
  }
  return absl::OkStatus();
}

absl::Status ValidateLoads(const RelationContext& context, const Table& table,
                           const QuerySpec& spec) {
  LoadLevel level;
  return PlanLoads(context, table, spec, &level);
}

absl::Status RunLoads(const RelationContext& context, const Table& table, const LoadLevel& level,
                      std::span<const RowId> rows, bool distinct_rows, RowSetData* data) {
  for (const PlannedLoad& p : level.loads) {
    KIN_ASSIGN_OR_RETURN(RelationHop hop, RelationHop::Make(table, *p.relation, *p.to, p.through));
    KIN_RETURN_IF_ERROR(ApplyPivotFilter(&hop, UseOf(p.load->kind), p.load->query));
    switch (p.load->kind) {
      case RelationLoadSpec::Kind::kPreload:
        KIN_RETURN_IF_ERROR(RunPreload(context, hop, p, rows, distinct_rows, data));
        break;
      case RelationLoadSpec::Kind::kCount:
        KIN_RETURN_IF_ERROR(RunCount(context, hop, *p.load, rows, data));
        break;
      case RelationLoadSpec::Kind::kAggregate:
        KIN_RETURN_IF_ERROR(RunAggregate(context, hop, *p.load, rows, data));
        break;
    }
  }
  return absl::OkStatus();
}

namespace {

// The to-side key a load probes per row: "posts.user_id"; through a second
// table, both steps: "player_quest.player_id then quests.id".
std::string ProbedKey(const PlannedLoad& p) {
  const RelationSpec& r = *p.relation;
  if (r.via()) {
    return absl::StrCat(QualifiedName(r.through_table, r.foreign_key), " then ",
                        QualifiedName(p.to->name(), r.related_key));
  }
  return QualifiedName(p.to->name(), r.parent_side() ? r.foreign_key : r.local_key);
}

void ExplainLevel(const LoadLevel& level, const std::string& prefix, std::string* out) {
  for (const PlannedLoad& p : level.loads) {
    const RelationLoadSpec& load = *p.load;
    const QuerySpec& q = load.query;
    const std::string path = absl::StrCat(prefix, p.relation->QualifiedName());
    if (load.kind != RelationLoadSpec::Kind::kPreload) {
      const bool count = load.kind == RelationLoadSpec::Kind::kCount;
      // A via() relation has no related key to scan by; a ManyToMany's
      // plain counts may come from one pass over the pivot's index.
      const RelationSpec& r = *p.relation;
      const std::string alternative =
          !r.via() ? absl::StrCat(" or one scan of ", p.to->name(), ", by cost")
          : count && r.kind == RelationKind::kManyToMany
              ? absl::StrCat(" or one pass over the index of ",
                             QualifiedName(r.through_table, r.foreign_key), ", by cost")
              : std::string();
      absl::StrAppend(out, " | ", count ? "with count " : "with aggregate ", path, " as ",
                      ExtraName(load), ": index probe ", ProbedKey(p), " per row", alternative);
    } else if (p.group_walk != nullptr) {
      const OrderSpec rank = RankKey(*p.to, q);
      absl::StrAppend(out, " | preload ", path, ": composite walk ", p.to->name(),
                      p.to->CompositeName(*p.group_walk), " per row, ", rank.column, " ",
                      OrderName(rank.order), " (stops after ", *q.group_limit, " rows)");
    } else {
      absl::StrAppend(out, " | preload ", path, ": index probe ", ProbedKey(p), " per row");
    }
    if (!q.conditions.empty() || !q.scope.empty()) {
      absl::StrAppend(out, " (filter: ", DescribeConditions(EffectiveConditions(q)), ")");
    }
    if (!q.pivot_conditions.empty()) {
      absl::StrAppend(out, " (pivot filter per link: ", DescribeConditions(q.pivot_conditions),
                      ")");
    }
    if (RanksByPivot(q.group_order_by)) absl::StrAppend(out, " (ranked with each row's link)");
    for (size_t i = 0; i < q.order_by.size(); ++i) {
      absl::StrAppend(out, i == 0 ? " (order by " : ", ", q.order_by[i].column, " ",
                      OrderName(q.order_by[i].order), i + 1 == q.order_by.size() ? ")" : "");
    }
    if (q.group_limit.has_value()) absl::StrAppend(out, " (group limit ", *q.group_limit, ")");
    if (p.children != nullptr) ExplainLevel(*p.children, absl::StrCat(path, " > "), out);
  }
}

}  // namespace

std::string ExplainLoads(const LoadLevel& level) {
  std::string out;
  ExplainLevel(level, "", &out);
  return out;
}

int64_t RelationLookupsForTesting() { return g_relation_lookups.load(std::memory_order_relaxed); }

}  // namespace internal
}  // namespace kin
