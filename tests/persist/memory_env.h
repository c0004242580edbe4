// An in-memory Env for tests (leveldb's helpers/memenv is the model), with
// fault injection: make the Nth call of an operation fail, or simulate a
// power loss that keeps only what was made durable.
//
// Durability follows POSIX's contract, not a friendly file system's: a
// file's bytes survive a crash only up to its last Sync(), and a name
// (created, renamed, removed) only once its directory was synced. There
// are no directories otherwise: any path can be created.
//
// Not thread-safe: one test thread at a time.

#ifndef KIN_TESTS_PERSIST_MEMORY_ENV_H_
#define KIN_TESTS_PERSIST_MEMORY_ENV_H_

#include <array>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persist/env.h"

namespace kin::test {

// The operations a MemoryEnv counts and can make fail.
enum class FileOp {
  kCreate,         // Env::NewWritableFile
  kAppend,         // WritableFile::Append
  kWriteAt,        // WritableFile::WriteAt
  kSync,           // WritableFile::Sync
  kClose,          // WritableFile::Close
  kRename,         // Env::RenameFile
  kRemove,         // Env::RemoveFile
  kSyncDirectory,  // Env::SyncDirectory
  kOpen,           // Env::NewSequentialFile
  kRead,           // SequentialFile::Read
};
inline constexpr std::array kAllFileOps = {
    FileOp::kCreate, FileOp::kAppend, FileOp::kWriteAt,       FileOp::kSync, FileOp::kClose,
    FileOp::kRename, FileOp::kRemove, FileOp::kSyncDirectory, FileOp::kOpen, FileOp::kRead,
};

// How a failing operation names itself in its status: "append", "rename"...
absl::string_view FileOpName(FileOp op);

class MemoryEnv : public Env {
 public:
  MemoryEnv();
  ~MemoryEnv() override;

  // Makes the `n`th call of `op` from now (1: the next one) fail with
  // `error_number`, coded and worded as FileError does; the failing call
  // changes nothing.
  void FailNth(FileOp op, int n, int error_number = EIO);
  // A short write: the `n`th Append from now writes only its first `keep`
  // bytes, then fails with `error_number` (a full disk mid-write).
  void ShortWriteNth(int n, size_t keep, int error_number = ENOSPC);
  // Makes the process "die" just before the `n`th call of `op` from now:
  // Crash() happens there, and every call fails until Restart().
  void CrashBeforeNth(FileOp op, int n);
  // A power loss now: every file keeps only its synced bytes, and each
  // directory the names it had when last synced.
  void Crash();
  // The process starts again after a crash: calls work, pending faults are
  // dropped.
  void Restart();

  // Calls of `op` so far (failed ones included).
  int count(FileOp op) const { return counts_[static_cast<size_t>(op)]; }
  // Every file's path, sorted.
  std::vector<std::string> FileNames() const;
  // A file's current bytes; nullopt when there is no such file.
  std::optional<std::string> Contents(const std::string& path) const;

  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status SyncDirectory(const std::string& dir) override;
  // The files whose path is `dir` + "/" + name (there are no directories:
  // an empty list, never NotFound).
  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override;
  absl::Status CreateDir(const std::string& dir) override;

 private:
  friend class MemorySequentialFile;
  friend class MemoryWritableFile;

  // A file's bytes: `data` as the process sees them, `synced` as of the
  // last Sync(). Shared by the names and open files that refer to it.
  struct FileState {
    std::string data;
    std::string synced;
  };
  struct Fault {
    FileOp op;
    int at;  // the count of `op` at which it fires
    int error_number;
    bool crash;
    size_t keep = 0;  // kAppend: bytes written before failing
  };
  using Names = std::map<std::string, std::shared_ptr<FileState>>;

  // Counts a call of `op` on `path` and returns its injected failure, if
  // any.
  absl::Status Check(FileOp op, absl::string_view path);

  Names files_;    // what the process sees
  Names durable_;  // what a crash leaves
  std::array<int, kAllFileOps.size()> counts_{};
  std::vector<Fault> faults_;
  bool crashed_ = false;
  size_t short_write_ = 0;  // set by Check for a short write, read by Append
};

}  // namespace kin::test

#endif  // KIN_TESTS_PERSIST_MEMORY_ENV_H_
