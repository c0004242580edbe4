// Randomized checks of the relation-aware queries against brute-force
// evaluators over the same data (fixed seeds): Has / WhereHas / DoesntHave
// in every form and combination, WithCount / WithAggregate, and Preload with
// GroupLimit / GroupOrderBy, each under every strategy (forced walk, table
// scan, index scan, and the cost estimate's choice).
//
// The data has what breaks naive implementations: NULL foreign keys,
// orphans (children of missing parents), NULL cells, deleted rows whose
// slots were reused, and re-parented children (so a parent's index order is
// not slot order). Three key shapes: compact int64 ids (dense per-key
// arrays in scans), sparse int64 ids (hashed), and string keys.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "query/internal/relation_plan.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::kin::internal::RelationStrategy;

constexpr RelationStrategy kStrategies[] = {RelationStrategy::kAuto, RelationStrategy::kWalk,
                                            RelationStrategy::kScan, RelationStrategy::kIndexScan};

// --- the data, read back into plain structs ---

struct UserRow {
  RowId id;
  int64_t key;
  std::optional<int64_t> score;
  int64_t grp;
};

struct PostRow {
  RowId id;
  int64_t key;
  std::optional<int64_t> user_id;
  std::optional<int64_t> likes;
  std::optional<double> rating;
  bool published;
  std::string tag;
  int64_t comments = 0;  // live comments pointing at it
};

const char* const kTags[] = {"x", "y", "z"};

// A condition on posts, as a WhereHas / WithCount / Preload callback or
// the "popular" relation's on_query records it.
struct PostCond {
  enum class Kind { kLikesGt, kPublished, kTag, kLikesNull, kRatingLt, kCommentsGe };
  Kind kind = Kind::kLikesGt;
  Connector connector = Connector::kAnd;
  int64_t x = 0;
  bool b = false;
  std::string s;
  double d = 0;
};

bool PostCondHolds(const PostCond& c, const PostRow& p) {
  switch (c.kind) {
    case PostCond::Kind::kLikesGt:
      return p.likes.has_value() && *p.likes > c.x;
    case PostCond::Kind::kPublished:
      return p.published == c.b;
    case PostCond::Kind::kTag:
      return p.tag == c.s;
    case PostCond::Kind::kLikesNull:
      return !p.likes.has_value();
    case PostCond::Kind::kRatingLt:
      return p.rating.has_value() && *p.rating < c.d;
    case PostCond::Kind::kCommentsGe:
      return p.comments >= c.x;
  }
  return false;
}

// Left to right, AND binding tighter than OR.
template <typename Cond, typename Holds>
bool EvalList(const std::vector<Cond>& list, Holds holds) {
  if (list.empty()) return true;
  bool any_term = false;
  bool term = true;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0 && list[i].connector == Connector::kOr) {
      any_term = any_term || term;
      term = true;
    }
    term = term && holds(list[i]);
  }
  return any_term || term;
}

void ApplyPostConds(const std::vector<PostCond>& list, Query& q) {
  for (const PostCond& c : list) {
    const bool o = c.connector == Connector::kOr;
    switch (c.kind) {
      case PostCond::Kind::kLikesGt:
        o ? q.OrWhere("likes", ">", c.x) : q.Where("likes", ">", c.x);
        break;
      case PostCond::Kind::kPublished:
        o ? q.OrWhere("is_published", c.b) : q.Where("is_published", c.b);
        break;
      case PostCond::Kind::kTag:
        o ? q.OrWhere("tag", c.s) : q.Where("tag", c.s);
        break;
      case PostCond::Kind::kLikesNull:
        o ? q.OrWhereNull("likes") : q.WhereNull("likes");
        break;
      case PostCond::Kind::kRatingLt:
        o ? q.OrWhere("rating", "<", c.d) : q.Where("rating", "<", c.d);
        break;
      case PostCond::Kind::kCommentsGe:
        o ? q.OrHas("comments", ">=", c.x) : q.Has("comments", ">=", c.x);
        break;
    }
  }
}

// A condition on users: on the row itself, or a count test on its posts.
struct UserCond {
  enum class Kind { kScoreGt, kScoreNull, kGrpEq, kHas, kGroup };
  Kind kind = Kind::kScoreGt;
  Connector connector = Connector::kAnd;
  int64_t x = 0;
  // kHas: relation "posts" or "popular", the test, an optional callback
  // (WhereHas forms), DoesntHave forms.
  std::string relation;
  CompareOp op = CompareOp::kGe;
  int64_t n = 1;
  bool callback = false;
  bool doesnt = false;
  std::vector<PostCond> filter;
  std::vector<UserCond> group;  // kGroup
};

bool Compare(int64_t a, CompareOp op, int64_t b) {
  switch (op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return a != b;
    case CompareOp::kLt:
      return a < b;
    case CompareOp::kLe:
      return a <= b;
    case CompareOp::kGt:
      return a > b;
    case CompareOp::kGe:
      return a >= b;
  }
  return false;
}

enum class KeyMode { kCompact, kSparse, kString };

class RelationRandomTest : public ::testing::TestWithParam<std::tuple<uint32_t, KeyMode>> {
 protected:
  void SetUp() override {
    rng_.seed(std::get<0>(GetParam()));
    mode_ = std::get<1>(GetParam());
    // Users are known by k (1..kUsers); the relation's keys are derived
    // from it: id = k, id = a sparse function of k, or handle = "h<k>".
    ASSERT_OK(db_.CreateTable("users", Schema()
                                           .Int64("id", PrimaryKey())
                                           .Int64("k", NotNull())
                                           .String("handle", NotNull(), Unique())
                                           .Int64("score")
                                           .Int64("grp", NotNull())));
    ASSERT_OK(db_.CreateTable("posts", Schema()
                                           .Int64("id", PrimaryKey())
                                           .Int64("user_k")
                                           .Int64("user_id")
                                           .String("user_handle")
                                           .Int64("likes")
                                           .Double("rating")
                                           .Bool("is_published", NotNull())
                                           .String("tag", NotNull())));
    ASSERT_OK(db_.CreateTable("comments",
                              Schema().Int64("id", PrimaryKey()).Int64("post_id", NotNull())));
    const bool strings = mode_ == KeyMode::kString;
    const std::string fk = strings ? "user_handle" : "user_id";
    const std::string local = strings ? "handle" : "id";
    ASSERT_OK(db_.HasMany("users", "posts", {.foreign_key = fk, .local_key = local}));
    ASSERT_OK(db_.HasMany("posts", "comments"));
    ASSERT_OK(db_.HasMany("users", "posts",
                          {.name = "popular",
                           .foreign_key = fk,
                           .local_key = local,
                           .on_query = [](Query& q) { q.Where("likes", ">", 50); },
                           .create_inverse = false}));
    Populate();
  }

  int64_t IdOf(int64_t k) const { return mode_ == KeyMode::kSparse ? k * 1000003 + 17 : k; }
  static std::string HandleOf(int64_t k) { return absl::StrCat("h", k); }
  // The foreign-key column and the key value of user k.
  std::string FkColumn() const { return mode_ == KeyMode::kString ? "user_handle" : "user_id"; }
  Value KeyOf(int64_t k) const {
    return mode_ == KeyMode::kString ? Value(HandleOf(k)) : Value(IdOf(k));
  }
  // The three foreign-key columns of a post of user k (NULL: no user).
  Attrs OwnerAttrs(std::optional<int64_t> k) const {
    if (!k.has_value())
      return {{"user_k", Value()}, {"user_id", Value()}, {"user_handle", Value()}};
    return {{"user_k", *k}, {"user_id", IdOf(*k)}, {"user_handle", HandleOf(*k)}};
  }
  void TearDown() override {
    ::kin::internal::SetRelationStrategyForTesting(RelationStrategy::kAuto);
  }

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(int percent) { return Uniform(0, 99) < percent; }

  Attrs RandomPost() {
    // +4: orphans, children of users that never existed.
    std::optional<int64_t> user =
        Chance(10) ? std::nullopt : std::optional<int64_t>(Uniform(1, kUsers + 4));
    Value likes = Chance(15) ? Value() : Value(Uniform(0, 100));
    Value rating = Chance(20) ? Value() : Value(static_cast<double>(Uniform(-20, 20)) / 4);
    Attrs out = OwnerAttrs(user);
    out.insert(out.end(), {{"likes", likes},
                           {"rating", rating},
                           {"is_published", Chance(50)},
                           {"tag", kTags[Uniform(0, 2)]}});
    return out;
  }

  void Populate() {
    for (int64_t u = 1; u <= kUsers; ++u) {
      ASSERT_OK(db_.Insert("users", {{"id", IdOf(u)},
                                     {"k", u},
                                     {"handle", HandleOf(u)},
                                     {"score", Chance(20) ? Value() : Value(Uniform(0, 9))},
                                     {"grp", Uniform(0, 3)}})
                    .status());
    }
    for (int i = 0; i < kPosts; ++i) ASSERT_OK(db_.Insert("posts", RandomPost()).status());
    // One busy user: more children than the sorts' inline buffers hold.
    for (int i = 0; i < 80; ++i) {
      Attrs post = RandomPost();
      Attrs owner = OwnerAttrs(int64_t{1});
      std::copy(owner.begin(), owner.end(), post.begin());  // the owner columns come first
      ASSERT_OK(db_.Insert("posts", post).status());
    }
    // Delete some users and posts, then insert more posts (reusing slots),
    // and re-parent some: index order is no longer slot order.
    ResultSet users = db_.Query("users").Get().value();
    for (const ResultRow& u : users) {
      if (Chance(8)) {
        ASSERT_OK(db_.Delete(u));
      }
    }
    ResultSet posts = db_.Query("posts").Get().value();
    for (const ResultRow& p : posts) {
      if (Chance(10)) {
        ASSERT_OK(db_.Delete(p));
      } else if (Chance(10)) {
        ASSERT_OK(db_.Update(p, OwnerAttrs(Uniform(1, kUsers))).status());
      }
    }
    for (int i = 0; i < kPosts / 5; ++i) ASSERT_OK(db_.Insert("posts", RandomPost()).status());
    ResultSet live_posts = db_.Query("posts").Get().value();
    for (int i = 0; i < kComments; ++i) {
      const Row& p = live_posts[static_cast<size_t>(Uniform(0, live_posts.size() - 1))];
      ASSERT_OK(db_.Insert("comments", {{"post_id", p.GetInt64("id").value()}}).status());
    }
    ReadBack();
  }

  void ReadBack() {
    users_.clear();
    posts_.clear();
    for (const Row& r : *db_.FindTable("users")) {
      Value score = r.Get("score").value();
      users_.push_back({r.id(), r.GetInt64("k").value(),
                        score.is_null() ? std::nullopt : std::optional<int64_t>(score.AsInt64()),
                        r.GetInt64("grp").value()});
    }
    absl::flat_hash_map<int64_t, int64_t> comments_of;
    for (const Row& c : *db_.FindTable("comments")) ++comments_of[c.GetInt64("post_id").value()];
    for (const Row& r : *db_.FindTable("posts")) {
      Value user = r.Get("user_k").value();
      Value likes = r.Get("likes").value();
      Value rating = r.Get("rating").value();
      PostRow p;
      p.id = r.id();
      p.key = r.GetInt64("id").value();
      if (!user.is_null()) p.user_id = user.AsInt64();
      if (!likes.is_null()) p.likes = likes.AsInt64();
      if (!rating.is_null()) p.rating = rating.AsDouble();
      p.published = r.GetBool("is_published").value();
      p.tag = std::string(r.GetString("tag").value());
      p.comments = comments_of[p.key];
      post_at_[r.id().value] = posts_.size();
      posts_.push_back(std::move(p));
    }
  }

  // --- random conditions ---

  PostCond RandomPostCond(bool allow_nested) {
    PostCond c;
    c.kind = static_cast<PostCond::Kind>(Uniform(0, allow_nested ? 5 : 4));
    c.connector = Chance(30) ? Connector::kOr : Connector::kAnd;
    c.x = c.kind == PostCond::Kind::kCommentsGe ? Uniform(0, 3) : Uniform(-1, 100);
    c.b = Chance(50);
    c.s = kTags[Uniform(0, 2)];
    c.d = static_cast<double>(Uniform(-20, 20)) / 4;
    return c;
  }

  std::vector<PostCond> RandomPostFilter() {
    std::vector<PostCond> out;
    const int64_t n = Uniform(0, 2);
    for (int64_t i = 0; i < n; ++i) out.push_back(RandomPostCond(/*allow_nested=*/true));
    return out;
  }

  UserCond RandomUserCond(int depth) {
    UserCond c;
    c.connector = Chance(35) ? Connector::kOr : Connector::kAnd;
    const int64_t pick = Uniform(0, depth > 0 ? 9 : 8);
    if (pick <= 1) {
      c.kind = UserCond::Kind::kScoreGt;
      c.x = Uniform(-1, 9);
    } else if (pick == 2) {
      c.kind = UserCond::Kind::kScoreNull;
    } else if (pick == 3) {
      c.kind = UserCond::Kind::kGrpEq;
      c.x = Uniform(0, 3);
    } else if (pick <= 8) {
      c.kind = UserCond::Kind::kHas;
      c.relation = Chance(70) ? "posts" : "popular";
      c.op = static_cast<CompareOp>(Uniform(0, 5));
      c.n = Uniform(-1, 5);
      c.callback = Chance(60);
      c.doesnt = Chance(25);
      if (c.callback) c.filter = RandomPostFilter();
    } else {
      c.kind = UserCond::Kind::kGroup;
      const int64_t n = Uniform(1, 3);
      for (int64_t i = 0; i < n; ++i) c.group.push_back(RandomUserCond(depth - 1));
    }
    return c;
  }

  // --- the reference ---

  // Posts of `user` (live, foreign key = its id) passing on_query and `filter`.
  int64_t RelatedCount(const UserRow& user, const std::string& relation,
                       const std::vector<PostCond>& filter) const {
    int64_t n = 0;
    for (const PostRow& p : posts_) {
      if (!p.user_id.has_value() || *p.user_id != user.key) continue;
      if (relation == "popular" && !(p.likes.has_value() && *p.likes > 50)) continue;
      if (!EvalList(filter, [&](const PostCond& c) { return PostCondHolds(c, p); })) continue;
      ++n;
    }
    return n;
  }

  bool UserHolds(const UserCond& c, const UserRow& u) const {
    switch (c.kind) {
      case UserCond::Kind::kScoreGt:
        return u.score.has_value() && *u.score > c.x;
      case UserCond::Kind::kScoreNull:
        return !u.score.has_value();
      case UserCond::Kind::kGrpEq:
        return u.grp == c.x;
      case UserCond::Kind::kHas: {
        const int64_t n = RelatedCount(u, c.relation, c.filter);
        return c.doesnt ? n < 1 : Compare(n, c.op, c.n);
      }
      case UserCond::Kind::kGroup:
        return EvalList(c.group, [&](const UserCond& g) { return UserHolds(g, u); });
    }
    return false;
  }

  void ApplyUserConds(const std::vector<UserCond>& list, Query& q) {
    for (const UserCond& c : list) {
      const bool o = c.connector == Connector::kOr;
      switch (c.kind) {
        case UserCond::Kind::kScoreGt:
          o ? q.OrWhere("score", ">", c.x) : q.Where("score", ">", c.x);
          break;
        case UserCond::Kind::kScoreNull:
          o ? q.OrWhereNull("score") : q.AndWhereNull("score");
          break;
        case UserCond::Kind::kGrpEq:
          o ? q.OrWhere("grp", c.x) : q.AndWhere("grp", c.x);
          break;
        case UserCond::Kind::kGroup: {
          auto group = [&](Query& g) { ApplyUserConds(c.group, g); };
          o ? q.OrWhere(group) : q.AndWhere(group);
          break;
        }
        case UserCond::Kind::kHas: {
          auto cb = [&](Query& p) { ApplyPostConds(c.filter, p); };
          // Exercise all 12 spellings: And* and bare forms alternate.
          const bool bare = (c.n & 1) == 0;
          if (c.doesnt && c.callback) {
            o ? q.OrWhereDoesntHave(c.relation, cb)
              : (bare ? q.WhereDoesntHave(c.relation, cb) : q.AndWhereDoesntHave(c.relation, cb));
          } else if (c.doesnt) {
            o ? q.OrDoesntHave(c.relation)
              : (bare ? q.DoesntHave(c.relation) : q.AndDoesntHave(c.relation));
          } else if (c.callback) {
            o ? q.OrWhereHas(c.relation, cb, c.op, c.n)
              : (bare ? q.WhereHas(c.relation, cb, std::string(CompareOpSymbol(c.op)), c.n)
                      : q.AndWhereHas(c.relation, cb, c.op, c.n));
          } else if (c.op == CompareOp::kGe && c.n == 1) {
            o ? q.OrHas(c.relation) : (bare ? q.Has(c.relation) : q.AndHas(c.relation));
          } else {
            o ? q.OrHas(c.relation, std::string(CompareOpSymbol(c.op)), c.n)
              : (bare ? q.Has(c.relation, c.op, c.n) : q.AndHas(c.relation, c.op, c.n));
          }
          break;
        }
      }
    }
  }

  static constexpr int64_t kUsers = 60;
  static constexpr int kPosts = 500;
  static constexpr int kComments = 300;

  KeyMode mode_ = KeyMode::kCompact;
  std::mt19937_64 rng_;
  Database db_;
  std::vector<UserRow> users_;
  std::vector<PostRow> posts_;
  absl::flat_hash_map<uint32_t, size_t> post_at_;  // slot → index in posts_
};

TEST_P(RelationRandomTest, HasFamilyMatchesBruteForce) {
  int checked = 0;
  for (int round = 0; round < 250; ++round) {
    std::vector<UserCond> conds;
    const int64_t n = Uniform(1, 3);
    for (int64_t i = 0; i < n; ++i) conds.push_back(RandomUserCond(/*depth=*/1));
    std::vector<int64_t> want;
    for (const UserRow& u : users_) {
      if (EvalList(conds, [&](const UserCond& c) { return UserHolds(c, u); })) {
        want.push_back(u.key);
      }
    }
    // Sometimes through an index probe on the parents (few rows asked).
    const bool probe = Chance(25);
    std::vector<Value> some;
    if (probe) {
      std::vector<int64_t> some_k;
      for (int i = 0; i < 5; ++i) some_k.push_back(Uniform(1, kUsers));
      for (int64_t k : some_k) some.push_back(Value(IdOf(k)));
      std::vector<int64_t> kept;
      for (int64_t k : want) {
        if (std::find(some_k.begin(), some_k.end(), k) != some_k.end()) kept.push_back(k);
      }
      want = kept;
    }
    for (RelationStrategy strategy : kStrategies) {
      ::kin::internal::SetRelationStrategyForTesting(strategy);
      Query q = db_.Query("users");
      if (probe) q.WhereIn("id", some);
      q.Where([&](Query& g) { ApplyUserConds(conds, g); });
      SCOPED_TRACE(absl::StrCat("round ", round, " strategy ", static_cast<int>(strategy), ": ",
                                DescribeSpec(q.spec())));
      ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
      std::vector<int64_t> got;
      for (const ResultRow& r : rows) got.push_back(r.GetInt64("k").value());
      ASSERT_EQ(got, want);
      ASSERT_THAT(q.Count(), IsOkAndHolds(static_cast<int64_t>(want.size())));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 1000);
}

TEST_P(RelationRandomTest, BelongsToHasMatchesBruteForce) {
  for (int round = 0; round < 60; ++round) {
    const int64_t min_score = Uniform(-1, 9);
    const CompareOp op = static_cast<CompareOp>(Uniform(0, 5));
    const int64_t n = Uniform(-1, 2);
    std::vector<int64_t> want;
    for (const PostRow& p : posts_) {
      int64_t count = 0;
      for (const UserRow& u : users_) {
        if (p.user_id.has_value() && *p.user_id == u.key && u.score.has_value() &&
            *u.score > min_score) {
          ++count;
        }
      }
      if (Compare(count, op, n)) want.push_back(p.key);
    }
    for (RelationStrategy strategy : kStrategies) {
      ::kin::internal::SetRelationStrategyForTesting(strategy);
      Query q = db_.Query("posts");
      q.WhereHas(
          "user", [&](Query& u) { u.Where("score", ">", min_score); }, op, n);
      SCOPED_TRACE(absl::StrCat("round ", round, " strategy ", static_cast<int>(strategy), ": ",
                                DescribeSpec(q.spec())));
      ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
      std::vector<int64_t> got;
      for (const ResultRow& r : rows) got.push_back(r.GetInt64("id").value());
      ASSERT_EQ(got, want);
    }
  }
}

TEST_P(RelationRandomTest, CountsAndAggregatesMatchBruteForce) {
  const char* const kColumns[] = {"likes", "rating", "tag", "is_published"};
  for (int round = 0; round < 120; ++round) {
    const std::string relation = Chance(75) ? "posts" : "popular";
    std::vector<PostCond> filter = Chance(50) ? RandomPostFilter() : std::vector<PostCond>{};
    // Count, Sum, Avg, Min, Max, CountDistinct.
    const auto fn = static_cast<AggregateFunction>(Uniform(0, 5));
    std::string column = kColumns[Uniform(0, 3)];
    if ((fn == AggregateFunction::kSum || fn == AggregateFunction::kAvg) &&
        (column == "tag" || column == "is_published")) {
      column = "likes";
    }
    const bool star = fn == AggregateFunction::kCount && Chance(50);
    // The parents: all, or a few through the primary key.
    std::vector<Value> some;
    std::vector<int64_t> some_k;
    const bool probe = Chance(30);
    if (probe) {
      for (int i = 0; i < 6; ++i) some_k.push_back(Uniform(1, kUsers));
      for (int64_t k : some_k) some.push_back(Value(IdOf(k)));
    }
    // The reference, per live user in slot order.
    std::vector<int64_t> want_counts;
    std::vector<Value> want_values;
    for (const UserRow& u : users_) {
      if (probe && std::find(some_k.begin(), some_k.end(), u.key) == some_k.end()) continue;
      int64_t count = 0;
      std::vector<const PostRow*> rows;
      for (const PostRow& p : posts_) {
        if (!p.user_id.has_value() || *p.user_id != u.key) continue;
        if (relation == "popular" && !(p.likes.has_value() && *p.likes > 50)) continue;
        if (!EvalList(filter, [&](const PostCond& c) { return PostCondHolds(c, p); })) continue;
        ++count;
        rows.push_back(&p);
      }
      want_counts.push_back(count);
      // The aggregate over the non-NULL cells.
      std::vector<Value> cells;
      for (const PostRow* p : rows) {
        Value v = column == "likes"    ? (p->likes ? Value(*p->likes) : Value())
                  : column == "rating" ? (p->rating ? Value(*p->rating) : Value())
                  : column == "tag"    ? Value(p->tag)
                                       : Value(p->published);
        if (star || !v.is_null()) cells.push_back(v);
      }
      Value agg;
      if (fn == AggregateFunction::kCount) {
        agg = Value(static_cast<int64_t>(cells.size()));
      } else if (fn == AggregateFunction::kCountDistinct) {
        std::vector<Value> distinct;
        for (const Value& v : cells) {
          bool seen = false;
          for (const Value& d : distinct) seen = seen || CompareValues(v, d) == 0;
          if (!seen) distinct.push_back(v);
        }
        agg = Value(static_cast<int64_t>(distinct.size()));
      } else if (!cells.empty()) {
        if (fn == AggregateFunction::kSum || fn == AggregateFunction::kAvg) {
          double sum = 0;
          int64_t isum = 0;
          for (const Value& v : cells) {
            sum += v.AsNumber();
            if (v.is_int64()) isum += v.AsInt64();
          }
          if (fn == AggregateFunction::kAvg) {
            agg = Value(sum / static_cast<double>(cells.size()));
          } else {
            agg = column == "likes" ? Value(isum) : Value(sum);
          }
        } else {
          agg = cells[0];
          for (const Value& v : cells) {
            int c = CompareValues(v, agg);
            if (fn == AggregateFunction::kMin ? c < 0 : c > 0) agg = v;
          }
        }
      }
      want_values.push_back(agg);
    }
    for (RelationStrategy strategy : kStrategies) {
      ::kin::internal::SetRelationStrategyForTesting(strategy);
      Query q = db_.Query("users");
      if (probe) q.WhereIn("id", some);
      q.WithCount(relation, [&](Query& p) {
         ApplyPostConds(filter, p);
         p.As("n");
       }).WithAggregate(relation, [&](Query& p) {
        ApplyPostConds(filter, p);
        switch (fn) {
          case AggregateFunction::kCount:
            p.Count(star ? "*" : column);
            break;
          case AggregateFunction::kSum:
            p.Sum(column);
            break;
          case AggregateFunction::kAvg:
            p.Avg(column);
            break;
          case AggregateFunction::kMin:
            p.Min(column);
            break;
          case AggregateFunction::kMax:
            p.Max(column);
            break;
          case AggregateFunction::kCountDistinct:
            p.CountDistinct(column);
            break;
        }
        p.As("agg");
      });
      SCOPED_TRACE(absl::StrCat("round ", round, " strategy ", static_cast<int>(strategy), ": ",
                                DescribeSpec(q.spec())));
      ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
      ASSERT_EQ(rows.size(), want_counts.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        ASSERT_THAT(rows[i].Extra("n"), IsOkAndHolds(Value(want_counts[i]))) << "row " << i;
        ASSERT_OK_AND_ASSIGN(Value got, rows[i].Extra("agg"));
        const Value& want = want_values[i];
        if (want.is_double() && got.is_double()) {
          // Double sums depend on the order rows are added in.
          ASSERT_NEAR(got.AsDouble(), want.AsDouble(), 1e-9) << "row " << i;
        } else {
          ASSERT_EQ(got, want) << "row " << i;
        }
      }
    }
  }
}

TEST_P(RelationRandomTest, PreloadTopNMatchesBruteForce) {
  const Table& posts = *db_.FindTable("posts");
  // A user's posts in index order (the order preloads keep).
  auto children = [&](int64_t k) { return posts.Children(FkColumn(), KeyOf(k)).value(); };
  for (int round = 0; round < 80; ++round) {
    std::vector<PostCond> filter = Chance(50) ? RandomPostFilter() : std::vector<PostCond>{};
    const std::optional<int64_t> limit =
        Chance(70) ? std::optional<int64_t>(Uniform(0, 6)) : std::nullopt;
    const bool by_likes = Chance(50);  // else by rating; both have NULLs
    const bool desc = Chance(50);
    const bool group_order = Chance(70);
    const bool then_order = Chance(30);  // an OrderBy(tag) for the kept rows
    // The reference: each user's index list, filtered, stable-sorted by the
    // key (NULL smallest) or, for a GroupLimit without GroupOrderBy, by
    // primary key descending (Lucid's default), cut, then stable-sorted by
    // tag.
    auto key_less = [&](const PostRow* a, const PostRow* b) {
      auto cmp = [&](const PostRow* p) -> std::optional<double> {
        if (by_likes) return p->likes ? std::optional<double>(*p->likes) : std::nullopt;
        return p->rating;
      };
      std::optional<double> x = cmp(a), y = cmp(b);
      if (desc) std::swap(x, y);
      if (!x.has_value() || !y.has_value()) return !x.has_value() && y.has_value();
      return *x < *y;
    };
    std::vector<std::vector<int64_t>> want;
    for (const UserRow& u : users_) {
      std::vector<const PostRow*> list;
      for (RowId id : children(u.key)) {
        const PostRow& p = posts_[post_at_.at(id.value)];
        if (EvalList(filter, [&](const PostCond& c) { return PostCondHolds(c, p); })) {
          list.push_back(&p);
        }
      }
      if (group_order) {
        std::stable_sort(list.begin(), list.end(), key_less);
      } else if (limit.has_value()) {
        std::stable_sort(list.begin(), list.end(),
                         [](const PostRow* a, const PostRow* b) { return a->key > b->key; });
      }
      if (limit.has_value() && list.size() > static_cast<size_t>(*limit)) list.resize(*limit);
      if (then_order) {
        std::stable_sort(list.begin(), list.end(),
                         [](const PostRow* a, const PostRow* b) { return a->tag < b->tag; });
      }
      std::vector<int64_t> keys;
      for (const PostRow* p : list) keys.push_back(p->key);
      want.push_back(keys);
    }
    for (RelationStrategy strategy : kStrategies) {
      ::kin::internal::SetRelationStrategyForTesting(strategy);
      Query q = db_.Query("users");
      q.Preload("posts", [&](Query& p) {
        ApplyPostConds(filter, p);
        if (group_order) p.GroupOrderBy(by_likes ? "likes" : "rating", desc ? kDesc : kAsc);
        if (limit.has_value()) p.GroupLimit(*limit);
        if (then_order) p.OrderBy("tag");
      });
      SCOPED_TRACE(absl::StrCat("round ", round, " strategy ", static_cast<int>(strategy), ": ",
                                DescribeSpec(q.spec())));
      ASSERT_OK_AND_ASSIGN(ResultSet rows, q.Get());
      ASSERT_EQ(rows.size(), users_.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        const std::vector<int64_t>& expect = want[i];
        ASSERT_OK_AND_ASSIGN(std::span<const ResultRow> kids, rows[i].Preloaded("posts"));
        std::vector<int64_t> got;
        for (const ResultRow& k : kids) got.push_back(k.GetInt64("id").value());
        ASSERT_EQ(got, expect) << "user " << users_[i].key;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SeedsAndKeys, RelationRandomTest,
                         ::testing::Combine(::testing::Values(1u, 2u),
                                            ::testing::Values(KeyMode::kCompact, KeyMode::kSparse,
                                                              KeyMode::kString)),
                         [](const ::testing::TestParamInfo<std::tuple<uint32_t, KeyMode>>& info) {
                           const KeyMode mode = std::get<1>(info.param);
                           return absl::StrCat("Seed", std::get<0>(info.param),
                                               mode == KeyMode::kCompact  ? "Compact"
                                               : mode == KeyMode::kSparse ? "Sparse"
                                                                          : "String");
                         });

}  // namespace
}  // namespace kin::test
