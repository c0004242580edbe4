#include "query/internal/relation_plan.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/port.h"
#include "kin/status_macros.h"
#include "query/internal/relation_errors.h"
#include "kin/result_set.h"

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
constexpr double kKeyCost = 1;              // a row's key slotted
constexpr double kNever = 1e300;

inline bool Bit(const uint64_t* words, uint32_t i) { return (words[i >> 6] >> (i & 63)) & 1; }

const uint64_t* ValidityWords(const Table& t, ColumnId c) {
  const Bitmap* b = t.validity(c);
  if (b == nullptr || b->size() == 0) return nullptr;
  return b->words().data();
}

absl::string_view UseName(RelatedUse use) {
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

// Calls f(RowId) for every live row of `table`, in slot order.
template <typename F>
void ForEachLive(const Table& table, F&& f) {
  if (table.size() == table.slot_count()) {
    // No dead slots (the common case between deletes): a plain counted loop
    // the compiler can unroll, with no bit walking.
    const uint32_t n = static_cast<uint32_t>(table.slot_count());
    for (uint32_t r = 0; r < n; ++r) f(RowId(r));
    return;
  }
  const std::vector<uint64_t>& words = table.live().words();
  for (size_t w = 0; w < words.size(); ++w) {
    uint64_t bits = words[w];
    const uint32_t base = static_cast<uint32_t>(w * 64);
    while (bits != 0) {
      f(RowId(base + static_cast<uint32_t>(std::countr_zero(bits))));
      bits &= bits - 1;
    }
  }
}

// Calls f(RowId) for every row of `to` that passes `filter` (every live row
// when null), in the filter's access order.
template <typename F>
void ForEachMatching(const Table& to, const CompiledQuery* filter, F&& f) {
  if (filter == nullptr) {
    ForEachLive(to, f);
    return;
  }
  filter->ForEachMatchBlock([&](const RowId* ids, size_t n) {
    for (size_t i = 0; i < n; ++i) f(ids[i]);
    return true;
  });
}

// How the related rows of many rows are counted or aggregated.
enum class Plan : uint8_t {
  kProbe,      // an index probe per row (walking the list when it visits)
  kIndexScan,  // one pass over the index's entries (counts only)
  kTableScan,  // one pass over the related table
};

// The cheapest plan for `rows` rows, whose keys take `key_rows` rows to
// slot. `filter` selects the related rows (nullptr: all; a scan reads what
// its access path yields); `visits` says whether a probe must read the
// related rows (a filter or an aggregate column) rather than only its
// list's size.
Plan ChoosePlan(size_t rows, const RelationHop& hop, const CompiledQuery* filter, bool visits,
                size_t key_rows) {
  const bool filtered = filter != nullptr;
  switch (g_forced_strategy) {
    case RelationStrategy::kWalk:
      return Plan::kProbe;
    case RelationStrategy::kScan:
      return Plan::kTableScan;
    case RelationStrategy::kIndexScan:
      return visits ? Plan::kTableScan : Plan::kIndexScan;
    case RelationStrategy::kAuto:
      break;
  }
  const double n = static_cast<double>(rows);
  const double keys = static_cast<double>(key_rows) * kKeyCost;
  const double probe = n * (kProbeCost + (visits ? hop.AverageFanout() * kVisitCost : 0));
  const double scan_rows = static_cast<double>(filtered ? filter->AccessRows() : hop.to().size());
  const double table_scan =
      scan_rows * (filtered ? kScanFilteredRowCost : kScanRowCost) + keys;
  const double index_scan =
      visits ? kNever : static_cast<double>(hop.num_keys()) * kIndexEntryCost + keys;
  if (probe <= table_scan && probe <= index_scan) return Plan::kProbe;
  return index_scan <= table_scan ? Plan::kIndexScan : Plan::kTableScan;
}

}  // namespace

// Dense slots for the keys of a set of `from` rows, so that a scan of the
// related table can accumulate per key: key - min when the int64 keys are
// compact, else a hash map from key to slot.
class KeySlots {
 public:
  // Slots for the keys of `rows`.
  KeySlots(const RelationHop& hop, std::span<const RowId> rows) : hop_(&hop) {
    Build(rows.size(), [&](auto&& f) {
      for (RowId r : rows) f(r);
    });
  }
  // Slots for the keys of every live row of hop.from().
  explicit KeySlots(const RelationHop& hop) : hop_(&hop) {
    Build(hop.from().size(), [&](auto&& f) { ForEachLive(hop.from(), f); });
  }

  size_t size() const { return size_; }
  bool dense() const { return mode_ == Mode::kDense; }
  int64_t min() const { return min_; }

  // The slot of a key; -1 when no from row has it.
  int64_t Slot(int64_t key) const {
    if (mode_ == Mode::kDense) return Dense(key);
    auto it = ints_.find(key);
    return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }
  int64_t Slot(absl::string_view key) const {
    auto it = strings_.find(key);
    return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
  }

  // The slot of a from row's key; -1 for a NULL key or one without a slot.
  int64_t FromSlot(RowId row) const {
    if (hop_->FromNull(row)) return -1;
    switch (mode_) {
      case Mode::kDense:
        return Dense(hop_->FromInt(row));
      case Mode::kInt: {
        auto it = ints_.find(hop_->FromInt(row));
        return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
      case Mode::kString: {
        auto it = strings_.find(hop_->FromString(row));
        return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
    }
    return -1;
  }

  // The slot of a related row's key; -1 when no from row has that key.
  int64_t ToSlot(RowId row) const {
    if (hop_->ToNull(row)) return -1;
    switch (mode_) {
      case Mode::kDense:
        return Dense(hop_->ToInt(row));
      case Mode::kInt: {
        auto it = ints_.find(hop_->ToInt(row));
        return it == ints_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
      case Mode::kString: {
        auto it = strings_.find(hop_->ToString(row));
        return it == strings_.end() ? int64_t{-1} : static_cast<int64_t>(it->second);
      }
    }
    return -1;
  }

 private:
  enum class Mode : uint8_t { kDense, kInt, kString };

  // `each(f)` calls f(RowId) for each of the `n` rows.
  template <typename Each>
  void Build(size_t n, Each&& each) {
    const RelationHop& hop = *hop_;
    if (hop.key_type() == Type::kString) {
      mode_ = Mode::kString;
      strings_.reserve(n);
      each([&](RowId r) {
        if (!hop.FromNull(r)) {
          strings_.try_emplace(hop.FromString(r), static_cast<uint32_t>(strings_.size()));
        }
      });
      size_ = strings_.size();
      return;
    }
    bool any = false;
    int64_t lo = std::numeric_limits<int64_t>::max();
    int64_t hi = std::numeric_limits<int64_t>::min();
    each([&](RowId r) {
      if (hop.FromNull(r)) return;
      const int64_t k = hop.FromInt(r);
      lo = std::min(lo, k);
      hi = std::max(hi, k);
      any = true;
    });
    const uint64_t span = any ? static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) : 0;
    if (span < 4 * static_cast<uint64_t>(n) + 4096) {
      mode_ = Mode::kDense;
      min_ = any ? lo : 0;
      size_ = any ? static_cast<size_t>(span) + 1 : 0;
      return;
    }
    mode_ = Mode::kInt;
    ints_.reserve(n);
    each([&](RowId r) {
      if (!hop.FromNull(r)) ints_.try_emplace(hop.FromInt(r), static_cast<uint32_t>(ints_.size()));
    });
    size_ = ints_.size();
  }

  int64_t Dense(int64_t key) const {
    const uint64_t off = static_cast<uint64_t>(key) - static_cast<uint64_t>(min_);
    return off < size_ ? static_cast<int64_t>(off) : -1;
  }

  const RelationHop* hop_;
  Mode mode_ = Mode::kDense;
  int64_t min_ = 0;
  size_t size_ = 0;
  absl::flat_hash_map<int64_t, uint32_t> ints_;
  absl::flat_hash_map<absl::string_view, uint32_t> strings_;
};

namespace {

// Calls add(slot, RowId) for every row of the related table that passes
// `filter` (every live row when null) and whose key has a slot.
template <typename Add>
void ScanRelated(const RelationHop& hop, const CompiledQuery* filter, const KeySlots& slots,
                 Add&& add) {
  if (slots.dense()) {
    // The hot case, kept free of calls: compact int64 keys.
    const int64_t* keys = hop.to_ints();
    const uint64_t* valid = hop.to_validity();
    const uint64_t min = static_cast<uint64_t>(slots.min());
    const uint64_t size = slots.size();
    ForEachMatching(hop.to(), filter, [&](RowId r) {
      if (valid != nullptr && !Bit(valid, r.value)) return;
      const uint64_t off = static_cast<uint64_t>(keys[r.value]) - min;
      if (off < size) add(static_cast<size_t>(off), r);
    });
    return;
  }
  ForEachMatching(hop.to(), filter, [&](RowId r) {
    int64_t s = slots.ToSlot(r);
    if (s >= 0) add(static_cast<size_t>(s), r);
  });
}

// Per slot, the number of related rows, from the index's list sizes.
void IndexCounts(const RelationHop& hop, const KeySlots& slots, uint32_t* counts) {
  hop.ForEachKeyCount([&](auto key, size_t n) {
    int64_t s = slots.Slot(key);
    if (s >= 0) counts[s] = static_cast<uint32_t>(n);
  });
}

// About how many related rows probing `rows` rows' lists visits.
size_t ProbedRows(size_t rows, const RelationHop& hop) {
  return static_cast<size_t>(static_cast<double>(rows) * hop.AverageFanout()) + 1;
}

// The related rows the plan will visit: per probed row its list, else what
// the filter's access path yields.
size_t VisitedRows(Plan plan, size_t rows, const RelationHop& hop, const CompiledQuery& filter) {
  return plan == Plan::kProbe ? ProbedRows(rows, hop) : filter.AccessRows();
}

// `context` for a related query whose nested relation conditions choose
// their strategy later (PrepareRelations), once the plan is known.
RelationContext Deferred(const RelationContext& context) {
  RelationContext out = context;
  out.candidate_rows = 0;
  return out;
}

// The related table's rows passing `spec`'s conditions, compiled with its
// relation conditions deferred; nullptr when every row passes.
absl::StatusOr<std::unique_ptr<CompiledQuery>> CompileFilter(const RelationContext& context,
                                                             const RelationHop& hop,
                                                             RelatedUse use,
                                                             const QuerySpec& spec) {
  auto compiled = std::make_unique<CompiledQuery>();
  const RelationContext deferred = Deferred(context);
  absl::Status s = CompiledQuery::CompileInto(hop.to(), spec, compiled.get(), &deferred);
  if (!s.ok()) return errors::InRelatedQuery(UseName(use), hop.name(), s);
  if (compiled->predicate().always_true()) compiled.reset();
  return compiled;
}

}  // namespace

void SetRelationStrategyForTesting(RelationStrategy strategy) { g_forced_strategy = strategy; }

// --- RelationHop ---

absl::StatusOr<RelationHop> RelationHop::Resolve(const RelationContext& context,
                                                 const Table& from,
                                                 absl::string_view relation) {
  if (context.relations == nullptr || context.engine == nullptr) {
    return errors::NoRelationCatalog(from.name(), absl::StrCat("relation '", relation, "'"));
  }
  KIN_ASSIGN_OR_RETURN(const RelationSpec* spec, context.relations->Get(from.name(), relation));
  KIN_ASSIGN_OR_RETURN(const Table* to, context.engine->GetTable(spec->related_table));
  const bool has_many = spec->kind == RelationKind::kHasMany;
  RelationHop hop;
  hop.spec_ = spec;
  hop.from_ = &from;
  hop.to_ = to;
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
    hop.from_strings_ = from.StringColumn(hop.from_key_).data();
    hop.to_strings_ = to->StringColumn(hop.to_key_).data();
  }
  hop.index_ = to->index(hop.to_key_);
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

size_t RelationHop::num_keys() const {
  return index_ != nullptr ? index_->num_keys() : local_->ints.size() + local_->strings.size();
}

double RelationHop::AverageFanout() const {
  return static_cast<double>(to_->size()) / static_cast<double>(std::max<size_t>(num_keys(), 1));
}

// --- structural rules ---

absl::Status CheckRelatedSpec(const RelationSpec& relation, RelatedUse use,
                              const QuerySpec& spec) {
  KIN_RETURN_IF_ERROR(spec.error);
  const std::string q = relation.QualifiedName();
  const absl::string_view name = UseName(use);
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

// --- RelationFilter ---

RelationFilter::~RelationFilter() = default;

absl::StatusOr<std::shared_ptr<RelationFilter>> RelationFilter::Compile(
    const RelationContext& context, const Table& from, const ConditionSpec& condition) {
  KIN_ASSIGN_OR_RETURN(RelationHop hop, RelationHop::Resolve(context, from, condition.column));
  if (condition.values.size() != 1 || !condition.values[0].is_int64() ||
      condition.subquery.size() != 1) {
    return errors::BadQuery(from.name(), absl::StrCat("malformed condition on relation '",
                                                      condition.column, "'"));
  }
  const QuerySpec& sub = condition.subquery[0];
  KIN_RETURN_IF_ERROR(CheckRelatedSpec(hop.spec(), RelatedUse::kWhereHas, sub));
  auto f = std::make_shared<RelationFilter>();
  if (sub.aggregate.has_value()) {
    // WhereHas(relation, q.Sum("likes"), ">", 100): the aggregate of each
    // row's related rows, compared with the number.
    CompiledQuery agg;
    const RelationContext deferred = Deferred(context);
    if (absl::Status s = CompiledQuery::CompileInto(hop.to(), sub, &agg, &deferred); !s.ok()) {
      return errors::InRelatedQuery("WhereHas", hop.name(), s);
    }
    const CompiledAggregate& a = agg.aggregate();
    const bool numeric = a.star || a.function == AggregateFunction::kCount ||
                         a.function == AggregateFunction::kCountDistinct ||
                         a.type == Type::kInt64 || a.type == Type::kDouble;
    f->aggregate_ = absl::StrCat(AggregateFunctionName(sub.aggregate->function), "(",
                                 sub.aggregate->column, ")");
    if (!numeric) {
      return absl::InvalidArgumentError(absl::StrCat(
          "WhereHas on '", hop.name(), "': ", f->aggregate_, " is a ", TypeName(a.type),
          ", it cannot be compared with the number ", condition.values[0].AsInt64()));
    }
    agg.PrepareRelations(ProbedRows(from.size(), hop));
    f->by_slot_.assign(from.slot_count(), Value());
    absl::Status failed;
    ForEachLive(from, [&](RowId r) {
      if (!failed.ok()) return;
      absl::StatusOr<Value> v = agg.Aggregate(hop.Related(r));
      if (!v.ok()) {
        failed = errors::InRelatedQuery("WhereHas", hop.name(), v.status());
        return;
      }
      f->by_slot_[r.value] = *std::move(v);
    });
    KIN_RETURN_IF_ERROR(failed);
    f->hop_ = std::move(hop);
    f->op_ = condition.op;
    f->count_ = condition.values[0].AsInt64();
    f->strategy_ = Strategy::kAggregate;
    return f;
  }
  KIN_ASSIGN_OR_RETURN(f->filter_, CompileFilter(context, hop, RelatedUse::kWhereHas, sub));
  f->hop_ = std::move(hop);
  f->op_ = condition.op;
  f->count_ = condition.values[0].AsInt64();
  // Counting up to count + 1 decides every operator: any larger count
  // compares the same way.
  f->cap_ = f->count_ < 0 ? 0
            : f->count_ == std::numeric_limits<int64_t>::max() ? f->count_
                                                               : f->count_ + 1;
  f->strategy_ = f->filter_ == nullptr ? Strategy::kIndex : Strategy::kWalk;
  return f;
}

void RelationFilter::Prepare(size_t rows) {
  if (strategy_ == Strategy::kAggregate) return;  // computed when compiled
  strategy_ = filter_ == nullptr ? Strategy::kIndex : Strategy::kWalk;
  slots_.reset();
  counts_.clear();
  // Deferred (see RelationContext::candidate_rows): the owner prepares
  // again once it knows; scanning now would be wasted.
  if (rows == 0) return;
  const Table& from = hop_.from();
  const bool filtered = filter_ != nullptr;
  const Plan plan = ChoosePlan(rows, hop_, filter_.get(), filtered, from.size());
  if (filtered) filter_->PrepareRelations(VisitedRows(plan, rows, hop_, *filter_));
  if (plan == Plan::kProbe) return;
  // Any live row of `from` may be asked about: slots for all their keys.
  slots_ = std::make_unique<KeySlots>(hop_);
  counts_.assign(slots_->size(), 0);
  if (plan == Plan::kIndexScan) {
    strategy_ = Strategy::kIndexScan;
    IndexCounts(hop_, *slots_, counts_.data());
    return;
  }
  strategy_ = Strategy::kScan;
  ScanRelated(hop_, filter_.get(), *slots_, [&](size_t s, RowId) { ++counts_[s]; });
}

bool RelationFilter::Passes(int64_t count) const {
  switch (op_) {
    case CompareOp::kEq:
      return count == count_;
    case CompareOp::kNe:
      return count != count_;
    case CompareOp::kLt:
      return count < count_;
    case CompareOp::kLe:
      return count <= count_;
    case CompareOp::kGt:
      return count > count_;
    case CompareOp::kGe:
      return count >= count_;
  }
  return false;
}

bool RelationFilter::PassesValue(const Value& value) const {
  if (value.is_null()) return false;
  if (value.is_int64()) return Passes(value.AsInt64());
  const double x = value.AsDouble();
  const double y = static_cast<double>(count_);
  if (std::isnan(x)) return false;  // unordered: every comparison is false
  switch (op_) {
    case CompareOp::kEq:
      return x == y;
    case CompareOp::kNe:
      return x != y;
    case CompareOp::kLt:
      return x < y;
    case CompareOp::kLe:
      return x <= y;
    case CompareOp::kGt:
      return x > y;
    case CompareOp::kGe:
      return x >= y;
  }
  return false;
}

size_t RelationFilter::Filter(const RowId* in, size_t n, RowId* out) const {
  size_t k = 0;
  switch (strategy_) {
    case Strategy::kAggregate:
      for (size_t i = 0; i < n; ++i) {
        out[k] = in[i];
        k += PassesValue(by_slot_[in[i].value]) ? 1 : 0;
      }
      return k;
    case Strategy::kIndex:
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Passes(static_cast<int64_t>(hop_.Related(id).size())) ? 1 : 0;
      }
      return k;
    case Strategy::kWalk: {
      const CompiledPredicate& p = filter_->predicate();
      const size_t cap = static_cast<size_t>(cap_);
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Passes(static_cast<int64_t>(p.CountUpTo(hop_.Related(id), cap))) ? 1 : 0;
      }
      return k;
    }
    case Strategy::kScan:
    case Strategy::kIndexScan:
      if (slots_->dense() && hop_.FromDenseReady()) {
        // The hot case inline: compact NOT NULL int64 keys.
        const uint64_t min = static_cast<uint64_t>(slots_->min());
        const uint64_t size = slots_->size();
        for (size_t i = 0; i < n; ++i) {
          RowId id = in[i];
          out[k] = id;
          const uint64_t off = static_cast<uint64_t>(hop_.FromInt(id)) - min;
          k += Passes(off < size ? counts_[off] : 0) ? 1 : 0;
        }
        return k;
      }
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        int64_t s = slots_->FromSlot(id);
        k += Passes(s < 0 ? 0 : counts_[static_cast<size_t>(s)]) ? 1 : 0;
      }
      return k;
  }
  return 0;
}

std::string RelationFilter::Explain() const {
  if (strategy_ == Strategy::kAggregate) {
    return absl::StrCat(aggregate_, " of ", hop_.name(), " ", CompareOpSymbol(op_), " ", count_,
                        " by walk");
  }
  absl::string_view how = strategy_ == Strategy::kIndex       ? "by index"
                          : strategy_ == Strategy::kWalk      ? "by walk"
                          : strategy_ == Strategy::kIndexScan ? "by index scan"
                                                              : "by scan of ";
  return absl::StrCat("count(", hop_.name(), filter_ != nullptr ? " filtered" : "", ") ",
                      CompareOpSymbol(op_), " ", count_, " ", how,
                      strategy_ == Strategy::kScan ? hop_.to().name() : "");
}

// --- loads ---

namespace {

struct ResolvedLoad {
  const RelationSpec* spec;
  const Table* to;
};

absl::StatusOr<ResolvedLoad> ResolveLoad(const RelationContext& context, const Table& table,
                                         const RelationLoadSpec& load) {
  if (context.relations == nullptr || context.engine == nullptr) {
    absl::string_view method = load.kind == RelationLoadSpec::Kind::kPreload ? "Preload"
                               : load.kind == RelationLoadSpec::Kind::kCount ? "WithCount"
                                                                             : "WithAggregate";
    return errors::NoRelationCatalog(table.name(), method);
  }
  KIN_ASSIGN_OR_RETURN(const RelationSpec* spec, context.relations->Get(table.name(), load.relation));
  KIN_ASSIGN_OR_RETURN(const Table* to, context.engine->GetTable(spec->related_table));
  return ResolvedLoad{spec, to};
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

// Whether the aggregate's results are int64 (or NULL).
bool IntResult(const CompiledAggregate& a) {
  if (a.star || a.function == AggregateFunction::kCount ||
      a.function == AggregateFunction::kCountDistinct) {
    return true;
  }
  return a.type == Type::kInt64 && a.function != AggregateFunction::kAvg;
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
  const size_t n = slots.size();
  const uint64_t* valid = a.star ? nullptr : a.validity;
  // Calls add(slot, row slot) for each matching related row whose aggregate
  // cell is not NULL.
  auto each = [&](auto&& add) {
    ScanRelated(hop, filter, slots, [&](size_t s, RowId r) {
      if (valid == nullptr || Bit(valid, r.value)) add(s, r.value);
    });
  };
  const size_t m = rows.size();
  auto slot_of = [&](size_t i) { return slots.FromSlot(rows[i]); };
  const AggregateFunction fn = a.function;
  if (a.star || fn == AggregateFunction::kCount) {
    std::vector<uint32_t> count(n, 0);
    each([&](size_t s, uint32_t) { ++count[s]; });
    e->unboxed = true;
    e->ints.resize(m);
    for (size_t i = 0; i < m; ++i) {
      int64_t s = slot_of(i);
      e->ints[i] = s < 0 ? 0 : count[static_cast<size_t>(s)];
    }
    return absl::OkStatus();
  }
  const std::string& column = hop.to().column(a.column).name;
  if (fn == AggregateFunction::kSum || fn == AggregateFunction::kAvg) {
    std::vector<int64_t> count(n, 0);
    if (a.type == Type::kInt64) {
      // Exact in 128 bits whatever the order; a sum that does not fit
      // int64 is an error, as for a single Aggregate().
      const int64_t* d = static_cast<const int64_t*>(a.data);
      std::vector<__int128> sum(n, 0);
      each([&](size_t s, uint32_t r) {
        ++count[s];
        sum[s] += d[r];
      });
      if (fn == AggregateFunction::kSum) {
        e->unboxed = true;
        e->ints.resize(m);
        e->nulls.assign(m, 0);
        for (size_t i = 0; i < m; ++i) {
          int64_t s = slot_of(i);
          if (s < 0 || count[static_cast<size_t>(s)] == 0) {
            e->nulls[i] = 1;
            continue;
          }
          __int128 v = sum[static_cast<size_t>(s)];
          if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
            return errors::AggregateOverflow(hop.to().name(), column, "sum");
          }
          e->ints[i] = static_cast<int64_t>(v);
        }
        return absl::OkStatus();
      }
      e->values.resize(m);
      for (size_t i = 0; i < m; ++i) {
        int64_t s = slot_of(i);
        if (s < 0 || count[static_cast<size_t>(s)] == 0) continue;
        e->values[i] = Value(static_cast<double>(static_cast<long double>(sum[static_cast<size_t>(s)]) /
                                                 count[static_cast<size_t>(s)]));
      }
      return absl::OkStatus();
    }
    const double* d = static_cast<const double*>(a.data);
    std::vector<double> sum(n, 0);
    each([&](size_t s, uint32_t r) {
      ++count[s];
      sum[s] += d[r];
    });
    e->values.resize(m);
    for (size_t i = 0; i < m; ++i) {
      int64_t s = slot_of(i);
      if (s < 0 || count[static_cast<size_t>(s)] == 0) continue;
      const double total = sum[static_cast<size_t>(s)];
      e->values[i] = fn == AggregateFunction::kSum
                         ? Value(total)
                         : Value(total / static_cast<double>(count[static_cast<size_t>(s)]));
    }
    return absl::OkStatus();
  }
  // Min / Max: the best value per key (the best row for strings), with
  // its flag beside it so an update touches one cache line.
  auto track = [&](const auto* d, auto emit) {
    using T = std::decay_t<decltype(*d)>;
    struct Best {
      T value;
      bool any;
    };
    std::vector<Best> best(n, Best{T(), false});
    each([&](size_t s, uint32_t r) {
      Best& b = best[s];
      if (!b.any || BetterForAggregate(fn, d[r], b.value)) b.value = d[r];
      b.any = true;
    });
    for (size_t i = 0; i < m; ++i) {
      int64_t s = slot_of(i);
      if (s >= 0 && best[static_cast<size_t>(s)].any) emit(i, best[static_cast<size_t>(s)].value);
    }
  };
  switch (a.type) {
    case Type::kInt64: {
      // The hot case (the latest post per user): the best values alone in
      // a dense array, updated without a branch. A filter or a nullable
      // column needs a "has any" byte per key beside it; otherwise a row
      // has a result exactly when its index list is non-empty, which is
      // only in doubt where the best is still the identity.
      const int64_t* d = static_cast<const int64_t*>(a.data);
      const bool flag_rows = filter != nullptr || valid != nullptr;
      std::vector<uint8_t> any(flag_rows ? n : 0, 0);
      std::vector<int64_t> best;
      const int64_t identity = fn == AggregateFunction::kMin
                                   ? std::numeric_limits<int64_t>::max()
                                   : std::numeric_limits<int64_t>::min();
      auto scan = [&](auto better) {
        best.assign(n, identity);
        // Raw restrict pointers: a byte store would otherwise alias every
        // captured pointer and force reloads each row.
        int64_t* __restrict best_at = best.data();
        uint8_t* __restrict any_at = any.data();
        if (flag_rows) {
          each([best_at, any_at, d, better](size_t s, uint32_t r) {
            best_at[s] = better(best_at[s], d[r]);
            any_at[s] = 1;
          });
        } else {
          each([best_at, d, better](size_t s, uint32_t r) {
            best_at[s] = better(best_at[s], d[r]);
          });
        }
      };
      if (fn == AggregateFunction::kMin) {
        scan([](int64_t x, int64_t y) { return std::min(x, y); });
      } else {
        scan([](int64_t x, int64_t y) { return std::max(x, y); });
      }
      e->unboxed = true;
      e->ints.resize(m);
      e->nulls.assign(m, 1);
      for (size_t i = 0; i < m; ++i) {
        int64_t s = slot_of(i);
        if (s < 0) continue;
        const int64_t v = best[static_cast<size_t>(s)];
        const bool has = flag_rows ? any[static_cast<size_t>(s)] != 0
                                   : v != identity || !hop.Related(rows[i]).empty();
        if (has) {
          e->ints[i] = v;
          e->nulls[i] = 0;
        }
      }
      return absl::OkStatus();
    }
    case Type::kDouble:
      e->values.resize(m);
      track(static_cast<const double*>(a.data), [&](size_t i, double v) { e->values[i] = Value(v); });
      return absl::OkStatus();
    case Type::kBool:
      e->values.resize(m);
      track(static_cast<const uint8_t*>(a.data),
            [&](size_t i, uint8_t v) { e->values[i] = Value(v != 0); });
      return absl::OkStatus();
    case Type::kString: {
      // Compare in place and copy only the winners.
      const std::string* d = static_cast<const std::string*>(a.data);
      std::vector<uint32_t> best(n, 0);
      std::vector<uint8_t> any(n, 0);
      each([&](size_t s, uint32_t r) {
        if (!any[s] || BetterForAggregate(fn, d[r], d[best[s]])) best[s] = r;
        any[s] = 1;
      });
      e->values.resize(m);
      for (size_t i = 0; i < m; ++i) {
        int64_t s = slot_of(i);
        if (s >= 0 && any[static_cast<size_t>(s)]) e->values[i] = Value(d[best[static_cast<size_t>(s)]]);
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status AttachLoadsImpl(const RelationContext& context, const Table& table,
                             const QuerySpec& spec, std::span<const RowId> rows,
                             RowSetData* data);

absl::Status RunPreload(const RelationContext& context, const RelationHop& hop,
                        const RelationLoadSpec& load, std::span<const RowId> rows,
                        RowSetData* data) {
  const QuerySpec& sub = load.query;
  // Per parent, in up to three steps:
  //  1. the relation's window, when its on_query recorded a Limit or
  //     Offset: the filtered rows in `listed` order (on_query's OrderBy
  //     keys, then the callback's), offset and limit applied per parent;
  //  2. the group window (GroupLimit / GroupOrderBy): the rows ranked by
  //     GroupOrderBy, else by primary key descending (Lucid's groupLimit
  //     default: the newest n), the first GroupLimit kept;
  //  3. when step 2 ranked them and `listed` is not empty, the kept rows
  //     shown in `listed` order (stable: rank order breaks its ties).
  // Without steps 1 and 2, one filtered select in `listed` order.
  std::vector<OrderSpec> listed = sub.relation_order_by;
  listed.insert(listed.end(), sub.order_by.begin(), sub.order_by.end());
  const bool relation_window = sub.relation_limit.has_value() || sub.relation_offset.has_value();
  const bool group_window = sub.group_limit.has_value() || !sub.group_order_by.empty();
  auto compile = [&](std::vector<OrderSpec> order, bool filter, const RelationContext* ctx,
                     CompiledQuery* out) -> absl::Status {
    QuerySpec spec;
    spec.table = sub.table;
    if (filter) {
      spec.scope = sub.scope;
      spec.conditions = sub.conditions;
    }
    spec.order_by = std::move(order);
    absl::Status s = CompiledQuery::CompileInto(hop.to(), spec, out, ctx);
    return s.ok() ? s : errors::InRelatedQuery("Preload", hop.name(), s);
  };
  std::vector<OrderSpec> rank_order = sub.group_order_by;
  if (group_window && rank_order.empty()) {
    rank_order.push_back(
        OrderSpec{hop.to().column(hop.to().primary_key()).name, Order::kDesc});
  }
  // Preload walks: the filter's relation conditions see each row's list.
  RelationContext walk = context;
  walk.candidate_rows = ProbedRows(rows.size(), hop);
  // `child` filters (step 1, else step 2, else the only select); `rank` is
  // step 2 after step 1 (no filter: its input is filtered already).
  CompiledQuery child;
  KIN_RETURN_IF_ERROR(compile(relation_window || !group_window ? listed : rank_order,
                              /*filter=*/true, &walk, &child));
  std::optional<CompiledQuery> rank;
  if (relation_window && group_window) {
    rank.emplace();
    KIN_RETURN_IF_ERROR(compile(rank_order, /*filter=*/false, nullptr, &*rank));
  }
  std::optional<CompiledQuery> reorder;
  if (group_window && !listed.empty()) {
    reorder.emplace();
    KIN_RETURN_IF_ERROR(compile(listed, /*filter=*/false, nullptr, &*reorder));
  }
  const size_t relation_offset =
      relation_window ? static_cast<size_t>(sub.relation_offset.value_or(0)) : 0;
  std::optional<size_t> relation_limit;
  if (sub.relation_limit.has_value()) relation_limit = static_cast<size_t>(*sub.relation_limit);
  std::optional<size_t> window;
  if (sub.group_limit.has_value()) window = static_cast<size_t>(*sub.group_limit);
  const bool copy = child.predicate().always_true() && child.order().empty() && !window &&
                    !relation_window;

  RowSetData::Preload preload;
  preload.name = load.relation;
  preload.offsets.reserve(rows.size() + 1);
  preload.offsets.push_back(0);
  std::vector<RowId> kids;
  const double per_row = hop.AverageFanout();
  kids.reserve(static_cast<size_t>(
      static_cast<double>(rows.size()) *
      (window.has_value() ? std::min(per_row, static_cast<double>(*window)) : per_row)));
  // Probe every row's list first, then read them: the probes' cache misses
  // overlap instead of alternating with the lists' own.
  SortScratch scratch;  // per-parent sorts share it: no allocation per parent
  std::vector<RowId> in_window;  // step 1's rows, when step 2 follows
  std::vector<std::span<const RowId>> lists(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) lists[i] = hop.Related(rows[i]);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + 4 < rows.size() && !lists[i + 4].empty()) KIN_PREFETCH(lists[i + 4].data());
    std::span<const RowId> related = lists[i];
    if (copy) {
      kids.insert(kids.end(), related.begin(), related.end());
    } else if (!related.empty()) {
      const size_t start = kids.size();
      if (!relation_window) {
        child.Select(related, 0, window, &kids, &scratch);
      } else if (!rank.has_value()) {
        child.Select(related, relation_offset, relation_limit, &kids, &scratch);
      } else {
        in_window.clear();
        child.Select(related, relation_offset, relation_limit, &in_window, &scratch);
        rank->Select(in_window, 0, window, &kids, &scratch);
      }
      if (reorder.has_value()) {
        reorder->order().Sort(kids.data() + start, kids.size() - start, SIZE_MAX, &scratch);
      }
    }
    preload.offsets.push_back(static_cast<uint32_t>(kids.size()));
  }
  preload.children = ResultSet::MakeData(hop.to(), kids, *data);
  if (!sub.select.empty()) {
    absl::StatusOr<std::vector<uint8_t>> selected = SelectedColumns(hop.to(), sub);
    if (!selected.ok()) return errors::InRelatedQuery("Preload", hop.name(), selected.status());
    preload.children->selected = *std::move(selected);
  }
  KIN_RETURN_IF_ERROR(AttachLoadsImpl(context, hop.to(), sub, kids, preload.children.get()));
  data->preloads.push_back(std::move(preload));
  return absl::OkStatus();
}

absl::Status RunCount(const RelationContext& context, const RelationHop& hop,
                      const RelationLoadSpec& load, std::span<const RowId> rows,
                      RowSetData* data) {
  KIN_ASSIGN_OR_RETURN(std::unique_ptr<CompiledQuery> filter,
                       CompileFilter(context, hop, RelatedUse::kWithCount, load.query));
  RowSetData::Extra e;
  e.name = ExtraName(load);
  e.unboxed = true;
  e.ints.resize(rows.size());
  const bool filtered = filter != nullptr;
  const Plan plan = ChoosePlan(rows.size(), hop, filter.get(), filtered, rows.size());
  if (filtered) filter->PrepareRelations(VisitedRows(plan, rows.size(), hop, *filter));
  if (plan != Plan::kProbe) {
    const KeySlots slots(hop, rows);
    std::vector<uint32_t> counts(slots.size(), 0);
    if (plan == Plan::kIndexScan) {
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
      e.ints[i] = static_cast<int64_t>(hop.Related(rows[i]).size());
    }
  }
  data->extras.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status RunAggregate(const RelationContext& context, const RelationHop& hop,
                          const RelationLoadSpec& load, std::span<const RowId> rows,
                          RowSetData* data) {
  CompiledQuery child;
  const RelationContext deferred = Deferred(context);
  if (absl::Status s = CompiledQuery::CompileInto(hop.to(), load.query, &child, &deferred);
      !s.ok()) {
    return errors::InRelatedQuery("WithAggregate", hop.name(), s);
  }
  RowSetData::Extra e;
  e.name = ExtraName(load);
  const bool filtered = !child.predicate().always_true();
  const bool visits = filtered || !child.aggregate().star;
  // CountDistinct keeps a set per row: its scan would hold one per key at
  // once, so it always probes (the results are the same either way).
  const Plan plan = child.aggregate().function == AggregateFunction::kCountDistinct
                        ? Plan::kProbe
                        : ChoosePlan(rows.size(), hop, filtered ? &child : nullptr, visits,
                                     rows.size());
  child.PrepareRelations(VisitedRows(plan, rows.size(), hop, child));
  if (plan != Plan::kProbe) {
    KIN_RETURN_IF_ERROR(ScanAggregate(hop, child, rows, &e));
  } else {
    std::vector<Value> values;
    values.reserve(rows.size());
    for (RowId r : rows) {
      KIN_ASSIGN_OR_RETURN(Value v, child.Aggregate(hop.Related(r)));
      values.push_back(std::move(v));
    }
    PackValues(std::move(values), IntResult(child.aggregate()), &e);
  }
  data->extras.push_back(std::move(e));
  return absl::OkStatus();
}

absl::Status AttachLoadsImpl(const RelationContext& context, const Table& table,
                             const QuerySpec& spec, std::span<const RowId> rows,
                             RowSetData* data) {
  for (const RelationLoadSpec& load : spec.loads) {
    KIN_ASSIGN_OR_RETURN(RelationHop hop, RelationHop::Resolve(context, table, load.relation));
    switch (load.kind) {
      case RelationLoadSpec::Kind::kPreload:
        KIN_RETURN_IF_ERROR(RunPreload(context, hop, load, rows, data));
        break;
      case RelationLoadSpec::Kind::kCount:
        KIN_RETURN_IF_ERROR(RunCount(context, hop, load, rows, data));
        break;
      case RelationLoadSpec::Kind::kAggregate:
        KIN_RETURN_IF_ERROR(RunAggregate(context, hop, load, rows, data));
        break;
    }
  }
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

absl::Status ValidateLoads(const RelationContext& context, const Table& table,
                           const QuerySpec& spec) {
  std::vector<absl::string_view> preloads;
  std::vector<std::string> extras;
  for (const RelationLoadSpec& load : spec.loads) {
    KIN_ASSIGN_OR_RETURN(ResolvedLoad r, ResolveLoad(context, table, load));
    KIN_RETURN_IF_ERROR(CheckRelatedSpec(*r.spec, UseOf(load.kind), load.query));
    if (load.kind == RelationLoadSpec::Kind::kPreload) {
      if (std::find(preloads.begin(), preloads.end(), load.relation) != preloads.end()) {
        return errors::DuplicatePreload(table.name(), load.relation);
      }
      preloads.push_back(load.relation);
      if (absl::Status s = SelectedColumns(*r.to, load.query).status(); !s.ok()) {
        return errors::InRelatedQuery("Preload", r.spec->QualifiedName(), s);
      }
      absl::Status nested = ValidateLoads(context, *r.to, load.query);
      if (!nested.ok()) return errors::InRelatedQuery("Preload", r.spec->QualifiedName(), nested);
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

absl::Status AttachLoads(const RelationContext& context, const Table& table,
                         const QuerySpec& spec, std::span<const RowId> rows, RowSetData* data) {
  KIN_RETURN_IF_ERROR(ValidateLoads(context, table, spec));
  return AttachLoadsImpl(context, table, spec, rows, data);
}

}  // namespace internal
}  // namespace kin
