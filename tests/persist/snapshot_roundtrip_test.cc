// Round trips: whatever is saved comes back with an identical
// DebugString(), through bytes, streams and files.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persist/snapshot.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::MakeWorld;
using ::kin::test::StatusIs;
using ::kin::test::World;
using ::testing::HasSubstr;

void ExpectSameRelations(const RelationCatalog& want, const RelationCatalog& got) {
  std::vector<const RelationSpec*> a = want.All();
  std::vector<const RelationSpec*> b = got.All();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(a[i]->DeclarationEquals(*b[i])) << a[i]->QualifiedName();
    EXPECT_FALSE(b[i]->on_query) << "on_query is code and is not persisted";
  }
}

TEST(SnapshotRoundTripTest, EmptyDatabase) {
  Engine engine;
  RelationCatalog relations;
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(engine, relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.engine.DebugString(), "");
  EXPECT_EQ(loaded.relations.size(), 0u);
  EXPECT_EQ(loaded.format_version, kSnapshotFormatVersion);
}

TEST(SnapshotRoundTripTest, WorldThroughBytes) {
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
  EXPECT_EQ(loaded.engine.TableNames(), world.engine.TableNames());
  EXPECT_EQ(loaded.engine.foreign_keys(), world.engine.foreign_keys());
  EXPECT_OK(loaded.engine.CheckConsistency());
  ExpectSameRelations(world.relations, loaded.relations);
  for (const std::string& name : world.engine.TableNames()) {
    EXPECT_EQ(loaded.engine.FindTable(name)->schema(), world.engine.FindTable(name)->schema())
        << name;
  }
}

TEST(SnapshotRoundTripTest, EveryTypeNullsAndSpecialValues) {
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  const Table* users = loaded.engine.FindTable("users");
  ASSERT_NE(users, nullptr);

  ASSERT_OK_AND_ASSIGN(Row ada, users->FindOrFail(1));
  EXPECT_EQ(ada.Get("email").value(), Value("ada@example.com"));
  EXPECT_EQ(ada.Get("ratio").value(), Value(1.25));
  EXPECT_EQ(ada.Get("nickname").value(), Value("anon"));  // the default
  EXPECT_EQ(ada.Get("admin").value(), Value(true));

  ASSERT_OK_AND_ASSIGN(Row third, users->FindOrFail(3));
  EXPECT_EQ(third.Get("email").value(), Value(std::string("nul\0byte", 8)));
  EXPECT_EQ(third.Get("score").value(), Value(std::numeric_limits<int64_t>::min()));
  EXPECT_TRUE(std::signbit(third.GetDouble("ratio").value()));
  EXPECT_EQ(third.Get("active").value(), Value(false));
  EXPECT_EQ(third.Get("admin").value(), Value());  // NULL bool
  EXPECT_EQ(third.GetDouble("balance").value(), std::numeric_limits<double>::infinity());

  ASSERT_OK_AND_ASSIGN(Row fourth, users->FindOrFail(4));
  EXPECT_EQ(fourth.Get("score").value(), Value(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(fourth.Get("nickname").value(), Value("\xc3\xa9t\xc3\xa9 \xe2\x98\x83"));
  EXPECT_EQ(fourth.GetDouble("balance").value(), 5e-324);

  ASSERT_OK_AND_ASSIGN(Row fifth, users->FindOrFail(5));
  EXPECT_TRUE(std::isnan(fifth.GetDouble("ratio").value()));
  EXPECT_EQ(fifth.Get("email").value(), Value(""));
  EXPECT_EQ(fifth.Get("score").value(), Value());  // NULL int64

  const Table* tags = loaded.engine.FindTable("tags");
  ASSERT_OK_AND_ASSIGN(Row blue, tags->FindOrFail("blue"));
  EXPECT_EQ(blue.Get("note").value(), Value());  // NULL string
  ASSERT_OK_AND_ASSIGN(Row empty_key, tags->FindOrFail(""));
  EXPECT_EQ(empty_key.Get("note").value(), Value(""));  // empty, not NULL

  EXPECT_TRUE(loaded.engine.FindTable("empty")->empty());
}

TEST(SnapshotRoundTripTest, DeletedSlotsGenerationsAndFreeList) {
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  const Table* want = world.engine.FindTable("posts");
  const Table* got = loaded.engine.FindTable("posts");
  ASSERT_FALSE(want->free_slots().empty());
  EXPECT_EQ(got->slot_count(), want->slot_count());
  EXPECT_EQ(got->size(), want->size());
  EXPECT_TRUE(std::equal(got->free_slots().begin(), got->free_slots().end(),
                         want->free_slots().begin(), want->free_slots().end()));
  EXPECT_TRUE(std::equal(got->generations().begin(), got->generations().end(),
                         want->generations().begin(), want->generations().end()));
  EXPECT_EQ(got->next_auto_increment(), want->next_auto_increment());
  EXPECT_EQ(loaded.engine.FindTable("users")->next_auto_increment(), 41);
  // Handles read after the load carry the slots' real generations: they
  // stay valid through later deletes of other rows, and a reused slot's
  // old generation is stale.
  EXPECT_FALSE(got->all_generations_zero());
  std::vector<Row> rows;
  for (const Row& r : *got) rows.push_back(r);
  ASSERT_GE(rows.size(), 2u);
  bool reused = false;
  for (const Row& r : rows) reused = reused || r.generation() != 0;
  EXPECT_TRUE(reused) << "the world reuses a slot before saving";
  ASSERT_OK(loaded.engine.Delete(rows.front()));
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_TRUE(rows[i].valid()) << i;
  for (const Row& r : rows) {
    if (r.generation() == 0) continue;
    EXPECT_FALSE(Row(got, r.id(), r.generation() - 1).valid());
  }
}

TEST(SnapshotRoundTripTest, ChildOrderSurvivesSlotReuse) {
  World world = MakeWorld();
  const Table* posts = world.engine.FindTable("posts");
  ColumnId user_id = *posts->FindColumn("user_id");
  std::span<const RowId> want = posts->Children(user_id, int64_t{3});
  ASSERT_FALSE(std::is_sorted(want.begin(), want.end())) << "fixture must reorder children";

  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  std::span<const RowId> got = loaded.engine.FindTable("posts")->Children(user_id, int64_t{3});
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin(), want.end()));
}

TEST(SnapshotRoundTripTest, LoadedEngineContinuesIdentically) {
  // A resumed simulation must make the same choices as the original: same
  // reused slots, same generated ids, same cascades.
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  for (Engine* e : {&world.engine, &loaded.engine}) {
    ASSERT_OK(e->Insert("posts", {{"user_id", 1}, {"title", "after"}}).status());
    ASSERT_OK(e->Insert("users", {{"email", "new@example.com"}}).status());
    ASSERT_OK_AND_ASSIGN(Row user, e->FindOrFail("users", 3));
    ASSERT_OK(e->Delete(user));
    ASSERT_OK(e->Insert("posts", {{"user_id", 40}, {"title", "reuse"}}).status());
    ASSERT_OK_AND_ASSIGN(Row ada, e->FindOrFail("users", 1));
    ASSERT_OK(e->Update(ada, {{"id", 100}}).status());  // cascades to posts.user_id
  }
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
}

TEST(SnapshotRoundTripTest, DefaultsApplyAfterLoad) {
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  ASSERT_OK_AND_ASSIGN(Row row, loaded.engine.Insert("users", {{"email", "d@example.com"}}));
  EXPECT_EQ(row.Get("ratio").value(), Value(0.5));
  EXPECT_EQ(row.Get("active").value(), Value(true));
  EXPECT_EQ(row.Get("nickname").value(), Value("anon"));
  EXPECT_EQ(row.Get("id").value(), Value(41));
}

TEST(SnapshotRoundTripTest, EncodingIsDeterministic) {
  World a = MakeWorld();
  World b = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string first, EncodeSnapshot(a.engine, a.relations));
  ASSERT_OK_AND_ASSIGN(std::string second, EncodeSnapshot(b.engine, b.relations));
  EXPECT_EQ(first, second);
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(first));
  ASSERT_OK_AND_ASSIGN(std::string again, EncodeSnapshot(loaded.engine, loaded.relations));
  EXPECT_EQ(again, first);
}

TEST(SnapshotRoundTripTest, OnQueryIsReattachedByName) {
  World world = MakeWorld();
  ASSERT_TRUE(world.relations.Find("users", "drafts")->on_query);
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_FALSE(loaded.relations.Find("users", "drafts")->on_query);
  EXPECT_OK(loaded.relations.SetOnQuery("users", "drafts", [](Query&) {}));
  EXPECT_TRUE(loaded.relations.Find("users", "drafts")->on_query);
}

TEST(SnapshotRoundTripTest, MetaOfEveryType) {
  World world = MakeWorld();
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  const RelationSpec* posts = loaded.relations.Find("users", "posts");
  ASSERT_NE(posts, nullptr);
  EXPECT_EQ(posts->meta.at("label"), Value("Posts"));
  EXPECT_EQ(posts->meta.at("limit"), Value(50));
  EXPECT_EQ(posts->meta.at("weight"), Value(0.75));
  EXPECT_EQ(posts->meta.at("visible"), Value(true));
  EXPECT_EQ(posts->meta.at("nothing"), Value());
  EXPECT_EQ(posts->meta.at(""), Value("empty key"));
  EXPECT_EQ(posts->on_delete, OnDelete::kCascade);
  EXPECT_EQ(posts->on_update, OnUpdate::kCascade);
  EXPECT_EQ(posts->on_unlink, OnUnlink::kDelete);
  EXPECT_EQ(posts->inverse, "user");
  const RelationSpec* user = loaded.relations.Find("posts", "user");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->kind, RelationKind::kBelongsTo);
}

// Format 3 saves each relation's scope (RelationScope): it is data, and a
// scoped relation read without it would see another owner's rows.
TEST(SnapshotRoundTripTest, RelationScopesAreSaved) {
  World world = MakeWorld();
  HasManyOptions drafts;
  drafts.name = "unpublished";
  drafts.scope = {{"is_published", false}, {"title", "orphan"}};
  drafts.create_inverse = false;
  ASSERT_OK_AND_ASSIGN(std::vector<RelationSpec> specs,
                       world.relations.ResolveHasMany(world.engine, "users", "posts", drafts));
  for (RelationSpec& spec : specs) ASSERT_OK(world.relations.Add(std::move(spec)));
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.format_version, kSnapshotFormatVersion);
  ExpectSameRelations(world.relations, loaded.relations);
  const RelationSpec* got = loaded.relations.Find("users", "unpublished");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->scope, (RelationScope{{"is_published", Value(false)}, {"title", "orphan"}}));
  EXPECT_TRUE(loaded.relations.Find("users", "posts")->scope.empty());
}

TEST(SnapshotRoundTripTest, ThroughStreamsBackToBack) {
  World world = MakeWorld();
  World small = test::MakeSmallWorld(3);
  std::stringstream stream;
  ASSERT_OK(WriteSnapshot(world.engine, world.relations, stream));
  ASSERT_OK(WriteSnapshot(small.engine, small.relations, stream));
  stream << "tail";
  ASSERT_OK_AND_ASSIGN(SnapshotContents first, ReadSnapshot(stream));
  ASSERT_OK_AND_ASSIGN(SnapshotContents second, ReadSnapshot(stream));
  EXPECT_EQ(first.engine.DebugString(), world.engine.DebugString());
  EXPECT_EQ(second.engine.DebugString(), small.engine.DebugString());
  std::string rest;
  stream >> rest;
  EXPECT_EQ(rest, "tail");
  EXPECT_THAT(ReadSnapshot(stream), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("(stream)")));
}

TEST(SnapshotRoundTripTest, ThroughFile) {
  World world = MakeWorld();
  std::string path = test::MakeTempDir("roundtrip") + "/world.kin";
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, LoadSnapshotFile(path));
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
  ExpectSameRelations(world.relations, loaded.relations);
  // The file is exactly the encoded bytes.
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  EXPECT_EQ(test::ReadFileOrDie(path), bytes);
}

TEST(SnapshotRoundTripTest, RefusesToSaveInsideATransaction) {
  World world = MakeWorld();
  ASSERT_OK(world.engine.Begin());
  ASSERT_OK(world.engine.Insert("tags", {{"name", "uncommitted"}}).status());
  EXPECT_THAT(EncodeSnapshot(world.engine, world.relations),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("transaction")));
  std::string path = test::MakeTempDir("tx") + "/world.kin";
  EXPECT_THAT(SaveSnapshotFile(world.engine, world.relations, path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path)));
  ASSERT_OK(world.engine.Rollback());
  EXPECT_OK(SaveSnapshotFile(world.engine, world.relations, path));
}

TEST(SnapshotRoundTripTest, ManyRowsAndLongStrings) {
  World world = test::MakeSmallWorld(5000);
  ASSERT_OK(world.engine.Insert("t", {{"s", std::string(100000, 'x')}}).status());
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
}

TEST(SnapshotRoundTripTest, BytesAtAnyAlignmentDecodeAlike) {
  // A file read whole is 8-aligned, so its blocks are copied as they lie;
  // bytes from elsewhere may start anywhere and are decoded value by value.
  World small = test::MakeSmallWorld(3000);
  ASSERT_OK(small.engine.Insert("t", {{"s", std::string(300, 'z')}}).status());
  World every_type = MakeWorld();
  for (World* world : {&small, &every_type}) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world->engine, world->relations));
    const std::string want = world->engine.DebugString();
    for (size_t shift = 0; shift < 8; ++shift) {
      std::vector<uint64_t> storage(bytes.size() / 8 + 2);  // 8-aligned
      char* start = reinterpret_cast<char*>(storage.data()) + shift;
      std::memcpy(start, bytes.data(), bytes.size());
      ASSERT_OK_AND_ASSIGN(SnapshotContents loaded,
                           DecodeSnapshot(absl::string_view(start, bytes.size())));
      EXPECT_EQ(loaded.engine.DebugString(), want) << "shifted by " << shift;
      EXPECT_OK(loaded.engine.CheckConsistency());
    }
  }
}

TEST(SnapshotRoundTripTest, BigFileThroughTheSinkBuffer) {
  // Many times the save buffer (256 KiB), with columns and strings that
  // straddle its end and a string larger than it.
  World world = test::MakeSmallWorld(150000);
  ASSERT_OK(world.engine.Insert("t", {{"s", std::string(3 << 20, 'y')}}).status());
  std::string path = test::MakeTempDir("big") + "/big.kin";
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(world.engine, world.relations));
  EXPECT_EQ(test::ReadFileOrDie(path), bytes) << "file and bytes must be the same snapshot";
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, LoadSnapshotFile(path));
  EXPECT_EQ(loaded.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
}

TEST(SnapshotRoundTripTest, RandomOperationsRoundTrip) {
  // Deleted and reused slots, NULL keys, keys moved between parents, dense
  // and hashed int64 indexes, a string index: the loaded engine (indexes
  // rebuilt in bulk, in the stored per-key order) dumps identically, and
  // goes on identically.
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    SCOPED_TRACE(seed);
    World w;
    ASSERT_OK(w.engine.CreateTable("t", Schema()
                                            .Int64("id", PrimaryKey())
                                            .Int64("owner")
                                            .Int64("far")
                                            .String("tag")
                                            .Int64("plain")));
    for (const char* column : {"owner", "far", "tag"}) {
      ASSERT_OK(w.engine.CreateIndex("t", column));
    }
    std::mt19937_64 rng(seed);
    auto owner = [&]() -> Value {
      return rng() % 7 == 0 ? Value() : Value(static_cast<int64_t>(rng() % 40));
    };
    auto far = [&]() -> Value {
      return Value(static_cast<int64_t>(rng() % 30) * int64_t{1000003} - 9000000);
    };
    auto tag = [&]() -> Value {
      return rng() % 5 == 0 ? Value() : Value(absl::StrCat("tag-", rng() % 25));
    };
    std::vector<int64_t> ids;
    for (int op = 0; op < 3000; ++op) {
      uint64_t what = rng() % 10;
      if (what < 5 || ids.empty()) {
        ASSERT_OK_AND_ASSIGN(
            Row row,
            w.engine.Insert(
                "t", {{"owner", owner()}, {"far", far()}, {"tag", tag()}, {"plain", int64_t(op)}}));
        ids.push_back(row.Get("id")->AsInt64());
        continue;
      }
      size_t i = rng() % ids.size();
      ASSERT_OK_AND_ASSIGN(Row row, w.engine.FindOrFail("t", ids[i]));
      if (what < 7) {
        ASSERT_OK(w.engine.Delete(row));
        ids[i] = ids.back();
        ids.pop_back();
      } else {
        ASSERT_OK(
            w.engine.Update(row, {{"owner", owner()}, {"tag", tag()}, {"far", far()}}).status());
      }
    }
    ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(w.engine, w.relations));
    ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
    ASSERT_EQ(loaded.engine.DebugString(), w.engine.DebugString());
    ASSERT_OK(loaded.engine.CheckConsistency());
    // Same writes on both: same state.
    for (Engine* e : {&w.engine, &loaded.engine}) {
      ASSERT_OK_AND_ASSIGN(Row first, e->FindOrFail("t", ids.front()));
      ASSERT_OK(e->Update(first, {{"owner", int64_t{3}}}).status());
      ASSERT_OK(e->Insert("t", {{"owner", int64_t{3}}, {"tag", "tag-1"}}).status());
      ASSERT_OK(e->Delete(*e->FindOrFail("t", ids.back())));
    }
    EXPECT_EQ(loaded.engine.DebugString(), w.engine.DebugString());
  }
}

TEST(SnapshotRoundTripTest, ReadsFormatVersion1) {
  // Written by the version-1 encoder from MakeWorld() (test fixture as of
  // format version 1): old saves stay readable.
  std::string bytes = test::ReadFileOrDie("tests/persist/testdata/world_v1.kin");
  ASSERT_EQ(bytes[8], 1);
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.format_version, 1u);
  World world = MakeWorld();
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
  ExpectSameRelations(world.relations, loaded.relations);
  // Saved again, it is a current-version snapshot of the same database.
  ASSERT_OK_AND_ASSIGN(std::string again, EncodeSnapshot(loaded.engine, loaded.relations));
  EXPECT_EQ(again[8], static_cast<char>(kSnapshotFormatVersion));
  ASSERT_OK_AND_ASSIGN(SnapshotContents reloaded, DecodeSnapshot(again));
  EXPECT_EQ(reloaded.engine.DebugString(), world.engine.DebugString());
  // Through a file, hashed as it is read.
  std::string path = test::MakeTempDir("v1") + "/world_v1.kin";
  test::WriteFileOrDie(path, bytes);
  ASSERT_OK_AND_ASSIGN(SnapshotContents from_file, LoadSnapshotFile(path));
  EXPECT_EQ(from_file.engine.DebugString(), world.engine.DebugString());
  // Its checksum is checked the version-1 way.
  bytes[bytes.size() / 2] ^= 1;
  test::WriteFileOrDie(path, bytes);
  EXPECT_THAT(LoadSnapshotFile(path),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
  EXPECT_THAT(DecodeSnapshot(bytes),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum mismatch")));
}

}  // namespace
}  // namespace kin
