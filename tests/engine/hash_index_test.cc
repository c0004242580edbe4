// HashIndex: dense and hashed int64 keys (unique and secondary), secondary
// lists and their positions, strings, and the bulk Build against Add.

#include "engine/hash_index.h"

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin {
namespace {

// String keys as a table's column holds them.
StringStore Store(const std::vector<std::string>& keys) {
  StringStore store;
  for (const std::string& k : keys) store.push_back(k);
  return store;
}

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

std::vector<int64_t> SortedKeys(const HashIndex& idx) {
  std::vector<int64_t> keys;
  idx.ForEachSorted([&](const Value& k, std::span<const RowId>) { keys.push_back(k.AsInt64()); });
  return keys;
}

TEST(HashIndexTest, CompactIntKeysStayDenseAndAnswerLikeAMap) {
  HashIndex idx(Type::kInt64, /*unique=*/true);
  for (int64_t k = 1; k <= 1000; ++k) idx.Add(Value(k), RowId(static_cast<uint32_t>(k - 1)));
  EXPECT_EQ(idx.num_keys(), 1000u);
  EXPECT_THAT(idx.Find(int64_t{500}), ElementsAre(RowId(499)));
  EXPECT_THAT(idx.Find(int64_t{0}), IsEmpty());
  EXPECT_THAT(idx.Find(int64_t{1001}), IsEmpty());
  EXPECT_THAT(idx.Find(int64_t{-3}), IsEmpty());
  EXPECT_EQ(idx.Remove(Value(500), RowId(499)), 0u);
  EXPECT_THAT(idx.Find(int64_t{500}), IsEmpty());
  EXPECT_EQ(idx.num_keys(), 999u);
  // 4 bytes a key, not a hash table's slot.
  EXPECT_LT(idx.MemoryBytes(), 8 * 1024u);
}

TEST(HashIndexTest, AFarKeyConvertsToAHashMapWithoutLosingKeys) {
  HashIndex idx(Type::kInt64, /*unique=*/true);
  for (int64_t k = 1; k <= 10; ++k) idx.Add(Value(k), RowId(static_cast<uint32_t>(k)));
  idx.Add(Value(int64_t{1} << 40), RowId(77));
  idx.Add(Value(-5), RowId(78));
  EXPECT_EQ(idx.num_keys(), 12u);
  EXPECT_THAT(idx.Find(int64_t{1} << 40), ElementsAre(RowId(77)));
  EXPECT_THAT(idx.Find(int64_t{-5}), ElementsAre(RowId(78)));
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(7)));
  std::vector<int64_t> keys = SortedKeys(idx);
  EXPECT_EQ(keys.front(), -5);
  EXPECT_EQ(keys.back(), int64_t{1} << 40);
  idx.Clear();
  EXPECT_EQ(idx.num_keys(), 0u);
  idx.Add(Value(3), RowId(1));  // dense again after Clear
  EXPECT_THAT(idx.Find(int64_t{3}), ElementsAre(RowId(1)));
}

TEST(HashIndexTest, SecondaryListsKeepInsertionOrderAndPositions) {
  HashIndex idx(Type::kInt64, /*unique=*/false);
  idx.Add(Value(7), RowId(5));
  idx.Add(Value(7), RowId(2));
  idx.Add(Value(7), RowId(9));
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(5), RowId(2), RowId(9)));
  uint32_t pos = idx.Remove(Value(7), RowId(2));
  EXPECT_EQ(pos, 1u);
  idx.InsertAt(Value(7), RowId(2), pos);
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(5), RowId(2), RowId(9)));
  idx.Remove(Value(7), RowId(5));
  idx.Remove(Value(7), RowId(2));
  idx.Remove(Value(7), RowId(9));
  EXPECT_EQ(idx.num_keys(), 0u);  // an emptied key is dropped
}

TEST(HashIndexTest, StringKeysLookUpByView) {
  StringStore emails = Store({"alice@example.com"});
  HashIndex idx(Type::kString, /*unique=*/true);
  idx.BindKeys(&emails);
  idx.Add(Value("alice@example.com"), RowId(0));
  EXPECT_THAT(idx.Find(absl::string_view("alice@example.com")), ElementsAre(RowId(0)));
  EXPECT_THAT(idx.Find(absl::string_view("bob")), IsEmpty());
  EXPECT_THAT(idx.Find(int64_t{1}), IsEmpty());  // another key type never matches
}

// A secondary string key is read from its first listed row: removing that
// row, or putting another in front of it, keeps the key found.
TEST(HashIndexTest, StringGroupsSurviveLosingAndGainingTheirFirstRow) {
  StringStore tags = Store(
      {"red", "a longer tag than fits inline", "red", "a longer tag than fits inline", "red"});
  HashIndex idx(Type::kString, /*unique=*/false);
  idx.BindKeys(&tags);
  for (uint32_t r = 0; r < 5; ++r) idx.Add(Value(std::string(tags[r])), RowId(r));
  EXPECT_EQ(idx.num_keys(), 2u);
  EXPECT_EQ(idx.Remove(Value("red"), RowId(0)), 0u);
  tags.Set(0, "blue");  // the row's cell changes after it left the index
  EXPECT_THAT(idx.Find(absl::string_view("red")), ElementsAre(RowId(2), RowId(4)));
  EXPECT_THAT(idx.Find(absl::string_view("blue")), IsEmpty());
  idx.Add(Value("blue"), RowId(0));
  EXPECT_EQ(idx.Remove(Value("a longer tag than fits inline"), RowId(1)), 0u);
  tags.Set(1, "a longer tag than fits inline");  // rewritten in place, same key
  idx.InsertAt(Value("a longer tag than fits inline"), RowId(1), 0);  // the undo of the Remove
  EXPECT_THAT(idx.Find(absl::string_view("a longer tag than fits inline")),
              ElementsAre(RowId(1), RowId(3)));
  EXPECT_EQ(idx.Remove(Value("red"), RowId(2)), 0u);
  EXPECT_EQ(idx.Remove(Value("red"), RowId(4)), 0u);
  EXPECT_THAT(idx.Find(absl::string_view("red")), IsEmpty());
  EXPECT_EQ(idx.num_keys(), 2u);  // blue and the long tag
}

// A string index holds no copy of its keys: a row and a 32-bit hash per
// unique key (a std::string key was 32 bytes plus a heap block for keys
// over 15 bytes), however long the keys are.
TEST(HashIndexTest, StringKeysAreNotCopiedIntoTheIndex) {
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i)
    keys.push_back("player-" + std::to_string(i) + std::string(40, '#'));
  StringStore names = Store(keys);
  HashIndex added(Type::kString, /*unique=*/true);
  added.BindKeys(&names);
  for (uint32_t r = 0; r < keys.size(); ++r) added.Add(Value(keys[r]), RowId(r));
  EXPECT_LT(added.MemoryBytes(), 24 * keys.size());
  std::vector<uint32_t> rows(keys.size());
  for (uint32_t r = 0; r < rows.size(); ++r) rows[r] = r;
  HashIndex built(Type::kString, /*unique=*/true);
  ASSERT_EQ(built.Build(names, rows), std::nullopt);
  EXPECT_LT(built.MemoryBytes(), 24 * keys.size());
  EXPECT_THAT(built.Find(absl::string_view(keys[777])), ElementsAre(RowId(777)));
}

using Key = std::variant<int64_t, std::string>;
using IndexDump = std::vector<std::pair<Key, std::vector<uint32_t>>>;

Key KeyOf(const Value& v) {
  if (v.is_int64()) return v.AsInt64();
  return v.AsString();
}
Key KeyOf(int64_t k) { return k; }
Key KeyOf(absl::string_view k) { return std::string(k); }

// Everything an index answers, key by key in ascending order.
IndexDump Dump(const HashIndex& idx) {
  IndexDump out;
  idx.ForEachSorted([&](const Value& k, std::span<const RowId> rows) {
    std::vector<uint32_t> v;
    for (RowId r : rows) v.push_back(r.value);
    out.emplace_back(KeyOf(k), std::move(v));
  });
  return out;
}

// ForEachKey visits what ForEachSorted does, in some order.
IndexDump DumpUnordered(const HashIndex& idx) {
  IndexDump out;
  idx.ForEachKey([&](auto k, std::span<const RowId> rows) {
    std::vector<uint32_t> v;
    for (RowId r : rows) v.push_back(r.value);
    out.emplace_back(KeyOf(k), std::move(v));
  });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(HashIndexTest, CompactSecondaryKeysStayDenseAndKeepPositions) {
  HashIndex idx(Type::kInt64, /*unique=*/false);
  for (uint32_t r = 0; r < 3000; ++r) idx.Add(Value(int64_t{r % 1000}), RowId(r));
  EXPECT_EQ(idx.num_keys(), 1000u);
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(7), RowId(1007), RowId(2007)));
  EXPECT_THAT(idx.Find(int64_t{1000}), IsEmpty());
  EXPECT_THAT(idx.Find(int64_t{-1}), IsEmpty());
  // A list per key, no hash table: a 24-byte vector and one malloc block
  // (32 bytes for up to 6 rows) a key, under a hashed index's 40+ bytes a
  // key plus the same lists.
  EXPECT_LT(idx.MemoryBytes(), 1000 * (24 + 32) + 4096u);
  EXPECT_EQ(idx.Remove(Value(7), RowId(1007)), 1u);
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(7), RowId(2007)));
  idx.InsertAt(Value(7), RowId(1007), 1);
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(7), RowId(1007), RowId(2007)));
  idx.InsertAt(Value(7), RowId(5000), 0);
  EXPECT_THAT(idx.Find(int64_t{7}), ElementsAre(RowId(5000), RowId(7), RowId(1007), RowId(2007)));
  for (RowId r : {RowId(5000), RowId(7), RowId(1007), RowId(2007)}) idx.Remove(Value(7), r);
  EXPECT_THAT(idx.Find(int64_t{7}), IsEmpty());
  EXPECT_EQ(idx.num_keys(), 999u);  // an emptied key is dropped
  idx.InsertAt(Value(7), RowId(7), 0);
  EXPECT_EQ(idx.num_keys(), 1000u);

  // A far key converts to a hash map; every list keeps its order.
  auto before = Dump(idx);
  idx.Add(Value(int64_t{1} << 40), RowId(9000));
  idx.InsertAt(Value(-3), RowId(9001), 0);
  before.insert(before.begin(), {Key(int64_t{-3}), {9001}});
  before.push_back({Key(int64_t{1} << 40), {9000}});
  EXPECT_EQ(Dump(idx), before);
  EXPECT_EQ(idx.num_keys(), 1002u);
  EXPECT_THAT(idx.Find(int64_t{5}), ElementsAre(RowId(5), RowId(1005), RowId(2005)));
}

// Keys for `slots` slots of one of several shapes, drawn from `rng`.
std::vector<int64_t> RandomKeys(std::mt19937_64& rng, size_t slots, int shape, bool unique) {
  std::vector<int64_t> keys(slots);
  for (size_t s = 0; s < slots; ++s) {
    switch (shape) {
      case 0:  // compact, like foreign keys to auto-increment ids
        keys[s] = unique ? static_cast<int64_t>(s) + 1 : static_cast<int64_t>(rng() % 50);
        break;
      case 1:  // negative and far keys: hashed
        keys[s] =
            unique ? static_cast<int64_t>(s) * -7919 - 1 : static_cast<int64_t>(rng() % 60) - 30;
        break;
      case 2:  // compact but spread: too sparse for a dense index
        keys[s] =
            unique ? static_cast<int64_t>(s) * 100000 : static_cast<int64_t>(rng() % 40) * 100000;
        break;
      default:  // within reach of the rows, but two keys far apart (hashed)
        keys[s] = unique ? static_cast<int64_t>(s) * 2
                         : (rng() % 2 == 0 ? 0 : 2 * static_cast<int64_t>(slots) + 4095);
        break;
    }
  }
  if (unique) std::shuffle(keys.begin(), keys.end(), rng);
  return keys;
}

// Rows to index: a random subset of the slots (the others stand for
// deleted slots and NULL cells), in slot order or shuffled (a stored
// index order after slot reuse and key updates).
std::vector<uint32_t> RandomRows(std::mt19937_64& rng, size_t slots, bool shuffled) {
  std::vector<uint32_t> rows;
  for (uint32_t s = 0; s < slots; ++s) {
    if (rng() % 5 != 0) rows.push_back(s);
  }
  if (shuffled) std::shuffle(rows.begin(), rows.end(), rng);
  return rows;
}

TEST(HashIndexTest, BuildEqualsAddInOrderOnRandomInt64Keys) {
  for (uint64_t seed = 1; seed <= 32; ++seed) {
    std::mt19937_64 rng(seed);
    bool unique = seed % 2 == 0;
    int shape = static_cast<int>(seed / 2 % 4);
    size_t slots = 10 + rng() % 3000;
    std::vector<int64_t> keys = RandomKeys(rng, slots, shape, unique);
    std::vector<uint32_t> rows = RandomRows(rng, slots, /*shuffled=*/seed % 4 == 1);
    HashIndex added(Type::kInt64, unique);
    for (uint32_t r : rows) added.Add(Value(keys[r]), RowId(r));
    HashIndex built(Type::kInt64, unique);
    built.Add(Value(int64_t{123456789}), RowId(0));  // Build replaces this
    ASSERT_EQ(built.Build(keys, rows), std::nullopt) << seed;
    SCOPED_TRACE(seed);
    EXPECT_EQ(built.num_keys(), added.num_keys());
    EXPECT_EQ(Dump(built), Dump(added));
    EXPECT_EQ(DumpUnordered(built), Dump(added));
    for (int64_t k : {int64_t{-31}, int64_t{0}, int64_t{49}, int64_t{3000000}}) {
      EXPECT_THAT(built.Find(k), ElementsAreArray(added.Find(k))) << k;
    }
    // Both go on behaving alike: remove and put back the middle row of
    // every key, then add a far key.
    for (const auto& [key, list] : Dump(added)) {
      int64_t k = std::get<int64_t>(key);
      RowId middle(list[list.size() / 2]);
      uint32_t a = added.Remove(Value(k), middle);
      uint32_t b = built.Remove(Value(k), middle);
      ASSERT_EQ(a, b);
      if (k % 3 == 0) {
        added.InsertAt(Value(k), middle, a);
        built.InsertAt(Value(k), middle, b);
      }
    }
    added.Add(Value(int64_t{1} << 50), RowId(77777));
    built.Add(Value(int64_t{1} << 50), RowId(77777));
    EXPECT_EQ(Dump(built), Dump(added));
  }
}

TEST(HashIndexTest, BuildEqualsAddInOrderOnRandomStringKeys) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    bool unique = seed % 2 == 0;
    size_t slots = 1 + rng() % 2000;
    std::vector<std::string> keys(slots);
    for (size_t s = 0; s < slots; ++s) {
      keys[s] = unique ? "key-" + std::to_string(s) + std::string(s % 20, 'x')
                       : "group-" + std::to_string(rng() % 70);
    }
    std::vector<uint32_t> rows = RandomRows(rng, slots, /*shuffled=*/seed % 3 == 0);
    StringStore store = Store(keys);
    HashIndex added(Type::kString, unique);
    added.BindKeys(&store);
    for (uint32_t r : rows) added.Add(Value(keys[r]), RowId(r));
    HashIndex built(Type::kString, unique);
    ASSERT_EQ(built.Build(store, rows), std::nullopt) << seed;
    EXPECT_EQ(built.num_keys(), added.num_keys()) << seed;
    EXPECT_EQ(Dump(built), Dump(added)) << seed;
  }
}

// A bulk-built dense secondary index keeps every key's rows in one block;
// the lists borrow from it until a write moves one to its own array. Writes
// after the build, and copies of the index, answer as an index grown by Add.
TEST(HashIndexTest, BulkBuiltListsTakeWritesAndCopies) {
  std::vector<int64_t> keys;
  for (int64_t r = 0; r < 3000; ++r) keys.push_back(r % 700);
  std::vector<uint32_t> rows(keys.size());
  for (uint32_t r = 0; r < rows.size(); ++r) rows[r] = r;
  HashIndex built(Type::kInt64, /*unique=*/false);
  ASSERT_EQ(built.Build(keys, rows), std::nullopt);
  ASSERT_TRUE(built.dense());
  HashIndex added(Type::kInt64, /*unique=*/false);
  for (uint32_t r : rows) added.Add(Value(keys[r]), RowId(r));
  const HashIndex before = built;  // a copy owns its rows
  std::mt19937_64 rng(5);
  for (int step = 0; step < 2000; ++step) {
    const uint32_t r = static_cast<uint32_t>(rng() % 3000);
    const int64_t k = keys[r];
    if (built.Find(k).empty() || rng() % 2 == 0) {
      const uint32_t at = static_cast<uint32_t>(rng() % (built.Find(k).size() + 1));
      const RowId fresh(static_cast<uint32_t>(3000 + step));
      built.InsertAt(Value(k), fresh, at);
      added.InsertAt(Value(k), fresh, at);
    } else {
      const RowId victim = built.Find(k)[rng() % built.Find(k).size()];
      EXPECT_EQ(built.Remove(Value(k), victim), added.Remove(Value(k), victim));
    }
  }
  EXPECT_EQ(Dump(built), Dump(added));
  EXPECT_EQ(built.num_keys(), added.num_keys());
  // The copy taken before the writes still answers as the build did.
  HashIndex fresh(Type::kInt64, /*unique=*/false);
  ASSERT_EQ(fresh.Build(keys, rows), std::nullopt);
  EXPECT_EQ(Dump(before), Dump(fresh));
  // Made sparse by a far key: every list moves into the map.
  built.Add(Value(int64_t{1} << 50), RowId(99999));
  added.Add(Value(int64_t{1} << 50), RowId(99999));
  EXPECT_FALSE(built.dense());
  EXPECT_EQ(Dump(built), Dump(added));
}

TEST(HashIndexTest, RowsAscendingTracksSlotOrder) {
  for (int64_t far : {int64_t{0}, int64_t{1} << 40}) {  // dense, then hashed
    HashIndex idx(Type::kInt64, /*unique=*/false);
    idx.Add(Value(far + 1), RowId(1));
    idx.Add(Value(far + 2), RowId(0));  // another key: still ascending per key
    idx.Add(Value(far + 1), RowId(4));
    EXPECT_TRUE(idx.rows_ascending());
    idx.InsertAt(Value(far + 1), RowId(2), 1);  // 1, 2, 4
    EXPECT_TRUE(idx.rows_ascending());
    idx.InsertAt(Value(far + 1), RowId(3), 0);  // 3, 1, 2, 4
    EXPECT_FALSE(idx.rows_ascending());
    idx.Clear();
    EXPECT_TRUE(idx.rows_ascending());
    idx.Add(Value(far + 1), RowId(5));
    idx.Add(Value(far + 1), RowId(3));
    EXPECT_FALSE(idx.rows_ascending());
    std::vector<int64_t> keys = {far, far, far + 1};
    ASSERT_EQ(idx.Build(keys, std::vector<uint32_t>{0, 1, 2}), std::nullopt);
    EXPECT_TRUE(idx.rows_ascending());
    ASSERT_EQ(idx.Build(keys, std::vector<uint32_t>{1, 0, 2}), std::nullopt);
    EXPECT_FALSE(idx.rows_ascending());
  }
}

TEST(HashIndexTest, BuildReportsTheFirstDuplicateOfAUniqueIndex) {
  std::vector<int64_t> dense = {5, 6, 7, 6, 5};
  std::vector<uint32_t> rows = {0, 1, 2, 3, 4};
  HashIndex idx(Type::kInt64, /*unique=*/true);
  EXPECT_EQ(idx.Build(dense, rows), RowId(3));
  std::vector<int64_t> far = {int64_t{1} << 40, -1, int64_t{1} << 40};
  EXPECT_EQ(idx.Build(far, std::vector<uint32_t>{0, 1, 2}), RowId(2));
  EXPECT_EQ(idx.Build(far, std::vector<uint32_t>{2, 1}), std::nullopt);
  EXPECT_THAT(idx.Find(int64_t{1} << 40), ElementsAre(RowId(2)));
  std::vector<std::string> names = {"a", "b", "a"};
  StringStore name_cells = Store(names);
  HashIndex by_name(Type::kString, /*unique=*/true);
  EXPECT_EQ(by_name.Build(name_cells, std::vector<uint32_t>{2, 1, 0}), RowId(0));
  // Nothing to index: an empty index, dense again.
  EXPECT_EQ(idx.Build(dense, {}), std::nullopt);
  EXPECT_EQ(idx.num_keys(), 0u);
}

}  // namespace
}  // namespace kin
