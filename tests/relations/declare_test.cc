// Declaring HasMany / BelongsTo: defaults, options, inspection, errors.

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/internal/database_access.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DeclareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("users", UsersSchema()));
    ASSERT_OK(db_.CreateTable("posts", PostsSchema()));
  }
  Database db_;
};

TEST_F(DeclareTest, DefaultsFollowTheNamingRule) {
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* posts, db_.GetRelation("users", "posts"));
  EXPECT_EQ(posts->kind, RelationKind::kHasMany);
  EXPECT_EQ(posts->foreign_key, "user_id");
  EXPECT_EQ(posts->local_key, "id");
  EXPECT_EQ(posts->related_table, "posts");
  EXPECT_EQ(posts->inverse, "user");
  // The inverse BelongsTo is declared on the child.
  ASSERT_OK_AND_ASSIGN(const RelationSpec* user, db_.GetRelation("posts", "user"));
  EXPECT_EQ(user->kind, RelationKind::kBelongsTo);
  EXPECT_EQ(user->foreign_key, "user_id");
  EXPECT_EQ(user->related_table, "users");
  EXPECT_EQ(user->inverse, "posts");
  // The foreign key got an index.
  const Table* t = db_.FindTable("posts");
  EXPECT_NE(t->index(*t->FindColumn("user_id")), nullptr);
}

TEST_F(DeclareTest, SingularRule) {
  EXPECT_EQ(Singular("users"), "user");
  EXPECT_EQ(Singular("categories"), "category");
  EXPECT_EQ(Singular("boxes"), "box");
  EXPECT_EQ(Singular("classes"), "class");
  EXPECT_EQ(Singular("matches"), "match");
  EXPECT_EQ(Singular("sheep"), "sheep");
}

TEST_F(DeclareTest, CustomKeysNameMetaAndInverse) {
  ASSERT_OK(db_.CreateTable("articles",
                            Schema().Int64("id", PrimaryKey()).Int64("author_id").String("title")));
  ASSERT_OK(db_.HasMany("users", "articles",
                        {.name = "writings",
                         .foreign_key = "author_id",
                         .meta = {{"owner", "docs-team"}, {"version", 2}},
                         .inverse = "author"}));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* r, db_.GetRelation("users", "writings"));
  EXPECT_EQ(r->foreign_key, "author_id");
  EXPECT_EQ(r->meta.at("owner"), Value("docs-team"));
  EXPECT_EQ(r->meta.at("version"), Value(2));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* inv, db_.GetRelation("articles", "author"));
  EXPECT_EQ(inv->inverse, "writings");
}

TEST_F(DeclareTest, StringLocalKeySuchAsAUuid) {
  ASSERT_OK(
      db_.CreateTable("accounts", Schema().Int64("id", PrimaryKey()).String("uuid", Unique())));
  ASSERT_OK(db_.CreateTable(
      "sessions", Schema().Int64("id", PrimaryKey()).String("account_uuid").String("device")));
  ASSERT_OK(db_.HasMany("accounts", "sessions", {.local_key = "uuid"}));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* r, db_.GetRelation("accounts", "sessions"));
  EXPECT_EQ(r->foreign_key, "account_uuid");
  ASSERT_OK_AND_ASSIGN(Row acc, db_.Insert("accounts", {{"uuid", "6f1c-aa"}}));
  ASSERT_OK_AND_ASSIGN(Row s, db_.Related(acc, "sessions").Create({{"device", "phone"}}));
  EXPECT_EQ(s.GetString("account_uuid").value(), "6f1c-aa");
  EXPECT_EQ(db_.Related(acc, "sessions").Count().value(), 1);
}

TEST_F(DeclareTest, RelationsAreListedInDeclarationOrder) {
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK(db_.HasMany("users", "posts", {.name = "drafts", .on_query = [](Query& q) {
                                             q.Where("is_published", false);
                                           }}));
  std::vector<std::string> names;
  for (const RelationSpec* r : db_.Relations("users")) names.push_back(r->name);
  EXPECT_THAT(names, ElementsAre("posts", "drafts"));
  // Both HasMany share the inverse "user" on posts.
  std::vector<std::string> inverse;
  for (const RelationSpec* r : db_.Relations("posts")) inverse.push_back(r->name);
  EXPECT_THAT(inverse, ElementsAre("user"));
  EXPECT_TRUE(static_cast<bool>(db_.GetRelation("users", "drafts").value()->on_query));
}

TEST_F(DeclareTest, BelongsToOnItsOwn) {
  ASSERT_OK(db_.BelongsTo("posts", "users"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* r, db_.GetRelation("posts", "user"));
  EXPECT_EQ(r->kind, RelationKind::kBelongsTo);
  EXPECT_EQ(r->foreign_key, "user_id");
  EXPECT_EQ(r->local_key, "id");
  EXPECT_TRUE(db_.Relations("users").empty());
}

TEST_F(DeclareTest, BadDeclarationsFailAndChangeNothing) {
  ASSERT_OK(db_.HasMany("users", "posts"));
  const std::string before = db_.DebugString();
  const size_t relations = db_.Relations().size();

  EXPECT_THAT(db_.HasMany("users", "pots"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no table named 'pots'")));
  EXPECT_THAT(db_.HasMany("usrs", "posts"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'usrs'")));
  EXPECT_THAT(db_.HasMany("users", "posts", {.name = "other", .foreign_key = "owner_id"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("table 'posts': no column named 'owner_id'")));
  EXPECT_THAT(db_.HasMany("users", "posts", {.name = "by_title", .foreign_key = "title"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("foreign key posts.title is string but local key users.id is "
                                 "int64")));
  EXPECT_THAT(db_.HasMany("users", "posts"),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("table 'users': relation 'posts' already exists")));
  EXPECT_THAT(db_.HasMany("users", "posts",
                          {.name = "scored",
                           .foreign_key = "user_id",
                           .local_key = "score",
                           .create_inverse = false,
                           .on_delete = OnDelete::kCascade}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither")));
  ASSERT_OK(db_.Begin());
  EXPECT_THAT(db_.HasMany("users", "posts", {.name = "again"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("transaction")));
  ASSERT_OK(db_.Rollback());

  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_EQ(db_.Relations().size(), relations);
}

// Errors name what the user typed: a mistyped local key is reported as
// that column of the parent table, not as the foreign key derived from it
// ('user_uid'), which the user never wrote.
TEST_F(DeclareTest, ErrorsNameTheKeyAsTyped) {
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.HasMany("users", "posts", {.local_key = "uid"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "table 'users': no column named 'uid' (local key of users.posts)"));
  EXPECT_THAT(db_.HasMany("users", "posts", {.foreign_key = "author_id"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "table 'posts': no column named 'author_id' (foreign key of users.posts)"));
  // The derived default is named as such when it is the one missing.
  EXPECT_THAT(db_.HasMany("users", "posts", {.local_key = "email"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "table 'posts': no column named 'user_email' (foreign key of "
                       "users.posts)"));
  EXPECT_THAT(db_.BelongsTo("posts", "users", {.owner_key = "uid"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "table 'users': no column named 'uid' (owner key of posts.user)"));
  EXPECT_THAT(db_.BelongsTo("posts", "users", {.foreign_key = "writer_id"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "table 'posts': no column named 'writer_id' (foreign key of posts.user)"));
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_TRUE(db_.Relations("users").empty());
  EXPECT_TRUE(db_.Relations("posts").empty());
}

// A self-relation with default names would call both directions after one
// table (employees.employees over employee_id, inverse "employee"): kin
// asks for the names instead of guessing which side is the parent.
TEST_F(DeclareTest, SelfRelationNeedsExplicitNames) {
  ASSERT_OK(db_.CreateTable(
      "employees",
      Schema().Int64("id", PrimaryKey()).Int64("manager_id").Int64("employee_id").String("name")));
  const std::string before = db_.DebugString();
  auto refused = StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("a self-relation needs explicit names"));
  EXPECT_THAT(db_.HasMany("employees", "employees"), refused);
  EXPECT_THAT(db_.HasMany("employees", "employees", {.name = "reports"}), refused);
  EXPECT_THAT(
      db_.HasMany("employees", "employees", {.name = "reports", .foreign_key = "manager_id"}),
      refused);
  EXPECT_THAT(db_.BelongsTo("employees", "employees"), refused);
  EXPECT_THAT(db_.BelongsTo("employees", "employees", {.name = "manager"}), refused);
  EXPECT_EQ(db_.DebugString(), before);
  EXPECT_TRUE(db_.Relations("employees").empty());
  // Named, it works both ways.
  ASSERT_OK(db_.HasMany("employees", "employees",
                        {.name = "reports", .foreign_key = "manager_id", .inverse = "manager"}));
  ASSERT_OK(
      db_.HasMany("employees", "employees",
                  {.name = "mentees", .foreign_key = "employee_id", .create_inverse = false}));
  ASSERT_OK_AND_ASSIGN(Row boss, db_.Insert("employees", {{"name", "boss"}}));
  ASSERT_OK_AND_ASSIGN(Row dev, db_.Related(boss, "reports").Create({{"name", "dev"}}));
  EXPECT_THAT(dev.GetInt64("manager_id"), IsOkAndHolds(1));
  ASSERT_OK_AND_ASSIGN(std::optional<Row> manager, db_.Related(dev, "manager").Parent());
  ASSERT_TRUE(manager.has_value());
  EXPECT_EQ(manager->id(), boss.id());
  ASSERT_OK_AND_ASSIGN(ResultSet with_reports, db_.Query("employees").Has("reports").Get());
  ASSERT_EQ(with_reports.size(), 1u);
  EXPECT_EQ(with_reports[0].id(), boss.id());
}

TEST_F(DeclareTest, InverseNameClashIsAnError) {
  ASSERT_OK(db_.CreateTable("editors", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK(db_.HasMany("users", "posts"));
  // "user" on posts already means users via user_id; editors → posts would
  // need another inverse name.
  ASSERT_OK(db_.HasMany("editors", "posts", {.foreign_key = "user_id", .inverse = "editor"}));
  EXPECT_THAT(db_.HasMany("editors", "posts",
                          {.name = "edited", .foreign_key = "user_id", .inverse = "user"}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("with other keys")));
}

TEST_F(DeclareTest, DroppingATableDropsItsRelations) {
  ASSERT_OK(db_.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
  ASSERT_OK(db_.DropTable("posts"));
  EXPECT_TRUE(db_.Relations("users").empty());
  EXPECT_TRUE(db_.foreign_keys().empty());
  EXPECT_THAT(db_.DropTable("posts"), StatusIs(absl::StatusCode::kNotFound));
}

// Reads through a relation use tables and columns resolved at declaration
// (RelationSpec::binding). Dropping and re-creating tables, through
// Database or the Engine underneath it, must never leave a read on a
// dropped table: the binding is refreshed or, if stale, bypassed.
TEST_F(DeclareTest, RelationReadsSurviveTablesDroppedAndRecreated) {
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK(db_.CreateTable("tags", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK_AND_ASSIGN(Row user, db_.Insert("users", {{"email", "a@b"}}));
  ASSERT_OK(db_.Insert("posts", {{"user_id", 1}, {"title", "x"}}).status());
  auto titles = [&](const Row& u) {
    std::vector<std::string> out;
    absl::StatusOr<ResultSet> posts = db_.Related(u, "posts").Get();
    EXPECT_OK(posts);
    if (!posts.ok()) return out;
    for (const Row& p : *posts) out.emplace_back(*p.GetString("title"));
    return out;
  };
  EXPECT_THAT(titles(user), ElementsAre("x"));
  ASSERT_OK(::kin::internal::DatabaseAccess::engine(db_).DropTable("tags"));  // the epoch moves on
  EXPECT_THAT(titles(user), ElementsAre("x"));
  ASSERT_OK(db_.DropTable("posts"));
  EXPECT_THAT(db_.Related(user, "posts").Get(),
              StatusIs(absl::StatusCode::kNotFound, "table 'users': no relation named 'posts'"));
  ASSERT_OK(db_.CreateTable("posts", PostsSchema()));
  ASSERT_OK(db_.HasMany("users", "posts"));
  ASSERT_OK(db_.Insert("posts", {{"user_id", 1}, {"title", "y"}}).status());
  EXPECT_THAT(titles(user), ElementsAre("y"));
  ASSERT_OK_AND_ASSIGN(const RelationSpec* spec, db_.GetRelation("users", "posts"));
  EXPECT_EQ(spec->binding.child, db_.FindTable("posts"));
  EXPECT_EQ(spec->binding.epoch, ::kin::internal::DatabaseAccess::engine(db_).table_epoch());

  // Behind the Database's back: the relation outlives its tables. The bound
  // pointers are stale (ASan would see a use after free); the epoch makes
  // reads resolve by name instead.
  Engine& engine = ::kin::internal::DatabaseAccess::engine(db_);
  ASSERT_OK(engine.DropTable("posts"));
  ASSERT_OK(engine.CreateTable("posts", PostsSchema()));
  ASSERT_OK(engine.CreateIndex("posts", "user_id"));
  ASSERT_OK(engine.Insert("posts", {{"user_id", 1}, {"title", "z"}}).status());
  EXPECT_THAT(titles(user), ElementsAre("z"));
  // A re-created table that no longer fits the relation is an error naming
  // it, never a wrong read.
  ASSERT_OK(engine.DropTable("posts"));
  ASSERT_OK(engine.CreateTable("posts", Schema().Int64("id", PrimaryKey()).String("user_id")));
  EXPECT_THAT(db_.Related(user, "posts").Get(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("relation 'users.posts': key columns are int64 and string")));
  ASSERT_OK(engine.DropTable("posts"));
  ASSERT_OK(engine.CreateTable("posts", PostsSchema()));  // user_id not indexed
  EXPECT_THAT(db_.Related(user, "posts").Count(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not indexed")));
}

}  // namespace
}  // namespace kin::test
