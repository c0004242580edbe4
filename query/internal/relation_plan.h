// Relation-aware query execution: the Has / WhereHas count tests, Preload,
// WithCount and WithAggregate, run on the foreign-key indexes and columns.
//
// A relation is a hop from rows of one table to the related rows of another:
// a HasMany parent's children (the child foreign-key index, insertion order)
// or a BelongsTo child's parent (the parent's key index, 0 or 1 row). The
// related rows' filter (the relation's on_query plus a callback) is compiled
// once into a CompiledQuery; then, per strategy:
//
//   index   count = the index list's size: O(1) per row (no filter).
//   walk    per row, the index list run through the compiled filter
//           (stopping early once a count test is decided).
//   index scan  (counts without a filter) one pass over the index's
//           entries, each key's list size into a per-key array; then O(1)
//           per row. No hash probe at all: wins when most keys are asked
//           about.
//   scan    one pass over the related table's matching rows, accumulating
//           per key into a dense array (compact int64 keys) or a hash map;
//           then O(1) per row. Wins when most rows are asked about.
//
// The choice is a cost estimate (rows asked about x related rows per key,
// against the index's keys or the related table's size); the constants
// come from the relations benchmark. Preload always walks: it must return
// each row's related rows in index order.
//
// Validity: compiled pieces point into both tables' storage and are valid
// until the next write to either.

#ifndef KIN_QUERY_INTERNAL_RELATION_PLAN_H_
#define KIN_QUERY_INTERNAL_RELATION_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/hash_index.h"
#include "kin/ids.h"
#include "kin/row.h"
#include "engine/table.h"
#include "query/internal/compiled_query.h"
#include "kin/result_set.h"
#include "query/row_set.h"
#include "kin/query_spec.h"
#include "relations/relation_catalog.h"

namespace kin {
namespace internal {

// For tests: forces every relation test and load onto one strategy.
// kAuto (the default) lets the cost estimate choose. Not thread-safe.
// kWalk probes the index per row (walking the lists when filtered); kScan
// scans the related table; kIndexScan scans the index's entries for
// unfiltered counts (else the table).
enum class RelationStrategy : uint8_t { kAuto, kWalk, kScan, kIndexScan };
void SetRelationStrategyForTesting(RelationStrategy strategy);

// One relation, resolved against the engine: from rows of from() to their
// related rows in to().
class RelationHop {
 public:
  // NotFound "table 'users': no relation named 'postz'" for an unknown
  // relation, NotFound for a missing table; InvalidArgument for a missing
  // key column and FailedPrecondition for key columns of other types (the
  // tables changed under the relation). Cost: O(1), except for a to-side
  // key without an index (a BelongsTo owner key that is neither primary,
  // unique nor indexed), which is indexed here by one scan.
  static absl::StatusOr<RelationHop> Resolve(const RelationContext& context, const Table& from,
                                             absl::string_view relation);

  const RelationSpec& spec() const { return *spec_; }
  const Table& from() const { return *from_; }
  const Table& to() const { return *to_; }
  Type key_type() const { return key_type_; }
  // "users.posts"
  std::string name() const { return spec_->QualifiedName(); }

  // The related rows of a live `from` row, in the related index's order
  // (insertion order); empty for a NULL key or a key nothing matches, and
  // for a row outside a scoped BelongsTo's scope (RelationScope), which
  // the hop treats as a NULL key everywhere (FromNull).
  std::span<const RowId> Related(RowId row) const {
    if (FromNull(row)) return {};
    if (key_type_ == Type::kInt64) return FindInt(from_ints_[row.value]);
    return FindString(from_strings_[row.value]);
  }
  // Related rows per key, on average (the cost estimate's fan-out).
  double AverageFanout() const;

  // Key cells, for scans: the from-side and to-side key of a live row.
  // REQUIRES: key_type() is kInt64 / kString, and the cell is not NULL.
  int64_t FromInt(RowId row) const { return from_ints_[row.value]; }
  int64_t ToInt(RowId row) const { return to_ints_[row.value]; }
  absl::string_view FromString(RowId row) const { return from_strings_[row.value]; }
  absl::string_view ToString(RowId row) const { return to_strings_[row.value]; }
  bool FromNull(RowId row) const {
    return from_validity_ != nullptr && ((from_validity_[row.value >> 6] >> (row.value & 63)) & 1) == 0;
  }
  bool ToNull(RowId row) const {
    return to_validity_ != nullptr && ((to_validity_[row.value >> 6] >> (row.value & 63)) & 1) == 0;
  }
  // True when the from-side key is an int64 column without NULLs.
  bool FromDenseReady() const { return key_type_ == Type::kInt64 && from_validity_ == nullptr; }
  const uint64_t* to_validity() const { return to_validity_; }
  // The to-side int64 key column. REQUIRES: key_type() is kInt64.
  const int64_t* to_ints() const { return to_ints_; }

  // Keys with related rows (for the cost estimate).
  size_t num_keys() const;
  // Calls f(key, n) for every to-side key and its number of related rows,
  // in no particular order: O(keys). `key` is an int64_t or an
  // absl::string_view, by key_type().
  template <typename F>
  void ForEachKeyCount(F&& f) const;

 private:
  // The to-side key's rows when it has no index (a BelongsTo owner key
  // that is neither primary, unique nor indexed): built once by a scan.
  struct LocalIndex {
    absl::flat_hash_map<int64_t, std::vector<RowId>> ints;
    absl::flat_hash_map<std::string, std::vector<RowId>> strings;
  };

  std::span<const RowId> FindInt(int64_t key) const;
  std::span<const RowId> FindString(absl::string_view key) const;

  const RelationSpec* spec_ = nullptr;
  const Table* from_ = nullptr;
  const Table* to_ = nullptr;
  Type key_type_ = Type::kInt64;
  ColumnId from_key_;
  ColumnId to_key_;
  const uint64_t* from_validity_ = nullptr;
  const uint64_t* to_validity_ = nullptr;
  const int64_t* from_ints_ = nullptr;
  const int64_t* to_ints_ = nullptr;
  const std::string* from_strings_ = nullptr;
  const std::string* to_strings_ = nullptr;
  const HashIndex* index_ = nullptr;         // on to_key_, when it has one
  std::shared_ptr<const LocalIndex> local_;  // otherwise
  // A scoped BelongsTo: per from-slot, key not NULL and row inside the
  // scope; from_validity_ points at it.
  std::shared_ptr<const std::vector<uint64_t>> from_mask_;
};

template <typename F>
void RelationHop::ForEachKeyCount(F&& f) const {
  if (index_ != nullptr) {
    index_->ForEachKey([&](auto key, std::span<const RowId> rows) { f(key, rows.size()); });
    return;
  }
  for (const auto& [key, rows] : local_->ints) f(key, rows.size());
  for (const auto& [key, rows] : local_->strings) f(absl::string_view(key), rows.size());
}

// Which callback a related query came from: decides what it may record.
enum class RelatedUse : uint8_t { kWhereHas, kPreload, kWithCount, kWithAggregate };

// The structural rules of a related query recorded for `use` (Limit inside
// a Preload, a missing As() in WithAggregate, ...): the first violation, or
// OK. Does not resolve column names.
absl::Status CheckRelatedSpec(const RelationSpec& relation, RelatedUse use, const QuerySpec& spec);

// The count test of a kRelation condition (Has / WhereHas / DoesntHave),
// evaluated on rows of `from`. Lives in an Atom of the compiled predicate.
class KeySlots;  // relation_plan.cc: per-key slots for scans

class RelationFilter {
 public:
  RelationFilter() = default;
  ~RelationFilter();

  // Resolves the relation and compiles its filter. Errors: unknown relation
  // (NotFound), a bad related query (see CheckRelatedSpec), column and type
  // errors of the filter, a count that is not an int64.
  static absl::StatusOr<std::shared_ptr<RelationFilter>> Compile(const RelationContext& context,
                                                                 const Table& from,
                                                                 const ConditionSpec& condition);

  // Picks the strategy for about `rows` evaluations; a scan runs here, once.
  void Prepare(size_t rows);

  // Copies the rows of in[0, n) that pass into out (which may be `in`).
  size_t Filter(const RowId* in, size_t n, RowId* out) const;

  // "count(users.posts) >= 5 by index", "... by walk", "... by scan of posts",
  // "sum(likes) of users.posts > 100 by walk".
  std::string Explain() const;

 private:
  // kAggregate: a WhereHas callback recorded an aggregate (Sum("likes")),
  // which is compared instead of the row count; computed when compiled, for
  // every live row of from(), so that an error (an int64 Sum overflowing)
  // is the query's error rather than a silently failing row.
  enum class Strategy : uint8_t { kIndex, kWalk, kScan, kIndexScan, kAggregate };
  bool Passes(int64_t count) const;
  // The SQL comparison of an aggregate's value: NULL (no related rows for
  // Sum / Avg / Min / Max) never passes; numbers compare numerically.
  bool PassesValue(const Value& value) const;

  RelationHop hop_;
  std::unique_ptr<CompiledQuery> filter_;  // nullptr: every related row counts
  CompareOp op_ = CompareOp::kGe;
  int64_t count_ = 1;
  int64_t cap_ = 2;  // counting past this cannot change the answer
  Strategy strategy_ = Strategy::kIndex;
  // kScan: the number of matching related rows per key slot.
  std::unique_ptr<KeySlots> slots_;
  std::vector<uint32_t> counts_;
  // kAggregate: the aggregate per from-slot, and its text for Explain.
  std::vector<Value> by_slot_;
  std::string aggregate_;
};

// Per column of `table`, 1 when spec.select names it; empty when it names
// none (every column). InvalidArgument for an unknown column.
absl::StatusOr<std::vector<uint8_t>> SelectedColumns(const Table& table, const QuerySpec& spec);

// Structural checks of spec.loads (recursively): relations exist, and each
// related query follows CheckRelatedSpec; duplicate preloads and extras.
absl::Status ValidateLoads(const RelationContext& context, const Table& table,
                           const QuerySpec& spec);

// Runs spec.loads for `rows` (rows of `table`, in the order of data->rows)
// and attaches them to `data`: a Preload per relation (children sets built
// recursively with their own loads), an Extra per count or aggregate.
absl::Status AttachLoads(const RelationContext& context, const Table& table,
                         const QuerySpec& spec, std::span<const RowId> rows, RowSetData* data);

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_RELATION_PLAN_H_
