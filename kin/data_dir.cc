// Database::Open and checkpoints: the data directory (kin/data_dir.h).

#include "kin/data_dir.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "kin/database.h"
#include "kin/internal/data_dir.h"
#include "kin/internal/database_access.h"
#include "kin/status_macros.h"
#include "persist/snapshot.h"

namespace kin {
namespace internal {

namespace {

// A checkpoint's files found in the directory.
struct Found {
  bool snapshot = false;
  std::vector<uint64_t> segments;  // sorted
};

// Parses "snapshot-<N>.kin" and "journal-<N>-<S>.log"; false for any other
// name.
bool ParseName(absl::string_view name, uint64_t* checkpoint, std::optional<uint64_t>* segment) {
  if (absl::ConsumePrefix(&name, "snapshot-") && absl::ConsumeSuffix(&name, ".kin")) {
    segment->reset();
    return absl::SimpleAtoi(name, checkpoint);
  }
  if (absl::ConsumePrefix(&name, "journal-") && absl::ConsumeSuffix(&name, ".log")) {
    const size_t dash = name.find('-');
    uint64_t s = 0;
    if (dash == absl::string_view::npos || !absl::SimpleAtoi(name.substr(dash + 1), &s)) {
      return false;
    }
    *segment = s;
    return absl::SimpleAtoi(name.substr(0, dash), checkpoint);
  }
  return false;
}

absl::StatusOr<std::map<uint64_t, Found>> ListCheckpoints(Env& env, const std::string& dir) {
  KIN_ASSIGN_OR_RETURN(std::vector<std::string> names, env.GetChildren(dir));
  std::map<uint64_t, Found> found;
  for (const std::string& name : names) {
    uint64_t checkpoint = 0;
    std::optional<uint64_t> segment;
    if (!ParseName(name, &checkpoint, &segment)) continue;
    if (segment.has_value()) {
      found[checkpoint].segments.push_back(*segment);
    } else {
      found[checkpoint].snapshot = true;
    }
  }
  for (auto& [checkpoint, f] : found) std::sort(f.segments.begin(), f.segments.end());
  return found;
}

// Applies a batch of journal records.
absl::Status Replay(Engine& engine, const std::string& file,
                    std::span<const JournalRecord> records) {
  for (const JournalRecord& record : records) {
    absl::Status s = engine.Replay(record.changes);
    if (!s.ok()) {
      return absl::DataLossError(absl::StrCat("journal '", file, "' at byte ", record.offset,
                                              ", commit ", record.number, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string DataDir::SnapshotName(uint64_t checkpoint) {
  return absl::StrFormat("snapshot-%08d.kin", checkpoint);
}

std::string DataDir::JournalName(uint64_t checkpoint, uint64_t segment) {
  return absl::StrFormat("journal-%08d-%06d.log", checkpoint, segment);
}

absl::StatusOr<DirScan> ReadDataDir(Env& env, const std::string& dir, const OpenOptions& options,
                                    Engine& engine, RelationCatalog& catalog) {
  DirScan out;
  out.info.dir = dir;
  auto path = [&](const std::string& name) { return dir + "/" + name; };
  KIN_ASSIGN_OR_RETURN(auto found, ListCheckpoints(env, dir));
  // The newest checkpoint with a snapshot; checkpoint 0 (a new database)
  // has none. A newer journal without its snapshot is a checkpoint that
  // did not finish: ignored (Open then removes it).
  uint64_t checkpoint = 0;
  for (const auto& [n, f] : found) {
    if (f.snapshot) checkpoint = n;
  }
  if (checkpoint > 0) {
    LoadOptions load = options.load;
    load.env = &env;
    out.snapshot = path(DataDir::SnapshotName(checkpoint));
    KIN_ASSIGN_OR_RETURN(SnapshotContents contents, LoadSnapshotFile(out.snapshot, load));
    engine = std::move(contents.engine);
    catalog = std::move(contents.relations);
  }
  out.info.checkpoint = checkpoint;

  const std::vector<uint64_t> segments = found[checkpoint].segments;
  uint64_t last_commit = 0;
  for (size_t i = 0; i < segments.size() && !out.dropped; ++i) {
    const std::string file = path(DataDir::JournalName(checkpoint, segments[i]));
    const bool last = i + 1 == segments.size();
    KIN_ASSIGN_OR_RETURN(JournalScan scan, ScanJournal(env, file, options.recover_to_damage,
                                                       [&](std::span<const JournalRecord> records) {
                                                         return Replay(engine, file, records);
                                                       }));
    // Segments continue one another: each starts where the last ended.
    if (scan.file_bytes >= kJournalHeaderSize) {
      if (i > 0 && scan.base != last_commit) {
        return absl::DataLossError(absl::StrCat("journal '", file, "' starts after commit ",
                                                scan.base, ", the one before ended at ",
                                                last_commit));
      }
      last_commit = scan.last_number;
    }
    out.segments.push_back({file, scan.data_bytes, scan.records});
    ++out.info.segments;
    out.info.commits += scan.records;
    out.next_segment = segments[i] + 1;
    if (!scan.dropped.empty()) {
      // Only the last segment can end torn: Open checkpoints after a drop,
      // so no segment is ever started after a torn one.
      if (!last && !scan.damaged && !options.recover_to_damage) {
        return absl::DataLossError(absl::StrCat(scan.dropped, " (segment ", segments[i],
                                                " is not the last: damage, not a crash)"));
      }
      out.dropped = true;
      out.info.dropped = scan.dropped;
      out.info.dropped_bytes = scan.data_bytes - scan.valid_bytes;
      for (size_t j = i + 1; j < segments.size(); ++j) {
        out.info.dropped =
            absl::StrCat(out.info.dropped, "; segment ", segments[j], " after it not replayed");
      }
    }
  }
  out.info.last_commit = last_commit;
  return out;
}

absl::Status DataDir::Recover(Engine& engine, RelationCatalog& catalog) {
  KIN_RETURN_IF_ERROR(env_.CreateDir(dir_));
  KIN_ASSIGN_OR_RETURN(DirScan scan, ReadDataDir(env_, dir_, options_, engine, catalog));
  recovery_ = scan.info;
  checkpoint_ = scan.info.checkpoint;
  last_commit_ = scan.info.last_commit;
  older_segment_bytes_ = 0;
  for (const DirScan::Segment& segment : scan.segments) older_segment_bytes_ += segment.bytes;
  snapshot_bytes_ = SnapshotBytes(checkpoint_).value_or(0);
  auto_checkpoint_at_ = AutoCheckpointBytes();
  if (scan.dropped) {
    // Start clean: the replayed state as a new checkpoint, so no segment
    // ever follows a torn or damaged one.
    return Checkpoint(engine, catalog);
  }
  KIN_RETURN_IF_ERROR(StartSegment(checkpoint_, scan.next_segment));
  return RemoveOtherCheckpoints(checkpoint_);
}

absl::Status DataDir::StartSegment(uint64_t checkpoint, uint64_t segment) {
  KIN_ASSIGN_OR_RETURN(std::unique_ptr<JournalWriter> writer,
                       JournalWriter::Create(env_, dir_, Path(JournalName(checkpoint, segment)),
                                             last_commit_, options_));
  if (writer_ != nullptr) KIN_RETURN_IF_ERROR(writer_->Close());
  writer_ = std::move(writer);
  checkpoint_ = checkpoint;
  segment_ = segment;
  broken_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status DataDir::Checkpoint(const Engine& engine, const RelationCatalog& catalog) {
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError("checkpoint: a transaction is open");
  }
  const uint64_t next = checkpoint_ + 1;
  // The new journal first, then the snapshot that makes the checkpoint
  // real: a crash between the two leaves a journal whose snapshot does not
  // exist, which Open ignores. Only a durable snapshot retires the old files.
  const std::string journal = Path(JournalName(next, 0));
  const std::string snapshot = Path(SnapshotName(next));
  // An earlier try may have left this journal behind (its creation or its
  // removal failed). No commit is in it, Open ignores it, and a new journal
  // is created exclusively: without this every later try would fail.
  (void)env_.RemoveFile(journal);
  absl::StatusOr<std::unique_ptr<JournalWriter>> writer =
      JournalWriter::Create(env_, dir_, journal, last_commit_, options_);
  if (!writer.ok()) {
    (void)env_.RemoveFile(journal);  // created, then its header failed
    return writer.status();
  }
  SnapshotOptions save;
  save.env = &env_;
  if (absl::Status saved = SaveSnapshotFile(engine, catalog, snapshot, save); !saved.ok()) {
    (void)(*writer)->Close();
    // Only a snapshot known to be absent is a clean failure: one that
    // cannot be opened for another reason may be in place.
    if (!absl::IsNotFound(env_.NewSequentialFile(snapshot).status())) {
      // Renamed into place, but the directory sync failed: after a power
      // loss either checkpoint may be the one Open finds, so a commit in
      // either journal could be lost. Both are left as they are (each
      // opens to the state before this call) and commits wait for a
      // checkpoint that succeeds.
      broken_ = absl::FailedPreconditionError(
          absl::StrCat("checkpoint ", next, " of '", dir_, "' may not be durable (",
                       saved.message(), "); commits are refused until Checkpoint() succeeds"));
      return saved;
    }
    (void)env_.RemoveFile(journal);
    return saved;
  }
  if (writer_ != nullptr) (void)writer_->Close();  // superseded: its errors no longer matter
  writer_ = *std::move(writer);
  checkpoint_ = next;
  segment_ = 0;
  broken_ = absl::OkStatus();
  older_segment_bytes_ = 0;
  auto_checkpoint_error_ = absl::OkStatus();  // a manual checkpoint did the job
  // Only the automatic checkpoint's threshold reads the size: 0 if it
  // cannot be read (the threshold is then the minimum) rather than an
  // error for a checkpoint that is durable (the same in Recover).
  snapshot_bytes_ = SnapshotBytes(next).value_or(0);
  auto_checkpoint_at_ = AutoCheckpointBytes();
  return RemoveOtherCheckpoints(next);
}

absl::StatusOr<uint64_t> DataDir::SnapshotBytes(uint64_t checkpoint) const {
  if (checkpoint == 0) return 0;
  KIN_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file,
                       env_.NewSequentialFile(Path(SnapshotName(checkpoint))));
  return file->size();
}

uint64_t DataDir::JournalBytes() const {
  return older_segment_bytes_ + (writer_ != nullptr ? writer_->bytes() : 0);
}

uint64_t DataDir::AutoCheckpointBytes() const {
  // percent% of the snapshot, saturating: no option makes it wrap to a
  // small threshold.
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  const uint64_t percent = options_.auto_checkpoint_percent;
  if (percent == 0) return kMax;  // off
  const uint64_t hundredths = snapshot_bytes_ / 100;
  const uint64_t relative = percent != 0 && hundredths > (kMax - 100 * percent) / percent
                                ? kMax
                                : hundredths * percent + snapshot_bytes_ % 100 * percent / 100;
  return std::max(relative, options_.auto_checkpoint_min_bytes);
}

void DataDir::AfterCommit(const Engine& engine, const RelationCatalog& catalog) {
  // Every commit passes here: the threshold is worked out when it changes.
  const uint64_t bytes = JournalBytes();
  if (bytes < auto_checkpoint_at_) return;
  // A migration's end writes its own checkpoint; a transaction a commit
  // listener left open will commit (and come back here) later.
  if (engine.in_schema_change() || engine.transaction_depth() > 0) return;
  const uint64_t before = checkpoint_;
  absl::Status written = Checkpoint(engine, catalog);
  // A checkpoint that is in place but could not remove the old files still
  // counts (Open or the next checkpoint removes them).
  if (checkpoint_ != before) ++auto_checkpoints_;
  if (written.ok()) return;
  auto_checkpoint_error_ =
      absl::Status(written.code(), absl::StrCat("automatic checkpoint of '", dir_, "' at ", bytes,
                                                " journal bytes: ", written.message()));
  // Not again at every commit (a full disk would make each one write a
  // snapshot): once the journal has grown by the threshold again.
  if (checkpoint_ == before) {
    const uint64_t threshold = AutoCheckpointBytes();
    auto_checkpoint_at_ = bytes > std::numeric_limits<uint64_t>::max() - threshold
                              ? std::numeric_limits<uint64_t>::max()
                              : bytes + threshold;
  }
}

JournalInfo DataDir::Info() const {
  JournalInfo info;
  info.checkpoint = checkpoint_;
  info.snapshot_bytes = snapshot_bytes_;
  info.journal_bytes = JournalBytes();
  info.last_commit = last_commit_;
  info.auto_checkpoints = auto_checkpoints_;
  info.auto_checkpoint_error = auto_checkpoint_error_;
  return info;
}

absl::Status DataDir::RemoveOtherCheckpoints(uint64_t keep) {
  KIN_ASSIGN_OR_RETURN(std::vector<std::string> names, env_.GetChildren(dir_));
  bool removed = false;
  for (const std::string& name : names) {
    uint64_t checkpoint = 0;
    std::optional<uint64_t> segment;
    const bool ours = ParseName(name, &checkpoint, &segment);
    // Temporary files of interrupted snapshot saves (".snapshot-...tmp-").
    const bool temporary = absl::StartsWith(name, ".snapshot-") && name.find(".tmp-") != name.npos;
    if ((ours && checkpoint != keep) || temporary) {
      KIN_RETURN_IF_ERROR(env_.RemoveFile(Path(name)));
      removed = true;
    }
  }
  return removed ? env_.SyncDirectory(dir_) : absl::OkStatus();
}

absl::Status DataDir::Append(const Commit& commit) {
  if (!broken_.ok()) return broken_;
  absl::Status written = writer_->Append(commit, last_commit_ + 1);
  if (!written.ok()) {
    broken_ = absl::FailedPreconditionError(
        absl::StrCat("the journal of '", dir_, "' failed (", written.message(),
                     "); commits are refused until Checkpoint() succeeds"));
    return written;
  }
  ++last_commit_;
  return absl::OkStatus();
}

absl::Status DataDir::Sync() {
  if (!broken_.ok()) return broken_;
  return writer_->Sync();
}

}  // namespace internal

absl::StatusOr<Database> Database::Open(const std::string& dir, const OpenOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  auto data_dir = std::make_unique<internal::DataDir>(*env, dir, options);
  Engine engine;
  RelationCatalog catalog;
  KIN_RETURN_IF_ERROR(data_dir->Recover(engine, catalog));
  Database db = internal::DatabaseAccess::Adopt(std::move(engine), std::move(catalog));
  internal::DataDir* gate = data_dir.get();
  db.engine_->SetCommitGate([gate](const kin::Commit& commit) { return gate->Append(commit); });
  // The engine and catalog live behind the Database's pointers, which a
  // move of the Database hands over without moving them.
  const Engine* engine_ptr = db.engine_.get();
  const RelationCatalog* catalog_ptr = db.relations_.get();
  db.engine_->SetAfterCommit(
      [gate, engine_ptr, catalog_ptr] { gate->AfterCommit(*engine_ptr, *catalog_ptr); });
  db.data_dir_ = std::move(data_dir);
  return db;
}

absl::Status Database::Checkpoint() {
  if (data_dir_ == nullptr) {
    return absl::FailedPreconditionError(
        "checkpoint: the database was not opened from a directory");
  }
  return data_dir_->Checkpoint(*engine_, *relations_);
}

absl::Status Database::Sync() {
  if (data_dir_ == nullptr) {
    return absl::FailedPreconditionError("sync: the database was not opened from a directory");
  }
  return data_dir_->Sync();
}

absl::StatusOr<JournalInfo> Database::Journal() const {
  if (data_dir_ == nullptr) {
    return absl::FailedPreconditionError("journal: the database was not opened from a directory");
  }
  return data_dir_->Info();
}

const RecoveryInfo* Database::recovery() const {
  return data_dir_ == nullptr ? nullptr : &data_dir_->recovery();
}

absl::Status Database::AfterSchemaChange(absl::Status changed) {
  // Inside a Migrate, its end writes the one checkpoint.
  if (!changed.ok() || data_dir_ == nullptr || engine_->in_schema_change()) return changed;
  const uint64_t before = data_dir_->checkpoint();
  absl::Status checkpoint = Checkpoint();
  // A checkpoint in place whose old files stayed (they go at the next one)
  // made the schema durable.
  if (checkpoint.ok() || data_dir_->checkpoint() != before) return checkpoint;
  // The journal of the last checkpoint replays onto its snapshot, which has
  // the old schema: a commit written there now (say into a new table) would
  // make the directory fail to open. Commits wait for the checkpoint.
  data_dir_->RefuseCommits(absl::FailedPreconditionError(absl::StrCat(
      "the schema changed but is not durable yet (the checkpoint failed: ", checkpoint.message(),
      "); commits are refused until Checkpoint() succeeds")));
  return absl::Status(checkpoint.code(),
                      absl::StrCat("the schema changed but is not durable yet (the checkpoint "
                                   "failed: ",
                                   checkpoint.message(), "); retry Checkpoint()"));
}

}  // namespace kin
