#include "tools/cli.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/engine.h"
#include "engine/errors.h"
#include "engine/table.h"
#include "kin/internal/data_dir.h"
#include "kin/status_macros.h"
#include "persist/env.h"
#include "persist/snapshot.h"
#include "relations/relation_catalog.h"

namespace kin {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr absl::string_view kUsage =
    "usage:\n"
    "  kin inspect FILE|DIR                     tables, columns, indexes and relations\n"
    "  kin verify FILE|DIR                      check a snapshot or a data directory;\n"
    "                                           non-zero exit on damage\n"
    "  kin dump FILE|DIR TABLE [--format csv|json]  print a table's rows (default csv)\n"
    "  kin help                                 this text\n"
    "A DIR is a data directory (kin::Database::Open): its newest snapshot with\n"
    "its journal replayed, read without writing anything.\n";

int Usage(std::ostream& err, absl::string_view problem) {
  err << "kin: " << problem << "\n" << kUsage;
  return kExitUsage;
}

int Fail(std::ostream& err, absl::string_view command, const absl::Status& status) {
  err << "kin " << command << ": " << status.message() << "\n";
  return kExitFailure;
}

// --- value formatting ---

// Shortest text that parses back to the same double.
std::string FormatDouble(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, result.ptr);
}

bool NeedsCsvQuotes(absl::string_view s) {
  if (s.empty()) return true;  // "" is an empty string; an empty field is NULL
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return true;
  return s.find_first_of(",\"\r\n") != absl::string_view::npos;
}

std::string CsvField(absl::string_view s) {
  if (!NeedsCsvQuotes(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvValue(const Value& v) {
  if (v.is_null()) return "";
  if (v.is_double()) return FormatDouble(v.AsDouble());
  if (v.is_string()) return CsvField(v.AsString());
  return v.DebugString();  // int64, bool
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else if (size_t n = Utf8SequenceLength(s, i); n == 0) {
          out += "\\ufffd";
        } else {
          out.append(s.data() + i, n);
          i += n;
          continue;
        }
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string JsonValue(const Value& v) {
  if (v.is_null()) return "null";
  if (v.is_double()) {
    double d = v.AsDouble();
    if (std::isnan(d)) return "\"NaN\"";
    if (std::isinf(d)) return d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    return FormatDouble(d);
  }
  if (v.is_string()) return JsonString(v.AsString());
  return v.DebugString();  // int64, bool
}

// --- commands ---

std::string DescribeColumn(const ColumnSpec& c) {
  std::string out = absl::StrCat(c.name, " ", TypeName(c.type));
  if (c.primary_key) absl::StrAppend(&out, " primary key");
  if (c.auto_increment) absl::StrAppend(&out, " auto-increment");
  if (!c.nullable && !c.primary_key) absl::StrAppend(&out, " not null");
  if (c.unique) absl::StrAppend(&out, " unique");
  if (c.default_value.has_value()) {
    absl::StrAppend(&out, " default ", c.default_value->DebugString());
  }
  return out;
}

void PrintTable(const Table& t, std::ostream& out) {
  out << "table " << t.name() << ": " << t.size() << (t.size() == 1 ? " row" : " rows") << " ("
      << t.slot_count() << " slots, " << t.free_slots().size() << " free)";
  if (t.column(t.primary_key()).auto_increment) {
    out << ", next id " << t.next_auto_increment();
  }
  out << "\n";
  for (const ColumnSpec& c : t.schema().columns()) out << "  column " << DescribeColumn(c) << "\n";
  for (uint32_t i = 0; i < t.num_columns(); ++i) {
    const HashIndex* index = t.index(ColumnId(i));
    if (index == nullptr) continue;
    out << "  index " << t.column(ColumnId(i)).name << ": "
        << (index->unique() ? "unique" : "secondary") << ", " << index->num_keys()
        << (index->num_keys() == 1 ? " key" : " keys") << "\n";
  }
}

void PrintRelation(const RelationSpec& r, std::ostream& out) {
  out << "relation " << r.QualifiedName() << ": " << RelationKindName(r.kind) << " "
      << r.related_table << " (" << QualifiedName(r.child_table(), r.foreign_key) << " -> "
      << QualifiedName(r.parent_table(), r.local_key);
  if (r.kind == RelationKind::kManyToMany) {
    out << "; pivot " << QualifiedName(r.through_table, r.through_key) << " -> "
        << QualifiedName(r.related_table, r.related_key);
  } else if (r.kind == RelationKind::kHasManyThrough) {
    out << "; through " << QualifiedName(r.related_table, r.related_key) << " -> "
        << QualifiedName(r.through_table, r.through_key);
  }
  out << ")";
  if (!r.inverse.empty()) out << ", inverse " << r.inverse;
  if (r.kind == RelationKind::kManyToMany) {
    out << ", on delete " << OnDeleteName(r.on_delete) << ", on duplicate "
        << OnDuplicateName(r.on_duplicate);
    if (!r.pivot_columns.empty()) {
      out << ", pivot columns [" << absl::StrJoin(r.pivot_columns, ", ") << "]";
    }
  }
  if (r.parent_side()) {
    out << ", on delete " << OnDeleteName(r.on_delete) << ", on update "
        << OnUpdateName(r.on_update) << ", on unlink " << OnUnlinkName(r.on_unlink);
  }
  if (!r.scope.empty()) {
    out << ", scope {" << absl::StrJoin(r.scope, ", ", [](std::string* o, const auto& kv) {
      absl::StrAppend(o, JsonString(kv.first), ": ", JsonValue(kv.second));
    }) << "}";
  }
  if (r.on_query_pending) out << ", on_query (code, not saved: re-attach with SetOnQuery)";
  if (!r.meta.empty()) {
    out << ", meta {" << absl::StrJoin(r.meta, ", ", [](std::string* o, const auto& kv) {
      absl::StrAppend(o, JsonString(kv.first), ": ", JsonValue(kv.second));
    }) << "}";
  }
  out << "\n";
}

// A snapshot file, or a data directory read without writing anything: its
// newest snapshot with the journal replayed.
struct Loaded {
  Engine engine;
  RelationCatalog relations;
  uint32_t format_version = 0;
  std::optional<internal::DirScan> dir;
};

absl::StatusOr<Loaded> Load(const std::string& path) {
  Loaded out;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    KIN_ASSIGN_OR_RETURN(out.dir, internal::ReadDataDir(*Env::Default(), path, OpenOptions(),
                                                        out.engine, out.relations));
    out.format_version = out.dir->snapshot.empty() ? 0 : kSnapshotFormatVersion;
    return out;
  }
  KIN_ASSIGN_OR_RETURN(SnapshotContents contents, LoadSnapshotFile(path));
  out.engine = std::move(contents.engine);
  out.relations = std::move(contents.relations);
  out.format_version = contents.format_version;
  return out;
}

void PrintDataDir(const std::string& path, const internal::DirScan& dir, std::ostream& out) {
  const RecoveryInfo& r = dir.info;
  out << "data directory " << path << ": checkpoint " << r.checkpoint << " ("
      << (dir.snapshot.empty() ? std::string("no snapshot: a new database") : dir.snapshot) << "), "
      << r.segments << (r.segments == 1 ? " journal segment, " : " journal segments, ") << r.commits
      << (r.commits == 1 ? " commit" : " commits") << " after it, last commit " << r.last_commit
      << "\n";
  for (const internal::DirScan::Segment& s : dir.segments) {
    out << "journal " << s.path << ": " << s.bytes << " bytes, " << s.commits
        << (s.commits == 1 ? " commit" : " commits") << "\n";
  }
  if (!r.dropped.empty()) {
    out << "dropped " << r.dropped_bytes << " bytes: " << r.dropped << "\n";
  }
}

// The schema version and steps kin::Migrations recorded (kin/migrations.cc
// writes these keys), then any other metadata as it is.
void PrintMetadata(const std::map<std::string, std::string>& metadata, std::ostream& out) {
  auto version = metadata.find("kin.schema_version");
  out << "schema version " << (version == metadata.end() ? "0" : version->second) << "\n";
  if (auto steps = metadata.find("kin.migrations"); steps != metadata.end()) {
    for (absl::string_view line : absl::StrSplit(steps->second, '\n', absl::SkipEmpty())) {
      out << "migration " << line << "\n";
    }
  }
  for (const auto& [key, value] : metadata) {
    if (key != "kin.schema_version" && key != "kin.migrations") {
      out << "metadata " << key << " = " << value << "\n";
    }
  }
}

int Inspect(const std::string& path, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Loaded> loaded = Load(path);
  if (!loaded.ok()) return Fail(err, "inspect", loaded.status());
  const Engine& engine = loaded->engine;
  std::vector<std::string> names = engine.TableNames();
  if (loaded->dir.has_value()) {
    PrintDataDir(path, *loaded->dir, out);
    out << names.size() << (names.size() == 1 ? " table" : " tables") << "\n";
  } else {
    std::error_code ec;
    uintmax_t bytes = std::filesystem::file_size(path, ec);
    out << "snapshot " << path << ": format version " << loaded->format_version;
    if (!ec) out << ", " << bytes << " bytes";
    out << ", " << names.size() << (names.size() == 1 ? " table" : " tables") << "\n";
  }
  for (const std::string& name : names) PrintTable(*engine.FindTable(name), out);
  for (const ForeignKeySpec& fk : engine.foreign_keys()) {
    out << "foreign key " << QualifiedName(fk.child_table, fk.child_column) << " -> "
        << QualifiedName(fk.parent_table, fk.parent_column) << ", on delete "
        << OnDeleteName(fk.on_delete) << ", on update " << OnUpdateName(fk.on_update) << "\n";
  }
  for (const RelationSpec* r : loaded->relations.All()) PrintRelation(*r, out);
  PrintMetadata(engine.metadata(), out);
  return kExitOk;
}

int Verify(const std::string& path, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Loaded> loaded = Load(path);
  if (!loaded.ok()) return Fail(err, "verify", loaded.status());
  // Loading already validated everything; this re-checks every rebuilt
  // index against a full scan, as a last line of defence.
  absl::Status consistent = loaded->engine.CheckConsistency();
  if (!consistent.ok()) {
    return Fail(err, "verify",
                absl::DataLossError(absl::StrCat("snapshot '", path, "': ", consistent.message())));
  }
  size_t rows = 0;
  std::vector<std::string> names = loaded->engine.TableNames();
  for (const std::string& name : names) rows += loaded->engine.FindTable(name)->size();
  if (loaded->dir.has_value()) {
    const RecoveryInfo& r = loaded->dir->info;
    out << "ok: " << path << " (checkpoint " << r.checkpoint << ", " << r.commits
        << (r.commits == 1 ? " journaled commit" : " journaled commits") << ", last commit "
        << r.last_commit << ", " << names.size() << (names.size() == 1 ? " table, " : " tables, ")
        << rows << (rows == 1 ? " row" : " rows");
    if (!r.dropped.empty()) out << "; dropped " << r.dropped;
    out << ")\n";
    return kExitOk;
  }
  out << "ok: " << path << " (format version " << loaded->format_version << ", " << names.size()
      << (names.size() == 1 ? " table, " : " tables, ") << rows
      << (rows == 1 ? " row, " : " rows, ") << loaded->relations.size()
      << (loaded->relations.size() == 1 ? " relation)" : " relations)") << "\n";
  return kExitOk;
}

int Dump(const std::string& path, const std::string& table_name, bool json, std::ostream& out,
         std::ostream& err) {
  absl::StatusOr<Loaded> loaded = Load(path);
  if (!loaded.ok()) return Fail(err, "dump", loaded.status());
  absl::StatusOr<const Table*> found = loaded->engine.GetTable(table_name);
  if (!found.ok()) {
    return Fail(err, "dump",
                absl::Status(found.status().code(),
                             absl::StrCat("snapshot '", path, "': ", found.status().message())));
  }
  const Table& t = **found;
  const std::vector<ColumnSpec>& columns = t.schema().columns();
  if (!json) {
    out << absl::StrJoin(columns, ",", [](std::string* o, const ColumnSpec& c) {
      o->append(CsvField(c.name));
    }) << "\n";
    for (RowId id : t.LiveRowIds()) {
      for (uint32_t i = 0; i < columns.size(); ++i) {
        if (i > 0) out << ',';
        out << CsvValue(t.GetValue(id, ColumnId(i)));
      }
      out << "\n";
    }
    return kExitOk;
  }
  std::vector<RowId> ids = t.LiveRowIds();
  if (ids.empty()) {
    out << "[]\n";
    return kExitOk;
  }
  out << "[\n";
  for (size_t r = 0; r < ids.size(); ++r) {
    out << "  {";
    for (uint32_t i = 0; i < columns.size(); ++i) {
      if (i > 0) out << ", ";
      out << JsonString(columns[i].name) << ": " << JsonValue(t.GetValue(ids[r], ColumnId(i)));
    }
    out << (r + 1 < ids.size() ? "},\n" : "}\n");
  }
  out << "]\n";
  return kExitOk;
}

int Run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) return Usage(err, "no command given");
  const std::string& command = args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    out << kUsage;
    return kExitOk;
  }
  if (command == "inspect" || command == "verify") {
    if (args.size() != 2) return Usage(err, absl::StrCat(command, " takes one FILE"));
    return command == "inspect" ? Inspect(args[1], out, err) : Verify(args[1], out, err);
  }
  if (command == "dump") {
    std::vector<std::string> positional;
    std::string format = "csv";
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--format") {
        if (i + 1 == args.size()) return Usage(err, "--format needs a value (csv or json)");
        format = args[++i];
      } else if (absl::StartsWith(a, "--format=")) {
        format = a.substr(9);
      } else if (absl::StartsWith(a, "-") && a != "-") {
        return Usage(err, absl::StrCat("unknown option '", a, "'"));
      } else {
        positional.push_back(a);
      }
    }
    if (format != "csv" && format != "json") {
      return Usage(err, absl::StrCat("unknown format '", format, "' (expected csv or json)"));
    }
    if (positional.size() != 2) return Usage(err, "dump takes FILE and TABLE");
    return Dump(positional[0], positional[1], format == "json", out, err);
  }
  return Usage(err, absl::StrCat("unknown command '", command, "'"));
}

}  // namespace

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  // The snapshot API never throws; this guards the tool's own formatting
  // (std::bad_alloc on a huge dump) so the tool still exits with a message.
  try {
    return Run(args, out, err);
  } catch (const std::exception& e) {
    err << "kin: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace kin
