// The commit feed (kin/change.h): Database::OnCommit delivers each committed
// transaction's row changes, in order, with old and new values; never for
// rolled-back work.

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/kin.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/value_text.h"

namespace kin::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A change flattened for comparison: "insert players 1 {name=ann score=5}".
std::string Describe(const RowChange& c) {
  static constexpr const char* kKinds[] = {"insert", "update", "delete"};
  std::string out =
      absl::StrCat(kKinds[c.kind], " ", std::string(c.table), " ", ValueText(c.key), " {");
  for (const CellChange& cell : c.cells) {
    if (cell.name == "id") continue;
    absl::StrAppend(&out, out.back() == '{' ? "" : " ", std::string(cell.name), "=");
    if (c.kind == RowChange::kUpdate) absl::StrAppend(&out, ValueText(cell.old_value), "->");
    absl::StrAppend(&out,
                    ValueText(c.kind == RowChange::kDelete ? cell.old_value : cell.new_value));
  }
  return out + "}";
}

class CommitFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(db_.CreateTable(
        "players",
        Schema().Int64("id", PrimaryKey()).String("name", Unique()).Int64("score", Default(0))));
    ASSERT_OK(db_.CreateTable(
        "items", Schema().Int64("id", PrimaryKey()).Int64("player_id", Nullable()).String("kind")));
    ASSERT_OK(db_.HasMany("players", "items", {.on_delete = OnDelete::kCascade}));
    listener_ = db_.OnCommit([this](const Commit& commit) {
      sequences_.push_back(commit.sequence);
      std::vector<std::string> changes;
      for (const RowChange& c : commit.changes) changes.push_back(Describe(c));
      commits_.push_back(std::move(changes));
    });
  }

  Row Player(const std::string& name, int64_t score) {
    absl::StatusOr<Row> row = db_.Insert("players", {{"name", name}, {"score", score}});
    EXPECT_OK(row.status());
    return *row;
  }

  Database db_;
  uint64_t listener_ = 0;
  std::vector<uint64_t> sequences_;
  std::vector<std::vector<std::string>> commits_;
};

TEST_F(CommitFeedTest, AWriteOutsideATransactionIsOneCommit) {
  Row ann = Player("ann", 5);
  ASSERT_OK(db_.Update(ann, {{"score", 7}}));
  ASSERT_OK(db_.Delete(ann));
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("insert players 1 {name=\"ann\" score=5}"),
                                    ElementsAre("update players 1 {score=5->7}"),
                                    ElementsAre("delete players 1 {name=\"ann\" score=7}")));
  EXPECT_THAT(sequences_, ElementsAre(1, 2, 3));
}

TEST_F(CommitFeedTest, ATransactionIsDeliveredOnceAtItsTopLevelCommit) {
  ASSERT_OK(db_.Begin());
  Row ann = Player("ann", 1);
  ASSERT_OK(db_.Update(ann, {{"score", 2}}));
  ASSERT_OK(db_.Begin());  // a savepoint that commits: part of the transaction
  ASSERT_OK(db_.Update(ann, {{"score", 3}}));
  ASSERT_OK(db_.Commit());
  EXPECT_THAT(commits_, IsEmpty());
  ASSERT_OK(db_.Commit());
  // Each write with the values it saw: the insert's score is 1, not the
  // final 3.
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("insert players 1 {name=\"ann\" score=1}",
                                                "update players 1 {score=1->2}",
                                                "update players 1 {score=2->3}")));
}

TEST_F(CommitFeedTest, RolledBackWorkNeverReachesTheFeed) {
  ASSERT_OK(db_.Begin());
  Player("ann", 1);
  ASSERT_OK(db_.Rollback());
  EXPECT_THAT(commits_, IsEmpty());

  ASSERT_OK(db_.Begin());
  Row bob = Player("bob", 1);
  ASSERT_OK(db_.Begin());
  ASSERT_OK(db_.Update(bob, {{"score", 50}}));
  Player("cyd", 2);
  ASSERT_OK(db_.Rollback());  // the savepoint's writes are gone
  ASSERT_OK(db_.Update(bob, {{"score", 9}}));
  ASSERT_OK(db_.Commit());
  // ann's rollback gave back her id too: bob is 1.
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("insert players 1 {name=\"bob\" score=1}",
                                                "update players 1 {score=1->9}")));

  // A failed Atomically and a failed write deliver nothing either.
  EXPECT_THAT(db_.Atomically([&] {
    Player("dee", 4);
    return absl::AbortedError("changed my mind");
  }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(db_.Insert("players", {{"name", "bob"}}).status(),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(commits_.size(), 1u);
  EXPECT_THAT(sequences_, ElementsAre(1));
}

TEST_F(CommitFeedTest, AnUpdateThatChangesNothingIsNotACommit) {
  Row ann = Player("ann", 5);
  ASSERT_OK(db_.Update(ann, {{"score", 5}}));
  ASSERT_OK_AND_ASSIGN(Column<int64_t> score, db_.Int64Column("players", "score"));
  ASSERT_OK(db_.Set(ann, score, 5));
  ASSERT_OK(db_.Begin());
  ASSERT_OK(db_.Commit());  // an empty transaction
  EXPECT_EQ(commits_.size(), 1u);
  // Set is an update like any other.
  ASSERT_OK(db_.Set(ann, score, 6));
  EXPECT_THAT(commits_.back(), ElementsAre("update players 1 {score=5->6}"));
}

TEST_F(CommitFeedTest, CascadesAreChangesOfTheSameCommit) {
  Row ann = Player("ann", 1);
  ASSERT_OK(db_.Insert("items", {{"player_id", 1}, {"kind", "sword"}}).status());
  ASSERT_OK(db_.Insert("items", {{"player_id", 1}, {"kind", "shield"}}).status());
  ASSERT_OK(db_.Insert("items", {{"player_id", Value()}, {"kind", "rock"}}).status());
  commits_.clear();
  ASSERT_OK(db_.Delete(ann));
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("delete players 1 {name=\"ann\" score=1}",
                                                "delete items 1 {player_id=1 kind=\"sword\"}",
                                                "delete items 2 {player_id=1 kind=\"shield\"}")));
}

TEST_F(CommitFeedTest, AReusedSlotShowsTheDeleteThenTheInsert) {
  Row ann = Player("ann", 1);
  commits_.clear();
  ASSERT_OK(db_.Begin());
  ASSERT_OK(db_.Delete(ann));
  Row bob = Player("bob", 2);
  ASSERT_OK(db_.Update(bob, {{"score", 3}}));
  ASSERT_OK(db_.Commit());
  EXPECT_EQ(bob.id(), ann.id());  // the slot was reused
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("delete players 1 {name=\"ann\" score=1}",
                                                "insert players 2 {name=\"bob\" score=2}",
                                                "update players 2 {score=2->3}")));
}

TEST_F(CommitFeedTest, InsertBatchAndInsertManyListEveryRow) {
  RowBatch batch;
  batch.String("name", {"a", "b", "c"}).Int64("score", {1, 2, 3});
  ASSERT_OK(db_.InsertBatch("players", std::move(batch)).status());
  ASSERT_OK(db_.InsertMany("players", {{{"name", "d"}}, {{"name", "e"}, {"score", 9}}}).status());
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("insert players 1 {name=\"a\" score=1}",
                                                "insert players 2 {name=\"b\" score=2}",
                                                "insert players 3 {name=\"c\" score=3}"),
                                    ElementsAre("insert players 4 {name=\"d\" score=0}",
                                                "insert players 5 {name=\"e\" score=9}")));
}

TEST_F(CommitFeedTest, ABatchRowWrittenAgainShowsTheBatchValues) {
  ASSERT_OK(db_.Begin());
  RowBatch batch;
  batch.String("name", {"a", "b"}).Int64("score", {1, 2});
  ASSERT_OK(db_.InsertBatch("players", std::move(batch)).status());
  ASSERT_OK_AND_ASSIGN(Row b, db_.FindOrFail("players", 2));
  ASSERT_OK(db_.Update(b, {{"score", 20}}));
  ASSERT_OK(db_.Commit());
  EXPECT_THAT(commits_, ElementsAre(ElementsAre("insert players 1 {name=\"a\" score=1}",
                                                "insert players 2 {name=\"b\" score=2}",
                                                "update players 2 {score=2->20}")));
}

// A bulk-appended row is read from the table at commit (through the later
// writes' old values); a row inserted one at a time into its freed slot
// brings its own values: neither may see the other's.
TEST_F(CommitFeedTest, AnAppendedRowsSlotReusedByAnInsertKeepsEachRowsValues) {
  ASSERT_OK(db_.Begin());
  RowBatch batch;
  batch.String("name", {"a", "b"}).Int64("score", {1, 2});
  ASSERT_OK(db_.InsertBatch("players", std::move(batch)).status());
  ASSERT_OK_AND_ASSIGN(Row b, db_.FindOrFail("players", 2));
  ASSERT_OK(db_.Delete(b));
  Row c = Player("c", 7);  // takes b's slot
  ASSERT_OK(db_.Update(c, {{"score", 8}}));
  ASSERT_OK(db_.Commit());
  EXPECT_EQ(c.id(), b.id());
  EXPECT_THAT(commits_,
              ElementsAre(ElementsAre(
                  "insert players 1 {name=\"a\" score=1}", "insert players 2 {name=\"b\" score=2}",
                  "delete players 2 {name=\"b\" score=2}", "insert players 3 {name=\"c\" score=7}",
                  "update players 3 {score=7->8}")));
}

// A savepoint rolled back drops its writes' recorded values; the writes
// after it record theirs in the same place, and the commit shows only them.
TEST_F(CommitFeedTest, WritesAfterAnInnerRollbackShowTheirOwnValues) {
  ASSERT_OK(db_.Begin());
  Row a = Player("a", 1);
  ASSERT_OK(db_.Begin());
  Player("b", 2);
  ASSERT_OK(db_.Update(a, {{"score", 5}}));
  ASSERT_OK(db_.Delete(a));
  ASSERT_OK(db_.Rollback());
  Row c = Player("c", 3);  // the rolled-back insert's slot and key
  ASSERT_OK(db_.Update(a, {{"score", 6}}));
  ASSERT_OK(db_.Update(c, {{"name", "cc"}}));
  ASSERT_OK(db_.Commit());
  EXPECT_THAT(commits_,
              ElementsAre(ElementsAre(
                  "insert players 1 {name=\"a\" score=1}", "insert players 2 {name=\"c\" score=3}",
                  "update players 1 {score=1->6}", "update players 2 {name=\"c\"->\"cc\"}")));
}

TEST_F(CommitFeedTest, ARowWrittenManyTimesShowsEachWriteWithItsOwnValues) {
  ASSERT_OK(db_.Begin());
  Row cat = Player("cat", 1);
  ASSERT_OK(db_.Update(cat, {{"score", 2}}));
  ASSERT_OK(db_.Update(cat, {{"name", "kat"}, {"score", 3}}));
  Row eve = Player("eve", 10);
  ASSERT_OK(db_.Delete(cat));
  Row dan = Player("dan", 4);  // reuses cat's slot
  ASSERT_OK(db_.Update(dan, {{"score", 5}}));
  ASSERT_OK(db_.Update(eve, {{"score", 11}}));
  ASSERT_OK(db_.Commit());
  EXPECT_EQ(dan.id(), cat.id());
  // Then smaller commits, which the engine builds in the first one's
  // buffers: nothing of it may show through.
  ASSERT_OK(db_.Update(dan, {{"score", 6}}));
  ASSERT_OK(db_.Delete(eve));
  EXPECT_THAT(
      commits_,
      ElementsAre(
          ElementsAre("insert players 1 {name=\"cat\" score=1}", "update players 1 {score=1->2}",
                      "update players 1 {name=\"cat\"->\"kat\" score=2->3}",
                      "insert players 2 {name=\"eve\" score=10}",
                      "delete players 1 {name=\"kat\" score=3}",
                      "insert players 3 {name=\"dan\" score=4}", "update players 3 {score=4->5}",
                      "update players 2 {score=10->11}"),
          ElementsAre("update players 3 {score=5->6}"),
          ElementsAre("delete players 2 {name=\"eve\" score=11}")));
}

TEST_F(CommitFeedTest, EachChangeNamesItsColumnsAndRow) {
  Row ann = Player("ann", 5);
  const Commit* seen = nullptr;
  Commit copy;
  db_.OnCommit([&](const Commit& c) {
    copy = c;
    seen = &copy;
  });
  ASSERT_OK(db_.Update(ann, {{"score", 6}, {"name", "anna"}}));
  ASSERT_NE(seen, nullptr);
  ASSERT_EQ(copy.changes.size(), 1u);
  const RowChange& change = copy.changes[0];
  EXPECT_EQ(change.kind, RowChange::kUpdate);
  EXPECT_EQ(change.row, ann.id());
  EXPECT_EQ(change.key, Value(int64_t{1}));
  ASSERT_NE(change.Find("name"), nullptr);
  EXPECT_EQ(change.Find("name")->old_value, Value("ann"));
  EXPECT_EQ(change.Find("name")->new_value, Value("anna"));
  EXPECT_EQ(change.Find("score")->column, ColumnId(2));
  EXPECT_EQ(change.Find("id"), nullptr);  // unchanged columns are not listed
}

TEST_F(CommitFeedTest, AListenerThatWritesMakesTheNextCommit) {
  // Two listeners; the first writes an audit row for every players change.
  ASSERT_OK(db_.CreateTable("audit", Schema().Int64("id", PrimaryKey()).Int64("seq")));
  std::vector<std::string> order;
  db_.OnCommit([&](const Commit& c) {
    order.push_back(absl::StrCat("writer sees ", c.sequence));
    if (c.changes.front().table == "players") {
      ASSERT_OK(db_.Insert("audit", {{"seq", static_cast<int64_t>(c.sequence)}}).status());
    }
  });
  db_.OnCommit([&](const Commit& c) { order.push_back(absl::StrCat("reader sees ", c.sequence)); });
  Player("ann", 1);
  // Commit 2 (the audit insert) reaches every listener after commit 1 did.
  EXPECT_THAT(order,
              ElementsAre("writer sees 1", "reader sees 1", "writer sees 2", "reader sees 2"));
  EXPECT_THAT(commits_.back(), ElementsAre("insert audit 1 {seq=1}"));
}

TEST_F(CommitFeedTest, RemovingListeners) {
  EXPECT_THAT(db_.RemoveCommitListener(999),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("999")));
  absl::Status inside;
  const uint64_t id = db_.OnCommit([&](const Commit&) { inside = db_.RemoveCommitListener(1); });
  Player("ann", 1);
  EXPECT_THAT(inside, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("inside a commit listener")));
  ASSERT_OK(db_.RemoveCommitListener(id));
  ASSERT_OK(db_.RemoveCommitListener(listener_));
  Player("bob", 1);
  EXPECT_EQ(commits_.size(), 1u);
  EXPECT_THAT(db_.RemoveCommitListener(listener_), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CommitFeedTest, ListenersMoveWithTheDatabase) {
  Database moved = std::move(db_);
  ASSERT_OK(moved.Insert("players", {{"name", "ann"}}).status());
  EXPECT_EQ(commits_.size(), 1u);
}

// Replaying the feed onto a copy of the schema (without foreign keys: the
// cascades are in the feed) reproduces the data: every old and new value
// in it is right. Random writes, transactions, savepoints and rollbacks,
// fixed seeds.
class CommitFeedReplayTest : public ::testing::TestWithParam<int> {};

std::map<int64_t, std::string> Contents(Database& db, const std::string& table) {
  std::map<int64_t, std::string> out;
  absl::StatusOr<ResultSet> rows = db.Query(table).Get();
  EXPECT_OK(rows.status());
  for (const ResultRow& r : *rows) {
    std::string line;
    for (const char* c : {"name", "score", "player_id", "kind"}) {
      absl::StatusOr<Value> v = r.Get(c);
      if (v.ok()) absl::StrAppend(&line, c, "=", ValueText(*v), " ");
    }
    out[*r.GetInt64("id")] = line;
  }
  return out;
}

absl::Status Replay(Database& db, const RowChange& c) {
  Attrs attrs;
  for (const CellChange& cell : c.cells) attrs.emplace_back(std::string(cell.name), cell.new_value);
  switch (c.kind) {
    case RowChange::kInsert:
      return db.Insert(c.table, attrs).status();
    case RowChange::kUpdate: {
      Value key_before = c.key;
      if (const CellChange* id = c.Find("id")) key_before = id->old_value;
      KIN_ASSIGN_OR_RETURN(Row row, db.FindOrFail(c.table, key_before));
      return db.Update(row, attrs).status();
    }
    case RowChange::kDelete: {
      KIN_ASSIGN_OR_RETURN(Row row, db.FindOrFail(c.table, c.key));
      return db.Delete(row);
    }
  }
  return absl::InternalError("unknown change kind");
}

TEST_P(CommitFeedReplayTest, ReplayingTheFeedReproducesTheData) {
  auto declare = [](Database& db, bool relations) {
    ASSERT_OK(db.CreateTable(
        "players",
        Schema().Int64("id", PrimaryKey()).String("name", Nullable()).Int64("score", Default(0))));
    ASSERT_OK(db.CreateTable(
        "items", Schema().Int64("id", PrimaryKey()).Int64("player_id", Nullable()).String("kind")));
    if (relations) {
      ASSERT_OK(db.HasMany("players", "items", {.on_delete = OnDelete::kCascade}));
    } else {
      ASSERT_OK(db.CreateIndex("items", "player_id"));
    }
  };
  Database live, replica;
  declare(live, true);
  declare(replica, false);
  std::vector<Commit> feed;
  live.OnCommit([&](const Commit& c) { feed.push_back(c); });

  std::mt19937 rng(GetParam());
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  auto random_row = [&](const char* table) -> std::optional<Row> {
    std::vector<int64_t> ids;
    for (const auto& [id, line] : Contents(live, table)) ids.push_back(id);
    if (ids.empty()) return std::nullopt;
    return live.FindOrFail(table, ids[pick(static_cast<int>(ids.size()))]).value();
  };
  auto write = [&]() -> absl::Status {
    switch (pick(6)) {
      case 0:
      case 1:
        return live
            .Insert("players", {{"name", pick(4) == 0 ? Value() : Value(absl::StrCat("p", rng()))},
                                {"score", pick(100)}})
            .status();
      case 2: {
        std::optional<Row> p = random_row("players");
        if (!p) return absl::OkStatus();
        return live.Insert("items", {{"player_id", *p->GetInt64("id")}, {"kind", "k"}}).status();
      }
      case 3: {
        std::optional<Row> p = random_row("players");
        if (!p) return absl::OkStatus();
        return live.Update(*p, {{"score", pick(100)}, {"name", absl::StrCat("u", pick(50))}})
            .status();
      }
      case 4: {
        std::optional<Row> p = random_row("players");
        return p ? live.Delete(*p) : absl::OkStatus();
      }
      default: {
        std::optional<Row> i = random_row("items");
        return i ? live.Delete(*i) : absl::OkStatus();
      }
    }
  };
  for (int step = 0; step < 300; ++step) {
    const int mode = pick(4);
    if (mode == 0) {
      (void)write();  // outside a transaction (a duplicate name fails: fine)
      continue;
    }
    ASSERT_OK(live.Begin());
    for (int i = pick(6); i > 0; --i) (void)write();
    if (mode == 1) {
      ASSERT_OK(live.Begin());
      for (int i = pick(4); i > 0; --i) (void)write();
      ASSERT_OK(pick(2) == 0 ? live.Rollback() : live.Commit());
    }
    ASSERT_OK(mode == 2 ? live.Rollback() : live.Commit());
  }
  ASSERT_GT(feed.size(), 50u);
  for (size_t i = 0; i < feed.size(); ++i) {
    ASSERT_EQ(feed[i].sequence, i + 1);
    for (const RowChange& c : feed[i].changes) ASSERT_OK(Replay(replica, c)) << Describe(c);
  }
  EXPECT_EQ(Contents(replica, "players"), Contents(live, "players"));
  EXPECT_EQ(Contents(replica, "items"), Contents(live, "items"));
}

INSTANTIATE_TEST_SUITE_P(Seeds, CommitFeedReplayTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace kin::test
