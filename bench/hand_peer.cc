#include "bench/hand_peer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "bench/top_n.h"

namespace kin::bench {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'N', 'H', 'A', 'N', 'D', '1'};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

absl::Status IoError(const std::string& path, const char* what) {
  return absl::UnknownError("hand snapshot '" + path + "': " + what + ": " + std::strerror(errno));
}

template <typename T>
bool WriteColumn(std::FILE* f, const std::vector<T>& v) {
  return std::fwrite(v.data(), sizeof(T), v.size(), f) == v.size();
}

bool WriteStrings(std::FILE* f, const std::vector<std::string>& v) {
  std::vector<uint32_t> lengths(v.size());
  for (size_t i = 0; i < v.size(); ++i) lengths[i] = static_cast<uint32_t>(v[i].size());
  if (!WriteColumn(f, lengths)) return false;
  for (const std::string& s : v) {
    if (std::fwrite(s.data(), 1, s.size(), f) != s.size()) return false;
  }
  return true;
}

template <typename T>
bool ReadColumn(std::FILE* f, size_t n, std::vector<T>& v) {
  v.resize(n);
  return std::fread(v.data(), sizeof(T), n, f) == n;
}

// `limit` bounds each length (the file size), so a damaged file cannot
// force a huge allocation.
bool ReadStrings(std::FILE* f, size_t n, uint64_t limit, std::vector<std::string>& v) {
  std::vector<uint32_t> lengths;
  if (!ReadColumn(f, n, lengths)) return false;
  v.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (lengths[i] > limit) return false;
    v[i].resize(lengths[i]);
    if (std::fread(v[i].data(), 1, lengths[i], f) != lengths[i]) return false;
  }
  return true;
}

}  // namespace

std::string HandPeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLoad:
      return "vectors per column + flat_hash_map user_id -> post rows";
    case Op::kLookup:
    case Op::kPreload:
    case Op::kCountAll:
    case Op::kHasGe5:
      return "probe user_id -> post rows map";
    case Op::kTop5:
      return "probe map, top-5 insertion over created_at";
    case Op::kMaxPerParent:
      return "one scan of posts.user_id/created_at into a dense per-user array";
    case Op::kWhereHas:
      return "one scan of posts.is_published/likes, mark users";
    case Op::kInsert:
      return "push_back per column + map append";
    case Op::kSnapshotSave:
    case Op::kSnapshotLoad:
      return "raw column dump, temp file + fsync + rename; maps rebuilt on load";
  }
  return "";
}

absl::Status HandPeer::LoadUsers(const Dataset& data) {
  users_.id = data.user_id;
  users_.name = data.user_name;
  users_.score = data.user_score;
  user_row_.clear();
  user_row_.reserve(users_.id.size());
  for (size_t i = 0; i < users_.id.size(); ++i) {
    user_row_.emplace(users_.id[i], static_cast<uint32_t>(i));
  }
  return absl::OkStatus();
}

absl::Status HandPeer::InsertPosts(const Dataset& data) {
  // Row by row, as an application receiving posts would, with the vectors
  // reserved because the batch size is known.
  const size_t n = data.num_posts();
  posts_.id.reserve(posts_.id.size() + n);
  posts_.user_id.reserve(posts_.user_id.size() + n);
  posts_.created_at.reserve(posts_.created_at.size() + n);
  posts_.likes.reserve(posts_.likes.size() + n);
  posts_.is_published.reserve(posts_.is_published.size() + n);
  posts_.title.reserve(posts_.title.size() + n);
  for (size_t i = 0; i < n; ++i) {
    const auto row = static_cast<uint32_t>(posts_.id.size());
    posts_.id.push_back(data.post_id[i]);
    posts_.user_id.push_back(data.post_user_id[i]);
    posts_.created_at.push_back(data.post_created_at[i]);
    posts_.likes.push_back(data.post_likes[i]);
    posts_.is_published.push_back(data.post_is_published[i]);
    posts_.title.push_back(data.post_title[i]);
    posts_by_user_[data.post_user_id[i]].push_back(row);
  }
  return absl::OkStatus();
}

void HandPeer::AppendPostIds(const std::vector<uint32_t>& rows, PostIds& out) const {
  out.reserve(out.size() + rows.size());
  for (uint32_t r : rows) out.push_back(posts_.id[r]);
}

absl::StatusOr<PostIds> HandPeer::Lookup(int64_t user_id) {
  PostIds out;
  auto it = posts_by_user_.find(user_id);
  if (it != posts_by_user_.end()) AppendPostIds(it->second, out);
  return out;
}

absl::StatusOr<GroupedPosts> HandPeer::Preload(std::span<const int64_t> user_ids) {
  GroupedPosts out(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    out[i].first = user_ids[i];
    auto it = posts_by_user_.find(user_ids[i]);
    if (it != posts_by_user_.end()) AppendPostIds(it->second, out[i].second);
  }
  return out;
}

absl::StatusOr<GroupedPosts> HandPeer::Top5() {
  GroupedPosts out(users_.id.size());
  const int64_t* created_at = posts_.created_at.data();
  for (size_t u = 0; u < users_.id.size(); ++u) {
    out[u].first = users_.id[u];
    auto it = posts_by_user_.find(users_.id[u]);
    if (it == posts_by_user_.end()) continue;
    TopN<kTopN> top;
    for (uint32_t r : it->second) top.Offer(created_at[r], r);
    PostIds& ids = out[u].second;
    ids.reserve(top.size());
    for (uint32_t r : top.rows()) ids.push_back(posts_.id[r]);
  }
  return out;
}

absl::StatusOr<UserCounts> HandPeer::CountAll() {
  UserCounts out(users_.id.size());
  for (size_t u = 0; u < users_.id.size(); ++u) {
    auto it = posts_by_user_.find(users_.id[u]);
    out[u] = {users_.id[u],
              it == posts_by_user_.end() ? 0 : static_cast<int64_t>(it->second.size())};
  }
  return out;
}

absl::StatusOr<UserIds> HandPeer::HasGe5() {
  UserIds out;
  for (int64_t id : users_.id) {
    auto it = posts_by_user_.find(id);
    if (it != posts_by_user_.end() && static_cast<int64_t>(it->second.size()) >= kMinPosts) {
      out.push_back(id);
    }
  }
  return out;
}

absl::StatusOr<UserMaxes> HandPeer::MaxPerParent() {
  // One pass over two columns beats 100k probes plus 1M random reads of
  // created_at: the dense array (8 bytes per user) stays in cache.
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> max(users_.id.size(), kNone);
  const size_t n = posts_.user_id.size();
  for (size_t i = 0; i < n; ++i) {
    auto it = user_row_.find(posts_.user_id[i]);
    if (it == user_row_.end()) continue;  // a dangling foreign key
    int64_t& m = max[it->second];
    m = std::max(m, posts_.created_at[i]);
  }
  UserMaxes out(users_.id.size());
  for (size_t u = 0; u < users_.id.size(); ++u) {
    out[u].first = users_.id[u];
    if (max[u] != kNone) out[u].second = max[u];
  }
  return out;
}

absl::StatusOr<UserIds> HandPeer::WhereHas() {
  // The predicate is selective (about 1.4% of posts), so a scan of two
  // narrow columns with a probe per match beats probing every user.
  std::vector<uint8_t> hit(users_.id.size(), 0);
  const size_t n = posts_.user_id.size();
  for (size_t i = 0; i < n; ++i) {
    if (posts_.is_published[i] && posts_.likes[i] > kPopularLikes) {
      auto it = user_row_.find(posts_.user_id[i]);
      if (it != user_row_.end()) hit[it->second] = 1;
    }
  }
  UserIds out;
  for (size_t u = 0; u < users_.id.size(); ++u) {
    if (hit[u]) out.push_back(users_.id[u]);
  }
  return out;
}

absl::Status HandPeer::SnapshotSave(const std::string& path) {
  // Temporary file, fsync, rename: atomic like kin's snapshots, so the
  // baseline pays for the same guarantee.
  const std::string tmp = path + ".tmp";
  {
    File f(std::fopen(tmp.c_str(), "wb"));
    if (f == nullptr) return IoError(tmp, "open");
    std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 20);
    const uint64_t counts[2] = {users_.id.size(), posts_.id.size()};
    bool ok = std::fwrite(kMagic, 1, sizeof(kMagic), f.get()) == sizeof(kMagic) &&
              std::fwrite(counts, sizeof(counts), 1, f.get()) == 1 &&
              WriteColumn(f.get(), users_.id) && WriteStrings(f.get(), users_.name) &&
              WriteColumn(f.get(), users_.score) && WriteColumn(f.get(), posts_.id) &&
              WriteColumn(f.get(), posts_.user_id) && WriteColumn(f.get(), posts_.created_at) &&
              WriteColumn(f.get(), posts_.likes) && WriteColumn(f.get(), posts_.is_published) &&
              WriteStrings(f.get(), posts_.title) && std::fflush(f.get()) == 0 &&
              fsync(fileno(f.get())) == 0;
    if (!ok) return IoError(tmp, "write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return IoError(path, "rename");
  return absl::OkStatus();
}

absl::Status HandPeer::SnapshotLoad(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (f == nullptr) return IoError(path, "open");
  std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 20);
  char magic[sizeof(kMagic)];
  uint64_t counts[2];
  if (std::fread(magic, 1, sizeof(magic), f.get()) != sizeof(magic) ||
      std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 ||
      std::fread(counts, sizeof(counts), 1, f.get()) != 1) {
    return absl::DataLossError("hand snapshot '" + path + "': bad header");
  }
  // The counts come from the file: bound them by its size before resizing.
  std::fseek(f.get(), 0, SEEK_END);
  const auto file_size = static_cast<uint64_t>(std::ftell(f.get()));
  std::fseek(f.get(), sizeof(kMagic) + sizeof(counts), SEEK_SET);
  if (counts[0] > file_size / 20 || counts[1] > file_size / 37) {
    return absl::DataLossError("hand snapshot '" + path + "': counts exceed the file");
  }
  Users users;
  Posts posts;
  const size_t nu = counts[0], np = counts[1];
  bool ok = ReadColumn(f.get(), nu, users.id) && ReadStrings(f.get(), nu, file_size, users.name) &&
            ReadColumn(f.get(), nu, users.score) && ReadColumn(f.get(), np, posts.id) &&
            ReadColumn(f.get(), np, posts.user_id) && ReadColumn(f.get(), np, posts.created_at) &&
            ReadColumn(f.get(), np, posts.likes) && ReadColumn(f.get(), np, posts.is_published) &&
            ReadStrings(f.get(), np, file_size, posts.title);
  if (!ok) return absl::DataLossError("hand snapshot '" + path + "': truncated");
  users_ = std::move(users);
  posts_ = std::move(posts);
  RebuildIndexes();
  return absl::OkStatus();
}

void HandPeer::RebuildIndexes() {
  user_row_.clear();
  user_row_.reserve(users_.id.size());
  for (size_t i = 0; i < users_.id.size(); ++i) {
    user_row_.emplace(users_.id[i], static_cast<uint32_t>(i));
  }
  posts_by_user_.clear();
  for (size_t i = 0; i < posts_.user_id.size(); ++i) {
    posts_by_user_[posts_.user_id[i]].push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace kin::bench
