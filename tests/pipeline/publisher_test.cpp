#include "aw/events/publisher.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "aw/events/context.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/transport/memory.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

struct chapter_updated {
  static constexpr std::string_view event_type = "content.chapter.updated";
  static constexpr std::string_view event_version = "2.3";
  std::string chapter_id;
  std::string title;
  std::optional<int> words;
  std::string partition_key() const { return chapter_id; }
};

void write_json(json_writer& w, const chapter_updated& e) {
  w.begin_object().field("chapter_id", e.chapter_id).field("title", e.title).field("words", e.words).end_object();
}

class publisher_test : public ::testing::Test {
 protected:
  std::shared_ptr<memory_transport> transport_ = memory_transport::create();

  std::unique_ptr<publisher> make(publisher_config config = {.service = "content"}) {
    config.retry.initial = 1ms;
    config.retry.max = 5ms;
    auto created = publisher::create(transport_, std::move(config));
    EXPECT_TRUE(created) << created.error().describe();
    return std::move(*created);
  }

  // Every record of a topic, read with a fresh group: waits for `expected` records, then `linger` for more.
  std::vector<record> read_all(const std::string& topic, std::size_t expected,
                               std::chrono::milliseconds linger = 200ms) {
    auto consumer = *transport_->create_consumer({.group_id = "reader-" + new_uuid_v4()});
    EXPECT_TRUE(consumer->subscribe({topic}));
    std::vector<record> out;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto polled = consumer->poll(50ms);
      if (polled && *polled) out.push_back(std::move(**polled));
    }
    deadline = std::chrono::steady_clock::now() + linger;
    while (std::chrono::steady_clock::now() < deadline) {
      auto polled = consumer->poll(20ms);
      if (polled && *polled) out.push_back(std::move(**polled));
    }
    consumer->close();
    return out;
  }
};

TEST_F(publisher_test, publishes_a_standard_envelope_with_the_standard_headers) {
  auto p = make();
  auto receipt = p->publish("content.book.published", R"({"book_id":"b-1"})", {.key = "b-1", .correlation_id = "req-1"}).get();
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(receipt->topic, "content");
  EXPECT_EQ(receipt->attempts, 1);
  EXPECT_EQ(receipt->correlation_id, "req-1");

  auto records = read_all("content", 1);
  ASSERT_EQ(records.size(), 1u);
  const auto& rec = records[0];
  EXPECT_EQ(rec.key, "b-1");
  EXPECT_EQ(rec.partition, partition_for_key("b-1", 6));
  EXPECT_EQ(rec.offset, receipt->offset);
  auto decoded = decode_envelope(rec.value);
  ASSERT_TRUE(decoded) << decoded.error().describe();
  EXPECT_EQ(decoded->meta.id, receipt->event_id);
  EXPECT_EQ(decoded->meta.type, "content.book.published");
  EXPECT_EQ(decoded->meta.version, "1.0");
  EXPECT_EQ(decoded->meta.source, "content");
  EXPECT_EQ(decoded->meta.correlation_id, "req-1");
  EXPECT_EQ(decoded->data, R"({"book_id":"b-1"})");
  EXPECT_EQ(rec.header_value("aw-event-id"), decoded->meta.id);
  EXPECT_EQ(rec.header_value("aw-event-type"), "content.book.published");
  EXPECT_EQ(rec.header_value("aw-event-version"), "1.0");
  EXPECT_EQ(rec.header_value("aw-correlation-id"), "req-1");
  EXPECT_EQ(rec.header_value("traceparent"), to_traceparent(decoded->meta.trace));
  EXPECT_EQ(rec.header_value("content-type"), "application/json");
}

TEST_F(publisher_test, typed_events_become_data_with_their_type_version_and_key) {
  auto p = make();
  auto receipt = p->publish(chapter_updated{"ch-9", "Dawn \"again\"", std::nullopt}).get();
  ASSERT_TRUE(receipt) << receipt.error().describe();
  auto records = read_all("content", 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, "ch-9");
  auto decoded = decode_envelope(records[0].value);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->meta.type, "content.chapter.updated");
  EXPECT_EQ(decoded->meta.version, "2.3");
  EXPECT_EQ(decoded->data, R"({"chapter_id":"ch-9","title":"Dawn \"again\"","words":null})");
}

TEST_F(publisher_test, per_resource_strategy_names_topics_service_dot_resource) {
  EXPECT_EQ(topic_for("content.book.published", topic_strategy::per_service), "content");
  EXPECT_EQ(topic_for("content.book.published", topic_strategy::per_resource), "content.book");
  EXPECT_EQ(topic_for("Content.Book", topic_strategy::per_service), "");
  EXPECT_EQ(deadletter_topic("search"), "search.deadletter");
  auto p = make({.service = "content", .topics = topic_strategy::per_resource});
  auto receipt = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->topic, "content.book");
}

TEST_F(publisher_test, correlation_and_trace_come_from_the_callers_context) {
  auto p = make();
  const auto parent = new_trace();
  context_scope scope(event_context{"req-ctx", parent});
  auto receipt = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_TRUE(receipt);
  EXPECT_EQ(receipt->correlation_id, "req-ctx");
  auto decoded = decode_envelope(read_all("content", 1).at(0).value);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->meta.trace.trace_id, parent.trace_id);
  EXPECT_NE(decoded->meta.trace.span_id, parent.span_id);
}

TEST_F(publisher_test, a_correlation_id_is_generated_when_the_origin_has_none) {
  auto p = make();
  ASSERT_EQ(current_context(), nullptr);
  auto first = p->publish("content.book.published", "{}", {.key = "b"}).get();
  auto second = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(is_uuid_v4(first->correlation_id));
  EXPECT_NE(first->correlation_id, second->correlation_id);
}

TEST_F(publisher_test, refuses_invalid_events_with_the_field_located_and_sends_nothing) {
  auto p = make();
  struct bad_case {
    std::string type, data, version, key, location;
  };
  const std::vector<bad_case> cases = {
      {"content.book", "{}", "", "k", "/meta/type"},
      {"Content.Book.Published", "{}", "", "k", "/meta/type"},
      {"content.book.published", "{}", "1", "k", "/meta/version"},
      {"content.book.published", "{}", "v1.0", "k", "/meta/version"},
      {"content.book.published", "[1]", "", "k", "/data"},
      {"content.book.published", "{\"a\":", "", "k", "/data"},
      {"content.book.published", "{} {}", "", "k", "/data"},
      {"content.book.published", "{\"a\":\"\xff\"}", "", "k", "/data"},
  };
  for (const auto& c : cases) {
    auto outcome = p->publish(c.type, c.data, {.key = c.key, .version = c.version}).get();
    ASSERT_FALSE(outcome) << c.type << " " << c.data;
    EXPECT_EQ(outcome.error().code, errc::invalid_envelope);
    ASSERT_FALSE(outcome.error().details.empty());
    EXPECT_EQ(outcome.error().details[0].instance_location, c.location) << c.type << " " << c.data;
  }
  auto no_key = p->publish("content.book.published", "{}", {}).get();
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, errc::invalid_argument);
  EXPECT_TRUE(read_all("content", 0).empty());
}

TEST_F(publisher_test, retriable_failures_are_retried_with_backoff_until_delivered) {
  auto p = make();
  transport_->fail_next_produces(3, errc::unavailable);
  auto receipt = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(receipt->attempts, 4);
  EXPECT_EQ(read_all("content", 1).size(), 1u) << "a retried event must be stored once";
}

TEST_F(publisher_test, gives_up_after_the_last_attempt_and_says_so) {
  publisher_config config{.service = "content"};
  auto created = publisher::create(transport_, {.service = "content", .retry = {.initial = 1ms, .max = 2ms, .max_attempts = 3}});
  ASSERT_TRUE(created);
  transport_->fail_next_produces(10, errc::timeout);
  auto outcome = (*created)->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, errc::timeout);
}

TEST_F(publisher_test, permanent_failures_are_not_retried) {
  auto p = make();
  transport_->fail_next_produces(1, errc::message_too_large);
  auto outcome = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, errc::message_too_large);
  auto next = p->publish("content.book.published", "{}", {.key = "b"}).get();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->attempts, 1);
}

TEST_F(publisher_test, flush_waits_for_every_callback_including_retries) {
  auto p = make();
  transport_->fail_next_produces(50, errc::unavailable);
  std::atomic<int> delivered{0};
  for (int i = 0; i < 200; ++i) {
    p->publish("content.book.published", R"({"n":1})", {.key = "k" + std::to_string(i % 7)},
               [&](result<publish_receipt> r) {
                 if (r) ++delivered;
               });
  }
  ASSERT_TRUE(p->flush(10s));
  EXPECT_EQ(delivered.load(), 200);
}

TEST_F(publisher_test, keeps_per_key_order_without_failures_from_many_threads) {
  auto p = make();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        p->publish("content.book.published", "{\"seq\":" + std::to_string(i) + "}", {.key = "key-" + std::to_string(t)},
                   [](result<publish_receipt> r) { ASSERT_TRUE(r); });
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(p->flush(10s));
  auto records = read_all("content", 1000);
  ASSERT_EQ(records.size(), 1000u);
  std::map<std::string, int> last;
  for (const auto& rec : records) {
    auto decoded = decode_envelope(rec.value);
    ASSERT_TRUE(decoded);
    const int seq = std::stoi(decoded->data.substr(7));
    auto [it, inserted] = last.emplace(rec.key, seq);
    if (!inserted) {
      EXPECT_EQ(seq, it->second + 1) << rec.key;
      it->second = seq;
    }
  }
}

TEST_F(publisher_test, bad_configuration_fails_before_anything_starts) {
  EXPECT_FALSE(publisher::create(transport_, {}));
  EXPECT_FALSE(publisher::create(transport_, {.service = "Content Service"}));
  EXPECT_FALSE(publisher::create(nullptr, {.service = "content"}));
  auto bad_retry = publisher::create(transport_, {.service = "content", .retry = {.max_attempts = 0}});
  ASSERT_FALSE(bad_retry);
  EXPECT_NE(bad_retry.error().message.find("max_attempts"), std::string::npos);
}

}  // namespace
}  // namespace aw::events
