// aw-events tail: print records of a topic (or of one event type) as JSON lines, with their coordinates.
#include <map>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/publisher.hpp"
#include "cli.hpp"
#include "core/json_check.hpp"
#include "core/json_text.hpp"

namespace aw::cli {
namespace {

using events::detail::append_json_string;

struct tail_args {
  std::string topic;
  std::string type;
  std::string group;
  bool from_beginning = false;
  std::uint64_t max = 0;
  double idle_exit = 0;
};

// "_record":{topic,partition,offset,timestamp,key,headers:{name:value | [values…]}}
std::string record_json(const events::record& rec) {
  std::string out = "{\"topic\":";
  append_json_string(out, rec.topic);
  out += ",\"partition\":" + std::to_string(rec.partition) + ",\"offset\":" + std::to_string(rec.offset);
  out += ",\"timestamp\":" + std::to_string(rec.timestamp_ms) + ",\"key\":";
  append_json_string(out, rec.key);
  out += ",\"headers\":{";
  std::map<std::string_view, std::vector<std::string_view>> grouped;
  std::vector<std::string_view> order;
  for (const auto& h : rec.headers) {
    auto& values = grouped[h.name];
    if (values.empty()) order.push_back(h.name);
    values.push_back(h.value);
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, order[i]);
    out += ':';
    const auto& values = grouped[order[i]];
    if (values.size() == 1) {
      append_json_string(out, values.front());
    } else {
      out += '[';
      for (std::size_t j = 0; j < values.size(); ++j) {
        if (j) out += ',';
        append_json_string(out, values[j]);
      }
      out += ']';
    }
  }
  out += "}}";
  return out;
}

// The value as a JSON object with "_record" added; values that are not JSON objects are shown base64.
std::string tail_line(const events::record& rec, const std::vector<events::validation_error>& envelope_errors) {
  std::string out;
  const bool is_object = !events::detail::check_json_object(rec.value, "");
  if (is_object) {
    out = rec.value;
    while (!out.empty() && out.back() != '}') out.pop_back();
    out.pop_back();
    const bool empty_object = out.find_last_not_of(" \t\r\n") == out.find('{');
    if (!empty_object) out += ',';
  } else {
    out = "{\"_value_base64\":\"" + events::detail::base64_encode(rec.value) + "\",";
  }
  if (!envelope_errors.empty()) out += "\"_envelope_errors\":" + validation_errors_json(envelope_errors) + ",";
  out += "\"_record\":" + record_json(rec) + "}";
  return out;
}

int run_tail(const global_options& globals, const tail_args& args) {
  std::string topic = args.topic;
  if (topic.empty()) {
    topic = events::topic_for(args.type, events::topic_strategy::per_service);
    if (topic.empty()) {
      print_error("--type \"" + args.type + "\" is not an event type service.resource.action");
      return exit_usage;
    }
  }
  auto transport = globals.open_transport();
  if (!transport) {
    print_error(transport.error().describe());
    return exit_failure;
  }
  events::consumer_options options;
  const bool commit = !args.group.empty();
  options.group_id = commit ? args.group : "aw-events-tail-" + events::new_uuid_v4();
  options.from_beginning = args.from_beginning;
  options.client_id = "aw-events-tail";
  auto created = (*transport)->create_consumer(options);
  if (!created) {
    print_error(created.error().describe());
    return exit_failure;
  }
  auto& consumer = **created;
  if (auto ok = consumer.subscribe({topic}); !ok) {
    print_error(ok.error().describe());
    return exit_failure;
  }
  events::envelope_decoder decoder;
  std::uint64_t printed = 0;
  auto last = std::chrono::steady_clock::now();
  const auto idle = std::chrono::milliseconds(static_cast<std::int64_t>(args.idle_exit * 1000));
  int status = exit_ok;
  while (!stop_requested.load()) {
    if (args.max && printed >= args.max) break;
    auto polled = consumer.poll(std::chrono::milliseconds(100));
    if (!polled) {
      print_error("poll failed: " + polled.error().describe());
      if (!polled.error().retriable()) {
        status = exit_failure;
        break;
      }
      continue;
    }
    if (!*polled) {
      if (args.idle_exit > 0 && std::chrono::steady_clock::now() - last >= idle) break;
      continue;
    }
    last = std::chrono::steady_clock::now();
    const auto& rec = **polled;
    std::vector<events::validation_error> problems;
    auto decoded = decoder.decode(rec.value);
    if (!decoded) {
      problems = decoded.error().details;
      if (problems.empty()) problems.push_back({"", "/json", decoded.error().message});
    }
    if (!args.type.empty()) {
      const auto header_type = rec.header_value("aw-event-type");
      const std::string_view type = decoded ? std::string_view(decoded->meta.type) : header_type.value_or("");
      if (type != args.type) {
        if (commit) (void)consumer.store_offset(rec);
        continue;
      }
    }
    print_line(tail_line(rec, problems));
    ++printed;
    if (commit) (void)consumer.store_offset(rec);
  }
  if (commit) {
    if (auto ok = consumer.commit(); !ok && ok.error().code != events::errc::not_found) {
      print_error("commit failed: " + ok.error().describe());
      status = exit_failure;
    }
  }
  consumer.close();
  return status;
}

}  // namespace

void add_tail(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<tail_args>();
  auto* app = root.add_subcommand("tail", "print records of a topic or event type as JSON lines");
  auto* topic = app->add_option("--topic", args->topic, "topic to read");
  auto* type = app->add_option("--type", args->type, "event type to read (its topic, filtered by type)");
  topic->excludes(type);
  app->add_option("--group", args->group, "consumer group; offsets are committed only with a group");
  app->add_flag("--from-beginning", args->from_beginning, "start at the oldest record (default: only new records)");
  app->add_option("--max", args->max, "exit after N records");
  app->add_option("--idle-exit", args->idle_exit, "exit after SEC seconds without a record");
  app->callback([args] {
    if (args->topic.empty() && args->type.empty()) throw CLI::RequiredError("--topic or --type");
  });
  commands.push_back({"tail", app, [&globals, args] { return run_tail(globals, *args); }});
}

}  // namespace aw::cli
