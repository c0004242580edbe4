// Composite ordered indexes through snapshots (format 4): the definitions
// are saved per table and the indexes rebuilt on load, equal to the saved
// ones and used by the planner; format 3 files (no definitions) still load;
// forged definitions are DataLoss.

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/query.h"
#include "persist/envelope.h"
#include "persist/snapshot.h"
#include "query/internal/query_access.h"
#include "relations/relation_catalog.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::Reseal;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void Fill(Engine& engine) {
  ASSERT_OK(engine.CreateTable("players", Schema()
                                              .Int64("id", PrimaryKey())
                                              .Int64("guild", Nullable())
                                              .Double("score", Nullable())
                                              .String("name", Nullable())));
  for (int i = 1; i <= 300; ++i) {
    ASSERT_OK(engine
                  .Insert("players", {{"guild", i % 13 == 0 ? Value() : Value(int64_t{i % 10})},
                                      {"score", i % 29 == 0 ? std::nan("") : i * 0.5},
                                      {"name", absl::StrCat("n", i % 7)}})
                  .status());
  }
  for (int i = 5; i <= 300; i += 11) {
    ASSERT_OK(engine.Delete(engine.FindOrFail("players", Value(int64_t{i})).value()));
  }
}

std::string Encode(const Engine& engine) {
  RelationCatalog relations;
  absl::StatusOr<std::string> bytes = EncodeSnapshot(engine, relations);
  EXPECT_OK(bytes.status());
  return bytes.ok() ? *bytes : "";
}

TEST(CompositeSnapshotTest, RoundTripRebuildsAndUsesTheIndex) {
  Engine engine;
  Fill(engine);
  const std::vector<absl::string_view> guild_score = {"guild", "score"};
  const std::vector<absl::string_view> name_guild_score = {"name", "guild", "score"};
  ASSERT_OK(engine.CreateIndex("players", guild_score, IndexKind::kOrdered));
  ASSERT_OK(engine.CreateIndex("players", name_guild_score, IndexKind::kOrdered));
  ASSERT_OK(engine.Insert("players", {{"guild", 3}, {"score", 1.0}}).status());  // reuses a slot
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(Encode(engine)));
  EXPECT_EQ(loaded.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(loaded.engine.DebugString(), engine.DebugString());
  EXPECT_THAT(loaded.engine.DebugString(), HasSubstr("composite index (name, guild, score): "));
  EXPECT_OK(loaded.engine.CheckConsistency());
  EXPECT_EQ(loaded.engine.FindTable("players")->schema(), engine.FindTable("players")->schema());
  Query q = internal::QueryAccess::Make(loaded.engine, "players", nullptr);
  q.Where("guild", 3).OrderBy("score", kDesc).Limit(4);
  EXPECT_THAT(*q.Explain(),
              StartsWith("composite walk players(guild, score) guild = 3, score desc"));
  Query original = internal::QueryAccess::Make(engine, "players", nullptr);
  original.Where("guild", 3).OrderBy("score", kDesc).Limit(4);
  std::vector<int64_t> got, want;
  ASSERT_OK_AND_ASSIGN(ResultSet got_rows, q.Get());
  ASSERT_OK_AND_ASSIGN(ResultSet want_rows, original.Get());
  for (const ResultRow& r : got_rows) got.push_back(r.Get("id")->AsInt64());
  for (const ResultRow& r : want_rows) want.push_back(r.Get("id")->AsInt64());
  EXPECT_EQ(got, want);
  EXPECT_EQ(got.size(), 4u);
  // Still maintained after the load.
  ASSERT_OK(loaded.engine.Insert("players", {{"guild", 3}, {"score", 1e9}}).status());
  EXPECT_OK(loaded.engine.CheckConsistency());
}

// The bytes of a one-table snapshot without foreign keys, relations or
// metadata end with the table's composite definitions, then three zero
// counts (the metadata's from format 6), then the trailer.
constexpr size_t kTail = kin::internal::kTrailerSize + 12;

TEST(CompositeSnapshotTest, Format3StillLoads) {
  Engine engine;
  Fill(engine);
  std::string bytes = Encode(engine);
  // Format 3 is format 4 without the composite count (zero here), and 4 is
  // 6 without the metadata count (zero too).
  const size_t count = bytes.size() - kTail - 4;
  ASSERT_EQ(bytes.substr(count, 16), std::string(16, '\0')) << "layout changed";
  bytes.erase(count + 12, 4);
  bytes.erase(count, 4);
  bytes[8] = 3;
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(Reseal(bytes)));
  EXPECT_EQ(loaded.format_version, 3u);
  EXPECT_EQ(loaded.engine.DebugString(), engine.DebugString());
}

TEST(CompositeSnapshotTest, ForgedDefinitionsAreDataLoss) {
  Engine engine;
  Fill(engine);
  const std::vector<absl::string_view> guild_score = {"guild", "score"};
  ASSERT_OK(engine.CreateIndex("players", guild_score, IndexKind::kOrdered));
  const std::string bytes = Encode(engine);
  // count:u32 = 1, width:u32 = 2, columns 1 and 2.
  const size_t width = bytes.size() - kTail - 12;
  ASSERT_EQ(bytes.substr(width - 4, 16),
            std::string("\x01\0\0\0\x02\0\0\0\x01\0\0\0\x02\0\0\0", 16))
      << "layout changed";
  auto forge = [&](size_t at, char byte) {
    std::string f = bytes;
    f[at] = byte;
    return DecodeSnapshot(Reseal(f)).status();
  };
  EXPECT_THAT(forge(width, 5),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("composite index of 5 columns")));
  EXPECT_THAT(forge(width + 8, 1), StatusIs(absl::StatusCode::kDataLoss,
                                            HasSubstr("composite index repeats column 'guild'")));
  EXPECT_THAT(forge(width + 8, 9), StatusIs(absl::StatusCode::kDataLoss,
                                            HasSubstr("composite index names column number 9")));
  EXPECT_THAT(forge(width - 4, 7), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace kin
