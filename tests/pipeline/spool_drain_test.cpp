#include "pipeline/spool_drain.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "scratch_dir.hpp"

#include "aw/events/transport/memory.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class spool_drain_test : public ::testing::Test {
 protected:
  void SetUp() override {
    spool_ = store::spool::open(dir_.file("events.db")).value();
    for (int i = 0; i < 10; ++i) {
      record r;
      r.topic = "content";
      r.key = "b-" + std::to_string(i % 3);
      r.value = std::to_string(i);
      r.headers = {{"aw-event-id", "id-" + std::to_string(i)}};
      ASSERT_TRUE(spool_->append(r, "id-" + std::to_string(i), i < 8 ? "content" : "accounts", "down"));
    }
  }

  std::vector<record> read_topic(std::size_t expected) {
    auto c = transport_->create_consumer({.group_id = "reader"}).value();
    EXPECT_TRUE(c->subscribe({"content"}));
    std::vector<record> out;
    for (int idle = 0; idle < 20 && out.size() < expected;) {
      auto polled = c->poll(20ms);
      if (polled && *polled) out.push_back(std::move(**polled));
      else ++idle;
    }
    return out;
  }

  testing_support::scratch_dir dir_{"aw-drain"};
  std::unique_ptr<store::spool> spool_;
  std::shared_ptr<memory_transport> transport_ = memory_transport::create({.default_partitions = 1});
};

TEST_F(spool_drain_test, sends_a_services_records_in_spool_order_and_removes_them) {
  auto producer = transport_->create_producer({}).value();
  auto report = drain_spool(*spool_, *producer, "content", 3);
  ASSERT_TRUE(report) << report.error().describe();
  EXPECT_EQ(report->sent, 8u);
  EXPECT_EQ(report->left, 0);
  EXPECT_EQ(spool_->stats().value().depth, 2);  // the other service's records stay
  const auto got = read_topic(8);
  ASSERT_EQ(got.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(got[i].value, std::to_string(i));
    EXPECT_EQ(got[i].headers, (std::vector<header>{{"aw-event-id", "id-" + std::to_string(i)}}));
  }
}

TEST_F(spool_drain_test, a_failure_keeps_the_failed_record_and_everything_after_it) {
  auto producer = transport_->create_producer({}).value();
  transport_->fail_next_produces(1, errc::unavailable);
  auto report = drain_spool(*spool_, *producer, "", 4);
  ASSERT_FALSE(report);
  EXPECT_THAT(report.error().message, HasSubstr("spooled event id-0"));
  EXPECT_EQ(spool_->stats().value().depth, 10);  // nothing removed: the first one failed
  auto again = drain_spool(*spool_, *producer, "", 4);
  ASSERT_TRUE(again) << again.error().describe();
  EXPECT_EQ(again->sent, 10u);
  EXPECT_EQ(spool_->stats().value().depth, 0);
}

}  // namespace
}  // namespace aw::events
