// Project macros for absl::Status plumbing. Debian's abseil (20220623) has
// no ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN, so kin defines its own.

#ifndef KIN_STATUS_MACROS_H_
#define KIN_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KIN_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status kin_status_ = (expr);       \
    if (!kin_status_.ok()) return kin_status_; \
  } while (0)

#define KIN_CONCAT_INNER_(a, b) a##b
#define KIN_CONCAT_(a, b) KIN_CONCAT_INNER_(a, b)

// KIN_ASSIGN_OR_RETURN(auto x, StatusOrExpr()); declares or assigns `lhs`.
#define KIN_ASSIGN_OR_RETURN(lhs, rexpr) \
  KIN_ASSIGN_OR_RETURN_IMPL_(KIN_CONCAT_(kin_statusor_, __LINE__), lhs, rexpr)

#define KIN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // KIN_STATUS_MACROS_H_
