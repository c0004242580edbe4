#include "persist/sink.h"

#include <algorithm>
#include <new>

#include "persist/coding.h"
#include "persist/errors.h"

namespace kin::internal {

namespace {

// Big enough that write() calls and hash updates cost nothing per byte,
// small enough to stay in the L2 cache between the copy, the hash and the
// kernel's copy: a column copied through it is read from memory once.
// Handing whole columns to write() and the hash directly (two reads from
// memory, no copy) measured no faster.
constexpr size_t kBufferBytes = size_t{1} << 18;

}  // namespace

Sink::Sink()
    : buffer_(new char[kBufferBytes]),
      pos_(buffer_.get()),
      end_(buffer_.get() + kBufferBytes),
      hash_(XXH3_createState()) {
  if (hash_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(hash_);
}

Sink::~Sink() { XXH3_freeState(hash_); }

void Sink::EmitHashed(const char* data, size_t n) {
  XXH3_64bits_update(hash_, data, n);
  emitted_ += n;
  if (status_.ok()) status_ = Emit(data, n);
}

void Sink::Flush() {
  size_t n = static_cast<size_t>(pos_ - buffer_.get());
  pos_ = buffer_.get();
  if (n > 0) EmitHashed(buffer_.get(), n);
}

void Sink::WriteSlow(const char* data, size_t n) {
  while (n > 0) {
    if (pos_ == end_) Flush();
    size_t part = std::min(n, static_cast<size_t>(end_ - pos_));
    std::memcpy(pos_, data, part);
    pos_ += part;
    data += part;
    n -= part;
  }
}

absl::Status Sink::Finish(absl::string_view header) {
  Flush();
  XXH3_64bits_update(hash_, header.data(), header.size());
  uint64_t sum = XXH3_64bits_digest(hash_);
  char trailer[8];
  EncodeFixed64(trailer, sum);
  if (status_.ok()) status_ = Emit(trailer, sizeof(trailer));
  return status_;
}

StringSink::~StringSink() = default;

absl::Status StringSink::Emit(const char* data, size_t n) {
  out_->append(data, n);
  return absl::OkStatus();
}

FileSink::~FileSink() = default;

absl::Status FileSink::Emit(const char* data, size_t n) {
  absl::Status status = file_->Append(absl::string_view(data, n));
  if (!status.ok()) return SaveFailed(target_, "cannot write the temporary file", status);
  return absl::OkStatus();
}

}  // namespace kin::internal
