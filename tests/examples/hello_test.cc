// examples/hello.cc, the program a newcomer reads first, runs and prints what
// it says it does. It runs as a shell would run it: examples/hello, relative
// to the working directory (Bazel's runfiles root; CMake's build directory).

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace {

TEST(HelloTest, PrintsPostsAndPreloadedCounts) {
  std::string out = ::testing::TempDir() + "/hello_out.txt";
  int status = std::system(("examples/hello >" + out + " 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(status));
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(WEXITSTATUS(status), 0) << text.str();
  EXPECT_EQ(text.str(),
            "Ada's posts:\n"
            "  Notes\n"
            "  Hello, kin\n"
            "Alan wrote 1 post(s)\n"
            "Ada wrote 2 post(s)\n");
}

}  // namespace
