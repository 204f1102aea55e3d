#include "aw/events/transport/mock_kafka.hpp"

#include <array>
#include <charconv>
#include <cctype>
#include <vector>

#include "core/log.hpp"
#include "transport/kafka/kafka_errors.hpp"
#include "transport/kafka/mock_registry.hpp"
#include "transport/kafka/rdkafka_conf.hpp"

namespace aw::events {

using namespace kafka_detail;

namespace {

// Kafka protocol API keys the mock understands, by their protocol names (rdkafka_mock.h uses the numbers).
struct api_name {
  std::string_view name;
  std::int16_t key;
};
constexpr std::array<api_name, 16> api_names{{
    {"Produce", 0},        {"Fetch", 1},          {"ListOffsets", 2},         {"Metadata", 3},
    {"OffsetCommit", 8},   {"OffsetFetch", 9},    {"FindCoordinator", 10},    {"JoinGroup", 11},
    {"Heartbeat", 12},     {"LeaveGroup", 13},    {"SyncGroup", 14},          {"InitProducerId", 22},
    {"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},      {"TxnOffsetCommit", 28},
}};

// Guards against a typo like `error Produce 100000000 ...` allocating a huge error stack in the mock.
constexpr long max_request_errors = 100000;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

template <class Int>
std::optional<Int> parse_int(std::string_view text) {
  Int value{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace

struct mock_kafka_cluster::impl {
  mock_kafka_options options;
  handle_ptr handle;          // owns the mock's threads' parent instance: destroyed after the cluster
  mock_cluster_ptr cluster;
  std::string bootstraps;

  ~impl() {
    if (cluster) unregister_mock_cluster(cluster.get());
    cluster.reset();
    handle.reset();
  }

  result<void> check_broker(int broker_id, bool allow_all) const {
    if ((allow_all && broker_id == -1) || (broker_id >= 1 && broker_id <= options.brokers)) return {};
    return make_error(errc::invalid_argument, "unknown broker id " + std::to_string(broker_id) + " (brokers are 1.." +
                                                  std::to_string(options.brokers) + (allow_all ? ", or all)" : ")"));
  }

  // Parses "all" or a broker number.
  result<int> parse_broker(std::string_view word, bool allow_all) const {
    if (allow_all && iequals(word, "all")) return -1;
    auto id = parse_int<int>(word);
    if (!id) {
      return make_error(errc::invalid_argument,
                        "bad broker id '" + std::string(word) + "': expected a number" + (allow_all ? " or all" : ""));
    }
    // -1 means "all" to the API, but a control line says all in words.
    if (auto ok = check_broker(*id, false); !ok) return make_error(ok.error());
    return *id;
  }
};

mock_kafka_cluster::mock_kafka_cluster(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
mock_kafka_cluster::~mock_kafka_cluster() = default;

result<std::unique_ptr<mock_kafka_cluster>> mock_kafka_cluster::start(mock_kafka_options options) {
  if (options.brokers < 1 || options.brokers > 64) {
    return make_error(errc::invalid_argument,
                      "mock_kafka_options.brokers must be 1..64, got " + std::to_string(options.brokers));
  }
  if (options.default_partitions < 1 || options.default_partitions > 10000) {
    return make_error(errc::invalid_argument, "mock_kafka_options.default_partitions must be 1..10000, got " +
                                                  std::to_string(options.default_partitions));
  }
  auto state = std::make_unique<impl>();
  state->options = options;

  // A dedicated handle only hosts the cluster; it never connects anywhere itself.
  conf_ptr conf = new_conf();
  if (auto ok = set_property(conf.get(), "client.id", "aw-events-mock-kafka"); !ok) return make_error(ok.error());
  // Warnings only: the host instance would otherwise announce that it has no bootstrap.servers, by design.
  if (auto ok = set_property(conf.get(), "log_level", "4"); !ok) return make_error(ok.error());
  auto handle = new_handle(RD_KAFKA_PRODUCER, std::move(conf), "the mock cluster's host instance");
  if (!handle) return make_error(handle.error());
  state->handle = std::move(*handle);

  state->cluster.reset(rd_kafka_mock_cluster_new(state->handle.get(), options.brokers));
  if (!state->cluster) {
    return make_error(errc::unavailable, "rd_kafka_mock_cluster_new failed (cannot listen on loopback?)");
  }
  state->bootstraps = rd_kafka_mock_cluster_bootstraps(state->cluster.get());
  register_mock_cluster(state->bootstraps, state->cluster.get(), options.default_partitions, options.brokers);
  log::info("mock kafka cluster started", {{"bootstrap.servers", state->bootstraps}});
  return std::unique_ptr<mock_kafka_cluster>(new mock_kafka_cluster(std::move(state)));
}

std::string mock_kafka_cluster::bootstrap_servers() const { return impl_->bootstraps; }

int mock_kafka_cluster::broker_count() const noexcept { return impl_->options.brokers; }

result<void> mock_kafka_cluster::broker_down(int broker_id) {
  if (auto ok = impl_->check_broker(broker_id, true); !ok) return ok;
  if (auto err = rd_kafka_mock_broker_set_down(impl_->cluster.get(), broker_id)) {
    return make_error(map_kafka_error(err, "mock broker " + std::to_string(broker_id) + " down"));
  }
  return {};
}

result<void> mock_kafka_cluster::broker_up(int broker_id) {
  if (auto ok = impl_->check_broker(broker_id, true); !ok) return ok;
  if (auto err = rd_kafka_mock_broker_set_up(impl_->cluster.get(), broker_id)) {
    return make_error(map_kafka_error(err, "mock broker " + std::to_string(broker_id) + " up"));
  }
  return {};
}

result<void> mock_kafka_cluster::broker_rtt(int broker_id, int rtt_ms) {
  if (auto ok = impl_->check_broker(broker_id, true); !ok) return ok;
  if (rtt_ms < 0) {
    return make_error(errc::invalid_argument, "rtt must be >= 0 ms, got " + std::to_string(rtt_ms));
  }
  if (auto err = rd_kafka_mock_broker_set_rtt(impl_->cluster.get(), broker_id, rtt_ms)) {
    return make_error(map_kafka_error(err, "mock broker " + std::to_string(broker_id) + " rtt"));
  }
  return {};
}

result<void> mock_kafka_cluster::push_request_errors(std::string_view api, int count, std::string_view error_name) {
  std::optional<std::int16_t> key;
  for (const auto& entry : api_names) {
    if (iequals(entry.name, api)) key = entry.key;
  }
  if (!key) key = parse_int<std::int16_t>(api);
  if (!key || *key < 0) {
    std::string known;
    for (const auto& entry : api_names) known += (known.empty() ? "" : ", ") + std::string(entry.name);
    return make_error(errc::invalid_argument,
                      "unknown API '" + std::string(api) + "': expected an API key number or one of " + known);
  }
  if (count < 1 || count > max_request_errors) {
    return make_error(errc::invalid_argument, "error count must be 1.." + std::to_string(max_request_errors) +
                                                  ", got " + std::to_string(count));
  }
  auto code = kafka_error_from_name(error_name);
  if (!code) {
    return make_error(errc::invalid_argument, "unknown librdkafka error name '" + std::string(error_name) +
                                                  "' (e.g. NOT_LEADER_FOR_PARTITION, _TRANSPORT)");
  }
  const std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(count), *code);
  rd_kafka_mock_push_request_errors_array(impl_->cluster.get(), *key, errors.size(), errors.data());
  return {};
}

result<void> mock_kafka_cluster::set_partition_leader(const std::string& topic, std::int32_t partition,
                                                      int broker_id) {
  if (auto ok = impl_->check_broker(broker_id, false); !ok) return ok;
  if (topic.empty()) return make_error(errc::invalid_argument, "leader: topic name is empty");
  if (partition < 0) {
    return make_error(errc::invalid_argument, "leader: partition must be >= 0, got " + std::to_string(partition));
  }
  // The mock would auto-create a missing topic with partition + 1 partitions; create it the way first use
  // does (default_partitions) so the partition count does not depend on which partition was named.
  if (auto ok = create_topic(topic, impl_->options.default_partitions); !ok) return ok;
  const auto err = rd_kafka_mock_partition_set_leader(impl_->cluster.get(), topic.c_str(), partition, broker_id);
  if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    return make_error(errc::not_found, "leader: no partition " + std::to_string(partition) + " of topic '" + topic +
                                           "' on the mock cluster");
  }
  if (err) return make_error(map_kafka_error(err, "leader of " + topic + "/" + std::to_string(partition)));
  return {};
}

result<void> mock_kafka_cluster::create_topic(const std::string& topic, std::int32_t partitions) {
  if (topic.empty()) return make_error(errc::invalid_argument, "create_topic: topic name is empty");
  if (partitions < 1 || partitions > 10000) {
    return make_error(errc::invalid_argument,
                      "create_topic: partitions must be 1..10000, got " + std::to_string(partitions));
  }
  const auto err = rd_kafka_mock_topic_create(impl_->cluster.get(), topic.c_str(), partitions,
                                              std::min(3, impl_->options.brokers));
  // An existing topic keeps its partition count, as with every transport's create_topic.
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return make_error(map_kafka_error(err, "create topic '" + topic + "' on the mock cluster"));
  }
  return {};
}

std::string mock_kafka_cluster::apply_control_line(std::string_view line) {
  const auto words = split_words(line);
  auto reply = [](const result<void>& r) { return r ? std::string("ok") : "error: " + r.error().message; };
  auto arity = [&](std::size_t expected, std::string_view usage) -> result<void> {
    if (words.size() == expected) return {};
    return make_error(errc::invalid_argument, "'" + std::string(words[0]) + "' takes " +
                                                  std::to_string(expected - 1) + " argument(s): " + std::string(usage));
  };
  if (words.empty()) return "error: empty control line";
  const std::string_view command = words[0];

  if (command == "down" || command == "up") {
    if (auto ok = arity(2, std::string(command) + " ID|all"); !ok) return reply(ok);
    auto id = impl_->parse_broker(words[1], true);
    if (!id) return reply(make_error(id.error()));
    return reply(command == "down" ? broker_down(*id) : broker_up(*id));
  }
  if (command == "rtt") {
    if (auto ok = arity(3, "rtt ID|all MS"); !ok) return reply(ok);
    auto id = impl_->parse_broker(words[1], true);
    if (!id) return reply(make_error(id.error()));
    auto ms = parse_int<int>(words[2]);
    if (!ms || *ms < 0) {
      return reply(make_error(errc::invalid_argument, "bad rtt '" + std::string(words[2]) + "': expected milliseconds >= 0"));
    }
    return reply(broker_rtt(*id, *ms));
  }
  if (command == "error") {
    if (auto ok = arity(4, "error API COUNT ERRNAME"); !ok) return reply(ok);
    auto count = parse_int<int>(words[2]);
    if (!count) {
      return reply(make_error(errc::invalid_argument, "bad count '" + std::string(words[2]) + "': expected a number"));
    }
    return reply(push_request_errors(words[1], *count, words[3]));
  }
  if (command == "leader") {
    if (auto ok = arity(4, "leader TOPIC PARTITION ID"); !ok) return reply(ok);
    auto partition = parse_int<std::int32_t>(words[2]);
    if (!partition) {
      return reply(
          make_error(errc::invalid_argument, "bad partition '" + std::string(words[2]) + "': expected a number"));
    }
    auto id = impl_->parse_broker(words[3], false);
    if (!id) return reply(make_error(id.error()));
    return reply(set_partition_leader(std::string(words[1]), *partition, *id));
  }
  if (command == "topic") {
    // Our extension: librdkafka 2.0.2's mock auto-creates every topic with 4 partitions and has no setting for
    // it, so a test in another process names its topics up front (docs/decisions/0003-mock-kafka-topics.md).
    if (auto ok = arity(3, "topic TOPIC PARTITIONS"); !ok) return reply(ok);
    auto partitions = parse_int<std::int32_t>(words[2]);
    if (!partitions || *partitions < 1 || *partitions > 10000) {
      return reply(make_error(errc::invalid_argument, "bad partitions '" + std::string(words[2]) + "': expected 1..10000"));
    }
    const std::string topic(words[1]);
    const auto err = rd_kafka_mock_topic_create(impl_->cluster.get(), topic.c_str(), *partitions,
                                                std::min(3, impl_->options.brokers));
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return reply(make_error(errc::invalid_argument, "topic '" + topic + "' already exists"));
    }
    if (err) return reply(make_error(map_kafka_error(err, "create topic '" + topic + "' on the mock cluster")));
    return "ok";
  }
  return "error: unknown command '" + std::string(command) + "' (expected down, up, rtt, error, leader or topic)";
}

}  // namespace aw::events
