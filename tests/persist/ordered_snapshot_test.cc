// Ordered indexes through snapshots: the definitions (Ordered() and
// CreateIndex(kOrdered) on an existing table) are saved with the schema and
// the indexes are rebuilt in bulk on load, equal to the saved ones.

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/query.h"
#include "persist/snapshot.h"
#include "query/internal/query_access.h"
#include "relations/relation_catalog.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(OrderedSnapshotTest, RoundTripKeepsDefinitionsAndContents) {
  Engine engine;
  ASSERT_OK(engine.CreateTable("players", Schema()
                                              .Int64("id", PrimaryKey())
                                              .Int64("score", Ordered())
                                              .Double("rating")
                                              .String("name", Ordered())
                                              .Bool("active", Ordered())));
  for (int i = 1; i <= 200; ++i) {
    ASSERT_OK(engine
                  .Insert("players", {{"score", i % 17 == 0 ? Value() : Value(int64_t{i % 50})},
                                      {"rating", i % 31 == 0 ? std::nan("") : i * 0.5},
                                      {"name", absl::StrCat("n", i % 23)},
                                      {"active", i % 3 == 0}})
                  .status());
  }
  for (int i = 5; i <= 200; i += 9) {
    ASSERT_OK(engine.Delete(engine.FindOrFail("players", Value(int64_t{i})).value()));
  }
  ASSERT_OK(engine.Insert("players", {{"score", 7}}).status());  // reuses a slot
  ASSERT_OK(engine.CreateIndex("players", "rating", IndexKind::kOrdered));
  RelationCatalog relations;
  ASSERT_OK_AND_ASSIGN(std::string bytes, EncodeSnapshot(engine, relations));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, DecodeSnapshot(bytes));
  EXPECT_EQ(loaded.engine.DebugString(), engine.DebugString());
  EXPECT_THAT(loaded.engine.DebugString(), HasSubstr("ordered index rating: "));
  EXPECT_OK(loaded.engine.CheckConsistency());
  const Table* t = loaded.engine.FindTable("players");
  EXPECT_TRUE(t->schema().columns()[2].ordered);
  // The loaded index serves queries, and stays maintained.
  Query q = internal::QueryAccess::Make(loaded.engine, "players", nullptr);
  q.WhereBetween("score", 10, 11);
  EXPECT_THAT(*q.Explain(), StartsWith("index range players.score"));
  EXPECT_EQ(*q.Count(), *internal::QueryAccess::Make(engine, "players", nullptr)
                             .WhereBetween("score", 10, 11)
                             .Count());
  ASSERT_OK(loaded.engine.Insert("players", {{"score", 10}}).status());
  EXPECT_OK(loaded.engine.CheckConsistency());
}

}  // namespace
}  // namespace kin
