#include "engine/table.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/errors.h"
#include "engine/heap_bytes.h"
#include "engine/large_buffer.h"
#include "kin/status_macros.h"

namespace kin {

namespace {

TableImage::ColumnData EmptyColumn(Type type) {
  switch (type) {
    case Type::kInt64:
      return std::vector<int64_t>();
    case Type::kDouble:
      return std::vector<double>();
    case Type::kBool:
      return std::vector<uint8_t>();
    case Type::kString:
      return StringStore();
  }
  return std::vector<int64_t>();
}

uint64_t NextInstanceId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

// FindColumn's table slot for `name`: its length, first and last byte.
size_t NameSlot(absl::string_view name) {
  if (name.empty()) return 0;
  const auto first = static_cast<unsigned char>(name.front());
  const auto last = static_cast<unsigned char>(name.back());
  return (name.size() * 7 + first * 3 + last) & 63;
}

// An int64 given for a double column is stored as double.
Value Coerce(Type type, const Value& v) {
  if (type == Type::kDouble && v.is_int64()) {
    return Value(static_cast<double>(v.AsInt64()));
  }
  return v;
}

}  // namespace

size_t ColumnDataIndex(Type type) {
  switch (type) {
    case Type::kInt64:
      return 0;
    case Type::kDouble:
      return 1;
    case Type::kBool:
      return 2;
    case Type::kString:
      return 3;
  }
  return 0;
}

Table::Table(std::string name, Schema schema)
    : name_(std::move(name)), schema_(std::move(schema)), instance_id_(NextInstanceId()) {
  size_t n = schema_.size();
  columns_.reserve(n);
  validity_.resize(n);
  indexes_.resize(n);
  ordered_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const ColumnSpec& c = schema_.columns()[i];
    columns_.push_back(EmptyColumn(c.type));
    if (c.primary_key || c.unique) {
      indexes_[i] = std::make_unique<HashIndex>(c.type, /*unique=*/true);
    } else if (c.indexed) {
      indexes_[i] = std::make_unique<HashIndex>(c.type, /*unique=*/false);
    }
    if (c.ordered) {
      ordered_[i] = std::make_unique<OrderedIndex>(ColumnId(i), c.type);
      any_ordered_ = true;
    }
  }
  in_composite_.assign(n, 0);
  for (const std::vector<ColumnId>& columns : schema_.composite_indexes()) {
    composites_.push_back(std::make_unique<CompositeIndex>(this, columns));
    for (ColumnId c : columns) in_composite_[c.value] = 1;
  }
  BuildNameKeys();
  BindIndexKeys();
}

void Table::BindIndexKeys() {
  for (size_t i = 0; i < columns_.size(); ++i) {
    const auto* keys = std::get_if<StringStore>(&columns_[i]);
    if (keys == nullptr) continue;
    if (indexes_[i] != nullptr) indexes_[i]->BindKeys(keys);
    if (ordered_[i] != nullptr) ordered_[i]->BindKeys(keys);
  }
}

void Table::BuildNameKeys() {
  const size_t n = schema_.size();
  name_keys_.clear();
  names_.clear();
  std::fill(std::begin(name_slots_), std::end(name_slots_), uint8_t{0});
  if (n <= kMaxLinearColumns) {
    name_keys_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const std::string& name = schema_.columns()[i].name;
      name_keys_.push_back(
          {static_cast<uint32_t>(name.size()), static_cast<uint32_t>(names_.size())});
      names_ += name;
      uint8_t& slot = name_slots_[NameSlot(name)];
      slot = slot == 0 ? static_cast<uint8_t>(i + 1) : kNameCollision;
    }
  }
}

std::optional<ColumnId> Table::FindColumn(absl::string_view name) const {
  if (name_keys_.empty()) return schema_.Find(name);
  const uint8_t slot = name_slots_[NameSlot(name)];
  if (slot == 0) return std::nullopt;
  if (slot != kNameCollision) {
    const NameKey key = name_keys_[slot - 1];
    if (key.size == name.size() &&
        std::memcmp(names_.data() + key.offset, name.data(), key.size) == 0) {
      return ColumnId(slot - 1u);
    }
    return std::nullopt;
  }
  for (size_t i = 0; i < name_keys_.size(); ++i) {
    const NameKey key = name_keys_[i];
    if (key.size != name.size()) continue;
    // size 0: memcmp may not be given a default string_view's nullptr.
    if (key.size == 0 || std::memcmp(names_.data() + key.offset, name.data(), key.size) == 0) {
      return ColumnId(static_cast<uint32_t>(i));
    }
  }
  return std::nullopt;
}

absl::StatusOr<ColumnId> Table::GetColumn(absl::string_view name) const {
  std::optional<ColumnId> id = FindColumn(name);
  if (!id.has_value()) return errors::UnknownColumn(name_, name);
  return *id;
}

absl::StatusOr<Row> Table::RowAt(RowId id) const {
  if (!IsLive(id)) return errors::StaleRow(name_, id.value);
  return GetRow(id);
}

std::optional<RowId> Table::FindRowId(const Value& key) const {
  const HashIndex* pk = index(primary_key());
  if (key.is_null() || key.type() != pk->key_type()) return std::nullopt;
  std::span<const RowId> rows = pk->Find(key);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<Row> Table::Find(const Value& key) const {
  std::optional<RowId> id = FindRowId(key);
  if (!id.has_value()) return std::nullopt;
  return GetRow(*id);
}

absl::StatusOr<Row> Table::FindOrFail(const Value& key) const {
  const ColumnSpec& pk = schema_.column(primary_key());
  if (key.is_null() || key.type() != pk.type) {
    return errors::TypeMismatch(name_, pk.name, pk.type, key);
  }
  std::optional<RowId> id = FindRowId(key);
  if (!id.has_value()) return errors::RowNotFound(name_, pk.name, key);
  return GetRow(*id);
}

Value Table::GetValue(RowId id, ColumnId column) const {
  if (IsNull(id, column)) return Value();
  return std::visit(
      [&](const auto& vec) -> Value {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, uint8_t>) {
          return Value(vec[id.value] != 0);
        } else {
          return Value(vec[id.value]);
        }
      },
      columns_[column.value]);
}

namespace {

template <typename T>
absl::StatusOr<std::span<const T>> TypedColumn(const Table& t, absl::string_view name, Type type) {
  KIN_ASSIGN_OR_RETURN(ColumnId id, t.GetColumn(name));
  if (t.column(id).type != type) {
    return absl::InvalidArgumentError(absl::StrCat(QualifiedName(t.name(), name), ": column is ",
                                                   TypeName(t.column(id).type), ", not ",
                                                   TypeName(type)));
  }
  return std::span<const T>(std::get<std::vector<T>>(t.column_data(id)));
}

}  // namespace

absl::StatusOr<std::span<const int64_t>> Table::Int64Column(absl::string_view column) const {
  return TypedColumn<int64_t>(*this, column, Type::kInt64);
}
absl::StatusOr<std::span<const double>> Table::DoubleColumn(absl::string_view column) const {
  return TypedColumn<double>(*this, column, Type::kDouble);
}
absl::StatusOr<std::span<const uint8_t>> Table::BoolColumn(absl::string_view column) const {
  return TypedColumn<uint8_t>(*this, column, Type::kBool);
}
absl::StatusOr<const StringStore*> Table::StringColumn(absl::string_view column) const {
  KIN_ASSIGN_OR_RETURN(ColumnId id, GetColumn(column));
  if (schema_.column(id).type != Type::kString) {
    return absl::InvalidArgumentError(absl::StrCat(QualifiedName(name_, column), ": column is ",
                                                   TypeName(schema_.column(id).type),
                                                   ", not string"));
  }
  return &StringColumn(id);
}

absl::StatusOr<std::span<const RowId>> Table::Children(absl::string_view column,
                                                       const Value& key) const {
  KIN_ASSIGN_OR_RETURN(ColumnId id, GetColumn(column));
  const HashIndex* idx = index(id);
  if (idx == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(QualifiedName(name_, column), ": column has no index"));
  }
  if (key.is_null()) return std::span<const RowId>();
  if (key.type() != idx->key_type()) {
    return errors::TypeMismatch(name_, column, idx->key_type(), key);
  }
  return idx->Find(key);
}

std::vector<RowId> Table::LiveRowIds() const {
  std::vector<RowId> ids;
  ids.reserve(live_count_);
  for (uint32_t s = 0; s < slot_count(); ++s) {
    if (live_.Get(s)) ids.push_back(RowId(s));
  }
  return ids;
}

// --- writes ---

absl::Status Table::CheckType(ColumnId column, const Value& v) const {
  const ColumnSpec& spec = schema_.column(column);
  if (v.is_null()) {
    if (!spec.nullable) return errors::NullNotAllowed(name_, spec.name);
    return absl::OkStatus();
  }
  if (!ValueFitsType(v, spec.type)) {
    return errors::TypeMismatch(name_, spec.name, spec.type, v);
  }
  return absl::OkStatus();
}

absl::Status Table::ResolveAttrs(const Attrs& attrs) {
  given_.assign(schema_.size(), nullptr);
  for (const auto& [name, value] : attrs) {
    std::optional<ColumnId> id = schema_.Find(name);
    if (!id.has_value()) return errors::UnknownColumn(name_, name);
    if (given_[id->value] != nullptr) return errors::DuplicateAttribute(name_, name);
    given_[id->value] = &value;
  }
  return absl::OkStatus();
}

absl::Status Table::PrepareInsert(const Attrs& attrs) {
  KIN_RETURN_IF_ERROR(ResolveAttrs(attrs));
  return PrepareGivenRow();
}

absl::Status Table::PrepareInsertCells(std::span<const CellRef> cells) {
  given_.assign(schema_.size(), nullptr);
  for (const CellRef& cell : cells) {
    if (cell.column.value >= schema_.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("table '", name_, "': no column with id ", cell.column.value));
    }
    if (given_[cell.column.value] != nullptr) {
      return errors::DuplicateAttribute(name_, schema_.column(cell.column).name);
    }
    given_[cell.column.value] = cell.value;
  }
  return PrepareGivenRow();
}

absl::Status Table::PrepareGivenRow() {
  size_t n = schema_.size();
  row_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const ColumnSpec& spec = schema_.columns()[i];
    const Value* given = given_[i];
    if (given != nullptr && !given->is_null()) {
      KIN_RETURN_IF_ERROR(CheckType(ColumnId(i), *given));
      row_[i] = Coerce(spec.type, *given);
    } else if (spec.auto_increment) {
      // Omitted or NULL: the next id, as SQL's INTEGER PRIMARY KEY does.
      if (next_auto_increment_ == std::numeric_limits<int64_t>::max()) {
        return absl::ResourceExhaustedError(
            absl::StrCat(QualifiedName(name_, spec.name), ": auto-increment exhausted"));
      }
      row_[i] = Value(next_auto_increment_);
    } else if (given != nullptr) {  // explicit NULL
      if (!spec.nullable) return errors::NullNotAllowed(name_, spec.name);
      row_[i] = Value();
    } else if (spec.default_value.has_value()) {
      row_[i] = Coerce(spec.type, *spec.default_value);
    } else if (spec.nullable) {
      row_[i] = Value();
    } else {
      return errors::MissingValue(name_, spec.name);
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const HashIndex* idx = indexes_[i].get();
    if (idx != nullptr && idx->unique() && !row_[i].is_null() && !idx->Find(row_[i]).empty()) {
      return errors::DuplicateKey(name_, schema_.columns()[i].name, row_[i]);
    }
  }
  return absl::OkStatus();
}

void Table::WriteCell(RowId id, ColumnId column, const Value& v) {
  Bitmap& valid = validity_[column.value];
  if (valid.size() != 0) valid.Set(id.value, !v.is_null());
  if (v.is_null()) {
    ClearCell(id, column);
    return;
  }
  std::visit(
      [&](auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, int64_t>) {
          vec[id.value] = v.AsInt64();
        } else if constexpr (std::is_same_v<T, double>) {
          vec[id.value] = v.AsNumber();
        } else if constexpr (std::is_same_v<T, uint8_t>) {
          vec[id.value] = v.AsBool() ? 1 : 0;
        } else {
          vec.Set(id.value, v.AsString());
        }
      },
      columns_[column.value]);
}

void Table::ClearCell(RowId id, ColumnId column) {
  std::visit(
      [&](auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<T, std::string_view>) {
          vec.Clear(id.value);
        } else {
          vec[id.value] = T{};
        }
      },
      columns_[column.value]);
}

void Table::IndexRow(RowId id) {
  for (size_t i = 0; i < indexes_.size(); ++i) {
    if (indexes_[i] == nullptr || IsNull(id, ColumnId(i))) continue;
    indexes_[i]->Add(GetValue(id, ColumnId(i)), id);
  }
  if (any_ordered_) {
    for (size_t i = 0; i < ordered_.size(); ++i) OrderedInsert(id, ColumnId(i));
  }
  CompositeInsertRow(id);
}

RowId Table::ApplyInsert(internal::UndoLog* log) {
  return InsertRow([&](size_t i) -> const Value& { return row_[i]; }, log);
}

template <typename CellOf>
RowId Table::InsertRow(const CellOf& cell_of, internal::UndoLog* log) {
  ++write_version_;
  bool reused = !free_slots_.empty();
  RowId id;
  if (reused) {
    ++rows_version_;  // not an append: caches over the slots rebuild
    id = RowId(free_slots_.back());
    free_slots_.pop_back();
  } else {
    id = RowId(static_cast<uint32_t>(slot_count()));
    // GrowLarge: a table grown row by row gives back its columns' old
    // buffers as a bulk load does, without huge pages (a row insert must
    // not stall; engine/large_buffer.h).
    for (size_t i = 0; i < columns_.size(); ++i) {
      std::visit(
          [](auto& vec) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(vec)>, StringStore>) {
              GrowLarge(vec, vec.size() + 1, HugePages::kNo);
            }
            vec.emplace_back();
          },
          columns_[i]);
      if (schema_.columns()[i].nullable) validity_[i].PushBack(false);
    }
    live_.PushBack(false);
    GrowLarge(generations_, generations_.size() + 1, HugePages::kNo);
    generations_.push_back(0);
  }
  Touch(id.value);
  uint32_t generation_before = generations_[id.value];
  if (id.value < min_generations_.size() && generations_[id.value] < min_generations_[id.value]) {
    generations_[id.value] = min_generations_[id.value];
    any_nonzero_generation_ = true;
  }
  for (size_t i = 0; i < columns_.size(); ++i) WriteCell(id, ColumnId(i), cell_of(i));
  live_.Set(id.value, true);
  ++live_count_;
  int64_t before = next_auto_increment_;
  const ColumnSpec& pk = schema_.column(primary_key());
  if (pk.auto_increment) {
    int64_t key = cell_of(primary_key().value).AsInt64();
    if (key >= next_auto_increment_) {
      next_auto_increment_ = key == std::numeric_limits<int64_t>::max() ? key : key + 1;
    }
  }
  IndexRow(id);
  if (log != nullptr) {
    internal::UndoEntry e;
    e.kind = internal::UndoEntry::Kind::kInsert;
    e.reused_slot = reused;
    e.table = this;
    e.row = id;
    e.next_auto_increment = before;
    e.generation = generation_before;
    e.values_begin = log->ValueCount();
    for (size_t i = 0; i < columns_.size(); ++i) log->AddValue(GetValue(id, ColumnId(i)));
    e.values_end = log->ValueCount();
    log->push_back(std::move(e));
  }
  return id;
}

std::string Table::ReplayInsert(RowId slot, std::span<const CellChange> cells) {
  const RowId next =
      free_slots_.empty() ? RowId(static_cast<uint32_t>(slot_count())) : RowId(free_slots_.back());
  if (next != slot) return absl::StrCat("the insert takes slot ", next.value);
  const size_t n = schema_.size();
  // An insert's record holds every column once (AppendRecord).
  if (cells.size() != n) return absl::StrCat(cells.size(), " cells for ", n, " columns");
  given_.assign(n, nullptr);
  for (const CellChange& cell : cells) {
    if (cell.column.value >= n) return "no such column";
    if (given_[cell.column.value] != nullptr) return "a column given twice";
    given_[cell.column.value] = &cell.new_value;
    if (absl::Status s = CheckType(cell.column, cell.new_value); !s.ok()) {
      return std::string(s.message());
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const HashIndex* idx = indexes_[i].get();
    if (idx != nullptr && idx->unique() && !given_[i]->is_null() &&
        !idx->Find(*given_[i]).empty()) {
      return std::string(
          errors::DuplicateKey(name_, schema_.columns()[i].name, *given_[i]).message());
    }
  }
  InsertRow([&](size_t i) -> const Value& { return *given_[i]; }, nullptr);
  return "";
}

std::string Table::ReplayUpdate(RowId slot, std::span<const CellChange> cells) {
  if (!IsLive(slot)) return "no row there";
  changes_.clear();
  for (const CellChange& cell : cells) {
    if (cell.column.value >= schema_.size()) return "no such column";
    if (absl::Status s = CheckType(cell.column, cell.new_value); !s.ok()) {
      return std::string(s.message());
    }
    const HashIndex* idx = indexes_[cell.column.value].get();
    if (idx != nullptr && idx->unique() && !cell.new_value.is_null()) {
      std::span<const RowId> hit = idx->Find(cell.new_value);
      if (!hit.empty() && hit.front() != slot) {
        return std::string(
            errors::DuplicateKey(name_, schema_.column(cell.column).name, cell.new_value)
                .message());
      }
    }
    changes_.emplace_back(cell.column, Coerce(schema_.column(cell.column).type, cell.new_value));
  }
  ApplyUpdate(slot, nullptr);
  return "";
}

absl::Status Table::PrepareUpdate(RowId id, const Attrs& attrs) {
  if (!IsLive(id)) return errors::StaleRow(name_, id.value);
  KIN_RETURN_IF_ERROR(ResolveAttrs(attrs));
  changes_.clear();
  for (size_t i = 0; i < schema_.size(); ++i) {
    const Value* given = given_[i];
    if (given == nullptr) continue;
    KIN_RETURN_IF_ERROR(PrepareChange(id, ColumnId(static_cast<uint32_t>(i)), *given));
  }
  return absl::OkStatus();
}

absl::Status Table::PrepareUpdateCells(RowId id, std::span<const CellRef> cells) {
  if (!IsLive(id)) return errors::StaleRow(name_, id.value);
  changes_.clear();
  for (size_t i = 0; i < cells.size(); ++i) {
    const ColumnId column = cells[i].column;
    assert(column.value < schema_.size() && "Table::PrepareUpdateCells: column out of range");
    // A quadratic scan: typed writes name a handful of columns, and a
    // repeated one must be an error before anything is written.
    for (size_t j = 0; j < i; ++j) {
      if (cells[j].column == column) {
        return errors::DuplicateAttribute(name_, schema_.column(column).name);
      }
    }
    KIN_RETURN_IF_ERROR(PrepareChange(id, column, *cells[i].value));
  }
  return absl::OkStatus();
}

absl::Status Table::PrepareChange(RowId id, ColumnId column, const Value& given) {
  KIN_RETURN_IF_ERROR(CheckType(column, given));
  Value v = Coerce(schema_.column(column).type, given);
  if (v == GetValue(id, column)) return absl::OkStatus();
  const HashIndex* idx = indexes_[column.value].get();
  if (idx != nullptr && idx->unique() && !v.is_null()) {
    std::span<const RowId> hit = idx->Find(v);
    if (!hit.empty() && hit.front() != id) {
      return errors::DuplicateKey(name_, schema_.column(column).name, v);
    }
  }
  changes_.emplace_back(column, std::move(v));
  return absl::OkStatus();
}

bool Table::ApplyUpdate(RowId id, internal::UndoLog* log) {
  if (changes_.empty()) return false;
  ++write_version_;
  internal::UndoEntry e;
  e.kind = internal::UndoEntry::Kind::kUpdate;
  e.table = this;
  e.row = id;
  e.next_auto_increment = next_auto_increment_;
  if (log != nullptr) e.cells_begin = log->CellCount();
  const ColumnSpec& pk = schema_.column(primary_key());
  if (column_versions_.size() < columns_.size()) column_versions_.resize(columns_.size());
  bool touched = false;
  for (auto& [column, value] : changes_) {
    ++column_versions_[column.value];
    Value old = GetValue(id, column);
    uint32_t position = 0;
    HashIndex* idx = indexes_[column.value].get();
    if (idx != nullptr && !touched) {
      Touch(id.value);
      touched = true;
    }
    if (idx != nullptr && !old.is_null()) position = idx->Remove(old, id);
    OrderedErase(id, column);
    CompositeErase(id, column);
    WriteCell(id, column, value);
    OrderedInsert(id, column);
    CompositeInsert(id, column);
    if (idx != nullptr && !value.is_null()) idx->Add(value, id);
    if (column == primary_key() && pk.auto_increment && value.AsInt64() >= next_auto_increment_ &&
        value.AsInt64() < std::numeric_limits<int64_t>::max()) {
      next_auto_increment_ = value.AsInt64() + 1;
    }
    if (log != nullptr) log->AddCell({column, std::move(old), position, value});
  }
  if (log != nullptr) {
    e.cells_end = log->CellCount();
    e.key = GetValue(id, primary_key());
    log->push_back(std::move(e));
  }
  return true;
}

void Table::Delete(RowId id, internal::UndoLog* log) {
  assert(IsLive(id) && "Table::Delete: row not live");
  ++write_version_;
  ++rows_version_;
  Touch(id.value);
  internal::UndoEntry e;
  e.kind = internal::UndoEntry::Kind::kDelete;
  e.table = this;
  e.row = id;
  if (log != nullptr) e.cells_begin = log->CellCount();
  CompositeEraseRow(id);
  for (size_t i = 0; i < columns_.size(); ++i) {
    ColumnId column(static_cast<uint32_t>(i));
    Value old = GetValue(id, column);
    uint32_t position = 0;
    if (indexes_[i] != nullptr && !old.is_null()) position = indexes_[i]->Remove(old, id);
    OrderedErase(id, column);
    if (log != nullptr) log->AddCell({column, std::move(old), position});
    if (validity_[i].size() != 0) validity_[i].Set(id.value, false);
    ClearCell(id, column);
  }
  live_.Set(id.value, false);
  --live_count_;
  ++generations_[id.value];
  any_nonzero_generation_ = true;
  free_slots_.push_back(id.value);
  if (log != nullptr) {
    e.cells_end = log->CellCount();
    log->push_back(std::move(e));
  }
}

void Table::Undo(const internal::UndoEntry& e, std::span<const internal::UndoEntry::Cell> cells) {
  ++write_version_;
  ++rows_version_;
  Touch(e.row.value);
  RowId id = e.row;
  switch (e.kind) {
    case internal::UndoEntry::Kind::kInsert: {
      CompositeEraseRow(id);
      for (size_t i = 0; i < columns_.size(); ++i) {
        ColumnId column(static_cast<uint32_t>(i));
        if (indexes_[i] != nullptr && !IsNull(id, column)) {
          indexes_[i]->Remove(GetValue(id, column), id);
        }
        OrderedErase(id, column);
      }
      live_.Set(id.value, false);
      --live_count_;
      next_auto_increment_ = e.next_auto_increment;
      // Handles to the undone row carry generations_[id]: keep any later
      // insert into this slot above it.
      if (min_generations_.size() <= id.value) min_generations_.resize(id.value + 1, 0);
      min_generations_[id.value] = std::max(min_generations_[id.value], generations_[id.value] + 1);
      if (e.reused_slot) {
        generations_[id.value] = e.generation;
        for (size_t i = 0; i < columns_.size(); ++i) {
          if (validity_[i].size() != 0) validity_[i].Set(id.value, false);
          ClearCell(id, ColumnId(i));
        }
        free_slots_.push_back(id.value);
      } else {
        assert(id.value + 1 == slot_count() && "undo of an append that is not last");
        for (size_t i = 0; i < columns_.size(); ++i) {
          std::visit([](auto& vec) { vec.pop_back(); }, columns_[i]);
          if (validity_[i].size() != 0) validity_[i].PopBack();
        }
        live_.PopBack();
        generations_.pop_back();
      }
      break;
    }
    case internal::UndoEntry::Kind::kDelete: {
      assert(!free_slots_.empty() && free_slots_.back() == id.value);
      free_slots_.pop_back();
      --generations_[id.value];
      for (const internal::UndoEntry::Cell& cell : cells) {
        WriteCell(id, cell.column, cell.old_value);
        HashIndex* idx = indexes_[cell.column.value].get();
        if (idx != nullptr && !cell.old_value.is_null()) {
          idx->InsertAt(cell.old_value, id, cell.index_position);
        }
        OrderedInsert(id, cell.column);
      }
      CompositeInsertRow(id);
      live_.Set(id.value, true);
      ++live_count_;
      break;
    }
    case internal::UndoEntry::Kind::kBatch:
      UndoBatch(e);
      break;
    case internal::UndoEntry::Kind::kUpdate: {
      for (auto it = cells.rbegin(); it != cells.rend(); ++it) {
        HashIndex* idx = indexes_[it->column.value].get();
        if (idx != nullptr && !IsNull(id, it->column)) {
          idx->Remove(GetValue(id, it->column), id);
        }
        OrderedErase(id, it->column);
        CompositeErase(id, it->column);
        WriteCell(id, it->column, it->old_value);
        OrderedInsert(id, it->column);
        CompositeInsert(id, it->column);
        if (idx != nullptr && !it->old_value.is_null()) {
          idx->InsertAt(it->old_value, id, it->index_position);
        }
      }
      next_auto_increment_ = e.next_auto_increment;
      break;
    }
  }
}

void Table::EnsureIndex(ColumnId column) {
  if (indexes_[column.value] != nullptr) return;
  ++index_version_;
  schema_.MarkIndexed(column);
  auto idx = std::make_unique<HashIndex>(schema_.column(column).type, /*unique=*/false);
  if (schema_.column(column).type == Type::kString) idx->BindKeys(&StringColumn(column));
  for (uint32_t s = 0; s < slot_count(); ++s) {
    if (live_.Get(s) && !IsNull(RowId(s), column)) idx->Add(GetValue(RowId(s), column), RowId(s));
  }
  indexes_[column.value] = std::move(idx);
}

void Table::EnsureOrderedIndex(ColumnId column) {
  if (ordered_[column.value] != nullptr) return;
  ++index_version_;
  schema_.MarkOrdered(column);
  auto idx = std::make_unique<OrderedIndex>(column, schema_.column(column).type);
  idx->Build(*this);
  ordered_[column.value] = std::move(idx);
  any_ordered_ = true;
}

void Table::AddCompositeIndex(std::vector<ColumnId> columns) {
  ++index_version_;
  schema_.AddCompositeIndex(columns);
  for (ColumnId c : columns) in_composite_[c.value] = 1;
  auto idx = std::make_unique<CompositeIndex>(this, std::move(columns));
  idx->Build();
  composites_.push_back(std::move(idx));
}

const CompositeIndex* Table::FindCompositeIndex(std::span<const ColumnId> columns) const {
  for (const auto& c : composites_) {
    if (std::equal(c->columns().begin(), c->columns().end(), columns.begin(), columns.end())) {
      return c.get();
    }
  }
  return nullptr;
}

void Table::Drop() {
  ++index_version_;
  ++write_version_;
  ++rows_version_;
  TouchAll();
  for (size_t i = 0; i < columns_.size(); ++i) {
    columns_[i] = EmptyColumn(schema_.columns()[i].type);
    validity_[i] = Bitmap();
    indexes_[i].reset();
    ordered_[i].reset();
  }
  composites_.clear();
  live_ = Bitmap();
  // Old handles compare their generation only after the live bit, which is
  // now clear for every slot: they all read as stale.
  std::vector<uint32_t>().swap(generations_);
  std::vector<uint32_t>().swap(min_generations_);
  std::vector<uint32_t>().swap(free_slots_);
  live_count_ = 0;
  any_nonzero_generation_ = false;
  dropped_ = true;
}

absl::Status Table::Restore(TableImage image) {
  ++write_version_;  // conservative: also on a refused batch or load
  ++rows_version_;
  TouchAll();
  auto bad = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("table '", name_, "': ", what));
  };
  size_t n = schema_.size();
  size_t slots = image.live.size();
  if (image.columns.size() != n || image.validity.size() != n) return bad("column count mismatch");
  if (image.generations.size() != slots) return bad("generation count mismatch");
  for (size_t i = 0; i < n; ++i) {
    const ColumnSpec& spec = schema_.columns()[i];
    if (image.columns[i].index() != ColumnDataIndex(spec.type)) {
      return bad(absl::StrCat("column '", spec.name, "' has the wrong type"));
    }
    size_t len = std::visit([](const auto& v) { return v.size(); }, image.columns[i]);
    if (len != slots) return bad(absl::StrCat("column '", spec.name, "' has the wrong length"));
    size_t want_validity = spec.nullable ? slots : 0;
    if (image.validity[i].size() != want_validity) {
      return bad(absl::StrCat("column '", spec.name, "' has a bad null bitmap"));
    }
  }
  // The live slots in slot order, found a word at a time; the rows most
  // indexes are built from.
  const std::vector<uint64_t>& live_words = image.live.words();
  size_t live = 0;
  for (uint64_t w : live_words) live += static_cast<size_t>(std::popcount(w));
  std::vector<uint32_t> live_slots;
  live_slots.reserve(live);
  for (size_t i = 0; i < live_words.size(); ++i) {
    for (uint64_t w = live_words[i]; w != 0; w &= w - 1) {
      live_slots.push_back(static_cast<uint32_t>(i * 64 + std::countr_zero(w)));
    }
  }
  std::vector<uint8_t> free_seen(image.free_slots.empty() ? 0 : slots, 0);
  for (uint32_t s : image.free_slots) {
    if (s >= slots || image.live.Get(s) || free_seen[s] != 0) return bad("corrupt free list");
    free_seen[s] = 1;
  }
  if (image.free_slots.size() + live != slots) return bad("free list does not cover dead slots");
  std::vector<std::vector<uint32_t>> index_order = std::move(image.index_order);
  if (!index_order.empty() && index_order.size() != n) return bad("index order count mismatch");
  index_order.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!index_order[i].empty() && (indexes_[i] == nullptr || indexes_[i]->unique())) {
      return bad(absl::StrCat("index order given for column '", schema_.columns()[i].name,
                              "', which has no secondary index"));
    }
  }
  columns_ = std::move(image.columns);
  BindIndexKeys();
  validity_ = std::move(image.validity);
  live_ = std::move(image.live);
  generations_ = std::move(image.generations);
  any_nonzero_generation_ =
      std::any_of(generations_.begin(), generations_.end(), [](uint32_t g) { return g != 0; });
  free_slots_ = std::move(image.free_slots);
  live_count_ = live;
  next_auto_increment_ = image.next_auto_increment;
  // Index by index, each in one bulk build (HashIndex::Build): a few
  // sequential passes over the column instead of a probe and a growing list
  // per row.
  std::vector<uint32_t> rows;
  for (size_t i = 0; i < n; ++i) {
    HashIndex* idx = indexes_[i].get();
    if (idx == nullptr) continue;
    ColumnId column(static_cast<uint32_t>(i));
    const std::string& column_name = schema_.columns()[i].name;
    std::span<const uint32_t> order = live_slots;
    if (!index_order[i].empty()) {
      // A secondary index in a given order: every live non-NULL row once.
      std::vector<uint8_t> seen(slots, 0);
      size_t expected = 0;
      for (uint32_t s : live_slots) expected += IsNull(RowId(s), column) ? 0 : 1;
      for (uint32_t s : index_order[i]) {
        if (s >= slots || !live_.Get(s) || seen[s] != 0 || IsNull(RowId(s), column)) {
          return bad(absl::StrCat("corrupt index order for column '", column_name, "'"));
        }
        seen[s] = 1;
      }
      if (index_order[i].size() != expected) {
        for (uint32_t s : live_slots) {
          if (seen[s] == 0 && !IsNull(RowId(s), column)) {
            return bad(absl::StrCat("index order for column '", column_name, "' misses slot ", s));
          }
        }
      }
      order = index_order[i];
    } else if (validity_[i].size() != 0) {
      rows.clear();
      for (uint32_t s : live_slots) {
        if (validity_[i].Get(s)) rows.push_back(s);
      }
      order = rows;
    }
    std::optional<RowId> duplicate = std::visit(
        [&](const auto& cells) -> std::optional<RowId> {
          using T = typename std::decay_t<decltype(cells)>::value_type;
          if constexpr (std::is_same_v<T, int64_t>) {
            return idx->Build(std::span<const T>(cells), order);
          } else if constexpr (std::is_same_v<T, std::string_view>) {
            return idx->Build(cells, order);
          } else {
            assert(false && "Table::Restore: an index on a column that is not int64 or string");
            return std::nullopt;
          }
        },
        columns_[i]);
    if (duplicate.has_value()) {
      return bad(absl::StrCat("duplicate key ", errors::Quote(GetValue(*duplicate, column)),
                              " in column '", column_name, "'"));
    }
  }
  for (auto& ordered : ordered_) {
    if (ordered != nullptr) ordered->Build(*this);
  }
  for (auto& composite : composites_) composite->Build();
  const ColumnSpec& pk = schema_.column(primary_key());
  if (pk.auto_increment) {
    for (int64_t key : Int64Column(primary_key())) {
      if (key >= next_auto_increment_) return bad("auto-increment counter behind the keys");
    }
  }
  return absl::OkStatus();
}

// --- introspection ---

std::string Table::CompositeName(const CompositeIndex& index) const {
  return absl::StrCat("(",
                      absl::StrJoin(index.columns(), ", ",
                                    [&](std::string* out, ColumnId c) {
                                      absl::StrAppend(out, schema_.column(c).name);
                                    }),
                      ")");
}

std::string Table::DebugString() const {
  std::string out = absl::StrCat("table ", name_, "\n");
  for (const ColumnSpec& c : schema_.columns()) {
    absl::StrAppend(
        &out, "  column ", c.name, " ", TypeName(c.type), c.nullable ? " null" : " not-null",
        c.primary_key ? " pk" : "", c.auto_increment ? " auto" : "", c.unique ? " unique" : "",
        index(*schema_.Find(c.name)) != nullptr ? " indexed" : "", c.ordered ? " ordered" : "",
        c.default_value ? absl::StrCat(" default=", c.default_value->DebugString()) : "", "\n");
  }
  absl::StrAppend(&out, "  slots=", slot_count(), " live=", live_count_,
                  " next_auto=", next_auto_increment_, " free=[", absl::StrJoin(free_slots_, ","),
                  "]\n");
  for (uint32_t s = 0; s < slot_count(); ++s) {
    absl::StrAppend(&out, "  slot ", s, " gen ", generations_[s]);
    if (live_.Get(s)) absl::StrAppend(&out, " ", GetRow(RowId(s)).DebugString());
    absl::StrAppend(&out, "\n");
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    if (indexes_[i] == nullptr) continue;
    absl::StrAppend(&out, "  index ", schema_.columns()[i].name, ":");
    indexes_[i]->ForEachSorted([&](const Value& key, std::span<const RowId> rows) {
      absl::StrAppend(
          &out, " ", key.DebugString(), "->[",
          absl::StrJoin(rows, ",", [](std::string* o, RowId r) { absl::StrAppend(o, r.value); }),
          "]");
    });
    absl::StrAppend(&out, "\n");
  }
  for (size_t i = 0; i < ordered_.size(); ++i) {
    if (ordered_[i] == nullptr) continue;
    absl::StrAppend(&out, "  ordered index ", schema_.columns()[i].name, ": ",
                    ordered_[i]->DebugString(), "\n");
  }
  for (const auto& c : composites_) {
    absl::StrAppend(&out, "  composite index ", CompositeName(*c), ": ", c->DebugString(), "\n");
  }
  return out;
}

void Table::WatchTouches() const {
  if (!touch_log_.empty()) return;
  touch_log_.assign(kTouchLog, 0);
  watch_start_ = touch_count_;
}

size_t Table::MemoryBytes() const {
  size_t bytes = live_.MemoryBytes() + generations_.capacity() * sizeof(uint32_t) +
                 free_slots_.capacity() * sizeof(uint32_t) + parent_links_.MemoryBytes() +
                 touch_log_.capacity() * sizeof(uint32_t);
  for (size_t i = 0; i < columns_.size(); ++i) {
    bytes += validity_[i].MemoryBytes();
    bytes += std::visit(
        [](const auto& vec) {
          using T = typename std::decay_t<decltype(vec)>::value_type;
          if constexpr (std::is_same_v<T, std::string_view>) {
            return vec.MemoryBytes();
          } else {
            return vec.capacity() * sizeof(T);
          }
        },
        columns_[i]);
    if (indexes_[i] != nullptr) bytes += indexes_[i]->MemoryBytes();
    if (ordered_[i] != nullptr) bytes += ordered_[i]->MemoryBytes();
  }
  for (const auto& c : composites_) bytes += c->MemoryBytes();
  return bytes;
}

absl::Status Table::CheckConsistency() const {
  size_t live = 0;
  for (uint32_t s = 0; s < slot_count(); ++s) live += live_.Get(s) ? 1 : 0;
  if (live != live_count_) return absl::InternalError(absl::StrCat(name_, ": live count"));
  for (size_t i = 0; i < indexes_.size(); ++i) {
    const HashIndex* idx = indexes_[i].get();
    if (idx == nullptr) continue;
    ColumnId column(static_cast<uint32_t>(i));
    absl::flat_hash_map<Value, std::vector<uint32_t>> expected;
    for (uint32_t s = 0; s < slot_count(); ++s) {
      if (live_.Get(s) && !IsNull(RowId(s), column)) {
        expected[GetValue(RowId(s), column)].push_back(s);
      }
    }
    size_t keys = 0;
    absl::Status status;
    idx->ForEachSorted([&](const Value& key, std::span<const RowId> rows) {
      ++keys;
      std::vector<uint32_t> got;
      for (RowId r : rows) got.push_back(r.value);
      std::sort(got.begin(), got.end());
      auto it = expected.find(key);
      // A lookup of the key must land on this very list (for string keys,
      // the stored hash and the key row are right).
      if (it == expected.end() || it->second != got || idx->Find(key).data() != rows.data()) {
        status = absl::InternalError(absl::StrCat(QualifiedName(name_, schema_.columns()[i].name),
                                                  ": index wrong for key ", key.DebugString()));
      }
    });
    if (!status.ok()) return status;
    if (keys != expected.size()) {
      return absl::InternalError(absl::StrCat(QualifiedName(name_, schema_.columns()[i].name),
                                              ": index has ", keys, " keys, data has ",
                                              expected.size()));
    }
  }
  for (size_t i = 0; i < ordered_.size(); ++i) {
    if (ordered_[i] == nullptr) continue;
    OrderedIndex fresh(ColumnId(static_cast<uint32_t>(i)), schema_.columns()[i].type);
    fresh.Build(*this);
    if (fresh.DebugString() != ordered_[i]->DebugString()) {
      return absl::InternalError(absl::StrCat(QualifiedName(name_, schema_.columns()[i].name),
                                              ": ordered index differs from the rows"));
    }
  }
  for (const auto& c : composites_) {
    CompositeIndex fresh(this, c->columns());
    fresh.Build();
    if (fresh.DebugString() != c->DebugString()) {
      return absl::InternalError(
          absl::StrCat(name_, ": composite index ", CompositeName(*c), " differs from the rows"));
    }
  }
  return absl::OkStatus();
}

}  // namespace kin
