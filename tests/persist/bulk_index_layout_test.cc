// Bulk inserts (InsertBatch, InsertMany) leave every hash index in the
// layout a snapshot load of the same data builds: a foreign-key index whose
// keys are compact ends dense even when an early large key would have made
// it sparse row by row, and a rolled-back batch restores the exact state.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/table.h"
#include "gtest/gtest.h"
#include "kin/row_batch.h"
#include "persist/snapshot.h"
#include "relations/relation_catalog.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

constexpr int64_t kUsers = 5'000;

// Foreign keys over 1..users * stride in a fixed pseudo-random order, so
// the first keys are large long before most keys are in.
std::vector<int64_t> UserIds(size_t n, int64_t users, int64_t stride, uint64_t seed) {
  std::vector<int64_t> out(n);
  uint64_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = (static_cast<int64_t>((x >> 33) % static_cast<uint64_t>(users)) + 1) * stride;
  }
  return out;
}

Engine MakeEngine() {
  Engine engine;
  EXPECT_OK(engine.CreateTable(
      "posts",
      Schema().Int64("id", PrimaryKey()).Int64("user_id", Indexed()).Int64("likes", Unique())));
  return engine;
}

// Per indexed column of posts: "user_id:dense" or "user_id:hashed".
std::string Layout(const Engine& engine) {
  const Table& t = *engine.FindTable("posts");
  std::string out;
  for (const ColumnSpec& c : t.schema().columns()) {
    const HashIndex* idx = t.index(*t.schema().Find(c.name));
    if (idx == nullptr) continue;
    absl::StrAppend(&out, c.name, idx->dense() ? ":dense " : ":hashed ");
  }
  return out;
}

std::string LoadedLayout(const Engine& engine) {
  RelationCatalog relations;
  absl::StatusOr<std::string> bytes = EncodeSnapshot(engine, relations);
  EXPECT_OK(bytes.status());
  absl::StatusOr<SnapshotContents> loaded = DecodeSnapshot(*bytes);
  EXPECT_OK(loaded.status());
  EXPECT_EQ(loaded->engine.DebugString(), engine.DebugString());
  return Layout(loaded->engine);
}

// The layout is `want`, a load of the same data builds the same one, and
// the indexes hold exactly the rows.
void ExpectLayout(const Engine& engine, const std::string& want) {
  EXPECT_EQ(Layout(engine), want);
  EXPECT_EQ(Layout(engine), LoadedLayout(engine));
  EXPECT_OK(engine.CheckConsistency());
}

RowBatch Batch(std::vector<int64_t> user_ids, int64_t first_like) {
  std::vector<int64_t> likes(user_ids.size());
  for (size_t i = 0; i < likes.size(); ++i) likes[i] = first_like + static_cast<int64_t>(i);
  RowBatch batch;
  batch.Int64("user_id", std::move(user_ids)).Int64("likes", std::move(likes));
  return batch;
}

TEST(BulkIndexLayoutTest, InsertBatchBuildsWhatALoadBuilds) {
  Engine engine = MakeEngine();
  ASSERT_OK(engine.InsertBatch("posts", Batch(UserIds(25'000, kUsers, 1, 7), 0)).status());
  ExpectLayout(engine, "id:dense user_id:dense likes:dense ");
}

TEST(BulkIndexLayoutTest, ASecondBatchIntoAHashedIndexEndsDense) {
  Engine engine = MakeEngine();
  // A first batch of one large key: hashed, as a load of it would be too.
  ASSERT_OK(engine.InsertBatch("posts", Batch({kUsers}, 0)).status());
  ExpectLayout(engine, "id:dense user_id:hashed likes:dense ");
  ASSERT_OK(engine.InsertBatch("posts", Batch(UserIds(25'000, kUsers, 1, 11), 1)).status());
  ExpectLayout(engine, "id:dense user_id:dense likes:dense ");
}

TEST(BulkIndexLayoutTest, InsertManyBuildsWhatALoadBuilds) {
  Engine engine = MakeEngine();
  std::vector<Attrs> rows;
  const std::vector<int64_t> users = UserIds(8'000, kUsers, 1, 13);
  for (size_t i = 0; i < users.size(); ++i) {
    rows.push_back({{"user_id", users[i]}, {"likes", static_cast<int64_t>(i)}});
  }
  ASSERT_OK(engine.InsertMany("posts", rows).status());
  ExpectLayout(engine, "id:dense user_id:dense likes:dense ");
}

TEST(BulkIndexLayoutTest, SparseKeysStayHashedAsALoadLeavesThem) {
  Engine engine = MakeEngine();
  ASSERT_OK(engine.InsertBatch("posts", Batch(UserIds(12'000, kUsers, 1'000'003, 17), 0)).status());
  ExpectLayout(engine, "id:dense user_id:hashed likes:dense ");
}

TEST(BulkIndexLayoutTest, RollbackRestoresTheExactState) {
  Engine engine = MakeEngine();
  ASSERT_OK(engine.InsertBatch("posts", Batch({kUsers, 3}, 0)).status());
  const std::string before = engine.DebugString();
  ASSERT_OK(engine.Begin());
  ASSERT_OK(engine.InsertBatch("posts", Batch(UserIds(10'000, kUsers, 1, 19), 2)).status());
  EXPECT_EQ(Layout(engine), "id:dense user_id:dense likes:dense ");
  ASSERT_OK(engine.Rollback());
  EXPECT_EQ(engine.DebugString(), before);
  EXPECT_OK(engine.CheckConsistency());
  // And the index keeps working after the rollback.
  ASSERT_OK(engine.InsertBatch("posts", Batch({5, kUsers}, 100)).status());
  EXPECT_EQ(engine.FindTable("posts")->index(ColumnId(1))->Find(int64_t{kUsers}).size(), 2u);
  EXPECT_OK(engine.CheckConsistency());
}

}  // namespace
}  // namespace kin
