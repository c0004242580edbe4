#include "persist/payload.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <limits>
#include <map>
#include <span>
#include <streambuf>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cereal/archives/portable_binary.hpp"
#include "cereal/cereal.hpp"
#include "engine/bitmap.h"
#include "engine/errors.h"
#include "engine/large_buffer.h"
#include "engine/table.h"
#include "kin/status_macros.h"
#include "persist/coding.h"
#include "persist/errors.h"

namespace kin::internal {

namespace {

// Value tags: 0 is NULL, the others are the persisted Type numbers.
constexpr uint8_t kNullTag = 0;

// The smallest encodings, used to bound counts before allocating: a string
// is at least its 8-byte length; a column spec is a string and 7 bytes; a
// meta entry is a key string and a tag.
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinColumnSpecBytes = kMinStringBytes + 7;
constexpr uint64_t kMinMetaEntryBytes = kMinStringBytes + 1;

// --- writing ---

// A streambuf forwarding to the sink, so cereal's small writes and the bulk
// blocks written straight to the sink keep their order (no put area: every
// write goes through xsputn at once).
class SinkBuf : public std::streambuf {
 public:
  explicit SinkBuf(Sink* sink) : sink_(sink) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    sink_->Write(s, static_cast<size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      char ch = traits_type::to_char_type(c);
      sink_->Write(&ch, 1);
    }
    return traits_type::not_eof(c);
  }

 private:
  Sink* sink_;
};

class Writer {
 public:
  explicit Writer(Sink* sink)
      : sink_(sink),
        buf_(sink),
        stream_(&buf_),
        archive_(stream_, cereal::PortableBinaryOutputArchive::Options::LittleEndian()) {}

  // The first error of the encoder itself (the sink keeps its own).
  const absl::Status& status() const { return status_; }
  void Fail(absl::Status status) {
    if (status_.ok()) status_ = std::move(status);
  }

  void U8(uint8_t v) { archive_(v); }
  void U32(uint32_t v) { archive_(v); }
  void U64(uint64_t v) { archive_(v); }
  void I64(int64_t v) { archive_(v); }
  void F64(double v) { archive_(v); }
  void Flag(bool v) { U8(v ? 1 : 0); }
  void String(absl::string_view s) {
    U64(s.size());
    if (!s.empty()) archive_(cereal::binary_data(s.data(), s.size()));
  }
  // count:u64, padding to 8, the values.
  template <typename T>
  void Array(std::span<const T> v) {
    U64(v.size());
    Block(v);
  }
  // bits:u64, padding to 8, the words.
  void Bits(const Bitmap& bits) {
    U64(bits.size());
    Block(std::span<const uint64_t>(bits.words()));
  }
  // count:u64, padding, lengths:u32[count], then the bytes of every string
  // back to back.
  void Strings(const StringStore& cells, absl::string_view what) {
    U64(cells.size());
    sink_->Align8();
    // Encoded in place, 16 KiB at a time.
    char lengths[4096 * sizeof(uint32_t)];
    size_t n = 0;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string_view s = cells[i];
      if (s.size() > std::numeric_limits<uint32_t>::max()) {
        Fail(absl::InvalidArgumentError(absl::StrCat(
            what, ": a string of ", s.size(), " bytes, over the 4 GiB a snapshot cell holds")));
        return;
      }
      EncodeFixed32(lengths + n, static_cast<uint32_t>(s.size()));
      n += sizeof(uint32_t);
      if (n == sizeof(lengths)) {
        sink_->Write(lengths, sizeof(lengths));
        n = 0;
      }
    }
    sink_->Write(lengths, n);
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string_view s = cells[i];
      sink_->Write(s.data(), s.size());
    }
  }
  void Val(const Value& v) {
    if (v.is_null()) {
      U8(kNullTag);
      return;
    }
    U8(static_cast<uint8_t>(v.type()));
    switch (v.type()) {
      case Type::kInt64:
        I64(v.AsInt64());
        break;
      case Type::kDouble:
        F64(v.AsDouble());
        break;
      case Type::kBool:
        Flag(v.AsBool());
        break;
      case Type::kString:
        String(v.AsString());
        break;
    }
  }

 private:
  template <typename T>
  void Block(std::span<const T> v) {
    sink_->Align8();
    // On a little-endian host a block is its memory, written with one call.
    if constexpr (kHostIsLittleEndian || sizeof(T) == 1) {
      sink_->Write(v.data(), v.size() * sizeof(T));
    } else {
      for (T x : v) {
        char encoded[sizeof(T)];
        EncodeFixed(encoded, x);
        sink_->Write(encoded, sizeof(T));
      }
    }
  }

  Sink* sink_;
  SinkBuf buf_;
  std::ostream stream_;
  cereal::PortableBinaryOutputArchive archive_;
  absl::Status status_;
};

// --- reading ---

// A read-only streambuf over the payload that can say how many bytes are
// left, which is what every count is checked against.
class PayloadSource : public std::streambuf {
 public:
  explicit PayloadSource(absl::string_view bytes) {
    // streambuf wants char*; the get area is only ever read.
    char* begin = const_cast<char*>(bytes.data());
    setg(begin, begin, begin + bytes.size());
  }
  uint64_t remaining() const { return static_cast<uint64_t>(egptr() - gptr()); }
  uint64_t offset() const { return static_cast<uint64_t>(gptr() - eback()); }
  // The next `n` bytes, in place, and moves past them.
  // REQUIRES: n <= remaining().
  const char* Take(size_t n) {
    char* p = gptr();
    setg(eback(), p + n, egptr());
    return p;
  }
};

// Reads consecutive little-endian values of T from bytes of any alignment,
// as a random-access iterator, so that a vector can be built from a block
// in one pass (no zero-filling first, then copying over the zeros).
template <typename T>
class LittleEndianIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = T;

  LittleEndianIterator() = default;
  explicit LittleEndianIterator(const char* p) : p_(p) {}
  T operator*() const { return DecodeFixed<T>(p_); }
  T operator[](difference_type i) const { return *(*this + i); }
  LittleEndianIterator& operator++() {
    p_ += sizeof(T);
    return *this;
  }
  LittleEndianIterator operator++(int) {
    LittleEndianIterator old = *this;
    ++*this;
    return old;
  }
  LittleEndianIterator& operator--() {
    p_ -= sizeof(T);
    return *this;
  }
  LittleEndianIterator operator--(int) {
    LittleEndianIterator old = *this;
    --*this;
    return old;
  }
  LittleEndianIterator& operator+=(difference_type n) {
    p_ += n * static_cast<difference_type>(sizeof(T));
    return *this;
  }
  LittleEndianIterator& operator-=(difference_type n) { return *this += -n; }
  friend LittleEndianIterator operator+(LittleEndianIterator it, difference_type n) {
    return it += n;
  }
  friend LittleEndianIterator operator+(difference_type n, LittleEndianIterator it) {
    return it += n;
  }
  friend LittleEndianIterator operator-(LittleEndianIterator it, difference_type n) {
    return it -= n;
  }
  friend difference_type operator-(LittleEndianIterator a, LittleEndianIterator b) {
    return (a.p_ - b.p_) / static_cast<difference_type>(sizeof(T));
  }
  friend auto operator<=>(LittleEndianIterator a, LittleEndianIterator b) = default;

 private:
  const char* p_ = nullptr;
};

// Whether little-endian T values at `bytes` can be read where they lie: a
// little-endian host, and T's alignment (the file's blocks are 8-aligned,
// and so is a file read whole; bytes from elsewhere may not be).
template <typename T>
bool ReadableInPlace(const char* bytes) {
  return std::endian::native == std::endian::little &&
         reinterpret_cast<uintptr_t>(bytes) % alignof(T) == 0;
}

// `n` little-endian values of T from `bytes` (any alignment).
template <typename T>
std::vector<T> LoadLittleEndian(const char* bytes, size_t n) {
  std::vector<T> out;
  // Huge pages before the first write: a column written once from start to
  // end would otherwise take a page fault every 4 KiB.
  ReserveLarge(out, n, HugePages::kYes);
  if (ReadableInPlace<T>(bytes)) {  // one memcpy
    const T* first = reinterpret_cast<const T*>(bytes);
    out.assign(first, first + n);
  } else {
    LittleEndianIterator<T> first(bytes);
    out.assign(first, first + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

// Reads the payload through the cereal archive. Errors are sticky: after
// the first one every read returns zero or empty (which allocates nothing),
// and status() reports the first. Callers check status() before acting on
// what they read.
class Reader {
 public:
  // REQUIRES: payload is not empty (the archive reads its endianness byte).
  Reader(absl::string_view payload, uint32_t version, absl::string_view label)
      : source_(payload), stream_(&source_), archive_(stream_), version_(version), label_(label) {}

  const absl::Status& status() const { return status_; }
  uint64_t remaining() const { return source_.remaining(); }
  uint32_t version() const { return version_; }
  // What the next errors are about: "table 'posts'".
  void SetContext(std::string context) { context_ = std::move(context); }

  void Fail(absl::string_view what) {
    if (!status_.ok()) return;
    status_ = BadSnapshot(
        label_, context_.empty() ? std::string(what) : absl::StrCat(context_, ": ", what));
  }

  uint8_t U8(absl::string_view what) { return Scalar<uint8_t>(what); }
  uint32_t U32(absl::string_view what) { return Scalar<uint32_t>(what); }
  uint64_t U64(absl::string_view what) { return Scalar<uint64_t>(what); }
  int64_t I64(absl::string_view what) { return Scalar<int64_t>(what); }
  double F64(absl::string_view what) { return Scalar<double>(what); }

  // A u8 that must be 0 or 1 (never loaded into a bool directly: any other
  // byte there is undefined behaviour).
  bool Flag(absl::string_view what) {
    uint8_t v = U8(what);
    if (v > 1) Fail(absl::StrCat(what, ": bad boolean byte ", v));
    return v == 1;
  }
  // A u8 enum value that must lie in [lo, hi].
  uint8_t Enum(absl::string_view what, uint8_t lo, uint8_t hi) {
    uint8_t v = U8(what);
    if (status_.ok() && (v < lo || v > hi)) {
      Fail(absl::StrCat("unknown ", what, " ", v));
      return lo;
    }
    return status_.ok() ? v : lo;
  }

  // A u64 count of items each at least `min_bytes` long in the payload,
  // checked against the bytes remaining: 0 (and an error) when it cannot
  // fit, so a forged count never reaches an allocation.
  uint64_t Count(absl::string_view what, uint64_t min_bytes) {
    uint64_t n = U64(what);
    return CheckCount(what, n, min_bytes) ? n : 0;
  }
  bool CheckCount(absl::string_view what, uint64_t n, uint64_t min_bytes) {
    if (!status_.ok()) return false;
    if (n > remaining() / min_bytes) {
      Fail(absl::StrCat(what, ": count ", n, " does not fit the ", remaining(), " bytes left"));
      return false;
    }
    return true;
  }

  std::string String(absl::string_view what) {
    std::string s;
    uint64_t n = Count(what, 1);
    if (n > 0) {
      s.resize(n);
      archive_(cereal::binary_data(s.data(), n));
    }
    return s;
  }

  // Version 2 and later: the zero bytes that align the next block to 8.
  void Align8(absl::string_view what) {
    if (version_ < 2 || !status_.ok()) return;
    size_t pad = static_cast<size_t>((8 - source_.offset() % 8) % 8);
    if (remaining() < pad) {
      Fail(absl::StrCat("payload ends inside ", what));
      return;
    }
    const char* p = source_.Take(pad);
    for (size_t i = 0; i < pad; ++i) {
      if (p[i] != 0) {
        Fail(absl::StrCat(what, ": non-zero padding"));
        return;
      }
    }
  }

  // `n` values of T, in place. REQUIRES: CheckCount(what, n, sizeof(T)).
  const char* Block(uint64_t n, size_t size) { return source_.Take(static_cast<size_t>(n * size)); }

  template <typename T>
  std::vector<T> Array(absl::string_view what) {
    uint64_t n = U64(what);
    Align8(what);
    if (!CheckCount(what, n, sizeof(T))) return {};
    return LoadLittleEndian<T>(Block(n, sizeof(T)), n);
  }

  // Cells of a string column, `slots` of them: one string after another in
  // version 1; a length array, then all the bytes, from version 2.
  StringStore Strings(absl::string_view what) {
    StringStore cells;
    if (version_ < 2) {
      uint64_t n = Count(what, kMinStringBytes);
      cells.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        const std::string s = String(what);
        if (!status_.ok()) break;
        cells.push_back(s);
      }
      return cells;
    }
    uint64_t n = U64(what);
    Align8(what);
    if (!CheckCount(what, n, sizeof(uint32_t))) return cells;
    const char* lengths = Block(n, sizeof(uint32_t));
    // Checked as it adds up, so the sum can never wrap.
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; ++i) {
      total += DecodeFixed32(lengths + 4 * i);
      if (total > remaining()) {
        Fail(absl::StrCat(what, ": strings of ", total, "+ bytes do not fit the ", remaining(),
                          " bytes left"));
        return cells;
      }
    }
    const char* bytes = Block(total, 1);
    if (ReadableInPlace<uint32_t>(lengths)) {
      cells.Append(std::span<const uint32_t>(reinterpret_cast<const uint32_t*>(lengths), n), bytes);
    } else {
      cells.Append(LoadLittleEndian<uint32_t>(lengths, n), bytes);
    }
    return cells;
  }

  // The words of a bitmap of `bits` bits (the bit count was read and
  // checked by the caller).
  Bitmap BitWords(absl::string_view what, uint64_t bits) {
    Bitmap out;
    uint64_t words = bits / 64 + (bits % 64 != 0 ? 1 : 0);
    Align8(what);
    if (!CheckCount(what, words, sizeof(uint64_t))) return out;
    std::vector<uint64_t> data = LoadLittleEndian<uint64_t>(Block(words, 8), words);
    if (bits % 64 != 0 && (data.back() >> (bits % 64)) != 0) {
      Fail(absl::StrCat(what, ": bits set past the end"));
      return out;
    }
    out.Assign(std::move(data), bits);
    return out;
  }
  // A bitmap that must hold exactly `bits` bits.
  Bitmap Bits(absl::string_view what, uint64_t bits) {
    uint64_t n = U64(what);
    if (!status_.ok()) return Bitmap();
    if (n != bits) {
      Fail(absl::StrCat(what, ": ", n, " bits for ", bits, " slots"));
      return Bitmap();
    }
    return BitWords(what, bits);
  }

  Value Val(absl::string_view what) {
    uint8_t tag = Enum(what, kNullTag, static_cast<uint8_t>(Type::kString));
    if (!status_.ok()) return Value();
    switch (tag) {
      case static_cast<uint8_t>(Type::kInt64):
        return Value(I64(what));
      case static_cast<uint8_t>(Type::kDouble):
        return Value(F64(what));
      case static_cast<uint8_t>(Type::kBool):
        return Value(Flag(what));
      case static_cast<uint8_t>(Type::kString):
        return Value(String(what));
      default:
        return Value();
    }
  }

 private:
  template <typename T>
  T Scalar(absl::string_view what) {
    T v{};
    if (!status_.ok()) return v;
    if (remaining() < sizeof(T)) {
      Fail(absl::StrCat("payload ends inside ", what));
      return v;
    }
    archive_(v);
    return v;
  }

  PayloadSource source_;
  std::istream stream_;
  cereal::PortableBinaryInputArchive archive_;
  uint32_t version_;
  std::string label_;
  std::string context_;
  absl::Status status_;
};

// --- tables ---

void EncodeColumnSpec(Writer& w, const ColumnSpec& c) {
  w.String(c.name);
  w.U8(static_cast<uint8_t>(c.type));
  w.Flag(c.nullable);
  w.Flag(c.primary_key);
  w.Flag(c.auto_increment);
  w.Flag(c.unique);
  w.Flag(c.indexed);
  w.Flag(c.default_value.has_value());
  if (c.default_value.has_value()) w.Val(*c.default_value);
  w.Flag(c.ordered);  // version 3 on
}

// The rows of a secondary index key by key (keys ascending, so equal
// databases give equal bytes), or empty when every key's rows are in slot
// order, which is how Restore rebuilds an index given no order.
std::vector<uint32_t> SecondaryIndexOrder(const HashIndex& index) {
  std::vector<uint32_t> order;
  if (index.rows_ascending()) return order;  // known without looking
  // Then without sorting the keys: every list ascending after all.
  bool slot_order = true;
  index.ForEachKey([&](const auto&, std::span<const RowId> rows) {
    for (size_t i = 1; i < rows.size() && slot_order; ++i) {
      if (rows[i] < rows[i - 1]) slot_order = false;
    }
  });
  if (slot_order) return order;
  index.ForEachSorted([&](const Value&, std::span<const RowId> rows) {
    for (RowId r : rows) order.push_back(r.value);
  });
  return order;
}

void EncodeTable(Writer& w, const Table& t) {
  w.String(t.name());
  w.U32(static_cast<uint32_t>(t.num_columns()));
  for (const ColumnSpec& c : t.schema().columns()) EncodeColumnSpec(w, c);
  w.Bits(t.live());
  w.Array(t.generations());
  w.Array(t.free_slots());
  w.I64(t.next_auto_increment());
  for (uint32_t i = 0; i < t.num_columns(); ++i) {
    ColumnId column(i);
    std::visit(
        [&](const auto& cells) {
          using T = typename std::decay_t<decltype(cells)>::value_type;
          if constexpr (std::is_same_v<T, std::string_view>) {
            w.Strings(cells, QualifiedName(t.name(), t.column(column).name));
          } else {
            w.Array(std::span<const T>(cells));
          }
        },
        t.column_data(column));
    if (t.column(column).nullable) w.Bits(*t.validity(column));
  }
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> orders;
  for (uint32_t i = 0; i < t.num_columns(); ++i) {
    const HashIndex* index = t.index(ColumnId(i));
    if (index == nullptr || index->unique()) continue;
    std::vector<uint32_t> order = SecondaryIndexOrder(*index);
    if (!order.empty()) orders.emplace_back(i, std::move(order));
  }
  w.U32(static_cast<uint32_t>(orders.size()));
  for (const auto& [column, order] : orders) {
    w.U32(column);
    w.Array(std::span<const uint32_t>(order));
  }
  // Version 4 on: composite index definitions (rebuilt from the rows).
  const auto& composites = t.schema().composite_indexes();
  w.U32(static_cast<uint32_t>(composites.size()));
  for (const std::vector<ColumnId>& columns : composites) {
    w.U32(static_cast<uint32_t>(columns.size()));
    for (ColumnId c : columns) w.U32(c.value);
  }
}

ColumnSpec DecodeColumnSpec(Reader& r) {
  ColumnSpec c;
  c.name = r.String("column name");
  c.type = static_cast<Type>(r.Enum("column type", static_cast<uint8_t>(Type::kInt64),
                                    static_cast<uint8_t>(Type::kString)));
  c.nullable = r.Flag("nullable flag");
  c.primary_key = r.Flag("primary key flag");
  c.auto_increment = r.Flag("auto-increment flag");
  c.unique = r.Flag("unique flag");
  c.indexed = r.Flag("indexed flag");
  if (r.Flag("default flag")) c.default_value = r.Val("default value");
  if (r.version() >= 3) c.ordered = r.Flag("ordered flag");
  // Schema::Validate does not look at auto_increment, and the engine reads
  // such a column as int64 keys: anything else would misbehave later.
  if (r.status().ok() && c.auto_increment && !(c.primary_key && c.type == Type::kInt64)) {
    r.Fail(absl::StrCat("column '", c.name,
                        "': auto-increment on a column that is not an "
                        "int64 primary key"));
  }
  return c;
}

// Cells of one column: `slots` values of the column's type.
TableImage::ColumnData DecodeCells(Reader& r, const ColumnSpec& c, uint64_t slots) {
  std::string what = absl::StrCat("column '", c.name, "'");
  TableImage::ColumnData out;
  switch (c.type) {
    case Type::kInt64:
      out = r.Array<int64_t>(what);
      break;
    case Type::kDouble:
      out = r.Array<double>(what);
      break;
    case Type::kBool: {
      std::vector<uint8_t> cells = r.Array<uint8_t>(what);
      for (uint8_t b : cells) {
        if (b > 1) {
          r.Fail(absl::StrCat(what, ": bad boolean byte ", b));
          break;
        }
      }
      out = std::move(cells);
      break;
    }
    case Type::kString:
      out = r.Strings(what);
      break;
  }
  size_t got = std::visit([](const auto& v) { return v.size(); }, out);
  if (r.status().ok() && got != slots) {
    r.Fail(absl::StrCat(what, ": ", got, " cells for ", slots, " slots"));
  }
  return out;
}

// Dead slots hold zero / empty cells and NULL bits, as Table::Delete leaves
// them; anything else is not a state the engine produces. Visits only the
// dead slots, found a word of the live bitmap at a time.
bool DeadSlotsClean(const TableImage& image) {
  auto clean = [&](size_t s) {
    for (size_t i = 0; i < image.columns.size(); ++i) {
      if (image.validity[i].size() != 0 && image.validity[i].Get(s)) return false;
      bool zero = std::visit(
          [&](const auto& cells) {
            using T = typename std::decay_t<decltype(cells)>::value_type;
            if constexpr (std::is_same_v<T, std::string_view>) {
              return cells[s].empty();
            } else if constexpr (std::is_same_v<T, double>) {
              return std::bit_cast<uint64_t>(cells[s]) == 0;
            } else {
              return cells[s] == 0;
            }
          },
          image.columns[i]);
      if (!zero) return false;
    }
    return true;
  };
  const std::vector<uint64_t>& words = image.live.words();
  for (size_t w = 0; w < words.size(); ++w) {
    uint64_t dead = ~words[w];
    if (w + 1 == words.size() && image.live.size() % 64 != 0) {
      dead &= (uint64_t{1} << (image.live.size() % 64)) - 1;
    }
    for (; dead != 0; dead &= dead - 1) {
      if (!clean(w * 64 + static_cast<size_t>(std::countr_zero(dead)))) return false;
    }
  }
  return true;
}

// Decodes one table and restores it into `engine`. `rows_left` is what is
// left of LoadOptions::max_rows.
absl::Status DecodeTable(Reader& r, Engine& engine, uint64_t& rows_left, const LoadOptions& options,
                         absl::string_view label) {
  r.SetContext("");
  std::string name = r.String("table name");
  KIN_RETURN_IF_ERROR(r.status());
  if (name.empty()) {
    r.Fail("empty table name");
    return r.status();
  }
  r.SetContext(absl::StrCat("table '", name, "'"));
  uint32_t num_columns = r.U32("column count");
  if (!r.CheckCount("column count", num_columns, kMinColumnSpecBytes)) return r.status();
  Schema schema;
  for (uint32_t i = 0; i < num_columns && r.status().ok(); ++i) {
    schema.Column(DecodeColumnSpec(r));
  }
  KIN_RETURN_IF_ERROR(r.status());

  TableImage image;
  uint64_t slots = r.U64("slot count");
  KIN_RETURN_IF_ERROR(r.status());
  // RowId is 32 bits, and Table's iterator counts slots in uint32_t.
  if (slots > std::numeric_limits<uint32_t>::max()) {
    r.Fail(absl::StrCat(slots, " slots, more than a table can have"));
    return r.status();
  }
  if (slots > rows_left) {
    return OverLimit(label, absl::StrCat("table '", name, "' has ", slots,
                                         " row slots, over the limit of LoadOptions::max_rows (",
                                         options.max_rows, ") for the whole snapshot"));
  }
  rows_left -= slots;
  image.live = r.BitWords("live bitmap", slots);
  image.generations = r.Array<uint32_t>("generations");
  if (r.status().ok() && image.generations.size() != slots) {
    r.Fail(absl::StrCat(image.generations.size(), " generations for ", slots, " slots"));
  }
  image.free_slots = r.Array<uint32_t>("free list");
  image.next_auto_increment = r.I64("auto-increment counter");
  for (const ColumnSpec& c : schema.columns()) {
    if (!r.status().ok()) break;
    image.columns.push_back(DecodeCells(r, c, slots));
    image.validity.push_back(
        c.nullable ? r.Bits(absl::StrCat("column '", c.name, "' null bitmap"), slots) : Bitmap());
  }
  uint32_t num_orders = r.U32("index order count");
  if (r.status().ok() && num_orders > num_columns) {
    r.Fail(absl::StrCat(num_orders, " index orders for ", num_columns, " columns"));
  }
  for (uint32_t i = 0; i < num_orders && r.status().ok(); ++i) {
    uint32_t column = r.U32("index order column");
    if (r.status().ok() && column >= num_columns) {
      r.Fail(absl::StrCat("index order for column ", column, " of ", num_columns));
      break;
    }
    std::vector<uint32_t> order = r.Array<uint32_t>("index order");
    if (!r.status().ok()) break;
    if (image.index_order.empty()) image.index_order.resize(num_columns);
    if (!image.index_order[column].empty() || order.empty()) {
      r.Fail(absl::StrCat("bad index order for column ", column));
      break;
    }
    image.index_order[column] = std::move(order);
  }
  if (r.version() >= 4 && r.status().ok()) {
    // Each definition is at least its count and two columns (12 bytes).
    uint32_t num_composites = r.U32("composite index count");
    if (r.CheckCount("composite index count", num_composites, 12)) {
      for (uint32_t i = 0; i < num_composites && r.status().ok(); ++i) {
        uint32_t width = r.U32("composite index width");
        if (r.status().ok() && (width < 2 || width > 3)) {
          r.Fail(absl::StrCat("composite index of ", width, " columns"));
          break;
        }
        std::vector<ColumnId> columns;
        for (uint32_t j = 0; j < width && r.status().ok(); ++j) {
          columns.push_back(ColumnId(r.U32("composite index column")));
        }
        // Schema::Validate (in RestoreTable) checks the columns.
        schema.AddCompositeIndex(std::move(columns));
      }
    }
  }
  KIN_RETURN_IF_ERROR(r.status());
  if (!DeadSlotsClean(image)) {
    r.Fail("a deleted slot holds data");
    return r.status();
  }
  // RestoreTable validates the schema, sizes, free list and keys, and
  // rebuilds the indexes; whatever it rejects is a damaged snapshot.
  absl::Status restored = engine.RestoreTable(name, std::move(schema), std::move(image));
  if (!restored.ok()) return BadSnapshot(label, restored.message());
  return absl::OkStatus();
}

// --- foreign keys and relations ---

void EncodeForeignKey(Writer& w, const ForeignKeySpec& fk) {
  w.String(fk.child_table);
  w.String(fk.child_column);
  w.String(fk.parent_table);
  w.String(fk.parent_column);
  w.U8(static_cast<uint8_t>(fk.on_delete));
  w.U8(static_cast<uint8_t>(fk.on_update));
}

absl::Status DecodeForeignKey(Reader& r, Engine& engine, absl::string_view label) {
  r.SetContext("foreign key");
  ForeignKeySpec fk;
  fk.child_table = r.String("child table");
  fk.child_column = r.String("child column");
  fk.parent_table = r.String("parent table");
  fk.parent_column = r.String("parent column");
  fk.on_delete = static_cast<OnDelete>(r.Enum("on delete action", 0, 3));
  fk.on_update = static_cast<OnUpdate>(r.Enum("on update action", 0, 2));
  KIN_RETURN_IF_ERROR(r.status());
  absl::Status added = engine.AddForeignKey(fk);
  if (!added.ok()) return BadSnapshot(label, added.message());
  return absl::OkStatus();
}

void EncodeRelation(Writer& w, const RelationSpec& s) {
  w.U8(static_cast<uint8_t>(s.kind));
  w.String(s.name);
  w.String(s.table);
  w.String(s.related_table);
  w.String(s.foreign_key);
  w.String(s.local_key);
  w.String(s.inverse);
  w.U8(static_cast<uint8_t>(s.on_delete));
  w.U8(static_cast<uint8_t>(s.on_update));
  w.U8(static_cast<uint8_t>(s.on_unlink));
  w.U32(static_cast<uint32_t>(s.meta.size()));
  for (const auto& [key, value] : s.meta) {  // std::map: sorted, so deterministic
    w.String(key);
    w.Val(value);
  }
  // From version 3: the relation's scope, in declaration order.
  w.U32(static_cast<uint32_t>(s.scope.size()));
  for (const auto& [column, value] : s.scope) {
    w.String(column);
    w.Val(value);
  }
  // From version 5: whether it had an on_query. The callback is code and
  // is not saved, but its existence is, so a load can refuse reads that
  // would run without it (RelationSpec::on_query_pending). A relation
  // loaded and saved again before re-attaching keeps the flag.
  w.Flag(s.on_query != nullptr || s.on_query_pending);
  // From version 6: the second table of a many to many (its pivot) or a
  // has many through (its intermediate), empty for the other kinds.
  w.String(s.through_table);
  w.String(s.through_key);
  w.String(s.related_key);
  w.U32(static_cast<uint32_t>(s.pivot_columns.size()));
  for (const std::string& column : s.pivot_columns) w.String(column);
  w.U8(static_cast<uint8_t>(s.on_duplicate));
}

// What RelationCatalog::Resolve* guaranteed when the relation was declared,
// and the relation code relies on: both tables and key columns exist and
// the keys share an indexable type.
absl::Status CheckRelation(const Engine& engine, const RelationSpec& s) {
  if (s.name.empty()) return absl::InvalidArgumentError("relation with an empty name");
  KIN_ASSIGN_OR_RETURN(const Table* parent, engine.GetTable(s.parent_table()));
  KIN_ASSIGN_OR_RETURN(const Table* child, engine.GetTable(s.child_table()));
  KIN_ASSIGN_OR_RETURN(ColumnId fk, child->GetColumn(s.foreign_key));
  KIN_ASSIGN_OR_RETURN(ColumnId lk, parent->GetColumn(s.local_key));
  Type type = child->column(fk).type;
  if (type != parent->column(lk).type || (type != Type::kInt64 && type != Type::kString)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "relation ", s.QualifiedName(), ": keys ", QualifiedName(s.child_table(), s.foreign_key),
        " and ", QualifiedName(s.parent_table(), s.local_key), " do not match"));
  }
  if (s.via()) {
    // The second step: the pivot's related key and the related column it
    // names, or the intermediate's key and the related rows' key naming it.
    KIN_ASSIGN_OR_RETURN(const Table* related, engine.GetTable(s.related_table));
    KIN_ASSIGN_OR_RETURN(ColumnId tk, child->GetColumn(s.through_key));
    KIN_ASSIGN_OR_RETURN(ColumnId rk, related->GetColumn(s.related_key));
    if (child->column(tk).type != related->column(rk).type) {
      return absl::InvalidArgumentError(absl::StrCat(
          "relation ", s.QualifiedName(), ": keys ", QualifiedName(s.through_table, s.through_key),
          " and ", QualifiedName(s.related_table, s.related_key), " do not match"));
    }
    for (const std::string& column : s.pivot_columns) {
      KIN_RETURN_IF_ERROR(child->GetColumn(column).status());
    }
  }
  for (const auto& [column, value] : s.scope) {
    KIN_ASSIGN_OR_RETURN(ColumnId c, child->GetColumn(column));
    if (c == fk || value.is_null() || !ValueFitsType(value, child->column(c).type)) {
      return absl::InvalidArgumentError(absl::StrCat("relation ", s.QualifiedName(),
                                                     ": bad scope value for ",
                                                     QualifiedName(s.child_table(), column)));
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeRelation(Reader& r, const Engine& engine, RelationCatalog& catalog,
                            absl::string_view label) {
  r.SetContext("relation");
  RelationSpec s;
  // Version 6 added has one (3), many to many (4), has many through (5).
  s.kind = static_cast<RelationKind>(r.Enum("relation kind", 1, r.version() >= 6 ? 5 : 2));
  s.name = r.String("name");
  s.table = r.String("table");
  s.related_table = r.String("related table");
  s.foreign_key = r.String("foreign key");
  s.local_key = r.String("local key");
  s.inverse = r.String("inverse");
  s.on_delete = static_cast<OnDelete>(r.Enum("on delete action", 0, 3));
  s.on_update = static_cast<OnUpdate>(r.Enum("on update action", 0, 2));
  s.on_unlink = static_cast<OnUnlink>(r.Enum("on unlink action", 0, 1));
  KIN_RETURN_IF_ERROR(r.status());
  r.SetContext(absl::StrCat("relation ", s.QualifiedName()));
  uint32_t num_meta = r.U32("meta count");
  if (!r.CheckCount("meta count", num_meta, kMinMetaEntryBytes)) return r.status();
  for (uint32_t i = 0; i < num_meta && r.status().ok(); ++i) {
    std::string key = r.String("meta key");
    Value value = r.Val("meta value");
    if (r.status().ok() && !s.meta.emplace(key, std::move(value)).second) {
      r.Fail(absl::StrCat("meta key '", key, "' given twice"));
    }
  }
  if (r.version() >= 3) {
    uint32_t num_scope = r.U32("scope count");
    if (!r.CheckCount("scope count", num_scope, kMinMetaEntryBytes)) return r.status();
    for (uint32_t i = 0; i < num_scope && r.status().ok(); ++i) {
      std::string column = r.String("scope column");
      Value value = r.Val("scope value");
      for (const auto& entry : s.scope) {
        if (r.status().ok() && entry.first == column) {
          r.Fail(absl::StrCat("scope column '", column, "' given twice"));
        }
      }
      s.scope.emplace_back(std::move(column), std::move(value));
    }
  }
  if (r.version() >= 5) s.on_query_pending = r.Flag("on_query flag");
  if (r.version() >= 6) {
    s.through_table = r.String("through table");
    s.through_key = r.String("through key");
    s.related_key = r.String("related key");
    uint32_t num_pivot = r.U32("pivot column count");
    if (!r.CheckCount("pivot column count", num_pivot, kMinStringBytes)) return r.status();
    for (uint32_t i = 0; i < num_pivot && r.status().ok(); ++i) {
      s.pivot_columns.push_back(r.String("pivot column"));
    }
    s.on_duplicate = static_cast<OnDuplicate>(r.Enum("on duplicate action", 0, 1));
  }
  KIN_RETURN_IF_ERROR(r.status());
  absl::Status ok = CheckRelation(engine, s);
  if (ok.ok()) ok = catalog.Add(std::move(s));
  if (!ok.ok()) return BadSnapshot(label, ok.message());
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodePayload(const Engine& engine, const RelationCatalog& relations, Sink* sink) {
  Writer w(sink);
  std::vector<std::string> names = engine.TableNames();
  w.U32(static_cast<uint32_t>(names.size()));
  for (const std::string& name : names) EncodeTable(w, *engine.FindTable(name));
  w.U32(static_cast<uint32_t>(engine.foreign_keys().size()));
  for (const ForeignKeySpec& fk : engine.foreign_keys()) EncodeForeignKey(w, fk);
  std::vector<const RelationSpec*> specs = relations.All();
  w.U32(static_cast<uint32_t>(specs.size()));
  for (const RelationSpec* s : specs) EncodeRelation(w, *s);
  // From version 6: the metadata, key then value, in key order.
  w.U32(static_cast<uint32_t>(engine.metadata().size()));
  for (const auto& [key, value] : engine.metadata()) {
    w.String(key);
    w.String(value);
  }
  return w.status();
}

absl::StatusOr<SnapshotContents> DecodePayload(absl::string_view payload, uint32_t version,
                                               const LoadOptions& options,
                                               absl::string_view label) {
  // Versions differ in how bulk blocks are laid out (1 -> 2), version 3
  // adds each column's ordered-index flag and each relation's scope, and
  // version 4 each table's composite index definitions, version 5 whether
  // each relation had an on_query, version 6 the relation kinds has one,
  // many to many and has many through (and their second table) and the
  // engine's metadata; the
  // Reader branches on the version, and every version ever written stays
  // readable.
  if (version < 1 || version > 6) {
    return BadSnapshot(label, absl::StrCat("no decoder for version ", version));
  }
  if (payload.empty()) return BadSnapshot(label, "empty payload");
  Reader r(payload, version, label);
  SnapshotContents out;
  out.format_version = version;
  uint64_t rows_left = options.max_rows;

  uint32_t num_tables = r.U32("table count");
  if (!r.CheckCount("table count", num_tables, kMinStringBytes)) return r.status();
  for (uint32_t i = 0; i < num_tables; ++i) {
    KIN_RETURN_IF_ERROR(DecodeTable(r, out.engine, rows_left, options, label));
  }
  r.SetContext("");
  uint32_t num_fks = r.U32("foreign key count");
  if (!r.CheckCount("foreign key count", num_fks, 4 * kMinStringBytes + 2)) return r.status();
  for (uint32_t i = 0; i < num_fks; ++i) {
    KIN_RETURN_IF_ERROR(DecodeForeignKey(r, out.engine, label));
  }
  r.SetContext("");
  uint32_t num_relations = r.U32("relation count");
  if (!r.CheckCount("relation count", num_relations, 6 * kMinStringBytes + 8)) {
    return r.status();
  }
  for (uint32_t i = 0; i < num_relations; ++i) {
    KIN_RETURN_IF_ERROR(DecodeRelation(r, out.engine, out.relations, label));
  }
  r.SetContext("");
  if (version >= 6) {
    uint32_t num_metadata = r.U32("metadata count");
    if (!r.CheckCount("metadata count", num_metadata, 2 * kMinStringBytes)) return r.status();
    for (uint32_t i = 0; i < num_metadata && r.status().ok(); ++i) {
      std::string key = r.String("metadata key");
      std::string value = r.String("metadata value");
      if (key.empty() || value.empty() || out.engine.metadata().contains(key)) {
        r.Fail(absl::StrCat("bad metadata entry ", i));
        break;
      }
      out.engine.SetMetadata(key, std::move(value));
    }
  }
  if (r.remaining() != 0) {
    r.Fail(absl::StrCat(r.remaining(), " unexpected bytes after the ",
                        version >= 6 ? "metadata" : "relations"));
  }
  KIN_RETURN_IF_ERROR(r.status());
  return out;
}

}  // namespace kin::internal
