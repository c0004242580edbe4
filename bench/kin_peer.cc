#include "bench/kin_peer.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/top_n.h"
#include "kin/status_macros.h"

namespace kin::bench {
namespace {

// Rows per InsertBatch call: big enough that per-call costs vanish, small
// enough that a chunk of copied columns stays a few MB.
constexpr size_t kBatchRows = 65536;

}  // namespace

// --- loading and snapshots ---

absl::Status KinPeerBase::LoadUsers(const Dataset& data) {
  KIN_RETURN_IF_ERROR(db_.CreateTable(
      "users",
      Schema().Int64("id", PrimaryKey()).String("name", NotNull()).Int64("score", NotNull())));
  KIN_RETURN_IF_ERROR(db_.CreateTable("posts", Schema()
                                                   .Int64("id", PrimaryKey())
                                                   .Int64("user_id", NotNull())
                                                   .Int64("created_at", NotNull())
                                                   .Int64("likes", NotNull())
                                                   .Bool("is_published", NotNull())
                                                   .String("title", NotNull())));
  // Declared before the posts arrive, so the inserts maintain its index.
  KIN_RETURN_IF_ERROR(db_.HasMany("users", "posts"));
  // Bulk load through the columnar path, as a game loading a level would.
  RowBatch users;
  users.Int64("id", data.user_id).String("name", data.user_name).Int64("score", data.user_score);
  return db_.InsertBatch("users", std::move(users)).status();
}

absl::Status KinPeerBase::InsertPosts(const Dataset& data) {
  // What an application does with a stream of new rows: kin's columnar
  // bulk path (Engine::InsertBatch) in chunks, each all-or-nothing, the
  // relation's index maintained as rows land.
  const size_t n = data.num_posts();
  for (size_t begin = 0; begin < n; begin += kBatchRows) {
    size_t end = std::min(n, begin + kBatchRows);
    auto slice = [&](const auto& v) {
      using V = std::decay_t<decltype(v)>;
      return V(v.begin() + begin, v.begin() + end);
    };
    std::vector<bool> published(data.post_is_published.begin() + begin,
                                data.post_is_published.begin() + end);
    RowBatch batch;
    batch.Int64("id", slice(data.post_id))
        .Int64("user_id", slice(data.post_user_id))
        .Int64("created_at", slice(data.post_created_at))
        .Int64("likes", slice(data.post_likes))
        .Bool("is_published", published)
        .String("title", slice(data.post_title));
    KIN_RETURN_IF_ERROR(db_.InsertBatch("posts", std::move(batch)).status());
  }
  return absl::OkStatus();
}

absl::Status KinPeerBase::SnapshotSave(const std::string& path) { return SaveSnapshot(db_, path); }

absl::Status KinPeerBase::SnapshotLoad(const std::string& path) {
  KIN_ASSIGN_OR_RETURN(Database loaded, LoadSnapshot(path));
  db_ = std::move(loaded);
  return Resolve();
}

absl::StatusOr<std::optional<Row>> KinPeerBase::FindUser(int64_t user_id) const {
  absl::StatusOr<Row> user = db_.FindOrFail("users", user_id);
  if (absl::IsNotFound(user.status())) return std::nullopt;
  if (!user.ok()) return user.status();
  return *user;
}

absl::StatusOr<ResultSet> KinPeerBase::PreloadQuery(std::span<const int64_t> user_ids) {
  std::vector<Value> keys(user_ids.begin(), user_ids.end());
  return db_.Query("users").WhereIn("id", std::move(keys)).Preload("posts").Get();
}

absl::StatusOr<ResultSet> KinPeerBase::Top5Query() {
  return db_.Query("users")
      .Preload("posts", [](Query& q) { q.GroupLimit(kTopN).GroupOrderBy("created_at", kDesc); })
      .Get();
}

absl::Status KinPeerBase::MovePost(int64_t post_id, int64_t user_id) {
  KIN_ASSIGN_OR_RETURN(Row post, db_.FindOrFail("posts", post_id));
  return db_.Update(post, {{"user_id", user_id}}).status();
}

absl::StatusOr<ResultSet> KinPeerBase::CountAllQuery() {
  return db_.Query("users").WithCount("posts").Get();
}

Query KinPeerBase::HasGe5Query() { return db_.Query("users").Has("posts", ">=", kMinPosts); }

absl::StatusOr<ResultSet> KinPeerBase::MaxPerParentQuery() {
  return db_.Query("users")
      .WithAggregate("posts", [](Query& q) { q.Max("created_at").As("last_post_at"); })
      .Get();
}

Query KinPeerBase::WhereHasQuery() {
  Query q = db_.Query("users");
  q.WhereHas("posts", [](Query& posts) {
    posts.Where("is_published", true).Where("likes", ">", kPopularLikes);
  });
  return q;
}

// --- KinRow and KinTyped: the query results read out ---
//
// Both peers read the same results; they differ only in how a value is read
// (the `read_*` functors: by name per row, or through a handle). The
// functors inline into these loops: they add no call beyond the library's
// own read.

namespace {

// read_id(row) -> StatusOr<int64_t> of each row, in order.
template <typename ReadId>
absl::StatusOr<std::vector<int64_t>> IdsOf(std::span<const ResultRow> rows, const ReadId& read_id) {
  std::vector<int64_t> ids;
  ids.reserve(rows.size());
  for (const ResultRow& row : rows) {
    KIN_ASSIGN_OR_RETURN(int64_t id, read_id(row));
    ids.push_back(id);
  }
  return ids;
}

// Each user with the ids of its preloaded posts.
template <typename ReadUserId, typename ReadPostId>
absl::StatusOr<GroupedPosts> Grouped(const ResultSet& users, const ReadUserId& read_user_id,
                                     const ReadPostId& read_post_id) {
  GroupedPosts out;
  out.reserve(users.size());
  for (const ResultRow& user : users) {
    KIN_ASSIGN_OR_RETURN(int64_t id, read_user_id(user));
    KIN_ASSIGN_OR_RETURN(std::span<const ResultRow> posts, user.Preloaded("posts"));
    KIN_ASSIGN_OR_RETURN(PostIds post_ids, IdsOf(posts, read_post_id));
    out.emplace_back(id, std::move(post_ids));
  }
  return out;
}

// `grouped` (users in row order) in the order of `user_ids`; an unknown
// user gets no posts.
GroupedPosts InAskedOrder(GroupedPosts grouped, std::span<const int64_t> user_ids) {
  absl::flat_hash_map<int64_t, uint32_t> position;
  position.reserve(grouped.size());
  for (size_t i = 0; i < grouped.size(); ++i) {
    position.emplace(grouped[i].first, static_cast<uint32_t>(i));
  }
  GroupedPosts out(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    out[i].first = user_ids[i];
    auto it = position.find(user_ids[i]);
    if (it != position.end()) out[i].second = std::move(grouped[it->second].second);
  }
  return out;
}

// Each user with read_value(i, user) -> StatusOr<V>, i its position.
template <typename V, typename ReadUserId, typename ReadValue>
absl::StatusOr<std::vector<std::pair<int64_t, V>>> PerUser(const ResultSet& users,
                                                           const ReadUserId& read_user_id,
                                                           const ReadValue& read_value) {
  std::vector<std::pair<int64_t, V>> out;
  out.reserve(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    KIN_ASSIGN_OR_RETURN(int64_t id, read_user_id(users[i]));
    KIN_ASSIGN_OR_RETURN(V value, read_value(i, users[i]));
    out.emplace_back(id, std::move(value));
  }
  return out;
}

// The API tour's reads: a column by name, on every row.
absl::StatusOr<int64_t> IdByName(const ResultRow& row) { return row.GetInt64("id"); }

// The typed read: Column<int64_t>::Get(row), no name lookup.
auto Through(const Column<int64_t>& column) {
  return [&column](const ResultRow& row) { return column.Get(row); };
}

}  // namespace

// --- KinRow: the API tour's code, values read by name ---

std::string KinRowPeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLoad:
      return "CreateTable x2, HasMany(users, posts), InsertBatch (columnar bulk path)";
    case Op::kLookup:
      return "FindOrFail(users, id) + Related(user, \"posts\").Get() + GetInt64(\"id\")";
    case Op::kInsert:
      return "InsertBatch(\"posts\", 65536-row RowBatch per call), posts.user_id index maintained";
    case Op::kSnapshotSave:
      return "kin::SaveSnapshot (atomic, fsync, XXH3 checksum)";
    case Op::kSnapshotLoad:
      return "kin::LoadSnapshot (checked; indexes rebuilt)";
    case Op::kPreload:
      return "Query(users).WhereIn(id, ids).Preload(posts).Get() + Preloaded + GetInt64(\"id\")";
    case Op::kTop5:
      return "Query(users).Preload(posts, GroupLimit(5).GroupOrderBy(created_at, desc)).Get() + "
             "Preloaded + GetInt64(\"id\")";
    case Op::kCountAll:
      return "Query(users).WithCount(posts).Get() + Extra(\"posts_count\") per row";
    case Op::kMoveCount:
      return "FindOrFail(posts, id) + Update(post, {user_id}), then CountAll";
    case Op::kHasGe5:
      return "Query(users).Has(posts, >=, 5).Get() + GetInt64(\"id\")";
    case Op::kMaxPerParent:
      return "Query(users).WithAggregate(posts, Max(created_at).As(last_post_at)).Get() + "
             "Extra(\"last_post_at\") per row";
    case Op::kWhereHas:
      return "Query(users).WhereHas(posts, is_published = true AND likes > 100).Get() + "
             "GetInt64(\"id\")";
  }
  return "";
}

absl::StatusOr<PostIds> KinRowPeer::Lookup(int64_t user_id) {
  KIN_ASSIGN_OR_RETURN(std::optional<Row> user, FindUser(user_id));
  if (!user.has_value()) return PostIds();
  KIN_ASSIGN_OR_RETURN(ResultSet posts, db_.Related(*user, "posts").Get());
  return IdsOf(posts.rows(), IdByName);
}

absl::StatusOr<GroupedPosts> KinRowPeer::Preload(std::span<const int64_t> user_ids) {
  KIN_ASSIGN_OR_RETURN(ResultSet users, PreloadQuery(user_ids));
  KIN_ASSIGN_OR_RETURN(GroupedPosts grouped, Grouped(users, IdByName, IdByName));
  return InAskedOrder(std::move(grouped), user_ids);
}

absl::StatusOr<GroupedPosts> KinRowPeer::Top5() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, Top5Query());
  return Grouped(users, IdByName, IdByName);
}

absl::StatusOr<UserCounts> KinRowPeer::CountAll() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, CountAllQuery());
  return PerUser<int64_t>(users, IdByName,
                          [](size_t, const ResultRow& user) -> absl::StatusOr<int64_t> {
                            KIN_ASSIGN_OR_RETURN(Value count, user.Extra("posts_count"));
                            return count.AsInt64();
                          });
}

absl::StatusOr<UserIds> KinRowPeer::HasGe5() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, HasGe5Query().Get());
  return IdsOf(users.rows(), IdByName);
}

absl::StatusOr<UserMaxes> KinRowPeer::MaxPerParent() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, MaxPerParentQuery());
  return PerUser<std::optional<int64_t>>(
      users, IdByName, [](size_t, const ResultRow& user) -> absl::StatusOr<std::optional<int64_t>> {
        KIN_ASSIGN_OR_RETURN(Value max, user.Extra("last_post_at"));
        if (max.is_null()) return std::nullopt;
        return max.AsInt64();
      });
}

absl::StatusOr<UserIds> KinRowPeer::WhereHas() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, WhereHasQuery().Get());
  return IdsOf(users.rows(), IdByName);
}

// --- KinTyped: the same queries, read through handles resolved once ---

bool KinTypedPeer::Benchmarked(Op op) const {
  return op != Op::kInsert && op != Op::kSnapshotSave && op != Op::kSnapshotLoad;
}

std::string KinTypedPeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLookup:
      return "FindOrFail(users, id) + Each(user, \"posts\", Column<int64_t> id)";
    case Op::kPreload:
    case Op::kTop5:
      return "KinRow's query + Column<int64_t>::Get(row) of users.id / posts.id";
    case Op::kHasGe5:
    case Op::kWhereHas:
      return "KinRow's query, run with Pluck(Column<int64_t> users.id) instead of Get()";
    case Op::kCountAll:
    case Op::kMaxPerParent:
      return "KinRow's query + ResultSet::Extras (once) + Column<int64_t>::Get(row) of users.id";
    case Op::kMoveCount:
      return "KinRow's MovePost, then KinTyped's CountAll";
    default:
      return "as KinRow";
  }
}

absl::Status KinTypedPeer::Resolve() {
  KIN_ASSIGN_OR_RETURN(user_id_, db_.Int64Column("users", "id"));
  KIN_ASSIGN_OR_RETURN(post_id_, db_.Int64Column("posts", "id"));
  return absl::OkStatus();
}

absl::StatusOr<PostIds> KinTypedPeer::Lookup(int64_t user_id) {
  KIN_ASSIGN_OR_RETURN(std::optional<Row> user, FindUser(user_id));
  if (!user.has_value()) return PostIds();
  KIN_ASSIGN_OR_RETURN(auto posts, db_.Each(*user, "posts", post_id_));
  PostIds out;
  for ([[maybe_unused]] auto [post, id] : posts) out.push_back(id);
  return out;
}

absl::StatusOr<GroupedPosts> KinTypedPeer::Preload(std::span<const int64_t> user_ids) {
  KIN_ASSIGN_OR_RETURN(ResultSet users, PreloadQuery(user_ids));
  KIN_ASSIGN_OR_RETURN(GroupedPosts grouped, Grouped(users, Through(user_id_), Through(post_id_)));
  return InAskedOrder(std::move(grouped), user_ids);
}

absl::StatusOr<GroupedPosts> KinTypedPeer::Top5() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, Top5Query());
  return Grouped(users, Through(user_id_), Through(post_id_));
}

absl::StatusOr<UserCounts> KinTypedPeer::CountAll() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, CountAllQuery());
  KIN_ASSIGN_OR_RETURN(ExtraColumn counts, users.Extras("posts_count"));
  return PerUser<int64_t>(
      users, Through(user_id_),
      [&](size_t i, const ResultRow&) -> absl::StatusOr<int64_t> { return counts.Int64(i); });
}

absl::StatusOr<UserIds> KinTypedPeer::HasGe5() { return HasGe5Query().Pluck(user_id_); }

absl::StatusOr<UserMaxes> KinTypedPeer::MaxPerParent() {
  KIN_ASSIGN_OR_RETURN(ResultSet users, MaxPerParentQuery());
  KIN_ASSIGN_OR_RETURN(ExtraColumn maxes, users.Extras("last_post_at"));
  if (!maxes.is_int64()) return absl::InternalError("max(created_at) is not an int64 extra");
  return PerUser<std::optional<int64_t>>(
      users, Through(user_id_),
      [&](size_t i, const ResultRow&) -> absl::StatusOr<std::optional<int64_t>> {
        if (maxes.IsNull(i)) return std::nullopt;
        return maxes.Int64(i);
      });
}

absl::StatusOr<UserIds> KinTypedPeer::WhereHas() { return WhereHasQuery().Pluck(user_id_); }

// --- KinNative: typed spans and child lists ---

bool KinNativePeer::Benchmarked(Op op) const {
  return op != Op::kInsert && op != Op::kSnapshotSave && op != Op::kSnapshotLoad;
}

std::string KinNativePeer::HowItAnswers(Op op) const {
  switch (op) {
    case Op::kLoad:
      return "as KinRow";
    case Op::kLookup:
    case Op::kPreload:
    case Op::kCountAll:
    case Op::kHasGe5:
      return "Table::Children(posts.user_id, id) child spans";
    case Op::kMoveCount:
      return "KinRow's MovePost, then KinNative's CountAll";
    case Op::kTop5:
      return "Children + top-5 insertion over Int64Column(created_at)";
    case Op::kMaxPerParent:
      return "one scan of Int64Column(user_id/created_at), users pk index, dense array";
    case Op::kWhereHas:
      return "one scan of BoolColumn(is_published)/Int64Column(likes), mark users";
    default:
      return "see KinRow";
  }
}

absl::Status KinNativePeer::Resolve() {
  KIN_ASSIGN_OR_RETURN(users_, db_.GetTable("users"));
  KIN_ASSIGN_OR_RETURN(posts_, db_.GetTable("posts"));
  KIN_ASSIGN_OR_RETURN(user_id_, users_->GetColumn("id"));
  KIN_ASSIGN_OR_RETURN(post_id_, posts_->GetColumn("id"));
  KIN_ASSIGN_OR_RETURN(post_user_id_, posts_->GetColumn("user_id"));
  KIN_ASSIGN_OR_RETURN(post_created_at_, posts_->GetColumn("created_at"));
  KIN_ASSIGN_OR_RETURN(post_likes_, posts_->GetColumn("likes"));
  KIN_ASSIGN_OR_RETURN(post_is_published_, posts_->GetColumn("is_published"));
  if (posts_->index(post_user_id_) == nullptr) {
    return absl::FailedPreconditionError("posts.user_id is not indexed");
  }
  return absl::OkStatus();
}

void KinNativePeer::AppendPostIds(std::span<const RowId> rows, PostIds& out) const {
  const std::span<const int64_t> ids = posts_->Int64Column(post_id_);
  out.reserve(out.size() + rows.size());
  for (RowId r : rows) out.push_back(ids[r.value]);
}

absl::StatusOr<PostIds> KinNativePeer::Lookup(int64_t user_id) {
  PostIds out;
  AppendPostIds(posts_->Children(post_user_id_, user_id), out);
  return out;
}

absl::StatusOr<GroupedPosts> KinNativePeer::Preload(std::span<const int64_t> user_ids) {
  GroupedPosts out(user_ids.size());
  for (size_t i = 0; i < user_ids.size(); ++i) {
    out[i].first = user_ids[i];
    AppendPostIds(posts_->Children(post_user_id_, user_ids[i]), out[i].second);
  }
  return out;
}

absl::StatusOr<GroupedPosts> KinNativePeer::Top5() {
  const std::span<const int64_t> user_ids = users_->Int64Column(user_id_);
  const std::span<const int64_t> post_ids = posts_->Int64Column(post_id_);
  const std::span<const int64_t> created_at = posts_->Int64Column(post_created_at_);
  const Bitmap& live = users_->live();
  GroupedPosts out;
  out.reserve(users_->size());
  for (size_t u = 0; u < user_ids.size(); ++u) {
    if (!live.Get(u)) continue;
    TopN<kTopN, RowId> top;
    for (RowId r : posts_->Children(post_user_id_, user_ids[u])) top.Offer(created_at[r.value], r);
    PostIds ids;
    ids.reserve(top.size());
    for (RowId r : top.rows()) ids.push_back(post_ids[r.value]);
    out.emplace_back(user_ids[u], std::move(ids));
  }
  return out;
}

absl::StatusOr<UserCounts> KinNativePeer::CountAll() {
  const std::span<const int64_t> user_ids = users_->Int64Column(user_id_);
  const Bitmap& live = users_->live();
  UserCounts out;
  out.reserve(users_->size());
  for (size_t u = 0; u < user_ids.size(); ++u) {
    if (!live.Get(u)) continue;
    out.emplace_back(user_ids[u],
                     static_cast<int64_t>(posts_->Children(post_user_id_, user_ids[u]).size()));
  }
  return out;
}

absl::StatusOr<UserIds> KinNativePeer::HasGe5() {
  const std::span<const int64_t> user_ids = users_->Int64Column(user_id_);
  const Bitmap& live = users_->live();
  UserIds out;
  for (size_t u = 0; u < user_ids.size(); ++u) {
    if (live.Get(u) &&
        static_cast<int64_t>(posts_->Children(post_user_id_, user_ids[u]).size()) >= kMinPosts) {
      out.push_back(user_ids[u]);
    }
  }
  return out;
}

absl::StatusOr<UserMaxes> KinNativePeer::MaxPerParent() {
  // The Hand peer's column scan, on kin's spans: sequential reads of two
  // columns and one primary-key probe per post into a dense per-user-slot
  // array, instead of a random read of created_at per child.
  constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  const std::span<const int64_t> user_ids = users_->Int64Column(user_id_);
  const std::span<const int64_t> owners = posts_->Int64Column(post_user_id_);
  const std::span<const int64_t> created_at = posts_->Int64Column(post_created_at_);
  const HashIndex& user_pk = *users_->index(users_->primary_key());
  const Bitmap& post_live = posts_->live();
  std::vector<int64_t> max(user_ids.size(), kNone);
  for (size_t i = 0; i < owners.size(); ++i) {
    if (!post_live.Get(i)) continue;
    const std::span<const RowId> user = user_pk.Find(owners[i]);
    if (user.empty()) continue;  // a dangling foreign key
    int64_t& m = max[user[0].value];
    m = std::max(m, created_at[i]);
  }
  const Bitmap& live = users_->live();
  UserMaxes out;
  out.reserve(users_->size());
  for (size_t u = 0; u < user_ids.size(); ++u) {
    if (!live.Get(u)) continue;
    out.emplace_back(user_ids[u], max[u] == kNone ? std::nullopt : std::optional<int64_t>(max[u]));
  }
  return out;
}

absl::StatusOr<UserIds> KinNativePeer::WhereHas() {
  const std::span<const int64_t> user_ids = users_->Int64Column(user_id_);
  const std::span<const int64_t> owners = posts_->Int64Column(post_user_id_);
  const std::span<const int64_t> likes = posts_->Int64Column(post_likes_);
  const std::span<const uint8_t> published = posts_->BoolColumn(post_is_published_);
  const HashIndex& user_pk = *users_->index(users_->primary_key());
  const Bitmap& post_live = posts_->live();
  std::vector<uint8_t> hit(user_ids.size(), 0);
  for (size_t i = 0; i < owners.size(); ++i) {
    if (published[i] && likes[i] > kPopularLikes && post_live.Get(i)) {
      const std::span<const RowId> user = user_pk.Find(owners[i]);
      if (!user.empty()) hit[user[0].value] = 1;
    }
  }
  const Bitmap& live = users_->live();
  UserIds out;
  for (size_t u = 0; u < user_ids.size(); ++u) {
    if (live.Get(u) && hit[u]) out.push_back(user_ids[u]);
  }
  return out;
}

}  // namespace kin::bench
