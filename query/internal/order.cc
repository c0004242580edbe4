#include "query/internal/order.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <string>

#include "engine/errors.h"
#include "query/internal/columns.h"

namespace kin {
namespace internal {

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

void CompiledOrder::Refresh(const Table& table) {
  for (Key& key : keys_) {
    key.data = ColumnData(table, key.column);
    key.validity = ValidityWords(table, key.column);
  }
}

absl::Status CompiledOrder::Compile(const Table& table, const std::vector<OrderSpec>& order_by,
                                    CompiledOrder* out) {
  out->keys_.clear();
  for (const OrderSpec& o : order_by) {
    std::optional<ColumnId> col = table.FindColumn(o.column);
    if (!col.has_value()) return errors::UnknownColumn(table.name(), o.column);
    Key key;
    key.type = table.column(*col).type;
    key.column = *col;
    key.data = ColumnData(table, *col);
    key.validity = ValidityWords(table, *col);
    key.desc = o.order == Order::kDesc;
    out->keys_.push_back(key);
  }
  return absl::OkStatus();
}

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
          const StringCells d = StringCellsOf(k.data);
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

}  // namespace internal
}  // namespace kin
