// aw-events publish: one event, a JSON Lines stream of events, or raw bytes (test escape hatch).
#include <simdjson.h>

#include <deque>
#include <future>
#include <iostream>
#include <iterator>

#include "aw/events/publisher.hpp"
#include "cli.hpp"
#include "core/json_text.hpp"

namespace aw::cli {
namespace {

using events::detail::append_json_string;

struct publish_args {
  std::string type;
  std::string key;
  std::string data;
  std::string version;
  std::string correlation_id;
  std::string topic;
  bool jsonl = false;
  bool raw = false;
};

std::string receipt_json(const events::publish_receipt& r) {
  std::string out = "{\"id\":";
  append_json_string(out, r.event_id);
  out += ",\"topic\":";
  append_json_string(out, r.topic);
  out += ",\"partition\":" + std::to_string(r.partition) + ",\"offset\":" + std::to_string(r.offset) + "}";
  return out;
}

// When default_version is given (no --version), it receives the catalog's default version of the type: the
// latest minor of the latest major in service (events::event_catalog::default_version).
events::result<std::unique_ptr<events::publisher>> make_publisher(const global_options& globals,
                                                                   const std::string& type,
                                                                   std::string* default_version = nullptr) {
  // The type is checked first: an invalid one would otherwise surface as a bad derived service name.
  if (!events::is_event_type(type)) {
    return events::make_error(events::errc::invalid_envelope, "event refused",
                              {{"/meta/type", "/envelope/meta/type/format",
                                "\"" + type + "\" is not an event type service.resource.action in lowercase snake_case"}});
  }
  auto transport = globals.open_transport();
  if (!transport) return events::make_error(transport.error());
  events::publisher_config config;
  auto catalog = load_catalog(globals);  // --catalog / AW_EVENTS_CATALOG: refuse unknown types and bad data
  if (!catalog) return events::make_error(catalog.error());
  if (default_version && *catalog) {
    if (auto version = (*catalog)->default_version(type)) *default_version = std::move(*version);
  }
  config.catalog = std::move(*catalog);
  // meta.source: the configured service, else the type's own service segment.
  config.service = globals.service.empty() ? type.substr(0, type.find('.')) : globals.service;
  return events::publisher::create(std::move(*transport), std::move(config));
}

int publish_one(const global_options& globals, const publish_args& args) {
  std::string version = args.version;
  auto publisher = make_publisher(globals, args.type, version.empty() ? &version : nullptr);
  if (!publisher) {
    print_error(publisher.error().describe());
    print_line(error_json(publisher.error()));
    return exit_failure;
  }
  events::publish_options options{args.key, version, args.correlation_id, std::nullopt, args.topic, {}};
  auto outcome = (*publisher)->publish(args.type, args.data, std::move(options)).get();
  if (!outcome) {
    print_error("event not published: " + outcome.error().describe());
    print_line(error_json(outcome.error()));
    return exit_failure;
  }
  print_line(receipt_json(*outcome));
  return exit_ok;
}

// Reads {"key","data","correlation_id"?,"version"?} from a line; errors are located in the line.
events::result<events::publish_options> parse_jsonl_line(simdjson::dom::parser& parser, const std::string& line,
                                                         std::string& data) {
  simdjson::dom::element root;
  if (auto err = parser.parse(line).get(root); err) {
    return events::make_error(events::errc::invalid_json, std::string("line is not JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object object;
  if (root.get(object)) return events::make_error(events::errc::invalid_argument, "line must be a JSON object");
  events::publish_options options;
  bool have_data = false;
  for (auto [name, value] : object) {
    auto string_member = [&](std::string& into) -> events::result<void> {
      std::string_view text;
      if (value.get(text)) {
        return events::make_error(events::errc::invalid_argument, "/" + std::string(name) + " must be a string");
      }
      into = std::string(text);
      return {};
    };
    events::result<void> ok;
    if (name == "key") ok = string_member(options.key);
    else if (name == "correlation_id") ok = string_member(options.correlation_id);
    else if (name == "version") ok = string_member(options.version);
    else if (name == "data") {
      if (value.type() != simdjson::dom::element_type::OBJECT) {
        return events::make_error(events::errc::invalid_argument, "/data must be a JSON object");
      }
      data = simdjson::minify(value);
      have_data = true;
    } else {
      return events::make_error(events::errc::invalid_argument,
                                "unknown member \"/" + std::string(name) + "\" (expected key, data, correlation_id, version)");
    }
    if (!ok) return events::make_error(ok.error());
  }
  if (options.key.empty()) return events::make_error(events::errc::invalid_argument, "/key is required (the resource id)");
  if (!have_data) return events::make_error(events::errc::invalid_argument, "/data is required");
  return options;
}

int publish_jsonl(const global_options& globals, const publish_args& args) {
  std::string version = args.version;  // for lines without "version"
  auto publisher = make_publisher(globals, args.type, version.empty() ? &version : nullptr);
  if (!publisher) {
    print_error(publisher.error().describe());
    return exit_failure;
  }
  // Results are printed in input order; at most `window` events are in flight at once.
  constexpr std::size_t window = 10000;
  std::deque<std::future<events::result<events::publish_receipt>>> in_flight;
  std::deque<std::size_t> line_numbers;
  int status = exit_ok;
  auto print_front = [&] {
    auto outcome = in_flight.front().get();
    const auto line_number = line_numbers.front();
    in_flight.pop_front();
    line_numbers.pop_front();
    if (outcome) {
      print_line(receipt_json(*outcome));
    } else {
      status = exit_failure;
      print_line("{\"line\":" + std::to_string(line_number) + ",\"error\":" + error_json(outcome.error()) + "}");
    }
  };
  simdjson::dom::parser parser;
  std::string line;
  std::string data;
  std::size_t line_number = 0;
  while (std::getline(std::cin, line) && !stop_requested.load()) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto options = parse_jsonl_line(parser, line, data);
    std::promise<events::result<events::publish_receipt>> refused;
    if (!options) {
      refused.set_value(events::make_error(options.error()));
      in_flight.push_back(refused.get_future());
    } else {
      if (options->version.empty()) options->version = version;
      if (options->correlation_id.empty()) options->correlation_id = args.correlation_id;
      options->topic = args.topic;
      in_flight.push_back((*publisher)->publish(args.type, data, std::move(*options)));
    }
    line_numbers.push_back(line_number);
    while (in_flight.size() >= window || (!in_flight.empty() && in_flight.front().wait_for(std::chrono::seconds(0)) ==
                                                                    std::future_status::ready)) {
      print_front();
    }
  }
  while (!in_flight.empty()) print_front();
  return status;
}

int publish_raw(const global_options& globals, const publish_args& args) {
  auto transport = globals.open_transport();
  if (!transport) {
    print_error(transport.error().describe());
    return exit_failure;
  }
  auto producer = (*transport)->create_producer({});
  if (!producer) {
    print_error(producer.error().describe());
    return exit_failure;
  }
  events::record rec;
  rec.topic = args.topic;
  rec.key = args.key;
  rec.value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::promise<events::result<events::delivery_report>> done;
  auto future = done.get_future();
  (*producer)->produce(std::move(rec), [&done](events::result<events::delivery_report> r) { done.set_value(std::move(r)); });
  auto report = future.get();
  if (!report) {
    print_error("record not published: " + report.error().describe());
    return exit_failure;
  }
  std::string out = "{\"topic\":";
  append_json_string(out, report->topic);
  out += ",\"partition\":" + std::to_string(report->partition) + ",\"offset\":" + std::to_string(report->offset) + "}";
  print_line(out);
  return exit_ok;
}

}  // namespace

void add_publish(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<publish_args>();
  auto* app = root.add_subcommand("publish", "validate and publish events");
  app->add_option("--type", args->type, "event type service.resource.action");
  app->add_option("--key", args->key, "partition key: the resource id");
  app->add_option("--data", args->data, "the data object as JSON");
  app->add_option("--version", args->version, "event version MAJOR.MINOR (default: the catalog's latest for the type, else 1.0)");
  app->add_option("--correlation-id", args->correlation_id, "correlation id (default: $AW_CORRELATION_ID, else generated)");
  app->add_option("--topic", args->topic, "topic (default: per the topic strategy; required with --raw)");
  app->add_flag("--jsonl", args->jsonl, "read {\"key\",\"data\",\"correlation_id\"?,\"version\"?} lines from stdin");
  app->add_flag("--raw", args->raw, "publish stdin bytes unvalidated to --topic with --key (for testing consumers)");
  app->callback([app, args] {
    if (args->raw) {
      if (args->topic.empty() || args->key.empty()) throw CLI::ValidationError("--raw", "needs --topic and --key");
      if (args->jsonl || !args->data.empty() || !args->type.empty()) {
        throw CLI::ValidationError("--raw", "cannot be combined with --jsonl, --data or --type");
      }
      return;
    }
    if (args->type.empty()) throw CLI::RequiredError("--type");
    if (args->jsonl) {
      if (!args->data.empty() || !args->key.empty()) throw CLI::ValidationError("--jsonl", "takes key and data from stdin lines");
      return;
    }
    if (args->key.empty()) throw CLI::RequiredError("--key");
    if (args->data.empty()) throw CLI::RequiredError("--data");
    (void)app;
  });
  commands.push_back({"publish", app, [&globals, args] {
                        const auto context = adopt_environment_context();
                        if (args->raw) return publish_raw(globals, *args);
                        if (args->jsonl) return publish_jsonl(globals, *args);
                        return publish_one(globals, *args);
                      }});
}

}  // namespace aw::cli
