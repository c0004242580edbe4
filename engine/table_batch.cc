// Table::InsertBatch and its undo: the columnar bulk path (see row_batch.h).

#include <algorithm>
#include <cassert>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "engine/errors.h"
#include "engine/large_buffer.h"
#include "engine/table.h"
#include "kin/row_batch.h"
#include "kin/status_macros.h"

namespace kin {

namespace {

absl::string_view SlotTypeName(size_t slot) {
  static constexpr absl::string_view kNames[] = {"int64", "double", "bool", "string"};
  return kNames[slot];
}

size_t Length(const ColumnValues& data) {
  return std::visit([](const auto& v) { return v.size(); }, data);
}

// Checks one unique column's new keys against the index and each other.
template <typename T>
absl::Status CheckUnique(const Table& table, const ColumnSpec& spec, const HashIndex& index,
                         const std::vector<T>& keys, const std::vector<bool>& nulls) {
  absl::flat_hash_set<T> seen;
  seen.reserve(keys.size());
  for (size_t r = 0; r < keys.size(); ++r) {
    if (!nulls.empty() && nulls[r]) continue;
    const T& key = keys[r];
    bool taken;
    if constexpr (std::is_same_v<T, std::string>) {
      taken = !index.Find(absl::string_view(key)).empty();
    } else {
      taken = !index.Find(key).empty();
    }
    if (taken || !seen.insert(key).second) {
      return errors::DuplicateKey(table.name(), spec.name, Value(key));
    }
  }
  return absl::OkStatus();
}

// Appends a batch's string column (or, with `given` null, `rows` copies of
// the column's default) to `store`. Each given string's buffer is freed once
// copied, so the batch and the table never both hold all the bytes.
void AppendStrings(StringStore& store, std::vector<std::string>* given, const ColumnSpec& spec,
                   size_t rows) {
  if (given == nullptr) {
    std::string_view fill;
    if (spec.default_value.has_value() && !spec.default_value->is_null()) {
      fill = spec.default_value->AsString();
    }
    store.reserve(store.size() + rows, rows * StringStore::BlobBytesFor(fill.size()));
    for (size_t r = 0; r < rows; ++r) store.push_back(fill);
    return;
  }
  std::vector<std::string>& src = *given;
  size_t bytes = 0;
  for (const std::string& s : src) bytes += StringStore::BlobBytesFor(s.size());
  store.reserve(store.size() + src.size(), bytes);
  for (std::string& s : src) {
    store.push_back(s);
    std::string().swap(s);
  }
  std::vector<std::string>().swap(src);
}

}  // namespace

absl::StatusOr<size_t> Table::InsertBatch(RowBatch batch, internal::UndoLog* log) {
  ++write_version_;  // conservative: also on a refused batch or load
  ++rows_version_;
  TouchAll();
  const size_t n_cols = schema_.size();
  std::vector<RowBatch::Column*> given(n_cols, nullptr);
  size_t rows = 0;
  bool first = true;
  for (RowBatch::Column& c : batch.columns_) {
    std::optional<ColumnId> id = schema_.Find(c.name);
    if (!id.has_value()) return errors::UnknownColumn(name_, c.name);
    if (given[id->value] != nullptr) return errors::DuplicateAttribute(name_, c.name);
    const ColumnSpec& spec = schema_.column(*id);
    if (spec.type == Type::kDouble && c.data.index() == ColumnDataIndex(Type::kInt64)) {
      const auto& ints = std::get<std::vector<int64_t>>(c.data);
      c.data = std::vector<double>(ints.begin(), ints.end());
    }
    if (c.data.index() != ColumnDataIndex(spec.type)) {
      return absl::InvalidArgumentError(absl::StrCat(QualifiedName(name_, c.name), ": expected ",
                                                     TypeName(spec.type), " values, got ",
                                                     SlotTypeName(c.data.index())));
    }
    size_t len = Length(c.data);
    if (first) {
      rows = len;
      first = false;
    } else if (len != rows) {
      return absl::InvalidArgumentError(absl::StrCat("table '", name_, "': batch column '", c.name,
                                                     "' has ", len, " values, expected ", rows));
    }
    if (!c.nulls.empty()) {
      if (c.nulls.size() != len) {
        return absl::InvalidArgumentError(absl::StrCat(QualifiedName(name_, c.name), ": ",
                                                       c.nulls.size(), " NULL flags for ", len,
                                                       " values"));
      }
      if (!spec.nullable && std::find(c.nulls.begin(), c.nulls.end(), true) != c.nulls.end()) {
        return errors::NullNotAllowed(name_, c.name);
      }
    }
    given[id->value] = &c;
  }
  for (const std::string& column : batch.null_columns_) {
    std::optional<ColumnId> id = schema_.Find(column);
    if (!id.has_value() || given[id->value] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("table '", name_, "': Nulls() for column '",
                                                     column,
                                                     "', which the batch has no values for"));
    }
  }
  if (rows == 0) return 0;
  for (size_t i = 0; i < n_cols; ++i) {
    const ColumnSpec& spec = schema_.columns()[i];
    if (given[i] == nullptr && !spec.auto_increment && !spec.default_value.has_value() &&
        !spec.nullable) {
      return errors::MissingValue(name_, spec.name);
    }
  }
  if (slot_count() + rows > std::numeric_limits<uint32_t>::max() - 1) {
    return absl::ResourceExhaustedError(absl::StrCat("table '", name_, "': too many rows"));
  }
  const ColumnSpec& pk_spec = schema_.column(primary_key());
  if (pk_spec.auto_increment && given[primary_key().value] == nullptr &&
      next_auto_increment_ > std::numeric_limits<int64_t>::max() - static_cast<int64_t>(rows)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(QualifiedName(name_, pk_spec.name), ": auto-increment exhausted"));
  }
  for (size_t i = 0; i < n_cols; ++i) {
    const HashIndex* idx = indexes_[i].get();
    if (idx == nullptr || !idx->unique() || given[i] == nullptr) continue;
    const RowBatch::Column& c = *given[i];
    const ColumnSpec& spec = schema_.columns()[i];
    if (c.data.index() == ColumnDataIndex(Type::kInt64)) {
      KIN_RETURN_IF_ERROR(
          CheckUnique(*this, spec, *idx, std::get<std::vector<int64_t>>(c.data), c.nulls));
    } else {
      KIN_RETURN_IF_ERROR(
          CheckUnique(*this, spec, *idx, std::get<std::vector<std::string>>(c.data), c.nulls));
    }
  }

  // Validated: from here nothing fails.
  const uint32_t first_slot = static_cast<uint32_t>(slot_count());
  const int64_t auto_before = next_auto_increment_;
  for (size_t i = 0; i < n_cols; ++i) {
    const ColumnSpec& spec = schema_.columns()[i];
    RowBatch::Column* c = given[i];
    std::visit(
        [&](auto& vec) {
          using T = typename std::decay_t<decltype(vec)>::value_type;
          if constexpr (std::is_same_v<T, std::string_view>) {
            AppendStrings(vec,
                          c == nullptr ? nullptr : &std::get<std::vector<std::string>>(c->data),
                          spec, rows);
            return;
          } else {
            if (c != nullptr) {
              auto& src = std::get<std::vector<T>>(c->data);
              if (vec.empty()) {
                // The first rows of the table: adopt the caller's vector, so
                // a bulk load never holds its data twice (the batch was
                // moved in; its old buffer is freed with it).
                vec.swap(src);
                return;
              }
              GrowLarge(vec, vec.size() + src.size(), HugePages::kNo);
              vec.insert(vec.end(), std::make_move_iterator(src.begin()),
                         std::make_move_iterator(src.end()));
              return;
            }
            if constexpr (std::is_same_v<T, int64_t>) {
              if (spec.auto_increment) {
                GrowLarge(vec, vec.size() + rows, HugePages::kNo);
                for (size_t r = 0; r < rows; ++r) {
                  vec.push_back(next_auto_increment_ + static_cast<int64_t>(r));
                }
                return;
              }
            }
            T fill{};
            if (spec.default_value.has_value() && !spec.default_value->is_null()) {
              const Value& d = *spec.default_value;
              if constexpr (std::is_same_v<T, int64_t>) fill = d.AsInt64();
              if constexpr (std::is_same_v<T, double>) fill = d.AsNumber();
              if constexpr (std::is_same_v<T, uint8_t>) fill = d.AsBool() ? 1 : 0;
            }
            GrowLarge(vec, vec.size() + rows, HugePages::kNo);
            vec.insert(vec.end(), rows, fill);
          }
        },
        columns_[i]);
    if (spec.nullable) {
      Bitmap& valid = validity_[i];
      valid.Reserve(first_slot + rows);
      bool present =
          c != nullptr || (spec.default_value.has_value() && !spec.default_value->is_null());
      for (size_t r = 0; r < rows; ++r) {
        valid.PushBack(present && (c == nullptr || c->nulls.empty() || !c->nulls[r]));
      }
    }
  }
  live_.Reserve(first_slot + rows);
  GrowLarge(generations_, first_slot + rows, HugePages::kNo);
  for (size_t r = 0; r < rows; ++r) {
    uint32_t slot = first_slot + static_cast<uint32_t>(r);
    live_.PushBack(true);
    const uint32_t generation = slot < min_generations_.size() ? min_generations_[slot] : 0;
    if (generation != 0) any_nonzero_generation_ = true;
    generations_.push_back(generation);
  }
  live_count_ += rows;
  if (pk_spec.auto_increment) {
    if (given[primary_key().value] == nullptr) {
      next_auto_increment_ += static_cast<int64_t>(rows);
    } else {
      for (int64_t key : Int64Column(primary_key()).subspan(first_slot)) {
        if (key >= next_auto_increment_ && key < std::numeric_limits<int64_t>::max()) {
          next_auto_increment_ = key + 1;
        }
      }
    }
  }
  for (size_t i = 0; i < n_cols; ++i) {
    HashIndex* idx = indexes_[i].get();
    if (idx == nullptr) continue;
    ColumnId column(static_cast<uint32_t>(i));
    if (idx->num_keys() == 0) {
      // Into an empty index: one bulk build over the batch's rows, which
      // also picks the layout from the final key set.
      BuildIndexFromBatch(*idx, column, first_slot, rows);
      continue;
    }
    if (idx->unique()) idx->Reserve(idx->num_keys() + rows);
    for (uint32_t slot = first_slot; slot < first_slot + rows; ++slot) {
      if (!IsNull(RowId(slot), column)) idx->Add(GetValue(RowId(slot), column), RowId(slot));
    }
  }
  DensifyIndexes(rows);
  for (size_t i = 0; i < n_cols && any_ordered_; ++i) {
    OrderedIndex* ordered = ordered_[i].get();
    if (ordered == nullptr) continue;
    if (ordered->size() == 0) {
      // Bulk: one sort and in-order appends rather than a descent per row.
      ordered->Build(*this);
    } else {
      for (uint32_t slot = first_slot; slot < first_slot + rows; ++slot) {
        ordered->Insert(*this, RowId(slot));
      }
    }
  }
  for (const auto& composite : composites_) {
    if (composite->size() == 0) {
      composite->Build();  // bulk, as the ordered indexes above
    } else {
      for (uint32_t slot = first_slot; slot < first_slot + rows; ++slot) {
        composite->Insert(RowId(slot));
      }
    }
  }
  if (log != nullptr) {
    internal::UndoEntry e;
    e.kind = internal::UndoEntry::Kind::kBatch;
    e.table = this;
    e.row = RowId(first_slot);
    e.batch_size = static_cast<uint32_t>(rows);
    e.next_auto_increment = auto_before;
    log->push_back(std::move(e));
  }
  return rows;
}

void Table::BuildIndexFromBatch(HashIndex& index, ColumnId column, uint32_t first_slot,
                                size_t rows) {
  std::vector<uint32_t> slots;
  slots.reserve(rows);
  for (uint32_t slot = first_slot; slot < first_slot + rows; ++slot) {
    if (!IsNull(RowId(slot), column)) slots.push_back(slot);
  }
  std::visit(
      [&](const auto& cells) {
        using T = typename std::decay_t<decltype(cells)>::value_type;
        if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, std::string_view>) {
          // Keys were checked unique above: no duplicate to report.
          [[maybe_unused]] std::optional<RowId> duplicate = index.Build(cells, slots);
          assert(!duplicate.has_value() && "Table::InsertBatch: duplicate key after the check");
        }
      },
      columns_[column.value]);
}

void Table::DensifyIndexes(size_t added_rows) {
  for (const std::unique_ptr<HashIndex>& idx : indexes_) {
    if (idx != nullptr && !idx->dense() && 4 * added_rows >= idx->num_keys()) {
      idx->DensifyIfCompact();
    }
  }
}

void Table::UndoBatch(const internal::UndoEntry& e) {
  ++write_version_;
  ++rows_version_;
  TouchAll();
  const uint32_t first = e.row.value;
  const uint32_t end = first + e.batch_size;
  // The batch's rows sit at the end of every index list (later writes were
  // undone first), so removing them back to front is O(1) each.
  for (uint32_t slot = end; slot-- > first;) {
    CompositeEraseRow(RowId(slot));
    for (size_t i = 0; i < indexes_.size(); ++i) {
      ColumnId column(static_cast<uint32_t>(i));
      if (indexes_[i] != nullptr && !IsNull(RowId(slot), column)) {
        indexes_[i]->Remove(GetValue(RowId(slot), column), RowId(slot));
      }
      OrderedErase(RowId(slot), column);
    }
  }
  if (min_generations_.size() < end) min_generations_.resize(end, 0);
  for (uint32_t slot = first; slot < end; ++slot) {
    min_generations_[slot] = std::max(min_generations_[slot], generations_[slot] + 1);
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::visit([&](auto& vec) { vec.resize(first); }, columns_[i]);
    while (validity_[i].size() > first) validity_[i].PopBack();
  }
  while (live_.size() > first) live_.PopBack();
  generations_.resize(first);
  live_count_ -= e.batch_size;
  next_auto_increment_ = e.next_auto_increment;
}

}  // namespace kin
