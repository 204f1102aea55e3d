// aw-events envelope check: validate events (one per stdin line) against the standard's envelope rules and,
// with --catalog, their data against the catalog schema of their type and version.
#include <iostream>

#include "aw/events/envelope.hpp"
#include "cli.hpp"

namespace aw::cli {
namespace {

int run_check(const global_options& globals) {
  auto catalog = load_catalog(globals);
  if (!catalog) {
    print_error("--catalog " + globals.catalog + ": " + catalog.error().message);
    for (const auto& d : catalog.error().details) print_error("  " + d.message + " (at " + d.instance_location + ")");
    return exit_usage;
  }
  events::envelope_decoder decoder;
  std::string line;
  int status = exit_ok;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto decoded = decoder.decode(line);
    events::result<void> checked;
    if (decoded && *catalog) checked = (*catalog)->validate_data(decoded->meta.type, decoded->meta.version, decoded->data);
    if (decoded && checked) {
      print_line("{\"valid\":true}");
      continue;
    }
    status = exit_failure;
    const events::error& failure = decoded ? checked.error() : decoded.error();
    auto problems = failure.details;
    if (problems.empty()) problems.push_back({"", "/json", failure.message});
    print_line("{\"valid\":false,\"errors\":" + validation_errors_json(problems) + "}");
  }
  return status;
}

}  // namespace

void add_envelope(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto* envelope = root.add_subcommand("envelope", "envelope tools");
  envelope->require_subcommand(1);
  auto* check = envelope->add_subcommand("check", "check events on stdin (one per line) against the envelope rules");
  commands.push_back({"envelope check", check, [&globals] { return run_check(globals); }});
}

}  // namespace aw::cli
