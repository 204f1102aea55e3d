// aw-events catalog check | export | docs: lint the event catalog (including compatibility between
// versions), export it as an AsyncAPI 3.0 document, and write it as a static HTML site. Also the catalog loading shared by the other commands.
#include "aw/events/catalog.hpp"

#include "cli.hpp"
#include "core/json_text.hpp"

namespace aw::cli {

events::result<std::shared_ptr<const events::event_catalog>> load_catalog(const global_options& globals) {
  if (globals.catalog.empty()) return std::shared_ptr<const events::event_catalog>();
  // http://HOST:PORT: the registry of an `aw-events serve --catalog` (fetched once, at start-up).
  auto loaded = events::is_catalog_url(globals.catalog) ? events::event_catalog::load_url(globals.catalog)
                                                        : events::event_catalog::load_directory(globals.catalog);
  if (!loaded) return events::make_error(loaded.error());
  return std::make_shared<const events::event_catalog>(std::move(*loaded));
}

namespace {

using events::detail::append_json_string;

std::string problem_json(const events::catalog_problem& p) {
  std::string out = "{\"file\":";
  append_json_string(out, p.file);
  out += ",\"location\":";
  append_json_string(out, p.location);
  out += ",\"rule\":";
  append_json_string(out, p.rule);
  if (!p.type.empty()) {
    out += ",\"type\":";
    append_json_string(out, p.type);
  }
  if (!p.version.empty()) {
    out += ",\"version\":";
    append_json_string(out, p.version);
  }
  if (!p.against.empty()) {
    out += ",\"against\":";
    append_json_string(out, p.against);
  }
  out += ",\"message\":";
  append_json_string(out, p.message);
  out += '}';
  return out;
}

bool require_catalog(const global_options& globals) {
  if (!globals.catalog.empty()) return true;
  print_error("no catalog: pass --catalog DIR or set AW_EVENTS_CATALOG");
  return false;
}

int run_check(const global_options& globals, const std::string& mode_text) {
  if (!require_catalog(globals)) return exit_usage;
  auto mode = events::parse_compatibility_mode(mode_text);
  if (!mode) {
    print_error("--compatibility: " + mode.error().message);
    return exit_usage;
  }
  const auto problems = events::event_catalog::check_directory(globals.catalog, *mode);
  for (const auto& p : problems) print_line(problem_json(p));
  std::string summary = "{\"valid\":" + std::string(problems.empty() ? "true" : "false") +
                        ",\"problems\":" + std::to_string(problems.size()) + ",\"compatibility\":";
  append_json_string(summary, events::to_string(*mode));
  print_line(summary + "}");
  return problems.empty() ? exit_ok : exit_failure;
}

int run_export(const global_options& globals, const std::string& format) {
  if (!require_catalog(globals)) return exit_usage;
  if (format != "asyncapi") {
    print_error("--format \"" + format + "\": the only export format is asyncapi");
    return exit_usage;
  }
  auto catalog = load_catalog(globals);
  if (!catalog) {
    print_error(catalog.error().message);
    for (const auto& d : catalog.error().details) print_error("  " + d.message + (d.instance_location.empty() ? "" : " at " + d.instance_location));
    return exit_failure;
  }
  print_line(events::export_asyncapi(**catalog));
  return exit_ok;
}

int run_docs(const global_options& globals, const std::string& out_dir) {
  if (!require_catalog(globals)) return exit_usage;
  auto catalog = load_catalog(globals);
  if (!catalog) {
    print_error(catalog.error().message);
    for (const auto& d : catalog.error().details) print_error("  " + d.message + (d.instance_location.empty() ? "" : " at " + d.instance_location));
    return exit_failure;
  }
  if (auto written = events::write_docs_site(**catalog, out_dir); !written) {
    print_error(written.error().message);
    return exit_failure;
  }
  std::string summary = "{\"written\":";
  append_json_string(summary, out_dir);
  print_line(summary + ",\"types\":" + std::to_string((*catalog)->entries().size()) + "}");
  return exit_ok;
}

}  // namespace

void add_catalog(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto* catalog = root.add_subcommand("catalog", "event catalog tools (the catalog directory comes from --catalog)");
  catalog->require_subcommand(1);

  auto mode = std::make_shared<std::string>("BACKWARD");
  auto* check = catalog->add_subcommand("check", "lint the catalog: format, naming, samples, compatibility of versions");
  check->add_option("--compatibility", *mode,
                    "NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or FULL_TRANSITIVE")
      ->capture_default_str();
  commands.push_back({"catalog check", check, [&globals, mode] { return run_check(globals, *mode); }});

  auto format = std::make_shared<std::string>();
  auto* exporter = catalog->add_subcommand("export", "print the catalog as an AsyncAPI 3.0 document");
  exporter->add_option("--format", *format, "asyncapi")->required();
  commands.push_back({"catalog export", exporter, [&globals, format] { return run_export(globals, *format); }});

  auto out_dir = std::make_shared<std::string>();
  auto* docs = catalog->add_subcommand("docs", "write the catalog as a static HTML site that works offline");
  docs->add_option("--out", *out_dir, "output directory (created when missing)")->required();
  commands.push_back({"catalog docs", docs, [&globals, out_dir] { return run_docs(globals, *out_dir); }});
}

}  // namespace aw::cli
