// Foreign keys as engine constraints: AddForeignKey validation and the
// referential actions on delete (restrict, cascade, set null, no action) and
// on update (cascade, restrict). A failing action anywhere in a cascade
// leaves every table exactly as it was.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::IsOkAndHolds;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;
constexpr absl::StatusCode kNotFound = absl::StatusCode::kNotFound;
constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;

// users ← posts.user_id ← comments.post_id
class ForeignKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable(
        "users", Schema().Int64("id", PrimaryKey()).String("name", Unique()).Int64("score")));
    ASSERT_OK(engine_.CreateTable(
        "posts", Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
    ASSERT_OK(engine_.CreateTable(
        "comments", Schema().Int64("id", PrimaryKey()).Int64("post_id", NotNull()).String("body")));
  }

  // ann (1) has posts 1, 3; bob (2) has post 2; cy (3) has none.
  // Post 1 has comments 1, 2; post 2 has comment 3.
  void AddBlog() {
    for (const char* name : {"ann", "bob", "cy"}) {
      ASSERT_OK(engine_.Insert("users", {{"name", name}}).status());
    }
    for (int64_t user : {1, 2, 1}) {
      ASSERT_OK(engine_.Insert("posts", {{"user_id", user}, {"title", "t"}}).status());
    }
    for (int64_t post : {1, 1, 2}) {
      ASSERT_OK(engine_.Insert("comments", {{"post_id", post}, {"body", "b"}}).status());
    }
  }

  absl::Status Link(absl::string_view child, absl::string_view column, absl::string_view parent,
                    OnDelete on_delete, OnUpdate on_update = OnUpdate::kNoAction,
                    absl::string_view parent_column = "id") {
    return engine_.AddForeignKey({.child_table = std::string(child),
                                  .child_column = std::string(column),
                                  .parent_table = std::string(parent),
                                  .parent_column = std::string(parent_column),
                                  .on_delete = on_delete,
                                  .on_update = on_update});
  }

  Row Get(absl::string_view table, int64_t id) { return engine_.FindOrFail(table, id).value(); }
  bool Exists(absl::string_view table, int64_t id) {
    return engine_.FindTable(table)->Find(id).has_value();
  }
  // Primary keys of `table` rows whose `column` == key, in index order.
  std::vector<int64_t> Kids(absl::string_view table, absl::string_view column, Value key) {
    const Table& t = *engine_.FindTable(table);
    std::vector<int64_t> ids;
    std::span<const RowId> rows = t.Children(column, key).value();
    for (RowId r : rows) {
      ids.push_back(t.GetRow(r).GetInt64("id").value());
    }
    return ids;
  }

  Engine engine_;
};

// --- AddForeignKey validation ---

TEST_F(ForeignKeyTest, AddForeignKeyIndexesTheChildColumn) {
  AddBlog();
  const Table& posts = *engine_.FindTable("posts");
  EXPECT_EQ(posts.index(*posts.FindColumn("user_id")), nullptr);
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kCascade));
  EXPECT_NE(posts.index(*posts.FindColumn("user_id")), nullptr);
  EXPECT_THAT(Kids("posts", "user_id", 1), ElementsAre(1, 3));  // existing rows indexed
  ASSERT_EQ(engine_.foreign_keys().size(), 1u);
  EXPECT_EQ(engine_.foreign_keys()[0], (ForeignKeySpec{.child_table = "posts",
                                                       .child_column = "user_id",
                                                       .parent_table = "users",
                                                       .parent_column = "id",
                                                       .on_delete = OnDelete::kCascade}));
  EXPECT_THAT(engine_.DebugString(),
              HasSubstr("foreign key posts.user_id -> users.id on delete cascade on update "
                        "no action\n"));
}

TEST_F(ForeignKeyTest, AddForeignKeyErrors) {
  std::string before = engine_.DebugString();
  EXPECT_THAT(Link("pots", "user_id", "users", OnDelete::kCascade),
              StatusIs(kNotFound, "no table named 'pots'"));
  EXPECT_THAT(Link("posts", "user_id", "usres", OnDelete::kCascade),
              StatusIs(kNotFound, "no table named 'usres'"));
  EXPECT_THAT(Link("posts", "usr_id", "users", OnDelete::kCascade),
              StatusIs(kInvalidArgument, "table 'posts': no column named 'usr_id'"));
  EXPECT_THAT(Link("posts", "user_id", "users", OnDelete::kCascade, OnUpdate::kNoAction, "uid"),
              StatusIs(kInvalidArgument, "table 'users': no column named 'uid'"));
  EXPECT_THAT(
      Link("posts", "title", "users", OnDelete::kNoAction),
      StatusIs(kInvalidArgument, "foreign key posts.title is string but users.id is int64"));
  // Actions need a parent column that identifies one row.
  EXPECT_THAT(Link("posts", "user_id", "users", OnDelete::kCascade, OnUpdate::kNoAction, "score"),
              StatusIs(kInvalidArgument,
                       "foreign key actions need a primary key or unique parent column; "
                       "users.score is neither"));
  EXPECT_THAT(Link("posts", "user_id", "users", OnDelete::kNoAction, OnUpdate::kCascade, "score"),
              StatusIs(kInvalidArgument, HasSubstr("users.score is neither")));
  EXPECT_THAT(Link("comments", "post_id", "posts", OnDelete::kSetNull),
              StatusIs(kInvalidArgument, "on delete set null: comments.post_id is NOT NULL"));
  EXPECT_EQ(engine_.DebugString(), before);  // nothing indexed, nothing recorded
  EXPECT_THAT(engine_.foreign_keys(), IsEmpty());

  // Without actions any column will do.
  EXPECT_OK(Link("posts", "user_id", "users", OnDelete::kNoAction, OnUpdate::kNoAction, "score"));
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kRestrict));
  EXPECT_THAT(Link("posts", "user_id", "users", OnDelete::kCascade),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       "foreign key posts.user_id -> users.id already exists"));
}

TEST_F(ForeignKeyTest, KeysMustBeInt64OrString) {
  ASSERT_OK(engine_.CreateTable("a", Schema().Int64("id", PrimaryKey()).Double("x")));
  ASSERT_OK(engine_.CreateTable("b", Schema().Int64("id", PrimaryKey()).Double("a_x")));
  EXPECT_THAT(
      engine_.AddForeignKey(
          {.child_table = "b", .child_column = "a_x", .parent_table = "a", .parent_column = "x"}),
      StatusIs(kInvalidArgument, "foreign key b.a_x: keys must be int64 or string, not double"));
}

TEST_F(ForeignKeyTest, RemoveForeignKey) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kRestrict));
  EXPECT_THAT(engine_.Delete(Get("users", 1)), StatusIs(kFailedPrecondition));
  ASSERT_OK(engine_.RemoveForeignKey("posts", "user_id"));
  EXPECT_THAT(engine_.foreign_keys(), IsEmpty());
  EXPECT_OK(engine_.Delete(Get("users", 1)));  // no longer restricted
  EXPECT_THAT(engine_.RemoveForeignKey("posts", "user_id"),
              StatusIs(kNotFound, "no foreign key on posts.user_id"));
}

// --- on delete ---

TEST_F(ForeignKeyTest, OnDeleteRestrict) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kRestrict));
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Delete(Get("users", 1)),
              StatusIs(kFailedPrecondition,
                       "cannot delete from 'users' the row with id = 1: 2 row(s) of "
                       "posts.user_id reference it (on delete restrict)"));
  EXPECT_EQ(engine_.DebugString(), before);
  // A parent without children can go; so can the children, then the parent.
  EXPECT_OK(engine_.Delete(Get("users", 3)));
  EXPECT_OK(engine_.Delete(Get("posts", 2)));
  EXPECT_OK(engine_.Delete(Get("users", 2)));
}

TEST_F(ForeignKeyTest, OnDeleteCascadeMultiLevel) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kCascade));
  ASSERT_OK(Link("comments", "post_id", "posts", OnDelete::kCascade));
  ASSERT_OK(engine_.Delete(Get("users", 1)));
  EXPECT_FALSE(Exists("users", 1));
  EXPECT_FALSE(Exists("posts", 1));
  EXPECT_FALSE(Exists("posts", 3));
  EXPECT_FALSE(Exists("comments", 1));
  EXPECT_FALSE(Exists("comments", 2));
  // bob's post and its comment are untouched.
  EXPECT_TRUE(Exists("posts", 2));
  EXPECT_TRUE(Exists("comments", 3));
  EXPECT_EQ(engine_.FindTable("users")->size(), 2u);
  EXPECT_EQ(engine_.FindTable("posts")->size(), 1u);
  EXPECT_EQ(engine_.FindTable("comments")->size(), 1u);
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(ForeignKeyTest, OnDeleteSetNull) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kSetNull));
  ASSERT_OK(engine_.Delete(Get("users", 1)));
  EXPECT_THAT(Get("posts", 1).Get("user_id"), IsOkAndHolds(Value()));
  EXPECT_THAT(Get("posts", 3).Get("user_id"), IsOkAndHolds(Value()));
  EXPECT_THAT(Get("posts", 2).GetInt64("user_id"), IsOkAndHolds(2));
  EXPECT_THAT(Kids("posts", "user_id", 1), IsEmpty());
  EXPECT_EQ(engine_.FindTable("posts")->size(), 3u);
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(ForeignKeyTest, OnDeleteNoActionLeavesDanglingKeys) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kNoAction));
  ASSERT_OK(engine_.Delete(Get("users", 1)));
  EXPECT_THAT(Kids("posts", "user_id", 1), ElementsAre(1, 3));
  // Child writes are not checked against the parent either.
  EXPECT_OK(engine_.Insert("posts", {{"user_id", 999}}).status());
}

TEST_F(ForeignKeyTest, FailingCascadeDeeperDownChangesNothing) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kCascade));
  ASSERT_OK(Link("comments", "post_id", "posts", OnDelete::kRestrict));
  std::string before = engine_.DebugString();
  // ann's second post (3) has no comments, her first (1) has two: the
  // cascade deletes ann, then fails at post 1.
  EXPECT_THAT(engine_.Delete(Get("users", 1)),
              StatusIs(kFailedPrecondition,
                       "cannot delete from 'posts' the row with id = 1: 2 row(s) of "
                       "comments.post_id reference it (on delete restrict)"));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_OK(engine_.CheckConsistency());
  // cy has no posts: deleting her is fine.
  EXPECT_OK(engine_.Delete(Get("users", 3)));
}

TEST_F(ForeignKeyTest, FailingCascadeInsideATransactionUndoesOnlyItself) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kCascade));
  ASSERT_OK(Link("comments", "post_id", "posts", OnDelete::kRestrict));
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Update(Get("users", 2), {{"score", 5}}).status());
  std::string mid = engine_.DebugString();
  EXPECT_THAT(engine_.Delete(Get("users", 1)), StatusIs(kFailedPrecondition));
  EXPECT_EQ(engine_.DebugString(), mid);
  EXPECT_EQ(engine_.transaction_depth(), 1);
  ASSERT_OK(engine_.Commit());
  EXPECT_THAT(Get("users", 2).GetInt64("score"), IsOkAndHolds(5));
}

TEST_F(ForeignKeyTest, CascadeRolledBackWithItsTransaction) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kCascade));
  ASSERT_OK(Link("comments", "post_id", "posts", OnDelete::kCascade));
  std::string before = engine_.DebugString();
  ASSERT_OK(engine_.Begin());
  ASSERT_OK(engine_.Delete(Get("users", 1)));
  ASSERT_OK(engine_.Delete(Get("users", 2)));
  EXPECT_TRUE(engine_.FindTable("comments")->empty());
  ASSERT_OK(engine_.Rollback());
  EXPECT_EQ(engine_.DebugString(), before);
}

// A self-referencing table: categories.parent_id → categories.id.
class TreeTest : public ForeignKeyTest {
 protected:
  void SetUp() override {
    ForeignKeyTest::SetUp();
    ASSERT_OK(engine_.CreateTable(
        "categories", Schema().Int64("id", PrimaryKey()).Int64("parent_id").String("name")));
  }
  // 1 root ─┬─ 2 ─┬─ 4
  //         │     └─ 5 ── 7
  //         └─ 3 ──── 6
  // 8 other root
  void AddTree() {
    for (auto [id, parent] : std::vector<std::pair<int64_t, Value>>{
             {1, Value()}, {2, 1}, {3, 1}, {4, 2}, {5, 2}, {6, 3}, {7, 5}, {8, Value()}}) {
      ASSERT_OK(engine_.Insert("categories", {{"id", id}, {"parent_id", parent}}).status());
    }
  }
  std::vector<int64_t> Ids() {
    std::vector<int64_t> ids;
    for (const Row& row : *engine_.FindTable("categories")) {
      ids.push_back(row.GetInt64("id").value());
    }
    return ids;
  }
};

TEST_F(TreeTest, CascadeDeletesTheSubtree) {
  AddTree();
  ASSERT_OK(Link("categories", "parent_id", "categories", OnDelete::kCascade));
  ASSERT_OK(engine_.Delete(Get("categories", 2)));
  EXPECT_THAT(Ids(), ElementsAre(1, 3, 6, 8));
  ASSERT_OK(engine_.Delete(Get("categories", 1)));
  EXPECT_THAT(Ids(), ElementsAre(8));
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(TreeTest, RowsReferencingThemselvesOrEachOther) {
  ASSERT_OK(Link("categories", "parent_id", "categories", OnDelete::kCascade));
  ASSERT_OK(engine_.Insert("categories", {{"id", 1}, {"parent_id", 1}}).status());  // itself
  // A cycle: the key is enforced, so 2 can name 3 only once 3 exists.
  ASSERT_OK_AND_ASSIGN(Row two, engine_.Insert("categories", {{"id", 2}}));
  ASSERT_OK(engine_.Insert("categories", {{"id", 3}, {"parent_id", 2}}).status());
  ASSERT_OK(engine_.Update(two, {{"parent_id", 3}}).status());
  ASSERT_OK(engine_.Insert("categories", {{"id", 4}, {"parent_id", 3}}).status());
  ASSERT_OK(engine_.Delete(Get("categories", 1)));
  EXPECT_THAT(Ids(), ElementsAre(2, 3, 4));
  ASSERT_OK(engine_.Delete(Get("categories", 2)));
  EXPECT_THAT(Ids(), IsEmpty());
}

TEST_F(TreeTest, LongChain) {
  ASSERT_OK(Link("categories", "parent_id", "categories", OnDelete::kCascade));
  ASSERT_OK(engine_.Insert("categories", {{"id", 1}}).status());
  for (int64_t id = 2; id <= 500; ++id) {
    ASSERT_OK(engine_.Insert("categories", {{"id", id}, {"parent_id", id - 1}}).status());
  }
  ASSERT_OK(engine_.Delete(Get("categories", 1)));
  EXPECT_TRUE(engine_.FindTable("categories")->empty());
}

TEST_F(TreeTest, SetNullOrphansTheDirectChildren) {
  AddTree();
  ASSERT_OK(Link("categories", "parent_id", "categories", OnDelete::kSetNull));
  ASSERT_OK(engine_.Delete(Get("categories", 2)));
  EXPECT_THAT(Ids(), ElementsAre(1, 3, 4, 5, 6, 7, 8));
  EXPECT_THAT(Get("categories", 4).Get("parent_id"), IsOkAndHolds(Value()));
  EXPECT_THAT(Get("categories", 5).Get("parent_id"), IsOkAndHolds(Value()));
  EXPECT_THAT(Get("categories", 7).GetInt64("parent_id"), IsOkAndHolds(5));
}

TEST_F(TreeTest, RestrictInsideTheSubtreeChangesNothing) {
  AddTree();
  ASSERT_OK(Link("categories", "parent_id", "categories", OnDelete::kCascade));
  ASSERT_OK(Link("posts", "user_id", "categories", OnDelete::kRestrict));  // posts filed under 7
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 7}}).status());
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Delete(Get("categories", 1)),
              StatusIs(kFailedPrecondition,
                       HasSubstr("cannot delete from 'categories' the row with id = 7")));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_OK(engine_.Delete(Get("categories", 3)));  // a branch without posts
  EXPECT_THAT(Ids(), ElementsAre(1, 2, 4, 5, 7, 8));
}

// --- on update ---

TEST_F(ForeignKeyTest, OnUpdateCascade) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kNoAction, OnUpdate::kCascade));
  ASSERT_OK(engine_.Insert("posts", {{"user_id", 1}}).status());  // post 4
  EXPECT_THAT(engine_.Update(Get("users", 1), {{"id", 100}}), IsOkAndHolds(true));
  EXPECT_THAT(Kids("posts", "user_id", 1), IsEmpty());
  EXPECT_THAT(Kids("posts", "user_id", 100), ElementsAre(1, 3, 4));  // order kept
  EXPECT_THAT(Kids("posts", "user_id", 2), ElementsAre(2));
  // Changing other columns touches no child.
  std::string posts_before = engine_.FindTable("posts")->DebugString();
  EXPECT_THAT(engine_.Update(Get("users", 100), {{"score", 1}}), IsOkAndHolds(true));
  EXPECT_EQ(engine_.FindTable("posts")->DebugString(), posts_before);
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(ForeignKeyTest, OnUpdateCascadeByUniqueStringKey) {
  AddBlog();
  ASSERT_OK(engine_.CreateTable(
      "badges", Schema().Int64("id", PrimaryKey()).String("user_name").String("label")));
  ASSERT_OK(Link("badges", "user_name", "users", OnDelete::kCascade, OnUpdate::kCascade, "name"));
  ASSERT_OK(engine_.Insert("badges", {{"user_name", "bob"}, {"label", "gold"}}).status());
  ASSERT_OK(engine_.Update(Get("users", 2), {{"name", "robert"}}).status());
  EXPECT_THAT(Get("badges", 1).GetString("user_name"), IsOkAndHolds("robert"));
  // As in SQL, a parent key set to NULL cascades as NULL.
  ASSERT_OK(engine_.Update(Get("users", 2), {{"name", nullptr}}).status());
  EXPECT_THAT(Get("badges", 1).Get("user_name"), IsOkAndHolds(Value()));
}

TEST_F(ForeignKeyTest, OnUpdateRestrict) {
  AddBlog();
  ASSERT_OK(Link("posts", "user_id", "users", OnDelete::kNoAction, OnUpdate::kRestrict));
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Update(Get("users", 1), {{"id", 100}, {"score", 3}}),
              StatusIs(kFailedPrecondition,
                       "cannot change users.id from 1: 2 row(s) of posts.user_id reference it "
                       "(on update restrict)"));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_THAT(engine_.Update(Get("users", 3), {{"id", 30}}), IsOkAndHolds(true));  // no posts
  EXPECT_THAT(engine_.Update(Get("users", 1), {{"score", 3}}), IsOkAndHolds(true));
}

// accounts.handle ← profiles.handle (unique) ← badges.handle: a key change
// cascades two levels, and a failure at any level changes nothing.
class UpdateChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable(
        "accounts", Schema().Int64("id", PrimaryKey()).String("handle", Unique(), NotNull())));
    ASSERT_OK(engine_.CreateTable("profiles",
                                  Schema().Int64("id", PrimaryKey()).String("handle", Unique())));
    ASSERT_OK(engine_.CreateTable(
        "badges", Schema().Int64("id", PrimaryKey()).String("handle").String("label")));
    ASSERT_OK(engine_.AddForeignKey({.child_table = "profiles",
                                     .child_column = "handle",
                                     .parent_table = "accounts",
                                     .parent_column = "handle",
                                     .on_update = OnUpdate::kCascade}));
    ASSERT_OK(engine_.Insert("accounts", {{"handle", "ann"}}).status());
    ASSERT_OK(engine_.Insert("profiles", {{"handle", "ann"}}).status());
    ASSERT_OK(engine_.Insert("badges", {{"handle", "ann"}, {"label", "gold"}}).status());
    ASSERT_OK(engine_.Insert("badges", {{"handle", "ann"}, {"label", "silver"}}).status());
  }
  absl::Status LinkBadges(OnUpdate on_update) {
    return engine_.AddForeignKey({.child_table = "badges",
                                  .child_column = "handle",
                                  .parent_table = "profiles",
                                  .parent_column = "handle",
                                  .on_update = on_update});
  }
  std::string Handle(absl::string_view table, int64_t id) {
    return std::string(engine_.FindOrFail(table, id).value().GetString("handle").value());
  }
  Engine engine_;
};

TEST_F(UpdateChainTest, CascadesTwoLevels) {
  ASSERT_OK(LinkBadges(OnUpdate::kCascade));
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.FindOrFail("accounts", 1));
  EXPECT_THAT(engine_.Update(ann, {{"handle", "anna"}}), IsOkAndHolds(true));
  EXPECT_EQ(Handle("profiles", 1), "anna");
  EXPECT_EQ(Handle("badges", 1), "anna");
  EXPECT_EQ(Handle("badges", 2), "anna");
  EXPECT_OK(engine_.CheckConsistency());
}

TEST_F(UpdateChainTest, RestrictAtTheSecondLevelChangesNothing) {
  ASSERT_OK(LinkBadges(OnUpdate::kRestrict));
  std::string before = engine_.DebugString();
  ASSERT_OK_AND_ASSIGN(Row ann, engine_.FindOrFail("accounts", 1));
  EXPECT_THAT(engine_.Update(ann, {{"handle", "anna"}}),
              StatusIs(kFailedPrecondition,
                       "cannot change profiles.handle from \"ann\": 2 row(s) of badges.handle "
                       "reference it (on update restrict)"));
  EXPECT_EQ(engine_.DebugString(), before);
}

TEST_F(UpdateChainTest, ChildNamingAMissingParentIsRefused) {
  ASSERT_OK(LinkBadges(OnUpdate::kCascade));
  // With an action declared the key is enforced on the child side too, so
  // a profile whose handle has no account (which a cascade could later
  // collide with) cannot exist.
  std::string before = engine_.DebugString();
  EXPECT_THAT(engine_.Insert("profiles", {{"handle", "bo"}}),
              StatusIs(kFailedPrecondition, HasSubstr("profiles.handle = \"bo\" names no row of "
                                                      "accounts.handle")));
  ASSERT_OK_AND_ASSIGN(Row profile, engine_.FindOrFail("profiles", 1));
  EXPECT_THAT(engine_.Update(profile, {{"handle", "bo"}}),
              StatusIs(kFailedPrecondition, HasSubstr("names no row of accounts.handle")));
  EXPECT_EQ(engine_.DebugString(), before);
  EXPECT_EQ(Handle("profiles", 1), "ann");
}

}  // namespace
}  // namespace kin
