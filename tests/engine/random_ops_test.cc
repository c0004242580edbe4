// A long random sequence of writes (fixed seed), some inside nested
// transactions that are randomly committed or rolled back, checked against
// a brute-force model of what the engine promises:
//  - which calls succeed, and with which error code they fail;
//  - every row's cells, its slot (slots are reused most-recently-freed
//    first) and the auto-increment counter;
//  - every Children() list, as a multiset and in exact order (a row joins
//    the end of a key's list when inserted or moved to that key);
//  - Row handles: valid exactly while their row lives, never revived as
//    another row after slot reuse or a rollback;
//  - a rollback restores Engine::DebugString() byte for byte.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::testing::AnyOfArray;
using ::testing::UnorderedElementsAreArray;

using Codes = std::set<absl::StatusCode>;

struct ModelColumn {
  std::string name;
  Type type;
  bool nullable;
  bool unique;   // the primary key or Unique()
  bool indexed;  // a secondary index
  std::optional<Value> default_value;
};

struct ModelRow {
  int64_t uid;  // the row's identity, kept across primary key changes
  std::vector<Value> cells;
};

// One table as the engine should hold it. Column 0 is an auto-increment
// int64 primary key.
struct ModelTable {
  std::string name;
  std::vector<ModelColumn> columns;
  std::map<int64_t, ModelRow> rows;                // by primary key
  absl::flat_hash_map<int64_t, uint32_t> slot_of;  // by uid
  std::vector<uint32_t> free_slots;
  uint32_t slot_count = 0;
  int64_t next_auto = 1;
  // Secondary index column → key → primary keys in index order.
  std::map<size_t, absl::flat_hash_map<Value, std::vector<int64_t>>> children;
  // Unique non-primary-key column → value → primary key.
  std::map<size_t, absl::flat_hash_map<Value, int64_t>> unique_keys;

  static bool Fits(const Value& v, Type type) {
    return v.type() == type || (type == Type::kDouble && v.is_int64());
  }
  static Value Coerce(const Value& v, Type type) {
    if (type == Type::kDouble && v.is_int64()) return Value(static_cast<double>(v.AsInt64()));
    return v;
  }
  const Value* Given(const Attrs& attrs, const std::string& column) const {
    for (const auto& [name, value] : attrs) {
      if (name == column) return &value;
    }
    return nullptr;
  }

  // The error codes an insert of `attrs` may fail with (empty: it must
  // succeed), and the full row it inserts.
  Codes CheckInsert(const Attrs& attrs, std::vector<Value>* row) const {
    Codes codes;
    row->assign(columns.size(), Value());
    for (size_t i = 0; i < columns.size(); ++i) {
      const ModelColumn& c = columns[i];
      const Value* given = Given(attrs, c.name);
      if (given != nullptr && !given->is_null()) {
        if (!Fits(*given, c.type)) codes.insert(absl::StatusCode::kInvalidArgument);
        (*row)[i] = Coerce(*given, c.type);
      } else if (i == 0) {
        (*row)[i] = Value(next_auto);
      } else if (given != nullptr) {
        if (!c.nullable) codes.insert(absl::StatusCode::kInvalidArgument);
      } else if (c.default_value.has_value()) {
        (*row)[i] = *c.default_value;
      } else if (!c.nullable) {
        codes.insert(absl::StatusCode::kInvalidArgument);
      }
    }
    if (!codes.empty()) return codes;  // types are checked before keys
    if (rows.contains((*row)[0].AsInt64())) codes.insert(absl::StatusCode::kAlreadyExists);
    for (const auto& [i, keys] : unique_keys) {
      if (!(*row)[i].is_null() && keys.contains((*row)[i])) {
        codes.insert(absl::StatusCode::kAlreadyExists);
      }
    }
    return codes;
  }

  void ApplyInsert(std::vector<Value> row, int64_t uid) {
    uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = slot_count++;
    }
    int64_t pk = row[0].AsInt64();
    next_auto = std::max(next_auto, pk + 1);
    slot_of[uid] = slot;
    for (auto& [i, lists] : children) {
      if (!row[i].is_null()) lists[row[i]].push_back(pk);
    }
    for (auto& [i, keys] : unique_keys) {
      if (!row[i].is_null()) keys[row[i]] = pk;
    }
    rows[pk] = ModelRow{uid, std::move(row)};
  }

  // For an update of row `pk`: the error codes it may fail with, and the
  // (column, new value) pairs that change a cell.
  Codes CheckUpdate(int64_t pk, const Attrs& attrs,
                    std::vector<std::pair<size_t, Value>>* changes) const {
    Codes codes;
    changes->clear();
    const ModelRow& row = rows.at(pk);
    for (size_t i = 0; i < columns.size(); ++i) {
      const ModelColumn& c = columns[i];
      const Value* given = Given(attrs, c.name);
      if (given == nullptr) continue;
      if (given->is_null() && !c.nullable) {
        codes.insert(absl::StatusCode::kInvalidArgument);
        continue;
      }
      if (!given->is_null() && !Fits(*given, c.type)) {
        codes.insert(absl::StatusCode::kInvalidArgument);
        continue;
      }
      Value v = given->is_null() ? Value() : Coerce(*given, c.type);
      if (v == row.cells[i]) continue;
      if (i == 0 && rows.contains(v.AsInt64())) codes.insert(absl::StatusCode::kAlreadyExists);
      if (c.unique && i != 0 && !v.is_null() && unique_keys.at(i).contains(v)) {
        codes.insert(absl::StatusCode::kAlreadyExists);
      }
      changes->emplace_back(i, std::move(v));
    }
    return codes;
  }

  void ApplyUpdate(int64_t pk, const std::vector<std::pair<size_t, Value>>& changes) {
    ModelRow& row = rows.at(pk);
    std::optional<int64_t> new_pk;
    for (const auto& [i, v] : changes) {
      const Value& old = row.cells[i];
      if (auto it = children.find(i); it != children.end()) {
        if (!old.is_null()) {
          std::vector<int64_t>& list = it->second[old];
          list.erase(std::find(list.begin(), list.end(), pk));
          if (list.empty()) it->second.erase(old);
        }
        if (!v.is_null()) it->second[v].push_back(pk);
      }
      if (auto it = unique_keys.find(i); it != unique_keys.end()) {
        if (!old.is_null()) it->second.erase(old);
        if (!v.is_null()) it->second[v] = pk;
      }
      if (i == 0) new_pk = v.AsInt64();
      row.cells[i] = v;
    }
    if (!new_pk.has_value()) return;
    // A primary key change: the row keeps its slot and its places in every
    // index list; only the key it is known by changes.
    next_auto = std::max(next_auto, *new_pk + 1);
    for (auto& [i, lists] : children) {
      if (row.cells[i].is_null()) continue;
      std::vector<int64_t>& list = lists[row.cells[i]];
      *std::find(list.begin(), list.end(), pk) = *new_pk;
    }
    for (auto& [i, keys] : unique_keys) {
      if (!row.cells[i].is_null()) keys[row.cells[i]] = *new_pk;
    }
    auto node = rows.extract(pk);
    node.key() = *new_pk;
    rows.insert(std::move(node));
  }

  void ApplyDelete(int64_t pk) {
    const ModelRow& row = rows.at(pk);
    for (auto& [i, lists] : children) {
      if (row.cells[i].is_null()) continue;
      std::vector<int64_t>& list = lists[row.cells[i]];
      list.erase(std::find(list.begin(), list.end(), pk));
      if (list.empty()) lists.erase(row.cells[i]);
    }
    for (auto& [i, keys] : unique_keys) {
      if (!row.cells[i].is_null()) keys.erase(row.cells[i]);
    }
    free_slots.push_back(slot_of.at(row.uid));
    slot_of.erase(row.uid);
    rows.erase(pk);
  }
};

struct Model {
  std::vector<ModelTable> tables;
  int64_t next_uid = 1;
};

class RandomOpsTest : public ::testing::Test {
 protected:
  static constexpr int kOps = 20'000;
  static constexpr int kPhase = 500;
  static constexpr int kMaxDepth = 3;

  void SetUp() override {
    ASSERT_OK(engine_.CreateTable(
        "parents",
        Schema().Int64("id", PrimaryKey()).String("name", Unique()).Int64("score", Default(0))));
    ASSERT_OK(engine_.CreateTable("children", Schema()
                                                  .Int64("id", PrimaryKey())
                                                  .Int64("parent_id", Indexed())
                                                  .String("tag", NotNull(), Indexed())
                                                  .Double("weight")
                                                  .Bool("flag", NotNull(), Default(false))));
    // name, type, nullable, unique, indexed, default
    ModelTable parents;
    parents.name = "parents";
    parents.columns = {{"id", Type::kInt64, false, true, false, std::nullopt},
                       {"name", Type::kString, true, true, false, std::nullopt},
                       {"score", Type::kInt64, true, false, false, Value(0)}};
    parents.unique_keys[1];
    ModelTable children;
    children.name = "children";
    children.columns = {{"id", Type::kInt64, false, true, false, std::nullopt},
                        {"parent_id", Type::kInt64, true, false, true, std::nullopt},
                        {"tag", Type::kString, false, false, true, std::nullopt},
                        {"weight", Type::kDouble, true, false, false, std::nullopt},
                        {"flag", Type::kBool, false, false, false, Value(false)}};
    children.children[1];
    children.children[2];
    model_.tables = {std::move(parents), std::move(children)};
  }

  // --- random inputs ---

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(0, static_cast<int64_t>(v.size()) - 1)];
  }
  std::optional<int64_t> RandomPk(const ModelTable& t) {
    if (t.rows.empty()) return std::nullopt;
    auto it = t.rows.begin();
    std::advance(it, Uniform(0, static_cast<int64_t>(t.rows.size()) - 1));
    return it->first;
  }

  // A value for column `i` of table `t`, now and then of the wrong type or
  // NULL where NULL is not allowed.
  Value RandomValue(size_t t, size_t i) {
    const ModelTable& parents = model_.tables[0];
    if (t == 0) {
      switch (i) {
        case 0:
          return Chance(0.05) ? Value() : Value(Uniform(1, parents.next_auto + 20));
        case 1:
          if (Chance(0.08)) return Value();
          if (Chance(0.02)) return Value(5);
          return Value(absl::StrCat("n", Uniform(0, 400)));
        default:
          if (Chance(0.1)) return Value();
          if (Chance(0.02)) return Value("x");
          return Value(Uniform(-100, 100));
      }
    }
    switch (i) {
      case 0:
        return Chance(0.05) ? Value() : Value(Uniform(1, model_.tables[1].next_auto + 20));
      case 1: {
        if (Chance(0.1)) return Value();
        if (Chance(0.02)) return Value("p");
        std::optional<int64_t> parent = RandomPk(parents);
        if (parent.has_value() && Chance(0.7)) return Value(*parent);
        return Value(Uniform(1, 600));
      }
      case 2:
        if (Chance(0.02)) return Value();
        if (Chance(0.01)) return Value(true);
        return Value(std::string(1, static_cast<char>('a' + Uniform(0, 5))));
      case 3:
        if (Chance(0.1)) return Value();
        if (Chance(0.1)) return Value(Uniform(0, 10));  // int64 into a double column
        if (Chance(0.01)) return Value("w");
        return Value(static_cast<double>(Uniform(0, 40)) * 0.25);
      default:
        if (Chance(0.01)) return Value(1);
        if (Chance(0.01)) return Value();
        return Value(Chance(0.5));
    }
  }

  Attrs RandomInsertAttrs(size_t t) {
    Attrs attrs;
    const ModelTable& table = model_.tables[t];
    for (size_t i = 0; i < table.columns.size(); ++i) {
      double p = i == 0 ? 0.08 : (t == 1 && i == 2 ? 0.98 : 0.8);
      if (Chance(p)) attrs.emplace_back(table.columns[i].name, RandomValue(t, i));
    }
    std::shuffle(attrs.begin(), attrs.end(), rng_);
    return attrs;
  }

  Attrs RandomUpdateAttrs(size_t t) {
    Attrs attrs;
    const ModelTable& table = model_.tables[t];
    if (Chance(0.05)) attrs.emplace_back("id", RandomValue(t, 0));
    int64_t n = Uniform(1, 3);
    std::vector<size_t> columns;
    for (size_t i = 1; i < table.columns.size(); ++i) columns.push_back(i);
    std::shuffle(columns.begin(), columns.end(), rng_);
    for (int64_t k = 0; k < n && k < static_cast<int64_t>(columns.size()); ++k) {
      attrs.emplace_back(table.columns[columns[k]].name, RandomValue(t, columns[k]));
    }
    return attrs;
  }

  // --- operations, each checked against the model ---

  void ExpectOutcome(const absl::Status& status, const Codes& codes, absl::string_view what) {
    if (codes.empty()) {
      EXPECT_OK(status) << what;
    } else {
      EXPECT_THAT(status.code(),
                  AnyOfArray(std::vector<absl::StatusCode>(codes.begin(), codes.end())))
          << what << ": " << status;
    }
    ++outcomes_[absl::StrCat(what, codes.empty() ? " ok" : " error")];
  }

  void Insert(size_t t) {
    ModelTable& table = model_.tables[t];
    Attrs attrs = RandomInsertAttrs(t);
    std::vector<Value> row;
    Codes codes = table.CheckInsert(attrs, &row);
    bool reuses = !table.free_slots.empty();
    absl::StatusOr<Row> inserted = engine_.Insert(table.name, attrs);
    ExpectOutcome(inserted.status(), codes, "insert");
    if (!codes.empty() || !inserted.ok()) return;
    int64_t uid = model_.next_uid++;
    table.ApplyInsert(std::move(row), uid);
    handles_.emplace_back(*inserted, uid);
    if (reuses) ++outcomes_["insert into a reused slot"];
  }

  void InsertMany(size_t t) {
    ModelTable& table = model_.tables[t];
    std::vector<Attrs> batch;
    for (int64_t n = Uniform(1, 4); n > 0; --n) batch.push_back(RandomInsertAttrs(t));
    // All or nothing: apply the rows to the model one by one; if one fails,
    // delete the applied ones again and restore the slot bookkeeping.
    std::vector<uint32_t> free_slots = table.free_slots;
    uint32_t slot_count = table.slot_count;
    int64_t next_auto = table.next_auto;
    std::vector<int64_t> applied;
    Codes codes;
    for (const Attrs& attrs : batch) {
      std::vector<Value> row;
      codes = table.CheckInsert(attrs, &row);
      if (!codes.empty()) break;
      applied.push_back(row[0].AsInt64());
      table.ApplyInsert(std::move(row), model_.next_uid + static_cast<int64_t>(applied.size()) - 1);
    }
    if (!codes.empty()) {
      for (auto it = applied.rbegin(); it != applied.rend(); ++it) table.ApplyDelete(*it);
      table.free_slots = std::move(free_slots);
      table.slot_count = slot_count;
      table.next_auto = next_auto;
    }
    absl::StatusOr<std::vector<Row>> rows = engine_.InsertMany(table.name, batch);
    ExpectOutcome(rows.status(), codes, "insert many");
    if (!codes.empty() || !rows.ok()) return;
    ASSERT_EQ(rows->size(), batch.size());
    for (const Row& row : *rows) handles_.emplace_back(row, model_.next_uid++);
  }

  void Update(size_t t) {
    ModelTable& table = model_.tables[t];
    std::optional<int64_t> pk = RandomPk(table);
    if (!pk.has_value()) return;
    Attrs attrs = RandomUpdateAttrs(t);
    std::vector<std::pair<size_t, Value>> changes;
    Codes codes = table.CheckUpdate(*pk, attrs, &changes);
    Row row = engine_.FindOrFail(table.name, *pk).value();
    absl::StatusOr<bool> changed = engine_.Update(row, attrs);
    ExpectOutcome(changed.status(), codes, "update");
    if (!codes.empty() || !changed.ok()) return;
    EXPECT_EQ(*changed, !changes.empty()) << "update of " << row.DebugString();
    if (changes.empty()) ++outcomes_["no-op update"];
    table.ApplyUpdate(*pk, changes);
  }

  void Delete(size_t t) {
    ModelTable& table = model_.tables[t];
    std::optional<int64_t> pk = RandomPk(table);
    if (!pk.has_value()) return;
    EXPECT_OK(engine_.Delete(engine_.FindOrFail(table.name, *pk).value()));
    ++outcomes_["delete ok"];
    table.ApplyDelete(*pk);
  }

  void UnknownColumn(size_t t) {
    ModelTable& table = model_.tables[t];
    std::optional<int64_t> pk = RandomPk(table);
    Attrs attrs = {{"nope", 1}};
    absl::Status status =
        pk.has_value() && Chance(0.5)
            ? engine_.Update(engine_.FindOrFail(table.name, *pk).value(), attrs).status()
            : engine_.Insert(table.name, attrs).status();
    ExpectOutcome(status, {absl::StatusCode::kInvalidArgument}, "unknown column");
  }

  void Find(size_t t) {
    const ModelTable& table = model_.tables[t];
    int64_t pk = Uniform(1, table.next_auto + 5);
    absl::StatusOr<Row> row = engine_.FindOrFail(table.name, pk);
    auto it = table.rows.find(pk);
    if (it == table.rows.end()) {
      EXPECT_THAT(row, test::StatusIs(absl::StatusCode::kNotFound));
    } else {
      ASSERT_OK(row);
      EXPECT_EQ(row->id(), RowId(table.slot_of.at(it->second.uid)));
    }
  }

  void Begin() {
    ASSERT_OK(engine_.Begin());
    saved_.push_back({model_, engine_.DebugString()});
    ++outcomes_["begin"];
  }

  void Commit() {
    ASSERT_OK(engine_.Commit());
    saved_.pop_back();
    ++outcomes_["commit"];
  }

  void Rollback() {
    ASSERT_OK(engine_.Rollback());
    EXPECT_EQ(engine_.DebugString(), saved_.back().dump);
    // Uids are never reused: handles to rows of the rolled-back transaction
    // keep naming rows that no longer exist.
    int64_t next_uid = model_.next_uid;
    model_ = std::move(saved_.back().model);
    model_.next_uid = next_uid;
    saved_.pop_back();
    ++outcomes_["rollback"];
  }

  void Step() {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    size_t t = Chance(0.4) ? 0 : 1;
    size_t rows = model_.tables[t].rows.size();
    double insert = rows < 250 ? 0.36 : 0.10;  // keeps tables near 250 rows
    int depth = engine_.transaction_depth();
    if ((r -= insert) < 0) return Insert(t);
    if ((r -= 0.06) < 0) return InsertMany(t);
    if ((r -= 0.26) < 0) return Update(t);
    if ((r -= 0.18) < 0) return Delete(t);
    if ((r -= 0.02) < 0) return UnknownColumn(t);
    if ((r -= 0.02) < 0) return depth < kMaxDepth ? Begin() : Find(t);
    if ((r -= 0.015) < 0) return depth > 0 ? Commit() : Find(t);
    if ((r -= 0.015) < 0) return depth > 0 ? Rollback() : Find(t);
    Find(t);
  }

  // --- the full comparison ---

  void Verify() {
    ASSERT_OK(engine_.CheckConsistency());
    absl::flat_hash_map<int64_t, std::pair<size_t, int64_t>> live;  // uid → (table, pk)
    for (size_t t = 0; t < model_.tables.size(); ++t) {
      const ModelTable& m = model_.tables[t];
      SCOPED_TRACE(m.name);
      const Table& table = *engine_.FindTable(m.name);
      ASSERT_EQ(table.size(), m.rows.size());
      ASSERT_EQ(table.slot_count(), m.slot_count);
      ASSERT_EQ(table.next_auto_increment(), m.next_auto);
      ASSERT_THAT(table.free_slots(), ::testing::ElementsAreArray(m.free_slots));
      // Every row: slot and cells.
      std::vector<std::pair<uint32_t, int64_t>> by_slot;
      for (const auto& [pk, row] : m.rows) {
        live[row.uid] = {t, pk};
        uint32_t slot = m.slot_of.at(row.uid);
        by_slot.emplace_back(slot, pk);
        std::optional<RowId> id = table.FindRowId(pk);
        ASSERT_EQ(id, RowId(slot)) << "pk " << pk;
        for (size_t i = 0; i < m.columns.size(); ++i) {
          ASSERT_EQ(table.GetValue(*id, ColumnId(static_cast<uint32_t>(i))), row.cells[i])
              << "pk " << pk << " column " << m.columns[i].name;
        }
      }
      // Iteration follows slots.
      std::sort(by_slot.begin(), by_slot.end());
      std::vector<int64_t> want_order, got_order;
      for (const auto& [slot, pk] : by_slot) want_order.push_back(pk);
      for (const Row& row : table) got_order.push_back(row.GetInt64("id").value());
      ASSERT_EQ(got_order, want_order);
      // Every children list.
      for (const auto& [i, lists] : m.children) {
        ColumnId column(static_cast<uint32_t>(i));
        ASSERT_EQ(table.index(column)->num_keys(), lists.size()) << m.columns[i].name;
        for (const auto& [key, want] : lists) {
          std::vector<int64_t> got;
          std::span<const RowId> rows = table.Children(m.columns[i].name, key).value();
          for (RowId r : rows) {
            got.push_back(table.GetRow(r).GetInt64("id").value());
          }
          ASSERT_THAT(got, UnorderedElementsAreArray(want))
              << m.columns[i].name << " = " << key.DebugString();
          ASSERT_EQ(got, want) << "order of " << m.columns[i].name << " = " << key.DebugString();
        }
      }
    }
    // Handles: valid exactly while their row lives, and always that row.
    for (const auto& [handle, uid] : handles_) {
      auto it = live.find(uid);
      ASSERT_EQ(handle.valid(), it != live.end()) << "handle of row uid " << uid;
      if (it == live.end()) continue;
      const ModelTable& m = model_.tables[it->second.first];
      ASSERT_EQ(handle.table()->name(), m.name);
      ASSERT_EQ(handle.id(), RowId(m.slot_of.at(uid)));
      ASSERT_EQ(handle.GetInt64("id").value(), it->second.second);
    }
  }

  struct Saved {
    Model model;
    std::string dump;
  };

  Engine engine_;
  Model model_;
  std::mt19937_64 rng_{20240607};
  std::vector<std::pair<Row, int64_t>> handles_;  // every row handed out, with its uid
  std::vector<Saved> saved_;                      // one per open transaction
  std::map<std::string, int> outcomes_;
};

TEST_F(RandomOpsTest, MatchesTheModel) {
  for (int op = 1; op <= kOps; ++op) {
    ASSERT_NO_FATAL_FAILURE(Step()) << "op " << op;
    if (HasFailure()) FAIL() << "stopped at op " << op;
    if (op % kPhase == 0) {
      SCOPED_TRACE(
          absl::StrCat("after op ", op, ", transaction depth ", engine_.transaction_depth()));
      ASSERT_NO_FATAL_FAILURE(Verify());
    }
  }
  // Close what is still open, half committed, half rolled back.
  while (engine_.transaction_depth() > 0) {
    if (Chance(0.5)) {
      ASSERT_NO_FATAL_FAILURE(Commit());
    } else {
      ASSERT_NO_FATAL_FAILURE(Rollback());
    }
  }
  ASSERT_NO_FATAL_FAILURE(Verify());

  // The sequence must have exercised every path, not just inserts.
  for (const char* outcome :
       {"insert ok", "insert error", "insert many ok", "insert many error", "update ok",
        "update error", "no-op update", "delete ok", "unknown column error",
        "insert into a reused slot", "begin", "commit", "rollback"}) {
    EXPECT_GE(outcomes_[outcome], 20) << outcome;
  }
  for (const auto& [outcome, n] : outcomes_) RecordProperty(outcome, n);
}

}  // namespace
}  // namespace kin
