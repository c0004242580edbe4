// Random misuse with fixed seeds: two databases whose handles get mixed,
// tables dropped and re-created under live handles and results, scoped and
// raw transactions opened and closed in random order. Every call must return
// OK or a clear error (a known code, a message), an error must leave both
// databases exactly as they were (DebugString), every index must stay
// consistent, and enforced foreign keys must hold. Run under ASan+UBSan by
// .ci/run, where any read of freed or foreign memory fails the test.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "tests/testing/status_matchers.h"

namespace kin::test {
namespace {

class MisuseRun {
 public:
  explicit MisuseRun(uint32_t seed) : rng_(seed) {
    for (Database& db : dbs_) Create(db);
  }

  void Step(int step) {
    step_ = step;
    const int op = Pick(100);
    if (op < 14) {
      Insert();
    } else if (op < 24) {
      UpdateSomeRow();
    } else if (op < 30) {
      DeleteSomeRow();
    } else if (op < 46) {
      RelationOp();
    } else if (op < 54) {
      QueryAndKeep();
    } else if (op < 62) {
      ReadKept();
    } else if (op < 80) {
      TransactionOp();
    } else if (op < 84) {
      DropAndRecreate();
    } else {
      AtomicallyOp();
    }
    for (Database& db : dbs_) {
      ASSERT_OK(db.CheckConsistency()) << Where();
      CheckForeignKeys(db);
    }
  }

  void Finish() {
    while (!txs_.empty()) {
      txs_.pop_back();  // destructors roll back whatever is left
    }
    for (Database& db : dbs_) {
      while (db.transaction_depth() > 0) {
        ASSERT_OK(db.Rollback()) << Where();
      }
    }
  }

  int calls() const { return calls_; }
  int errors() const { return errors_; }

 private:
  struct OpenTx {
    int db;
    std::unique_ptr<Transaction> tx;
  };

  static void Create(Database& db) {
    ASSERT_OK(db.CreateTable("users", Schema().Int64("id", PrimaryKey()).Int64("score")));
    ASSERT_OK(db.CreateTable("posts",
                             Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title")));
    ASSERT_OK(db.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}));
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Database& AnyDb() { return dbs_[Pick(2)]; }
  std::string Where() const { return absl::StrCat("step ", step_); }

  // A handle from anywhere: either database, live or stale, or empty.
  Row AnyRow() {
    if (rows_.empty() || Pick(20) == 0) return Row();
    return rows_[static_cast<size_t>(Pick(static_cast<int>(rows_.size())))];
  }
  void Keep(const Row& row) {
    if (rows_.size() < 200) {
      rows_.push_back(row);
    } else {
      rows_[static_cast<size_t>(Pick(200))] = row;
    }
  }

  // Runs `call` on `db` and checks the contract: OK, or a known error code
  // with a message and both databases unchanged.
  template <typename Call>
  void Check(Call&& call) {
    const std::string before0 = dbs_[0].DebugString();
    const std::string before1 = dbs_[1].DebugString();
    const int depth0 = dbs_[0].transaction_depth();
    const int depth1 = dbs_[1].transaction_depth();
    absl::Status s = call();
    ++calls_;
    if (s.ok()) return;
    ++errors_;
    EXPECT_THAT(
        s.code(),
        ::testing::AnyOf(absl::StatusCode::kInvalidArgument, absl::StatusCode::kFailedPrecondition,
                         absl::StatusCode::kNotFound, absl::StatusCode::kAlreadyExists))
        << Where() << ": " << s;
    EXPECT_FALSE(s.message().empty()) << Where();
    EXPECT_EQ(dbs_[0].DebugString(), before0) << Where() << ": " << s;
    EXPECT_EQ(dbs_[1].DebugString(), before1) << Where() << ": " << s;
    EXPECT_EQ(dbs_[0].transaction_depth(), depth0) << Where() << ": " << s;
    EXPECT_EQ(dbs_[1].transaction_depth(), depth1) << Where() << ": " << s;
  }

  void Insert() {
    Database& db = AnyDb();
    if (Pick(2) == 0) {
      Check([&]() -> absl::Status {
        absl::StatusOr<Row> r = db.Insert("users", {{"score", Pick(10)}});
        if (r.ok()) Keep(*r);
        return r.status();
      });
    } else {
      const Value owner = Pick(5) == 0 ? Value() : Value(int64_t{1 + Pick(12)});
      Check([&]() -> absl::Status {
        absl::StatusOr<Row> r = db.Insert("posts", {{"user_id", owner}, {"title", "t"}});
        if (r.ok()) Keep(*r);
        return r.status();
      });
    }
  }

  void UpdateSomeRow() {
    Database& db = AnyDb();
    Row row = AnyRow();
    const int what = Pick(3);
    Check([&]() -> absl::Status {
      if (what == 0) return db.Update(row, {{"score", Pick(10)}}).status();
      if (what == 1) return db.Update(row, {{"user_id", int64_t{1 + Pick(12)}}}).status();
      return db.Update(row, {{"id", int64_t{1 + Pick(20)}}}).status();
    });
  }

  void DeleteSomeRow() {
    Database& db = AnyDb();
    Row row = AnyRow();
    Check([&] { return db.Delete(row); });
  }

  void RelationOp() {
    Database& db = AnyDb();
    Row parent = AnyRow();
    Row other = AnyRow();
    const int what = Pick(9);
    Check([&]() -> absl::Status {
      RelationHandle posts = db.Related(parent, "posts");
      switch (what) {
        case 0: {
          absl::StatusOr<Row> r = posts.Create({{"title", "c"}});
          if (r.ok()) Keep(*r);
          return r.status();
        }
        case 1:
          return posts.Add(other).status();
        case 2:
          return posts.Remove(other).status();
        case 3:
          return posts.Set({other}).status();
        case 4:
          return posts.Get().status();
        case 5:
          return posts.Count().status();
        case 6:
          return posts.Update({{"title", "u"}}).status();
        case 7:
          return db.Related(parent, "user").Associate(other);
        default:
          return posts.Delete().status();
      }
    });
  }

  void QueryAndKeep() {
    Database& db = AnyDb();
    Check([&]() -> absl::Status {
      absl::StatusOr<ResultSet> users = db.Query("users").Preload("posts").WithCount("posts").Get();
      if (!users.ok()) return users.status();
      for (const ResultRow& u : *users) {
        if (kept_.size() < 50) kept_.push_back(u);  // copies outlive the set
      }
      if (Pick(2) == 0) sets_.push_back(std::move(*users));
      if (sets_.size() > 5) sets_.erase(sets_.begin());
      return absl::OkStatus();
    });
  }

  // Reads kept result rows and sets; they may be stale, never wild.
  void ReadKept() {
    for (const ResultRow& u : kept_) {
      absl::StatusOr<int64_t> id = u.GetInt64("id");
      if (!id.ok()) {
        EXPECT_EQ(id.status().code(), absl::StatusCode::kFailedPrecondition) << Where();
      }
      absl::StatusOr<std::span<const ResultRow>> kids = u.Preloaded("posts");
      ASSERT_OK(kids.status()) << Where();
      for (const ResultRow& k : *kids) (void)k.DebugString();
      ASSERT_OK(u.Extra("posts_count").status()) << Where();
    }
    for (const ResultSet& set : sets_) (void)set.DebugString();
    if (Pick(4) == 0) kept_.clear();
  }

  void TransactionOp() {
    const int what = Pick(6);
    if (what == 0 || txs_.empty()) {
      const int d = Pick(2);
      txs_.push_back({d, std::make_unique<Transaction>(dbs_[d])});
      return;
    }
    const size_t i = static_cast<size_t>(Pick(static_cast<int>(txs_.size())));
    Transaction& tx = *txs_[i].tx;
    switch (what) {
      case 1:
      case 2:
        Check([&] { return tx.Commit(); });
        break;
      case 3:
        Check([&] { return tx.Rollback(); });
        break;
      case 4:
        txs_.erase(txs_.begin() + static_cast<std::ptrdiff_t>(i));  // destructor
        break;
      default: {
        Database& db = AnyDb();
        const int raw = Pick(3);
        Check([&] { return raw == 0 ? db.Begin() : raw == 1 ? db.Commit() : db.Rollback(); });
      }
    }
  }

  void DropAndRecreate() {
    Database& db = AnyDb();
    Check([&]() -> absl::Status { return db.DropTable(Pick(2) == 0 ? "posts" : "users"); });
    if (db.FindTable("posts") == nullptr) {
      Check([&] {
        return db.CreateTable("posts",
                              Schema().Int64("id", PrimaryKey()).Int64("user_id").String("title"));
      });
    }
    if (db.FindTable("users") == nullptr) {
      Check([&] {
        return db.CreateTable("users", Schema().Int64("id", PrimaryKey()).Int64("score"));
      });
    }
    if (!db.GetRelation("users", "posts").ok() && db.FindTable("users") != nullptr &&
        db.FindTable("posts") != nullptr) {
      Check([&] { return db.HasMany("users", "posts", {.on_delete = OnDelete::kCascade}); });
    }
  }

  void AtomicallyOp() {
    Database& db = AnyDb();
    const int what = Pick(3);
    Check([&] {
      return db.Atomically([&]() -> absl::Status {
        absl::Status s = db.Insert("users", {{"score", 1}}).status();
        if (!s.ok()) return s;
        if (what == 0) return db.Begin();                                 // left open: reported
        if (what == 1 && !txs_.empty()) return txs_.back().tx->Commit();  // refused
        return absl::OkStatus();
      });
    });
  }

  void CheckForeignKeys(Database& db) {
    const Table* users = db.FindTable("users");
    const Table* posts = db.FindTable("posts");
    if (users == nullptr || posts == nullptr || db.foreign_keys().empty()) return;
    for (const Row& p : *posts) {
      Value owner = p.Get("user_id").value();
      if (!owner.is_null()) {
        EXPECT_TRUE(users->Find(owner).has_value()) << Where() << ": " << p.DebugString();
      }
    }
  }

  std::mt19937 rng_;
  Database dbs_[2];
  std::vector<Row> rows_;
  std::vector<ResultRow> kept_;
  std::vector<ResultSet> sets_;
  std::vector<OpenTx> txs_;
  int step_ = 0;
  int calls_ = 0;
  int errors_ = 0;
};

class MisuseRandomTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(MisuseRandomTest, EveryCallIsOkOrAClearErrorThatChangesNothing) {
  MisuseRun run(GetParam());
  for (int step = 0; step < 1500; ++step) {
    ASSERT_NO_FATAL_FAILURE(run.Step(step));
    if (HasFailure()) break;
  }
  ASSERT_NO_FATAL_FAILURE(run.Finish());
  RecordProperty("calls", run.calls());
  RecordProperty("errors", run.errors());
  // The run exercised both outcomes.
  EXPECT_GT(run.errors(), 100);
  EXPECT_GT(run.calls() - run.errors(), 100);
}

INSTANTIATE_TEST_SUITE_P(Seeds, MisuseRandomTest, ::testing::Values(1u, 2u, 3u, 4u, 5u, 6u));

}  // namespace
}  // namespace kin::test
