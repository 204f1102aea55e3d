#include "cli.hpp"

#include <csignal>
#include <cstdio>
#include <mutex>

namespace aw::cli {

std::atomic<bool> stop_requested{false};

namespace {
extern "C" void on_stop_signal(int) { stop_requested.store(true); }
}  // namespace

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

void print_line(const std::string& line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void print_error(const std::string& message) { std::fprintf(stderr, "aw-events: %s\n", message.c_str()); }

void global_options::add_to(CLI::App& app) {
  app.add_option("--bootstrap-servers", bootstrap_servers, "Kafka bootstrap servers; selects the Kafka transport")
      ->envname("AW_EVENTS_BOOTSTRAP_SERVERS");
  app.add_option("--store", store, "embedded store file (when no Kafka is configured)")
      ->envname("AW_EVENTS_STORE")
      ->capture_default_str();
  app.add_option("--catalog", catalog, "event catalog directory")->envname("AW_EVENTS_CATALOG");
  app.add_option("--service", service, "this service's name")->envname("AW_EVENTS_SERVICE");
  app.add_option("--metrics-listen", metrics_listen, "serve /metrics on ADDR:PORT")->envname("AW_EVENTS_METRICS_LISTEN");
  app.add_option("-X", properties, "librdkafka property key=value (repeatable)")->envname("AW_EVENTS_X");
}

events::result<std::map<std::string, std::string>> global_options::property_map() const {
  std::map<std::string, std::string> out;
  for (const auto& p : properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return events::make_error(events::errc::invalid_argument, "-X \"" + p + "\": expected key=value");
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

events::result<std::shared_ptr<events::transport>> global_options::open_transport() const {
  events::transport_config config;
  config.bootstrap_servers = bootstrap_servers;
  config.store_path = store;
  auto props = property_map();
  if (!props) return events::make_error(props.error());
  config.kafka_properties = std::move(*props);
  return events::open_transport(config);
}

}  // namespace aw::cli

#include "core/json_text.hpp"

namespace aw::cli {

std::string validation_errors_json(const std::vector<events::validation_error>& errors) {
  using events::detail::append_json_string;
  std::string out = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i) out += ',';
    out += "{\"instanceLocation\":";
    append_json_string(out, errors[i].instance_location);
    out += ",\"keywordLocation\":";
    append_json_string(out, errors[i].keyword_location);
    out += ",\"error\":";
    append_json_string(out, errors[i].message);
    out += '}';
  }
  out += ']';
  return out;
}

std::string error_json(const events::error& e) {
  using events::detail::append_json_string;
  std::string out = "{\"code\":";
  append_json_string(out, events::to_string(e.code));
  out += ",\"message\":";
  append_json_string(out, e.message);
  if (!e.details.empty()) {
    out += ",\"errors\":";
    out += validation_errors_json(e.details);
  }
  out += '}';
  return out;
}

}  // namespace aw::cli
