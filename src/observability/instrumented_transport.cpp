// The instrumenting transport decorator (see aw/events/instrument.hpp).
#include <chrono>
#include <mutex>
#include <optional>
#include <set>

#include "aw/events/context.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/instrument.hpp"
#include "aw/events/tracing.hpp"
#include "core/log.hpp"

namespace aw::events {
namespace {

using steady = std::chrono::steady_clock;

std::string_view header_or_empty(const record& rec, std::string_view name) {
  for (const auto& h : rec.headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

// The metric families every instrumented producer and consumer of one registry share.
struct families {
  metrics::family<metrics::counter>* sent = nullptr;
  metrics::family<metrics::counter>* failed = nullptr;
  metrics::family<metrics::histogram>* publish_duration = nullptr;
  metrics::family<metrics::counter>* consumed = nullptr;
  metrics::family<metrics::gauge>* lag = nullptr;

  static result<families> of(metrics::registry& r) {
    families f;
    auto sent = r.counters("messaging_client_sent_messages_total", "Events acknowledged by the broker or store",
                           {"topic", "type"});
    if (!sent) return make_error(sent.error());
    auto failed = r.counters("aw_events_failed_deliveries_total", "Publishes that failed for good", {"topic", "type"});
    if (!failed) return make_error(failed.error());
    auto duration = r.histograms("messaging_client_operation_duration_seconds",
                                 "Publish: time from produce to the delivery report", {"topic", "type"});
    if (!duration) return make_error(duration.error());
    auto consumed = r.counters("messaging_client_consumed_messages_total", "Events handed to the consuming pipeline",
                               {"topic", "type", "group"});
    if (!consumed) return make_error(consumed.error());
    auto lag = r.gauges("aw_events_consumer_lag", "Records behind the end of the partition", {"topic", "partition", "group"});
    if (!lag) return make_error(lag.error());
    f.lag = *lag;
    f.sent = *sent;
    f.failed = *failed;
    f.publish_duration = *duration;
    f.consumed = *consumed;
    return f;
  }
};

// Hot paths look children up through a one-entry cache: a run of events of one topic and type (the common
// case) costs two string compares instead of a locked map lookup.
template <class Metric>
struct child_cache {
  std::string topic, type, group;
  Metric* metric = nullptr;

  Metric& get(metrics::family<Metric>& f, std::string_view t, std::string_view ty, std::string_view g = {}) {
    if (metric == nullptr || topic != t || type != ty || group != g) {
      topic = t;
      type = ty;
      group = g;
      metric = f.label_names().size() == 3 ? &f.with({t, ty, g}) : &f.with({t, ty});
    }
    return *metric;
  }
};

void add_common_attributes(tracing::span& s, std::string_view system, const record& rec) {
  s.attributes.emplace_back("messaging.system", std::string(system));
  s.attributes.emplace_back("messaging.destination.name", rec.topic);
  const auto id = header_or_empty(rec, "aw-event-id");
  if (!id.empty()) s.attributes.emplace_back("messaging.message.id", std::string(id));
  const auto correlation = header_or_empty(rec, "aw-correlation-id");
  if (!correlation.empty()) s.attributes.emplace_back("messaging.message.conversation_id", std::string(correlation));
  const auto type = header_or_empty(rec, "aw-event-type");
  if (!type.empty()) s.attributes.emplace_back("aw.event.type", std::string(type));
  if (!rec.key.empty()) s.attributes.emplace_back("messaging.kafka.message.key", rec.key);
}

class instrumented_producer final : public producer {
 public:
  instrumented_producer(std::unique_ptr<producer> inner, families f, bool spans, std::string system)
      : inner_(std::move(inner)), families_(f), spans_(spans), system_(std::move(system)) {}

  void produce(record rec, delivery_handler on_delivery) override {
    const auto started = steady::now();
    std::optional<tracing::span> span;
    if (spans_) {
      if (auto exporter = tracing::exporter()) span = start_span(rec);
    }
    auto topic = rec.topic;
    auto type = std::string(header_or_empty(rec, "aw-event-type"));
    // What the debug line of the outcome names; copied only when debug logging is on.
    std::string event_id, correlation_id, traceparent;
    if (log::enabled(log::level::debug)) {
      event_id = header_or_empty(rec, "aw-event-id");
      correlation_id = header_or_empty(rec, "aw-correlation-id");
      traceparent = header_or_empty(rec, "traceparent");
    }
    inner_->produce(std::move(rec), [this, started, span = std::move(span), topic = std::move(topic),
                                     type = std::move(type), event_id = std::move(event_id),
                                     correlation_id = std::move(correlation_id), traceparent = std::move(traceparent),
                                     on_delivery = std::move(on_delivery)](result<delivery_report> report) mutable {
      {
        // Reports usually come from one transport thread, but a refusal is reported on the caller's thread.
        std::lock_guard lock(cache_mutex_);
        if (report) {
          sent_.get(*families_.sent, topic, type).inc();
          duration_.get(*families_.publish_duration, topic, type)
              .observe(std::chrono::duration<double>(steady::now() - started).count());
        } else {
          failed_.get(*families_.failed, topic, type).inc();
        }
      }
      if (span) finish_span(*span, report);
      if (log::enabled(log::level::debug)) log_outcome(topic, type, event_id, correlation_id, traceparent, report);
      if (on_delivery) on_delivery(std::move(report));
    });
  }
  result<void> flush(std::chrono::milliseconds timeout) override { return inner_->flush(timeout); }
  result<std::int32_t> partition_count(const std::string& topic) override { return inner_->partition_count(topic); }

 private:
  std::optional<tracing::span> start_span(const record& rec) const {
    auto event_trace = parse_traceparent(header_or_empty(rec, "traceparent"));
    if (!event_trace) return std::nullopt;  // not a standard event: nothing to continue
    tracing::span s;
    s.trace_id = event_trace->trace_id;
    s.span_id = event_trace->span_id;  // the event's span is the publish span
    if (const auto* ctx = current_context(); ctx && ctx->trace && ctx->trace->trace_id == s.trace_id &&
                                             ctx->trace->span_id != s.span_id) {
      s.parent_span_id = ctx->trace->span_id;
    }
    s.name = "publish " + rec.topic;
    s.kind = tracing::span_kind::producer;
    s.start_unix_ns = tracing::now_unix_ns();
    s.attributes.emplace_back("messaging.operation.type", std::string("publish"));
    add_common_attributes(s, system_, rec);
    return s;
  }

  static void log_outcome(const std::string& topic, const std::string& type, const std::string& event_id,
                          const std::string& correlation_id, const std::string& traceparent,
                          const result<delivery_report>& report) {
    const auto trace = parse_traceparent(traceparent);
    const std::string_view trace_id = trace ? std::string_view(trace->trace_id) : "";
    const std::string_view span_id = trace ? std::string_view(trace->span_id) : "";
    if (report) {
      const auto partition = std::to_string(report->partition);
      const auto offset = std::to_string(report->offset);
      log::debug("publish delivered", {{"outcome", "delivered"}, {"topic", topic}, {"type", type},
                                       {"event_id", event_id}, {"correlation_id", correlation_id},
                                       {"trace_id", trace_id}, {"span_id", span_id}, {"partition", partition},
                                       {"offset", offset}});
    } else {
      const auto why = report.error().describe();
      log::debug("publish failed", {{"outcome", "failed"}, {"topic", topic}, {"type", type}, {"event_id", event_id},
                                    {"correlation_id", correlation_id}, {"trace_id", trace_id},
                                    {"span_id", span_id}, {"error", why}});
    }
  }

  static void finish_span(tracing::span& s, const result<delivery_report>& report) {
    s.end_unix_ns = tracing::now_unix_ns();
    if (report) {
      s.attributes.emplace_back("messaging.destination.partition.id", std::to_string(report->partition));
      s.attributes.emplace_back("messaging.kafka.offset", std::int64_t{report->offset});
    } else {
      s.failed = true;
      s.status_message = report.error().describe();
    }
    if (auto exporter = tracing::exporter()) exporter->export_span(std::move(s));
  }

  std::unique_ptr<producer> inner_;
  families families_;
  bool spans_;
  std::string system_;
  std::mutex cache_mutex_;
  child_cache<metrics::counter> sent_, failed_;
  child_cache<metrics::histogram> duration_;
};

class instrumented_consumer final : public consumer {
 public:
  instrumented_consumer(std::unique_ptr<consumer> inner, families f, bool spans, std::string system, std::string group)
      : inner_(std::move(inner)), families_(f), spans_(spans), system_(std::move(system)), group_(std::move(group)) {}

  result<void> subscribe(const std::vector<std::string>& topics) override { return inner_->subscribe(topics); }

  result<std::optional<record>> poll(std::chrono::milliseconds timeout) override {
    auto polled = inner_->poll(timeout);
    if (families_.lag != nullptr) update_lag();
    if (polled && *polled) {
      const auto& rec = **polled;
      consumed_.get(*families_.consumed, rec.topic, header_or_empty(rec, "aw-event-type"), group_).inc();
      if (spans_) start_span(rec);
    }
    return polled;
  }

  result<void> store_offset(const record& rec) override {
    auto stored = inner_->store_offset(rec);
    if (!open_spans_.empty()) finish_span(rec);
    return stored;
  }
  result<void> commit() override { return inner_->commit(); }
  result<void> seek(const topic_partition& p, std::int64_t offset) override { return inner_->seek(p, offset); }
  result<void> pause(const std::vector<topic_partition>& p) override { return inner_->pause(p); }
  result<void> resume(const std::vector<topic_partition>& p) override { return inner_->resume(p); }
  std::vector<topic_partition> assignment() override { return inner_->assignment(); }
  result<std::int64_t> committed(const topic_partition& p) override { return inner_->committed(p); }
  void close() override {
    inner_->close();
    // A member that left reports no lag: stale series would look like a stuck consumer.
    for (auto* g : lag_gauges_) g->set(0);
  }
  result<std::vector<partition_position>> positions() override { return inner_->positions(); }

 private:
  // Refreshes aw_events_consumer_lag{topic,partition,group} at most once a second, from the polling thread.
  void update_lag() {
    const auto now = steady::now();
    if (now < next_lag_update_) return;
    next_lag_update_ = now + std::chrono::seconds(1);
    auto current = inner_->positions();
    if (!current) {
      families_.lag = nullptr;  // not supported here: stop asking
      return;
    }
    for (const auto& p : *current) {
      const auto lag = p.lag();
      if (lag < 0) continue;
      auto& gauge = families_.lag->with({p.partition.topic, std::to_string(p.partition.partition), group_});
      gauge.set(static_cast<double>(lag));
      lag_gauges_.insert(&gauge);
    }
  }

  void start_span(const record& rec) {
    if (!tracing::exporter()) return;
    auto event_trace = parse_traceparent(header_or_empty(rec, "traceparent"));
    if (!event_trace) return;
    auto child = child_span(*event_trace);
    tracing::span s;
    s.trace_id = child.trace_id;
    s.span_id = child.span_id;
    s.parent_span_id = event_trace->span_id;
    s.name = "process " + rec.topic;
    s.kind = tracing::span_kind::consumer;
    s.start_unix_ns = tracing::now_unix_ns();
    s.attributes.emplace_back("messaging.operation.type", std::string("process"));
    s.attributes.emplace_back("messaging.consumer.group.name", group_);
    s.attributes.emplace_back("messaging.destination.partition.id", std::to_string(rec.partition));
    s.attributes.emplace_back("messaging.kafka.offset", std::int64_t{rec.offset});
    add_common_attributes(s, system_, rec);
    // A partition is processed in order: at most one record per partition is open (a newer poll of the same
    // partition after a seek replaces the older span, which then never finished and is not exported).
    open_spans_.insert_or_assign(topic_partition{rec.topic, rec.partition}, open_span{rec.offset, std::move(s)});
  }

  void finish_span(const record& rec) {
    auto found = open_spans_.find(topic_partition{rec.topic, rec.partition});
    if (found == open_spans_.end() || found->second.offset != rec.offset) return;
    auto s = std::move(found->second.span);
    open_spans_.erase(found);
    s.end_unix_ns = tracing::now_unix_ns();
    if (auto exporter = tracing::exporter()) exporter->export_span(std::move(s));
  }

  struct open_span {
    std::int64_t offset;
    tracing::span span;
  };
  std::unique_ptr<consumer> inner_;
  families families_;
  bool spans_;
  std::string system_;
  std::string group_;
  child_cache<metrics::counter> consumed_;
  std::map<topic_partition, open_span> open_spans_;
  steady::time_point next_lag_update_{};
  std::set<metrics::gauge*> lag_gauges_;
};

class instrumented_transport final : public transport {
 public:
  instrumented_transport(std::shared_ptr<transport> inner, families f, bool spans)
      : inner_(std::move(inner)), families_(f), spans_(spans),
        system_(inner_->kind() == "kafka" ? "kafka" : "aw-events-" + std::string(inner_->kind())) {}

  std::string_view kind() const noexcept override { return inner_->kind(); }
  transport_features features() const noexcept override { return inner_->features(); }
  result<std::unique_ptr<producer>> create_producer(const producer_options& options) override {
    auto created = inner_->create_producer(options);
    if (!created) return created;
    return std::unique_ptr<producer>(new instrumented_producer(std::move(*created), families_, spans_, system_));
  }
  result<std::unique_ptr<consumer>> create_consumer(const consumer_options& options) override {
    auto created = inner_->create_consumer(options);
    if (!created) return created;
    return std::unique_ptr<consumer>(
        new instrumented_consumer(std::move(*created), families_, spans_, system_, options.group_id));
  }
  result<void> create_topic(const std::string& topic, std::int32_t partitions) override {
    return inner_->create_topic(topic, partitions);
  }
  std::string describe() const override { return inner_->describe(); }

 private:
  std::shared_ptr<transport> inner_;
  families families_;
  bool spans_;
  std::string system_;
};

}  // namespace

std::shared_ptr<transport> instrument(std::shared_ptr<transport> inner, instrument_options options) {
  if (!inner || options.registry == nullptr) return inner;
  // The families are fixed names with valid labels: registration fails only when a user registered the same
  // name with another shape, and then the transport is left as it is rather than half-instrumented.
  auto f = families::of(*options.registry);
  if (!f) {
    log::warn("transport not instrumented: metric families clash", {{"error", f.error().describe()}});
    return inner;
  }
  return std::make_shared<instrumented_transport>(std::move(inner), *f, options.spans);
}

}  // namespace aw::events
