// A database kept in a data directory (kin/data_dir.h): Database::Open,
// the journal, checkpoints, sync policies, and crashes at every step,
// simulated by the in-memory Env (a crash keeps only what was synced).

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "persist/coding.h"
#include "persist/journal.h"
#include "tests/persist/memory_env.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/value_text.h"

namespace kin::test {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kDir[] = "/data";

// Every table's rows as text, by primary key: what a reopened database
// must hold.
std::map<std::string, std::vector<std::string>> Contents(Database& db) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& table : db.TableNames()) {
    std::vector<std::string>& rows = out[table];
    absl::StatusOr<ResultSet> result = db.Query(table).OrderBy("id").Get();
    EXPECT_OK(result.status());
    for (const ResultRow& r : *result) {
      std::string line;
      for (const char* c : {"id", "name", "score", "ratio", "alive", "player_id"}) {
        absl::StatusOr<Value> v = r.Get(c);
        if (v.ok()) absl::StrAppend(&line, c, "=", ValueText(*v), " ");
      }
      rows.push_back(line);
    }
  }
  return out;
}

absl::Status DeclareSchema(Database& db) {
  KIN_RETURN_IF_ERROR(db.CreateTable("players", Schema()
                                                    .Int64("id", PrimaryKey())
                                                    .String("name", Nullable())
                                                    .Int64("score", Default(0))
                                                    .Double("ratio", Nullable())
                                                    .Bool("alive", Default(true))));
  KIN_RETURN_IF_ERROR(
      db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id", Nullable())));
  return db.HasMany("players", "items", {.on_delete = OnDelete::kCascade});
}

OpenOptions InMemory(MemoryEnv& env, SyncPolicy sync = SyncPolicy::kEveryCommit) {
  OpenOptions options;
  options.env = &env;
  options.sync = sync;
  return options;
}

TEST(DataDirTest, ANewDirectoryOpensEmptyAndKeepsCommits) {
  const std::string dir = MakeTempDir("data_dir") + "/world";
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir));
    EXPECT_THAT(db.TableNames(), IsEmpty());
    ASSERT_NE(db.recovery(), nullptr);
    EXPECT_EQ(db.recovery()->checkpoint, 0u);
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK(db.Insert("players", {{"name", "ann"}, {"score", 5}, {"ratio", 0.5}}).status());
    ASSERT_OK(db.Insert("players", {{"name", Value()}}).status());
    ASSERT_OK(db.Insert("items", {{"player_id", 1}}).status());
    kin::Transaction tx(db);
    ASSERT_OK(db.Insert("players", {{"name", "rolled back"}}).status());
    // tx rolls back when it goes out of scope: never journaled.
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir));
  EXPECT_EQ(db.recovery()->commits, 3u);
  EXPECT_EQ(db.recovery()->last_commit, 3u);
  EXPECT_THAT(db.recovery()->dropped, IsEmpty());
  EXPECT_THAT(Contents(db)["players"],
              ElementsAre("id=1 name=\"ann\" score=5 ratio=0.5 alive=true ",
                          "id=2 name=NULL score=0 ratio=NULL alive=true "));
  EXPECT_THAT(Contents(db)["items"], ElementsAre("id=1 player_id=1 "));
  // The relation came back with its action: the cascade still runs.
  ASSERT_OK_AND_ASSIGN(Row ann, db.FindOrFail("players", 1));
  ASSERT_OK(db.Delete(ann));
  EXPECT_THAT(Contents(db)["items"], IsEmpty());
}

TEST(DataDirTest, ReplayRestoresSlotsCountersAndCascades) {
  MemoryEnv env;
  std::string live_dump;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    for (int i = 0; i < 20; ++i) {
      ASSERT_OK(db.Insert("players", {{"name", absl::StrCat("p", i)}, {"score", i}}).status());
      ASSERT_OK(db.Insert("items", {{"player_id", i + 1}}).status());
    }
    for (int64_t id : {3, 7, 8}) ASSERT_OK(db.Delete(*db.FindOrFail("players", id)));
    ASSERT_OK(db.Insert("players", {{"name", "reuses a slot"}}).status());
    ASSERT_OK(db.Update(*db.FindOrFail("players", 2), {{"score", 99}, {"alive", false}}));
    live_dump = db.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  // Physical replay: the same slots, free list and auto-increment counter.
  EXPECT_EQ(db.DebugString(), live_dump);
  ASSERT_OK(db.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(Row next, db.Insert("players", {{"name", "next"}}));
  EXPECT_EQ(*next.GetInt64("id"), 22);
}

// Rows written more than once in one transaction: the record holds each
// write's own values (the journal builds them from the undo log), so
// replay passes through the same states and ends in the same slots.
TEST(DataDirTest, RowsWrittenManyTimesInOneTransactionReplayExactly) {
  MemoryEnv env;
  std::string live_dump;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK(db.Begin());
    ASSERT_OK_AND_ASSIGN(Row cat, db.Insert("players", {{"name", "cat"}, {"score", 1}}));
    ASSERT_OK(db.Update(cat, {{"score", 2}, {"ratio", 0.25}}));
    ASSERT_OK(db.Update(cat, {{"name", "kat"}, {"score", 3}}));
    ASSERT_OK_AND_ASSIGN(Row eve, db.Insert("players", {{"name", "eve"}, {"score", 10}}));
    ASSERT_OK(db.Insert("items", {{"player_id", 1}}).status());
    ASSERT_OK(db.Delete(cat));  // cascades to the item
    ASSERT_OK_AND_ASSIGN(Row dan, db.Insert("players", {{"name", "dan"}, {"score", 4}}));
    ASSERT_OK(db.Update(dan, {{"alive", false}}));
    RowBatch batch;
    batch.String("name", {"fay", "gus"}).Int64("score", {20, 21});
    ASSERT_OK(db.InsertBatch("players", std::move(batch)).status());
    ASSERT_OK(db.Update(*db.FindOrFail("players", 5), {{"score", 22}, {"name", "gil"}}));
    ASSERT_OK(db.Update(eve, {{"ratio", 1.5}}));
    ASSERT_OK(db.Commit());
    // A smaller commit after it, built in its buffers.
    ASSERT_OK(db.Update(dan, {{"score", 5}}));
    live_dump = db.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_EQ(db.recovery()->commits, 2u);
  EXPECT_EQ(db.DebugString(), live_dump);
  ASSERT_OK(db.CheckConsistency());
  EXPECT_THAT(Contents(db)["players"],
              ElementsAre("id=2 name=\"eve\" score=10 ratio=1.5 alive=true ",
                          "id=3 name=\"dan\" score=5 ratio=NULL alive=false ",
                          "id=4 name=\"fay\" score=20 ratio=NULL alive=true ",
                          "id=5 name=\"gil\" score=22 ratio=NULL alive=true "));
  EXPECT_THAT(Contents(db)["items"], IsEmpty());
}

TEST(DataDirTest, SchemaChangesWriteACheckpoint) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey())));
  EXPECT_THAT(env.FileNames(),
              ElementsAre("/data/journal-00000001-000000.log", "/data/snapshot-00000001.kin"));
  ASSERT_OK(db.CreateIndex("players", "id", IndexKind::kOrdered));
  ASSERT_OK(db.Insert("players", {}).status());
  EXPECT_THAT(env.FileNames(),
              ElementsAre("/data/journal-00000002-000000.log", "/data/snapshot-00000002.kin"));
  // A failed schema change writes nothing.
  EXPECT_THAT(db.CreateTable("players", Schema().Int64("id", PrimaryKey())),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(env.FileNames(), SizeIs(2));
}

TEST(DataDirTest, ASchemaChangeWhoseCheckpointFailedRefusesCommitsUntilOneSucceeds) {
  MemoryEnv env;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK(db.Insert("players", {{"name", "kept"}}).status());
    env.FailNth(FileOp::kCreate, 1, ENOSPC);
    EXPECT_THAT(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey())),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         HasSubstr("the schema changed but is not durable yet")));
    // The old checkpoint's snapshot has no guilds: a commit journaled
    // after it would not replay.
    EXPECT_THAT(db.Insert("guilds", {}).status(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("commits are refused until Checkpoint() succeeds")));
    EXPECT_THAT(db.Query("guilds").Count(), IsOkAndHolds(0));
    ASSERT_OK(db.Checkpoint());
    ASSERT_OK(db.Insert("guilds", {}).status());
    env.Crash();
  }
  env.Restart();
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_THAT(db.Query("guilds").Count(), IsOkAndHolds(1));
  EXPECT_THAT(db.Query("players").Count(), IsOkAndHolds(1));
}

TEST(DataDirTest, ASchemaChangeWhoseCheckpointOnlyKeptOldFilesTakesCommits) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  ASSERT_OK(DeclareSchema(db));
  // The checkpoint's first removal clears a leftover journal (none here);
  // the second is an old file, once the new checkpoint is in place.
  env.FailNth(FileOp::kRemove, 2, EIO);
  EXPECT_FALSE(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey())).ok());
  ASSERT_OK(db.Insert("guilds", {}).status());  // durable: not refused
  ASSERT_OK_AND_ASSIGN(Database reopened, Database::Open(kDir, InMemory(env)));
  EXPECT_THAT(reopened.Query("guilds").Count(), IsOkAndHolds(1));
}

TEST(DataDirTest, ACheckpointThatCannotTellWhetherItsSnapshotIsInPlaceRefusesCommits) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  ASSERT_OK(DeclareSchema(db));
  ASSERT_OK(db.Insert("players", {}).status());
  // The rename fails, then so does the look for the snapshot: it may be
  // there, as far as the checkpoint can tell.
  env.FailNth(FileOp::kRename, 1, EIO);
  env.FailNth(FileOp::kOpen, 1, EIO);
  EXPECT_FALSE(db.Checkpoint().ok());
  EXPECT_THAT(db.Insert("players", {}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("may not be durable")));
  ASSERT_OK(db.Checkpoint());
  ASSERT_OK(db.Insert("players", {}).status());
  EXPECT_THAT(db.Query("players").Count(), IsOkAndHolds(2));
}

TEST(DataDirTest, CheckpointStartsAFreshJournal) {
  MemoryEnv env;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK(db.Insert("players", {{"name", "a"}}).status());
    ASSERT_OK(db.Checkpoint());
    ASSERT_OK(db.Insert("players", {{"name", "b"}}).status());
    EXPECT_THAT(env.FileNames(),
                ElementsAre("/data/journal-00000004-000000.log", "/data/snapshot-00000004.kin"));
    ASSERT_OK(db.Begin());
    EXPECT_THAT(db.Checkpoint(),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("transaction is open")));
    ASSERT_OK(db.Rollback());
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_EQ(db.recovery()->checkpoint, 4u);
  EXPECT_EQ(db.recovery()->commits, 1u);      // only "b" came from the journal
  EXPECT_EQ(db.recovery()->last_commit, 2u);  // numbering goes on across checkpoints
  EXPECT_THAT(Contents(db)["players"], SizeIs(2));
  // Reopening adds a segment rather than appending to an old file.
  EXPECT_THAT(env.FileNames(),
              ElementsAre("/data/journal-00000004-000000.log", "/data/journal-00000004-000001.log",
                          "/data/snapshot-00000004.kin"));
}

// Options that checkpoint automatically once the journal reaches
// `min_bytes` and `percent` percent of the snapshot.
OpenOptions AutoCheckpoint(MemoryEnv& env, uint32_t percent, uint64_t min_bytes) {
  OpenOptions options = InMemory(env);
  options.auto_checkpoint_percent = percent;
  options.auto_checkpoint_min_bytes = min_bytes;
  return options;
}

uint64_t Threshold(const JournalInfo& info, uint32_t percent, uint64_t min_bytes) {
  return std::max(info.snapshot_bytes * percent / 100, min_bytes);
}

TEST(DataDirTest, AnAutomaticCheckpointKeepsTheJournalBounded) {
  MemoryEnv env;
  constexpr uint32_t kPercent = 50;
  constexpr uint64_t kMinBytes = 1024;
  int commits_after_last_checkpoint = 0;
  {
    ASSERT_OK_AND_ASSIGN(Database db,
                         Database::Open(kDir, AutoCheckpoint(env, kPercent, kMinBytes)));
    ASSERT_OK(DeclareSchema(db));
    // A snapshot big enough that half of it is more than the minimum.
    std::vector<std::string> names;
    for (int i = 0; i < 500; ++i) names.push_back(absl::StrCat("seeded player ", i));
    ASSERT_OK(db.InsertBatch("players", RowBatch().String("name", std::move(names))).status());
    ASSERT_OK(db.Checkpoint());
    ASSERT_OK_AND_ASSIGN(JournalInfo start, db.Journal());
    const uint64_t threshold = Threshold(start, kPercent, kMinBytes);
    ASSERT_GT(threshold, kMinBytes) << "the snapshot's share should decide";
    EXPECT_EQ(start.snapshot_bytes,
              env.Contents(absl::StrFormat("/data/snapshot-%08d.kin", start.checkpoint))->size());
    // The batch's record alone passed the threshold of the schema's small
    // snapshot: its commit wrote a checkpoint.
    EXPECT_EQ(start.auto_checkpoints, 1u);

    JournalInfo last = start;
    uint64_t record_bytes = 0;
    int checkpoints = 0;
    for (int i = 0; checkpoints < 3; ++i) {
      ASSERT_LT(i, 10000) << "no automatic checkpoint";
      ASSERT_OK(db.Insert("players", {{"name", absl::StrCat("player ", i)}}).status());
      ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
      EXPECT_OK(now.auto_checkpoint_error);
      EXPECT_EQ(now.last_commit, last.last_commit + 1);
      if (now.checkpoint == last.checkpoint) {
        // Below the threshold: no checkpoint yet.
        EXPECT_LT(now.journal_bytes, Threshold(last, kPercent, kMinBytes));
        record_bytes = now.journal_bytes - last.journal_bytes;
        ++commits_after_last_checkpoint;
      } else {
        // The commit that crossed it wrote one, and its journal is empty.
        EXPECT_EQ(now.checkpoint, last.checkpoint + 1);
        EXPECT_GE(last.journal_bytes + record_bytes, Threshold(last, kPercent, kMinBytes));
        EXPECT_EQ(now.auto_checkpoints, last.auto_checkpoints + 1);
        EXPECT_GT(now.snapshot_bytes, last.snapshot_bytes);  // it holds the new rows
        EXPECT_LT(now.journal_bytes, record_bytes);          // the header alone
        EXPECT_THAT(env.FileNames(), SizeIs(2));             // the old files are gone
        ++checkpoints;
        commits_after_last_checkpoint = 0;
      }
      last = now;
    }
    // Inside a transaction nothing is committed, so nothing checkpoints;
    // the commit that ends it does.
    ASSERT_OK(db.Begin());
    for (int i = 0; i < 2000; ++i) ASSERT_OK(db.Insert("players", {}).status());
    ASSERT_OK_AND_ASSIGN(JournalInfo open, db.Journal());
    EXPECT_EQ(open.checkpoint, last.checkpoint);
    ASSERT_OK(db.Commit());
    ASSERT_OK_AND_ASSIGN(JournalInfo committed, db.Journal());
    EXPECT_EQ(committed.checkpoint, last.checkpoint + 1);
    EXPECT_EQ(committed.last_commit, last.last_commit + 1);
    ASSERT_OK(db.Insert("players", {{"name", "after"}}).status());
    commits_after_last_checkpoint = 1;
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, kPercent, kMinBytes)));
  // Only the commits since the last checkpoint were replayed.
  EXPECT_EQ(db.recovery()->commits, static_cast<uint64_t>(commits_after_last_checkpoint));
  ASSERT_OK_AND_ASSIGN(ResultSet after, db.Query("players").Where("name", "after").Get());
  EXPECT_THAT(after, SizeIs(1));
  EXPECT_OK(db.CheckConsistency());
}

TEST(DataDirTest, AnAutomaticCheckpointRunsAfterTheCommitFeedDelivered) {
  MemoryEnv env;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 1, 512)));
    ASSERT_OK(DeclareSchema(db));
    // A listener that writes: each player inserted gets an item, in a
    // commit of the listener's own, delivered after the player's.
    std::vector<std::string> seen;
    uint64_t round_checkpoint = 0;
    db.OnCommit([&](const Commit& commit) {
      // Within one delivery round (the player's commit, then the item's),
      // no checkpoint: it waits until both were delivered.
      const uint64_t checkpoint = db.Journal()->checkpoint;
      for (const RowChange& change : commit.changes) {
        if (change.kind != RowChange::kInsert) continue;
        seen.push_back(std::string(change.table));
        if (change.table == "players") {
          round_checkpoint = checkpoint;
          ASSERT_OK(db.Insert("items", {{"player_id", change.key}}).status());
        } else {
          EXPECT_EQ(checkpoint, round_checkpoint);
        }
      }
    });
    ASSERT_OK_AND_ASSIGN(JournalInfo start, db.Journal());
    for (int i = 0; i < 40; ++i) ASSERT_OK(db.Insert("players", {}).status());
    ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
    EXPECT_GT(now.checkpoint, start.checkpoint);
    EXPECT_EQ(now.auto_checkpoints, now.checkpoint - start.checkpoint);
    EXPECT_EQ(now.last_commit, start.last_commit + 80);
    ASSERT_THAT(seen, SizeIs(80));
    for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i % 2 == 0 ? "players" : "items");
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_THAT(Contents(db)["players"], SizeIs(40));
  EXPECT_THAT(Contents(db)["items"], SizeIs(40));
}

TEST(DataDirTest, AutomaticCheckpointsCanBeTurnedOff) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 0, 64)));
  ASSERT_OK(DeclareSchema(db));
  ASSERT_OK_AND_ASSIGN(JournalInfo start, db.Journal());
  for (int i = 0; i < 100; ++i) ASSERT_OK(db.Insert("players", {}).status());
  ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
  EXPECT_EQ(now.checkpoint, start.checkpoint);
  EXPECT_GT(now.journal_bytes, 100 * 64u / 10);  // far past the minimum
  EXPECT_EQ(now.auto_checkpoints, 0u);
}

// Commits one-row inserts (records of about one size) until one more
// would bring the journal to `threshold`; returns the largest record.
uint64_t FillJournalBelow(Database& db, uint64_t threshold) {
  uint64_t record = 0;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t before = db.Journal()->journal_bytes;
    if (before + record >= threshold) return record;
    EXPECT_OK(db.Insert("players", {}).status());
    record = std::max(record, db.Journal()->journal_bytes - before);
  }
  ADD_FAILURE() << "the journal never reached " << threshold;
  return record;
}

// An automatic checkpoint that fails at the n-th call of one file
// operation after its commit's own (kEveryCommit: an append and a sync);
// optionally the power fails right after.
struct AutoFailure {
  FileOp op;
  int n;
  bool crash;
};

void PrintTo(const AutoFailure& f, std::ostream* os) {
  *os << FileOpName(f.op) << " #" << f.n << (f.crash ? ", then a power loss" : "");
}

class AutoCheckpointFailureTest : public ::testing::TestWithParam<AutoFailure> {};

TEST_P(AutoCheckpointFailureTest, KeepsTheCommitAndTheDirectoryConsistent) {
  const AutoFailure failure = GetParam();
  // The snapshot's sync of its directory after the rename: the snapshot is
  // in place but may not survive a power loss.
  const bool uncertain = failure.op == FileOp::kSyncDirectory && failure.n == 2;
  constexpr uint64_t kMinBytes = 1024;
  MemoryEnv env;
  int64_t committed = 0;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 1, kMinBytes)));
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK_AND_ASSIGN(JournalInfo start, db.Journal());
    const uint64_t threshold = Threshold(start, 1, kMinBytes);
    const uint64_t record = FillJournalBelow(db, threshold);
    // The next commit crosses the threshold; its checkpoint fails.
    env.FailNth(failure.op, failure.n, ENOSPC);
    const int ops = env.count(failure.op);
    ASSERT_OK(db.Insert("players", {}).status());
    ASSERT_EQ(env.count(failure.op), ops + failure.n) << "the failure was not reached";
    ASSERT_OK_AND_ASSIGN(JournalInfo failed, db.Journal());
    EXPECT_THAT(failed.auto_checkpoint_error,
                StatusIs(absl::StatusCode::kResourceExhausted,
                         AllOf(HasSubstr("automatic checkpoint of '/data' at "),
                               HasSubstr("journal bytes"))));
    EXPECT_EQ(failed.checkpoint, start.checkpoint);
    EXPECT_EQ(failed.auto_checkpoints, 0u);
    EXPECT_GE(failed.journal_bytes, threshold);
    ASSERT_OK_AND_ASSIGN(committed, db.Query("players").Count());
    if (failure.crash) {
      env.Crash();
    } else if (uncertain) {
      // Either checkpoint may be the one a power loss leaves: commits wait
      // for one that succeeds.
      EXPECT_THAT(db.Insert("players", {}).status(),
                  StatusIs(absl::StatusCode::kFailedPrecondition,
                           AllOf(HasSubstr("may not be durable"),
                                 HasSubstr("until Checkpoint() succeeds"))));
      ASSERT_OK(db.Checkpoint());
      ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
      EXPECT_OK(now.auto_checkpoint_error);
      ASSERT_OK(db.Insert("players", {}).status());
      ++committed;
      EXPECT_THAT(env.FileNames(), SizeIs(2));
    } else {
      // Commits go on into the old journal, and the next try waits until it
      // has grown by the threshold again (not at every commit).
      const uint64_t retry_at = failed.journal_bytes + threshold;
      const int checkpoints_tried = env.count(FileOp::kCreate);
      JournalInfo last = failed;
      for (int i = 0;; ++i) {
        ASSERT_LT(i, 10000) << "no second automatic checkpoint";
        ASSERT_OK(db.Insert("players", {}).status());
        ++committed;
        ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
        if (now.checkpoint != last.checkpoint) {
          EXPECT_GE(last.journal_bytes + record, retry_at);
          EXPECT_OK(now.auto_checkpoint_error);
          EXPECT_EQ(now.auto_checkpoints, 1u);
          break;
        }
        EXPECT_LT(now.journal_bytes, retry_at);
        EXPECT_EQ(env.count(FileOp::kCreate), checkpoints_tried);
        last = now;
      }
      // A leftover of the failed try would be a third file.
      EXPECT_THAT(env.FileNames(), SizeIs(2));
      env.Crash();
    }
  }
  env.Restart();
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  ASSERT_OK_AND_ASSIGN(int64_t players, db.Query("players").Count());
  EXPECT_EQ(players, committed);
  EXPECT_OK(db.CheckConsistency());
  ASSERT_OK(db.Checkpoint());  // the leftovers do not block the next one
  ASSERT_OK(db.Insert("players", {}).status());
}

INSTANTIATE_TEST_SUITE_P(
    Ops, AutoCheckpointFailureTest,
    ::testing::Values(AutoFailure{FileOp::kCreate, 1, false},  // the new journal
                      AutoFailure{FileOp::kAppend, 2, false},  // its header
                      AutoFailure{FileOp::kSync, 2, false},    // its sync
                      AutoFailure{FileOp::kSyncDirectory, 1, false},
                      AutoFailure{FileOp::kCreate, 2, false},  // the snapshot's temporary file
                      AutoFailure{FileOp::kRename, 1, false},  // the snapshot into place
                      AutoFailure{FileOp::kSyncDirectory, 2, false},  // after the rename
                      AutoFailure{FileOp::kAppend, 2, true}, AutoFailure{FileOp::kRename, 1, true},
                      AutoFailure{FileOp::kSyncDirectory, 2, true}));

TEST(DataDirTest, OpenCountsTheJournalItReplayedTowardTheThreshold) {
  MemoryEnv env;
  constexpr uint64_t kMinBytes = 2048;
  uint64_t written = 0;
  {
    // Checkpoints off: the journal grows past the threshold.
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 0, kMinBytes)));
    ASSERT_OK(DeclareSchema(db));
    for (int i = 0; i < 200; ++i) ASSERT_OK(db.Insert("players", {}).status());
    written = db.Journal()->journal_bytes;
    ASSERT_GT(written, kMinBytes);
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 1, kMinBytes)));
  ASSERT_OK_AND_ASSIGN(JournalInfo opened, db.Journal());
  // The replayed segment plus the new one's header.
  EXPECT_GT(opened.journal_bytes, written);
  EXPECT_EQ(opened.last_commit, 200u);
  // So the first commit is past the threshold and checkpoints.
  ASSERT_OK(db.Insert("players", {}).status());
  ASSERT_OK_AND_ASSIGN(JournalInfo now, db.Journal());
  EXPECT_EQ(now.checkpoint, opened.checkpoint + 1);
  EXPECT_EQ(now.auto_checkpoints, 1u);
}

TEST(DataDirTest, AnAutomaticCheckpointWaitsForATransactionAListenerLeftOpen) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, AutoCheckpoint(env, 1, 256)));
  ASSERT_OK(DeclareSchema(db));
  bool begin = false;
  db.OnCommit([&](const Commit&) {
    if (begin) {
      begin = false;
      ASSERT_OK(db.Begin());
    }
  });
  ASSERT_OK_AND_ASSIGN(JournalInfo start, db.Journal());
  FillJournalBelow(db, Threshold(start, 1, 256));
  begin = true;
  ASSERT_OK(db.Insert("players", {}).status());
  EXPECT_EQ(db.transaction_depth(), 1);
  ASSERT_OK_AND_ASSIGN(JournalInfo open, db.Journal());
  EXPECT_EQ(open.checkpoint, start.checkpoint);  // not now, and no error
  EXPECT_OK(open.auto_checkpoint_error);
  ASSERT_OK(db.Insert("players", {}).status());
  ASSERT_OK(db.Commit());
  ASSERT_OK_AND_ASSIGN(JournalInfo committed, db.Journal());
  EXPECT_EQ(committed.checkpoint, start.checkpoint + 1);
  EXPECT_EQ(committed.auto_checkpoints, 1u);
}

TEST(DataDirTest, ADatabaseNotOpenedFromADirectoryHasNoCheckpoint) {
  Database db;
  EXPECT_THAT(db.Checkpoint(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        HasSubstr("not opened from a directory")));
  EXPECT_THAT(db.Sync(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(db.Journal(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                     HasSubstr("not opened from a directory")));
  EXPECT_EQ(db.recovery(), nullptr);
}

TEST(DataDirTest, SyncPolicies) {
  for (SyncPolicy policy : {SyncPolicy::kEveryCommit, SyncPolicy::kGrouped, SyncPolicy::kNone}) {
    MemoryEnv env;
    OpenOptions options = InMemory(env, policy);
    options.group_sync_ms = 60'000;  // no interval passes during the test
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, options));
    ASSERT_OK(DeclareSchema(db));
    const int syncs = env.count(FileOp::kSync);
    for (int i = 0; i < 10; ++i) ASSERT_OK(db.Insert("players", {}).status());
    EXPECT_EQ(env.count(FileOp::kSync) - syncs, policy == SyncPolicy::kEveryCommit ? 10 : 0);
    // A power loss now keeps exactly the synced commits.
    env.Crash();
    env.Restart();
    ASSERT_OK_AND_ASSIGN(Database after, Database::Open(kDir, InMemory(env)));
    EXPECT_THAT(Contents(after)["players"], SizeIs(policy == SyncPolicy::kEveryCommit ? 10 : 0));
  }
  // Sync() makes them durable under any policy.
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env, SyncPolicy::kNone)));
  ASSERT_OK(DeclareSchema(db));
  for (int i = 0; i < 3; ++i) ASSERT_OK(db.Insert("players", {}).status());
  ASSERT_OK(db.Sync());
  env.Crash();
  env.Restart();
  ASSERT_OK_AND_ASSIGN(Database after, Database::Open(kDir, InMemory(env)));
  EXPECT_THAT(Contents(after)["players"], SizeIs(3));
}

void Rewrite(MemoryEnv& env, const std::string& path, const std::string& bytes) {
  ASSERT_OK(env.RemoveFile(path));
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(path, {}));
  ASSERT_OK(file->Append(bytes));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  ASSERT_OK(env.SyncDirectory(kDir));
}

// A world with a checkpoint and then `commits` journaled inserts; returns
// the journal's path.
std::string WriteJournal(MemoryEnv& env, int commits) {
  Database db = Database::Open(kDir, InMemory(env)).value();
  EXPECT_OK(DeclareSchema(db));
  for (int i = 0; i < commits; ++i) {
    EXPECT_OK(db.Insert("players", {{"name", absl::StrCat("p", i)}}).status());
  }
  return absl::StrCat(kDir, "/journal-00000003-000000.log");
}

TEST(DataDirTest, ATornTailIsDroppedAndReported) {
  MemoryEnv env;
  const std::string path = WriteJournal(env, 5);
  std::string bytes = *env.Contents(path);
  Rewrite(env, path, bytes.substr(0, bytes.size() - 3));  // the last record cut short
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    EXPECT_EQ(db.recovery()->commits, 4u);
    EXPECT_THAT(db.recovery()->dropped, HasSubstr("a torn tail"));
    EXPECT_GT(db.recovery()->dropped_bytes, 0u);
    EXPECT_THAT(Contents(db)["players"], SizeIs(4));
    ASSERT_OK(db.Insert("players", {{"name", "after"}}).status());
  }
  // Open wrote a checkpoint, so the torn file is gone and the next open is clean.
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_THAT(db.recovery()->dropped, IsEmpty());
  EXPECT_THAT(Contents(db)["players"], SizeIs(5));
}

TEST(DataDirTest, DamageBeforeTheTailIsDataLossUnlessAskedToRecover) {
  MemoryEnv env;
  const std::string path = WriteJournal(env, 5);
  std::string bytes = *env.Contents(path);
  // Flip a byte inside the second record's payload.
  const size_t first_record = kin::internal::kJournalHeaderSize;
  const size_t second = first_record + kin::internal::kRecordHeaderSize +
                        kin::internal::DecodeFixed32(bytes.data() + first_record);
  bytes[second + kin::internal::kRecordHeaderSize + 9] ^= 0x40;
  Rewrite(env, path, bytes);
  EXPECT_THAT(Database::Open(kDir, InMemory(env)).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(path), HasSubstr(absl::StrCat("at byte ", second)),
                             HasSubstr("checksum"))));
  OpenOptions recover = InMemory(env);
  recover.recover_to_damage = true;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, recover));
  EXPECT_EQ(db.recovery()->commits, 1u);
  EXPECT_THAT(db.recovery()->dropped, HasSubstr("damage"));
  EXPECT_THAT(Contents(db)["players"], SizeIs(1));
}

TEST(DataDirTest, AFailedJournalWriteRefusesTheCommitUntilACheckpoint) {
  MemoryEnv env;
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  ASSERT_OK(DeclareSchema(db));
  ASSERT_OK(db.Insert("players", {{"name", "kept"}}).status());
  const auto before = Contents(db);
  env.FailNth(FileOp::kAppend, 1, ENOSPC);
  EXPECT_THAT(db.Insert("players", {{"name", "lost"}}).status(),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(Contents(db), before);  // rolled back in memory
  ASSERT_OK(db.Begin());
  ASSERT_OK(db.Insert("players", {{"name", "refused"}}).status());
  EXPECT_THAT(db.Commit(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                    HasSubstr("until Checkpoint() succeeds")));
  EXPECT_EQ(db.transaction_depth(), 0);
  EXPECT_EQ(Contents(db), before);
  ASSERT_OK(db.Checkpoint());
  ASSERT_OK(db.Insert("players", {{"name", "works again"}}).status());
  EXPECT_THAT(Contents(db)["players"], SizeIs(2));
}

TEST(DataDirTest, ATornTailAtEveryOffsetOfTheLastRecordIsDropped) {
  MemoryEnv env;
  const std::string path = WriteJournal(env, 3);
  const std::string whole = *env.Contents(path);
  // The last record starts where the first two end.
  size_t last = kin::internal::kJournalHeaderSize;
  for (int i = 0; i < 2; ++i) {
    last += kin::internal::kRecordHeaderSize + kin::internal::DecodeFixed32(whole.data() + last);
  }
  for (size_t cut = last; cut < whole.size(); ++cut) {
    MemoryEnv copy;
    for (const std::string& name : env.FileNames()) {
      const std::string bytes = name == path ? whole.substr(0, cut) : *env.Contents(name);
      ASSERT_OK_AND_ASSIGN(auto file, copy.NewWritableFile(name, {}));
      ASSERT_OK(file->Append(bytes));
      ASSERT_OK(file->Close());
    }
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(copy)));
    EXPECT_EQ(db.recovery()->commits, 2u) << "cut at " << cut;
    EXPECT_EQ(db.recovery()->dropped.empty(), cut == last) << "cut at " << cut;
    EXPECT_THAT(Contents(db)["players"], SizeIs(2)) << "cut at " << cut;
  }
}

TEST(DataDirTest, AShortWriteOrAFailedSyncFailsTheCommitAndLeavesTheDirectoryConsistent) {
  for (const bool short_write : {true, false}) {
    MemoryEnv env;
    {
      ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
      ASSERT_OK(DeclareSchema(db));
      ASSERT_OK(db.Insert("players", {{"name", "kept"}}).status());
      if (short_write) {
        env.ShortWriteNth(1, 7);  // 7 bytes of the record reach the file
      } else {
        env.FailNth(FileOp::kSync, 1, EIO);
      }
      EXPECT_THAT(db.Insert("players", {{"name", "lost"}}).status(),
                  StatusIs(short_write ? absl::StatusCode::kResourceExhausted
                                       : absl::StatusCode::kUnknown));
      EXPECT_THAT(Contents(db)["players"], SizeIs(1));
      EXPECT_THAT(db.Insert("players", {{"name", "refused"}}).status(),
                  StatusIs(absl::StatusCode::kFailedPrecondition));
      // The process dies here, before any checkpoint.
      env.Crash();
    }
    env.Restart();
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    // A short write left a torn record, dropped; a failed sync left a whole
    // record that never became durable. Either way only "kept" is there.
    EXPECT_THAT(Contents(db)["players"], ElementsAre(HasSubstr("name=\"kept\"")));
    ASSERT_OK(db.Insert("players", {{"name", "next"}}).status());
  }
}

// Random transactions, then a crash before the n-th file operation of one
// kind; the reopened database holds exactly the commits that returned OK
// (every commit is synced before it returns). Checkpoints are called, or
// (automatic) written by the commits that fill a small journal, so the
// crash may land inside a commit's checkpoint: that commit returned OK and
// must be there.
class DataDirCrashTest : public ::testing::TestWithParam<std::tuple<FileOp, int, bool>> {};

TEST_P(DataDirCrashTest, ReopensToTheLastCommittedState) {
  const auto [op, seed, automatic] = GetParam();
  MemoryEnv env;
  std::mt19937 rng(seed);
  std::map<std::string, std::vector<std::string>> committed;
  {
    ASSERT_OK_AND_ASSIGN(
        Database db, Database::Open(kDir, automatic ? AutoCheckpoint(env, 1, 300) : InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    committed = Contents(db);
    // Appends and syncs happen at every commit, the others at checkpoints.
    const bool per_commit = op == FileOp::kAppend || op == FileOp::kSync;
    const int crash_at = 1 + static_cast<int>(rng() % (per_commit ? 40 : 6));
    const int before = env.count(op);
    env.CrashBeforeNth(op, crash_at);
    for (int step = 0; step < 80; ++step) {
      absl::Status status;
      const int what = static_cast<int>(rng() % 6);
      if (what == 0 && !automatic) {
        status = db.Checkpoint();
      } else {
        status = db.Atomically([&]() -> absl::Status {
          for (int i = static_cast<int>(rng() % 4); i >= 0; --i) {
            const int64_t id = 1 + static_cast<int64_t>(rng() % 30);
            absl::StatusOr<Row> row = db.FindOrFail("players", id);
            if (!row.ok()) {
              KIN_RETURN_IF_ERROR(db.Insert("players", {{"id", id}, {"score", step}}).status());
              KIN_RETURN_IF_ERROR(db.Insert("items", {{"player_id", id}}).status());
            } else if (rng() % 3 == 0) {
              KIN_RETURN_IF_ERROR(db.Delete(*row));  // cascades to its items
            } else {
              KIN_RETURN_IF_ERROR(
                  db.Update(*row, {{"score", step}, {"ratio", step / 4.0}}).status());
            }
          }
          return absl::OkStatus();
        });
      }
      if (status.ok()) committed = Contents(db);
    }
    ASSERT_GE(env.count(op) - before, crash_at) << "the crash point was never reached";
    env.Crash();
  }
  env.Restart();
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_EQ(Contents(db), committed);
  EXPECT_OK(db.CheckConsistency());
}

INSTANTIATE_TEST_SUITE_P(
    Ops, DataDirCrashTest,
    ::testing::Combine(::testing::Values(FileOp::kAppend, FileOp::kSync, FileOp::kCreate,
                                         FileOp::kRename, FileOp::kRemove, FileOp::kSyncDirectory),
                       ::testing::Values(1, 2, 3, 4), ::testing::Bool()));

}  // namespace
}  // namespace kin::test
