// With a catalog, the publisher refuses unknown types and schema-invalid data before anything is sent, and
// the subscriber checks data before its handler, sending violations to the failure sink as permanent.
#include <algorithm>
#include <future>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/catalog.hpp"
#include "aw/events/subscriber.hpp"
#include "aw/events/transport/memory.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

const std::string valid_index_data =
    R"({"index":"books","batch_id":"e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b","documents":["bk-1"],"took_ms":3,)"
    R"("completed_at":"2024-06-01T08:00:01.730Z"})";

class catalog_enforcement_test : public ::testing::Test {
 protected:
  std::shared_ptr<const event_catalog> catalog_ = [] {
    auto loaded = event_catalog::load_directory(AW_CATALOG_DIR);
    if (!loaded) {
      ADD_FAILURE() << loaded.error().describe();
      std::abort();
    }
    return std::make_shared<const event_catalog>(std::move(*loaded));
  }();
  std::shared_ptr<memory_transport> transport_ = memory_transport::create();

  std::unique_ptr<publisher> make_publisher(std::shared_ptr<const event_catalog> catalog) {
    publisher_config config{.service = "search"};
    config.catalog = std::move(catalog);
    return std::move(*publisher::create(transport_, std::move(config)));
  }

  // Records on `topic` so far, read by a fresh group.
  std::size_t count_records(const std::string& topic) {
    auto consumer = std::move(*transport_->create_consumer({.group_id = "count-" + topic + std::to_string(++groups_)}));
    EXPECT_TRUE(consumer->subscribe({topic}));
    std::size_t n = 0;
    for (int idle = 0; idle < 3;) {
      auto polled = consumer->poll(20ms);
      if (polled && *polled) ++n;
      else ++idle;
    }
    return n;
  }
  int groups_ = 0;
};

TEST_F(catalog_enforcement_test, publisher_sends_catalog_valid_data) {
  auto p = make_publisher(catalog_);
  auto receipt = p->publish("search.index.updated", valid_index_data, {.key = "batch-1"}).get();
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(count_records("search"), 1u);
}

TEST_F(catalog_enforcement_test, publisher_refuses_an_unknown_type_and_sends_nothing) {
  auto p = make_publisher(catalog_);
  auto refused = p->publish("search.index.dropped", valid_index_data, {.key = "batch-1"}).get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::unknown_event_type);
  EXPECT_EQ(refused.error().details.at(0).instance_location, "/meta/type");
  EXPECT_EQ(count_records("search"), 0u);
}

TEST_F(catalog_enforcement_test, publisher_refuses_schema_violations_naming_the_field) {
  auto p = make_publisher(catalog_);
  const std::string bad = R"({"index":"magazines","batch_id":"not-a-uuid","documents":["a","a"],"took_ms":3,)"
                          R"("completed_at":"2024-06-01T08:00:01.730Z"})";
  auto refused = p->publish("search.index.updated", bad, {.key = "batch-1"}).get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::schema_violation);
  EXPECT_FALSE(refused.error().retriable());
  std::vector<std::string> locations;
  for (const auto& d : refused.error().details) locations.push_back(d.instance_location);
  EXPECT_THAT(locations, ::testing::UnorderedElementsAre("/data/index", "/data/batch_id", "/data/documents"));
  EXPECT_THAT(refused.error().describe(), ::testing::HasSubstr("/data/"));
  EXPECT_EQ(count_records("search"), 0u);
}

TEST_F(catalog_enforcement_test, publisher_refuses_a_version_the_catalog_lacks) {
  auto p = make_publisher(catalog_);
  auto refused = p->publish("search.index.updated", valid_index_data, {.key = "b", .version = "2.0"}).get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::unsupported_version);
  EXPECT_EQ(count_records("search"), 0u);
}

TEST_F(catalog_enforcement_test, publish_envelope_is_checked_too) {
  auto p = make_publisher(catalog_);
  envelope event;
  event.meta = {"0b6f2a4e-9c1d-4f3a-8b2e-5d6c7a8b9c0d", "search.index.updated", "1.0", "2023-06-15T14:22:31.123Z",
                "req-1", "search", {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"}, ""};
  event.data = R"({"index":"books"})";
  std::promise<result<publish_receipt>> done;
  p->publish_envelope(event, {.key = "b"}, [&](result<publish_receipt> r) { done.set_value(std::move(r)); });
  auto refused = done.get_future().get();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, errc::schema_violation);
  EXPECT_EQ(count_records("search"), 0u);
}

TEST_F(catalog_enforcement_test, publisher_without_catalog_sends_any_well_formed_data) {
  auto p = make_publisher(nullptr);
  auto receipt = p->publish("search.index.dropped", R"({"anything":1})", {.key = "b"}).get();
  ASSERT_TRUE(receipt) << receipt.error().describe();
  EXPECT_EQ(count_records("search"), 1u);
}

TEST_F(catalog_enforcement_test, subscriber_checks_data_before_the_handler_and_fails_violations_permanently) {
  auto unchecked = make_publisher(nullptr);  // a producer that skipped validation
  ASSERT_TRUE(unchecked->publish("search.index.updated", R"({"index":"books"})", {.key = "b-1"}).get());
  ASSERT_TRUE(unchecked->publish("search.index.updated", valid_index_data, {.key = "b-2"}).get());
  ASSERT_TRUE(unchecked->publish("search.index.updated", valid_index_data, {.key = "b-3", .version = "1.7"}).get());

  subscriber_config config{.service = "content", .group = "content-indexer"};
  config.retry.initial = 1ms;
  config.retry.max = 2ms;
  config.catalog = catalog_;
  auto s = std::move(*subscriber::create(transport_, std::move(config)));
  std::vector<std::string> handled;
  ASSERT_TRUE(s->on("search.index.updated", 1, [&](const received_event& e) -> result<void> {
    handled.push_back(e.source->key);
    return {};
  }));
  std::vector<std::pair<std::string, error>> failed;
  s->on_failure([&](const failed_event& f) -> result<void> {
    failed.emplace_back(f.source->key, f.cause);
    EXPECT_EQ(f.attempts, 1) << "a schema violation must not be retried";
    return {};
  });
  auto finished = s->run({.max_events = 3, .idle_exit = 2s});
  ASSERT_TRUE(finished) << finished.error().describe();
  EXPECT_EQ(handled, std::vector<std::string>{"b-2"});
  ASSERT_EQ(failed.size(), 2u);
  std::sort(failed.begin(), failed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  EXPECT_EQ(failed[0].first, "b-1");
  EXPECT_EQ(failed[0].second.code, errc::schema_violation);
  EXPECT_EQ(failed[0].second.details.at(0).instance_location, "/data");
  EXPECT_EQ(failed[1].first, "b-3");
  EXPECT_EQ(failed[1].second.code, errc::unsupported_version);
}

TEST_F(catalog_enforcement_test, subscriber_does_not_check_types_it_does_not_handle) {
  auto unchecked = make_publisher(nullptr);
  ASSERT_TRUE(unchecked->publish("search.index.dropped", R"({"x":1})", {.key = "b-1"}).get());
  subscriber_config config{.service = "content", .group = "other"};
  config.catalog = catalog_;
  config.unknown_types_are_permanent = false;
  auto s = std::move(*subscriber::create(transport_, std::move(config)));
  ASSERT_TRUE(s->on("search.index.updated", 1, [](const received_event&) -> result<void> { return {}; }));
  int failures = 0;
  s->on_failure([&](const failed_event&) -> result<void> {
    ++failures;
    return {};
  });
  auto finished = s->run({.max_events = 1, .idle_exit = 2s});
  ASSERT_TRUE(finished);
  EXPECT_EQ(*finished, 1u);
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace aw::events
