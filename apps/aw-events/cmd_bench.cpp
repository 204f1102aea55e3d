// aw-events bench publish|consume: end-to-end throughput against a baseline measured in the same run.
#include "bench.hpp"
#include "cli.hpp"
#include "validate_bench.hpp"

namespace aw::cli {

void add_bench(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto options = std::make_shared<bench::bench_options>();
  auto* app = root.add_subcommand("bench", "benchmarks reported as ratios against a same-run baseline");
  app->require_subcommand(1);
  auto add_common = [options](CLI::App* sub) {
    sub->add_option("--transport", options->transport, "mock-kafka (default), kafka (--bootstrap-servers) or embedded")
        ->check(CLI::IsMember({"mock-kafka", "kafka", "embedded"}))
        ->capture_default_str();
    sub->add_option("--events", options->events, "events per run")->check(CLI::Range(1, 10000000))->capture_default_str();
    sub->add_option("--data-bytes", options->data_bytes, "size of each data object")->capture_default_str();
    sub->add_option("--partitions", options->partitions, "partitions of the bench topic")->capture_default_str();
    sub->add_option("--keys", options->keys, "distinct partition keys")->check(CLI::Range(1, 1000000))->capture_default_str();
    sub->add_option("--threads", options->threads, "publishing threads (embedded)")->check(CLI::Range(1, 64))->capture_default_str();
    sub->add_option("--dir", options->store_dir, "scratch directory for the embedded benches")->capture_default_str();
  };
  auto* publish = app->add_subcommand("publish", "publish throughput: aw-events vs raw librdkafka / plain SQLite");
  auto* consume = app->add_subcommand("consume", "consume throughput: aw-events vs raw librdkafka / plain SQLite");
  add_common(publish);
  add_common(consume);
  commands.push_back({"bench publish", publish, [&globals, options] {
                        options->bootstrap_servers = globals.bootstrap_servers;
                        if (!globals.bootstrap_servers.empty() && options->transport == "mock-kafka") options->transport = "kafka";
                        return bench::run_publish_bench(*options, print_line);
                      }});
  commands.push_back({"bench consume", consume, [&globals, options] {
                        options->bootstrap_servers = globals.bootstrap_servers;
                        if (!globals.bootstrap_servers.empty() && options->transport == "mock-kafka") options->transport = "kafka";
                        return bench::run_consume_bench(*options, print_line);
                      }});
  // bench validate: the JSON Schema validator against Ajv, Blaze and valijson (bench/validate_bench.cpp).
  auto validate_options = std::make_shared<bench::validate_bench_options>();
  auto* validate = app->add_subcommand("validate", "JSON Schema validation ns/instance: aw-events vs Ajv, Blaze, valijson");
  validate->add_option("--instances", validate_options->instances, "distinct instances (300-600 bytes, 10% invalid)")
      ->check(CLI::Range(10, 1000000))->capture_default_str();
  validate->add_option("--seconds", validate_options->seconds, "measuring time per subject")->capture_default_str();
  validate->add_option("--dir", validate_options->work_dir, "where schema.json and instances.jsonl are written")->capture_default_str();
  validate->add_option("--peers-dir", validate_options->peers_dir, "bench/peers of the source tree");
  validate->add_option("--ajv-prefix", validate_options->ajv_prefix, "npm prefix holding ajv@8 + ajv-formats@3")->envname("AW_BENCH_AJV_PREFIX");
  validate->add_option("--blaze-harness", validate_options->blaze_harness, "blaze_harness binary")->envname("AW_BENCH_BLAZE_HARNESS");
  validate->add_option("--valijson-harness", validate_options->valijson_harness, "valijson_harness binary")->envname("AW_BENCH_VALIJSON_HARNESS");
  commands.push_back({"bench validate", validate, [validate_options] {
                        if (validate_options->peers_dir.empty()) validate_options->peers_dir = bench::default_peers_dir();
                        return bench::run_validate_bench(*validate_options, print_line);
                      }});
}

}  // namespace aw::cli
