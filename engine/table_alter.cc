// Table's schema changes (Engine::AddColumn ... in engine/alter.cc checks
// every precondition first, so these only apply), and the backups that make
// a migration all or nothing.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "engine/table.h"

namespace kin {

struct Table::Backup {
  std::string name;
  Schema schema;
  uint32_t layout_version;
  std::vector<TableImage::ColumnData> columns;
  std::vector<Bitmap> validity;
  Bitmap live;
  std::vector<uint32_t> generations;
  std::vector<uint32_t> free_slots;
  bool any_nonzero_generation;
  std::vector<std::unique_ptr<HashIndex>> indexes;
  std::vector<std::unique_ptr<OrderedIndex>> ordered;
  size_t live_count;
  int64_t next_auto_increment;
};

namespace {

// A column of `type`, `slots` long, holding `value` in the live slots and
// zero / empty in the dead ones (as Delete leaves them).
TableImage::ColumnData FilledColumn(Type type, const Bitmap& live, const Value& value) {
  const size_t slots = live.size();
  auto fill = [&](auto zero, auto cell) {
    std::vector<decltype(zero)> out(slots, zero);
    if (value.is_null()) return TableImage::ColumnData(std::move(out));
    for (size_t s = 0; s < slots; ++s) {
      if (live.Get(s)) out[s] = cell;
    }
    return TableImage::ColumnData(std::move(out));
  };
  switch (type) {
    case Type::kInt64:
      return fill(int64_t{0}, value.is_null() ? 0 : value.AsInt64());
    case Type::kDouble:
      return fill(0.0, value.is_null() ? 0.0 : value.AsNumber());
    case Type::kBool:
      return fill(uint8_t{0}, static_cast<uint8_t>(!value.is_null() && value.AsBool() ? 1 : 0));
    case Type::kString: {
      StringStore out(slots);
      if (value.is_null()) return TableImage::ColumnData(std::move(out));
      for (size_t s = 0; s < slots; ++s) {
        if (live.Get(s)) out.Set(s, value.AsString());
      }
      return TableImage::ColumnData(std::move(out));
    }
  }
  return std::vector<int64_t>();
}

// `schema` without composite indexes, with `specs` as its columns.
Schema SchemaOf(std::vector<ColumnSpec> specs) {
  Schema out;
  for (ColumnSpec& spec : specs) out.Column(std::move(spec));
  return out;
}

}  // namespace

void Table::SchemaChanged(std::vector<std::vector<ColumnId>> composites) {
  ++index_version_;
  BindIndexKeys();
  for (std::vector<ColumnId>& c : composites) schema_.AddCompositeIndex(std::move(c));
  in_composite_.assign(schema_.size(), 0);
  // Composite indexes compare cells by column id: rebuilt, O(n log n) each,
  // which only a drop of an earlier column or a rollback needs.
  composites_.clear();
  for (const std::vector<ColumnId>& columns : schema_.composite_indexes()) {
    auto index = std::make_unique<CompositeIndex>(this, columns);
    index->Build();
    composites_.push_back(std::move(index));
    for (ColumnId c : columns) in_composite_[c.value] = 1;
  }
  any_ordered_ = false;
  for (const auto& o : ordered_) any_ordered_ = any_ordered_ || o != nullptr;
  BuildNameKeys();
  ++write_version_;
  // Caches over the rows and keys (ParentLinks) may name columns by an id
  // that moved, or cells that were restored: all start over.
  ++rows_version_;
  TouchAll();
  column_versions_.resize(schema_.size());
  for (uint64_t& v : column_versions_) ++v;
  parent_links_.Clear();
}

void Table::AddColumn(ColumnSpec spec) {
  const Value fill = spec.default_value.value_or(Value());
  const ColumnId id(static_cast<uint32_t>(schema_.size()));
  columns_.push_back(FilledColumn(spec.type, live_, fill));
  Bitmap valid;
  if (spec.nullable) {
    valid.Reserve(slot_count());
    for (size_t s = 0; s < slot_count(); ++s) valid.PushBack(!fill.is_null() && live_.Get(s));
  }
  validity_.push_back(std::move(valid));
  indexes_.emplace_back();
  ordered_.emplace_back();
  const bool unique = spec.unique, indexed = spec.indexed, ordered = spec.ordered;
  spec.indexed = spec.ordered = false;  // set again by the Ensure calls below
  std::vector<ColumnSpec> specs = schema_.columns();
  specs.push_back(std::move(spec));
  std::vector<std::vector<ColumnId>> composites = schema_.composite_indexes();
  schema_ = SchemaOf(std::move(specs));
  if (unique) {
    // Empty: a unique column cannot have a default (Schema::Validate), so
    // the rows there hold NULL, which no index lists.
    indexes_[id.value] = std::make_unique<HashIndex>(schema_.column(id).type, /*unique=*/true);
  }
  SchemaChanged(std::move(composites));
  if (indexed && !unique) EnsureIndex(id);
  if (ordered) EnsureOrderedIndex(id);
}

void Table::DropColumn(ColumnId column) {
  const size_t i = column.value;
  columns_.erase(columns_.begin() + i);
  validity_.erase(validity_.begin() + i);
  indexes_.erase(indexes_.begin() + i);
  ordered_.erase(ordered_.begin() + i);
  for (size_t j = i; j < ordered_.size(); ++j) {
    if (ordered_[j] != nullptr) ordered_[j]->set_column(ColumnId(static_cast<uint32_t>(j)));
  }
  std::vector<ColumnSpec> specs = schema_.columns();
  specs.erase(specs.begin() + i);
  std::vector<std::vector<ColumnId>> composites = schema_.composite_indexes();
  for (std::vector<ColumnId>& c : composites) {
    for (ColumnId& id : c) {
      if (id.value > i) --id.value;
    }
  }
  schema_ = SchemaOf(std::move(specs));
  SchemaChanged(std::move(composites));
  layout_version_ = ++last_layout_version_;
}

void Table::EditColumn(ColumnId column, absl::FunctionRef<void(ColumnSpec&)> edit) {
  std::vector<ColumnSpec> specs = schema_.columns();
  edit(specs[column.value]);
  std::vector<std::vector<ColumnId>> composites = schema_.composite_indexes();
  schema_ = SchemaOf(std::move(specs));
  SchemaChanged(std::move(composites));
}

void Table::RenameColumn(ColumnId column, std::string name) {
  EditColumn(column, [&](ColumnSpec& spec) { spec.name = std::move(name); });
}

void Table::SetDefault(ColumnId column, std::optional<Value> value) {
  EditColumn(column, [&](ColumnSpec& spec) { spec.default_value = std::move(value); });
}

void Table::ChangeType(ColumnId column, Type type, TableImage::ColumnData cells,
                       std::optional<Value> default_value, std::unique_ptr<HashIndex> index) {
  columns_[column.value] = std::move(cells);
  indexes_[column.value] = std::move(index);
  EditColumn(column, [&](ColumnSpec& spec) {
    spec.type = type;
    spec.default_value = std::move(default_value);
  });
  if (ordered_[column.value] != nullptr) {
    ordered_[column.value] = std::make_unique<OrderedIndex>(column, type);
    ordered_[column.value]->Build(*this);
  }
  // A typed handle reads the cells as its compiled type.
  layout_version_ = ++last_layout_version_;
}

void Table::SetNullable(ColumnId column, bool nullable) {
  Bitmap& valid = validity_[column.value];
  if (nullable && valid.size() == 0) {
    valid.Reserve(slot_count());
    for (size_t s = 0; s < slot_count(); ++s) valid.PushBack(live_.Get(s));
  } else if (!nullable) {
    valid = Bitmap();
  }
  EditColumn(column, [&](ColumnSpec& spec) { spec.nullable = nullable; });
}

void Table::DropHashIndex(ColumnId column) {
  ++index_version_;
  indexes_[column.value].reset();
  EditColumn(column, [](ColumnSpec& spec) { spec.indexed = false; });
}

void Table::DropOrderedIndex(ColumnId column) {
  ++index_version_;
  ordered_[column.value].reset();
  EditColumn(column, [](ColumnSpec& spec) { spec.ordered = false; });
}

void Table::DropCompositeIndex(const CompositeIndex* index) {
  std::vector<std::vector<ColumnId>> composites = schema_.composite_indexes();
  std::erase(composites, index->columns());
  schema_ = SchemaOf(schema_.columns());
  SchemaChanged(std::move(composites));
}

void Table::Rename(std::string name) {
  name_ = std::move(name);
  ++write_version_;
}

std::shared_ptr<Table::Backup> Table::TakeBackup() const {
  auto b = std::make_shared<Backup>(Backup{
      .name = name_,
      .schema = schema_,
      .layout_version = layout_version_,
      .columns = columns_,
      .validity = validity_,
      .live = live_,
      .generations = generations_,
      .free_slots = free_slots_,
      .any_nonzero_generation = any_nonzero_generation_,
      .indexes = {},
      .ordered = {},
      .live_count = live_count_,
      .next_auto_increment = next_auto_increment_,
  });
  for (const auto& index : indexes_) {
    b->indexes.push_back(index == nullptr ? nullptr : std::make_unique<HashIndex>(*index));
  }
  for (const auto& index : ordered_) {
    b->ordered.push_back(index == nullptr ? nullptr : std::make_unique<OrderedIndex>(*index));
  }
  return b;
}

void Table::RestoreBackup(Backup& backup) {
  const bool same_layout =
      layout_version_ == backup.layout_version && schema_.size() == backup.schema.size();
  name_ = std::move(backup.name);
  columns_ = std::move(backup.columns);
  validity_ = std::move(backup.validity);
  // Handles to rows the migration inserted (or replaced) must stay stale
  // once their slots are taken again: raise those slots' floors, as undoing
  // an insert does.
  for (size_t s = 0; s < slot_count(); ++s) {
    const bool same = s < backup.live.size() && live_.Get(s) == backup.live.Get(s) &&
                      generations_[s] == backup.generations[s];
    if (same || !live_.Get(s)) continue;
    if (min_generations_.size() <= s) min_generations_.resize(s + 1, 0);
    min_generations_[s] = std::max(min_generations_[s], generations_[s] + 1);
  }
  live_ = std::move(backup.live);
  generations_ = std::move(backup.generations);
  free_slots_ = std::move(backup.free_slots);
  any_nonzero_generation_ = any_nonzero_generation_ || backup.any_nonzero_generation;
  indexes_ = std::move(backup.indexes);
  ordered_ = std::move(backup.ordered);
  live_count_ = backup.live_count;
  next_auto_increment_ = backup.next_auto_increment;
  std::vector<std::vector<ColumnId>> composites = backup.schema.composite_indexes();
  schema_ = SchemaOf(backup.schema.columns());
  SchemaChanged(std::move(composites));
  // Handles to a column the migration added must not read the column that
  // the next AddColumn puts at that id.
  if (!same_layout) layout_version_ = ++last_layout_version_;
}

}  // namespace kin
