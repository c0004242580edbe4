// The world demo killed mid-run (SIGKILL, no chance to clean up) resumes
// from its data directory at the last tick whose commit it had reported;
// its --sync flag (the data directory's SyncPolicy) resumes the same way
// and refuses a bad value.
// Runs the real examples/world binary, relative to the working directory
// (Bazel's runfiles root; CMake's build directory).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Starts the demo; returns its pid and a stream of its stdout.
pid_t Start(const std::string& dir, int ticks, FILE** out) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    const std::string data = "--data=" + dir;
    const std::string n = "--ticks=" + std::to_string(ticks);
    execl("examples/world", "examples/world", "--scale=0.01", n.c_str(), data.c_str(),
          "--cross_check_every=0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  *out = fdopen(fds[0], "r");
  return pid;
}

TEST(WorldCrashTest, AKilledRunResumesAtItsLastCommittedTick) {
  // Bazel always provides it (a data dependency); a CMake build without
  // KIN_BUILD_EXAMPLES has no demo to run.
  if (!std::filesystem::exists("examples/world")) GTEST_SKIP() << "examples/world not built";
  const std::string dir = ::testing::TempDir() + "/world_crash";
  std::filesystem::remove_all(dir);

  // Kill the first run as soon as it reports its third commit.
  FILE* out = nullptr;
  const pid_t pid = Start(dir, 1000, &out);
  ASSERT_GT(pid, 0);
  ASSERT_NE(out, nullptr);
  char line[4096];
  int last_reported = 0;
  while (fgets(line, sizeof(line), out) != nullptr) {
    if (sscanf(line, "committed tick %d", &last_reported) == 1 && last_reported >= 3) break;
  }
  ASSERT_GE(last_reported, 3) << "the demo never reported a third commit";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(out);
  ASSERT_TRUE(WIFSIGNALED(status));

  // The second run resumes at or after the last tick the first reported
  // (it may have committed more before the kill landed), and passes its
  // checks.
  const pid_t again = Start(dir, 2, &out);
  ASSERT_GT(again, 0);
  std::string text;
  while (fgets(line, sizeof(line), out) != nullptr) text += line;
  fclose(out);
  waitpid(again, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  int resumed = -1;
  const size_t at = text.find("resumed at tick ");
  ASSERT_NE(at, std::string::npos) << text;
  sscanf(text.c_str() + at, "resumed at tick %d", &resumed);
  EXPECT_GE(resumed, last_reported);
  EXPECT_LE(resumed, 1000);
  EXPECT_THAT(text, HasSubstr("committed tick " + std::to_string(resumed + 2) + "\n"));
  EXPECT_THAT(text, HasSubstr("Checks: 10 of 10 passed"));
  std::filesystem::remove_all(dir);
}

// Runs the demo with `args` to the end; returns its exit status (-1 if it
// did not exit) and what it printed on stdout and stderr.
int RunToEnd(const std::vector<std::string>& args, std::string* text) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv = {const_cast<char*>("examples/world")};
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv("examples/world", argv.data());
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line[4096];
  text->clear();
  while (fgets(line, sizeof(line), out) != nullptr) *text += line;
  fclose(out);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(WorldSyncTest, AGroupedRunResumesAtItsLastTick) {
  if (!std::filesystem::exists("examples/world")) GTEST_SKIP() << "examples/world not built";
  const std::string dir = ::testing::TempDir() + "/world_grouped";
  std::filesystem::remove_all(dir);
  const std::vector<std::string> args = {"--scale=0.01", "--cross_check_every=0", "--data=" + dir,
                                         "--sync=grouped"};
  std::vector<std::string> first = args;
  first.push_back("--ticks=3");
  std::string text;
  ASSERT_EQ(RunToEnd(first, &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("committed tick 3\n"));
  EXPECT_THAT(text, HasSubstr("--sync=grouped"));
  EXPECT_THAT(text, HasSubstr("Checks: 10 of 10 passed"));

  std::vector<std::string> second = args;
  second.push_back("--ticks=2");
  ASSERT_EQ(RunToEnd(second, &text), 0) << text;
  EXPECT_THAT(text, HasSubstr("resumed at tick 3\n"));
  EXPECT_THAT(text, HasSubstr("committed tick 5\n"));
  EXPECT_THAT(text, HasSubstr("Checks: 10 of 10 passed"));
  std::filesystem::remove_all(dir);
}

TEST(WorldSyncTest, ABadSyncValueIsRefused) {
  if (!std::filesystem::exists("examples/world")) GTEST_SKIP() << "examples/world not built";
  const std::string dir = ::testing::TempDir() + "/world_bad_sync";
  std::filesystem::remove_all(dir);
  std::string text;
  EXPECT_EQ(RunToEnd({"--scale=0.01", "--ticks=1", "--data=" + dir, "--sync=sometimes"}, &text), 2);
  EXPECT_THAT(text, HasSubstr("bad value 'sometimes' for --sync"));
  EXPECT_THAT(text, Not(HasSubstr("committed tick")));
  EXPECT_FALSE(std::filesystem::exists(dir));

  // Without a data directory there is no journal to sync.
  EXPECT_EQ(RunToEnd({"--scale=0.01", "--ticks=1", "--sync=none"}, &text), 2);
  EXPECT_THAT(text, HasSubstr("--sync=none needs --data=DIR"));
}

}  // namespace
