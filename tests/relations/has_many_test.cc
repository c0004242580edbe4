// The HasMany relation handle: every read and write of the seeds, translated
// to kin, plus edge cases and bad input.

#include <string>
#include <vector>

#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using HasManyTest = BlogTest;

// --- reads ---

TEST_F(HasManyTest, GetReturnsChildrenInInsertionOrder) {
  ASSERT_OK(db_.Related(alice_, "posts").Create({{"title", "A"}}).status());
  ASSERT_OK(db_.Related(bob_, "posts").Create({{"title", "B"}}).status());
  ASSERT_OK(db_.Related(alice_, "posts").Create({{"title", "C"}}).status());
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db_.Related(alice_, "posts").Get());
  EXPECT_THAT(Titles(posts), ElementsAre("A", "C"));
  ASSERT_OK_AND_ASSIGN(ResultSet same, db_.Related(alice_, "posts").GetResults());
  EXPECT_EQ(same.size(), 2u);
}

TEST_F(HasManyTest, ParentWithoutChildren) {
  ASSERT_OK_AND_ASSIGN(ResultSet posts, db_.Related(bob_, "posts").Get());
  EXPECT_TRUE(posts.empty());
  EXPECT_EQ(db_.Related(bob_, "posts").Count().value(), 0);
  EXPECT_TRUE(db_.Related(bob_, "posts").Children().value().empty());
}

TEST_F(HasManyTest, FindIsScopedToTheParent) {
  // Seed 000: find(id) applies the relationship constraint.
  ASSERT_OK_AND_ASSIGN(Row mine, db_.Related(alice_, "posts").Create({{"title", "mine"}}));
  ASSERT_OK_AND_ASSIGN(Row theirs, db_.Related(bob_, "posts").Create({{"title", "theirs"}}));
  ASSERT_OK_AND_ASSIGN(Row found, db_.Related(alice_, "posts").Find(Id(mine)));
  EXPECT_EQ(found, mine);
  EXPECT_THAT(db_.Related(alice_, "posts").Find(Id(theirs)),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("relation 'users.posts': no 'posts' row with id = 2")));
  EXPECT_THAT(db_.Related(alice_, "posts").Find(Value("2")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("posts.id: expected int64")));
}

TEST_F(HasManyTest, QueryIsPreConstrainedToTheParent) {
  // Lucid: user.related('posts').query().orderBy('created_at', 'desc').limit(5)
  for (int i = 1; i <= 8; ++i) {
    ASSERT_OK(db_.Related(alice_, "posts")
                  .Create({{"title", "a" + std::to_string(i)}, {"created_at", i * 10}})
                  .status());
  }
  ASSERT_OK(db_.Related(bob_, "posts").Create({{"title", "b"}, {"created_at", 999}}).status());
  ASSERT_OK_AND_ASSIGN(
      ResultSet latest,
      db_.Related(alice_, "posts").Query().OrderBy("created_at", kDesc).Limit(5).Get());
  EXPECT_THAT(Titles(latest), ElementsAre("a8", "a7", "a6", "a5", "a4"));
  // Pagination works on a lazy related query.
  ASSERT_OK_AND_ASSIGN(
      Page page, db_.Related(alice_, "posts").Query().OrderBy("created_at", kDesc).Paginate(2, 3));
  EXPECT_THAT(Titles(page.rows), ElementsAre("a5", "a4", "a3"));
  EXPECT_EQ(page.meta.total, 8);
  EXPECT_EQ(page.meta.last_page, 3);
  // OrWhere inside the related query cannot escape the parent constraint.
  ASSERT_OK_AND_ASSIGN(
      int64_t n,
      db_.Related(alice_, "posts").Query().Where("title", "a1").OrWhere("title", "b").Count());
  EXPECT_EQ(n, 1);
}

TEST_F(HasManyTest, CountAndCountWithFilter) {
  ASSERT_OK(db_.Related(alice_, "posts")
                .CreateMany({{{"title", "x"}, {"is_published", true}},
                             {{"title", "y"}},
                             {{"title", "z"}, {"is_published", true}}})
                .status());
  EXPECT_EQ(db_.Related(alice_, "posts").Count().value(), 3);
  ASSERT_OK_AND_ASSIGN(int64_t published, db_.Related(alice_, "posts").Count([](Query& q) {
    q.Where("is_published", true);
  }));
  EXPECT_EQ(published, 2);
}

TEST_F(HasManyTest, HasAndHasAllByRowOrKey) {
  ASSERT_OK_AND_ASSIGN(Row p1, db_.Related(alice_, "posts").Create({{"title", "1"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, db_.Related(alice_, "posts").Create({{"title", "2"}}));
  ASSERT_OK_AND_ASSIGN(Row p3, db_.Related(bob_, "posts").Create({{"title", "3"}}));
  auto rel = db_.Related(alice_, "posts");
  EXPECT_TRUE(rel.Has(p1).value());
  EXPECT_TRUE(rel.Has(Value(Id(p2))).value());
  EXPECT_FALSE(rel.Has(p3).value());
  std::vector<RowOrKey> mine = {p1, Value(Id(p2))};
  std::vector<RowOrKey> mixed = {p1, p3};
  EXPECT_TRUE(rel.HasAll(mine).value());
  EXPECT_FALSE(rel.HasAll(mixed).value());
  EXPECT_TRUE(rel.HasAll({}).value());
  EXPECT_THAT(rel.Has(Value(404)), StatusIs(absl::StatusCode::kNotFound,
                                            HasSubstr("table 'posts': no row with id = 404")));
  EXPECT_THAT(rel.Has(alice_), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("a row of 'users' is not a 'posts' row")));
}

TEST_F(HasManyTest, ChildrenSpanIsZeroCopyAndInInsertionOrder) {
  ASSERT_OK_AND_ASSIGN(Row p1, db_.Related(alice_, "posts").Create({{"title", "1"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, db_.Related(alice_, "posts").Create({{"title", "2"}}));
  ASSERT_OK_AND_ASSIGN(std::span<const RowId> kids, db_.Related(alice_, "posts").Children());
  EXPECT_THAT(kids, ElementsAre(p1.id(), p2.id()));
  // The same span straight from the table: an index probe.
  const Table* posts = db_.FindTable("posts");
  EXPECT_THAT(posts->Children(*posts->FindColumn("user_id"), Id(alice_)),
              ElementsAre(p1.id(), p2.id()));
}

TEST_F(HasManyTest, OnQueryAppliesToReadsButNotToWrites) {
  ASSERT_OK(db_.HasMany("users", "posts", {.name = "published", .on_query = [](Query& q) {
                                             q.Where("is_published", true);
                                           }}));
  auto published = db_.Related(alice_, "published");
  // Writes ignore on_query: an unpublished post is created and kept.
  ASSERT_OK_AND_ASSIGN(Row draft, published.Create({{"title", "draft"}}));
  ASSERT_OK_AND_ASSIGN(Row live, published.Create({{"title", "live"}, {"is_published", true}}));
  EXPECT_FALSE(draft.GetBool("is_published").value());
  // Reads apply it.
  EXPECT_THAT(Titles(published.Get().value()), ElementsAre("live"));
  EXPECT_EQ(published.Count().value(), 1);
  EXPECT_EQ(published.Query().Count().value(), 1);
  EXPECT_THAT(published.Find(Id(draft)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(published.Has(draft).value());
  EXPECT_TRUE(published.Has(live).value());
  // FirstOrCreate is a write: it finds the draft although on_query hides it.
  ASSERT_OK_AND_ASSIGN(Row again, published.FirstOrCreate({{"title", "draft"}}));
  EXPECT_EQ(again, draft);
  // Children() is the raw index view.
  EXPECT_EQ(published.Children().value().size(), 2u);
}

// --- writes ---

TEST_F(HasManyTest, CreateSetsTheForeignKeyFromTheParent) {
  // Seed 000 create / Lucid create: post.user_id is set to user.id.
  ASSERT_OK_AND_ASSIGN(
      Row post, db_.Related(alice_, "posts").Create({{"title", "My New Post"}, {"user_id", 999}}));
  EXPECT_EQ(post.GetInt64("user_id").value(), Id(alice_));
  EXPECT_EQ(post.GetString("title").value(), "My New Post");
}

TEST_F(HasManyTest, CreateManyIsAllOrNothing) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<Row> posts,
      db_.Related(alice_, "posts")
          .CreateMany({{{"title", "Post 1"}}, {{"title", "Post 2"}}, {{"title", "Post 3"}}}));
  EXPECT_EQ(posts.size(), 3u);
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Related(alice_, "posts")
                  .CreateMany({{{"title", "ok"}}, {{"title", 42}}, {{"title", "never"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("row 1: posts.title: expected string, got int64 42")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_TRUE(db_.Related(alice_, "posts").CreateMany({}).value().empty());
}

TEST_F(HasManyTest, SaveInsertsNewRecordsAndReparentsExistingRows) {
  ASSERT_OK_AND_ASSIGN(Row bobs, db_.Related(bob_, "posts").Create({{"title", "moved"}}));
  ASSERT_OK_AND_ASSIGN(Row fresh, db_.Related(alice_, "posts").Save(Attrs{{"title", "New Post"}}));
  EXPECT_EQ(fresh.GetInt64("user_id").value(), Id(alice_));
  ASSERT_OK_AND_ASSIGN(Row moved, db_.Related(alice_, "posts").Save(bobs));
  EXPECT_EQ(moved, bobs);
  EXPECT_EQ(moved.GetInt64("user_id").value(), Id(alice_));
  EXPECT_EQ(db_.Related(bob_, "posts").Count().value(), 0);
  // SaveMany mixes both.
  ASSERT_OK_AND_ASSIGN(Row other, db_.Insert("posts", {{"title", "orphan"}}));
  std::vector<Record> batch = {other, Attrs{{"title", "brand new"}}};
  ASSERT_OK_AND_ASSIGN(std::vector<Row> saved, db_.Related(bob_, "posts").SaveMany(batch));
  EXPECT_THAT(Titles(db_.Related(bob_, "posts").Get().value()), ElementsAre("orphan", "brand new"));
  EXPECT_EQ(saved.size(), 2u);
}

TEST_F(HasManyTest, AnUnsavedParentIsSavedFirstInTheSameTransaction) {
  auto rel = db_.Related(NewRow{"users", {{"email", "carol@example.com"}}}, "posts");
  EXPECT_THAT(rel.parent(), StatusIs(absl::StatusCode::kFailedPrecondition));
  // A failing write leaves no parent behind.
  const std::string before = db_.DebugString();
  EXPECT_THAT(rel.Create({{"title", 7}}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db_.DebugString(), before);
  // A good one saves the parent, then the child.
  ASSERT_OK_AND_ASSIGN(Row post, rel.Create({{"title", "hello"}}));
  ASSERT_OK_AND_ASSIGN(Row carol, rel.parent());
  EXPECT_EQ(carol.GetString("email").value(), "carol@example.com");
  EXPECT_EQ(post.GetInt64("user_id").value(), Id(carol));
  // Later writes reuse the saved parent.
  ASSERT_OK(rel.Create({{"title", "again"}}).status());
  EXPECT_EQ(db_.FindTable("users")->size(), 3u);
  EXPECT_EQ(rel.Count().value(), 2);
}

TEST_F(HasManyTest, FirstOrCreate) {
  // Lucid: firstOrCreate({ slug }, { title, body }) — save merged on create only.
  auto rel = db_.Related(alice_, "posts");
  ASSERT_OK_AND_ASSIGN(Row created, rel.FirstOrCreate({{"slug", "hello-world"}},
                                                      {{"title", "Hello, world"}, {"body", ""}}));
  EXPECT_EQ(created.GetString("title").value(), "Hello, world");
  ASSERT_OK_AND_ASSIGN(Row found,
                       rel.FirstOrCreate({{"slug", "hello-world"}}, {{"title", "ignored"}}));
  EXPECT_EQ(found, created);
  EXPECT_EQ(found.GetString("title").value(), "Hello, world");
  // Another parent's row with the same slug does not match: the predicate is
  // combined with the foreign key.
  ASSERT_OK_AND_ASSIGN(Row bobs,
                       db_.Related(bob_, "posts").FirstOrCreate({{"slug", "hello-world"}}));
  EXPECT_NE(bobs, created);
  EXPECT_EQ(db_.FindTable("posts")->size(), 2u);
  EXPECT_THAT(rel.FirstOrCreate({{"slgu", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'slgu'")));
}

TEST_F(HasManyTest, UpdateOrCreate) {
  auto rel = db_.Related(alice_, "posts");
  ASSERT_OK_AND_ASSIGN(Row created,
                       rel.UpdateOrCreate({{"slug", "hello-world"}},
                                          {{"title", "Updated title"}, {"body", "Updated body"}}));
  EXPECT_EQ(created.GetString("slug").value(), "hello-world");
  ASSERT_OK_AND_ASSIGN(Row updated,
                       rel.UpdateOrCreate({{"slug", "hello-world"}}, {{"title", "Second"}}));
  EXPECT_EQ(updated, created);
  EXPECT_EQ(updated.GetString("title").value(), "Second");
  EXPECT_EQ(updated.GetString("body").value(), "Updated body");
  EXPECT_EQ(rel.Count().value(), 1);
}

TEST_F(HasManyTest, FetchOrCreateManyAndUpdateOrCreateMany) {
  ASSERT_OK(db_.CreateTable("projects", Schema().Int64("id", PrimaryKey()).String("name")));
  ASSERT_OK(db_.CreateTable(
      "tags",
      Schema().Int64("id", PrimaryKey()).Int64("project_id").String("slug").String("label")));
  ASSERT_OK(db_.HasMany("projects", "tags"));
  ASSERT_OK_AND_ASSIGN(Row project, db_.Insert("projects", {{"name", "kin"}}));
  ASSERT_OK_AND_ASSIGN(Row other, db_.Insert("projects", {{"name", "other"}}));
  ASSERT_OK_AND_ASSIGN(Row foreign_alpha,
                       db_.Related(other, "tags").Create({{"slug", "alpha"}, {"label", "theirs"}}));
  auto tags = db_.Related(project, "tags");
  ASSERT_OK_AND_ASSIGN(Row alpha, tags.Create({{"slug", "alpha"}, {"label", "Alpha"}}));

  // Lucid: fetchOrCreateMany('slug', [...]): alpha exists, beta is inserted.
  ASSERT_OK_AND_ASSIGN(std::vector<Row> fetched,
                       tags.FetchOrCreateMany("slug", {{{"slug", "alpha"}, {"label", "ignored"}},
                                                       {{"slug", "beta"}, {"label", "Beta"}}}));
  ASSERT_EQ(fetched.size(), 2u);
  EXPECT_EQ(fetched[0], alpha);
  EXPECT_EQ(fetched[0].GetString("label").value(), "Alpha");
  EXPECT_EQ(fetched[1].GetString("label").value(), "Beta");
  EXPECT_EQ(tags.Count().value(), 2);

  ASSERT_OK_AND_ASSIGN(
      std::vector<Row> synced,
      tags.UpdateOrCreateMany("slug", {{{"slug", "alpha"}, {"label", "Alpha (updated)"}},
                                       {{"slug", "beta"}, {"label", "Beta (updated)"}},
                                       {{"slug", "gamma"}, {"label", "Gamma"}}}));
  ASSERT_EQ(synced.size(), 3u);
  EXPECT_EQ(synced[0].GetString("label").value(), "Alpha (updated)");
  EXPECT_EQ(synced[1].GetString("label").value(), "Beta (updated)");
  EXPECT_EQ(tags.Count().value(), 3);
  // The other project's alpha was neither matched nor touched.
  EXPECT_EQ(foreign_alpha.GetString("label").value(), "theirs");

  // Bad input changes nothing.
  const std::string before = db_.DebugString();
  EXPECT_THAT(
      tags.UpdateOrCreateMany("slug", {{{"slug", "delta"}}, {{"label", "no key"}}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("row 1 has no value for key 'slug'")));
  EXPECT_THAT(tags.FetchOrCreateMany("slgu", {{{"slug", "delta"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no column named 'slgu'")));
  EXPECT_EQ(db_.DebugString(), before);
}

// kin chooses: no key columns is an error, not Lucid's match on the foreign
// key alone (which would pair every row of the batch with one child).
TEST_F(HasManyTest, FetchOrCreateManyWithoutKeyColumnsIsRefused) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.Related(alice_, "posts").Create({{"title", "kept"}}));
  const std::string before = db_.DebugString();
  auto posts = db_.Related(alice_, "posts");
  auto refused = StatusIs(absl::StatusCode::kInvalidArgument,
                          "relation 'users.posts': fetch or create many needs at least one key "
                          "column to match rows on (kin does not match on the foreign key alone)");
  EXPECT_THAT(posts.FetchOrCreateMany(std::vector<std::string>{}, {{{"title", "x"}}}), refused);
  EXPECT_THAT(posts.FetchOrCreateMany("", {{{"title", "x"}}}), refused);
  EXPECT_THAT(posts.UpdateOrCreateMany(std::vector<std::string>{}, {{{"title", "y"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("update or create many needs at least one key column")));
  EXPECT_THAT(posts.UpdateOrCreateMany(std::vector<std::string>{"slug", ""}, {{{"slug", "s"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one key column")));
  // Also with nothing to sync, and for an unsaved parent (not inserted).
  EXPECT_THAT(posts.FetchOrCreateMany(std::vector<std::string>{}, {}), refused);
  EXPECT_THAT(db_.Related(NewRow{"users", {{"email", "new@example.com"}}}, "posts")
                  .FetchOrCreateMany(std::vector<std::string>{}, {{{"title", "z"}}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db_.DebugString(), before);
  // An empty batch with a key is fine and returns nothing.
  ASSERT_OK_AND_ASSIGN(std::vector<Row> none, posts.FetchOrCreateMany("slug", {}));
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(post.valid());
}

TEST_F(HasManyTest, SetReplacesTheChildren) {
  // Sequelize: post.setComments([c1, c2, c3]) / setComments([1, 2, 3]).
  ASSERT_OK_AND_ASSIGN(Row p1, db_.Related(alice_, "posts").Create({{"title", "1"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, db_.Related(alice_, "posts").Create({{"title", "2"}}));
  ASSERT_OK_AND_ASSIGN(Row p3, db_.Related(bob_, "posts").Create({{"title", "3"}}));
  std::vector<RowOrKey> target = {p2, Value(Id(p3))};
  ASSERT_OK_AND_ASSIGN(int64_t changed, db_.Related(alice_, "posts").Set(target));
  EXPECT_EQ(changed, 2);  // p1 unlinked, p3 linked
  EXPECT_THAT(Titles(db_.Related(alice_, "posts").Get().value()), ElementsAre("2", "3"));
  EXPECT_TRUE(p1.Get("user_id").value().is_null());
  // Set with an empty list unlinks everything.
  ASSERT_OK_AND_ASSIGN(int64_t cleared, db_.Related(alice_, "posts").Set({}));
  EXPECT_EQ(cleared, 2);
  EXPECT_EQ(db_.Related(alice_, "posts").Count().value(), 0);
  EXPECT_EQ(db_.FindTable("posts")->size(), 3u);  // nullified, not deleted
}

TEST_F(HasManyTest, UnlinkingANotNullForeignKeyIsAClearErrorUnlessItDeletes) {
  ASSERT_OK_AND_ASSIGN(Row post, db_.Related(alice_, "posts").Create({{"title", "p"}}));
  ASSERT_OK(
      db_.Related(post, "comments").CreateMany({{{"body", "c1"}}, {{"body", "c2"}}}).status());
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Related(post, "comments").Set({}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("comments.post_id is NOT NULL (declare the relation with "
                                 "on_unlink = OnUnlink::kDelete")));
  EXPECT_EQ(db_.DebugString(), before);

  ASSERT_OK(
      db_.HasMany("posts", "comments",
                  {.name = "thread", .create_inverse = false, .on_unlink = OnUnlink::kDelete}));
  ASSERT_OK_AND_ASSIGN(Row first, db_.Related(post, "thread").Find(1));
  ASSERT_OK_AND_ASSIGN(int64_t removed, db_.Related(post, "thread").Remove(first));
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(db_.FindTable("comments")->size(), 1u);  // deleted, not orphaned
  ASSERT_OK_AND_ASSIGN(int64_t cleared, db_.Related(post, "thread").Set({}));
  EXPECT_EQ(cleared, 1);
  EXPECT_TRUE(db_.FindTable("comments")->empty());
}

TEST_F(HasManyTest, AddAndRemoveByRowOrKey) {
  ASSERT_OK_AND_ASSIGN(Row p1, db_.Insert("posts", {{"title", "1"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, db_.Insert("posts", {{"title", "2"}}));
  ASSERT_OK_AND_ASSIGN(Row p3, db_.Insert("posts", {{"title", "3"}}));
  auto rel = db_.Related(alice_, "posts");
  EXPECT_EQ(rel.Add(p1).value(), 1);
  EXPECT_EQ(rel.Add(p1).value(), 0);  // already a child
  std::vector<RowOrKey> more = {Value(Id(p2)), p3};
  EXPECT_EQ(rel.AddMany(more).value(), 2);
  EXPECT_THAT(Titles(rel.Get().value()), ElementsAre("1", "2", "3"));

  EXPECT_EQ(rel.Remove(Value(Id(p2))).value(), 1);
  std::vector<RowOrKey> rest = {p1, p3};
  EXPECT_EQ(rel.RemoveMany(rest).value(), 2);
  EXPECT_EQ(rel.Count().value(), 0);

  // Removing another parent's child changes nothing.
  ASSERT_OK_AND_ASSIGN(Row bobs, db_.Related(bob_, "posts").Create({{"title", "b"}}));
  EXPECT_EQ(rel.Remove(bobs).value(), 0);
  EXPECT_EQ(bobs.GetInt64("user_id").value(), Id(bob_));

  // A key that names no row is NotFound, and nothing changes, even for the
  // keys before it in the batch.
  const std::string before = db_.DebugString();
  std::vector<RowOrKey> bad = {p1, Value(12345)};
  EXPECT_THAT(rel.AddMany(bad),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no row with id = 12345")));
  EXPECT_THAT(rel.Remove(Value(12345)), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(rel.Add(Value("abc")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("posts.id: expected int64")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(HasManyTest, UpdateAndDeleteOverTheRelation) {
  // Seed 000: update(attrs) and delete() return how many rows changed.
  ASSERT_OK(db_.Related(alice_, "posts").CreateMany({{{"title", "1"}}, {{"title", "2"}}}).status());
  ASSERT_OK(db_.Related(bob_, "posts").Create({{"title", "3"}}).status());
  ASSERT_OK_AND_ASSIGN(int64_t updated,
                       db_.Related(alice_, "posts").Update({{"body", "archived"}}));
  EXPECT_EQ(updated, 2);
  ASSERT_OK_AND_ASSIGN(ResultSet updated_posts, db_.Related(alice_, "posts").Get());
  for (const Row& p : updated_posts) {
    EXPECT_EQ(p.GetString("body").value(), "archived");
  }
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Related(alice_, "posts").Update({{"body", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(db_.DebugString(), before);
  ASSERT_OK_AND_ASSIGN(int64_t deleted, db_.Related(alice_, "posts").Delete());
  EXPECT_EQ(deleted, 2);
  EXPECT_EQ(db_.FindTable("posts")->size(), 1u);
  EXPECT_EQ(db_.Related(alice_, "posts").Delete().value(), 0);
}

TEST_F(HasManyTest, FailedWritesRollBackCompletely) {
  ASSERT_OK(db_.CreateTable(
      "badges",
      Schema().Int64("id", PrimaryKey()).Int64("user_id", NotNull()).String("code", Unique())));
  ASSERT_OK(db_.HasMany("users", "badges"));
  auto badges = db_.Related(alice_, "badges");
  ASSERT_OK(badges.Create({{"code", "gold"}}).status());
  const std::string before = db_.DebugString();
  // Duplicate unique key in the second row.
  EXPECT_THAT(badges.CreateMany({{{"code", "silver"}}, {{"code", "gold"}}}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("badges.code: duplicate")));
  // Unknown column.
  EXPECT_THAT(badges.UpdateOrCreate({{"code", "bronze"}}, {{"colour", "brown"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // A NOT NULL violation in a later step of Set.
  std::vector<RowOrKey> none;
  EXPECT_THAT(badges.Set(none), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(HasManyTest, BadInputNamesTheProblem) {
  EXPECT_THAT(
      db_.Related(alice_, "postz").Get(),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("table 'users': no relation named 'postz'")));
  EXPECT_THAT(db_.Related(alice_, "postz").Create({{"title", "x"}}),
              StatusIs(absl::StatusCode::kNotFound));
  // A BelongsTo relation has no Create.
  ASSERT_OK_AND_ASSIGN(Row post, db_.Related(alice_, "posts").Create({{"title", "x"}}));
  EXPECT_THAT(db_.Related(post, "user").Create({{"email", "x"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("relation 'posts.user' is belongs to")));
  // A deleted parent.
  ASSERT_OK(db_.Delete(bob_));
  EXPECT_THAT(db_.Related(bob_, "posts").Create({{"title", "x"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("stale or deleted")));
  EXPECT_THAT(db_.Related(Row(), "posts").Get(), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace kin::test
