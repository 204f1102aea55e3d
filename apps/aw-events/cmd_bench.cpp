// aw-events bench publish|consume: end-to-end throughput against a baseline measured in the same run.
#include "bench.hpp"
#include "cli.hpp"

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
}

}  // namespace aw::cli
