// kin: the umbrella header. Include this and depend on //:kin.

#ifndef KIN_KIN_H_
#define KIN_KIN_H_

#include "database.h"          // IWYU pragma: export
#include "engine/engine.h"    // IWYU pragma: export
#include "engine/row.h"       // IWYU pragma: export
#include "engine/schema.h"    // IWYU pragma: export
#include "engine/status_macros.h"  // IWYU pragma: export
#include "engine/table.h"     // IWYU pragma: export
#include "engine/value.h"     // IWYU pragma: export
#include "query/query.h"      // IWYU pragma: export
#include "query/result_set.h" // IWYU pragma: export
#include "version.h"           // IWYU pragma: export

#endif  // KIN_KIN_H_
