// Thousands of random relation writes, some rolled back, checked against a
// brute-force model of who owns which post (and in which order).

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "engine/table.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/relations/fixture.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

struct Model {
  std::map<int64_t, std::optional<int64_t>> owner;   // post id → user id
  std::map<int64_t, std::vector<int64_t>> children;  // user id → posts, link order
  int64_t next_post = 1;

  void Link(int64_t post, int64_t user) {
    Unlink(post);
    owner[post] = user;
    children[user].push_back(post);
  }
  void Unlink(int64_t post) {
    std::optional<int64_t>& o = owner[post];
    if (o.has_value()) std::erase(children[*o], post);
    o.reset();
  }
  void Erase(int64_t post) {
    Unlink(post);
    owner.erase(post);
  }
};

TEST(RandomRelationsTest, MatchesABruteForceModel) {
  Database db;
  ASSERT_OK(db.CreateTable("users", UsersSchema()));
  ASSERT_OK(db.CreateTable("posts", PostsSchema()));
  ASSERT_OK(db.HasMany("users", "posts"));
  constexpr int kUsers = 12;
  std::vector<Row> users;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(db.Insert("users", {{"email", "u" + std::to_string(i)}}).value());
  }
  Model model;
  std::mt19937_64 rng(20261122);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto random_post = [&]() -> int64_t {
    // Mostly existing posts, sometimes a key that names no row.
    return pick(8) == 0 ? 100000 + pick(50) : 1 + pick(static_cast<int>(model.next_post));
  };
  auto exists = [&](int64_t id) { return model.owner.contains(id); };

  std::optional<Model> saved;  // the model at Begin()
  for (int step = 0; step < 6000; ++step) {
    if (!saved.has_value() && pick(200) == 0) {
      ASSERT_OK(db.Begin());
      saved = model;
    } else if (saved.has_value() && pick(40) == 0) {
      if (pick(2) == 0) {
        ASSERT_OK(db.Rollback());
        model = *saved;
      } else {
        ASSERT_OK(db.Commit());
      }
      saved.reset();
    }
    int u = pick(kUsers);
    int64_t uid = u + 1;
    RelationHandle rel = db.Related(users[u], "posts");
    switch (pick(6)) {
      case 0: {  // Create
        ASSERT_OK_AND_ASSIGN(Row p, rel.Create({{"title", "t"}}));
        ASSERT_EQ(p.GetInt64("id").value(), model.next_post);
        model.Link(model.next_post++, uid);
        break;
      }
      case 1: {  // Add by key
        int64_t p = random_post();
        absl::StatusOr<int64_t> n = rel.Add(Value(p));
        if (!exists(p)) {
          ASSERT_EQ(n.status().code(), absl::StatusCode::kNotFound);
          break;
        }
        ASSERT_OK(n.status());
        ASSERT_EQ(*n, model.owner[p] == uid ? 0 : 1);
        if (model.owner[p] != uid) model.Link(p, uid);
        break;
      }
      case 2: {  // Remove by key
        int64_t p = random_post();
        absl::StatusOr<int64_t> n = rel.Remove(Value(p));
        if (!exists(p)) {
          ASSERT_EQ(n.status().code(), absl::StatusCode::kNotFound);
          break;
        }
        ASSERT_OK(n.status());
        ASSERT_EQ(*n, model.owner[p] == uid ? 1 : 0);
        if (model.owner[p] == uid) model.Unlink(p);
        break;
      }
      case 3: {  // Set to a few posts (all-or-nothing when a key is bad)
        std::vector<RowOrKey> keys;
        std::vector<int64_t> ids;
        bool bad = false;
        for (int k = pick(4); k > 0; --k) {
          int64_t p = random_post();
          bad = bad || !exists(p);
          keys.push_back(Value(p));
          ids.push_back(p);
        }
        absl::StatusOr<int64_t> n = rel.Set(keys);
        if (bad) {
          ASSERT_EQ(n.status().code(), absl::StatusCode::kNotFound);
          break;
        }
        ASSERT_OK(n.status());
        std::vector<int64_t> current = model.children[uid];
        for (int64_t p : current) {
          if (std::find(ids.begin(), ids.end(), p) == ids.end()) model.Unlink(p);
        }
        for (int64_t p : ids) {
          if (model.owner[p] != uid) model.Link(p, uid);
        }
        break;
      }
      case 4: {  // Delete one post directly
        int64_t p = random_post();
        if (!exists(p)) break;
        ASSERT_OK(db.Delete(db.FindTable("posts")->Find(p).value()));
        model.Erase(p);
        break;
      }
      case 5: {  // Delete all of a user's posts, rarely
        if (pick(10) != 0) break;
        ASSERT_OK_AND_ASSIGN(int64_t n, rel.Delete());
        ASSERT_EQ(n, static_cast<int64_t>(model.children[uid].size()));
        for (int64_t p : std::vector<int64_t>(model.children[uid])) model.Erase(p);
        break;
      }
    }
    if (step % 97 == 0 || step == 5999) {
      ASSERT_OK(db.CheckConsistency());
      for (int i = 0; i < kUsers; ++i) {
        std::vector<int64_t> got;
        const Table* posts = db.FindTable("posts");
        ASSERT_OK_AND_ASSIGN(std::span<const RowId> children,
                             db.Related(users[i], "posts").Children());
        for (RowId id : children) {
          got.push_back(posts->Int64Column(posts->primary_key())[id.value]);
        }
        ASSERT_EQ(got, model.children[i + 1]) << "user " << i + 1 << " at step " << step;
        ASSERT_EQ(db.Related(users[i], "posts").Count().value(), static_cast<int64_t>(got.size()));
      }
    }
  }
  if (saved.has_value()) {
    ASSERT_OK(db.Commit());
  }
}

}  // namespace
}  // namespace kin::test
