// GoogleMock matchers and GoogleTest macros for absl::Status and
// absl::StatusOr<T> (Debian's abseil 20220623 has none).
//
//   EXPECT_OK(engine.Begin());
//   ASSERT_OK_AND_ASSIGN(kin::Row user, engine.Insert("users", {{"id", 1}}));
//   EXPECT_THAT(engine.Insert("users", {{"id", 1}}),
//               StatusIs(absl::StatusCode::kAlreadyExists,
//                        HasSubstr("users.id: duplicate value 1")));
//   EXPECT_THAT(engine.Commit(), Not(IsOk()));
//   EXPECT_THAT(row.GetInt64("score"), IsOkAndHolds(10));
//
// Every matcher and macro accepts both absl::Status and absl::StatusOr<T>,
// and prints the full status (code and message) when it fails.

#ifndef KIN_TESTS_TESTING_STATUS_MATCHERS_H_
#define KIN_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// GoogleTest finds printers by argument-dependent lookup, so a printer for
// absl::StatusOr has to live in namespace absl. Without it a failed
// EXPECT_THAT on a StatusOr prints the object's raw bytes. (Newer abseil
// releases add an operator<< of their own; a PrintTo still takes priority
// in GoogleTest, so the two do not clash.)
namespace absl {
template <typename T>
void PrintTo(const StatusOr<T>& status_or, std::ostream* os) {
  if (status_or.ok()) {
    *os << "OK: " << ::testing::PrintToString(*status_or);
  } else {
    *os << status_or.status();
  }
}
}  // namespace absl

namespace kin::test {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

class IsOkMatcher {
 public:
  template <typename T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    if (!status.ok()) *listener << "which has status " << status;
    return status.ok();
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <typename T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const absl::Status& status = GetStatus(actual);
    *listener << "which has status " << status;
    if (status.code() != code_) return false;
    ::testing::StringMatchResultListener inner;
    if (!message_.MatchAndExplain(std::string(status.message()), &inner)) {
      if (!inner.str().empty()) *listener << ", whose message " << inner.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

template <typename StatusOrType>
class IsOkAndHoldsMatcherImpl : public ::testing::MatcherInterface<StatusOrType> {
 public:
  using value_type = typename std::remove_cv_t<std::remove_reference_t<StatusOrType>>::value_type;

  template <typename InnerMatcher>
  explicit IsOkAndHoldsMatcherImpl(InnerMatcher&& inner)
      : inner_(::testing::SafeMatcherCast<const value_type&>(std::forward<InnerMatcher>(inner))) {}

  void DescribeTo(std::ostream* os) const override {
    *os << "is OK and has a value that ";
    inner_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is not OK or has a value that ";
    inner_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(StatusOrType actual,
                       ::testing::MatchResultListener* listener) const override {
    if (!actual.ok()) {
      *listener << "which has status " << actual.status();
      return false;
    }
    ::testing::StringMatchResultListener inner;
    bool matches = inner_.MatchAndExplain(*actual, &inner);
    *listener << "which contains value " << ::testing::PrintToString(*actual);
    if (!inner.str().empty()) *listener << ", " << inner.str();
    return matches;
  }

 private:
  ::testing::Matcher<const value_type&> inner_;
};

// Polymorphic over the StatusOr<T> it is matched against: builds the typed
// matcher once T is known.
template <typename InnerMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(InnerMatcher inner) : inner_(std::move(inner)) {}

  template <typename StatusOrType>
  operator ::testing::Matcher<StatusOrType>() const {  // NOLINT: implicit by design
    return ::testing::Matcher<StatusOrType>(
        new IsOkAndHoldsMatcherImpl<const StatusOrType&>(inner_));
  }

 private:
  InnerMatcher inner_;
};

// The predicate-formatter behind EXPECT_OK / ASSERT_OK.
template <typename T>
::testing::AssertionResult AssertOk(const char* expression, const T& actual) {
  const absl::Status& status = GetStatus(actual);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << expression << " is not OK: " << status;
}

}  // namespace internal

// Matches an OK absl::Status or absl::StatusOr<T>.
inline ::testing::PolymorphicMatcher<internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(internal::IsOkMatcher());
}

// Matches a status (or StatusOr) with `code` and a message matching
// `message`: a string matcher (HasSubstr("users.id"), StartsWith(...)) or a
// string for an exact match.
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(
    absl::StatusCode code, ::testing::Matcher<const std::string&> message) {
  return ::testing::MakePolymorphicMatcher(internal::StatusIsMatcher(code, std::move(message)));
}
inline ::testing::PolymorphicMatcher<internal::StatusIsMatcher> StatusIs(absl::StatusCode code) {
  return StatusIs(code, ::testing::A<const std::string&>());
}

// Matches an OK absl::StatusOr<T> whose value matches `inner` (a matcher,
// or a value for equality).
template <typename InnerMatcher>
internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>> IsOkAndHolds(InnerMatcher&& inner) {
  return internal::IsOkAndHoldsMatcher<std::decay_t<InnerMatcher>>(
      std::forward<InnerMatcher>(inner));
}

}  // namespace kin::test

#define EXPECT_OK(expr) EXPECT_PRED_FORMAT1(::kin::test::internal::AssertOk, expr)
#define ASSERT_OK(expr) ASSERT_PRED_FORMAT1(::kin::test::internal::AssertOk, expr)

// ASSERT_OK_AND_ASSIGN(lhs, rexpr): evaluates `rexpr` (an absl::StatusOr),
// fails the test (returning from the current void function) when it is not
// OK, else moves its value into `lhs`, which may be a declaration
// ("kin::Row row") or an existing variable.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  KIN_TEST_ASSERT_OK_AND_ASSIGN_IMPL_(KIN_TEST_CONCAT_(kin_test_statusor_, __LINE__), lhs, rexpr)

#define KIN_TEST_CONCAT_INNER_(a, b) a##b
#define KIN_TEST_CONCAT_(a, b) KIN_TEST_CONCAT_INNER_(a, b)
#define KIN_TEST_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr)              \
  auto statusor = (rexpr);                                                     \
  if (!statusor.ok()) FAIL() << #rexpr << " is not OK: " << statusor.status(); \
  lhs = std::move(statusor).value()

#endif  // KIN_TESTS_TESTING_STATUS_MATCHERS_H_
