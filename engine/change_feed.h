// Turns a committed transaction's undo log into the commit feed's changes
// (kin/change.h). Internal to the engine.

#ifndef KIN_ENGINE_CHANGE_FEED_H_
#define KIN_ENGINE_CHANGE_FEED_H_

#include <cstdint>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/undo_log.h"
#include "kin/change.h"

namespace kin::internal {

// Builds commits' row changes, keeping its scratch buffers from one commit
// to the next: a tick loop commits transactions of similar size, and
// allocating (and freeing) them per commit was a good part of its cost.
class ChangeFeedBuilder {
 public:
  // Fills `*out` with the row changes of `log`, a top-level transaction's
  // complete undo log, in the order they were made, each with its values
  // before and after. The elements `*out` already holds are overwritten in
  // place (their cell vectors keep their capacity; see
  // Engine::RecycleChanges).
  // REQUIRES: called at commit, before the log is cleared or the tables
  // written again: a bulk-appended row's values are read from the tables.
  void Build(const UndoLog& log, std::vector<RowChange>* out);

 private:
  // A Bloom-style filter of the rows bulk-appended so far in the log being
  // built (one hash, kFilterBits bits): see Build.
  static constexpr uint32_t kFilterBits = 1u << 18;
  std::vector<uint64_t> appended_filter_;
  // Per log entry: 1 when a bulk append earlier in the log may have
  // written the same row (the filter's answer: sometimes 1 for nothing,
  // never 0 for a row appended).
  std::vector<uint8_t> after_append_;
  using CellKey = std::tuple<const Table*, uint32_t, uint32_t>;
  absl::flat_hash_map<CellKey, Value> overlay_;
};

// The row changes of `log` (see ChangeFeedBuilder::Build), in a new vector.
std::vector<RowChange> ChangesOf(const UndoLog& log);

}  // namespace kin::internal

#endif  // KIN_ENGINE_CHANGE_FEED_H_
