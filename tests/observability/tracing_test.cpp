#include "aw/events/tracing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <mutex>

#include "server/http_server.hpp"

namespace aw::events::tracing {
namespace {

using ::testing::HasSubstr;

span sample_span(std::string name, std::string parent = "") {
  span s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "00f067aa0ba902b7";
  s.parent_span_id = std::move(parent);
  s.name = std::move(name);
  s.kind = span_kind::consumer;
  s.start_unix_ns = 1700000000000000000ull;
  s.end_unix_ns = 1700000000000500000ull;
  s.attributes = {{"messaging.system", std::string("kafka")},
                  {"messaging.destination.partition.id", std::int64_t{3}},
                  {"aw.replay", false}};
  return s;
}

TEST(otlp_json, encodes_spans_as_an_export_trace_service_request) {
  auto failed = sample_span("process content", "a3ce929d0e0e4736");
  failed.failed = true;
  failed.status_message = "handler said \"no\"";
  const auto body = to_otlp_json({sample_span("publish content"), failed}, "content-service");
  simdjson::dom::parser parser;
  auto doc = parser.parse(body);
  ASSERT_FALSE(doc.error()) << body;
  auto resource = doc["resourceSpans"].at(0);
  EXPECT_EQ(std::string_view(resource["resource"]["attributes"].at(0)["value"]["stringValue"]), "content-service");
  auto spans = resource["scopeSpans"].at(0)["spans"];
  EXPECT_EQ(spans.get_array().size(), 2u);
  auto first = spans.at(0);
  EXPECT_EQ(std::string_view(first["traceId"]), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(std::string_view(first["spanId"]), "00f067aa0ba902b7");
  EXPECT_TRUE(first["parentSpanId"].error());  // a root span has none
  EXPECT_EQ(int64_t(first["kind"]), 5);
  EXPECT_EQ(std::string_view(first["startTimeUnixNano"]), "1700000000000000000");
  EXPECT_EQ(std::string_view(first["attributes"].at(1)["value"]["intValue"]), "3");
  EXPECT_EQ(bool(first["attributes"].at(2)["value"]["boolValue"]), false);
  EXPECT_EQ(int64_t(first["status"]["code"]), 0);
  auto second = spans.at(1);
  EXPECT_EQ(std::string_view(second["parentSpanId"]), "a3ce929d0e0e4736");
  EXPECT_EQ(int64_t(second["status"]["code"]), 2);
  EXPECT_EQ(std::string_view(second["status"]["message"]), "handler said \"no\"");
}

// A local OTLP receiver: records the bodies POSTed to /v1/traces.
class receiver {
 public:
  explicit receiver(int status = 200) {
    server_ = server::http_server::bind({.listen = "127.0.0.1:0"}).value();
    server_->route("POST", "/v1/traces", [this, status](const server::http_request& r) {
      std::lock_guard lock(mutex_);
      bodies_.push_back(r.body);
      return server::http_response{status, "application/json", "{}", {}};
    });
    server_->start();
  }
  std::string url() const { return "http://" + server_->address() + "/v1/traces"; }
  std::size_t spans_received() {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    simdjson::dom::parser parser;
    for (const auto& b : bodies_) n += parser.parse(b)["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].get_array().size();
    return n;
  }
  std::size_t requests() {
    std::lock_guard lock(mutex_);
    return bodies_.size();
  }

 private:
  std::unique_ptr<server::http_server> server_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
};

TEST(otlp_http_exporter, sends_spans_in_batches_to_the_collector) {
  receiver collector;
  auto exporter = otlp_http_exporter::create({.endpoint = collector.url(), .service_name = "t", .max_batch = 10});
  ASSERT_TRUE(exporter) << exporter.error().describe();
  for (int i = 0; i < 25; ++i) (*exporter)->export_span(sample_span("publish content"));
  ASSERT_TRUE((*exporter)->flush(std::chrono::seconds(5)));
  EXPECT_EQ(collector.spans_received(), 25u);
  EXPECT_GE(collector.requests(), 3u);
  EXPECT_EQ((*exporter)->exported(), 25u);
  EXPECT_EQ((*exporter)->dropped(), 0u);
}

TEST(otlp_http_exporter, drops_and_counts_when_the_collector_is_away) {
  std::string dead_url;
  {
    receiver gone;  // bound, then closed: nothing listens on its port any more
    dead_url = gone.url();
  }
  auto exporter = otlp_http_exporter::create({.endpoint = dead_url, .request_timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(exporter);
  for (int i = 0; i < 5; ++i) (*exporter)->export_span(sample_span("publish content"));
  ASSERT_TRUE((*exporter)->flush(std::chrono::seconds(5)));
  EXPECT_EQ((*exporter)->dropped(), 5u);
  EXPECT_EQ((*exporter)->exported(), 0u);
}

TEST(otlp_http_exporter, collector_errors_drop_the_batch) {
  receiver failing(503);
  auto exporter = otlp_http_exporter::create({.endpoint = failing.url()});
  ASSERT_TRUE(exporter);
  (*exporter)->export_span(sample_span("publish content"));
  ASSERT_TRUE((*exporter)->flush(std::chrono::seconds(5)));
  EXPECT_EQ((*exporter)->dropped(), 1u);
}

TEST(otlp_http_exporter, a_full_queue_drops_new_spans_without_blocking) {
  receiver collector;
  auto exporter = otlp_http_exporter::create(
      {.endpoint = collector.url(), .max_queue = 4, .max_batch = 100, .flush_interval = std::chrono::seconds(60)});
  ASSERT_TRUE(exporter);
  for (int i = 0; i < 10; ++i) (*exporter)->export_span(sample_span("publish content"));
  EXPECT_EQ((*exporter)->dropped(), 6u);
  ASSERT_TRUE((*exporter)->flush(std::chrono::seconds(5)));
  EXPECT_EQ(collector.spans_received(), 4u);
}

TEST(otlp_http_exporter, refuses_bad_configuration_naming_the_field) {
  EXPECT_THAT(otlp_http_exporter::create({.endpoint = "https://collector:4318/v1/traces"}).error().message,
              HasSubstr("only http://"));
  EXPECT_THAT(otlp_http_exporter::create({.endpoint = "http://:4318/x"}).error().message, HasSubstr("HOST:PORT"));
  EXPECT_THAT(otlp_http_exporter::create({.endpoint = "http://h:port/x"}).error().message, HasSubstr("HOST:PORT"));
  EXPECT_THAT(otlp_http_exporter::create({.max_queue = 0}).error().message, HasSubstr("max_queue"));
}

TEST(otlp_environment, installs_an_exporter_only_when_configured) {
  set_exporter(nullptr);
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  ASSERT_TRUE(install_exporter_from_environment("svc"));
  EXPECT_EQ(exporter(), nullptr);
  receiver collector;
  const auto url = collector.url();
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url.substr(0, url.size() - std::string("/v1/traces").size()).c_str(), 1);
  ASSERT_TRUE(install_exporter_from_environment("svc"));
  auto installed = std::dynamic_pointer_cast<otlp_http_exporter>(exporter());
  ASSERT_NE(installed, nullptr);
  installed->export_span(sample_span("publish content"));
  ASSERT_TRUE(installed->flush(std::chrono::seconds(5)));
  EXPECT_EQ(collector.spans_received(), 1u);
  ::setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://nope", 1);
  EXPECT_FALSE(install_exporter_from_environment("svc"));
  ::unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  set_exporter(nullptr);
}

}  // namespace
}  // namespace aw::events::tracing
