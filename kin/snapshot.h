// Snapshot options: how kin::SaveSnapshot writes a file and what
// kin::LoadSnapshot accepts (kin/database.h declares the functions; the
// format and its guarantees are described in persist/snapshot.h and the
// README).

#ifndef KIN_SNAPSHOT_H_
#define KIN_SNAPSHOT_H_

#include <cstdint>

namespace kin {

// Where snapshot files are read and written (kin-internal; see
// persist/env.h).
class Env;

// Knobs for saving a snapshot file.
struct SnapshotOptions {
  // fsync the new file before renaming it over the target, and the directory
  // after, so the save survives a power loss. Without it the save is still
  // atomic against a crash of the program, just not of the machine.
  bool fsync = true;
  // The file system to save through; nullptr (the default) is the
  // operating system's. kin's tests put an in-memory, fault-injecting one
  // here.
  Env* env = nullptr;
};

// Limits for loading untrusted snapshots. Going over one is a
// ResourceExhausted error, reported before the memory is allocated.
struct LoadOptions {
  // Largest snapshot accepted, in bytes (envelope included). Loading holds
  // the file in memory and needs up to about 8x its size more for the
  // decoded tables (an empty string costs 32 bytes in memory and 4 in the
  // file).
  uint64_t max_bytes = uint64_t{16} << 30;  // 16 GiB
  // Most row slots (live rows plus deleted, reusable slots) over all tables.
  uint64_t max_rows = uint64_t{1} << 32;
  // The file system to load files from; nullptr (the default) is the
  // operating system's. Not used when decoding bytes or a stream.
  Env* env = nullptr;
};

}  // namespace kin

#endif  // KIN_SNAPSHOT_H_
