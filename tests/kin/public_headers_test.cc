// The public include set is what kin/kin.h pulls in, and nothing else: every
// header it reaches (through quoted #includes) is abseil's or a kin/*.h
// outside kin/internal/, and every kin/*.h is reached (so that the install, which
// copies kin/*.h, ships exactly the closure).

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kin {
namespace {

// The quoted #include targets of `text`, in order.
std::vector<std::string> QuotedIncludes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  const std::string directive = "#include \"";
  while (std::getline(lines, line)) {
    if (!absl::StartsWith(line, directive)) continue;
    const size_t end = line.find('"', directive.size());
    if (end != std::string::npos)
      out.push_back(line.substr(directive.size(), end - directive.size()));
  }
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(QuotedIncludesTest, FindsQuotedIncludesOnly) {
  EXPECT_THAT(QuotedIncludes("#include <vector>\n#include \"kin/row.h\"  // x\n"
                             "// #include \"engine/table.h\"\n"),
              ::testing::ElementsAre("kin/row.h"));
}

TEST(PublicHeadersTest, KinHClosureIsExactlyTheKinDirectory) {
  ASSERT_TRUE(std::filesystem::exists("kin/kin.h")) << "run from the source root";
  std::set<std::string> reached;
  std::vector<std::string> stack = {"kin/kin.h"};
  std::vector<std::string> outside;  // "includer -> included"
  while (!stack.empty()) {
    const std::string header = stack.back();
    stack.pop_back();
    if (!reached.insert(header).second) continue;
    const std::string text = Read(header);
    ASSERT_FALSE(text.empty()) << header;
    for (const std::string& included : QuotedIncludes(text)) {
      // abseil is kin's one public dependency (Status, StatusOr).
      if (absl::StartsWith(included, "absl/")) continue;
      const bool is_public =
          absl::StartsWith(included, "kin/") && included.find('/', 4) == std::string::npos;
      if (!is_public) {
        outside.push_back(header + " -> " + included);
        continue;
      }
      stack.push_back(included);
    }
  }
  EXPECT_TRUE(outside.empty()) << "kin/kin.h reaches non-public headers:\n"
                               << absl::StrJoin(outside, "\n");

  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator("kin")) {
    if (entry.path().extension() == ".h") on_disk.insert("kin/" + entry.path().filename().string());
  }
  EXPECT_EQ(reached, on_disk) << "every kin/*.h is public, and kin/kin.h reaches all of them";
}

}  // namespace
}  // namespace kin
