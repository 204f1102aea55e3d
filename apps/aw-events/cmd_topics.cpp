// aw-events topics plan|apply: Kafka topics from the catalog (docs/kafka.md). plan prints the actions that
// would bring the cluster in line with the catalog, apply performs them; both print one JSON line per
// action or finding and a summary line last.
#include <chrono>

#include "cli.hpp"
#include "core/json_text.hpp"
#include "transport/kafka/kafka_admin.hpp"

namespace aw::cli {
namespace {

using events::detail::append_json_string;
namespace ka = events::kafka_admin;

struct topics_args {
  int replication_factor = ka::default_replication_factor;
  int default_partitions = 6;
  int deadletter_partitions = 3;
  std::string strategy = "per_service";
  int timeout_ms = 30000;
};

void append_string_map(std::string& out, const std::map<std::string, std::string>& m) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, k);
    out += ':';
    append_json_string(out, v);
  }
  out += '}';
}

std::string action_json(const ka::action& a, const ka::topic_spec* spec) {
  std::string out = "{\"action\":";
  append_json_string(out, ka::to_string(a.kind));
  out += ",\"topic\":";
  append_json_string(out, a.topic);
  switch (a.kind) {
    case ka::action_kind::create:
      out += ",\"partitions\":" + std::to_string(a.partitions) + ",\"replication_factor\":" +
             std::to_string(a.replication_factor) + ",\"configs\":";
      append_string_map(out, a.configs);
      break;
    case ka::action_kind::add_partitions:
      out += ",\"from\":" + std::to_string(a.current_partitions) + ",\"to\":" + std::to_string(a.partitions);
      break;
    case ka::action_kind::alter_config: {
      out += ",\"changes\":{";
      bool first = true;
      for (const auto& [k, cw] : a.changes) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, k);
        out += ":{\"current\":";
        append_json_string(out, cw.first);
        out += ",\"wanted\":";
        append_json_string(out, cw.second);
        out += '}';
      }
      out += "},\"configs\":";
      append_string_map(out, a.configs);
      break;
    }
  }
  if (spec != nullptr) {
    out += ",\"sources\":[";
    for (size_t i = 0; i < spec->sources.size(); ++i) {
      if (i) out += ',';
      append_json_string(out, spec->sources[i]);
    }
    out += ']';
  }
  return out;  // not closed: apply adds its result
}

std::string notice_json(const ka::notice& n) {
  std::string out = "{";
  append_json_string(out, n.level);
  out += ':';
  append_json_string(out, n.code);
  out += ",\"topic\":";
  append_json_string(out, n.topic);
  out += ",\"message\":";
  append_json_string(out, n.message);
  out += '}';
  return out;
}

int run_topics(const global_options& globals, const topics_args& args, bool apply) {
  if (globals.bootstrap_servers.empty()) {
    print_error("topics needs Kafka: give --bootstrap-servers (or AW_EVENTS_BOOTSTRAP_SERVERS)");
    return exit_usage;
  }
  if (globals.catalog.empty()) {
    print_error("topics needs the catalog: give --catalog DIR (or AW_EVENTS_CATALOG)");
    return exit_usage;
  }
  auto catalog = load_catalog(globals);
  if (!catalog) {
    print_line(error_json(catalog.error()));
    print_error("--catalog " + globals.catalog + ": " + catalog.error().describe());
    return exit_failure;
  }
  ka::desired_options options;
  options.strategy = args.strategy == "per_resource" ? events::topic_strategy::per_resource : events::topic_strategy::per_service;
  options.replication_factor = args.replication_factor;
  options.default_partitions = args.default_partitions;
  options.deadletter_partitions = args.deadletter_partitions;
  auto wanted = ka::desired_topics(**catalog, options);
  if (!wanted) {
    print_line(error_json(wanted.error()));
    print_error(wanted.error().describe());
    return exit_failure;
  }
  auto props = globals.property_map();
  if (!props) {
    print_error(props.error().describe());
    return exit_usage;
  }
  (*props)["bootstrap.servers"] = globals.bootstrap_servers;
  const auto timeout = std::chrono::milliseconds(args.timeout_ms);
  std::vector<std::string> names;
  std::map<std::string, const ka::topic_spec*> spec_of;
  for (const auto& spec : *wanted) {
    names.push_back(spec.name);
    spec_of[spec.name] = &spec;
  }
  auto cluster = ka::describe_cluster(*props, names, timeout);
  if (!cluster) {
    print_line(error_json(cluster.error()));
    print_error(cluster.error().describe());
    return exit_failure;
  }
  const auto p = ka::compute_plan(*wanted, *cluster);

  int warnings = 0, errors = 0;
  for (const auto& n : p.notices) {
    print_line(notice_json(n));
    (n.level == "error" ? errors : warnings)++;
    // The key-moving warning must not scroll past unseen in a long JSON stream.
    if (n.code == "adding_partitions_moves_keys" || n.level == "error") print_error(n.message);
  }
  for (const auto& spec : *wanted) {
    for (const auto& note : spec.notes) {
      print_line(notice_json({"warning", spec.name, "overrides_merged", note}));
      ++warnings;
    }
  }
  std::map<ka::action_kind, int> counts;
  int applied = 0, failed = 0;
  if (!apply || p.has_errors()) {
    for (const auto& a : p.actions) {
      counts[a.kind]++;
      print_line(action_json(a, spec_of[a.topic]) + "}");
    }
    if (apply) print_error("nothing applied: the plan has errors");
  } else {
    auto results = ka::apply_plan(*props, p, timeout);
    if (!results) {
      print_line(error_json(results.error()));
      print_error(results.error().describe());
      return exit_failure;
    }
    for (const auto& r : *results) {
      counts[r.what->kind]++;
      std::string line = action_json(*r.what, spec_of[r.what->topic]);
      line += ",\"result\":";
      append_json_string(line, r.ok ? "ok" : "failed");
      if (!r.ok) {
        line += ",\"error\":";
        append_json_string(line, r.error);
        ++failed;
        print_error(std::string(ka::to_string(r.what->kind)) + " " + r.what->topic + ": " + r.error);
      } else {
        ++applied;
      }
      print_line(line + "}");
    }
  }
  std::string summary = "{\"summary\":{\"mode\":";
  append_json_string(summary, apply ? "apply" : "plan");
  summary += ",\"brokers\":" + std::to_string(cluster->brokers) + ",\"topics\":" + std::to_string(wanted->size()) +
             ",\"create\":" + std::to_string(counts[ka::action_kind::create]) +
             ",\"add_partitions\":" + std::to_string(counts[ka::action_kind::add_partitions]) +
             ",\"alter_config\":" + std::to_string(counts[ka::action_kind::alter_config]) +
             ",\"unchanged\":" + std::to_string(p.unchanged) + ",\"warnings\":" + std::to_string(warnings) +
             ",\"errors\":" + std::to_string(errors);
  if (apply) summary += ",\"applied\":" + std::to_string(applied) + ",\"failed\":" + std::to_string(failed);
  summary += "}}";
  print_line(summary);
  return errors > 0 || failed > 0 ? exit_failure : exit_ok;
}

}  // namespace

void add_topics(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<topics_args>();
  auto* app = root.add_subcommand("topics", "Kafka topics from the catalog: plan shows the difference, apply makes it");
  app->require_subcommand(1);
  for (const bool apply : {false, true}) {
    auto* sub = app->add_subcommand(apply ? "apply" : "plan",
                                    apply ? "create topics, add partitions and alter configs as planned"
                                          : "print what apply would do (JSON lines), change nothing");
    sub->add_option("--replication-factor", args->replication_factor,
                    "replication factor of created topics (the standard: 3; lower only for test clusters)")
        ->check(CLI::Range(1, 32))
        ->capture_default_str();
    sub->add_option("--default-partitions", args->default_partitions, "partitions of a topic whose types give none")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    sub->add_option("--deadletter-partitions", args->deadletter_partitions, "partitions of <service>.deadletter topics")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();
    sub->add_option("--strategy", args->strategy, "topic naming: per_service (content) or per_resource (content.book)")
        ->check(CLI::IsMember({"per_service", "per_resource"}))
        ->capture_default_str();
    sub->add_option("--timeout-ms", args->timeout_ms, "admin request timeout")->check(CLI::Range(100, 600000))->capture_default_str();
    commands.push_back({apply ? "topics apply" : "topics plan", sub,
                        [&globals, args, apply] { return run_topics(globals, *args, apply); }});
  }
}

}  // namespace aw::cli
