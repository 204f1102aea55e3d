// Metrics and spans for any transport, by wrapping it (STYLE.md: instrumentation wraps, it is not sprinkled
// through the code). The wrapped transport behaves exactly like the inner one; in addition:
//  - every produced record counts in messaging_client_sent_messages_total{topic,type} once the broker or
//    store acknowledged it (aw_events_failed_deliveries_total{topic,type} when it failed), its time from
//    produce to delivery report goes to messaging_client_operation_duration_seconds, and a producer span is
//    exported whose span id is the event's (traceparent header), parent the caller's current context;
//  - every consumed record counts in messaging_client_consumed_messages_total{topic,type,group}, and a
//    consumer span — child of the event's span — runs from poll to the record's store_offset (processing
//    finished: handled, skipped or dead-lettered).
// The type is the record's aw-event-type header ("" for records without one, e.g. raw poison).
#pragma once

#include <memory>
#include <string>

#include "aw/events/metrics.hpp"
#include "aw/events/transport.hpp"

namespace aw::events {

struct instrument_options {
  metrics::registry* registry = &metrics::registry::global();
  bool spans = true;  // export spans to tracing::exporter() when one is installed
};

[[nodiscard]] std::shared_ptr<transport> instrument(std::shared_ptr<transport> inner, instrument_options options = {});

class consumer_observer;  // aw/events/subscriber.hpp

// The subscriber's metrics, for subscriber_config::observer: aw_events_retries_total{type,group},
// aw_events_dead_letters_total{service,type,class}, messaging_process_duration_seconds{type,group},
// aw_events_dedup_hits_total{type,group}, aw_events_alerts_total{service,reason,type}.
[[nodiscard]] result<std::shared_ptr<consumer_observer>> make_metrics_observer(
    std::string service, std::string group, metrics::registry& registry = metrics::registry::global());

}  // namespace aw::events
