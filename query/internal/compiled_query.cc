#include "query/internal/compiled_query.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"
#include "query/internal/relation_plan.h"

namespace kin {
namespace internal {

namespace {

// Rows are filtered in blocks of this many slots: big enough to amortise
// the per-atom dispatch, small enough to live on the stack.
constexpr size_t kBlock = 256;

inline bool Bit(const uint64_t* words, uint32_t i) { return (words[i >> 6] >> (i & 63)) & 1; }

inline size_t SaturatingAdd(size_t a, size_t b) {
  return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

// Copies the rows of in[0, n) that are not NULL (when `validity` is set) and
// pass `test(slot)` into out; out may be in. Branch-free on the write.
template <typename F>
inline size_t FilterLoop(const uint64_t* validity, const RowId* in, size_t n, RowId* out,
                         F test) {
  size_t k = 0;
  if (validity == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      RowId id = in[i];
      out[k] = id;
      k += test(id.value) ? 1 : 0;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      RowId id = in[i];
      out[k] = id;
      k += (Bit(validity, id.value) && test(id.value)) ? 1 : 0;
    }
  }
  return k;
}

template <typename T>
size_t CompareLoop(CompareOp op, const T* d, const T& x, const uint64_t* v, const RowId* in,
                   size_t n, RowId* out) {
  switch (op) {
    case CompareOp::kEq:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] == x; });
    case CompareOp::kNe:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] != x; });
    case CompareOp::kLt:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] < x; });
    case CompareOp::kLe:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] <= x; });
    case CompareOp::kGt:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] > x; });
    case CompareOp::kGe:
      return FilterLoop(v, in, n, out, [d, &x](uint32_t s) { return d[s] >= x; });
  }
  return 0;
}

template <typename T>
size_t BetweenLoop(bool negate, const T* d, const T& lo, const T& hi, const uint64_t* v,
                   const RowId* in, size_t n, RowId* out) {
  if (negate) {
    return FilterLoop(v, in, n, out,
                      [d, &lo, &hi](uint32_t s) { return d[s] < lo || d[s] > hi; });
  }
  return FilterLoop(v, in, n, out,
                    [d, &lo, &hi](uint32_t s) { return lo <= d[s] && d[s] <= hi; });
}

template <typename T, typename K>
inline bool SortedContains(const std::vector<T>& list, const K& x) {
  if (list.size() <= 8) {
    for (const T& e : list) {
      if (e == x) return true;
    }
    return false;
  }
  return std::binary_search(list.begin(), list.end(), x);
}

template <typename T, typename K>
size_t InLoop(bool negate, const K* d, const std::vector<T>& list, const uint64_t* v,
              const RowId* in, size_t n, RowId* out) {
  if (negate) {
    return FilterLoop(v, in, n, out,
                      [d, &list](uint32_t s) { return !SortedContains(list, d[s]); });
  }
  return FilterLoop(v, in, n, out, [d, &list](uint32_t s) { return SortedContains(list, d[s]); });
}

size_t CopyRows(const RowId* in, size_t n, RowId* out) {
  if (out != in && n > 0) std::memmove(out, in, n * sizeof(RowId));
  return n;
}

}  // namespace

// --- Atom ---

size_t Atom::Filter(const RowId* in, size_t n, RowId* out) const {
  const uint64_t* v = validity;
  switch (kind) {
    case Kind::kAlways:
      return CopyRows(in, n, out);
    case Kind::kNever:
      return 0;
    case Kind::kIsNull: {
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Bit(v, id.value) ? 0 : 1;
      }
      return k;
    }
    case Kind::kIsNotNull: {
      size_t k = 0;
      for (size_t i = 0; i < n; ++i) {
        RowId id = in[i];
        out[k] = id;
        k += Bit(v, id.value) ? 1 : 0;
      }
      return k;
    }
    case Kind::kCmpInt64:
      return CompareLoop<int64_t>(op, static_cast<const int64_t*>(data), i0, v, in, n, out);
    case Kind::kCmpDouble:
      return CompareLoop<double>(op, static_cast<const double*>(data), d0, v, in, n, out);
    case Kind::kCmpBool: {
      uint8_t x = static_cast<uint8_t>(i0);
      return CompareLoop<uint8_t>(op, static_cast<const uint8_t*>(data), x, v, in, n, out);
    }
    case Kind::kCmpString:
      return CompareLoop<std::string>(op, static_cast<const std::string*>(data), s0, v, in, n,
                                      out);
    case Kind::kInInt64:
      return InLoop(negate, static_cast<const int64_t*>(data), ints, v, in, n, out);
    case Kind::kInDouble:
      return InLoop(negate, static_cast<const double*>(data), doubles, v, in, n, out);
    case Kind::kInBool: {
      const uint8_t* d = static_cast<const uint8_t*>(data);
      int64_t mask = i0;
      if (negate) {
        return FilterLoop(v, in, n, out, [d, mask](uint32_t s) { return ((mask >> d[s]) & 1) == 0; });
      }
      return FilterLoop(v, in, n, out, [d, mask](uint32_t s) { return ((mask >> d[s]) & 1) != 0; });
    }
    case Kind::kInString:
      return InLoop(negate, static_cast<const std::string*>(data), strings, v, in, n, out);
    case Kind::kBetweenInt64:
      return BetweenLoop<int64_t>(negate, static_cast<const int64_t*>(data), i0, i1, v, in, n,
                                  out);
    case Kind::kBetweenDouble:
      return BetweenLoop<double>(negate, static_cast<const double*>(data), d0, d1, v, in, n,
                                 out);
    case Kind::kBetweenBool: {
      uint8_t lo = static_cast<uint8_t>(i0);
      uint8_t hi = static_cast<uint8_t>(i1);
      return BetweenLoop<uint8_t>(negate, static_cast<const uint8_t*>(data), lo, hi, v, in, n,
                                  out);
    }
    case Kind::kBetweenString:
      return BetweenLoop<std::string>(negate, static_cast<const std::string*>(data), s0, s1, v,
                                      in, n, out);
    case Kind::kStartsWith: {
      const std::string* d = static_cast<const std::string*>(data);
      absl::string_view x = s0;
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::StartsWith(d[s], x); });
    }
    case Kind::kEndsWith: {
      const std::string* d = static_cast<const std::string*>(data);
      absl::string_view x = s0;
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::EndsWith(d[s], x); });
    }
    case Kind::kContains: {
      const std::string* d = static_cast<const std::string*>(data);
      absl::string_view x = s0;
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::StrContains(d[s], x); });
    }
    case Kind::kRelation:
      return relation->Filter(in, n, out);
  }
  return 0;
}

// --- CompiledPredicate ---

bool CompiledPredicate::EvalGroup(int group, RowId id) const {
  const Range& g = groups_[group];
  if (g.begin == g.end) return true;
  for (uint32_t t = g.begin; t < g.end; ++t) {
    const Range& term = terms_[t];
    bool all = true;
    for (uint32_t i = term.begin; i < term.end; ++i) {
      if (!EvalNode(nodes_[i], id)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool CompiledPredicate::conjunctive() const {
  return root_ >= 0 && groups_[root_].end - groups_[root_].begin == 1;
}

absl::InlinedVector<int, 4> CompiledPredicate::TopLevelAtoms() const {
  absl::InlinedVector<int, 4> out;
  if (!conjunctive()) return out;
  const Range& term = terms_[groups_[root_].begin];
  for (uint32_t i = term.begin; i < term.end; ++i) {
    if (!nodes_[i].is_group) out.push_back(static_cast<int>(nodes_[i].index));
  }
  return out;
}

size_t CompiledPredicate::FilterBlock(const RowId* in, size_t n, RowId* out,
                                      int skip_atom) const {
  if (root_ < 0) return CopyRows(in, n, out);
  const Range& g = groups_[root_];
  if (g.end - g.begin == 1) {
    // One AND-term: narrow the block node by node, each a tight typed loop.
    const Range& term = terms_[g.begin];
    const RowId* src = in;
    size_t k = n;
    for (uint32_t i = term.begin; i < term.end && k > 0; ++i) {
      NodeRef node = nodes_[i];
      if (node.is_group) {
        size_t m = 0;
        for (size_t j = 0; j < k; ++j) {
          RowId id = src[j];
          out[m] = id;
          m += EvalGroup(static_cast<int>(node.index), id) ? 1 : 0;
        }
        k = m;
      } else {
        if (static_cast<int>(node.index) == skip_atom) continue;
        k = atoms_[node.index].Filter(src, k, out);
      }
      src = out;
    }
    if (src != out) return CopyRows(in, k, out);
    return k;
  }
  size_t m = 0;
  for (size_t j = 0; j < n; ++j) {
    RowId id = in[j];
    out[m] = id;
    m += EvalGroup(root_, id) ? 1 : 0;
  }
  return m;
}

void CompiledPredicate::Filter(std::span<const RowId> candidates, std::vector<RowId>* out) const {
  if (root_ < 0) {
    out->insert(out->end(), candidates.begin(), candidates.end());
    return;
  }
  RowId buf[kBlock];
  for (size_t i = 0; i < candidates.size(); i += kBlock) {
    size_t n = std::min(kBlock, candidates.size() - i);
    size_t k = FilterBlock(candidates.data() + i, n, buf);
    out->insert(out->end(), buf, buf + k);
  }
}

size_t CompiledPredicate::Count(std::span<const RowId> candidates) const {
  if (root_ < 0) return candidates.size();
  RowId buf[kBlock];
  size_t total = 0;
  for (size_t i = 0; i < candidates.size(); i += kBlock) {
    size_t n = std::min(kBlock, candidates.size() - i);
    total += FilterBlock(candidates.data() + i, n, buf);
  }
  return total;
}

size_t CompiledPredicate::CountUpTo(std::span<const RowId> candidates, size_t cap) const {
  if (root_ < 0) return std::min(cap, candidates.size());
  // Small blocks first: a count test usually decides within a few rows.
  RowId buf[kBlock];
  size_t total = 0;
  size_t block = 16;
  for (size_t i = 0; i < candidates.size() && total < cap; i += block, block = kBlock) {
    size_t n = std::min(block, candidates.size() - i);
    total += FilterBlock(candidates.data() + i, n, buf);
  }
  return std::min(total, cap);
}

// --- compiling conditions ---

namespace {

const uint64_t* ValidityWords(const Table& t, ColumnId c) {
  const Bitmap* b = t.validity(c);
  if (b == nullptr || b->size() == 0) return nullptr;
  return b->words().data();
}

const void* ColumnData(const Table& t, ColumnId c) {
  switch (t.column(c).type) {
    case Type::kInt64:
      return t.Int64Column(c).data();
    case Type::kDouble:
      return t.DoubleColumn(c).data();
    case Type::kBool:
      return t.BoolColumn(c).data();
    case Type::kString:
      return t.StringColumn(c).data();
  }
  return nullptr;
}

// One operand in the column's representation.
struct Operand {
  int64_t i = 0;
  double d = 0;
  std::string s;
};

Operand ToOperand(Type type, const Value& v) {
  Operand o;
  switch (type) {
    case Type::kInt64:
      o.i = v.AsInt64();
      break;
    case Type::kDouble:
      o.d = v.AsNumber();
      break;
    case Type::kBool:
      o.i = v.AsBool() ? 1 : 0;
      break;
    case Type::kString:
      o.s = v.AsString();
      break;
  }
  return o;
}

}  // namespace

class PredicateCompiler {
 public:
  PredicateCompiler(const Table& table, CompiledPredicate* out, const RelationContext* relations)
      : table_(table), out_(out), relations_(relations) {}

  absl::Status CompileRoot(const std::vector<ConditionSpec>& conditions) {
    if (IsPlainConjunction(conditions)) {
      // The common shape, without the general splitting: one AND-term.
      for (const ConditionSpec& c : conditions) {
        KIN_RETURN_IF_ERROR(CompileAtom(c));
        out_->nodes_.push_back(NodeRef{static_cast<uint32_t>(out_->atoms_.size() - 1), false});
      }
      out_->terms_.push_back({0, static_cast<uint32_t>(out_->nodes_.size())});
      out_->groups_.push_back({0, 1});
      out_->root_ = 0;
      return absl::OkStatus();
    }
    Terms terms;
    KIN_RETURN_IF_ERROR(CompileList(conditions, &terms));
    out_->root_ = terms.empty() ? -1 : Materialize(terms);
    return absl::OkStatus();
  }

 private:
  using NodeRef = CompiledPredicate::NodeRef;
  using Term = absl::InlinedVector<NodeRef, 4>;
  using Terms = absl::InlinedVector<Term, 2>;

  // No groups and no OR: a non-empty list of atoms ANDed together.
  static bool IsPlainConjunction(const std::vector<ConditionSpec>& conditions) {
    if (conditions.empty()) return false;
    for (size_t i = 0; i < conditions.size(); ++i) {
      if (conditions[i].kind == ConditionSpec::Kind::kGroup) return false;
      if (i > 0 && conditions[i].connector == Connector::kOr) return false;
    }
    return true;
  }

  // Splits `conditions` into OR-ed terms of AND-ed nodes (AND binds
  // tighter). Groups without conditions contribute nothing, as if absent;
  // a group that is a single AND-term is spliced into the current term.
  absl::Status CompileList(const std::vector<ConditionSpec>& conditions, Terms* terms) {
    bool first = true;
    for (const ConditionSpec& c : conditions) {
      Term contribution;
      if (c.kind == ConditionSpec::Kind::kGroup) {
        Terms sub;
        KIN_RETURN_IF_ERROR(CompileList(c.group, &sub));
        if (sub.empty()) continue;
        if (sub.size() == 1) {
          contribution = std::move(sub[0]);
        } else {
          contribution.push_back(NodeRef{static_cast<uint32_t>(Materialize(sub)), true});
        }
      } else {
        KIN_RETURN_IF_ERROR(CompileAtom(c));
        contribution.push_back(NodeRef{static_cast<uint32_t>(out_->atoms_.size() - 1), false});
      }
      if (first || c.connector == Connector::kOr) terms->emplace_back();
      first = false;
      Term& term = terms->back();
      term.insert(term.end(), contribution.begin(), contribution.end());
    }
    return absl::OkStatus();
  }

  int Materialize(const Terms& terms) {
    CompiledPredicate::Range group;
    group.begin = static_cast<uint32_t>(out_->terms_.size());
    for (const Term& term : terms) {
      CompiledPredicate::Range r;
      r.begin = static_cast<uint32_t>(out_->nodes_.size());
      out_->nodes_.insert(out_->nodes_.end(), term.begin(), term.end());
      r.end = static_cast<uint32_t>(out_->nodes_.size());
      out_->terms_.push_back(r);
    }
    group.end = static_cast<uint32_t>(out_->terms_.size());
    out_->groups_.push_back(group);
    return static_cast<int>(out_->groups_.size() - 1);
  }

  absl::Status Malformed(const ConditionSpec& c) const {
    return errors::BadQuery(table_.name(),
                            absl::StrCat("malformed condition on column '", c.column, "'"));
  }

  // The value must be non-NULL and fit the column.
  absl::Status CheckOperand(const ConditionSpec& c, Type type, const Value& v,
                            absl::string_view what) const {
    if (v.is_null()) return errors::NullComparison(table_.name(), c.column, what);
    if (!ValueFitsType(v, type)) return errors::TypeMismatch(table_.name(), c.column, type, v);
    return absl::OkStatus();
  }

  // Appends the atom for `c` to the predicate (left half-built on error:
  // the whole compile fails then).
  absl::Status CompileAtom(const ConditionSpec& c) {
    using K = ConditionSpec::Kind;
    if (c.kind == K::kRelation) return CompileRelation(c);
    std::optional<ColumnId> col = table_.FindColumn(c.column);
    if (!col.has_value()) return errors::UnknownColumn(table_.name(), c.column);
    const Type type = table_.column(*col).type;
    Atom& a = out_->atoms_.emplace_back();
    a.column = *col;
    a.validity = ValidityWords(table_, *col);
    a.data = ColumnData(table_, *col);
    switch (c.kind) {
      case K::kNull:
        a.kind = a.validity != nullptr ? Atom::Kind::kIsNull : Atom::Kind::kNever;
        return absl::OkStatus();
      case K::kNotNull:
        a.kind = a.validity != nullptr ? Atom::Kind::kIsNotNull : Atom::Kind::kAlways;
        return absl::OkStatus();
      case K::kCompare: {
        if (c.values.size() != 1) return Malformed(c);
        KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], CompareOpSymbol(c.op)));
        Operand o = ToOperand(type, c.values[0]);
        a.op = c.op;
        a.i0 = o.i;
        a.d0 = o.d;
        a.s0 = std::move(o.s);
        a.kind = type == Type::kInt64    ? Atom::Kind::kCmpInt64
                 : type == Type::kDouble ? Atom::Kind::kCmpDouble
                 : type == Type::kBool   ? Atom::Kind::kCmpBool
                                         : Atom::Kind::kCmpString;
        return absl::OkStatus();
      }
      case K::kIn:
      case K::kNotIn: {
        a.negate = c.kind == K::kNotIn;
        bool has_null = false;
        for (const Value& v : c.values) {
          if (v.is_null()) {
            has_null = true;
            continue;
          }
          if (!ValueFitsType(v, type)) {
            return errors::TypeMismatch(table_.name(), c.column, type, v);
          }
          Operand o = ToOperand(type, v);
          switch (type) {
            case Type::kInt64:
              a.ints.push_back(o.i);
              break;
            case Type::kDouble:
              a.doubles.push_back(o.d);
              break;
            case Type::kBool:
              a.i0 |= int64_t{1} << o.i;
              break;
            case Type::kString:
              a.strings.push_back(std::move(o.s));
              break;
          }
        }
        if (c.values.empty()) {
          // As knex: IN () matches nothing, NOT IN () everything.
          a.kind = a.negate ? Atom::Kind::kAlways : Atom::Kind::kNever;
          return absl::OkStatus();
        }
        if (a.negate && has_null) {
          // x NOT IN (.., NULL) is FALSE or UNKNOWN, never TRUE.
          a.kind = Atom::Kind::kNever;
          return absl::OkStatus();
        }
        auto sort_unique = [](auto& list) {
          std::sort(list.begin(), list.end());
          list.erase(std::unique(list.begin(), list.end()), list.end());
        };
        sort_unique(a.ints);
        sort_unique(a.doubles);
        sort_unique(a.strings);
        a.kind = type == Type::kInt64    ? Atom::Kind::kInInt64
                 : type == Type::kDouble ? Atom::Kind::kInDouble
                 : type == Type::kBool   ? Atom::Kind::kInBool
                                         : Atom::Kind::kInString;
        return absl::OkStatus();
      }
      case K::kBetween:
      case K::kNotBetween: {
        if (c.values.size() != 2) return Malformed(c);
        absl::string_view what = c.kind == K::kBetween ? "between" : "not between";
        KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], what));
        KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[1], what));
        Operand lo = ToOperand(type, c.values[0]);
        Operand hi = ToOperand(type, c.values[1]);
        a.negate = c.kind == K::kNotBetween;
        a.i0 = lo.i;
        a.i1 = hi.i;
        a.d0 = lo.d;
        a.d1 = hi.d;
        a.s0 = std::move(lo.s);
        a.s1 = std::move(hi.s);
        a.kind = type == Type::kInt64    ? Atom::Kind::kBetweenInt64
                 : type == Type::kDouble ? Atom::Kind::kBetweenDouble
                 : type == Type::kBool   ? Atom::Kind::kBetweenBool
                                         : Atom::Kind::kBetweenString;
        return absl::OkStatus();
      }
      case K::kStartsWith:
      case K::kEndsWith:
      case K::kContains: {
        if (c.values.size() != 1) return Malformed(c);
        absl::string_view what = c.kind == K::kStartsWith ? "starts with"
                                 : c.kind == K::kEndsWith ? "ends with"
                                                          : "contains";
        if (type != Type::kString) {
          return errors::WrongColumnType(table_.name(), c.column, what, "a string", type);
        }
        KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], what));
        a.s0 = c.values[0].AsString();
        a.kind = c.kind == K::kStartsWith ? Atom::Kind::kStartsWith
                 : c.kind == K::kEndsWith ? Atom::Kind::kEndsWith
                                          : Atom::Kind::kContains;
        return absl::OkStatus();
      }
      case K::kGroup:
      case K::kRelation:
        break;
    }
    return Malformed(c);
  }

  absl::Status CompileRelation(const ConditionSpec& c) {
    if (relations_ == nullptr || relations_->engine == nullptr ||
        relations_->relations == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("query on '", table_.name(), "': a condition on relation '", c.column,
                       "' needs the relations of a Database (build the query with "
                       "Database::Query)"));
    }
    KIN_ASSIGN_OR_RETURN(std::shared_ptr<RelationFilter> filter,
                         RelationFilter::Compile(*relations_, table_, c));
    Atom& a = out_->atoms_.emplace_back();
    a.kind = Atom::Kind::kRelation;
    a.relation = std::move(filter);
    return absl::OkStatus();
  }

  const Table& table_;
  CompiledPredicate* out_;
  const RelationContext* relations_;
};

// --- CompiledOrder ---

namespace {

template <typename T>
inline int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Doubles in a total order: NaN after every number, equal to itself.
inline int CmpDouble(double a, double b) {
  bool an = std::isnan(a);
  bool bn = std::isnan(b);
  if (an || bn) return static_cast<int>(an) - static_cast<int>(bn);
  return Cmp(a, b);
}

// Small inputs (a parent's children) sort fastest by insertion.
constexpr size_t kInsertionSortMax = 24;

// Sorts entries with `less` (a strict total order: the position breaks
// ties), putting the first `keep` in order.
template <typename E, typename Less>
void SortEntries(E* begin, E* end, size_t keep, Less less) {
  size_t n = static_cast<size_t>(end - begin);
  if (n <= kInsertionSortMax) {
    for (size_t i = 1; i < n; ++i) {
      E e = begin[i];
      size_t j = i;
      for (; j > 0 && less(e, begin[j - 1]); --j) begin[j] = begin[j - 1];
      begin[j] = e;
    }
  } else if (keep >= n) {
    std::sort(begin, end, less);
  } else if (keep <= 64) {
    std::partial_sort(begin, begin + keep, end, less);
  } else {
    std::nth_element(begin, begin + keep, end, less);
    std::sort(begin, begin + keep, less);
  }
}

// One numeric key, extracted once so the sort touches contiguous memory.
// Storage for n sort entries: on the stack for short lists, else `scratch`
// when given (no allocation per list), else the heap.
template <typename Entry>
class SortBuffer {
 public:
  Entry* Get(size_t n, SortScratch* scratch) {
    if (n <= kInline) return inline_;
    if (scratch != nullptr) return scratch->Get<Entry>(n);
    heap_ = std::make_unique_for_overwrite<Entry[]>(n);
    return heap_.get();
  }

 private:
  static constexpr size_t kInline = 32;
  Entry inline_[kInline];
  std::unique_ptr<Entry[]> heap_;
};

template <typename T>
void SortSingleNumeric(const CompiledOrder::Key& key, RowId* ids, size_t n, size_t keep,
                       SortScratch* scratch) {
  struct Entry {
    T v;
    uint32_t id;
    uint32_t pos;
    bool null;
  };
  SortBuffer<Entry> buffer;
  Entry* entries = buffer.Get(n, scratch);
  const T* d = static_cast<const T*>(key.data);
  for (size_t i = 0; i < n; ++i) {
    uint32_t s = ids[i].value;
    bool null = key.validity != nullptr && !Bit(key.validity, s);
    entries[i] = Entry{null ? T() : d[s], s, static_cast<uint32_t>(i), null};
  }
  auto cmp = [](const Entry& a, const Entry& b) -> int {
    if (a.null || b.null) return static_cast<int>(b.null) - static_cast<int>(a.null);
    if constexpr (std::is_same_v<T, double>) {
      return CmpDouble(a.v, b.v);
    } else {
      return Cmp(a.v, b.v);
    }
  };
  if (key.desc) {
    SortEntries(entries, entries + n, keep, [&](const Entry& a, const Entry& b) {
      int c = cmp(a, b);
      return c != 0 ? c > 0 : a.pos < b.pos;
    });
  } else {
    SortEntries(entries, entries + n, keep, [&](const Entry& a, const Entry& b) {
      int c = cmp(a, b);
      return c != 0 ? c < 0 : a.pos < b.pos;
    });
  }
  for (size_t i = 0; i < n; ++i) ids[i] = RowId(entries[i].id);
}

}  // namespace

int CompiledOrder::Compare(RowId a, RowId b) const {
  for (const Key& k : keys_) {
    int c = 0;
    bool an = k.validity != nullptr && !Bit(k.validity, a.value);
    bool bn = k.validity != nullptr && !Bit(k.validity, b.value);
    if (an || bn) {
      c = static_cast<int>(bn) - static_cast<int>(an);  // NULL is the smallest
    } else {
      switch (k.type) {
        case Type::kInt64: {
          const int64_t* d = static_cast<const int64_t*>(k.data);
          c = Cmp(d[a.value], d[b.value]);
          break;
        }
        case Type::kDouble: {
          const double* d = static_cast<const double*>(k.data);
          c = CmpDouble(d[a.value], d[b.value]);
          break;
        }
        case Type::kBool: {
          const uint8_t* d = static_cast<const uint8_t*>(k.data);
          c = Cmp(d[a.value], d[b.value]);
          break;
        }
        case Type::kString: {
          const std::string* d = static_cast<const std::string*>(k.data);
          int r = d[a.value].compare(d[b.value]);
          c = r < 0 ? -1 : (r > 0 ? 1 : 0);
          break;
        }
      }
    }
    if (c != 0) return k.desc ? -c : c;
  }
  return 0;
}

void CompiledOrder::Sort(RowId* ids, size_t n, size_t keep, SortScratch* scratch) const {
  if (keys_.empty() || n < 2 || keep == 0) return;
  if (keys_.size() == 1) {
    switch (keys_[0].type) {
      case Type::kInt64:
        SortSingleNumeric<int64_t>(keys_[0], ids, n, keep, scratch);
        return;
      case Type::kDouble:
        SortSingleNumeric<double>(keys_[0], ids, n, keep, scratch);
        return;
      case Type::kBool:
        SortSingleNumeric<uint8_t>(keys_[0], ids, n, keep, scratch);
        return;
      case Type::kString:
        break;
    }
  }
  struct Entry {
    RowId id;
    uint32_t pos;
  };
  SortBuffer<Entry> buffer;
  Entry* entries = buffer.Get(n, scratch);
  for (size_t i = 0; i < n; ++i) entries[i] = Entry{ids[i], static_cast<uint32_t>(i)};
  SortEntries(entries, entries + n, keep, [this](const Entry& a, const Entry& b) {
    int c = Compare(a.id, b.id);
    return c != 0 ? c < 0 : a.pos < b.pos;
  });
  for (size_t i = 0; i < n; ++i) ids[i] = entries[i].id;
}

// --- CompiledQuery ---

class QueryCompiler {
 public:
  static absl::Status CompileInto(const Table& table, const QuerySpec& spec,
                                  CompiledQuery* out, const RelationContext* relations) {
    KIN_RETURN_IF_ERROR(spec.error);
    *out = CompiledQuery();
    CompiledQuery& q = *out;
    q.table_ = &table;
    PredicateCompiler predicate(table, &q.predicate_, relations);
    if (spec.scope.empty()) {
      KIN_RETURN_IF_ERROR(predicate.CompileRoot(spec.conditions));
    } else {
      KIN_RETURN_IF_ERROR(predicate.CompileRoot(EffectiveConditions(spec)));
    }

    for (const OrderSpec& o : spec.order_by) {
      std::optional<ColumnId> col = table.FindColumn(o.column);
      if (!col.has_value()) return errors::UnknownColumn(table.name(), o.column);
      CompiledOrder::Key key;
      key.type = table.column(*col).type;
      key.column = *col;
      key.data = ColumnData(table, *col);
      key.validity = ValidityWords(table, *col);
      key.desc = o.order == Order::kDesc;
      q.order_.keys_.push_back(key);
    }

    if (spec.aggregate.has_value()) {
      KIN_RETURN_IF_ERROR(CompileAggregate(table, *spec.aggregate, &q.aggregate_));
      q.has_aggregate_ = true;
    }

    if (spec.limit.has_value()) {
      if (*spec.limit < 0) return errors::BadQueryArgument(table.name(), "limit", 0, *spec.limit);
      q.limit_ = static_cast<size_t>(*spec.limit);
    }
    if (spec.offset.has_value()) {
      if (*spec.offset < 0) {
        return errors::BadQueryArgument(table.name(), "offset", 0, *spec.offset);
      }
      q.offset_ = static_cast<size_t>(*spec.offset);
    }

    ChooseAccess(&q);
    // A plan run over candidate spans (a related query per parent) never
    // uses its own access path: do not spend a walk of the index on it.
    if (relations == nullptr || !relations->candidate_rows.has_value()) {
      ChooseOrderedAccess(&q);
    }
    // Relation tests choose their strategy knowing how many rows they will
    // be asked about: what the caller says, else the access path's bound.
    q.PrepareRelations(relations != nullptr && relations->candidate_rows.has_value()
                           ? *relations->candidate_rows
                           : q.AccessRows());
    return absl::OkStatus();
  }

 private:
  static absl::Status CompileAggregate(const Table& table, const AggregateSpec& spec,
                                       CompiledAggregate* out) {
    out->function = spec.function;
    absl::string_view fname = AggregateFunctionName(spec.function);
    if (spec.column == "*") {
      if (spec.function != AggregateFunction::kCount) {
        return errors::BadQuery(table.name(), absl::StrCat(fname, " needs a column, not '*'"));
      }
      out->star = true;
      return absl::OkStatus();
    }
    std::optional<ColumnId> col = table.FindColumn(spec.column);
    if (!col.has_value()) return errors::UnknownColumn(table.name(), spec.column);
    Type type = table.column(*col).type;
    if ((spec.function == AggregateFunction::kSum || spec.function == AggregateFunction::kAvg) &&
        type != Type::kInt64 && type != Type::kDouble) {
      return errors::WrongColumnType(table.name(), spec.column, fname, "a numeric", type);
    }
    out->star = false;
    out->column = *col;
    out->type = type;
    out->data = ColumnData(table, *col);
    out->validity = ValidityWords(table, *col);
    return absl::OkStatus();
  }

  // An equality or IN on an indexed column, ANDed at the top level, is
  // answered by the index; the smallest candidate list wins (an equality on
  // a tie).
  static void ChooseAccess(CompiledQuery* q) {
    const CompiledPredicate& p = q->predicate_;
    if (!p.conjunctive()) return;
    const Table& t = *q->table_;
    size_t best = SIZE_MAX;
    int best_atom = -1;
    bool best_in = false;
    std::span<const RowId> best_span;
    for (int i : p.TopLevelAtoms()) {
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
      } else if ((a.kind == Atom::Kind::kInInt64 || a.kind == Atom::Kind::kInString) &&
                 !a.negate) {
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

  // The key interval a top-level atom selects on an ordered index, or
  // nullopt when it is not a range (!=, NOT BETWEEN, IN, a NaN operand,
  // which matches nothing and has no place in the key order).
  static std::optional<OrderedRange> AtomRange(const Atom& a) {
    using K = Atom::Kind;
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

  // Narrows `into` to its intersection with `r` (same column, same type).
  static void Intersect(OrderedRange* into, const OrderedRange& r) {
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
  static size_t CountRange(const OrderedIndex& index, const OrderedRange& range, size_t cap) {
    size_t n = 0;
    index.Walk(range, /*desc=*/false, /*with_nulls=*/false, [&](RowId, bool) {
      return ++n < cap;
    });
    return n;
  }

  // Ordered-index access paths, chosen against what ChooseAccess picked.
  // Costs in row visits: a scan visits every row (cheap, sequential), a
  // probe its rows, a range its rows (in key order, so about
  // kRangeScanDivisor times a scanned row each), a walk about
  // window * table / matches rows.
  static void ChooseOrderedAccess(CompiledQuery* q) {
    const CompiledPredicate& p = q->predicate_;
    const Table& t = *q->table_;
    const size_t n = t.size();
    const size_t probe = q->access_ == CompiledQuery::Access::kScan ? SIZE_MAX : q->AccessRows();
    // The best range: per ordered column, the intersection of its ANDed
    // range atoms.
    const OrderedIndex* best_index = nullptr;
    OrderedRange best_range;
    size_t best_rows = SIZE_MAX;
    bool best_exact = false;
    int best_atom = -1;
    bool best_single = false;
    if (p.conjunctive()) {
      absl::InlinedVector<int, 4> top = p.TopLevelAtoms();
      for (size_t i = 0; i < top.size(); ++i) {
        const Atom& a = p.atoms()[top[i]];
        const OrderedIndex* index = t.ordered_index(a.column);
        if (index == nullptr) continue;
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
        size_t rows = CountRange(*index, *r, cap);
        if (rows >= cap) continue;
        best_index = index;
        best_range = std::move(*r);
        best_rows = rows;
        best_exact = true;
        best_atom = top[i];
        best_single = atoms == 1;
      }
    }
    if (best_index != nullptr) {
      q->access_ = CompiledQuery::Access::kIndexRange;
      q->ordered_ = best_index;
      q->range_ = std::move(best_range);
      q->range_rows_ = best_rows;
      q->range_exact_ = best_exact;
      q->probe_atom_ = best_single ? best_atom : -1;
      q->residual_empty_ = best_single && p.num_nodes() == 1;
      q->probe_span_ = {};
      q->probe_rows_.clear();
    }
    // An ordered walk: ORDER BY's first key has an ordered index and a
    // window bounds the rows wanted.
    if (q->order_.empty() || !q->limit_.has_value() || q->has_aggregate_) return;
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
    q->range_ = OrderedRange();
    q->walk_desc_ = key.desc;
    q->probe_atom_ = -1;
    q->residual_empty_ = false;
    q->probe_span_ = {};
    q->probe_rows_.clear();
  }
};

absl::StatusOr<CompiledQuery> CompiledQuery::Compile(const Table& table, const QuerySpec& spec,
                                                     const RelationContext* relations) {
  CompiledQuery q;
  KIN_RETURN_IF_ERROR(QueryCompiler::CompileInto(table, spec, &q, relations));
  return q;
}

absl::Status CompiledQuery::CompileInto(const Table& table, const QuerySpec& spec,
                                        CompiledQuery* out, const RelationContext* relations) {
  return QueryCompiler::CompileInto(table, spec, out, relations);
}

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
  const bool trivial = predicate_.always_true() || (probe_atom_ >= 0 && residual_empty_);
  RowId buf[kBlock];
  size_t n = 0;
  bool go_on = true;
  auto flush = [&]() {
    size_t k = trivial ? n : predicate_.FilterBlock(buf, n, buf, probe_atom_);
    n = 0;
    if (k > 0 && !sink(static_cast<const RowId*>(buf), k)) go_on = false;
    return go_on;
  };
  ordered_->Walk(range_, /*desc=*/false, /*with_nulls=*/false, [&](RowId id, bool) {
    buf[n++] = id;
    return n < kBlock || flush();
  });
  if (go_on && n > 0) flush();
}

size_t CompiledQuery::WalkSelect(size_t offset, std::optional<size_t> limit, bool count_all,
                                 std::vector<RowId>* out) const {
  const size_t want = limit.has_value() ? SaturatingAdd(offset, *limit) : SIZE_MAX;
  if (want == 0 && !count_all) return 0;
  const bool trivial = predicate_.always_true() || (probe_atom_ >= 0 && residual_empty_);
  const bool bounded = range_.lo.has_value() || range_.hi.has_value();
  const bool more_keys = order_.keys().size() > 1;
  // Matches go straight into `out` from `base`. The rows of one key form a
  // group, closed when the key changes: ORDER BY breaks ties by the next
  // keys, then by slot (scan order), while a descending walk meets a key's
  // rows in descending slot order, so a closed group is reversed (and
  // sorted on the other keys) in place.
  const size_t base = out->size();
  if (limit.has_value() && !count_all) out->reserve(base + std::min<size_t>(want, 4096));
  size_t group_start = base;
  auto close_group = [&]() {
    const size_t n = out->size() - group_start;
    if (n > 1) {
      if (walk_desc_) std::reverse(out->begin() + group_start, out->end());
      if (more_keys) order_.Sort(out->data() + group_start, n);
    }
    group_start = out->size();
  };
  ordered_->Walk(range_, walk_desc_, /*with_nulls=*/!bounded, [&](RowId id, bool new_key) {
    if (new_key) {
      close_group();
      if (!count_all && out->size() - base >= want) return false;
    }
    if (trivial || predicate_.Matches(id)) out->push_back(id);
    return true;
  });
  close_group();
  const size_t seen = out->size() - base;
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
      (access_ == Access::kOrderedWalk && (range_.lo.has_value() || range_.hi.has_value()))) {
    ForEachRangeMatch(sink);
    return;
  }
  if (access_ == Access::kIndexEq || access_ == Access::kIndexIn) {
    ForEachMatch(probe_rows(), probe_atom_, sink);
    return;
  }
  const std::vector<uint64_t>& words = table_->live().words();
  const size_t num_words = words.size();
  constexpr size_t kWordsPerBlock = kBlock / 64;
  RowId buf[kBlock];
  for (size_t w0 = 0; w0 < num_words; w0 += kWordsPerBlock) {
    size_t n = 0;
    size_t w_end = std::min(num_words, w0 + kWordsPerBlock);
    for (size_t w = w0; w < w_end; ++w) {
      uint64_t bits = words[w];
      uint32_t base = static_cast<uint32_t>(w * 64);
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
                                 bool count_all, std::vector<RowId>* out,
                                 SortScratch* scratch) const {
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
  SelectImpl([&](auto&& sink) { ForEachMatch(sink); }, offset, limit, false, out);
}

size_t CompiledQuery::SelectAndCount(size_t offset, std::optional<size_t> limit,
                                     std::vector<RowId>* out) const {
  if (access_ == Access::kOrderedWalk) return WalkSelect(offset, limit, true, out);
  return SelectImpl([&](auto&& sink) { ForEachMatch(sink); }, offset, limit, true, out);
}

void CompiledQuery::Select(std::span<const RowId> candidates, std::vector<RowId>* out) const {
  Select(candidates, offset_, limit_, out);
}

void CompiledQuery::Select(std::span<const RowId> candidates, size_t offset,
                           std::optional<size_t> limit, std::vector<RowId>* out,
                           SortScratch* scratch) const {
  SelectImpl([&](auto&& sink) { ForEachMatch(candidates, -1, sink); }, offset, limit, false,
             out, scratch);
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

void CompiledQuery::ForEachMatchBlock(
    absl::FunctionRef<bool(const RowId*, size_t)> sink) const {
  ForEachMatch([&](const RowId* ids, size_t n) { return sink(ids, n); });
}

size_t CompiledQuery::Count(std::span<const RowId> candidates) const {
  return predicate_.Count(candidates);
}

template <typename Run>
absl::StatusOr<Value> CompiledQuery::AggregateImpl(Run&& run) const {
  const CompiledAggregate& a = aggregate_;
  if (!has_aggregate_ || a.star) {
    int64_t n = 0;
    run([&](const RowId*, size_t k) {
      n += static_cast<int64_t>(k);
      return true;
    });
    return Value(n);
  }
  const uint64_t* v = a.validity;
  auto present = [v](uint32_t s) { return v == nullptr || Bit(v, s); };
  // Visits every non-NULL cell's slot.
  auto each = [&](auto&& f) {
    run([&](const RowId* ids, size_t k) {
      for (size_t i = 0; i < k; ++i) {
        if (present(ids[i].value) && !f(ids[i].value)) return false;
      }
      return true;
    });
  };
  const AggregateFunction fn = a.function;
  switch (fn) {
    case AggregateFunction::kCount: {
      int64_t n = 0;
      each([&](uint32_t) {
        ++n;
        return true;
      });
      return Value(n);
    }
    case AggregateFunction::kSum:
    case AggregateFunction::kAvg: {
      int64_t n = 0;
      if (a.type == Type::kInt64) {
        const int64_t* d = static_cast<const int64_t*>(a.data);
        if (fn == AggregateFunction::kSum) {
          // Exact in 128 bits, so the answer (and whether it overflows
          // int64) does not depend on the order rows are visited in.
          __int128 sum = 0;
          each([&](uint32_t s) {
            ++n;
            sum += d[s];
            return true;
          });
          if (sum > std::numeric_limits<int64_t>::max() ||
              sum < std::numeric_limits<int64_t>::min()) {
            return errors::AggregateOverflow(table_->name(), table_->column(a.column).name, "sum");
          }
          return n == 0 ? Value() : Value(static_cast<int64_t>(sum));
        }
        __int128 sum = 0;
        each([&](uint32_t s) {
          ++n;
          sum += d[s];
          return true;
        });
        if (n == 0) return Value();
        return Value(static_cast<double>(static_cast<long double>(sum) / n));
      }
      const double* d = static_cast<const double*>(a.data);
      double sum = 0;
      each([&](uint32_t s) {
        ++n;
        sum += d[s];
        return true;
      });
      if (n == 0) return Value();
      return fn == AggregateFunction::kSum ? Value(sum) : Value(sum / static_cast<double>(n));
    }
    case AggregateFunction::kCountDistinct: {
      // Values hashed as stored; a double by its bits once -0.0 is folded
      // into 0.0 and every NaN into one NaN, so "distinct" means unequal
      // values (and NaN counts once, as SQL's DISTINCT groups NULLs).
      int64_t n = 0;
      auto distinct = [&](auto* d, auto key) {
        absl::flat_hash_set<decltype(key(d[0]))> seen;
        each([&](uint32_t s) {
          n += seen.insert(key(d[s])).second ? 1 : 0;
          return true;
        });
      };
      switch (a.type) {
        case Type::kInt64:
          distinct(static_cast<const int64_t*>(a.data), [](int64_t x) { return x; });
          break;
        case Type::kDouble:
          distinct(static_cast<const double*>(a.data), [](double x) {
            if (x == 0) x = 0.0;
            if (std::isnan(x)) x = std::numeric_limits<double>::quiet_NaN();
            return std::bit_cast<uint64_t>(x);
          });
          break;
        case Type::kBool:
          distinct(static_cast<const uint8_t*>(a.data), [](uint8_t x) { return x != 0; });
          break;
        case Type::kString:
          distinct(static_cast<const std::string*>(a.data),
                   [](const std::string& x) { return absl::string_view(x); });
          break;
      }
      return Value(n);
    }
    case AggregateFunction::kMin:
    case AggregateFunction::kMax: {
      bool any = false;
      uint32_t best = 0;
      auto track = [&](auto* d) {
        each([&](uint32_t s) {
          if (!any || BetterForAggregate(fn, d[s], d[best])) best = s;
          any = true;
          return true;
        });
      };
      switch (a.type) {
        case Type::kInt64:
          track(static_cast<const int64_t*>(a.data));
          break;
        case Type::kDouble:
          track(static_cast<const double*>(a.data));
          break;
        case Type::kBool:
          track(static_cast<const uint8_t*>(a.data));
          break;
        case Type::kString:
          track(static_cast<const std::string*>(a.data));
          break;
      }
      if (!any) return Value();
      return table_->GetValue(RowId(best), a.column);
    }
  }
  return Value();
}

absl::StatusOr<Value> CompiledQuery::Aggregate() const {
  if (std::optional<Value> v = IndexedMinMax(); v.has_value()) return *std::move(v);
  return AggregateImpl([&](auto&& sink) { ForEachMatch(sink); });
}

absl::StatusOr<Value> CompiledQuery::Aggregate(std::span<const RowId> candidates) const {
  return AggregateImpl([&](auto&& sink) { ForEachMatch(candidates, -1, sink); });
}

namespace {

std::string DescribeRange(const OrderedRange& r) {
  if (r.lo.has_value() && r.hi.has_value() && r.lo_inclusive && r.hi_inclusive &&
      *r.lo == *r.hi) {
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

}  // namespace

std::string CompiledQuery::ExplainAccess() const {
  const Table& t = *table_;
  if (IndexedMinMax().has_value()) {
    return absl::StrCat("ordered index ",
                        QualifiedName(t.name(), t.column(aggregate_.column).name), " ",
                        aggregate_.function == AggregateFunction::kMin ? "first" : "last",
                        " entry (O(log n))");
  }
  if (access_ == Access::kScan) {
    return absl::StrCat("scan ", t.name(), " (", t.size(), " rows)");
  }
  if (access_ == Access::kIndexRange) {
    return absl::StrCat("index range ", QualifiedName(t.name(), t.column(ordered_->column()).name),
                        DescribeRange(range_), " (ordered index, ", range_rows_, " rows)");
  }
  if (access_ == Access::kOrderedWalk) {
    return absl::StrCat("ordered walk ", QualifiedName(t.name(), t.column(ordered_->column()).name),
                        DescribeRange(range_), walk_desc_ ? " desc" : " asc",
                        " (ordered index, stops after ",
                        limit_.has_value() ? SaturatingAdd(offset_, *limit_) : t.size(),
                        " rows)");
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
  return absl::StrCat("index probe ", QualifiedName(t.name(), column.name), keys, " (", kind,
                      ", ", probe_rows().size(), " rows)");
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
    if (a.kind == Atom::Kind::kRelation) absl::StrAppend(&out, " | relation: ", a.relation->Explain());
  }
  return out;
}

}  // namespace internal
}  // namespace kin
