// HandPeer: the code a careful programmer writes by hand for users and posts
// without any engine. Columns are std::vectors; strings are one blob plus an
// offset array (no std::string per cell); the indexes are what such a
// programmer keeps up to date on every insert:
//   - user_row_: user id -> user row (the primary key, a flat_hash_map);
//   - posts_of_: user row -> that user's post rows in insertion order (the
//     foreign-key index, dense over user rows: no hashing to walk it);
//   - posts_.user_row: each post's owner as a user row, resolved once when
//     the post is inserted (the foreign key as a row reference), so column
//     scans never hash per post.
//
// Each operation does its work on every call, by the access path a careful
// programmer would pick: one primary-key probe per asked id (Lookup,
// Preload); one walk of the dense foreign-key index for per-user answers
// over every user (Top5, CountAll, HasGe5); one sequential scan of the posts
// columns into a dense per-user array where a scan touches less memory
// (MaxPerParent, WhereHas). A post whose user_id names no user is kept but
// belongs to no user's list (as kin's Related and FindOrFail see it).
//
// Snapshots write each column's bytes with one fwrite (strings: offsets then
// blob) into a temporary file, fsync and rename; a load reads each column
// with one fread, checks counts and offsets against the file, and rebuilds
// the indexes.

#ifndef KIN_BENCH_HAND_PEER_H_
#define KIN_BENCH_HAND_PEER_H_

#include <cstdint>
#include <string>
#include <string_view>
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
  absl::Status MovePost(int64_t post_id, int64_t user_id) override;

  absl::Status SnapshotSave(const std::string& path) override;
  absl::Status SnapshotLoad(const std::string& path) override;

 private:
  // A string column: cell i is blob[offsets[i], offsets[i + 1]).
  struct Strings {
    std::string blob;
    std::vector<uint64_t> offsets = {0};  // size() + 1 entries

    size_t size() const { return offsets.size() - 1; }
    void Append(std::string_view s) {
      blob.append(s);
      offsets.push_back(blob.size());
    }
  };

  // posts_.user_row of a post whose user_id names no user.
  static constexpr uint32_t kNoUser = UINT32_MAX;

  struct Users {
    std::vector<int64_t> id;
    Strings name;
    std::vector<int64_t> score;
  };
  struct Posts {
    std::vector<int64_t> id;
    std::vector<int64_t> user_id;
    std::vector<int64_t> created_at;
    std::vector<int64_t> likes;
    std::vector<uint8_t> is_published;
    Strings title;
    std::vector<uint32_t> user_row;  // index: the owner's user row, or kNoUser
  };

  // Rebuilds every index from the columns (snapshot load).
  void RebuildIndexes();
  // The user row of `user_id`, or kNoUser.
  uint32_t UserRow(int64_t user_id) const;
  // Appends the post ids of `rows` to `out`.
  void AppendPostIds(const std::vector<uint32_t>& rows, PostIds& out) const;

  Users users_;
  Posts posts_;
  absl::flat_hash_map<int64_t, uint32_t> user_row_;  // users.id -> user row
  std::vector<std::vector<uint32_t>> posts_of_;      // user row -> post rows
};

}  // namespace kin::bench

#endif  // KIN_BENCH_HAND_PEER_H_
