// StringStore: a string column's cells (8 bytes each, short strings inline,
// long ones in one blob), checked against a std::vector<std::string> model.

#include "engine/string_store.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin {
namespace {

std::vector<std::string> Contents(const StringStore& store) {
  std::vector<std::string> out;
  for (size_t i = 0; i < store.size(); ++i) out.emplace_back(store[i]);
  return out;
}

// The blob holds exactly the entries cells point to, plus the garbage it
// reports.
size_t LiveBlobBytes(const StringStore& store) {
  size_t bytes = 0;
  for (size_t i = 0; i < store.size(); ++i) bytes += StringStore::BlobBytesFor(store[i].size());
  return bytes;
}

TEST(StringStoreTest, ShortStringsLiveInTheCellLongOnesInTheBlob) {
  StringStore store;
  store.push_back("");
  store.push_back("seven77");                    // 7 bytes: inline
  store.push_back("eight888");                   // 8 bytes: blob, 1-byte length
  store.push_back(std::string(200, 'x'));        // 2-byte length
  store.push_back(std::string_view("a\0b", 3));  // NUL bytes kept
  EXPECT_THAT(Contents(store), testing::ElementsAre("", "seven77", "eight888",
                                                    std::string(200, 'x'), std::string("a\0b", 3)));
  EXPECT_EQ(store.blob_bytes(), (1 + 8) + (2 + 200));
  EXPECT_EQ(StringStore::BlobBytesFor(7), 0u);
  EXPECT_EQ(StringStore::BlobBytesFor(127), 128u);
  EXPECT_EQ(StringStore::BlobBytesFor(128), 130u);
  EXPECT_EQ(StringStore::BlobBytesFor(1 << 20), (1u << 20) + 3);
}

TEST(StringStoreTest, AStringOfMegabytesRoundTrips) {
  StringStore store;
  std::string big(3 << 20, 'q');
  big[77777] = '\0';
  store.push_back(big);
  store.push_back("tail-string");
  EXPECT_EQ(store[0], big);
  EXPECT_EQ(store[1], "tail-string");
}

TEST(StringStoreTest, AppendTakesStringsBackToBackAsPushBackWould) {
  // Lengths on both sides of the inline limit and of the 1-byte varint.
  const std::vector<std::string> strings = {"",
                                            "seven77",
                                            "eight888",
                                            std::string(127, 'a'),
                                            std::string(128, 'b'),
                                            std::string("n\0l", 3)};
  std::vector<uint32_t> lengths;
  std::string bytes;
  for (const std::string& s : strings) {
    lengths.push_back(static_cast<uint32_t>(s.size()));
    bytes += s;
  }
  StringStore pushed;
  for (const std::string& s : strings) pushed.push_back(s);
  StringStore appended;
  appended.push_back("already here, out of line");
  appended.Append(lengths, bytes.data());
  appended.Append({}, nullptr);  // nothing to append
  ASSERT_EQ(appended.size(), strings.size() + 1);
  std::vector<std::string> expected = {"already here, out of line"};
  expected.insert(expected.end(), strings.begin(), strings.end());
  EXPECT_EQ(Contents(appended), expected);
  EXPECT_EQ(appended.blob_bytes(), LiveBlobBytes(appended));
  EXPECT_EQ(appended.blob_bytes(), pushed.blob_bytes() + StringStore::BlobBytesFor(25));
  EXPECT_EQ(appended.garbage_bytes(), 0u);
  // Appended cells are ordinary cells: updates and undo-style pops work.
  appended.Set(3, "eight888 grown longer");
  appended.pop_back();
  EXPECT_EQ(appended[3], "eight888 grown longer");
  EXPECT_EQ(appended.size(), strings.size());
}

TEST(StringStoreTest, AnUpdateThatFitsIsWrittenInPlace) {
  StringStore store;
  store.push_back("a long first string");
  store.push_back("a long second string");
  const size_t blob = store.blob_bytes();
  store.Set(0, "shorter string");  // fits where the old bytes were
  EXPECT_EQ(store.blob_bytes(), blob);
  EXPECT_EQ(store.garbage_bytes(), std::string_view("a long first string").size() -
                                       std::string_view("shorter string").size());
  store.Set(0, "a string longer than both of the others");  // appended
  EXPECT_GT(store.blob_bytes(), blob);
  store.Set(1, "tiny");  // inline now: the old entry is garbage
  EXPECT_THAT(Contents(store),
              testing::ElementsAre("a string longer than both of the others", "tiny"));
  EXPECT_EQ(store.blob_bytes() - store.garbage_bytes(), LiveBlobBytes(store));
}

TEST(StringStoreTest, SetFromAnotherCellOfTheSameStore) {
  // The source view points into the blob (or a cell) that the write may
  // reallocate: the bytes must be copied from where they are now.
  StringStore store;
  store.push_back(std::string(100, 'a'));
  store.push_back("short");
  for (int i = 0; i < 2000; ++i) store.Set(1, store[0]);  // each one appends
  EXPECT_EQ(store[1], std::string(100, 'a'));
  store.push_back(store[0]);
  EXPECT_EQ(store[2], std::string(100, 'a'));
  store.Set(0, store[0].substr(10));  // overlaps its own bytes
  EXPECT_EQ(store[0], std::string(90, 'a'));
  store.Set(1, "inline");
  store.Set(2, store[1]);
  EXPECT_EQ(store[2], "inline");
}

TEST(StringStoreTest, GarbageIsCompactedOncePastHalfTheBlob) {
  StringStore store;
  for (int i = 0; i < 1000; ++i) store.push_back(std::string(100, static_cast<char>('a' + i % 26)));
  const size_t blob = store.blob_bytes();
  // Rewriting every cell with a longer string moves each one to the end;
  // the compaction keeps the blob from growing without bound.
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 1000; ++i) store.Set(i, std::string(150, static_cast<char>('a' + round)));
  }
  EXPECT_LE(store.blob_bytes(), 3 * (blob * 3 / 2));
  EXPECT_TRUE(store.garbage_bytes() < 64 * 1024 || store.garbage_bytes() * 2 < store.blob_bytes());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(store[i], std::string(150, 'j'));
  store.Compact();
  EXPECT_EQ(store.garbage_bytes(), 0u);
  EXPECT_EQ(store.blob_bytes(), LiveBlobBytes(store));
}

TEST(StringStoreTest, PopBackGivesTheTailBackAndShrinksTheBlob) {
  StringStore store;
  store.push_back("first long string");
  const size_t one = store.blob_bytes();
  for (int i = 0; i < 5000; ++i) store.push_back(std::string(100, 'z'));
  EXPECT_GT(store.MemoryBytes(), 500000u);
  store.resize(1);  // as the undo of a bulk load does
  EXPECT_EQ(store.blob_bytes(), one);
  EXPECT_EQ(store.garbage_bytes(), 0u);
  EXPECT_LT(store.MemoryBytes(), 200000u);  // the cells vector keeps its capacity
  EXPECT_EQ(store[0], "first long string");
  store.resize(3);
  EXPECT_THAT(Contents(store), testing::ElementsAre("first long string", "", ""));
  store.clear();
  EXPECT_TRUE(store.empty());
  EXPECT_EQ(store.blob_bytes(), 0u);
}

TEST(StringStoreTest, EmptyAndSizedConstruction) {
  StringStore none;
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.blob_bytes(), 0u);
  StringStore three(3);
  EXPECT_THAT(Contents(three), testing::ElementsAre("", "", ""));
  three.Clear(1);
  EXPECT_EQ(three[1], "");
}

// Random pushes, pops, sets (also from other cells) and compactions, with
// lengths around the inline limit and the varint boundaries, against a
// vector of strings; the blob's accounting is checked after every step.
TEST(StringStoreTest, RandomOperationsMatchAVectorOfStrings) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    auto random_string = [&] {
      static constexpr size_t kLengths[] = {0, 1, 6, 7, 8, 9, 15, 16, 127, 128, 129, 300, 5000};
      size_t len = kLengths[rng() % std::size(kLengths)];
      std::string s(len, ' ');
      for (char& c : s) c = static_cast<char>(rng() % 256);
      return s;
    };
    StringStore store;
    std::vector<std::string> model;
    for (int step = 0; step < 4000; ++step) {
      const uint64_t op = rng() % 10;
      if (op < 3 || model.empty()) {
        std::string s = random_string();
        store.push_back(s);
        model.push_back(s);
      } else if (op < 4) {
        store.pop_back();
        model.pop_back();
      } else if (op < 8) {
        size_t i = rng() % model.size();
        std::string s = random_string();
        store.Set(i, s);
        model[i] = s;
      } else if (op < 9) {
        size_t i = rng() % model.size();
        size_t j = rng() % model.size();
        store.Set(i, store[j]);
        model[i] = model[j];
      } else if (rng() % 50 == 0) {
        store.Compact();
        ASSERT_EQ(store.garbage_bytes(), 0u);
      }
      ASSERT_EQ(store.size(), model.size()) << seed << " " << step;
      ASSERT_LE(LiveBlobBytes(store), store.blob_bytes()) << seed << " " << step;
    }
    EXPECT_EQ(Contents(store), model) << seed;
    store.Compact();
    EXPECT_EQ(store.blob_bytes(), LiveBlobBytes(store)) << seed;
    EXPECT_EQ(Contents(store), model) << seed;
  }
}

}  // namespace
}  // namespace kin
