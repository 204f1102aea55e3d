// The WebSocket gateway of `aw-events serve` (docs/gateway.md): /v1/{service}/ws, JWT in the upgrade request,
// every frame a standard envelope, one transport consumption per service topic shared by all connections,
// resume from a position, heartbeats and per-connection limits.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "aw/events/catalog.hpp"
#include "aw/events/result.hpp"
#include "aw/events/transport.hpp"
#include "gateway/jwt_verifier.hpp"

namespace aw::events::server {
class http_server;
}

namespace aw::events::gateway {

struct gateway_options {
  std::vector<std::string> services;  // the {service} names served; empty = every service
  std::vector<std::string> origins;   // allowed Origin values; a request with any other Origin gets 403
  std::chrono::seconds heartbeat{30};  // a ping every heartbeat; a peer that misses two is dropped
  std::size_t max_message_bytes = 64 * 1024;   // larger client frames: close 1009
  std::size_t send_queue_frames = 4096;        // per connection; overflow (slow consumer): close 1013
  std::size_t replay_buffer_frames = 10000;    // live frames held per resuming subscription; overflow: close 1013
  std::size_t max_connections_per_ip = 256;    // more: the upgrade gets 429
  std::size_t max_subscriptions = 32;          // per connection; more: gateway.subscription.rejected
  std::size_t max_concurrent_replays = 8;      // resumes being replayed at once; more wait in a queue of 64
  std::chrono::milliseconds replay_idle{300};  // a replay is caught up when the log yields nothing for this long
  std::shared_ptr<const event_catalog> catalog;  // when set, client publishes are validated against it
  [[nodiscard]] result<void> validate() const;
};

class websocket_gateway {
 public:
  // Validates options; starts consumers of the listed services at once (others on their first connection).
  [[nodiscard]] static result<std::unique_ptr<websocket_gateway>> create(std::shared_ptr<transport> transport,
                                                                         jwt_verifier verifier,
                                                                         gateway_options options);
  ~websocket_gateway();  // stop()
  websocket_gateway(const websocket_gateway&) = delete;
  websocket_gateway& operator=(const websocket_gateway&) = delete;

  // Takes the server's upgrade requests under /v1/. Call before server.start().
  void mount(server::http_server& server);
  // Stops the consumers and replays, closes every connection with 1001. Idempotent.
  void stop();

  struct state;

 private:
  explicit websocket_gateway(std::shared_ptr<state> state);
  std::shared_ptr<state> state_;
};

}  // namespace aw::events::gateway
