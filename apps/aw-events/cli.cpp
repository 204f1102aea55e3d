#include "cli.hpp"

#include "aw/events/ids.hpp"
#include "aw/events/instrument.hpp"
#include "core/log.hpp"

#include <csignal>
#include <cstdlib>
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
  app.add_option("--catalog", catalog, "event catalog directory, or http://HOST:PORT of a catalog registry")->envname("AW_EVENTS_CATALOG");
  app.add_option("--service", service, "this service's name")->envname("AW_EVENTS_SERVICE");
  app.add_option("--metrics-listen", metrics_listen, "serve /metrics on ADDR:PORT")->envname("AW_EVENTS_METRICS_LISTEN");
  app.add_option("-X", properties, "librdkafka property key=value (repeatable)")->envname("AW_EVENTS_X");
}

std::unique_ptr<events::context_scope> adopt_environment_context() {
  const char* correlation = std::getenv("AW_CORRELATION_ID");
  const char* traceparent = std::getenv("TRACEPARENT");
  events::event_context context;
  if (correlation != nullptr) context.correlation_id = correlation;
  if (traceparent != nullptr && *traceparent != '\0') {
    context.trace = events::parse_traceparent(traceparent);
    if (!context.trace) events::log::warn("TRACEPARENT ignored: not a W3C traceparent", {{"value", traceparent}});
  }
  if (context.correlation_id.empty() && !context.trace) return nullptr;
  return std::make_unique<events::context_scope>(std::move(context));
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
  auto opened = events::open_transport(config);
  if (!opened) return opened;
  // Every command reports to /metrics (--metrics-listen, serve) and exports spans when OTLP is configured.
  return events::instrument(std::move(*opened));
}

}  // namespace aw::cli

#include "core/json_text.hpp"

namespace aw::cli {

std::string validation_errors_json(const std::vector<events::validation_error>& errors) {
  std::string out;
  events::detail::append_validation_errors(out, errors);
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
