// The producer's durable spool (DESIGN.md §4): records that could not be delivered wait here, in one SQLite
// table of the --store file, and are re-sent oldest first once the broker is back. A record is durable when
// append() returns (WAL: it survives a kill -9 of the process). Several processes may share the file; each
// spooled record names the service that spooled it. Internal; the publisher and `aw-events spool` use it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/metrics.hpp"
#include "aw/events/result.hpp"
#include "aw/events/transport.hpp"

namespace aw::events::store {

class connection;
class statement;

struct spooled_record {
  std::int64_t sequence = 0;     // spool order: re-sent in this order
  record rec;                    // topic, key, value, headers as they were to be produced
  std::string event_id;
  std::string service;
  std::int64_t spooled_at_ms = 0;
  std::string last_error;        // why it was spooled
};

struct spool_stats {
  std::int64_t depth = 0;
  std::int64_t oldest_spooled_at_ms = 0;  // 0 when empty
  [[nodiscard]] double oldest_age_seconds(std::int64_t now_ms) const noexcept {
    return depth == 0 ? 0.0 : static_cast<double>(now_ms - oldest_spooled_at_ms) / 1000.0;
  }
};

class spool {
 public:
  // Opens (creating when missing) the spool table in the SQLite file at path.
  [[nodiscard]] static result<std::unique_ptr<spool>> open(const std::string& path,
                                                           std::chrono::milliseconds busy_timeout = std::chrono::seconds(10));
  ~spool();
  spool(const spool&) = delete;
  spool& operator=(const spool&) = delete;

  // Stores the records in one transaction, in the given order; durable on return. Thread-safe.
  [[nodiscard]] result<std::vector<std::int64_t>> append(const std::vector<const record*>& records,
                                                         const std::vector<std::string_view>& event_ids,
                                                         std::string_view service, std::string_view last_error);
  [[nodiscard]] result<std::int64_t> append(const record& rec, std::string_view event_id, std::string_view service,
                                            std::string_view last_error);
  // The oldest records (of one service, or of all when service is empty), at most max.
  [[nodiscard]] result<std::vector<spooled_record>> oldest(std::size_t max, std::string_view service = {});
  // Removes records once delivered (one transaction).
  [[nodiscard]] result<void> remove(const std::vector<std::int64_t>& sequences);
  // Whether a record with this topic and key waits: a new event for the key must queue behind it.
  [[nodiscard]] result<bool> holds_key(std::string_view topic, std::string_view key, std::string_view service = {});
  [[nodiscard]] result<spool_stats> stats(std::string_view service = {});
  // Stats of every service that has spooled records.
  [[nodiscard]] result<std::map<std::string, spool_stats>> stats_by_service();

 private:
  explicit spool(std::unique_ptr<connection> db);
  std::mutex mutex_;
  std::unique_ptr<connection> db_;
};

// Collectors for aw_events_spool_depth{service} and aw_events_spool_oldest_age_seconds{service}, read from the
// spool at scrape time. Returns the collector handles (for metrics::registry::remove_collector).
[[nodiscard]] result<std::vector<std::uint64_t>> export_spool_metrics(std::shared_ptr<spool> spool,
                                                                      metrics::registry& registry);

// Headers as one blob: per header a 4-byte little-endian name length, the name, a 4-byte value length, the
// value. Exact for any bytes.
[[nodiscard]] std::string encode_headers(const std::vector<header>& headers);
[[nodiscard]] result<std::vector<header>> decode_headers(std::string_view blob);

}  // namespace aw::events::store
