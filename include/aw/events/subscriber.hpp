// Consuming standard events in a consumer group: handlers per event type and major version, per-partition
// order, offsets committed only after the handler succeeded or the event is safely dead-lettered, retries in
// place, dedup and status ledger, transactional inbox, metrics hooks and failure alerts (docs/consuming.md).
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
#include "aw/events/ledger.hpp"
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
  int attempt = 1;  // 1 on the first attempt; counts survive a restart when a ledger is configured
  // The ledger's batch transaction when subscriber_config.inbox is set (SQLite ledger): writes made through it
  // commit together with the event's processed mark, and are rolled back when the handler fails.
  inbox_transaction* inbox = nullptr;
};

// A handler returns success ({}), transient(error) or permanent(error): retriable() errors are retried in
// place with backoff, others are dead-lettered at once. An exception thrown by a handler counts as transient
// unless subscriber_config.exceptions_are_permanent is set.
using event_handler = std::function<result<void>(const received_event&)>;

[[nodiscard]] inline tl::unexpected<error> transient(std::string message, errc code = errc::handler_failed) {
  return tl::unexpected<error>(error{code, std::move(message), true, {}});
}
[[nodiscard]] inline tl::unexpected<error> permanent(std::string message, errc code = errc::handler_failed,
                                                     std::vector<validation_error> details = {}) {
  return tl::unexpected<error>(error{code, std::move(message), false, std::move(details)});
}

// Middleware maps a handler to a handler (Watermill's model): it sees the type and major it is installed for.
using middleware = std::function<event_handler(std::string_view type, int major, event_handler next)>;

// What to do with an event that failed for good (permanent error, invalid envelope, retries exhausted).
// The default logs it at error level with its coordinates and lets the consumer move on; the reliability
// pipeline replaces it with the dead-letter writer. Returning an error keeps the offset uncommitted.
struct failed_event {
  const record* source = nullptr;
  const envelope* event = nullptr;  // null when the record did not decode
  error cause;
  int attempts = 0;
  bool retries_exhausted = false;      // false: permanent on its own (bad input, permanent handler error)
  std::int64_t first_failure_ms = 0;   // ms since the epoch
  std::int64_t last_failure_ms = 0;
};
using failure_sink = std::function<result<void>(const failed_event&)>;

// Metrics hooks: the observability work implements this; every callback runs on the subscriber's thread and
// must not block. Default implementations do nothing.
struct failure_alert {
  std::string reason;       // "dead_letters" or "consecutive_failures"
  std::string type;         // the event type for consecutive failures, "" for dead letters
  int count = 0;            // failures counted within the window
  std::chrono::seconds window{0};
  std::string last_error;
};

class consumer_observer {
 public:
  virtual ~consumer_observer() = default;
  virtual void consumed(const record&) {}
  virtual void retried(const envelope&, int /*attempt*/, const error&) {}
  virtual void dead_lettered(const failed_event&) {}
  virtual void processed(const envelope&, std::chrono::nanoseconds /*handler_duration*/) {}
  virtual void duplicate_skipped(const envelope&) {}
  virtual void alert(const failure_alert&) {}
};

// Alert on repeated failures: N dead letters, or N consecutive failed attempts of one type, within the window.
// Fires the callback, an error-level log line and consumer_observer::alert; then counting starts afresh.
struct alert_policy {
  int dead_letters = 0;          // 0 = off
  int consecutive_failures = 0;  // 0 = off
  std::chrono::seconds window{300};
  std::function<void(const failure_alert&)> on_alert;
};

struct subscriber_config {
  std::string service;  // the consuming service (logs, dead letters)
  std::string group;    // consumer group id; required
  topic_strategy topics = topic_strategy::per_service;
  std::vector<std::string> extra_topics;  // subscribed in addition to those derived from handled types
  retry_policy retry;
  consumer_options consumer;              // group_id is taken from `group`
  // When set, the data of each event of a handled type is checked against the catalog before the handler
  // runs; a violation (or a type/version the catalog lacks) is a permanent failure for the failure sink.
  // With a catalog, an event whose type the catalog does not know at all is a permanent failure (the producer
  // broke the contract), even when no handler is registered for it; types known but not handled are skipped.
  std::shared_ptr<const event_catalog> catalog;
  bool unknown_types_are_permanent = true;  // with a catalog: see above; false skips them like unhandled types
  // Retry policy per event type, overriding `retry`.
  std::map<std::string, retry_policy, std::less<>> retry_by_type;
  bool exceptions_are_permanent = false;
  // Permanent failures go to "<service>.deadletter" (DESIGN.md §3) unless on_failure() replaces the sink.
  bool dead_letters = true;
  std::chrono::milliseconds deadletter_ack_timeout{30000};
  // Dedup and status ledger keyed by (group, event id); null = none (no dedup).
  std::shared_ptr<status_ledger> ledger;
  // Handlers get received_event::inbox (needs a SQLite ledger).
  bool inbox = false;
  // Ledger batches: made durable (then offsets stored) after this many events or this long, whichever first.
  std::size_t ledger_batch_events = 512;
  std::chrono::milliseconds ledger_batch_delay{200};
  std::shared_ptr<consumer_observer> observer;
  alert_policy alerts;
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
  // Replaces the default failure sink (the dead-letter writer, or a log line when dead_letters is off).
  void on_failure(failure_sink sink);
  // Wraps every handler; the first middleware added is the outermost. Call before run().
  void use(middleware m);

  struct counters {
    std::uint64_t finished = 0;            // records whose offset may be committed
    std::uint64_t succeeded = 0;
    std::uint64_t retried = 0;             // failed attempts followed by a retry
    std::uint64_t dead_lettered = 0;       // failed for good and accepted by the failure sink
    std::uint64_t duplicates_skipped = 0;  // already succeeded or dead-lettered per the ledger
    std::uint64_t skipped = 0;             // types nobody handles
  };
  // Valid after run() returned (or from the subscriber's thread, e.g. in a handler).
  [[nodiscard]] counters stats() const noexcept;

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
