// kin-internal: the data directory behind Database::Open (kin/data_dir.h):
// the checkpoint files, the journal writer, and the commit gate that
// appends each commit before it is final.

#ifndef KIN_INTERNAL_DATA_DIR_H_
#define KIN_INTERNAL_DATA_DIR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "kin/change.h"
#include "kin/data_dir.h"
#include "persist/env.h"
#include "persist/journal.h"
#include "relations/relation_catalog.h"

namespace kin::internal {

// What a data directory holds, read without writing anything (Open, and
// the `kin` tool's inspect, verify and dump).
struct DirScan {
  struct Segment {
    std::string path;
    uint64_t bytes = 0;
    uint64_t commits = 0;
  };
  RecoveryInfo info;
  std::string snapshot;  // the snapshot loaded, or empty
  std::vector<Segment> segments;
  uint64_t next_segment = 0;
  bool dropped = false;  // a torn tail or damage was left out
};

// Loads `dir`'s newest checkpoint into `engine` / `catalog` (both empty)
// and replays its journal segments.
absl::StatusOr<DirScan> ReadDataDir(Env& env, const std::string& dir, const OpenOptions& options,
                                    Engine& engine, RelationCatalog& catalog);

class DataDir {
 public:
  DataDir(Env& env, std::string dir, const OpenOptions& options)
      : env_(env), dir_(std::move(dir)), options_(options) {}

  // Loads the newest checkpoint of `dir` into `engine` / `catalog` (both
  // empty), replays its journal and starts a new segment.
  absl::Status Recover(Engine& engine, RelationCatalog& catalog);
  // A new snapshot and a fresh journal; then the older files go.
  absl::Status Checkpoint(const Engine& engine, const RelationCatalog& catalog);
  // The commit gate: appends the commit; an error refuses it.
  absl::Status Append(const Commit& commit);
  absl::Status Sync();
  // Makes every commit fail with `why` until a checkpoint succeeds.
  void RefuseCommits(absl::Status why) { broken_ = std::move(why); }
  // The engine's after-commit hook: an automatic checkpoint when the
  // journal has outgrown OpenOptions' threshold.
  void AfterCommit(const Engine& engine, const RelationCatalog& catalog);
  JournalInfo Info() const;

  const RecoveryInfo& recovery() const { return recovery_; }
  uint64_t checkpoint() const { return checkpoint_; }
  uint64_t segment() const { return segment_; }

  // "snapshot-00000003.kin", "journal-00000003-000001.log".
  static std::string SnapshotName(uint64_t checkpoint);
  static std::string JournalName(uint64_t checkpoint, uint64_t segment);

 private:
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  absl::Status StartSegment(uint64_t checkpoint, uint64_t segment);
  // Removes every checkpoint file but `keep`'s, and temporary files.
  absl::Status RemoveOtherCheckpoints(uint64_t keep);
  // The current checkpoint's snapshot size (0 when it has none).
  absl::StatusOr<uint64_t> SnapshotBytes(uint64_t checkpoint) const;
  uint64_t JournalBytes() const;
  // The journal length past a checkpoint at which the next automatic one
  // is due (the maximum when they are off).
  uint64_t AutoCheckpointBytes() const;

  Env& env_;
  std::string dir_;
  OpenOptions options_;
  uint64_t checkpoint_ = 0;
  uint64_t segment_ = 0;
  uint64_t last_commit_ = 0;
  std::unique_ptr<JournalWriter> writer_;
  // Set when the journal may not take more commits until a checkpoint
  // starts a new one: a journal write failed (the file may hold part of a
  // record), a snapshot's durability is unknown, or the schema changed
  // without a checkpoint.
  absl::Status broken_;
  RecoveryInfo recovery_;
  // Bytes of the current checkpoint's segments before writer_'s (replayed
  // by Open), and of its snapshot.
  uint64_t older_segment_bytes_ = 0;
  uint64_t snapshot_bytes_ = 0;
  uint64_t auto_checkpoints_ = 0;
  absl::Status auto_checkpoint_error_;
  // The journal length at which AfterCommit writes a checkpoint:
  // AutoCheckpointBytes() after a checkpoint or Open, further after a
  // failed automatic one (not again at every commit).
  uint64_t auto_checkpoint_at_ = 0;
};

}  // namespace kin::internal

#endif  // KIN_INTERNAL_DATA_DIR_H_
