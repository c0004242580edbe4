// The journal's recovery paths in detail (persist/journal.h): replay
// without savepoints or undo logging reproduces the live database exactly
// (DebugString: slots, free lists, counters, every index with its per-key
// order), and a journal with a preallocated zero tail
// (OpenOptions::journal_preallocate_bytes) ends at its last record, while a
// bad record with only zeros after it is a torn tail, not damage.

#include <sys/stat.h>

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "persist/coding.h"
#include "persist/journal.h"
#include "tests/persist/memory_env.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kDir[] = "/data";
constexpr char kJournal[] = "/data/journal-00000001-000000.log";

OpenOptions InMemory(MemoryEnv& env) {
  OpenOptions options;
  options.env = &env;
  options.sync = SyncPolicy::kNone;  // a power loss is not what these test
  return options;
}

// Tables with every kind of index replay must maintain: an auto-increment
// key, a unique string, a secondary hash index on a foreign key (rows per
// key in insertion order), an ordered index, a composite index; and
// foreign keys with cascade and nullify actions.
absl::Status DeclareSchema(Database& db) {
  KIN_RETURN_IF_ERROR(db.CreateTable("guilds", Schema()
                                                   .Int64("id", PrimaryKey())
                                                   .String("tag", Unique())
                                                   .Double("bank", Nullable())));
  KIN_RETURN_IF_ERROR(db.CreateTable("players", Schema()
                                                    .Int64("id", PrimaryKey())
                                                    .String("name", Nullable())
                                                    .Int64("guild_id", Nullable())
                                                    .Int64("score", Ordered())
                                                    .Bool("alive", Default(true))));
  KIN_RETURN_IF_ERROR(db.CreateTable(
      "items", Schema().Int64("id", PrimaryKey()).Int64("player_id").Int64("kind")));
  KIN_RETURN_IF_ERROR(db.CreateIndex("players", {"guild_id", "score"},
                                     IndexKind::kOrdered));
  KIN_RETURN_IF_ERROR(db.HasMany("guilds", "players", {.on_delete = OnDelete::kSetNull}));
  return db.HasMany("players", "items", {.on_delete = OnDelete::kCascade});
}

// Random commits: inserts (auto-increment and explicit keys), updates that
// move rows between keys of indexed columns, deletes that cascade or
// nullify, and rolled-back work in between.
absl::Status RandomCommits(Database& db, int seed, int commits) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<unsigned>(n)); };
  for (int c = 0; c < commits; ++c) {
    absl::Status status = db.Atomically([&]() -> absl::Status {
      for (int k = pick(4); k >= 0; --k) {
        switch (pick(8)) {
          case 0: {
            const int64_t id = 1 + pick(12);
            if (db.FindOrFail("guilds", id).ok()) break;
            KIN_RETURN_IF_ERROR(
                db.Insert("guilds", {{"id", id},
                                     {"tag", absl::StrCat("guild tag long enough to allocate ", id)},
                                     {"bank", pick(3) == 0 ? Value() : Value(pick(1000) / 8.0)}})
                    .status());
            break;
          }
          case 1:
          case 2: {
            const int64_t guild = 1 + pick(12);
            Value guild_id = db.FindOrFail("guilds", guild).ok() ? Value(guild) : Value();
            KIN_RETURN_IF_ERROR(db.Insert("players", {{"name", pick(4) == 0 ? Value()
                                                                           : Value(absl::StrCat(
                                                                                 "p", pick(100)))},
                                                      {"guild_id", guild_id},
                                                      {"score", pick(50)}})
                                    .status());
            break;
          }
          case 3: {
            absl::StatusOr<Row> p = db.FindOrFail("players", 1 + pick(60));
            if (!p.ok()) break;
            KIN_RETURN_IF_ERROR(
                db.Insert("items", {{"player_id", *p->GetInt64("id")}, {"kind", pick(5)}})
                    .status());
            break;
          }
          case 4: {
            absl::StatusOr<Row> p = db.FindOrFail("players", 1 + pick(60));
            if (!p.ok()) break;
            const int64_t guild = 1 + pick(12);
            Attrs attrs = {{"score", pick(50)}, {"alive", pick(2) == 0}};
            if (db.FindOrFail("guilds", guild).ok()) attrs.push_back({"guild_id", guild});
            KIN_RETURN_IF_ERROR(db.Update(*p, attrs).status());
            break;
          }
          case 5: {
            absl::StatusOr<Row> p = db.FindOrFail("players", 1 + pick(60));
            if (p.ok()) KIN_RETURN_IF_ERROR(db.Delete(*p));  // cascades to its items
            break;
          }
          case 6: {
            absl::StatusOr<Row> g = db.FindOrFail("guilds", 1 + pick(12));
            if (g.ok()) KIN_RETURN_IF_ERROR(db.Delete(*g));  // nullifies its players
            break;
          }
          default: {
            // Rolled back: never journaled. (An update: a rolled-back
            // insert raises its slot's generation floor for the next
            // insert, which the journal does not carry, so generations
            // would differ after replay; no handle outlives a reopen.)
            absl::StatusOr<Row> p = db.FindOrFail("players", 1 + pick(60));
            if (!p.ok()) break;
            kin::Transaction tx(db);
            KIN_RETURN_IF_ERROR(db.Update(*p, {{"score", 1000}}).status());
            break;
          }
        }
      }
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    // Rows written outside a transaction are commits of their own.
    if (c % 7 == 0) {
      absl::StatusOr<Row> p = db.FindOrFail("players", 1 + pick(60));
      if (p.ok()) KIN_RETURN_IF_ERROR(db.Update(*p, {{"name", "outside"}}).status());
    }
  }
  return absl::OkStatus();
}

class ReplayExactTest : public ::testing::TestWithParam<int> {};

TEST_P(ReplayExactTest, TheReopenedDatabaseEqualsTheLiveOne) {
  MemoryEnv env;
  std::string live;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(DeclareSchema(db));
    ASSERT_OK(RandomCommits(db, GetParam(), 300));
    live = db.DebugString();
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
  EXPECT_GT(db.recovery()->commits, 200u);  // some bodies change nothing
  EXPECT_THAT(db.recovery()->dropped, IsEmpty());
  EXPECT_EQ(db.DebugString(), live);
  EXPECT_OK(db.CheckConsistency());
  // The counters came back too: the next writes match the live database's.
  ASSERT_OK(RandomCommits(db, GetParam() + 100, 50));
  const std::string continued = db.DebugString();
  ASSERT_OK_AND_ASSIGN(Database again, Database::Open(kDir, InMemory(env)));
  EXPECT_EQ(again.DebugString(), continued);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReplayExactTest, ::testing::Values(1, 2, 3, 4));

TEST(ReplayTest, ADivergingRecordFailsOpenAsAWhole) {
  MemoryEnv env;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
    for (int i = 0; i < 3; ++i) ASSERT_OK(db.Insert("players", {{"score", i}}).status());
  }
  // Rewrite the journal with a second record that inserts into a slot the
  // insert does not take (slot 7), correctly framed: replay must refuse it.
  std::string bytes = *env.Contents(kJournal);
  size_t pos = kin::internal::kJournalHeaderSize;
  pos += kin::internal::kRecordHeaderSize + kin::internal::DecodeFixed32(bytes.data() + pos);
  Commit bad;
  RowChange insert;
  insert.kind = RowChange::kInsert;
  insert.table = "players";
  insert.row = RowId(7);
  insert.cells = {{.column = ColumnId(0), .new_value = Value(int64_t{2})},
                  {.column = ColumnId(1), .new_value = Value(int64_t{1})}};
  bad.changes.push_back(insert);
  std::string record;
  kin::internal::AppendRecord(bad, 2, &record);
  bytes = bytes.substr(0, pos) + record;
  ASSERT_OK(env.RemoveFile(kJournal));
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(kJournal, {}));
  ASSERT_OK(file->Append(bytes));
  ASSERT_OK(file->Close());
  EXPECT_THAT(Database::Open(kDir, InMemory(env)).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("commit 2"), HasSubstr("the insert takes slot 1"))));
}

// --- a preallocated zero tail ---

// A journal of `commits` inserts, returned with the offset of its last
// record; the file is then rewritten with `tail` zero bytes after the
// first `keep` bytes (npos: all of them).
struct Written {
  std::string bytes;
  size_t last_record = 0;
};

Written WriteJournal(MemoryEnv& env, int commits) {
  {
    Database db = Database::Open(kDir, InMemory(env)).value();
    EXPECT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
    // Scores of 0: records that end in zero bytes must not be mistaken for
    // the zero tail.
    for (int i = 0; i < commits; ++i) EXPECT_OK(db.Insert("players", {{"score", 0}}).status());
  }
  Written w;
  w.bytes = *env.Contents(kJournal);
  size_t pos = kin::internal::kJournalHeaderSize;
  while (pos < w.bytes.size()) {
    w.last_record = pos;
    pos += kin::internal::kRecordHeaderSize + kin::internal::DecodeFixed32(w.bytes.data() + pos);
  }
  EXPECT_EQ(pos, w.bytes.size());
  return w;
}

void Rewrite(MemoryEnv& env, const std::string& bytes) {
  ASSERT_OK(env.RemoveFile(kJournal));
  ASSERT_OK_AND_ASSIGN(auto file, env.NewWritableFile(kJournal, {}));
  ASSERT_OK(file->Append(bytes));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
}

TEST(ZeroTailTest, ZerosAfterTheLastRecordAreTheEndNotATornTail) {
  for (const size_t tail : {1, 11, 12, 13, 4096}) {
    MemoryEnv env;
    const Written w = WriteJournal(env, 4);
    ASSERT_EQ(w.bytes.back(), '\0');  // the last record ends in a zero byte
    Rewrite(env, w.bytes + std::string(tail, '\0'));
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(env)));
    EXPECT_EQ(db.recovery()->commits, 4u) << tail;
    EXPECT_THAT(db.recovery()->dropped, IsEmpty()) << tail;
    EXPECT_EQ(db.Query("players").Count().value(), 4);
  }
}

TEST(ZeroTailTest, ARecordCutShortBeforeTheZerosIsATornTail) {
  MemoryEnv env;
  const Written w = WriteJournal(env, 3);
  // A crash mid-write into a preallocated file: the last record's bytes
  // from `cut` on never reached the disk and read as zeros.
  // Cuts in the zero bytes that end the record leave the same file.
  size_t written = w.bytes.size();
  while (w.bytes[written - 1] == '\0') --written;
  for (size_t cut = w.last_record; cut < written; ++cut) {
    MemoryEnv copy;
    for (const std::string& name : env.FileNames()) {
      ASSERT_OK_AND_ASSIGN(auto file, copy.NewWritableFile(name, {}));
      ASSERT_OK(file->Append(name == kJournal
                                 ? w.bytes.substr(0, cut) + std::string(w.bytes.size() - cut + 64, '\0')
                                 : *env.Contents(name)));
      ASSERT_OK(file->Close());
    }
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(kDir, InMemory(copy)));
    EXPECT_EQ(db.recovery()->commits, 2u) << "cut at " << cut;
    // A cut at the record's start leaves zeros only: the clean end.
    EXPECT_EQ(db.recovery()->dropped.empty(), cut == w.last_record) << "cut at " << cut;
    EXPECT_EQ(db.Query("players").Count().value(), 2) << "cut at " << cut;
  }
}

TEST(ZeroTailTest, DamageBeforeTheZerosIsStillDataLoss) {
  MemoryEnv env;
  const Written w = WriteJournal(env, 4);
  std::string bytes = w.bytes + std::string(100, '\0');
  // Zero the second record's header: with records after it, that is
  // damage, not the end of the journal.
  const size_t second = kin::internal::kJournalHeaderSize + kin::internal::kRecordHeaderSize +
                        kin::internal::DecodeFixed32(bytes.data() + kin::internal::kJournalHeaderSize);
  for (size_t i = 0; i < kin::internal::kRecordHeaderSize; ++i) bytes[second + i] = '\0';
  Rewrite(env, bytes);
  EXPECT_THAT(Database::Open(kDir, InMemory(env)).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(absl::StrCat("at byte ", second))));
}

// On the real file system: the journal grows in preallocated chunks while
// open, reopens exactly, and is cut back to its records when closed.
TEST(PreallocatedJournalTest, GrowsInChunksAndReopens) {
  const std::string dir = MakeTempDir("prealloc") + "/world";
  OpenOptions options;
  options.journal_preallocate_bytes = 64 * 1024;
  const std::string journal = dir + "/journal-00000001-000000.log";
  auto size_of = [](const std::string& path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  };
  std::string live;
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir, options));
    ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("score")));
    EXPECT_EQ(size_of(journal), 64u * 1024);
    // About 60 bytes a record: past the first chunk.
    for (int i = 0; i < 2000; ++i) ASSERT_OK(db.Insert("players", {{"score", i}}).status());
    EXPECT_EQ(size_of(journal) % (64 * 1024), 0u);
    EXPECT_GT(size_of(journal), 64u * 1024);
    live = db.DebugString();
    // Reopened while the writer is open (a crash now): zeros at the end.
    ASSERT_OK_AND_ASSIGN(Database copy, Database::Open(dir, options));
    EXPECT_EQ(copy.recovery()->commits, 2000u);
    EXPECT_THAT(copy.recovery()->dropped, IsEmpty());
    EXPECT_EQ(copy.DebugString(), live);
  }
  // Closed: the file holds its records and no zeros.
  const uint64_t closed = size_of(journal);
  EXPECT_NE(closed % (64 * 1024), 0u);
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir, options));
  EXPECT_EQ(db.recovery()->commits, 2000u);
  EXPECT_EQ(db.DebugString(), live);
}

}  // namespace
}  // namespace kin::test
