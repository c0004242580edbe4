// All-or-nothing migrations (Database::Migrate) and versioned steps
// (kin::Migrations): a failure anywhere leaves the database exactly as
// before (DebugString and relations equal), the records say what ran, and
// snapshots and data directories keep them.

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/engine.h"
#include "kin/internal/database_access.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr auto kAborted = absl::StatusCode::kAborted;

// Every relation's declaration, in order: DebugString covers tables and
// foreign keys, not the catalog.
std::string RelationsText(const Database& db) {
  std::string out;
  for (const RelationSpec* r : db.Relations()) {
    absl::StrAppend(&out, r->QualifiedName(), " ", r->related_table, " ", r->foreign_key, "->",
                    r->local_key, r->on_query ? " hook" : "", "\n");
  }
  return out;
}

std::string State(const Database& db) { return db.DebugString() + RelationsText(db); }

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("guilds", Schema().Int64("id", PrimaryKey()).String("name")));
    ASSERT_OK(db_.CreateTable("players", Schema()
                                             .Int64("id", PrimaryKey())
                                             .Int64("guild_id")
                                             .String("name", NotNull())
                                             .Int64("hp", NotNull(), Default(100))
                                             .Int64("gold", Default(0))));
    ASSERT_OK(db_.CreateTable("log", Schema().Int64("id", PrimaryKey()).String("line")));
    ASSERT_OK(db_.HasMany("guilds", "players", {.on_delete = OnDelete::kSetNull}));
    ASSERT_OK(db_.HasMany("guilds", "players",
                          {.name = "rich",
                           .on_query = [](Query& q) { q.Where("gold", ">", 50); },
                           .create_inverse = false}));
    ASSERT_OK(db_.Insert("guilds", {{"name", "north"}}).status());
    for (int i = 0; i < 6; ++i) {
      ASSERT_OK(db_.Insert("players", {{"guild_id", i % 2 == 0 ? Value(1) : Value()},
                                       {"name", absl::StrCat("p", i)},
                                       {"gold", i * 20}})
                    .status());
    }
    ASSERT_OK_AND_ASSIGN(Row p2, db_.FindOrFail("players", 2));
    ASSERT_OK(db_.Delete(p2));  // a free slot, so inserts reuse it
    ASSERT_OK(db_.Insert("log", {{"line", "start"}}).status());
  }

  Database db_;
};

TEST_F(MigrateTest, FailureRestoresEverything) {
  ASSERT_OK_AND_ASSIGN(Row p1, db_.FindOrFail("players", 1));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> gold, db_.Int64Column("players", "gold"));
  const std::string before = State(db_);
  absl::Status status = db_.Migrate([&]() -> absl::Status {
    // Writes before and after schema changes, on changed and unchanged tables.
    KIN_RETURN_IF_ERROR(db_.Update(p1, {{"gold", 999}}).status());
    KIN_RETURN_IF_ERROR(db_.Insert("players", {{"name", "new"}}).status());
    KIN_RETURN_IF_ERROR(db_.Insert("log", {{"line", "migrating"}}).status());
    KIN_RETURN_IF_ERROR(db_.AddColumn(
        "players", {.name = "level", .type = Type::kInt64, .nullable = false, .default_value = 1}));
    KIN_RETURN_IF_ERROR(db_.Update(p1, {{"level", 5}}).status());
    KIN_RETURN_IF_ERROR(db_.SetOnQuery("guilds", "rich", nullptr));
    KIN_RETURN_IF_ERROR(db_.RenameColumn("players", "hp", "health"));
    KIN_RETURN_IF_ERROR(db_.DropColumn("players", "gold"));
    KIN_RETURN_IF_ERROR(db_.RenameTable("log", "journal"));
    KIN_RETURN_IF_ERROR(db_.CreateIndex("players", "name"));
    KIN_RETURN_IF_ERROR(db_.CreateIndex("players", "health", IndexKind::kOrdered));
    KIN_RETURN_IF_ERROR(db_.CreateTable(
        "quests", Schema().Int64("id", PrimaryKey()).Int64("player_id").String("title")));
    KIN_RETURN_IF_ERROR(db_.HasMany("players", "quests", {.on_delete = OnDelete::kCascade}));
    KIN_RETURN_IF_ERROR(db_.Insert("quests", {{"player_id", 1}, {"title", "q"}}).status());
    KIN_ASSIGN_OR_RETURN(Row p3, db_.FindOrFail("players", 3));
    KIN_RETURN_IF_ERROR(db_.Delete(p3));
    KIN_RETURN_IF_ERROR(db_.Insert("journal", {{"line", "done"}}).status());
    return absl::AbortedError("patch pulled");
  });
  EXPECT_THAT(status, StatusIs(kAborted, HasSubstr("patch pulled")));
  EXPECT_EQ(State(db_), before);
  EXPECT_OK(db_.CheckConsistency());
  // Rows taken before still work; the on_query is back. Column handles of
  // a table whose columns were added or dropped resolve again (an id the
  // migration used must not name a later column).
  EXPECT_THAT(gold.Get(p1).status(), StatusIs(kPrecondition, HasSubstr("stale column handle")));
  ASSERT_OK_AND_ASSIGN(gold, db_.Int64Column("players", "gold"));
  EXPECT_EQ(gold.Get(p1).value(), 0);
  EXPECT_EQ(p1.GetInt64("hp").value(), 100);
  ASSERT_OK_AND_ASSIGN(Row north, db_.FindOrFail("guilds", 1));
  ASSERT_OK_AND_ASSIGN(auto rich, db_.Related(north, "rich").Get());
  EXPECT_EQ(rich.size(), 1u);  // player 5 (80 gold) of guild 1's 1, 3, 5
  EXPECT_EQ(db_.FindTable("quests"), nullptr);
  // And the database goes on as if the migration never ran.
  ASSERT_OK(db_.Insert("players", {{"name", "after"}}).status());
  EXPECT_OK(db_.CheckConsistency());
}

TEST_F(MigrateTest, SuccessKeepsEverythingAndSaves) {
  ASSERT_OK(db_.Migrate([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.AddColumn(
        "players", {.name = "level", .type = Type::kInt64, .nullable = false, .default_value = 1}));
    KIN_ASSIGN_OR_RETURN(Row p1, db_.FindOrFail("players", 1));
    KIN_RETURN_IF_ERROR(db_.Update(p1, {{"level", 7}}).status());
    return db_.RenameColumn("log", "line", "text");
  }));
  ASSERT_OK_AND_ASSIGN(Row p1, db_.FindOrFail("players", 1));
  EXPECT_EQ(p1.GetInt64("level").value(), 7);
  ASSERT_OK_AND_ASSIGN(auto log, db_.Query("log").Where("text", "start").Get());
  EXPECT_EQ(log.size(), 1u);
  EXPECT_OK(db_.CheckConsistency());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

TEST_F(MigrateTest, CommitListenersSeeNothingOfAMigration) {
  int commits = 0;
  db_.OnCommit([&](const kin::Commit&) { ++commits; });
  ASSERT_OK(db_.Migrate([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.Insert("log", {{"line", "x"}}).status());
    return db_.AddColumn("log", {.name = "at", .type = Type::kInt64});
  }));
  EXPECT_EQ(commits, 0);
  ASSERT_OK(db_.Insert("log", {{"line", "y"}, {"at", 3}}).status());
  EXPECT_EQ(commits, 1);
}

TEST_F(MigrateTest, Refusals) {
  const std::string before = State(db_);
  ASSERT_OK(db_.Begin());
  EXPECT_THAT(db_.Migrate([] { return absl::OkStatus(); }),
              StatusIs(kPrecondition, HasSubstr("inside a transaction")));
  ASSERT_OK(db_.Rollback());
  // Nested migrations, DropTable, and schema changes inside a savepoint of
  // the body are refused, and the whole migration with them.
  EXPECT_THAT(db_.Migrate([&] { return db_.Migrate([] { return absl::OkStatus(); }); }),
              StatusIs(kPrecondition, HasSubstr("already running")));
  EXPECT_THAT(db_.Migrate([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.AddColumn("log", {.name = "at"}));
    return db_.DropTable("log");
  }),
              StatusIs(kPrecondition, HasSubstr("drop table 'log': not inside a migration")));
  EXPECT_THAT(db_.Migrate([&]() -> absl::Status {
    return db_.Atomically([&] { return db_.AddColumn("log", {.name = "at"}); });
  }),
              StatusIs(kPrecondition, HasSubstr("inside a transaction")));
  // A body that leaves a transaction open is rolled back whole.
  EXPECT_THAT(db_.Migrate([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.AddColumn("log", {.name = "at"}));
    KIN_RETURN_IF_ERROR(db_.Begin());
    return db_.Insert("log", {{"line", "open"}}).status();
  }),
              StatusIs(kPrecondition, HasSubstr("left a transaction open")));
  EXPECT_EQ(db_.transaction_depth(), 0);
  EXPECT_EQ(State(db_), before);
  // A failing operation inside fails the migration with its own message.
  EXPECT_THAT(db_.Migrate([&]() -> absl::Status {
    KIN_RETURN_IF_ERROR(db_.AddColumn("log", {.name = "at"}));
    return db_.SetColumnNullable("players", "guild_id", false);
  }),
              StatusIs(kPrecondition, HasSubstr("players.guild_id")));
  EXPECT_EQ(State(db_), before);
  EXPECT_OK(db_.CheckConsistency());
}

// --- kin::Migrations ---

Migrations PatchOne() {
  Migrations m;
  m.Add(1, "add_level", [](Database& db) {
    return db.AddColumn(
        "players", {.name = "level", .type = Type::kInt64, .nullable = false, .default_value = 1});
  });
  // The on_query of guilds.rich is code that may name players' columns, so
  // the rename asks for it to be detached first.
  m.Add(2, "rename_hp", [](Database& db) -> absl::Status {
    const bool rich = db.GetRelation("guilds", "rich").ok();
    if (rich) KIN_RETURN_IF_ERROR(db.SetOnQuery("guilds", "rich", nullptr));
    KIN_RETURN_IF_ERROR(db.RenameColumn("players", "hp", "health"));
    if (!rich) return absl::OkStatus();
    return db.SetOnQuery("guilds", "rich", [](Query& q) { q.Where("gold", ">", 50); });
  });
  return m;
}

TEST_F(MigrateTest, ApplyRunsPendingStepsAndRecordsThem) {
  ASSERT_OK_AND_ASSIGN(SchemaHistory fresh, GetSchemaHistory(db_));
  EXPECT_EQ(fresh.version, 0);
  EXPECT_TRUE(fresh.applied.empty());

  Migrations m = PatchOne();
  EXPECT_EQ(m.latest(), 2);
  ASSERT_OK(m.Apply(db_));
  ASSERT_OK_AND_ASSIGN(SchemaHistory h, GetSchemaHistory(db_));
  EXPECT_EQ(h.version, 2);
  EXPECT_THAT(h.applied,
              ElementsAre(AppliedMigration{1, "add_level"}, AppliedMigration{2, "rename_hp"}));
  EXPECT_THAT(db_.DebugString(), HasSubstr("metadata kin.schema_version = 2"));
  // Applying again does nothing.
  const std::string after = State(db_);
  ASSERT_OK(m.Apply(db_));
  EXPECT_EQ(State(db_), after);

  // A later patch adds a step: only it runs.
  int runs = 0;
  m.Add(3, "add_index", [&](Database& db) {
    ++runs;
    return db.CreateIndex("players", "level", IndexKind::kOrdered);
  });
  ASSERT_OK(m.Apply(db_));
  EXPECT_EQ(runs, 1);
  ASSERT_OK_AND_ASSIGN(h, GetSchemaHistory(db_));
  EXPECT_EQ(h.version, 3);
  EXPECT_EQ(h.applied.size(), 3u);

  // Snapshots keep the records.
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
  ASSERT_OK_AND_ASSIGN(SchemaHistory again, GetSchemaHistory(loaded));
  EXPECT_EQ(again.version, 3);
  EXPECT_EQ(again.applied, h.applied);
  ASSERT_OK(m.Apply(loaded));
  EXPECT_EQ(runs, 1);
}

TEST_F(MigrateTest, FailingStepLeavesDatabaseAndRecordsUnchanged) {
  ASSERT_OK(PatchOne().Apply(db_));
  const std::string before = State(db_);
  Migrations m = PatchOne();
  m.Add(3, "add_gems", [](Database& db) {
    return db.AddColumn("players", {.name = "gems", .type = Type::kInt64});
  });
  m.Add(4, "bad", [](Database& db) { return db.DropColumn("players", "nope"); });
  EXPECT_THAT(m.Apply(db_), StatusIs(kInvalid, HasSubstr("migration 4 'bad': table 'players': "
                                                         "no column named 'nope'")));
  EXPECT_EQ(State(db_), before);
  ASSERT_OK_AND_ASSIGN(SchemaHistory h, GetSchemaHistory(db_));
  EXPECT_EQ(h.version, 2);
}

TEST_F(MigrateTest, ApplyRefusesNewerOrDivergentDatabases) {
  Migrations full = PatchOne();
  full.Add(3, "add_gems", [](Database& db) {
    return db.AddColumn("players", {.name = "gems", .type = Type::kInt64});
  });
  ASSERT_OK(full.Apply(db_));
  const std::string before = State(db_);

  Migrations older = PatchOne();
  EXPECT_THAT(older.Apply(db_),
              StatusIs(kPrecondition, HasSubstr("schema version 3 is newer than this code "
                                                "knows (2; last step add_gems)")));
  Migrations renamed;
  renamed.Add(1, "add_level", [](Database&) { return absl::OkStatus(); });
  renamed.Add(2, "rename_health", [](Database&) { return absl::OkStatus(); });
  renamed.Add(3, "add_gems", [](Database&) { return absl::OkStatus(); });
  EXPECT_THAT(renamed.Apply(db_),
              StatusIs(kPrecondition, HasSubstr("migration 2 'rename_hp' was applied to this "
                                                "database but the code names it "
                                                "'rename_health'")));
  Migrations removed;
  removed.Add(1, "add_level", [](Database&) { return absl::OkStatus(); });
  removed.Add(3, "add_gems", [](Database&) { return absl::OkStatus(); });
  EXPECT_THAT(removed.Apply(db_),
              StatusIs(kPrecondition, HasSubstr("migration 2 'rename_hp' was applied to this "
                                                "database but is not in the code's migrations")));
  EXPECT_EQ(State(db_), before);
}

TEST_F(MigrateTest, BadDefinitionsAndTransactions) {
  const std::string before = State(db_);
  auto ok = [](Database&) { return absl::OkStatus(); };
  Migrations repeated;
  repeated.Add(1, "a", ok).Add(1, "b", ok);
  EXPECT_THAT(repeated.Apply(db_),
              StatusIs(kInvalid, HasSubstr("migration 1 'b': number 1 is taken by 'a'")));
  Migrations order;
  order.Add(2, "a", ok).Add(1, "b", ok);
  EXPECT_THAT(order.Apply(db_), StatusIs(kInvalid, HasSubstr("migration 1 'b': out of order")));
  Migrations zero;
  zero.Add(0, "a", ok);
  EXPECT_THAT(zero.Validate(), StatusIs(kInvalid, HasSubstr("numbers start at 1")));
  Migrations unnamed;
  unnamed.Add(1, "", ok);
  EXPECT_THAT(unnamed.Apply(db_), StatusIs(kInvalid, HasSubstr("migration 1: a name is required")));
  Migrations twice;
  twice.Add(1, "a", ok).Add(2, "a", ok);
  EXPECT_THAT(twice.Apply(db_), StatusIs(kInvalid, HasSubstr("name already used by migration 1")));
  Migrations empty_fn;
  empty_fn.Add(1, "a", nullptr);
  EXPECT_THAT(empty_fn.Apply(db_), StatusIs(kInvalid, HasSubstr("no function")));
  ASSERT_OK(db_.Begin());
  EXPECT_THAT(PatchOne().Apply(db_), StatusIs(kPrecondition, HasSubstr("inside a transaction")));
  ASSERT_OK(db_.Rollback());
  EXPECT_EQ(State(db_), before);
}

TEST_F(MigrateTest, DamagedRecordsAreDataLoss) {
  Engine& engine = internal::DatabaseAccess::engine(db_);
  engine.SetMetadata("kin.schema_version", "two");
  EXPECT_THAT(GetSchemaHistory(db_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad version 'two'")));
  EXPECT_THAT(PatchOne().Apply(db_), StatusIs(absl::StatusCode::kDataLoss));
  engine.SetMetadata("kin.schema_version", "2");
  engine.SetMetadata("kin.migrations", "1 add_level\n");
  EXPECT_THAT(GetSchemaHistory(db_).status(),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("version 2 but the last step applied is 1")));
  engine.SetMetadata("kin.migrations", "1 add_level\nx rename_hp\n");
  EXPECT_THAT(GetSchemaHistory(db_).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad step 'x rename_hp'")));
}

TEST_F(MigrateTest, DataDirectoryKeepsMigrationsAcrossReopen) {
  const std::string dir =
      (std::filesystem::path(::testing::TempDir()) / "migrate_data_dir").string();
  std::filesystem::remove_all(dir);
  {
    ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir));
    ASSERT_OK(db.CreateTable(
        "players",
        Schema().Int64("id", PrimaryKey()).String("name").Int64("hp", NotNull(), Default(100))));
    ASSERT_OK(db.Insert("players", {{"name", "ann"}}).status());
    ASSERT_OK(PatchOne().Apply(db));
    ASSERT_OK(db.Insert("players", {{"name", "bob"}, {"level", 4}}).status());
  }
  ASSERT_OK_AND_ASSIGN(Database db, Database::Open(dir));
  ASSERT_OK_AND_ASSIGN(SchemaHistory h, GetSchemaHistory(db));
  EXPECT_EQ(h.version, 2);
  ASSERT_OK_AND_ASSIGN(Row bob, db.FindOrFail("players", 2));
  EXPECT_EQ(bob.GetInt64("level").value(), 4);
  EXPECT_EQ(bob.GetInt64("health").value(), 100);
  ASSERT_OK(PatchOne().Apply(db));
  // A failed migration leaves the directory opening to the state before it.
  Migrations bad = PatchOne();
  bad.Add(3, "bad", [](Database& db) -> absl::Status {
    KIN_RETURN_IF_ERROR(db.AddColumn("players", {.name = "x"}));
    return absl::AbortedError("no");
  });
  const std::string before = db.DebugString();
  EXPECT_THAT(bad.Apply(db), StatusIs(kAborted));
  EXPECT_EQ(db.DebugString(), before);
  ASSERT_OK(db.Insert("players", {{"name", "cy"}}).status());
  const std::string expected = db.DebugString();
  db = Database();
  ASSERT_OK_AND_ASSIGN(Database reopened, Database::Open(dir));
  EXPECT_EQ(reopened.DebugString(), expected);
}

}  // namespace
}  // namespace kin
