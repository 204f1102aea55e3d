#include "transport/kafka/kafka_admin.hpp"

#include <algorithm>
#include <set>

#include "transport/kafka/kafka_errors.hpp"
#include "transport/kafka/rdkafka_conf.hpp"
#include "transport/kafka/rdkafka_handles.hpp"

namespace aw::events::kafka_admin {
namespace {

using namespace kafka_detail;

std::string retention_ms(int days) { return std::to_string(static_cast<long long>(days) * 24 * 3600 * 1000); }

std::string describe_err(rd_kafka_resp_err_t code, const char* message) {
  std::string out = rd_kafka_err2name(code);
  if (message != nullptr && *message != '\0') out += std::string(": ") + message;
  else out += std::string(": ") + rd_kafka_err2str(code);
  return out;
}

struct config_resource_deleter {
  void operator()(rd_kafka_ConfigResource_t* p) const noexcept { rd_kafka_ConfigResource_destroy(p); }
};
struct new_partitions_deleter {
  void operator()(rd_kafka_NewPartitions_t* p) const noexcept { rd_kafka_NewPartitions_destroy(p); }
};
using config_resource_ptr = std::unique_ptr<rd_kafka_ConfigResource_t, config_resource_deleter>;
using new_partitions_ptr = std::unique_ptr<rd_kafka_NewPartitions_t, new_partitions_deleter>;

result<handle_ptr> admin_client(const std::map<std::string, std::string>& properties) {
  auto conf = new_conf();
  if (auto set = set_properties(conf.get(), properties); !set) return make_error(set.error());
  return new_handle(RD_KAFKA_PRODUCER, std::move(conf), "admin client");
}

result<admin_options_ptr> admin_options(rd_kafka_t* rk, rd_kafka_admin_op_t op, std::chrono::milliseconds timeout) {
  admin_options_ptr options(rd_kafka_AdminOptions_new(rk, op));
  char errstr[256];
  const int ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), ms, errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(errc::invalid_argument, std::string("admin request timeout: ") + errstr);
  }
  // The broker waits this long for the change to reach every replica before answering (only the topic
  // and partition creating requests have this setting).
  if ((op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) &&
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), ms, errstr, sizeof errstr) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(errc::invalid_argument, std::string("admin operation timeout: ") + errstr);
  }
  return options;
}

// Waits for the result event of one admin request; the request's own timeout bounds it, the margin
// covers librdkafka's scheduling.
result<event_ptr> wait_result(rd_kafka_queue_t* queue, rd_kafka_event_type_t type, std::chrono::milliseconds timeout,
                              const std::string& what) {
  event_ptr ev(rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 5000));
  if (!ev) return make_error(errc::timeout, what + ": no answer within " + std::to_string(timeout.count()) + " ms");
  if (rd_kafka_event_type(ev.get()) != type) {
    return make_error(errc::internal, what + ": unexpected admin event " + rd_kafka_event_name(ev.get()));
  }
  if (const auto err = rd_kafka_event_error(ev.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(map_kafka_error(err, what + " (" + describe_err(err, rd_kafka_event_error_string(ev.get())) + ")"));
  }
  return ev;
}

void merge_sources(topic_spec& spec, const std::string& source) {
  if (std::find(spec.sources.begin(), spec.sources.end(), source) == spec.sources.end()) spec.sources.push_back(source);
}

}  // namespace

std::string_view to_string(action_kind kind) noexcept {
  switch (kind) {
    case action_kind::create: return "create";
    case action_kind::alter_config: return "alter_config";
    case action_kind::add_partitions: return "add_partitions";
  }
  return "unknown";
}

bool plan::has_errors() const noexcept {
  return std::any_of(notices.begin(), notices.end(), [](const notice& n) { return n.level == "error"; });
}

result<std::vector<topic_spec>> desired_topics(const event_catalog& catalog, const desired_options& options) {
  if (options.replication_factor < 1) return make_error(errc::invalid_argument, "replication factor must be at least 1");
  if (options.default_partitions < 1) return make_error(errc::invalid_argument, "default partitions must be at least 1");
  // min.insync.replicas above the replication factor would refuse every acks=all write.
  const int min_isr = std::min(options.min_insync_replicas, options.replication_factor);
  std::map<std::string, topic_spec> topics;
  std::map<std::string, int> retention_days;  // per topic, the largest asked for
  std::map<std::string, std::set<int>> partition_asks, retention_asks;
  std::set<std::string> services;
  for (const auto* entry : catalog.entries()) {
    const auto name = topic_for(entry->type, options.strategy);
    if (name.empty()) {
      return make_error(errc::invalid_argument, "type \"" + entry->type + "\" (" + entry->file.string() +
                                                    ") maps to no topic: not service.resource.action");
    }
    auto& spec = topics[name];
    spec.name = name;
    spec.replication_factor = options.replication_factor;
    merge_sources(spec, entry->type + ".v" + std::to_string(entry->major));
    int partitions = options.default_partitions;
    int days = default_retention_days;
    if (entry->topic) {
      if (entry->topic->partitions) {
        if (*entry->topic->partitions < 1) {
          return make_error(errc::invalid_argument, entry->file.string() + ": /topic/partitions must be positive");
        }
        partitions = *entry->topic->partitions;
      }
      if (entry->topic->retention_days) {
        if (*entry->topic->retention_days < 1) {
          return make_error(errc::invalid_argument, entry->file.string() + ": /topic/retention_days must be positive");
        }
        days = *entry->topic->retention_days;
      }
    }
    partition_asks[name].insert(partitions);
    retention_asks[name].insert(days);
    spec.partitions = std::max(spec.partitions, partitions);
    retention_days[name] = std::max(retention_days[name], days);
    if (!entry->producer.empty()) services.insert(entry->producer);
    for (const auto& c : entry->consumers) services.insert(c);
  }
  for (auto& [name, spec] : topics) {
    spec.configs["retention.ms"] = retention_ms(retention_days[name]);
    spec.configs["min.insync.replicas"] = std::to_string(min_isr);
    if (partition_asks[name].size() > 1) {
      spec.notes.push_back("types on this topic ask for different partition counts; the largest (" +
                           std::to_string(spec.partitions) + ") is used");
    }
    if (retention_asks[name].size() > 1) {
      spec.notes.push_back("types on this topic ask for different retention; the longest (" +
                           std::to_string(retention_days[name]) + " days) is used");
    }
  }
  for (const auto& service : services) {
    const auto name = deadletter_topic(service);
    auto& spec = topics[name];
    if (!spec.name.empty() && spec.configs.count("retention.ms") != 0 && spec.sources.front().rfind("deadletter", 0) != 0) {
      return make_error(errc::invalid_argument, "topic \"" + name + "\" is both an event topic (" + spec.sources.front() +
                                                    ") and the dead-letter topic of " + service);
    }
    spec.name = name;
    spec.partitions = options.deadletter_partitions;
    spec.replication_factor = options.replication_factor;
    spec.configs["retention.ms"] = retention_ms(deadletter_retention_days);
    spec.configs["min.insync.replicas"] = std::to_string(min_isr);
    merge_sources(spec, "deadletter of " + service);
  }
  std::vector<topic_spec> out;
  out.reserve(topics.size());
  for (auto& [name, spec] : topics) out.push_back(std::move(spec));
  return out;
}

plan compute_plan(const std::vector<topic_spec>& wanted, const cluster_state& cluster) {
  plan p;
  int max_rf = 0;
  for (const auto& spec : wanted) max_rf = std::max(max_rf, spec.replication_factor);
  if (max_rf > cluster.brokers) {
    p.notices.push_back({"error", "", "replication_factor_above_brokers",
                         "replication factor " + std::to_string(max_rf) + " needs at least that many brokers; the cluster has " +
                             std::to_string(cluster.brokers) + " (use --replication-factor for a smaller test cluster)"});
  }
  if (cluster.brokers < default_replication_factor) {
    p.notices.push_back({"warning", "", "fewer_than_3_brokers",
                         "the cluster has " + std::to_string(cluster.brokers) +
                             " broker(s); the standard requires at least 3 with replication factor 3"});
  }
  for (const auto& spec : wanted) {
    if (spec.replication_factor < default_replication_factor) {
      p.notices.push_back({"warning", spec.name, "replication_factor_below_3",
                           "replication factor " + std::to_string(spec.replication_factor) +
                               " is below the standard's 3: a broker loss can lose acknowledged events"});
    }
    const auto it = cluster.topics.find(spec.name);
    if (it == cluster.topics.end()) {
      action a;
      a.kind = action_kind::create;
      a.topic = spec.name;
      a.partitions = spec.partitions;
      a.replication_factor = spec.replication_factor;
      a.configs = spec.configs;
      p.actions.push_back(std::move(a));
      continue;
    }
    const auto& have = it->second;
    bool changed = false;
    if (have.partitions < spec.partitions) {
      action a;
      a.kind = action_kind::add_partitions;
      a.topic = spec.name;
      a.partitions = spec.partitions;
      a.current_partitions = have.partitions;
      p.actions.push_back(std::move(a));
      p.notices.push_back({"warning", spec.name, "adding_partitions_moves_keys",
                           "WARNING: raising " + spec.name + " from " + std::to_string(have.partitions) + " to " +
                               std::to_string(spec.partitions) +
                               " partitions moves most keys to another partition: per-key order is broken between "
                               "events written before and after the change. Drain consumers first or create a new topic."});
      changed = true;
    } else if (have.partitions > spec.partitions) {
      p.notices.push_back({"warning", spec.name, "more_partitions_than_catalog",
                           spec.name + " has " + std::to_string(have.partitions) + " partitions, the catalog asks for " +
                               std::to_string(spec.partitions) + "; partitions are never removed"});
    }
    if (have.replication_factor != spec.replication_factor) {
      p.notices.push_back({"warning", spec.name, "replication_factor_differs",
                           spec.name + " has replication factor " + std::to_string(have.replication_factor) + ", wanted " +
                               std::to_string(spec.replication_factor) +
                               "; changing it needs a partition reassignment (kafka-reassign-partitions), not done here"});
    }
    if (!have.configs_known) {
      p.notices.push_back({"warning", spec.name, "configs_unreadable",
                           "cannot read the configs of " + spec.name + " (" + have.configs_error +
                               "); retention and min.insync.replicas are not checked"});
    } else {
      action a;
      a.kind = action_kind::alter_config;
      a.topic = spec.name;
      a.configs = have.dynamic;  // AlterConfigs replaces the whole dynamic set: keep what we do not manage
      for (const auto& [key, value] : spec.configs) {
        const auto cur = have.effective.find(key);
        const std::string current = cur == have.effective.end() ? std::string() : cur->second;
        if (current != value) a.changes[key] = {current, value};
        a.configs[key] = value;
      }
      if (!a.changes.empty()) {
        p.actions.push_back(std::move(a));
        changed = true;
      }
    }
    if (!changed) ++p.unchanged;
  }
  return p;
}

result<cluster_state> describe_cluster(const std::map<std::string, std::string>& properties,
                                       const std::vector<std::string>& topics, std::chrono::milliseconds timeout) {
  auto rk = admin_client(properties);
  if (!rk) return make_error(rk.error());
  const rd_kafka_metadata_t* raw = nullptr;
  // All topics: asking for named ones would auto-create them on brokers that allow it.
  if (const auto err = rd_kafka_metadata(rk->get(), 1, nullptr, &raw, static_cast<int>(timeout.count()));
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(map_kafka_error(err, "reading cluster metadata from " + properties.at("bootstrap.servers")));
  }
  metadata_ptr md(raw);
  cluster_state state;
  state.brokers = md->broker_cnt;
  const std::set<std::string> asked(topics.begin(), topics.end());
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (asked.count(t.topic) == 0) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) continue;  // e.g. being deleted
    topic_state ts;
    ts.partitions = t.partition_cnt;
    ts.replication_factor = t.partition_cnt > 0 ? t.partitions[0].replica_cnt : 0;
    state.topics.emplace(t.topic, std::move(ts));
  }
  if (state.topics.empty()) return state;

  queue_ptr queue(rd_kafka_queue_new(rk->get()));
  std::vector<config_resource_ptr> owned;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& [name, ts] : state.topics) {
    owned.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str()));
    resources.push_back(owned.back().get());
  }
  auto options = admin_options(rk->get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  if (!options) return make_error(options.error());
  rd_kafka_DescribeConfigs(rk->get(), resources.data(), resources.size(), options->get(), queue.get());
  auto ev = wait_result(queue.get(), RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout, "DescribeConfigs");
  if (!ev) {
    // The mock cluster and old brokers have no DescribeConfigs: say so per topic instead of failing the plan.
    for (auto& [name, ts] : state.topics) ts.configs_error = ev.error().describe();
    return state;
  }
  const auto* res = rd_kafka_event_DescribeConfigs_result(ev->get());
  size_t count = 0;
  const auto** described = rd_kafka_DescribeConfigs_result_resources(res, &count);
  for (size_t i = 0; i < count; ++i) {
    auto it = state.topics.find(rd_kafka_ConfigResource_name(described[i]));
    if (it == state.topics.end()) continue;
    auto& ts = it->second;
    if (const auto err = rd_kafka_ConfigResource_error(described[i]); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ts.configs_error = describe_err(err, rd_kafka_ConfigResource_error_string(described[i]));
      continue;
    }
    size_t n = 0;
    const auto** entries = rd_kafka_ConfigResource_configs(described[i], &n);
    for (size_t j = 0; j < n; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(entries[j]);
      if (value == nullptr || rd_kafka_ConfigEntry_is_sensitive(entries[j])) continue;
      ts.effective[rd_kafka_ConfigEntry_name(entries[j])] = value;
      if (rd_kafka_ConfigEntry_source(entries[j]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) {
        ts.dynamic[rd_kafka_ConfigEntry_name(entries[j])] = value;
      }
    }
    ts.configs_known = true;
  }
  for (auto& [name, ts] : state.topics) {
    if (!ts.configs_known && ts.configs_error.empty()) ts.configs_error = "the broker returned no configs for it";
  }
  return state;
}

result<std::vector<action_result>> apply_plan(const std::map<std::string, std::string>& properties, const plan& p,
                                              std::chrono::milliseconds timeout) {
  auto rk = admin_client(properties);
  if (!rk) return make_error(rk.error());
  queue_ptr queue(rd_kafka_queue_new(rk->get()));
  std::vector<action_result> results;
  std::map<std::string, size_t> index;  // "<kind>/<topic>" -> position in results

  const auto fail_all = [&](action_kind kind, const std::string& message) {
    for (auto& r : results) {
      if (r.what->kind == kind && !r.ok && r.error.empty()) r.error = message;
    }
  };
  const auto record_topic_results = [&](action_kind kind, const rd_kafka_topic_result_t** tr, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const auto key = std::string(to_string(kind)) + "/" + rd_kafka_topic_result_name(tr[i]);
      const auto it = index.find(key);
      if (it == index.end()) continue;
      auto& r = results[it->second];
      const auto err = rd_kafka_topic_result_error(tr[i]);
      r.ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
      if (!r.ok) r.error = describe_err(err, rd_kafka_topic_result_error_string(tr[i]));
    }
  };
  for (const auto& a : p.actions) {
    index[std::string(to_string(a.kind)) + "/" + a.topic] = results.size();
    results.push_back({&a, false, {}});
  }

  // 1. creates
  std::vector<new_topic_ptr> new_topics;
  for (const auto& a : p.actions) {
    if (a.kind != action_kind::create) continue;
    char errstr[256];
    new_topic_ptr nt(rd_kafka_NewTopic_new(a.topic.c_str(), a.partitions, a.replication_factor, errstr, sizeof errstr));
    if (!nt) {
      results[index["create/" + a.topic]].error = std::string("invalid topic: ") + errstr;
      continue;
    }
    for (const auto& [k, v] : a.configs) {
      if (const auto err = rd_kafka_NewTopic_set_config(nt.get(), k.c_str(), v.c_str()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        results[index["create/" + a.topic]].error = "config " + k + ": " + rd_kafka_err2str(err);
      }
    }
    if (results[index["create/" + a.topic]].error.empty()) new_topics.push_back(std::move(nt));
  }
  if (!new_topics.empty()) {
    std::vector<rd_kafka_NewTopic_t*> raw;
    for (auto& nt : new_topics) raw.push_back(nt.get());
    auto options = admin_options(rk->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
    if (!options) {
      // Earlier steps may have changed the cluster already: report per action, never drop their results.
      fail_all(action_kind::create, options.error().describe());
    } else {
      rd_kafka_CreateTopics(rk->get(), raw.data(), raw.size(), options->get(), queue.get());
      auto ev = wait_result(queue.get(), RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout, "CreateTopics");
      if (!ev) {
        fail_all(action_kind::create, ev.error().describe());
      } else {
        size_t n = 0;
        const auto** tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
        record_topic_results(action_kind::create, tr, n);
      }
    }
  }

  // 2. partition increases
  std::vector<new_partitions_ptr> increases;
  for (const auto& a : p.actions) {
    if (a.kind != action_kind::add_partitions) continue;
    char errstr[256];
    new_partitions_ptr np(rd_kafka_NewPartitions_new(a.topic.c_str(), static_cast<size_t>(a.partitions), errstr, sizeof errstr));
    if (!np) {
      results[index["add_partitions/" + a.topic]].error = errstr;
      continue;
    }
    increases.push_back(std::move(np));
  }
  if (!increases.empty()) {
    std::vector<rd_kafka_NewPartitions_t*> raw;
    for (auto& np : increases) raw.push_back(np.get());
    auto options = admin_options(rk->get(), RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout);
    if (!options) {
      // Earlier steps may have changed the cluster already: report per action, never drop their results.
      fail_all(action_kind::add_partitions, options.error().describe());
    } else {
      rd_kafka_CreatePartitions(rk->get(), raw.data(), raw.size(), options->get(), queue.get());
      auto ev = wait_result(queue.get(), RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, timeout, "CreatePartitions");
      if (!ev) {
        fail_all(action_kind::add_partitions, ev.error().describe());
      } else {
        size_t n = 0;
        const auto** tr = rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev->get()), &n);
        record_topic_results(action_kind::add_partitions, tr, n);
      }
    }
  }

  // 3. config changes
  std::vector<config_resource_ptr> owned;
  for (const auto& a : p.actions) {
    if (a.kind != action_kind::alter_config) continue;
    config_resource_ptr resource(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, a.topic.c_str()));
    bool complete = true;
    for (const auto& [k, v] : a.configs) {
      if (const auto err = rd_kafka_ConfigResource_set_config(resource.get(), k.c_str(), v.c_str());
          err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        results[index["alter_config/" + a.topic]].error = "config " + k + ": " + rd_kafka_err2str(err);
        complete = false;
      }
    }
    // An incomplete set would delete the missing configs from the topic (AlterConfigs replaces them all).
    if (complete) owned.push_back(std::move(resource));
  }
  if (!owned.empty()) {
    std::vector<rd_kafka_ConfigResource_t*> raw;
    for (auto& r : owned) raw.push_back(r.get());
    auto options = admin_options(rk->get(), RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout);
    if (!options) {
      // Earlier steps may have changed the cluster already: report per action, never drop their results.
      fail_all(action_kind::alter_config, options.error().describe());
    } else {
      rd_kafka_AlterConfigs(rk->get(), raw.data(), raw.size(), options->get(), queue.get());
      auto ev = wait_result(queue.get(), RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, timeout, "AlterConfigs");
      if (!ev) {
        fail_all(action_kind::alter_config, ev.error().describe());
      } else {
        size_t n = 0;
        const auto** altered = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev->get()), &n);
        for (size_t i = 0; i < n; ++i) {
          const auto it = index.find(std::string("alter_config/") + rd_kafka_ConfigResource_name(altered[i]));
          if (it == index.end()) continue;
          auto& r = results[it->second];
          if (!r.error.empty()) continue;
          const auto err = rd_kafka_ConfigResource_error(altered[i]);
          r.ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
          if (!r.ok) r.error = describe_err(err, rd_kafka_ConfigResource_error_string(altered[i]));
        }
      }
    }
  }
  for (auto& r : results) {
    if (!r.ok && r.error.empty()) r.error = "no result for this topic in the broker's answer";
  }
  return results;
}

}  // namespace aw::events::kafka_admin
