// Snapshots: a whole database (engine tables and relation declarations)
// saved to bytes, a stream or a file, and loaded back.
//
//   KIN_RETURN_IF_ERROR(kin::SaveSnapshotFile(engine, relations, "world.kin"));
//   KIN_ASSIGN_OR_RETURN(kin::SnapshotContents loaded,
//                        kin::LoadSnapshotFile("world.kin"));
//
// What is saved: every table in creation order (name, full schema with
// defaults and key/unique/indexed flags, column data, NULL and live bitmaps,
// per-slot generations, the free list, the auto-increment counter, and the
// per-key row order of secondary indexes), the engine's foreign keys, and
// the declarative part of every relation (kind, names, keys, inverse,
// referential actions, meta). Indexes themselves are rebuilt on load.
// Loading gives back an engine whose DebugString() equals the saved one, so
// RowIds, generations, slot reuse and child order all carry over: a
// simulation resumed from a checkpoint replays identically.
//
// Not saved: RelationSpec::on_query callbacks (they are code). After a load,
// re-attach them by name before running queries:
//   KIN_RETURN_IF_ERROR(loaded.relations.SetOnQuery("users", "drafts",
//       [](kin::Query& q) { q.Where("is_published", false); }));
// A relation whose callback is not re-attached reads without a filter.
//
// File format (version 3, all integers little-endian):
//   magic     8 bytes  89 4B 49 4E 0D 0A 1A 0A  ("\x89KIN\r\n\x1a\n")
//   version   u32      format version (3; version 3 adds each column's
//                      ordered-index flag and each relation's scope after
//                      its meta, otherwise it is version 2)
//   flags     u32      reserved, 0
//   length    u64      payload bytes
//   payload   length   cereal portable binary archive for the structure,
//                      8-aligned raw blocks for columns (see payload.h)
//   checksum  u64      XXH3-64 of the payload followed by the 24 header
//                      bytes (version 1: of the header then the payload)
// Version 1 and 2 files are still read (their relations have no scope).
// A reader checks magic, version, flags, length against the bytes present,
// and the checksum before decoding a byte of the payload; the decoder then
// checks every count against the bytes remaining before allocating, so a
// forged count cannot force a huge allocation even with a valid checksum
// (which is no defence against a crafted file).
//
// Errors (never an exception, never a crash, never a half-loaded database):
//   NotFound           the file does not exist (load), or the directory to
//                      save into does not exist (save)
//   DataLoss           not a kin snapshot, unsupported (newer) format
//                      version, truncated, trailing bytes, checksum
//                      mismatch, counts that do not fit the bytes, or
//                      contents that are inconsistent (duplicate keys, a
//                      foreign key naming a missing table, ...)
//   ResourceExhausted  over LoadOptions limits; out of memory; disk full
//   PermissionDenied   the file or directory is not readable / writable
//   FailedPrecondition saving inside an open transaction; a path component
//                      that is not a directory, or a target that is one
// Messages are lowercase and name the file ("snapshot 'saves/world.kin':
// checksum mismatch ..."); bytes and streams are named "(bytes)" and
// "(stream)".
//
// Thread safety: the functions are reentrant; the engine and catalog must not
// be written while a snapshot of them is being encoded.

#ifndef KIN_PERSIST_SNAPSHOT_H_
#define KIN_PERSIST_SNAPSHOT_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "kin/snapshot.h"
#include "relations/relation_catalog.h"

namespace kin {

// The format version this build writes. It reads every version from 1 up
// to this one; a file with a higher version is a DataLoss error naming it.
// Version 3 adds each column's ordered-index flag (ColumnSpec::ordered) and
// each relation's scope; version 4 each table's composite ordered indexes;
// version 5 whether each relation had an on_query (RelationSpec::
// on_query_pending); version 6 the relation kinds has one, many to many
// and has many through, with a relation's second table and pivot columns,
// and the engine's metadata (Engine::metadata(), where kin::Migrations
// records the schema version and applied steps).
inline constexpr uint32_t kSnapshotFormatVersion = 6;

// A loaded snapshot: the engine with its tables and foreign keys, and the
// relation declarations (on_query unset).
struct SnapshotContents {
  Engine engine;
  RelationCatalog relations;
  // The format version of the file that was read.
  uint32_t format_version = 0;
};

// The snapshot of `engine` and `relations` as bytes. FailedPrecondition
// while a transaction is open (uncommitted writes would be saved). Cost: one
// pass over every column; memory: the size of the snapshot.
[[nodiscard]] absl::StatusOr<std::string> EncodeSnapshot(const Engine& engine,
                                                         const RelationCatalog& relations);

// Decodes bytes produced by EncodeSnapshot. `bytes` must be exactly one
// snapshot (trailing bytes are DataLoss).
[[nodiscard]] absl::StatusOr<SnapshotContents> DecodeSnapshot(absl::string_view bytes,
                                                              const LoadOptions& options = {});

// Writes one snapshot to `out`. Unknown error when the stream fails.
absl::Status WriteSnapshot(const Engine& engine, const RelationCatalog& relations,
                           std::ostream& out);

// Reads one snapshot from `in`, consuming exactly its bytes, so several
// snapshots (or other data) can follow one another in a stream. Memory
// grows with the bytes that actually arrive, never with a length the
// stream claims.
[[nodiscard]] absl::StatusOr<SnapshotContents> ReadSnapshot(std::istream& in,
                                                            const LoadOptions& options = {});

// Saves atomically: streams the snapshot into a temporary file in the same
// directory (".NAME.tmp-PID-N") through a 256 KiB buffer (the snapshot is
// never held in memory whole), fsyncs it, renames it over `path`, then
// fsyncs the directory. On any error, or if the process dies at any point,
// `path` holds either the previous snapshot or the new one, whole; the
// temporary is removed on errors (a crash can leave one behind: it is never
// read and may be deleted). A symlink at `path` is replaced, not followed.
// Files are written through options.env (nullptr: the POSIX Env).
// Codes: NotFound (no such directory), PermissionDenied, ResourceExhausted
// (disk full, file size limit), FailedPrecondition (see above).
absl::Status SaveSnapshotFile(const Engine& engine, const RelationCatalog& relations,
                              const std::string& path, const SnapshotOptions& options = {});

// Loads a file written by SaveSnapshotFile, through options.env (nullptr:
// the POSIX Env). NotFound when it does not exist.
// The file is read (not mapped, so a file truncated or failing under the
// reader is an error, never SIGBUS) and hashed as it arrives.
[[nodiscard]] absl::StatusOr<SnapshotContents> LoadSnapshotFile(const std::string& path,
                                                                const LoadOptions& options = {});

}  // namespace kin

#endif  // KIN_PERSIST_SNAPSHOT_H_
