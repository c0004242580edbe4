// Typed iteration over a HasMany relation's children:
// Database::Each(parent, relation, columns...), checked against
// Related(parent, relation).Get().

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Post {
  uint32_t slot;
  std::string title;
  int64_t likes;
  friend bool operator==(const Post&, const Post&) = default;
};

class EachChildrenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(
        db_.CreateTable("users", Schema().Int64("id", PrimaryKey()).String("name", Unique())));
    ASSERT_OK(db_.CreateTable("posts", Schema()
                                           .Int64("id", PrimaryKey())
                                           .Int64("user_id")
                                           .String("title")
                                           .Int64("likes")
                                           .Bool("is_published", Default(false))));
    ASSERT_OK(db_.HasMany("users", "posts"));
    ASSERT_OK(db_.HasMany("users", "posts",
                          {.name = "drafts",
                           .on_query = [](Query& q) { q.Where("is_published", false); },
                           .create_inverse = false}));
    ASSERT_OK_AND_ASSIGN(ann_, db_.Insert("users", {{"name", "ann"}}));
    ASSERT_OK_AND_ASSIGN(bob_, db_.Insert("users", {{"name", "bob"}}));
    ASSERT_OK_AND_ASSIGN(cyd_, db_.Insert("users", {{"name", "cyd"}}));
    // Interleaved parents, a NULL likes, a re-parented post and a deleted
    // one reused by a later insert: the relation's order is not slot order.
    ASSERT_OK(Insert(1, "a1", 3).status());
    ASSERT_OK(Insert(2, "b1", 1).status());
    ASSERT_OK(Insert(1, "a2", std::nullopt).status());
    ASSERT_OK(Insert(1, "a3", 7).status());
    ASSERT_OK_AND_ASSIGN(Row b2, Insert(2, "b2", 4));
    ASSERT_OK_AND_ASSIGN(Row a1, db_.FindOrFail("posts", 1));
    ASSERT_OK(db_.Update(a1, {{"user_id", 2}}));  // a1 moves to bob
    ASSERT_OK(db_.Update(a1, {{"user_id", 1}}));  // and back to ann, after a3
    ASSERT_OK(db_.Delete(b2));
    ASSERT_OK(Insert(1, "a4", 9).status());  // reuses b2's slot
    ASSERT_OK_AND_ASSIGN(title_, db_.StringColumn("posts", "title"));
    ASSERT_OK_AND_ASSIGN(likes_, db_.Int64Column("posts", "likes"));
  }

  absl::StatusOr<Row> Insert(int64_t user, std::string title, std::optional<int64_t> likes) {
    Value l = likes.has_value() ? Value(*likes) : Value();
    return db_.Insert("posts", {{"user_id", user}, {"title", std::move(title)}, {"likes", l}});
  }

  // What Related(parent, "posts").Get() returns, as Posts; rows with a NULL
  // likes skipped (as Each skips them).
  std::vector<Post> Expected(const Row& parent) {
    std::vector<Post> out;
    absl::StatusOr<ResultSet> rows = db_.Related(parent, "posts").Get();
    EXPECT_OK(rows.status());
    if (!rows.ok()) return out;
    for (const ResultRow& row : *rows) {
      absl::StatusOr<std::optional<int64_t>> likes = likes_.GetNullable(row);
      if (!likes.ok() || !likes->has_value()) continue;
      out.push_back({row.id().value, std::string(*title_.Get(row)), **likes});
    }
    return out;
  }

  std::vector<Post> Visited(const Row& parent) {
    std::vector<Post> out;
    absl::StatusOr<ChildRange<std::string_view, int64_t>> range =
        db_.Each(parent, "posts", title_, likes_);
    EXPECT_OK(range.status());
    if (!range.ok()) return out;
    for (auto [row, title, likes] : *range) {
      EXPECT_OK(db_.CheckRow(row));
      out.push_back({row.id().value, std::string(title), likes});
    }
    return out;
  }

  Database db_;
  Row ann_, bob_, cyd_;
  Column<std::string_view> title_;
  Column<int64_t> likes_;
};

TEST_F(EachChildrenTest, SameRowsAndOrderAsRelatedGet) {
  const std::vector<Post> ann = Visited(ann_);
  EXPECT_EQ(ann, Expected(ann_));
  std::vector<std::string> titles;
  for (const Post& p : ann) titles.push_back(p.title);
  EXPECT_THAT(titles, ElementsAre("a3", "a1", "a4"));  // a2's likes is NULL
  EXPECT_EQ(Visited(bob_), Expected(bob_));
  EXPECT_THAT(Visited(cyd_), IsEmpty());
}

TEST_F(EachChildrenTest, NoColumnsVisitsEveryChild) {
  ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "posts"));
  std::vector<RowId> ids;
  for (auto [row] : range) ids.push_back(row.id());
  ASSERT_OK_AND_ASSIGN(ResultSet rows, db_.Related(ann_, "posts").Get());
  EXPECT_EQ(ids, rows.row_ids());
  EXPECT_EQ(ids.size(), 4u);
}

TEST_F(EachChildrenTest, WritesDuringTheLoopAreSafe) {
  // Writing the current row (the common game-loop case) visits each once.
  {
    ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "posts", likes_));
    int visits = 0;
    for (auto [row, likes] : range) {
      ASSERT_OK(db_.Set(row, likes_, likes + 100));
      ++visits;
    }
    EXPECT_EQ(visits, 3);
    EXPECT_EQ(Visited(ann_), Expected(ann_));
    for (const Post& p : Visited(ann_)) EXPECT_GT(p.likes, 100);
  }
  // Re-parenting the current row, deleting one ahead, adding a child.
  {
    ASSERT_OK_AND_ASSIGN(Row a4, db_.FindOrFail("posts", 6));
    ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "posts", title_));
    std::vector<std::string> seen;
    for (auto [row, title] : range) {
      seen.emplace_back(title);
      if (seen.size() == 1) {
        ASSERT_OK(db_.Update(row, {{"user_id", 3}}));  // a2 leaves ann
        ASSERT_OK(db_.Delete(a4));                     // ahead: skipped
        ASSERT_OK(Insert(1, "a5", 1).status());        // joins: visited
      }
    }
    EXPECT_THAT(seen, ElementsAre("a2", "a3", "a1", "a5"));
  }
  EXPECT_EQ(Visited(ann_), Expected(ann_));
  EXPECT_EQ(Visited(cyd_), Expected(cyd_));
}

TEST_F(EachChildrenTest, DropInsideTheLoopEndsIt) {
  ASSERT_OK(db_.CreateTable("pets", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "pets"));
  ASSERT_OK(db_.Insert("pets", {{"user_id", 1}}).status());
  ASSERT_OK(db_.Insert("pets", {{"user_id", 1}}).status());
  ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "pets"));
  int visits = 0;
  for ([[maybe_unused]] auto [row] : range) {
    ++visits;
    ASSERT_OK(db_.DropTable("pets"));
  }
  EXPECT_EQ(visits, 1);
}

TEST_F(EachChildrenTest, BadInputIsNamed) {
  ASSERT_OK_AND_ASSIGN(Column<std::string_view> user_name, db_.StringColumn("users", "name"));
  EXPECT_THAT(
      db_.Each(ann_, "postz", title_),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("table 'users': no relation named 'postz'")));
  EXPECT_THAT(db_.Each(ann_, "drafts", title_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("relation 'users.drafts' has an on_query")));
  ASSERT_OK(db_.HasMany(
      "users", "posts",
      {.name = "featured", .scope = {{"is_published", true}}, .create_inverse = false}));
  EXPECT_THAT(db_.Each(ann_, "featured", title_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("relation 'users.featured' has a scope")));
  ASSERT_OK_AND_ASSIGN(Row post, db_.FindOrFail("posts", 1));
  EXPECT_THAT(db_.Each(post, "user"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("posts.user")));
  // A row of another table than the relation's parent: no such relation.
  EXPECT_THAT(
      db_.Each(post, "posts", title_),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("table 'posts': no relation named 'posts'")));
  EXPECT_THAT(db_.Each(ann_, "posts", title_, user_name),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "each over relation 'users.posts': column users.name is of another table "
                       "than 'posts'"));
  EXPECT_THAT(db_.Each(ann_, "posts", Column<int64_t>()),
              StatusIs(absl::StatusCode::kFailedPrecondition, "empty column handle"));
  EXPECT_THAT(db_.Each(Row(), "posts"), StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_OK_AND_ASSIGN(Row gone, db_.Insert("users", {{"name", "gone"}}));
  ASSERT_OK(db_.Delete(gone));
  EXPECT_THAT(db_.Each(gone, "posts", title_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale or deleted row")));

  Database other;
  ASSERT_OK(other.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(other.CreateTable("posts", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(other.HasMany("users", "posts"));
  ASSERT_OK_AND_ASSIGN(Row theirs, other.Insert("users", {}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> their_fk, other.Int64Column("posts", "user_id"));
  EXPECT_THAT(db_.Each(theirs, "posts"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("does not belong to this database")));
  EXPECT_THAT(db_.Each(ann_, "posts", their_fk),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another database")));
}

TEST_F(EachChildrenTest, DroppedAndRecreatedChildTable) {
  ASSERT_OK(db_.CreateTable("pets", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "pets"));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> old_fk, db_.Int64Column("pets", "user_id"));
  ASSERT_OK(db_.DropTable("pets"));
  EXPECT_THAT(db_.Each(ann_, "pets"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK(db_.CreateTable("pets", Schema().Int64("id", PrimaryKey()).Int64("user_id")));
  ASSERT_OK(db_.HasMany("users", "pets"));
  ASSERT_OK(db_.Insert("pets", {{"user_id", 1}}).status());
  EXPECT_THAT(db_.Each(ann_, "pets", old_fk),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale column handle")));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> fk, db_.Int64Column("pets", "user_id"));
  ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "pets", fk));
  int visits = 0;
  for (auto [row, user_id] : range) {
    EXPECT_EQ(user_id, 1);
    ++visits;
  }
  EXPECT_EQ(visits, 1);
}

TEST_F(EachChildrenTest, StringKeysAndSurvivesASnapshotRoundTrip) {
  ASSERT_OK(db_.CreateTable("tags", Schema().String("label").Int64("id", PrimaryKey())));
  ASSERT_OK(db_.HasMany("users", "tags", {.foreign_key = "label", .local_key = "name"}));
  ASSERT_OK(db_.Insert("tags", {{"label", "bob"}}).status());
  ASSERT_OK(db_.Insert("tags", {{"label", "ann"}}).status());
  ASSERT_OK(db_.Insert("tags", {{"label", "ann"}}).status());
  ASSERT_OK_AND_ASSIGN(Column<int64_t> tag_id, db_.Int64Column("tags", "id"));
  ASSERT_OK_AND_ASSIGN(auto range, db_.Each(ann_, "tags", tag_id));
  std::vector<int64_t> ids;
  for (auto [row, id] : range) ids.push_back(id);
  EXPECT_THAT(ids, ElementsAre(2, 3));

  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  ASSERT_OK_AND_ASSIGN(Row ann, loaded.FindOrFail("users", 1));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> likes, loaded.Int64Column("posts", "likes"));
  ASSERT_OK_AND_ASSIGN(auto posts, loaded.Each(ann, "posts", likes));
  std::vector<int64_t> seen;
  for (auto [row, l] : posts) seen.push_back(l);
  EXPECT_THAT(seen, ElementsAre(7, 3, 9));  // the order before the save
}

}  // namespace
}  // namespace kin::test
