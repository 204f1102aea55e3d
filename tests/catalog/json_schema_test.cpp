// Behaviour of json_schema beyond the official suite: error locations in the "basic" output,
// invalid schemas, hostile patterns.
#include <chrono>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/json_schema.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;

json_schema compile_ok(std::string_view text, schema_options options = {}) {
  auto schema = json_schema::compile(text, options);
  EXPECT_TRUE(schema) << (schema ? "" : schema.error().message);
  if (!schema) std::abort();
  return std::move(*schema);
}

std::string compile_error(std::string_view text, schema_options options = {}) {
  auto schema = json_schema::compile(text, options);
  EXPECT_FALSE(schema) << "compiled: " << text;
  if (schema) return {};
  EXPECT_EQ(schema.error().code, errc::invalid_argument);
  return schema.error().message;
}

constexpr std::string_view person_schema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["name", "age"],
  "properties": {
    "name": {"type": "string", "minLength": 1},
    "age": {"type": "integer", "minimum": 18},
    "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
    "address": {"$ref": "#/$defs/address"}
  },
  "additionalProperties": false,
  "$defs": {
    "address": {"type": "object", "properties": {"zip": {"type": "string", "maxLength": 5}}}
  }
})";

TEST(json_schema, accepts_a_valid_instance_without_errors) {
  auto schema = compile_ok(person_schema);
  EXPECT_TRUE(schema.validate(R"({"name":"Ann","age":30,"tags":["a","b"]})").empty());
  EXPECT_TRUE(schema.is_valid(R"({"name":"Ann","age":30})"));
}

TEST(json_schema, reports_keyword_and_instance_locations_of_a_failed_minimum) {
  auto schema = compile_ok(person_schema);
  auto errors = schema.validate(R"({"name":"Ann","age":12})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_location, "/age");
  EXPECT_EQ(errors[0].keyword_location, "/properties/age/minimum");
  EXPECT_THAT(errors[0].message, HasSubstr(">= 18"));
  EXPECT_FALSE(schema.is_valid(R"({"name":"Ann","age":12})"));
}

TEST(json_schema, reports_every_failure_with_its_own_location) {
  auto schema = compile_ok(person_schema);
  auto errors = schema.validate(R"({"age":"x","tags":["ok","Bad"],"extra":1,"address":{"zip":"1234567"}})");
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& e : errors) got.emplace_back(e.instance_location, e.keyword_location);
  EXPECT_THAT(got, ::testing::UnorderedElementsAre(
                       std::pair<std::string, std::string>{"", "/required"},
                       std::pair<std::string, std::string>{"/age", "/properties/age/type"},
                       std::pair<std::string, std::string>{"/tags/1", "/properties/tags/items/pattern"},
                       std::pair<std::string, std::string>{"/extra", "/additionalProperties"},
                       std::pair<std::string, std::string>{"/address/zip",
                                                           "/properties/address/$ref/properties/zip/maxLength"}));
  for (const auto& e : errors) {
    if (e.keyword_location == "/required") EXPECT_THAT(e.message, HasSubstr("\"name\""));
    if (e.keyword_location == "/additionalProperties") EXPECT_THAT(e.message, HasSubstr("\"extra\""));
  }
}

TEST(json_schema, escapes_json_pointer_tokens_in_locations) {
  auto schema = compile_ok(R"({"properties": {"a/b~c": {"type": "string"}}})");
  auto errors = schema.validate(R"({"a/b~c": 1})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_location, "/a~1b~0c");
  EXPECT_EQ(errors[0].keyword_location, "/properties/a~1b~0c/type");
}

TEST(json_schema, summarises_any_of_and_one_of_failures_at_the_keyword) {
  auto schema = compile_ok(R"({"properties": {"v": {"anyOf": [{"type": "string"}, {"minimum": 3}]},
                                              "w": {"oneOf": [{"minimum": 1}, {"maximum": 5}]}}})");
  auto errors = schema.validate(R"({"v": 1, "w": 3})");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].instance_location, "/v");
  EXPECT_EQ(errors[0].keyword_location, "/properties/v/anyOf");
  EXPECT_EQ(errors[1].instance_location, "/w");
  EXPECT_EQ(errors[1].keyword_location, "/properties/w/oneOf");
  EXPECT_THAT(errors[1].message, HasSubstr("0 and 1"));
}

TEST(json_schema, uses_draft7_from_schema_keyword_where_ref_overrides_siblings) {
  auto schema = compile_ok(R"({"$schema": "http://json-schema.org/draft-07/schema#",
                               "definitions": {"s": {"type": "string"}},
                               "properties": {"x": {"$ref": "#/definitions/s", "maxLength": 1}}})");
  EXPECT_EQ(schema.draft(), schema_draft::draft7);
  EXPECT_TRUE(schema.is_valid(R"({"x": "long string"})"));
  EXPECT_FALSE(schema.is_valid(R"({"x": 1})"));
}

TEST(json_schema, default_draft_option_applies_without_schema_keyword) {
  schema_options options;
  options.default_draft = schema_draft::draft7;
  auto schema = compile_ok(R"({"items": [{"type": "integer"}], "additionalItems": false})", options);
  EXPECT_TRUE(schema.is_valid("[1]"));
  EXPECT_FALSE(schema.is_valid("[1, 2]"));
  auto errors = schema.validate("[1, 2]");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_location, "/1");
  EXPECT_EQ(errors[0].keyword_location, "/additionalItems");
}

TEST(json_schema, const_and_enum_use_json_equality) {
  auto schema = compile_ok(R"({"properties": {"c": {"const": {"a": [1, 2.0]}}, "e": {"enum": [1, "x"]}}})");
  EXPECT_TRUE(schema.is_valid(R"({"c": {"a": [1.0, 2]}, "e": 1.0})"));
  EXPECT_FALSE(schema.is_valid(R"({"c": {"a": [2, 1]}})"));
  auto errors = schema.validate(R"({"e": "y"})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword_location, "/properties/e/enum");
}

TEST(json_schema, format_is_an_annotation_unless_assertion_is_enabled) {
  constexpr std::string_view text = R"({"type": "string", "format": "date-time"})";
  EXPECT_TRUE(compile_ok(text).is_valid(R"("yesterday")"));
  schema_options options;
  options.format_assertion = true;
  auto strict = compile_ok(text, options);
  EXPECT_TRUE(strict.is_valid(R"("2024-02-29T12:30:00.5+01:00")"));
  EXPECT_FALSE(strict.is_valid(R"("2023-02-29T12:30:00Z")"));
  auto errors = strict.validate(R"("yesterday")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword_location, "/format");
}

TEST(json_schema, reports_malformed_instances_as_one_error) {
  auto schema = compile_ok(R"({"type": "object"})");
  auto errors = schema.validate(R"({"a": )");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_location, "");
  EXPECT_THAT(errors[0].message, HasSubstr("not valid JSON"));
  EXPECT_FALSE(schema.is_valid("{,}"));
}

TEST(json_schema, unevaluated_properties_see_properties_of_valid_branches_only) {
  auto schema = compile_ok(R"({"anyOf": [{"properties": {"a": true}, "required": ["a"]},
                                         {"properties": {"b": true}, "required": ["b"]}],
                               "unevaluatedProperties": false})");
  EXPECT_TRUE(schema.is_valid(R"({"a": 1, "b": 2})"));
  auto errors = schema.validate(R"({"a": 1, "c": 2})");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_location, "/c");
  EXPECT_EQ(errors[0].keyword_location, "/unevaluatedProperties");
}

TEST(json_schema, rejects_schemas_that_are_not_json) {
  EXPECT_THAT(compile_error(R"({"type": )"), HasSubstr("not valid JSON"));
}

TEST(json_schema, rejects_keywords_of_the_wrong_type_naming_where) {
  auto message = compile_error(R"({"properties": {"a": {"minimum": "3"}}})");
  EXPECT_THAT(message, HasSubstr("#/properties/a"));
  EXPECT_THAT(message, HasSubstr("minimum"));
  EXPECT_THAT(compile_error(R"({"type": "strin"})"), HasSubstr("strin"));
  EXPECT_THAT(compile_error(R"({"required": "a"})"), HasSubstr("required"));
  EXPECT_THAT(compile_error(R"({"items": 3})"), HasSubstr("items"));
  EXPECT_THAT(compile_error(R"({"multipleOf": 0})"), HasSubstr("multipleOf"));
  EXPECT_THAT(compile_error(R"({"minLength": -1})"), HasSubstr("minLength"));
  EXPECT_THAT(compile_error("[1]"), HasSubstr("object or a boolean"));
}

TEST(json_schema, rejects_unresolvable_references) {
  EXPECT_THAT(compile_error(R"({"$ref": "#/$defs/missing"})"), HasSubstr("#/$defs/missing"));
  EXPECT_THAT(compile_error(R"({"$ref": "#nowhere"})"), HasSubstr("unknown anchor"));
  EXPECT_THAT(compile_error(R"({"$ref": "http://example.com/other.json"})"), HasSubstr("http://example.com/other.json"));
}

TEST(json_schema, resolves_remote_references_through_the_callback) {
  schema_options options;
  options.resolve_remote = [](std::string_view uri) -> std::optional<std::string> {
    if (uri == "https://example.com/defs.json") return R"({"$defs": {"id": {"type": "string", "minLength": 3}}})";
    return std::nullopt;
  };
  auto schema = compile_ok(R"({"$id": "https://example.com/root.json", "$ref": "defs.json#/$defs/id"})", options);
  EXPECT_TRUE(schema.is_valid(R"("abc")"));
  auto errors = schema.validate(R"("ab")");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword_location, "/$ref/minLength");
}

TEST(json_schema, rejects_patterns_that_need_backtracking) {
  EXPECT_THAT(compile_error(R"({"pattern": "(a)\\1"})"), HasSubstr("backreference"));
  EXPECT_THAT(compile_error(R"j({"patternProperties": {"^(?=x)": true}})j"), HasSubstr("lookaround"));
  EXPECT_THAT(compile_error(R"({"pattern": "[a-"})"), HasSubstr("pattern"));
}

TEST(json_schema, translates_ecma_character_classes) {
  auto schema = compile_ok(R"({"pattern": "^\\d+\\s\\w$"})");
  EXPECT_TRUE(schema.is_valid(R"("12\u00a0x")"));  // ECMA \s includes no-break space
  EXPECT_FALSE(schema.is_valid(R"("\u0661\u0662 x")"));  // \d is ASCII only
  auto letters = compile_ok(R"({"pattern": "^\\p{Letter}+$"})");
  EXPECT_TRUE(letters.is_valid(R"("ÄÖü")"));
  EXPECT_FALSE(letters.is_valid(R"("a1")"));
}

TEST(json_schema, decides_a_hostile_pattern_in_linear_time) {
  auto schema = compile_ok(R"({"pattern": "^(a+)+$"})");
  std::string instance = "\"" + std::string(50000, 'a') + "!\"";
  auto start = std::chrono::steady_clock::now();
  auto errors = schema.validate(instance);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].keyword_location, "/pattern");
  // The acceptance bound is 10 ms; 50 ms leaves room for sanitizer builds.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 50);
}

TEST(json_schema, counts_string_length_in_code_points) {
  auto schema = compile_ok(R"({"maxLength": 2, "minLength": 2})");
  EXPECT_TRUE(schema.is_valid(R"("💩é")"));
  EXPECT_FALSE(schema.is_valid(R"("abc")"));
}

TEST(json_schema, stops_infinite_schema_recursion) {
  auto schema = compile_ok(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})");
  auto errors = schema.validate("1");
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors.back().message, HasSubstr("too deep"));
}

TEST(json_schema, copies_share_the_compiled_program) {
  auto schema = compile_ok(R"({"type": "integer"})");
  json_schema copy = schema;
  EXPECT_TRUE(copy.is_valid("3"));
  EXPECT_FALSE(copy.is_valid("3.5"));
}

}  // namespace
}  // namespace aw::events

namespace aw::events {
namespace {

TEST(json_schema, validates_a_document_parsed_beforehand_like_its_text) {
  auto schema = compile_ok(person_schema);
  const std::string good = R"({"name":"Ada","age":36,"tags":["math"]})";
  const std::string bad = R"({"name":"","age":12,"tags":["Math"]})";
  auto good_doc = json_document::parse(good);
  auto bad_doc = json_document::parse(bad);
  ASSERT_TRUE(good_doc && bad_doc);
  EXPECT_TRUE(schema.is_valid(*good_doc));
  EXPECT_TRUE(schema.validate(*good_doc).empty());
  EXPECT_FALSE(schema.is_valid(*bad_doc));
  EXPECT_EQ(schema.validate(*bad_doc), schema.validate(bad));
  // One parsed document, several schemas; and a moved document stays usable.
  auto anything = compile_ok(R"({"type":"object"})");
  json_document moved = std::move(*bad_doc);
  EXPECT_TRUE(anything.is_valid(moved));
  EXPECT_FALSE(schema.is_valid(moved));

  auto broken = json_document::parse(R"({"name":)");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, errc::invalid_argument);
  EXPECT_THAT(broken.error().message, HasSubstr("not valid JSON"));
}

// Patterns outside the DFA subset ("\s", ".") still run on RE2, also in linear time.
TEST(json_schema, decides_a_hostile_pattern_outside_the_dfa_subset_in_linear_time) {
  auto schema = compile_ok(R"({"pattern": "^(\\s?.a+)+$"})");
  std::string instance = "\"" + std::string(50000, 'a') + "!\"";
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(schema.is_valid(instance));  // every repetition ends with "a", the text ends with "!"
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 50);
}

}  // namespace
}  // namespace aw::events
