// File protocols for snapshots, over an Env: an atomic replace-by-rename
// write and a bounded whole-file read. Internal to //persist.

#ifndef KIN_PERSIST_FILE_IO_H_
#define KIN_PERSIST_FILE_IO_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persist/env.h"

namespace kin::internal {

// Replaces `path` with what `fill` writes: creates ".NAME.tmp-PID-N" in the
// same directory (with the permissions of the file it replaces), calls
// fill(file) on it, fsyncs it (if `sync`), closes it, renames it over
// `path`, fsyncs the directory (if `sync`). Either the old file or the new
// one is at `path` whatever happens; the temporary is removed on error,
// including an error returned by `fill` (returned as it is). Errors of
// `env` are returned with "save '<path>': <step>" in front.
absl::Status WriteFileAtomically(Env* env, const std::string& path, bool sync,
                                 absl::FunctionRef<absl::Status(WritableFile* file)> fill);

// A whole file's bytes, held in an anonymous mapping that asks for huge
// pages: filling 70 MB then costs a few dozen page faults, not 17,000.
class FileBytes {
 public:
  FileBytes() = default;
  FileBytes(FileBytes&& other) noexcept { *this = std::move(other); }
  FileBytes& operator=(FileBytes&& other) noexcept;
  ~FileBytes();

  absl::string_view view() const { return absl::string_view(data_, size_); }

 private:
  friend absl::StatusOr<FileBytes> ReadWholeFile(
      Env* env, const std::string& path, uint64_t max_bytes,
      absl::FunctionRef<void(const char* data, size_t n, uint64_t file_size)> on_read);

  void* mapping_ = nullptr;
  size_t mapped_ = 0;
  char* data_ = nullptr;
  size_t size_ = 0;
};

// The whole content of a regular file, read through `env`. NotFound when
// missing; DataLoss when not a regular file; ResourceExhausted when larger
// than `max_bytes` (or out of memory). Reads a chunk at a time, calling
// on_read(data, n, file_size) after each chunk with the bytes just read,
// while they are still in the cache.
absl::StatusOr<FileBytes> ReadWholeFile(
    Env* env, const std::string& path, uint64_t max_bytes,
    absl::FunctionRef<void(const char* data, size_t n, uint64_t file_size)> on_read);

}  // namespace kin::internal

#endif  // KIN_PERSIST_FILE_IO_H_
