// The journal: committed transactions appended to a file between
// checkpoints (snapshots), so a crash loses no committed work. The record
// framing follows leveldb's log and Redis's AOF in spirit: each record is
// self-checking, and a torn tail (a record cut by a crash mid-append) is
// told apart from damage inside the file.
//
// File: an 8-byte magic "KINJRNL1", a u64 base (the number of the last
// commit before this file's first record), then records:
//   u32 payload length | u64 XXH3-64 of the payload | payload
// Payload: u64 commit number | u32 change count | changes, each
//   u8 kind (0 insert, 1 update, 2 delete) | u32 table name length | name |
//   u32 slot | u32 cell count | cells, each u32 column id | value
// Values: u8 tag (0 NULL, 1 int64, 2 double, 3 bool, 4 string) then 8
// bytes, 8 bytes, 1 byte, or u32 length + bytes. Little-endian throughout.
// An insert carries every column, an update the changed columns' new
// values, a delete no cell: replay applies them physically
// (Engine::Replay), so the slots, free lists and auto-increment counters
// come out as they were.
//
// Internal to kin: the public side is Database::Open (kin/data_dir.h).

#ifndef KIN_PERSIST_JOURNAL_H_
#define KIN_PERSIST_JOURNAL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kin/change.h"
#include "kin/data_dir.h"
#include "persist/env.h"

namespace kin::internal {

inline constexpr char kJournalMagic[8] = {'K', 'I', 'N', 'J', 'R', 'N', 'L', '1'};
inline constexpr size_t kJournalHeaderSize = 16;  // magic + u64 base
inline constexpr size_t kRecordHeaderSize = 12;   // u32 length + u64 checksum

// Appends `commit` as one framed record, numbered `number`, to `out`.
void AppendRecord(const Commit& commit, uint64_t number, std::string* out);

// One record read back. The changes' table names point into the scan's
// copy of the file: valid during ScanJournal's `apply` call only.
struct JournalRecord {
  uint64_t number = 0;
  uint64_t offset = 0;  // of its header in the file
  std::vector<RowChange> changes;
};

// What reading a journal file found.
struct JournalScan {
  uint64_t base = 0;  // from the header
  uint64_t records = 0;
  uint64_t last_number = 0;
  uint64_t valid_bytes = 0;  // through the end of the last good record
  uint64_t file_bytes = 0;
  // Through the last byte that is not a zero of a preallocated tail (at
  // least valid_bytes): what was written.
  uint64_t data_bytes = 0;
  // Empty, or why bytes after valid_bytes were not used: a torn tail (a
  // record cut short, or a last record whose checksum fails: what a crash
  // mid-append leaves), or, with stop_at_damage, damage followed by more
  // data.
  std::string dropped;
  bool damaged = false;  // the drop was damage, not a torn tail
};

// Reads the journal at `path`, calling `apply` on the good records in
// order, in batches of up to kReplayBatch consecutive ones (valid during
// the call only); an error from `apply` stops the scan and is returned. A record
// that fails its checksum or does not decode while more data follows it is
// DataLoss naming the file and the offset, unless `stop_at_damage`: then
// the scan stops there and says so in `dropped`.
inline constexpr size_t kReplayBatch = 64;
absl::StatusOr<JournalScan> ScanJournal(
    Env& env, const std::string& path, bool stop_at_damage,
    absl::FunctionRef<absl::Status(std::span<const JournalRecord>)> apply);

// Appends records to a new journal file and makes them durable by policy.
class JournalWriter {
 public:
  // Creates `path` (which must not exist) with the magic and `base`,
  // synced, and the directory synced, so the file exists after a crash.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> Create(Env& env, const std::string& dir,
                                                               const std::string& path,
                                                               uint64_t base,
                                                               const OpenOptions& options);
  ~JournalWriter();

  // Appends the record; then, by policy: fsync (kEveryCommit), fsync when
  // the last one is older than the group interval (kGrouped), or nothing
  // (kNone).
  absl::Status Append(const Commit& commit, uint64_t number);
  // Makes every appended record durable.
  absl::Status Sync();
  absl::Status Close();
  uint64_t bytes() const { return bytes_; }
  uint64_t syncs() const { return syncs_; }

 private:
  JournalWriter(std::unique_ptr<WritableFile> file, const OpenOptions& options);

  std::unique_ptr<WritableFile> file_;
  SyncPolicy policy_;
  std::chrono::milliseconds group_interval_;
  std::chrono::steady_clock::time_point last_sync_;
  bool unsynced_ = false;
  uint64_t bytes_ = 0;
  uint64_t syncs_ = 0;
  std::string buffer_;  // one record, reused
};

}  // namespace kin::internal

#endif  // KIN_PERSIST_JOURNAL_H_
