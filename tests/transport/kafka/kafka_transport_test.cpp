// The Kafka transport against librdkafka's mock cluster (3 brokers on loopback): round trips, murmur2
// placement, broker outages and injected request errors, consumer groups, and the failure paths.
#include "aw/events/transport/kafka.hpp"
#include "transport/conformance/conformance_suite.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "aw/events/ids.hpp"
#include "aw/events/transport/mock_kafka.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;
using testing::make_record;
using steady = std::chrono::steady_clock;

constexpr std::int32_t cluster_default_partitions = 2;
constexpr std::int32_t transport_default_partitions = 5;

// Collects delivery reports in production order; counts calls so "exactly once" is checked.
struct report_log {
  std::mutex mutex;
  std::vector<std::optional<result<delivery_report>>> slots;
  std::atomic<int> calls{0};
  std::atomic<int> duplicate_calls{0};

  delivery_handler slot(std::size_t i) {
    {
      std::lock_guard lock(mutex);
      if (slots.size() <= i) slots.resize(i + 1);
    }
    return [this, i](result<delivery_report> r) {
      std::lock_guard lock(mutex);
      ++calls;
      if (slots[i].has_value()) ++duplicate_calls;
      slots[i] = std::move(r);
    };
  }
  std::size_t ok_count() {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count_if(slots.begin(), slots.end(), [](auto& s) { return s && s->has_value(); }));
  }
};

class kafka_transport_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = mock_kafka_cluster::start({3, cluster_default_partitions});
    ASSERT_TRUE(started) << started.error().describe();
    cluster_ = std::move(*started);
    kafka_options options;
    options.bootstrap_servers = cluster_->bootstrap_servers();
    options.default_partitions = transport_default_partitions;
    auto opened = kafka_transport::open(options);
    ASSERT_TRUE(opened) << opened.error().describe();
    transport_ = *opened;
  }
  void TearDown() override {
    transport_.reset();
    cluster_.reset();
  }

  std::unique_ptr<producer> make_producer(producer_options options = {}) {
    auto p = transport_->create_producer(options);
    EXPECT_TRUE(p) << p.error().describe();
    return p ? std::move(*p) : nullptr;
  }

  std::unique_ptr<consumer> make_consumer(const std::string& group, rebalance_listener listener = {}) {
    consumer_options options;
    options.group_id = group;
    options.session_timeout = 3000ms;
    options.commit_interval = 100ms;
    options.listener = std::move(listener);
    // The mock answers an empty fetch only after fetch.wait.max.ms (PITFALLS): keep tests quick.
    options.properties["fetch.wait.max.ms"] = "10";
    auto c = transport_->create_consumer(options);
    EXPECT_TRUE(c) << c.error().describe();
    return c ? std::move(*c) : nullptr;
  }

  static std::vector<record> poll_n(consumer& c, std::size_t n, std::chrono::milliseconds limit = 20s) {
    std::vector<record> out;
    const auto end = steady::now() + limit;
    while (out.size() < n && steady::now() < end) {
      auto r = c.poll(50ms);
      EXPECT_TRUE(r) << r.error().describe();
      if (!r) break;
      if (*r) out.push_back(std::move(**r));
    }
    return out;
  }

  std::unique_ptr<mock_kafka_cluster> cluster_;
  std::shared_ptr<kafka_transport> transport_;
};

TEST(kafka_transport_options, refuses_bad_configuration_before_starting_anything) {
  auto missing = kafka_transport::open({});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::invalid_argument);
  EXPECT_NE(missing.error().message.find("bootstrap_servers"), std::string::npos);

  kafka_options bad_property;
  bad_property.bootstrap_servers = "127.0.0.1:1";
  bad_property.properties["no.such.property"] = "1";
  auto refused = kafka_transport::open(bad_property);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no.such.property"), std::string::npos);

  kafka_options bad_partitions;
  bad_partitions.bootstrap_servers = "127.0.0.1:1";
  bad_partitions.default_partitions = 0;
  EXPECT_EQ(kafka_transport::open(bad_partitions).error().code, errc::invalid_argument);
}

TEST(kafka_transport_options, refuses_bad_client_options) {
  kafka_options options;
  options.bootstrap_servers = "127.0.0.1:1";
  auto t = kafka_transport::open(options);
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->kind(), "kafka");
  EXPECT_TRUE((*t)->features().cross_process);
  EXPECT_FALSE((*t)->features().retention_by_age);
  EXPECT_EQ((*t)->describe(), "127.0.0.1:1");

  auto no_group = (*t)->create_consumer(consumer_options{});
  ASSERT_FALSE(no_group);
  EXPECT_NE(no_group.error().message.find("group_id"), std::string::npos);

  producer_options bad_producer;
  bad_producer.properties["acks"] = "sometimes";
  auto refused = (*t)->create_producer(bad_producer);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("acks"), std::string::npos);

  EXPECT_EQ((*t)->create_topic("bad topic", 1).error().code, errc::invalid_topic);
  EXPECT_EQ((*t)->create_topic("fine", 0).error().code, errc::invalid_argument);
}

TEST_F(kafka_transport_test, round_trip_keeps_every_field_and_reports_positions) {
  ASSERT_TRUE(transport_->create_topic("round-trip", 3));
  auto p = make_producer();
  report_log reports;
  std::vector<record> sent;
  for (int i = 0; i < 30; ++i) {
    auto rec = make_record("round-trip", "key-" + std::to_string(i % 5), "value-" + std::to_string(i));
    rec.headers = {{"aw-event-id", std::to_string(i)}, {"content-type", "application/json"}};
    rec.timestamp_ms = 1'700'000'000'000 + i;
    sent.push_back(rec);
    p->produce(std::move(rec), reports.slot(static_cast<std::size_t>(i)));
  }
  ASSERT_TRUE(p->flush(10s));
  ASSERT_EQ(reports.ok_count(), 30u);
  EXPECT_EQ(reports.calls.load(), 30);

  auto c = make_consumer("round-trip-group");
  ASSERT_TRUE(c->subscribe({"round-trip"}));
  auto got = poll_n(*c, 30);
  ASSERT_EQ(got.size(), 30u);
  for (const auto& rec : got) {
    const auto i = static_cast<std::size_t>(std::stoi(rec.value.substr(6)));
    const auto& report = **reports.slots[i];
    EXPECT_EQ(report.topic, "round-trip");
    EXPECT_EQ(report.partition, rec.partition);
    EXPECT_EQ(report.offset, rec.offset);
    EXPECT_EQ(rec.key, sent[i].key);
    EXPECT_EQ(rec.headers, sent[i].headers);
    EXPECT_EQ(rec.timestamp_ms, sent[i].timestamp_ms);
  }
  c->close();
}

TEST_F(kafka_transport_test, librdkafka_places_keys_where_partition_for_key_says) {
  auto p = make_producer();
  // First use on the in-process mock: created with the transport's default partition count, not the mock's 4.
  auto count = p->partition_count("murmur");
  ASSERT_TRUE(count) << count.error().describe();
  ASSERT_EQ(*count, transport_default_partitions);
  report_log reports;
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) keys.push_back("resource-" + std::to_string(i * 7919));
  keys.push_back("a");
  keys.push_back("\xff\xfe binary \x01");
  for (std::size_t i = 0; i < keys.size(); ++i) p->produce(make_record("murmur", keys[i], "v"), reports.slot(i));
  ASSERT_TRUE(p->flush(10s));
  std::set<std::int32_t> used;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(reports.slots[i] && reports.slots[i]->has_value());
    EXPECT_EQ((*reports.slots[i])->partition, partition_for_key(keys[i], transport_default_partitions)) << keys[i];
    used.insert((*reports.slots[i])->partition);
  }
  EXPECT_EQ(used.size(), static_cast<std::size_t>(transport_default_partitions));
}

TEST_F(kafka_transport_test, delivers_after_the_leader_comes_back) {
  ASSERT_TRUE(cluster_->create_topic("outage", 1));
  ASSERT_TRUE(cluster_->set_partition_leader("outage", 0, 2));
  auto p = make_producer();
  ASSERT_EQ(*p->partition_count("outage"), 1);  // metadata known before the outage
  ASSERT_TRUE(cluster_->broker_down(2));
  report_log reports;
  for (int i = 0; i < 20; ++i) p->produce(make_record("outage", "k", std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  EXPECT_FALSE(p->flush(500ms)) << "delivered although the only leader is down";
  EXPECT_EQ(reports.calls.load(), 0);
  ASSERT_TRUE(cluster_->broker_up(2));
  ASSERT_TRUE(p->flush(20s));
  ASSERT_EQ(reports.ok_count(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ((*reports.slots[static_cast<std::size_t>(i)])->offset, i);
  EXPECT_EQ(reports.duplicate_calls.load(), 0);
}

TEST_F(kafka_transport_test, injected_not_leader_errors_still_deliver_once_in_order) {
  ASSERT_TRUE(cluster_->create_topic("retried", 1));
  auto p = make_producer();
  ASSERT_EQ(*p->partition_count("retried"), 1);
  ASSERT_TRUE(cluster_->push_request_errors("Produce", 5, "NOT_LEADER_FOR_PARTITION"));
  report_log reports;
  for (int i = 0; i < 100; ++i) {
    p->produce(make_record("retried", "same-key", "v" + std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  }
  ASSERT_TRUE(p->flush(20s));
  ASSERT_EQ(reports.ok_count(), 100u);
  EXPECT_EQ(reports.duplicate_calls.load(), 0);

  auto c = make_consumer("retried-group");
  ASSERT_TRUE(c->subscribe({"retried"}));
  auto got = poll_n(*c, 100);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[static_cast<std::size_t>(i)].value, "v" + std::to_string(i));
    EXPECT_EQ(got[static_cast<std::size_t>(i)].offset, i);
  }
  auto r = c->poll(300ms);
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r) << "a record was written twice";
  c->close();
}

TEST_F(kafka_transport_test, group_of_two_splits_partitions_and_survives_one_leaving) {
  ASSERT_TRUE(transport_->create_topic("grouped", 4));
  std::mutex events_mutex;
  std::vector<std::string> events;
  auto listener_for = [&](std::string who) {
    return rebalance_listener{
        [&, who](const std::vector<topic_partition>& parts) {
          std::lock_guard lock(events_mutex);
          events.push_back(who + " +" + std::to_string(parts.size()));
        },
        [&, who](const std::vector<topic_partition>& parts, bool lost) {
          std::lock_guard lock(events_mutex);
          events.push_back(who + " -" + std::to_string(parts.size()) + (lost ? " lost" : ""));
        }};
  };
  auto a = make_consumer("grouped-group", listener_for("a"));
  auto b = make_consumer("grouped-group", listener_for("b"));
  ASSERT_TRUE(a->subscribe({"grouped"}));
  ASSERT_TRUE(b->subscribe({"grouped"}));
  auto p = make_producer();
  report_log reports;
  for (int i = 0; i < 80; ++i) p->produce(make_record("grouped", "k" + std::to_string(i), std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  ASSERT_TRUE(p->flush(10s));

  std::set<std::string> seen;
  std::atomic<int> duplicates{0};
  auto drain = [&](consumer& c) {
    auto r = c.poll(20ms);
    ASSERT_TRUE(r) << r.error().describe();
    if (!*r) return;
    if (!seen.insert((*r)->value).second) ++duplicates;
    ASSERT_TRUE(c.store_offset(**r)) << "store_offset of a record just polled";
  };
  const auto end = steady::now() + 20s;
  while (steady::now() < end && !(a->assignment().size() == 2 && b->assignment().size() == 2 && seen.size() == 80)) {
    drain(*a);
    drain(*b);
  }
  ASSERT_EQ(a->assignment().size(), 2u);
  ASSERT_EQ(b->assignment().size(), 2u);
  ASSERT_EQ(seen.size(), 80u);
  ASSERT_TRUE(a->commit());
  ASSERT_TRUE(b->commit());

  a->close();
  a->close();  // idempotent
  EXPECT_EQ(a->poll(10ms).error().code, errc::closed);
  for (int i = 80; i < 120; ++i) p->produce(make_record("grouped", "k" + std::to_string(i), std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  ASSERT_TRUE(p->flush(10s));
  const auto takeover_end = steady::now() + 20s;
  while (steady::now() < takeover_end && seen.size() < 120) drain(*b);
  EXPECT_EQ(seen.size(), 120u);
  EXPECT_EQ(b->assignment().size(), 4u);
  EXPECT_EQ(duplicates.load(), 0) << "records a had stored came back to b";
  b->close();
  std::lock_guard lock(events_mutex);
  EXPECT_NE(std::find(events.begin(), events.end(), "a -2"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "b -4"), events.end());
}

TEST_F(kafka_transport_test, offsets_commit_and_refuse_partitions_not_assigned) {
  ASSERT_TRUE(transport_->create_topic("offsets", 1));
  auto p = make_producer();
  report_log reports;
  for (int i = 0; i < 5; ++i) p->produce(make_record("offsets", "k", std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  ASSERT_TRUE(p->flush(10s));
  auto c = make_consumer("offsets-group");
  ASSERT_TRUE(c->subscribe({"offsets"}));
  record foreign = make_record("offsets", "k", "v", 0);
  foreign.offset = 1;
  EXPECT_EQ(c->store_offset(foreign).error().code, errc::not_found);
  auto got = poll_n(*c, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(*c->committed({"offsets", 0}), -1);
  ASSERT_TRUE(c->store_offset(got[2]));
  ASSERT_TRUE(c->commit());
  EXPECT_EQ(*c->committed({"offsets", 0}), 3);
  EXPECT_EQ(c->seek({"offsets", 3}, 0).error().code, errc::not_found);
  EXPECT_EQ(c->seek({"offsets", 0}, -5).error().code, errc::invalid_argument);
  ASSERT_TRUE(c->seek({"offsets", 0}, 1));
  auto again = poll_n(*c, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].offset, 1);
  c->close();
  EXPECT_EQ(c->commit().error().code, errc::closed);
}

TEST_F(kafka_transport_test, positions_report_what_was_consumed_and_the_end_of_the_log) {
  ASSERT_TRUE(transport_->create_topic("lagging", 1));
  auto p = make_producer();
  report_log reports;
  for (int i = 0; i < 8; ++i) p->produce(make_record("lagging", "k", std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  ASSERT_TRUE(p->flush(10s));
  auto c = make_consumer("lagging-group");
  ASSERT_TRUE(c->subscribe({"lagging"}));
  ASSERT_EQ(poll_n(*c, 3).size(), 3u);
  auto positions = c->positions();
  ASSERT_TRUE(positions) << positions.error().describe();
  ASSERT_EQ(positions->size(), 1u);
  EXPECT_EQ((*positions)[0].partition, (topic_partition{"lagging", 0}));
  EXPECT_EQ((*positions)[0].position, 3);
  EXPECT_EQ((*positions)[0].end_offset, 8);
  EXPECT_EQ((*positions)[0].lag(), 5);
  c->close();
}

TEST_F(kafka_transport_test, refusals_reach_the_handler_exactly_once) {
  auto p = make_producer();
  report_log reports;
  p->produce(make_record("bad topic", "k", "v"), reports.slot(0));
  p->produce(make_record("too-large", "k", std::string(2'000'000, 'x')), reports.slot(1));
  p->produce(make_record("fine", "k", "v", -7), reports.slot(2));
  EXPECT_EQ(reports.calls.load(), 3) << "refusals are reported at once, on the caller's thread";
  ASSERT_TRUE(p->flush(5s));
  EXPECT_EQ(reports.slots[0]->error().code, errc::invalid_topic);
  EXPECT_EQ(reports.slots[1]->error().code, errc::message_too_large);
  EXPECT_FALSE(reports.slots[1]->error().retriable());
  EXPECT_EQ(reports.slots[2]->error().code, errc::invalid_argument);
  EXPECT_EQ(reports.duplicate_calls.load(), 0);
}

TEST_F(kafka_transport_test, full_local_queue_reports_queue_full_after_enqueue_timeout) {
  ASSERT_TRUE(cluster_->create_topic("full", 1));
  ASSERT_TRUE(cluster_->set_partition_leader("full", 0, 1));
  producer_options options;
  options.enqueue_timeout = 20ms;
  options.properties["queue.buffering.max.messages"] = "5";
  auto p = make_producer(options);
  ASSERT_EQ(*p->partition_count("full"), 1);
  ASSERT_TRUE(cluster_->broker_down(1));
  report_log reports;
  const auto start = steady::now();
  for (int i = 0; i < 8; ++i) p->produce(make_record("full", "k", std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  EXPECT_LT(steady::now() - start, 2s) << "produce blocked far beyond enqueue_timeout";
  EXPECT_EQ(reports.calls.load(), 3);
  for (int i = 5; i < 8; ++i) {
    const auto& r = reports.slots[static_cast<std::size_t>(i)];
    ASSERT_TRUE(r && !r->has_value());
    EXPECT_EQ(r->error().code, errc::queue_full);
    EXPECT_TRUE(r->error().retriable());
  }
  ASSERT_TRUE(cluster_->broker_up(1));
  ASSERT_TRUE(p->flush(20s));
  EXPECT_EQ(reports.ok_count(), 5u);
}

TEST_F(kafka_transport_test, destroying_a_producer_reports_closed_for_what_is_left) {
  ASSERT_TRUE(cluster_->create_topic("stranded", 1));
  ASSERT_TRUE(cluster_->set_partition_leader("stranded", 0, 3));
  producer_options options;
  options.delivery_timeout = 60s;
  auto p = make_producer(options);
  ASSERT_EQ(*p->partition_count("stranded"), 1);
  ASSERT_TRUE(cluster_->broker_down(3));
  report_log reports;
  for (int i = 0; i < 4; ++i) p->produce(make_record("stranded", "k", std::to_string(i)), reports.slot(static_cast<std::size_t>(i)));
  p.reset();
  EXPECT_EQ(reports.calls.load(), 4);
  for (auto& slot : reports.slots) {
    ASSERT_TRUE(slot && !slot->has_value());
    EXPECT_EQ(slot->error().code, errc::closed) << slot->error().describe();
  }
}

}  // namespace
}  // namespace aw::events
