// //examples:world: the demo. Flags in, report out; the world is in world.cc.
//
//   bazel run -c opt //examples:world -- --seed=7 --scale=0.1 --ticks=50
//   bazel run -c opt //examples:world -- --data=/tmp/world --sync=grouped

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "examples/world.h"

ABSL_FLAG(uint64_t, seed, 1, "seeds the world and every random choice of the ticks");
ABSL_FLAG(double, scale, 1.0,
          "multiplies the world's size and each tick's work: 1 is 1,000 guilds, 100,000 "
          "players and 1,000,000 items (peak memory about 360 MB); 0.01 is tiny, 10 large; "
          "at most 100");
ABSL_FLAG(int32_t, ticks, 100, "ticks of the game loop");
ABSL_FLAG(std::string, save, "",
          "keep the final snapshot at this path (default: a temporary file, removed)");
ABSL_FLAG(bool, fsync, true, "fsync the snapshot when saving it");
ABSL_FLAG(std::string, data, "",
          "keep the world in this data directory (kin::Database::Open): each tick is one "
          "journaled transaction; run again with the same directory to resume after the last "
          "committed tick");
ABSL_FLAG(std::string, sync, "every",
          "with --data: when each tick's journal record is synced to the disk (kin::SyncPolicy): "
          "'every' before the tick's commit returns (kEveryCommit), 'grouped' at most every "
          "100 ms, so a power loss may lose the last interval's ticks (kGrouped), 'none' when "
          "the operating system decides (kNone); a crash of the program alone loses no "
          "committed tick under any of them. Without --data only 'every' is accepted (an "
          "in-memory world has nothing to sync)");
ABSL_FLAG(bool, check_consistency, false,
          "also run Database::CheckConsistency (every index against a full scan) at the end; "
          "slow: about 2 s at scale 1");
ABSL_FLAG(int32_t, cross_check_every, 10,
          "re-run the tick's relation queries by hand on typed spans every N ticks (and on "
          "the last) and compare (0: never); not counted in the tick times");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "kin's demo: a persistent game world (guilds, players, items, events, quests, profiles)\n"
      "run in a game loop, with relation reads and writes every tick, then saved, loaded and\n"
      "checked.\n"
      "Exits non-zero if any check fails.\n\n"
      "  world [--seed=N] [--scale=F] [--ticks=N] [--save=PATH]\n"
      "        [--data=DIR [--sync=every|grouped|none]]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "world: unexpected argument '" << rest[1] << "' (see --help)\n";
    return 2;
  }

  kin::examples::WorldOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.scale = absl::GetFlag(FLAGS_scale);
  options.ticks = absl::GetFlag(FLAGS_ticks);
  options.save_path = absl::GetFlag(FLAGS_save);
  // `bazel run` starts the program in its runfiles tree; a relative --save
  // means the directory the user ran bazel from.
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (!options.save_path.empty() && cwd != nullptr &&
      std::filesystem::path(options.save_path).is_relative()) {
    options.save_path = (std::filesystem::path(cwd) / options.save_path).string();
  }
  options.fsync = absl::GetFlag(FLAGS_fsync);
  options.data_dir = absl::GetFlag(FLAGS_data);
  if (!options.data_dir.empty() && cwd != nullptr &&
      std::filesystem::path(options.data_dir).is_relative()) {
    options.data_dir = (std::filesystem::path(cwd) / options.data_dir).string();
  }
  const std::string sync = absl::GetFlag(FLAGS_sync);
  if (sync == "every") {
    options.sync = kin::SyncPolicy::kEveryCommit;
  } else if (sync == "grouped") {
    options.sync = kin::SyncPolicy::kGrouped;
  } else if (sync == "none") {
    options.sync = kin::SyncPolicy::kNone;
  } else {
    std::cerr << "world: bad value '" << sync
              << "' for --sync: expected every, grouped or none (see --help)\n";
    return 2;
  }
  if (options.data_dir.empty() && options.sync != kin::SyncPolicy::kEveryCommit) {
    std::cerr << "world: --sync=" << sync
              << " needs --data=DIR: without a data directory the world is in memory and has "
                 "no journal to sync\n";
    return 2;
  }
  options.cross_check_every = absl::GetFlag(FLAGS_cross_check_every);
  options.check_consistency = absl::GetFlag(FLAGS_check_consistency);
  // A terminal gets one progress line rewritten in place; a log gets a line
  // every 10 ticks.
  options.progress_in_place = isatty(STDOUT_FILENO) == 1;

  absl::StatusOr<kin::examples::WorldReport> report = kin::examples::RunWorld(options, std::cout);
  if (!report.ok()) {
    std::cout.flush();
    std::cerr << "world: " << report.status() << "\n";
    return 1;
  }
  std::cout << kin::examples::FormatReport(*report);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "world: cannot write the report\n";
    return 1;
  }
  return report->ok() ? 0 : 1;
}
