// Typed query results: Query::Pluck / Columns / As / Each read the rows Get
// selects through column handles. Each test checks them against Get() and
// Row reads, the reference path.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct Entry {
  int64_t id;
  std::string name;
  std::optional<int64_t> guild;
  friend bool operator==(const Entry&, const Entry&) = default;
};

class TypedResultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable("players", Schema()
                                             .Int64("id", PrimaryKey())
                                             .String("name")
                                             .Int64("guild")
                                             .Int64("score")
                                             .Double("speed")
                                             .Bool("online", Default(false))));
    ASSERT_OK(db_.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("player_id")));
    ASSERT_OK(db_.HasMany("players", "items"));
    ASSERT_OK(db_.CreateIndex("players", "score", IndexKind::kOrdered));
    // guild is NULL for every fifth player; scores repeat.
    for (int64_t i = 1; i <= 40; ++i) {
      ASSERT_OK(db_.Insert("players", {{"id", i},
                                       {"name", "player-with-a-long-name-" + std::to_string(i)},
                                       {"guild", i % 5 == 0 ? Value() : Value(i % 3)},
                                       {"score", (i * 37) % 11},
                                       {"speed", 0.5 * static_cast<double>(i)},
                                       {"online", i % 2 == 0}})
                    .status());
    }
    ASSERT_OK_AND_ASSIGN(id_, db_.Int64Column("players", "id"));
    ASSERT_OK_AND_ASSIGN(name_, db_.StringColumn("players", "name"));
    ASSERT_OK_AND_ASSIGN(guild_, db_.Int64Column("players", "guild"));
    ASSERT_OK_AND_ASSIGN(score_, db_.Int64Column("players", "score"));
    ASSERT_OK_AND_ASSIGN(speed_, db_.DoubleColumn("players", "speed"));
    ASSERT_OK_AND_ASSIGN(online_, db_.BoolColumn("players", "online"));
    ASSERT_OK_AND_ASSIGN(item_id_, db_.Int64Column("items", "id"));
  }

  // The ids Get() returns for `q`, read through Row::GetInt64.
  std::vector<int64_t> IdsByGet(const Query& q) {
    std::vector<int64_t> out;
    absl::StatusOr<ResultSet> rows = q.Get();
    EXPECT_OK(rows.status());
    if (!rows.ok()) return out;
    for (const ResultRow& row : *rows) out.push_back(*row.GetInt64("id"));
    return out;
  }

  Database db_;
  Column<int64_t> id_, guild_, score_, item_id_;
  Column<std::string_view> name_;
  Column<double> speed_;
  Column<bool> online_;
};

TEST_F(TypedResultsTest, PluckReturnsTheCellsOfGetsRowsInItsOrder) {
  Query q =
      db_.Query("players").Where("score", ">=", 4).OrderBy("score", kDesc).Offset(3).Limit(10);
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids, q.Pluck(id_));
  EXPECT_EQ(ids, IdsByGet(q));
  EXPECT_EQ(ids.size(), 10u);

  ASSERT_OK_AND_ASSIGN(std::vector<double> speeds,
                       db_.Query("players").Where("id", 4).Pluck(speed_));
  EXPECT_THAT(speeds, ElementsAre(2.0));
  ASSERT_OK_AND_ASSIGN(std::vector<bool> online,
                       db_.Query("players").WhereIn("id", {3, 4}).Pluck(online_));
  EXPECT_THAT(online, ElementsAre(false, true));
}

TEST_F(TypedResultsTest, PluckOfNoRowsIsEmpty) {
  ASSERT_OK_AND_ASSIGN(std::vector<int64_t> ids,
                       db_.Query("players").Where("score", 99).Pluck(id_));
  EXPECT_THAT(ids, IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto items, db_.Query("items").Pluck(item_id_));
  EXPECT_THAT(items, IsEmpty());
}

TEST_F(TypedResultsTest, StringsAreCopiesThatOutliveLaterWrites) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names,
                       db_.Query("players").WhereIn("id", {1, 2}).Pluck(name_));
  ASSERT_OK_AND_ASSIGN(Row one, db_.FindOrFail("players", 1));
  ASSERT_OK(db_.Update(one, {{"name", std::string(200, 'x')}}));
  ASSERT_OK(db_.Delete(*db_.FindOrFail("players", 2)));
  EXPECT_THAT(names, ElementsAre("player-with-a-long-name-1", "player-with-a-long-name-2"));

  ASSERT_OK(db_.Update(*db_.FindOrFail("players", 3), {{"name", nullptr}}));
  ASSERT_OK_AND_ASSIGN(std::vector<std::optional<std::string>> maybe,
                       db_.Query("players").WhereIn("id", {1, 3}).Pluck(Nullable(name_)));
  EXPECT_THAT(maybe, ElementsAre(std::string(200, 'x'), std::nullopt));
}

TEST_F(TypedResultsTest, ColumnsReturnsOneVectorPerHandle) {
  Query q = db_.Query("players").Where("online", true).OrderBy("speed", kDesc).Limit(3);
  ASSERT_OK_AND_ASSIGN(auto columns, q.Columns(id_, speed_, online_));
  const auto& [ids, speeds, online] = columns;
  EXPECT_THAT(ids, ElementsAre(40, 38, 36));
  EXPECT_THAT(speeds, ElementsAre(20.0, 19.0, 18.0));
  EXPECT_THAT(online, ElementsAre(true, true, true));
}

TEST_F(TypedResultsTest, AsBuildsOneStructPerRowWithNullsAsNullopt) {
  ASSERT_OK_AND_ASSIGN(
      std::vector<Entry> entries,
      db_.Query("players").WhereBetween("id", 4, 6).As<Entry>(id_, name_, Nullable(guild_)));
  EXPECT_THAT(entries, ElementsAre(Entry{4, "player-with-a-long-name-4", 1},
                                   Entry{5, "player-with-a-long-name-5", std::nullopt},
                                   Entry{6, "player-with-a-long-name-6", 0}));
}

TEST_F(TypedResultsTest, ANullThroughAPlainHandleIsRefusedNamingTheColumn) {
  const std::string before = db_.DebugString();
  Query q = db_.Query("players").WhereBetween("id", 4, 6);
  EXPECT_THAT(q.Pluck(guild_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("players.guild: value is NULL in a selected row")));
  EXPECT_THAT(q.Columns(id_, guild_), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("players.guild: value is NULL")));
  struct Pair {
    int64_t id;
    int64_t guild;
  };
  EXPECT_THAT(q.As<Pair>(id_, guild_), StatusIs(absl::StatusCode::kInvalidArgument,
                                                HasSubstr("players.guild: value is NULL")));
  ASSERT_OK_AND_ASSIGN(std::vector<std::optional<int64_t>> guilds, q.Pluck(Nullable(guild_)));
  EXPECT_THAT(guilds, ElementsAre(1, std::nullopt, 0));
  // Filtering the NULLs out makes the plain handle fine.
  ASSERT_OK_AND_ASSIGN(
      std::vector<int64_t> known,
      db_.Query("players").WhereBetween("id", 4, 6).WhereNotNull("guild").Pluck(guild_));
  EXPECT_THAT(known, ElementsAre(1, 0));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(TypedResultsTest, EachVisitsTheSelectedRowsInOrderSkippingNulls) {
  Query q = db_.Query("players").Where("score", "<", 5).OrderBy("score").OrderBy("id", kDesc);
  ASSERT_OK_AND_ASSIGN(auto range, q.Each(id_, guild_));
  std::vector<std::tuple<int64_t, int64_t>> seen;
  for (auto [row, id, guild] : range) {
    EXPECT_EQ(*row.GetInt64("id"), id);
    seen.emplace_back(id, guild);
  }
  std::vector<std::tuple<int64_t, int64_t>> expected;
  for (int64_t id : IdsByGet(q)) {
    if (id % 5 != 0) expected.emplace_back(id, id % 3);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(range.selected(), IdsByGet(q).size());
}

TEST_F(TypedResultsTest, EachSkipsRowsDeletedDuringTheLoopEvenWhenTheirSlotIsReused) {
  ASSERT_OK_AND_ASSIGN(auto range,
                       db_.Query("players").WhereIn("id", {1, 2, 3, 4}).Each(id_, score_));
  std::vector<int64_t> seen;
  for (auto [row, id, score] : range) {
    seen.push_back(id);
    if (id == 1) {
      // Delete a row ahead and insert one that reuses its slot; update the
      // current row: the loop reads current cells and never the new row.
      ASSERT_OK(db_.Delete(*db_.FindOrFail("players", 3)));
      ASSERT_OK(db_.Insert("players", {{"id", 100}, {"name", "new"}, {"score", 1}}).status());
      ASSERT_OK(db_.Set(row, score_, score + 1000));
    }
    if (id == 2) {
      EXPECT_EQ(*score_.Get(*db_.FindOrFail("players", 1)), (1 * 37) % 11 + 1000);
    }
  }
  EXPECT_THAT(seen, ElementsAre(1, 2, 4));
}

TEST_F(TypedResultsTest, EachEndsWhenTheTableIsDropped) {
  ASSERT_OK_AND_ASSIGN(auto range, db_.Query("items").Each(item_id_));
  ASSERT_OK(db_.Insert("items", {{"id", 1}, {"player_id", 1}}).status());
  ASSERT_OK(db_.Insert("items", {{"id", 2}, {"player_id", 1}}).status());
  ASSERT_OK_AND_ASSIGN(auto two, db_.Query("items").Each(item_id_));
  int visited = 0;
  for (auto [row, id] : two) {
    EXPECT_EQ(id, 1);
    ++visited;
    ASSERT_OK(db_.DropTable("items"));
  }
  EXPECT_EQ(visited, 1);
  EXPECT_EQ(range.begin(), range.end());
}

TEST_F(TypedResultsTest, HandlesMustBeOfTheQueriedTableAndDatabase) {
  const std::string before = db_.DebugString();
  EXPECT_THAT(db_.Query("players").Pluck(item_id_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Pluck on 'players': column items.id is of another table than "
                                 "'players'")));
  Database other;
  ASSERT_OK(other.CreateTable("players", Schema().Int64("id", PrimaryKey())));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> other_id, other.Int64Column("players", "id"));
  EXPECT_THAT(db_.Query("players").Columns(id_, other_id),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("players.id: column of another database")));
  EXPECT_THAT(db_.Query("players").Each(Column<int64_t>()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("empty column handle")));
  EXPECT_EQ(db_.DebugString(), before);
}

TEST_F(TypedResultsTest, AStaleHandleIsRefusedAfterTheTableIsRecreated) {
  ASSERT_OK(db_.DropTable("items"));
  ASSERT_OK(db_.CreateTable("items", Schema().Int64("id", PrimaryKey())));
  EXPECT_THAT(
      db_.Query("items").Pluck(item_id_),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("items.id: stale column handle")));
}

TEST_F(TypedResultsTest, BadQueriesAreRefusedAsGetRefusesThem) {
  EXPECT_THAT(db_.Query("nope").Pluck(id_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db_.Query("players").Where("nope", 1).Pluck(id_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nope")));
  EXPECT_THAT(db_.Query("players").Preload("items").Pluck(id_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Pluck")));
  EXPECT_THAT(db_.Query("players").WithCount("items").Each(id_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Each")));
  EXPECT_THAT(db_.Query("players").Max("score").Pluck(id_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Aggregate()")));
  EXPECT_THAT(db_.Query("players").Limit(-1).Pluck(id_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TypedResultsTest, AHandleOutsideTheSelectIsRefused) {
  ASSERT_OK_AND_ASSIGN(auto ids,
                       db_.Query("players").Select("id", "score").Where("id", 7).Pluck(id_));
  EXPECT_THAT(ids, ElementsAre(7));
  EXPECT_THAT(db_.Query("players").Select("id", "score").Columns(id_, name_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("column 'name' was not selected (selected: id, score)")));
}

TEST_F(TypedResultsTest, TypedResultsAreRefusedInsideACallback) {
  absl::Status inner;
  absl::StatusOr<ResultSet> rows =
      db_.Query("players")
          .WhereHas("items", [&](Query& q) { inner = q.Pluck(item_id_).status(); })
          .Get();
  EXPECT_THAT(inner, StatusIs(absl::StatusCode::kFailedPrecondition,
                              HasSubstr("Pluck is not allowed in a WhereHas callback")));
}

// Random queries (fixed seed): Pluck and Each agree with Get and Row reads,
// on indexed and scanned paths, with writes in between.
TEST_F(TypedResultsTest, RandomQueriesAgreeWithGet) {
  std::mt19937 rng(20261205);
  auto pick = [&](int n) { return static_cast<int64_t>(rng() % static_cast<uint32_t>(n)); };
  for (int round = 0; round < 300; ++round) {
    if (round % 10 == 0) {
      ASSERT_OK(db_.Insert("players", {{"id", 1000 + round}, {"name", "r"}, {"score", pick(11)}})
                    .status());
      absl::StatusOr<Row> victim = db_.FindOrFail("players", 1 + pick(40));
      if (victim.ok()) {
        ASSERT_OK(db_.Delete(*victim));
      }
    }
    Query q = db_.Query("players");
    switch (pick(4)) {
      case 0:
        q.Where("score", pick(11));
        break;
      case 1:
        q.WhereBetween("score", pick(6), 5 + pick(6));
        break;
      case 2:
        q.Where("online", pick(2) == 0);
        break;
      default:
        break;
    }
    if (pick(2) == 0) q.OrderBy("score", pick(2) == 0 ? kAsc : kDesc).OrderBy("id");
    if (pick(2) == 0) q.Limit(pick(8)).Offset(pick(4));
    std::vector<int64_t> expected = IdsByGet(q);
    ASSERT_OK_AND_ASSIGN(std::vector<int64_t> plucked, q.Pluck(id_));
    EXPECT_EQ(plucked, expected) << round;
    ASSERT_OK_AND_ASSIGN(auto range, q.Each(id_));
    std::vector<int64_t> each;
    for (auto [row, id] : range) each.push_back(id);
    EXPECT_EQ(each, expected) << round;
  }
}

}  // namespace
}  // namespace kin::test
