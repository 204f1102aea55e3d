#include "aw/events/subscriber.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "aw/events/context.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/transport/memory.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

class subscriber_test : public ::testing::Test {
 protected:
  std::shared_ptr<memory_transport> transport_ = memory_transport::create();
  std::unique_ptr<publisher> publisher_ = std::move(*publisher::create(transport_, {.service = "content"}));

  std::string publish(std::string_view type, const std::string& key, int seq, std::string version = "1.0") {
    auto receipt = publisher_->publish(type, "{\"seq\":" + std::to_string(seq) + "}", {.key = key, .version = version}).get();
    EXPECT_TRUE(receipt) << receipt.error().describe();
    return receipt ? receipt->event_id : "";
  }

  std::unique_ptr<subscriber> make(std::string group = "search") {
    subscriber_config config{.service = "search", .group = std::move(group)};
    config.retry.initial = 1ms;
    config.retry.max = 4ms;
    config.retry.max_attempts = 4;
    return std::move(*subscriber::create(transport_, std::move(config)));
  }

  static subscriber::run_limits until(std::uint64_t events) { return {.max_events = events, .idle_exit = 2s}; }
};

int seq_of(const received_event& e) { return std::stoi(e.event.data.substr(7)); }

TEST_F(subscriber_test, handles_each_event_once_in_per_key_order_and_commits) {
  for (int i = 0; i < 100; ++i) publish("content.book.published", "book-" + std::to_string(i % 5), i);
  auto s = make();
  std::map<std::string, int> last;
  int handled = 0;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    ++handled;
    auto [it, inserted] = last.emplace(e.source->key, seq_of(e));
    if (!inserted) {
      EXPECT_GT(seq_of(e), it->second);
      it->second = seq_of(e);
    }
    return {};
  }));
  auto finished = s->run(until(100));
  ASSERT_TRUE(finished) << finished.error().describe();
  EXPECT_EQ(*finished, 100u);
  EXPECT_EQ(handled, 100);

  auto again = make();
  int redelivered = 0;
  ASSERT_TRUE(again->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++redelivered;
    return {};
  }));
  ASSERT_TRUE(again->run({.idle_exit = 300ms}));
  EXPECT_EQ(redelivered, 0) << "offsets were not committed";
}

TEST_F(subscriber_test, events_of_unhandled_types_are_skipped_and_committed) {
  publish("content.chapter.updated", "ch-1", 1);
  publish("content.book.published", "b-1", 2);
  auto s = make();
  std::vector<std::string> seen;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    seen.push_back(e.event.meta.type);
    return {};
  }));
  auto finished = s->run(until(2));
  ASSERT_TRUE(finished);
  EXPECT_EQ(*finished, 2u);
  EXPECT_EQ(seen, std::vector<std::string>{"content.book.published"});
}

TEST_F(subscriber_test, transient_failures_retry_in_place_and_keep_key_order) {
  for (int i = 0; i < 10; ++i) publish("content.book.published", "b-1", i);
  auto s = make();
  std::vector<int> order;
  int failures_left = 3;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    if (seq_of(e) == 4 && failures_left > 0) {
      --failures_left;
      EXPECT_EQ(e.attempt, 3 - failures_left);
      return make_error(errc::unavailable, "index down");
    }
    order.push_back(seq_of(e));
    return {};
  }));
  ASSERT_TRUE(s->run(until(10)));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST_F(subscriber_test, exceptions_count_as_transient_failures) {
  publish("content.book.published", "b-1", 1);
  auto s = make();
  int calls = 0;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    if (++calls < 3) throw std::runtime_error("flaky");
    return {};
  }));
  ASSERT_TRUE(s->run(until(1)));
  EXPECT_EQ(calls, 3);
}

TEST_F(subscriber_test, permanent_failures_and_exhausted_retries_reach_the_failure_sink_once) {
  publish("content.book.published", "b-1", 1);
  publish("content.book.published", "b-2", 2);
  auto s = make();
  std::vector<std::pair<int, errc>> failed;
  s->on_failure([&](const failed_event& f) -> result<void> {
    EXPECT_NE(f.event, nullptr);
    failed.emplace_back(f.attempts, f.cause.code);
    return {};
  });
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    if (seq_of(e) == 1) return make_error(errc::invalid_argument, "book has no title");
    return make_error(errc::timeout, "always slow");
  }));
  ASSERT_TRUE(s->run(until(2)));
  std::sort(failed.begin(), failed.end());
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0], std::make_pair(1, errc::invalid_argument));
  EXPECT_EQ(failed[1], std::make_pair(4, errc::timeout));
}

TEST_F(subscriber_test, undecodable_records_and_unsupported_versions_are_permanent_failures) {
  auto producer = *transport_->create_producer({});
  std::promise<void> sent;
  producer->produce({.topic = "content", .key = "x", .value = "{not json"}, [&](auto) { sent.set_value(); });
  sent.get_future().wait();
  publish("content.book.published", "b-1", 1, "3.0");
  auto s = make();
  std::vector<errc> codes;
  s->on_failure([&](const failed_event& f) -> result<void> {
    codes.push_back(f.cause.code);
    return {};
  });
  ASSERT_TRUE(s->on("content.book.published", 1, [](const received_event&) -> result<void> { return {}; }));
  ASSERT_TRUE(s->run(until(2)));
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<errc>{errc::invalid_json, errc::unsupported_version}));
}

TEST_F(subscriber_test, a_failure_that_cannot_be_recorded_leaves_the_offset_uncommitted) {
  publish("content.book.published", "b-1", 1);
  {
    auto s = make();
    s->on_failure([](const failed_event&) -> result<void> { return make_error(errc::unavailable, "dead letters down"); });
    ASSERT_TRUE(s->on("content.book.published", 1, [](const received_event&) -> result<void> {
      return make_error(errc::invalid_argument, "bad");
    }));
    ASSERT_TRUE(s->run({.idle_exit = 200ms}));
  }
  auto again = make();
  int redelivered = 0;
  ASSERT_TRUE(again->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++redelivered;
    return {};
  }));
  ASSERT_TRUE(again->run(until(1)));
  EXPECT_EQ(redelivered, 1);
}

TEST_F(subscriber_test, handlers_run_in_the_events_context_so_follow_up_events_carry_it) {
  const auto first_id = publish("content.book.published", "b-1", 1);
  auto s = make();
  std::string correlation;
  trace_context trace;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    correlation = current_context()->correlation_id;
    trace = e.event.meta.trace;
    auto follow_up = publisher_->publish("content.book.indexed", "{}", {.key = "b-1"}).get();
    EXPECT_TRUE(follow_up);
    return {};
  }));
  ASSERT_TRUE(s->run(until(1)));
  auto reader = make("reader");
  ASSERT_TRUE(reader->on("content.book.indexed", 1, [&](const received_event& e) -> result<void> {
    EXPECT_EQ(e.event.meta.correlation_id, correlation);
    EXPECT_EQ(e.event.meta.trace.trace_id, trace.trace_id);
    EXPECT_NE(e.event.meta.trace.span_id, trace.span_id);
    return {};
  }));
  auto finished = reader->run(until(2));
  ASSERT_TRUE(finished);
  EXPECT_EQ(*finished, 2u);
  EXPECT_EQ(current_context(), nullptr);
}

TEST_F(subscriber_test, stop_from_another_thread_ends_run_and_commits_what_was_done) {
  for (int i = 0; i < 5; ++i) publish("content.book.published", "b-1", i);
  auto s = make();
  std::atomic<int> handled{0};
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++handled;
    return {};
  }));
  std::thread stopper([&] {
    while (handled.load() < 5) std::this_thread::sleep_for(1ms);
    s->stop();
  });
  auto finished = s->run();
  stopper.join();
  ASSERT_TRUE(finished);
  EXPECT_EQ(*finished, 5u);
}

TEST_F(subscriber_test, registration_errors_are_reported) {
  auto s = make();
  EXPECT_FALSE(s->on("not-a-type", 1, [](const received_event&) -> result<void> { return {}; }));
  EXPECT_FALSE(s->on("content.book.published", 0, [](const received_event&) -> result<void> { return {}; }));
  EXPECT_TRUE(s->on("content.book.published", 1, [](const received_event&) -> result<void> { return {}; }));
  EXPECT_FALSE(s->on("content.book.published", 1, [](const received_event&) -> result<void> { return {}; }));
  EXPECT_FALSE(subscriber::create(transport_, {.service = "search"}));
}

}  // namespace
}  // namespace aw::events
