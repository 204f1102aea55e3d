// aw-events bench validate: the JSON Schema validator against its peers (Ajv 8 + ajv-formats, Blaze v1.0.0,
// valijson) on one realistic schema and the same deterministic set of 300–600-byte instances.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench.hpp"

namespace aw::bench {

struct validate_bench_options {
  std::size_t instances = 1000;       // distinct instances, ~10% invalid
  double seconds = 1.0;               // measuring budget per subject (after warm-up)
  std::string work_dir = "./aw-events-data/bench-validate";  // schema.json + instances.jsonl for the peers
  std::string peers_dir;              // bench/peers of the source tree (harness scripts)
  std::string ajv_prefix;             // npm --prefix holding ajv@8 and ajv-formats@3; empty: Ajv skipped
  std::string blaze_harness;          // built blaze_harness binary; empty: Blaze skipped
  std::string valijson_harness;       // built valijson_harness binary; empty: valijson skipped
};

// The bench schema (draft 2020-12) and the instances, one minified JSON document per entry.
[[nodiscard]] std::string validate_bench_schema();
[[nodiscard]] std::vector<std::string> validate_bench_instances(std::size_t count);

// bench/peers of the source tree this program was built from.
[[nodiscard]] std::string default_peers_dir();

// Returns a process exit code; every figure goes through print as a JSON line.
int run_validate_bench(const validate_bench_options& options, const printer& print);

}  // namespace aw::bench
