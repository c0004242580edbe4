// A small blog for the relation-aware query tests (Preload, Has / WhereHas,
// WithCount / WithAggregate): users have many posts, posts have many
// comments, and "published" is a second users → posts relation whose
// on_query keeps published posts only.
//
//   users(id pk, name, score NULL-able)
//   posts(id pk, user_id NULL-able, title, created_at, likes NULL-able,
//         is_published default false, rating NULL-able double)
//   comments(id pk, post_id NOT NULL, body, score)
//
// posts.user_id may be NULL or point at a missing user (an orphan): the
// foreign key is not a constraint (Lucid's default).

#ifndef KIN_TESTS_QUERY_RELATION_FIXTURE_H_
#define KIN_TESTS_QUERY_RELATION_FIXTURE_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kin/database.h"
#include "query/internal/relation_plan.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {

// Forces the relation strategy for a scope, and resets it to kAuto even
// when an ASSERT ends the test early.
class ForcedStrategy {
 public:
  explicit ForcedStrategy(::kin::internal::RelationStrategy s) {
    ::kin::internal::SetRelationStrategyForTesting(s);
  }
  ~ForcedStrategy() {
    ::kin::internal::SetRelationStrategyForTesting(::kin::internal::RelationStrategy::kAuto);
  }
  ForcedStrategy(const ForcedStrategy&) = delete;
  ForcedStrategy& operator=(const ForcedStrategy&) = delete;
};

class RelationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable(
        "users", Schema().Int64("id", PrimaryKey()).String("name", NotNull()).Int64("score")));
    ASSERT_OK(db_.CreateTable("posts", Schema()
                                           .Int64("id", PrimaryKey())
                                           .Int64("user_id")
                                           .String("title", NotNull())
                                           .Int64("created_at", Default(0))
                                           .Int64("likes")
                                           .Bool("is_published", Default(false))
                                           .Double("rating")));
    ASSERT_OK(db_.CreateTable("comments", Schema()
                                              .Int64("id", PrimaryKey())
                                              .Int64("post_id", NotNull())
                                              .String("body", NotNull())
                                              .Int64("score", Default(0))));
    ASSERT_OK(db_.HasMany("users", "posts"));
    ASSERT_OK(db_.HasMany("posts", "comments"));
    ASSERT_OK(db_.HasMany("users", "posts",
                          {.name = "published",
                           .on_query = [](Query& q) { q.Where("is_published", true); },
                           .create_inverse = false}));
  }

  Row AddUser(const std::string& name, Value score = Value()) {
    absl::StatusOr<Row> row = db_.Insert("users", {{"name", name}, {"score", std::move(score)}});
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? *row : Row();
  }

  // A post of `user_id` (NULL for none, or a missing user's id).
  Row AddPost(Value user_id, const std::string& title, int64_t created_at = 0,
              bool published = false, Value likes = Value(), Value rating = Value()) {
    absl::StatusOr<Row> row = db_.Insert("posts", {{"user_id", std::move(user_id)},
                                                   {"title", title},
                                                   {"created_at", created_at},
                                                   {"is_published", published},
                                                   {"likes", std::move(likes)},
                                                   {"rating", std::move(rating)}});
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? *row : Row();
  }

  Row AddComment(const Row& post, const std::string& body, int64_t score = 0) {
    absl::StatusOr<Row> row =
        db_.Insert("comments", {{"post_id", Id(post)}, {"body", body}, {"score", score}});
    EXPECT_TRUE(row.ok()) << row.status();
    return row.ok() ? *row : Row();
  }

  static int64_t Id(const Row& r) { return r.GetInt64("id").value(); }

  // The string column `column` of each row, in order.
  template <typename Rows>
  static std::vector<std::string> Strings(const Rows& rows, const std::string& column) {
    std::vector<std::string> out;
    for (const ResultRow& r : rows) out.emplace_back(r.GetString(column).value());
    return out;
  }
  template <typename Rows>
  static std::vector<std::string> Titles(const Rows& rows) {
    return Strings(rows, "title");
  }
  template <typename Rows>
  static std::vector<std::string> Names(const Rows& rows) {
    return Strings(rows, "name");
  }

  // Titles of the posts preloaded as `relation` on `row`.
  static std::vector<std::string> PreloadedTitles(const ResultRow& row,
                                                  const std::string& relation = "posts") {
    absl::StatusOr<std::span<const ResultRow>> kids = row.Preloaded(relation);
    EXPECT_TRUE(kids.ok()) << kids.status();
    return kids.ok() ? Titles(*kids) : std::vector<std::string>{};
  }

  Database db_;
};

}  // namespace kin::test

#endif  // KIN_TESTS_QUERY_RELATION_FIXTURE_H_
