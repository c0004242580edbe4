#include "engine/composite_index.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/table.h"

namespace kin {

namespace {

// Doubles as OrderedIndex orders them: NaN after every number, all NaN
// equal.
int CompareDoubles(double a, double b) {
  const bool an = std::isnan(a);
  const bool bn = std::isnan(b);
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);
  return a < b ? -1 : (b < a ? 1 : 0);
}

template <typename T>
int Compare3(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

CompositeIndex::CompositeIndex(const Table* table, std::vector<ColumnId> columns)
    : table_(table), columns_(std::move(columns)), slots_(Less{this}) {
  for (ColumnId c : columns_) types_.push_back(table_->column(c).type);
}

int CompositeIndex::CompareComponent(size_t i, uint32_t a, uint32_t b) const {
  const ColumnId column = columns_[i];
  const bool a_null = table_->IsNull(RowId(a), column);
  const bool b_null = table_->IsNull(RowId(b), column);
  if (a_null || b_null) return a_null == b_null ? 0 : (a_null ? -1 : 1);
  switch (types_[i]) {
    case Type::kInt64: {
      std::span<const int64_t> col = table_->Int64Column(column);
      return Compare3(col[a], col[b]);
    }
    case Type::kBool: {
      std::span<const uint8_t> col = table_->BoolColumn(column);
      return Compare3(col[a] != 0, col[b] != 0);
    }
    case Type::kDouble: {
      std::span<const double> col = table_->DoubleColumn(column);
      return CompareDoubles(col[a], col[b]);
    }
    case Type::kString: {
      std::span<const std::string> col = table_->StringColumn(column);
      const int c = col[a].compare(col[b]);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

int CompositeIndex::CompareToValue(size_t i, uint32_t a, const Value& v) const {
  const ColumnId column = columns_[i];
  const bool a_null = table_->IsNull(RowId(a), column);
  if (a_null || v.is_null()) return a_null == v.is_null() ? 0 : (a_null ? -1 : 1);
  switch (types_[i]) {
    case Type::kInt64:
      return Compare3(table_->Int64Column(column)[a], v.AsInt64());
    case Type::kBool:
      return Compare3(table_->BoolColumn(column)[a] != 0, v.AsBool());
    case Type::kDouble:
      return CompareDoubles(table_->DoubleColumn(column)[a], v.AsNumber());
    case Type::kString: {
      const int c = table_->StringColumn(column)[a].compare(v.AsString());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
  return 0;
}

int CompositeIndex::CompareSlots(uint32_t a, uint32_t b) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    const int c = CompareComponent(i, a, b);
    if (c != 0) return c;
  }
  return Compare3(a, b);
}

int CompositeIndex::CompareToProbe(uint32_t a, const Probe& p) const {
  for (size_t i = 0; i < p.n; ++i) {
    const int c = CompareToValue(i, a, p.values[i]);
    if (c != 0) return c;
  }
  // Equal on the probe's components: the probe sits before or after them.
  return p.after ? -1 : 1;
}

Value CompositeIndex::Normalize(size_t i, const Value& v) const {
  if (types_[i] == Type::kDouble && v.is_int64()) return Value(v.AsNumber());
  return v;
}

CompositeIndex::Probe CompositeIndex::MakeProbe(std::span<const Value> prefix, const Value* next,
                                                bool after) const {
  Probe p;
  for (size_t i = 0; i < prefix.size(); ++i) p.values[i] = Normalize(i, prefix[i]);
  p.n = prefix.size();
  if (next != nullptr) p.values[p.n++] = *next;
  p.after = after;
  return p;
}

void CompositeIndex::Build() {
  slots_.clear();
  std::vector<uint32_t> live;
  live.reserve(table_->size());
  for (uint32_t s = 0; s < table_->slot_count(); ++s) {
    if (table_->IsLive(RowId(s))) live.push_back(s);
  }
  // Sorted slots appended at end() fill the btree left to right without a
  // search per entry.
  std::sort(live.begin(), live.end(),
            [this](uint32_t a, uint32_t b) { return CompareSlots(a, b) < 0; });
  for (uint32_t s : live) slots_.insert(slots_.end(), s);
}

size_t CompositeIndex::MemoryBytes() const {
  // As OrderedIndex's estimate: nodes about 3/4 full plus child pointers.
  const size_t n = slots_.size();
  return n * sizeof(uint32_t) * 4 / 3 + n / 8 * sizeof(void*);
}

std::string CompositeIndex::DebugString() const {
  std::string out;
  std::vector<uint32_t> group;
  std::string key;
  auto flush = [&]() { AppendKeyGroup(&out, key, &group); };
  uint32_t prev = 0;
  bool first = true;
  for (uint32_t s : slots_) {
    bool same = !first;
    for (size_t i = 0; i < columns_.size() && same; ++i) same = CompareComponent(i, prev, s) == 0;
    if (!same) {
      flush();
      key = absl::StrCat("(",
                         absl::StrJoin(columns_, ", ",
                                       [&](std::string* o, ColumnId c) {
                                         absl::StrAppend(
                                             o, table_->GetValue(RowId(s), c).DebugString());
                                       }),
                         ")");
    }
    group.push_back(s);
    prev = s;
    first = false;
  }
  flush();
  return out;
}

}  // namespace kin
