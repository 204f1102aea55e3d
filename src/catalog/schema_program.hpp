// The compiled form of a JSON Schema: a flat vector of nodes, one per (sub)schema, with references
// resolved to node indices, regexes compiled and enum/const values kept as parsed JSON.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <re2/re2.h>
#include <simdjson.h>

#include "aw/events/json_schema.hpp"
#include "catalog/fast_regex.hpp"

namespace aw::events::schema_detail {

using simdjson::dom::element;

inline constexpr int32_t no_node = -1;

enum type_bit : uint8_t {
  type_null = 1,
  type_boolean = 2,
  type_object = 4,
  type_array = 8,
  type_number = 16,
  type_string = 32,
  type_integer = 64,
};

enum class format_kind : uint8_t {
  none,
  date_time,
  date,
  time,
  duration,
  email,
  uuid,
  uri,
  uri_reference,
  hostname,
  ipv4,
  ipv6,
};

[[nodiscard]] format_kind format_from_name(std::string_view name) noexcept;
[[nodiscard]] bool check_format(format_kind kind, std::string_view value) noexcept;

// Translates an ECMA-262 pattern to RE2 syntax. Returns false (with why) for constructs RE2
// cannot run in linear time (lookarounds, backreferences).
[[nodiscard]] bool ecma_to_re2(std::string_view pattern, std::string& out, std::string& why);

struct regex {
  std::string source;  // the ECMA pattern as written, for messages
  std::unique_ptr<RE2> re;
  std::unique_ptr<fast_regex> fast;  // the same pattern as a DFA, when it is in fast_regex's subset
  // Unanchored search, as ECMA RegExp.test; Match() directly skips PartialMatch's argument plumbing.
  bool matches(std::string_view text) const {
    if (fast) return fast->matches(text);
    return re->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, nullptr, 0);
  }
};

struct named_node {
  std::string_view name;  // points into a parsed schema document owned by the program
  int32_t node = no_node;
  int32_t required_bit = -1;  // for "properties": this name's position in "required", if listed
};

struct pattern_node {
  uint32_t regex = 0;
  int32_t node = no_node;
};

struct dependent_required_entry {
  std::string_view name;
  std::vector<std::string_view> required;
  // When every required name is also in "properties" (and there are at most 64), presence is
  // tracked by bits while iterating the instance once instead of one lookup per name.
  bool required_via_properties = false;
};

// A numeric limit; long double holds every int64, uint64 and double exactly on x86-64.
struct limit {
  bool present = false;
  long double value = 0;
  double as_double = 0;
};

struct node {
  // Boolean schemas: true accepts everything, false nothing.
  bool is_boolean = false;
  bool boolean_value = true;
  uint32_t resource = 0;

  uint8_t types = 0;  // 0: no "type" keyword
  bool has_const = false;
  element const_value;
  bool has_enum = false;
  std::vector<element> enum_values;
  // When every enum value is a string: those strings, compared directly without JSON-equality dispatch.
  bool enum_all_strings = false;
  std::vector<std::string_view> enum_strings;

  int32_t ref = no_node;
  int32_t dynamic_ref = no_node;
  std::string dynamic_anchor_name;  // set when dynamic_ref may be re-resolved in the dynamic scope

  std::vector<int32_t> all_of, any_of, one_of;
  int32_t not_ = no_node;
  int32_t if_ = no_node, then_ = no_node, else_ = no_node;

  // numbers
  limit minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;
  bool multiple_of_integer = false;  // the divisor is an integer: exact arithmetic on integers
  uint64_t multiple_of_int = 0;

  // strings
  int64_t min_length = -1, max_length = -1;
  int32_t pattern = -1;  // index into program::regexes
  format_kind format = format_kind::none;
  std::string_view format_name;

  // arrays. Draft-07 "items": [..] and 2020-12 "prefixItems" both fill prefix_items; the schema for
  // the remaining items is draft-07 "additionalItems"/"items" (schema form) or 2020-12 "items".
  std::vector<int32_t> prefix_items;
  const char* prefix_items_keyword = "prefixItems";
  int32_t rest_items = no_node;
  const char* rest_items_keyword = "items";
  int32_t contains = no_node;
  int64_t min_contains = 1, max_contains = -1;
  int64_t min_items = -1, max_items = -1;
  bool unique_items = false;
  int32_t unevaluated_items = no_node;

  // objects
  std::vector<named_node> properties;
  // "properties" as an open-addressing table of indices into `properties` (-1: empty) when there are more
  // than a few: one probe and one comparison per instance member instead of a scan.
  std::vector<int16_t> property_slots;
  uint32_t property_mask = 0;
  std::vector<pattern_node> pattern_properties;
  int32_t additional_properties = no_node;
  int32_t property_names = no_node;
  std::vector<std::string_view> required;
  // When every required name is also in "properties" (and there are at most 64), presence is
  // tracked by bits while iterating the instance once instead of one lookup per name.
  bool required_via_properties = false;
  std::vector<dependent_required_entry> dependent_required;
  const char* dependent_required_keyword = "dependentRequired";
  std::vector<named_node> dependent_schemas;
  const char* dependent_schemas_keyword = "dependentSchemas";
  int64_t min_properties = -1, max_properties = -1;
  int32_t unevaluated_properties = no_node;

  // Summary flags so the evaluator skips whole keyword groups.
  bool has_number_keywords = false;
  bool has_string_keywords = false;
  bool has_array_keywords = false;
  bool has_object_keywords = false;
  bool has_applicators = false;
};

// Equality of two byte ranges of length n, inline for the short names and enum values schemas are made
// of (a libc memcmp call costs more than the comparison). Loads stay within [a, a + n) and [b, b + n).
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
  auto load64 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load32 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    return load64(a) == load64(b) && load64(a + n - 8) == load64(b + n - 8);
  }
  if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The hash of "properties" tables: length and three characters, cheap and distinct for typical names.
inline uint32_t property_hash(std::string_view k) noexcept {
  uint32_t h = static_cast<uint32_t>(k.size()) * 0x9E3779B1u;
  if (!k.empty()) {
    h ^= static_cast<uint8_t>(k.front()) * 0x85EBCA6Bu;
    h ^= static_cast<uint8_t>(k.back()) * 0xC2B2AE35u;
    h ^= static_cast<uint8_t>(k[k.size() / 2]) * 0x27D4EB2Fu;
  }
  return h ^ (h >> 15);
}

struct resource {
  std::string uri;
  std::unordered_map<std::string, int32_t> dynamic_anchors;  // name -> node
};

inline bool is_numeric(simdjson::dom::element_type t) {
  using simdjson::dom::element_type;
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

// A JSON number as long double: exact for every int64/uint64 and double, so 1 and 1.0 compare equal.
inline long double number_of(const element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64: return static_cast<long double>(int64_t(e));
    case simdjson::dom::element_type::UINT64: return static_cast<long double>(uint64_t(e));
    default: return static_cast<long double>(double(e));
  }
}

}  // namespace aw::events::schema_detail

namespace aw::events {

struct json_schema::program {
  schema_draft draft = schema_draft::draft2020_12;
  bool format_assertion = false;
  bool uses_dynamic_scope = false;
  int32_t root = 0;
  std::vector<schema_detail::node> nodes;
  std::vector<schema_detail::regex> regexes;
  std::vector<schema_detail::resource> resources;
  // The parsed schema documents; nodes point into them (names, enum and const values).
  std::vector<std::unique_ptr<simdjson::dom::document>> documents;
};

}  // namespace aw::events
