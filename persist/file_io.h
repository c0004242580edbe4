// File plumbing for snapshots: an atomic replace-by-rename write and a
// bounded whole-file read, with errno turned into Status. Internal to
// //persist.

#ifndef KIN_PERSIST_FILE_IO_H_
#define KIN_PERSIST_FILE_IO_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kin::internal {

// Replaces `path` with `bytes`: writes ".NAME.tmp-PID-N" in the same
// directory, fsyncs it (if `sync`), renames it over `path`, fsyncs the
// directory (if `sync`). Either the old file or the new one is at `path`
// whatever happens; the temporary is removed on error.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes, bool sync);

// The whole content of a regular file. NotFound when missing;
// ResourceExhausted when larger than `max_bytes`.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

}  // namespace kin::internal

#endif  // KIN_PERSIST_FILE_IO_H_
