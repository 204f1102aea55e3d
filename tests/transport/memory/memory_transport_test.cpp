#include "aw/events/transport/memory.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "transport/conformance/conformance_suite.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;
using testing::make_record;
using testing::produce_one;

INSTANTIATE_TEST_SUITE_P(memory, transport_conformance,
                         ::testing::Values(testing::transport_fixture{
                             .name = "memory",
                             .make = [] { return std::shared_ptr<transport>(memory_transport::create({})); },
                             .session_timeout = 1000ms,
                             .retention = std::chrono::hours(24 * 7),
                             .enforce_retention =
                                 [](transport& t) -> result<void> {
                               static_cast<memory_transport&>(t).enforce_retention();
                               return {};
                             }}),
                         testing::fixture_name);

TEST(memory_transport, injected_failures_hit_exactly_the_next_produces) {
  auto t = memory_transport::create({});
  auto p = t->create_producer({}).value();
  t->fail_next_produces(2, errc::broker_error);
  auto first = produce_one(*p, make_record("orders", "k", "1"));
  auto second = produce_one(*p, make_record("orders", "k", "2"));
  auto third = produce_one(*p, make_record("orders", "k", "3"));
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().code, errc::broker_error);
  EXPECT_TRUE(first.error().retriable());
  ASSERT_FALSE(second.has_value());
  ASSERT_TRUE(third.has_value()) << third.error().describe();
  EXPECT_EQ(third->offset, 0) << "failed produces must not occupy offsets";
}

TEST(memory_transport, creates_topics_with_default_partitions_and_rejects_unknown_partitions) {
  auto t = memory_transport::create({.default_partitions = 3});
  auto p = t->create_producer({}).value();
  EXPECT_EQ(p->partition_count("fresh").value(), 3);
  auto bad = produce_one(*p, make_record("fresh", "k", "v", 3));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, errc::not_found);
  EXPECT_NE(bad.error().message.find("fresh"), std::string::npos);
  ASSERT_TRUE(t->create_topic("fresh", 10).has_value());
  EXPECT_EQ(p->partition_count("fresh").value(), 3) << "an existing topic keeps its partition count";
  EXPECT_FALSE(t->create_topic("x", 0).has_value());
}

TEST(memory_transport, empty_keys_go_round_robin) {
  auto t = memory_transport::create({.default_partitions = 3});
  auto p = t->create_producer({}).value();
  std::vector<std::int32_t> partitions;
  for (int i = 0; i < 6; ++i) partitions.push_back(produce_one(*p, make_record("rr", "", "v")).value().partition);
  EXPECT_EQ(partitions, (std::vector<std::int32_t>{0, 1, 2, 0, 1, 2}));
}

TEST(memory_transport, delivery_handler_may_produce_again) {
  auto t = memory_transport::create({});
  auto p = t->create_producer({}).value();
  std::promise<result<delivery_report>> inner;
  p->produce(make_record("reentry", "k", "outer"), [&](result<delivery_report> r) {
    ASSERT_TRUE(r.has_value());
    p->produce(make_record("reentry", "k", "inner"), [&](result<delivery_report> r2) { inner.set_value(std::move(r2)); });
  });
  auto r = inner.get_future().get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->offset, 1);
}

TEST(memory_transport, expired_member_loses_its_partitions_without_commit) {
  auto t = memory_transport::create({.default_partitions = 1});
  ASSERT_TRUE(t->create_topic("expiry", 1).has_value());
  std::vector<bool> lost_flags;
  consumer_options slow_options{.group_id = "g", .session_timeout = 100ms};
  slow_options.listener.on_revoked = [&](const std::vector<topic_partition>&, bool lost) { lost_flags.push_back(lost); };
  auto slow = t->create_consumer(slow_options).value();
  ASSERT_TRUE(slow->subscribe({"expiry"}).has_value());
  ASSERT_FALSE(slow->poll(10ms).value().has_value());
  ASSERT_EQ(slow->assignment().size(), 1u);

  auto fast = t->create_consumer({.group_id = "g", .session_timeout = 5000ms}).value();
  ASSERT_TRUE(fast->subscribe({"expiry"}).has_value());
  const auto end = std::chrono::steady_clock::now() + 2s;
  while (fast->assignment().empty() && std::chrono::steady_clock::now() < end) {
    ASSERT_TRUE(fast->poll(20ms).has_value());
  }
  ASSERT_EQ(fast->assignment().size(), 1u) << "the silent member's partition was not taken over";
  ASSERT_TRUE(slow->poll(10ms).has_value());
  ASSERT_EQ(lost_flags, std::vector<bool>{true});
  EXPECT_TRUE(slow->assignment().empty());
}

TEST(memory_transport, consumer_requires_group_and_subscription) {
  auto t = memory_transport::create({});
  auto none = t->create_consumer({});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, errc::invalid_argument);
  auto c = t->create_consumer({.group_id = "g"}).value();
  auto early = c->poll(1ms);
  ASSERT_FALSE(early.has_value());
  EXPECT_FALSE(c->subscribe({"bad topic"}).has_value());
  c->close();
  EXPECT_EQ(c->poll(1ms).error().code, errc::closed);
}

TEST(memory_transport, retention_deletes_only_old_records) {
  auto t = memory_transport::create({.default_partitions = 1, .retention = 1000ms});
  auto p = t->create_producer({}).value();
  auto old = make_record("ret", "k", "old");
  old.timestamp_ms = 1;
  ASSERT_TRUE(produce_one(*p, old).has_value());
  ASSERT_TRUE(produce_one(*p, make_record("ret", "k", "young")).has_value());
  t->enforce_retention();
  auto c = t->create_consumer({.group_id = "g"}).value();
  ASSERT_TRUE(c->subscribe({"ret"}).has_value());
  auto r = c->poll(1s).value();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->value, "young");
  EXPECT_EQ(r->offset, 1);
}

}  // namespace
}  // namespace aw::events
