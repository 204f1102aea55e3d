// Dead-letter writer: builds the DESIGN.md §3 record and waits for the broker's acknowledgement, so the
// subscriber stores the source offset only once the dead letter is safe.
#include "aw/events/deadletter.hpp"

#include <unistd.h>

#include <array>
#include <future>

#include <simdjson.h>

#include "aw/events/ids.hpp"
#include "aw/events/publisher.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "store/sqlite.hpp"

namespace aw::events {

namespace {

using detail::append_json_string;

constexpr std::int64_t deadletter_retention_ms = 30LL * 24 * 3600 * 1000;

std::string host_name() {
  std::array<char, 256> buffer{};
  if (::gethostname(buffer.data(), buffer.size() - 1) != 0) return "unknown";
  return std::string(buffer.data());
}

// "name":"text" when text is valid UTF-8, else "name_base64":"…", so no byte is lost or mangled.
void append_text_or_base64(std::string& out, std::string_view name, std::string_view bytes) {
  out += '"';
  out += name;
  if (detail::is_valid_utf8(bytes)) {
    out += "\":";
    append_json_string(out, bytes);
  } else {
    out += "_base64\":\"";
    out += detail::base64_encode(bytes);
    out += '"';
  }
}

// True when bytes are exactly one well-formed JSON document (simdjson also checks UTF-8).
bool is_json_document(std::string_view bytes) {
  if (bytes.empty()) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(bytes);
  auto doc = parser.parse(padded);
  return doc.error() == simdjson::SUCCESS;
}

std::string format_ms(std::int64_t ms) {
  return format_timestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

// The original's trace when known (envelope, else its traceparent header): the dead letter is a child span.
trace_context trace_for(const failed_event& failed) {
  if (failed.event) return child_span(failed.event->meta.trace);
  if (failed.source) {
    if (auto header = failed.source->header_value("traceparent")) {
      if (auto parent = parse_traceparent(*header)) return child_span(*parent);
    }
  }
  return new_trace();
}

std::string correlation_for(const failed_event& failed) {
  if (failed.event && !failed.event->meta.correlation_id.empty()) return failed.event->meta.correlation_id;
  if (failed.source) {
    if (auto header = failed.source->header_value("aw-correlation-id");
        header && !header->empty() && detail::is_valid_utf8(*header)) {
      return std::string(*header);
    }
  }
  return new_uuid_v4();  // the original carried none we can trust: a fresh one, so the dead letter is valid
}

}  // namespace

result<void> deadletter_config::validate() const {
  if (service.empty() || !is_event_type(service + ".deadletter.recorded")) {
    return make_error(errc::invalid_argument,
                      "deadletter_config.service \"" + service + "\" must be a lowercase snake_case service name");
  }
  if (group.empty()) return make_error(errc::invalid_argument, "deadletter_config.group is required");
  if (partitions < 1) return make_error(errc::invalid_argument, "deadletter_config.partitions must be >= 1");
  if (ack_timeout.count() <= 0) return make_error(errc::invalid_argument, "deadletter_config.ack_timeout must be positive");
  return {};
}

std::string deadletter_type(std::string_view service) { return std::string(service) + ".deadletter.recorded"; }

std::string deadletter_envelope_json(const failed_event& failed, const deadletter_config& config, bool include_json_value) {
  static const record empty_record;
  const record& rec = failed.source ? *failed.source : empty_record;
  std::string data;
  data.reserve(rec.value.size() * 2 + 1024);
  data += "{\"original\":{\"topic\":";
  append_json_string(data, rec.topic);
  data += ",\"partition\":" + std::to_string(rec.partition) + ",\"offset\":" + std::to_string(rec.offset) +
          ",\"timestamp\":" + std::to_string(rec.timestamp_ms) + ',';
  append_text_or_base64(data, "key", rec.key);
  data += ",\"headers\":[";
  for (std::size_t i = 0; i < rec.headers.size(); ++i) {
    if (i) data += ',';
    data += "{\"name\":";
    append_json_string(data, detail::is_valid_utf8(rec.headers[i].name) ? rec.headers[i].name : "(invalid UTF-8)");
    data += ',';
    append_text_or_base64(data, "value", rec.headers[i].value);
    data += '}';
  }
  data += ']';
  if (include_json_value && is_json_document(rec.value)) {
    data += ",\"value\":";
    data += rec.value;
  }
  data += ",\"value_base64\":\"" + detail::base64_encode(rec.value) + "\"},\"error\":{\"class\":";
  data += failed.retries_exhausted ? "\"retries_exhausted\"" : "\"permanent\"";
  data += ",\"code\":";
  append_json_string(data, to_string(failed.cause.code));
  data += ",\"message\":";
  append_json_string(data, failed.cause.message);
  data += ",\"details\":";
  detail::append_validation_errors(data, failed.cause.details);
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  const auto first = failed.first_failure_ms != 0 ? failed.first_failure_ms : now;
  const auto last = failed.last_failure_ms != 0 ? failed.last_failure_ms : now;
  data += "},\"attempts\":" + std::to_string(failed.attempts) + ",\"first_failure_at\":\"" + format_ms(first) +
          "\",\"last_failure_at\":\"" + format_ms(last) + "\",\"consumer\":{\"service\":";
  append_json_string(data, config.service);
  data += ",\"group\":";
  append_json_string(data, config.group);
  data += ",\"host\":";
  append_json_string(data, config.host);
  data += "}}";

  envelope dead;
  dead.meta.id = new_uuid_v4();
  dead.meta.type = deadletter_type(config.service);
  dead.meta.version = "1.0";
  dead.meta.timestamp = now_timestamp();
  dead.meta.correlation_id = correlation_for(failed);
  dead.meta.source = config.service;
  dead.meta.trace = trace_for(failed);
  dead.data = std::move(data);
  return encode(dead);
}

struct deadletter_writer::impl {
  std::shared_ptr<transport> transport_;
  deadletter_config config_;
  std::string topic_;
  std::unique_ptr<producer> producer_;

  result<delivery_report> send(const failed_event& failed, bool include_json_value) {
    record rec;
    rec.topic = topic_;
    rec.key = failed.source ? failed.source->key : std::string();
    rec.value = deadletter_envelope_json(failed, config_, include_json_value);
    // The headers of DESIGN.md §3, read back from the envelope just built.
    auto decoded = decode_envelope(rec.value);
    if (!decoded) return make_error(errc::internal, "dead letter envelope does not decode: " + decoded.error().describe());
    const auto& meta = decoded->meta;
    rec.headers = {{"aw-event-id", meta.id},
                   {"aw-event-type", meta.type},
                   {"aw-event-version", meta.version},
                   {"aw-correlation-id", meta.correlation_id},
                   {"traceparent", to_traceparent(meta.trace)},
                   {"content-type", "application/json"}};
    auto promise = std::make_shared<std::promise<result<delivery_report>>>();
    auto future = promise->get_future();
    producer_->produce(std::move(rec), [promise](result<delivery_report> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(config_.ack_timeout) != std::future_status::ready) {
      return make_error(errc::timeout, "dead letter to " + topic_ + " not acknowledged within " +
                                           std::to_string(config_.ack_timeout.count()) + " ms");
    }
    return future.get();
  }
};

deadletter_writer::deadletter_writer(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
deadletter_writer::~deadletter_writer() {
  if (impl_ && impl_->producer_) (void)impl_->producer_->flush(impl_->config_.ack_timeout);
}

result<std::unique_ptr<deadletter_writer>> deadletter_writer::create(std::shared_ptr<transport> transport,
                                                                     deadletter_config config) {
  if (!transport) return make_error(errc::invalid_argument, "deadletter_writer::create: transport is null");
  if (config.host.empty()) config.host = host_name();
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto state = std::make_unique<impl>();
  state->topic_ = deadletter_topic(config.service);
  if (auto created = transport->create_topic(state->topic_, config.partitions); !created) {
    // Kafka clusters that create topics on first produce (the mock in another process) still get it then.
    log::warn("dead-letter topic not created up front; relying on creation on first use",
              {{"topic", state->topic_}, {"error", created.error().describe()}});
  } else if (transport->kind() == "embedded") {
    // The transport interface creates topics with the store's default retention; dead letters keep 30 days
    // (DESIGN.md §3), set on the topic's row of the embedded store.
    auto db = store::connection::open(transport->describe(), std::chrono::milliseconds(10000));
    if (!db) return make_error(db.error());
    auto update = (*db)->prepare("UPDATE topics SET retention_ms = ?1 WHERE name = ?2 AND retention_ms < ?1");
    if (!update) return make_error(update.error());
    update->bind_int64(1, deadletter_retention_ms);
    update->bind_text(2, state->topic_);
    if (auto ok = update->run(); !ok) return make_error(ok.error());
  }
  auto options = config.producer;
  if (options.client_id == "aw-events") options.client_id = "aw-events-deadletter";
  options.delivery_timeout = std::min(options.delivery_timeout, config.ack_timeout);
  auto producer = transport->create_producer(options);
  if (!producer) return make_error(producer.error());
  state->producer_ = std::move(*producer);
  state->transport_ = std::move(transport);
  state->config_ = std::move(config);
  return std::unique_ptr<deadletter_writer>(new deadletter_writer(std::move(state)));
}

result<delivery_report> deadletter_writer::write(const failed_event& failed) {
  auto sent = impl_->send(failed, true);
  if (!sent && sent.error().code == errc::message_too_large) {
    // The JSON copy of the value doubles the size; value_base64 alone still keeps every original byte.
    log::warn("dead letter too large with the JSON copy of the value; sending value_base64 only",
              {{"topic", impl_->topic_}, {"error", sent.error().describe()}});
    sent = impl_->send(failed, false);
  }
  return sent;
}

failure_sink deadletter_writer::sink() {
  return [this](const failed_event& failed) -> result<void> {
    auto sent = write(failed);
    if (!sent) return make_error(sent.error());
    const auto offset = std::to_string(failed.source ? failed.source->offset : -1);
    const auto partition = std::to_string(failed.source ? failed.source->partition : -1);
    const auto dl_offset = std::to_string(sent->offset);
    log::error("event dead-lettered",
               {{"topic", failed.source ? std::string_view(failed.source->topic) : ""}, {"partition", partition},
                {"offset", offset}, {"event_id", failed.event ? std::string_view(failed.event->meta.id) : ""},
                {"deadletter_topic", sent->topic}, {"deadletter_offset", dl_offset},
                {"error", failed.cause.describe()}});
    return {};
  };
}

}  // namespace aw::events
