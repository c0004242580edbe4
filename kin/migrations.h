// kin::Migrations: numbered, named schema steps that bring a saved database
// up to the schema the code expects, as Rails' schema_migrations or
// SQLite's PRAGMA user_version do.
//
//   kin::Migrations migrations;
//   migrations.Add(1, "add_level", [](kin::Database& db) {
//     return db.AddColumn("players", {.name = "level", .type = kin::Type::kInt64,
//                                     .nullable = false, .default_value = 1});
//   });
//   migrations.Add(2, "rename_hp", [](kin::Database& db) {
//     return db.RenameColumn("players", "hp", "health");
//   });
//   KIN_ASSIGN_OR_RETURN(kin::Database db, kin::LoadSnapshot("old_save.kin"));
//   KIN_RETURN_IF_ERROR(migrations.Apply(db));
//
// The database records its schema version (the number of the last step
// applied) and the applied steps' numbers and names; snapshots (format 6
// on) keep them and `kin inspect` prints them. A database saved before any
// migration ran has version 0 and no steps.

#ifndef KIN_MIGRATIONS_H_
#define KIN_MIGRATIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/database.h"

namespace kin {

// One applied step, as recorded in a database.
struct AppliedMigration {
  int64_t number = 0;
  std::string name;
  friend bool operator==(const AppliedMigration&, const AppliedMigration&) = default;
};

// What a database records of its migrations.
struct SchemaHistory {
  int64_t version = 0;                    // the last step applied; 0 for none
  std::vector<AppliedMigration> applied;  // in the order applied
};

// The records of `db`. DataLoss when they are malformed (a damaged or
// hand-edited save).
absl::StatusOr<SchemaHistory> GetSchemaHistory(const Database& db);

class Migrations {
 public:
  using Step = std::function<absl::Status(Database&)>;

  // Adds step `number` (from 1, each greater than the one before) named
  // `name` (non-empty, unique). Never fails: a mistake (a number out of
  // order or repeated, an empty or repeated name, an empty function) is
  // reported by Apply and Validate, naming it.
  Migrations& Add(int64_t number, std::string name, Step step);

  // The first mistake Add recorded; OK if none.
  absl::Status Validate() const;
  // The number of the last step: the schema version this code knows.
  int64_t latest() const { return steps_.empty() ? 0 : steps_.back().number; }

  // Runs the steps newer than db's version, in order, as one Database::
  // Migrate: all or nothing. Each successful step is recorded in the
  // database. Errors, the database unchanged: InvalidArgument for a bad
  // definition (Validate); FailedPrecondition inside a transaction, for a
  // database whose version is newer than latest(), or whose history does
  // not match the steps (a step renamed, removed or renumbered since it
  // was applied), naming the step; a failing step's own error, prefixed
  // with "migration 3 'add_level': ". Nothing to do is OK.
  absl::Status Apply(Database& db) const;

 private:
  struct Entry {
    int64_t number;
    std::string name;
    Step step;
  };
  std::vector<Entry> steps_;
  std::string error_;  // the first mistake Add saw
};

}  // namespace kin

#endif  // KIN_MIGRATIONS_H_
