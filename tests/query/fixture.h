// Shared fixtures for the query tests (testonly).

#ifndef KIN_TESTS_QUERY_FIXTURE_H_
#define KIN_TESTS_QUERY_FIXTURE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "kin/database.h"
#include "kin/query.h"
#include "kin/result_set.h"

namespace kin::test {

// One table "t" holding a nullable column of every type, NULLs included:
//
//   id | i    | d    | b     | s
//   1  | 1    | 1.5  | true  | "apple"
//   2  | 2    | 2.5  | false | "banana"
//   3  | NULL | NULL | NULL  | NULL
//   4  | 3    | -1   | true  | "apricot"
//   5  | 2    | 2.5  | false | ""
//
// plus NOT NULL columns nn_i (= id * 10) and nn_s ("r" + id).
void MakeTypesTable(Database& engine);

// users(id pk, email unique, name, score nullable) and posts(id pk,
// user_id indexed, title, created_at, is_published default false, rating
// nullable double) with a foreign key posts.user_id -> users.id.
void MakeBlogSchema(Database& engine);

// The int64 `column` of every row, in order (NULL as -1).
std::vector<int64_t> Column(const ResultSet& rows, std::string_view column = "id");

}  // namespace kin::test

#endif  // KIN_TESTS_QUERY_FIXTURE_H_
