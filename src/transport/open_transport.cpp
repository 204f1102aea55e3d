#include "aw/events/transport/embedded.hpp"
#include "aw/events/transport/kafka.hpp"

namespace aw::events {

result<void> transport_config::validate() const {
  if (default_partitions < 1 || default_partitions > 10000) {
    return make_error(errc::invalid_argument, "transport_config.default_partitions must be 1..10000, got " +
                                                  std::to_string(default_partitions));
  }
  if (retention.count() <= 0) {
    return make_error(errc::invalid_argument, "transport_config.retention must be positive");
  }
  if (bootstrap_servers.empty() && store_path.empty()) {
    return make_error(errc::invalid_argument,
                      "transport_config: neither bootstrap_servers (Kafka) nor store_path (embedded) is set");
  }
  return {};
}

result<std::shared_ptr<transport>> open_transport(const transport_config& config) {
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  if (!config.bootstrap_servers.empty()) {
    kafka_options options;
    options.bootstrap_servers = config.bootstrap_servers;
    options.default_partitions = config.default_partitions;
    options.properties = config.kafka_properties;
    return kafka_transport::open(std::move(options)).map([](auto t) { return std::shared_ptr<transport>(t); });
  }
  embedded_options options;
  options.path = config.store_path;
  options.default_partitions = config.default_partitions;
  options.retention = config.retention;
  return embedded_transport::open(std::move(options)).map([](auto t) { return std::shared_ptr<transport>(t); });
}

}  // namespace aw::events
