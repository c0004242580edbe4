#include "query/internal/relation_plan.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/port.h"
#include "kin/status_macros.h"
#include "query/internal/relation_errors.h"

namespace kin {
namespace internal {

namespace {

RelationStrategy g_forced_strategy = RelationStrategy::kAuto;

// The cost model, in rough nanoseconds per unit, fitted on the relations
// benchmark (100k users, 1M posts, 2 shared cores): an index probe is a hash
// lookup into a table larger than the caches; a related row reached through
// the index is a random read of each column the filter or aggregate
// touches; a scanned row is a sequential read plus, when it counts, a
// random update of its key's accumulator; an index entry is a sequential
// read of the hash table plus one accumulator write. Only ratios matter.
constexpr double kProbeCost = 20;
constexpr double kVisitCost = 40;
constexpr double kScanRowCost = 6;          // every row accumulates
constexpr double kScanFilteredRowCost = 3;  // the filter drops most rows
constexpr double kIndexEntryCost = 5;
constexpr double kKeyCost = 1;  // a row's key slotted
constexpr double kNever = 1e300;

// Whether the counts come from a dense index (RelationHop::CountEach): a
// probe per row is then an array read, cheaper than slotting every key to
// scan the index or the table, however many rows are counted.
bool DenseCounts(const RelationHop& hop) {
  const HashIndex* index = hop.CountIndex();
  return index != nullptr && index->dense();
}

}  // namespace

absl::string_view RelatedUseName(RelatedUse use) {
  switch (use) {
    case RelatedUse::kWhereHas:
      return "WhereHas";
    case RelatedUse::kPreload:
      return "Preload";
    case RelatedUse::kWithCount:
      return "WithCount";
    case RelatedUse::kWithAggregate:
      return "WithAggregate";
  }
  return "?";
}

HopPlan ChooseHopPlan(size_t rows, const RelationHop& hop, const CompiledQuery* filter, bool visits,
                      size_t key_rows) {
  const bool filtered = filter != nullptr;
  if (hop.via()) {
    // Its related rows have no key to scan by (RelationHop::via), but a
    // ManyToMany's plain counts are its pivot index's list sizes.
    if (filtered || visits || !hop.CountsByKey()) return HopPlan::kProbe;
    switch (g_forced_strategy) {
      case RelationStrategy::kWalk:
      case RelationStrategy::kScan:
        return HopPlan::kProbe;
      case RelationStrategy::kIndexScan:
        return HopPlan::kIndexScan;
      case RelationStrategy::kAuto:
        break;
    }
    if (DenseCounts(hop)) return HopPlan::kProbe;
    const double probe = static_cast<double>(rows) * kProbeCost;
    const double index_scan = static_cast<double>(hop.num_keys()) * kIndexEntryCost +
                              static_cast<double>(key_rows) * kKeyCost;
    return probe <= index_scan ? HopPlan::kProbe : HopPlan::kIndexScan;
  }
  switch (g_forced_strategy) {
    case RelationStrategy::kWalk:
      return HopPlan::kProbe;
    case RelationStrategy::kScan:
      return HopPlan::kTableScan;
    case RelationStrategy::kIndexScan:
      return visits ? HopPlan::kTableScan : HopPlan::kIndexScan;
    case RelationStrategy::kAuto:
      break;
  }
  if (!filtered && !visits && DenseCounts(hop)) return HopPlan::kProbe;
  const double n = static_cast<double>(rows);
  const double keys = static_cast<double>(key_rows) * kKeyCost;
  const double probe = n * (kProbeCost + (visits ? hop.AverageFanout() * kVisitCost : 0));
  const double scan_rows = static_cast<double>(filtered ? filter->AccessRows() : hop.to().size());
  const double table_scan = scan_rows * (filtered ? kScanFilteredRowCost : kScanRowCost) + keys;
  const double index_scan =
      visits ? kNever : static_cast<double>(hop.num_keys()) * kIndexEntryCost + keys;
  if (probe <= table_scan && probe <= index_scan) return HopPlan::kProbe;
  return index_scan <= table_scan ? HopPlan::kIndexScan : HopPlan::kTableScan;
}

void IndexCounts(const RelationHop& hop, const KeySlots& slots, uint32_t* counts) {
  if (const ParentLinks* links = slots.links(); links != nullptr) {
    std::copy(links->counts.begin(), links->counts.end(), counts);
    return;
  }
  hop.ForEachKeyCount([&](auto key, size_t n) {
    int64_t s = slots.Slot(key);
    if (s >= 0) counts[s] = static_cast<uint32_t>(n);
  });
}

size_t ProbedRows(size_t rows, const RelationHop& hop) {
  return static_cast<size_t>(static_cast<double>(rows) * hop.AverageFanout()) + 1;
}

size_t VisitedRows(HopPlan plan, size_t rows, const RelationHop& hop, const CompiledQuery& filter) {
  return plan == HopPlan::kProbe ? ProbedRows(rows, hop) : filter.AccessRows();
}

RelationContext DeferredContext(const RelationContext& context) {
  RelationContext out = context;
  out.candidate_rows = 0;
  return out;
}

absl::StatusOr<std::unique_ptr<CompiledQuery>> CompileRelatedFilter(const RelationContext& context,
                                                                    const RelationHop& hop,
                                                                    RelatedUse use,
                                                                    const QuerySpec& spec) {
  auto compiled = std::make_unique<CompiledQuery>();
  const RelationContext deferred = DeferredContext(context);
  absl::Status s = CompiledQuery::CompileInto(hop.to(), spec, compiled.get(), &deferred);
  if (!s.ok()) return errors::InRelatedQuery(RelatedUseName(use), hop.name(), s);
  if (compiled->predicate().always_true()) compiled.reset();
  return compiled;
}

void SetRelationStrategyForTesting(RelationStrategy strategy) { g_forced_strategy = strategy; }

// --- RelationHop ---

std::shared_ptr<const ParentLinks> RelationHop::Links() const {
  // A via() hop's to rows are not linked by to_key_ (and it never scans).
  if (from_index_ == nullptr || via_ != nullptr) return nullptr;
  return to_->parent_links().Get(*to_, to_key_, *from_, from_key_);
}

absl::StatusOr<RelationHop> RelationHop::Resolve(const RelationContext& context, const Table& from,
                                                 absl::string_view relation) {
  if (context.relations == nullptr || context.engine == nullptr) {
    return errors::NoRelationCatalog(from.name(), absl::StrCat("relation '", relation, "'"));
  }
  KIN_ASSIGN_OR_RETURN(const RelationSpec* spec, context.relations->Get(from.name(), relation));
  KIN_ASSIGN_OR_RETURN(const Table* to, context.engine->GetTable(spec->related_table));
  const Table* through = nullptr;
  if (spec->via()) {
    KIN_ASSIGN_OR_RETURN(through, context.engine->GetTable(spec->through_table));
  }
  return Make(from, *spec, *to, through);
}

// One key's related rows through a via() hop and, for a ManyToMany, the
// pivot row (link) each came from, kept in the Via's RowChunks.
struct RelationHop::ViaList {
  std::span<const RowId> rows;
  std::span<const RowId> links;
};

namespace {

// Rows kept in chunks that never move, so spans into them stay valid while
// the chunks live: one allocation per chunk instead of two per gathered
// list (a preload of 1,000 parents gathers 1,000 lists). Chunks grow
// geometrically from a small first one, so a hop that gathers one short
// list (a single parent's Related) allocates little. Move-only: a copy
// would leave the copied spans pointing into the original's chunks.
class RowChunks {
 public:
  RowChunks() = default;
  RowChunks(RowChunks&&) = default;
  RowChunks& operator=(RowChunks&&) = default;
  RowChunks(const RowChunks&) = delete;
  RowChunks& operator=(const RowChunks&) = delete;

  std::span<const RowId> Keep(std::span<const RowId> rows) {
    if (rows.empty()) return {};
    if (rows.size() > left_) {
      next_chunk_ = std::min(next_chunk_ * 2, kMaxChunkRows);
      const size_t n = std::max(next_chunk_, rows.size());
      chunks_.push_back(std::make_unique_for_overwrite<RowId[]>(n));
      next_ = chunks_.back().get();
      left_ = n;
    }
    std::copy(rows.begin(), rows.end(), next_);
    const std::span<const RowId> kept(next_, rows.size());
    next_ += rows.size();
    left_ -= rows.size();
    return kept;
  }

 private:
  static constexpr size_t kMaxChunkRows = 4096;
  std::vector<std::unique_ptr<RowId[]>> chunks_;
  size_t next_chunk_ = 16;  // doubled before each chunk: the first holds 32
  RowId* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace

// The second step of a ManyToMany (pivot rows by the parent's key, each to
// the related row its other key names) or a HasManyThrough (intermediate
// rows by the parent's key, each to the related rows naming it), with the
// lists already gathered.
struct RelationHop::Via {
  const Table* through = nullptr;
  const HashIndex* first = nullptr;               // through.foreign_key
  ColumnId through_key;                           // the column whose value probes `second`
  const HashIndex* second = nullptr;              // to.related_key
  std::vector<std::pair<ColumnId, Value>> scope;  // a ManyToMany's, on `through`
  // A ManyToMany callback's WherePivot conditions, on `through`.
  std::shared_ptr<const CompiledPredicate> pivot;
  double fanout = 0;
  bool one_each = false;    // a ManyToMany: each pivot row names one related row
  bool keep_links = false;  // a ManyToMany: gather each row's link too
  // The gathered lists (spans into `chunks`) by parent key.
  absl::flat_hash_map<int64_t, ViaList> ints;
  absl::flat_hash_map<std::string, ViaList> strings;
  RowChunks chunks;
  std::vector<RowId> rows_scratch;  // one list being gathered
  std::vector<RowId> links_scratch;

  Via() = default;
  // Not copyable: the lists' spans belong to this Via's chunks (see
  // CloneSettings).
  Via(const Via&) = delete;
  Via& operator=(const Via&) = delete;

  // A Via with these settings and no list gathered yet.
  std::shared_ptr<Via> CloneSettings() const {
    auto out = std::make_shared<Via>();
    out->through = through;
    out->first = first;
    out->through_key = through_key;
    out->second = second;
    out->scope = scope;
    out->pivot = pivot;
    out->fanout = fanout;
    out->one_each = one_each;
    out->keep_links = keep_links;
    return out;
  }

  // Whether some pivot rows of a parent lead nowhere by the scope or a
  // pivot filter (so counting needs the rows tested).
  bool filtered() const { return !scope.empty() || pivot != nullptr; }
  // Whether each parent's related count is its number of pivot rows: a
  // ManyToMany (one related row per link) keeping every link, whose key
  // to the related table cannot be NULL.
  bool counts_links() const {
    return one_each && !filtered() && through->validity(through_key) == nullptr;
  }

  size_t Count(std::span<const RowId> mids) const {
    if (!one_each || filtered()) {
      std::vector<RowId> rows;
      Gather(mids, &rows, nullptr);
      return rows.size();
    }
    // A NOT NULL key (the usual pivot): every link counts, no row is read.
    if (counts_links()) return mids.size();
    size_t n = 0;
    for (RowId mid : mids) n += through->IsNull(mid, through_key) ? 0 : 1;
    return n;
  }

  // The list of the pivot (intermediate) rows `mids`, gathered and kept.
  ViaList Keep(std::span<const RowId> mids) {
    rows_scratch.clear();
    links_scratch.clear();
    Gather(mids, &rows_scratch, keep_links ? &links_scratch : nullptr);
    return ViaList{chunks.Keep(rows_scratch), chunks.Keep(links_scratch)};
  }

  // Appends the related rows of `mids` to `rows` and, unless nullptr, the
  // link of each to `links`.
  void Gather(std::span<const RowId> mids, std::vector<RowId>* rows,
              std::vector<RowId>* links) const {
    const bool int_key = through->column(through_key).type == Type::kInt64;
    for (RowId mid : mids) {
      if (through->IsNull(mid, through_key)) continue;
      bool in_scope = true;
      for (const auto& [c, v] : scope) in_scope = in_scope && through->GetValue(mid, c) == v;
      if (!in_scope || (pivot != nullptr && !pivot->Matches(mid))) continue;
      std::span<const RowId> related =
          int_key ? second->Find(through->Int64Column(through_key)[mid.value])
                  : second->Find(internal::ToAbsl(through->StringColumn(through_key)[mid.value]));
      if (related.size() == 1) {  // a ManyToMany's link: one related row
        rows->push_back(related[0]);
        if (links != nullptr) links->push_back(mid);
        continue;
      }
      rows->insert(rows->end(), related.begin(), related.end());
      if (links != nullptr) links->insert(links->end(), related.size(), mid);
    }
  }
};

absl::StatusOr<std::shared_ptr<RelationHop::Via>> RelationHop::MakeVia(const RelationSpec& spec,
                                                                       const Table& through,
                                                                       const Table& to) {
  auto via = std::make_shared<Via>();
  via->through = &through;
  KIN_ASSIGN_OR_RETURN(ColumnId fk, through.GetColumn(spec.foreign_key));
  KIN_ASSIGN_OR_RETURN(via->through_key, through.GetColumn(spec.through_key));
  KIN_ASSIGN_OR_RETURN(ColumnId related_key, to.GetColumn(spec.related_key));
  via->first = through.index(fk);
  via->second = to.index(related_key);
  const Type tk = through.column(via->through_key).type;
  if (via->first == nullptr || via->second == nullptr || tk != to.column(related_key).type ||
      (tk != Type::kInt64 && tk != Type::kString)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", spec.QualifiedName(),
        "': ", QualifiedName(spec.through_table, spec.foreign_key), " / ",
        QualifiedName(spec.related_table, spec.related_key),
        " are not indexed keys of one type (the tables changed since the relation was declared)"));
  }
  for (const auto& [column, value] : spec.scope) {
    KIN_ASSIGN_OR_RETURN(ColumnId c, through.GetColumn(column));
    via->scope.emplace_back(c, value);
  }
  via->one_each = spec.kind == RelationKind::kManyToMany && via->second->unique();
  via->keep_links = spec.kind == RelationKind::kManyToMany;
  const double first = static_cast<double>(via->first->num_keys());
  const double second = static_cast<double>(to.size()) /
                        static_cast<double>(std::max<size_t>(via->second->num_keys(), 1));
  via->fanout = static_cast<double>(through.size()) / std::max(first, 1.0) * second;
  return via;
}

size_t RelationHop::ViaCount(RowId row) const {
  const Via& via = *via_;
  if (key_type_ == Type::kInt64) {
    const int64_t key = from_ints_[row.value];
    if (auto it = via.ints.find(key); it != via.ints.end()) return it->second.rows.size();
    const std::span<const RowId> mids = via.first->Find(key);
    if (via.one_each && !via.filtered()) return via.Count(mids);
    size_t n = 0;  // a HasManyThrough: the second index's list sizes
    if (!via.filtered() && via.through->column(via.through_key).type == Type::kInt64) {
      const std::span<const int64_t> keys = via.through->Int64Column(via.through_key);
      for (RowId mid : mids) {
        if (!via.through->IsNull(mid, via.through_key))
          n += via.second->Find(keys[mid.value]).size();
      }
      return n;
    }
    return ViaRelated(row).size();
  }
  return ViaRelated(row).size();
}

const RelationHop::ViaList& RelationHop::ViaListOf(RowId row) const {
  Via& via = *via_;
  if (key_type_ == Type::kInt64) {
    const int64_t key = from_ints_[row.value];
    auto [it, fresh] = via.ints.try_emplace(key);
    if (fresh) it->second = via.Keep(via.first->Find(key));
    return it->second;
  }
  const absl::string_view key = internal::ToAbsl((*from_strings_)[row.value]);
  auto [it, fresh] = via.strings.try_emplace(key);
  if (fresh) it->second = via.Keep(via.first->Find(key));
  return it->second;
}

std::span<const RowId> RelationHop::ViaRelated(RowId row) const { return ViaListOf(row).rows; }

bool RelationHop::CountsByKey() const { return via_ == nullptr || via_->counts_links(); }

const HashIndex& RelationHop::LinkIndex() const {
  assert(via_ != nullptr && via_->counts_links() &&
         "RelationHop: counts by key need CountsByKey()");
  return *via_->first;
}

bool RelationHop::ForEachPivotList(
    std::span<const RowId> rows,
    absl::FunctionRef<void(size_t, std::span<const RowId>)> visit) const {
  if (via_ == nullptr || key_type_ != Type::kInt64) return false;
  const Via& via = *via_;
  if (via.through->column(via.through_key).type != Type::kInt64) return false;
  const int64_t* through_keys = via.through->Int64Column(via.through_key).data();
  // First every parent's pivot list (its header is the index's cache miss)
  // with the list's rows fetched, then the visits, each fetching the key
  // cells of a list a few parents ahead: the misses of ~kAhead parents are
  // in flight at once instead of one after another.
  constexpr size_t kAhead = 6;
  std::vector<std::span<const RowId>> mids(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (FromNull(rows[i])) continue;
    mids[i] = via.first->Find(from_ints_[rows[i].value]);
    if (!mids[i].empty()) KIN_PREFETCH(mids[i].data());
  }
  auto fetch_cells = [&](size_t i) {
    if (i < rows.size()) {
      for (RowId mid : mids[i]) KIN_PREFETCH(through_keys + mid.value);
    }
  };
  for (size_t i = 0; i < kAhead; ++i) fetch_cells(i);
  for (size_t i = 0; i < rows.size(); ++i) {
    fetch_cells(i + kAhead);
    if (!FromNull(rows[i])) visit(i, mids[i]);
  }
  return true;
}

void RelationHop::GatherAhead(std::span<const RowId> rows) const {
  if (via_ == nullptr || key_type_ != Type::kInt64) return;
  Via& via = *via_;
  via.ints.reserve(via.ints.size() + rows.size());
  ForEachPivotList(rows, [&](size_t i, std::span<const RowId> mids) {
    auto [it, fresh] = via.ints.try_emplace(from_ints_[rows[i].value]);
    if (fresh) it->second = via.Keep(mids);
  });
}

bool RelationHop::GatherInto(std::span<const RowId> rows, std::vector<uint32_t>* offsets,
                             std::vector<RowId>* related, std::vector<RowId>* links) const {
  [[maybe_unused]] const size_t first = offsets->size();
  size_t done = 0;  // rows whose end is in `offsets`
  const bool gathered = ForEachPivotList(rows, [&](size_t i, std::span<const RowId> mids) {
    // A row the walk skips (a NULL key) ends where the previous did.
    offsets->insert(offsets->end(), i - done, static_cast<uint32_t>(related->size()));
    via_->Gather(mids, related, via_->keep_links ? links : nullptr);
    offsets->push_back(static_cast<uint32_t>(related->size()));
    done = i + 1;
  });
  if (gathered) {
    offsets->insert(offsets->end(), rows.size() - done, static_cast<uint32_t>(related->size()));
    assert(offsets->size() == first + rows.size() && "GatherInto: one end per row");
  }
  return gathered;
}

std::span<const RowId> RelationHop::RelatedLinks(RowId row) const {
  if (via_ == nullptr || !via_->keep_links || FromNull(row)) return {};
  return ViaListOf(row).links;
}

const Table* RelationHop::through() const { return via_ == nullptr ? nullptr : via_->through; }

bool RelationHop::pivot_filtered() const { return via_ != nullptr && via_->pivot != nullptr; }

absl::Status RelationHop::FilterPivot(const std::vector<ConditionSpec>& conditions) {
  if (conditions.empty()) return absl::OkStatus();
  if (via_ == nullptr || spec_->kind != RelationKind::kManyToMany) {
    return absl::InvalidArgumentError(absl::StrCat("relation '", spec_->QualifiedName(), "' is a ",
                                                   RelationKindName(spec_->kind),
                                                   ": it has no pivot row to filter"));
  }
  auto pivot = std::make_shared<CompiledPredicate>();
  if (absl::Status s = CompiledPredicate::Compile(*via_->through, conditions, nullptr, pivot.get());
      !s.ok()) {
    return errors::InPivot(s);
  }
  // A Via of its own: the gathered lists depend on the filter, and copies
  // of this hop made before keep theirs.
  std::shared_ptr<Via> via = via_->CloneSettings();
  via->pivot = pivot->always_true() ? nullptr : std::move(pivot);
  via_ = std::move(via);
  return absl::OkStatus();
}

absl::StatusOr<RelationHop> RelationHop::Make(const Table& from, const RelationSpec& relation,
                                              const Table& related, const Table* through) {
  const RelationSpec* spec = &relation;
  const Table* to = &related;
  const bool has_many = spec->parent_side();
  RelationHop hop;
  hop.spec_ = spec;
  hop.from_ = &from;
  hop.to_ = to;
  if (spec->via()) {
    if (through == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("relation '", spec->QualifiedName(),
                                                        "': no table '", spec->through_table,
                                                        "' to go through"));
    }
    KIN_ASSIGN_OR_RETURN(hop.via_, MakeVia(*spec, *through, *to));
    // The from side as a HasMany's: the parent's local key probes the
    // through table's foreign-key index; the related rows' own key column
    // stands in for the to side (never scanned: see via()).
    KIN_ASSIGN_OR_RETURN(hop.from_key_, from.GetColumn(spec->local_key));
    KIN_ASSIGN_OR_RETURN(ColumnId fk, through->GetColumn(spec->foreign_key));
    hop.to_key_ = to->GetColumn(spec->related_key).value();
    hop.key_type_ = from.column(hop.from_key_).type;
    if (hop.key_type_ != through->column(fk).type ||
        (hop.key_type_ != Type::kInt64 && hop.key_type_ != Type::kString)) {
      return absl::FailedPreconditionError(
          absl::StrCat("relation '", spec->QualifiedName(), "': key columns are ",
                       TypeName(hop.key_type_), " and ", TypeName(through->column(fk).type),
                       " (the tables changed since the relation was declared)"));
    }
    hop.from_validity_ = ValidityWords(from, hop.from_key_);
    if (hop.key_type_ == Type::kInt64) {
      hop.from_ints_ = from.Int64Column(hop.from_key_).data();
    } else {
      hop.from_strings_ = &from.StringColumn(hop.from_key_);
    }
    return hop;
  }
  KIN_ASSIGN_OR_RETURN(hop.from_key_,
                       from.GetColumn(has_many ? spec->local_key : spec->foreign_key));
  KIN_ASSIGN_OR_RETURN(hop.to_key_, to->GetColumn(has_many ? spec->foreign_key : spec->local_key));
  const Type from_type = from.column(hop.from_key_).type;
  const Type to_type = to->column(hop.to_key_).type;
  if (from_type != to_type || (from_type != Type::kInt64 && from_type != Type::kString)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "relation '", spec->QualifiedName(), "': key columns are ", TypeName(from_type), " and ",
        TypeName(to_type), " (the tables changed since the relation was declared)"));
  }
  hop.key_type_ = from_type;
  hop.from_validity_ = ValidityWords(from, hop.from_key_);
  if (!has_many && !spec->scope.empty()) {
    // A scoped BelongsTo (a polymorphic child's owner): a row outside the
    // scope has no parent through this relation, exactly as a NULL key, so
    // one mask of "key set and in scope" serves every strategy.
    std::vector<std::pair<ColumnId, const Value*>> scope;
    for (const auto& [column, value] : spec->scope) {
      KIN_ASSIGN_OR_RETURN(ColumnId c, from.GetColumn(column));
      scope.emplace_back(c, &value);
    }
    auto mask = std::make_shared<std::vector<uint64_t>>((from.slot_count() + 63) / 64, 0);
    const uint64_t* valid = hop.from_validity_;
    ForEachLive(from, [&](RowId r) {
      if (valid != nullptr && !Bit(valid, r.value)) return;
      for (const auto& [c, v] : scope) {
        if (from.GetValue(r, c) != *v) return;
      }
      (*mask)[r.value >> 6] |= uint64_t{1} << (r.value & 63);
    });
    hop.from_validity_ = mask->data();
    hop.from_mask_ = std::move(mask);
  }
  hop.to_validity_ = ValidityWords(*to, hop.to_key_);
  if (from_type == Type::kInt64) {
    hop.from_ints_ = from.Int64Column(hop.from_key_).data();
    hop.to_ints_ = to->Int64Column(hop.to_key_).data();
  } else {
    hop.from_strings_ = &from.StringColumn(hop.from_key_);
    hop.to_strings_ = &to->StringColumn(hop.to_key_);
  }
  hop.index_ = to->index(hop.to_key_);
  if (const HashIndex* from_index = from.index(hop.from_key_);
      from_index != nullptr && from_index->unique()) {
    hop.from_index_ = from_index;
  }
  if (hop.index_ == nullptr) {
    // A BelongsTo owner key without an index: index it here, once, in slot
    // order (which is the order a scan would return the rows in).
    auto local = std::make_shared<LocalIndex>();
    ForEachLive(*to, [&](RowId r) {
      if (hop.ToNull(r)) return;
      if (from_type == Type::kInt64) {
        local->ints[hop.ToInt(r)].push_back(r);
      } else {
        local->strings[std::string(hop.ToString(r))].push_back(r);
      }
    });
    hop.local_ = std::move(local);
  }
  return hop;
}

std::span<const RowId> RelationHop::FindInt(int64_t key) const {
  if (index_ != nullptr) return index_->Find(key);
  auto it = local_->ints.find(key);
  if (it == local_->ints.end()) return {};
  return it->second;
}

std::span<const RowId> RelationHop::FindString(absl::string_view key) const {
  if (index_ != nullptr) return index_->Find(key);
  auto it = local_->strings.find(key);
  if (it == local_->strings.end()) return {};
  return it->second;
}

const HashIndex* RelationHop::CountIndex() const {
  if (key_type_ != Type::kInt64 || !CountsByKey()) return nullptr;
  return via_ != nullptr ? &LinkIndex() : index_;
}

void RelationHop::CountEach(std::span<const RowId> rows, int64_t* out) const {
  const HashIndex* index = CountIndex();
  assert(index != nullptr && "RelationHop::CountEach needs CountIndex()");
  const RowId* r = rows.data();
  index->CountEach(
      rows.size(),
      [&](size_t i) -> std::optional<int64_t> {
        if (FromNull(r[i])) return std::nullopt;
        return from_ints_[r[i].value];
      },
      out);
}

size_t RelationHop::num_keys() const {
  if (via_ != nullptr) return via_->first->num_keys();
  return index_ != nullptr ? index_->num_keys() : local_->ints.size() + local_->strings.size();
}

double RelationHop::AverageFanout() const {
  if (via_ != nullptr) return via_->fanout;
  return static_cast<double>(to_->size()) / static_cast<double>(std::max<size_t>(num_keys(), 1));
}

// --- structural rules ---

absl::Status CheckRelatedSpec(const RelationSpec& relation, RelatedUse use, const QuerySpec& spec) {
  KIN_RETURN_IF_ERROR(spec.error);
  const std::string q = relation.QualifiedName();
  const absl::string_view name = RelatedUseName(use);
  if (relation.kind != RelationKind::kManyToMany) {
    if (std::string pivot = DescribePivotUse(spec); !pivot.empty()) {
      return errors::PivotNotManyToMany(name, q, RelationKindName(relation.kind), pivot);
    }
  }
  const bool preload = use == RelatedUse::kPreload;
  if (!preload) {
    const std::string where = absl::StrCat(name, " on '", q, "'");
    if (spec.group_limit.has_value()) {
      return errors::GroupOutsidePreload(where, "GroupLimit", relation.name);
    }
    if (!spec.group_order_by.empty()) {
      return errors::GroupOutsidePreload(where, "GroupOrderBy", relation.name);
    }
    if (!spec.loads.empty()) {
      return errors::NotAllowedInCallback(name, q, "Preload / WithCount / WithAggregate",
                                          "nothing is loaded onto related rows that are only "
                                          "counted");
    }
    if (!spec.select.empty()) {
      return errors::NotAllowedInCallback(name, q, "Select",
                                          "no column is returned from related rows that are "
                                          "only counted");
    }
  }
  if (spec.limit.has_value()) {
    if (preload) return errors::LimitInPreload(q);
    return errors::NotAllowedInCallback(name, q, "Limit", "every matching related row counts");
  }
  if (spec.offset.has_value()) {
    if (preload) return errors::OffsetInPreload(q, relation.name);
    return errors::NotAllowedInCallback(name, q, "Offset", "every matching related row counts");
  }
  std::string aggregate;
  if (spec.aggregate.has_value()) {
    aggregate = absl::StrCat(AggregateFunctionName(spec.aggregate->function), "(",
                             spec.aggregate->column, ")");
  }
  switch (use) {
    case RelatedUse::kPreload:
      if (spec.aggregate.has_value()) {
        return errors::NotAllowedInCallback(name, q, aggregate,
                                            "use WithAggregate for an aggregate of related rows");
      }
      break;
    case RelatedUse::kWhereHas:
      // An aggregate there is compared instead of the count (RelationFilter).
      if (!spec.alias.empty()) {
        return errors::NotAllowedInCallback(name, q, "As", "a has condition has no name");
      }
      break;
    case RelatedUse::kWithCount:
      if (spec.aggregate.has_value()) {
        return errors::NotAllowedInCallback(
            name, q, aggregate, "WithCount counts rows; use WithAggregate for other aggregates");
      }
      break;
    case RelatedUse::kWithAggregate:
      if (!spec.aggregate.has_value()) return errors::AggregateMissing(q);
      if (spec.alias.empty()) return errors::AggregateNeedsAlias(q);
      break;
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace kin
