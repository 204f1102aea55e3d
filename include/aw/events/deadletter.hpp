// Dead letters (DESIGN.md §3): an event that failed for good becomes a standard event of type
// "<service>.deadletter.recorded" on "<service>.deadletter", keyed like the original, carrying the original's
// correlation id and a child span of its trace. Its data:
//   {"original":{"topic","partition","offset","timestamp","key" | "key_base64",
//                "headers":[{"name","value" | "value_base64"}…],
//                "value":<the value as JSON, present only when the bytes are one well-formed UTF-8 JSON document>,
//                "value_base64":<the exact original bytes, always>},
//    "error":{"class":"permanent" | "retries_exhausted","code","message",
//             "details":[{"instanceLocation","keywordLocation","error"}…]},
//    "attempts","first_failure_at","last_failure_at","consumer":{"service","group","host"}}
// value_base64 is always present so a replay can republish the original byte for byte.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "aw/events/result.hpp"
#include "aw/events/subscriber.hpp"
#include "aw/events/transport.hpp"

namespace aw::events {

struct deadletter_config {
  std::string service;  // the consuming service: topic "<service>.deadletter"
  std::string group;    // the consumer group, recorded in data.consumer
  std::string host;     // default: this machine's host name
  std::int32_t partitions = 6;  // when the topic is created
  // How long write() waits for the broker's acknowledgement.
  std::chrono::milliseconds ack_timeout{30000};
  producer_options producer;
  [[nodiscard]] result<void> validate() const;
};

// The type of dead letters of a service: "<service>.deadletter.recorded".
[[nodiscard]] std::string deadletter_type(std::string_view service);

// The dead-letter envelope (compact JSON) of a failed event; does not publish.
[[nodiscard]] std::string deadletter_envelope_json(const failed_event& failed, const deadletter_config& config,
                                                   bool include_json_value = true);

class deadletter_writer {
 public:
  // Creates the topic when missing (embedded store: with 30-day retention) and a producer.
  static result<std::unique_ptr<deadletter_writer>> create(std::shared_ptr<transport> transport,
                                                           deadletter_config config);
  ~deadletter_writer();
  deadletter_writer(const deadletter_writer&) = delete;
  deadletter_writer& operator=(const deadletter_writer&) = delete;

  // Publishes the dead letter and blocks until the broker acknowledged it (or ack_timeout). An error means the
  // dead letter may not be stored: the caller must not commit the source offset.
  [[nodiscard]] result<delivery_report> write(const failed_event& failed);
  // write() as a failure sink for subscriber::on_failure; the writer must outlive the subscriber.
  [[nodiscard]] failure_sink sink();

 private:
  struct impl;
  explicit deadletter_writer(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace aw::events
