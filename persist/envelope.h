// The snapshot envelope: magic, format version, flags, payload length, the
// payload, and an XXH3-64 checksum. Checked in full before the payload
// decoder sees a byte. Internal to //persist; the layout is documented in
// snapshot.h.
//
// What the checksum covers: version 1, the header then the payload (the
// bytes before the checksum, in file order); version 2, the payload then
// the header, so that a writer can hash the payload as it streams out and
// fill in the header's length once it knows it.

#ifndef KIN_PERSIST_ENVELOPE_H_
#define KIN_PERSIST_ENVELOPE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "xxhash.h"

namespace kin::internal {

// PNG-style: the high-bit byte catches 7-bit transports, CR LF catches
// newline translation, ^Z stops DOS `type`.
inline constexpr char kMagic[8] = {'\x89', 'K', 'I', 'N', '\r', '\n', '\x1a', '\n'};
inline constexpr size_t kHeaderSize = 24;  // magic, version, flags, length
inline constexpr size_t kTrailerSize = 8;  // checksum
inline constexpr size_t kEnvelopeSize = kHeaderSize + kTrailerSize;

// The header of a snapshot of the current format version with a payload of
// `payload_length` bytes.
std::string EncodeHeader(uint64_t payload_length);

struct EnvelopeHeader {
  uint32_t version = 0;
  uint64_t payload_length = 0;
};

// Checks the first bytes of a snapshot (magic, version, flags) and returns
// the header. `prefix` may be shorter than kHeaderSize only when the whole
// input is: then it is DataLoss (not a snapshot, or truncated). `label`
// names the input in messages.
absl::StatusOr<EnvelopeHeader> CheckHeader(absl::string_view prefix, absl::string_view label);

// ResourceExhausted when a snapshot with this header would be larger than
// `max_bytes`. For inputs whose size is not known in advance (streams).
absl::Status CheckClaimedSize(const EnvelopeHeader& header, uint64_t max_bytes,
                              absl::string_view label);

// Checks a whole snapshot (size limit, header, exact length, checksum) and
// returns the header; the payload is bytes.substr(kHeaderSize,
// payload_length). A damaged length field is DataLoss (it disagrees with
// the bytes present), never ResourceExhausted.
// `checksum`, when given, is what ChecksumStream computed over these same
// bytes as they were read; otherwise the checksum is computed here.
absl::StatusOr<EnvelopeHeader> CheckEnvelope(absl::string_view bytes, uint64_t max_bytes,
                                             absl::string_view label,
                                             std::optional<uint64_t> checksum = std::nullopt);

// The checksum of a snapshot of known total size, computed as its bytes
// arrive in file order, so a file is hashed chunk by chunk while each chunk
// is still in the cache instead of in a second pass over memory.
class ChecksumStream {
 public:
  explicit ChecksumStream(uint64_t total_size);
  ChecksumStream(const ChecksumStream&) = delete;
  ChecksumStream& operator=(const ChecksumStream&) = delete;
  ~ChecksumStream();

  // The next `n` bytes of the input.
  void Update(const char* data, size_t n);
  // The checksum CheckEnvelope would compute over the input; nullopt when
  // fewer or more than total_size bytes arrived, or the input is too short
  // or of a version this build does not read (CheckEnvelope then computes
  // and reports as usual).
  std::optional<uint64_t> Result();

 private:
  uint64_t total_;
  uint64_t seen_ = 0;
  char header_[kHeaderSize];
  uint32_t version_ = 0;
  XXH3_state_t* state_;
};

}  // namespace kin::internal

#endif  // KIN_PERSIST_ENVELOPE_H_
