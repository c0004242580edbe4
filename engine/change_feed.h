// Turns a committed transaction's undo log into the commit feed's changes
// (kin/change.h). Internal to the engine.

#ifndef KIN_ENGINE_CHANGE_FEED_H_
#define KIN_ENGINE_CHANGE_FEED_H_

#include <span>
#include <vector>

#include "engine/undo_log.h"
#include "kin/change.h"

namespace kin::internal {

// The row changes of `log`, a top-level transaction's complete undo log,
// in the order they were made, each with its values before and after.
// REQUIRES: called at commit, before the log is cleared or the tables
// written again: the values after the last change of each cell are read
// from the tables.
std::vector<RowChange> ChangesOf(std::span<const UndoEntry> log);

}  // namespace kin::internal

#endif  // KIN_ENGINE_CHANGE_FEED_H_
