// Consuming standard events in a consumer group: handlers per event type and major version, per-partition
// order, offsets committed only after the handler succeeded, graceful shutdown, rebalance safety.
// (The full reliability pipeline — dead letters, dedup, status ledger — builds on this.)
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/envelope.hpp"
#include "aw/events/publisher.hpp"
#include "aw/events/result.hpp"
#include "aw/events/retry.hpp"
#include "aw/events/transport.hpp"

namespace aw::events {

// What a handler sees: the decoded, validated envelope and where it came from.
// Everything refers to the subscriber's copies and is valid during the handler call only.
struct received_event {
  const envelope& event;
  const record* source = nullptr;
  int attempt = 1;  // 1 on first delivery to this process
};

// A handler returns success, or an error: retriable() errors are retried in place with backoff,
// others are permanent. An exception thrown by a handler counts as a retriable failure.
using event_handler = std::function<result<void>(const received_event&)>;

// What to do with an event that failed for good (permanent error, invalid envelope, retries exhausted).
// The default logs it at error level with its coordinates and lets the consumer move on; the reliability
// pipeline replaces it with the dead-letter writer. Returning an error keeps the offset uncommitted.
struct failed_event {
  const record* source = nullptr;
  const envelope* event = nullptr;  // null when the record did not decode
  error cause;
  int attempts = 0;
};
using failure_sink = std::function<result<void>(const failed_event&)>;

struct subscriber_config {
  std::string service;  // the consuming service (logs, dead letters)
  std::string group;    // consumer group id; required
  topic_strategy topics = topic_strategy::per_service;
  std::vector<std::string> extra_topics;  // subscribed in addition to those derived from handled types
  retry_policy retry;
  consumer_options consumer;              // group_id is taken from `group`
  // When set, the data of each event of a handled type is checked against the catalog before the handler
  // runs; a violation (or a type/version the catalog lacks) is a permanent failure for the failure sink.
  std::shared_ptr<const event_catalog> catalog;
  [[nodiscard]] result<void> validate() const;
};

class subscriber {
 public:
  static result<std::unique_ptr<subscriber>> create(std::shared_ptr<transport> transport, subscriber_config config);
  ~subscriber();  // stops, commits what was processed, leaves the group
  subscriber(const subscriber&) = delete;
  subscriber& operator=(const subscriber&) = delete;

  // Registers the handler of `type` at major version `major`. Call before run().
  [[nodiscard]] result<void> on(std::string_view type, int major, event_handler handler);
  // Replaces the default failure sink.
  void on_failure(failure_sink sink);

  struct run_limits {
    std::optional<std::uint64_t> max_events;          // stop after this many records were handled or skipped
    std::optional<std::chrono::milliseconds> idle_exit;  // stop after this long without progress
  };
  // Subscribes and processes on the calling thread until stop() or a limit is reached; commits and leaves
  // the group before returning. Returns the number of records finished (handled, skipped or failed).
  [[nodiscard]] result<std::uint64_t> run(run_limits limits);
  [[nodiscard]] result<std::uint64_t> run() { return run(run_limits{}); }
  // Asks run() to return after the current handler; safe from any thread and from a signal handler.
  void stop() noexcept;

 private:
  struct impl;
  explicit subscriber(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace aw::events
