// The relations benchmark's data set: users and their posts as plain column
// vectors, generated deterministically so every peer (kin, SQLite, the
// hand-written baseline) loads byte-identical data on every machine.
//
//   users(id, name, score)
//   posts(id, user_id, created_at, likes, is_published, title)
//
// Ids are 1..users (times DatasetOptions::id_stride) and 1..posts; posts are listed (and inserted)
// in id order, so "insertion order" and "post id ascending" are the same thing. Each post's user_id
// is drawn uniformly over the users, or from a Zipf-like distribution when skew > 0 (a fixed
// pseudo-random user gets rank 1, so the heavy users are spread over the id range). created_at is a
// shuffled permutation of distinct timestamps: unique, and uncorrelated with the id, so "most
// recent" really needs the created_at column.
//
// The generator uses its own PRNG and integer-only reductions, never
// std::*_distribution (whose output differs between standard libraries).

#ifndef KIN_BENCH_DATASET_H_
#define KIN_BENCH_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

namespace kin::bench {

// Knobs of the generator; the defaults are the data set.
struct DatasetOptions {
  int64_t users = 100'000;
  int64_t posts = 1'000'000;
  // 0: user_id uniform over the users. s > 0: P(rank k) ∝ 1 / k^s (Zipf); 1.0
  // gives the busiest user about 8% of all posts at the default size.
  double skew = 0.0;
  // User ids are n * id_stride for n in 1..users (post user_ids follow):
  // 1 gives compact ids, kSparseIdStride ids no dense array can cover, as
  // hashed or externally assigned keys are.
  int64_t id_stride = 1;
  uint64_t seed = 20240607;
};

// The stride of the sparse-ids data set (--sparse-ids): a prime, so the ids
// share no pattern with hash functions or powers of two.
inline constexpr int64_t kSparseIdStride = 1'000'003;

// The WhereHas predicate: a published post with more than this many likes.
// likes is 0..100 for about 98% of posts and 101..1000 otherwise, so the
// predicate holds for roughly 1.4% of posts and 13% of users (uniform).
inline constexpr int64_t kPopularLikes = 100;

struct Dataset {
  DatasetOptions options;

  // users, one entry per row, id ascending.
  std::vector<int64_t> user_id;
  std::vector<std::string> user_name;
  std::vector<int64_t> user_score;

  // posts, one entry per row, id ascending.
  std::vector<int64_t> post_id;
  std::vector<int64_t> post_user_id;
  std::vector<int64_t> post_created_at;
  std::vector<int64_t> post_likes;
  std::vector<uint8_t> post_is_published;  // 0 or 1
  std::vector<std::string> post_title;

  size_t num_users() const { return user_id.size(); }
  size_t num_posts() const { return post_id.size(); }
  // Bytes of the raw data (strings counted by length), for MB/s counters.
  size_t RawBytes() const;
};

// Generates the data set. Cost: O(users + posts * log(users) when skewed).
// REQUIRES: users >= 1, posts >= 0.
Dataset MakeDataset(const DatasetOptions& options);

// `n` distinct user ids drawn deterministically from `data` (all of them, in
// a shuffled order, when n >= num_users()).
std::vector<int64_t> SampleUserIds(const Dataset& data, size_t n, uint64_t seed);

// "users=100000 posts=1000000 skew=0 id_stride=1": for logs and benchmark
// context.
std::string Describe(const DatasetOptions& options);

}  // namespace kin::bench

#endif  // KIN_BENCH_DATASET_H_
