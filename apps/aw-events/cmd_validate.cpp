// aw-events validate: JSON instances (one per stdin line) against a JSON Schema file.
#include <fstream>
#include <iostream>
#include <sstream>

#include "aw/events/json_schema.hpp"
#include "cli.hpp"

namespace aw::cli {
namespace {

struct validate_args {
  std::string schema_file;
  std::string draft;
  bool format_assertion = false;
};

int run_validate(const validate_args& args) {
  events::schema_options options;
  // "$schema" in the file wins; --draft only fills in when the schema does not say.
  if (args.draft == "7" || args.draft == "07" || args.draft == "draft-07") {
    options.default_draft = events::schema_draft::draft7;
  } else if (args.draft.empty() || args.draft == "2020-12" || args.draft == "draft2020-12") {
    options.default_draft = events::schema_draft::draft2020_12;
  } else {
    print_error("--draft \"" + args.draft + "\": expected 7 or 2020-12");
    return exit_usage;
  }
  options.format_assertion = args.format_assertion;
  std::ifstream in(args.schema_file, std::ios::binary);
  if (!in) {
    print_error("--schema " + args.schema_file + ": cannot open the file");
    return exit_usage;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto schema = events::json_schema::compile(text.str(), options);
  if (!schema) {
    print_error("--schema " + args.schema_file + ": not a valid JSON Schema: " + schema.error().message);
    return exit_usage;
  }
  int status = exit_ok;
  std::string line;
  while (std::getline(std::cin, line) && !stop_requested.load()) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto errors = schema->validate(line);
    if (errors.empty()) {
      print_line("{\"valid\":true}");
      continue;
    }
    status = exit_failure;
    print_line("{\"valid\":false,\"errors\":" + validation_errors_json(errors) + "}");
  }
  return status;
}

}  // namespace

void add_validate(CLI::App& root, global_options&, std::vector<command>& commands) {
  auto args = std::make_shared<validate_args>();
  auto* app = root.add_subcommand("validate", "validate JSON instances (one per stdin line) against a JSON Schema");
  app->add_option("--schema", args->schema_file, "the JSON Schema file")->required();
  app->add_option("--draft", args->draft, "draft when the schema has no $schema: 7 or 2020-12 (default 2020-12)");
  app->add_flag("--format-assertion", args->format_assertion,
                "treat \"format\" as an assertion (date-time, date, time, duration, email, uuid, uri, hostname, ipv4, ipv6)");
  commands.push_back({"validate", app, [args] { return run_validate(*args); }});
}

}  // namespace aw::cli
