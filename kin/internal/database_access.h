// kin-internal: the engine and relation catalog inside a kin::Database, for
// kin's own layers (relation handles, queries, snapshots, the command-line
// tool), its tests and its benchmarks. Not part of the public surface: an
// Engine reached this way bypasses relation bookkeeping (DropTable through
// the engine leaves relations pointing at a missing table), so only code
// that keeps the catalog in step may write through it.

#ifndef KIN_INTERNAL_DATABASE_ACCESS_H_
#define KIN_INTERNAL_DATABASE_ACCESS_H_

#include <memory>
#include <utility>

#include "engine/engine.h"
#include "kin/database.h"
#include "relations/relation_catalog.h"

namespace kin::internal {

class DatabaseAccess {
 public:
  static Engine& engine(Database& db) { return *db.engine_; }
  static const Engine& engine(const Database& db) { return *db.engine_; }
  static RelationCatalog& catalog(Database& db) { return *db.relations_; }
  static const RelationCatalog& catalog(const Database& db) { return *db.relations_; }

  // A Database adopting a loaded engine and catalog (snapshot loads); binds
  // the relations to the engine.
  static Database Adopt(Engine engine, RelationCatalog relations);
};

}  // namespace kin::internal

#endif  // KIN_INTERNAL_DATABASE_ACCESS_H_
