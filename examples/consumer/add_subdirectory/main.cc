// A program that builds kin as part of itself:
//   add_subdirectory(kin) + target_link_libraries(... kin::kin).
// Users and their posts; the two newest posts per user; a snapshot round trip.

#include <cstdio>
#include <span>
#include <string>

#include "kin/kin.h"

namespace {

absl::Status Run() {
  kin::Database db;
  KIN_RETURN_IF_ERROR(
      db.CreateTable("users", kin::Schema().Int64("id", kin::PrimaryKey()).String("name")));
  KIN_RETURN_IF_ERROR(db.CreateTable(
      "posts", kin::Schema().Int64("id", kin::PrimaryKey()).Int64("user_id").Int64("created_at")));
  KIN_RETURN_IF_ERROR(db.HasMany("users", "posts"));  // posts.user_id -> users.id

  KIN_ASSIGN_OR_RETURN(kin::Row ada, db.Insert("users", {{"name", "ada"}}));
  for (int64_t t = 1; t <= 3; ++t) {
    KIN_RETURN_IF_ERROR(db.Related(ada, "posts").Create({{"created_at", t}}).status());
  }

  KIN_ASSIGN_OR_RETURN(
      kin::ResultSet users,
      db.Query("users")
          .Preload("posts",
                   [](kin::Query& q) { q.GroupLimit(2).GroupOrderBy("created_at", kin::kDesc); })
          .Get());
  for (const kin::ResultRow& user : users) {
    KIN_ASSIGN_OR_RETURN(std::string_view name, user.GetString("name"));
    KIN_ASSIGN_OR_RETURN(std::span<const kin::ResultRow> posts, user.Preloaded("posts"));
    std::printf("%.*s: %zu newest posts\n", static_cast<int>(name.size()), name.data(),
                posts.size());
    if (posts.size() != 2) return absl::InternalError("expected 2 posts");
  }

  KIN_ASSIGN_OR_RETURN(std::string bytes, kin::SaveSnapshotToString(db));
  KIN_ASSIGN_OR_RETURN(kin::Database loaded, kin::LoadSnapshotFromString(bytes));
  if (loaded.DebugString() != db.DebugString()) {
    return absl::InternalError("snapshot round trip changed the database");
  }
  std::printf("kin %s: snapshot of %zu bytes round-trips\n", KIN_VERSION_STRING, bytes.size());
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
