// The cell format of string columns, shared by the engine's storage
// (engine/string_store.h) and kin::Column's inline reads (kin/column.h).
// Not an API: applications read strings through Row, Column and ResultSet.
//
// A cell is 8 bytes. Bit 0 set: the string is inline, its length (0 to 7)
// in bits 1-3 and its bytes in bytes 1-7 of the cell. Bit 0 clear: bits 1-63
// are the offset in the column's blob of the string's length (a varint)
// followed by its bytes. So a short string costs its 8-byte cell and
// nothing else, a long one its cell, 1-2 header bytes and its bytes, with
// no heap block per cell.

#ifndef KIN_STRING_CELL_H_
#define KIN_STRING_CELL_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace kin {
namespace string_cell {

static_assert(std::endian::native == std::endian::little,
              "string cells keep inline bytes after a little-endian tag byte");

inline constexpr uint64_t kEmpty = 1;  // inline, length 0
inline constexpr size_t kMaxInline = 7;

inline bool IsInline(uint64_t cell) { return (cell & 1) != 0; }

// The varint length at `p`; sets *header to its size in bytes.
inline uint64_t DecodeLength(const unsigned char* p, size_t* header) {
  uint64_t len = p[0];
  if (len < 0x80) {
    *header = 1;
    return len;
  }
  len &= 0x7f;
  size_t i = 1;
  for (int shift = 7;; shift += 7) {
    const uint64_t b = p[i++];
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  *header = i;
  return len;
}

// The string in `*cell`, whose column's blob starts at `blob`. Valid until
// the next write to the column.
inline std::string_view Decode(const uint64_t* cell, const char* blob) {
  const uint64_t c = *cell;
  if (IsInline(c)) {
    return std::string_view(reinterpret_cast<const char*>(cell) + 1,
                            static_cast<size_t>((c >> 1) & 7));
  }
  const auto* p = reinterpret_cast<const unsigned char*>(blob + (c >> 1));
  size_t header;
  const uint64_t len = DecodeLength(p, &header);
  return std::string_view(reinterpret_cast<const char*>(p + header), static_cast<size_t>(len));
}

}  // namespace string_cell
}  // namespace kin

#endif  // KIN_STRING_CELL_H_
