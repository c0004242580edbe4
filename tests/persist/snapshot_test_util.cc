#include "tests/persist/snapshot_test_util.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "xxhash.h"

namespace kin::test {

namespace {

void Check(const absl::Status& status, absl::string_view what) {
  if (!status.ok()) {
    std::fprintf(stderr, "fixture step failed: %s: %s\n", std::string(what).c_str(),
                 status.ToString().c_str());
    std::abort();
  }
}

template <typename T>
T OrDie(absl::StatusOr<T> v, absl::string_view what) {
  Check(v.status(), what);
  return *std::move(v);
}

void AddRelations(World& w, absl::string_view parent, absl::string_view child,
                  HasManyOptions options) {
  std::vector<RelationSpec> specs =
      OrDie(w.relations.ResolveHasMany(w.engine, parent, child, std::move(options)), "resolve");
  for (RelationSpec& s : specs) Check(w.relations.Add(std::move(s)), "add relation");
}

}  // namespace

World MakeWorld() {
  World w;
  Engine& e = w.engine;
  // A table created and dropped first: the order of the rest must hold.
  Check(e.CreateTable("scratch", Schema().Int64("id", PrimaryKey())), "scratch");
  Check(e.CreateTable("users", Schema()
                                   .Int64("id", PrimaryKey())
                                   .String("email", Unique())
                                   .Int64("score")
                                   .Double("ratio", Default(0.5))
                                   .Bool("active", Default(true))
                                   .String("nickname", Default("anon"))
                                   .Bool("admin")
                                   .Double("balance", NotNull(), Default(0))),
        "users");
  Check(e.DropTable("scratch"), "drop scratch");
  Check(e.CreateTable("posts", Schema()
                                   .Int64("id", PrimaryKey())
                                   .Int64("user_id")
                                   .String("title", NotNull())
                                   .Int64("created_at")
                                   .Bool("is_published", Default(false))),
        "posts");
  Check(e.CreateTable("tags", Schema().String("name", ManualPrimaryKey()).String("note")), "tags");
  Check(e.CreateTable("empty", Schema().Int64("id", ManualPrimaryKey()).Double("x")), "empty");
  Check(e.CreateIndex("posts", "created_at"), "index");
  Check(e.AddForeignKey({.child_table = "posts",
                         .child_column = "user_id",
                         .parent_table = "users",
                         .parent_column = "id",
                         .on_delete = OnDelete::kCascade,
                         .on_update = OnUpdate::kCascade}),
        "foreign key");

  const double kInf = std::numeric_limits<double>::infinity();
  Attrs users[] = {
      {{"email", "ada@example.com"}, {"score", 10}, {"ratio", 1.25}, {"admin", true}},
      {{"email", "bob@example.com"}, {"score", Value()}, {"nickname", Value()}},
      {{"email", std::string("nul\0byte", 8)},
       {"score", std::numeric_limits<int64_t>::min()},
       {"ratio", -0.0},
       {"active", false},
       {"balance", kInf}},
      {{"email", "a much longer address that does not fit inline@example.com"},
       {"score", std::numeric_limits<int64_t>::max()},
       {"ratio", -kInf},
       {"nickname", "\xc3\xa9t\xc3\xa9 \xe2\x98\x83"},
       {"admin", false},
       {"balance", 5e-324}},
      {{"email", ""}, {"ratio", std::nan("")}, {"balance", 1.0e300}},
      {{"email", "eve@example.com"}, {"score", -1}},
  };
  for (const Attrs& a : users) OrDie(e.Insert("users", a), "insert user");

  for (int i = 0; i < 12; ++i) {
    OrDie(e.Insert("posts", {{"user_id", 1 + i % 3},
                             {"title", absl::StrCat("post ", i)},
                             {"created_at", 1000 + (i * 7) % 5},
                             {"is_published", i % 2 == 0}}),
          "insert post");
  }
  OrDie(e.Insert("posts", {{"user_id", Value()}, {"title", "orphan"}}), "orphan");
  // Deleting user 2 cascades to its posts; later inserts reuse their slots,
  // and moving a post to another user appends it to that user's children,
  // so posts.user_id's per-key order is no longer slot order.
  Check(e.Delete(OrDie(e.FindOrFail("users", 2), "find")), "delete user 2");
  Check(e.Delete(OrDie(e.FindOrFail("posts", 1), "find")), "delete post 1");
  OrDie(e.Insert("posts", {{"user_id", 3}, {"title", "reused slot"}, {"created_at", 1000}}),
        "insert");
  OrDie(e.Update(OrDie(e.FindOrFail("posts", 4), "find"), {{"user_id", 3}}), "move post");
  OrDie(e.Insert("users", {{"email", "late@example.com"}, {"id", 40}}), "user 40");

  OrDie(e.Insert("tags", {{"name", "red"}, {"note", "warm"}}), "tag");
  OrDie(e.Insert("tags", {{"name", "blue"}}), "tag");
  OrDie(e.Insert("tags", {{"name", ""}, {"note", ""}}), "tag");

  HasManyOptions posts;
  posts.on_delete = OnDelete::kCascade;
  posts.on_update = OnUpdate::kCascade;
  posts.on_unlink = OnUnlink::kDelete;
  posts.meta = {{"label", "Posts"}, {"limit", 50},        {"weight", 0.75},
                {"visible", true},  {"nothing", Value()}, {"", "empty key"}};
  AddRelations(w, "users", "posts", std::move(posts));
  HasManyOptions drafts;
  drafts.name = "drafts";
  drafts.on_query = [](Query&) {};
  AddRelations(w, "users", "posts", std::move(drafts));
  return w;
}

World MakeSmallWorld(int rows) {
  World w;
  Check(w.engine.CreateTable("t", Schema().Int64("id", PrimaryKey()).String("s").Bool("b")), "t");
  for (int i = 0; i < rows; ++i) {
    OrDie(w.engine.Insert("t", {{"s", absl::StrCat("v", i)}, {"b", i % 2 == 0}}), "insert");
  }
  return w;
}

std::string Reseal(std::string bytes) {
  if (bytes.size() < 32) return bytes;
  uint64_t length = bytes.size() - 32;
  for (int i = 0; i < 8; ++i) bytes[16 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  // Version 1 hashes the header then the payload; later versions the
  // payload then the header (persist/envelope.h).
  uint64_t sum;
  if (bytes[8] == 1) {
    sum = XXH3_64bits(bytes.data(), bytes.size() - 8);
  } else {
    std::string reordered = bytes.substr(24, bytes.size() - 32) + bytes.substr(0, 24);
    sum = XXH3_64bits(reordered.data(), reordered.size());
  }
  for (int i = 0; i < 8; ++i) {
    bytes[bytes.size() - 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  }
  return bytes;
}

void WriteFileOrDie(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::abort();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string MakeTempDir(absl::string_view name) {
  static int counter = 0;
  std::string dir = absl::StrCat(::testing::TempDir(), "/", name, "_", counter++);
  std::string cmd = absl::StrCat("rm -rf '", dir, "'");
  if (std::system(cmd.c_str()) != 0 || ::mkdir(dir.c_str(), 0755) != 0) {
    std::fprintf(stderr, "cannot create %s\n", dir.c_str());
    std::abort();
  }
  return dir;
}

}  // namespace kin::test
