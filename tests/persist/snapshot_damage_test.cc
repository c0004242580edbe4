// Damaged and forged snapshots: every one is a clear status naming the
// input, never a crash, an exception or a half-loaded database. Run under
// --config=asan as well.

#include <random>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persist/snapshot.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::kPayloadOffset;
using ::kin::test::MakeSmallWorld;
using ::kin::test::MakeWorld;
using ::kin::test::Reseal;
using ::kin::test::StatusIs;
using ::kin::test::World;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;

std::string Encode(const World& w) {
  absl::StatusOr<std::string> bytes = EncodeSnapshot(w.engine, w.relations);
  EXPECT_OK(bytes);
  return bytes.ok() ? *bytes : std::string();
}

// Position of the last occurrence of `needle` in `bytes`; fails the test
// when absent.
size_t FindLast(const std::string& bytes, absl::string_view needle) {
  size_t pos = bytes.rfind(std::string(needle));
  EXPECT_NE(pos, std::string::npos) << "marker not found: " << needle;
  return pos;
}

void PutU64(std::string& bytes, size_t pos, uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes[pos + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetU64(const std::string& bytes, size_t pos) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(bytes[pos + i])} << (8 * i);
  return v;
}

// --- files that are not snapshots ---

TEST(SnapshotDamageTest, MissingFile) {
  std::string path = test::MakeTempDir("missing") + "/nope.kin";
  EXPECT_THAT(LoadSnapshotFile(path), StatusIs(absl::StatusCode::kNotFound,
                                               AllOf(HasSubstr(path), HasSubstr("no such file"))));
}

TEST(SnapshotDamageTest, NotASnapshot) {
  std::string dir = test::MakeTempDir("not_kin");
  test::WriteFileOrDie(dir + "/notes.txt", "this is a text file, not a save\n");
  EXPECT_THAT(LoadSnapshotFile(dir + "/notes.txt"),
              StatusIs(kDataLoss, AllOf(HasSubstr("notes.txt"), HasSubstr("not a kin snapshot"))));
  test::WriteFileOrDie(dir + "/empty.kin", "");
  EXPECT_THAT(LoadSnapshotFile(dir + "/empty.kin"),
              StatusIs(kDataLoss, AllOf(HasSubstr("empty.kin"), HasSubstr("not a kin snapshot"))));
  EXPECT_THAT(LoadSnapshotFile(dir),
              StatusIs(kDataLoss, HasSubstr("not a kin snapshot (a directory)")));
  EXPECT_THAT(DecodeSnapshot("PK\x03\x04 a zip file"),
              StatusIs(kDataLoss, AllOf(HasSubstr("(bytes)"), HasSubstr("not a kin snapshot"))));
}

TEST(SnapshotDamageTest, UnsupportedNewerVersion) {
  std::string bytes = Encode(MakeSmallWorld(2));
  bytes[8] = static_cast<char>(kSnapshotFormatVersion + 1);
  bytes = Reseal(bytes);  // a well-formed file from a newer kin
  EXPECT_THAT(DecodeSnapshot(bytes),
              StatusIs(kDataLoss, HasSubstr(absl::StrCat("unsupported format version ",
                                                         kSnapshotFormatVersion + 1))));
  bytes[8] = 0;
  EXPECT_THAT(DecodeSnapshot(Reseal(bytes)),
              StatusIs(kDataLoss, HasSubstr("unsupported format version 0")));
}

TEST(SnapshotDamageTest, UnknownHeaderFlags) {
  std::string bytes = Encode(MakeSmallWorld(2));
  bytes[12] = 1;
  EXPECT_THAT(DecodeSnapshot(Reseal(bytes)),
              StatusIs(kDataLoss, HasSubstr("unsupported header flags 0x1")));
}

// --- truncation and flipped bytes ---

TEST(SnapshotDamageTest, TruncatedAtEveryLength) {
  std::string bytes = Encode(MakeWorld());
  ASSERT_LT(bytes.size(), 8000u);  // keep the loop quick
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::string_view prefix(bytes.data(), n);
    ASSERT_THAT(DecodeSnapshot(prefix), StatusIs(kDataLoss)) << "length " << n;
    std::istringstream in{std::string(prefix)};
    ASSERT_THAT(ReadSnapshot(in), StatusIs(kDataLoss)) << "stream length " << n;
  }
  EXPECT_THAT(DecodeSnapshot(absl::string_view(bytes.data(), bytes.size() - 1)),
              StatusIs(kDataLoss, HasSubstr("truncated")));
}

TEST(SnapshotDamageTest, TruncatedFile) {
  std::string bytes = Encode(MakeWorld());
  std::string path = test::MakeTempDir("truncated") + "/world.kin";
  for (size_t n : {size_t{3}, size_t{20}, size_t{31}, bytes.size() / 2, bytes.size() - 1}) {
    test::WriteFileOrDie(path, bytes.substr(0, n));
    EXPECT_THAT(LoadSnapshotFile(path),
                StatusIs(kDataLoss, AllOf(HasSubstr(path), HasSubstr("truncated"))))
        << n;
  }
}

TEST(SnapshotDamageTest, TrailingBytes) {
  std::string bytes = Encode(MakeSmallWorld(2)) + "x";
  EXPECT_THAT(DecodeSnapshot(bytes), StatusIs(kDataLoss, HasSubstr("1 unexpected bytes")));
}

TEST(SnapshotDamageTest, FlippedByteAnywhere) {
  std::string bytes = Encode(MakeWorld());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (char mask : {'\xff', '\x01', '\x80'}) {
      std::string damaged = bytes;
      damaged[i] ^= mask;
      ASSERT_THAT(DecodeSnapshot(damaged), StatusIs(kDataLoss)) << "byte " << i;
    }
  }
  std::string damaged = bytes;
  damaged[bytes.size() / 2] ^= 1;
  EXPECT_THAT(DecodeSnapshot(damaged), StatusIs(kDataLoss, HasSubstr("checksum mismatch")));
}

TEST(SnapshotDamageTest, FlippedByteInABigFile) {
  // Files are hashed chunk by chunk as they are read (1 MiB at a time):
  // damage anywhere in any chunk, or in the header or trailer, is caught.
  std::string bytes = Encode(MakeSmallWorld(200000));
  ASSERT_GT(bytes.size(), size_t{3} << 20);
  std::string path = test::MakeTempDir("flipped") + "/big.kin";
  for (size_t i : {size_t{16}, size_t{kPayloadOffset}, (size_t{1} << 20) - 1, size_t{1} << 20,
                   bytes.size() / 2, bytes.size() - 9, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[i] ^= 0x20;
    test::WriteFileOrDie(path, damaged);
    EXPECT_THAT(LoadSnapshotFile(path), StatusIs(kDataLoss, HasSubstr(path))) << i;
    if (i != 16) {  // the length field: reported as truncation instead
      EXPECT_THAT(LoadSnapshotFile(path), StatusIs(kDataLoss, HasSubstr("checksum mismatch"))) << i;
    }
  }
  test::WriteFileOrDie(path, bytes);
  EXPECT_OK(LoadSnapshotFile(path).status());
}

// --- forged files: valid envelope and checksum, hostile payload ---

TEST(SnapshotDamageTest, ForgedHugeStringLength) {
  World w = MakeSmallWorld(0);
  ASSERT_OK(w.engine.Insert("t", {{"s", "MARKER-STRING"}}).status());
  std::string bytes = Encode(w);
  // Column s: count (u64), padding, lengths (u32 each), then the bytes.
  size_t lengths = FindLast(bytes, "MARKER-STRING") - 4;
  ASSERT_EQ((lengths - kPayloadOffset) % 8, 0u) << "layout changed";
  for (uint32_t forged : {~uint32_t{0}, uint32_t{1} << 31, uint32_t{100000}}) {
    std::string f = bytes;
    for (int i = 0; i < 4; ++i) f[lengths + i] = static_cast<char>((forged >> (8 * i)) & 0xff);
    EXPECT_THAT(DecodeSnapshot(Reseal(f)),
                StatusIs(kDataLoss, AllOf(HasSubstr("table 't'"), HasSubstr("column 's'"),
                                          HasSubstr(absl::StrCat("strings of ", forged)),
                                          HasSubstr("do not fit"))));
  }
  // The count is the u64 1 just before the padding.
  size_t count = lengths - 8;
  while (GetU64(bytes, count) != 1) --count;
  ASSERT_GE(count, lengths - 15);
  for (uint64_t forged : {uint64_t{1} << 62, ~uint64_t{0}, uint64_t{1} << 31}) {
    std::string f = bytes;
    PutU64(f, count, forged);
    EXPECT_THAT(DecodeSnapshot(Reseal(f)),
                StatusIs(kDataLoss, AllOf(HasSubstr("table 't'"), HasSubstr("column 's'"),
                                          HasSubstr(absl::StrCat("count ", forged)),
                                          HasSubstr("does not fit"))));
  }
}

TEST(SnapshotDamageTest, ForgedPadding) {
  // The bytes that align blocks to 8 must be zero: some zero byte of the
  // payload is padding, and setting it is reported as such.
  std::string bytes = Encode(MakeWorld());
  int padding = 0;
  for (size_t i = kPayloadOffset; i + 8 < bytes.size(); ++i) {
    if (bytes[i] != 0) continue;
    std::string f = bytes;
    f[i] = 'x';
    absl::StatusOr<SnapshotContents> result = DecodeSnapshot(Reseal(f));
    if (!result.ok() && absl::StrContains(result.status().message(), "non-zero padding")) {
      ASSERT_THAT(result, StatusIs(kDataLoss));
      ++padding;
    }
  }
  EXPECT_GT(padding, 10);
}

TEST(SnapshotDamageTest, ForgedHugeColumnCount) {
  World w;
  ASSERT_OK(w.engine.CreateTable("t", Schema().Int64("id", ManualPrimaryKey())));
  ASSERT_OK(w.engine.Insert("t", {{"id", int64_t{0x0123456789abcdef}}}).status());
  std::string bytes = Encode(w);
  std::string marker = "\xef\xcd\xab\x89\x67\x45\x23\x01";
  size_t count_field = FindLast(bytes, marker) - 8;
  for (uint64_t forged : {uint64_t{1} << 61, uint64_t{1} << 40, uint64_t{1000}}) {
    std::string f = bytes;
    PutU64(f, count_field, forged);
    EXPECT_THAT(DecodeSnapshot(Reseal(f)),
                StatusIs(kDataLoss, AllOf(HasSubstr("column 'id'"), HasSubstr("does not fit"))));
  }
  // A smaller count fits the bytes but disagrees with the slot count.
  std::string f = bytes;
  PutU64(f, count_field, 0);
  EXPECT_THAT(DecodeSnapshot(Reseal(f)), StatusIs(kDataLoss, Not(HasSubstr("does not fit"))));
}

TEST(SnapshotDamageTest, ForgedHugeSlotAndTableCounts) {
  World w = MakeSmallWorld(1);
  std::string bytes = Encode(w);
  // Payload: endianness byte, table count (u32), then the first table.
  size_t table_count = kPayloadOffset + 1;
  std::string f = bytes;
  for (int i = 0; i < 4; ++i) f[table_count + i] = '\xff';
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, AllOf(HasSubstr("table count"), HasSubstr("does not fit"))));
  // Then the name "t" (8 + 1 bytes), column count (4), three column specs:
  // find the slot count as the u64 right before the live bitmap's word.
  size_t name = table_count + 4;
  size_t specs = name + 9 + 4;
  // A spec: name (8 + length), type, 7 flags (6 before format 3 added the
  // ordered flag).
  size_t slots = specs + (8 + 2 + 8) + (8 + 1 + 8) + (8 + 1 + 8);
  ASSERT_EQ(bytes[slots], 1) << "layout changed";
  for (uint64_t forged : {uint64_t{0xffffffff}, uint64_t{1} << 32, ~uint64_t{0}}) {
    std::string g = bytes;
    PutU64(g, slots, forged);
    EXPECT_THAT(DecodeSnapshot(Reseal(g)), StatusIs(kDataLoss)) << forged;
  }
}

TEST(SnapshotDamageTest, ForgedMetaCount) {
  std::string bytes = Encode(MakeWorld());
  // users.posts's meta: count (u32), then the entries in key order; the
  // first key is "" (length 0), its value the string "empty key".
  size_t count = FindLast(bytes, "empty key") - 8 - 1 - 8 - 4;
  ASSERT_EQ(bytes.compare(count, 4, std::string("\x06\x00\x00\x00", 4)), 0);
  std::string f = bytes;
  for (int k = 0; k < 4; ++k) f[count + k] = '\xff';
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, AllOf(HasSubstr("relation users.posts"),
                                        HasSubstr("meta count: count 4294967295 does not fit"))));
  f = bytes;
  f[count] = 7;  // one more entry than present: reads into the next relation
  EXPECT_THAT(DecodeSnapshot(Reseal(f)), StatusIs(kDataLoss));
}

TEST(SnapshotDamageTest, ForgedBadEnumsAndBooleans) {
  World w = MakeWorld();
  std::string bytes = Encode(w);
  // A meta value tag: key "visible" (length 7) is followed by tag 3 (bool)
  // and the byte 1.
  size_t tag = FindLast(bytes, "visible") + 7;
  ASSERT_EQ(bytes[tag], 3);
  std::string f = bytes;
  f[tag] = 9;
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, AllOf(HasSubstr("relation users.posts"),
                                        HasSubstr("unknown meta value 9"))));
  f = bytes;
  f[tag + 1] = 2;
  EXPECT_THAT(DecodeSnapshot(Reseal(f)), StatusIs(kDataLoss, HasSubstr("bad boolean byte 2")));

  // A column type: the spec of users.email is its name then the type byte.
  size_t type = FindLast(bytes.substr(0, FindLast(bytes, "ada@")), "email") + 5;
  ASSERT_EQ(bytes[type], 4);
  f = bytes;
  f[type] = 0;
  EXPECT_THAT(
      DecodeSnapshot(Reseal(f)),
      StatusIs(kDataLoss, AllOf(HasSubstr("table 'users'"), HasSubstr("unknown column type 0"))));
}

TEST(SnapshotDamageTest, ForgedBoolCell) {
  World w;
  ASSERT_OK(
      w.engine.CreateTable("t", Schema().Int64("id", ManualPrimaryKey()).Bool("b", NotNull())));
  ASSERT_OK(w.engine.Insert("t", {{"id", int64_t{0x0123456789abcdef}}, {"b", true}}).status());
  std::string bytes = Encode(w);
  size_t cell = FindLast(bytes, "\xef\xcd\xab\x89\x67\x45\x23\x01") + 8 + 8;
  ASSERT_EQ(bytes[cell], 1);
  bytes[cell] = 7;
  EXPECT_THAT(DecodeSnapshot(Reseal(bytes)),
              StatusIs(kDataLoss, AllOf(HasSubstr("column 'b'"), HasSubstr("bad boolean byte 7"))));
}

TEST(SnapshotDamageTest, ForgedDuplicatePrimaryKey) {
  World w;
  ASSERT_OK(w.engine.CreateTable("t", Schema().Int64("id", ManualPrimaryKey())));
  ASSERT_OK(w.engine.Insert("t", {{"id", int64_t{0x0123456789abcdef}}}).status());
  ASSERT_OK(w.engine.Insert("t", {{"id", int64_t{0x0123456789abcdee}}}).status());
  std::string bytes = Encode(w);
  size_t second = FindLast(bytes, "\xee\xcd\xab\x89\x67\x45\x23\x01");
  bytes[second] = '\xef';
  EXPECT_THAT(DecodeSnapshot(Reseal(bytes)),
              StatusIs(kDataLoss, AllOf(HasSubstr("table 't'"), HasSubstr("duplicate key"))));
}

TEST(SnapshotDamageTest, ForgedNamesThatDoNotResolve) {
  World w;
  ASSERT_OK(w.engine.CreateTable("parentAAAA", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(w.engine.CreateTable("kids", Schema().Int64("id", PrimaryKey()).Int64("parent_id")));
  ASSERT_OK(w.engine.AddForeignKey({.child_table = "kids",
                                    .child_column = "parent_id",
                                    .parent_table = "parentAAAA",
                                    .parent_column = "id",
                                    .on_delete = OnDelete::kRestrict}));
  HasManyOptions options;
  options.foreign_key = "parent_id";
  options.name = "kidsBBBB";
  ASSERT_OK_AND_ASSIGN(std::vector<RelationSpec> specs,
                       w.relations.ResolveHasMany(w.engine, "parentAAAA", "kids", options));
  for (RelationSpec& s : specs) ASSERT_OK(w.relations.Add(std::move(s)));
  std::string bytes = Encode(w);
  ASSERT_OK(DecodeSnapshot(bytes).status());

  // The foreign key's parent table: the second occurrence of the name.
  size_t first = bytes.find("parentAAAA");
  size_t fk = bytes.find("parentAAAA", first + 1);
  std::string f = bytes;
  f.replace(fk, 10, "parentZZZZ");
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, HasSubstr("no table named 'parentZZZZ'")));
  // The relation's local key column.
  f = bytes;
  f.replace(FindLast(f, "parentAAAA"), 10, "parentZZZZ");
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, HasSubstr("no table named 'parentZZZZ'")));
  // A relation name twice on one table.
  HasManyOptions second;
  second.foreign_key = "parent_id";
  second.name = "kidsCCCC";
  second.create_inverse = false;
  ASSERT_OK_AND_ASSIGN(specs, w.relations.ResolveHasMany(w.engine, "parentAAAA", "kids", second));
  for (RelationSpec& s : specs) ASSERT_OK(w.relations.Add(std::move(s)));
  bytes = Encode(w);
  f = bytes;
  f.replace(FindLast(f, "kidsCCCC"), 8, "kidsBBBB");
  EXPECT_THAT(DecodeSnapshot(Reseal(f)),
              StatusIs(kDataLoss, HasSubstr("relation 'kidsBBBB' already exists")));
}

TEST(SnapshotDamageTest, ForgedAutoIncrementOnStringKey) {
  World w;
  ASSERT_OK(w.engine.CreateTable("t", Schema().String("name", ManualPrimaryKey())));
  ASSERT_OK(w.engine.Insert("t", {{"name", "x"}}).status());
  std::string bytes = Encode(w);
  // Spec of "name": length, "name", type 4, nullable 0, primary key 1, auto 0.
  size_t spec = bytes.find("name") + 4;
  ASSERT_EQ(bytes[spec], 4);
  ASSERT_EQ(bytes[spec + 3], 0);
  bytes[spec + 3] = 1;
  EXPECT_THAT(DecodeSnapshot(Reseal(bytes)),
              StatusIs(kDataLoss, HasSubstr("auto-increment on a column that is not an int64")));
}

TEST(SnapshotDamageTest, ForgedPayloadTruncations) {
  // Every shorter payload with a valid envelope: counts then run past the
  // end of what is present.
  std::string bytes = Encode(MakeWorld());
  for (size_t n = kPayloadOffset; n + 8 < bytes.size(); ++n) {
    std::string f = bytes.substr(0, n) + std::string(8, '\0');
    ASSERT_THAT(DecodeSnapshot(Reseal(f)), StatusIs(kDataLoss)) << n;
  }
}

TEST(SnapshotDamageTest, RandomMutationsWithValidChecksum) {
  // A cheap fuzzer: random byte changes, resealed. Whatever loads must be a
  // consistent engine; everything else a DataLoss.
  std::string bytes = Encode(MakeWorld());
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<size_t> pos(kPayloadOffset, bytes.size() - 9);
  std::uniform_int_distribution<int> count(1, 4);
  std::uniform_int_distribution<int> byte(0, 255);
  int loaded = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string f = bytes;
    for (int k = count(rng); k > 0; --k) {
      size_t p = pos(rng);
      int choice = byte(rng);
      // Small values and all-ones hit counts and enums hardest.
      f[p] = static_cast<char>(choice < 64 ? choice % 8 : choice < 96 ? 0xff : choice);
    }
    absl::StatusOr<SnapshotContents> result = DecodeSnapshot(Reseal(f));
    if (result.ok()) {
      ++loaded;
      EXPECT_OK(result->engine.CheckConsistency());
    } else {
      ASSERT_THAT(result, StatusIs(kDataLoss)) << "iteration " << iteration;
    }
  }
  // Mutations in string contents or cell values load fine; most do not.
  EXPECT_GT(loaded, 0);
  EXPECT_LT(loaded, 3000);
}

// --- load limits ---

TEST(SnapshotDamageTest, LoadLimits) {
  std::string bytes = Encode(MakeSmallWorld(100));
  LoadOptions small_bytes;
  small_bytes.max_bytes = bytes.size() - 1;
  EXPECT_THAT(DecodeSnapshot(bytes, small_bytes),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_bytes")));
  std::istringstream in(bytes);
  EXPECT_THAT(ReadSnapshot(in, small_bytes),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_bytes")));
  std::string path = test::MakeTempDir("limits") + "/big.kin";
  test::WriteFileOrDie(path, bytes);
  EXPECT_THAT(LoadSnapshotFile(path, small_bytes),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(path), HasSubstr("max_bytes"))));

  LoadOptions few_rows;
  few_rows.max_rows = 99;
  EXPECT_THAT(DecodeSnapshot(bytes, few_rows),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("table 't' has 100 row slots"), HasSubstr("max_rows"))));
  few_rows.max_rows = 100;
  EXPECT_OK(DecodeSnapshot(bytes, few_rows).status());
}

TEST(SnapshotDamageTest, StreamClaimingHugeLengthAllocatesOnlyWhatArrives) {
  std::string bytes = Encode(MakeSmallWorld(2));
  PutU64(bytes, 16, uint64_t{1} << 40);  // a terabyte announced
  LoadOptions generous;
  generous.max_bytes = ~uint64_t{0};
  std::istringstream in(bytes);
  EXPECT_THAT(ReadSnapshot(in, generous), StatusIs(kDataLoss, HasSubstr("truncated")));
}

}  // namespace
}  // namespace kin
