// aw-events spool status | drain: the producer spool in the --store file (docs/producing.md).
#include <chrono>

#include "cli.hpp"
#include "core/json_text.hpp"
#include "pipeline/spool_drain.hpp"
#include "store/spool.hpp"

namespace aw::cli {
namespace {

struct spool_args {
  std::string service;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string stats_json(const events::store::spool_stats& stats) {
  std::string out = "\"depth\":" + std::to_string(stats.depth);
  char age[32];
  std::snprintf(age, sizeof age, "%.3f", stats.oldest_age_seconds(now_ms()));
  out += ",\"oldest_age_seconds\":";
  out += age;
  return out;
}

int run_status(const global_options& globals, const spool_args& args) {
  auto spool = events::store::spool::open(globals.store);
  if (!spool) {
    print_error("--store " + globals.store + ": " + spool.error().describe());
    return exit_failure;
  }
  auto stats = (*spool)->stats(args.service);
  if (!stats) {
    print_error(stats.error().describe());
    return exit_failure;
  }
  std::string line = "{";
  if (!args.service.empty()) {
    line += "\"service\":";
    events::detail::append_json_string(line, args.service);
    line += ',';
  }
  print_line(line + stats_json(*stats) + "}");
  return exit_ok;
}

int run_drain(const global_options& globals, const spool_args& args) {
  auto spool = events::store::spool::open(globals.store);
  if (!spool) {
    print_error("--store " + globals.store + ": " + spool.error().describe());
    return exit_failure;
  }
  auto transport = globals.open_transport();
  if (!transport) {
    print_error(transport.error().describe());
    return exit_failure;
  }
  auto producer = (*transport)->create_producer({});
  if (!producer) {
    print_error(producer.error().describe());
    return exit_failure;
  }
  auto drained = events::drain_spool(**spool, **producer, args.service);
  if (!drained) {
    print_error("spool not fully drained: " + drained.error().describe());
    auto stats = (*spool)->stats(args.service);
    if (stats) print_line("{\"drained\":false," + stats_json(*stats) + "}");
    return exit_failure;
  }
  print_line("{\"drained\":true,\"sent\":" + std::to_string(drained->sent) + ",\"left\":" +
             std::to_string(drained->left) + "}");
  return drained->left == 0 ? exit_ok : exit_failure;
}

}  // namespace

void add_spool(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<spool_args>();
  auto* spool = root.add_subcommand("spool", "the producer's durable spool in the --store file");
  spool->require_subcommand(1);
  auto* status = spool->add_subcommand("status", "depth and age of the oldest spooled event");
  auto* drain = spool->add_subcommand("drain", "re-send spooled events, oldest first, to the configured transport");
  for (auto* sub : {status, drain}) {
    sub->add_option("--service", args->service, "only this service's spooled events (default: all)");
  }
  commands.push_back({"spool status", status, [&globals, args] { return run_status(globals, *args); }});
  commands.push_back({"spool drain", drain, [&globals, args] { return run_drain(globals, *args); }});
}

}  // namespace aw::cli
