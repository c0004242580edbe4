// The byte-order codec: little-endian whatever the host, any alignment.

#include "persist/coding.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace kin::internal {
namespace {

TEST(CodingTest, Fixed32IsLittleEndian) {
  char buf[4];
  EncodeFixed32(buf, 0x04030201u);
  EXPECT_EQ(std::string(buf, 4), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(DecodeFixed32("\xff\x00\x00\x80"), 0x800000ffu);
}

TEST(CodingTest, Fixed64IsLittleEndian) {
  char buf[8];
  EncodeFixed64(buf, 0x0807060504030201ull);
  EXPECT_EQ(std::string(buf, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(DecodeFixed64("\x01\x00\x00\x00\x00\x00\x00\xf0"), 0xf000000000000001ull);
}

TEST(CodingTest, RoundTripsAtAnyAlignment) {
  char buf[16];
  for (int offset = 0; offset < 8; ++offset) {
    for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{0xdeadbeefcafef00d},
                       std::numeric_limits<uint64_t>::max()}) {
      EncodeFixed64(buf + offset, v);
      EXPECT_EQ(DecodeFixed64(buf + offset), v);
      EncodeFixed32(buf + offset, static_cast<uint32_t>(v));
      EXPECT_EQ(DecodeFixed32(buf + offset), static_cast<uint32_t>(v));
    }
  }
}

TEST(CodingTest, TypedValuesKeepTheirBits) {
  char buf[8];
  EncodeFixed<double>(buf, -1.5);
  EXPECT_EQ(std::string(buf, 8), std::string("\x00\x00\x00\x00\x00\x00\xf8\xbf", 8));
  EXPECT_EQ(DecodeFixed<double>(buf), -1.5);
  EncodeFixed<int64_t>(buf, -2);
  EXPECT_EQ(DecodeFixed64(buf), 0xfffffffffffffffeull);
  EXPECT_EQ(DecodeFixed<int64_t>(buf), -2);
  EncodeFixed<uint8_t>(buf, 7);
  EXPECT_EQ(DecodeFixed<uint8_t>(buf), 7);
}

}  // namespace
}  // namespace kin::internal
