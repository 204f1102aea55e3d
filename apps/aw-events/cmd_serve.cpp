// aw-events serve: the platform server on the embedded store (default) or Kafka.
#include <thread>

#include "aw/events/transport.hpp"
#include "cli.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "server/catalog_registry.hpp"
#include "gateway/gateway.hpp"
#include "server/http_server.hpp"
#include "server/metrics_endpoint.hpp"
#include "store/spool.hpp"

namespace aw::cli {
namespace {

using events::detail::json_string;

struct serve_args {
  std::string listen = "127.0.0.1:8080";
  std::string compatibility = "BACKWARD";
  // WebSocket gateway (docs/gateway.md): on when a JWT key is configured.
  std::string jwt_secret_file;
  std::string jwt_public_key_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  int jwt_leeway_seconds = 60;
  std::vector<std::string> ws_services;
  std::vector<std::string> ws_origins;
  int ws_heartbeat_seconds = 30;
  std::size_t ws_max_message_bytes = 64 * 1024;
  std::size_t ws_send_queue = 4096;
  std::size_t ws_max_connections_per_ip = 256;
  std::size_t ws_max_subscriptions = 32;
};

// The gateway when a JWT key is configured, else null; errors name the option.
events::result<std::unique_ptr<events::gateway::websocket_gateway>> open_gateway(
    const global_options& globals, const serve_args& args, const std::shared_ptr<events::transport>& transport) {
  namespace gw = events::gateway;
  if (args.jwt_secret_file.empty() && args.jwt_public_key_file.empty()) {
    if (!args.ws_services.empty() || !args.ws_origins.empty()) {
      return events::make_error(events::errc::invalid_argument,
                                "the WebSocket gateway needs --jwt-secret-file or --jwt-public-key-file");
    }
    return std::unique_ptr<gw::websocket_gateway>();
  }
  if (!args.jwt_secret_file.empty() && !args.jwt_public_key_file.empty()) {
    return events::make_error(events::errc::invalid_argument,
                              "--jwt-secret-file and --jwt-public-key-file exclude each other: one key per gateway");
  }
  gw::jwt_policy policy{args.jwt_issuer, args.jwt_audience, std::chrono::seconds(args.jwt_leeway_seconds)};
  auto verifier = args.jwt_secret_file.empty() ? gw::jwt_verifier::from_public_key_file(args.jwt_public_key_file, policy)
                                               : gw::jwt_verifier::from_secret_file(args.jwt_secret_file, policy);
  if (!verifier) return events::make_error(verifier.error());
  gw::gateway_options options;
  options.services = args.ws_services;
  options.origins = args.ws_origins;
  options.heartbeat = std::chrono::seconds(args.ws_heartbeat_seconds);
  options.max_message_bytes = args.ws_max_message_bytes;
  options.send_queue_frames = args.ws_send_queue;
  options.max_connections_per_ip = args.ws_max_connections_per_ip;
  options.max_subscriptions = args.ws_max_subscriptions;
  auto catalog = load_catalog(globals);
  if (!catalog) return events::make_error(catalog.error());
  options.catalog = *catalog;
  return gw::websocket_gateway::create(transport, std::move(*verifier), std::move(options));
}

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
  events::server::mount_metrics(**server, events::metrics::registry::global());
  // The producer spool of the --store file: its depth and age are what operators alert on.
  if (auto spool = events::store::spool::open(globals.store)) {
    (void)events::store::export_spool_metrics(std::shared_ptr<events::store::spool>(std::move(*spool)),
                                              events::metrics::registry::global());
  } else {
    events::log::warn("spool metrics unavailable", {{"store", globals.store}, {"error", spool.error().describe()}});
  }
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
  auto gateway = open_gateway(globals, args, shared_transport);
  if (!gateway) {
    print_error("gateway: " + gateway.error().describe());
    return gateway.error().code == events::errc::invalid_argument ? exit_usage : exit_failure;
  }
  if (*gateway) (*gateway)->mount(**server);
  (*server)->start();
  print_line("{\"listening\":" + json_string("http://" + (*server)->address()) + ",\"transport\":" +
             json_string(shared_transport->kind()) + ",\"at\":" + json_string(shared_transport->describe()) + "}");
  events::log::info("serving", {{"listen", (*server)->address()}, {"transport", shared_transport->kind()}});
  while (!stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (*gateway) (*gateway)->stop();
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
  app->add_option("--jwt-secret-file", args->jwt_secret_file,
                  "gateway: HS256 key file (its bytes; a trailing newline ignored)");
  app->add_option("--jwt-public-key-file", args->jwt_public_key_file,
                  "gateway: PEM public key; RSA selects RS256, EC P-256 selects ES256");
  app->add_option("--jwt-issuer", args->jwt_issuer, "gateway: required exact iss of tokens");
  app->add_option("--jwt-audience", args->jwt_audience, "gateway: required aud of tokens");
  app->add_option("--jwt-leeway-seconds", args->jwt_leeway_seconds, "gateway: clock skew allowed on exp/nbf/iat (0..60)")
      ->capture_default_str();
  app->add_option("--ws-services", args->ws_services, "gateway: serve only these services (comma-separated)")
      ->delimiter(',');
  app->add_option("--ws-origin", args->ws_origins, "gateway: allowed browser Origin (repeatable)");
  app->add_option("--ws-heartbeat-seconds", args->ws_heartbeat_seconds,
                  "gateway: ping interval; a peer missing two pings is dropped")
      ->capture_default_str();
  app->add_option("--ws-max-message-bytes", args->ws_max_message_bytes, "gateway: largest client frame (close 1009 above)")
      ->capture_default_str();
  app->add_option("--ws-send-queue", args->ws_send_queue, "gateway: frames queued per connection (close 1013 above)")
      ->capture_default_str();
  app->add_option("--ws-max-connections-per-ip", args->ws_max_connections_per_ip, "gateway: connections per client IP")
      ->capture_default_str();
  app->add_option("--ws-max-subscriptions", args->ws_max_subscriptions, "gateway: subscriptions per connection")
      ->capture_default_str();
  commands.push_back({"serve", app, [&globals, args] { return run_serve(globals, *args); }});
}

}  // namespace aw::cli
