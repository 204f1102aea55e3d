// aw-events: the platform server and the everyday tools (DESIGN.md §5).
#include <cstdio>
#include <exception>

#include "cli.hpp"

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
