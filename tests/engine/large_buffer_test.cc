// engine/large_buffer.h: growing a column keeps its contents, a replaced
// buffer's pages go back to the kernel, and large buffers may get huge
// pages (where the kernel offers them).

#include "engine/large_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kin {
namespace {

size_t PageSize() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

// How many of the whole pages inside [p, p + bytes) are resident (mincore:
// exact, unlike the process-wide counters).
size_t ResidentPages(const void* p, size_t bytes) {
  const uintptr_t page = PageSize();
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(page - 1);
  if (end <= begin) return 0;
  std::vector<unsigned char> in_core((end - begin) / page);
  if (::mincore(reinterpret_cast<void*>(begin), end - begin, in_core.data()) != 0) return 0;
  size_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  return resident;
}

TEST(LargeBufferTest, ReserveLargeKeepsTheContentsAtEverySize) {
  for (size_t n : {size_t{0}, size_t{10}, size_t{100'000}, size_t{3'000'000}}) {
    std::vector<int64_t> v(n);
    std::iota(v.begin(), v.end(), int64_t{7});
    const std::vector<int64_t> before = v;
    ReserveLarge(v, 2 * n + 1, HugePages::kYes);
    EXPECT_GE(v.capacity(), 2 * n + 1);
    EXPECT_EQ(v, before) << n << " elements";
    ReserveLarge(v, n, HugePages::kNo);  // no shrinking
    EXPECT_GE(v.capacity(), 2 * n + 1);
  }
}

TEST(LargeBufferTest, GrowLargeAtLeastDoublesAsInsertWould) {
  std::vector<uint32_t> v;
  GrowLarge(v, 5, HugePages::kNo);
  EXPECT_EQ(v.capacity(), 5u) << "exact room when there is none yet";
  v.assign(5, 9);
  GrowLarge(v, 6, HugePages::kNo);
  EXPECT_EQ(v.capacity(), 10u);
  GrowLarge(v, 40, HugePages::kNo);
  EXPECT_EQ(v.capacity(), 40u);
  EXPECT_EQ(v, std::vector<uint32_t>(5, 9));
  uint32_t* const data = v.data();
  GrowLarge(v, 40, HugePages::kNo);
  EXPECT_EQ(v.data(), data) << "no reallocation while it fits";
}

TEST(LargeBufferTest, ReleasedPagesLeaveTheResidentSet) {
  // The mechanism that keeps a load in batches from holding every column
  // twice: the old buffer's pages are handed back before it is freed.
  constexpr size_t kBytes = size_t{64} << 20;
  std::vector<char> buffer(kBytes, 'x');  // every page touched
  const size_t pages = ResidentPages(buffer.data(), buffer.size());
  ASSERT_GE(pages, kBytes / PageSize() - 1);
  ReleasePages(buffer.data(), buffer.size());
  EXPECT_EQ(ResidentPages(buffer.data(), buffer.size()), 0u);
  // Whole pages only: the bytes at both ends stay as they were.
  EXPECT_EQ(buffer.front(), 'x');
  EXPECT_EQ(buffer.back(), 'x');
  EXPECT_EQ(buffer[kBytes / 2], 0) << "released pages read back as zeros";
}

TEST(LargeBufferTest, APageAlignedBufferIsReleasedToItsEdgesAndNoFurther) {
  // A buffer that starts and ends on page boundaries, between two guard
  // pages that must keep their bytes.
  const size_t page = PageSize();
  const size_t bytes = (size_t{1} << 20) / page * page;
  void* mapped =
      ::mmap(nullptr, bytes + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapped, MAP_FAILED);
  char* base = static_cast<char*>(mapped);
  std::memset(base, 'g', bytes + 2 * page);
  char* buffer = base + page;
  ReleasePages(buffer, bytes);
  EXPECT_EQ(ResidentPages(buffer, bytes), 0u);
  EXPECT_EQ(buffer[0], 0);
  EXPECT_EQ(buffer[bytes - 1], 0);
  EXPECT_EQ(buffer[-1], 'g');
  EXPECT_EQ(buffer[bytes], 'g');
  EXPECT_EQ(ResidentPages(base, page), 1u);
  EXPECT_EQ(ResidentPages(buffer + bytes, page), 1u);
  ::munmap(mapped, bytes + 2 * page);
}

TEST(LargeBufferTest, SmallBuffersAreNotReleased) {
  std::vector<char> buffer(kReleaseMinBytes - 1, 'y');
  ReleasePages(buffer.data(), buffer.size());
  EXPECT_EQ(buffer[buffer.size() / 2], 'y');
  ReleasePages(nullptr, 0);
  AdviseHugePages(nullptr, 0);
}

// The VmFlags of the mapping of /proc/self/smaps that holds `address`.
std::string VmFlagsAt(const void* address) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(address);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    uintptr_t lo = 0;
    uintptr_t hi = 0;
    // A mapping's first line: "lo-hi perms offset dev inode path".
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) == 2 &&
        line.find(' ') > line.find('-')) {
      inside = lo <= a && a < hi;
      continue;
    }
    if (inside && line.rfind("VmFlags:", 0) == 0) return line;
  }
  return "";
}

bool HasFlag(const std::string& vm_flags, const std::string& flag) {
  return (vm_flags + " ").find(" " + flag + " ") != std::string::npos;
}

TEST(LargeBufferTest, LargeBuffersAskForHugePagesAndReleasedOnesStopAsking) {
  // The advice is the kernel's VmFlags "hg" on the buffer's mapping
  // (whether a fault then gets a 2 MiB page depends on free memory).
  void* probe =
      ::mmap(nullptr, size_t{4} << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(probe, MAP_FAILED);
  const bool supported = ::madvise(probe, size_t{4} << 20, MADV_HUGEPAGE) == 0;
  ::munmap(probe, size_t{4} << 20);
  if (!supported) GTEST_SKIP() << "this kernel has no transparent huge pages";
  {
    // Growth in a tick asks for nothing (a fresh mapping of its own: the
    // allocator maps a block this large).
    std::vector<char> grown;
    ReserveLarge(grown, size_t{32} << 20, HugePages::kNo);
    EXPECT_FALSE(HasFlag(VmFlagsAt(grown.data() + (size_t{16} << 20)), "hg"));
  }
  std::vector<char> buffer;
  ReserveLarge(buffer, size_t{32} << 20, HugePages::kYes);
  const char* middle = buffer.data() + (size_t{16} << 20);
  const std::string flags = VmFlagsAt(middle);
  if (flags.empty()) GTEST_SKIP() << "no /proc/self/smaps VmFlags here";
  EXPECT_TRUE(HasFlag(flags, "hg")) << flags;
  buffer.resize(size_t{32} << 20, 'z');
  ReleasePages(buffer.data(), buffer.size());
  // Emptied, the range goes back to 4 KiB pages for whatever the allocator
  // puts there next.
  EXPECT_FALSE(HasFlag(VmFlagsAt(middle), "hg")) << VmFlagsAt(middle);
  EXPECT_TRUE(HasFlag(VmFlagsAt(middle), "nh")) << VmFlagsAt(middle);
}

}  // namespace
}  // namespace kin
