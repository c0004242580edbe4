#include "tests/query/fixture.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "kin/internal/database_access.h"

namespace kin::test {

namespace {

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::cerr << "fixture setup failed: " << s << "\n";
    std::abort();
  }
}

}  // namespace

void MakeTypesTable(Database& engine) {
  Check(engine.CreateTable("t", Schema()
                                    .Int64("id", PrimaryKey())
                                    .Int64("i")
                                    .Double("d")
                                    .Bool("b")
                                    .String("s")
                                    .Int64("nn_i", NotNull())
                                    .String("nn_s", NotNull())));
  struct R {
    int64_t id;
    Value i, d, b, s;
  };
  std::vector<R> rows = {
      {1, 1, 1.5, true, "apple"},
      {2, 2, 2.5, false, "banana"},
      {3, Value(), Value(), Value(), Value()},
      {4, 3, -1.0, true, "apricot"},
      {5, 2, 2.5, false, ""},
  };
  for (const R& r : rows) {
    Check(engine
              .Insert("t", {{"id", r.id},
                            {"i", r.i},
                            {"d", r.d},
                            {"b", r.b},
                            {"s", r.s},
                            {"nn_i", r.id * 10},
                            {"nn_s", absl::StrCat("r", r.id)}})
              .status());
  }
}

void MakeBlogSchema(Database& engine) {
  Check(engine.CreateTable(
      "users",
      Schema().Int64("id", PrimaryKey()).String("email", Unique()).String("name").Int64("score")));
  Check(engine.CreateTable("posts", Schema()
                                        .Int64("id", PrimaryKey())
                                        .Int64("user_id", Indexed())
                                        .String("title")
                                        .Int64("created_at")
                                        .Bool("is_published", Default(false))
                                        .Double("rating")));
  Check(internal::DatabaseAccess::engine(engine).AddForeignKey({.child_table = "posts",
                                                                .child_column = "user_id",
                                                                .parent_table = "users",
                                                                .parent_column = "id"}));
}

std::vector<int64_t> Column(const ResultSet& rows, std::string_view column) {
  std::vector<int64_t> out;
  for (const Row& r : rows) {
    absl::StatusOr<Value> v = r.Get(column);
    out.push_back(v.ok() && v->is_int64() ? v->AsInt64() : -1);
  }
  return out;
}

}  // namespace kin::test
