// Tests of the shared status matchers and macros: they must accept both
// absl::Status and absl::StatusOr<T> and explain failures with the status.

#include "tests/testing/status_matchers.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace kin::test {
namespace {

using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Matcher;
using ::testing::Not;
using ::testing::StartsWith;

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError(absl::StrCat("odd number ", n));
  return n / 2;
}

TEST(IsOkTest, MatchesStatusAndStatusOr) {
  EXPECT_THAT(absl::OkStatus(), IsOk());
  EXPECT_THAT(Half(4), IsOk());
  EXPECT_THAT(absl::NotFoundError("gone"), Not(IsOk()));
  EXPECT_THAT(Half(3), Not(IsOk()));
}

TEST(IsOkTest, ExplainsTheStatusOnFailure) {
  Matcher<absl::StatusOr<int>> m = IsOk();
  EXPECT_EQ(DescribeMatcher<absl::StatusOr<int>>(IsOk()), "is OK");
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(m.MatchAndExplain(Half(3), &listener));
  EXPECT_EQ(listener.str(), "which has status INVALID_ARGUMENT: odd number 3");
}

TEST(StatusIsTest, MatchesCodeAndMessage) {
  EXPECT_THAT(Half(3), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Half(3), StatusIs(absl::StatusCode::kInvalidArgument, "odd number 3"));
  EXPECT_THAT(Half(3), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("number")));
  EXPECT_THAT(Half(3), Not(StatusIs(absl::StatusCode::kNotFound)));
  EXPECT_THAT(Half(3), Not(StatusIs(absl::StatusCode::kInvalidArgument, "odd")));
  EXPECT_THAT(absl::AlreadyExistsError("dup"),
              StatusIs(absl::StatusCode::kAlreadyExists, StartsWith("du")));
  EXPECT_THAT(absl::OkStatus(), StatusIs(absl::StatusCode::kOk));
  EXPECT_THAT(Half(2), StatusIs(absl::StatusCode::kOk, ""));
}

TEST(StatusIsTest, DescribesItself) {
  EXPECT_EQ(
      DescribeMatcher<absl::Status>(StatusIs(absl::StatusCode::kNotFound, HasSubstr("users"))),
      "has status code NOT_FOUND and a message that has substring \"users\"");
  Matcher<absl::Status> m = StatusIs(absl::StatusCode::kNotFound);
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(m.MatchAndExplain(absl::InternalError("boom"), &listener));
  EXPECT_EQ(listener.str(), "which has status INTERNAL: boom");
}

TEST(IsOkAndHoldsTest, MatchesTheValue) {
  EXPECT_THAT(Half(8), IsOkAndHolds(4));
  EXPECT_THAT(Half(8), IsOkAndHolds(::testing::Gt(3)));
  EXPECT_THAT(Half(8), Not(IsOkAndHolds(5)));
  EXPECT_THAT(Half(3), Not(IsOkAndHolds(::testing::_)));
  EXPECT_THAT(absl::StatusOr<std::string>("kin"), IsOkAndHolds(HasSubstr("i")));
}

TEST(IsOkAndHoldsTest, ExplainsFailures) {
  Matcher<absl::StatusOr<int>> m = IsOkAndHolds(5);
  EXPECT_EQ(DescribeMatcher<absl::StatusOr<int>>(IsOkAndHolds(5)),
            "is OK and has a value that is equal to 5");
  ::testing::StringMatchResultListener not_ok;
  EXPECT_FALSE(m.MatchAndExplain(Half(3), &not_ok));
  EXPECT_EQ(not_ok.str(), "which has status INVALID_ARGUMENT: odd number 3");
  ::testing::StringMatchResultListener wrong;
  EXPECT_FALSE(m.MatchAndExplain(Half(8), &wrong));
  EXPECT_EQ(wrong.str(), "which contains value 4");
}

TEST(PrintToTest, PrintsStatusOrReadably) {
  EXPECT_EQ(::testing::PrintToString(Half(8)), "OK: 4");
  EXPECT_EQ(::testing::PrintToString(Half(3)), "INVALID_ARGUMENT: odd number 3");
}

TEST(MacrosTest, PassOnOk) {
  EXPECT_OK(absl::OkStatus());
  ASSERT_OK(Half(8));
  ASSERT_OK_AND_ASSIGN(int half, Half(8));
  EXPECT_EQ(half, 4);
  ASSERT_OK_AND_ASSIGN(half, Half(10));  // assigns an existing variable
  EXPECT_EQ(half, 5);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<int> p,
                       absl::StatusOr<std::unique_ptr<int>>(std::make_unique<int>(7)));
  EXPECT_EQ(*p, 7);
}

TEST(MacrosTest, FailuresNameTheExpressionAndStatus) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(Half(3)), "Half(3) is not OK: INVALID_ARGUMENT: odd number 3");
  EXPECT_FATAL_FAILURE(ASSERT_OK(absl::NotFoundError("no table")),
                       "is not OK: NOT_FOUND: no table");
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(int half, Half(5));
        (void)half;
      },
      "Half(5) is not OK: INVALID_ARGUMENT: odd number 5");
}

}  // namespace
}  // namespace kin::test
