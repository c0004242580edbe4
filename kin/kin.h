// kin: the umbrella header. Include this and depend on //kin (Bazel) or
// kin::kin (CMake). It pulls in exactly kin's public surface; nothing it
// includes names an internal header (//tests/kin:public_headers_test).

#ifndef KIN_KIN_H_
#define KIN_KIN_H_

#include "kin/change.h"          // IWYU pragma: export
#include "kin/column.h"          // IWYU pragma: export
#include "kin/data_dir.h"        // IWYU pragma: export
#include "kin/database.h"        // IWYU pragma: export
#include "kin/migrations.h"      // IWYU pragma: export
#include "kin/prepared_query.h"  // IWYU pragma: export
#include "kin/query.h"           // IWYU pragma: export
#include "kin/query_spec.h"      // IWYU pragma: export
#include "kin/related.h"         // IWYU pragma: export
#include "kin/relation.h"        // IWYU pragma: export
#include "kin/result_set.h"      // IWYU pragma: export
#include "kin/row.h"             // IWYU pragma: export
#include "kin/row_batch.h"       // IWYU pragma: export
#include "kin/schema.h"          // IWYU pragma: export
#include "kin/snapshot.h"        // IWYU pragma: export
#include "kin/status_macros.h"   // IWYU pragma: export
#include "kin/transaction.h"     // IWYU pragma: export
#include "kin/value.h"           // IWYU pragma: export
#include "kin/version.h"         // IWYU pragma: export

#endif  // KIN_KIN_H_
