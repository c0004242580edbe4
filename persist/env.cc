#include "persist/env.h"

#include "absl/strings/str_cat.h"
#include "persist/errors.h"

namespace kin {

SequentialFile::~SequentialFile() = default;
WritableFile::~WritableFile() = default;
Env::~Env() = default;

absl::Status FileError(absl::string_view operation, absl::string_view path, int error_number) {
  return internal::ErrnoError(absl::StrCat(operation, " ", internal::FileLabel(path)),
                              error_number);
}

}  // namespace kin
