// kin::Schema: the fluent builder, column options, and Validate(), which
// reports the first mistake naming the table and the column.

#include "kin/schema.h"

#include <string>

#include "absl/status/status.h"
#include "engine/engine.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/printers.h"
#include "tests/testing/status_matchers.h"

namespace kin {
namespace {

using ::kin::test::IsOk;
using ::kin::test::StatusIs;
using ::testing::HasSubstr;

constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;

const ColumnSpec& Col(const Schema& schema, absl::string_view name) {
  return schema.column(*schema.Find(name));
}

TEST(SchemaTest, BuilderRecordsColumnsInOrder) {
  Schema schema = Schema()
                      .Int64("id", PrimaryKey())
                      .String("email", Unique())
                      .Double("score")
                      .Bool("active", Default(true));
  ASSERT_EQ(schema.size(), 4u);
  EXPECT_EQ(schema.columns()[0].name, "id");
  EXPECT_EQ(schema.columns()[1].name, "email");
  EXPECT_EQ(schema.columns()[2].name, "score");
  EXPECT_EQ(schema.columns()[3].name, "active");
  EXPECT_EQ(schema.columns()[0].type, Type::kInt64);
  EXPECT_EQ(schema.columns()[1].type, Type::kString);
  EXPECT_EQ(schema.columns()[2].type, Type::kDouble);
  EXPECT_EQ(schema.columns()[3].type, Type::kBool);
  EXPECT_EQ(schema.Find("score"), ColumnId(2));
  EXPECT_EQ(schema.Find("nope"), std::nullopt);
  EXPECT_EQ(schema.primary_key(), ColumnId(0));
  EXPECT_OK(schema.Validate("users"));
}

TEST(SchemaTest, ColumnsAreNullableByDefault) {
  Schema schema = Schema().Int64("id", PrimaryKey()).String("name").Int64("age", NotNull());
  EXPECT_TRUE(Col(schema, "name").nullable);
  EXPECT_FALSE(Col(schema, "age").nullable);
  EXPECT_FALSE(Col(schema, "name").unique);
  EXPECT_FALSE(Col(schema, "name").indexed);
  EXPECT_FALSE(Col(schema, "name").default_value.has_value());
}

TEST(SchemaTest, PrimaryKeyOptions) {
  Schema schema = Schema().Int64("id", PrimaryKey());
  EXPECT_TRUE(Col(schema, "id").primary_key);
  EXPECT_FALSE(Col(schema, "id").nullable);
  EXPECT_TRUE(Col(schema, "id").auto_increment);  // int64 keys auto-increment

  Schema manual = Schema().Int64("id", ManualPrimaryKey());
  EXPECT_TRUE(Col(manual, "id").primary_key);
  EXPECT_FALSE(Col(manual, "id").auto_increment);

  Schema by_name = Schema().String("code", PrimaryKey());
  EXPECT_TRUE(Col(by_name, "code").primary_key);
  EXPECT_FALSE(Col(by_name, "code").auto_increment);  // strings never do

  // A primary key is never NULL, even when asked.
  Schema nullable_then_pk = Schema().Int64("id", Nullable(), PrimaryKey());
  EXPECT_FALSE(Col(nullable_then_pk, "id").nullable);
  Schema pk_then_nullable = Schema().Int64("id", PrimaryKey(), Nullable());
  EXPECT_FALSE(Col(pk_then_nullable, "id").nullable);
}

TEST(SchemaTest, OtherOptions) {
  Schema schema = Schema()
                      .Int64("id", PrimaryKey())
                      .String("email", Unique(), NotNull())
                      .Int64("user_id", Indexed())
                      .Int64("score", Default(10))
                      .String("nick", NotNull(), Nullable());  // last one wins
  EXPECT_TRUE(Col(schema, "email").unique);
  EXPECT_FALSE(Col(schema, "email").nullable);
  EXPECT_TRUE(Col(schema, "user_id").indexed);
  EXPECT_EQ(Col(schema, "score").default_value, Value(10));
  EXPECT_TRUE(Col(schema, "nick").nullable);
  EXPECT_OK(schema.Validate("t"));
}

TEST(SchemaTest, ColumnByTypeName) {
  Schema schema = Schema()
                      .Column("id", "int64", {PrimaryKey()})
                      .Column("ratio", "double")
                      .Column("ok", "bool", {NotNull(), Default(false)})
                      .Column("name", "string", {Unique()});
  EXPECT_OK(schema.Validate("t"));
  EXPECT_EQ(Col(schema, "id").type, Type::kInt64);
  EXPECT_TRUE(Col(schema, "id").auto_increment);
  EXPECT_EQ(Col(schema, "ratio").type, Type::kDouble);
  EXPECT_EQ(Col(schema, "ok").type, Type::kBool);
  EXPECT_EQ(Col(schema, "ok").default_value, Value(false));
  EXPECT_TRUE(Col(schema, "name").unique);
  EXPECT_EQ(schema, Schema()
                        .Int64("id", PrimaryKey())
                        .Double("ratio")
                        .Bool("ok", NotNull(), Default(false))
                        .String("name", Unique()));
}

TEST(SchemaTest, ColumnFromSpec) {
  ColumnSpec spec;
  spec.name = "id";
  spec.type = Type::kString;
  spec.primary_key = true;
  Schema schema = Schema().Column(spec).Column(ColumnSpec{.name = "n", .type = Type::kDouble});
  EXPECT_FALSE(Col(schema, "id").nullable);  // forced for a primary key
  EXPECT_EQ(schema.primary_key(), ColumnId(0));
  EXPECT_EQ(Col(schema, "n").type, Type::kDouble);
  EXPECT_OK(schema.Validate("t"));
}

TEST(SchemaValidateTest, DuplicateColumnName) {
  Schema schema = Schema().Int64("id", PrimaryKey()).String("email").Int64("email");
  EXPECT_THAT(schema.Validate("users"),
              StatusIs(kInvalidArgument, "table 'users': duplicate column 'email'"));
}

TEST(SchemaValidateTest, MissingPrimaryKey) {
  Schema schema = Schema().Int64("id").String("email");
  EXPECT_THAT(schema.Validate("users"),
              StatusIs(kInvalidArgument, HasSubstr("table 'users': no primary key")));
}

TEST(SchemaValidateTest, TwoPrimaryKeys) {
  Schema schema = Schema().Int64("id", PrimaryKey()).String("code", PrimaryKey());
  EXPECT_THAT(schema.Validate("users"),
              StatusIs(kInvalidArgument, "table 'users': more than one primary key"));
  EXPECT_EQ(schema.primary_key(), ColumnId(0));  // the first one is kept
}

TEST(SchemaValidateTest, UnknownTypeName) {
  Schema schema = Schema().Column("id", "int64", {PrimaryKey()}).Column("age", "int32");
  EXPECT_THAT(schema.Validate("users"),
              StatusIs(kInvalidArgument,
                       "table 'users': column 'age': unknown type 'int32' "
                       "(expected int64, double, bool or string)"));
}

TEST(SchemaValidateTest, EmptySchemaAndEmptyName) {
  EXPECT_THAT(Schema().Validate("users"),
              StatusIs(kInvalidArgument, "table 'users': schema has no columns"));
  EXPECT_THAT(Schema().Int64("id", PrimaryKey()).String("").Validate("users"),
              StatusIs(kInvalidArgument, "table 'users': empty column name"));
}

TEST(SchemaValidateTest, PrimaryKeyMustBeInt64OrString) {
  EXPECT_THAT(
      Schema().Double("id", PrimaryKey()).Validate("users"),
      StatusIs(kInvalidArgument, "users.id: primary key must be int64 or string, not double"));
  EXPECT_THAT(
      Schema().Bool("id", PrimaryKey()).Validate("flags"),
      StatusIs(kInvalidArgument, "flags.id: primary key must be int64 or string, not bool"));
}

TEST(SchemaValidateTest, OnlyInt64AndStringColumnsCanBeIndexed) {
  EXPECT_THAT(Schema().Int64("id", PrimaryKey()).Double("score", Indexed()).Validate("users"),
              StatusIs(kInvalidArgument,
                       "users.score: only int64 and string columns can be indexed, not double"));
  EXPECT_THAT(Schema().Int64("id", PrimaryKey()).Bool("flag", Unique()).Validate("users"),
              StatusIs(kInvalidArgument, HasSubstr("users.flag: only int64 and string")));
}

TEST(SchemaValidateTest, DefaultOfWrongType) {
  EXPECT_THAT(
      Schema().Int64("id", PrimaryKey()).Bool("active", Default("yes")).Validate("users"),
      StatusIs(kInvalidArgument, "users.active: default expected bool, got string \"yes\""));
  EXPECT_THAT(Schema().Int64("id", PrimaryKey()).Int64("n", Default(1.5)).Validate("users"),
              StatusIs(kInvalidArgument, "users.n: default expected int64, got double 1.5"));
  // An int64 default for a double column is fine (stored as double).
  EXPECT_OK(Schema().Int64("id", PrimaryKey()).Double("x", Default(2)).Validate("users"));
}

TEST(SchemaValidateTest, NullDefault) {
  EXPECT_THAT(Schema()
                  .Int64("id", PrimaryKey())
                  .String("name", NotNull(), Default(nullptr))
                  .Validate("users"),
              StatusIs(kInvalidArgument, "users.name: default NULL for a NOT NULL column"));
  EXPECT_OK(Schema().Int64("id", PrimaryKey()).String("name", Default(nullptr)).Validate("u"));
}

TEST(SchemaValidateTest, KeyColumnsHaveNoDefault) {
  EXPECT_THAT(Schema().Int64("id", PrimaryKey(), Default(1)).Validate("users"),
              StatusIs(kInvalidArgument, "users.id: a key column cannot have a default"));
  EXPECT_THAT(
      Schema().Int64("id", PrimaryKey()).String("email", Unique(), Default("x")).Validate("u"),
      StatusIs(kInvalidArgument, "u.email: a key column cannot have a default"));
}

// ColumnSpec is public, so auto_increment can be set where it makes no
// sense: only an int64 primary key can auto-increment.
TEST(SchemaValidateTest, AutoIncrementOnlyOnInt64PrimaryKey) {
  EXPECT_THAT(
      Schema()
          .Column(ColumnSpec{
              .name = "id", .type = Type::kString, .primary_key = true, .auto_increment = true})
          .Validate("users"),
      StatusIs(kInvalidArgument, "users.id: only an int64 primary key can auto-increment"));
  EXPECT_THAT(
      Schema()
          .Int64("id", PrimaryKey())
          .Column(ColumnSpec{.name = "seq", .type = Type::kInt64, .auto_increment = true})
          .Validate("users"),
      StatusIs(kInvalidArgument, "users.seq: only an int64 primary key can auto-increment"));
}

TEST(SchemaValidateTest, CreateTableReportsValidateErrors) {
  Engine engine;
  EXPECT_THAT(engine.CreateTable("users", Schema().Int64("id").String("email")),
              StatusIs(kInvalidArgument, HasSubstr("table 'users': no primary key")));
  EXPECT_THAT(engine.CreateTable("users", Schema().Column("id", "uuid", {PrimaryKey()})),
              StatusIs(kInvalidArgument, HasSubstr("unknown type 'uuid'")));
  EXPECT_EQ(engine.FindTable("users"), nullptr);
  EXPECT_EQ(engine.DebugString(), "");
}

}  // namespace
}  // namespace kin
