// A million rows: inserted in one call, counted, found by key and by
// secondary index, then partly deleted. Guards against accidental
// quadratic behaviour in the write path and the indexes.

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOkAndHolds;

constexpr int64_t kRows = 1'000'000;
constexpr int64_t kGroups = 1'000;

TEST(LargeTableTest, MillionRows) {
  Engine engine;
  ASSERT_OK(engine.CreateTable("events",
                               Schema().Int64("id", PrimaryKey()).Int64("group_id", Indexed())));
  // One Attrs reused for every row: only its value changes.
  Attrs attrs = {{"group_id", 0}};
  for (int64_t i = 0; i < kRows; ++i) {
    attrs[0].second = Value(i % kGroups);
    absl::StatusOr<Row> row = engine.Insert("events", attrs);
    if (!row.ok()) FAIL() << "row " << i << ": " << row.status();
  }

  const Table& events = *engine.FindTable("events");
  EXPECT_EQ(events.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(events.next_auto_increment(), kRows + 1);
  ASSERT_OK_AND_ASSIGN(Row last, events.FindOrFail(kRows));
  EXPECT_THAT(last.GetInt64("group_id"), IsOkAndHolds((kRows - 1) % kGroups));

  ColumnId group = *events.FindColumn("group_id");
  const HashIndex& index = *events.index(group);
  EXPECT_EQ(index.num_keys(), static_cast<size_t>(kGroups));
  std::span<const RowId> g7 = events.Children(group, int64_t{7});
  ASSERT_EQ(g7.size(), static_cast<size_t>(kRows / kGroups));
  // Insertion order: rows 7, 1007, 2007, ... in slots 7, 1007, 2007, ...
  for (size_t k = 0; k < g7.size(); ++k) {
    ASSERT_EQ(g7[k], RowId(static_cast<uint32_t>(7 + k * kGroups)));
  }

  // A typed scan over the whole column.
  int64_t total = 0;
  for (int64_t g : events.Int64Column(group)) total += g;
  EXPECT_EQ(total, (kRows / kGroups) * (kGroups - 1) * kGroups / 2);

  // Delete every row of group 7 and check the index shrank accordingly.
  std::vector<RowId> doomed(g7.begin(), g7.end());
  for (RowId id : doomed) ASSERT_OK(engine.Delete(events.GetRow(id)));
  EXPECT_EQ(events.size(), static_cast<size_t>(kRows - kRows / kGroups));
  EXPECT_TRUE(events.Children(group, int64_t{7}).empty());
  EXPECT_EQ(index.num_keys(), static_cast<size_t>(kGroups - 1));
  EXPECT_EQ(events.Children(group, int64_t{8}).size(), static_cast<size_t>(kRows / kGroups));
}

TEST(LargeTableTest, InsertManyTwentyThousandRowsAndRollback) {
  Engine engine;
  ASSERT_OK(engine.CreateTable("events",
                               Schema().Int64("id", PrimaryKey()).Int64("group_id", Indexed())));
  std::vector<Attrs> batch;
  batch.reserve(20'000);
  for (int64_t i = 0; i < 20'000; ++i) batch.push_back({{"group_id", i % 100}});
  std::string empty = engine.DebugString();
  ASSERT_OK(engine.Begin());
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, engine.InsertMany("events", batch));
  EXPECT_EQ(rows.size(), 20'000u);
  EXPECT_EQ(engine.FindTable("events")->size(), 20'000u);
  ASSERT_OK(engine.Rollback());
  EXPECT_EQ(engine.DebugString(), empty);
  ASSERT_OK_AND_ASSIGN(rows, engine.InsertMany("events", batch));
  EXPECT_THAT(rows.back().GetInt64("id"), IsOkAndHolds(20'000));
  EXPECT_OK(engine.CheckConsistency());
}

}  // namespace
}  // namespace kin
