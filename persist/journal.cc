#include "persist/journal.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kin/status_macros.h"
#include "persist/coding.h"
#include "xxhash.h"

namespace kin::internal {

namespace {

enum ValueTag : uint8_t { kNull = 0, kInt64 = 1, kDouble = 2, kBool = 3, kString = 4 };

uint64_t Checksum(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

// Reads a record's payload; every read is bounds-checked, and the first
// failure sticks (the caller reports it with the record's offset).
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : bytes_(bytes) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool done() const { return pos_ == bytes_.size(); }

  uint8_t U8(const char* what) {
    if (!Need(1, what)) return 0;
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  uint32_t U32(const char* what) {
    if (!Need(4, what)) return 0;
    const uint32_t v = DecodeFixed32(bytes_.data() + pos_);
    pos_ += 4;
    return v;
  }
  uint64_t U64(const char* what) {
    if (!Need(8, what)) return 0;
    const uint64_t v = DecodeFixed64(bytes_.data() + pos_);
    pos_ += 8;
    return v;
  }
  std::string_view Bytes(const char* what) {
    const uint32_t n = U32(what);
    if (!Need(n, what)) return {};
    std::string_view v = bytes_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  Value Val() {
    switch (U8("value tag")) {
      case kNull:
        return Value();
      case kInt64:
        return Value(static_cast<int64_t>(U64("int64 value")));
      case kDouble: {
        const uint64_t bits = U64("double value");
        double d;
        std::memcpy(&d, &bits, 8);
        return Value(d);
      }
      case kBool: {
        const uint8_t b = U8("bool value");
        if (b > 1) Fail("bool value");
        return Value(b == 1);
      }
      case kString:
        return Value(std::string(Bytes("string value")));
      default:
        Fail("value tag");
        return Value();
    }
  }
  // A count of items of at least `min_bytes` each must fit in what is left
  // (no allocation sized by a damaged count).
  bool CheckCount(uint32_t count, size_t min_bytes, const char* what) {
    if (static_cast<uint64_t>(count) * min_bytes > bytes_.size() - pos_) {
      Fail(what);
      return false;
    }
    return true;
  }
  void Fail(const char* what) {
    if (error_.empty()) error_ = absl::StrCat("bad ", what, " at payload byte ", pos_);
  }

 private:
  bool Need(size_t n, const char* what) {
    if (!ok()) return false;
    if (bytes_.size() - pos_ < n) {
      Fail(what);
      return false;
    }
    return true;
  }

  std::string_view bytes_;
  size_t pos_ = 0;
  std::string error_;
};

// Decodes a payload into `record`, reusing its vectors (replay decodes
// every record into the same one, so a journal of small commits allocates
// nothing per record but long strings); an error message, or empty. The
// table names point into `payload`.
std::string DecodePayload(std::string_view payload, JournalRecord* record) {
  PayloadReader r(payload);
  record->number = r.U64("commit number");
  const uint32_t count = r.U32("change count");
  // A change is at least 13 bytes (kind, name length, slot, cell count).
  if (!r.CheckCount(count, 13, "change count")) return r.error();
  record->changes.resize(count);
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    RowChange& change = record->changes[i];
    const uint8_t kind = r.U8("change kind");
    if (kind > RowChange::kDelete) r.Fail("change kind");
    change.kind = static_cast<RowChange::Kind>(kind);
    change.table = r.Bytes("table name");
    change.row = RowId(r.U32("slot"));
    const uint32_t cells = r.U32("cell count");
    if (!r.CheckCount(cells, 5, "cell count")) break;
    change.cells.resize(cells);
    for (uint32_t c = 0; c < cells && r.ok(); ++c) {
      CellChange& cell = change.cells[c];
      cell.column = ColumnId(r.U32("column id"));
      cell.new_value = r.Val();
    }
  }
  if (r.ok() && !r.done()) r.Fail("trailing bytes");
  return r.ok() ? "" : r.error();
}

}  // namespace

namespace {

// The encoded bytes of `v`: a tag, then 8 bytes (int64, double bits), 1
// (bool), or a u32 length and the bytes (string).
size_t ValueSize(const Value& v) {
  if (v.is_null()) return 1;
  if (v.is_int64() || v.is_double()) return 9;
  if (v.is_bool()) return 2;
  return 5 + v.AsString().size();
}

// Writes `v` as ValueSize describes into space already sized; returns the
// end of what it wrote.
char* WriteValue(char* p, const Value& v) {
  if (v.is_null()) {
    *p++ = static_cast<char>(kNull);
  } else if (v.is_int64()) {
    *p++ = static_cast<char>(kInt64);
    EncodeFixed64(p, static_cast<uint64_t>(v.AsInt64()));
    p += 8;
  } else if (v.is_double()) {
    *p++ = static_cast<char>(kDouble);
    uint64_t bits;
    const double d = v.AsDouble();
    std::memcpy(&bits, &d, 8);
    EncodeFixed64(p, bits);
    p += 8;
  } else if (v.is_bool()) {
    *p++ = static_cast<char>(kBool);
    *p++ = static_cast<char>(v.AsBool() ? 1 : 0);
  } else {
    const std::string& bytes = v.AsString();
    *p++ = static_cast<char>(kString);
    EncodeFixed32(p, static_cast<uint32_t>(bytes.size()));
    p += 4;
    std::memcpy(p, bytes.data(), bytes.size());
    p += bytes.size();
  }
  return p;
}

}  // namespace

void AppendRecord(const Commit& commit, uint64_t number, std::string* out) {
  // The record's exact size first, then one resize and plain stores: a
  // tick's record has some 10,000 changes, and appending each field to the
  // string (a capacity check and a size update apiece) was most of the
  // encoding's cost.
  size_t payload_size = 12;  // number, change count
  for (const RowChange& change : commit.changes) {
    payload_size += 1 + 4 + change.table.size() + 4 + 4;  // kind, table, slot, cell count
    if (change.kind == RowChange::kDelete) continue;
    for (const CellChange& cell : change.cells) payload_size += 4 + ValueSize(cell.new_value);
  }
  const size_t start = out->size();
  out->resize(start + kRecordHeaderSize + payload_size);
  char* const payload = out->data() + start + kRecordHeaderSize;
  char* p = payload;
  EncodeFixed64(p, number);
  p += 8;
  EncodeFixed32(p, static_cast<uint32_t>(commit.changes.size()));
  p += 4;
  for (const RowChange& change : commit.changes) {
    *p++ = static_cast<char>(change.kind);
    EncodeFixed32(p, static_cast<uint32_t>(change.table.size()));
    p += 4;
    std::memcpy(p, change.table.data(), change.table.size());
    p += change.table.size();
    EncodeFixed32(p, change.row.value);
    p += 4;
    if (change.kind == RowChange::kDelete) {
      EncodeFixed32(p, 0);
      p += 4;
      continue;
    }
    EncodeFixed32(p, static_cast<uint32_t>(change.cells.size()));
    p += 4;
    for (const CellChange& cell : change.cells) {
      EncodeFixed32(p, cell.column.value);
      p += 4;
      p = WriteValue(p, cell.new_value);
    }
  }
  assert(p == payload + payload_size);
  EncodeFixed32(out->data() + start, static_cast<uint32_t>(payload_size));
  EncodeFixed64(out->data() + start + 4, Checksum(std::string_view(payload, payload_size)));
}

absl::StatusOr<JournalScan> ScanJournal(
    Env& env, const std::string& path, bool stop_at_damage,
    absl::FunctionRef<absl::Status(std::span<const JournalRecord>)> apply) {
  KIN_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, env.NewSequentialFile(path));
  std::string bytes;
  bytes.resize(file->size());
  size_t got = 0;
  while (got < bytes.size()) {
    KIN_ASSIGN_OR_RETURN(size_t n, file->Read(bytes.data() + got, bytes.size() - got));
    if (n == 0) break;
    got += n;
  }
  bytes.resize(got);

  JournalScan scan;
  scan.file_bytes = bytes.size();
  scan.data_bytes = bytes.size();
  // A preallocated file (OpenOptions::journal_preallocate_bytes) holds
  // zeros after what was written: from `written` on, every byte is zero.
  uint64_t written = bytes.size();
  while (written > 0 && bytes[written - 1] == '\0') --written;
  // A crash while the file was being created leaves it shorter than its
  // header, or (preallocated) with fewer than the magic's 8 bytes before
  // the zeros (creation syncs the header before any record can follow).
  const bool cut_short = bytes.size() < kJournalHeaderSize || written < sizeof(kJournalMagic);
  if (cut_short || std::memcmp(bytes.data(), kJournalMagic, sizeof(kJournalMagic)) != 0) {
    const size_t head = std::min<size_t>(written, sizeof(kJournalMagic));
    if (cut_short && std::string_view(bytes).substr(0, head) ==
                         std::string_view(kJournalMagic, sizeof(kJournalMagic)).substr(0, head)) {
      scan.dropped = absl::StrCat("a header cut short (", bytes.size(), " bytes)");
      return scan;
    }
    return absl::DataLossError(absl::StrCat("journal '", path, "': not a kin journal"));
  }
  scan.base = DecodeFixed64(bytes.data() + 8);
  scan.last_number = scan.base;
  // No record starts with zeros that run to the end of the file (a record's
  // checksum covers a payload of at least 12 bytes, and the checksum of
  // zeros is not zero), so zeros at a record boundary are the end of the
  // journal, and a bad record with only zeros after it is the last one
  // written: a torn tail, not damage.
  const uint64_t zeros = std::max<uint64_t>(written, kJournalHeaderSize);
  // Records are decoded into a batch (reused: see DecodePayload) and
  // applied a batch at a time. (Prefetching the rows a batch updates before
  // writing any was tried: no gain on the VM measured, see README.)
  std::vector<JournalRecord> batch(kReplayBatch);
  size_t batched = 0;
  uint64_t pos = kJournalHeaderSize;
  scan.valid_bytes = pos;
  scan.data_bytes = zeros;
  while (pos < zeros) {
    const uint64_t left = bytes.size() - pos;
    std::string problem;
    bool torn = false;
    uint64_t length = 0;
    if (left < kRecordHeaderSize) {
      problem = "a record header cut short";
      torn = true;
    } else {
      length = DecodeFixed32(bytes.data() + pos);
      if (length > left - kRecordHeaderSize) {
        problem =
            absl::StrCat("a record of ", length, " bytes with ", left - kRecordHeaderSize, " left");
        torn = true;
      }
    }
    if (problem.empty()) {
      const std::string_view payload(bytes.data() + pos + kRecordHeaderSize, length);
      const bool last = pos + kRecordHeaderSize + length >= zeros;
      if (DecodeFixed64(bytes.data() + pos + 4) != Checksum(payload)) {
        problem = "a record whose checksum does not match";
        torn = last;  // a crash mid-append damages only the last record
      } else if (std::string error = DecodePayload(payload, &batch[batched]); !error.empty()) {
        problem = absl::StrCat("a record that does not decode (", error, ")");
      } else if (batch[batched].number != scan.last_number + 1) {
        problem = absl::StrCat("commit ", batch[batched].number, " where ", scan.last_number + 1,
                               " was expected");
      }
    }
    if (!problem.empty()) {
      const std::string where = absl::StrCat("journal '", path, "' at byte ", pos, ": ", problem);
      if (!torn && !stop_at_damage) return absl::DataLossError(where);
      scan.dropped = torn ? absl::StrCat("a torn tail: ", where) : absl::StrCat("damage: ", where);
      scan.damaged = !torn;
      break;
    }
    batch[batched].offset = pos;
    ++scan.records;
    scan.last_number = batch[batched].number;
    pos += kRecordHeaderSize + length;
    scan.valid_bytes = pos;
    if (++batched == batch.size()) {
      KIN_RETURN_IF_ERROR(apply(std::span<const JournalRecord>(batch.data(), batched)));
      batched = 0;
    }
  }
  if (batched > 0) KIN_RETURN_IF_ERROR(apply(std::span<const JournalRecord>(batch.data(), batched)));
  scan.data_bytes = std::max(scan.data_bytes, scan.valid_bytes);
  return scan;
}

JournalWriter::JournalWriter(std::unique_ptr<WritableFile> file, const OpenOptions& options)
    : file_(std::move(file)),
      policy_(options.sync),
      group_interval_(options.group_sync_ms),
      last_sync_(std::chrono::steady_clock::now()) {}

JournalWriter::~JournalWriter() {
  if (file_ != nullptr) (void)Close();
}

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::Create(Env& env,
                                                                     const std::string& dir,
                                                                     const std::string& path,
                                                                     uint64_t base,
                                                                     const OpenOptions& options) {
  KIN_ASSIGN_OR_RETURN(
      std::unique_ptr<WritableFile> file,
      env.NewWritableFile(
          path, WritableFileOptions{.preallocate_bytes = options.journal_preallocate_bytes}));
  std::string header(kJournalMagic, sizeof(kJournalMagic));
  header.resize(sizeof(kJournalMagic) + 8);
  EncodeFixed64(header.data() + sizeof(kJournalMagic), base);
  KIN_RETURN_IF_ERROR(file->Append(header));
  KIN_RETURN_IF_ERROR(file->Sync());
  KIN_RETURN_IF_ERROR(env.SyncDirectory(dir));
  std::unique_ptr<JournalWriter> writer(new JournalWriter(std::move(file), options));
  writer->bytes_ = header.size();
  return writer;
}

absl::Status JournalWriter::Append(const Commit& commit, uint64_t number) {
  buffer_.clear();
  AppendRecord(commit, number, &buffer_);
  KIN_RETURN_IF_ERROR(file_->Append(buffer_));
  bytes_ += buffer_.size();
  unsynced_ = true;
  switch (policy_) {
    case SyncPolicy::kEveryCommit:
      return Sync();
    case SyncPolicy::kGrouped:
      if (std::chrono::steady_clock::now() - last_sync_ >= group_interval_) return Sync();
      return absl::OkStatus();
    case SyncPolicy::kNone:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status JournalWriter::Sync() {
  if (!unsynced_) return absl::OkStatus();
  KIN_RETURN_IF_ERROR(file_->Sync());
  unsynced_ = false;
  ++syncs_;
  last_sync_ = std::chrono::steady_clock::now();
  return absl::OkStatus();
}

absl::Status JournalWriter::Close() {
  absl::Status status = Sync();
  absl::Status closed = file_->Close();
  file_.reset();
  if (status.ok()) status = closed;
  return status;
}

}  // namespace kin::internal
