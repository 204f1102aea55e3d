// A C++ client of the aw-events WebSocket gateway (docs/gateway.md): connects with a bearer token, subscribes,
// publishes, answers heartbeats, and reconnects with exponential backoff and full jitter, resubscribing and
// resuming from the last position it received so that no event is missed or delivered twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/envelope.hpp"
#include "aw/events/result.hpp"

namespace aw::events {

struct gateway_client_config {
  std::string url;  // ws://HOST:PORT/v1/{service}/ws (plain ws; put TLS in front of the gateway)
  // Called before every (re)connect, on the client thread: return a currently valid token.
  std::function<std::string()> token;
  std::vector<std::string> types;  // subscription patterns, e.g. "content.book.*"; required
  std::vector<std::string> keys;   // resource ids to restrict to; empty = all
  // Reconnect delays: full jitter over min(max_backoff, initial_backoff * 2^attempt); the attempt count resets
  // once a connection stayed up for stable_after.
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{20000};
  std::chrono::milliseconds stable_after{60000};
  // The gateway's ping interval: a connection silent for 2.5 intervals is considered dead and replaced.
  std::chrono::milliseconds heartbeat{30000};
  std::size_t outbox_limit = 1000;          // publishes queued while disconnected; more fail with queue_full
  std::size_t dedup_window = 10000;         // event ids remembered to drop duplicates
  [[nodiscard]] result<void> validate() const;
};

struct gateway_client_callbacks {
  // Each event once (deduplicated by meta.id), in log order per partition. `json` is the frame as received.
  std::function<void(const envelope& event, std::string_view json)> on_event;
  // Frames of gateway.* types: subscription accepted/rejected/resumed, publish accepted/rejected, errors.
  std::function<void(const envelope& control)> on_control;
  // Connection state changes; reason says why a connection ended.
  std::function<void(bool connected, const std::string& reason)> on_state;
};

class gateway_client {
 public:
  // Validates config and starts connecting on its own thread; callbacks run on that thread and must not block.
  [[nodiscard]] static result<std::unique_ptr<gateway_client>> start(gateway_client_config config,
                                                                     gateway_client_callbacks callbacks);
  ~gateway_client();  // stop()
  gateway_client(const gateway_client&) = delete;
  gateway_client& operator=(const gateway_client&) = delete;

  // Queues `event` for publishing with partition key `key` (sent as meta.key); the answer arrives through
  // on_control as gateway.publish.accepted / rejected. Fails with queue_full when the outbox is full,
  // closed after stop(). Thread-safe.
  [[nodiscard]] result<void> publish(const envelope& event, std::string key);
  // Closes the connection and joins the client thread. Idempotent.
  void stop();

  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] int connections() const noexcept;  // successful connects so far
  // Last offset received per partition (the resume position).
  [[nodiscard]] std::map<std::int32_t, std::int64_t> positions() const;

  struct impl;

 private:
  explicit gateway_client(std::shared_ptr<impl> impl);
  std::shared_ptr<impl> impl_;
};

// The reconnect delay before attempt `attempt` (0-based) with full jitter; random01 in [0, 1).
[[nodiscard]] std::chrono::milliseconds gateway_backoff_delay(int attempt, std::chrono::milliseconds initial,
                                                              std::chrono::milliseconds max, double random01) noexcept;

}  // namespace aw::events
