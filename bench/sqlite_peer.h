// SqlitePeer: SQLite 3 in ":memory:" as a careful user would run it:
// INTEGER PRIMARY KEY tables, prepared statements prepared once and reused,
// bulk inserts in one transaction through one prepared INSERT, and the best
// index for each query: posts(user_id) (the foreign-key index, maintained
// during Insert) and posts(user_id, created_at DESC) (added after the load,
// for Top5 and MaxPerParent). Each query names its index with INDEXED BY
// where it matters, and HowItAnswers() reports SQLite's own EXPLAIN QUERY
// PLAN, so the output says which index really ran.
//
// Snapshots use the online backup API: the in-memory database copied page
// by page into a file, and back into a fresh ":memory:" connection.

#ifndef KIN_BENCH_SQLITE_PEER_H_
#define KIN_BENCH_SQLITE_PEER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/peer.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kin::bench {

class SqlitePeer final : public Peer {
 public:
  SqlitePeer();
  ~SqlitePeer() override;

  const char* name() const override { return "Sqlite"; }
  std::string HowItAnswers(Op op) const override;

  absl::Status LoadUsers(const Dataset& data) override;
  absl::Status InsertPosts(const Dataset& data) override;
  absl::Status FinishLoad() override;

  absl::StatusOr<PostIds> Lookup(int64_t user_id) override;
  absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) override;
  absl::StatusOr<GroupedPosts> Top5() override;
  absl::StatusOr<UserCounts> CountAll() override;
  absl::StatusOr<UserIds> HasGe5() override;
  absl::StatusOr<UserMaxes> MaxPerParent() override;
  absl::StatusOr<UserIds> WhereHas() override;
  absl::Status MovePost(int64_t post_id, int64_t user_id) override;

  absl::Status SnapshotSave(const std::string& path) override;
  absl::Status SnapshotLoad(const std::string& path) override;

  // Bytes SQLite's allocator holds (sqlite3_memory_used), for the report.
  static int64_t MemoryUsed();

 private:
  absl::StatusOr<UserIds> ReadUserIds(sqlite3_stmt* s, const char* what);
  struct DbCloser {
    void operator()(sqlite3* db) const;
  };
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const;
  };
  using Db = std::unique_ptr<sqlite3, DbCloser>;
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

  absl::Status Exec(const char* sql);
  absl::StatusOr<Stmt> Prepare(const std::string& sql);
  absl::Status Error(const char* what) const;
  // Prepares the query statements and records their plans; after the load
  // and after a snapshot load (statements belong to a connection).
  absl::Status PrepareQueries();
  std::string Plan(const std::string& sql);
  // The IN (...) statement for `n` ids, prepared on first use per size.
  absl::StatusOr<sqlite3_stmt*> PreloadStatement(size_t n);
  // Every user id, ascending: per-user answers include users without posts.
  absl::Status AllUserIds(std::vector<int64_t>& ids);

  Db db_;
  Stmt user_ids_;
  Stmt lookup_;
  Stmt top5_;
  Stmt count_all_;
  Stmt move_post_;
  Stmt has_ge5_;
  Stmt max_per_parent_;
  Stmt where_has_;
  absl::flat_hash_map<size_t, Stmt> preload_;    // by number of ids
  absl::flat_hash_map<int, std::string> plans_;  // by Op
};

}  // namespace kin::bench

#endif  // KIN_BENCH_SQLITE_PEER_H_
