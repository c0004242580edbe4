// A small blog world shared by the relations tests: users have many posts,
// posts have many comments, projects have many tags.

#ifndef KIN_TESTS_RELATIONS_FIXTURE_H_
#define KIN_TESTS_RELATIONS_FIXTURE_H_

#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {

inline Schema UsersSchema() {
  return Schema().Int64("id", PrimaryKey()).String("email", Unique()).Int64("score", Default(0));
}

inline Schema PostsSchema() {
  return Schema()
      .Int64("id", PrimaryKey())
      .Int64("user_id")
      .String("title")
      .String("slug")
      .String("body")
      .Int64("created_at", Default(0))
      .Bool("is_published", Default(false));
}

class BlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("users", UsersSchema()));
    ASSERT_OK(db_.CreateTable("posts", PostsSchema()));
    ASSERT_OK(db_.CreateTable(
        "comments", Schema().Int64("id", PrimaryKey()).Int64("post_id", NotNull()).String("body")));
    ASSERT_OK(db_.HasMany("users", "posts"));
    ASSERT_OK(db_.HasMany("posts", "comments"));
    ASSERT_OK_AND_ASSIGN(alice_, db_.Insert("users", {{"email", "alice@example.com"}}));
    ASSERT_OK_AND_ASSIGN(bob_, db_.Insert("users", {{"email", "bob@example.com"}}));
  }

  // Titles of rows, in order.
  template <typename Rows>
  static std::vector<std::string> Titles(const Rows& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("title").value()));
    return out;
  }

  int64_t Id(const Row& r) { return r.GetInt64("id").value(); }

  Database db_;
  Row alice_;
  Row bob_;
};

}  // namespace kin::test

#endif  // KIN_TESTS_RELATIONS_FIXTURE_H_
