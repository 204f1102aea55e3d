// valijson (Debian libvalijson-dev) peer of `aw-events bench validate`, over RapidJSON documents (its
// fastest adapter). Built by bench/peers/run_validate_bench.sh outside the aw-events build.
// Usage: valijson_harness SCHEMA_FILE INSTANCES_FILE [SECONDS]. valijson implements draft 7, which has the
// same semantics as 2020-12 for every keyword the bench schema uses.
#include <rapidjson/document.h>

#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include <deque>

#include "harness_common.hpp"

int main(int argc, char** argv) try {
  auto args = peer::parse_arguments(argc, argv);
  rapidjson::Document schema_doc;
  std::string schema_text = peer::read_file(args.schema_file);
  if (schema_doc.Parse(schema_text.c_str()).HasParseError()) throw std::runtime_error("schema is not JSON");
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  parser.populateSchema(valijson::adapters::RapidJsonAdapter(schema_doc), schema);

  auto texts = peer::read_lines(args.instances_file);
  std::deque<rapidjson::Document> docs;
  double parse_ns = peer::time_parse(
      [&] {
        docs.clear();
        for (const auto& t : texts) {
          docs.emplace_back();
          if (docs.back().Parse(t.c_str()).HasParseError()) throw std::runtime_error("instance is not JSON");
        }
      },
      texts.size(), args.seconds);

  valijson::Validator validator;
  auto timing = peer::time_validate(
      [&](size_t i) { return validator.validate(schema, valijson::adapters::RapidJsonAdapter(docs[i]), nullptr); },
      docs.size(), args.seconds);
  peer::print_result("valijson", "valijson 1.0 (Debian) + RapidJSON", docs.size(), timing, parse_ns);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "valijson_harness: %s\n", e.what());
  return 1;
}
