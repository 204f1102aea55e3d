// aw-events: the platform server and the everyday tools (DESIGN.md §5).
#include <cstdio>
#include <exception>

#include "aw/events/metrics.hpp"
#include "aw/events/tracing.hpp"
#include "cli.hpp"
#include "core/log.hpp"

int main(int argc, char** argv) {
  using namespace aw::cli;
  CLI::App app{"aw-events: publish, consume and operate AuthorWorks standard events", "aw-events"};
  app.require_subcommand(1);
  app.fallthrough(true);  // global options are accepted after the command name too
  app.set_version_flag("--version", "aw-events 0.1.0");
  global_options globals;
  globals.add_to(app);

  std::vector<command> commands;
  add_publish(app, globals, commands);
  add_tail(app, globals, commands);
  add_envelope(app, globals, commands);
  add_mock_kafka(app, globals, commands);
  add_serve(app, globals, commands);
  add_bench(app, globals, commands);
  add_validate(app, globals, commands);
  add_catalog(app, globals, commands);
  add_consume(app, globals, commands);
  add_status(app, globals, commands);
  add_topics(app, globals, commands);
  add_spool(app, globals, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  install_signal_handlers();
  // --metrics-listen serves /metrics for as long as the command runs.
  std::unique_ptr<aw::events::metrics::endpoint> metrics;
  if (!globals.metrics_listen.empty()) {
    auto started = aw::events::metrics::endpoint::start(globals.metrics_listen);
    if (!started) {
      print_error("--metrics-listen: " + started.error().describe());
      return exit_usage;
    }
    metrics = std::move(*started);
    aw::events::log::info("metrics served", {{"listen", metrics->address()}});
  }
  if (!globals.service.empty()) aw::events::log::set_service(globals.service);
  if (auto tracing = aw::events::tracing::install_exporter_from_environment(
          globals.service.empty() ? "aw-events" : globals.service);
      !tracing) {
    print_error("OTLP exporter: " + tracing.error().describe());
    return exit_usage;
  }
  // Spans still queued are sent before exit (bounded by the exporter's request timeout).
  struct flush_spans_at_exit {
    ~flush_spans_at_exit() {
      if (auto otlp = std::dynamic_pointer_cast<aw::events::tracing::otlp_http_exporter>(aw::events::tracing::exporter())) {
        (void)otlp->flush(std::chrono::seconds(5));
      }
      aw::events::tracing::set_exporter(nullptr);
    }
  } flush_spans;
  try {
    for (const auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_failure;
  }
  print_error("no command given; see --help");
  return exit_usage;
}
