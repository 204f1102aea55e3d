// libFuzzer target over the JSON Schema validator (built with clang -fsanitize=fuzzer,address,undefined by
// build.sh). Two modes, chosen by the first input byte:
//  - even: a fixed schema (the examples/catalog data schemas plus hand-written ones that reach every
//    keyword family, hostile patterns included), picked by the second byte; the rest is the instance;
//  - odd: the rest is "schema\x00instance", both from the fuzzer.
// Beyond crashes and sanitizer reports, it checks invariants: is_valid() and validate() agree, the string
// and pre-parsed paths agree, an invalid verdict always carries errors, and every pattern's DFA fast path
// decides like RE2.
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/json_schema.hpp"
#include "catalog/schema_program.hpp"

namespace {

using aw::events::json_document;
using aw::events::json_schema;
using aw::events::schema_options;

const char* const builtin_schemas[] = {
    R"({"type":"object","properties":{"a":{"type":"string","pattern":"^(a+)+$"},"b":{"pattern":"^[a-z]{2}(-[A-Z]{2})?$"}},
        "patternProperties":{"^x-[0-9]+$":{"type":"integer","multipleOf":3}},"additionalProperties":{"type":["null","boolean"]},
        "propertyNames":{"maxLength":8},"minProperties":1,"maxProperties":6})",
    R"({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"const":1},{"enum":["x",2.5,null]}],
        "items":{"type":"number","minimum":-5,"exclusiveMaximum":1e300},"contains":{"type":"integer"},"minContains":1,"maxContains":3,
        "uniqueItems":true,"unevaluatedItems":false})",
    R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "next":{"$ref":"#/$defs/node"}},"required":["v"],"unevaluatedProperties":false}},"$ref":"#/$defs/node"})",
    R"({"anyOf":[{"type":"string","format":"date-time"},{"type":"string","format":"uuid"},{"format":"ipv6"},{"format":"email"}],
        "oneOf":[{"maxLength":30},{"minLength":10}],"not":{"const":"forbidden"}})",
    R"({"if":{"properties":{"kind":{"const":"a"}}},"then":{"required":["x"]},"else":{"required":["y"]},
        "dependentRequired":{"x":["z"]},"dependentSchemas":{"y":{"properties":{"y":{"type":"string","format":"hostname"}}}}})",
    R"({"$schema":"http://json-schema.org/draft-07/schema#","definitions":{"s":{"type":"string","pattern":"\\d{3}-\\d{4}"}},
        "items":[{"$ref":"#/definitions/s"},{"format":"duration"}],"additionalItems":{"format":"uri"},
        "dependencies":{"a":["b"],"c":{"required":["d"]}}})",
    R"({"$schema":"https://json-schema.org/draft/2020-12/schema","$dynamicAnchor":"t","type":["object","array"],
        "items":{"$dynamicRef":"#t"},"additionalProperties":{"$dynamicRef":"#t"}})",
};

struct fixed_schema {
  std::string text;
  std::vector<json_schema> compiled;  // format annotation and format assertion
};

std::vector<fixed_schema>& fixed() {
  static std::vector<fixed_schema> schemas;
  return schemas;
}

void add_fixed(const std::string& text) {
  fixed_schema f{text, {}};
  for (bool assertion : {false, true}) {
    schema_options options;
    options.format_assertion = assertion;
    auto compiled = json_schema::compile(text, options);
    if (!compiled) {
      std::fprintf(stderr, "validator_fuzz: a fixed schema does not compile: %s\n%s\n",
                   compiled.error().message.c_str(), text.c_str());
      std::abort();
    }
    f.compiled.push_back(std::move(*compiled));
  }
  fixed().push_back(std::move(f));
}

void check(bool condition, const char* what, std::string_view schema, std::string_view instance) {
  if (condition) return;
  std::fprintf(stderr, "validator_fuzz: invariant broken: %s\nschema: %.*s\ninstance: %.*s\n", what,
               static_cast<int>(schema.size()), schema.data(), static_cast<int>(instance.size()), instance.data());
  std::abort();
}

void exercise(const json_schema& schema, std::string_view schema_text, std::string_view instance) {
  const bool valid = schema.is_valid(instance);
  const auto errors = schema.validate(instance);
  check(valid == errors.empty(), "is_valid() and validate() disagree", schema_text, instance);
  for (const auto& e : errors) {
    check(e.instance_location.empty() || e.instance_location[0] == '/', "instanceLocation is not a JSON Pointer",
          schema_text, instance);
    check(!e.message.empty(), "an error without a message", schema_text, instance);
  }
  if (auto document = json_document::parse(instance)) {
    check(schema.is_valid(*document) == valid, "pre-parsed and string paths disagree", schema_text, instance);
    check(schema.validate(*document).size() == errors.size(), "pre-parsed errors differ", schema_text, instance);
  } else {
    check(!valid, "unparsable instance declared valid", schema_text, instance);
  }
}

// Every pattern of the schema ("pattern" values, "patternProperties" keys) that the DFA fast path
// accepts is run over every string and key of the instance by both the DFA and RE2: they must agree.
void differential_patterns(std::string_view schema_text, std::string_view instance) {
  simdjson::dom::parser schema_parser, instance_parser;
  simdjson::dom::element schema_root, root;
  if (schema_parser.parse(schema_text.data(), schema_text.size()).get(schema_root)) return;
  if (instance_parser.parse(instance.data(), instance.size()).get(root)) return;
  std::vector<std::string_view> patterns, strings;
  auto collect_patterns = [&](auto&& self, simdjson::dom::element e) -> void {
    if (patterns.size() > 32) return;
    if (e.is_array())
      for (auto item : e.get_array()) self(self, item);
    if (e.is_object())
      for (auto [key, value] : e.get_object()) {
        if (key == "pattern" && value.is_string()) patterns.push_back(std::string_view(value));
        if (key == "patternProperties" && value.is_object())
          for (auto [p, sub] : value.get_object()) patterns.push_back(p);
        self(self, value);
      }
  };
  collect_patterns(collect_patterns, schema_root);
  auto collect = [&](auto&& self, simdjson::dom::element e) -> void {
    if (strings.size() > 64) return;
    if (e.is_string()) strings.push_back(std::string_view(e));
    if (e.is_array())
      for (auto item : e.get_array()) self(self, item);
    if (e.is_object())
      for (auto [key, value] : e.get_object()) {
        strings.push_back(key);
        self(self, value);
      }
  };
  collect(collect, root);
  for (auto pattern : patterns) {
    auto fast = aw::events::schema_detail::fast_regex::build(pattern);
    if (!fast) continue;
    std::string translated, why;
    if (!aw::events::schema_detail::ecma_to_re2(pattern, translated, why)) {
      check(false, "the DFA accepts a pattern the RE2 translation refuses", schema_text, pattern);
    }
    RE2::Options options;
    options.set_log_errors(false);
    RE2 re(translated, options);
    if (!re.ok()) continue;  // the validator refuses this schema anyway
    for (auto s : strings) {
      const bool by_re2 = re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, nullptr, 0);
      check(fast->matches(s) == by_re2, "the DFA fast path and RE2 disagree", pattern, s);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  for (const char* s : builtin_schemas) add_fixed(s);
  // The data schemas of the example catalog (realistic nesting, formats and patterns).
  const char* dir = std::getenv("AW_FUZZ_CATALOG_DIR");
  std::filesystem::path catalog = dir ? dir : AW_CATALOG_DIR;
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(catalog, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->path().extension() == ".json") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  simdjson::dom::parser parser;
  for (const auto& file : files) {
    simdjson::dom::element root, schema;
    if (parser.load(file.string()).get(root) || root["schema"].get(schema)) continue;
    add_fixed(simdjson::minify(schema));
  }
  std::fprintf(stderr, "validator_fuzz: %zu fixed schemas (%zu from %s)\n", fixed().size(), files.size(),
               catalog.string().c_str());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  if ((data[0] & 1) == 0) {
    const auto& f = fixed()[data[1] % fixed().size()];
    const auto& schema = f.compiled[(data[0] >> 1) & 1];
    exercise(schema, f.text, input);
    differential_patterns(f.text, input);
    return 0;
  }
  const auto split = input.find('\0');
  if (split == std::string_view::npos) return 0;
  const auto schema_text = input.substr(0, split);
  const auto instance = input.substr(split + 1);
  schema_options options;
  options.format_assertion = (data[1] & 1) != 0;
  auto schema = json_schema::compile(schema_text, options);
  if (!schema) {
    check(!schema.error().message.empty(), "a compile error without a message", schema_text, instance);
    return 0;
  }
  exercise(*schema, schema_text, instance);
  differential_patterns(schema_text, instance);
  return 0;
}
