#include "kin/result_set.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/port.h"
#include "engine/string_view.h"
#include "engine/table.h"
#include "kin/status_macros.h"
#include "query/internal/relation_errors.h"
#include "query/row_set.h"

namespace kin {

namespace {

// Appends a handle per id to `rows`, each pointing at `set` (may be null).
void AppendRows(const Table& table, std::span<const RowId> ids, const internal::RowSetData* set,
                std::vector<ResultRow>& rows) {
  rows.reserve(ids.size());
  // Children of many parents are scattered over the table: fetch their
  // generations a few rows ahead so the misses overlap. While no slot was
  // ever reused, generation() reads nothing and there is nothing to fetch.
  const bool prefetch = !table.all_generations_zero();
  const uint32_t* generations = table.generations().data();
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (prefetch && i + kAhead < ids.size()) {
      KIN_PREFETCH(generations + ids[i + kAhead].value);
    }
    rows.emplace_back(&table, ids[i], table.generation(ids[i]), set, static_cast<uint32_t>(i));
  }
}

}  // namespace

std::unique_ptr<internal::RowSetData> ResultSet::MakeData(const Table& table,
                                                          std::span<const RowId> ids,
                                                          const internal::RowSetData& parent) {
  auto data = std::make_unique<internal::RowSetData>();
  data->root = parent.root;
  AppendRows(table, ids, data.get(), data->rows);
  return data;
}

ResultSet ResultSet::FromRowIds(const Table& table, std::span<const RowId> ids) {
  ResultSet out;
  out.table_ = &table;
  out.root_ = new internal::RowSetRoot;
  out.root_->data = std::make_unique<internal::RowSetData>();
  out.root_->data->root = out.root_;
  out.rows_ = &out.root_->data->rows;
  AppendRows(table, ids, out.root_->data.get(), out.root_->data->rows);
  return out;
}

ResultSet ResultSet::Plain(const Table& table, std::span<const RowId> ids) {
  ResultSet out;
  out.table_ = &table;
  AppendRows(table, ids, nullptr, out.plain_);
  return out;
}

void ResultRow::Hold() {
  holds_ = set_ != nullptr && set_->root != nullptr;
  if (holds_) set_->root->Ref();
}

void ResultRow::ReleaseHeld() {
  set_->root->Unref();
  holds_ = false;
}

void ResultSet::Unref() {
  if (root_ != nullptr) root_->Unref();
}

internal::RowSetData& ResultSet::data() { return *root_->data; }
const internal::RowSetData& ResultSet::data() const { return *root_->data; }

std::vector<RowId> ResultSet::row_ids() const {
  std::vector<RowId> ids;
  ids.reserve(size());
  for (const Row& r : *this) ids.push_back(r.id());
  return ids;
}

absl::StatusOr<ExtraColumn> ResultSet::Extras(std::string_view extra_name) const {
  const absl::string_view name = internal::ToAbsl(extra_name);
  if (root_ != nullptr) {
    for (const internal::RowSetData::Extra& e : root_->data->extras) {
      if (e.name == name) return ExtraColumn(&e.name, e.unboxed, e.values, e.ints, e.nulls);
    }
  }
  return absl::NotFoundError(absl::StrCat("no extra named '", name, "' on this result"));
}

std::string ResultSet::DebugString() const {
  std::string out;
  for (const Row& r : *this) absl::StrAppend(&out, r.DebugString(), "\n");
  return out;
}

absl::StatusOr<std::span<const ResultRow>> ResultRow::Preloaded(
    std::string_view relation_name) const {
  const absl::string_view relation = internal::ToAbsl(relation_name);
  if (set_ != nullptr) {
    for (const internal::RowSetData::Preload& p : set_->preloads) {
      if (p.name != relation) continue;
      const std::vector<ResultRow>& kids = p.children->rows;
      return std::span<const ResultRow>(kids.data() + p.offsets[index_],
                                        p.offsets[index_ + 1] - p.offsets[index_]);
    }
  }
  return absl::NotFoundError(absl::StrCat("relation '", relation, "' was not preloaded on '",
                                          table() == nullptr ? "" : table()->name(), "'"));
}

absl::StatusOr<ExtraColumn> ResultRow::PreloadedExtras(std::string_view relation_name,
                                                       std::string_view extra_name) const {
  const absl::string_view relation = internal::ToAbsl(relation_name);
  const absl::string_view name = internal::ToAbsl(extra_name);
  if (set_ != nullptr) {
    for (const internal::RowSetData::Preload& p : set_->preloads) {
      if (p.name != relation) continue;
      const size_t from = p.offsets[index_];
      const size_t n = p.offsets[index_ + 1] - from;
      for (const internal::RowSetData::Extra& e : p.children->extras) {
        if (e.name != name) continue;
        auto part = [&](const auto& all) {
          return all.empty() ? std::span(all.data(), 0) : std::span(all.data() + from, n);
        };
        return ExtraColumn(&e.name, e.unboxed, part(e.values), part(e.ints), part(e.nulls));
      }
      return absl::NotFoundError(absl::StrCat("no extra named '", name, "' on the rows of '",
                                              relation, "' preloaded on '",
                                              table() == nullptr ? "" : table()->name(), "'"));
    }
  }
  return absl::NotFoundError(absl::StrCat("relation '", relation, "' was not preloaded on '",
                                          table() == nullptr ? "" : table()->name(), "'"));
}

absl::Status ResultRow::CheckSelected(std::string_view column_name) const {
  const absl::string_view column = internal::ToAbsl(column_name);
  if (set_ == nullptr || set_->selected.empty() || table() == nullptr) return absl::OkStatus();
  std::optional<ColumnId> c = table()->FindColumn(column);
  if (!c.has_value() || c->value >= set_->selected.size() || set_->selected[c->value] != 0) {
    return absl::OkStatus();
  }
  return errors::NotSelected(*table(), column, set_->selected);
}

absl::StatusOr<Value> ResultRow::Get(std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckSelected(column));
  return Row::Get(column);
}
absl::StatusOr<int64_t> ResultRow::GetInt64(std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckSelected(column));
  return Row::GetInt64(column);
}
absl::StatusOr<double> ResultRow::GetDouble(std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckSelected(column));
  return Row::GetDouble(column);
}
absl::StatusOr<bool> ResultRow::GetBool(std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckSelected(column));
  return Row::GetBool(column);
}
absl::StatusOr<std::string_view> ResultRow::GetString(std::string_view column) const {
  KIN_RETURN_IF_ERROR(CheckSelected(column));
  return Row::GetString(column);
}

absl::StatusOr<Value> ResultRow::Extra(std::string_view extra_name) const {
  const absl::string_view name = internal::ToAbsl(extra_name);
  if (set_ != nullptr) {
    for (const internal::RowSetData::Extra& e : set_->extras) {
      if (e.name == name) return e.Get(index_);
    }
  }
  return absl::NotFoundError(absl::StrCat("no extra named '", name, "' on this row"));
}

std::string PageMeta::DebugString() const {
  return absl::StrCat("{total: ", total, ", per_page: ", per_page, ", current_page: ", current_page,
                      ", first_page: ", first_page, ", last_page: ", last_page,
                      ", has_pages: ", has_pages ? "true" : "false",
                      ", has_more_pages: ", has_more_pages ? "true" : "false",
                      ", is_empty: ", is_empty ? "true" : "false", "}");
}

}  // namespace kin
