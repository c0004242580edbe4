// String keys in hash and ordered indexes: the indexes keep no copy of a
// key (they read it from the column), so these tests drive every write path
// that changes a cell or moves the column (updates, deletes, rollbacks,
// batches, schema changes) and compare each index with the rows.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "engine/hash_index.h"
#include "engine/ordered_index.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// players: a unique name and an indexed, ordered tag, both nullable.
Schema TagSchema() {
  return Schema()
      .Int64("id", PrimaryKey())
      .String("name", Unique(), Nullable())
      .String("tag", Indexed(), Ordered(), Nullable());
}

// Keys that share their first 8 or 12 bytes or differ only past them, by a
// trailing NUL or by bytes above 0x7f: the cases where the ordered index's
// 12-byte head ties and the column must decide.
// With `shared`, most keys start with one long prefix (the ordered index
// then stores the bytes after it) and a few do not (and shorten it).
std::string RandomKey(std::mt19937_64& rng, bool shared = false) {
  static const std::vector<std::string> kStarts = {"",
                                                   "a",
                                                   "abcdefgh",
                                                   "abcdefg",
                                                   "player-000",
                                                   "player-00000",
                                                   "abcdefghijk",
                                                   std::string("ab\0", 3),
                                                   "\xff\xff",
                                                   "\xc3\xa9t\xc3\xa9"};
  static const std::string kTail = std::string("ab\0\xc3z", 5);
  std::string key = shared && rng() % 12 != 0 ? "guild-0000000-member-" : "";
  key += kStarts[rng() % kStarts.size()];
  const size_t tail = rng() % 5;
  for (size_t i = 0; i < tail; ++i) key.push_back(kTail[rng() % kTail.size()]);
  return key;
}

// The ordered index's walk of [lo, hi] (unbounded when nullopt), as slots.
std::vector<uint32_t> Walk(const Table& t, ColumnId column, std::optional<std::string> lo,
                           bool lo_inc, std::optional<std::string> hi, bool hi_inc, bool desc) {
  OrderedRange range;
  if (lo.has_value()) range.lo = Value(*lo);
  range.lo_inclusive = lo_inc;
  if (hi.has_value()) range.hi = Value(*hi);
  range.hi_inclusive = hi_inc;
  std::vector<uint32_t> out;
  t.ordered_index(column)->Walk(range, desc, /*with_nulls=*/false, [&](RowId r, bool) {
    out.push_back(r.value);
    return true;
  });
  return out;
}

// The same walk by brute force over the rows: keys bytewise (unsigned),
// ties by slot.
std::vector<uint32_t> BruteWalk(const Table& t, ColumnId column, std::optional<std::string> lo,
                                bool lo_inc, std::optional<std::string> hi, bool hi_inc,
                                bool desc) {
  std::vector<std::pair<std::string, uint32_t>> entries;
  for (uint32_t s = 0; s < t.slot_count(); ++s) {
    if (!t.IsLive(RowId(s)) || t.IsNull(RowId(s), column)) continue;
    std::string key(t.StringColumn(column)[s]);
    if (lo.has_value() && (lo_inc ? key < *lo : key <= *lo)) continue;
    if (hi.has_value() && (hi_inc ? key > *hi : key >= *hi)) continue;
    entries.emplace_back(std::move(key), s);
  }
  std::sort(entries.begin(), entries.end());
  if (desc) std::reverse(entries.begin(), entries.end());
  std::vector<uint32_t> out;
  for (const auto& e : entries) out.push_back(e.second);
  return out;
}

// Every index of the table against its rows: Engine::CheckConsistency
// (each hash list against the rows, found again by a lookup of its key;
// each ordered index against a fresh build), the full walk both ways, and
// a few random ranges.
void ExpectIndexesMatchRows(const Engine& e, std::mt19937_64& rng, const std::string& where,
                            bool shared = false) {
  ASSERT_OK(e.CheckConsistency()) << where;
  const Table& t = *e.FindTable("players");
  const ColumnId tag = *t.FindColumn("tag");
  for (bool desc : {false, true}) {
    ASSERT_EQ(Walk(t, tag, std::nullopt, true, std::nullopt, true, desc),
              BruteWalk(t, tag, std::nullopt, true, std::nullopt, true, desc))
        << where;
  }
  for (int i = 0; i < 4; ++i) {
    std::optional<std::string> lo, hi;
    if (rng() % 3 != 0) lo = RandomKey(rng, shared);
    if (rng() % 3 != 0) hi = RandomKey(rng, shared);
    const bool lo_inc = rng() % 2 == 0, hi_inc = rng() % 2 == 0, desc = rng() % 2 == 0;
    ASSERT_EQ(Walk(t, tag, lo, lo_inc, hi, hi_inc, desc),
              BruteWalk(t, tag, lo, lo_inc, hi, hi_inc, desc))
        << where << " range " << i;
  }
}

TEST(StringIndexTest, OrderedWalkIsBytewiseWhenHeadsTie) {
  Engine e;
  ASSERT_OK(e.CreateTable("players", TagSchema()));
  const std::vector<std::string> tags = {"abcdefgh",
                                         "abcdefghi",
                                         std::string("abcdefgh\0", 9),
                                         "abcdefgh\x01",
                                         "",
                                         "ab",
                                         std::string("ab\0", 3),
                                         "\xff",
                                         "\xc3\xa9",
                                         "abcdefgh",
                                         "zzzzzzzzz1",
                                         "zzzzzzzzz0",
                                         "abcdefghijkl",
                                         std::string("abcdefghijkl\0", 13),
                                         "abcdefghijklm",
                                         "abcdefghijkl"};
  for (size_t i = 0; i < tags.size(); ++i) {
    ASSERT_OK(e.Insert("players", {{"id", int64_t(i + 1)}, {"tag", tags[i]}}).status());
  }
  const Table& t = *e.FindTable("players");
  const ColumnId tag = *t.FindColumn("tag");
  // Bytewise, ties by slot: "" < "ab" < "ab\0" < "abcdefgh" (0, 9) <
  // "abcdefgh\0" < "abcdefgh\x01" < "abcdefghi" < "abcdefghijkl" (12, 15) <
  // "abcdefghijkl\0" < "abcdefghijklm" < "zzzzzzzzz0" < "zzzzzzzzz1" <
  // "\xc3\xa9" < "\xff". The last three pairs tie on their first 12 bytes.
  EXPECT_THAT(Walk(t, tag, std::nullopt, true, std::nullopt, true, false),
              ElementsAre(4, 5, 6, 0, 9, 2, 3, 1, 12, 15, 13, 14, 11, 10, 8, 7));
  // A new key starts at every entry but the second "abcdefgh" and the
  // second "abcdefghijkl".
  std::vector<bool> new_key;
  t.ordered_index(tag)->Walk(OrderedRange(), /*desc=*/false, /*with_nulls=*/true,
                             [&](RowId, bool is_new) {
                               new_key.push_back(is_new);
                               return true;
                             });
  EXPECT_THAT(new_key, ElementsAre(true, true, true, true, false, true, true, true, true, false,
                                   true, true, true, true, true, true));
  EXPECT_THAT(Walk(t, tag, "abcdefgh", true, "abcdefgh", true, false), ElementsAre(0, 9));
  EXPECT_THAT(Walk(t, tag, "abcdefgh", false, "abcdefghi", false, false), ElementsAre(2, 3));
  EXPECT_THAT(Walk(t, tag, "abcdefgh", false, "abcdefgh", true, false), IsEmpty());
  EXPECT_THAT(Walk(t, tag, "abcdefghijkl", false, "abcdefghijklm", true, true),
              ElementsAre(14, 13));
  EXPECT_THAT(Walk(t, tag, "zzzzzzzzz", true, std::nullopt, true, true), ElementsAre(7, 8, 10, 11));
  EXPECT_THAT(t.index(tag)->Find(absl::string_view("abcdefgh")), ElementsAre(RowId(0), RowId(9)));
  EXPECT_THAT(t.index(tag)->Find(absl::string_view("abcdefgh\0", 9)), ElementsAre(RowId(2)));
  EXPECT_THAT(t.index(tag)->Find(absl::string_view("abcdefg")), IsEmpty());
}

// Keys that all share a long prefix: the ordered index keeps it once and
// orders by the bytes after it. Bounds outside the prefix (before it, inside
// it, after it) and keys that break it, then a rollback, all walk as the
// rows say.
TEST(StringIndexTest, CommonPrefixOfTheKeysIsKeptOnce) {
  Engine e;
  ASSERT_OK(e.CreateTable("players", TagSchema()));
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(e.Insert("players", {{"id", int64_t{i + 1}},
                                   {"tag", absl::StrCat("player-", 1000000000 + i * 7919 % 97)}})
                  .status());
  }
  const Table& t = *e.FindTable("players");
  const ColumnId tag = *t.FindColumn("tag");
  auto check = [&](const std::string& where) {
    for (const char* lo : {"", "a", "player-", "player-1", "player-100000001", "player-100000005",
                           "player-1000000050", "player-2", "q"}) {
      for (bool desc : {false, true}) {
        for (bool inc : {false, true}) {
          ASSERT_EQ(Walk(t, tag, lo, inc, std::nullopt, true, desc),
                    BruteWalk(t, tag, lo, inc, std::nullopt, true, desc))
              << where << " from " << lo;
          ASSERT_EQ(Walk(t, tag, std::nullopt, true, lo, inc, desc),
                    BruteWalk(t, tag, std::nullopt, true, lo, inc, desc))
              << where << " to " << lo;
        }
      }
    }
    ASSERT_OK(e.CheckConsistency()) << where;
  };
  ASSERT_NO_FATAL_FAILURE(check("shared prefix"));
  ASSERT_OK(e.Begin());
  ASSERT_OK(e.Insert("players", {{"id", int64_t{100}}, {"tag", "player-2"}}).status());
  ASSERT_NO_FATAL_FAILURE(check("after a key that shortens the prefix"));
  ASSERT_OK(e.Insert("players", {{"id", int64_t{101}}, {"tag", "a"}}).status());
  ASSERT_NO_FATAL_FAILURE(check("after a key with none of it"));
  ASSERT_OK(e.Rollback());
  ASSERT_NO_FATAL_FAILURE(check("after the rollback"));
  // A rebuild (a new index on the column) finds the prefix again.
  ASSERT_OK(e.CreateIndex("players", "name", IndexKind::kOrdered));
  ASSERT_OK(e.DropIndex("players", "tag", IndexKind::kOrdered));
  ASSERT_OK(e.CreateIndex("players", "tag", IndexKind::kOrdered));
  ASSERT_NO_FATAL_FAILURE(check("rebuilt"));
}

// Random inserts, updates and deletes, in transactions that commit or roll
// back, with keys chosen to tie on their prefixes and to collide on the
// unique column (a refused write must change nothing).
TEST(StringIndexTest, RandomWritesAndRollbacksKeepIndexesEqualToTheRows) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::mt19937_64 rng(seed);
    const bool shared = seed % 2 == 0;
    Engine e;
    ASSERT_OK(e.CreateTable("players", TagSchema()));
    // id → (name, tag) as committed, to check the rows themselves.
    std::map<int64_t, std::pair<std::optional<std::string>, std::optional<std::string>>> model;
    int64_t next_id = 1;
    for (int step = 0; step < 300; ++step) {
      const bool rollback = rng() % 4 == 0;
      auto before = model;
      ASSERT_OK(e.Begin());
      for (int op = 0; op < 1 + static_cast<int>(rng() % 4); ++op) {
        std::optional<std::string> name, tag;
        if (rng() % 5 != 0) name = RandomKey(rng, shared);
        if (rng() % 6 != 0) tag = RandomKey(rng, shared);
        const bool taken =
            name.has_value() && std::any_of(model.begin(), model.end(),
                                            [&](const auto& m) { return m.second.first == name; });
        const uint64_t what = rng() % 3;
        if (what == 0 || model.empty()) {
          const int64_t id = next_id++;
          absl::StatusOr<Row> r =
              e.Insert("players", {{"id", id},
                                   {"name", name.has_value() ? Value(*name) : Value()},
                                   {"tag", tag.has_value() ? Value(*tag) : Value()}});
          ASSERT_EQ(r.ok(), !taken) << seed << " " << step << " " << r.status();
          if (r.ok()) model[id] = {name, tag};
          continue;
        }
        auto it = model.begin();
        std::advance(it, rng() % model.size());
        ASSERT_OK_AND_ASSIGN(Row row, e.FindOrFail("players", it->first));
        if (what == 1) {
          const bool clash = taken && it->second.first != name;
          absl::StatusOr<bool> r =
              e.Update(row, {{"name", name.has_value() ? Value(*name) : Value()},
                             {"tag", tag.has_value() ? Value(*tag) : Value()}});
          ASSERT_EQ(r.ok(), !clash) << seed << " " << step << " " << r.status();
          if (r.ok()) it->second = {name, tag};
        } else {
          ASSERT_OK(e.Delete(row));
          model.erase(it);
        }
      }
      if (rollback) {
        ASSERT_OK(e.Rollback());
        model = std::move(before);
      } else {
        ASSERT_OK(e.Commit());
      }
      const std::string where = absl::StrCat("seed ", seed, " step ", step);
      ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, where, shared));
      const Table& t = *e.FindTable("players");
      ASSERT_EQ(t.size(), model.size()) << where;
      for (const auto& [id, cells] : model) {
        ASSERT_OK_AND_ASSIGN(Row row, e.FindOrFail("players", id));
        const std::optional<std::string>& name = cells.first;
        if (!name.has_value()) continue;
        EXPECT_THAT(t.index(*t.FindColumn("name"))->Find(absl::string_view(*name)),
                    ElementsAre(row.id()))
            << where;
      }
    }
  }
}

// Batches and index builds over thousands of rows take the bulk paths
// (a hash index's grouped build, an ordered index's radix sort by head
// with the ties sorted in full); CheckConsistency compares them with
// indexes grown row by row.
TEST(StringIndexTest, BulkBuildsMatchRowByRowIndexes) {
  std::mt19937_64 rng(7);
  Engine e;
  ASSERT_OK(e.CreateTable("players", TagSchema()));
  std::vector<int64_t> ids;
  std::vector<std::string> names, tags;
  for (int i = 0; i < 5000; ++i) {
    ids.push_back(i + 1);
    names.push_back(absl::StrCat("player-", i, RandomKey(rng)));
    tags.push_back(RandomKey(rng));
  }
  ASSERT_OK(e.InsertBatch("players",
                          RowBatch().Int64("id", ids).String("name", names).String("tag", tags))
                .status());
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after the batch"));
  // A second index built over the rows that are there.
  ASSERT_OK(
      e.AddColumn("players", ColumnSpec{.name = "nick", .type = Type::kString, .nullable = true}));
  ASSERT_OK(e.CreateIndex("players", "name", IndexKind::kOrdered));
  ASSERT_OK(e.CheckConsistency());
  const Table& t = *e.FindTable("players");
  EXPECT_EQ(t.ordered_index(*t.FindColumn("name"))->size(), 5000u);
}

// Schema changes move the columns (a vector of them is reallocated, or a
// column before the indexed ones is dropped, or a failed change restores
// a backup): the indexes must follow, and read no freed column. AddressSanitizer
// builds turn a stale binding into a failure here.
TEST(StringIndexTest, IndexesFollowTheirColumnsThroughSchemaChanges) {
  std::mt19937_64 rng(11);
  Engine e;
  ASSERT_OK(e.CreateTable("players", Schema()
                                         .Int64("id", PrimaryKey())
                                         .Int64("level")
                                         .String("name", Unique(), Nullable())
                                         .String("tag", Indexed(), Ordered(), Nullable())));
  for (int i = 0; i < 200; ++i) {
    ASSERT_OK(e.Insert("players", {{"id", int64_t{i + 1}},
                                   {"level", int64_t{i % 7}},
                                   {"name", absl::StrCat("a long player name, number ", i)},
                                   {"tag", RandomKey(rng)}})
                  .status());
  }
  for (int c = 0; c < 12; ++c) {
    ASSERT_OK(e.AddColumn(
        "players",
        ColumnSpec{.name = absl::StrCat("extra", c), .type = Type::kString, .nullable = true}));
  }
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after adding columns"));
  ASSERT_OK(e.DropColumn("players", "level"));
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after dropping a column"));
  // A change that fails part way (a name does not convert to int64) puts
  // the table back from its backup.
  EXPECT_FALSE(e.ChangeColumnType("players", "name", Type::kInt64).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after a refused type change"));
  ASSERT_OK(e.ChangeColumnType("players", "extra0", Type::kInt64));
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after a type change"));
  const Table& t = *e.FindTable("players");
  EXPECT_THAT(
      t.index(*t.FindColumn("name"))->Find(absl::string_view("a long player name, number 42")),
      ElementsAre(RowId(42)));
  ASSERT_OK(e.Update(*e.FindOrFail("players", int64_t{43}), {{"tag", "abcdefgh-moved"}}).status());
  ASSERT_NO_FATAL_FAILURE(ExpectIndexesMatchRows(e, rng, "after an update"));
}

// An ordered index of long string keys costs 16 bytes an entry plus the
// btree's overhead, whatever the keys' length (a std::string entry was 40
// bytes plus a heap block for keys over 15 bytes).
TEST(StringIndexTest, OrderedStringKeysAreNotCopiedIntoTheIndex) {
  Engine e;
  ASSERT_OK(e.CreateTable("players", TagSchema()));
  std::vector<int64_t> ids;
  std::vector<std::string> tags;
  for (int i = 0; i < 10000; ++i) {
    ids.push_back(i + 1);
    tags.push_back(absl::StrCat("a tag well past fifteen bytes, #", i));
  }
  ASSERT_OK(e.InsertBatch("players", RowBatch().Int64("id", ids).String("tag", tags)).status());
  const Table& t = *e.FindTable("players");
  EXPECT_LT(t.ordered_index(*t.FindColumn("tag"))->MemoryBytes(), 32 * tags.size());
  EXPECT_LT(t.index(*t.FindColumn("tag"))->MemoryBytes(), 100 * tags.size());
}

}  // namespace
}  // namespace kin
