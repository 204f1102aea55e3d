// The compatibility checker: each incompatible change of a MINOR bump is caught at its precise schema location,
// compatible evolutions pass, and BACKWARD / FORWARD / FULL look in the right direction.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/catalog.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view base = R"({
  "type": "object",
  "required": ["book_id", "title"],
  "properties": {
    "book_id": {"type": "string", "pattern": "^bk-[0-9]+$"},
    "title": {"type": "string", "minLength": 1, "maxLength": 300},
    "format": {"enum": ["ebook", "paperback"]},
    "pages": {"type": "integer", "minimum": 1, "maximum": 5000},
    "price": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    "author": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
  }
})";

std::vector<compatibility_issue> check(std::string_view older, std::string_view newer,
                                       compatibility_mode mode = compatibility_mode::backward) {
  auto issues = check_compatibility(older, newer, mode);
  EXPECT_TRUE(issues) << issues.error().message;
  return issues ? *issues : std::vector<compatibility_issue>{};
}

// `base` with one textual replacement (the test fails loudly if the text is not there).
std::string edit(std::string_view from, std::string_view to) {
  std::string out(base);
  const auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

void expect_single(const std::vector<compatibility_issue>& issues, std::string_view rule, std::string_view location,
                   std::string_view mentions) {
  ASSERT_EQ(issues.size(), 1u) << (issues.empty() ? "no issue" : issues[0].rule + " " + issues[0].location + " +more");
  EXPECT_EQ(issues[0].rule, rule);
  EXPECT_EQ(issues[0].location, location);
  EXPECT_THAT(issues[0].message, HasSubstr(std::string(mentions)));
}

TEST(catalog_compatibility, identical_schemas_are_compatible_in_every_mode) {
  for (auto mode : {compatibility_mode::backward, compatibility_mode::forward, compatibility_mode::full}) {
    EXPECT_TRUE(check(base, base, mode).empty());
  }
}

TEST(catalog_compatibility, adding_an_optional_property_is_backward_compatible) {
  EXPECT_TRUE(check(base, edit(R"("price": {"type": "number"},)", R"("price": {"type": "number"}, "isbn": {"type": "string"},)")).empty());
}

TEST(catalog_compatibility, removing_a_required_property_is_reported_at_required) {
  auto newer = edit(R"("required": ["book_id", "title"])", R"("required": ["book_id"])");
  expect_single(check(base, newer), "required_property_removed", "/required", "\"title\"");
  expect_single(check(base, newer, compatibility_mode::forward), "required_property_removed", "/required", "\"title\"");
}

TEST(catalog_compatibility, renaming_a_required_property_is_reported_as_a_rename) {
  auto newer = edit(R"("required": ["book_id", "title"])", R"("required": ["book_id", "name"])");
  expect_single(check(base, newer), "required_property_renamed", "/required", "\"title\" was renamed to \"name\"");
}

TEST(catalog_compatibility, adding_a_required_property_breaks_backward_but_not_forward) {
  auto newer = edit(R"("required": ["book_id", "title"])", R"("required": ["book_id", "title", "pages"])");
  expect_single(check(base, newer), "required_property_added", "/required", "\"pages\"");
  EXPECT_TRUE(check(base, newer, compatibility_mode::forward).empty());
}

TEST(catalog_compatibility, nested_required_property_is_located_in_the_nested_object) {
  auto newer = edit(R"("required": ["id"])", R"("required": ["id", "name"])");
  expect_single(check(base, newer), "required_property_added", "/properties/author/required", "\"name\"");
}

TEST(catalog_compatibility, narrowing_a_type_is_reported_at_the_type_keyword) {
  auto newer = edit(R"("price": {"type": "number"})", R"("price": {"type": "integer"})");
  expect_single(check(base, newer), "type_narrowed", "/properties/price/type", "\"number\"");
  EXPECT_TRUE(check(base, newer, compatibility_mode::forward).empty());
}

TEST(catalog_compatibility, widening_a_type_breaks_forward_only) {
  auto newer = edit(R"("pages": {"type": "integer")", R"("pages": {"type": ["integer", "string"])");
  EXPECT_TRUE(check(base, newer).empty());
  expect_single(check(base, newer, compatibility_mode::forward), "type_widened", "/properties/pages/type", "\"string\"");
}

TEST(catalog_compatibility, narrowing_an_enum_names_the_removed_value) {
  auto newer = edit(R"(["ebook", "paperback"])", R"(["ebook"])");
  expect_single(check(base, newer), "enum_narrowed", "/properties/format/enum", "\"paperback\"");
}

TEST(catalog_compatibility, widening_an_enum_is_backward_compatible_but_not_forward) {
  auto newer = edit(R"(["ebook", "paperback"])", R"(["ebook", "paperback", "audiobook"])");
  EXPECT_TRUE(check(base, newer).empty());
  expect_single(check(base, newer, compatibility_mode::forward), "enum_widened", "/properties/format/enum", "\"audiobook\"");
}

TEST(catalog_compatibility, narrowing_each_range_bound_is_reported_at_its_keyword) {
  struct range_case {
    std::string_view from, to, location;
  };
  const range_case cases[] = {
      {R"("minimum": 1)", R"("minimum": 10)", "/properties/pages/minimum"},
      {R"("maximum": 5000)", R"("maximum": 1000)", "/properties/pages/maximum"},
      {R"("minLength": 1)", R"("minLength": 3)", "/properties/title/minLength"},
      {R"("maxLength": 300)", R"("maxLength": 200)", "/properties/title/maxLength"},
      {R"("maxItems": 10)", R"("maxItems": 5)", "/properties/tags/maxItems"},
      {R"("maxItems": 10)", R"("maxItems": 10, "minItems": 1)", "/properties/tags/minItems"},
      {R"("price": {"type": "number"})", R"("price": {"type": "number", "exclusiveMinimum": 0})",
       "/properties/price/exclusiveMinimum"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.to);
    expect_single(check(base, edit(c.from, c.to)), "range_narrowed", c.location, "stricter");
  }
}

TEST(catalog_compatibility, widening_a_range_is_backward_compatible) {
  EXPECT_TRUE(check(base, edit(R"("maximum": 5000)", R"("maximum": 9000)")).empty());
  expect_single(check(base, edit(R"("maximum": 5000)", R"("maximum": 9000)"), compatibility_mode::forward),
                "range_widened", "/properties/pages/maximum", "5000");
}

TEST(catalog_compatibility, closing_additional_properties_is_reported) {
  auto newer = edit(R"("required": ["book_id", "title"],)", R"("required": ["book_id", "title"], "additionalProperties": false,)");
  expect_single(check(base, newer), "additional_properties_closed", "/additionalProperties", "false");
  EXPECT_TRUE(check(base, newer, compatibility_mode::forward).empty());
}

TEST(catalog_compatibility, closing_unevaluated_properties_counts_as_closing) {
  auto newer = edit(R"("required": ["book_id", "title"],)", R"("required": ["book_id", "title"], "unevaluatedProperties": false,)");
  expect_single(check(base, newer), "additional_properties_closed", "/unevaluatedProperties", "false");
}

TEST(catalog_compatibility, a_property_dropped_from_a_closed_model_is_reported) {
  constexpr std::string_view older = R"({"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"},"b":{"type":"string"}}})";
  constexpr std::string_view newer = R"({"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}})";
  expect_single(check(older, newer), "property_removed_from_closed_model", "/properties", "\"b\"");
  // Adding an optional property to a closed model is fine for new readers, not for old ones.
  EXPECT_TRUE(check(newer, older).empty());
  expect_single(check(newer, older, compatibility_mode::forward), "property_added_to_closed_model", "/properties/b", "\"b\"");
}

TEST(catalog_compatibility, new_pattern_and_format_are_reported) {
  expect_single(check(base, edit(R"("name": {"type": "string"})", R"("name": {"type": "string", "pattern": "^[A-Z]"})")),
                "pattern_narrowed", "/properties/author/properties/name/pattern", "^[A-Z]");
  expect_single(check(base, edit(R"("id": {"type": "string"})", R"("id": {"type": "string", "format": "uuid"})")),
                "format_narrowed", "/properties/author/properties/id/format", "uuid");
}

TEST(catalog_compatibility, items_are_compared_recursively) {
  expect_single(check(base, edit(R"("items": {"type": "string"})", R"("items": {"type": "string", "maxLength": 20})")),
                "range_narrowed", "/properties/tags/items/maxLength", "maxLength 20");
  expect_single(check(base, edit(R"("maxItems": 10)", R"("maxItems": 10, "uniqueItems": true)")), "range_narrowed",
                "/properties/tags/uniqueItems", "duplicates");
}

TEST(catalog_compatibility, local_refs_are_followed_and_reported_in_the_newer_schema) {
  constexpr std::string_view older = R"({"type":"object","properties":{"price":{"$ref":"#/$defs/money"}},
    "$defs":{"money":{"type":"object","properties":{"currency":{"enum":["EUR","GBP","USD"]}}}}})";
  constexpr std::string_view newer = R"({"type":"object","properties":{"price":{"$ref":"#/$defs/money"}},
    "$defs":{"money":{"type":"object","properties":{"currency":{"enum":["EUR","USD"]}}}}})";
  expect_single(check(older, newer), "enum_narrowed", "/properties/price/properties/currency/enum", "\"GBP\"");
}

TEST(catalog_compatibility, recursive_schemas_terminate) {
  constexpr std::string_view tree = R"({"$ref":"#/$defs/node","$defs":{"node":{"type":"object",
    "properties":{"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}}})";
  EXPECT_TRUE(check(tree, tree, compatibility_mode::full).empty());
}

TEST(catalog_compatibility, unanalysed_composition_changes_are_reported_not_guessed) {
  constexpr std::string_view older = R"({"type":"object","anyOf":[{"required":["a"]},{"required":["b"]}]})";
  constexpr std::string_view newer = R"({"type":"object","anyOf":[{"required":["a"]}]})";
  expect_single(check(older, newer), "constraint_added", "/anyOf", "MAJOR");
}

TEST(catalog_compatibility, full_reports_both_directions_once) {
  auto newer = edit(R"(["ebook", "paperback"])", R"(["ebook", "audiobook"])");
  auto issues = check(base, newer, compatibility_mode::full);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].rule, "enum_narrowed");
  EXPECT_EQ(issues[1].rule, "enum_widened");
  auto renamed = check(base, edit(R"("required": ["book_id", "title"])", R"("required": ["book_id", "name"])"),
                       compatibility_mode::full);
  ASSERT_EQ(renamed.size(), 1u) << "the rename must not be reported twice";
  EXPECT_EQ(renamed[0].rule, "required_property_renamed");
}

TEST(catalog_compatibility, transitive_modes_compare_one_pair_like_their_base_mode) {
  auto newer = edit(R"("price": {"type": "number"})", R"("price": {"type": "integer"})");
  EXPECT_EQ(check(base, newer, compatibility_mode::backward_transitive).size(), 1u);
  EXPECT_TRUE(check(base, newer, compatibility_mode::forward_transitive).empty());
  EXPECT_EQ(check(base, newer, compatibility_mode::full_transitive).size(), 1u);
  EXPECT_TRUE(check(base, newer, compatibility_mode::none).empty());
}

TEST(catalog_compatibility, schemas_that_are_not_json_fail) {
  auto result = check_compatibility("{", base, compatibility_mode::backward);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, errc::invalid_argument);
  EXPECT_THAT(result.error().message, HasSubstr("older"));
}

TEST(catalog_compatibility, modes_parse_case_insensitively_and_reject_others) {
  EXPECT_EQ(*parse_compatibility_mode("full_transitive"), compatibility_mode::full_transitive);
  EXPECT_EQ(*parse_compatibility_mode("BACKWARD"), compatibility_mode::backward);
  auto bad = parse_compatibility_mode("SIDEWAYS");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("FULL_TRANSITIVE"));
}

}  // namespace
}  // namespace aw::events
