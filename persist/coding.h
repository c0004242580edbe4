// Fixed-width little-endian integers: the one place in persist/ that knows
// the host's byte order (leveldb's util/coding.h is the model). Everything
// a snapshot stores outside cereal's archive (envelope header and checksum,
// raw column blocks, string lengths) goes through these functions, so the
// file format is the same on every host. Internal to //persist.

#ifndef KIN_PERSIST_CODING_H_
#define KIN_PERSIST_CODING_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace kin::internal {

// True when a block of fixed-width values in memory already is its encoding
// (x86-64, ARM64), so it can be written or read with one copy. Elsewhere
// each value goes through EncodeFixed / DecodeFixed.
inline constexpr bool kHostIsLittleEndian = std::endian::native == std::endian::little;

// REQUIRES: dst has room for 4 (8) bytes; any alignment.
inline void EncodeFixed32(char* dst, uint32_t value) {
  if constexpr (kHostIsLittleEndian) {
    std::memcpy(dst, &value, sizeof(value));
  } else {
    for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

inline void EncodeFixed64(char* dst, uint64_t value) {
  if constexpr (kHostIsLittleEndian) {
    std::memcpy(dst, &value, sizeof(value));
  } else {
    for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

// REQUIRES: ptr points at 4 (8) readable bytes; any alignment.
inline uint32_t DecodeFixed32(const char* ptr) {
  uint32_t value = 0;
  if constexpr (kHostIsLittleEndian) {
    std::memcpy(&value, ptr, sizeof(value));
  } else {
    for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<unsigned char>(ptr[i])} << (8 * i);
  }
  return value;
}

inline uint64_t DecodeFixed64(const char* ptr) {
  uint64_t value = 0;
  if constexpr (kHostIsLittleEndian) {
    std::memcpy(&value, ptr, sizeof(value));
  } else {
    for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<unsigned char>(ptr[i])} << (8 * i);
  }
  return value;
}

// The same for any 1-, 4- or 8-byte trivially copyable T (the column
// types: uint8_t, uint32_t, int64_t, uint64_t, double), by its bits.
template <typename T>
void EncodeFixed(char* dst, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  if constexpr (sizeof(T) == 1) {
    std::memcpy(dst, &value, 1);
  } else if constexpr (sizeof(T) == 4) {
    EncodeFixed32(dst, std::bit_cast<uint32_t>(value));
  } else {
    static_assert(sizeof(T) == 8, "fixed-width values are 1, 4 or 8 bytes");
    EncodeFixed64(dst, std::bit_cast<uint64_t>(value));
  }
}

template <typename T>
T DecodeFixed(const char* ptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  if constexpr (sizeof(T) == 1) {
    T value;
    std::memcpy(&value, ptr, 1);
    return value;
  } else if constexpr (sizeof(T) == 4) {
    return std::bit_cast<T>(DecodeFixed32(ptr));
  } else {
    static_assert(sizeof(T) == 8, "fixed-width values are 1, 4 or 8 bytes");
    return std::bit_cast<T>(DecodeFixed64(ptr));
  }
}

}  // namespace kin::internal

#endif  // KIN_PERSIST_CODING_H_
