// The WHERE stage of a compiled query: conditions resolved against one
// table into typed atoms, combined by AND / OR groups, evaluated a block of
// rows at a time.
//
// Relation conditions (Has / WhereHas) are atoms too, holding a
// RelationTest. The test itself lives above this layer (it runs a related
// query: query/internal/has_filter.h); the predicate sees it only through
// the interface below, and the RelationContext names the function that
// compiles one. That keeps the dependency one way: relation plans use
// compiled queries, never the reverse.
//
// Validity: a compiled predicate points into its table's storage and is
// valid until the next write to that table.

#ifndef KIN_QUERY_INTERNAL_PREDICATE_H_
#define KIN_QUERY_INTERNAL_PREDICATE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/table.h"
#include "kin/ids.h"
#include "kin/query_spec.h"
#include "kin/value.h"

namespace kin {

class Engine;
class RelationCatalog;

namespace internal {

struct RelationContext;

// A count (or aggregate) test on the related rows of each row: the compiled
// form of a Has / WhereHas condition.
class RelationTest {
 public:
  virtual ~RelationTest() = default;
  // Picks the strategy for about `rows` evaluations; a scan runs here, once.
  virtual void Prepare(size_t rows) = 0;
  // Copies the rows of in[0, n) that pass into out (which may be `in`).
  virtual size_t Filter(const RowId* in, size_t n, RowId* out) const = 0;
  // How the test runs ("count(users.posts) >= 5 by index").
  virtual std::string Explain() const = 0;
};

// Compiles the relation condition `condition` on rows of `from`.
using RelationTestCompiler = absl::StatusOr<std::shared_ptr<RelationTest>> (*)(
    const RelationContext& context, const Table& from, const ConditionSpec& condition);

// What compiling a relation condition needs besides the table: the engine
// (to find the related table), the relation catalog and the compiler of
// relation tests. Any may be null: a relation condition then fails to
// compile.
struct RelationContext {
  const Engine* engine = nullptr;
  const RelationCatalog* relations = nullptr;
  // How many rows the relation conditions will be asked about, when the
  // plan is run over candidate spans (a related query run per parent)
  // rather than its own access path; unset: the access path's rows. Zero
  // defers the choice: the caller runs PrepareRelations once it knows.
  std::optional<size_t> candidate_rows;
  RelationTestCompiler compile_relation = nullptr;
};

// One typed test on one column. NULL cells never pass a test except
// kIsNull: under SQL's three-valued logic they are UNKNOWN, and since kin's
// conditions have no NOT over groups, UNKNOWN and FALSE select the same rows.
struct Atom {
  enum class Kind : uint8_t {
    kAlways,  // IS NOT NULL on a NOT NULL column
    kNever,   // IS NULL on a NOT NULL column; NOT IN a list holding NULL
    kIsNull,
    kIsNotNull,
    kCmpInt64,
    kCmpDouble,
    kCmpBool,
    kCmpString,
    kInInt64,
    kInDouble,
    kInBool,
    kInString,
    kBetweenInt64,
    kBetweenDouble,
    kBetweenBool,
    kBetweenString,
    kStartsWith,
    kEndsWith,
    kContains,
    kRelation,  // a count test on related rows (Has / WhereHas), in `relation`
  };

  Kind kind = Kind::kAlways;
  CompareOp op = CompareOp::kEq;  // kCmp*
  bool negate = false;            // kIn* (NOT IN), kBetween* (NOT BETWEEN)
  // From IS NULL / IS NOT NULL: the kind depends on whether the column
  // holds NULLs yet (kIsNull or kNever...), so Refresh recomputes it.
  enum class NullTest : uint8_t { kNone, kIsNull, kIsNotNull };
  NullTest null_test = NullTest::kNone;
  ColumnId column;
  // Validity words (bit set = not NULL); nullptr when the column has no NULLs.
  const uint64_t* validity = nullptr;
  // The typed column: int64_t*, double*, uint8_t* (bool) or std::string*.
  const void* data = nullptr;
  // Operands, in the column's representation. Bools are 0/1 in i0 / i1;
  // kInBool uses bit 0 of i0 for false and bit 1 for true.
  int64_t i0 = 0;
  int64_t i1 = 0;
  double d0 = 0;
  double d1 = 0;
  std::string s0;
  std::string s1;
  // IN lists, sorted and deduplicated, NULLs removed.
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  // kRelation: the compiled test (shared so plans stay copyable).
  std::shared_ptr<RelationTest> relation;

  // Copies the rows of in[0, n) that pass into out (which may be `in`),
  // keeping their order; returns how many. REQUIRES: live rows.
  size_t Filter(const RowId* in, size_t n, RowId* out) const;
  bool Test(RowId id) const {
    RowId out;
    return Filter(&id, 1, &out) == 1;
  }
};

// The WHERE part: atoms combined by AND / OR groups, flattened into arrays.
// Groups that hold a single AND-term are spliced into their parent, so
// `Where(a).Where([](Query& q) { q.Where(b).Where(c); })` is one AND-term.
class CompiledPredicate {
 public:
  // Resolves `conditions` against `table` into `out` (replacing it).
  // Errors: InvalidArgument for an unknown column, a value of the wrong
  // type, NULL in an ordering comparison or BETWEEN, a string match on a
  // non-string column; relation conditions fail as RelationTestCompiler.
  static absl::Status Compile(const Table& table, const std::vector<ConditionSpec>& conditions,
                              const RelationContext* relations, CompiledPredicate* out);

  // True when there are no conditions (every row matches).
  bool always_true() const { return root_ < 0; }
  // Whether a live row matches.
  bool Matches(RowId id) const { return root_ < 0 || EvalGroup(root_, id); }
  // Copies the rows of in[0, n) that match into out (which may be `in`),
  // keeping their order; returns how many. `skip_atom` (an index into
  // atoms(), or -1) is left out when it is ANDed at the top level: the
  // index probe already guarantees it.
  size_t FilterBlock(const RowId* in, size_t n, RowId* out, int skip_atom = -1) const;
  // Appends the matching rows of `candidates` to `out`, in order.
  // REQUIRES: candidates are live rows of the table.
  void Filter(std::span<const RowId> candidates, std::vector<RowId>* out) const;
  // How many of `candidates` match.
  size_t Count(std::span<const RowId> candidates) const;
  // min(cap, how many of `candidates` match), stopping once cap is reached.
  size_t CountUpTo(std::span<const RowId> candidates, size_t cap) const;

  std::span<const Atom> atoms() const { return atoms_; }
  // For a prepared query (kin/prepared_query.h), which writes bound values
  // into the operands between runs.
  Atom& mutable_atom(size_t i) { return atoms_[i]; }
  // Re-reads every atom's storage pointers (and the kind of IS NULL / IS
  // NOT NULL tests) from `table`, which writes may have moved since the
  // compile. Relation atoms are not refreshed (a prepared query has none).
  void Refresh(const Table& table);
  // The top level is a single AND-term (no OR at the top): an index probe
  // is possible on one of its atoms.
  bool conjunctive() const;
  // The atoms ANDed at the top level (empty when not conjunctive).
  absl::InlinedVector<int, 4> TopLevelAtoms() const;
  // The same, computed once by Compile (the planner reads it on every
  // choice, and a prepared query re-plans on every run).
  std::span<const int> top_level_atoms() const { return top_; }
  // Atoms and group references in all terms (1 for a single condition).
  size_t num_nodes() const { return nodes_.size(); }

 private:
  friend class PredicateCompiler;
  struct NodeRef {
    uint32_t index;  // into atoms_ or groups_
    bool is_group;
  };
  struct Range {
    uint32_t begin;
    uint32_t end;
  };

  bool EvalNode(NodeRef node, RowId id) const {
    return node.is_group ? EvalGroup(static_cast<int>(node.index), id)
                         : atoms_[node.index].Test(id);
  }
  bool EvalGroup(int group, RowId id) const;
  // FilterBlock of a predicate that is one AND-term.
  size_t FilterTerm(const Range& term, const RowId* in, size_t n, RowId* out, int skip_atom) const;

  // Inline storage: a typical query compiles without allocating here.
  absl::InlinedVector<Atom, 2> atoms_;
  absl::InlinedVector<NodeRef, 4> nodes_;  // the terms' nodes, term after term
  absl::InlinedVector<Range, 2> terms_;    // a term: nodes_[begin, end), ANDed
  absl::InlinedVector<Range, 1> groups_;   // a group: terms_[begin, end), ORed
  int root_ = -1;                          // index into groups_, -1 when no conditions
  absl::InlinedVector<int, 4> top_;        // TopLevelAtoms()
};

}  // namespace internal
}  // namespace kin

#endif  // KIN_QUERY_INTERNAL_PREDICATE_H_
