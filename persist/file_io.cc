#include "persist/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "persist/errors.h"

namespace kin::internal {

namespace {

// Closes a file descriptor on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting close()'s errno (0 when fine): on some file
  // systems a failed write-back is only reported here.
  int Close() {
    int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Directory part and file part of `path` ("a/b.kin" → "a", "b.kin";
// "b.kin" → ".", "b.kin").
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

int SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  Fd closer(fd);
  if (::fsync(fd) != 0) return errno;
  return closer.Close();
}

// Distinguishes temporary files of one process's concurrent saves.
std::atomic<uint64_t> temp_counter{0};

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, bool sync,
                                 absl::FunctionRef<absl::Status(int fd)> fill) {
  auto [dir, base] = SplitPath(path);
  if (base.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("save ", FileLabel(path), ": the path names a directory, not a file"));
  }
  // O_EXCL: never write into someone else's file, even a stale temporary
  // left by a crash (then try the next name). Mode 0666 lets the umask
  // decide, as for any file the program creates.
  std::string temp;
  int fd = -1;
  absl::string_view prefix = dir == "/" ? "" : absl::string_view(dir);
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp = absl::StrCat(prefix, "/.", base, ".tmp-", ::getpid(), "-", temp_counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    return OsError("save", path, absl::StrCat("cannot create a temporary file in '", dir, "'"),
                   errno);
  }
  Fd file(fd);
  auto fail = [&](absl::string_view what, int error_number) {
    ::unlink(temp.c_str());
    return OsError("save", path, what, error_number);
  };
  // A save replacing a file keeps that file's permissions (a private save
  // stays private).
  struct stat target;
  if (::stat(path.c_str(), &target) == 0 && S_ISREG(target.st_mode) &&
      ::fchmod(fd, target.st_mode & 07777) != 0) {
    return fail("cannot set the temporary file's permissions", errno);
  }
  if (absl::Status filled = fill(fd); !filled.ok()) {
    ::unlink(temp.c_str());
    return filled;
  }
  if (sync && ::fsync(fd) != 0) return fail("cannot flush the temporary file", errno);
  if (int e = file.Close(); e != 0) return fail("cannot close the temporary file", e);
  // The atomic step: until here `path` is untouched, after it it is whole.
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return fail("cannot rename the temporary file over it", errno);
  }
  // Makes the rename itself durable: without this a power loss can bring
  // back the old directory entry.
  if (sync) {
    if (int e = SyncDirectory(dir); e != 0) {
      return OsError("save", path,
                     absl::StrCat("saved, but cannot flush directory '", dir,
                                  "' (the save may not survive a power loss)"),
                     e);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FileBytes> ReadWholeFile(
    const std::string& path, uint64_t max_bytes,
    absl::FunctionRef<void(const char* data, size_t n, uint64_t file_size)> on_read) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NoSuchSnapshot(path);
    return OsError("snapshot", path, "cannot open", errno);
  }
  Fd file(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return OsError("snapshot", path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) {
    return BadSnapshot(FileLabel(path), S_ISDIR(st.st_mode) ? "not a kin snapshot (a directory)"
                                                            : "not a regular file");
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) {
    return OverLimit(FileLabel(path), absl::StrCat(size, " bytes, over the limit of "
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
    void* mapping = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                           -1, 0);
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
    ssize_t n = ::read(fd, bytes.data_ + done, std::min(kChunk, want - done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return OsError("snapshot", path, "cannot read", errno);
    }
    if (n == 0) break;
    on_read(bytes.data_ + done, static_cast<size_t>(n), size);
    done += static_cast<size_t>(n);
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
