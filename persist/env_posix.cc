// Env::Default(): files through POSIX calls. The only file in persist/ that
// calls open/read/write/fsync/rename on files.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "persist/env.h"

namespace kin {

namespace {

class PosixSequentialFile : public SequentialFile {
 public:
  PosixSequentialFile(int fd, std::string path, uint64_t size, FileType type)
      : fd_(fd), path_(std::move(path)), size_(size), type_(type) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  FileType type() const override { return type_; }

  absl::StatusOr<size_t> Read(char* scratch, size_t n) override {
    while (true) {
      ssize_t done = ::read(fd_, scratch, n);
      if (done >= 0) return static_cast<size_t>(done);
      if (errno != EINTR) return FileError("read", path_, errno);
    }
  }

 private:
  const int fd_;
  const std::string path_;
  const uint64_t size_;
  const FileType type_;
};

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path, uint64_t chunk)
      : fd_(fd), path_(std::move(path)), chunk_(chunk) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(absl::string_view data) override {
    if (chunk_ == 0) {
      while (!data.empty()) {
        ssize_t done = ::write(fd_, data.data(), data.size());
        if (done < 0 && errno == EINTR) continue;
        // write() returning 0 for a non-empty buffer would loop forever;
        // report it as the I/O error it is.
        if (done <= 0) return FileError("write", path_, done < 0 ? errno : EIO);
        data.remove_prefix(static_cast<size_t>(done));
      }
      return absl::OkStatus();
    }
    // The data first, then the zeros after it: a file cut by a crash holds
    // its data before any zeros of the new chunk.
    if (absl::Status s = WriteAt(size_, data); !s.ok()) return s;
    size_ += data.size();
    if (size_ > allocated_) {
      // Chunks grow with the file, from 64 KiB up to chunk_: a new file
      // (each Open and Checkpoint starts one) writes few zeros, a long one
      // extends (and pays a metadata flush) rarely.
      const uint64_t step =
          std::max<uint64_t>(std::min<uint64_t>(std::max<uint64_t>(allocated_, 64 << 10), chunk_), 1);
      const uint64_t grown = (size_ + step - 1) / step * step;
      if (absl::Status s = WriteZeros(size_, grown - size_); !s.ok()) return s;
      allocated_ = grown;
    }
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    while (!data.empty()) {
      ssize_t done = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset));
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) return FileError("write", path_, done < 0 ? errno : EIO);
      data.remove_prefix(static_cast<size_t>(done));
      offset += static_cast<uint64_t>(done);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    // EINTR is retried: the data is still to be flushed. Any other error
    // leaves the data's durability unknown, which the caller must treat as
    // a failed save. A preallocated file syncs its data only: fdatasync
    // still flushes a size change (the size is needed to read the data
    // back), and between chunks there is none.
    while ((chunk_ == 0 ? ::fsync(fd_) : ::fdatasync(fd_)) != 0) {
      if (errno != EINTR) return FileError(chunk_ == 0 ? "fsync" : "fdatasync", path_, errno);
    }
    return absl::OkStatus();
  }

  absl::Status Close() override {
    int fd = fd_;
    fd_ = -1;
    // The zeros after the data go; unsynced, so a crash may keep them,
    // which readers of a preallocated file accept.
    absl::Status status;
    if (chunk_ != 0 && allocated_ > size_ && ::ftruncate(fd, static_cast<off_t>(size_)) != 0) {
      status = FileError("truncate", path_, errno);
    }
    // Not retried on EINTR: Linux releases the descriptor whatever close()
    // returns, and a retry could close a descriptor another thread just
    // opened.
    if (::close(fd) != 0 && status.ok()) status = FileError("close", path_, errno);
    return status;
  }

 private:
  absl::Status WriteZeros(uint64_t offset, uint64_t n) {
    static constexpr size_t kZeros = 64 * 1024;
    static const char* const zeros = new char[kZeros]();
    while (n > 0) {
      const size_t part = static_cast<size_t>(std::min<uint64_t>(n, kZeros));
      if (absl::Status s = WriteAt(offset, absl::string_view(zeros, part)); !s.ok()) return s;
      offset += part;
      n -= part;
    }
    return absl::OkStatus();
  }

  int fd_;
  const std::string path_;
  const uint64_t chunk_;    // WritableFileOptions::preallocate_bytes
  uint64_t size_ = 0;       // bytes appended (with chunk_ only)
  uint64_t allocated_ = 0;  // bytes of the file: the data, then zeros
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FileError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int error_number = errno;
      ::close(fd);
      return FileError("fstat", path, error_number);
    }
    FileType type = S_ISREG(st.st_mode)   ? FileType::kRegular
                    : S_ISDIR(st.st_mode) ? FileType::kDirectory
                                          : FileType::kOther;
    return std::make_unique<PosixSequentialFile>(fd, path, static_cast<uint64_t>(st.st_size), type);
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path, const WritableFileOptions& options) override {
    // Mode 0666: the umask decides, as for any file the program creates.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return FileError("open", path, errno);
    auto file = std::make_unique<PosixWritableFile>(fd, path, options.preallocate_bytes);
    struct stat like;
    if (!options.permissions_from.empty() && ::stat(options.permissions_from.c_str(), &like) == 0 &&
        S_ISREG(like.st_mode) && ::fchmod(fd, like.st_mode & 07777) != 0) {
      int error_number = errno;
      file.reset();
      ::unlink(path.c_str());
      return FileError("fchmod", path, error_number);
    }
    return file;
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return FileError(absl::StrCat("rename '", from, "' to"), to, errno);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return FileError("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return FileError("open directory", dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const struct dirent* entry = ::readdir(d)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    const int read_error = errno;
    ::closedir(d);
    if (read_error != 0) return FileError("read directory", dir, read_error);
    return names;
  }

  absl::Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0777) == 0) return absl::OkStatus();
    const int error = errno;
    struct stat st;
    if (error == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return absl::OkStatus();
    }
    return FileError("mkdir", dir, error);
  }

  absl::Status SyncDirectory(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return FileError("open directory", dir, errno);
    absl::Status status;
    while (::fsync(fd) != 0) {
      if (errno != EINTR) {
        status = FileError("fsync directory", dir, errno);
        break;
      }
    }
    if (::close(fd) != 0 && status.ok()) status = FileError("close directory", dir, errno);
    return status;
  }
};

}  // namespace

Env* Env::Default() {
  // Never destroyed (built in static storage, as leveldb's SingletonEnv),
  // so a save from a static destructor or a detached thread still finds it.
  alignas(PosixEnv) static unsigned char storage[sizeof(PosixEnv)];
  static Env* const env = ::new (storage) PosixEnv();
  return env;
}

}  // namespace kin
