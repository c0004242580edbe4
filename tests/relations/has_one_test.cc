// HasOne (Lucid hasOne, Sequelize HasOne): declaration, reads of zero or one
// row, Preload / Has / WithCount / WithAggregate through it, its writes
// (Create, Save, Set with the unlink policy, the many-row ones refused), a
// unique foreign key refusing a second child, snapshots.

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/prepared_query.h"
#include "kin/query.h"
#include "kin/snapshot.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Users (from BlogTest) have one profile (profiles.user_id unique) and,
// through a non-unique key, one avatar.
class HasOneTest : public BlogTest {
 protected:
  void SetUp() override {
    BlogTest::SetUp();
    ASSERT_OK(db_.CreateTable(
        "profiles", Schema().Int64("id", PrimaryKey()).Int64("user_id", Unique()).String("bio")));
    ASSERT_OK(db_.CreateTable("avatars",
                              Schema().Int64("id", PrimaryKey()).Int64("user_id").String("url")));
    ASSERT_OK(db_.HasOne("users", "profiles"));
    ASSERT_OK(db_.HasOne("users", "avatars"));
  }

  std::vector<std::string> Bios(const ResultSet& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("bio").value()));
    return out;
  }
  std::string Bio(std::span<const ResultRow> rows) {
    if (rows.empty()) return "-";
    return std::string(rows[0].GetString("bio").value());
  }
};

TEST_F(HasOneTest, DeclaresWithSingularNameAndInverse) {
  ASSERT_OK_AND_ASSIGN(const RelationSpec* profile, db_.GetRelation("users", "profile"));
  EXPECT_EQ(profile->kind, RelationKind::kHasOne);
  EXPECT_EQ(profile->related_table, "profiles");
  EXPECT_EQ(profile->foreign_key, "user_id");
  EXPECT_EQ(profile->local_key, "id");
  EXPECT_EQ(profile->inverse, "user");
  EXPECT_EQ(profile->parent_table(), "users");
  EXPECT_EQ(profile->child_table(), "profiles");
  ASSERT_OK_AND_ASSIGN(const RelationSpec* user, db_.GetRelation("profiles", "user"));
  EXPECT_EQ(user->kind, RelationKind::kBelongsTo);
  EXPECT_EQ(user->inverse, "profile");
  EXPECT_EQ(RelationKindName(RelationKind::kHasOne), "has one");
  // An explicit name.
  ASSERT_OK(db_.HasOne("users", "avatars", {.name = "picture", .create_inverse = false}));
  EXPECT_TRUE(db_.GetRelation("users", "picture").ok());
}

TEST_F(HasOneTest, DeclareBadInputChangesNothing) {
  ASSERT_OK(db_.CreateTable("badges", Schema().Int64("id", PrimaryKey()).String("user_id")));
  const std::string before = db_.DebugString();
  const size_t relations = db_.Relations().size();
  EXPECT_THAT(db_.HasOne("users", "nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(db_.HasOne("users", "profiles", {.name = "bio_row", .foreign_key = "owner"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'profiles': no column named 'owner'")));
  EXPECT_THAT(db_.HasOne("users", "badges"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("foreign key badges.user_id is string but local key users.id is "
                                 "int64")));
  EXPECT_THAT(db_.HasOne("users", "profiles"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("'profile' already exists")));
  EXPECT_THAT(db_.HasOne("users", "users"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("has one users -> users: a self-relation needs explicit names")));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_EQ(db_.Relations().size(), relations);
}

TEST_F(HasOneTest, ReadsZeroOrOneRow) {
  RelationHandle profile = db_.Related(alice_, "profile");
  ASSERT_OK_AND_ASSIGN(std::optional<Row> none, profile.One());
  EXPECT_FALSE(none.has_value());
  EXPECT_TRUE(profile.Get().value().empty());
  EXPECT_EQ(profile.Count().value(), 0);

  ASSERT_OK_AND_ASSIGN(Row created, profile.Create({{"bio", "hi"}}));
  EXPECT_EQ(created.GetInt64("user_id").value(), Id(alice_));
  ASSERT_OK_AND_ASSIGN(std::optional<Row> one, profile.One());
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, created);
  EXPECT_THAT(Bios(profile.Get().value()), ElementsAre("hi"));
  EXPECT_EQ(profile.Query().Get().value().size(), 1u);
  EXPECT_THAT(profile.Query().Prepare(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a has one's single row")));
  EXPECT_EQ(profile.Find(created.Get("id").value()).value(), created);
  EXPECT_TRUE(profile.Has(created).value());
  EXPECT_EQ(profile.Count().value(), 1);
  // The inverse reads the parent, also through One.
  ASSERT_OK_AND_ASSIGN(std::optional<Row> owner, db_.Related(created, "user").One());
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(*owner, alice_);
  // Bob has none.
  EXPECT_FALSE(db_.Related(bob_, "profile").One().value().has_value());
  // One on a HasMany is refused.
  EXPECT_THAT(db_.Related(alice_, "posts").One(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is has many")));
}

TEST_F(HasOneTest, SecondChildRefusedWhenTheKeyIsUnique) {
  ASSERT_OK_AND_ASSIGN(Row first, db_.Related(alice_, "profile").Create({{"bio", "one"}}));
  ASSERT_OK_AND_ASSIGN(Row loose, db_.Insert("profiles", {{"bio", "loose"}}));
  const std::string before = db_.DebugString();
  RelationHandle profile = db_.Related(alice_, "profile");
  EXPECT_THAT(profile.Create({{"bio", "two"}}),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("relation 'users.profile': the parent with users.id = 1 already "
                                 "has its one 'profiles' row (id = 1) and profiles.user_id is "
                                 "unique; use Set to replace it")));
  EXPECT_THAT(profile.Save(Attrs{{"bio", "two"}}), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(profile.Save(loose), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(profile.UpdateOrCreate({{"bio", "other"}}, {{"bio", "x"}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // The inverse and a direct insert hit the engine's unique index.
  EXPECT_THAT(db_.Related(loose, "user").Associate(alice_),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("profiles.user_id")));
  EXPECT_THAT(db_.Insert("profiles", {{"user_id", Id(alice_)}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // A NewRow parent is not inserted when its write fails... (another
  // parent's profile cannot be created through bob once bob has one).
  EXPECT_EQ(db_.DebugString(), before);
  // Saving the child it already has, or first-or-create finding it, is fine.
  EXPECT_EQ(profile.Save(first).value(), first);
  EXPECT_EQ(profile.FirstOrCreate({{"bio", "one"}}).value(), first);
  EXPECT_EQ(profile.UpdateOrCreate({{"bio", "one"}}, {{"bio", "uno"}}).value(), first);
  EXPECT_EQ(first.GetString("bio").value(), "uno");
}

TEST_F(HasOneTest, WithoutAUniqueKeyASecondChildLinksAndReadsReturnTheFirst) {
  RelationHandle avatar = db_.Related(alice_, "avatar");
  ASSERT_OK_AND_ASSIGN(Row a, avatar.Create({{"url", "a"}}));
  ASSERT_OK_AND_ASSIGN(Row b, avatar.Create({{"url", "b"}}));
  ASSERT_OK_AND_ASSIGN(ResultSet rows, avatar.Get());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], a);
  EXPECT_EQ(avatar.One().value().value(), a);
  EXPECT_EQ(avatar.Query().Get().value().size(), 1u);
  EXPECT_EQ(avatar.Count().value(), 2);
  EXPECT_TRUE(avatar.Has(b).value());
  EXPECT_EQ(avatar.Children().value().size(), 2u);
  ASSERT_OK_AND_ASSIGN(
      ResultSet users,
      db_.Query("users").Preload("avatar").WithCount("avatar").Has("avatar", ">=", 2).Get());
  ASSERT_EQ(users.size(), 1u);
  ASSERT_EQ(users[0].Preloaded("avatar").value().size(), 1u);
  EXPECT_EQ(users[0].Preloaded("avatar").value()[0], a);
  EXPECT_EQ(users[0].Extra("avatar_count").value(), Value(int64_t{2}));
  // Set keeps exactly one: the other is unlinked (nullified).
  ASSERT_OK_AND_ASSIGN(int64_t changed, avatar.Set({b}));
  EXPECT_EQ(changed, 1);
  EXPECT_TRUE(a.Get("user_id").value().is_null());
  EXPECT_EQ(avatar.One().value().value(), b);
  EXPECT_EQ(avatar.Count().value(), 1);
}

TEST_F(HasOneTest, OnQueryOrdersWhichChildIsTheOne) {
  ASSERT_OK(db_.HasOne("users", "avatars",
                       {.name = "latest_avatar",
                        .on_query = [](Query& q) { q.OrderBy("id", kDesc); },
                        .create_inverse = false}));
  ASSERT_OK(db_.Related(alice_, "avatar").Create({{"url", "a"}}).status());
  ASSERT_OK_AND_ASSIGN(Row b, db_.Related(alice_, "avatar").Create({{"url", "b"}}));
  EXPECT_EQ(db_.Related(alice_, "latest_avatar").One().value().value(), b);
  ASSERT_OK_AND_ASSIGN(ResultSet users,
                       db_.Query("users").Preload("latest_avatar").OrderBy("id").Get());
  ASSERT_EQ(users[0].Preloaded("latest_avatar").value().size(), 1u);
  EXPECT_EQ(users[0].Preloaded("latest_avatar").value()[0], b);
  EXPECT_TRUE(users[1].Preloaded("latest_avatar").value().empty());
}

TEST_F(HasOneTest, SetReplacesThePreviousByTheUnlinkPolicy) {
  RelationHandle profile = db_.Related(alice_, "profile");
  ASSERT_OK_AND_ASSIGN(Row old_one, profile.Create({{"bio", "old"}}));
  ASSERT_OK_AND_ASSIGN(Row new_one, db_.Insert("profiles", {{"bio", "new"}}));
  // Set with the unique key: the old one is unlinked before the new links.
  ASSERT_OK_AND_ASSIGN(int64_t changed, profile.Set({new_one}));
  EXPECT_EQ(changed, 2);
  EXPECT_TRUE(old_one.Get("user_id").value().is_null());
  EXPECT_EQ(profile.One().value().value(), new_one);
  // Setting the one it has changes nothing; Set({}) unlinks it.
  EXPECT_EQ(profile.Set({new_one}).value(), 0);
  EXPECT_EQ(profile.Set({}).value(), 1);
  EXPECT_FALSE(profile.One().value().has_value());
  // By primary key too.
  EXPECT_EQ(profile.Set({Value(old_one.Get("id").value())}).value(), 1);
  EXPECT_EQ(profile.One().value().value(), old_one);
  // Remove unlinks only its own child.
  EXPECT_EQ(profile.Remove(new_one).value(), 0);
  EXPECT_EQ(profile.Remove(old_one).value(), 1);
}

TEST_F(HasOneTest, SetDeletesThePreviousWhenTheRelationSaysSo) {
  ASSERT_OK(db_.CreateTable(
      "passports",
      Schema().Int64("id", PrimaryKey()).Int64("user_id", NotNull(), Unique()).String("bio")));
  ASSERT_OK(db_.HasOne("users", "passports", {.on_unlink = OnUnlink::kDelete}));
  ASSERT_OK(db_.HasOne("users", "passports", {.name = "kept", .create_inverse = false}));
  ASSERT_OK_AND_ASSIGN(Row p1, db_.Related(alice_, "passport").Create({{"bio", "p1"}}));
  ASSERT_OK_AND_ASSIGN(Row p2, db_.Related(bob_, "passport").Create({{"bio", "p2"}}));
  // "kept" nullifies, and the key is NOT NULL: refused, nothing changed.
  const std::string before = db_.DebugString();
  EXPECT_THAT(
      db_.Related(alice_, "kept").Set({p2}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("passports.user_id is NOT NULL")));
  EXPECT_EQ(db_.DebugString(), before);
  // "passport" deletes the previous one and moves bob's to alice.
  ASSERT_OK_AND_ASSIGN(int64_t changed, db_.Related(alice_, "passport").Set({p2}));
  EXPECT_EQ(changed, 2);
  EXPECT_FALSE(p1.CheckValid().ok());
  EXPECT_EQ(db_.Related(alice_, "passport").One().value().value(), p2);
  EXPECT_FALSE(db_.Related(bob_, "passport").One().value().has_value());
}

TEST_F(HasOneTest, ManyRowWritesAreRefused) {
  ASSERT_OK_AND_ASSIGN(Row mine, db_.Related(alice_, "profile").Create({{"bio", "x"}}));
  ASSERT_OK_AND_ASSIGN(Row loose, db_.Insert("profiles", {{"bio", "loose"}}));
  const std::string before = db_.DebugString();
  RelationHandle profile = db_.Related(bob_, "profile");
  auto refused = [](absl::string_view op) {
    return StatusIs(absl::StatusCode::kFailedPrecondition,
                    HasSubstr(absl::StrCat("relation 'users.profile' is has one; ", op,
                                           " needs a has many relation")));
  };
  EXPECT_THAT(profile.CreateMany({{{"bio", "a"}}}), refused("create many"));
  EXPECT_THAT(profile.SaveMany({Attrs{{"bio", "a"}}, Attrs{{"bio", "b"}}}), refused("save many"));
  EXPECT_THAT(profile.Add(loose), refused("add"));
  EXPECT_THAT(profile.AddMany({loose}), refused("add"));
  EXPECT_THAT(profile.FetchOrCreateMany("bio", {{{"bio", "a"}}}), refused("fetch or create many"));
  EXPECT_THAT(profile.UpdateOrCreateMany("bio", {{{"bio", "a"}}}),
              refused("update or create many"));
  EXPECT_THAT(profile.HasAll({loose}), refused("has all"));
  EXPECT_THAT(profile.Set({loose, mine}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'users.profile' is has one: set takes at most one row, got 2")));
  // A NewRow parent is not inserted when the write is refused.
  EXPECT_THAT(db_.Related(NewRow{"users", {{"email", "c@x"}}}, "profile").CreateMany({}),
              refused("create many"));
  EXPECT_EQ(db_.DebugString(), before);
  // BelongsTo-only calls name the kind.
  EXPECT_THAT(profile.Associate(alice_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is has one")));
}

TEST_F(HasOneTest, WritesFromAnUnsavedParentAndBadInput) {
  RelationHandle handle = db_.Related(NewRow{"users", {{"email", "carol@x"}}}, "profile");
  ASSERT_OK_AND_ASSIGN(Row p, handle.Create({{"bio", "carol"}}));
  ASSERT_OK_AND_ASSIGN(Row carol, handle.parent());
  EXPECT_EQ(p.GetInt64("user_id").value(), Id(carol));

  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Related(bob_, "profile").Create({{"nope", 1}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope")));
  EXPECT_THAT(db_.Related(bob_, "profile").Create({{"bio", 5}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("profiles.bio")));
  EXPECT_THAT(db_.Related(bob_, "profil").Create({{"bio", "x"}}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("table 'users': no relation named 'profil'")));
  EXPECT_THAT(db_.Related(bob_, "profile").Save(Row(alice_)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("a row of 'users' is not a 'profiles' row")));
  EXPECT_THAT(db_.Related(bob_, "profile").Set({Value(int64_t{999})}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("999")));
  EXPECT_THAT(db_.Related(NewRow{"users", {{"email", "alice@example.com"}}}, "profile")
                  .Create({{"bio", "dup"}}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("users.email")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(HasOneTest, PreloadHasAndCounts) {
  ASSERT_OK(db_.Related(alice_, "profile").Create({{"bio", "alice"}}).status());
  ASSERT_OK_AND_ASSIGN(Row carol, db_.Insert("users", {{"email", "carol@x"}, {"score", 3}}));
  ASSERT_OK(db_.Related(carol, "profile").Create({{"bio", "carol"}}).status());

  ASSERT_OK_AND_ASSIGN(ResultSet users, db_.Query("users").Preload("profile").OrderBy("id").Get());
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(Bio(users[0].Preloaded("profile").value()), "alice");
  EXPECT_EQ(Bio(users[1].Preloaded("profile").value()), "-");  // empty list, not missing
  EXPECT_EQ(Bio(users[2].Preloaded("profile").value()), "carol");

  // A preload callback filters the one row.
  ASSERT_OK_AND_ASSIGN(users, db_.Query("users")
                                  .Preload("profile", [](Query& q) { q.Where("bio", "carol"); })
                                  .OrderBy("id")
                                  .Get());
  EXPECT_EQ(Bio(users[0].Preloaded("profile").value()), "-");
  EXPECT_EQ(Bio(users[2].Preloaded("profile").value()), "carol");

  // Nested: posts preload their user's profile.
  ASSERT_OK(db_.Related(alice_, "posts").Create({{"title", "t"}}).status());
  ASSERT_OK_AND_ASSIGN(
      ResultSet posts,
      db_.Query("posts").Preload("user", [](Query& q) { q.Preload("profile"); }).Get());
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(Bio(posts[0].Preloaded("user").value()[0].Preloaded("profile").value()), "alice");

  auto emails = [](const ResultSet& rows) {
    std::vector<std::string> out;
    for (const Row& r : rows) out.push_back(std::string(r.GetString("email").value()));
    return out;
  };
  EXPECT_THAT(emails(db_.Query("users").Has("profile").OrderBy("id").Get().value()),
              ElementsAre("alice@example.com", "carol@x"));
  EXPECT_THAT(emails(db_.Query("users").DoesntHave("profile").Get().value()),
              ElementsAre("bob@example.com"));
  EXPECT_THAT(emails(db_.Query("users")
                         .WhereHas("profile", [](Query& q) { q.Where("bio", "carol"); })
                         .Get()
                         .value()),
              ElementsAre("carol@x"));
  EXPECT_THAT(emails(db_.Query("users").Has("profile", "=", 0).Get().value()),
              ElementsAre("bob@example.com"));

  ASSERT_OK_AND_ASSIGN(users,
                       db_.Query("users")
                           .WithCount("profile")
                           .WithAggregate("profile", [](Query& q) { q.Max("id").As("profile_id"); })
                           .OrderBy("id")
                           .Get());
  EXPECT_EQ(users[0].Extra("profile_count").value(), Value(int64_t{1}));
  EXPECT_EQ(users[1].Extra("profile_count").value(), Value(int64_t{0}));
  EXPECT_EQ(users[0].Extra("profile_id").value(), Value(int64_t{1}));
  EXPECT_TRUE(users[1].Extra("profile_id").value().is_null());
}

TEST_F(HasOneTest, CascadeOnDelete) {
  ASSERT_OK(db_.CreateTable(
      "settings", Schema().Int64("id", PrimaryKey()).Int64("user_id", Unique()).String("bio")));
  ASSERT_OK(db_.HasOne("users", "settings", {.on_delete = OnDelete::kCascade}));
  ASSERT_OK_AND_ASSIGN(Row s, db_.Related(bob_, "setting").Create({{"bio", "dark"}}));
  ASSERT_OK(db_.Delete(bob_));
  EXPECT_FALSE(s.CheckValid().ok());
}

TEST_F(HasOneTest, SnapshotKeepsTheKind) {
  ASSERT_OK(db_.Related(alice_, "profile").Create({{"bio", "saved"}}).status());
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(db_));
  ASSERT_OK_AND_ASSIGN(Database loaded, LoadSnapshotFromString(bytes));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* profile, loaded.GetRelation("users", "profile"));
  EXPECT_EQ(profile->kind, RelationKind::kHasOne);
  EXPECT_EQ(profile->inverse, "user");
  ASSERT_OK_AND_ASSIGN(Row alice, loaded.FindOrFail("users", 1));
  ASSERT_OK_AND_ASSIGN(std::optional<Row> one, loaded.Related(alice, "profile").One());
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->GetString("bio").value(), "saved");
  EXPECT_THAT(loaded.Related(alice, "profile").Create({{"bio", "again"}}),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(loaded.DebugString(), db_.DebugString());
}

}  // namespace
}  // namespace kin::test
