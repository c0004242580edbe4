// The world demo: kin embedded in a game loop.
//
// A persistent game world (guilds have many players; players have many items
// and many events) is seeded deterministically, then run for a number of
// ticks. Every tick does what a game server does with its state:
//   - players join, leave and get purged from guilds (Add / Remove / Set);
//   - loot drops (CreateMany) and items break (Delete);
//   - players trade items for gold, each trade one transaction that moves
//     the item through the relation; a buyer short of gold makes it fail and
//     roll back (once a tick on purpose), and the demo checks nothing moved;
//   - players quit (their items and events cascade) and register (an unsaved
//     parent inserted with its starter kit in one transaction);
//   - the relation-aware reads: per-guild leaderboards (Preload +
//     GroupLimit), guild sizes (WithCount), guilds with at least 50 active
//     players (Has on a relation with an on_query), the richest player per
//     guild (WithAggregate Max) and the raid roster, active high-level
//     players holding a legendary item (WhereHas);
//   - players take quests, make progress and turn them in (ManyToMany
//     Attach / UpdatePivot / Detach, progress on the pivot row), newcomers
//     get a profile (HasOne Create), and one guild's quest board is read
//     a tick (Preload with WherePivot and GroupOrderByPivot, WithCount with
//     a pivot condition, Preload of the HasOne profile).
// At the end the world is saved to a snapshot atomically, loaded back and
// compared with the live one.
//
// Everything the run counts (WorldCounts) depends only on the options, never
// on the machine or the clock: the same seed, scale and tick count give the
// same numbers on every run. Timings are kept apart (WorldTimings).
//
// RunWorld is the whole demo; //examples:world only parses flags around it.
// The tests run it on a tiny world.

#ifndef KIN_EXAMPLES_WORLD_H_
#define KIN_EXAMPLES_WORLD_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kin/data_dir.h"

namespace kin::examples {

// Knobs of a run. The defaults are the demo's default run.
struct WorldOptions {
  // Seeds the world and every random choice of the ticks.
  uint64_t seed = 1;
  // Multiplies the world's size and each tick's amount of work. 1 is 1,000
  // guilds, 100,000 players, 1,000,000 items and 200,000 events.
  double scale = 1.0;
  // Ticks of the game loop (>= 0).
  int ticks = 100;
  // Where to keep the final snapshot. Empty: a temporary file, removed at the
  // end of the run.
  std::string save_path;
  // fsync the snapshot (a real save survives a power cut; tests skip it).
  bool fsync = true;
  // Progress: "\rtick 37/100  12.3 ms" rewritten after every tick (for a
  // terminal) instead of a line every `progress_every` ticks (0: none).
  bool progress_in_place = false;
  int progress_every = 10;
  // Re-run every relation-aware read of a tick by hand on typed column spans
  // and compare, every `cross_check_every` ticks and on the last one (0:
  // never). Not part of the tick's time.
  int cross_check_every = 10;
  // Run Database::CheckConsistency (every index against a full scan) at the
  // end. Thorough but slow (about 2 s at scale 1); the snapshot comparison
  // already checks every index's contents and order against the loaded
  // world's, which are rebuilt from the data.
  bool check_consistency = false;
  // Keep the world in this data directory (kin::Database::Open): each tick
  // is one transaction, journaled, and prints "committed tick N"; a run on
  // a directory that holds a world prints "resumed at tick N" and goes on
  // from the last committed tick instead of seeding. Empty: in memory.
  std::string data_dir;
  // When the data directory's journal is synced (OpenOptions::sync): each
  // tick's commit (kEveryCommit), at most every 100 ms (kGrouped), or by
  // the operating system (kNone). Ignored without a data directory.
  SyncPolicy sync = SyncPolicy::kEveryCommit;
};

// "every", "grouped", "none": the names the demo's --sync flag takes.
absl::string_view SyncPolicyName(SyncPolicy policy);

// What a run did and found: deterministic for given options.
struct WorldCounts {
  // The seeded world.
  int64_t seeded_guilds = 0;
  int64_t seeded_players = 0;
  int64_t seeded_items = 0;
  int64_t seeded_events = 0;
  int64_t seeded_quest_links = 0;  // player_quest pivot rows
  int64_t seeded_profiles = 0;
  // The world after the last tick.
  int64_t guilds = 0;
  int64_t players = 0;
  int64_t items = 0;
  int64_t events = 0;
  int64_t guildless_players = 0;
  int64_t total_gold = 0;
  int64_t quest_links = 0;
  int64_t profiles = 0;

  // Writes over all ticks.
  int64_t score_updates = 0;
  int64_t activity_toggles = 0;
  int64_t joins = 0;           // Related(guild, "players").Add(player)
  int64_t leaves = 0;          // Related(guild, "players").Remove(player)
  int64_t purges = 0;          // Related(guild, "players").Set(active members)
  int64_t purged_players = 0;  //   players the purges unlinked
  int64_t items_looted = 0;    // Related(player, "items").CreateMany
  int64_t items_broken = 0;    // Delete(item)
  int64_t trades = 0;          // committed trades
  int64_t failed_trades = 0;   // refused (buyer short of gold), rolled back
  int64_t players_quit = 0;    // Delete(player): items and events cascade
  int64_t cascaded_items = 0;
  int64_t cascaded_events = 0;
  int64_t players_registered = 0;  // Related(NewRow, "items").CreateMany
  int64_t guilds_disbanded = 0;    // Delete(guild): members' guild_id -> NULL
  int64_t events_logged = 0;
  int64_t quests_taken = 0;      // Related(player, "quests").Attach
  int64_t quest_updates = 0;     // ... .UpdatePivot(quest, {progress})
  int64_t quests_turned_in = 0;  // ... .Detach(finished quest)
  int64_t profiles_created = 0;  // Related(player, "profile").Create

  // Reads: checksums over every tick's results, and the last tick's values.
  uint64_t leaderboard_checksum = 0;
  uint64_t guild_size_checksum = 0;
  uint64_t richest_checksum = 0;
  uint64_t quest_board_checksum = 0;  // one guild's quest board a tick
  int64_t guilds_with_50_active = 0;  // last tick
  int64_t largest_guild = 0;          // last tick
  int64_t richest_gold = 0;           // last tick, over all guilds
  int64_t raid_ready_players = 0;     // last tick

  // The commit feed (Database::OnCommit) over all ticks: commits delivered,
  // and row changes per table, in table name order.
  struct TableChanges {
    std::string table;
    int64_t inserted = 0;
    int64_t updated = 0;
    int64_t deleted = 0;
    friend bool operator==(const TableChanges&, const TableChanges&) = default;
  };
  int64_t commits = 0;
  std::vector<TableChanges> changes;
  // With a data directory: the tick the run started from (0: seeded) and
  // the last one committed.
  int64_t resumed_at_tick = 0;
  int64_t last_committed_tick = 0;

  // Canonical digest of the final world (every table, cell, slot, index
  // order and relation declaration).
  uint64_t world_digest = 0;

  friend bool operator==(const WorldCounts&, const WorldCounts&) = default;
};

// Time spent in one kind of operation, over all ticks.
struct OpTiming {
  std::string name;             // "join: Related(guild, \"players\").Add"
  std::vector<double> tick_ms;  // per tick
  int64_t calls = 0;            // API calls made over all ticks
};

// Where the time went (machine-dependent).
struct WorldTimings {
  // Seeding, one entry per way of inserting.
  struct Seeding {
    std::string what;  // "items + events, InsertBatch (typed columns)"
    int64_t rows = 0;
    double seconds = 0;
  };
  std::vector<Seeding> seed;
  // With a data directory: each tick's Commit (its journal record written,
  // and synced as the policy says), apart from tick_ms (below).
  std::vector<double> commit_ms;
  std::vector<double> tick_ms;  // the game work of each tick
  std::vector<OpTiming> ops;    // in the order a tick runs them
  double cross_check_s = 0;     // the typed-span re-computations, all ticks
  int cross_checks = 0;         // ticks cross-checked
  double consistency_s = 0;     // Database::CheckConsistency at the end
  uint64_t snapshot_bytes = 0;
  double save_s = 0;
  double load_s = 0;
  double compare_s = 0;         // digests of both worlds, queries on both
  uint64_t kin_bytes = 0;       // Database::MemoryBytes() of the final world
  uint64_t rss_bytes = 0;       // process resident set after the ticks
  uint64_t peak_rss_bytes = 0;  // process peak resident set at the end
};

// One verification the run made, and its outcome.
struct Check {
  std::string name;
  bool passed = true;
  std::string detail;  // what went wrong, when it did
};

struct WorldReport {
  WorldOptions options;
  WorldCounts counts;
  WorldTimings timings;
  std::vector<Check> checks;
  std::string snapshot_path;  // where it was saved (removed unless kept)
  bool snapshot_kept = false;
  // With a data directory: its state at the end (Database::Journal).
  std::optional<JournalInfo> journal;

  bool ok() const {
    for (const Check& c : checks) {
      if (!c.passed) return false;
    }
    return true;
  }
};

// Runs the demo. Progress lines go to `progress`. An error status means the
// run could not go on (an API call failed unexpectedly, the snapshot could
// not be written); a failed verification is recorded in the report's checks
// instead (see WorldReport::ok()). InvalidArgument for a scale <= 0 or too
// large, or ticks < 0.
absl::StatusOr<WorldReport> RunWorld(const WorldOptions& options, std::ostream& progress);

// The report as plain text: world size, per-tick time (median and worst),
// each operation's time, the counts, snapshot size and speed, memory and the
// checks.
std::string FormatReport(const WorldReport& report);

// 1234567 -> "1,234,567", as the report prints counts.
std::string FormatCount(int64_t n);

}  // namespace kin::examples

#endif  // KIN_EXAMPLES_WORLD_H_
