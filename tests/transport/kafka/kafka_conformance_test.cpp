// The transport conformance suite on Kafka: each test gets a fresh 3-broker mock cluster on loopback,
// kept alive exactly as long as the transport made for it.
#include <gtest/gtest.h>

#include "aw/events/transport/kafka.hpp"
#include "aw/events/transport/mock_kafka.hpp"
#include "transport/conformance/conformance_suite.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<transport> make_mock_kafka_transport() {
  auto started = mock_kafka_cluster::start({3, 4});
  if (!started) throw std::runtime_error("mock cluster: " + started.error().describe());
  std::shared_ptr<mock_kafka_cluster> cluster(std::move(*started));
  kafka_options options;
  options.bootstrap_servers = cluster->bootstrap_servers();
  // The mock answers an empty fetch only after fetch.wait.max.ms (PITFALLS): keep the suite quick.
  options.properties["fetch.wait.max.ms"] = "10";
  auto opened = kafka_transport::open(options);
  if (!opened) throw std::runtime_error("kafka transport: " + opened.error().describe());
  std::shared_ptr<kafka_transport> inner = *opened;
  // The deleter drops the transport first, then the cluster it talks to.
  return std::shared_ptr<transport>(inner.get(), [inner, cluster](transport*) mutable {
    inner.reset();
    cluster.reset();
  });
}

INSTANTIATE_TEST_SUITE_P(kafka, transport_conformance,
                         ::testing::Values(testing::transport_fixture{
                             .name = "mock_kafka",
                             .make = make_mock_kafka_transport,
                             .session_timeout = 3000ms,
                             .retention = std::chrono::hours(1),
                             .enforce_retention = {},  // brokers delete whole segments on their own schedule
                         }),
                         testing::fixture_name);

}  // namespace
}  // namespace aw::events
