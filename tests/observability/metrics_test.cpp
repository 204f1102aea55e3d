#include "aw/events/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace aw::events::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(metrics_registry, renders_counter_family_with_help_type_and_labels) {
  registry r;
  auto sent = r.counters("messaging_client_sent_messages_total", "Events sent", {"topic", "type"});
  ASSERT_TRUE(sent) << sent.error().describe();
  (*sent)->with({"content", "content.book.published"}).inc();
  (*sent)->with({"content", "content.book.published"}).inc(2);
  (*sent)->with({"accounts", "user.account.created"}).inc();
  EXPECT_EQ(r.render(),
            "# HELP messaging_client_sent_messages_total Events sent\n"
            "# TYPE messaging_client_sent_messages_total counter\n"
            "messaging_client_sent_messages_total{topic=\"accounts\",type=\"user.account.created\"} 1\n"
            "messaging_client_sent_messages_total{topic=\"content\",type=\"content.book.published\"} 3\n");
}

TEST(metrics_registry, escapes_label_values_and_help_text) {
  registry r;
  auto g = r.gauges("odd", "line one\\\nline two", {"key"});
  ASSERT_TRUE(g);
  (*g)->with({"a\"b\\c\nd"}).set(-1.5);
  EXPECT_EQ(r.render(),
            "# HELP odd line one\\\\\\nline two\n"
            "# TYPE odd gauge\n"
            "odd{key=\"a\\\"b\\\\c\\nd\"} -1.5\n");
}

TEST(metrics_registry, histogram_buckets_are_cumulative_with_inf_sum_and_count) {
  registry r;
  auto h = r.histograms("messaging_process_duration_seconds", "Handler time", {"type"}, {0.1, 1});
  ASSERT_TRUE(h);
  auto& child = (*h)->with({"t.a.b"});
  child.observe(0.05);
  child.observe(0.1);  // upper bounds are inclusive
  child.observe(0.5);
  child.observe(7);
  const auto text = r.render();
  EXPECT_THAT(text, HasSubstr("# TYPE messaging_process_duration_seconds histogram\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_bucket{type=\"t.a.b\",le=\"0.1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_bucket{type=\"t.a.b\",le=\"1\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_bucket{type=\"t.a.b\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_sum{type=\"t.a.b\"} 7.65\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_count{type=\"t.a.b\"} 4\n"));
}

TEST(metrics_registry, same_definition_returns_the_same_family) {
  registry r;
  auto a = r.counters("x_total", "x", {"l"});
  auto b = r.counters("x_total", "x", {"l"});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  (*a)->with({"v"}).inc();
  EXPECT_EQ((*b)->with({"v"}).value(), 1);
}

TEST(metrics_registry, refuses_bad_names_and_clashing_definitions_naming_the_metric) {
  registry r;
  EXPECT_THAT(r.counters("1bad", "").error().message, HasSubstr("\"1bad\""));
  EXPECT_THAT(r.counters("bad-name", "").error().message, HasSubstr("bad-name"));
  EXPECT_THAT(r.counters("ok_total", "", {"__reserved"}).error().message, HasSubstr("__reserved"));
  EXPECT_THAT(r.counters("ok_total", "", {"le"}).error().message, HasSubstr("\"le\""));
  EXPECT_THAT(r.counters("ok_total", "", {"a", "a"}).error().message, HasSubstr("twice"));
  ASSERT_TRUE(r.counters("used", "", {"a"}));
  EXPECT_THAT(r.gauges("used", "").error().message, HasSubstr("used"));
  EXPECT_THAT(r.counters("used", "", {"b"}).error().message, HasSubstr("other labels"));
  ASSERT_TRUE(r.histograms("h", "", {}, {1, 2}));
  EXPECT_THAT(r.histograms("h", "", {}, {1, 3}).error().message, HasSubstr("other buckets"));
  EXPECT_FALSE(r.histograms("h2", "", {}, {}));
  EXPECT_THAT(r.add_collector("used", "", metric_kind::gauge, [] { return std::vector<sample>{}; }).error().message,
              HasSubstr("already registered"));
  EXPECT_FALSE(r.add_collector("c", "", metric_kind::gauge, nullptr));
}

TEST(metrics_registry, collectors_run_at_scrape_time_and_can_be_removed) {
  registry r;
  double depth = 3;
  auto handle = r.add_collector("aw_events_spool_depth", "Spooled events", metric_kind::gauge, [&depth] {
    return std::vector<sample>{{{{"service", "content"}}, depth}};
  });
  ASSERT_TRUE(handle);
  EXPECT_THAT(r.render(), HasSubstr("aw_events_spool_depth{service=\"content\"} 3\n"));
  depth = 0;
  EXPECT_THAT(r.render(), HasSubstr("aw_events_spool_depth{service=\"content\"} 0\n"));
  r.remove_collector(*handle);
  EXPECT_THAT(r.render(), Not(HasSubstr("aw_events_spool_depth")));
}

TEST(metrics_registry, families_render_sorted_by_name_whatever_their_kind) {
  registry r;
  ASSERT_TRUE(r.gauges("b_gauge", "b"));
  ASSERT_TRUE(r.counters("a_total", "a"));
  ASSERT_TRUE(r.add_collector("c_collected", "c", metric_kind::gauge, [] { return std::vector<sample>{}; }));
  const auto text = r.render();
  EXPECT_LT(text.find("a_total"), text.find("b_gauge"));
  EXPECT_LT(text.find("b_gauge"), text.find("c_collected"));
}

TEST(metrics_registry, concurrent_updates_are_not_lost) {
  registry r;
  auto c = r.counters("hits_total", "", {"worker"});
  auto h = r.histograms("lat_seconds", "", {}, {0.5});
  ASSERT_TRUE(c && h);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        (*c)->with({"shared"}).inc();
        (*h)->with({}).observe(0.25);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*c)->with({"shared"}).value(), 40000);
  EXPECT_EQ((*h)->with({}).read().count, 40000u);
}

TEST(metrics_registry, special_values_use_prometheus_spelling) {
  registry r;
  auto g = r.gauges("g", "", {"k"});
  ASSERT_TRUE(g);
  (*g)->with({"inf"}).set(std::numeric_limits<double>::infinity());
  (*g)->with({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  const auto text = r.render();
  EXPECT_THAT(text, HasSubstr("g{k=\"inf\"} +Inf\n"));
  EXPECT_THAT(text, HasSubstr("g{k=\"nan\"} NaN\n"));
}

}  // namespace
}  // namespace aw::events::metrics
