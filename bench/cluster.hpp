// The Kafka cluster a benchmark runs on: a fresh in-process mock cluster, or a real one by bootstrap servers.
#pragma once

#include <memory>
#include <string>

#include "aw/events/transport/kafka.hpp"
#include "aw/events/transport/mock_kafka.hpp"
#include "bench.hpp"

namespace aw::bench {

class bench_cluster {
 public:
  static std::unique_ptr<bench_cluster> start(const bench_options& options, std::string& error) {
    auto cluster = std::unique_ptr<bench_cluster>(new bench_cluster);
    cluster->partitions_ = options.partitions;
    if (options.transport == "kafka") {
      if (options.bootstrap_servers.empty()) {
        error = "bench on kafka needs --bootstrap-servers";
        return nullptr;
      }
      cluster->bootstrap_ = options.bootstrap_servers;
      return cluster;
    }
    auto mock = events::mock_kafka_cluster::start({.brokers = 3, .default_partitions = options.partitions});
    if (!mock) {
      error = mock.error().describe();
      return nullptr;
    }
    cluster->mock_ = std::move(*mock);
    cluster->bootstrap_ = cluster->mock_->bootstrap_servers();
    return cluster;
  }

  [[nodiscard]] const std::string& bootstrap() const { return bootstrap_; }

  events::result<void> create_topic(const std::string& topic, int partitions) {
    if (mock_) return mock_->create_topic(topic, partitions);
    auto t = events::kafka_transport::open({.bootstrap_servers = bootstrap_});
    if (!t) return events::make_error(t.error());
    return (*t)->create_topic(topic, partitions);
  }

  std::shared_ptr<events::transport> transport(std::string& error) {
    auto t = events::kafka_transport::open(
        {.bootstrap_servers = bootstrap_, .default_partitions = partitions_, .properties = {{"fetch.wait.max.ms", "10"}}});
    if (!t) {
      error = t.error().describe();
      return nullptr;
    }
    return *t;
  }

 private:
  bench_cluster() = default;
  std::unique_ptr<events::mock_kafka_cluster> mock_;
  std::string bootstrap_;
  int partitions_ = 12;
};

}  // namespace aw::bench
