// Shared pieces of the aw-events commands: global options, transports, output, signals.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aw/events/catalog.hpp"
#include "aw/events/context.hpp"
#include "aw/events/transport.hpp"

namespace aw::cli {

// Exit codes (DESIGN.md §5).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

struct global_options {
  std::string bootstrap_servers;
  std::string store = "./aw-events-data/events.db";
  std::string catalog;
  std::string service;
  std::string metrics_listen;
  std::vector<std::string> properties;  // -X key=value

  void add_to(CLI::App& app);
  [[nodiscard]] events::result<std::map<std::string, std::string>> property_map() const;
  [[nodiscard]] events::result<std::shared_ptr<events::transport>> open_transport() const;
};

// Set by SIGINT/SIGTERM once install_signal_handlers() ran.
extern std::atomic<bool> stop_requested;
void install_signal_handlers();

// Writes one line to stdout (whole lines only, flushed: other programs read us line by line).
void print_line(const std::string& line);
// Writes an error for a person on stderr ("aw-events: <what>").
void print_error(const std::string& message);

struct command {
  std::string name;
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each command file registers its subcommand(s) on the root app.
void add_publish(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_tail(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_envelope(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_mock_kafka(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_serve(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_bench(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_validate(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_catalog(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_consume(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_status(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_topics(CLI::App& root, global_options& globals, std::vector<command>& commands);
void add_spool(CLI::App& root, global_options& globals, std::vector<command>& commands);

// The event context handed down by a parent process (a `consume --exec` handler): AW_CORRELATION_ID and
// TRACEPARENT become the current context, so events published from here continue that trace and correlation.
// Null when neither is set; a malformed TRACEPARENT is ignored with a warning.
[[nodiscard]] std::unique_ptr<events::context_scope> adopt_environment_context();

// The catalog named by --catalog / AW_EVENTS_CATALOG, or null when none is configured. A catalog that does
// not load is an error whose details name each file and JSON Pointer.
[[nodiscard]] events::result<std::shared_ptr<const events::event_catalog>> load_catalog(const global_options& globals);

}  // namespace aw::cli

namespace aw::cli {
// {"code":…,"message":…,"errors":[{"instanceLocation","keywordLocation","error"}…]}
[[nodiscard]] std::string error_json(const events::error& e);
// [{"instanceLocation","keywordLocation","error"}…]
[[nodiscard]] std::string validation_errors_json(const std::vector<events::validation_error>& errors);
}  // namespace aw::cli
