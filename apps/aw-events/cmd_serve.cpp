// aw-events serve: the platform server on the embedded store (default) or Kafka.
#include <thread>

#include "aw/events/transport.hpp"
#include "cli.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "server/catalog_registry.hpp"
#include "server/http_server.hpp"

namespace aw::cli {
namespace {

using events::detail::json_string;

struct serve_args {
  std::string listen = "127.0.0.1:8080";
  std::string compatibility = "BACKWARD";
};

// /healthz: the transport answers a cheap request (a producer can be created and reach the log).
events::server::http_response health(events::transport& transport) {
  auto producer = transport.create_producer({});
  const bool ok = producer.has_value();
  std::string body = "{\"status\":";
  body += ok ? "\"ok\"" : "\"unavailable\"";
  body += ",\"transport\":" + json_string(transport.kind()) + ",\"at\":" + json_string(transport.describe());
  if (!ok) body += ",\"error\":" + json_string(producer.error().describe());
  body += "}";
  return {ok ? 200 : 503, "application/json", std::move(body), {}};
}

int run_serve(const global_options& globals, const serve_args& args) {
  auto transport = globals.open_transport();
  if (!transport) {
    print_error(transport.error().describe());
    return exit_failure;
  }
  auto server = events::server::http_server::bind({args.listen});
  if (!server) {
    print_error(server.error().describe());
    return exit_failure;
  }
  auto shared_transport = *transport;
  (*server)->route("GET", "/healthz", [shared_transport](const auto&) { return health(*shared_transport); });
  // With --catalog the registry API serves it and stores new versions in the same directory.
  std::unique_ptr<events::server::catalog_registry> registry;
  if (!globals.catalog.empty()) {
    auto mode = events::parse_compatibility_mode(args.compatibility);
    if (!mode) {
      print_error("--compatibility: " + mode.error().message);
      return exit_usage;
    }
    auto opened = events::server::catalog_registry::open(globals.catalog, *mode);
    if (!opened) {
      print_error("--catalog " + globals.catalog + ": " + opened.error().describe());
      return exit_failure;
    }
    registry = std::move(*opened);
    registry->mount(**server);
  }
  (*server)->start();
  print_line("{\"listening\":" + json_string("http://" + (*server)->address()) + ",\"transport\":" +
             json_string(shared_transport->kind()) + ",\"at\":" + json_string(shared_transport->describe()) + "}");
  events::log::info("serving", {{"listen", (*server)->address()}, {"transport", shared_transport->kind()}});
  while (!stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->stop();
  events::log::info("stopped");
  return exit_ok;
}

}  // namespace

void add_serve(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<serve_args>();
  auto* app = root.add_subcommand("serve", "run the platform server (embedded store by default, or Kafka)");
  app->add_option("--listen", args->listen, "HTTP listen address ADDR:PORT (port 0: any free port)")
      ->envname("AW_EVENTS_LISTEN")
      ->capture_default_str();
  app->add_option("--compatibility", args->compatibility,
                  "registry: compatibility mode new versions must meet (BACKWARD, FORWARD, FULL, *_TRANSITIVE, NONE)")
      ->capture_default_str();
  commands.push_back({"serve", app, [&globals, args] { return run_serve(globals, *args); }});
}

}  // namespace aw::cli
