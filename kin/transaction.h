// kin::Transaction: the scoped form of Database::Begin / Commit / Rollback.

#ifndef KIN_TRANSACTION_H_
#define KIN_TRANSACTION_H_

#include <cstdint>

#include "absl/status/status.h"

namespace kin {

class Database;
class Engine;  // engine/engine.h (internal)

// Scoped transaction: rolls back on destruction unless committed.
//
//   kin::Transaction tx(db);
//   KIN_RETURN_IF_ERROR(...);
//   return tx.Commit();
//
// A Transaction remembers the savepoint it opened. Commit and Rollback close
// exactly that one: while a transaction opened inside it is still open they
// fail with FailedPrecondition (nothing changes; close the inner one
// first), and after it was closed they fail too. The destructor rolls back
// its savepoint and anything still open inside it.
class Transaction {
 public:
  explicit Transaction(Database& db);
  // kin-internal: a transaction on an engine without its Database.
  explicit Transaction(Engine& engine);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  absl::Status Commit();
  absl::Status Rollback();

 private:
  Engine* engine_;
  uint64_t serial_;
  bool open_ = true;
};

}  // namespace kin

#endif  // KIN_TRANSACTION_H_
