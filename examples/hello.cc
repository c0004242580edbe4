// Hello, kin: the program to read first. Two tables, a HasMany relation,
// a few inserts, one relation read and one query that preloads.
//
//   bazel run //examples:hello
//
// Every fallible call returns absl::Status or absl::StatusOr<T>;
// KIN_RETURN_IF_ERROR and KIN_ASSIGN_OR_RETURN hand an error to the caller.

#include <cstdio>
#include <span>
#include <string_view>

#include "kin/kin.h"

namespace {

absl::Status Run() {
  kin::Database db;
  KIN_RETURN_IF_ERROR(
      db.CreateTable("users", kin::Schema().Int64("id", kin::PrimaryKey()).String("name")));
  KIN_RETURN_IF_ERROR(db.CreateTable(
      "posts", kin::Schema().Int64("id", kin::PrimaryKey()).Int64("user_id").String("title")));
  KIN_RETURN_IF_ERROR(db.HasMany("users", "posts"));  // posts.user_id -> users.id

  KIN_ASSIGN_OR_RETURN(kin::Row ada, db.Insert("users", {{"name", "Ada"}}));
  KIN_ASSIGN_OR_RETURN(kin::Row alan, db.Insert("users", {{"name", "Alan"}}));
  KIN_ASSIGN_OR_RETURN(int64_t ada_id, ada.GetInt64("id"));
  // A post names its user by key, or is created through the relation,
  // which sets user_id itself.
  KIN_RETURN_IF_ERROR(db.Insert("posts", {{"user_id", ada_id}, {"title", "Notes"}}).status());
  KIN_RETURN_IF_ERROR(db.Related(ada, "posts").Create({{"title", "Hello, kin"}}).status());
  KIN_RETURN_IF_ERROR(db.Related(alan, "posts").Create({{"title", "Machines"}}).status());

  KIN_ASSIGN_OR_RETURN(kin::ResultSet posts, db.Related(ada, "posts").Get());
  std::printf("Ada's posts:\n");
  for (const kin::ResultRow& post : posts) {
    KIN_ASSIGN_OR_RETURN(std::string_view title, post.GetString("title"));
    std::printf("  %.*s\n", static_cast<int>(title.size()), title.data());
  }

  // Every user with their posts: one query, one pass over the posts' index.
  KIN_ASSIGN_OR_RETURN(kin::ResultSet users,
                       db.Query("users").OrderBy("name", kin::kDesc).Preload("posts").Get());
  for (const kin::ResultRow& user : users) {
    KIN_ASSIGN_OR_RETURN(std::string_view name, user.GetString("name"));
    KIN_ASSIGN_OR_RETURN(std::span<const kin::ResultRow> preloaded, user.Preloaded("posts"));
    std::printf("%.*s wrote %zu post(s)\n", static_cast<int>(name.size()), name.data(),
                preloaded.size());
  }
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = Run();
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
