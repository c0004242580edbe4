// HandPeer: the code a careful programmer writes by hand for users and posts
// without any engine: one std::vector per column, an absl::flat_hash_map
// from user id to the vector of that user's post row numbers (the foreign-key
// index, in insertion order), and one from user id to user row (the primary
// key). The baseline kin has to stay close to.
//
// Each operation uses the access path a careful programmer would pick:
// per-user probes of the foreign-key map where the answer is per user
// (Lookup, Preload, Top5, CountAll, HasGe5), and one sequential scan of the
// posts columns where a scan touches less memory (MaxPerParent, WhereHas).
// Snapshots are raw column dumps (no checksum); the maps are rebuilt on load.

#ifndef KIN_BENCH_HAND_PEER_H_
#define KIN_BENCH_HAND_PEER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/peer.h"

namespace kin::bench {

class HandPeer final : public Peer {
 public:
  const char* name() const override { return "Hand"; }
  std::string HowItAnswers(Op op) const override;

  absl::Status LoadUsers(const Dataset& data) override;
  absl::Status InsertPosts(const Dataset& data) override;

  absl::StatusOr<PostIds> Lookup(int64_t user_id) override;
  absl::StatusOr<GroupedPosts> Preload(std::span<const int64_t> user_ids) override;
  absl::StatusOr<GroupedPosts> Top5() override;
  absl::StatusOr<UserCounts> CountAll() override;
  absl::StatusOr<UserIds> HasGe5() override;
  absl::StatusOr<UserMaxes> MaxPerParent() override;
  absl::StatusOr<UserIds> WhereHas() override;

  absl::Status SnapshotSave(const std::string& path) override;
  absl::Status SnapshotLoad(const std::string& path) override;

 private:
  struct Users {
    std::vector<int64_t> id;
    std::vector<std::string> name;
    std::vector<int64_t> score;
  };
  struct Posts {
    std::vector<int64_t> id;
    std::vector<int64_t> user_id;
    std::vector<int64_t> created_at;
    std::vector<int64_t> likes;
    std::vector<uint8_t> is_published;
    std::vector<std::string> title;
  };

  // Rebuilds both maps from the columns (snapshot load).
  void RebuildIndexes();
  // Appends the post ids of `rows` to `out`.
  void AppendPostIds(const std::vector<uint32_t>& rows, PostIds& out) const;

  Users users_;
  Posts posts_;
  absl::flat_hash_map<int64_t, uint32_t> user_row_;                    // users.id → row
  absl::flat_hash_map<int64_t, std::vector<uint32_t>> posts_by_user_;  // user_id → post rows
};

}  // namespace kin::bench

#endif  // KIN_BENCH_HAND_PEER_H_
