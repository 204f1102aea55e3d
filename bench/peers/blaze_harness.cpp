// Blaze (sourcemeta/blaze v1.0.0) peer of `aw-events bench validate`. Blaze is built outside the
// aw-events repository (bench/peers/build_blaze.sh) and never committed; this harness links against it.
// Usage: blaze_harness SCHEMA_FILE INSTANCES_FILE [SECONDS]. Compiled in Blaze's FastValidation mode.
#include <sourcemeta/blaze/compiler.h>
#include <sourcemeta/blaze/evaluator.h>
#include <sourcemeta/core/json.h>
#include <sourcemeta/core/jsonschema.h>

#include "harness_common.hpp"

int main(int argc, char** argv) try {
  auto args = peer::parse_arguments(argc, argv);
  const auto schema = sourcemeta::core::parse_json(peer::read_file(args.schema_file));
  const auto schema_template =
      sourcemeta::blaze::compile(schema, sourcemeta::core::schema_official_walker,
                                 sourcemeta::core::schema_official_resolver,
                                 sourcemeta::blaze::default_schema_compiler, sourcemeta::blaze::Mode::FastValidation);

  auto texts = peer::read_lines(args.instances_file);
  std::vector<sourcemeta::core::JSON> docs;
  double parse_ns = peer::time_parse(
      [&] {
        docs.clear();
        for (const auto& t : texts) docs.push_back(sourcemeta::core::parse_json(t));
      },
      texts.size(), args.seconds);

  sourcemeta::blaze::Evaluator evaluator;
  auto timing = peer::time_validate([&](size_t i) { return evaluator.validate(schema_template, docs[i]); },
                                    docs.size(), args.seconds);
  peer::print_result("blaze", "blaze v1.0.0 (FastValidation)", docs.size(), timing, parse_ns);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "blaze_harness: %s\n", e.what());
  return 1;
}
