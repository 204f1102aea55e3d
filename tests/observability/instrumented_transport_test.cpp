#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "aw/events/context.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/instrument.hpp"
#include "aw/events/tracing.hpp"
#include "aw/events/transport/memory.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;

struct capturing_exporter : tracing::span_exporter {
  std::mutex mutex;
  std::vector<tracing::span> spans;
  void export_span(tracing::span s) override {
    std::lock_guard lock(mutex);
    spans.push_back(std::move(s));
  }
};

record event_record(const std::string& topic, const std::string& type, const trace_context& trace,
                    const std::string& id = "7c9e6679-7425-40de-944b-e07fc1f90ae7") {
  record r;
  r.topic = topic;
  r.key = "book-1";
  r.value = "{}";
  r.headers = {{"aw-event-id", id}, {"aw-event-type", type}, {"aw-correlation-id", "corr-1"},
               {"traceparent", to_traceparent(trace)}};
  return r;
}

class instrumented_transport_test : public ::testing::Test {
 protected:
  void SetUp() override {
    exporter_ = std::make_shared<capturing_exporter>();
    tracing::set_exporter(exporter_);
    inner_ = memory_transport::create({.default_partitions = 1});
    transport_ = instrument(inner_, {.registry = &registry_});
  }
  void TearDown() override { tracing::set_exporter(nullptr); }

  void produce_all(producer& p, std::vector<record> records) {
    for (auto& r : records) p.produce(std::move(r), [](const result<delivery_report>&) {});
    ASSERT_TRUE(p.flush(std::chrono::seconds(5)));
  }

  metrics::registry registry_;
  std::shared_ptr<capturing_exporter> exporter_;
  std::shared_ptr<memory_transport> inner_;
  std::shared_ptr<transport> transport_;
};

TEST_F(instrumented_transport_test, counts_acknowledged_and_failed_publishes_by_topic_and_type) {
  auto p = transport_->create_producer({});
  ASSERT_TRUE(p);
  const auto trace = new_trace();
  produce_all(**p, {event_record("content", "content.book.published", trace),
                    event_record("content", "content.book.published", trace),
                    event_record("accounts", "user.account.created", trace)});
  inner_->fail_next_produces(1, errc::unavailable);
  produce_all(**p, {event_record("content", "content.book.published", trace)});
  const auto text = registry_.render();
  EXPECT_THAT(text, HasSubstr("messaging_client_sent_messages_total{topic=\"content\",type=\"content.book.published\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("messaging_client_sent_messages_total{topic=\"accounts\",type=\"user.account.created\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_failed_deliveries_total{topic=\"content\",type=\"content.book.published\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("messaging_client_operation_duration_seconds_count{topic=\"content\",type=\"content.book.published\"} 2\n"));
}

TEST_F(instrumented_transport_test, producer_span_is_the_events_span_child_of_the_callers_context) {
  auto p = transport_->create_producer({});
  ASSERT_TRUE(p);
  const auto handler_span = new_trace();
  const auto event_span = child_span(handler_span);
  {
    context_scope scope(event_context{"corr-1", handler_span});
    produce_all(**p, {event_record("content", "content.book.published", event_span)});
  }
  ASSERT_EQ(exporter_->spans.size(), 1u);
  const auto& s = exporter_->spans[0];
  EXPECT_EQ(s.kind, tracing::span_kind::producer);
  EXPECT_EQ(s.name, "publish content");
  EXPECT_EQ(s.trace_id, event_span.trace_id);
  EXPECT_EQ(s.span_id, event_span.span_id);
  EXPECT_EQ(s.parent_span_id, handler_span.span_id);
  EXPECT_FALSE(s.failed);
  EXPECT_LE(s.start_unix_ns, s.end_unix_ns);
  const auto has = [&](const std::string& key, const tracing::attribute_value& value) {
    for (const auto& [k, v] : s.attributes) {
      if (k == key) return v == value;
    }
    return false;
  };
  EXPECT_TRUE(has("messaging.system", std::string("aw-events-memory")));
  EXPECT_TRUE(has("messaging.destination.name", std::string("content")));
  EXPECT_TRUE(has("messaging.message.id", std::string("7c9e6679-7425-40de-944b-e07fc1f90ae7")));
  EXPECT_TRUE(has("messaging.message.conversation_id", std::string("corr-1")));
  EXPECT_TRUE(has("messaging.destination.partition.id", std::string("0")));
  EXPECT_TRUE(has("messaging.kafka.offset", std::int64_t{0}));
}

TEST_F(instrumented_transport_test, consumer_counts_records_and_spans_run_from_poll_to_store_offset) {
  auto p = transport_->create_producer({});
  ASSERT_TRUE(p);
  const auto event_span = new_trace();
  record raw;  // poison without headers: counted with an empty type, no span
  raw.topic = "content";
  raw.key = "k";
  raw.value = "not json";
  produce_all(**p, {event_record("content", "content.book.published", event_span), raw});
  exporter_->spans.clear();

  auto c = transport_->create_consumer({.group_id = "search"});
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->subscribe({"content"}));
  std::vector<record> got;
  for (int i = 0; i < 50 && got.size() < 2; ++i) {
    auto polled = (*c)->poll(std::chrono::milliseconds(20));
    ASSERT_TRUE(polled);
    if (*polled) got.push_back(std::move(**polled));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(exporter_->spans.empty()) << "a consumer span ends when processing ends, not at poll";
  ASSERT_TRUE((*c)->store_offset(got[0]));
  ASSERT_TRUE((*c)->store_offset(got[1]));
  ASSERT_EQ(exporter_->spans.size(), 1u);
  const auto& s = exporter_->spans[0];
  EXPECT_EQ(s.kind, tracing::span_kind::consumer);
  EXPECT_EQ(s.name, "process content");
  EXPECT_EQ(s.trace_id, event_span.trace_id);
  EXPECT_EQ(s.parent_span_id, event_span.span_id);
  EXPECT_NE(s.span_id, event_span.span_id);
  const auto text = registry_.render();
  EXPECT_THAT(text, HasSubstr("messaging_client_consumed_messages_total{topic=\"content\",type=\"content.book.published\",group=\"search\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("messaging_client_consumed_messages_total{topic=\"content\",type=\"\",group=\"search\"} 1\n"));
  (*c)->close();
}

TEST_F(instrumented_transport_test, without_an_exporter_no_span_is_built) {
  tracing::set_exporter(nullptr);
  auto p = transport_->create_producer({});
  ASSERT_TRUE(p);
  produce_all(**p, {event_record("content", "content.book.published", new_trace())});
  EXPECT_TRUE(exporter_->spans.empty());
  EXPECT_THAT(registry_.render(), HasSubstr("messaging_client_sent_messages_total{topic=\"content\",type=\"content.book.published\"} 1\n"));
}

TEST(instrument, a_clashing_registry_leaves_the_transport_uninstrumented_and_working) {
  metrics::registry r;
  ASSERT_TRUE(r.gauges("messaging_client_sent_messages_total", "taken"));
  auto inner = memory_transport::create();
  auto wrapped = instrument(inner, {.registry = &r});
  EXPECT_EQ(wrapped, inner);
}

}  // namespace
}  // namespace aw::events

namespace aw::events {
namespace {

TEST_F(instrumented_transport_test, consumer_lag_is_reported_per_partition_and_drops_to_zero_when_drained) {
  auto p = transport_->create_producer({});
  ASSERT_TRUE(p);
  std::vector<record> records;
  for (int i = 0; i < 5; ++i) records.push_back(event_record("content", "content.book.published", new_trace()));
  produce_all(**p, std::move(records));
  auto c = transport_->create_consumer({.group_id = "lagging"});
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->subscribe({"content"}));
  auto first = (*c)->poll(std::chrono::milliseconds(50));  // joins, reads one: 4 behind
  ASSERT_TRUE(first && *first);
  EXPECT_THAT(registry_.render(), HasSubstr("aw_events_consumer_lag{topic=\"content\",partition=\"0\",group=\"lagging\"} 4\n"));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE((*c)->poll(std::chrono::milliseconds(50)).value());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the gauge refreshes once a second
  (void)(*c)->poll(std::chrono::milliseconds(1));
  EXPECT_THAT(registry_.render(), HasSubstr("aw_events_consumer_lag{topic=\"content\",partition=\"0\",group=\"lagging\"} 0\n"));
  (*c)->close();
}

}  // namespace
}  // namespace aw::events

#include "aw/events/transport/embedded.hpp"
#include "scratch_dir.hpp"

namespace aw::events {
namespace {

TEST(instrumented_embedded_transport, consumer_lag_comes_from_the_stores_offsets) {
  testing_support::scratch_dir dir("aw-lag");
  metrics::registry r;
  auto inner = embedded_transport::open({.path = dir.file("events.db"), .default_partitions = 1});
  ASSERT_TRUE(inner) << inner.error().describe();
  auto t = instrument(*inner, {.registry = &r, .spans = false});
  auto p = t->create_producer({}).value();
  for (int i = 0; i < 6; ++i) {
    record rec;
    rec.topic = "content";
    rec.key = "k";
    rec.value = "{}";
    p->produce(std::move(rec), [](const result<delivery_report>&) {});
  }
  ASSERT_TRUE(p->flush(std::chrono::seconds(10)));
  auto c = t->create_consumer({.group_id = "g"}).value();
  ASSERT_TRUE(c->subscribe({"content"}));
  std::optional<record> first;
  for (int i = 0; i < 100 && !first; ++i) first = c->poll(std::chrono::milliseconds(50)).value();
  ASSERT_TRUE(first);
  auto positions = c->positions();
  ASSERT_TRUE(positions) << positions.error().describe();
  ASSERT_EQ(positions->size(), 1u);
  EXPECT_EQ((*positions)[0].position, 1);
  EXPECT_EQ((*positions)[0].end_offset, 6);
  // Paused, the next poll hands nothing out but refreshes the gauge (once a second).
  ASSERT_TRUE(c->pause({{"content", 0}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(c->poll(std::chrono::milliseconds(10)));
  EXPECT_THAT(r.render(), HasSubstr("aw_events_consumer_lag{topic=\"content\",partition=\"0\",group=\"g\"} 5\n"));
  c->close();
}

}  // namespace
}  // namespace aw::events
