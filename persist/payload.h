// The snapshot payload: engine tables, foreign keys and relation
// declarations in a cereal portable binary archive (little-endian). Internal
// to //persist; snapshot.cc wraps it in the envelope and is the one place
// that catches exceptions, so these functions may throw (cereal::Exception,
// std::bad_alloc) and must only be called from there.
//
// Layout of format version 4 (u8/u32/u64/i64/f64 fixed-size little-endian
// integers and IEEE doubles; bool cells and flags are u8 0 or 1; enums are
// u8 with their persisted numeric values; `pad` is 0 to 7 zero bytes up to
// the next multiple of 8 from the payload's start, which lies at file offset
// 24, so every bulk block is 8-aligned in the file):
//   payload   := endianness:u8 (cereal's) tables foreign_keys relations
//                metadata (from version 6 on)
//   tables    := count:u32 table*
//   table     := name:str column_count:u32 column_spec* slots:bitmap(live)
//                generations:u32[] free_slots:u32[] next_auto_increment:i64
//                (cells validity?)* per column, validity only if nullable
//                order_count:u32 (column:u32 rows:u32[])*
//                composite_count:u32 (width:u32 column:u32*)* (from version 4
//                on: composite ordered indexes, width 2 or 3)
//   column_spec := name:str type:u8 nullable:u8 primary_key:u8
//                auto_increment:u8 unique:u8 indexed:u8 has_default:u8 value?
//                ordered:u8 (from version 3 on)
//   cells     := i64[] | f64[] | u8[] | strings by column type
//   strings   := count:u64 pad lengths:u32[count] bytes (all the strings'
//                bytes back to back, sum(lengths) of them)
//   T[]       := count:u64 pad T*          (one block, written and read
//                                           with one copy)
//   bitmap    := bits:u64 pad words:u64[(bits + 63) / 64] (bits past the
//                end 0)
//   str       := length:u64 bytes
//   value     := tag:u8 (0 NULL | 1 i64 | 2 f64 | 3 u8 | 4 str), as Type
//   foreign_keys := count:u32 (child_table child_column parent_table
//                parent_column :str on_delete:u8 on_update:u8)*
//   relations := count:u32 (kind:u8 name table related_table foreign_key
//                local_key inverse :str on_delete:u8 on_update:u8
//                on_unlink:u8 meta_count:u32 (key:str value)*
//                scope_count:u32 (column:str value)*)*
//                (scope_count and its entries from version 3 on; version 2
//                is the same without them and without column_spec's ordered)
//   metadata  := count:u32 (key:str value:str)* (Engine::metadata(), in key
//                order; keys unique, neither empty)
// The per-column `order` lists the rows of a secondary index key by key when
// they are not in slot order (slot reuse, updated keys), so children keep
// their order; it is omitted when slot order reproduces the index.
//
// Version 1 differs in the bulk parts only: no padding, and string cells
// are count:u64 str* (each string with its u64 length). It is still read.

#ifndef KIN_PERSIST_PAYLOAD_H_
#define KIN_PERSIST_PAYLOAD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "persist/sink.h"
#include "persist/snapshot.h"
#include "relations/relation_catalog.h"

namespace kin::internal {

// Writes the payload (current version) to `sink`. InvalidArgument for a
// string cell over 4 GiB; the sink's errors are the sink's. May throw.
absl::Status EncodePayload(const Engine& engine, const RelationCatalog& relations, Sink* sink);

// Decodes a payload of format `version` (already checked to be supported).
// Every count is checked against the bytes remaining before anything is
// allocated. DataLoss naming `label` on any inconsistency, ResourceExhausted
// over `options.max_rows`. May throw.
absl::StatusOr<SnapshotContents> DecodePayload(absl::string_view payload, uint32_t version,
                                               const LoadOptions& options, absl::string_view label);

}  // namespace kin::internal

#endif  // KIN_PERSIST_PAYLOAD_H_
