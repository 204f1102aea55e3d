// Random mutations of real inputs through the envelope decoder and the JSON Schema validator. A crash,
// a sanitizer report or a broken invariant fails the test and prints the input that caused it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/json_schema.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

std::chrono::seconds budget() {
  const char* env = std::getenv("AW_FUZZ_SECONDS");
  return std::chrono::seconds(env ? std::atoi(env) : 10);
}

std::vector<std::string> seeds() {
  std::vector<std::string> out;
  envelope e;
  e.meta = {new_uuid_v4(), "content.book.published", "1.0", now_timestamp(), "req-1", "content", new_trace(),
            "\"tenant\":\"acme\""};
  e.data = R"({"book_id":"b-1","tags":["a","b"],"price":{"amount":12.5,"currency":"EUR"},"pages":412,"x":null})";
  out.push_back(encode(e));
  const std::filesystem::path suite = std::filesystem::path(AW_TESTDATA_DIR) / "json-test-suite" / "test_parsing";
  if (std::filesystem::exists(suite)) {
    for (const auto& file : std::filesystem::directory_iterator(suite)) {
      std::ifstream in(file.path(), std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (out.size() > 200) break;
    }
  }
  return out;
}

std::string mutate(std::string input, std::mt19937_64& rng) {
  static const std::string tokens[] = {"{", "}", "[", "]", "\"", ":", ",", "\\u0000", "\\ud800", "\xff", "\xc3",
                                       "1e999", "-0", "null", "\"meta\"", "\"data\"", "\"id\"", "{}", "\n"};
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    const std::size_t at = input.empty() ? 0 : rng() % (input.size() + 1);
    switch (rng() % 4) {
      case 0:
        if (!input.empty() && at < input.size()) input[at] = static_cast<char>(rng());
        break;
      case 1:
        if (!input.empty() && at < input.size()) input.erase(at, 1 + rng() % 8);
        break;
      case 2: input.insert(at, tokens[rng() % std::size(tokens)]); break;
      default:
        if (!input.empty()) input.insert(at, input.substr(rng() % input.size(), 1 + rng() % 16));
    }
  }
  return input;
}

TEST(input_fuzz, envelope_decoder_never_crashes_and_accepted_events_round_trip) {
  const auto corpus = seeds();
  std::mt19937_64 rng(std::random_device{}());
  envelope_decoder decoder;
  std::size_t runs = 0, accepted = 0;
  const auto deadline = std::chrono::steady_clock::now() + budget();
  while (std::chrono::steady_clock::now() < deadline) {
    const auto input = mutate(corpus[rng() % corpus.size()], rng);
    ++runs;
    auto decoded = decoder.decode(input);
    if (!decoded) {
      ASSERT_TRUE(decoded.error().code == errc::invalid_json || decoded.error().code == errc::invalid_envelope)
          << "unexpected error " << decoded.error().describe() << " for input (base64) "
          << detail::base64_encode(input);
      continue;
    }
    ++accepted;
    ASSERT_TRUE(detail::is_valid_utf8(input)) << detail::base64_encode(input);
    auto again = decoder.decode(encode(*decoded));
    ASSERT_TRUE(again) << again.error().describe() << " after re-encoding " << detail::base64_encode(input);
    ASSERT_EQ(*again, *decoded) << detail::base64_encode(input);
  }
  std::printf("envelope decoder: %zu inputs, %zu accepted\n", runs, accepted);
}

TEST(input_fuzz, schema_validator_never_crashes_on_hostile_schemas_or_instances) {
  const auto corpus = seeds();
  const std::vector<std::string> schemas = {
      R"({"type":"object","properties":{"a":{"type":"string","pattern":"^(a+)+$"}},"required":["a"]})",
      R"({"$defs":{"n":{"type":"array","items":{"$ref":"#/$defs/n"}}},"$ref":"#/$defs/n"})",
      R"({"anyOf":[{"type":"integer","multipleOf":0.0001},{"uniqueItems":true}],"unevaluatedProperties":false})",
      R"({"$schema":"http://json-schema.org/draft-07/schema#","dependencies":{"a":["b"]},"format":"date-time"})",
  };
  std::mt19937_64 rng(std::random_device{}());
  std::size_t runs = 0, compiled = 0;
  const auto deadline = std::chrono::steady_clock::now() + budget();
  while (std::chrono::steady_clock::now() < deadline) {
    ++runs;
    const auto schema_text = rng() % 4 == 0 ? mutate(schemas[rng() % schemas.size()], rng) : schemas[rng() % schemas.size()];
    auto schema = json_schema::compile(schema_text, {.format_assertion = (rng() % 2) == 0});
    if (!schema) continue;
    ++compiled;
    const auto instance = mutate(corpus[rng() % corpus.size()], rng);
    const auto errors = schema->validate(instance);
    ASSERT_EQ(errors.empty(), schema->is_valid(instance))
        << "validate and is_valid disagree; schema " << schema_text << " instance " << detail::base64_encode(instance);
  }
  std::printf("schema validator: %zu runs, %zu schemas compiled\n", runs, compiled);
}

}  // namespace
}  // namespace aw::events
