// The radix sort behind bulk index builds (engine/radix_sort.h): it agrees
// with a stable comparison sort, and an ordered or composite index bulk
// built by InsertBatch (radix sorted) walks in the same order as one kept
// row by row by Insert (each entry placed by the index's comparator), for
// negative and tied int64 keys, doubles with -0, infinities and NaN, bools
// and NULLs. The btree would accept misordered entries (a wrong insert
// hint falls back to a search), so the builds assert, in debug builds such
// as these tests', that the radix order is the comparator's: a wrong
// encoding fails here.

#include "engine/radix_sort.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/table.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

struct Item {
  uint64_t hi;
  uint64_t lo;
  uint32_t tag;  // input position
};

TEST(RadixSortTest, AgreesWithAStableSortOnTwoWords) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{5000}, size_t{70000}}) {
    SCOPED_TRACE(n);
    std::mt19937_64 rng(n + 5);
    std::vector<Item> items(n);
    for (size_t i = 0; i < n; ++i) {
      // Few distinct high words, wide low words with ties, sign bits set.
      items[i] = {rng() % 5 << 61, rng() % 1000 * 0x9e3779b97f4a7c15ULL, static_cast<uint32_t>(i)};
    }
    std::vector<Item> want = items;
    std::stable_sort(want.begin(), want.end(), [](const Item& a, const Item& b) {
      return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
    });
    std::vector<Item> scratch;
    internal::RadixSort(
        &items, 2, [](const Item& e, size_t w) { return w == 0 ? e.lo : e.hi; }, &scratch);
    ASSERT_EQ(items.size(), want.size());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(items[i].tag, want[i].tag) << "position " << i;
    }
  }
}

TEST(RadixSortTest, AllEqualKeysKeepTheirOrder) {
  std::vector<Item> items(4000);
  for (uint32_t i = 0; i < items.size(); ++i) items[i] = {7, 7, i};
  std::vector<Item> scratch;
  internal::RadixSort(
      &items, 2, [](const Item& e, size_t w) { return w == 0 ? e.lo : e.hi; }, &scratch);
  for (uint32_t i = 0; i < items.size(); ++i) ASSERT_EQ(items[i].tag, i);
}

// Slots in the order an ascending walk of `column`'s ordered index meets
// them (NULLs first).
std::vector<uint32_t> OrderedWalk(const Table& t, absl::string_view column) {
  std::vector<uint32_t> out;
  t.ordered_index(*t.FindColumn(column))->Walk(OrderedRange(), false, true, [&](RowId r, bool) {
    out.push_back(r.value);
    return true;
  });
  return out;
}

std::vector<uint32_t> CompositeWalk(const Table& t) {
  std::vector<uint32_t> out;
  t.composite_indexes()[0]->Walk({}, OrderedRange(), false, [&](RowId r, bool) {
    out.push_back(r.value);
    return true;
  });
  return out;
}

TEST(RadixSortTest, BulkBuiltIndexesWalkAsIndexesKeptRowByRow) {
  constexpr int kRows = 6000;  // above kRadixMinEntries: the bulk build radix sorts
  std::mt19937_64 rng(17);
  const double specials[] = {-0.0,
                             0.0,
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::nan(""),
                             -std::nan(""),
                             std::numeric_limits<double>::denorm_min(),
                             -1e300};
  std::vector<int64_t> ids(kRows), ints(kRows), bools(kRows);
  std::vector<double> doubles(kRows);
  std::vector<bool> int_null(kRows), double_null(kRows);
  for (int i = 0; i < kRows; ++i) {
    ids[i] = i + 1;
    ints[i] = static_cast<int64_t>(rng() % 200) - 100;  // negatives and ties
    if (rng() % 50 == 0)
      ints[i] = rng() % 2 == 0 ? std::numeric_limits<int64_t>::min()
                               : std::numeric_limits<int64_t>::max();
    doubles[i] = rng() % 4 == 0 ? specials[rng() % 8] : static_cast<double>(rng() % 100) / 8 - 6;
    bools[i] = static_cast<int64_t>(rng() % 2);
    int_null[i] = rng() % 10 == 0;
    double_null[i] = rng() % 10 == 0;
  }
  auto schema = [] {
    return Schema()
        .Int64("id", PrimaryKey())
        .Int64("i", Nullable(), Ordered())
        .Double("d", Nullable(), Ordered())
        .Bool("b", Ordered());
  };
  Engine e;
  ASSERT_OK(e.CreateTable("bulk", schema()));
  ASSERT_OK(e.CreateTable("rows", schema()));
  ASSERT_OK(e.CreateIndex("bulk", std::vector<absl::string_view>{"i", "d"}, IndexKind::kOrdered));
  ASSERT_OK(e.CreateIndex("rows", std::vector<absl::string_view>{"i", "d"}, IndexKind::kOrdered));
  std::vector<bool> b(bools.begin(), bools.end());
  ASSERT_OK(e.InsertBatch("bulk", RowBatch()
                                      .Int64("id", ids)
                                      .Int64("i", ints)
                                      .Nulls("i", int_null)
                                      .Double("d", doubles)
                                      .Nulls("d", double_null)
                                      .Bool("b", b))
                .status());
  for (int i = 0; i < kRows; ++i) {
    ASSERT_OK(e.Insert("rows", {{"id", ids[i]},
                                {"i", int_null[i] ? Value() : Value(ints[i])},
                                {"d", double_null[i] ? Value() : Value(doubles[i])},
                                {"b", bools[i] != 0}})
                  .status());
  }
  const Table& bulk = *e.FindTable("bulk");
  const Table& rows = *e.FindTable("rows");
  for (const char* column : {"i", "d", "b"}) {
    SCOPED_TRACE(column);
    EXPECT_EQ(OrderedWalk(bulk, column), OrderedWalk(rows, column));
  }
  EXPECT_EQ(CompositeWalk(bulk), CompositeWalk(rows));
  EXPECT_OK(e.CheckConsistency());
}

}  // namespace
}  // namespace kin
