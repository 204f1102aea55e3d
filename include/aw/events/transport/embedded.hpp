// The embedded durable log: one SQLite file in WAL mode, shared by several processes on one machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "aw/events/transport.hpp"

namespace aw::events {

struct embedded_options {
  std::string path = "./aw-events-data/events.db";  // parent directories are created
  std::int32_t default_partitions = 6;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
  // How often a consumer checks the file for records written by other processes.
  std::chrono::milliseconds poll_interval{5};
  // Largest number of records one group-commit transaction takes.
  std::size_t max_batch = 4096;
  // Bound of the producer queue (records waiting for the writer); produce() waits up to enqueue_timeout.
  std::size_t max_queued = 100000;
  // How long a write waits for the file's write lock (held by another producer or process) before the
  // batch fails with storage_error.
  std::chrono::milliseconds busy_timeout{10000};
  [[nodiscard]] result<void> validate() const;
};

class embedded_transport : public transport {
 public:
  static result<std::shared_ptr<embedded_transport>> open(embedded_options options);
  // Deletes records older than the retention now (also done in the background).
  [[nodiscard]] virtual result<std::int64_t> enforce_retention() = 0;
  // First and next offset of a partition (next = one past the last record).
  [[nodiscard]] virtual result<std::pair<std::int64_t, std::int64_t>> offsets(const topic_partition& tp) = 0;
};

}  // namespace aw::events
