// Atomic saves: a crash or an error at any point leaves either the old file
// or the new one, whole; file-system errors are clear statuses.

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persist/snapshot.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::MakeSmallWorld;
using ::kin::test::MakeWorld;
using ::kin::test::StatusIs;
using ::kin::test::World;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// Sets the soft file-size limit for this process; restores it on scope exit.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() { setrlimit(RLIMIT_FSIZE, &saved_); }

 private:
  rlimit saved_;
};

TEST(SnapshotFileTest, SaveReplacesAndLeavesNoTemporary) {
  std::string dir = test::MakeTempDir("replace");
  std::string path = dir + "/save.kin";
  World small = MakeSmallWorld(3);
  World world = MakeWorld();
  ASSERT_OK(SaveSnapshotFile(small.engine, small.relations, path));
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  EXPECT_THAT(ListDir(dir), ElementsAre("save.kin"));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, LoadSnapshotFile(path));
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
}

TEST(SnapshotFileTest, ReplacingKeepsTheFilesPermissions) {
  std::string path = test::MakeTempDir("mode") + "/private.kin";
  World world = MakeSmallWorld(3);
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, path));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(SnapshotFileTest, RelativePathAndNoFsync) {
  std::string dir = test::MakeTempDir("relative");
  ASSERT_EQ(chdir(dir.c_str()), 0);
  World world = MakeSmallWorld(5);
  SnapshotOptions options;
  options.fsync = false;
  ASSERT_OK(SaveSnapshotFile(world.engine, world.relations, "plain.kin", options));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, LoadSnapshotFile("plain.kin"));
  EXPECT_EQ(loaded.engine.DebugString(), world.engine.DebugString());
}

TEST(SnapshotFileTest, CrashMidSaveKeepsThePreviousFile) {
  std::string dir = test::MakeTempDir("crash");
  std::string path = dir + "/world.kin";
  World before = MakeSmallWorld(10);
  ASSERT_OK(SaveSnapshotFile(before.engine, before.relations, path));
  std::string previous = test::ReadFileOrDie(path);

  World after = MakeSmallWorld(20000);
  ASSERT_OK_AND_ASSIGN(std::string next, EncodeSnapshot(after.engine, after.relations));
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The kernel kills the process with SIGXFSZ halfway through writing the
    // new snapshot: a crash at the worst moment, deterministically.
    rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(SIGXFSZ, SIG_DFL);
    rlimit limit = {static_cast<rlim_t>(next.size() / 2), RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &limit);
    absl::Status ignored = SaveSnapshotFile(after.engine, after.relations, path);
    _exit(ignored.ok() ? 0 : 3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the save was not interrupted";
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);

  EXPECT_EQ(test::ReadFileOrDie(path), previous);
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, LoadSnapshotFile(path));
  EXPECT_EQ(loaded.engine.DebugString(), before.engine.DebugString());
  // The crash left a partial temporary beside it; it is never read, and
  // the next save still works.
  EXPECT_EQ(ListDir(dir).size(), 2u);
  ASSERT_OK(SaveSnapshotFile(after.engine, after.relations, path));
  EXPECT_EQ(test::ReadFileOrDie(path), next);
}

TEST(SnapshotFileTest, FailedWriteKeepsThePreviousFileAndRemovesTheTemporary) {
  std::string dir = test::MakeTempDir("efbig");
  std::string path = dir + "/world.kin";
  World before = MakeSmallWorld(10);
  ASSERT_OK(SaveSnapshotFile(before.engine, before.relations, path));
  std::string previous = test::ReadFileOrDie(path);

  World after = MakeSmallWorld(20000);
  absl::Status status;
  {
    // With SIGXFSZ ignored, the write fails with EFBIG instead: an error
    // the save must report and clean up after.
    sighandler_t old = signal(SIGXFSZ, SIG_IGN);
    FileSizeLimit limit(previous.size() + 100);
    status = SaveSnapshotFile(after.engine, after.relations, path);
    signal(SIGXFSZ, old);
  }
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted,
                               AllOf(HasSubstr(path), HasSubstr("cannot write"))));
  EXPECT_EQ(test::ReadFileOrDie(path), previous);
  EXPECT_THAT(ListDir(dir), ElementsAre("world.kin"));
}

TEST(SnapshotFileTest, MissingDirectory) {
  std::string path = test::MakeTempDir("nodir") + "/no/such/dir/world.kin";
  World world = MakeSmallWorld(1);
  EXPECT_THAT(SaveSnapshotFile(world.engine, world.relations, path),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(path), HasSubstr("cannot create a temporary file"),
                             HasSubstr("no such file or directory"))));
}

TEST(SnapshotFileTest, ParentIsAFile) {
  std::string dir = test::MakeTempDir("notdir");
  test::WriteFileOrDie(dir + "/file", "x");
  World world = MakeSmallWorld(1);
  EXPECT_THAT(SaveSnapshotFile(world.engine, world.relations, dir + "/file/world.kin"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a directory")));
}

TEST(SnapshotFileTest, TargetIsADirectory) {
  std::string dir = test::MakeTempDir("isdir");
  ASSERT_EQ(mkdir((dir + "/world.kin").c_str(), 0755), 0);
  World world = MakeSmallWorld(1);
  EXPECT_THAT(SaveSnapshotFile(world.engine, world.relations, dir + "/world.kin"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("cannot rename"), HasSubstr("is a directory"))));
  EXPECT_THAT(ListDir(dir), ElementsAre("world.kin"));
  EXPECT_THAT(SaveSnapshotFile(world.engine, world.relations, dir + "/"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("names a directory")));
}

TEST(SnapshotFileTest, UnwritableDirectory) {
  std::string dir = test::MakeTempDir("readonly");
  ASSERT_EQ(chmod(dir.c_str(), 0555), 0);
  std::string path = dir + "/world.kin";
  World world = MakeSmallWorld(1);
  // Root ignores permissions, so the save runs in a child that drops to an
  // unprivileged user when needed, and reports the status code as its exit
  // code (0 when the message is wrong).
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(100);
    absl::Status status = SaveSnapshotFile(world.engine, world.relations, path);
    bool named = absl::StrContains(status.message(), path) &&
                 absl::StrContains(status.message(), "permission denied");
    _exit(named ? static_cast<int>(status.code()) : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 100) GTEST_SKIP() << "cannot drop privileges";
  EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(absl::StatusCode::kPermissionDenied));
  chmod(dir.c_str(), 0755);
  EXPECT_TRUE(ListDir(dir).empty());
}

}  // namespace
}  // namespace kin
