// Comparing two databases without dumping them: stable 64-bit digests of
// each table's schema, cells, slot layout and index order, and of the
// relation declarations. The world demo uses them to check that a loaded
// snapshot equals the live world (DebugString() would build gigabytes of
// text at a million rows) and to give each run a fingerprint.

#ifndef KIN_EXAMPLES_WORLD_CHECK_H_
#define KIN_EXAMPLES_WORLD_CHECK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "kin/kin.h"

namespace kin::examples {

// An order-sensitive 64-bit digest, the same on every run and machine
// (absl::Hash is seeded per process, so its values cannot be compared
// between runs). Not cryptographic.
class Digest {
 public:
  void Add(uint64_t v) {
    // splitmix64's finalizer over the running state: well mixed, cheap.
    uint64_t z = state_ + 0x9e3779b97f4a7c15ull + v;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    state_ = z ^ (z >> 31);
  }
  void AddInt(int64_t v) { Add(static_cast<uint64_t>(v)); }
  void AddString(absl::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    Add(h);
    Add(s.size());
  }
  uint64_t value() const { return state_; }

 private:
  uint64_t state_ = 0;
};

// Stands for a NULL cell or a NULL aggregate in digests.
inline constexpr uint64_t kNullTag = 0x6e756c6c6e756c6cull;

// One table's state, condensed. Equal digests mean equal tables (up to the
// odds of a 64-bit collision): the schema, every live cell, the slot layout
// (live bitmap, generations, free list, auto-increment counter: what makes
// RowIds and future inserts replay identically) and every index's key →
// rows order (the order relations return children in).
struct TableDigest {
  std::string name;
  int64_t rows = 0;
  int64_t slots = 0;
  uint64_t schema = 0;
  uint64_t layout = 0;
  std::vector<std::pair<std::string, uint64_t>> columns;  // name, digest
  std::vector<std::pair<std::string, uint64_t>> indexes;  // column, digest

  friend bool operator==(const TableDigest&, const TableDigest&) = default;
};

// Cost: one pass over every column, plus sorting each index's keys.
TableDigest DigestTable(const Table& table);
// Every table, in creation order.
std::vector<TableDigest> DigestTables(const Database& db);
// The relations' declarations (everything but on_query) and foreign keys.
uint64_t DigestDeclarations(const Database& db);
// All of it in one number.
uint64_t WorldDigest(const std::vector<TableDigest>& tables, uint64_t declarations);

// How `loaded` differs from `live`, one line per difference ("table
// 'items': column 'value' differs"); empty when they are equal.
// `live_tables` is DigestTables(live), when the caller already has it.
std::vector<std::string> CompareWorlds(const Database& live,
                                       const std::vector<TableDigest>& live_tables,
                                       const Database& loaded);
std::vector<std::string> CompareWorlds(const Database& live, const Database& loaded);

}  // namespace kin::examples

#endif  // KIN_EXAMPLES_WORLD_CHECK_H_
