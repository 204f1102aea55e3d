// Raw librdkafka producer and consumer: the baselines the Kafka benchmarks are measured against.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "aw/events/transport.hpp"
#include "measure.hpp"

namespace aw::bench {

// Produces every record with the producer settings aw-events uses (idempotence, acks=all, murmur2_random,
// linger 5 ms) and waits for all delivery reports. Returns the number delivered.
std::size_t raw_produce(const std::string& bootstrap, const std::vector<events::record>& records, std::string& error);

// Consumes `count` records of topic in a fresh group, one rd_kafka_consumer_poll at a time, offsets stored
// on poll and auto-committed. Timed from the first record to the last (group joins are not counted).
measurement raw_consume(const std::string& bootstrap, const std::string& topic, std::size_t count,
                        double timeout_seconds, std::string& error);

}  // namespace aw::bench
