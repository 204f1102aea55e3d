// Envelope encode/decode against simdjson's bare parse of the same bytes (the floor for decoding).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"

namespace {

aw::events::envelope sample() {
  aw::events::envelope e;
  e.meta.id = aw::events::new_uuid_v4();
  e.meta.type = "content.book.published";
  e.meta.version = "1.0";
  e.meta.timestamp = aw::events::now_timestamp();
  e.meta.correlation_id = aw::events::new_uuid_v4();
  e.meta.source = "content";
  e.meta.trace = aw::events::new_trace();
  e.data = R"({"book_id":"b-42","title":"The Long Night","authors":["a-1","a-2"],"isbn":"978-3-16-148410-0","pages":412})";
  return e;
}

void encode(benchmark::State& state) {
  const auto e = sample();
  std::string out;
  for (auto _ : state) {
    out.clear();
    aw::events::encode_to(e, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(encode);

void decode_and_validate(benchmark::State& state) {
  const auto text = aw::events::encode(sample());
  aw::events::envelope_decoder decoder;
  for (auto _ : state) {
    auto decoded = decoder.decode(text);
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(decode_and_validate);

// The consumer's steady state: one envelope refilled in place, so no allocation per event.
void decode_into_and_validate(benchmark::State& state) {
  const auto text = aw::events::encode(sample());
  aw::events::envelope_decoder decoder;
  aw::events::envelope out;
  for (auto _ : state) {
    auto decoded = decoder.decode_into(text, out);
    benchmark::DoNotOptimize(decoded);
    benchmark::DoNotOptimize(out.data.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(decode_into_and_validate);

void simdjson_bare_parse(benchmark::State& state) {
  const auto text = aw::events::encode(sample());
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    auto error = parser.parse(text.data(), text.size(), true).get(root);
    benchmark::DoNotOptimize(error);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(simdjson_bare_parse);

}  // namespace

BENCHMARK_MAIN();
