#include "raw_kafka.hpp"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <memory>

#include "aw/events/ids.hpp"
#include "measure.hpp"

namespace aw::bench {
namespace {

struct kafka_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using kafka_handle = std::unique_ptr<rd_kafka_t, kafka_deleter>;

bool set(rd_kafka_conf_t* conf, const char* name, const std::string& value, std::string& error) {
  char err[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    error = std::string(name) + ": " + err;
    return false;
  }
  return true;
}

std::atomic<std::size_t> delivered{0};
std::atomic<std::size_t> failed{0};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err) ++failed;
  else ++delivered;
}

}  // namespace

std::size_t raw_produce(const std::string& bootstrap, const std::vector<events::record>& records, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const bool ok = set(conf, "bootstrap.servers", bootstrap, error) && set(conf, "enable.idempotence", "true", error) &&
                  set(conf, "acks", "all", error) && set(conf, "partitioner", "murmur2_random", error) &&
                  set(conf, "linger.ms", "5", error);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return 0;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  kafka_handle rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new owns conf only on success
    error = err;
    return 0;
  }
  delivered = 0;
  failed = 0;
  for (const auto& r : records) {
    while (true) {
      rd_kafka_headers_t* headers = rd_kafka_headers_new(r.headers.size());
      for (const auto& h : r.headers) rd_kafka_header_add(headers, h.name.data(), h.name.size(), h.value.data(), h.value.size());
      const auto code = rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(r.topic.c_str()),
                                          RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                          RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                                          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      rd_kafka_headers_destroy(headers);  // not taken over on failure
      if (code != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        error = rd_kafka_err2str(code);
        return delivered.load();
      }
      rd_kafka_poll(rk.get(), 1);
    }
    rd_kafka_poll(rk.get(), 0);
  }
  rd_kafka_flush(rk.get(), 60000);
  if (failed) error = std::to_string(failed.load()) + " deliveries failed";
  return delivered.load();
}

measurement raw_consume(const std::string& bootstrap, const std::string& topic, std::size_t count,
                        double timeout_seconds, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const bool ok = set(conf, "bootstrap.servers", bootstrap, error) &&
                  set(conf, "group.id", "bench-raw-" + events::new_uuid_v4(), error) &&
                  set(conf, "auto.offset.reset", "earliest", error) &&
                  set(conf, "partition.assignment.strategy", "cooperative-sticky", error) &&
                  set(conf, "enable.partition.eof", "false", error);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return {};
  }
  char err[512];
  kafka_handle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    error = err;
    return {};
  }
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  std::size_t consumed = 0;
  std::size_t bytes = 0;
  stopwatch first;
  measurement result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (consumed < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(rk.get(), 100);
    if (!message) continue;
    if (!message->err) {
      if (consumed++ == 0) first = stopwatch{};
      bytes += message->len;
      if (consumed == count) result = finish(first, "consume", "raw-librdkafka", consumed, bytes);
    }
    rd_kafka_message_destroy(message);
  }
  rd_kafka_consumer_close(rk.get());
  if (consumed < count) error = "timed out after " + std::to_string(consumed) + " records";
  return result;
}

}  // namespace aw::bench
