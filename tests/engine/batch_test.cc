// Engine::InsertBatch: the columnar bulk path.

#include <string>
#include <vector>

#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable("posts", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("user_id", Indexed())
                                               .String("slug", Unique())
                                               .Double("rating")
                                               .Bool("is_published", Default(false))
                                               .Int64("likes", NotNull(), Default(0))));
  }
  const Table& posts() { return *engine_.FindTable("posts"); }
  Engine engine_;
};

TEST_F(BatchTest, AppendsRowsWithDefaultsIdsAndIndexes) {
  RowBatch batch;
  batch.Int64("user_id", {7, 8, 7}).String("slug", {"a", "b", "c"}).Int64("rating", {1, 2, 3});
  ASSERT_OK_AND_ASSIGN(size_t n, engine_.InsertBatch("posts", std::move(batch)));
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(posts().size(), 3u);
  EXPECT_THAT(posts().Int64Column(ColumnId(0)), ElementsAre(1, 2, 3));         // auto-increment
  EXPECT_THAT(posts().DoubleColumn(ColumnId(3)), ElementsAre(1.0, 2.0, 3.0));  // int64 → double
  EXPECT_EQ(posts().GetValue(RowId(1), ColumnId(4)), Value(false));            // default
  EXPECT_EQ(posts().GetValue(RowId(1), ColumnId(5)), Value(0));
  EXPECT_THAT(posts().Children(ColumnId(1), int64_t{7}), ElementsAre(RowId(0), RowId(2)));
  ASSERT_OK_AND_ASSIGN(Row b, posts().FindOrFail(2));
  EXPECT_EQ(b.GetString("slug").value(), "b");
  // The counter moved past the batch.
  ASSERT_OK_AND_ASSIGN(Row next, engine_.Insert("posts", {{"slug", "d"}}));
  EXPECT_EQ(next.GetInt64("id").value(), 4);
  ASSERT_OK(engine_.CheckConsistency());
}

// A bulk load into an empty table holds its data once: the fixed-width
// vectors moved in become the columns (same buffers), strings are copied
// into the column's store (8-byte cells, long ones in its blob); a second
// batch appends normally; a rolled-back first batch leaves the table as it
// was.
TEST_F(BatchTest, FirstBatchAdoptsTheCallersVectors) {
  std::vector<int64_t> users = {7, 8, 7};
  std::vector<std::string> slugs = {"a-slug-longer-than-fifteen-bytes", "b", "c"};
  const int64_t* users_buffer = users.data();
  RowBatch batch;
  batch.Int64("user_id", std::move(users)).String("slug", std::move(slugs));
  ASSERT_OK(engine_.InsertBatch("posts", std::move(batch)).status());
  EXPECT_EQ(posts().Int64Column(ColumnId(1)).data(), users_buffer);
  const StringStore& stored = posts().StringColumn(ColumnId(2));
  ASSERT_EQ(stored.size(), 3u);
  EXPECT_EQ(stored[0], "a-slug-longer-than-fifteen-bytes");
  EXPECT_EQ(stored[1], "b");
  EXPECT_EQ(stored[2], "c");
  EXPECT_EQ(stored.blob_bytes(), 1 + std::string_view("a-slug-longer-than-fifteen-bytes").size());

  RowBatch more;
  more.Int64("user_id", {9}).String("slug", {"d"});
  ASSERT_OK(engine_.InsertBatch("posts", std::move(more)).status());
  EXPECT_THAT(posts().Int64Column(ColumnId(1)), ElementsAre(7, 8, 7, 9));
  EXPECT_EQ(posts().GetValue(RowId(0), ColumnId(2)), Value("a-slug-longer-than-fifteen-bytes"));
  EXPECT_THAT(posts().Children(ColumnId(1), int64_t{7}), ElementsAre(RowId(0), RowId(2)));
  ASSERT_OK(engine_.CheckConsistency());
}

TEST_F(BatchTest, RolledBackFirstBatchLeavesTheTableAsItWas) {
  const std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  RowBatch batch;
  batch.Int64("user_id", std::vector<int64_t>{1, 2})
      .String("slug", std::vector<std::string>{"x", "y"});
  ASSERT_OK(engine_.InsertBatch("posts", std::move(batch)).status());
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  ASSERT_OK(engine_.CheckConsistency());
  RowBatch again;
  again.Int64("user_id", std::vector<int64_t>{3}).String("slug", std::vector<std::string>{"z"});
  ASSERT_OK(engine_.InsertBatch("posts", std::move(again)).status());
  EXPECT_THAT(posts().Int64Column(ColumnId(1)), ElementsAre(3));
}

TEST_F(BatchTest, NullsAndExplicitKeys) {
  RowBatch batch;
  batch.Int64("id", {10, 20})
      .Int64("user_id", {0, 5})
      .Nulls("user_id", {true, false})
      .Bool("is_published", {true, false});
  ASSERT_OK(engine_.InsertBatch("posts", std::move(batch)).status());
  EXPECT_TRUE(posts().GetValue(RowId(0), ColumnId(1)).is_null());
  EXPECT_TRUE(posts().GetValue(RowId(0), ColumnId(2)).is_null());  // slug omitted → NULL
  EXPECT_EQ(posts().GetValue(RowId(0), ColumnId(4)), Value(true));
  EXPECT_EQ(posts().next_auto_increment(), 21);
  EXPECT_TRUE(posts().Children(ColumnId(1), int64_t{0}).empty());  // NULL is not indexed
}

TEST_F(BatchTest, AnEmptyBatchInsertsNothing) {
  EXPECT_EQ(engine_.InsertBatch("posts", RowBatch()).value(), 0u);
  EXPECT_TRUE(posts().empty());
}

TEST_F(BatchTest, BadBatchesFailAndChangeNothing) {
  ASSERT_OK(engine_.Insert("posts", {{"slug", "taken"}}).status());
  const std::string before = engine_.DebugString();
  auto check = [&](RowBatch batch, absl::StatusCode code, const std::string& message) {
    EXPECT_THAT(engine_.InsertBatch("posts", std::move(batch)), StatusIs(code, HasSubstr(message)));
    EXPECT_EQ(engine_.DebugString(), before);
  };
  check(RowBatch().Int64("usr_id", {1}), absl::StatusCode::kInvalidArgument,
        "table 'posts': no column named 'usr_id'");
  check(RowBatch().String("user_id", {"x"}), absl::StatusCode::kInvalidArgument,
        "posts.user_id: expected int64 values, got string");
  check(RowBatch().Int64("user_id", {1, 2}).String("slug", {"x"}),
        absl::StatusCode::kInvalidArgument, "batch column 'slug' has 1 values, expected 2");
  check(RowBatch().String("slug", {"x", "y", "x"}), absl::StatusCode::kAlreadyExists,
        "posts.slug: duplicate value \"x\"");
  check(RowBatch().String("slug", {"new", "taken"}), absl::StatusCode::kAlreadyExists,
        "posts.slug: duplicate value \"taken\"");
  check(RowBatch().Int64("id", {1}), absl::StatusCode::kAlreadyExists,
        "posts.id: duplicate value 1");
  check(RowBatch().Int64("likes", {1}).Nulls("likes", {true}), absl::StatusCode::kInvalidArgument,
        "posts.likes: NULL for a NOT NULL column");
  check(RowBatch().Int64("user_id", {1}).Nulls("slug", {true}), absl::StatusCode::kInvalidArgument,
        "Nulls() for column 'slug'");
  EXPECT_THAT(engine_.InsertBatch("pots", RowBatch()), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(BatchTest, MissingNotNullColumnIsAnError) {
  ASSERT_OK(
      engine_.CreateTable("tags", Schema().Int64("id", PrimaryKey()).String("name", NotNull())));
  EXPECT_THAT(engine_.InsertBatch("tags", RowBatch().Int64("id", {1})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tags.name: missing value for a NOT NULL column")));
}

TEST_F(BatchTest, RollbackRestoresEverythingAndStalesHandles) {
  ASSERT_OK(engine_.Insert("posts", {{"slug", "keep"}, {"user_id", 7}}).status());
  const std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(
      engine_.InsertBatch("posts", RowBatch().Int64("user_id", {7, 7}).String("slug", {"p", "q"}))
          .status());
  ASSERT_OK_AND_ASSIGN(Row q, posts().FindOrFail(3));
  ASSERT_OK(engine_.Update(q, {{"user_id", 9}}).status());
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_FALSE(q.valid());
  // The slot is taken again by a new row; the old handle stays stale.
  ASSERT_OK(engine_.InsertBatch("posts", RowBatch().String("slug", {"r", "s", "t"})).status());
  EXPECT_FALSE(q.valid());
  ASSERT_OK(engine_.CheckConsistency());
}

TEST_F(BatchTest, BatchesAppendEvenWhenSlotsAreFree) {
  ASSERT_OK_AND_ASSIGN(Row a, engine_.Insert("posts", {{"slug", "a"}}));
  ASSERT_OK(engine_.Delete(a));
  ASSERT_OK(engine_.InsertBatch("posts", RowBatch().String("slug", {"b"})).status());
  EXPECT_EQ(posts().slot_count(), 2u);
  EXPECT_EQ(posts().free_slots().size(), 1u);
  ASSERT_OK(engine_.CheckConsistency());
}

}  // namespace
}  // namespace kin
