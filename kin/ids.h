// Strong ids for slots and columns.

#ifndef KIN_IDS_H_
#define KIN_IDS_H_

#include <cstdint>
#include <utility>

namespace kin {

// A row's slot in its table. Stable for the row's life: other rows' inserts
// and deletes never move it. After the row is deleted the slot may be reused
// by a later insert, so long-lived references should hold a Row (which
// carries a generation and detects reuse) rather than a bare RowId.
struct RowId {
  uint32_t value = 0;

  constexpr RowId() = default;
  constexpr explicit RowId(uint32_t v) : value(v) {}

  friend constexpr bool operator==(RowId a, RowId b) { return a.value == b.value; }
  friend constexpr bool operator!=(RowId a, RowId b) { return a.value != b.value; }
  friend constexpr bool operator<(RowId a, RowId b) { return a.value < b.value; }
  template <typename H>
  friend H AbslHashValue(H h, RowId id) {
    return H::combine(std::move(h), id.value);
  }
};

// A column's position in its table's schema.
struct ColumnId {
  uint32_t value = 0;

  constexpr ColumnId() = default;
  constexpr explicit ColumnId(uint32_t v) : value(v) {}

  friend constexpr bool operator==(ColumnId a, ColumnId b) { return a.value == b.value; }
  friend constexpr bool operator!=(ColumnId a, ColumnId b) { return a.value != b.value; }
  template <typename H>
  friend H AbslHashValue(H h, ColumnId id) {
    return H::combine(std::move(h), id.value);
  }
};

}  // namespace kin

#endif  // KIN_IDS_H_
