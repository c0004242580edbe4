#include "kin/migrations.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/engine.h"
#include "kin/internal/database_access.h"
#include "kin/status_macros.h"

namespace kin {

namespace {

// The engine's metadata keys: the version, and the applied steps as one
// "number name" per line (names hold no line breaks: Add refuses them).
constexpr char kVersionKey[] = "kin.schema_version";
constexpr char kStepsKey[] = "kin.migrations";

std::string StepName(int64_t number, const std::string& name) {
  return absl::StrCat("migration ", number, " '", name, "'");
}

absl::Status BadRecord(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("schema history: ", what));
}

}  // namespace

absl::StatusOr<SchemaHistory> GetSchemaHistory(const Database& db) {
  const auto& metadata = internal::DatabaseAccess::engine(db).metadata();
  SchemaHistory history;
  if (auto it = metadata.find(kVersionKey); it != metadata.end()) {
    if (!absl::SimpleAtoi(it->second, &history.version) || history.version < 0) {
      return BadRecord(absl::StrCat("bad version '", it->second, "'"));
    }
  }
  if (auto it = metadata.find(kStepsKey); it != metadata.end()) {
    for (absl::string_view line : absl::StrSplit(it->second, '\n', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> parts =
          absl::StrSplit(line, absl::MaxSplits(' ', 1));
      AppliedMigration step;
      if (!absl::SimpleAtoi(parts.first, &step.number) || parts.second.empty()) {
        return BadRecord(absl::StrCat("bad step '", line, "'"));
      }
      step.name = std::string(parts.second);
      history.applied.push_back(std::move(step));
    }
  }
  const int64_t last = history.applied.empty() ? 0 : history.applied.back().number;
  if (last != history.version) {
    return BadRecord(
        absl::StrCat("version ", history.version, " but the last step applied is ", last));
  }
  return history;
}

Migrations& Migrations::Add(int64_t number, std::string name, Step step) {
  if (error_.empty()) {
    const std::string what = StepName(number, name);
    if (number < 1) {
      error_ = absl::StrCat(what, ": numbers start at 1");
    } else if (!steps_.empty() && number == steps_.back().number) {
      error_ = absl::StrCat(what, ": number ", number, " is taken by '", steps_.back().name, "'");
    } else if (!steps_.empty() && number < steps_.back().number) {
      error_ = absl::StrCat(what, ": out of order (after migration ", steps_.back().number,
                            "; add steps in increasing order)");
    } else if (name.empty() || name.find_first_of("\n\r") != std::string::npos) {
      error_ = absl::StrCat("migration ", number, ": a name is required, on one line");
    } else if (!step) {
      error_ = absl::StrCat(what, ": no function");
    } else {
      for (const Entry& e : steps_) {
        if (e.name == name) {
          error_ = absl::StrCat(what, ": name already used by migration ", e.number);
        }
      }
    }
  }
  steps_.push_back({number, std::move(name), std::move(step)});
  return *this;
}

absl::Status Migrations::Validate() const {
  if (error_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(error_);
}

absl::Status Migrations::Apply(Database& db) const {
  KIN_RETURN_IF_ERROR(Validate());
  if (db.transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        "migrations cannot run inside a transaction (commit or roll it back first)");
  }
  KIN_ASSIGN_OR_RETURN(SchemaHistory history, GetSchemaHistory(db));
  if (history.version > latest()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database's schema version ", history.version, " is newer than this code knows (",
        latest(), "; last step ", history.applied.back().name, "): open it with newer code"));
  }
  // Every step the database went through must still be there, unchanged,
  // in the same place: otherwise this code would run on a schema its steps
  // did not produce.
  size_t next = 0;
  for (const AppliedMigration& done : history.applied) {
    if (next >= steps_.size() || steps_[next].number != done.number) {
      return absl::FailedPreconditionError(absl::StrCat(
          StepName(done.number, done.name),
          " was applied to this database but is not in the code's migrations (removed or "
          "renumbered?)"));
    }
    if (steps_[next].name != done.name) {
      return absl::FailedPreconditionError(absl::StrCat(
          StepName(done.number, done.name), " was applied to this database but the code names it '",
          steps_[next].name, "' (renamed?)"));
    }
    ++next;
  }
  if (next == steps_.size()) return absl::OkStatus();
  Engine& engine = internal::DatabaseAccess::engine(db);
  return db.Migrate([&]() -> absl::Status {
    std::string steps =
        engine.metadata().contains(kStepsKey) ? engine.metadata().at(kStepsKey) : std::string();
    for (size_t i = next; i < steps_.size(); ++i) {
      const Entry& e = steps_[i];
      absl::Status status = e.step(db);
      if (!status.ok()) {
        return absl::Status(status.code(),
                            absl::StrCat(StepName(e.number, e.name), ": ", status.message()));
      }
      absl::StrAppend(&steps, e.number, " ", e.name, "\n");
      engine.SetMetadata(kVersionKey, absl::StrCat(e.number));
      engine.SetMetadata(kStepsKey, steps);
    }
    return absl::OkStatus();
  });
}

}  // namespace kin
