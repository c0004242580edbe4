// The world demo on a tiny world: the run is deterministic, its checks pass,
// and the snapshot comparison it relies on does notice differences.

#include "examples/world.h"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/table.h"
#include "examples/world_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/testing/status_matchers.h"

namespace kin::examples {
namespace {

using ::kin::test::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// About 5 guilds, 500 players and 5,000 items: a second or two in fastbuild.
WorldOptions Tiny(uint64_t seed) {
  return {.seed = seed,
          .scale = 0.005,
          .ticks = 10,  // a guild disbands on tick 10
          .fsync = false,
          .progress_every = 5,
          .cross_check_every = 1,
          .check_consistency = true};
}

std::string FailedChecks(const WorldReport& report) {
  std::string out;
  for (const Check& c : report.checks) {
    if (!c.passed) out += c.name + ": " + c.detail + "\n";
  }
  return out;
}

TEST(WorldTest, SameSeedSameCountsAndEveryCheckPasses) {
  std::ostringstream progress1, progress2;
  ASSERT_OK_AND_ASSIGN(WorldReport first, RunWorld(Tiny(7), progress1));
  ASSERT_OK_AND_ASSIGN(WorldReport second, RunWorld(Tiny(7), progress2));
  EXPECT_TRUE(first.ok()) << FailedChecks(first);
  EXPECT_TRUE(second.ok()) << FailedChecks(second);
  EXPECT_EQ(first.counts, second.counts);
  EXPECT_EQ(first.counts.world_digest, second.counts.world_digest);
  // The same report, once the machine-dependent parts are set aside.
  EXPECT_EQ(first.checks.size(), second.checks.size());
  for (size_t i = 0; i < first.checks.size() && i < second.checks.size(); ++i) {
    EXPECT_EQ(first.checks[i].name, second.checks[i].name);
  }
}

TEST(WorldTest, TheRunDoesWhatTheDemoSays) {
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(Tiny(7), progress));
  ASSERT_TRUE(report.ok()) << FailedChecks(report);
  const WorldCounts& c = report.counts;
  EXPECT_EQ(c.seeded_guilds, 5);
  EXPECT_EQ(c.seeded_players, 500);
  EXPECT_EQ(c.seeded_items, 5'000);
  EXPECT_EQ(c.seeded_events, 1'000);
  EXPECT_EQ(c.guilds, 5);  // one disbanded, one founded
  EXPECT_EQ(c.guilds_disbanded, 1);
  EXPECT_EQ(c.purges, 10);
  EXPECT_GT(c.joins, 0);
  EXPECT_GT(c.leaves, 0);
  EXPECT_GT(c.trades, 0);
  // At least the one refused on purpose each tick, each rolled back.
  EXPECT_GE(c.failed_trades, 10);
  EXPECT_EQ(c.players_registered, 10);
  EXPECT_EQ(c.players_quit, 10);
  EXPECT_EQ(c.players, 500);
  EXPECT_GT(c.items_looted, 0);
  EXPECT_GT(c.events_logged, 0);
  EXPECT_NE(c.leaderboard_checksum, 0u);
  EXPECT_NE(c.world_digest, 0u);
  // Quests through the pivot and profiles (HasOne): seeded, then moved.
  EXPECT_EQ(c.seeded_profiles, 500 / 4);
  EXPECT_GT(c.seeded_quest_links, 0);
  EXPECT_GT(c.quest_links, 0);
  EXPECT_GT(c.quests_taken, 0);
  EXPECT_GT(c.quest_updates, 0);
  EXPECT_EQ(c.profiles_created, 5);  // every other newcomer
  EXPECT_NE(c.quest_board_checksum, 0u);
  // One timing per tick for the loop and for every operation run each tick.
  EXPECT_EQ(report.timings.tick_ms.size(), 10u);
  EXPECT_GT(report.timings.snapshot_bytes, 0u);
  EXPECT_FALSE(report.snapshot_kept);
  // Progress every 5 ticks, and the seeding and saving phases.
  EXPECT_THAT(progress.str(), HasSubstr("tick 5/10"));
  EXPECT_THAT(progress.str(), HasSubstr("tick 10/10"));
  EXPECT_THAT(progress.str(), Not(HasSubstr("tick 3/10")));
}

TEST(WorldTest, ChecksCoverTheSnapshotAndTheRollbacks) {
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(Tiny(3), progress));
  std::vector<std::string> names;
  for (const Check& c : report.checks) {
    EXPECT_TRUE(c.passed) << c.name << ": " << c.detail;
    names.push_back(c.name);
  }
  auto has = [&](const std::string& part) {
    for (const std::string& n : names) {
      if (n.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("the loaded world equals the live one"));
  EXPECT_TRUE(has("the loaded world answers the relation queries as the live one"));
  EXPECT_TRUE(has("every refused trade was rolled back"));
  EXPECT_TRUE(has("queries agree with typed spans"));
  EXPECT_TRUE(has("gold is conserved"));
  EXPECT_TRUE(has("CheckConsistency"));
  EXPECT_TRUE(has("(ManyToMany pivot) agree with a walk of the links"));
  EXPECT_TRUE(has("profile (HasOne) agrees with a walk of the profiles"));
}

TEST(WorldTest, DifferentSeedDifferentWorld) {
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport a, RunWorld(Tiny(7), progress));
  ASSERT_OK_AND_ASSIGN(WorldReport b, RunWorld(Tiny(8), progress));
  EXPECT_NE(a.counts, b.counts);
  EXPECT_NE(a.counts.world_digest, b.counts.world_digest);
  EXPECT_NE(a.counts.leaderboard_checksum, b.counts.leaderboard_checksum);
}

TEST(WorldTest, SaveKeepsTheSnapshotWhichLoadsBack) {
  const std::string path = ::testing::TempDir() + "/world_test.kin";
  WorldOptions options = Tiny(5);
  options.ticks = 2;
  options.save_path = path;
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(options, progress));
  ASSERT_TRUE(report.ok()) << FailedChecks(report);
  EXPECT_TRUE(report.snapshot_kept);
  EXPECT_EQ(report.snapshot_path, path);
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshot(path));
  const WorldCounts& c = report.counts;
  EXPECT_EQ(static_cast<int64_t>(loaded.FindTable("items")->size()), c.items);
  EXPECT_EQ(static_cast<int64_t>(loaded.FindTable("players")->size()), c.players);
  // The fingerprint of the file's world is the run's.
  EXPECT_EQ(WorldDigest(DigestTables(loaded), DigestDeclarations(loaded)), c.world_digest);
}

TEST(WorldTest, ADataDirectoryResumesAfterTheLastCommittedTick) {
  const std::string dir = ::testing::TempDir() + "/world_data";
  std::filesystem::remove_all(dir);
  WorldOptions options = Tiny(3);
  options.ticks = 3;
  options.data_dir = dir;
  std::ostringstream first;
  ASSERT_OK_AND_ASSIGN(WorldReport a, RunWorld(options, first));
  ASSERT_TRUE(a.ok()) << FailedChecks(a);
  EXPECT_THAT(first.str(), HasSubstr("committed tick 1\n"));
  EXPECT_THAT(first.str(), HasSubstr("committed tick 3\n"));
  EXPECT_THAT(first.str(), Not(HasSubstr("resumed")));
  EXPECT_EQ(a.counts.resumed_at_tick, 0);
  EXPECT_EQ(a.counts.last_committed_tick, 3);

  options.ticks = 2;
  std::ostringstream second;
  ASSERT_OK_AND_ASSIGN(WorldReport b, RunWorld(options, second));
  ASSERT_TRUE(b.ok()) << FailedChecks(b);
  EXPECT_THAT(second.str(), HasSubstr("resumed at tick 3\n"));
  EXPECT_THAT(second.str(), Not(HasSubstr("seeding")));
  EXPECT_THAT(second.str(), HasSubstr("committed tick 5\n"));
  EXPECT_EQ(b.counts.resumed_at_tick, 3);
  EXPECT_EQ(b.counts.last_committed_tick, 5);
  // The world went on from where the first run left it: the same players,
  // less those who quit, plus those who registered.
  EXPECT_EQ(b.counts.players,
            a.counts.players - b.counts.players_quit + b.counts.players_registered);

  // What the directory holds is what the second run ended with.
  ASSERT_OK_AND_ASSIGN(Database reopened, Database::Open(dir));
  EXPECT_EQ(static_cast<int64_t>(reopened.FindTable("players")->size()), b.counts.players);
  EXPECT_EQ(*(*reopened.FindOrFail("progress", 1)).GetInt64("tick"), 5);
}

TEST(WorldTest, EverySyncPolicyRunsTheSameWorld) {
  std::vector<WorldCounts> counts;
  for (SyncPolicy sync : {SyncPolicy::kEveryCommit, SyncPolicy::kGrouped, SyncPolicy::kNone}) {
    const std::string dir =
        ::testing::TempDir() + "/world_sync_" + std::string(SyncPolicyName(sync));
    std::filesystem::remove_all(dir);
    WorldOptions options = Tiny(4);
    options.ticks = 3;
    options.data_dir = dir;
    options.sync = sync;
    std::ostringstream progress;
    ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(options, progress));
    ASSERT_TRUE(report.ok()) << FailedChecks(report);
    EXPECT_THAT(progress.str(), HasSubstr("committed tick 3\n"));
    EXPECT_EQ(report.timings.commit_ms.size(), 3u);
    EXPECT_THAT(FormatReport(report),
                HasSubstr(absl::StrCat("commits (journal, --sync=", SyncPolicyName(sync), ")")));
    ASSERT_TRUE(report.journal.has_value());
    EXPECT_GT(report.journal->journal_bytes, 0u);
    EXPECT_EQ(report.journal->auto_checkpoints, 0u);  // a tiny world's journal stays short
    EXPECT_THAT(FormatReport(report), HasSubstr("then a journal of"));
    counts.push_back(report.counts);
    std::filesystem::remove_all(dir);
  }
  // When the journal is synced changes nothing the world does.
  EXPECT_EQ(counts[0], counts[1]);
  EXPECT_EQ(counts[0], counts[2]);
}

TEST(WorldTest, ZeroTicksStillSavesAndChecks) {
  WorldOptions options = Tiny(1);
  options.ticks = 0;
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(options, progress));
  EXPECT_TRUE(report.ok()) << FailedChecks(report);
  EXPECT_EQ(report.counts.players, report.counts.seeded_players);
  EXPECT_THAT(report.timings.tick_ms, IsEmpty());
}

TEST(WorldTest, BadOptionsAreErrors) {
  std::ostringstream progress;
  WorldOptions options;
  options.scale = 0;
  EXPECT_THAT(RunWorld(options, progress),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scale")));
  options.scale = 1e6;
  EXPECT_THAT(RunWorld(options, progress),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scale")));
  options.scale = 0.01;
  options.ticks = -1;
  EXPECT_THAT(RunWorld(options, progress),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ticks")));
  options.ticks = 1;
  options.save_path = ::testing::TempDir() + "/no/such/dir/world.kin";
  EXPECT_THAT(RunWorld(options, progress), StatusIs(absl::StatusCode::kNotFound));
}

TEST(WorldTest, ReportNamesTheNumbersAndTheChecks) {
  std::ostringstream progress;
  ASSERT_OK_AND_ASSIGN(WorldReport report, RunWorld(Tiny(7), progress));
  const std::string text = FormatReport(report);
  EXPECT_THAT(text, HasSubstr("kin world: seed 7, scale 0.005, 10 ticks"));
  EXPECT_THAT(text, HasSubstr("median"));
  EXPECT_THAT(text, HasSubstr("worst"));
  EXPECT_THAT(text, HasSubstr("Preload(players): GroupLimit 3 by score"));
  EXPECT_THAT(text, HasSubstr("MB/s"));
  EXPECT_THAT(text, HasSubstr("Database::MemoryBytes"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("Checks: ", report.checks.size(), " of ",
                                           report.checks.size(), " passed")));
  EXPECT_THAT(text, Not(HasSubstr("FAIL")));
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1'000), "1,000");
  EXPECT_EQ(FormatCount(-1'234'567), "-1,234,567");
}

TEST(WorldTest, AFailedCheckFailsTheReport) {
  WorldReport report;
  report.checks.push_back({.name = "first", .passed = true});
  EXPECT_TRUE(report.ok());
  report.checks.push_back(
      {.name = "the loaded world equals the live one", .passed = false, .detail = "it does not"});
  EXPECT_FALSE(report.ok());
  const std::string text = FormatReport(report);
  EXPECT_THAT(text, HasSubstr("Checks: 1 of 2 passed"));
  EXPECT_THAT(text, HasSubstr("FAIL  the loaded world equals the live one\n        it does not"));
}

// The snapshot check is only worth something if it can fail: change one
// thing in a copy and the comparison must name it.
class CompareWorldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(live_.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(live_.CreateTable(
        "players", Schema().Int64("id", PrimaryKey()).Int64("guild_id").Int64("score")));
    ASSERT_OK(live_.HasMany("guilds", "players"));
    ASSERT_OK(live_.Insert("guilds", {{"name", "a"}}).status());
    ASSERT_OK(live_.Insert("guilds", {{"name", "b"}}).status());
    for (int i = 0; i < 6; ++i) {
      ASSERT_OK(live_.Insert("players", {{"guild_id", 1 + i % 2}, {"score", i}}).status());
    }
  }

  Database Copy() {
    absl::StatusOr<std::string> bytes = SaveSnapshotToString(live_);
    EXPECT_OK(bytes.status());
    absl::StatusOr<Database> copy = LoadSnapshotFromString(*bytes);
    EXPECT_OK(copy.status());
    return std::move(copy).value();
  }

  Database live_;
};

TEST_F(CompareWorldsTest, ACopyIsEqual) {
  Database copy = Copy();
  EXPECT_THAT(CompareWorlds(live_, copy), IsEmpty());
  EXPECT_EQ(WorldDigest(DigestTables(live_), DigestDeclarations(live_)),
            WorldDigest(DigestTables(copy), DigestDeclarations(copy)));
}

TEST_F(CompareWorldsTest, NamesAChangedCell) {
  Database copy = Copy();
  ASSERT_OK(copy.Update(*copy.FindTable("players")->Find(3), {{"score", 99}}).status());
  EXPECT_THAT(CompareWorlds(live_, copy), ElementsAre("table 'players': column 'score' differs"));
}

TEST_F(CompareWorldsTest, NamesAChangedChildOrder) {
  // Moving player 1 to guild 2 and back keeps every cell but puts it last
  // among guild 1's children.
  Database copy = Copy();
  const Row p1 = *copy.FindTable("players")->Find(1);
  ASSERT_OK(copy.Update(p1, {{"guild_id", 2}}).status());
  ASSERT_OK(copy.Update(p1, {{"guild_id", 1}}).status());
  EXPECT_THAT(CompareWorlds(live_, copy),
              ElementsAre("table 'players': an index's key -> rows order differs"));
}

TEST_F(CompareWorldsTest, NamesDeletedRowsAndSlotChanges) {
  Database copy = Copy();
  ASSERT_OK(copy.Delete(*copy.FindTable("players")->Find(6)));
  const std::vector<std::string> diffs = CompareWorlds(live_, copy);
  EXPECT_THAT(diffs, Contains("table 'players': 6 rows vs 5"));
  EXPECT_THAT(diffs, Contains("table 'players': slots, generations or free lists differ"));
}

TEST_F(CompareWorldsTest, NamesAChangedRelation) {
  Database copy = Copy();
  ASSERT_OK(copy.HasMany("guilds", "players", {.name = "members", .create_inverse = false}));
  EXPECT_THAT(CompareWorlds(live_, copy), Contains(HasSubstr("relations vs")));
}

}  // namespace
}  // namespace kin::examples
