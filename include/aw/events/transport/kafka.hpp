// Apache Kafka through librdkafka (idempotent producer, acks=all, murmur2_random, cooperative-sticky groups).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "aw/events/transport.hpp"

namespace aw::events {

struct kafka_options {
  std::string bootstrap_servers;                 // required
  std::int32_t default_partitions = 6;           // for create_topic / first use on the mock cluster
  std::int16_t replication_factor = 3;           // create_topic, capped by the broker count
  std::map<std::string, std::string> properties; // librdkafka properties, applied last
  [[nodiscard]] result<void> validate() const;
};

class kafka_transport : public transport {
 public:
  static result<std::shared_ptr<kafka_transport>> open(kafka_options options);
};

}  // namespace aw::events
