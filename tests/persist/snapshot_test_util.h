// Shared fixtures for the snapshot tests: a small deterministic "world"
// that exercises every type, NULLs, defaults, deleted and reused slots,
// foreign keys and relations; and helpers to forge snapshots with a valid
// envelope (the checksum is no defence against a crafted file, so the
// decoder must hold on its own).

#ifndef KIN_TESTS_PERSIST_SNAPSHOT_TEST_UTIL_H_
#define KIN_TESTS_PERSIST_SNAPSHOT_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "relations/relation_catalog.h"

namespace kin::test {

struct World {
  Engine engine;
  RelationCatalog relations;
};

// Tables users (every type, defaults, NULLs, deleted and reused slots),
// posts (foreign key with cascade, a secondary index whose child order is
// not slot order), tags (string primary key), empty (no rows); relations
// users.posts / posts.user (with meta of every type) and users.drafts (with
// an on_query). Deterministic.
World MakeWorld();

// A world with one table of `rows` rows (for size-sensitive tests).
World MakeSmallWorld(int rows);

// Rewrites the envelope of `bytes` for its current size: patches the
// payload length and recomputes the XXH3-64 checksum the way the header's
// version defines it, as a forger would.
std::string Reseal(std::string bytes);

// Offset of the payload inside a snapshot.
inline constexpr size_t kPayloadOffset = 24;

// Writes `bytes` to `path`; aborts the test binary on failure.
void WriteFileOrDie(const std::string& path, absl::string_view bytes);
std::string ReadFileOrDie(const std::string& path);

// A fresh empty directory under the test's temporary directory.
std::string MakeTempDir(absl::string_view name);

}  // namespace kin::test

#endif  // KIN_TESTS_PERSIST_SNAPSHOT_TEST_UTIL_H_
