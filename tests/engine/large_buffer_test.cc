// engine/large_buffer.h: growing a column keeps its contents, a replaced
// buffer's pages go back to the kernel, and large buffers may get huge
// pages (where the kernel offers them).

#include "engine/large_buffer.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kin {
namespace {

// Resident set size of this process in bytes, from /proc/self/statm.
int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t total_pages = 0;
  int64_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * ::sysconf(_SC_PAGESIZE);
}

TEST(LargeBufferTest, ReserveLargeKeepsTheContentsAtEverySize) {
  for (size_t n : {size_t{0}, size_t{10}, size_t{100'000}, size_t{3'000'000}}) {
    std::vector<int64_t> v(n);
    std::iota(v.begin(), v.end(), int64_t{7});
    const std::vector<int64_t> before = v;
    ReserveLarge(v, 2 * n + 1);
    EXPECT_GE(v.capacity(), 2 * n + 1);
    EXPECT_EQ(v, before) << n << " elements";
    ReserveLarge(v, n);  // no shrinking
    EXPECT_GE(v.capacity(), 2 * n + 1);
  }
}

TEST(LargeBufferTest, GrowLargeAtLeastDoublesAsInsertWould) {
  std::vector<uint32_t> v;
  GrowLarge(v, 5);
  EXPECT_EQ(v.capacity(), 5u) << "exact room when there is none yet";
  v.assign(5, 9);
  GrowLarge(v, 6);
  EXPECT_EQ(v.capacity(), 10u);
  GrowLarge(v, 40);
  EXPECT_EQ(v.capacity(), 40u);
  EXPECT_EQ(v, std::vector<uint32_t>(5, 9));
  uint32_t* const data = v.data();
  GrowLarge(v, 40);
  EXPECT_EQ(v.data(), data) << "no reallocation while it fits";
}

TEST(LargeBufferTest, ReleasedPagesLeaveTheResidentSet) {
  // The mechanism that keeps a load in batches from holding every column
  // twice: the old buffer's pages are handed back before it is freed.
  constexpr size_t kBytes = size_t{64} << 20;
  std::vector<char> buffer(kBytes, 'x');  // every page touched
  const int64_t before = ResidentBytes();
  ReleasePages(buffer.data(), buffer.size());
  const int64_t after = ResidentBytes();
  EXPECT_GE(before - after, static_cast<int64_t>(kBytes) - (int64_t{1} << 20))
      << "resident " << before << " -> " << after;
  // Whole pages only: the bytes at both ends stay as they were.
  EXPECT_EQ(buffer.front(), 'x');
  EXPECT_EQ(buffer.back(), 'x');
  EXPECT_EQ(buffer[kBytes / 2], 0) << "released pages read back as zeros";
}

TEST(LargeBufferTest, SmallBuffersAreNotReleased) {
  std::vector<char> buffer(kReleaseMinBytes - 1, 'y');
  ReleasePages(buffer.data(), buffer.size());
  EXPECT_EQ(buffer[buffer.size() / 2], 'y');
  ReleasePages(nullptr, 0);
  AdviseHugePages(nullptr, 0);
}

// The kernel's transparent huge page mode ("always", "madvise" or "never").
std::string TransparentHugePageMode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  std::getline(in, line);
  size_t open = line.find('[');
  size_t close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return "";
  return line.substr(open + 1, close - open - 1);
}

// Anonymous memory backed by huge pages, from /proc/self/smaps_rollup.
int64_t AnonHugePageBytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string key;
  int64_t kb = 0;
  while (in >> key) {
    if (key == "AnonHugePages:") {
      in >> kb;
      return kb * 1024;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}

TEST(LargeBufferTest, LargeBuffersAskForHugePages) {
  if (TransparentHugePageMode() != "madvise") {
    GTEST_SKIP() << "transparent huge pages are '" << TransparentHugePageMode()
                 << "': the advice changes nothing observable";
  }
  const int64_t before = AnonHugePageBytes();
  if (before < 0) GTEST_SKIP() << "no AnonHugePages in /proc/self/smaps_rollup";
  std::vector<char> buffer;
  ReserveLarge(buffer, size_t{32} << 20);
  buffer.resize(size_t{32} << 20, 'z');  // first writes, after the advice
  // At least one of the 15 or 16 whole 2 MiB pages inside: the kernel may
  // fall back to small pages when it finds no free huge page.
  EXPECT_GE(AnonHugePageBytes() - before, int64_t{2} << 20);
}

}  // namespace
}  // namespace kin
