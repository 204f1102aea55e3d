// bench consume: aw-events' subscriber (parse + envelope validation + offset store/commit) against a raw
// librdkafka consumer on the same topic, or plain SQLite reads of the same rows.
#include <atomic>
#include <filesystem>

#include "aw/events/ids.hpp"
#include "aw/events/subscriber.hpp"
#include "aw/events/transport/embedded.hpp"
#include "bench.hpp"
#include "cluster.hpp"
#include "raw_kafka.hpp"
#include "raw_sqlite.hpp"
#include "workload.hpp"

namespace aw::bench {
namespace {

// Runs a subscriber until `count` events were handled; timed from the first event to the last.
measurement consume_with_aw_events(std::shared_ptr<events::transport> transport, std::size_t count,
                                   std::string& error) {
  auto subscriber = events::subscriber::create(
      transport, {.service = "bench", .group = "bench-aw-" + events::new_uuid_v4(), .extra_topics = {}});
  if (!subscriber) {
    error = subscriber.error().describe();
    return {};
  }
  std::size_t handled = 0;
  std::size_t bytes = 0;
  stopwatch first;
  measurement result;
  auto ok = (*subscriber)->on(bench_type, 1, [&](const events::received_event& e) -> events::result<void> {
    if (handled++ == 0) first = stopwatch{};
    bytes += e.source->value.size();
    if (handled == count) result = finish(first, "consume", "aw-events", handled, bytes);
    return {};
  });
  if (!ok) {
    error = ok.error().describe();
    return {};
  }
  auto ran = (*subscriber)->run({.max_events = count, .idle_exit = std::chrono::seconds(30)});
  if (!ran) error = ran.error().describe();
  else if (handled < count) error = "only " + std::to_string(handled) + " of " + std::to_string(count) + " consumed";
  return result;
}


}  // namespace

int run_consume_bench(const bench_options& options, const printer& print) {
  const auto w = make_workload(options.events, options.keys, options.data_bytes);
  std::vector<events::record> records;
  records.reserve(w.data.size());
  for (std::size_t i = 0; i < w.data.size(); ++i) records.push_back(standard_record(w, i, bench_topic));
  std::string error;

  if (options.transport == "embedded") {
    const auto [baseline_path, store_path] = fresh_store_paths(options.store_dir);
    (void)raw_sqlite_insert(baseline_path, records, error);
    auto baseline = raw_sqlite_scan(baseline_path, error);
    auto transport = events::embedded_transport::open({.path = store_path, .default_partitions = options.partitions});
    if (!transport) return report(print, "consume-embedded", {}, baseline, 0.1, transport.error().describe());
    auto producer = (*transport)->create_producer({.enqueue_timeout = std::chrono::seconds(30)});
    if (!producer) return report(print, "consume-embedded", {}, baseline, 0.1, producer.error().describe());
    std::atomic<std::size_t> failed{0};
    for (auto& r : records) {
      (*producer)->produce(std::move(r), [&failed](const events::result<events::delivery_report>& d) {
        if (!d) ++failed;
      });
    }
    if (auto flushed = (*producer)->flush(std::chrono::seconds(120)); !flushed || failed.load()) {
      return report(print, "consume-embedded", {}, baseline, 0.1,
                    "could not load the store: " + std::to_string(failed.load()) + " records failed");
    }
    auto ours = consume_with_aw_events(*transport, options.events, error);
    return report(print, "consume-embedded", ours, baseline, 0, error, 300000);
  }

  // The mock cluster silently drops the oldest data beyond ~5 MB per partition: spread the topic so that every
  // partition stays well below that, or the consumers would wait for records that are gone.
  auto sized = options;
  if (options.transport == "mock-kafka") {
    const std::size_t total = approximate_record_bytes(records.front()) * records.size();
    const auto needed = static_cast<int>(total / (3u << 20) + 1);
    if (needed > sized.partitions) sized.partitions = needed;
  }
  auto cluster = bench_cluster::start(sized, error);
  if (!cluster) return report(print, "consume-kafka", {}, {}, 0.5, error);
  (void)cluster->create_topic(bench_topic, sized.partitions);
  if (raw_produce(cluster->bootstrap(), records, error) != records.size()) {
    return report(print, "consume-kafka", {}, {}, 0.5, "could not load the topic: " + error);
  }
  measurement best_raw, best_ours;
  for (int round = 0; round < 2 && error.empty(); ++round) {
    auto raw = raw_consume(cluster->bootstrap(), bench_topic, options.events, 120, error);
    if (raw.events_per_second() > best_raw.events_per_second()) best_raw = raw;
    auto transport = cluster->transport(error);
    if (!transport) break;
    auto ours = consume_with_aw_events(transport, options.events, error);
    if (ours.events_per_second() > best_ours.events_per_second()) best_ours = ours;
  }
  return report(print, "consume-kafka", best_ours, best_raw, 0.5, error);
}

}  // namespace aw::bench
