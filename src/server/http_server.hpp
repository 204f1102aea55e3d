// The platform's HTTP server (Boost.Beast behind this header): routes by method and exact path, bounded
// request size, per-connection timeouts. serve mounts /healthz here; later modules add their routes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "aw/events/result.hpp"

namespace aw::events::server {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query as sent
  std::string path;    // without the query
  std::string query;   // after '?', undecoded
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
};

using http_handler = std::function<http_response(const http_request&)>;

// A connection whose request asked for a protocol upgrade (WebSocket). Defined in server/http_upgrade.hpp
// (Boost.Beast types); the handler owns it from then on and answers the request itself.
struct upgraded_connection;
using upgrade_handler = std::function<void(std::unique_ptr<upgraded_connection>)>;

struct http_server_options {
  std::string listen = "127.0.0.1:8080";  // ADDR:PORT; port 0 picks a free port
  int threads = 1;
  std::size_t max_body_bytes = 1 << 20;
  [[nodiscard]] result<void> validate() const;
};

class http_server {
 public:
  // Binds at once (so the caller can print the real port) but serves only after start().
  static result<std::unique_ptr<http_server>> bind(http_server_options options);
  ~http_server();  // stops and joins
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Routes must be added before start(). A path ending in '/' matches by prefix.
  void route(std::string method, std::string path, http_handler handler);
  // Upgrade requests (`Connection: Upgrade`, `Upgrade: websocket`) whose path starts with path_prefix go to
  // handler on a server thread instead of the routes above. Must be added before start().
  void route_upgrade(std::string path_prefix, upgrade_handler handler);
  void start();
  void stop();
  [[nodiscard]] std::string address() const;  // "127.0.0.1:PORT" as bound
  [[nodiscard]] std::uint16_t port() const;

 private:
  struct impl;
  explicit http_server(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

// "HOST:PORT" → (host, port); errors name the bad part.
[[nodiscard]] result<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view text);

}  // namespace aw::events::server
