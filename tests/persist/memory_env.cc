#include "tests/persist/memory_env.h"

#include <algorithm>
#include <utility>

namespace kin::test {

namespace {

// The directory part of `path`, as the atomic save splits it ("a/b" → "a",
// "b" → ".", "/b" → "/").
std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

absl::string_view FileOpName(FileOp op) {
  switch (op) {
    case FileOp::kCreate:
      return "create";
    case FileOp::kAppend:
      return "append";
    case FileOp::kWriteAt:
      return "write at";
    case FileOp::kSync:
      return "sync";
    case FileOp::kClose:
      return "close";
    case FileOp::kRename:
      return "rename";
    case FileOp::kRemove:
      return "remove";
    case FileOp::kSyncDirectory:
      return "sync directory";
    case FileOp::kOpen:
      return "open";
    case FileOp::kRead:
      return "read";
  }
  return "?";
}

// A copy of the file's bytes when it was opened.
class MemorySequentialFile : public SequentialFile {
 public:
  MemorySequentialFile(MemoryEnv* env, std::string path, std::string data)
      : env_(env), path_(std::move(path)), data_(std::move(data)) {}

  uint64_t size() const override { return data_.size(); }
  FileType type() const override { return FileType::kRegular; }

  absl::StatusOr<size_t> Read(char* scratch, size_t n) override {
    if (absl::Status s = env_->Check(FileOp::kRead, path_); !s.ok()) return s;
    size_t part = std::min(n, data_.size() - pos_);
    data_.copy(scratch, part, pos_);
    pos_ += part;
    return part;
  }

 private:
  MemoryEnv* env_;
  std::string path_;
  std::string data_;
  size_t pos_ = 0;
};

class MemoryWritableFile : public WritableFile {
 public:
  MemoryWritableFile(MemoryEnv* env, std::string path, std::shared_ptr<MemoryEnv::FileState> state)
      : env_(env), path_(std::move(path)), state_(std::move(state)) {}

  absl::Status Append(absl::string_view data) override {
    if (absl::Status s = env_->Check(FileOp::kAppend, path_); !s.ok()) {
      state_->data.append(data.data(), std::min(env_->short_write_, data.size()));
      env_->short_write_ = 0;
      return s;
    }
    state_->data.append(data.data(), data.size());
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, absl::string_view data) override {
    if (absl::Status s = env_->Check(FileOp::kWriteAt, path_); !s.ok()) return s;
    if (offset > state_->data.size() || data.size() > state_->data.size() - offset) {
      return absl::OutOfRangeError("write at: past the bytes appended");
    }
    state_->data.replace(static_cast<size_t>(offset), data.size(), data.data(), data.size());
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (absl::Status s = env_->Check(FileOp::kSync, path_); !s.ok()) return s;
    state_->synced = state_->data;
    return absl::OkStatus();
  }

  absl::Status Close() override { return env_->Check(FileOp::kClose, path_); }

 private:
  MemoryEnv* env_;
  std::string path_;
  std::shared_ptr<MemoryEnv::FileState> state_;
};

MemoryEnv::MemoryEnv() = default;
MemoryEnv::~MemoryEnv() = default;

void MemoryEnv::FailNth(FileOp op, int n, int error_number) {
  faults_.push_back({op, count(op) + n, error_number, /*crash=*/false});
}

void MemoryEnv::ShortWriteNth(int n, size_t keep, int error_number) {
  faults_.push_back(
      {FileOp::kAppend, count(FileOp::kAppend) + n, error_number, /*crash=*/false, keep});
}

void MemoryEnv::CrashBeforeNth(FileOp op, int n) {
  faults_.push_back({op, count(op) + n, EIO, /*crash=*/true});
}

void MemoryEnv::Crash() {
  files_ = durable_;
  for (auto& [name, state] : files_) state->data = state->synced;
}

void MemoryEnv::Restart() {
  crashed_ = false;
  faults_.clear();
}

std::vector<std::string> MemoryEnv::FileNames() const {
  std::vector<std::string> names;
  for (const auto& [name, state] : files_) names.push_back(name);
  return names;
}

std::optional<std::string> MemoryEnv::Contents(const std::string& path) const {
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second->data;
}

absl::Status MemoryEnv::Check(FileOp op, absl::string_view path) {
  int n = ++counts_[static_cast<size_t>(op)];
  // A dead process does nothing more; its calls "fail" so the code under
  // test stops where it is.
  if (crashed_) return FileError(FileOpName(op), path, EIO);
  for (const Fault& fault : faults_) {
    if (fault.op != op || fault.at != n) continue;
    if (fault.crash) {
      Crash();
      crashed_ = true;
    }
    short_write_ = fault.keep;
    return FileError(FileOpName(op), path, fault.error_number);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SequentialFile>> MemoryEnv::NewSequentialFile(
    const std::string& path) {
  if (absl::Status s = Check(FileOp::kOpen, path); !s.ok()) return s;
  auto it = files_.find(path);
  if (it == files_.end()) return FileError(FileOpName(FileOp::kOpen), path, ENOENT);
  return std::make_unique<MemorySequentialFile>(this, path, it->second->data);
}

absl::StatusOr<std::unique_ptr<WritableFile>> MemoryEnv::NewWritableFile(
    const std::string& path, const WritableFileOptions& /*options*/) {
  if (absl::Status s = Check(FileOp::kCreate, path); !s.ok()) return s;
  if (files_.count(path) != 0) return FileError(FileOpName(FileOp::kCreate), path, EEXIST);
  auto state = std::make_shared<FileState>();
  files_[path] = state;
  return std::make_unique<MemoryWritableFile>(this, path, std::move(state));
}

absl::Status MemoryEnv::RenameFile(const std::string& from, const std::string& to) {
  if (absl::Status s = Check(FileOp::kRename, from); !s.ok()) return s;
  auto it = files_.find(from);
  if (it == files_.end()) return FileError(FileOpName(FileOp::kRename), from, ENOENT);
  std::shared_ptr<FileState> state = std::move(it->second);
  files_.erase(it);
  files_[to] = std::move(state);
  return absl::OkStatus();
}

absl::Status MemoryEnv::RemoveFile(const std::string& path) {
  if (absl::Status s = Check(FileOp::kRemove, path); !s.ok()) return s;
  if (files_.erase(path) == 0) return FileError(FileOpName(FileOp::kRemove), path, ENOENT);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemoryEnv::GetChildren(const std::string& dir) {
  if (crashed_) return FileError("read directory", dir, EIO);
  std::vector<std::string> names;
  for (const auto& [name, state] : files_) {
    if (DirName(name) == dir) names.push_back(name.substr(name.rfind('/') + 1));
  }
  return names;
}

absl::Status MemoryEnv::CreateDir(const std::string& dir) {
  if (crashed_) return FileError("mkdir", dir, EIO);
  return absl::OkStatus();
}

absl::Status MemoryEnv::SyncDirectory(const std::string& dir) {
  if (absl::Status s = Check(FileOp::kSyncDirectory, dir); !s.ok()) return s;
  std::erase_if(durable_, [&](const auto& entry) { return DirName(entry.first) == dir; });
  for (const auto& [name, state] : files_) {
    if (DirName(name) == dir) durable_[name] = state;
  }
  return absl::OkStatus();
}

}  // namespace kin::test
