// All-parent relation work on key shapes no dense array covers: int64 ids
// n * 1000003 and string keys. WithCount, Has(>=), WithAggregate (Max),
// WhereHas and Preload with GroupLimit are checked against brute force
// under every relation strategy, with deleted parents (dead slots),
// orphaned and NULL foreign keys, and a parent subset (WhereIn).

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "kin/status_macros.h"
#include "query/internal/relation_plan.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::internal::RelationStrategy;
using ::kin::test::IsOkAndHolds;

constexpr int kUsers = 400;
constexpr int kPosts = 4000;
constexpr RelationStrategy kStrategies[] = {RelationStrategy::kAuto, RelationStrategy::kWalk,
                                            RelationStrategy::kScan, RelationStrategy::kIndexScan};

struct Post {
  int64_t id;
  std::optional<int> owner;  // user number, or none (NULL key)
  int64_t created_at;
  int64_t likes;
};

class SparseKeysTest : public ::testing::TestWithParam<bool> {
 protected:
  bool strings() const { return GetParam(); }
  Value KeyOf(int n) const {
    return strings() ? Value(absl::StrCat("user-", n * 7919)) : Value(int64_t{n} * 1'000'003);
  }

  void SetUp() override {
    const Type key = strings() ? Type::kString : Type::kInt64;
    Schema users = Schema().Int64("id", PrimaryKey());
    if (key == Type::kString) {
      users.String("handle", NotNull(), Unique());
    } else {
      users.Int64("handle", NotNull(), Unique());
    }
    ASSERT_OK(db_.CreateTable("users", users));
    Schema posts = Schema().Int64("id", PrimaryKey());
    if (key == Type::kString) {
      posts.String("owner");
    } else {
      posts.Int64("owner");
    }
    posts.Int64("created_at", NotNull()).Int64("likes", NotNull());
    ASSERT_OK(db_.CreateTable("posts", posts));
    ASSERT_OK(db_.HasMany("users", "posts", {.foreign_key = "owner", .local_key = "handle"}));
    // Users 1..kUsers inserted in a scrambled order, so slot order is not
    // key order; then every 9th deleted (dead slots, orphaned posts).
    for (int i = 0; i < kUsers; ++i) {
      const int n = (i * 151) % kUsers + 1;
      ASSERT_OK(db_.Insert("users", {{"handle", KeyOf(n)}}).status());
    }
    uint64_t x = 12345;
    auto next = [&x](uint64_t below) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      return (x >> 33) % below;
    };
    for (int p = 0; p < kPosts; ++p) {
      Post post;
      post.owner = next(20) == 0 ? std::nullopt : std::optional<int>(next(kUsers + 20) + 1);
      post.created_at = static_cast<int64_t>(next(1'000'000));
      post.likes = static_cast<int64_t>(next(100));
      absl::StatusOr<Row> row =
          db_.Insert("posts", {{"owner", post.owner ? KeyOf(*post.owner) : Value()},
                               {"created_at", post.created_at},
                               {"likes", post.likes}});
      ASSERT_OK(row.status());
      post.id = row->GetInt64("id").value();
      posts_.push_back(post);
    }
    for (int n = 9; n <= kUsers; n += 9) {
      ASSERT_OK_AND_ASSIGN(ResultSet gone, db_.Query("users").Where("handle", KeyOf(n)).Get());
      ASSERT_EQ(gone.size(), 1u);
      ASSERT_OK(db_.Delete(gone[0]));
    }
  }
  void TearDown() override { internal::SetRelationStrategyForTesting(RelationStrategy::kAuto); }

  // The user number behind a result row's key.
  int UserOf(const ResultRow& row) {
    if (user_of_.empty()) {
      for (int n = 1; n <= kUsers + 20; ++n) user_of_[KeyOf(n).DebugString()] = n;
    }
    const std::string key = row.Get("handle").value().DebugString();
    auto it = user_of_.find(key);
    if (it == user_of_.end()) {
      ADD_FAILURE() << "unknown key " << key;
      return 0;
    }
    return it->second;
  }
  // The posts of user n, in insertion order.
  std::vector<const Post*> PostsOf(int n) const {
    std::vector<const Post*> out;
    for (const Post& p : posts_) {
      if (p.owner == n) out.push_back(&p);
    }
    return out;
  }

  Database db_;
  std::vector<Post> posts_;
  std::map<std::string, int> user_of_;  // key's DebugString → user number
};

TEST_P(SparseKeysTest, CountsAggregatesAndFiltersMatchBruteForce) {
  for (bool subset : {false, true}) {
    for (RelationStrategy strategy : kStrategies) {
      internal::SetRelationStrategyForTesting(strategy);
      SCOPED_TRACE(absl::StrCat("strategy ", static_cast<int>(strategy), " subset ", subset));
      Query q = db_.Query("users");
      if (subset) q.WhereIn("handle", {KeyOf(3), KeyOf(5), KeyOf(77), KeyOf(kUsers)});
      q.WithCount("posts").WithAggregate("posts", [](Query& p) { p.Max("created_at").As("last"); });
      ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
      ASSERT_EQ(rows.size(), subset ? 4u : static_cast<size_t>(kUsers - kUsers / 9));
      for (const ResultRow& row : rows) {
        const std::vector<const Post*> posts = PostsOf(UserOf(row));
        EXPECT_THAT(row.Extra("posts_count"), IsOkAndHolds(Value(int64_t(posts.size()))));
        Value last;
        for (const Post* p : posts) {
          if (last.is_null() || p->created_at > last.AsInt64()) last = Value(p->created_at);
        }
        EXPECT_THAT(row.Extra("last"), IsOkAndHolds(last));
      }

      ASSERT_OK_AND_ASSIGN(ResultSet busy, db_.Query("users").Has("posts", ">=", 11).Get());
      ASSERT_OK_AND_ASSIGN(
          ResultSet liked,
          db_.Query("users").WhereHas("posts", [](Query& p) { p.Where("likes", ">", 97); }).Get());
      ASSERT_OK_AND_ASSIGN(ResultSet all, db_.Query("users").Get());
      std::vector<int> want_busy, want_liked, got_busy, got_liked;
      for (const ResultRow& row : all) {
        const int n = UserOf(row);
        const std::vector<const Post*> posts = PostsOf(n);
        if (posts.size() >= 11) want_busy.push_back(n);
        if (std::any_of(posts.begin(), posts.end(), [](const Post* p) { return p->likes > 97; })) {
          want_liked.push_back(n);
        }
      }
      for (const ResultRow& row : busy) got_busy.push_back(UserOf(row));
      for (const ResultRow& row : liked) got_liked.push_back(UserOf(row));
      EXPECT_FALSE(want_busy.empty());
      EXPECT_FALSE(want_liked.empty());
      EXPECT_EQ(got_busy, want_busy);
      EXPECT_EQ(got_liked, want_liked);
    }
  }
}

// The per-parent links behind these scans are kept between queries and
// brought up to date after writes (engine/parent_links.h): counts after
// each kind of write, appends, deletes, re-parenting, a new parent for
// orphaned posts and a rolled-back transaction, match brute force.
TEST_P(SparseKeysTest, CountsStayRightBetweenWrites) {
  auto check = [&](const std::string& after) {
    SCOPED_TRACE(after);
    for (RelationStrategy strategy :
         {RelationStrategy::kAuto, RelationStrategy::kScan, RelationStrategy::kIndexScan}) {
      internal::SetRelationStrategyForTesting(strategy);
      ASSERT_OK_AND_ASSIGN(ResultSet rows, db_.Query("users").WithCount("posts").Get());
      ASSERT_OK_AND_ASSIGN(ResultSet busy, db_.Query("users").Has("posts", ">=", 11).Get());
      size_t want_busy = 0;
      for (const ResultRow& row : rows) {
        const size_t n = PostsOf(UserOf(row)).size();
        want_busy += n >= 11 ? 1 : 0;
        ASSERT_THAT(row.Extra("posts_count"), IsOkAndHolds(Value(int64_t(n))))
            << "user " << UserOf(row) << " strategy " << static_cast<int>(strategy);
      }
      EXPECT_EQ(busy.size(), want_busy);
    }
  };
  check("setup");
  auto add_post = [&](int owner) {
    absl::StatusOr<Row> row =
        db_.Insert("posts", {{"owner", KeyOf(owner)}, {"created_at", 1}, {"likes", 1}});
    ASSERT_OK(row.status());
    posts_.push_back(Post{row->GetInt64("id").value(), owner, 1, 1});
  };
  for (int i = 0; i < 3; ++i) add_post(10 + i);
  check("appends");
  ASSERT_OK_AND_ASSIGN(Row first, db_.FindOrFail("posts", Value(posts_[0].id)));
  ASSERT_OK(db_.Delete(first));
  posts_.erase(posts_.begin());
  check("a delete");
  add_post(2);  // into the freed slot
  check("an insert into a reused slot");
  ASSERT_OK_AND_ASSIGN(Row moved, db_.FindOrFail("posts", Value(posts_[5].id)));
  ASSERT_OK(db_.Update(moved, {{"owner", KeyOf(1)}}).status());
  posts_[5].owner = 1;
  check("re-parenting");
  ASSERT_OK(db_.Insert("users", {{"handle", KeyOf(kUsers + 3)}}).status());  // had orphans
  check("a parent for orphaned posts");
  const std::vector<Post> before = posts_;
  ASSERT_OK(db_.Begin());
  for (int i = 0; i < 4; ++i) add_post(1);
  check("appends in a transaction");
  ASSERT_OK(db_.Rollback());
  posts_ = before;
  check("the rollback");
  // Column ids move under the links: the posts' key column is renumbered
  // when an earlier column goes, and a failed migration restores them.
  ASSERT_OK(db_.AddColumn("posts", {.name = "note", .type = Type::kString}));
  check("a column added");
  ASSERT_OK(db_.DropColumn("posts", "created_at"));
  check("an earlier column dropped");
  EXPECT_FALSE(db_.Migrate([&]() -> absl::Status {
                    KIN_RETURN_IF_ERROR(db_.DropColumn("posts", "likes"));
                    KIN_RETURN_IF_ERROR(db_.Update(*db_.FindOrFail("posts", Value(posts_[0].id)),
                                                   {{"owner", KeyOf(3)}})
                                            .status());
                    return absl::AbortedError("patch failed");
                  })
                   .ok());
  check("a failed migration");
}

TEST_P(SparseKeysTest, PreloadGroupLimitMatchesBruteForce) {
  for (RelationStrategy strategy : kStrategies) {
    internal::SetRelationStrategyForTesting(strategy);
    SCOPED_TRACE(absl::StrCat("strategy ", static_cast<int>(strategy)));
    ASSERT_OK_AND_ASSIGN(
        ResultSet rows,
        db_.Query("users")
            .Preload("posts", [](Query& p) { p.GroupOrderBy("created_at", kDesc).GroupLimit(3); })
            .Get());
    ASSERT_EQ(rows.size(), static_cast<size_t>(kUsers - kUsers / 9));
    for (const ResultRow& row : rows) {
      std::vector<const Post*> posts = PostsOf(UserOf(row));
      std::stable_sort(posts.begin(), posts.end(),
                       [](const Post* a, const Post* b) { return a->created_at > b->created_at; });
      std::vector<int64_t> want;
      for (size_t i = 0; i < posts.size() && i < 3; ++i) want.push_back(posts[i]->id);
      ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> kids, row.Preloaded("posts"));
      std::vector<int64_t> got;
      for (const ResultRow& k : kids) got.push_back(k.GetInt64("id").value());
      EXPECT_EQ(got, want);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Keys, SparseKeysTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "String" : "SparseInt64");
                         });

}  // namespace
}  // namespace kin
