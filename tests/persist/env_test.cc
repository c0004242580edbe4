// The file seam: snapshots saved and loaded through an Env. With the
// in-memory, fault-injecting Env, every file operation of a save fails in
// turn, and the process "dies" before each one: the previous snapshot must
// survive whole every time, and errors must name the operation and the file.
// The POSIX Env's own errors are checked against the real file system.

#include "persist/env.h"

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persist/snapshot.h"
#include "tests/persist/memory_env.h"
#include "tests/persist/snapshot_test_util.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::FileOp;
using ::kin::test::FileOpName;
using ::kin::test::MakeSmallWorld;
using ::kin::test::MemoryEnv;
using ::kin::test::StatusIs;
using ::kin::test::World;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPath[] = "mem/world.kin";

// The operations a save performs, in the order it first performs them.
constexpr FileOp kSaveOps[] = {FileOp::kCreate,       FileOp::kAppend, FileOp::kWriteAt,
                               FileOp::kSync,         FileOp::kClose,  FileOp::kRename,
                               FileOp::kSyncDirectory};

absl::Status Save(MemoryEnv* env, const World& world, bool fsync = true) {
  SnapshotOptions options;
  options.fsync = fsync;
  options.env = env;
  return SaveSnapshotFile(world.engine, world.relations, kPath, options);
}

absl::StatusOr<SnapshotContents> Load(MemoryEnv* env) {
  LoadOptions options;
  options.env = env;
  return LoadSnapshotFile(kPath, options);
}

// Two worlds, the second big enough to leave the save's 256 KiB buffer
// several times (so Append fails mid-stream, not only at the start), and
// how many times a save of it performs each operation.
class EnvSaveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MemoryEnv probe;
    ASSERT_OK(Save(&probe, before_));
    previous_ = *probe.Contents(kPath);
    std::vector<int> counted;
    for (FileOp op : kSaveOps) counted.push_back(probe.count(op));
    ASSERT_OK(Save(&probe, after_));
    next_ = *probe.Contents(kPath);
    for (size_t i = 0; i < std::size(kSaveOps); ++i) {
      calls_.push_back(probe.count(kSaveOps[i]) - counted[i]);
    }
  }

  int calls(FileOp op) const {
    for (size_t i = 0; i < std::size(kSaveOps); ++i) {
      if (kSaveOps[i] == op) return calls_[i];
    }
    return 0;
  }

  World before_ = MakeSmallWorld(10);
  World after_ = MakeSmallWorld(20000);
  std::string previous_;
  std::string next_;
  std::vector<int> calls_;
};

TEST_F(EnvSaveTest, SaveThroughMemoryEnvLoadsBackEqual) {
  MemoryEnv env;
  ASSERT_OK(Save(&env, after_));
  EXPECT_THAT(env.FileNames(), ElementsAre(kPath));
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, Load(&env));
  EXPECT_EQ(loaded.engine.DebugString(), after_.engine.DebugString());
  // The same bytes as an in-memory encoding: the Env changes where the
  // file goes, not what it holds.
  ASSERT_OK_AND_ASSIGN(std::string encoded, EncodeSnapshot(after_.engine, after_.relations));
  EXPECT_EQ(*env.Contents(kPath), encoded);
  EXPECT_THAT(Load(nullptr), Not(test::IsOk()));  // nothing reached the disk
}

TEST_F(EnvSaveTest, EveryOperationIsExercised) {
  for (FileOp op : kSaveOps) EXPECT_GE(calls(op), 1) << FileOpName(op);
  EXPECT_GE(calls(FileOp::kAppend), 3);
}

TEST_F(EnvSaveTest, FailureAtEachPointKeepsThePreviousFile) {
  for (FileOp op : kSaveOps) {
    for (int n = 1; n <= calls(op); ++n) {
      SCOPED_TRACE(absl::StrCat(FileOpName(op), " #", n));
      MemoryEnv env;
      ASSERT_OK(Save(&env, before_));
      env.FailNth(op, n, EIO);
      absl::Status status = Save(&env, after_);
      EXPECT_THAT(status, StatusIs(absl::ErrnoToStatusCode(EIO),
                                   AllOf(HasSubstr(absl::StrCat("save '", kPath, "'")),
                                         HasSubstr(absl::StrCat(FileOpName(op), " 'mem")),
                                         HasSubstr("input/output error"))));
      // Only the directory sync comes after the rename: then the new file is
      // in place (whole), and the error says the save may not be durable.
      bool renamed = op == FileOp::kSyncDirectory;
      EXPECT_EQ(*env.Contents(kPath), renamed ? next_ : previous_);
      if (renamed) {
        EXPECT_THAT(status.message(), HasSubstr("saved, but"));
      }
      // No temporary is left behind.
      EXPECT_THAT(env.FileNames(), ElementsAre(kPath));
      ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, Load(&env));
      EXPECT_EQ(loaded.engine.DebugString(), (renamed ? after_ : before_).engine.DebugString());
    }
  }
}

TEST_F(EnvSaveTest, FailedCleanupKeepsTheFirstError) {
  MemoryEnv env;
  ASSERT_OK(Save(&env, before_));
  env.FailNth(FileOp::kAppend, 2, ENOSPC);
  env.FailNth(FileOp::kRemove, 1, EIO);
  EXPECT_THAT(Save(&env, after_), StatusIs(absl::StatusCode::kResourceExhausted,
                                           AllOf(HasSubstr("cannot write the temporary file"),
                                                 HasSubstr("no space left on device"))));
  EXPECT_EQ(*env.Contents(kPath), previous_);
  EXPECT_EQ(env.FileNames().size(), 2u);  // the temporary could not be removed
}

TEST_F(EnvSaveTest, CrashAtEachPointKeepsThePreviousFile) {
  for (FileOp op : kSaveOps) {
    for (int n = 1; n <= calls(op); ++n) {
      SCOPED_TRACE(absl::StrCat("crash before ", FileOpName(op), " #", n));
      MemoryEnv env;
      ASSERT_OK(Save(&env, before_));
      env.CrashBeforeNth(op, n);
      EXPECT_THAT(Save(&env, after_), Not(test::IsOk()));
      env.Restart();
      // Until the directory is synced the rename may be undone by the
      // crash, so every point before it brings back the previous file.
      EXPECT_EQ(*env.Contents(kPath), previous_);
      ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, Load(&env));
      EXPECT_EQ(loaded.engine.DebugString(), before_.engine.DebugString());
    }
  }
}

TEST_F(EnvSaveTest, SyncedSaveSurvivesAPowerLoss) {
  MemoryEnv env;
  ASSERT_OK(Save(&env, before_));
  ASSERT_OK(Save(&env, after_));
  env.Crash();
  EXPECT_EQ(*env.Contents(kPath), next_);
  ASSERT_OK_AND_ASSIGN(SnapshotContents loaded, Load(&env));
  EXPECT_EQ(loaded.engine.DebugString(), after_.engine.DebugString());
}

TEST_F(EnvSaveTest, UnsyncedSaveMayBeLostButNeverTorn) {
  MemoryEnv env;
  ASSERT_OK(Save(&env, before_));
  ASSERT_OK(Save(&env, after_, /*fsync=*/false));
  EXPECT_EQ(*env.Contents(kPath), next_);
  env.Crash();
  EXPECT_EQ(*env.Contents(kPath), previous_);
}

TEST_F(EnvSaveTest, LoadErrorsNameTheOperationAndFile) {
  MemoryEnv env;
  EXPECT_THAT(Load(&env), StatusIs(absl::StatusCode::kNotFound,
                                   AllOf(HasSubstr(kPath), HasSubstr("no such file"))));
  ASSERT_OK(Save(&env, before_));
  env.FailNth(FileOp::kRead, 1, EIO);
  EXPECT_THAT(Load(&env),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       AllOf(HasSubstr(absl::StrCat("snapshot '", kPath, "': cannot read")),
                             HasSubstr("read 'mem/world.kin'"))));
  ASSERT_OK(Load(&env).status());
}

// --- the POSIX Env ---

TEST(PosixEnvTest, MissingDirectoryIsAClearError) {
  std::string dir = test::MakeTempDir("posix_env_missing");
  std::string path = dir + "/no/such/dir/file";
  Env* env = Env::Default();
  EXPECT_THAT(
      env->NewWritableFile(path, {}).status(),
      StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr(absl::StrCat("open '", path, "'")),
                                                  HasSubstr("no such file or directory"))));
  EXPECT_THAT(env->NewSequentialFile(path).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(env->SyncDirectory(dir + "/no"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(dir + "/no"), HasSubstr("no such file or directory"))));
  EXPECT_THAT(env->RenameFile(dir + "/absent", dir + "/other"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("rename"), HasSubstr(dir + "/absent"))));
}

TEST(PosixEnvTest, WriteOverwriteSyncRenameAndReadBack) {
  std::string dir = test::MakeTempDir("posix_env_files");
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<WritableFile> file, env->NewWritableFile(dir + "/a", {}));
  ASSERT_OK(file->Append("hello, "));
  ASSERT_OK(file->Append("world"));
  ASSERT_OK(file->WriteAt(0, "J"));
  ASSERT_OK(file->Sync());
  ASSERT_OK(file->Close());
  // Never into an existing file.
  EXPECT_THAT(env->NewWritableFile(dir + "/a", {}).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(dir + "/a")));
  ASSERT_OK(env->RenameFile(dir + "/a", dir + "/b"));
  ASSERT_OK(env->SyncDirectory(dir));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<SequentialFile> in, env->NewSequentialFile(dir + "/b"));
  EXPECT_EQ(in->type(), FileType::kRegular);
  ASSERT_EQ(in->size(), 12u);
  std::string read(12, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, in->Read(read.data(), read.size()));
  EXPECT_EQ(read.substr(0, n), "Jello, world");
  ASSERT_OK(env->RemoveFile(dir + "/b"));
  EXPECT_THAT(env->NewSequentialFile(dir + "/b").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir + "/b")));
}

}  // namespace
}  // namespace kin
