// Where an encoded payload goes: a buffer in memory or a file,
// hashed (XXH3-64, streaming) as the bytes pass, so a save never holds the
// whole snapshot in memory and never reads it back for the checksum.
// Internal to //persist.

#ifndef KIN_PERSIST_SINK_H_
#define KIN_PERSIST_SINK_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "persist/env.h"
#include "xxhash.h"

namespace kin::internal {

// Payload bytes in order, gathered in a buffer that is hashed and emitted
// whenever it fills. Errors are sticky: after the first failed Emit nothing more is
// emitted, and status() reports it.
class Sink {
 public:
  Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  virtual ~Sink();

  // `data` may be null when n is 0 (an empty column's data()).
  void Write(const void* data, size_t n) {
    if (n == 0) return;
    if (n <= static_cast<size_t>(end_ - pos_)) {
      std::memcpy(pos_, data, n);
      pos_ += n;
      return;
    }
    WriteSlow(static_cast<const char*>(data), n);
  }
  // Zero bytes up to the next multiple of 8 of size(), so that the next
  // block lies 8-aligned in the file (the payload starts at offset 24).
  void Align8() {
    static constexpr char kZeros[8] = {};
    Write(kZeros, (8 - size() % 8) % 8);
  }
  // Payload bytes written so far.
  uint64_t size() const { return emitted_ + static_cast<uint64_t>(pos_ - buffer_.get()); }

  // Ends the payload: emits what is buffered, hashes `header` after the
  // payload (see envelope.h) and emits the checksum. Returns status().
  absl::Status Finish(absl::string_view header);

  const absl::Status& status() const { return status_; }

 protected:
  // Receives the bytes; returns a non-OK status to stop the sink.
  virtual absl::Status Emit(const char* data, size_t n) = 0;

 private:
  void WriteSlow(const char* data, size_t n);
  void Flush();
  void EmitHashed(const char* data, size_t n);

  std::unique_ptr<char[]> buffer_;
  char* pos_;
  char* end_;
  uint64_t emitted_ = 0;
  XXH3_state_t* hash_;
  absl::Status status_;
};

// Appends to a string (EncodeSnapshot).
class StringSink : public Sink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  ~StringSink() override;

 protected:
  absl::Status Emit(const char* data, size_t n) override;

 private:
  std::string* out_;
};

// Appends to a file (SaveSnapshotFile's temporary); a failed Append is
// reported as a failed save of `target`.
class FileSink : public Sink {
 public:
  FileSink(WritableFile* file, std::string target) : file_(file), target_(std::move(target)) {}
  ~FileSink() override;

 protected:
  absl::Status Emit(const char* data, size_t n) override;

 private:
  WritableFile* file_;
  std::string target_;
};

}  // namespace kin::internal

#endif  // KIN_PERSIST_SINK_H_
