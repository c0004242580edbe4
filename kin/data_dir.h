// A database kept in a data directory: the newest snapshot plus a journal
// of every transaction committed since, so a crash loses no committed work
// (SQLite's WAL, Redis's AOF and leveldb's log are the models).
//
//   KIN_ASSIGN_OR_RETURN(kin::Database db, kin::Database::Open("saves/world"));
//   ... writes: each commit is appended to the journal before Commit returns
//   KIN_RETURN_IF_ERROR(db.Checkpoint());   // a new snapshot, a fresh journal
//
// The directory holds snapshot-<N>.kin (checkpoint N) and its journal
// segments journal-<N>-<S>.log. Open loads the newest snapshot, replays
// every segment of its checkpoint in order and starts a new segment;
// Checkpoint writes snapshot N+1 atomically, starts journal N+1, and only
// then removes checkpoint N's files, so a crash at any moment leaves a
// directory that opens to the last committed state. Commits also write one
// when the journal outgrows OpenOptions' automatic threshold.
//
// Schema changes (CreateTable, CreateIndex, HasMany, DropTable...) are not
// journaled: on a database opened from a directory each one writes a
// checkpoint before it returns. on_query callbacks are code: re-attach
// them after Open as after LoadSnapshot.

#ifndef KIN_DATA_DIR_H_
#define KIN_DATA_DIR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "kin/snapshot.h"

namespace kin {

// When a commit's journal record is made durable (Redis's appendfsync).
enum class SyncPolicy {
  // fdatasync before Commit returns: a commit that returned survives a
  // power loss. Each commit pays a sync (on the order of a millisecond on
  // an SSD, tens of microseconds on a tmpfs).
  kEveryCommit,
  // Synced by the first commit at least group_sync_ms after the last sync,
  // and by Checkpoint, Sync and closing: the commits of one interval share
  // one sync. A power loss may lose the commits of the last interval; a
  // crash of the program alone loses nothing (each record is written to
  // the file before Commit returns).
  kGrouped,
  // Written before Commit returns, synced by Checkpoint, Sync and closing
  // only: the operating system decides. A crash of the program loses
  // nothing; a power loss may lose anything since the last sync.
  kNone,
};

struct OpenOptions {
  SyncPolicy sync = SyncPolicy::kEveryCommit;
  int group_sync_ms = 100;  // kGrouped's interval
  // The journal file grows ahead of its records in chunks of this many
  // zero bytes, so that a commit's sync flushes its data alone (an
  // fdatasync) instead of also the file system's journal for a new file
  // size, as SQLite's WAL reuses its file. 0: the file grows with each
  // record (one more metadata flush per synced commit on ext4).
  uint64_t journal_preallocate_bytes = 1 << 20;
  // Damage inside the journal (a record that fails its checksum with more
  // data after it) is DataLoss naming the file and offset. With this set,
  // Open instead keeps the commits before the damage, drops the rest
  // (reported in RecoveryInfo) and writes a checkpoint.
  bool recover_to_damage = false;
  // Automatic checkpoints, so the journal (and Open's replay of it) stays
  // bounded without the application calling Checkpoint(): the commit that
  // leaves the current checkpoint's journal at least
  // auto_checkpoint_min_bytes long and at least auto_checkpoint_percent
  // percent of its snapshot's size writes a checkpoint before it returns
  // (Redis's auto-aof-rewrite-percentage and -min-size; SQLite's
  // wal_autocheckpoint). That commit then takes as long as a Checkpoint()
  // (about a snapshot save of the database): a game that would rather pick
  // the moment sets the percent to 0 and calls Checkpoint() at a loading
  // screen, reading Database::Journal() to see how long the journal is.
  // A failed automatic checkpoint does not fail its commit (the commit is
  // already in the journal, which stays in use); Journal() reports the
  // error, and the next attempt waits until the journal has grown by the
  // threshold again.
  uint32_t auto_checkpoint_percent = 100;  // 0: never
  uint64_t auto_checkpoint_min_bytes = uint64_t{16} << 20;
  // Limits for loading the snapshot.
  LoadOptions load;
  // The file system (kin-internal: persist/env.h); nullptr is the
  // operating system's.
  Env* env = nullptr;
};

// What Database::Open found and did.
struct RecoveryInfo {
  std::string dir;
  uint64_t checkpoint = 0;     // the snapshot loaded (0: none, a new database)
  uint64_t segments = 0;       // journal segments replayed
  uint64_t commits = 0;        // commits replayed from them
  uint64_t last_commit = 0;    // the number of the last commit, 0 if none
  uint64_t dropped_bytes = 0;  // journal bytes not replayed
  std::string dropped;         // why (a torn tail, or damage), or empty
};

// The data directory now (Database::Journal()).
struct JournalInfo {
  uint64_t checkpoint = 0;      // the current checkpoint (0: no snapshot yet)
  uint64_t snapshot_bytes = 0;  // its snapshot file's size
  uint64_t journal_bytes = 0;   // its journal so far, every segment
  uint64_t last_commit = 0;     // the number of the last commit journaled
  // Automatic checkpoints (OpenOptions::auto_checkpoint_percent) written
  // since Open, and the last one's failure (OK again once any checkpoint
  // succeeds).
  uint64_t auto_checkpoints = 0;
  absl::Status auto_checkpoint_error;
};

}  // namespace kin

#endif  // KIN_DATA_DIR_H_
