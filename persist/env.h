// The platform seam for files (leveldb's include/leveldb/env.h is the
// model): snapshots read and write files only through an Env, so the POSIX
// calls live in one file (env_posix.cc) and tests can put an in-memory,
// fault-injecting Env in its place (tests/persist/memory_env.h).
// SnapshotOptions::env / LoadOptions::env (kin/snapshot.h) choose one;
// nullptr means Env::Default().
//
// Internal to //persist, its tests and benchmarks: kin/snapshot.h only
// forward-declares Env.
//
// Errors are statuses naming the operation and the file, with the OS's
// reason, coded as FileError below codes errno:
//   "write 'saves/.world.kin.tmp-7-0': no space left on device"
// Callers put their own context in front (persist/errors.h, Annotate).

#ifndef KIN_PERSIST_ENV_H_
#define KIN_PERSIST_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kin {

// What a path named when it was opened.
enum class FileType { kRegular, kDirectory, kOther };

// A file read from start to end. Not thread-safe.
class SequentialFile {
 public:
  SequentialFile() = default;
  SequentialFile(const SequentialFile&) = delete;
  SequentialFile& operator=(const SequentialFile&) = delete;
  virtual ~SequentialFile();

  // The file's size and type when it was opened (a file that changes
  // afterwards is the reader's problem: snapshots find it in the envelope).
  virtual uint64_t size() const = 0;
  virtual FileType type() const = 0;

  // Reads up to `n` bytes into `scratch` and returns how many were read;
  // 0 only at the end of the file. Retries interrupted reads.
  virtual absl::StatusOr<size_t> Read(char* scratch, size_t n) = 0;
};

// A new file being written. Not thread-safe. Close() reports the last
// errors (some file systems report failed write-back only there);
// destroying a file that was not closed closes it and drops any error.
class WritableFile {
 public:
  WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;
  virtual ~WritableFile();

  // Adds `data` at the end of the file; all of it or an error.
  virtual absl::Status Append(absl::string_view data) = 0;
  // Overwrites bytes already appended, starting at `offset` (a header whose
  // fields are known only once the rest is written).
  // REQUIRES: offset + data.size() <= bytes appended so far.
  virtual absl::Status WriteAt(uint64_t offset, absl::string_view data) = 0;
  // Makes everything written so far durable (fsync): it survives a power
  // loss once Sync() returns OK.
  virtual absl::Status Sync() = 0;
  // Closes the file; no call may follow.
  virtual absl::Status Close() = 0;
};

struct WritableFileOptions {
  // When this names an existing regular file, the new file takes its
  // permission bits (a save replacing a private file stays private);
  // otherwise the process's umask decides, as for any file it creates.
  std::string permissions_from;
  // When non-zero, the file grows ahead of the data in chunks of zero
  // bytes (as large as the file so far, from 64 KiB up to this), really
  // written (not fallocate's unwritten extents, whose
  // first write is a metadata change), and Sync() is an fdatasync: a write
  // into a chunk already synced changes no metadata that reading the data
  // back needs, so the sync flushes the data alone instead of also
  // committing the file system's journal for the new size (SQLite's WAL
  // reuses its file for the same reason). Readers must then take zeros
  // after the data for its end (the kin journal does). Close() truncates
  // the file to the data. Implementations may ignore it (MemoryEnv does).
  uint64_t preallocate_bytes = 0;
};

// Files and directories by path. Implementations are thread-safe unless
// they say otherwise.
class Env {
 public:
  Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  virtual ~Env();

  // The POSIX file system. Never deleted; thread-safe.
  static Env* Default();

  // Opens `path` for reading. NotFound when it does not exist. A directory
  // opens (type() says so) where the platform allows it.
  virtual absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) = 0;

  // Creates `path`, which must not exist: AlreadyExists otherwise, so a
  // writer never writes into someone else's file. NotFound when the
  // directory does not exist.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) = 0;

  // Renames `from` to `to` atomically, replacing a file at `to` (a symlink
  // at `to` is replaced, not followed). The new name is durable only after
  // SyncDirectory.
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;

  virtual absl::Status RemoveFile(const std::string& path) = 0;

  // Makes the directory's entries (files created, renamed or removed in it)
  // durable.
  virtual absl::Status SyncDirectory(const std::string& dir) = 0;

  // The names (not paths) of the entries of `dir`, without "." and "..", in
  // no particular order. NotFound when it does not exist.
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  // Creates the directory `dir` (its parent must exist); OK when it already
  // is a directory. Durable once its parent is synced.
  virtual absl::Status CreateDir(const std::string& dir) = 0;
};

// For Env implementations: the status of `operation` on `path` failing with
// `error_number`, "<operation> '<path>': <strerror, lowercase>". ENOENT is
// NotFound; EACCES, EPERM, EROFS PermissionDenied; ENOSPC, EDQUOT, EFBIG
// ResourceExhausted; ENOTDIR, EISDIR FailedPrecondition; EEXIST
// AlreadyExists; others as absl::ErrnoToStatusCode.
absl::Status FileError(absl::string_view operation, absl::string_view path, int error_number);

}  // namespace kin

#endif  // KIN_PERSIST_ENV_H_
