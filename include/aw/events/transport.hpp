// One interface over every log the events travel on (DESIGN.md §2): kafka, embedded (SQLite),
// memory, and Kafka's mock cluster. All of them pass tests/transport/conformance_suite.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events {

struct header {
  std::string name;
  std::string value;
  bool operator==(const header&) const = default;
};

// One record of a log. On produce, partition -1 means "by key" (murmur2; random when the key is empty);
// offset and timestamp are filled in by the transport.
struct record {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::int64_t timestamp_ms = 0;  // creation time, ms since the epoch; 0 = now
  std::string key;
  std::string value;
  std::vector<header> headers;

  // First header with this name, if any.
  [[nodiscard]] std::optional<std::string_view> header_value(std::string_view name) const;
};

struct topic_partition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

struct delivery_report {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// Called exactly once per produced record, on a transport thread: must not block.
using delivery_handler = std::function<void(result<delivery_report>)>;

struct producer_options {
  std::string client_id = "aw-events";
  // How long produce() may wait for room in a full local queue before failing with queue_full.
  std::chrono::milliseconds enqueue_timeout{50};
  // Upper bound from produce() to a final delivery report (Kafka: message.timeout.ms).
  std::chrono::milliseconds delivery_timeout{30000};
  // Extra transport properties (librdkafka names for Kafka), applied last.
  std::map<std::string, std::string> properties;
};

class producer {
 public:
  virtual ~producer() = default;
  // Queues rec for delivery. Never blocks longer than enqueue_timeout; on_delivery runs exactly once,
  // also when the record is refused at once. Thread-safe.
  virtual void produce(record rec, delivery_handler on_delivery) = 0;
  // Waits until every queued record has a delivery report, or the timeout (errc::timeout).
  [[nodiscard]] virtual result<void> flush(std::chrono::milliseconds timeout) = 0;
  // Partitions of topic (created with the transport's default partition count when missing, where the
  // transport creates topics on first use).
  [[nodiscard]] virtual result<std::int32_t> partition_count(const std::string& topic) = 0;
};

// Rebalance notifications; they run on the thread that calls consumer::poll.
struct rebalance_listener {
  std::function<void(const std::vector<topic_partition>&)> on_assigned;
  // lost = true when the partitions were taken away without a clean hand-over: nothing may be
  // committed for them. Otherwise the consumer commits stored offsets of the revoked partitions
  // right after this returns.
  std::function<void(const std::vector<topic_partition>& partitions, bool lost)> on_revoked;
};

// Where a member stands in an assigned partition: the next offset it will hand out, and the end of the log.
struct partition_position {
  topic_partition partition;
  std::int64_t position = -1;    // next offset to consume; -1 when not known yet (nothing fetched, none committed)
  std::int64_t end_offset = -1;  // offset the next record appended will get (high watermark); -1 when unknown
  // Records behind the end; -1 when either side is unknown.
  [[nodiscard]] std::int64_t lag() const noexcept {
    return position < 0 || end_offset < 0 ? -1 : (end_offset > position ? end_offset - position : 0);
  }
};

struct consumer_options {
  std::string group_id;  // required
  std::string client_id = "aw-events";
  // Where to start a partition without a committed offset: earliest (true) or the end (false).
  bool from_beginning = true;
  // Stored offsets are committed in the background every commit_interval and on close/revoke.
  std::chrono::milliseconds commit_interval{1000};
  // A member that has not been heard of for this long loses its partitions.
  std::chrono::milliseconds session_timeout{10000};
  rebalance_listener listener;
  std::map<std::string, std::string> properties;
};

class consumer {
 public:
  virtual ~consumer() = default;
  // Joins the group for these topics (replaces any earlier subscription).
  [[nodiscard]] virtual result<void> subscribe(const std::vector<std::string>& topics) = 0;
  // Next record of an assigned partition, in offset order per partition; nullopt when none arrived within
  // timeout. Also drives group membership and rebalance callbacks. Call from one thread only.
  [[nodiscard]] virtual result<std::optional<record>> poll(std::chrono::milliseconds timeout) = 0;
  // Marks rec processed: offset rec.offset + 1 becomes the partition's committable position.
  // Fails with errc::not_found when the partition is no longer assigned to this member.
  [[nodiscard]] virtual result<void> store_offset(const record& rec) = 0;
  // Commits stored offsets now (synchronously).
  [[nodiscard]] virtual result<void> commit() = 0;
  // The next poll of this partition returns the record at offset.
  [[nodiscard]] virtual result<void> seek(const topic_partition& partition, std::int64_t offset) = 0;
  // Stops / restarts fetching of these partitions; poll keeps the membership alive meanwhile.
  [[nodiscard]] virtual result<void> pause(const std::vector<topic_partition>& partitions) = 0;
  [[nodiscard]] virtual result<void> resume(const std::vector<topic_partition>& partitions) = 0;
  [[nodiscard]] virtual std::vector<topic_partition> assignment() = 0;
  // Committed offset of a partition for this group (-1 when none).
  [[nodiscard]] virtual result<std::int64_t> committed(const topic_partition& partition) = 0;
  // Commits stored offsets, leaves the group (partitions go to the other members). Idempotent.
  virtual void close() = 0;
  // Position and end of every assigned partition, for consumer-lag metrics. Cheap (no broker round trip where
  // the transport caches the end); call from the polling thread. Transports that cannot tell return
  // errc::invalid_argument.
  [[nodiscard]] virtual result<std::vector<partition_position>> positions() {
    return make_error(errc::invalid_argument, "consumer positions are not available on this transport");
  }
};

// What a transport can and cannot do; the conformance suite skips what is not supported.
struct transport_features {
  bool retention_by_age = false;   // deletes records older than the topic's retention
  bool cross_process = false;      // several processes can share one log
  bool creates_topics = true;      // topics appear on first produce
};

class transport {
 public:
  virtual ~transport() = default;
  [[nodiscard]] virtual std::string_view kind() const noexcept = 0;  // "kafka", "embedded", "memory"
  [[nodiscard]] virtual transport_features features() const noexcept = 0;
  [[nodiscard]] virtual result<std::unique_ptr<producer>> create_producer(const producer_options& options) = 0;
  [[nodiscard]] virtual result<std::unique_ptr<consumer>> create_consumer(const consumer_options& options) = 0;
  // Creates the topic if missing; an existing topic keeps its partition count.
  [[nodiscard]] virtual result<void> create_topic(const std::string& topic, std::int32_t partitions) = 0;
  // Where to look, for logs and `serve` ("127.0.0.1:9092", "/path/events.db", "memory").
  [[nodiscard]] virtual std::string describe() const = 0;
};

// Which transport and how to reach it. A non-empty bootstrap_servers selects Kafka, otherwise the embedded
// store at store_path.
struct transport_config {
  std::string bootstrap_servers;
  std::string store_path = "./aw-events-data/events.db";
  std::int32_t default_partitions = 6;        // for topics created on first use
  std::chrono::hours retention{24 * 7};       // embedded store: records older than this are deleted
  std::map<std::string, std::string> kafka_properties;  // -X key=value pass-through

  [[nodiscard]] result<void> validate() const;
};

[[nodiscard]] result<std::shared_ptr<transport>> open_transport(const transport_config& config);

}  // namespace aw::events
