#include "persist/snapshot.h"

#include <exception>
#include <new>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cereal/details/helpers.hpp"
#include "kin/status_macros.h"
#include "persist/env.h"
#include "persist/envelope.h"
#include "persist/errors.h"
#include "persist/file_io.h"
#include "persist/payload.h"
#include "persist/sink.h"

namespace kin {

namespace {

// The one place where exceptions stop: cereal reports errors by throwing,
// and allocation can throw. Nothing may cross the API, so each becomes a
// status naming `label`. With the envelope checked and every count bounded
// first, reaching a catch means an unexpected case, not the normal way of
// rejecting a damaged file.
template <typename F>
auto CatchExceptions(absl::string_view label, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return internal::OverLimit(label, "out of memory");
  } catch (const cereal::Exception& e) {
    return internal::BadSnapshot(label, absl::StrCat("cannot decode: ", e.what()));
  } catch (const std::exception& e) {
    return internal::BadSnapshot(label, absl::StrCat("cannot decode: ", e.what()));
  } catch (...) {
    return internal::BadSnapshot(label, "cannot decode: unknown exception");
  }
}

absl::StatusOr<SnapshotContents> Decode(absl::string_view bytes, const LoadOptions& options,
                                        absl::string_view label,
                                        std::optional<uint64_t> checksum = std::nullopt) {
  return CatchExceptions(label, [&]() -> absl::StatusOr<SnapshotContents> {
    KIN_ASSIGN_OR_RETURN(internal::EnvelopeHeader header,
                         internal::CheckEnvelope(bytes, options.max_bytes, label, checksum));
    return internal::DecodePayload(bytes.substr(internal::kHeaderSize, header.payload_length),
                                   header.version, options, label);
  });
}

// The Env that options name, or the POSIX one.
Env* EnvOf(Env* env) { return env != nullptr ? env : Env::Default(); }

}  // namespace

absl::StatusOr<std::string> EncodeSnapshot(const Engine& engine, const RelationCatalog& relations) {
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        "snapshot: a transaction is open; commit or roll it back before saving");
  }
  return CatchExceptions("(encode)", [&]() -> absl::StatusOr<std::string> {
    std::string out(internal::kHeaderSize, '\0');  // the header, once the length is known
    internal::StringSink sink(&out);
    KIN_RETURN_IF_ERROR(internal::EncodePayload(engine, relations, &sink));
    std::string header = internal::EncodeHeader(sink.size());
    KIN_RETURN_IF_ERROR(sink.Finish(header));
    out.replace(0, header.size(), header);
    return out;
  });
}

absl::StatusOr<SnapshotContents> DecodeSnapshot(absl::string_view bytes,
                                                const LoadOptions& options) {
  return Decode(bytes, options, internal::kBytesLabel);
}

absl::Status WriteSnapshot(const Engine& engine, const RelationCatalog& relations,
                           std::ostream& out) {
  KIN_ASSIGN_OR_RETURN(std::string bytes, EncodeSnapshot(engine, relations));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out.good()) {
    return absl::UnknownError(absl::StrCat("snapshot ", internal::kStreamLabel,
                                           ": the stream failed while writing ", bytes.size(),
                                           " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SnapshotContents> ReadSnapshot(std::istream& in, const LoadOptions& options) {
  absl::string_view label = internal::kStreamLabel;
  return CatchExceptions(label, [&]() -> absl::StatusOr<SnapshotContents> {
    std::string bytes(internal::kHeaderSize, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    bytes.resize(static_cast<size_t>(in.gcount()));
    KIN_ASSIGN_OR_RETURN(internal::EnvelopeHeader header, internal::CheckHeader(bytes, label));
    KIN_RETURN_IF_ERROR(internal::CheckClaimedSize(header, options.max_bytes, label));
    // Grow with the bytes that arrive, a chunk at a time, rather than
    // trusting the header's length for one big allocation.
    constexpr uint64_t kChunk = uint64_t{1} << 20;
    uint64_t total = internal::kEnvelopeSize + header.payload_length;
    while (bytes.size() < total && in.good()) {
      size_t have = bytes.size();
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, total - have));
      bytes.resize(have + want);
      in.read(bytes.data() + have, static_cast<std::streamsize>(want));
      bytes.resize(have + static_cast<size_t>(in.gcount()));
    }
    return Decode(bytes, options, label);
  });
}

absl::Status SaveSnapshotFile(const Engine& engine, const RelationCatalog& relations,
                              const std::string& path, const SnapshotOptions& options) {
  if (engine.transaction_depth() > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("save ", internal::FileLabel(path),
                     ": snapshot: a transaction is open; commit or roll it back before saving"));
  }
  // Streams the payload into the temporary file through the sink's buffer,
  // hashing as it goes, and writes the header last, when its length is
  // known: no copy of the snapshot in memory and no second pass for the
  // checksum. An encoding error removes the temporary, so it leaves no trace.
  return internal::WriteFileAtomically(
      EnvOf(options.env), path, options.fsync, [&](WritableFile* file) -> absl::Status {
        // A failed write is already worded for the file (SaveFailed); an
        // encoding failure is prefixed with it, as EncodeSnapshot's errors
        // are.
        absl::Status write_error;
        absl::Status encoded = CatchExceptions("(encode)", [&]() -> absl::Status {
          // Room for the header, overwritten last.
          write_error =
              internal::SaveFailed(path, "cannot write the temporary file",
                                   file->Append(std::string(internal::kHeaderSize, '\0')));
          if (!write_error.ok()) return absl::OkStatus();
          internal::FileSink sink(file, path);
          absl::Status status = internal::EncodePayload(engine, relations, &sink);
          // The sink's error comes first: it is why the encoder stopped.
          if (!sink.status().ok() || !status.ok()) {
            write_error = sink.status();
            return status;
          }
          std::string header = internal::EncodeHeader(sink.size());
          write_error = sink.Finish(header);
          if (write_error.ok()) {
            write_error = internal::SaveFailed(path, "cannot write the temporary file",
                                               file->WriteAt(0, header));
          }
          return absl::OkStatus();
        });
        if (!write_error.ok()) return write_error;
        return internal::Annotate(encoded, absl::StrCat("save ", internal::FileLabel(path)));
      });
}

absl::StatusOr<SnapshotContents> LoadSnapshotFile(const std::string& path,
                                                  const LoadOptions& options) {
  std::string label = internal::FileLabel(path);
  return CatchExceptions(label, [&]() -> absl::StatusOr<SnapshotContents> {
    // Hashed as it is read, while each chunk is in the cache.
    std::optional<internal::ChecksumStream> checksum;
    KIN_ASSIGN_OR_RETURN(
        internal::FileBytes bytes,
        internal::ReadWholeFile(EnvOf(options.env), path, options.max_bytes,
                                [&](const char* data, size_t n, uint64_t file_size) {
                                  if (!checksum.has_value()) checksum.emplace(file_size);
                                  checksum->Update(data, n);
                                }));
    std::optional<uint64_t> sum;
    if (checksum.has_value()) sum = checksum->Result();
    return Decode(bytes.view(), options, label, sum);
  });
}

}  // namespace kin
