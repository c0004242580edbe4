// Wording of persist/ errors, in one place so messages stay uniform and
// tests can match substrings. Internal to //persist.

#ifndef KIN_PERSIST_ERRORS_H_
#define KIN_PERSIST_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kin::internal {

// How messages name what is read or written: "'saves/world.kin'" for a
// file, "(bytes)" for a buffer, "(stream)" for a stream.
std::string FileLabel(absl::string_view path);
inline constexpr absl::string_view kBytesLabel = "(bytes)";
inline constexpr absl::string_view kStreamLabel = "(stream)";

// DataLoss: "snapshot 'w.kin': <what>"
absl::Status BadSnapshot(absl::string_view label, absl::string_view what);
// ResourceExhausted: "snapshot 'w.kin': <what>"
absl::Status OverLimit(absl::string_view label, absl::string_view what);
// NotFound: "snapshot 'w.kin': no such file"
absl::Status NoSuchSnapshot(absl::string_view path);
// An OS error while reading or writing, coded by errno: "<verb> 'w.kin':
// <what>: permission denied". ENOENT → NotFound; EACCES, EPERM, EROFS →
// PermissionDenied; ENOSPC, EDQUOT, EFBIG → ResourceExhausted; ENOTDIR,
// EISDIR → FailedPrecondition; others as absl::ErrnoToStatusCode.
absl::Status OsError(absl::string_view verb, absl::string_view path, absl::string_view what,
                     int error_number);
// The same coding for a failed system call described by `what` (which
// names the call and the file): "<what>: permission denied".
absl::Status ErrnoError(absl::string_view what, int error_number);
// `status` with `context` in front of its message ("<context>: <message>"),
// keeping its code, so a low-level error (an Env's "write 'x.tmp': ...")
// reads as what it meant to the caller ("save 'x': cannot write ...").
absl::Status Annotate(const absl::Status& status, absl::string_view context);
// A failed step of saving or loading file `path`, caused by an Env error:
// "save 'w.kin': <what>: <cause's message>" / "snapshot 'w.kin': <what>:
// <cause's message>", with the cause's code.
absl::Status SaveFailed(absl::string_view path, absl::string_view what, const absl::Status& cause);
absl::Status LoadFailed(absl::string_view path, absl::string_view what, const absl::Status& cause);

}  // namespace kin::internal

#endif  // KIN_PERSIST_ERRORS_H_
