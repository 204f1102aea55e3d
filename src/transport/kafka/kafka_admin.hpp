// Topic provisioning from the catalog (`aw-events topics plan|apply`, docs/kafka.md): what the catalog
// wants, what the cluster has, and the difference as actions. Planning is a pure function so it can be
// checked without a broker; reading and applying use librdkafka's Admin API. Internal.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "aw/events/catalog.hpp"
#include "aw/events/publisher.hpp"
#include "aw/events/result.hpp"

namespace aw::events::kafka_admin {

inline constexpr int default_replication_factor = 3;
inline constexpr int default_min_insync_replicas = 2;
inline constexpr int default_retention_days = 7;
inline constexpr int deadletter_retention_days = 30;

struct desired_options {
  topic_strategy strategy = topic_strategy::per_service;
  int default_partitions = 6;
  int deadletter_partitions = 3;
  int replication_factor = default_replication_factor;
  int min_insync_replicas = default_min_insync_replicas;
};

// One topic as the catalog wants it.
struct topic_spec {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;
  std::map<std::string, std::string> configs;  // retention.ms, min.insync.replicas
  std::vector<std::string> sources;             // the types (or "deadletter of <service>") behind it
  std::vector<std::string> notes;               // e.g. overrides of several types merged
};

// The catalog's topics: one per topic of every type under `options.strategy` (partitions and retention
// from the types' overrides; when types sharing a topic disagree the larger value wins, so no type gets
// less than it asked for), and `<service>.deadletter` for every producer and consumer named (30 days).
// Sorted by name. invalid_argument when a type maps to no topic or an override is not positive.
[[nodiscard]] result<std::vector<topic_spec>> desired_topics(const event_catalog& catalog, const desired_options& options);

// One existing topic as the cluster reports it.
struct topic_state {
  int partitions = 0;
  int replication_factor = 0;                      // of partition 0 (Kafka keeps it uniform when created by us)
  std::map<std::string, std::string> effective;    // every config value in force
  std::map<std::string, std::string> dynamic;      // those set on the topic itself (DYNAMIC_TOPIC_CONFIG)
  bool configs_known = false;                      // false when DescribeConfigs failed (e.g. on the mock)
  std::string configs_error;
};

struct cluster_state {
  int brokers = 0;
  std::map<std::string, topic_state> topics;  // only the topics asked about that exist
};

enum class action_kind { create, alter_config, add_partitions };
[[nodiscard]] std::string_view to_string(action_kind kind) noexcept;

struct action {
  action_kind kind = action_kind::create;
  std::string topic;
  int partitions = 0;                           // create: count; add_partitions: new total
  int current_partitions = 0;                   // add_partitions
  int replication_factor = 0;                   // create
  std::map<std::string, std::string> configs;   // create: topic configs; alter_config: the full set sent
  std::map<std::string, std::pair<std::string, std::string>> changes;  // alter_config: key -> (current, wanted)
};

// A finding that is not an action: printed by plan and apply, counted in the summary.
struct notice {
  std::string level;  // "warning" or "error"
  std::string topic;  // "" for the cluster
  std::string code;   // e.g. "adding_partitions_moves_keys", "replication_factor_above_brokers"
  std::string message;
};

struct plan {
  std::vector<action> actions;
  std::vector<notice> notices;
  int unchanged = 0;
  [[nodiscard]] bool has_errors() const noexcept;
};

// The difference between `wanted` and `cluster`: create missing topics, raise partition counts (never
// lower them: that is impossible without losing data, so it is reported as a warning), and alter configs
// whose effective value differs (AlterConfigs replaces a topic's dynamic configs as a whole in librdkafka
// 2.0.2 — there is no incremental variant — so the set sent keeps every other dynamic config as it is).
// A replication factor above the broker count is an error (nothing is applied); fewer than 3 brokers a
// warning. A replication factor that differs on an existing topic is a warning (reassignment is an
// operator's job, not ours).
[[nodiscard]] plan compute_plan(const std::vector<topic_spec>& wanted, const cluster_state& cluster);

// Reads broker count, partitions and configs of `topics` from the cluster. `properties` are librdkafka
// properties (bootstrap.servers, -X …). unavailable/timeout when the cluster cannot be reached.
[[nodiscard]] result<cluster_state> describe_cluster(const std::map<std::string, std::string>& properties,
                                                     const std::vector<std::string>& topics,
                                                     std::chrono::milliseconds timeout);

struct action_result {
  const action* what = nullptr;
  bool ok = false;
  std::string error;  // librdkafka's code name and message
};

// Performs the actions in order (creates, then partition increases, then config changes), one admin
// request per kind. Every action gets a result; the call fails only when no client can be created.
[[nodiscard]] result<std::vector<action_result>> apply_plan(const std::map<std::string, std::string>& properties,
                                                            const plan& p, std::chrono::milliseconds timeout);

}  // namespace aw::events::kafka_admin
