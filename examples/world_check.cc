#include "examples/world_check.h"

#include <algorithm>
#include <bit>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/table.h"

namespace kin::examples {

namespace {

uint64_t DigestColumn(const Table& t, ColumnId c) {
  Digest d;
  const Bitmap* validity = t.validity(c);
  const size_t slots = t.slot_count();
  auto is_null = [&](size_t s) { return validity != nullptr && !validity->Get(s); };
  std::visit(
      [&](const auto& values) {
        using T = typename std::decay_t<decltype(values)>::value_type;
        for (size_t s = 0; s < slots; ++s) {
          if (!t.live().Get(s)) continue;
          if (is_null(s)) {
            d.Add(kNullTag);
          } else if constexpr (std::is_same_v<T, std::string_view>) {
            d.AddString(absl::string_view(values[s].data(), values[s].size()));
          } else if constexpr (std::is_same_v<T, double>) {
            d.Add(std::bit_cast<uint64_t>(values[s]));
          } else {
            d.Add(static_cast<uint64_t>(values[s]));
          }
        }
      },
      t.column_data(c));
  return d.value();
}

}  // namespace

TableDigest DigestTable(const Table& t) {
  TableDigest out;
  out.name = t.name();
  out.rows = static_cast<int64_t>(t.size());
  out.slots = static_cast<int64_t>(t.slot_count());
  Digest schema;
  for (const ColumnSpec& c : t.schema().columns()) {
    schema.AddString(c.name);
    schema.Add(static_cast<uint64_t>(c.type));
    schema.Add(uint64_t{c.nullable} | uint64_t{c.primary_key} << 1 |
               uint64_t{c.auto_increment} << 2 | uint64_t{c.unique} << 3 |
               uint64_t{c.indexed} << 4);
    schema.AddString(c.default_value ? c.default_value->TypedDebugString() : "none");
  }
  out.schema = schema.value();
  Digest layout;
  for (size_t s = 0; s < t.slot_count(); ++s) {
    layout.Add(t.live().Get(s));
    layout.Add(t.generations()[s]);
  }
  for (uint32_t f : t.free_slots()) layout.Add(f);
  layout.AddInt(t.next_auto_increment());
  out.layout = layout.value();
  for (uint32_t c = 0; c < t.num_columns(); ++c) {
    const ColumnId col(c);
    const std::string& name = t.column(col).name;
    out.columns.emplace_back(name, DigestColumn(t, col));
    const HashIndex* index = t.index(col);
    if (index == nullptr) continue;
    Digest d;
    index->ForEachSorted([&](const Value& key, std::span<const RowId> rows) {
      if (key.is_int64()) {
        d.AddInt(key.AsInt64());
      } else {
        d.AddString(key.AsString());
      }
      for (RowId r : rows) d.Add(r.value);
      d.Add(rows.size());
    });
    out.indexes.emplace_back(name, d.value());
  }
  return out;
}

uint64_t DigestDeclarations(const Database& db) {
  Digest d;
  for (const RelationSpec* r : db.Relations()) {
    d.Add(static_cast<uint64_t>(r->kind));
    for (const std::string* s :
         {&r->name, &r->table, &r->related_table, &r->foreign_key, &r->local_key, &r->inverse}) {
      d.AddString(*s);
    }
    d.Add(static_cast<uint64_t>(r->on_delete) << 16 | static_cast<uint64_t>(r->on_update) << 8 |
          static_cast<uint64_t>(r->on_unlink));
    for (const auto& [key, value] : r->meta) {
      d.AddString(key);
      d.AddString(value.TypedDebugString());
    }
  }
  for (const ForeignKeySpec& fk : db.foreign_keys()) {
    for (const std::string* s :
         {&fk.child_table, &fk.child_column, &fk.parent_table, &fk.parent_column}) {
      d.AddString(*s);
    }
    d.Add(static_cast<uint64_t>(fk.on_delete) << 8 | static_cast<uint64_t>(fk.on_update));
  }
  return d.value();
}

std::vector<TableDigest> DigestTables(const Database& db) {
  std::vector<TableDigest> out;
  for (const std::string& name : db.TableNames()) out.push_back(DigestTable(*db.FindTable(name)));
  return out;
}

uint64_t WorldDigest(const std::vector<TableDigest>& tables, uint64_t declarations) {
  Digest d;
  for (const TableDigest& t : tables) {
    d.AddString(t.name);
    d.AddInt(t.rows);
    d.AddInt(t.slots);
    d.Add(t.schema);
    d.Add(t.layout);
    for (const auto& [name, v] : t.columns) d.Add(v);
    for (const auto& [name, v] : t.indexes) d.Add(v);
  }
  d.Add(declarations);
  return d.value();
}

std::vector<std::string> CompareWorlds(const Database& live,
                                       const std::vector<TableDigest>& live_tables,
                                       const Database& loaded) {
  std::vector<std::string> diffs;
  const std::vector<TableDigest>& a = live_tables;
  const std::vector<TableDigest> b = DigestTables(loaded);
  if (live.TableNames() != loaded.TableNames()) diffs.push_back("the table lists differ");
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const TableDigest& x = a[i];
    const TableDigest& y = b[i];
    const std::string what = absl::StrCat("table '", x.name, "': ");
    if (x.rows != y.rows) diffs.push_back(absl::StrCat(what, x.rows, " rows vs ", y.rows));
    if (x.schema != y.schema) diffs.push_back(what + "schemas differ");
    if (x.layout != y.layout) diffs.push_back(what + "slots, generations or free lists differ");
    for (size_t c = 0; c < std::min(x.columns.size(), y.columns.size()); ++c) {
      if (x.columns[c] != y.columns[c]) {
        diffs.push_back(absl::StrCat(what, "column '", x.columns[c].first, "' differs"));
      }
    }
    if (x.indexes != y.indexes) diffs.push_back(what + "an index's key -> rows order differs");
  }
  const std::vector<const RelationSpec*> ra = live.Relations();
  if (ra.size() != loaded.Relations().size()) {
    diffs.push_back(absl::StrCat(ra.size(), " relations vs ", loaded.Relations().size()));
  }
  for (const RelationSpec* r : ra) {
    absl::StatusOr<const RelationSpec*> found = loaded.GetRelation(r->table, r->name);
    const RelationSpec* other = found.ok() ? *found : nullptr;
    if (other == nullptr || !r->DeclarationEquals(*other)) {
      diffs.push_back(absl::StrCat("relation '", r->QualifiedName(), "' differs"));
    }
  }
  if (live.foreign_keys() != loaded.foreign_keys()) diffs.push_back("foreign keys differ");
  return diffs;
}

std::vector<std::string> CompareWorlds(const Database& live, const Database& loaded) {
  return CompareWorlds(live, DigestTables(live), loaded);
}

}  // namespace kin::examples
