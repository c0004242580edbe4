#include "persist/envelope.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "persist/coding.h"
#include "persist/errors.h"
#include "persist/snapshot.h"
#include "xxhash.h"

namespace kin::internal {

namespace {

constexpr size_t kVersionOffset = 8;
constexpr size_t kFlagsOffset = 12;
constexpr size_t kLengthOffset = 16;

// The checksum of a whole snapshot of `version` (see envelope.h).
uint64_t Checksum(absl::string_view bytes, uint32_t version) {
  size_t body = bytes.size() - kTrailerSize;
  if (version == 1) return XXH3_64bits(bytes.data(), body);
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, bytes.data() + kHeaderSize, body - kHeaderSize);
  XXH3_64bits_update(state, bytes.data(), kHeaderSize);
  uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return sum;
}

}  // namespace

std::string EncodeHeader(uint64_t payload_length) {
  std::string out(kHeaderSize, '\0');
  std::memcpy(out.data(), kMagic, sizeof(kMagic));
  EncodeFixed32(out.data() + kVersionOffset, kSnapshotFormatVersion);
  EncodeFixed64(out.data() + kLengthOffset, payload_length);
  return out;
}

absl::StatusOr<EnvelopeHeader> CheckHeader(absl::string_view prefix, absl::string_view label) {
  absl::string_view magic(kMagic, sizeof(kMagic));
  if (prefix.empty()) return BadSnapshot(label, "not a kin snapshot (empty)");
  if (prefix.substr(0, magic.size()) != magic.substr(0, prefix.size())) {
    return BadSnapshot(label, "not a kin snapshot (no kin magic number)");
  }
  if (prefix.size() < kHeaderSize) {
    return BadSnapshot(label, absl::StrCat("truncated: ", prefix.size(), " bytes, less than the ",
                                           kHeaderSize, "-byte header"));
  }
  EnvelopeHeader header;
  header.version = DecodeFixed32(prefix.data() + kVersionOffset);
  if (header.version == 0 || header.version > kSnapshotFormatVersion) {
    return BadSnapshot(
        label, absl::StrCat("unsupported format version ", header.version,
                            " (this build reads versions 1 to ", kSnapshotFormatVersion, ")"));
  }
  uint32_t flags = DecodeFixed32(prefix.data() + kFlagsOffset);
  if (flags != 0) {
    return BadSnapshot(label, absl::StrFormat("unsupported header flags 0x%x", flags));
  }
  header.payload_length = DecodeFixed64(prefix.data() + kLengthOffset);
  return header;
}

absl::Status CheckClaimedSize(const EnvelopeHeader& header, uint64_t max_bytes,
                              absl::string_view label) {
  if (max_bytes < kEnvelopeSize || header.payload_length > max_bytes - kEnvelopeSize) {
    return OverLimit(
        label, absl::StrCat("header announces a payload of ", header.payload_length,
                            " bytes, over the limit of LoadOptions::max_bytes (", max_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<EnvelopeHeader> CheckEnvelope(absl::string_view bytes, uint64_t max_bytes,
                                             absl::string_view label,
                                             std::optional<uint64_t> checksum) {
  if (bytes.size() > max_bytes) {
    return OverLimit(label, absl::StrCat(bytes.size(),
                                         " bytes, over the limit of "
                                         "LoadOptions::max_bytes (",
                                         max_bytes, ")"));
  }
  absl::StatusOr<EnvelopeHeader> header = CheckHeader(bytes.substr(0, kHeaderSize), label);
  if (!header.ok()) return header.status();
  // Compared without adding to the length, which a damaged header can make
  // as large as 2^64 - 1.
  uint64_t room = bytes.size() < kEnvelopeSize ? 0 : bytes.size() - kEnvelopeSize;
  if (bytes.size() < kEnvelopeSize || header->payload_length > room) {
    return BadSnapshot(label,
                       absl::StrCat("truncated: the header announces ", header->payload_length,
                                    " payload bytes, only ", room, " are present"));
  }
  if (header->payload_length < room) {
    return BadSnapshot(label, absl::StrCat(room - header->payload_length,
                                           " unexpected bytes after the end of the snapshot"));
  }
  size_t body = bytes.size() - kTrailerSize;
  uint64_t stored = DecodeFixed64(bytes.data() + body);
  uint64_t computed = checksum.has_value() ? *checksum : Checksum(bytes, header->version);
  if (stored != computed) {
    return BadSnapshot(label, absl::StrFormat("checksum mismatch (stored %016x, computed %016x): "
                                              "the file is damaged",
                                              stored, computed));
  }
  return header;
}

ChecksumStream::ChecksumStream(uint64_t total_size)
    : total_(total_size), state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(state_);
}

ChecksumStream::~ChecksumStream() { XXH3_freeState(state_); }

void ChecksumStream::Update(const char* data, size_t n) {
  if (total_ < kEnvelopeSize) {
    seen_ += n;
    return;
  }
  // The header: kept, and for version 1 hashed first.
  if (seen_ < kHeaderSize) {
    size_t part = std::min<size_t>(n, kHeaderSize - seen_);
    std::memcpy(header_ + seen_, data, part);
    seen_ += part;
    data += part;
    n -= part;
    if (seen_ == kHeaderSize) {
      version_ = DecodeFixed32(header_ + kVersionOffset);
      if (version_ == 1) XXH3_64bits_update(state_, header_, kHeaderSize);
    }
  }
  // The payload, up to the trailer.
  uint64_t body_end = total_ - kTrailerSize;
  if (n > 0 && seen_ < body_end) {
    size_t part = static_cast<size_t>(std::min<uint64_t>(n, body_end - seen_));
    XXH3_64bits_update(state_, data, part);
  }
  seen_ += n;
}

std::optional<uint64_t> ChecksumStream::Result() {
  if (seen_ != total_ || total_ < kEnvelopeSize || version_ == 0 ||
      version_ > kSnapshotFormatVersion) {
    return std::nullopt;
  }
  if (version_ != 1) XXH3_64bits_update(state_, header_, kHeaderSize);
  return XXH3_64bits_digest(state_);
}

}  // namespace kin::internal
