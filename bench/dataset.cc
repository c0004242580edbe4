#include "bench/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <utility>

#include "absl/numeric/int128.h"

namespace kin::bench {
namespace {

// SplitMix64: tiny, fast and fully specified, so the data set is the same
// with every compiler and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by multiply-shift (Lemire); the bias is below 2^-40
  // for our sizes and, unlike a distribution object, it is portable.
  uint64_t Below(uint64_t n) { return absl::Uint128High64(absl::uint128(Next()) * n); }
  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

template <typename T>
void Shuffle(std::vector<T>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(i)]);
}

constexpr const char* kWords[] = {
    "river",  "engine", "castle", "orbit",   "lantern", "meadow", "signal", "harbor",
    "falcon", "quartz", "ember",  "glacier", "tunnel",  "violet", "summit", "compass",
};
constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);

// Draws user ranks from a Zipf(s) distribution over 1..n by inverting the
// CDF with a binary search: O(n) to build, O(log n) per draw.
class ZipfSampler {
 public:
  ZipfSampler(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
      cdf_[k] = sum;
    }
    for (double& c : cdf_) c /= sum;
    cdf_.back() = 1.0;
  }
  // A rank in [0, n).
  size_t Draw(Rng& rng) const {
    double u = rng.Unit();
    return static_cast<size_t>(std::upper_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

}  // namespace

size_t Dataset::RawBytes() const {
  size_t bytes = num_users() * 2 * sizeof(int64_t) + num_posts() * (4 * sizeof(int64_t) + 1);
  for (const std::string& s : user_name) bytes += s.size();
  for (const std::string& s : post_title) bytes += s.size();
  return bytes;
}

Dataset MakeDataset(const DatasetOptions& options) {
  Dataset d;
  d.options = options;
  const size_t num_users = static_cast<size_t>(std::max<int64_t>(options.users, 1));
  const size_t num_posts = static_cast<size_t>(std::max<int64_t>(options.posts, 0));
  // Separate streams per column, so changing how one column is drawn does
  // not reshuffle the others.
  Rng user_rng(options.seed);
  Rng owner_rng(options.seed ^ 0x1111111111111111ull);
  Rng time_rng(options.seed ^ 0x2222222222222222ull);
  Rng post_rng(options.seed ^ 0x3333333333333333ull);

  d.user_id.resize(num_users);
  d.user_name.resize(num_users);
  d.user_score.resize(num_users);
  for (size_t i = 0; i < num_users; ++i) {
    const int64_t id = (static_cast<int64_t>(i) + 1) * std::max<int64_t>(options.id_stride, 1);
    d.user_id[i] = id;
    d.user_name[i] = "user_" + std::to_string(static_cast<int64_t>(i) + 1);
    d.user_score[i] = static_cast<int64_t>(user_rng.Below(10'000));
  }

  d.post_id.resize(num_posts);
  d.post_user_id.resize(num_posts);
  d.post_created_at.resize(num_posts);
  d.post_likes.resize(num_posts);
  d.post_is_published.resize(num_posts);
  d.post_title.resize(num_posts);

  if (options.skew > 0) {
    ZipfSampler zipf(num_users, options.skew);
    std::vector<int64_t> by_rank = d.user_id;
    Shuffle(by_rank, owner_rng);
    for (size_t i = 0; i < num_posts; ++i) d.post_user_id[i] = by_rank[zipf.Draw(owner_rng)];
  } else {
    for (size_t i = 0; i < num_posts; ++i) {
      d.post_user_id[i] = d.user_id[owner_rng.Below(num_users)];
    }
  }

  // Distinct timestamps one to sixty seconds apart, then shuffled.
  constexpr int64_t kEpoch = 1'600'000'000;
  int64_t t = kEpoch;
  for (size_t i = 0; i < num_posts; ++i) {
    t += 1 + static_cast<int64_t>(time_rng.Below(60));
    d.post_created_at[i] = t;
  }
  Shuffle(d.post_created_at, time_rng);

  for (size_t i = 0; i < num_posts; ++i) {
    const int64_t id = static_cast<int64_t>(i) + 1;
    d.post_id[i] = id;
    d.post_likes[i] = post_rng.Below(50) == 0
                          ? kPopularLikes + 1 + static_cast<int64_t>(post_rng.Below(900))
                          : static_cast<int64_t>(post_rng.Below(kPopularLikes + 1));
    d.post_is_published[i] = post_rng.Below(10) < 7 ? 1 : 0;
    const uint64_t w = post_rng.Next();
    d.post_title[i] = std::string(kWords[w % kNumWords]) + " " + kWords[(w >> 8) % kNumWords] +
                      " #" + std::to_string(id);
  }
  return d;
}

std::vector<int64_t> SampleUserIds(const Dataset& data, size_t n, uint64_t seed) {
  std::vector<int64_t> ids = data.user_id;
  Rng rng(seed);
  // A partial Fisher-Yates shuffle: the first n entries are a uniform sample.
  n = std::min(n, ids.size());
  for (size_t i = 0; i < n; ++i) std::swap(ids[i], ids[i + rng.Below(ids.size() - i)]);
  ids.resize(n);
  return ids;
}

std::string Describe(const DatasetOptions& options) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "users=%lld posts=%lld skew=%g id_stride=%lld",
                static_cast<long long>(options.users), static_cast<long long>(options.posts),
                options.skew, static_cast<long long>(options.id_stride));
  return buf;
}

}  // namespace kin::bench
