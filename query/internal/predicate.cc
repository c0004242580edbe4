#include "query/internal/predicate.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "kin/status_macros.h"
#include "query/internal/columns.h"

namespace kin {
namespace internal {

namespace {

// Copies the rows of in[0, n) that are not NULL (when `validity` is set) and
// pass `test(slot)` into out; out may be in. Branch-free on the write.
template <typename F>
inline size_t FilterLoop(const uint64_t* validity, const RowId* in, size_t n, RowId* out, F test) {
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

// `d` is the column: a typed pointer, or StringCells.
template <typename T, typename D>
size_t CompareLoop(CompareOp op, D d, const T& x, const uint64_t* v, const RowId* in, size_t n,
                   RowId* out) {
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

template <typename T, typename D>
size_t BetweenLoop(bool negate, D d, const T& lo, const T& hi, const uint64_t* v, const RowId* in,
                   size_t n, RowId* out) {
  if (negate) {
    return FilterLoop(v, in, n, out, [d, &lo, &hi](uint32_t s) { return d[s] < lo || d[s] > hi; });
  }
  return FilterLoop(v, in, n, out, [d, &lo, &hi](uint32_t s) { return lo <= d[s] && d[s] <= hi; });
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

template <typename T, typename D>
size_t InLoop(bool negate, D d, const std::vector<T>& list, const uint64_t* v, const RowId* in,
              size_t n, RowId* out) {
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

namespace {

// kIsNull / kIsNotNull: the rows whose validity bit is `valid`.
size_t FilterValidity(const uint64_t* v, bool valid, const RowId* in, size_t n, RowId* out) {
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    RowId id = in[i];
    out[k] = id;
    k += Bit(v, id.value) == valid ? 1 : 0;
  }
  return k;
}

// kStartsWith / kEndsWith / kContains.
size_t FilterStringMatch(const Atom& a, const RowId* in, size_t n, RowId* out) {
  const StringCells d = StringCellsOf(a.data);
  const uint64_t* v = a.validity;
  absl::string_view x = a.s0;
  switch (a.kind) {
    case Atom::Kind::kStartsWith:
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::StartsWith(d[s], x); });
    case Atom::Kind::kEndsWith:
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::EndsWith(d[s], x); });
    default:
      return FilterLoop(v, in, n, out, [d, x](uint32_t s) { return absl::StrContains(d[s], x); });
  }
}

// kIn*.
size_t FilterIn(const Atom& a, const RowId* in, size_t n, RowId* out) {
  const uint64_t* v = a.validity;
  switch (a.kind) {
    case Atom::Kind::kInInt64:
      return InLoop(a.negate, static_cast<const int64_t*>(a.data), a.ints, v, in, n, out);
    case Atom::Kind::kInDouble:
      return InLoop(a.negate, static_cast<const double*>(a.data), a.doubles, v, in, n, out);
    case Atom::Kind::kInBool: {
      const uint8_t* d = static_cast<const uint8_t*>(a.data);
      const int64_t mask = a.i0;
      if (a.negate) {
        return FilterLoop(v, in, n, out,
                          [d, mask](uint32_t s) { return ((mask >> d[s]) & 1) == 0; });
      }
      return FilterLoop(v, in, n, out, [d, mask](uint32_t s) { return ((mask >> d[s]) & 1) != 0; });
    }
    default:
      return InLoop(a.negate, StringCellsOf(a.data), a.strings, v, in, n, out);
  }
}

// kBetween*.
size_t FilterBetween(const Atom& a, const RowId* in, size_t n, RowId* out) {
  const uint64_t* v = a.validity;
  switch (a.kind) {
    case Atom::Kind::kBetweenInt64:
      return BetweenLoop<int64_t>(a.negate, static_cast<const int64_t*>(a.data), a.i0, a.i1, v, in,
                                  n, out);
    case Atom::Kind::kBetweenDouble:
      return BetweenLoop<double>(a.negate, static_cast<const double*>(a.data), a.d0, a.d1, v, in, n,
                                 out);
    case Atom::Kind::kBetweenBool: {
      const uint8_t lo = static_cast<uint8_t>(a.i0);
      const uint8_t hi = static_cast<uint8_t>(a.i1);
      return BetweenLoop<uint8_t>(a.negate, static_cast<const uint8_t*>(a.data), lo, hi, v, in, n,
                                  out);
    }
    default:
      return BetweenLoop<absl::string_view>(a.negate, StringCellsOf(a.data), a.s0, a.s1, v, in, n,
                                            out);
  }
}

}  // namespace

size_t Atom::Filter(const RowId* in, size_t n, RowId* out) const {
  const uint64_t* v = validity;
  switch (kind) {
    case Kind::kAlways:
      return CopyRows(in, n, out);
    case Kind::kNever:
      return 0;
    case Kind::kIsNull:
      return FilterValidity(v, false, in, n, out);
    case Kind::kIsNotNull:
      return FilterValidity(v, true, in, n, out);
    case Kind::kCmpInt64:
      return CompareLoop<int64_t>(op, static_cast<const int64_t*>(data), i0, v, in, n, out);
    case Kind::kCmpDouble:
      return CompareLoop<double>(op, static_cast<const double*>(data), d0, v, in, n, out);
    case Kind::kCmpBool: {
      uint8_t x = static_cast<uint8_t>(i0);
      return CompareLoop<uint8_t>(op, static_cast<const uint8_t*>(data), x, v, in, n, out);
    }
    case Kind::kCmpString:
      return CompareLoop<absl::string_view>(op, StringCellsOf(data), s0, v, in, n, out);
    case Kind::kInInt64:
    case Kind::kInDouble:
    case Kind::kInBool:
    case Kind::kInString:
      return FilterIn(*this, in, n, out);
    case Kind::kBetweenInt64:
    case Kind::kBetweenDouble:
    case Kind::kBetweenBool:
    case Kind::kBetweenString:
      return FilterBetween(*this, in, n, out);
    case Kind::kStartsWith:
    case Kind::kEndsWith:
    case Kind::kContains:
      return FilterStringMatch(*this, in, n, out);
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

size_t CompiledPredicate::FilterBlock(const RowId* in, size_t n, RowId* out, int skip_atom) const {
  if (root_ < 0) return CopyRows(in, n, out);
  const Range& g = groups_[root_];
  if (g.end - g.begin == 1) return FilterTerm(terms_[g.begin], in, n, out, skip_atom);
  size_t m = 0;
  for (size_t j = 0; j < n; ++j) {
    RowId id = in[j];
    out[m] = id;
    m += EvalGroup(root_, id) ? 1 : 0;
  }
  return m;
}

size_t CompiledPredicate::FilterTerm(const Range& term, const RowId* in, size_t n, RowId* out,
                                     int skip_atom) const {
  // One AND-term: narrow the block node by node, each a tight typed loop.
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

void CompiledPredicate::Refresh(const Table& table) {
  for (Atom& a : atoms_) {
    if (a.kind == Atom::Kind::kRelation) continue;
    a.validity = ValidityWords(table, a.column);
    a.data = ColumnData(table, a.column);
    if (a.null_test == Atom::NullTest::kIsNull) {
      a.kind = a.validity != nullptr ? Atom::Kind::kIsNull : Atom::Kind::kNever;
    } else if (a.null_test == Atom::NullTest::kIsNotNull) {
      a.kind = a.validity != nullptr ? Atom::Kind::kIsNotNull : Atom::Kind::kAlways;
    }
  }
}

// --- compiling conditions ---

namespace {

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
    for (int p : c.params) {
      if (p >= 0) return errors::ParameterNotPrepared(table_.name(), c.column, p);
    }
    const Type type = table_.column(*col).type;
    Atom& a = out_->atoms_.emplace_back();
    a.column = *col;
    a.validity = ValidityWords(table_, *col);
    a.data = ColumnData(table_, *col);
    switch (c.kind) {
      case K::kNull:
        a.null_test = Atom::NullTest::kIsNull;
        a.kind = a.validity != nullptr ? Atom::Kind::kIsNull : Atom::Kind::kNever;
        return absl::OkStatus();
      case K::kNotNull:
        a.null_test = Atom::NullTest::kIsNotNull;
        a.kind = a.validity != nullptr ? Atom::Kind::kIsNotNull : Atom::Kind::kAlways;
        return absl::OkStatus();
      case K::kCompare:
        return CompileCompare(c, type, &a);
      case K::kIn:
      case K::kNotIn:
        return CompileIn(c, type, &a);
      case K::kBetween:
      case K::kNotBetween:
        return CompileBetween(c, type, &a);
      case K::kStartsWith:
      case K::kEndsWith:
      case K::kContains:
        return CompileStringMatch(c, type, &a);
      case K::kGroup:
      case K::kRelation:
        break;
    }
    return Malformed(c);
  }

  static Atom::Kind ByType(Type type, Atom::Kind i, Atom::Kind d, Atom::Kind b, Atom::Kind s) {
    return type == Type::kInt64 ? i : type == Type::kDouble ? d : type == Type::kBool ? b : s;
  }

  absl::Status CompileCompare(const ConditionSpec& c, Type type, Atom* a) const {
    if (c.values.size() != 1) return Malformed(c);
    KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], CompareOpSymbol(c.op)));
    Operand o = ToOperand(type, c.values[0]);
    a->op = c.op;
    a->i0 = o.i;
    a->d0 = o.d;
    a->s0 = std::move(o.s);
    a->kind = ByType(type, Atom::Kind::kCmpInt64, Atom::Kind::kCmpDouble, Atom::Kind::kCmpBool,
                     Atom::Kind::kCmpString);
    return absl::OkStatus();
  }

  absl::Status CompileIn(const ConditionSpec& c, Type type, Atom* a) const {
    a->negate = c.kind == ConditionSpec::Kind::kNotIn;
    bool has_null = false;
    for (const Value& v : c.values) {
      if (v.is_null()) {
        has_null = true;
        continue;
      }
      if (!ValueFitsType(v, type)) return errors::TypeMismatch(table_.name(), c.column, type, v);
      Operand o = ToOperand(type, v);
      switch (type) {
        case Type::kInt64:
          a->ints.push_back(o.i);
          break;
        case Type::kDouble:
          a->doubles.push_back(o.d);
          break;
        case Type::kBool:
          a->i0 |= int64_t{1} << o.i;
          break;
        case Type::kString:
          a->strings.push_back(std::move(o.s));
          break;
      }
    }
    if (c.values.empty()) {
      // As knex: IN () matches nothing, NOT IN () everything.
      a->kind = a->negate ? Atom::Kind::kAlways : Atom::Kind::kNever;
      return absl::OkStatus();
    }
    if (a->negate && has_null) {
      // x NOT IN (.., NULL) is FALSE or UNKNOWN, never TRUE.
      a->kind = Atom::Kind::kNever;
      return absl::OkStatus();
    }
    auto sort_unique = [](auto& list) {
      std::sort(list.begin(), list.end());
      list.erase(std::unique(list.begin(), list.end()), list.end());
    };
    sort_unique(a->ints);
    sort_unique(a->doubles);
    sort_unique(a->strings);
    a->kind = ByType(type, Atom::Kind::kInInt64, Atom::Kind::kInDouble, Atom::Kind::kInBool,
                     Atom::Kind::kInString);
    return absl::OkStatus();
  }

  absl::Status CompileBetween(const ConditionSpec& c, Type type, Atom* a) const {
    if (c.values.size() != 2) return Malformed(c);
    absl::string_view what = c.kind == ConditionSpec::Kind::kBetween ? "between" : "not between";
    KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], what));
    KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[1], what));
    Operand lo = ToOperand(type, c.values[0]);
    Operand hi = ToOperand(type, c.values[1]);
    a->negate = c.kind == ConditionSpec::Kind::kNotBetween;
    a->i0 = lo.i;
    a->i1 = hi.i;
    a->d0 = lo.d;
    a->d1 = hi.d;
    a->s0 = std::move(lo.s);
    a->s1 = std::move(hi.s);
    a->kind = ByType(type, Atom::Kind::kBetweenInt64, Atom::Kind::kBetweenDouble,
                     Atom::Kind::kBetweenBool, Atom::Kind::kBetweenString);
    return absl::OkStatus();
  }

  absl::Status CompileStringMatch(const ConditionSpec& c, Type type, Atom* a) const {
    using K = ConditionSpec::Kind;
    if (c.values.size() != 1) return Malformed(c);
    absl::string_view what = c.kind == K::kStartsWith ? "starts with"
                             : c.kind == K::kEndsWith ? "ends with"
                                                      : "contains";
    if (type != Type::kString) {
      return errors::WrongColumnType(table_.name(), c.column, what, "a string", type);
    }
    KIN_RETURN_IF_ERROR(CheckOperand(c, type, c.values[0], what));
    a->s0 = c.values[0].AsString();
    a->kind = c.kind == K::kStartsWith ? Atom::Kind::kStartsWith
              : c.kind == K::kEndsWith ? Atom::Kind::kEndsWith
                                       : Atom::Kind::kContains;
    return absl::OkStatus();
  }

  absl::Status CompileRelation(const ConditionSpec& c) {
    if (relations_ == nullptr || relations_->engine == nullptr ||
        relations_->relations == nullptr || relations_->compile_relation == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("query on '", table_.name(), "': a condition on relation '", c.column,
                       "' needs the relations of a Database (build the query with "
                       "Database::Query)"));
    }
    KIN_ASSIGN_OR_RETURN(std::shared_ptr<RelationTest> test,
                         relations_->compile_relation(*relations_, table_, c));
    Atom& a = out_->atoms_.emplace_back();
    a.kind = Atom::Kind::kRelation;
    a.relation = std::move(test);
    return absl::OkStatus();
  }

  const Table& table_;
  CompiledPredicate* out_;
  const RelationContext* relations_;
};

absl::Status CompiledPredicate::Compile(const Table& table,
                                        const std::vector<ConditionSpec>& conditions,
                                        const RelationContext* relations, CompiledPredicate* out) {
  *out = CompiledPredicate();
  KIN_RETURN_IF_ERROR(PredicateCompiler(table, out, relations).CompileRoot(conditions));
  out->top_ = out->TopLevelAtoms();
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace kin
