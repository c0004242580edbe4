// Error wording of the relation-aware queries (Preload, Has / WhereHas,
// WithCount / WithAggregate), in one place so messages stay uniform and
// tests can match substrings. Same rules as engine/errors.h: lowercase, no
// trailing period, naming the table, relation and argument involved.

#ifndef KIN_QUERY_INTERNAL_RELATION_ERRORS_H_
#define KIN_QUERY_INTERNAL_RELATION_ERRORS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/table.h"

namespace kin::errors {

// FailedPrecondition: "query on 'users': Preload needs the relations of a
// Database (build the query with Database::Query)"
absl::Status NoRelationCatalog(absl::string_view table, absl::string_view method);

// FailedPrecondition: "<where>: GroupLimit is only allowed inside a Preload
// callback; use Limit on a related query
// (db.Related(row, \"posts\").Query().Limit(n))". `method` is "GroupLimit"
// or "GroupOrderBy"; `relation` names the relation in the hint.
absl::Status GroupOutsidePreload(absl::string_view where, absl::string_view method,
                                 absl::string_view relation);

// FailedPrecondition: "Preload on 'users.posts': Limit inside a Preload
// callback would cap the rows of all parents together; use GroupLimit(n)
// for n rows per parent"
absl::Status LimitInPreload(absl::string_view qualified_relation);
// FailedPrecondition: "Preload on 'users.posts': Offset is not allowed
// inside a Preload callback; use GroupLimit with GroupOrderBy, or Offset on
// db.Related(row, \"posts\").Query()"
absl::Status OffsetInPreload(absl::string_view qualified_relation, absl::string_view relation);

// FailedPrecondition: "Update is not allowed in a Preload callback of
// users.posts: a callback only records a query, which runs as part of the
// query that owns it". `kind` is the callback ("Preload", "WhereHas",
// "on_query", "where group", ...), `of` the relation (or table) it reads.
// Paginate in a Preload callback adds where to paginate instead.
absl::Status RunInCallback(absl::string_view method, absl::string_view kind, absl::string_view of,
                           absl::string_view relation);

// FailedPrecondition: "WhereHas on 'users.posts': Limit is not allowed in a
// WhereHas callback (<why>)"; `use` is "WhereHas", "Preload", "WithCount"
// or "WithAggregate".
absl::Status NotAllowedInCallback(absl::string_view use, absl::string_view qualified_relation,
                                  absl::string_view what, absl::string_view why);

// InvalidArgument: "WithAggregate on 'users.posts' needs As(alias)"
absl::Status AggregateNeedsAlias(absl::string_view qualified_relation);
// InvalidArgument: "WithAggregate on 'users.posts' needs an aggregate:
// Count, Sum, Avg, Min or Max"
absl::Status AggregateMissing(absl::string_view qualified_relation);

// InvalidArgument: "query on 'users': relation 'posts' is preloaded twice"
absl::Status DuplicatePreload(absl::string_view table, absl::string_view relation);
// InvalidArgument: "query on 'users': extra 'posts_count' is loaded twice
// (name each with As)"
absl::Status DuplicateExtra(absl::string_view table, absl::string_view name);

// InvalidArgument: "query on 'users': First returns a bare row without
// preloads or extras; use Limit(1).Get()"
absl::Status LoadsNeedGet(absl::string_view table, absl::string_view method);
// InvalidArgument: "query on 'posts': First returns a bare row, which reads
// every column; with Select use Limit(1).Get()"
absl::Status SelectNeedsGet(absl::string_view table, absl::string_view method);
// InvalidArgument: "table 'posts': column 'body' was not selected
// (selected: id, title)"
absl::Status NotSelected(const Table& table, absl::string_view column,
                         const std::vector<uint8_t>& selected);

// InvalidArgument: "query on 'quests': WherePivot(progress >= 50) needs the
// related query of a ManyToMany (a Preload, WhereHas, WithCount or
// WithAggregate callback); for one parent's links use db.Related(row,
// relation).QueryWherePivot". `what` is DescribePivotUse's text.
absl::Status PivotOutsideRelation(absl::string_view table, absl::string_view what);
// InvalidArgument: "Preload on 'players.items': WherePivot(progress >= 50)
// needs a ManyToMany, and players.items is a HasMany (it has no pivot
// row)"
absl::Status PivotNotManyToMany(absl::string_view use, absl::string_view qualified_relation,
                                absl::string_view kind, absl::string_view what);
// `status` with "pivot: " before its message, same code: an error in a
// pivot condition, order or aggregate ("pivot: table 'player_quest': no
// column named 'progres'"), then located with InRelatedQuery.
absl::Status InPivot(const absl::Status& status);

// `status` with "<use> on 'users.posts': " before its message, same code:
// an error inside a related query, located.
absl::Status InRelatedQuery(absl::string_view use, absl::string_view qualified_relation,
                            const absl::Status& status);

}  // namespace kin::errors

#endif  // KIN_QUERY_INTERNAL_RELATION_ERRORS_H_
