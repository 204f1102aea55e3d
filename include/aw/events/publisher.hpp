// Publishing standard events: the envelope is built and validated here, the record keyed by resource id,
// headers set per DESIGN.md §3, delivery retried with backoff and full jitter.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/envelope.hpp"
#include "aw/events/json_writer.hpp"
#include "aw/events/result.hpp"
#include "aw/events/retry.hpp"
#include "aw/events/transport.hpp"

namespace aw::events {

class event_catalog;  // aw/events/catalog.hpp

// Where an event type goes: "content" (per_service, the standard's example) or "content.book" (per_resource).
enum class topic_strategy { per_service, per_resource };

// The topic of an event type under a strategy; "" when the type is malformed.
[[nodiscard]] std::string topic_for(std::string_view event_type, topic_strategy strategy);
// "<service>.deadletter"
[[nodiscard]] std::string deadletter_topic(std::string_view service);

struct publisher_config {
  std::string service;  // meta.source of every event; required, lowercase
  topic_strategy topics = topic_strategy::per_service;
  retry_policy retry;   // outer retries after the transport gave up on a delivery
  producer_options producer;
  // When set, a type missing from the catalog or data failing its schema is refused (errc::unknown_event_type,
  // errc::unsupported_version, errc::schema_violation) and nothing is sent. When null, a warning at creation says so.
  std::shared_ptr<const event_catalog> catalog;
  [[nodiscard]] result<void> validate() const;
};

struct publish_options {
  std::string key;             // partition key = the resource id; required
  std::string version;         // "MAJOR.MINOR"; default: the type's version or "1.0"
  std::string correlation_id;  // default: the current context's, else generated (and logged)
  std::optional<trace_context> parent;  // default: the current context's trace; the event gets a child span
  std::string topic;           // default: per the topic strategy
  std::vector<header> headers; // extra headers, after the standard ones
};

struct publish_receipt {
  std::string event_id;
  std::string correlation_id;
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  int attempts = 0;
};

// Runs exactly once per publish, on a transport or retry thread: must not block.
using publish_callback = std::function<void(result<publish_receipt>)>;

// A typed event: a struct with its type and version, its resource id, and write_json (found by ADL).
template <class T>
concept event_payload = requires(const T& event, json_writer& writer) {
  { T::event_type } -> std::convertible_to<std::string_view>;
  { T::event_version } -> std::convertible_to<std::string_view>;
  { event.partition_key() } -> std::convertible_to<std::string>;
  write_json(writer, event);
};

class publisher {
 public:
  // Validates config before anything starts. The transport is shared, the producer owned.
  static result<std::unique_ptr<publisher>> create(std::shared_ptr<transport> transport, publisher_config config);
  ~publisher();  // flushes for up to producer.delivery_timeout, then fails what is left with errc::closed
  publisher(const publisher&) = delete;
  publisher& operator=(const publisher&) = delete;

  // Raw-JSON path: data_json must be a JSON object. Invalid input is refused through the callback
  // (errc::invalid_envelope, located by JSON Pointer) without reaching the transport. Thread-safe.
  void publish(std::string_view type, std::string_view data_json, publish_options options, publish_callback done);
  [[nodiscard]] std::future<result<publish_receipt>> publish(std::string_view type, std::string_view data_json,
                                                             publish_options options);

  // Typed path: T becomes `data`; the key defaults to event.partition_key().
  template <event_payload T>
  void publish(const T& event, publish_options options, publish_callback done) {
    json_writer writer;
    write_json(writer, event);
    if (options.key.empty()) options.key = std::string(event.partition_key());
    if (options.version.empty()) options.version = std::string(T::event_version);
    publish_written(std::string_view(T::event_type), writer, std::move(options), std::move(done));
  }
  template <event_payload T>
  [[nodiscard]] std::future<result<publish_receipt>> publish(const T& event, publish_options options = {}) {
    auto promise = std::make_shared<std::promise<result<publish_receipt>>>();
    auto future = promise->get_future();
    publish(event, std::move(options), [promise](result<publish_receipt> r) { promise->set_value(std::move(r)); });
    return future;
  }

  // Publishes a complete envelope as given (validated first), e.g. to forward or replay an event.
  void publish_envelope(const envelope& event, publish_options options, publish_callback done);

  // Waits until every accepted event has its final callback (errc::timeout otherwise).
  [[nodiscard]] result<void> flush(std::chrono::milliseconds timeout);

  [[nodiscard]] const publisher_config& config() const noexcept;

 private:
  struct impl;
  explicit publisher(std::unique_ptr<impl> impl);
  void publish_written(std::string_view type, const json_writer& writer, publish_options options,
                       publish_callback done);
  std::unique_ptr<impl> impl_;
};

}  // namespace aw::events
