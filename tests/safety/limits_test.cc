// Deep cascades and deeply nested queries end in a Status naming the limit,
// never in a stack overflow (these run under ASan, whose larger frames made
// the old recursive cascade overflow at 2,000 rows).

#include <functional>
#include <string>
#include <vector>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::HasSubstr;

// categories(id, parent_id) with parent_id -> id on delete `action`, holding
// a chain 1 <- 2 <- ... <- n (each row the child of the one before).
Database Chain(int64_t n, OnDelete action) {
  Database db;
  EXPECT_OK(db.CreateTable("categories",
                           Schema().Int64("id", PrimaryKey()).Int64("parent_id").String("name")));
  EXPECT_OK(db.HasMany(
      "categories", "categories",
      {.name = "children", .foreign_key = "parent_id", .inverse = "parent", .on_delete = action}));
  std::vector<int64_t> ids(n);
  std::vector<int64_t> parents(n);
  std::vector<bool> no_parent(n, false);
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = i + 1;
    parents[i] = i;
  }
  no_parent[0] = true;
  RowBatch batch;
  batch.Int64("id", std::move(ids))
      .Int64("parent_id", std::move(parents))
      .Nulls("parent_id", no_parent);
  EXPECT_THAT(db.InsertBatch("categories", std::move(batch)), IsOkAndHolds(static_cast<size_t>(n)));
  return db;
}

TEST(CascadeDepthTest, AChainOfTwoThousandCascades) {
  Database db = Chain(2000, OnDelete::kCascade);
  ASSERT_OK_AND_ASSIGN(Row root, db.FindOrFail("categories", 1));
  ASSERT_OK(db.Delete(root));
  EXPECT_TRUE(db.FindTable("categories")->empty());
  EXPECT_OK(db.CheckConsistency());
}

TEST(CascadeDepthTest, AChainAtTheLimitCascadesAndOnePastItIsRefused) {
  {
    Database db = Chain(static_cast<int64_t>(Database::kMaxCascadeDepth), OnDelete::kCascade);
    ASSERT_OK_AND_ASSIGN(Row root, db.FindOrFail("categories", 1));
    ASSERT_OK(db.Delete(root));
    EXPECT_TRUE(db.FindTable("categories")->empty());
  }
  Database db = Chain(static_cast<int64_t>(Database::kMaxCascadeDepth) + 1, OnDelete::kCascade);
  ASSERT_OK_AND_ASSIGN(Row root, db.FindOrFail("categories", 1));
  const std::string before = db.DebugString();
  EXPECT_THAT(db.Delete(root),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cascade deeper than 100000 rows (kMaxCascadeDepth)")));
  EXPECT_EQ(db.DebugString(), before);
}

TEST(CascadeDepthTest, DeepCascadeOrderMatchesTheRecursiveOrder) {
  // A tree: 1 has children 2 and 5; 2 has 3 and 4. Depth first, children in
  // index order: 1, 2, 3, 4, 5 freed in that order, so the free list (most
  // recently freed first) hands out 5's slot first.
  Database db;
  ASSERT_OK(db.CreateTable("nodes", Schema().Int64("id", PrimaryKey()).Int64("parent_id")));
  ASSERT_OK(db.HasMany("nodes", "nodes",
                       {.name = "children",
                        .foreign_key = "parent_id",
                        .inverse = "parent",
                        .on_delete = OnDelete::kCascade}));
  ASSERT_OK(db.Insert("nodes", {{"id", 1}}).status());
  ASSERT_OK(db.Insert("nodes", {{"id", 2}, {"parent_id", 1}}).status());
  ASSERT_OK(db.Insert("nodes", {{"id", 3}, {"parent_id", 2}}).status());
  ASSERT_OK(db.Insert("nodes", {{"id", 4}, {"parent_id", 2}}).status());
  ASSERT_OK(db.Insert("nodes", {{"id", 5}, {"parent_id", 1}}).status());
  ASSERT_OK(db.Delete(db.FindOrFail("nodes", 1).value()));
  EXPECT_THAT(db.FindTable("nodes")->free_slots(), ::testing::ElementsAre(0, 1, 2, 3, 4));
}

// Where(group) nested `depth` levels deep, the innermost holding id = 1.
void NestGroups(Query& q, int depth) {
  if (depth == 0) {
    q.Where("id", 1);
    return;
  }
  q.Where([depth](Query& sub) { NestGroups(sub, depth - 1); });
}

TEST(NestingTest, WhereGroupsNestUpToTheLimit) {
  Database db = Chain(3, OnDelete::kCascade);
  Query ok = db.Query("categories");
  NestGroups(ok, Query::kMaxNesting);
  EXPECT_THAT(ok.Count(), IsOkAndHolds(1));
  Query deep = db.Query("categories");
  NestGroups(deep, Query::kMaxNesting + 1);
  EXPECT_THAT(deep.Count(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("a where group nested deeper than 64 levels "
                                               "(Query::kMaxNesting)")));
}

TEST(NestingTest, AThousandsDeepGroupStopsRecordingAtTheLimit) {
  Database db = Chain(3, OnDelete::kCascade);
  int calls = 0;
  std::function<void(Query&)> nest = [&](Query& q) {
    ++calls;
    q.Where(nest);  // would recurse forever if the builder kept calling
  };
  Query q = db.Query("categories");
  nest(q);
  EXPECT_EQ(calls, Query::kMaxNesting + 1);
  EXPECT_THAT(q.Get(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kMaxNesting")));
}

TEST(NestingTest, RelationCallbacksCountTowardTheLimit) {
  Database db = Chain(3, OnDelete::kCascade);
  std::function<void(Query&)> nest = [&](Query& q) { q.WhereHas("children", nest); };
  Query q = db.Query("categories");
  nest(q);
  EXPECT_THAT(q.Count(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("a relation callback nested deeper than 64")));
  std::function<void(Query&)> preload = [&](Query& q) { q.Preload("children", preload); };
  Query p = db.Query("categories");
  preload(p);
  EXPECT_THAT(p.Get(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kMaxNesting")));
}

}  // namespace
}  // namespace kin::test
