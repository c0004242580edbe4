// Compiled with only //kin:headers available (see BUILD.bazel): if a public
// header included an internal one, this file would not build.
#include "kin/kin.h"

namespace kin {

// Uses a little of every layer so that the declarations are instantiated.
absl::StatusOr<int64_t> CountPostsOfAda(Database& db) {
  Query q = db.Query("posts");
  q.Where("author", "ada").OrderBy("id", Order::kDesc).Limit(10);
  return q.Count();
}

}  // namespace kin
