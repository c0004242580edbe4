#include "query/internal/relation_errors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kin::errors {

absl::Status NoRelationCatalog(absl::string_view table, absl::string_view method) {
  return absl::FailedPreconditionError(
      absl::StrCat("query on '", table, "': ", method,
                   " needs the relations of a Database (build the query with Database::Query)"));
}

absl::Status GroupOutsidePreload(absl::string_view where, absl::string_view method,
                                 absl::string_view relation) {
  absl::string_view plain = method == "GroupLimit" ? "Limit" : "OrderBy";
  absl::string_view arg = method == "GroupLimit" ? "n" : "column";
  return absl::FailedPreconditionError(absl::StrCat(
      where, ": ", method, " is only allowed inside a Preload callback; use ", plain,
      " on a related query (db.Related(row, \"", relation, "\").Query().", plain, "(", arg, "))"));
}

absl::Status LimitInPreload(absl::string_view qualified_relation) {
  return absl::FailedPreconditionError(
      absl::StrCat("Preload on '", qualified_relation,
                   "': Limit inside a Preload callback would cap the rows of all parents "
                   "together; use GroupLimit(n) for n rows per parent"));
}

absl::Status OffsetInPreload(absl::string_view qualified_relation, absl::string_view relation) {
  return absl::FailedPreconditionError(
      absl::StrCat("Preload on '", qualified_relation,
                   "': Offset is not allowed inside a Preload callback; use GroupLimit with "
                   "GroupOrderBy, or Offset on db.Related(row, \"",
                   relation, "\").Query()"));
}

absl::Status RunInCallback(absl::string_view method, absl::string_view kind, absl::string_view of,
                           absl::string_view relation) {
  const absl::string_view article = kind == "on_query" ? "an" : "a";
  std::string hint;
  if (method == "Paginate" && kind == "Preload") {
    hint = absl::StrCat("; query the parent, then db.Related(parent, \"", relation,
                        "\").Query().Paginate(page, per_page)");
  }
  return absl::FailedPreconditionError(
      absl::StrCat(method, " is not allowed in ", article, " ", kind, " callback of ", of,
                   ": a callback only records a query, which runs as part of the query that "
                   "owns it",
                   hint));
}

absl::Status NotAllowedInCallback(absl::string_view use, absl::string_view qualified_relation,
                                  absl::string_view what, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(use, " on '", qualified_relation, "': ", what,
                                                    " is not allowed in a ", use, " callback (",
                                                    why, ")"));
}

absl::Status AggregateNeedsAlias(absl::string_view qualified_relation) {
  return absl::InvalidArgumentError(
      absl::StrCat("WithAggregate on '", qualified_relation, "' needs As(alias)"));
}

absl::Status AggregateMissing(absl::string_view qualified_relation) {
  return absl::InvalidArgumentError(absl::StrCat("WithAggregate on '", qualified_relation,
                                                 "' needs an aggregate: Count, Sum, Avg, Min "
                                                 "or Max"));
}

absl::Status DuplicatePreload(absl::string_view table, absl::string_view relation) {
  return absl::InvalidArgumentError(
      absl::StrCat("query on '", table, "': relation '", relation, "' is preloaded twice"));
}

absl::Status DuplicateExtra(absl::string_view table, absl::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat("query on '", table, "': extra '", name,
                                                 "' is loaded twice (name each with As)"));
}

absl::Status SelectNeedsGet(absl::string_view table, absl::string_view method) {
  return absl::InvalidArgumentError(
      absl::StrCat("query on '", table, "': ", method,
                   " returns a bare row, which reads every column; with Select use "
                   "Limit(1).Get()"));
}

absl::Status NotSelected(const Table& table, absl::string_view column,
                         const std::vector<uint8_t>& selected) {
  std::vector<absl::string_view> names;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (selected[i] != 0) names.push_back(table.column(ColumnId(static_cast<uint32_t>(i))).name);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("table '", table.name(), "': column '", column,
                   "' was not selected (selected: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status LoadsNeedGet(absl::string_view table, absl::string_view method) {
  return absl::InvalidArgumentError(
      absl::StrCat("query on '", table, "': ", method,
                   " returns a bare row without preloads or extras; use Limit(1).Get()"));
}

absl::Status PivotOutsideRelation(absl::string_view table, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("query on '", table, "': ", what,
                   " needs the related query of a ManyToMany (a Preload, WhereHas, WithCount "
                   "or WithAggregate callback); for one parent's links use db.Related(row, "
                   "relation).QueryWherePivot"));
}

absl::Status PivotNotManyToMany(absl::string_view use, absl::string_view qualified_relation,
                                absl::string_view kind, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(use, " on '", qualified_relation, "': ", what,
                                                 " needs a ManyToMany, and ", qualified_relation,
                                                 " is a ", kind, " (it has no pivot row)"));
}

absl::Status InPivot(const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("pivot: ", status.message()));
}

absl::Status InRelatedQuery(absl::string_view use, absl::string_view qualified_relation,
                            const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(use, " on '", qualified_relation, "': ", status.message()));
}

}  // namespace kin::errors
