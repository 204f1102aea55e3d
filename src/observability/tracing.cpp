// OTLP/HTTP JSON span export (https://opentelemetry.io/docs/specs/otlp/#otlphttp): a bounded queue,
// one background sender, drops counted rather than memory or callers held hostage by a missing collector.
#include "aw/events/tracing.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "aw/events/metrics.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"

namespace aw::events::tracing {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

std::uint64_t now_unix_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

namespace {

struct http_target {
  std::string host;
  std::string port;
  std::string path;
};

result<http_target> parse_endpoint(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (!std::string_view(url).starts_with(scheme)) {
    return make_error(errc::invalid_argument, "OTLP endpoint \"" + url + "\": only http:// URLs are supported");
  }
  const auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  http_target target;
  target.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  target.host = authority.substr(0, colon);
  target.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (target.host.empty() || target.port.empty() ||
      target.port.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(errc::invalid_argument, "OTLP endpoint \"" + url + "\": expected http://HOST:PORT/PATH");
  }
  return target;
}

void append_attribute(std::string& out, std::string_view key, const attribute_value& value) {
  out += "{\"key\":";
  detail::append_json_string(out, key);
  out += ",\"value\":{";
  if (const auto* s = std::get_if<std::string>(&value)) {
    out += "\"stringValue\":";
    detail::append_json_string(out, *s);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    // OTLP JSON maps int64 to a decimal string.
    out += "\"intValue\":\"" + std::to_string(*i) + "\"";
  } else {
    out += std::get<bool>(value) ? "\"boolValue\":true" : "\"boolValue\":false";
  }
  out += "}}";
}

metrics::counter& dropped_counter() {
  static metrics::counter& counter =
      metrics::registry::global()
          .counters("aw_events_spans_dropped_total", "Spans dropped because the OTLP collector was away or slow")
          .value()
          ->with(std::vector<std::string>{});
  return counter;
}

std::mutex global_mutex;
std::shared_ptr<span_exporter> global_exporter;

}  // namespace

std::string to_otlp_json(const std::vector<span>& spans, const std::string& service_name) {
  std::string out = R"({"resourceSpans":[{"resource":{"attributes":[)";
  append_attribute(out, "service.name", service_name);
  out += R"(]},"scopeSpans":[{"scope":{"name":"aw-events","version":"0.1.0"},"spans":[)";
  bool first = true;
  for (const auto& s : spans) {
    if (!first) out += ',';
    first = false;
    out += "{\"traceId\":";
    detail::append_json_string(out, s.trace_id);
    out += ",\"spanId\":";
    detail::append_json_string(out, s.span_id);
    if (!s.parent_span_id.empty()) {
      out += ",\"parentSpanId\":";
      detail::append_json_string(out, s.parent_span_id);
    }
    out += ",\"name\":";
    detail::append_json_string(out, s.name);
    out += ",\"kind\":" + std::to_string(static_cast<int>(s.kind));
    out += ",\"startTimeUnixNano\":\"" + std::to_string(s.start_unix_ns) + "\"";
    out += ",\"endTimeUnixNano\":\"" + std::to_string(s.end_unix_ns) + "\"";
    out += ",\"attributes\":[";
    for (std::size_t i = 0; i < s.attributes.size(); ++i) {
      if (i) out += ',';
      append_attribute(out, s.attributes[i].first, s.attributes[i].second);
    }
    out += "],\"status\":{";
    if (s.failed) {
      out += "\"code\":2,\"message\":";  // STATUS_CODE_ERROR
      detail::append_json_string(out, s.status_message);
    } else {
      out += "\"code\":0";  // unset: OTel leaves "ok" to the application
    }
    out += "}}";
  }
  out += "]}]}]}";
  return out;
}

result<void> otlp_exporter_config::validate() const {
  if (auto parsed = parse_endpoint(endpoint); !parsed) return make_error(parsed.error());
  if (max_queue == 0) return make_error(errc::invalid_argument, "otlp_exporter_config.max_queue must be > 0");
  if (max_batch == 0) return make_error(errc::invalid_argument, "otlp_exporter_config.max_batch must be > 0");
  if (flush_interval.count() <= 0 || request_timeout.count() <= 0) {
    return make_error(errc::invalid_argument, "otlp_exporter_config: flush_interval and request_timeout must be > 0");
  }
  return {};
}

struct otlp_http_exporter::impl {
  otlp_exporter_config config;
  http_target target;
  std::mutex mutex;
  std::condition_variable wake;        // the sender: work or stop
  std::condition_variable progressed;  // flush(): a batch left
  std::deque<span> queue;
  std::uint64_t enqueued = 0;
  std::uint64_t finished = 0;  // sent or dropped after dequeuing
  std::atomic<std::uint64_t> exported{0};
  std::atomic<std::uint64_t> dropped{0};
  bool stopping = false;
  bool flush_requested = false;
  std::thread sender;

  result<void> post(const std::string& body) {
    try {
      boost::asio::io_context io;
      tcp::resolver resolver(io);
      beast::tcp_stream stream(io);
      stream.expires_after(config.request_timeout);
      stream.connect(resolver.resolve(target.host, target.port));
      http::request<http::string_body> request{http::verb::post, target.path, 11};
      request.set(http::field::host, target.host + ":" + target.port);
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
      http::write(stream, request);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(stream, buffer, response);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      if (response.result_int() / 100 != 2) {
        return make_error(errc::unavailable, "OTLP collector answered " + std::to_string(response.result_int()));
      }
      return {};
    } catch (const std::exception& e) {
      return make_error(errc::unavailable, std::string("OTLP collector unreachable: ") + e.what());
    }
  }

  void run() {
    std::unique_lock lock(mutex);
    while (true) {
      wake.wait_for(lock, config.flush_interval,
                    [this] { return stopping || flush_requested || queue.size() >= config.max_batch; });
      if (queue.empty()) {
        flush_requested = false;
        progressed.notify_all();
        if (stopping) return;
        continue;
      }
      std::vector<span> batch;
      const auto n = std::min(queue.size(), config.max_batch);
      batch.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      lock.unlock();
      const auto body = to_otlp_json(batch, config.service_name);
      if (auto sent = post(body); sent) {
        exported += batch.size();
      } else {
        // One failed request drops its batch: retrying would let a dead collector fill the queue.
        dropped += batch.size();
        dropped_counter().inc(static_cast<double>(batch.size()));
        log::warn("spans dropped", {{"count", std::to_string(batch.size())}, {"error", sent.error().describe()}});
      }
      lock.lock();
      finished += batch.size();
      progressed.notify_all();
    }
  }
};

otlp_http_exporter::otlp_http_exporter(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}

otlp_http_exporter::~otlp_http_exporter() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->sender.join();
}

result<std::shared_ptr<otlp_http_exporter>> otlp_http_exporter::create(otlp_exporter_config config) {
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto state = std::make_unique<impl>();
  state->target = parse_endpoint(config.endpoint).value();
  state->config = std::move(config);
  auto* raw = state.get();
  state->sender = std::thread([raw] { raw->run(); });
  return std::shared_ptr<otlp_http_exporter>(new otlp_http_exporter(std::move(state)));
}

void otlp_http_exporter::export_span(span finished) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->queue.size() >= impl_->config.max_queue) {
      ++impl_->dropped;
      dropped_counter().inc();
      return;
    }
    impl_->queue.push_back(std::move(finished));
    ++impl_->enqueued;
    if (impl_->queue.size() < impl_->config.max_batch) return;
  }
  impl_->wake.notify_one();
}

result<void> otlp_http_exporter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  const auto target = impl_->enqueued;
  impl_->flush_requested = true;
  impl_->wake.notify_one();
  if (!impl_->progressed.wait_for(lock, timeout, [&] { return impl_->finished >= target; })) {
    return make_error(errc::timeout, "OTLP flush: " + std::to_string(target - impl_->finished) + " spans still queued");
  }
  return {};
}

std::uint64_t otlp_http_exporter::exported() const noexcept { return impl_->exported.load(); }
std::uint64_t otlp_http_exporter::dropped() const noexcept { return impl_->dropped.load(); }

void set_exporter(std::shared_ptr<span_exporter> e) {
  std::lock_guard lock(global_mutex);
  global_exporter = std::move(e);
}

std::shared_ptr<span_exporter> exporter() {
  std::lock_guard lock(global_mutex);
  return global_exporter;
}

result<void> install_exporter_from_environment(const std::string& service_name) {
  otlp_exporter_config config;
  if (const char* traces = std::getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); traces && *traces) {
    config.endpoint = traces;
  } else if (const char* base = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); base && *base) {
    std::string url = base;
    while (!url.empty() && url.back() == '/') url.pop_back();
    config.endpoint = url + "/v1/traces";
  } else {
    return {};
  }
  const char* name = std::getenv("OTEL_SERVICE_NAME");
  config.service_name = name && *name ? name : service_name;
  auto created = otlp_http_exporter::create(std::move(config));
  if (!created) return make_error(created.error());
  set_exporter(std::move(*created));
  return {};
}

}  // namespace aw::events::tracing
