// The kin peers of the relations benchmark, both on one kin::Database with
// users HasMany posts (the relation indexes posts.user_id):
//
//   KinPeer ("Kin")        the relation and query API an application calls:
//                          Related(user, "posts").Get(), InsertMany,
//                          SaveSnapshot / LoadSnapshot.
//   KinNativePeer          kin's typed zero-copy access for hot loops:
//     ("KinNative")        Table::Children(ColumnId, key) child lists and
//                          Int64Column / BoolColumn spans, column ids
//                          resolved once.
//
// KinPeer answers the query ops with the relation-aware queries (Preload
// with GroupLimit / GroupOrderBy, Has, WhereHas, WithCount, WithAggregate),
// one Database::Query each.

#ifndef KIN_BENCH_KIN_PEER_H_
#define KIN_BENCH_KIN_PEER_H_

#include <string>

#include "bench/peer.h"
#include "engine/table.h"
#include "kin/database.h"
#include "kin/ids.h"

namespace kin::bench {

// Loading and snapshots, shared by both kin peers.
class KinPeerBase : public Peer {
 public:
  absl::Status LoadUsers(const Dataset& data) override;
  absl::Status InsertPosts(const Dataset& data) override;
  absl::Status FinishLoad() override { return Resolve(); }

  absl::Status SnapshotSave(const std::string& path) override;
  absl::Status SnapshotLoad(const std::string& path) override;

 protected:
  // Looks the tables and columns up once (after a load or snapshot load).
  absl::Status Resolve();

  Database db_;
  const Table* users_ = nullptr;
  const Table* posts_ = nullptr;
  ColumnId user_id_;       // users.id
  ColumnId post_id_;       // posts.id
  ColumnId post_user_id_;  // posts.user_id (indexed by the relation)
  ColumnId post_created_at_;
  ColumnId post_likes_;
  ColumnId post_is_published_;
};

class KinPeer final : public KinPeerBase {
 public:
  const char* name() const override { return "Kin"; }
  bool Supports(Op op) const override;
  std::string HowItAnswers(Op op) const override;

  absl::StatusOr<PostIds> Lookup(int64_t user_id) override;
  absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) override;
  absl::StatusOr<GroupedPosts> Top5() override;
  absl::StatusOr<UserCounts> CountAll() override;
  absl::StatusOr<UserIds> HasGe5() override;
  absl::StatusOr<UserMaxes> MaxPerParent() override;
  absl::StatusOr<UserIds> WhereHas() override;

 private:
  // The ids of `user`'s preloaded posts, in their order.
  absl::StatusOr<PostIds> PostIdsOf(const ResultRow& user) const;
  // The ids of `users`, in their order.
  absl::StatusOr<UserIds> UserIdsOf(const ResultSet& users) const;
};

class KinNativePeer final : public KinPeerBase {
 public:
  const char* name() const override { return "KinNative"; }
  // Benchmarks the read ops only: loading, Insert and snapshots are the
  // same calls as KinPeer's.
  bool Benchmarked(Op op) const override;
  std::string HowItAnswers(Op op) const override;

  absl::StatusOr<PostIds> Lookup(int64_t user_id) override;
  absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) override;
  absl::StatusOr<GroupedPosts> Top5() override;
  absl::StatusOr<UserCounts> CountAll() override;
  absl::StatusOr<UserIds> HasGe5() override;
  absl::StatusOr<UserMaxes> MaxPerParent() override;
  absl::StatusOr<UserIds> WhereHas() override;

 private:
  // The post ids of `rows`, appended to `out`.
  void AppendPostIds(std::span<const RowId> rows, PostIds& out) const;
};

}  // namespace kin::bench

#endif  // KIN_BENCH_KIN_PEER_H_
