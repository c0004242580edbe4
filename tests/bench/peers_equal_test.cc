// Every peer of the relations benchmark returns the same answers for every
// operation (so no peer wins by doing less), and those answers are right:
// each is compared with a reference computed by the plainest loops over the
// data set. Also after a snapshot round trip, and on a skewed data set.

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "bench/peer.h"
#include "bench/peers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin::bench {
namespace {

// The answers, computed the slow and obvious way.
struct Reference {
  std::map<int64_t, PostIds> posts_of;  // every user, insertion order
  GroupedPosts top5;
  UserCounts counts;
  UserIds has_ge5;
  UserMaxes maxes;
  UserIds where_has;
};

Reference Compute(const Dataset& d) {
  Reference r;
  for (int64_t id : d.user_id) r.posts_of[id];
  for (size_t i = 0; i < d.num_posts(); ++i) r.posts_of[d.post_user_id[i]].push_back(d.post_id[i]);
  std::map<int64_t, size_t> row_of_post;
  for (size_t i = 0; i < d.num_posts(); ++i) row_of_post[d.post_id[i]] = i;
  for (const auto& [user, posts] : r.posts_of) {
    PostIds sorted = posts;
    std::stable_sort(sorted.begin(), sorted.end(), [&](int64_t a, int64_t b) {
      return d.post_created_at[row_of_post[a]] > d.post_created_at[row_of_post[b]];
    });
    sorted.resize(std::min(sorted.size(), kTopN));
    r.top5.emplace_back(user, sorted);
    r.counts.emplace_back(user, static_cast<int64_t>(posts.size()));
    if (static_cast<int64_t>(posts.size()) >= kMinPosts) r.has_ge5.push_back(user);
    std::optional<int64_t> max;
    bool popular = false;
    for (int64_t p : posts) {
      const size_t row = row_of_post[p];
      max = std::max(max.value_or(d.post_created_at[row]), d.post_created_at[row]);
      popular = popular || (d.post_is_published[row] && d.post_likes[row] > kPopularLikes);
    }
    r.maxes.emplace_back(user, max);
    if (popular) r.where_has.push_back(user);
  }
  return r;
}

// Checks every supported query of `peer` against the reference.
void ExpectAnswers(Peer& peer, const Dataset& data, const Reference& ref) {
  SCOPED_TRACE(peer.name());
  // Every user's posts, plus a user that does not exist.
  for (int64_t id : data.user_id) {
    auto got = peer.Lookup(id);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(*got, ref.posts_of.at(id)) << "user " << id;
  }
  auto none = peer.Lookup(data.user_id.back() + 1);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, testing::IsEmpty());

  if (peer.Supports(Op::kPreload)) {
    for (size_t n : {size_t{1}, size_t{37}, size_t{1000}}) {
      std::vector<int64_t> ids = SampleUserIds(data, n, n);
      GroupedPosts want;
      for (int64_t id : ids) want.emplace_back(id, ref.posts_of.at(id));
      auto got = peer.Preload(ids);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want) << n << " users";
    }
  }
  if (peer.Supports(Op::kTop5)) {
    auto got = peer.Top5();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ref.top5);
  }
  if (peer.Supports(Op::kCountAll)) {
    auto got = peer.CountAll();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ref.counts);
  }
  if (peer.Supports(Op::kHasGe5)) {
    auto got = peer.HasGe5();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ref.has_ge5);
  }
  if (peer.Supports(Op::kMaxPerParent)) {
    auto got = peer.MaxPerParent();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ref.maxes);
  }
  if (peer.Supports(Op::kWhereHas)) {
    auto got = peer.WhereHas();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, ref.where_has);
  }
}

// A data set's shape: owner skew and user id stride.
struct Shape {
  double skew = 0;
  int64_t id_stride = 1;
};

class PeersEqualTest : public testing::TestWithParam<Shape> {
 protected:
  static Dataset Make(Shape shape) {
    DatasetOptions options;
    options.users = 500;
    options.posts = 5000;
    options.skew = shape.skew;
    options.id_stride = shape.id_stride;
    return MakeDataset(options);
  }
};

TEST_P(PeersEqualTest, EveryPeerMatchesTheReference) {
  const Dataset data = Make(GetParam());
  const Reference ref = Compute(data);
  for (const std::string& name : PeerNames()) {
    std::unique_ptr<Peer> peer = MakePeer(name);
    ASSERT_NE(peer, nullptr) << name;
    ASSERT_TRUE(peer->Load(data).ok()) << name;
    ExpectAnswers(*peer, data, ref);
  }
}

TEST_P(PeersEqualTest, AnswersSurviveASnapshotRoundTrip) {
  const Dataset data = Make(GetParam());
  const Reference ref = Compute(data);
  for (const std::string& name : PeerNames()) {
    std::unique_ptr<Peer> peer = MakePeer(name);
    if (!peer->Supports(Op::kSnapshotSave) || !peer->Supports(Op::kSnapshotLoad)) continue;
    ASSERT_TRUE(peer->Load(data).ok()) << name;
    const std::string path =
        testing::TempDir() + "peers_equal_" + name + "_" + std::to_string(getpid()) + ".snap";
    absl::Status saved = peer->SnapshotSave(path);
    ASSERT_TRUE(saved.ok()) << name << ": " << saved;
    peer.reset();
    std::unique_ptr<Peer> loaded = MakePeer(name);
    absl::Status status = loaded->SnapshotLoad(path);
    unlink(path.c_str());
    ASSERT_TRUE(status.ok()) << name << ": " << status;
    ExpectAnswers(*loaded, data, ref);
  }
}

// MoveCount's write: after the same posts change owners (one back to its
// first owner, one to a user that had none), every peer counts the same.
TEST_P(PeersEqualTest, CountsAgreeAfterPostsMove) {
  const Dataset data = Make(GetParam());
  Reference ref = Compute(data);
  std::map<int64_t, int64_t> counts(ref.counts.begin(), ref.counts.end());
  const std::vector<std::pair<int64_t, int64_t>> moves = {
      {data.post_id[0], data.user_id.back()},
      {data.post_id[1], data.user_id.front()},
      {data.post_id[0], data.post_user_id[0]},
      {data.post_id[data.num_posts() - 1], data.user_id[data.num_users() / 2]}};
  std::map<int64_t, int64_t> owner;
  for (size_t i = 0; i < data.num_posts(); ++i) owner[data.post_id[i]] = data.post_user_id[i];
  for (const auto& [post, user] : moves) {
    --counts[owner[post]];
    ++counts[user];
    owner[post] = user;
  }
  const UserCounts want(counts.begin(), counts.end());
  for (const std::string& name : PeerNames()) {
    SCOPED_TRACE(name);
    std::unique_ptr<Peer> peer = MakePeer(name);
    ASSERT_TRUE(peer->Load(data).ok());
    ASSERT_TRUE(peer->CountAll().ok());  // links (if any) built before the moves
    for (const auto& [post, user] : moves) {
      absl::Status moved = peer->MovePost(post, user);
      ASSERT_TRUE(moved.ok()) << moved;
    }
    absl::StatusOr<UserCounts> got = peer->CountAll();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, want);
    EXPECT_FALSE(peer->MovePost(data.post_id.back() + 1, data.user_id[0]).ok());
  }
}

// The data set is a fixed function of its options, and the skewed one is
// actually skewed.
TEST(DatasetTest, DeterministicAndShaped) {
  DatasetOptions options;
  options.users = 500;
  options.posts = 5000;
  const Dataset a = MakeDataset(options);
  const Dataset b = MakeDataset(options);
  EXPECT_EQ(a.post_user_id, b.post_user_id);
  EXPECT_EQ(a.post_created_at, b.post_created_at);
  EXPECT_EQ(a.post_title, b.post_title);
  std::vector<int64_t> created = a.post_created_at;
  std::sort(created.begin(), created.end());
  EXPECT_EQ(std::adjacent_find(created.begin(), created.end()), created.end()) << "not unique";
  for (int64_t u : a.post_user_id) ASSERT_TRUE(u >= 1 && u <= 500);

  options.skew = 1.0;
  const Dataset skewed = MakeDataset(options);
  std::map<int64_t, int> per_user;
  for (int64_t u : skewed.post_user_id) ++per_user[u];
  int busiest = 0;
  for (const auto& [u, n] : per_user) busiest = std::max(busiest, n);
  EXPECT_GT(busiest, 5000 / 20);  // Zipf(1) over 500: the top user has ~15%

  // Sparse ids: the same owners, each id times the stride.
  options.skew = 0;
  options.id_stride = kSparseIdStride;
  const Dataset sparse = MakeDataset(options);
  ASSERT_EQ(sparse.post_user_id.size(), a.post_user_id.size());
  for (size_t i = 0; i < a.post_user_id.size(); ++i) {
    ASSERT_EQ(sparse.post_user_id[i], a.post_user_id[i] * kSparseIdStride);
  }
  EXPECT_EQ(sparse.user_id.back(), 500 * kSparseIdStride);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PeersEqualTest,
                         testing::Values(Shape{0.0, 1}, Shape{1.0, 1}, Shape{0.0, kSparseIdStride},
                                         Shape{1.0, kSparseIdStride}),
                         [](const testing::TestParamInfo<Shape>& info) {
                           return std::string(info.param.skew == 0.0 ? "Uniform" : "Skewed") +
                                  (info.param.id_stride == 1 ? "" : "SparseIds");
                         });

}  // namespace
}  // namespace kin::bench
