// bench publish: aw-events' publisher against raw librdkafka (same cluster, same bytes) or plain SQLite.
#include <atomic>
#include <filesystem>
#include <thread>

#include "aw/events/publisher.hpp"
#include "aw/events/transport/embedded.hpp"
#include "aw/events/transport/kafka.hpp"
#include "aw/events/transport/mock_kafka.hpp"
#include "bench.hpp"
#include "cluster.hpp"
#include "raw_kafka.hpp"
#include "raw_sqlite.hpp"
#include "workload.hpp"

namespace aw::bench {
namespace {

// Publishes every data object through one publisher from `threads` threads; timed until all are acknowledged.
measurement publish_with_aw_events(std::shared_ptr<events::transport> transport, const workload& w, int threads,
                                   std::string& error) {
  auto publisher = events::publisher::create(transport, {.service = "bench"});
  if (!publisher) {
    error = publisher.error().describe();
    return {};
  }
  std::atomic<std::size_t> acknowledged{0};
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::size_t> failed{0};
  const std::size_t total = w.data.size();
  stopwatch started;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < total; i += static_cast<std::size_t>(threads)) {
        (*publisher)->publish(bench_type, w.data[i],
                              {.key = w.keys[i % w.keys.size()], .correlation_id = w.correlation_ids[i]},
                              [&](events::result<events::publish_receipt> r) {
                                if (r) ++acknowledged;
                                else ++failed;
                              });
      }
    });
  }
  for (auto& worker : workers) worker.join();
  if (auto flushed = (*publisher)->flush(std::chrono::seconds(120)); !flushed) error = flushed.error().describe();
  auto m = finish(started, "publish", "aw-events", acknowledged.load(), 0);
  // Bytes on the wire are the envelopes: data plus the same meta the baseline carries.
  m.bytes = acknowledged.load() * (w.data.front().size() + 330);
  if (failed) error = std::to_string(failed.load()) + " publishes failed";
  return m;
}

std::size_t value_bytes(const std::vector<events::record>& records) {
  std::size_t n = 0;
  for (const auto& r : records) n += r.value.size();
  return n;
}


}  // namespace

int run_publish_bench(const bench_options& options, const printer& print) {
  const auto w = make_workload(options.events, options.keys, options.data_bytes);
  std::string error;
  if (options.transport == "embedded") {
    const auto [baseline_path, store_path] = fresh_store_paths(options.store_dir);
    std::vector<events::record> records;
    records.reserve(w.data.size());
    for (std::size_t i = 0; i < w.data.size(); ++i) records.push_back(standard_record(w, i, bench_topic));
    auto baseline = raw_sqlite_insert(baseline_path, records, error);
    auto transport = events::embedded_transport::open({.path = store_path, .default_partitions = options.partitions});
    if (!transport) return report(print, "publish-embedded", {}, baseline, 0.7, transport.error().describe());
    auto ours = publish_with_aw_events(*transport, w, options.threads, error);
    return report(print, "publish-embedded", ours, baseline, 0, error, 150000);
  }
  auto cluster = bench_cluster::start(options, error);
  if (!cluster) return report(print, "publish-kafka", {}, {}, 0.85, error);
  (void)cluster->create_topic(bench_topic, options.partitions);
  (void)cluster->create_topic("bench-raw", options.partitions);
  std::vector<events::record> records;
  records.reserve(w.data.size());
  for (std::size_t i = 0; i < w.data.size(); ++i) records.push_back(standard_record(w, i, "bench-raw"));
  // Best of two rounds each, interleaved, so a noisy moment does not decide the ratio.
  measurement best_raw, best_ours;
  for (int round = 0; round < 2 && error.empty(); ++round) {
    stopwatch started;
    const auto delivered = raw_produce(cluster->bootstrap(), records, error);
    auto raw = finish(started, "publish", "raw-librdkafka", delivered, value_bytes(records));
    if (raw.events_per_second() > best_raw.events_per_second()) best_raw = raw;
    auto transport = cluster->transport(error);
    if (!transport) break;
    auto ours = publish_with_aw_events(transport, w, 1, error);
    if (ours.events_per_second() > best_ours.events_per_second()) best_ours = ours;
  }
  return report(print, "publish-kafka", best_ours, best_raw, 0.85, error);
}

}  // namespace aw::bench
