// aw-events status: an event's processing history from the consumer ledger, as JSON lines.
#include <filesystem>
#include "aw/events/ids.hpp"
#include "aw/events/ledger.hpp"
#include "cli.hpp"
#include "core/json_text.hpp"

namespace aw::cli {
namespace {

using events::detail::append_json_string;

struct status_args {
  std::string event_id;
  std::string correlation_id;
  std::string ledger;
};

std::string entry_json(const events::ledger_entry& e) {
  std::string out = "{\"group\":";
  append_json_string(out, e.group);
  out += ",\"event_id\":";
  append_json_string(out, e.event_id);
  out += ",\"state\":";
  append_json_string(out, events::to_string(e.state));
  out += ",\"attempt\":" + std::to_string(e.attempt) + ",\"at\":";
  append_json_string(out, events::format_timestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(e.at_ms))));
  out += ",\"error\":";
  append_json_string(out, e.error);
  out += ",\"correlation_id\":";
  append_json_string(out, e.correlation_id);
  out += ",\"type\":";
  append_json_string(out, e.type);
  out += ",\"topic\":";
  append_json_string(out, e.topic);
  out += ",\"partition\":" + std::to_string(e.partition) + ",\"offset\":" + std::to_string(e.offset) + "}";
  return out;
}

int run_status(const global_options& globals, const status_args& args) {
  events::sqlite_ledger_options options;
  options.path = args.ledger.empty() ? events::ledger_path_for_store(globals.store) : args.ledger;
  if (!std::filesystem::exists(options.path)) {
    print_error("no ledger at " + options.path + " (consume writes it; see --ledger)");
    return exit_failure;
  }
  auto ledger = events::open_sqlite_ledger(options);
  if (!ledger) {
    print_error(ledger.error().describe());
    return exit_failure;
  }
  auto history = args.event_id.empty() ? (*ledger)->history_of_correlation(args.correlation_id)
                                       : (*ledger)->history_of_event(args.event_id);
  if (!history) {
    print_error(history.error().describe());
    return exit_failure;
  }
  if (history->empty()) {
    print_error(args.event_id.empty() ? "no event with correlation id \"" + args.correlation_id + "\" in " + options.path
                                      : "event " + args.event_id + " not in " + options.path);
    return exit_failure;
  }
  for (const auto& e : *history) print_line(entry_json(e));
  return exit_ok;
}

}  // namespace

void add_status(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<status_args>();
  auto* app = root.add_subcommand("status", "an event's processing history (consumer ledger) as JSON lines");
  auto* event = app->add_option("--event", args->event_id, "event id");
  auto* correlation = app->add_option("--correlation-id", args->correlation_id, "every event with this correlation id");
  event->excludes(correlation);
  app->add_option("--ledger", args->ledger, "ledger file (default: <store dir>/<store stem>.ledger.db)");
  app->callback([args] {
    if (args->event_id.empty() && args->correlation_id.empty()) throw CLI::RequiredError("--event or --correlation-id");
  });
  commands.push_back({"status", app, [&globals, args] { return run_status(globals, *args); }});
}

}  // namespace aw::cli
