// The `kin` tool: inspect, verify and dump, their outputs and exit codes.

#include "tools/cli.h"

#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "persist/snapshot.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::World;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result Kin(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("cli");
    world_path_ = dir_ + "/world.kin";
    World world = test::MakeWorld();
    ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, world_path_));
  }

  std::string dir_;
  std::string world_path_;
};

// Every relation kind is shown with its tables and keys.
TEST_F(CliTest, InspectShowsEveryRelationKind) {
  Database db;
  ASSERT_OK(db.CreateTable("guilds", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).Int64("guild_id")));
  ASSERT_OK(
      db.CreateTable("profiles", Schema().Int64("id", PrimaryKey()).Int64("player_id", Unique())));
  ASSERT_OK(db.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
  ASSERT_OK(db.CreateTable("quests", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db.CreateTable(
      "player_quest",
      Schema().Int64("id", PrimaryKey()).Int64("player_id").Int64("quest_id").Int64("progress")));
  ASSERT_OK(db.HasMany("guilds", "players"));
  ASSERT_OK(db.HasMany("players", "items"));
  ASSERT_OK(db.HasOne("players", "profiles"));
  ASSERT_OK(db.ManyToMany("players", "quests", {.pivot_columns = {"progress"}}));
  ASSERT_OK(db.HasManyThrough("guilds", "players", "items"));
  const std::string path = dir_ + "/kinds.kin";
  ASSERT_OK(SaveSnapshot(db, path));
  Result r = Kin({"inspect", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("relation players.profile: has one profiles "
                               "(profiles.player_id -> players.id), inverse player, on delete "
                               "no action"));
  EXPECT_THAT(r.out, HasSubstr("relation players.quests: many to many quests "
                               "(player_quest.player_id -> players.id; pivot "
                               "player_quest.quest_id -> quests.id), inverse players, on delete "
                               "cascade, on duplicate ignore, pivot columns [progress]\n"));
  EXPECT_THAT(r.out, HasSubstr("relation quests.players: many to many players "
                               "(player_quest.quest_id -> quests.id; pivot "
                               "player_quest.player_id -> players.id), inverse quests"));
  EXPECT_THAT(r.out, HasSubstr("relation guilds.items: has many through items "
                               "(players.guild_id -> guilds.id; through items.player_id -> "
                               "players.id)\n"));
}

TEST_F(CliTest, Usage) {
  Result none = Kin({});
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.err, AllOf(HasSubstr("no command"), HasSubstr("usage:")));
  EXPECT_THAT(none.out, IsEmpty());

  Result help = Kin({"help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("kin dump FILE|DIR TABLE"));

  EXPECT_EQ(Kin({"frobnicate"}).code, 2);
  EXPECT_THAT(Kin({"frobnicate"}).err, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_EQ(Kin({"inspect"}).code, 2);
  EXPECT_EQ(Kin({"verify", "a", "b"}).code, 2);
  EXPECT_EQ(Kin({"dump", world_path_}).code, 2);
  EXPECT_THAT(Kin({"dump", world_path_, "users", "--format", "xml"}).err,
              HasSubstr("unknown format 'xml'"));
  EXPECT_EQ(Kin({"dump", world_path_, "users", "--format"}).code, 2);
  EXPECT_EQ(Kin({"dump", world_path_, "users", "--bogus"}).code, 2);
}

TEST_F(CliTest, Inspect) {
  Result r = Kin({"inspect", world_path_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, StartsWith(absl::StrCat("snapshot ", world_path_, ": format version ",
                                             kSnapshotFormatVersion, ", ")));
  EXPECT_THAT(r.out, HasSubstr("4 tables\n"));
  EXPECT_THAT(r.out, HasSubstr("table users: 6 rows (6 slots, 0 free), next id 41\n"));
  EXPECT_THAT(r.out, HasSubstr("table posts: 9 rows (13 slots, 4 free), next id 15\n"));
  EXPECT_THAT(r.out, HasSubstr("table empty: 0 rows (0 slots, 0 free)\n"));
  EXPECT_THAT(r.out, HasSubstr("  column id int64 primary key auto-increment\n"));
  EXPECT_THAT(r.out, HasSubstr("  column email string unique\n"));
  EXPECT_THAT(r.out, HasSubstr("  column ratio double default 0.5\n"));
  EXPECT_THAT(r.out, HasSubstr("  column balance double not null default 0\n"));
  EXPECT_THAT(r.out, HasSubstr("  column name string primary key\n"));
  EXPECT_THAT(r.out, HasSubstr("  index email: unique, 6 keys\n"));
  EXPECT_THAT(r.out, HasSubstr("  index user_id: secondary, 2 keys\n"));
  EXPECT_THAT(r.out, HasSubstr("  index created_at: secondary, 5 keys\n"));
  EXPECT_THAT(r.out, HasSubstr("foreign key posts.user_id -> users.id, on delete cascade, "
                               "on update cascade\n"));
  EXPECT_THAT(r.out, HasSubstr("relation users.posts: has many posts (posts.user_id -> users.id), "
                               "inverse user, on delete cascade, on update cascade, "
                               "on unlink delete, meta {\"\": \"empty key\", \"label\": "
                               "\"Posts\", \"limit\": 50, \"nothing\": null, \"visible\": true, "
                               "\"weight\": 0.75}\n"));
  EXPECT_THAT(r.out, HasSubstr("relation posts.user: belongs to users (posts.user_id -> users.id), "
                               "inverse posts\n"));
  EXPECT_THAT(r.out, HasSubstr("relation users.drafts: has many posts"));
}

// `kin inspect` of the test world plus users.unpublished declared with
// `options` (name and inverse set here).
Result InspectWithUnpublished(HasManyOptions options, const std::string& path) {
  World world = test::MakeWorld();
  options.name = "unpublished";
  options.create_inverse = false;
  absl::StatusOr<std::vector<RelationSpec>> specs =
      world.relations.ResolveHasMany(world.engine, "users", "posts", std::move(options));
  EXPECT_OK(specs.status());
  for (RelationSpec& spec : *specs) EXPECT_OK(world.relations.Add(std::move(spec)));
  EXPECT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  return Kin({"inspect", path});
}

constexpr absl::string_view kUnpublished =
    "relation users.unpublished: has many posts (posts.user_id -> users.id), on delete no action, "
    "on update no action, on unlink nullify, ";

TEST_F(CliTest, InspectShowsARelationsScope) {
  Result r = InspectWithUnpublished({.scope = {{"is_published", false}}}, dir_ + "/scoped.kin");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(kUnpublished, "scope {\"is_published\": false}\n")));
}

TEST_F(CliTest, InspectSaysARelationWaitsForItsOnQuery) {
  // Any callback: only its existence is saved.
  Result r = InspectWithUnpublished({.on_query = [](Query&) {}}, dir_ + "/on_query.kin");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         kUnpublished, "on_query (code, not saved: re-attach with SetOnQuery)\n")));
}

// A data directory (Database::Open): a checkpoint and two journaled
// commits after it.
std::string MakeDataDir(const std::string& parent) {
  const std::string dir = parent + "/data";
  Database db = Database::Open(dir).value();
  EXPECT_OK(db.CreateTable("players", Schema().Int64("id", PrimaryKey()).String("name")));
  EXPECT_OK(db.Insert("players", {{"name", "ann"}}).status());
  EXPECT_OK(db.Insert("players", {{"name", "bob"}}).status());
  return dir;
}

TEST_F(CliTest, InspectVerifyAndDumpADataDirectory) {
  const std::string dir = MakeDataDir(dir_);
  Result inspect = Kin({"inspect", dir});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_THAT(inspect.out,
              HasSubstr(absl::StrCat("data directory ", dir, ": checkpoint 1 (", dir,
                                     "/snapshot-00000001.kin), 1 journal segment, 2 commits "
                                     "after it, last commit 2\n")));
  EXPECT_THAT(inspect.out, HasSubstr("table players: 2 rows"));
  Result verify = Kin({"verify", dir});
  ASSERT_EQ(verify.code, 0) << verify.err;
  EXPECT_EQ(verify.out, absl::StrCat("ok: ", dir,
                                     " (checkpoint 1, 2 journaled commits, last commit 2, 1 "
                                     "table, 2 rows)\n"));
  Result dump = Kin({"dump", dir, "players"});
  ASSERT_EQ(dump.code, 0) << dump.err;
  EXPECT_EQ(dump.out, "id,name\n1,ann\n2,bob\n");
  // Reading wrote nothing: the next Open finds the same single segment.
  EXPECT_EQ(Kin({"inspect", dir}).out, inspect.out);
}

TEST_F(CliTest, VerifyRefusesADamagedJournal) {
  const std::string dir = MakeDataDir(dir_);
  const std::string journal = dir + "/journal-00000001-000000.log";
  std::string bytes = test::ReadFileOrDie(journal);
  bytes[20] ^= 0x01;  // inside the first of two records
  test::WriteFileOrDie(journal, bytes);
  Result r = Kin({"verify", dir});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("journal '", journal, "' at byte 16")));
}

TEST_F(CliTest, VerifyGoodFile) {
  Result r = Kin({"verify", world_path_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, absl::StrCat("ok: ", world_path_, " (format version ", kSnapshotFormatVersion,
                                ", 4 tables, 18 rows, 3 relations)\n"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST_F(CliTest, VerifyDamagedFiles) {
  std::string bytes = test::ReadFileOrDie(world_path_);
  std::string damaged = dir_ + "/damaged.kin";

  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  test::WriteFileOrDie(damaged, flipped);
  Result r = Kin({"verify", damaged});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, IsEmpty());
  EXPECT_THAT(r.err, AllOf(StartsWith("kin verify: snapshot '"), HasSubstr(damaged),
                           HasSubstr("checksum mismatch")));

  test::WriteFileOrDie(damaged, bytes.substr(0, bytes.size() - 3));
  EXPECT_THAT(Kin({"verify", damaged}).err, HasSubstr("truncated"));
  EXPECT_EQ(Kin({"verify", damaged}).code, 1);

  test::WriteFileOrDie(damaged, "hello");
  EXPECT_THAT(Kin({"verify", damaged}).err, HasSubstr("not a kin snapshot"));

  Result missing = Kin({"verify", dir_ + "/missing.kin"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no such file"));

  // inspect and dump refuse damaged files the same way.
  EXPECT_EQ(Kin({"inspect", damaged}).code, 1);
  EXPECT_EQ(Kin({"dump", damaged, "users"}).code, 1);
}

TEST_F(CliTest, DumpCsv) {
  Result r = Kin({"dump", world_path_, "tags"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "name,note\n"
            "red,warm\n"
            "blue,\n"
            "\"\",\"\"\n");
  Result users = Kin({"dump", world_path_, "users", "--format=csv"});
  ASSERT_EQ(users.code, 0) << users.err;
  EXPECT_THAT(users.out, StartsWith("id,email,score,ratio,active,nickname,admin,balance\n"
                                    "1,ada@example.com,10,1.25,true,anon,true,0\n"));
  EXPECT_THAT(users.out, HasSubstr("\n4,a much longer address that does not fit inline@example.com,"
                                   "9223372036854775807,-inf,true,\xc3\xa9t\xc3\xa9 \xe2\x98\x83,"
                                   "false,5e-324\n"));
  EXPECT_THAT(users.out, HasSubstr("\n5,\"\",,nan,true,anon,,1e+300\n"));
  EXPECT_THAT(users.out, HasSubstr("\n3,nul"));
}

TEST_F(CliTest, DumpJson) {
  Result r = Kin({"dump", world_path_, "tags", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[\n"
            "  {\"name\": \"red\", \"note\": \"warm\"},\n"
            "  {\"name\": \"blue\", \"note\": null},\n"
            "  {\"name\": \"\", \"note\": \"\"}\n"
            "]\n");
  Result users = Kin({"dump", "--format=json", world_path_, "users"});
  ASSERT_EQ(users.code, 0) << users.err;
  EXPECT_THAT(users.out, HasSubstr("{\"id\": 3, \"email\": \"nul\\u0000byte\", "
                                   "\"score\": -9223372036854775808, \"ratio\": -0, "
                                   "\"active\": false, \"nickname\": \"anon\", \"admin\": null, "
                                   "\"balance\": \"Infinity\"}"));
  EXPECT_THAT(users.out, HasSubstr("\"ratio\": \"NaN\""));
  EXPECT_EQ(Kin({"dump", world_path_, "empty", "--format", "json"}).out, "[]\n");
}

TEST_F(CliTest, DumpEscapesAndInvalidUtf8) {
  World w;
  ASSERT_OK(w.engine.CreateTable("t", Schema().Int64("id", PrimaryKey()).String("s")));
  ASSERT_OK(w.engine.Insert("t", {{"s", "a,b"}}).status());
  ASSERT_OK(w.engine.Insert("t", {{"s", "say \"hi\"\nbye"}}).status());
  ASSERT_OK(w.engine.Insert("t", {{"s", " padded"}}).status());
  ASSERT_OK(w.engine.Insert("t", {{"s", "bad \xff\xc3 bytes \\ tab\t"}}).status());
  std::string path = dir_ + "/escapes.kin";
  ASSERT_OK(SaveSnapshotFile(w.engine, w.relations, path));
  EXPECT_EQ(Kin({"dump", path, "t"}).out,
            "id,s\n"
            "1,\"a,b\"\n"
            "2,\"say \"\"hi\"\"\nbye\"\n"
            "3,\" padded\"\n"
            "4,\"bad \xff\xc3 bytes \\ tab\t\"\n");
  EXPECT_EQ(Kin({"dump", path, "t", "--format", "json"}).out,
            "[\n"
            "  {\"id\": 1, \"s\": \"a,b\"},\n"
            "  {\"id\": 2, \"s\": \"say \\\"hi\\\"\\nbye\"},\n"
            "  {\"id\": 3, \"s\": \" padded\"},\n"
            "  {\"id\": 4, \"s\": \"bad \\ufffd\\ufffd bytes \\\\ tab\\t\"}\n"
            "]\n");
}

TEST_F(CliTest, DumpUnknownTable) {
  Result r = Kin({"dump", world_path_, "userz"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, AllOf(HasSubstr(world_path_), HasSubstr("no table named 'userz'")));
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(CliTest, BinaryExitCodes) {
  // The real binary: exit codes and streams as a shell sees them.
  std::string kin = "tools/kin";
  std::string out = dir_ + "/out.txt";
  auto shell = [&](const std::string& args) {
    int status = std::system(absl::StrCat(kin, " ", args, " >", out, " 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(shell(absl::StrCat("verify ", world_path_)), 0);
  EXPECT_THAT(test::ReadFileOrDie(out), StartsWith("ok: "));
  EXPECT_EQ(shell(absl::StrCat("verify ", dir_, "/nope.kin")), 1);
  EXPECT_THAT(test::ReadFileOrDie(out), HasSubstr("no such file"));
  EXPECT_EQ(shell(""), 2);
  EXPECT_EQ(shell(absl::StrCat("dump ", world_path_, " tags --format json")), 0);
  EXPECT_THAT(test::ReadFileOrDie(out), StartsWith("[\n  {\"name\": \"red\""));
}

}  // namespace
}  // namespace kin
