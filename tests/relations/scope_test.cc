// Write-side scopes (Sequelize's association `scope`; a polymorphic owner):
// posts and videos both have many comments through one foreign-key column,
// comments.commentable_id, told apart by comments.commentable = "post" /
// "video". Post 1 and video 1 share the key 1, so every read and write must
// keep each owner to its own rows: reads, writes, Preload, Has, WithCount,
// WithAggregate, the inverse BelongsTo, every strategy and snapshots.

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "query/internal/relation_plan.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::kin::internal::RelationStrategy;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr RelationStrategy kStrategies[] = {RelationStrategy::kAuto, RelationStrategy::kWalk,
                                            RelationStrategy::kScan, RelationStrategy::kIndexScan};

class ScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("posts", Schema().Int64("id", PrimaryKey()).String("title")));
    ASSERT_OK(db_.CreateTable("videos", Schema().Int64("id", PrimaryKey()).String("title")));
    ASSERT_OK(db_.CreateTable("comments", Schema()
                                              .Int64("id", PrimaryKey())
                                              .Int64("commentable_id")
                                              .String("commentable")
                                              .String("body")
                                              .Int64("likes", Default(0))));
    ASSERT_OK(db_.HasMany(
        "posts", "comments",
        {.foreign_key = "commentable_id", .scope = {{"commentable", "post"}}, .inverse = "post"}));
    ASSERT_OK(db_.HasMany("videos", "comments",
                          {.foreign_key = "commentable_id",
                           .scope = {{"commentable", "video"}},
                           .inverse = "video"}));
    ASSERT_OK_AND_ASSIGN(post_, db_.Insert("posts", {{"title", "p1"}}));
    ASSERT_OK_AND_ASSIGN(post2_, db_.Insert("posts", {{"title", "p2"}}));
    ASSERT_OK_AND_ASSIGN(video_, db_.Insert("videos", {{"title", "v1"}}));
    // Post 1 and video 1 share commentable_id = 1.
    ASSERT_OK_AND_ASSIGN(pc1_, Comment(1, "post", "pc1", 5));
    ASSERT_OK_AND_ASSIGN(vc1_, Comment(1, "video", "vc1", 100));
    ASSERT_OK_AND_ASSIGN(pc2_, Comment(1, "post", "pc2", 7));
    ASSERT_OK_AND_ASSIGN(vc2_, Comment(1, "video", "vc2", 1));
  }

  absl::StatusOr<Row> Comment(int64_t owner, const std::string& type, const std::string& body,
                              int64_t likes) {
    return db_.Insert(
        "comments",
        {{"commentable_id", owner}, {"commentable", type}, {"body", body}, {"likes", likes}});
  }

  template <typename Rows>
  static std::vector<std::string> Bodies(const Rows& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.emplace_back(r.GetString("body").value());
    return out;
  }

  std::vector<std::string> AllBodies(const std::string& type) {
    return Bodies(db_.Query("comments").Where("commentable", type).OrderBy("id").Get().value());
  }

  Database db_;
  Row post_, post2_, video_, pc1_, vc1_, pc2_, vc2_;
};

TEST_F(ScopeTest, RelationReadsSeeOnlyTheirScope) {
  EXPECT_THAT(Bodies(db_.Related(post_, "comments").Get().value()), ElementsAre("pc1", "pc2"));
  EXPECT_THAT(Bodies(db_.Related(video_, "comments").Get().value()), ElementsAre("vc1", "vc2"));
  // An OrWhere cannot reach past the scope (vc1 has 100 likes on key 1).
  EXPECT_THAT(Bodies(db_.Related(post_, "comments")
                         .Query()
                         .Where("likes", "<", 6)
                         .OrWhere("likes", ">", 50)
                         .Get()
                         .value()),
              ElementsAre("pc1"));
  EXPECT_THAT(db_.Related(post_, "comments").Count(), IsOkAndHolds(2));
  EXPECT_THAT(db_.Related(post_, "comments").Has(vc1_), IsOkAndHolds(false));
  EXPECT_THAT(db_.Related(post_, "comments").Has(pc1_), IsOkAndHolds(true));
  EXPECT_THAT(db_.Related(post_, "comments").Find(vc1_.GetInt64("id").value()),
              StatusIs(absl::StatusCode::kNotFound));
  // The raw index list would mix owners: refused.
  EXPECT_THAT(db_.Related(post_, "comments").Children(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("has a scope")));
  EXPECT_THAT(Bodies(db_.Related(post2_, "comments").Get().value()), IsEmpty());
}

TEST_F(ScopeTest, InverseBelongsToHasAParentOnlyInsideItsScope) {
  ASSERT_OK_AND_ASSIGN(std::optional<Row> owner, db_.Related(pc1_, "post").Parent());
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->id(), post_.id());
  // A video's comment shares the key but is not a post's comment.
  ASSERT_OK_AND_ASSIGN(std::optional<Row> none, db_.Related(vc1_, "post").Parent());
  EXPECT_FALSE(none.has_value());
  EXPECT_THAT(db_.Related(vc1_, "post").Get().value(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::optional<Row> video, db_.Related(vc1_, "video").Parent());
  ASSERT_TRUE(video.has_value());
  EXPECT_EQ(video->id(), video_.id());
}

TEST_F(ScopeTest, QueryReadsKeepOwnersApartWithEveryStrategy) {
  for (RelationStrategy strategy : kStrategies) {
    SCOPED_TRACE(static_cast<int>(strategy));
    ::kin::internal::SetRelationStrategyForTesting(strategy);
    ASSERT_OK_AND_ASSIGN(ResultSet posts,
                         db_.Query("posts")
                             .Preload("comments")
                             .WithCount("comments")
                             .WithAggregate("comments", [](Query& q) { q.Max("likes").As("top"); })
                             .Get());
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_THAT(Bodies(posts[0].Preloaded("comments").value()), ElementsAre("pc1", "pc2"));
    EXPECT_THAT(posts[0].Extra("comments_count"), IsOkAndHolds(Value(2)));
    EXPECT_THAT(posts[0].Extra("top"), IsOkAndHolds(Value(7)));
    EXPECT_THAT(posts[1].Extra("comments_count"), IsOkAndHolds(Value(0)));
    EXPECT_THAT(posts[1].Extra("top"), IsOkAndHolds(Value()));
    ASSERT_OK_AND_ASSIGN(
        ResultSet liked,
        db_.Query("posts").WhereHas("comments", [](Query& q) { q.Where("likes", ">", 50); }).Get());
    EXPECT_THAT(liked, IsEmpty());  // only video 1's comment has 100 likes
    ASSERT_OK_AND_ASSIGN(ResultSet two, db_.Query("videos").Has("comments", "=", 2).Get());
    EXPECT_EQ(two.size(), 1u);
    // The inverse side: each comment's owner through its own scope.
    ASSERT_OK_AND_ASSIGN(
        ResultSet comments,
        db_.Query("comments").Preload("post").WithCount("post").OrderBy("id").Get());
    ASSERT_EQ(comments.size(), 4u);
    EXPECT_EQ(comments[0].Preloaded("post").value().size(), 1u);    // pc1
    EXPECT_THAT(comments[1].Preloaded("post").value(), IsEmpty());  // vc1
    EXPECT_THAT(comments[1].Extra("post_count"), IsOkAndHolds(Value(0)));
    EXPECT_THAT(comments[2].Extra("post_count"), IsOkAndHolds(Value(1)));
    ASSERT_OK_AND_ASSIGN(ResultSet of_posts, db_.Query("comments").Has("post").Get());
    EXPECT_THAT(Bodies(of_posts), ElementsAre("pc1", "pc2"));
    ASSERT_OK_AND_ASSIGN(ResultSet of_videos, db_.Query("comments").DoesntHave("post").Get());
    EXPECT_THAT(Bodies(of_videos), ElementsAre("vc1", "vc2"));
  }
  ::kin::internal::SetRelationStrategyForTesting(RelationStrategy::kAuto);
}

TEST_F(ScopeTest, CreatesStampTheScope) {
  auto comments = db_.Related(post2_, "comments");
  // A value given for a scope column is replaced, as the foreign key is.
  ASSERT_OK_AND_ASSIGN(Row c, comments.Create({{"body", "new"}, {"commentable", "video"}}));
  EXPECT_THAT(c.GetString("commentable"), IsOkAndHolds("post"));
  EXPECT_THAT(c.GetInt64("commentable_id"), IsOkAndHolds(2));
  ASSERT_OK_AND_ASSIGN(auto many, comments.CreateMany({{{"body", "m1"}}, {{"body", "m2"}}}));
  ASSERT_OK_AND_ASSIGN(Row saved, comments.Save(Attrs{{"body", "s1"}}));
  ASSERT_OK_AND_ASSIGN(Row first, comments.FirstOrCreate({{"body", "f1"}}));
  for (const Row& r : {many[0], many[1], saved, first}) {
    EXPECT_THAT(r.GetString("commentable"), IsOkAndHolds("post"));
  }
  EXPECT_THAT(Bodies(comments.Get().value()), ElementsAre("new", "m1", "m2", "s1", "f1"));
  // A new parent through the relation, too.
  auto fresh = db_.Related(NewRow{"videos", {{"title", "v2"}}}, "comments");
  ASSERT_OK_AND_ASSIGN(Row vc, fresh.Create({{"body", "fresh"}}));
  EXPECT_THAT(vc.GetString("commentable"), IsOkAndHolds("video"));
}

TEST_F(ScopeTest, FirstOrCreateAndSyncManyMatchOnlyInsideTheScope) {
  const int64_t video_comments = db_.Related(video_, "comments").Count().value();
  // vc1 has body "vc1" under key 1, but it is a video's: a post comment is made.
  ASSERT_OK_AND_ASSIGN(Row made, db_.Related(post_, "comments").FirstOrCreate({{"body", "vc1"}}));
  EXPECT_NE(made.id(), vc1_.id());
  EXPECT_THAT(made.GetString("commentable"), IsOkAndHolds("post"));
  ASSERT_OK_AND_ASSIGN(
      Row updated,
      db_.Related(post_, "comments").UpdateOrCreate({{"body", "vc2"}}, {{"likes", 9}}));
  EXPECT_NE(updated.id(), vc2_.id());
  ASSERT_OK_AND_ASSIGN(auto synced,
                       db_.Related(post_, "comments")
                           .UpdateOrCreateMany("body", {{{"body", "pc1"}, {"likes", 50}},
                                                        {{"body", "vc1"}, {"likes", 51}}}));
  EXPECT_EQ(synced[0].id(), pc1_.id());
  EXPECT_THAT(vc1_.GetInt64("likes"), IsOkAndHolds(100));  // untouched
  EXPECT_THAT(db_.Related(video_, "comments").Count(), IsOkAndHolds(video_comments));
}

TEST_F(ScopeTest, SetRemoveUpdateDeleteTouchOnlyTheScope) {
  const std::vector<std::string> videos = AllBodies("video");
  // Set unlinks the post's other comments, never the video's.
  ASSERT_OK_AND_ASSIGN(int64_t set, db_.Related(post_, "comments").Set({pc1_}));
  EXPECT_EQ(set, 1);
  EXPECT_THAT(Bodies(db_.Related(post_, "comments").Get().value()), ElementsAre("pc1"));
  EXPECT_THAT(pc2_.Get("commentable_id"), IsOkAndHolds(Value()));
  EXPECT_EQ(AllBodies("video"), videos);
  EXPECT_THAT(Bodies(db_.Related(video_, "comments").Get().value()), ElementsAre("vc1", "vc2"));
  // Remove of another scope's row with the same key is not ours: 0.
  EXPECT_THAT(db_.Related(post_, "comments").Remove(vc1_), IsOkAndHolds(0));
  EXPECT_THAT(vc1_.GetInt64("commentable_id"), IsOkAndHolds(1));
  // Update and Delete through the relation.
  EXPECT_THAT(db_.Related(post_, "comments").Update({{"likes", 0}}), IsOkAndHolds(1));
  EXPECT_THAT(vc1_.GetInt64("likes"), IsOkAndHolds(100));
  EXPECT_THAT(db_.Related(post_, "comments").Delete(), IsOkAndHolds(1));
  EXPECT_FALSE(pc1_.valid());
  EXPECT_TRUE(vc1_.valid());
  EXPECT_THAT(Bodies(db_.Related(video_, "comments").Get().value()), ElementsAre("vc1", "vc2"));
}

// on_unlink = kDelete: unlinking deletes, and only the scope's rows; a
// delete of the parent itself has no action (scoped relations take none),
// so the shared key's other rows stay.
TEST_F(ScopeTest, UnlinkDeleteAndParentDeleteKeepOtherScopes) {
  ASSERT_OK(db_.HasMany("videos", "comments",
                        {.name = "clips",
                         .foreign_key = "commentable_id",
                         .scope = {{"commentable", "video"}},
                         .create_inverse = false,
                         .on_unlink = OnUnlink::kDelete}));
  ASSERT_OK_AND_ASSIGN(int64_t n, db_.Related(video_, "clips").Set({vc2_}));
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(vc1_.valid());
  EXPECT_TRUE(pc1_.valid());
  EXPECT_TRUE(pc2_.valid());
  ASSERT_OK(db_.Delete(video_));
  EXPECT_THAT(AllBodies("post"), ElementsAre("pc1", "pc2"));
  EXPECT_THAT(Bodies(db_.Related(post_, "comments").Get().value()), ElementsAre("pc1", "pc2"));
}

TEST_F(ScopeTest, AddAndSaveLinkWithTheScope) {
  // Moving a video's comment to a post stamps the post's scope.
  ASSERT_OK_AND_ASSIGN(int64_t added, db_.Related(post2_, "comments").Add(vc2_));
  EXPECT_EQ(added, 1);
  EXPECT_THAT(vc2_.GetString("commentable"), IsOkAndHolds("post"));
  EXPECT_THAT(vc2_.GetInt64("commentable_id"), IsOkAndHolds(2));
  // A row already on the key but in another scope is linked, not skipped.
  ASSERT_OK_AND_ASSIGN(Row saved, db_.Related(post_, "comments").Save(vc1_));
  EXPECT_THAT(saved.GetString("commentable"), IsOkAndHolds("post"));
  EXPECT_THAT(Bodies(db_.Related(video_, "comments").Get().value()), IsEmpty());
  // Associate through the inverse stamps its scope; Dissociate of a row
  // outside the scope changes nothing.
  ASSERT_OK_AND_ASSIGN(Row loose, Comment(0, "video", "loose", 0));
  ASSERT_OK(db_.Related(loose, "post").Associate(post_));
  EXPECT_THAT(loose.GetString("commentable"), IsOkAndHolds("post"));
  ASSERT_OK_AND_ASSIGN(Row vid, Comment(1, "video", "vid", 0));
  const std::string before = db_.DebugString();
  ASSERT_OK(db_.Related(vid, "post").Dissociate());
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(ScopeTest, ScopeIsSavedInSnapshots) {
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* spec, loaded.GetRelation("posts", "comments"));
  EXPECT_EQ(spec->scope, (RelationScope{{"commentable", Value("post")}}));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* inverse, loaded.GetRelation("comments", "video"));
  EXPECT_EQ(inverse->scope, (RelationScope{{"commentable", Value("video")}}));
  ASSERT_OK_AND_ASSIGN(Row post, loaded.FindOrFail("posts", 1));
  EXPECT_THAT(Bodies(loaded.Related(post, "comments").Get().value()), ElementsAre("pc1", "pc2"));
  ASSERT_OK_AND_ASSIGN(int64_t n, loaded.Related(post, "comments").Delete());
  EXPECT_EQ(n, 2);
  EXPECT_THAT(loaded.Query("comments").Count(), IsOkAndHolds(2));
}

TEST_F(ScopeTest, BadScopesAreRefusedAndChangeNothing) {
  const std::string before = db_.DebugString();
  auto declare = [&](RelationScope scope, OnDelete on_delete = OnDelete::kNoAction) {
    return db_.HasMany("videos", "comments",
                       {.name = "notes",
                        .foreign_key = "commentable_id",
                        .scope = std::move(scope),
                        .create_inverse = false,
                        .on_delete = on_delete});
  };
  EXPECT_THAT(declare({{"kind", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'comments': no column named 'kind' (scope of "
                                 "videos.notes)")));
  EXPECT_THAT(declare({{"commentable_id", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("foreign key")));
  EXPECT_THAT(declare({{"commentable", Value()}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is NULL")));
  EXPECT_THAT(declare({{"commentable", 3}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("comments.commentable")));
  EXPECT_THAT(declare({{"commentable", "a"}, {"commentable", "b"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  EXPECT_THAT(declare({{"commentable", "video"}}, OnDelete::kCascade),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a scoped relation cannot declare on_delete")));
  // A second scope under an existing inverse name needs its own inverse.
  EXPECT_THAT(db_.HasMany("videos", "comments",
                          {.name = "notes",
                           .foreign_key = "commentable_id",
                           .scope = {{"commentable", "clip"}},
                           .inverse = "video"}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("other keys or scope")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_EQ(db_.Relations("videos").size(), 1u);
}

}  // namespace
}  // namespace kin::test
