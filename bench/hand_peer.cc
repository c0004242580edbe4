#include "bench/hand_peer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "bench/top_n.h"

namespace kin::bench {
namespace {

constexpr char kMagic[8] = {'K', 'I', 'N', 'H', 'A', 'N', 'D', '2'};

// The header after the magic: row counts and string blob sizes, from which
// the file's exact size follows.
struct Header {
  uint64_t users = 0;
  uint64_t posts = 0;
  uint64_t name_bytes = 0;
  uint64_t title_bytes = 0;
};

// Fixed-width bytes per row: users id, score and a name offset; posts id,
// user_id, created_at, likes, is_published and a title offset. Each string
// column has one more offset, then its blob.
constexpr uint64_t kBytesPerUser = 8 + 8 + 8;
constexpr uint64_t kBytesPerPost = 8 * 4 + 1 + 8;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

absl::Status IoError(const std::string& path, const char* what) {
  return absl::UnknownError("hand snapshot '" + path + "': " + what + ": " + std::strerror(errno));
}

absl::Status Corrupt(const std::string& path, const char* what) {
  return absl::DataLossError("hand snapshot '" + path + "': " + what);
}

// One fwrite / fread per column: the bytes as they sit in memory.
template <typename T>
bool WriteColumn(std::FILE* f, const std::vector<T>& v) {
  return std::fwrite(v.data(), sizeof(T), v.size(), f) == v.size();
}

bool WriteBlob(std::FILE* f, const std::string& blob) {
  return std::fwrite(blob.data(), 1, blob.size(), f) == blob.size();
}

template <typename T>
bool ReadColumn(std::FILE* f, size_t n, std::vector<T>& v) {
  v.resize(n);
  return std::fread(v.data(), sizeof(T), n, f) == n;
}

bool ReadBlob(std::FILE* f, size_t n, std::string& blob) {
  blob.resize(n);
  return std::fread(blob.data(), 1, n, f) == n;
}

// Offsets must start at 0, never decrease and end at the blob's size, so
// every cell lies inside the blob.
bool OffsetsFit(const std::vector<uint64_t>& offsets, size_t blob_size) {
  return offsets.front() == 0 && offsets.back() == blob_size &&
         std::is_sorted(offsets.begin(), offsets.end());
}

}  // namespace

std::string HandPeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLoad:
      return "vectors per column, strings as blob + offsets, flat_hash_map id -> user row, "
             "dense user row -> post rows, owner row per post";
    case Op::kLookup:
    case Op::kPreload:
      return "probe id -> user row, then its post rows";
    case Op::kTop5:
      return "walk dense user row -> post rows, top-5 insertion over created_at";
    case Op::kCountAll:
    case Op::kHasGe5:
      return "walk dense user row -> post rows (list sizes)";
    case Op::kMaxPerParent:
      return "one scan of posts.user_row/created_at into a dense per-user array";
    case Op::kWhereHas:
      return "one scan of posts.is_published/likes/user_row, mark users";
    case Op::kMoveCount:
      return "post row = id - 1; erase from the old owner's list, probe the new owner, append; "
             "then CountAll";
    case Op::kInsert:
      return "push_back per column + owner probe + list append";
    case Op::kSnapshotSave:
    case Op::kSnapshotLoad:
      return "one fwrite/fread per column, temp file + fsync + rename; indexes rebuilt on load";
  }
  return "";
}

absl::Status HandPeer::LoadUsers(const Dataset& data) {
  users_.id = data.user_id;
  users_.score = data.user_score;
  users_.name = Strings();
  for (const std::string& name : data.user_name) users_.name.Append(name);
  user_row_.clear();
  user_row_.reserve(users_.id.size());
  for (size_t i = 0; i < users_.id.size(); ++i) {
    user_row_.emplace(users_.id[i], static_cast<uint32_t>(i));
  }
  posts_of_.assign(users_.id.size(), {});
  return absl::OkStatus();
}

uint32_t HandPeer::UserRow(int64_t user_id) const {
  auto it = user_row_.find(user_id);
  return it == user_row_.end() ? kNoUser : it->second;
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
  posts_.title.offsets.reserve(posts_.title.offsets.size() + n);
  posts_.user_row.reserve(posts_.user_row.size() + n);
  for (size_t i = 0; i < n; ++i) {
    const auto row = static_cast<uint32_t>(posts_.id.size());
    posts_.id.push_back(data.post_id[i]);
    posts_.user_id.push_back(data.post_user_id[i]);
    posts_.created_at.push_back(data.post_created_at[i]);
    posts_.likes.push_back(data.post_likes[i]);
    posts_.is_published.push_back(data.post_is_published[i]);
    posts_.title.Append(data.post_title[i]);
    const uint32_t owner = UserRow(data.post_user_id[i]);
    posts_.user_row.push_back(owner);
    if (owner != kNoUser) posts_of_[owner].push_back(row);
  }
  return absl::OkStatus();
}

void HandPeer::AppendPostIds(const std::vector<uint32_t>& rows, PostIds& out) const {
  out.reserve(out.size() + rows.size());
  for (uint32_t r : rows) out.push_back(posts_.id[r]);
}

absl::StatusOr<PostIds> HandPeer::Lookup(int64_t user_id) {
  PostIds out;
  const uint32_t u = UserRow(user_id);
  if (u != kNoUser) AppendPostIds(posts_of_[u], out);
  return out;
}

absl::StatusOr<GroupedPosts> HandPeer::Preload(std::span<const int64_t> user_ids) {
  GroupedPosts out(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    out[i].first = user_ids[i];
    const uint32_t u = UserRow(user_ids[i]);
    if (u != kNoUser) AppendPostIds(posts_of_[u], out[i].second);
  }
  return out;
}

absl::StatusOr<GroupedPosts> HandPeer::Top5() {
  GroupedPosts out(users_.id.size());
  const int64_t* created_at = posts_.created_at.data();
  for (size_t u = 0; u < users_.id.size(); ++u) {
    out[u].first = users_.id[u];
    TopN<kTopN> top;
    for (uint32_t r : posts_of_[u]) top.Offer(created_at[r], r);
    PostIds& ids = out[u].second;
    ids.reserve(top.size());
    for (uint32_t r : top.rows()) ids.push_back(posts_.id[r]);
  }
  return out;
}

absl::StatusOr<UserCounts> HandPeer::CountAll() {
  UserCounts out(users_.id.size());
  for (size_t u = 0; u < users_.id.size(); ++u) {
    out[u] = {users_.id[u], static_cast<int64_t>(posts_of_[u].size())};
  }
  return out;
}

absl::Status HandPeer::MovePost(int64_t post_id, int64_t user_id) {
  // Post ids are 1..N in insertion order (bench/dataset.cc).
  const auto row = static_cast<uint32_t>(post_id - 1);
  if (post_id < 1 || row >= posts_.id.size() || posts_.id[row] != post_id) {
    return absl::NotFoundError(absl::StrCat("no post ", post_id));
  }
  const uint32_t old_owner = posts_.user_row[row];
  if (old_owner != kNoUser) {
    std::vector<uint32_t>& list = posts_of_[old_owner];
    list.erase(std::find(list.begin(), list.end(), row));
  }
  const uint32_t owner = UserRow(user_id);
  posts_.user_id[row] = user_id;
  posts_.user_row[row] = owner;
  if (owner != kNoUser) posts_of_[owner].push_back(row);
  return absl::OkStatus();
}

absl::StatusOr<UserIds> HandPeer::HasGe5() {
  UserIds out;
  for (size_t u = 0; u < users_.id.size(); ++u) {
    if (static_cast<int64_t>(posts_of_[u].size()) >= kMinPosts) out.push_back(users_.id[u]);
  }
  return out;
}

absl::StatusOr<UserMaxes> HandPeer::MaxPerParent() {
  // One pass over two columns beats walking every list with a random read
  // of created_at per post: the dense array (8 bytes per user) stays in
  // cache, and the owner's row is already resolved.
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> max(users_.id.size(), kNone);
  const size_t n = posts_.user_row.size();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t u = posts_.user_row[i];
    if (u == kNoUser) continue;
    max[u] = std::max(max[u], posts_.created_at[i]);
  }
  UserMaxes out(users_.id.size());
  for (size_t u = 0; u < users_.id.size(); ++u) {
    out[u].first = users_.id[u];
    if (max[u] != kNone) out[u].second = max[u];
  }
  return out;
}

absl::StatusOr<UserIds> HandPeer::WhereHas() {
  // The predicate is selective (about 1.4% of posts): a scan of two narrow
  // columns, marking the owner of each match.
  std::vector<uint8_t> hit(users_.id.size(), 0);
  const size_t n = posts_.user_row.size();
  for (size_t i = 0; i < n; ++i) {
    if (posts_.is_published[i] && posts_.likes[i] > kPopularLikes) {
      const uint32_t u = posts_.user_row[i];
      if (u != kNoUser) hit[u] = 1;
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
    const Header h{users_.id.size(), posts_.id.size(), users_.name.blob.size(),
                   posts_.title.blob.size()};
    std::FILE* out = f.get();
    bool ok = std::fwrite(kMagic, 1, sizeof(kMagic), out) == sizeof(kMagic) &&
              std::fwrite(&h, sizeof(h), 1, out) == 1 && WriteColumn(out, users_.id) &&
              WriteColumn(out, users_.name.offsets) && WriteBlob(out, users_.name.blob) &&
              WriteColumn(out, users_.score) && WriteColumn(out, posts_.id) &&
              WriteColumn(out, posts_.user_id) && WriteColumn(out, posts_.created_at) &&
              WriteColumn(out, posts_.likes) && WriteColumn(out, posts_.is_published) &&
              WriteColumn(out, posts_.title.offsets) && WriteBlob(out, posts_.title.blob) &&
              std::fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (!ok) return IoError(tmp, "write");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return IoError(path, "rename");
  return absl::OkStatus();
}

absl::Status HandPeer::SnapshotLoad(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (f == nullptr) return IoError(path, "open");
  std::FILE* in = f.get();
  struct stat st;
  if (fstat(fileno(in), &st) != 0) return IoError(path, "stat");
  const auto file_size = static_cast<uint64_t>(st.st_size);
  char magic[sizeof(kMagic)];
  Header h;
  if (std::fread(magic, 1, sizeof(magic), in) != sizeof(magic) ||
      std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 || std::fread(&h, sizeof(h), 1, in) != 1) {
    return Corrupt(path, "bad header");
  }
  // The counts come from the file: each is bounded by its size before the
  // exact size they imply is computed (no overflow) and anything allocated.
  if (h.users > file_size || h.posts > file_size || h.name_bytes > file_size ||
      h.title_bytes > file_size ||
      sizeof(kMagic) + sizeof(h) + h.users * kBytesPerUser + 8 + h.name_bytes +
              h.posts * kBytesPerPost + 8 + h.title_bytes !=
          file_size) {
    return Corrupt(path, "counts do not match the file size");
  }
  Users users;
  Posts posts;
  const size_t nu = h.users, np = h.posts;
  bool ok = ReadColumn(in, nu, users.id) && ReadColumn(in, nu + 1, users.name.offsets) &&
            ReadBlob(in, h.name_bytes, users.name.blob) && ReadColumn(in, nu, users.score) &&
            ReadColumn(in, np, posts.id) && ReadColumn(in, np, posts.user_id) &&
            ReadColumn(in, np, posts.created_at) && ReadColumn(in, np, posts.likes) &&
            ReadColumn(in, np, posts.is_published) && ReadColumn(in, np + 1, posts.title.offsets) &&
            ReadBlob(in, h.title_bytes, posts.title.blob);
  if (!ok) return Corrupt(path, "truncated");
  if (!OffsetsFit(users.name.offsets, users.name.blob.size()) ||
      !OffsetsFit(posts.title.offsets, posts.title.blob.size())) {
    return Corrupt(path, "string offsets out of range");
  }
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
  // Owners first, then each list reserved at its final size: one
  // allocation per user instead of a list grown by doubling.
  const size_t n = posts_.user_id.size();
  posts_.user_row.resize(n);
  std::vector<uint32_t> count(users_.id.size(), 0);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t owner = UserRow(posts_.user_id[i]);
    posts_.user_row[i] = owner;
    if (owner != kNoUser) ++count[owner];
  }
  posts_of_.assign(users_.id.size(), {});
  for (size_t u = 0; u < count.size(); ++u) posts_of_[u].reserve(count[u]);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t owner = posts_.user_row[i];
    if (owner != kNoUser) posts_of_[owner].push_back(static_cast<uint32_t>(i));
  }
}

}  // namespace kin::bench
