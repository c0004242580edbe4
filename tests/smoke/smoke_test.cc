// Toolchain smoke test: one assertion per system library.
#include <sqlite3.h>
#include <xxhash.h>

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cereal/archives/binary.hpp"
#include "cereal/types/map.hpp"
#include "cereal/types/string.hpp"
#include "cereal/types/vector.hpp"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

absl::StatusOr<int> ParsePositive(int v) {
  if (v <= 0) return absl::InvalidArgumentError(absl::StrCat("bad: ", v));
  return v;
}

TEST(Smoke, AbslStatusOr) {
  EXPECT_EQ(*ParsePositive(3), 3);
  EXPECT_EQ(ParsePositive(-1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(absl::StrFormat("%d-%s", 7, "x"), "7-x");
}

TEST(Smoke, AbslFlatHashMap) {
  absl::flat_hash_map<std::string, int> m;
  for (int i = 0; i < 100; ++i) m[absl::StrCat("k", i)] = i;
  EXPECT_EQ(m.at("k42"), 42);
}

TEST(Smoke, CerealBinaryRoundTrip) {
  std::map<std::string, std::vector<int>> in{{"a", {1, 2}}, {"b", {}}}, out;
  std::stringstream ss;
  {
    cereal::BinaryOutputArchive ar(ss);
    ar(in);
  }
  {
    cereal::BinaryInputArchive ar(ss);
    ar(out);
  }
  EXPECT_EQ(in, out);
}

TEST(Smoke, XxHash) {
  const std::string s = "kin";
  const XXH64_hash_t h1 = XXH3_64bits(s.data(), s.size());
  const XXH64_hash_t h2 = XXH3_64bits(s.data(), s.size());
  EXPECT_EQ(h1, h2);
  EXPECT_NE(h1, XXH3_64bits("kim", 3));
}

TEST(Smoke, Sqlite3InMemory) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT 40 + 2", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 42);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(Smoke, GMock) {
  EXPECT_THAT(std::vector<int>({1, 2, 3}), ::testing::ElementsAre(1, 2, 3));
}

}  // namespace
