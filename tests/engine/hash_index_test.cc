// HashIndex: dense and hashed unique int64 keys, secondary lists, strings.

#include "engine/hash_index.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin {
namespace {

using ::testing::ElementsAre;
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
  HashIndex idx(Type::kString, /*unique=*/true);
  idx.Add(Value("alice@example.com"), RowId(0));
  EXPECT_THAT(idx.Find(absl::string_view("alice@example.com")), ElementsAre(RowId(0)));
  EXPECT_THAT(idx.Find(absl::string_view("bob")), IsEmpty());
  EXPECT_THAT(idx.Find(int64_t{1}), IsEmpty());  // another key type never matches
}

}  // namespace
}  // namespace kin
