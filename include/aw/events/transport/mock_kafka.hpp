// librdkafka's in-process mock cluster: the real Kafka protocol on loopback, with fault injection.
// Keeps only ~5 MB per partition and has no replication: never prove durability with it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aw/events/result.hpp"

namespace aw::events {

struct mock_kafka_options {
  int brokers = 3;
  std::int32_t default_partitions = 6;
};

class mock_kafka_cluster {
 public:
  static result<std::unique_ptr<mock_kafka_cluster>> start(mock_kafka_options options = {});
  ~mock_kafka_cluster();
  mock_kafka_cluster(const mock_kafka_cluster&) = delete;
  mock_kafka_cluster& operator=(const mock_kafka_cluster&) = delete;

  [[nodiscard]] std::string bootstrap_servers() const;
  [[nodiscard]] int broker_count() const noexcept;

  // broker_id -1 means every broker.
  [[nodiscard]] result<void> broker_down(int broker_id);
  [[nodiscard]] result<void> broker_up(int broker_id);
  [[nodiscard]] result<void> broker_rtt(int broker_id, int rtt_ms);
  // api: "Produce", "Fetch", ... or its number; error: a librdkafka error name such as NOT_LEADER_FOR_PARTITION.
  [[nodiscard]] result<void> push_request_errors(std::string_view api, int count, std::string_view error_name);
  [[nodiscard]] result<void> set_partition_leader(const std::string& topic, std::int32_t partition, int broker_id);
  [[nodiscard]] result<void> create_topic(const std::string& topic, std::int32_t partitions);

  // One control line of `aw-events mock-kafka` (DESIGN.md §5): down|up ID|all, rtt ID|all MS,
  // error API COUNT ERRNAME, leader TOPIC PARTITION ID. Returns the reply without newline: "ok" or "error: …".
  [[nodiscard]] std::string apply_control_line(std::string_view line);

 private:
  struct impl;
  explicit mock_kafka_cluster(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

}  // namespace aw::events
