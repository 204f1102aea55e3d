// Spans for event publishing and processing, exported over OTLP/HTTP (JSON) to a collector.
// The trace itself travels in every envelope (meta.trace_context) and in the `traceparent` header; this
// header only decides where finished spans go. Export is off until an exporter is installed — the CLI
// installs one when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT is set.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events::tracing {

enum class span_kind { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

using attribute_value = std::variant<std::string, std::int64_t, bool>;

struct span {
  std::string trace_id;        // 32 lowercase hex
  std::string span_id;         // 16 lowercase hex
  std::string parent_span_id;  // empty for a root span
  std::string name;            // OTel messaging: "<operation> <destination>", e.g. "publish content"
  span_kind kind = span_kind::internal;
  std::uint64_t start_unix_ns = 0;
  std::uint64_t end_unix_ns = 0;
  std::vector<std::pair<std::string, attribute_value>> attributes;
  bool failed = false;
  std::string status_message;  // why it failed
};

// Nanoseconds since the Unix epoch, now.
[[nodiscard]] std::uint64_t now_unix_ns() noexcept;

// Receives finished spans. export_span must not block: implementations queue and send elsewhere.
class span_exporter {
 public:
  virtual ~span_exporter() = default;
  virtual void export_span(span finished) = 0;
};

struct otlp_exporter_config {
  std::string endpoint = "http://127.0.0.1:4318/v1/traces";  // http:// only (collectors on the local host)
  std::string service_name = "aw-events";                    // resource attribute service.name
  std::size_t max_queue = 4096;   // spans waiting; beyond this new spans are dropped and counted
  std::size_t max_batch = 512;    // spans per request
  std::chrono::milliseconds flush_interval{500};
  std::chrono::milliseconds request_timeout{2000};
  [[nodiscard]] result<void> validate() const;
};

// Batches spans through a bounded queue to an OTLP/HTTP JSON endpoint on a background thread. When the
// collector is away or slow, spans are dropped (aw_events_spans_dropped_total), never queued without bound,
// and the caller is never blocked.
class otlp_http_exporter final : public span_exporter {
 public:
  [[nodiscard]] static result<std::shared_ptr<otlp_http_exporter>> create(otlp_exporter_config config);
  ~otlp_http_exporter() override;  // sends what is queued (bounded by request_timeout), then stops
  void export_span(span finished) override;
  // Sends everything queued so far; errc::timeout when it did not get through in time.
  [[nodiscard]] result<void> flush(std::chrono::milliseconds timeout);
  [[nodiscard]] std::uint64_t exported() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;

 private:
  struct impl;
  explicit otlp_http_exporter(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

// The OTLP JSON body (ExportTraceServiceRequest) for these spans.
[[nodiscard]] std::string to_otlp_json(const std::vector<span>& spans, const std::string& service_name);

// The process-wide exporter that publishers and subscribers report to (null: tracing export off).
void set_exporter(std::shared_ptr<span_exporter> exporter);
[[nodiscard]] std::shared_ptr<span_exporter> exporter();
// Installs an OTLP exporter from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT plus
// "/v1/traces", with OTEL_SERVICE_NAME (else `service_name`). Does nothing when neither is set.
[[nodiscard]] result<void> install_exporter_from_environment(const std::string& service_name);

}  // namespace aw::events::tracing
