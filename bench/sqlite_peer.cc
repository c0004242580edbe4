#include "bench/sqlite_peer.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "kin/status_macros.h"

namespace kin::bench {
namespace {

static_assert(kTopN == 5 && kMinPosts == 5 && kPopularLikes == 100,
              "the queries below spell these constants out");

constexpr const char* kSchema = R"sql(
  CREATE TABLE users(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    score INTEGER NOT NULL);
  CREATE TABLE posts(
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    likes INTEGER NOT NULL,
    is_published INTEGER NOT NULL,
    title TEXT NOT NULL);
  CREATE INDEX posts_user_id ON posts(user_id);
)sql";

// Added after the load (building it once is cheaper than maintaining it
// during the inserts, and Insert measures the foreign-key index only).
constexpr const char* kSecondIndex =
    "CREATE INDEX posts_user_created ON posts(user_id, created_at DESC); ANALYZE;";

constexpr const char* kUserIds = "SELECT id FROM users ORDER BY id";

// posts(user_id) holds (user_id, rowid): children come out in id order, no
// sort, and the index covers the query.
constexpr const char* kLookup =
    "SELECT id FROM posts INDEXED BY posts_user_id WHERE user_id = ?1 ORDER BY id";

// The issue's form. The window runs over the (user_id, created_at DESC)
// index, so it needs no sort either.
constexpr const char* kTop5 =
    "SELECT user_id, id FROM ("
    "  SELECT user_id, id, ROW_NUMBER() OVER ("
    "    PARTITION BY user_id ORDER BY created_at DESC) AS rn"
    "  FROM posts INDEXED BY posts_user_created)"
    " WHERE rn <= 5 ORDER BY user_id, rn";

// One scan of the foreign-key index; users without posts are merged in.
constexpr const char* kCountAll =
    "SELECT user_id, COUNT(*) FROM posts INDEXED BY posts_user_id"
    " GROUP BY user_id ORDER BY user_id";

constexpr const char* kHasGe5 =
    "SELECT id FROM users WHERE id IN ("
    "  SELECT user_id FROM posts INDEXED BY posts_user_id"
    "  GROUP BY user_id HAVING COUNT(*) >= 5)"
    " ORDER BY id";

// Per user, the first entry of its range in (user_id, created_at DESC): one
// index seek per user. Measured faster than GROUP BY over that index (which
// reads every entry) and than the MAX() form of the same subquery.
constexpr const char* kMaxPerParent =
    "SELECT id, (SELECT created_at FROM posts INDEXED BY posts_user_created"
    "  WHERE user_id = users.id ORDER BY created_at DESC LIMIT 1)"
    " FROM users ORDER BY id";

// No index covers is_published/likes: one table scan builds the set of
// matching users, then the users are filtered by it.
constexpr const char* kWhereHas =
    "SELECT id FROM users WHERE id IN ("
    "  SELECT user_id FROM posts WHERE is_published = 1 AND likes > 100)"
    " ORDER BY id";
constexpr const char* kMovePost = "UPDATE posts SET user_id = ? WHERE id = ?";

// Calls emit(user_id, stmt) for each row of `stmt` (column 0 = user id,
// ascending) and collects them per user, every user of `users` present.
template <typename T, typename Emit>
absl::Status MergeByUser(sqlite3_stmt* stmt, const std::vector<int64_t>& users,
                         std::vector<std::pair<int64_t, T>>& out, Emit emit) {
  out.resize(users.size());
  for (size_t u = 0; u < users.size(); ++u) out[u].first = users[u];
  size_t u = 0;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const int64_t user_id = sqlite3_column_int64(stmt, 0);
    while (u < users.size() && users[u] < user_id) ++u;
    if (u == users.size()) break;
    if (users[u] == user_id) emit(out[u].second, stmt);  // else: a dangling key
  }
  sqlite3_reset(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return absl::InternalError(std::string("sqlite: ") + sqlite3_errstr(rc));
  }
  return absl::OkStatus();
}

}  // namespace

void SqlitePeer::DbCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqlitePeer::StmtFinalizer::operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }

SqlitePeer::SqlitePeer() {
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  db_.reset(db);
}

SqlitePeer::~SqlitePeer() {
  // Statements before the connection (sqlite3_close_v2 would defer anyway).
  user_ids_.reset();
  lookup_.reset();
  top5_.reset();
  count_all_.reset();
  has_ge5_.reset();
  max_per_parent_.reset();
  where_has_.reset();
  preload_.clear();
}

int64_t SqlitePeer::MemoryUsed() { return sqlite3_memory_used(); }

absl::Status SqlitePeer::Error(const char* what) const {
  return absl::InternalError(std::string("sqlite ") + what + ": " +
                             (db_ ? sqlite3_errmsg(db_.get()) : "no connection"));
}

absl::Status SqlitePeer::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "?";
    sqlite3_free(err);
    return absl::InternalError("sqlite exec: " + msg + " in: " + sql);
  }
  return absl::OkStatus();
}

absl::StatusOr<SqlitePeer::Stmt> SqlitePeer::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  // PERSISTENT: the statement is reused for the whole run.
  if (sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(std::string("sqlite prepare: ") + sqlite3_errmsg(db_.get()) +
                               " in: " + sql);
  }
  return Stmt(stmt);
}

std::string SqlitePeer::Plan(const std::string& sql) {
  auto stmt = Prepare("EXPLAIN QUERY PLAN " + sql);
  if (!stmt.ok()) return std::string(stmt.status().message());
  std::string plan;
  while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
    if (!plan.empty()) plan += "; ";
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 3));
  }
  return plan;
}

std::string SqlitePeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLoad:
      return "tables + index posts(user_id); then index posts(user_id, created_at DESC)";
    case Op::kInsert:
      return "one transaction, one prepared INSERT, index posts(user_id) maintained";
    case Op::kMoveCount:
      return "prepared UPDATE posts SET user_id = ? WHERE id = ? (autocommit), then CountAll";
    case Op::kSnapshotSave:
    case Op::kSnapshotLoad:
      return "sqlite3_backup :memory: <-> file";
    default: {
      auto it = plans_.find(static_cast<int>(op));
      return it == plans_.end() ? "" : it->second;
    }
  }
}

absl::Status SqlitePeer::LoadUsers(const Dataset& data) {
  KIN_RETURN_IF_ERROR(Exec(kSchema));
  KIN_ASSIGN_OR_RETURN(Stmt insert,
                       Prepare("INSERT INTO users(id, name, score) VALUES (?1, ?2, ?3)"));
  KIN_RETURN_IF_ERROR(Exec("BEGIN"));
  sqlite3_stmt* s = insert.get();
  for (size_t i = 0; i < data.num_users(); ++i) {
    sqlite3_bind_int64(s, 1, data.user_id[i]);
    sqlite3_bind_text(s, 2, data.user_name[i].data(), static_cast<int>(data.user_name[i].size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, data.user_score[i]);
    if (sqlite3_step(s) != SQLITE_DONE) {
      absl::Status err = Error("insert user");
      (void)Exec("ROLLBACK");
      return err;
    }
    sqlite3_reset(s);
  }
  return Exec("COMMIT");
}

absl::Status SqlitePeer::InsertPosts(const Dataset& data) {
  KIN_ASSIGN_OR_RETURN(Stmt insert,
                       Prepare("INSERT INTO posts(id, user_id, created_at, likes, is_published,"
                               " title) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  KIN_RETURN_IF_ERROR(Exec("BEGIN"));
  sqlite3_stmt* s = insert.get();
  for (size_t i = 0; i < data.num_posts(); ++i) {
    sqlite3_bind_int64(s, 1, data.post_id[i]);
    sqlite3_bind_int64(s, 2, data.post_user_id[i]);
    sqlite3_bind_int64(s, 3, data.post_created_at[i]);
    sqlite3_bind_int64(s, 4, data.post_likes[i]);
    sqlite3_bind_int(s, 5, data.post_is_published[i]);
    sqlite3_bind_text(s, 6, data.post_title[i].data(), static_cast<int>(data.post_title[i].size()),
                      SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
      absl::Status err = Error("insert post");
      (void)Exec("ROLLBACK");
      return err;
    }
    sqlite3_reset(s);
  }
  return Exec("COMMIT");
}

absl::Status SqlitePeer::FinishLoad() {
  KIN_RETURN_IF_ERROR(Exec(kSecondIndex));
  return PrepareQueries();
}

absl::Status SqlitePeer::PrepareQueries() {
  preload_.clear();
  KIN_ASSIGN_OR_RETURN(user_ids_, Prepare(kUserIds));
  KIN_ASSIGN_OR_RETURN(lookup_, Prepare(kLookup));
  KIN_ASSIGN_OR_RETURN(top5_, Prepare(kTop5));
  KIN_ASSIGN_OR_RETURN(count_all_, Prepare(kCountAll));
  KIN_ASSIGN_OR_RETURN(has_ge5_, Prepare(kHasGe5));
  KIN_ASSIGN_OR_RETURN(max_per_parent_, Prepare(kMaxPerParent));
  KIN_ASSIGN_OR_RETURN(where_has_, Prepare(kWhereHas));
  KIN_ASSIGN_OR_RETURN(move_post_, Prepare(kMovePost));
  plans_.clear();
  plans_[static_cast<int>(Op::kLookup)] = Plan(kLookup);
  KIN_ASSIGN_OR_RETURN(sqlite3_stmt * preload, PreloadStatement(1000));
  plans_[static_cast<int>(Op::kPreload)] = Plan(sqlite3_sql(preload));
  plans_[static_cast<int>(Op::kTop5)] = Plan(kTop5);
  plans_[static_cast<int>(Op::kCountAll)] = Plan(kCountAll);
  plans_[static_cast<int>(Op::kHasGe5)] = Plan(kHasGe5);
  plans_[static_cast<int>(Op::kMaxPerParent)] = Plan(kMaxPerParent);
  plans_[static_cast<int>(Op::kWhereHas)] = Plan(kWhereHas);
  return absl::OkStatus();
}

absl::StatusOr<sqlite3_stmt*> SqlitePeer::PreloadStatement(size_t n) {
  auto it = preload_.find(n);
  if (it != preload_.end()) return it->second.get();
  // What an ORM's preload sends: one query with the parent keys bound as an
  // IN list.
  std::string sql = "SELECT user_id, id FROM posts INDEXED BY posts_user_id WHERE user_id IN (";
  for (size_t i = 0; i < n; ++i) sql += i == 0 ? "?" : ",?";
  sql += ") ORDER BY user_id, id";
  KIN_ASSIGN_OR_RETURN(Stmt stmt, Prepare(sql));
  sqlite3_stmt* raw = stmt.get();
  preload_.emplace(n, std::move(stmt));
  return raw;
}

absl::Status SqlitePeer::AllUserIds(std::vector<int64_t>& ids) {
  sqlite3_stmt* s = user_ids_.get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? absl::OkStatus() : Error("users");
}

absl::StatusOr<PostIds> SqlitePeer::Lookup(int64_t user_id) {
  sqlite3_stmt* s = lookup_.get();
  sqlite3_bind_int64(s, 1, user_id);
  PostIds out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error("lookup");
  return out;
}

absl::StatusOr<GroupedPosts> SqlitePeer::Preload(std::span<const int64_t> user_ids) {
  GroupedPosts out(user_ids.size());
  if (user_ids.empty()) return out;
  KIN_ASSIGN_OR_RETURN(sqlite3_stmt * s, PreloadStatement(user_ids.size()));
  absl::flat_hash_map<int64_t, size_t> slot;
  slot.reserve(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    out[i].first = user_ids[i];
    slot.emplace(user_ids[i], i);
    sqlite3_bind_int64(s, static_cast<int>(i) + 1, user_ids[i]);
  }
  // Rows arrive grouped by user: one map probe per user, not per post.
  int rc;
  int64_t current = 0;
  PostIds* list = nullptr;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t user_id = sqlite3_column_int64(s, 0);
    if (list == nullptr || user_id != current) {
      current = user_id;
      list = &out[slot.find(user_id)->second].second;
    }
    list->push_back(sqlite3_column_int64(s, 1));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error("preload");
  return out;
}

absl::StatusOr<GroupedPosts> SqlitePeer::Top5() {
  std::vector<int64_t> users;
  KIN_RETURN_IF_ERROR(AllUserIds(users));
  GroupedPosts out;
  KIN_RETURN_IF_ERROR(MergeByUser(top5_.get(), users, out, [](PostIds& ids, sqlite3_stmt* s) {
    ids.push_back(sqlite3_column_int64(s, 1));
  }));
  return out;
}

absl::StatusOr<UserCounts> SqlitePeer::CountAll() {
  std::vector<int64_t> users;
  KIN_RETURN_IF_ERROR(AllUserIds(users));
  UserCounts out;
  KIN_RETURN_IF_ERROR(MergeByUser(count_all_.get(), users, out, [](int64_t& n, sqlite3_stmt* s) {
    n = sqlite3_column_int64(s, 1);
  }));
  return out;
}

// Steps a statement whose first column is a user id, collecting the ids.
absl::StatusOr<UserIds> SqlitePeer::ReadUserIds(sqlite3_stmt* s, const char* what) {
  UserIds out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error(what);
  return out;
}

absl::StatusOr<UserIds> SqlitePeer::HasGe5() { return ReadUserIds(has_ge5_.get(), "has"); }

absl::StatusOr<UserMaxes> SqlitePeer::MaxPerParent() {
  UserMaxes out;
  sqlite3_stmt* s = max_per_parent_.get();
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    std::optional<int64_t> max;
    if (sqlite3_column_type(s, 1) != SQLITE_NULL) max = sqlite3_column_int64(s, 1);
    out.emplace_back(sqlite3_column_int64(s, 0), max);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error("max per parent");
  return out;
}

absl::StatusOr<UserIds> SqlitePeer::WhereHas() {
  return ReadUserIds(where_has_.get(), "where has");
}

absl::Status SqlitePeer::MovePost(int64_t post_id, int64_t user_id) {
  sqlite3_stmt* s = move_post_.get();
  sqlite3_bind_int64(s, 1, user_id);
  sqlite3_bind_int64(s, 2, post_id);
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return Error("move post");
  if (sqlite3_changes(db_.get()) != 1) return absl::NotFoundError("move post: no such post");
  return absl::OkStatus();
}

absl::Status SqlitePeer::SnapshotSave(const std::string& path) {
  // A fresh file: backing up into an empty database journals nothing.
  unlink(path.c_str());
  sqlite3* raw = nullptr;
  int rc = sqlite3_open(path.c_str(), &raw);
  Db file(raw);
  if (rc != SQLITE_OK) return absl::UnknownError("sqlite open '" + path + "'");
  sqlite3_backup* backup = sqlite3_backup_init(file.get(), "main", db_.get(), "main");
  if (backup == nullptr) {
    return absl::UnknownError(std::string("sqlite backup: ") + sqlite3_errmsg(file.get()));
  }
  rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return absl::UnknownError(std::string("sqlite backup: ") + sqlite3_errstr(rc));
  }
  return absl::OkStatus();
}

absl::Status SqlitePeer::SnapshotLoad(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db file(raw);
  if (rc != SQLITE_OK) return absl::NotFoundError("sqlite open '" + path + "'");
  raw = nullptr;
  sqlite3_open(":memory:", &raw);
  Db memory(raw);
  sqlite3_backup* backup = sqlite3_backup_init(memory.get(), "main", file.get(), "main");
  if (backup == nullptr) {
    return absl::UnknownError(std::string("sqlite backup: ") + sqlite3_errmsg(memory.get()));
  }
  rc = sqlite3_backup_step(backup, -1);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return absl::DataLossError(std::string("sqlite restore: ") + sqlite3_errstr(rc));
  }
  // Statements belong to the old connection: drop them before it.
  user_ids_.reset();
  lookup_.reset();
  top5_.reset();
  count_all_.reset();
  has_ge5_.reset();
  max_per_parent_.reset();
  where_has_.reset();
  preload_.clear();
  db_ = std::move(memory);
  return PrepareQueries();
}

}  // namespace kin::bench
