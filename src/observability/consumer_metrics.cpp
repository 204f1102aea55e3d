// The subscriber's metrics: a consumer_observer reporting to a registry (see aw/events/instrument.hpp).
#include "aw/events/instrument.hpp"
#include "aw/events/subscriber.hpp"

namespace aw::events {
namespace {

// Callbacks run on the subscriber's one thread: one-entry caches per metric need no lock.
class metrics_observer final : public consumer_observer {
 public:
  metrics_observer(std::string service, std::string group, metrics::family<metrics::counter>* retries,
                   metrics::family<metrics::counter>* dead_letters, metrics::family<metrics::histogram>* durations,
                   metrics::family<metrics::counter>* dedup_hits, metrics::family<metrics::counter>* alerts)
      : service_(std::move(service)), group_(std::move(group)), retries_(retries), dead_letters_(dead_letters),
        durations_(durations), dedup_hits_(dedup_hits), alerts_(alerts) {}

  void retried(const envelope& e, int, const error&) override { type_and_group(retries_, retry_cache_, e).inc(); }

  void dead_lettered(const failed_event& failed) override {
    const std::string_view type = failed.event ? std::string_view(failed.event->meta.type) : std::string_view();
    const char* error_class = failed.retries_exhausted ? "retries_exhausted" : "permanent";
    dead_letters_->with({service_, type, error_class}).inc();
  }

  void processed(const envelope& e, std::chrono::nanoseconds handler_duration) override {
    if (duration_cache_.last == nullptr || duration_cache_.last_type != e.meta.type) {
      duration_cache_.last_type = e.meta.type;
      duration_cache_.last = &durations_->with({e.meta.type, group_});
    }
    duration_cache_.last->observe(std::chrono::duration<double>(handler_duration).count());
  }

  void duplicate_skipped(const envelope& e) override { type_and_group(dedup_hits_, dedup_cache_, e).inc(); }

  void alert(const failure_alert& a) override { alerts_->with({service_, a.reason, a.type}).inc(); }

 private:
  struct cache {
    std::string last_type;
    metrics::counter* last = nullptr;
  };
  metrics::counter& type_and_group(metrics::family<metrics::counter>* family, cache& c, const envelope& e) {
    if (c.last == nullptr || c.last_type != e.meta.type) {
      c.last_type = e.meta.type;
      c.last = &family->with({e.meta.type, group_});
    }
    return *c.last;
  }

  std::string service_;
  std::string group_;
  metrics::family<metrics::counter>* retries_;
  metrics::family<metrics::counter>* dead_letters_;
  metrics::family<metrics::histogram>* durations_;
  metrics::family<metrics::counter>* dedup_hits_;
  metrics::family<metrics::counter>* alerts_;
  cache retry_cache_, dedup_cache_;
  struct {
    std::string last_type;
    metrics::histogram* last = nullptr;
  } duration_cache_;
};

}  // namespace

result<std::shared_ptr<consumer_observer>> make_metrics_observer(std::string service, std::string group,
                                                                 metrics::registry& registry) {
  auto retries = registry.counters("aw_events_retries_total", "Handler attempts that failed transiently",
                                   {"type", "group"});
  if (!retries) return make_error(retries.error());
  auto dead_letters = registry.counters("aw_events_dead_letters_total", "Events written to the dead-letter topic",
                                        {"service", "type", "class"});
  if (!dead_letters) return make_error(dead_letters.error());
  auto durations = registry.histograms("messaging_process_duration_seconds", "One handler attempt", {"type", "group"});
  if (!durations) return make_error(durations.error());
  auto dedup = registry.counters("aw_events_dedup_hits_total", "Duplicates absorbed by the ledger", {"type", "group"});
  if (!dedup) return make_error(dedup.error());
  auto alerts = registry.counters("aw_events_alerts_total", "Repeated-failure alerts fired",
                                  {"service", "reason", "type"});
  if (!alerts) return make_error(alerts.error());
  return std::shared_ptr<consumer_observer>(
      new metrics_observer(std::move(service), std::move(group), *retries, *dead_letters, *durations, *dedup, *alerts));
}

}  // namespace aw::events
