// aw-events mock-kafka: librdkafka's mock cluster for tests, steered by control lines on stdin.
#include <poll.h>
#include <unistd.h>

#include "aw/events/transport/mock_kafka.hpp"
#include "cli.hpp"

namespace aw::cli {
namespace {

struct mock_args {
  int brokers = 3;
  int partitions = 6;
  std::vector<std::string> topics;  // created at start with `partitions` partitions
};

int run_mock_kafka(const mock_args& args) {
  auto cluster = events::mock_kafka_cluster::start({args.brokers, args.partitions});
  if (!cluster) {
    print_error(cluster.error().describe());
    return exit_failure;
  }
  for (const auto& topic : args.topics) {
    if (auto created = (*cluster)->apply_control_line("topic " + topic + " " + std::to_string(args.partitions));
        created != "ok") {
      print_error("--topic " + topic + ": " + created);
      return exit_usage;
    }
  }
  print_line("bootstrap.servers=" + (*cluster)->bootstrap_servers());
  std::string pending;
  char buffer[4096];
  while (!stop_requested.load()) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&fd, 1, 200);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) continue;
    const auto n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // stdin closed: the controlling test is gone
    pending.append(buffer, static_cast<std::size_t>(n));
    for (auto newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n')) {
      auto line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      print_line((*cluster)->apply_control_line(line));
    }
  }
  return exit_ok;
}

}  // namespace

void add_mock_kafka(CLI::App& root, global_options&, std::vector<command>& commands) {
  auto args = std::make_shared<mock_args>();
  auto* app = root.add_subcommand("mock-kafka", "run librdkafka's mock Kafka cluster (tests only: no durability)");
  app->add_option("--brokers", args->brokers, "number of brokers")->check(CLI::Range(1, 16))->capture_default_str();
  app->add_option("--partitions", args->partitions, "partitions of auto-created topics")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app->add_option("--topic", args->topics,
                  "create this topic with --partitions partitions at start (repeatable); other topics are "
                  "auto-created by the mock with 4 partitions, or created with the control line `topic NAME N`");
  commands.push_back({"mock-kafka", app, [args] { return run_mock_kafka(*args); }});
}

}  // namespace aw::cli
