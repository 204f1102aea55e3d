#include "aw/events/publisher.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "aw/events/catalog.hpp"
#include "aw/events/context.hpp"
#include "aw/events/ids.hpp"
#include "core/ids_raw.hpp"
#include "core/json_check.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "pipeline/timer_queue.hpp"

namespace aw::events {

std::string topic_for(std::string_view event_type, topic_strategy strategy) {
  if (!is_event_type(event_type)) return {};
  const auto first = event_type.find('.');
  if (strategy == topic_strategy::per_service) return std::string(event_type.substr(0, first));
  return std::string(event_type.substr(0, event_type.find('.', first + 1)));
}

std::string deadletter_topic(std::string_view service) { return std::string(service) + ".deadletter"; }

result<void> publisher_config::validate() const {
  if (service.empty()) return make_error(errc::invalid_argument, "publisher_config.service is required (meta.source)");
  for (char c : service) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return make_error(errc::invalid_argument,
                        "publisher_config.service must be a lowercase service name, got \"" + service + "\"");
    }
  }
  if (auto ok = retry.validate(); !ok) return ok;
  if (producer.delivery_timeout.count() <= 0) {
    return make_error(errc::invalid_argument, "publisher_config.producer.delivery_timeout must be positive");
  }
  return {};
}

namespace {

// One accepted event on its way. It crosses to the transport's delivery thread, where it is freed: glibc
// frees from another thread are slow (arena lock), so it holds few heap blocks. The encoded value is kept
// and resent unchanged by every attempt (same event id); the header fields are copied into the event itself.
struct pending_event {
  std::string topic;
  std::string key;
  std::vector<header> extra_headers;
  std::string value;   // the encoded envelope
  // id, correlation id, type, version, traceparent, back to back: inside the event when they fit (the usual
  // case: ~150 bytes), else in `spilled`.
  std::array<char, 240> inline_fields;
  std::string spilled;
  bool uses_spilled = false;
  std::array<std::uint32_t, 5> ends{};  // end of each field
  int attempts = 0;
  publish_callback done;

  enum field : std::size_t { id_field, correlation_field, type_field, version_field, traceparent_field };

  [[nodiscard]] std::string_view get(field f) const noexcept {
    const std::uint32_t begin = f == id_field ? 0 : ends[f - 1];
    const char* base = uses_spilled ? spilled.data() : inline_fields.data();
    return std::string_view(base + begin, ends[f] - begin);
  }
  [[nodiscard]] std::string_view id() const noexcept { return get(id_field); }
  [[nodiscard]] std::string_view correlation_id() const noexcept { return get(correlation_field); }

  void set_event(const envelope& event) {
    value.clear();
    encode_to(event, value);
    set_fields(event.meta.id, event.meta.correlation_id, event.meta.type, event.meta.version, event.meta.trace.trace_id,
               event.meta.trace.span_id);
  }

  // Copies the header fields in; traceparent is built from the trace and span id.
  void set_fields(std::string_view id, std::string_view correlation_id, std::string_view type, std::string_view version,
                  std::string_view trace_id, std::string_view span_id) {
    char traceparent[55];  // 00-<32 hex>-<16 hex>-01
    std::string_view parent;
    std::string fallback;
    if (trace_id.size() == 32 && span_id.size() == 16) {
      std::memcpy(traceparent, "00-", 3);
      std::memcpy(traceparent + 3, trace_id.data(), 32);
      traceparent[35] = '-';
      std::memcpy(traceparent + 36, span_id.data(), 16);
      std::memcpy(traceparent + 52, "-01", 3);
      parent = std::string_view(traceparent, sizeof traceparent);
    } else {
      fallback = to_traceparent(trace_context{std::string(trace_id), std::string(span_id)});
      parent = fallback;
    }
    const std::string_view parts[5] = {id, correlation_id, type, version, parent};
    std::size_t total = 0;
    for (auto part : parts) total += part.size();
    uses_spilled = total > inline_fields.size();
    if (uses_spilled) spilled.resize(total);
    char* out = uses_spilled ? spilled.data() : inline_fields.data();
    std::size_t at = 0;
    for (std::size_t i = 0; i < std::size(parts); ++i) {
      if (!parts[i].empty()) std::memcpy(out + at, parts[i].data(), parts[i].size());
      at += parts[i].size();
      ends[i] = static_cast<std::uint32_t>(at);
    }
  }

  [[nodiscard]] record build_record() const {
    record rec;
    rec.topic = topic;
    rec.key = key;
    rec.value.reserve(value.size());  // exact: a plain copy would allocate the source's spare capacity too
    rec.value.append(value);
    rec.headers.reserve(6 + extra_headers.size());
    rec.headers.push_back({"aw-event-id", std::string(get(id_field))});
    rec.headers.push_back({"aw-event-type", std::string(get(type_field))});
    rec.headers.push_back({"aw-event-version", std::string(get(version_field))});
    rec.headers.push_back({"aw-correlation-id", std::string(get(correlation_field))});
    rec.headers.push_back({"traceparent", std::string(get(traceparent_field))});
    rec.headers.push_back({"content-type", "application/json"});
    rec.headers.insert(rec.headers.end(), extra_headers.begin(), extra_headers.end());
    return rec;
  }
};

}  // namespace

struct publisher::impl {
  // Declaration order is destruction order reversed: the producer goes first (its last reports may
  // schedule nothing once closing_ is set), then the retry queue (cancelled retries finish with an error).
  std::mutex outstanding_mutex_;
  std::condition_variable outstanding_done_;
  // Atomic so that begin/finish (publishing thread and delivery thread, once per event each) do not contend
  // on the mutex; the mutex is taken only to wake flush() when the count reaches zero.
  std::atomic<std::size_t> outstanding_{0};
  std::atomic<bool> closing_{false};
  std::atomic<bool> warned_generated_correlation_{false};
  publisher_config config_;
  std::shared_ptr<transport> transport_;
  detail::timer_queue retries_;
  std::unique_ptr<producer> producer_;

  void begin() {
    outstanding_.fetch_add(1);
  }

  void finish(std::unique_ptr<pending_event> event, result<publish_receipt> outcome) {
    try {
      if (event->done) event->done(std::move(outcome));
    } catch (const std::exception& e) {
      log::error("publish callback threw", {{"event_id", event->id()}, {"error", e.what()}});
    }
    event.reset();
    if (outstanding_.fetch_sub(1) == 1) {
      // Taking the lock orders this wake-up after a flush() that checked the count but is not waiting yet.
      std::lock_guard lock(outstanding_mutex_);
      outstanding_done_.notify_all();
    }
  }

  void send(std::unique_ptr<pending_event> event) {
    ++event->attempts;
    if (event->attempts > 1 || log::enabled(log::level::debug)) {
      const auto attempt = std::to_string(event->attempts);
      log::write(event->attempts > 1 ? log::level::info : log::level::debug, "publish attempt",
                 {{"event_id", event->id()}, {"correlation_id", event->correlation_id()},
                  {"topic", event->topic}, {"attempt", attempt}});
    }
    auto* raw = event.release();  // owned by the delivery handler until it runs (exactly once)
    producer_->produce(raw->build_record(), [this, raw](result<delivery_report> report) {
      on_delivery(std::unique_ptr<pending_event>(raw), std::move(report));
    });
  }

  void on_delivery(std::unique_ptr<pending_event> event, result<delivery_report> report) {
    if (report) {
      publish_receipt receipt{std::string(event->id()), std::string(event->correlation_id()), std::move(report->topic),
                              report->partition, report->offset, event->attempts};
      finish(std::move(event), std::move(receipt));
      return;
    }
    const auto& failure = report.error();
    const auto attempt = std::to_string(event->attempts);
    if (failure.retriable() && event->attempts < config_.retry.max_attempts && !closing_.load()) {
      const auto delay = config_.retry.backoff(event->attempts);
      log::warn("publish failed, will retry",
                {{"event_id", event->id()}, {"correlation_id", event->correlation_id()}, {"topic", event->topic},
                 {"attempt", attempt}, {"retry_in_ms", std::to_string(delay.count())}, {"error", failure.describe()}});
      auto* raw = event.release();
      retries_.schedule(detail::timer_queue::clock::now() + delay, [this, raw](bool cancelled) {
        std::unique_ptr<pending_event> owned(raw);
        if (cancelled || closing_.load()) {
          auto closed = make_error(errc::closed, "publisher closed while event " + std::string(owned->id()) +
                                                     " was waiting to be retried");
          finish(std::move(owned), std::move(closed));
        } else {
          send(std::move(owned));
        }
      });
      return;
    }
    log::error("publish failed", {{"event_id", event->id()}, {"correlation_id", event->correlation_id()},
                                  {"topic", event->topic}, {"attempts", attempt}, {"error", failure.describe()}});
    finish(std::move(event), make_error(failure));
  }

  // Fills meta, encodes, builds the record and sends it. `data` is known to be a JSON object.
  void publish_data(std::string_view type, std::string_view data, publish_options options, publish_callback done) {
    std::vector<validation_error> problems;
    if (!is_event_type(type)) {
      problems.push_back({"/meta/type", "/envelope/meta/type",
                          "\"" + std::string(type) + "\" is not an event type service.resource.action in lowercase snake_case"});
    }
    if (options.version.empty()) options.version = "1.0";
    if (!is_event_version(options.version)) {
      problems.push_back({"/meta/version", "/envelope/meta/version",
                          "\"" + options.version + "\" is not a version MAJOR.MINOR"});
    }
    if (!admit(std::move(problems), options, type, options.version, data, done)) return;
    // The envelope is written straight into the record value from fixed-size buffers: no envelope object and
    // none of its strings are built on this path (the bytes are those encode() writes for the same fields).
    char id[detail::uuid_chars];
    detail::write_uuid_v4(id);
    char timestamp[detail::timestamp_chars];
    detail::write_now_timestamp(timestamp);
    const std::string_view id_view(id, sizeof id);

    const event_context* context = current_context();
    char generated_correlation[detail::uuid_chars];
    std::string_view correlation_id;
    if (!options.correlation_id.empty()) {
      correlation_id = options.correlation_id;
    } else if (context && !context->correlation_id.empty()) {
      correlation_id = context->correlation_id;
    } else {
      detail::write_uuid_v4(generated_correlation);
      correlation_id = std::string_view(generated_correlation, sizeof generated_correlation);
      warn_generated_correlation(id_view, correlation_id, type);
    }
    const trace_context* parent = options.parent ? &*options.parent : (context && context->trace ? &*context->trace : nullptr);
    char new_trace_id[detail::trace_id_chars];
    std::string_view trace_id;
    if (parent != nullptr) {
      trace_id = parent->trace_id;
    } else {
      detail::write_random_hex_id(new_trace_id, sizeof new_trace_id);
      trace_id = std::string_view(new_trace_id, sizeof new_trace_id);
    }
    char span_id[detail::span_id_chars];
    detail::write_random_hex_id(span_id, sizeof span_id);
    const std::string_view span_view(span_id, sizeof span_id);

    auto pending = std::make_unique<pending_event>();
    pending->topic = options.topic.empty() ? topic_for(type, config_.topics) : std::move(options.topic);
    pending->key = std::move(options.key);
    pending->extra_headers = std::move(options.headers);
    std::string& out = pending->value;
    out.reserve(200 + 2 * (correlation_id.size() + config_.service.size()) + type.size() + options.version.size() +
                trace_id.size() + data.size());
    out += R"({"meta":{"id":")";
    out += id_view;
    out += R"(","type":)";
    detail::append_json_string(out, type);
    out += R"(,"version":)";
    detail::append_json_string(out, options.version);
    out += R"(,"timestamp":")";
    out.append(timestamp, sizeof timestamp);
    out += R"(","correlation_id":)";
    detail::append_json_string(out, correlation_id);
    out += R"(,"source":)";
    detail::append_json_string(out, config_.service);
    out += R"(,"trace_context":{"trace_id":)";
    detail::append_json_string(out, trace_id);
    out += R"(,"span_id":")";
    out += span_view;
    out += R"("}},"data":)";
    out += data;
    out.push_back('}');
    pending->set_fields(id_view, correlation_id, type, options.version, trace_id, span_view);
    pending->done = std::move(done);
    begin();
    send(std::move(pending));
  }

  // Once per publisher at warn level (a missing request id is a wiring problem worth seeing), every event at
  // debug level (so the generated id can be traced without flooding the log at full publish rate).
  void warn_generated_correlation(std::string_view event_id, std::string_view correlation_id, std::string_view type) {
    if (!warned_generated_correlation_.exchange(true)) {
      log::warn("publishing without a correlation id in the caller's context: generating one per event "
                "(each is logged at debug level)",
                {{"service", config_.service}, {"type", type}});
    }
    if (log::enabled(log::level::debug)) {
      log::debug("generated correlation id", {{"event_id", event_id}, {"correlation_id", correlation_id},
                                              {"type", type}});
    }
  }

  // The last gate before an event is built: envelope problems found so far, the key, then the catalog.
  // On refusal `done` has been called and nothing reaches the transport.
  bool admit(std::vector<validation_error> problems, const publish_options& options, std::string_view type,
             std::string_view version, std::string_view data, publish_callback& done) const {
    if (!problems.empty()) {
      done(make_error(errc::invalid_envelope, "event refused", std::move(problems)));
      return false;
    }
    if (options.key.empty()) {
      done(make_error(errc::invalid_argument, "publish_options.key is required: the resource id used as partition key"));
      return false;
    }
    if (auto refused = check_catalog(type, version, data); !refused) {
      done(make_error(std::move(refused.error())));
      return false;
    }
    return true;
  }

  // With a catalog: the type must be registered and the data must match its schema.
  result<void> check_catalog(std::string_view type, std::string_view version, std::string_view data) const {
    if (!config_.catalog) return {};
    auto checked = config_.catalog->validate_data(type, version, data);
    if (!checked) {
      log::warn("event refused by the catalog", {{"type", type}, {"version", version}, {"error", checked.error().describe()}});
    }
    return checked;
  }

  void send_envelope(const envelope& event, publish_options options, publish_callback done) {
    auto pending = std::make_unique<pending_event>();
    pending->topic = options.topic.empty() ? topic_for(event.meta.type, config_.topics) : std::move(options.topic);
    pending->key = std::move(options.key);
    pending->extra_headers = std::move(options.headers);
    pending->set_event(event);
    pending->done = std::move(done);
    begin();
    send(std::move(pending));
  }
};

publisher::publisher(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}

publisher::~publisher() {
  if (auto ok = flush(impl_->config_.producer.delivery_timeout); !ok) {
    log::error("publisher closed with events still in flight", {{"error", ok.error().describe()}});
  }
  impl_->closing_ = true;
  impl_->producer_.reset();
}

result<std::unique_ptr<publisher>> publisher::create(std::shared_ptr<transport> transport, publisher_config config) {
  if (!transport) return make_error(errc::invalid_argument, "publisher::create: transport is null");
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto producer = transport->create_producer(config.producer);
  if (!producer) return make_error(producer.error());
  if (!config.catalog) {
    log::warn("publisher has no event catalog: data schemas are not checked, only the envelope rules",
              {{"service", config.service}});
  }
  auto state = std::make_unique<impl>();
  state->transport_ = std::move(transport);
  state->producer_ = std::move(*producer);
  state->config_ = std::move(config);
  return std::unique_ptr<publisher>(new publisher(std::move(state)));
}

void publisher::publish(std::string_view type, std::string_view data_json, publish_options options,
                        publish_callback done) {
  if (auto problem = detail::check_json_object(data_json, "/data")) {
    done(make_error(errc::invalid_envelope, "event refused", {std::move(*problem)}));
    return;
  }
  impl_->publish_data(type, data_json, std::move(options), std::move(done));
}

std::future<result<publish_receipt>> publisher::publish(std::string_view type, std::string_view data_json,
                                                        publish_options options) {
  auto promise = std::make_shared<std::promise<result<publish_receipt>>>();
  auto future = promise->get_future();
  publish(type, data_json, std::move(options),
          [promise](result<publish_receipt> r) { promise->set_value(std::move(r)); });
  return future;
}

void publisher::publish_written(std::string_view type, const json_writer& writer, publish_options options,
                                publish_callback done) {
  if (!writer.ok() || writer.str().empty() || writer.str().front() != '{') {
    done(make_error(errc::invalid_envelope, "event refused",
                    {{"/data", "/type", "write_json did not produce one complete JSON object"}}));
    return;
  }
  impl_->publish_data(type, writer.str(), std::move(options), std::move(done));
}

void publisher::publish_envelope(const envelope& event, publish_options options, publish_callback done) {
  auto problems = validate_envelope(event);
  if (auto data_problem = detail::check_json_object(event.data, "/data")) problems.push_back(std::move(*data_problem));
  if (!impl_->admit(std::move(problems), options, event.meta.type, event.meta.version, event.data, done)) return;
  impl_->send_envelope(event, std::move(options), std::move(done));
}

result<void> publisher::flush(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Retries re-enter the producer later, so alternate between flushing it and waiting for our own count.
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    (void)impl_->producer_->flush(std::max(left, std::chrono::milliseconds(0)));
    std::unique_lock lock(impl_->outstanding_mutex_);
    if (impl_->outstanding_done_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(50)),
                                            [&] { return impl_->outstanding_ == 0; })) {
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return make_error(errc::timeout, std::to_string(impl_->outstanding_.load()) + " events still in flight after flush timeout");
    }
  }
}

const publisher_config& publisher::config() const noexcept { return impl_->config_; }

}  // namespace aw::events
