#include "persist/file_io.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "persist/errors.h"

namespace kin::internal {

namespace {

// Directory part and file part of `path` ("a/b.kin" → "a", "b.kin";
// "b.kin" → ".", "b.kin").
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Distinguishes temporary files of one process's concurrent saves.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

absl::Status WriteFileAtomically(Env* env, const std::string& path, bool sync,
                                 absl::FunctionRef<absl::Status(WritableFile* file)> fill) {
  auto [dir, base] = SplitPath(path);
  if (base.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("save ", FileLabel(path), ": the path names a directory, not a file"));
  }
  // NewWritableFile never opens an existing file: a stale temporary left by
  // a crash, or another process's, makes it try the next name. The pid
  // keeps processes sharing a directory apart.
  std::string temp;
  absl::StatusOr<std::unique_ptr<WritableFile>> created;
  absl::string_view prefix = dir == "/" ? "" : absl::string_view(dir);
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = absl::StrCat(prefix, "/.", base, ".tmp-", ::getpid(), "-", temp_counter++);
    created = env->NewWritableFile(temp, WritableFileOptions{.permissions_from = path});
    if (created.ok() || !absl::IsAlreadyExists(created.status())) break;
  }
  if (!created.ok()) {
    return SaveFailed(path, absl::StrCat("cannot create a temporary file in '", dir, "'"),
                      created.status());
  }
  std::unique_ptr<WritableFile> file = *std::move(created);
  // The file is closed before it is removed (and its close error, if any,
  // dropped: the first error is the one to report).
  auto fail = [&](absl::string_view what, const absl::Status& cause) {
    file.reset();
    env->RemoveFile(temp).IgnoreError();
    return what.empty() ? cause : SaveFailed(path, what, cause);
  };
  if (absl::Status filled = fill(file.get()); !filled.ok()) return fail("", filled);
  if (sync) {
    if (absl::Status s = file->Sync(); !s.ok()) return fail("cannot flush the temporary file", s);
  }
  if (absl::Status s = file->Close(); !s.ok()) return fail("cannot close the temporary file", s);
  // The atomic step: until here `path` is untouched, after it it is whole.
  if (absl::Status s = env->RenameFile(temp, path); !s.ok()) {
    return fail("cannot rename the temporary file over it", s);
  }
  file.reset();
  // Makes the rename itself durable: without this a power loss can bring
  // back the old directory entry.
  if (sync) {
    if (absl::Status s = env->SyncDirectory(dir); !s.ok()) {
      return SaveFailed(path,
                        absl::StrCat("saved, but cannot flush directory '", dir,
                                     "' (the save may not survive a power loss)"),
                        s);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FileBytes> ReadWholeFile(
    Env* env, const std::string& path, uint64_t max_bytes,
    absl::FunctionRef<void(const char* data, size_t n, uint64_t file_size)> on_read) {
  absl::StatusOr<std::unique_ptr<SequentialFile>> opened = env->NewSequentialFile(path);
  if (!opened.ok()) {
    if (absl::IsNotFound(opened.status())) return NoSuchSnapshot(path);
    return LoadFailed(path, "cannot open", opened.status());
  }
  SequentialFile& file = **opened;
  if (file.type() != FileType::kRegular) {
    return BadSnapshot(FileLabel(path), file.type() == FileType::kDirectory
                                            ? "not a kin snapshot (a directory)"
                                            : "not a regular file");
  }
  uint64_t size = file.size();
  if (size > max_bytes) {
    return OverLimit(FileLabel(path), absl::StrCat(size,
                                                   " bytes, over the limit of "
                                                   "LoadOptions::max_bytes (",
                                                   max_bytes, ")"));
  }
  // Sized by the file system, not by anything inside the file. If the file
  // changes size while being read, the envelope check reports it.
  FileBytes bytes;
  size_t want = static_cast<size_t>(size);
  if (want > 0) {
    // Rounded to whole 2 MiB pages, plus one for aligning the start.
    constexpr size_t kHuge = size_t{2} << 20;
    size_t mapped = (want + kHuge - 1) / kHuge * kHuge + kHuge;
    void* mapping =
        ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) return OverLimit(FileLabel(path), "out of memory");
    bytes.mapping_ = mapping;
    bytes.mapped_ = mapped;
    uintptr_t start = (reinterpret_cast<uintptr_t>(mapping) + kHuge - 1) & ~(kHuge - 1);
    bytes.data_ = reinterpret_cast<char*>(start);
    // Advice only: without transparent huge pages this is a plain mapping.
    ::madvise(bytes.data_, mapped - kHuge, MADV_HUGEPAGE);
  }
  // 1 MiB at a time: small enough that on_read finds the chunk in the L2
  // cache.
  constexpr size_t kChunk = size_t{1} << 20;
  size_t done = 0;
  while (done < want) {
    absl::StatusOr<size_t> n = file.Read(bytes.data_ + done, std::min(kChunk, want - done));
    if (!n.ok()) return LoadFailed(path, "cannot read", n.status());
    if (*n == 0) break;
    on_read(bytes.data_ + done, *n, size);
    done += *n;
  }
  bytes.size_ = done;
  return bytes;
}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  std::swap(mapping_, other.mapping_);
  std::swap(mapped_, other.mapped_);
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  return *this;
}

FileBytes::~FileBytes() {
  if (mapping_ != nullptr) ::munmap(mapping_, mapped_);
}

}  // namespace kin::internal
