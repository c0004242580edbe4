// ParentLinks (engine/parent_links.h): each child row's parent row and each
// parent's child count, kept by the child table and brought up to date on
// use. Checked against a brute-force recomputation after every kind of
// write: appends (extended in place), deletes, reused slots, key updates on
// either side, parents appended after their orphans, rollbacks, and a
// dropped and re-created parent table.

#include "engine/parent_links.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::ElementsAre;

constexpr uint32_t kNone = ParentLinks::kNoParent;

// users(id sparse, handle unique string) ← posts.user_id, posts.handle.
class ParentLinksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(engine_.CreateTable(
        "users", Schema().Int64("id", PrimaryKey()).String("handle", Unique()).Int64("score")));
    ASSERT_OK(engine_.CreateTable("posts", Schema()
                                               .Int64("id", PrimaryKey())
                                               .Int64("user_id", Indexed())
                                               .String("handle")
                                               .Int64("likes")));
  }

  const Table& users() const { return *engine_.FindTable("users"); }
  const Table& posts() const { return *engine_.FindTable("posts"); }
  ColumnId Col(const Table& t, const char* name) const { return *t.FindColumn(name); }

  Row AddUser(int64_t id) {
    absl::StatusOr<Row> r =
        engine_.Insert("users", {{"id", id}, {"handle", absl::StrCat("h", id)}, {"score", 0}});
    EXPECT_OK(r.status());
    return *r;
  }
  Row AddPost(std::optional<int64_t> user) {
    Attrs attrs = {{"likes", 1}};
    if (user.has_value()) {
      attrs.push_back({"user_id", *user});
      attrs.push_back({"handle", absl::StrCat("h", *user)});
    }
    absl::StatusOr<Row> r = engine_.Insert("posts", attrs);
    EXPECT_OK(r.status());
    return *r;
  }

  // Links by user_id (int64) or by handle (string).
  std::shared_ptr<const ParentLinks> Links(bool by_handle = false) const {
    const char* key = by_handle ? "handle" : "user_id";
    const char* parent_key = by_handle ? "handle" : "id";
    return posts().parent_links().Get(posts(), Col(posts(), key), users(),
                                      Col(users(), parent_key));
  }

  // The links recomputed from the cells, one probe per child row.
  void ExpectMatchesBruteForce(bool by_handle = false) const {
    std::shared_ptr<const ParentLinks> links = Links(by_handle);
    const Table& c = posts();
    const Table& p = users();
    const ColumnId key = Col(c, by_handle ? "handle" : "user_id");
    const ColumnId parent_key = Col(p, by_handle ? "handle" : "id");
    ASSERT_EQ(links->parent_of.size(), c.slot_count());
    ASSERT_EQ(links->counts.size(), p.slot_count());
    std::vector<uint32_t> counts(p.slot_count(), 0);
    for (uint32_t r = 0; r < c.slot_count(); ++r) {
      uint32_t want = kNone;
      if (c.IsLive(RowId(r)) && !c.IsNull(RowId(r), key)) {
        std::span<const RowId> hit = p.index(parent_key)->Find(c.GetValue(RowId(r), key));
        if (!hit.empty()) want = hit.front().value;
      }
      ASSERT_EQ(links->parent_of[r], want) << "child slot " << r;
      if (want != kNone) ++counts[want];
    }
    ASSERT_EQ(links->counts, counts);
  }

  void RunRandomWrites(int steps, int period, uint32_t seed);

  Engine engine_;
};

TEST_F(ParentLinksTest, LinksEachChildToItsParentRow) {
  AddUser(7000021);   // slot 0
  AddUser(14000042);  // slot 1
  AddUser(3);         // slot 2, no posts
  AddPost(14000042);
  AddPost(7000021);
  AddPost(std::nullopt);  // NULL key: no parent
  AddPost(99);            // orphan: no user 99
  AddPost(14000042);
  std::shared_ptr<const ParentLinks> links = Links();
  EXPECT_THAT(links->parent_of, ElementsAre(1, 0, kNone, kNone, 1));
  EXPECT_THAT(links->counts, ElementsAre(1, 2, 0));
  std::shared_ptr<const ParentLinks> by_handle = Links(/*by_handle=*/true);
  EXPECT_THAT(by_handle->parent_of, ElementsAre(1, 0, kNone, kNone, 1));
  EXPECT_THAT(by_handle->counts, ElementsAre(1, 2, 0));
}

TEST_F(ParentLinksTest, EmptyTables) {
  std::shared_ptr<const ParentLinks> links = Links();
  EXPECT_TRUE(links->parent_of.empty());
  EXPECT_TRUE(links->counts.empty());
  AddUser(1);
  ExpectMatchesBruteForce();
}

TEST_F(ParentLinksTest, ReusedWhileNothingChanges) {
  AddUser(5);
  AddPost(5);
  std::shared_ptr<const ParentLinks> first = Links();
  EXPECT_EQ(Links().get(), first.get());
  // Writes to columns that are not keys keep the links.
  ASSERT_OK(engine_.Update(posts().GetRow(RowId(0)), {{"likes", 9}}).status());
  ASSERT_OK(engine_.Update(users().GetRow(RowId(0)), {{"score", 9}}).status());
  EXPECT_EQ(Links().get(), first.get());
}

TEST_F(ParentLinksTest, AppendsExtendTheLinks) {
  AddUser(5);
  AddUser(6);
  AddPost(5);
  const ParentLinks* before = Links().get();  // nobody else holds it
  AddPost(6);
  AddPost(6);
  AddPost(std::nullopt);
  std::shared_ptr<const ParentLinks> after = Links();
  EXPECT_EQ(after.get(), before) << "extended in place, not rebuilt";
  EXPECT_THAT(after->parent_of, ElementsAre(0, 1, 1, kNone));
  EXPECT_THAT(after->counts, ElementsAre(1, 2));
}

TEST_F(ParentLinksTest, LinksHeldByAReaderAreNeverChanged) {
  AddUser(5);
  AddPost(5);
  std::shared_ptr<const ParentLinks> held = Links();
  AddPost(5);
  std::shared_ptr<const ParentLinks> now = Links();
  EXPECT_NE(now.get(), held.get());
  EXPECT_THAT(held->parent_of, ElementsAre(0));
  EXPECT_THAT(held->counts, ElementsAre(1));
  EXPECT_THAT(now->parent_of, ElementsAre(0, 0));
  EXPECT_THAT(now->counts, ElementsAre(2));
}

TEST_F(ParentLinksTest, ParentAppendedAfterItsOrphans) {
  AddPost(42);
  AddPost(42);
  EXPECT_THAT(Links()->parent_of, ElementsAre(kNone, kNone));
  AddUser(42);
  EXPECT_THAT(Links()->parent_of, ElementsAre(0, 0));
  EXPECT_THAT(Links()->counts, ElementsAre(2));
}

TEST_F(ParentLinksTest, DeletesAndKeyUpdatesOnEitherSide) {
  Row u1 = AddUser(1000003);
  Row u2 = AddUser(2000006);
  Row p1 = AddPost(1000003);
  AddPost(2000006);
  Row p3 = AddPost(2000006);
  ExpectMatchesBruteForce();
  ASSERT_OK(engine_.Update(p3, {{"user_id", int64_t{1000003}}}).status());
  ExpectMatchesBruteForce();
  ASSERT_OK(engine_.Delete(p1));
  ExpectMatchesBruteForce();
  AddPost(2000006);  // reuses p1's slot
  ExpectMatchesBruteForce();
  ASSERT_OK(engine_.Update(u2, {{"id", int64_t{77}}}).status());  // its posts are orphans now
  ExpectMatchesBruteForce();
  ASSERT_OK(engine_.Delete(u1));
  ExpectMatchesBruteForce();
  ExpectMatchesBruteForce(/*by_handle=*/true);
}

TEST_F(ParentLinksTest, RollbackRestoresTheLinks) {
  AddUser(1);
  AddUser(2);
  AddPost(1);
  ExpectMatchesBruteForce();
  ASSERT_OK(engine_.Begin());
  AddPost(2);
  AddPost(2);
  ExpectMatchesBruteForce();  // extended inside the transaction
  ASSERT_OK(engine_.Rollback());
  ExpectMatchesBruteForce();
  EXPECT_THAT(Links()->counts, ElementsAre(1, 0));
}

TEST_F(ParentLinksTest, ParentTableDroppedAndRecreated) {
  AddUser(1);
  AddPost(1);
  EXPECT_THAT(Links()->counts, ElementsAre(1));
  ASSERT_OK(engine_.DropTable("users"));
  ASSERT_OK(engine_.CreateTable(
      "users", Schema().Int64("id", PrimaryKey()).String("handle", Unique()).Int64("score")));
  AddUser(9);
  AddUser(1);
  ExpectMatchesBruteForce();
  EXPECT_THAT(Links()->counts, ElementsAre(0, 1));
}

// Random writes of every kind (appends, deletes, reused slots, key updates,
// new parents, parents deleted, transactions committed or rolled back),
// with the links checked after every `period`-th step (1: brought up to
// date after each write; more: many writes folded into one update).
TEST_F(ParentLinksTest, RandomWritesMatchBruteForce) { RunRandomWrites(600, 1, 20261206); }

TEST_F(ParentLinksTest, RandomBurstsOfWritesMatchBruteForce) { RunRandomWrites(3000, 37, 7); }

// More child writes between two uses than the touch log holds: rebuilt.
TEST_F(ParentLinksTest, MoreWritesThanTheLogHolds) {
  for (int k = 1; k <= 10; ++k) AddUser(k);
  AddPost(1);
  ExpectMatchesBruteForce();
  uint32_t user_1 = 1;
  for (uint64_t i = 0; i < Table::kTouchLog + 10; ++i) {
    AddPost(static_cast<int64_t>(i % 12));  // 0 and 11: no such user
    user_1 += i % 12 == 1 ? 1 : 0;
  }
  ExpectMatchesBruteForce();
  EXPECT_EQ(Links()->counts[0], user_1);
}

void ParentLinksTest::RunRandomWrites(int steps, int period, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto user_id = [](int k) { return int64_t{k} * 1000003 + 17; };
  for (int k = 1; k <= 20; ++k) AddUser(user_id(k));
  int users_made = 20;
  for (int step = 0; step < steps; ++step) {
    const int op = uniform(0, 9);
    const Table& p = posts();
    const Table& u = users();
    auto live_row = [&](const Table& t) -> std::optional<Row> {
      if (t.size() == 0) return std::nullopt;
      for (int tries = 0; tries < 64; ++tries) {
        RowId r(static_cast<uint32_t>(uniform(0, static_cast<int>(t.slot_count()) - 1)));
        if (t.IsLive(r)) return t.GetRow(r);
      }
      return std::nullopt;
    };
    if (op <= 3) {
      AddPost(uniform(0, 9) == 0 ? std::nullopt
                                 : std::optional<int64_t>(user_id(uniform(1, users_made + 2))));
    } else if (op == 4) {
      if (auto r = live_row(p)) {
        ASSERT_OK(engine_.Delete(*r));
      }
    } else if (op == 5) {
      if (auto r = live_row(p)) {
        ASSERT_OK(engine_.Update(*r, {{"user_id", user_id(uniform(1, users_made))}}).status());
      }
    } else if (op == 6) {
      if (auto r = live_row(u)) {
        ASSERT_OK(engine_.Delete(*r));
      }
    } else if (op == 7) {
      AddUser(user_id(++users_made));
    } else if (op == 8) {
      ASSERT_OK(engine_.Begin());
      AddPost(user_id(uniform(1, users_made)));
      if (auto r = live_row(p)) {
        ASSERT_OK(engine_.Delete(*r));
      }
      if (uniform(0, 1) == 0) {
        ASSERT_OK(engine_.Rollback());
      } else {
        ASSERT_OK(engine_.Commit());
      }
    } else {
      if (auto r = live_row(p)) {
        ASSERT_OK(engine_.Update(*r, {{"likes", uniform(0, 9)}}).status());
      }
    }
    if (step % period != period - 1 && step != steps - 1) continue;
    ASSERT_NO_FATAL_FAILURE(ExpectMatchesBruteForce())
        << "after step " << step << " (op " << op << ")";
  }
}

// Links are kept per column id; a dropped column renumbers the ones after
// it, so links asked for by the same id afterwards must be the new column's.
TEST_F(ParentLinksTest, ColumnIdsRenumberedByADrop) {
  ASSERT_OK(engine_.CreateTable("gifts", Schema()
                                             .Int64("id", PrimaryKey())
                                             .Int64("junk")
                                             .Int64("from_user", Indexed())
                                             .Int64("to_user", Indexed())));
  AddUser(10);
  AddUser(20);
  ASSERT_OK(engine_.Insert("gifts", {{"from_user", 10}, {"to_user", 20}}).status());
  const Table& gifts = *engine_.FindTable("gifts");
  const ColumnId user_key = Col(users(), "id");
  EXPECT_THAT(gifts.parent_links().Get(gifts, ColumnId(2), users(), user_key)->counts,
              ElementsAre(1, 0));  // from_user
  ASSERT_OK(engine_.DropColumn("gifts", "junk"));
  ASSERT_EQ(*gifts.FindColumn("to_user"), ColumnId(2));
  EXPECT_THAT(gifts.parent_links().Get(gifts, ColumnId(2), users(), user_key)->counts,
              ElementsAre(0, 1));  // to_user now
}

TEST_F(ParentLinksTest, CountedInMemoryBytes) {
  for (int k = 1; k <= 1000; ++k) AddUser(k * 7919);
  for (int k = 1; k <= 5000; ++k) AddPost((k % 1000 + 1) * 7919);
  const size_t before = engine_.MemoryBytes();
  Links();
  EXPECT_GE(engine_.MemoryBytes(), before + (5000 + 1000) * sizeof(uint32_t));
}

}  // namespace
}  // namespace kin
