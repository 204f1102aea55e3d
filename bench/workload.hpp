// The events every benchmark sends: realistic content.book.published-like data of a chosen size.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/transport.hpp"

namespace aw::bench {

inline constexpr const char* bench_type = "bench.book.published";
inline constexpr const char* bench_topic = "bench";  // per_service topic of bench_type

struct workload {
  std::vector<std::string> keys;
  std::vector<std::string> data;            // one data object per event
  std::vector<std::string> correlation_ids; // the originating request of each event
};

inline workload make_workload(std::size_t events, int keys, std::size_t data_bytes) {
  workload w;
  for (int k = 0; k < keys; ++k) w.keys.push_back("book-" + std::to_string(k));
  w.data.reserve(events);
  w.correlation_ids.reserve(events);
  for (std::size_t i = 0; i < events; ++i) {
    w.correlation_ids.push_back(events::new_uuid_v4());
    std::string d = "{\"book_id\":\"" + w.keys[i % w.keys.size()] + "\",\"seq\":" + std::to_string(i) + ",\"title\":\"";
    const std::size_t used = d.size() + 2;
    d.append(data_bytes > used ? data_bytes - used : 1, 'x');
    d += "\"}";
    w.data.push_back(std::move(d));
  }
  return w;
}

// The record aw-events would send for data i: standard envelope and headers (for the raw baselines).
inline events::record standard_record(const workload& w, std::size_t i, const std::string& topic) {
  events::envelope e;
  e.meta.id = events::new_uuid_v4();
  e.meta.type = bench_type;
  e.meta.version = "1.0";
  e.meta.timestamp = events::now_timestamp();
  e.meta.correlation_id = w.correlation_ids[i];
  e.meta.source = "bench";
  e.meta.trace = events::new_trace();
  e.data = w.data[i];
  events::record r;
  r.topic = topic;
  r.key = w.keys[i % w.keys.size()];
  r.value = events::encode(e);
  r.headers = {{"aw-event-id", e.meta.id},
               {"aw-event-type", e.meta.type},
               {"aw-event-version", e.meta.version},
               {"aw-correlation-id", e.meta.correlation_id},
               {"traceparent", events::to_traceparent(e.meta.trace)},
               {"content-type", "application/json"}};
  return r;
}

// Scratch files of the embedded benches, removed (with their WAL and shared-memory files) before a run.
struct store_paths {
  std::string baseline;  // plain SQLite
  std::string store;     // the embedded event store
};
inline store_paths fresh_store_paths(const std::string& dir) {
  std::filesystem::create_directories(dir);
  store_paths paths{dir + "/plain-sqlite.db", dir + "/events.db"};
  for (const auto& p : {paths.baseline, paths.store}) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
  }
  return paths;
}

// Bytes one event occupies in a Kafka partition, roughly: value, key and headers.
inline std::size_t approximate_record_bytes(const events::record& r) {
  std::size_t n = r.value.size() + r.key.size() + 70;  // batch and record overhead
  for (const auto& h : r.headers) n += h.name.size() + h.value.size() + 4;
  return n;
}

}  // namespace aw::bench
