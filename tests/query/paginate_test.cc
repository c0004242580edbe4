// Paginate: rows and meta on every edge (first, middle, last and past-the-end
// pages, per_page larger than the table, an empty table, exact multiples),
// with filters and ordering, and its errors.

#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kin/database.h"
#include "kin/query.h"
#include "tests/query/fixture.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::Column;
using ::kin::test::StatusIs;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PaginateTest : public ::testing::Test {
 protected:
  void Fill(int n) {
    ASSERT_OK(engine_.CreateTable("items", Schema().Int64("id", PrimaryKey()).Int64("rank")));
    for (int k = 1; k <= n; ++k) {
      ASSERT_OK(engine_.Insert("items", {{"id", k}, {"rank", (k * 7) % n}}).status());
    }
  }
  static std::vector<int64_t> Range(int64_t from, int64_t to) {
    std::vector<int64_t> out;
    for (int64_t k = from; k <= to; ++k) out.push_back(k);
    return out;
  }
  static PageMeta Meta(int64_t total, int64_t per_page, int64_t page, int64_t last, bool empty) {
    PageMeta m;
    m.total = total;
    m.per_page = per_page;
    m.current_page = page;
    m.first_page = 1;
    m.last_page = last;
    m.has_pages = last > 1;
    m.has_more_pages = page < last;
    m.is_empty = empty;
    return m;
  }

  Database engine_;
};

TEST_F(PaginateTest, FirstMiddleLastAndPastTheEnd) {
  Fill(45);
  Query q(engine_, "items");
  ASSERT_OK_AND_ASSIGN(Page p1, q.Paginate(1, 20));
  EXPECT_THAT(Column(p1.rows), ElementsAreArray(Range(1, 20)));
  EXPECT_EQ(p1.meta, Meta(45, 20, 1, 3, false)) << p1.meta.DebugString();
  EXPECT_TRUE(p1.meta.has_more_pages);
  EXPECT_TRUE(p1.meta.has_pages);

  ASSERT_OK_AND_ASSIGN(Page p2, q.Paginate(2, 20));
  EXPECT_THAT(Column(p2.rows), ElementsAreArray(Range(21, 40)));
  EXPECT_EQ(p2.meta, Meta(45, 20, 2, 3, false));

  ASSERT_OK_AND_ASSIGN(Page p3, q.Paginate(3, 20));
  EXPECT_THAT(Column(p3.rows), ElementsAreArray(Range(41, 45)));
  EXPECT_EQ(p3.meta, Meta(45, 20, 3, 3, false));
  EXPECT_FALSE(p3.meta.has_more_pages);

  ASSERT_OK_AND_ASSIGN(Page p4, q.Paginate(4, 20));
  EXPECT_THAT(Column(p4.rows), IsEmpty());
  EXPECT_EQ(p4.meta, Meta(45, 20, 4, 3, true));
  EXPECT_TRUE(p4.meta.is_empty);
  EXPECT_FALSE(p4.meta.has_more_pages);
}

TEST_F(PaginateTest, ExactMultiple) {
  Fill(40);
  Query q(engine_, "items");
  ASSERT_OK_AND_ASSIGN(Page p2, q.Paginate(2, 20));
  EXPECT_THAT(Column(p2.rows), ElementsAreArray(Range(21, 40)));
  EXPECT_EQ(p2.meta, Meta(40, 20, 2, 2, false));
  ASSERT_OK_AND_ASSIGN(Page p3, q.Paginate(3, 20));
  EXPECT_THAT(Column(p3.rows), IsEmpty());
  EXPECT_EQ(p3.meta, Meta(40, 20, 3, 2, true));
}

TEST_F(PaginateTest, PerPageLargerThanTable) {
  Fill(7);
  Query q(engine_, "items");
  ASSERT_OK_AND_ASSIGN(Page p, q.Paginate(1, 100));
  EXPECT_THAT(Column(p.rows), ElementsAreArray(Range(1, 7)));
  EXPECT_EQ(p.meta, Meta(7, 100, 1, 1, false));
  EXPECT_FALSE(p.meta.has_pages);
  ASSERT_OK_AND_ASSIGN(Page huge, q.Paginate(1, std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(huge.rows.size(), 7u);
  EXPECT_EQ(huge.meta.last_page, 1);
}

TEST_F(PaginateTest, EmptyTable) {
  Fill(0);
  Query q(engine_, "items");
  ASSERT_OK_AND_ASSIGN(Page p, q.Paginate(1, 10));
  EXPECT_TRUE(p.rows.empty());
  EXPECT_EQ(p.meta, Meta(0, 10, 1, 1, true));
  ASSERT_OK_AND_ASSIGN(Page p2, q.Paginate(2, 10));
  EXPECT_EQ(p2.meta, Meta(0, 10, 2, 1, true));
}

TEST_F(PaginateTest, HugePageNumberIsEmptyNotOverflow) {
  Fill(10);
  Query q(engine_, "items");
  ASSERT_OK_AND_ASSIGN(Page p, q.Paginate(std::numeric_limits<int64_t>::max(), 1000000));
  EXPECT_TRUE(p.rows.empty());
  EXPECT_EQ(p.meta.total, 10);
  EXPECT_EQ(p.meta.last_page, 1);
}

TEST_F(PaginateTest, FilteredAndOrdered) {
  Fill(30);
  Query q(engine_, "items");
  q.Where("id", ">", 5).OrderBy("rank", kDesc);
  ASSERT_OK_AND_ASSIGN(ResultSet all, q.Get());
  std::vector<int64_t> ids = Column(all);
  ASSERT_EQ(ids.size(), 25u);
  ASSERT_OK_AND_ASSIGN(Page p2, q.Paginate(2, 10));
  EXPECT_THAT(Column(p2.rows), ElementsAreArray(ids.begin() + 10, ids.begin() + 20));
  EXPECT_EQ(p2.meta, Meta(25, 10, 2, 3, false));
  ASSERT_OK_AND_ASSIGN(Page p3, q.Paginate(3, 10));
  EXPECT_THAT(Column(p3.rows), ElementsAreArray(ids.begin() + 20, ids.end()));
}

TEST_F(PaginateTest, BadArguments) {
  Fill(5);
  Query q(engine_, "items");
  EXPECT_THAT(q.Paginate(0, 10), StatusIs(absl::StatusCode::kInvalidArgument,
                                          "query on 'items': page must be >= 1, got 0"));
  EXPECT_THAT(q.Paginate(-3, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page must be >= 1, got -3")));
  EXPECT_THAT(q.Paginate(1, 0), StatusIs(absl::StatusCode::kInvalidArgument,
                                         "query on 'items': per_page must be >= 1, got 0"));
  EXPECT_THAT(q.Paginate(1, -1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("per_page must be >= 1")));
  Query limited(engine_, "items");
  limited.Limit(3);
  EXPECT_THAT(limited.Paginate(1, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Limit or Offset")));
  Query bad_column(engine_, "items");
  bad_column.OrderBy("rnak");
  EXPECT_THAT(bad_column.Paginate(1, 10), StatusIs(absl::StatusCode::kInvalidArgument,
                                                   "table 'items': no column named 'rnak'"));
}

}  // namespace
}  // namespace kin
