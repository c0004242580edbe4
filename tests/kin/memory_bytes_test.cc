// Database::MemoryBytes against what malloc actually holds (mallinfo2),
// on tables large enough that per-allocation overheads show: it must match
// the heap growth of building the data within 10%, so memory budgets a game
// sets from it hold.

#include <malloc.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/row_batch.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMallocReplaced = true;  // ASan's allocator: mallinfo2 sees nothing
#else
constexpr bool kMallocReplaced = false;
#endif

size_t HeapInUse() {
  malloc_trim(0);
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;  // large blocks are mmapped apart
}

// Heap growth of building `build`'s database, and its MemoryBytes.
template <typename Build>
std::pair<size_t, size_t> Measure(Build build) {
  const size_t before = HeapInUse();
  Database db;
  build(db);
  const size_t grown = HeapInUse() - before;
  return {grown, db.MemoryBytes()};
}

void ExpectWithin10Percent(std::pair<size_t, size_t> m, const char* what) {
  const double ratio = static_cast<double>(m.second) / static_cast<double>(m.first);
  EXPECT_GT(ratio, 0.9) << what << ": MemoryBytes " << m.second << ", heap grew " << m.first;
  EXPECT_LT(ratio, 1.1) << what << ": MemoryBytes " << m.second << ", heap grew " << m.first;
}

constexpr int kUsers = 20'000;
constexpr int kPosts = 200'000;

TEST(MemoryBytesTest, MatchesHeapGrowthForABulkLoad) {
  if (kMallocReplaced) GTEST_SKIP() << "malloc is replaced (sanitizer)";
  ExpectWithin10Percent(
      Measure([](Database& db) {
        ASSERT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name")));
        ASSERT_OK(db.CreateTable("posts", Schema()
                                              .Int64("id", PrimaryKey())
                                              .Int64("user_id", Indexed())
                                              .String("title")
                                              .Double("rating")));
        ASSERT_OK(db.HasMany("users", "posts"));
        std::vector<std::string> names;
        for (int i = 0; i < kUsers; ++i) names.push_back(absl::StrCat("user ", i));
        RowBatch users;
        users.String("name", std::move(names));
        ASSERT_OK(db.InsertBatch("users", std::move(users)).status());
        std::vector<int64_t> owners;
        std::vector<std::string> titles;
        std::vector<double> ratings;
        for (int i = 0; i < kPosts; ++i) {
          owners.push_back(i % kUsers + 1);
          titles.push_back(absl::StrCat("a post title long enough for the heap #", i));
          ratings.push_back(i * 0.5);
        }
        RowBatch posts;
        posts.Int64("user_id", std::move(owners))
            .String("title", std::move(titles))
            .Double("rating", std::move(ratings));
        ASSERT_OK(db.InsertBatch("posts", std::move(posts)).status());
      }),
      "bulk load");
}

TEST(MemoryBytesTest, MatchesHeapGrowthForRowByRowInserts) {
  if (kMallocReplaced) GTEST_SKIP() << "malloc is replaced (sanitizer)";
  ExpectWithin10Percent(Measure([](Database& db) {
                          ASSERT_OK(db.CreateTable("players", Schema()
                                                                  .Int64("id", PrimaryKey())
                                                                  .String("nick", Unique())
                                                                  .Int64("score", Ordered())
                                                                  .Int64("guild", Indexed())));
                          for (int i = 0; i < kPosts / 2; ++i) {
                            ASSERT_OK(db.Insert("players", {{"nick", absl::StrCat("nick-", i)},
                                                            {"score", (i * 7919) % 100000},
                                                            {"guild", i % 500}})
                                          .status());
                          }
                        }),
                        "row by row");
}

}  // namespace
}  // namespace kin
