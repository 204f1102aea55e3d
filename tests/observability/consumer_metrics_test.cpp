#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/instrument.hpp"
#include "aw/events/subscriber.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;

envelope event_of(std::string type) {
  envelope e;
  e.meta.type = std::move(type);
  e.meta.id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
  return e;
}

TEST(consumer_metrics, observer_reports_retries_dead_letters_durations_duplicates_and_alerts) {
  metrics::registry r;
  auto observer = make_metrics_observer("search", "indexer", r);
  ASSERT_TRUE(observer) << observer.error().describe();
  const auto published = event_of("content.book.published");
  const auto updated = event_of("content.chapter.updated");
  (*observer)->retried(published, 1, error{errc::handler_failed, "busy", true, {}});
  (*observer)->retried(published, 2, error{errc::handler_failed, "busy", true, {}});
  (*observer)->retried(updated, 1, error{errc::handler_failed, "busy", true, {}});
  (*observer)->processed(published, std::chrono::milliseconds(3));
  (*observer)->processed(published, std::chrono::milliseconds(30));
  (*observer)->duplicate_skipped(updated);
  record raw;
  failed_event poison;
  poison.source = &raw;
  poison.cause = error{errc::invalid_json, "not JSON", false, {}};
  (*observer)->dead_lettered(poison);
  failed_event exhausted;
  exhausted.source = &raw;
  exhausted.event = &published;
  exhausted.retries_exhausted = true;
  (*observer)->dead_lettered(exhausted);
  (*observer)->alert(failure_alert{"consecutive_failures", "content.book.published", 5, std::chrono::seconds(60), "x"});

  const auto text = r.render();
  EXPECT_THAT(text, HasSubstr("aw_events_retries_total{type=\"content.book.published\",group=\"indexer\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_retries_total{type=\"content.chapter.updated\",group=\"indexer\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_count{type=\"content.book.published\",group=\"indexer\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("messaging_process_duration_seconds_bucket{type=\"content.book.published\",group=\"indexer\",le=\"0.005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_dedup_hits_total{type=\"content.chapter.updated\",group=\"indexer\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_dead_letters_total{service=\"search\",type=\"\",class=\"permanent\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_dead_letters_total{service=\"search\",type=\"content.book.published\",class=\"retries_exhausted\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_alerts_total{service=\"search\",reason=\"consecutive_failures\",type=\"content.book.published\"} 1\n"));
}

TEST(consumer_metrics, a_clashing_registry_is_an_error_naming_the_metric) {
  metrics::registry r;
  ASSERT_TRUE(r.gauges("aw_events_retries_total", "taken"));
  auto observer = make_metrics_observer("search", "indexer", r);
  ASSERT_FALSE(observer);
  EXPECT_THAT(observer.error().message, HasSubstr("aw_events_retries_total"));
}

}  // namespace
}  // namespace aw::events
