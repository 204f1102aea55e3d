#include "transport/kafka/mock_registry.hpp"

#include <algorithm>
#include <mutex>
#include <string_view>
#include <vector>

namespace aw::events::kafka_detail {
namespace {

struct entry {
  std::vector<std::string> addresses;
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int default_partitions = 0;
  int replication_factor = 1;
};

std::vector<std::string> split_addresses(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    // "PLAINTEXT://host:port" and "host:port" name the same listener.
    if (const auto scheme = item.find("://"); scheme != std::string_view::npos) item.remove_prefix(scheme + 3);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

// The mutex is held while a mock is used, so unregister (before destroy) waits for users to finish.
std::mutex registry_mutex;
std::vector<entry>& registry() {
  static std::vector<entry> entries;
  return entries;
}

const entry* find_locked(const std::string& bootstrap_servers) {
  const auto wanted = split_addresses(bootstrap_servers);
  for (const auto& e : registry()) {
    for (const auto& address : wanted) {
      if (std::find(e.addresses.begin(), e.addresses.end(), address) != e.addresses.end()) return &e;
    }
  }
  return nullptr;
}

}  // namespace

void register_mock_cluster(const std::string& bootstraps, rd_kafka_mock_cluster_t* cluster, int default_partitions,
                           int broker_count) {
  std::lock_guard lock(registry_mutex);
  // As the mock's own auto-creation does: min(3, brokers) replicas (placement only; the mock never copies).
  registry().push_back(entry{split_addresses(bootstraps), cluster, default_partitions, std::min(3, broker_count)});
}

void unregister_mock_cluster(rd_kafka_mock_cluster_t* cluster) {
  std::lock_guard lock(registry_mutex);
  auto& entries = registry();
  entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const entry& e) { return e.cluster == cluster; }),
                entries.end());
}

bool is_in_process_mock(const std::string& bootstrap_servers) {
  std::lock_guard lock(registry_mutex);
  return find_locked(bootstrap_servers) != nullptr;
}

std::optional<rd_kafka_resp_err_t> create_topic_on_mock(const std::string& bootstrap_servers, const std::string& topic,
                                                        int partitions) {
  std::lock_guard lock(registry_mutex);
  const entry* e = find_locked(bootstrap_servers);
  if (e == nullptr) return std::nullopt;
  return rd_kafka_mock_topic_create(e->cluster, topic.c_str(), partitions > 0 ? partitions : e->default_partitions,
                                    e->replication_factor);
}

}  // namespace aw::events::kafka_detail
