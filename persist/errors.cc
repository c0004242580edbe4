#include "persist/errors.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace kin::internal {

std::string FileLabel(absl::string_view path) { return absl::StrCat("'", path, "'"); }

absl::Status BadSnapshot(absl::string_view label, absl::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot ", label, ": ", what));
}

absl::Status OverLimit(absl::string_view label, absl::string_view what) {
  return absl::ResourceExhaustedError(absl::StrCat("snapshot ", label, ": ", what));
}

absl::Status NoSuchSnapshot(absl::string_view path) {
  return absl::NotFoundError(absl::StrCat("snapshot ", FileLabel(path), ": no such file"));
}

absl::Status OsError(absl::string_view verb, absl::string_view path, absl::string_view what,
                     int error_number) {
  return ErrnoError(absl::StrCat(verb, " ", FileLabel(path), ": ", what), error_number);
}

absl::Status ErrnoError(absl::string_view what, int error_number) {
  absl::StatusCode code;
  switch (error_number) {
    case ENOENT:
      code = absl::StatusCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = absl::StatusCode::kPermissionDenied;
      break;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case ENOTDIR:
    case EISDIR:
      code = absl::StatusCode::kFailedPrecondition;
      break;
    default:
      code = absl::ErrnoToStatusCode(error_number);
      break;
  }
  // strerror's text starts with a capital ("Permission denied"); kin's
  // messages are lowercase throughout.
  std::string reason = std::strerror(error_number);
  if (!reason.empty()) reason[0] = absl::ascii_tolower(static_cast<unsigned char>(reason[0]));
  return absl::Status(code, absl::StrCat(what, ": ", reason));
}

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

absl::Status SaveFailed(absl::string_view path, absl::string_view what, const absl::Status& cause) {
  return Annotate(cause, absl::StrCat("save ", FileLabel(path), ": ", what));
}

absl::Status LoadFailed(absl::string_view path, absl::string_view what, const absl::Status& cause) {
  return Annotate(cause, absl::StrCat("snapshot ", FileLabel(path), ": ", what));
}

}  // namespace kin::internal
