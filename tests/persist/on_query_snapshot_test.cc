// A relation's on_query through a snapshot (format 5): the callback is code
// and cannot be saved, but the file records that there was one, and the
// loaded relation refuses every use until the application re-attaches it.
// Before format 5 such a relation read without its filter: `drafts` below
// returned published posts too.

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "persist/snapshot.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

void OnlyDrafts(Query& q) { q.Where("is_published", false); }

// users 1..3; user 1 has two drafts and a published post, user 2 one
// published post, user 3 none.
Database MakeWorld() {
  Database db;
  EXPECT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey())));
  EXPECT_OK(db.CreateTable(
      "posts",
      Schema().Int64("id", PrimaryKey()).Int64("user_id").Bool("is_published", Default(false))));
  EXPECT_OK(db.HasMany("users", "posts"));
  EXPECT_OK(db.HasMany("users", "posts",
                       {.name = "drafts", .on_query = OnlyDrafts, .create_inverse = false}));
  for (int64_t u = 1; u <= 3; ++u) EXPECT_OK(db.Insert("users", {{"id", u}}).status());
  EXPECT_OK(db.Insert("posts", {{"user_id", 1}}).status());
  EXPECT_OK(db.Insert("posts", {{"user_id", 1}, {"is_published", true}}).status());
  EXPECT_OK(db.Insert("posts", {{"user_id", 1}}).status());
  EXPECT_OK(db.Insert("posts", {{"user_id", 2}, {"is_published", true}}).status());
  return db;
}

Database SaveAndLoad(const Database& db) {
  absl::StatusOr<std::string> bytes = SaveSnapshotToString(db);
  EXPECT_OK(bytes.status());
  absl::StatusOr<Database> loaded = LoadSnapshotFromString(*bytes);
  EXPECT_OK(loaded.status());
  return *std::move(loaded);
}

std::vector<int64_t> DraftIds(Database& db, int64_t user) {
  absl::StatusOr<Row> parent = db.FindOrFail("users", user);
  EXPECT_OK(parent.status());
  absl::StatusOr<ResultSet> rows = db.Related(*parent, "drafts").Get();
  EXPECT_OK(rows.status());
  std::vector<int64_t> ids;
  for (const ResultRow& r : *rows) ids.push_back(*r.GetInt64("id"));
  return ids;
}

auto RefusedNaming() {
  return StatusIs(absl::StatusCode::kFailedPrecondition,
                  AllOf(HasSubstr("relation 'users.drafts'"), HasSubstr("on_query"),
                        HasSubstr("SetOnQuery(\"users\", \"drafts\", ...)")));
}

TEST(OnQuerySnapshotTest, LoadedRelationIsRefusedUntilReattached) {
  Database db = MakeWorld();
  ASSERT_EQ(DraftIds(db, 1), (std::vector<int64_t>{1, 3}));
  Database loaded = SaveAndLoad(db);
  const std::string before = loaded.DebugString();
  ASSERT_OK_AND_ASSIGN(Row ann, loaded.FindOrFail("users", 1));

  // Every way of reading through the relation is refused, naming it.
  EXPECT_THAT(loaded.Related(ann, "drafts").Get(), RefusedNaming());
  EXPECT_THAT(loaded.Related(ann, "drafts").Count(), RefusedNaming());
  EXPECT_THAT(loaded.Related(ann, "drafts").Query().Get(), RefusedNaming());
  EXPECT_THAT(loaded.Query("users").Preload("drafts").Get(), RefusedNaming());
  EXPECT_THAT(loaded.Query("users").WithCount("drafts").Get(), RefusedNaming());
  EXPECT_THAT(loaded.Query("users").Has("drafts", ">=", 1).Get(), RefusedNaming());
  EXPECT_THAT(loaded.Query("users").WhereHas("drafts", [](Query& q) { q.Where("id", 1); }).Count(),
              RefusedNaming());
  EXPECT_THAT(loaded.Each(ann, "drafts").status(), RefusedNaming());
  // Writes too: the relation is not usable until the application says what
  // it is. Nothing changed.
  EXPECT_THAT(loaded.Related(ann, "drafts").Create({}).status(), RefusedNaming());
  EXPECT_EQ(loaded.DebugString(), before);

  // The relation without an on_query is untouched.
  ASSERT_OK_AND_ASSIGN(int64_t all, loaded.Related(ann, "posts").Count());
  EXPECT_EQ(all, 3);

  ASSERT_OK(loaded.SetOnQuery("users", "drafts", OnlyDrafts));
  EXPECT_EQ(DraftIds(loaded, 1), DraftIds(db, 1));
  EXPECT_EQ(DraftIds(loaded, 2), std::vector<int64_t>{});
  ASSERT_OK_AND_ASSIGN(ResultSet counted, loaded.Query("users").WithCount("drafts").Get());
  std::vector<int64_t> counts;
  for (const ResultRow& r : counted) counts.push_back(r.Extra("drafts_count")->AsInt64());
  EXPECT_EQ(counts, (std::vector<int64_t>{2, 0, 0}));
}

TEST(OnQuerySnapshotTest, ClearingWithNullptrIsAnAnswerToo) {
  Database loaded = SaveAndLoad(MakeWorld());
  ASSERT_OK(loaded.SetOnQuery("users", "drafts", nullptr));
  // The application chose no filter: the relation reads every child.
  EXPECT_EQ(DraftIds(loaded, 1), (std::vector<int64_t>{1, 2, 3}));
}

TEST(OnQuerySnapshotTest, SavedAgainBeforeReattachingStaysRefused) {
  Database loaded = SaveAndLoad(MakeWorld());
  Database again = SaveAndLoad(loaded);
  ASSERT_OK_AND_ASSIGN(Row ann, again.FindOrFail("users", 1));
  EXPECT_THAT(again.Related(ann, "drafts").Get(), RefusedNaming());
  // Re-attached, then saved: the flag is written from the callback.
  ASSERT_OK(again.SetOnQuery("users", "drafts", OnlyDrafts));
  Database third = SaveAndLoad(again);
  ASSERT_OK_AND_ASSIGN(Row ann3, third.FindOrFail("users", 1));
  EXPECT_THAT(third.Related(ann3, "drafts").Get(), RefusedNaming());
}

TEST(OnQuerySnapshotTest, UnknownRelationOrTableIsNotFound) {
  Database loaded = SaveAndLoad(MakeWorld());
  EXPECT_THAT(loaded.SetOnQuery("users", "draft", OnlyDrafts),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'draft'")));
  EXPECT_THAT(loaded.SetOnQuery("user", "drafts", OnlyDrafts),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'user'")));
  // The failed calls re-attached nothing.
  ASSERT_OK_AND_ASSIGN(Row ann, loaded.FindOrFail("users", 1));
  EXPECT_THAT(loaded.Related(ann, "drafts").Get(), RefusedNaming());
}

TEST(OnQuerySnapshotTest, FormatFiveRecordsIt) {
  ASSERT_OK_AND_ASSIGN(std::string bytes, SaveSnapshotToString(MakeWorld()));
  ASSERT_OK_AND_ASSIGN(SnapshotContents contents, DecodeSnapshot(bytes));
  EXPECT_EQ(contents.format_version, kSnapshotFormatVersion);  // 5 on
  const RelationSpec* drafts = contents.relations.Find("users", "drafts");
  const RelationSpec* posts = contents.relations.Find("users", "posts");
  ASSERT_NE(drafts, nullptr);
  ASSERT_NE(posts, nullptr);
  EXPECT_TRUE(drafts->on_query_pending);
  EXPECT_FALSE(posts->on_query_pending);
}

}  // namespace
}  // namespace kin::test
