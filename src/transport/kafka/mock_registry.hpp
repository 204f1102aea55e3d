// In-process directory of running mock clusters, keyed by their broker addresses.
// Why: librdkafka 2.0.2's mock has no CreateTopics API and auto-creates topics with a fixed 4 partitions,
// so a kafka_transport talking to a mock cluster in the same process creates topics through the mock's
// control API instead (honouring the partition count asked for). Internal.
#pragma once

#include <optional>
#include <string>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace aw::events::kafka_detail {

// Called by mock_kafka_cluster after start / before destroy. The cluster pointer stays valid until unregister.
void register_mock_cluster(const std::string& bootstraps, rd_kafka_mock_cluster_t* cluster, int default_partitions,
                           int broker_count);
void unregister_mock_cluster(rd_kafka_mock_cluster_t* cluster);

// True when any address of bootstrap_servers belongs to a mock cluster running in this process.
[[nodiscard]] bool is_in_process_mock(const std::string& bootstrap_servers);

// Creates topic on the in-process mock cluster reached by bootstrap_servers (partitions <= 0: the cluster's
// default_partitions). nullopt when bootstrap_servers is no in-process mock; otherwise the mock's answer
// (TOPIC_ALREADY_EXISTS when it exists).
[[nodiscard]] std::optional<rd_kafka_resp_err_t> create_topic_on_mock(const std::string& bootstrap_servers,
                                                                      const std::string& topic, int partitions);

}  // namespace aw::events::kafka_detail
