// The kin peers of the relations benchmark, all on one kin::Database with
// users HasMany posts (the relation indexes posts.user_id), loaded and
// snapshotted the same way (KinPeerBase):
//
//   KinRowPeer ("KinRow")       the API tour as a user writes it from the
//                               README: FindOrFail + Related(user,
//                               "posts").Get(), Query("users") with WhereIn +
//                               Preload, GroupLimit / GroupOrderBy, WithCount,
//                               Has, WithAggregate, WhereHas; every value read
//                               by name (Row::GetInt64("id"),
//                               ResultRow::Extra("posts_count")).
//   KinTypedPeer ("KinTyped")   the same queries, read through typed handles
//                               resolved once (kin::Column<int64_t>::Get,
//                               ResultSet::Extras), and Lookup through
//                               Database::Each(user, "posts", id).
//   KinNativePeer ("KinNative") kin's internal zero-copy access, the floor:
//                               Table::Children(ColumnId, key) child lists
//                               and column spans, ids resolved once.

#ifndef KIN_BENCH_KIN_PEER_H_
#define KIN_BENCH_KIN_PEER_H_

#include <optional>
#include <string>

#include "bench/peer.h"
#include "engine/table.h"
#include "kin/database.h"
#include "kin/ids.h"

namespace kin::bench {

// Loading, snapshots and the relation-aware queries, shared by the kin peers.
class KinPeerBase : public Peer {
 public:
  absl::Status LoadUsers(const Dataset& data) override;
  absl::Status InsertPosts(const Dataset& data) override;
  absl::Status FinishLoad() override { return Resolve(); }
  // As the API tour: FindOrFail("posts", id), then Update.
  absl::Status MovePost(int64_t post_id, int64_t user_id) override;

  absl::Status SnapshotSave(const std::string& path) override;
  absl::Status SnapshotLoad(const std::string& path) override;

 protected:
  // Resolves what the peer reads through (after a load or snapshot load:
  // handles belong to a database).
  virtual absl::Status Resolve() { return absl::OkStatus(); }

  // FindOrFail("users", id); nullopt when there is no such user.
  absl::StatusOr<std::optional<Row>> FindUser(int64_t user_id) const;

  // The queries of the query ops, as the API tour writes them. Users come in
  // row order (= id ascending here).
  absl::StatusOr<ResultSet> PreloadQuery(std::span<const int64_t> user_ids);
  absl::StatusOr<ResultSet> Top5Query();
  absl::StatusOr<ResultSet> CountAllQuery();      // extra "posts_count"
  Query HasGe5Query();                            // not run: KinRow Get()s it, KinTyped Pluck()s it
  absl::StatusOr<ResultSet> MaxPerParentQuery();  // extra "last_post_at"
  Query WhereHasQuery();                          // not run, as HasGe5Query

  Database db_;
};

class KinRowPeer final : public KinPeerBase {
 public:
  const char* name() const override { return "KinRow"; }
  std::string HowItAnswers(Op op) const override;

  absl::StatusOr<PostIds> Lookup(int64_t user_id) override;
  absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) override;
  absl::StatusOr<GroupedPosts> Top5() override;
  absl::StatusOr<UserCounts> CountAll() override;
  absl::StatusOr<UserIds> HasGe5() override;
  absl::StatusOr<UserMaxes> MaxPerParent() override;
  absl::StatusOr<UserIds> WhereHas() override;
};

class KinTypedPeer final : public KinPeerBase {
 public:
  const char* name() const override { return "KinTyped"; }
  // Benchmarks the read ops only: loading, Insert and snapshots are the
  // same calls as KinRow's.
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
  absl::Status Resolve() override;

  Column<int64_t> user_id_;  // users.id
  Column<int64_t> post_id_;  // posts.id
};

class KinNativePeer final : public KinPeerBase {
 public:
  const char* name() const override { return "KinNative"; }
  // Benchmarks the read ops only, as KinTyped.
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
  absl::Status Resolve() override;
  // The post ids of `rows`, appended to `out`.
  void AppendPostIds(std::span<const RowId> rows, PostIds& out) const;

  const Table* users_ = nullptr;
  const Table* posts_ = nullptr;
  ColumnId user_id_;       // users.id
  ColumnId post_id_;       // posts.id
  ColumnId post_user_id_;  // posts.user_id (indexed by the relation)
  ColumnId post_created_at_;
  ColumnId post_likes_;
  ColumnId post_is_published_;
};

}  // namespace kin::bench

#endif  // KIN_BENCH_KIN_PEER_H_
