// Reading a catalog directory: every file is checked against the catalog file format (itself a JSON
// Schema, so problems come located by JSON Pointer), then for naming, schema compilation, history and
// the sample event.
#include <simdjson.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "aw/events/envelope.hpp"
#include "catalog/catalog_state.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace detail {
namespace {

// The catalog file format (docs/catalog.md). Semantic rules a schema cannot express are checked in code.
constexpr std::string_view catalog_file_schema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["type", "version", "description", "producer", "consumers", "schema", "sample"],
  "additionalProperties": false,
  "properties": {
    "$comment": {"type": "string"},
    "type": {"type": "string", "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*\\.[a-z][a-z0-9]*(_[a-z0-9]+)*\\.[a-z][a-z0-9]*(_[a-z0-9]+)*$"},
    "version": {"$ref": "#/$defs/version"},
    "description": {"type": "string", "minLength": 1},
    "producer": {"$ref": "#/$defs/service"},
    "consumers": {"type": "array", "items": {"$ref": "#/$defs/service"}, "uniqueItems": true},
    "schema": {"type": ["object", "boolean"]},
    "sample": {"type": "object"},
    "topic": {
      "type": "object",
      "minProperties": 1,
      "additionalProperties": false,
      "properties": {
        "partitions": {"type": "integer", "minimum": 1, "maximum": 10000},
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 3650}
      }
    },
    "deprecated": {
      "type": "object",
      "required": ["date", "note"],
      "additionalProperties": false,
      "properties": {
        "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "format": "date"},
        "note": {"type": "string", "minLength": 1}
      }
    },
    "history": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["version", "schema"],
        "additionalProperties": false,
        "properties": {
          "version": {"$ref": "#/$defs/version"},
          "schema": {"type": ["object", "boolean"]}
        }
      }
    }
  },
  "$defs": {
    "version": {"type": "string", "pattern": "^[1-9][0-9]*\\.(0|[1-9][0-9]*)$"},
    "service": {"type": "string", "pattern": "^[a-z][a-z0-9]*([_-][a-z0-9]+)*$"}
  }
})";

const json_schema& file_format() {
  static const json_schema compiled = [] {
    auto schema = json_schema::compile(catalog_file_schema, catalog_schema_options());
    if (!schema) std::abort();  // a bug in the text above, caught by every catalog test
    return std::move(*schema);
  }();
  return compiled;
}

std::pair<int, int> split_version(std::string_view version) {
  const auto dot = version.find('.');
  return {std::stoi(std::string(version.substr(0, dot))), std::stoi(std::string(version.substr(dot + 1)))};
}

struct file_loader {
  const std::filesystem::path& root;
  std::vector<catalog_problem>& problems;
  std::string file;  // relative, for messages
  std::string type;
  std::string version;
  bool failed = false;

  void problem(std::string location, std::string rule, std::string message) {
    failed = true;
    problems.push_back({file, std::move(location), std::move(rule), std::move(message), type, version, ""});
  }

  std::optional<json_schema> compile(std::string_view text, const std::string& location) {
    auto schema = json_schema::compile(text, catalog_schema_options());
    if (!schema) {
      problem(location, "schema", "the data schema does not compile: " + schema.error().message);
      return std::nullopt;
    }
    return std::move(*schema);
  }

  std::optional<catalog_major> load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) {
      problem("", "io", "cannot read the file");
      return std::nullopt;
    }
    return load_text(buffer.str(), path);
  }

  // One catalog file's text; `origin` is recorded as where the entry came from (a path or a URL).
  std::optional<catalog_major> load_text(const std::string& text, const std::filesystem::path& origin) {
    auto format_errors = file_format().validate(text);
    if (!format_errors.empty()) {
      for (auto& e : format_errors) {
        problem(e.instance_location, e.instance_location.empty() && e.keyword_location.empty() ? "json" : "format",
                e.message + (e.keyword_location.empty() ? "" : " (rule " + e.keyword_location + ")"));
      }
      return std::nullopt;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(text).get(root)) {
      problem("", "json", "the file is not JSON");
      return std::nullopt;
    }
    catalog_major major;
    event_type_entry& entry = major.entry;
    entry.file = origin;
    entry.type = std::string(root["type"].get_string().value());
    entry.version = std::string(root["version"].get_string().value());
    type = entry.type;
    version = entry.version;
    std::tie(entry.major, entry.minor) = split_version(entry.version);
    entry.description = std::string(root["description"].get_string().value());
    entry.producer = std::string(root["producer"].get_string().value());
    simdjson::dom::array consumers = root["consumers"].get_array().value();
    for (auto consumer : consumers) entry.consumers.emplace_back(consumer.get_string().value());
    entry.schema_json = simdjson::minify(root["schema"].value());
    entry.sample_json = simdjson::minify(root["sample"].value());
    if (simdjson::dom::element topic; !root["topic"].get(topic)) {
      topic_overrides overrides;
      if (std::int64_t n; !topic["partitions"].get(n)) overrides.partitions = static_cast<int>(n);
      if (std::int64_t n; !topic["retention_days"].get(n)) overrides.retention_days = static_cast<int>(n);
      entry.topic = overrides;
    }
    if (simdjson::dom::element deprecated; !root["deprecated"].get(deprecated)) {
      entry.deprecated = deprecation{std::string(deprecated["date"].get_string().value()),
                                     std::string(deprecated["note"].get_string().value())};
    }
    if (simdjson::dom::array history; !root["history"].get(history)) {
      for (auto item : history) {
        entry.history.push_back({std::string(item["version"].get_string().value()), simdjson::minify(item["schema"].value())});
      }
    }
    check_naming(entry);
    check_history(major);
    if (auto schema = compile(entry.schema_json, "/schema")) {
      major.compiled.push_back({entry.version, entry.minor, std::move(*schema)});
      check_sample(entry, major.compiled.back().schema);
    }
    if (failed) return std::nullopt;
    std::sort(major.compiled.begin(), major.compiled.end(),
              [](const compiled_version& a, const compiled_version& b) { return a.minor < b.minor; });
    return major;
  }

  // <service>/<resource>.<action>.v<MAJOR>.json, agreeing with type and version.
  void check_naming(const event_type_entry& entry) {
    const auto first = entry.type.find('.');
    const std::string service = entry.type.substr(0, first);
    const std::string expected = service + "/" + entry.type.substr(first + 1) + ".v" + std::to_string(entry.major) + ".json";
    if (file != expected) {
      problem("/type", "naming",
              "type \"" + entry.type + "\" at version " + entry.version + " belongs in \"" + expected + "\"");
    }
    if (entry.producer != service) {
      problem("/producer", "naming",
              "producer \"" + entry.producer + "\" must be the type's service segment \"" + service + "\"");
    }
  }

  void check_history(catalog_major& major) {
    const auto& entry = major.entry;
    int previous = -1;
    for (std::size_t i = 0; i < entry.history.size(); ++i) {
      const std::string at = "/history/" + std::to_string(i);
      const auto [history_major, history_minor] = split_version(entry.history[i].version);
      if (history_major != entry.major) {
        problem(at + "/version", "version", "history version " + entry.history[i].version + " is not of major " +
                                                std::to_string(entry.major) + " (one file per major)");
        continue;
      }
      if (history_minor <= previous || history_minor >= entry.minor) {
        problem(at + "/version", "version",
                "history version " + entry.history[i].version + " must be newer than the one before it and older than " +
                    entry.version + " (oldest first)");
      }
      previous = history_minor;
      if (auto schema = compile(entry.history[i].schema_json, at + "/schema")) {
        major.compiled.push_back({entry.history[i].version, history_minor, std::move(*schema)});
      }
    }
  }

  void check_sample(const event_type_entry& entry, const json_schema& schema) {
    auto decoded = decode_envelope(entry.sample_json);
    if (!decoded) {
      auto details = decoded.error().details;
      if (details.empty()) details.push_back({"", "", decoded.error().message});
      for (const auto& d : details) {
        problem("/sample" + d.instance_location, "sample", "the sample breaks the envelope rules: " + d.message);
      }
      return;
    }
    const auto& meta = decoded->meta;
    if (meta.type != entry.type) {
      problem("/sample/meta/type", "sample", "sample type \"" + meta.type + "\" differs from \"" + entry.type + "\"");
    }
    if (meta.version != entry.version) {
      problem("/sample/meta/version", "sample",
              "sample version \"" + meta.version + "\" differs from \"" + entry.version + "\"");
    }
    if (meta.source != entry.producer) {
      problem("/sample/meta/source", "sample",
              "sample source \"" + meta.source + "\" differs from the producer \"" + entry.producer + "\"");
    }
    for (const auto& e : schema.validate(decoded->data)) {
      problem("/sample/data" + e.instance_location, "sample",
              "the sample data breaks its schema: " + e.message + " (schema " + e.keyword_location + ")");
    }
  }
};

// Adds a loaded major unless another file already defined the same type and major.
void add_major(event_catalog::state& state, std::map<std::pair<std::string, int>, std::string>& seen,
               file_loader& loader, std::optional<catalog_major> major) {
  if (!major) return;
  const auto key = std::make_pair(major->entry.type, major->entry.major);
  if (auto [it, inserted] = seen.emplace(key, loader.file); !inserted) {
    loader.problem("/type", "naming",
                   "type " + key.first + " major " + std::to_string(key.second) + " is also defined in " + it->second);
    return;
  }
  state.types[key.first].emplace(key.second, std::move(*major));
}

}  // namespace

schema_options catalog_schema_options() {
  schema_options options;
  options.default_draft = schema_draft::draft2020_12;
  options.format_assertion = true;
  return options;
}

std::shared_ptr<event_catalog::state> load_catalog_state(const std::filesystem::path& directory,
                                                         std::vector<catalog_problem>& problems) {
  auto state = std::make_shared<event_catalog::state>();
  std::error_code ec;
  if (!std::filesystem::is_directory(directory, ec)) {
    problems.push_back({"", "", "io", "\"" + directory.string() + "\" is not a readable directory", "", "", ""});
    return state;
  }
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(directory, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") files.push_back(it->path());
  }
  if (ec) {
    problems.push_back({"", "", "io", "cannot list \"" + directory.string() + "\": " + ec.message(), "", "", ""});
  }
  std::sort(files.begin(), files.end());
  std::map<std::pair<std::string, int>, std::string> seen;  // (type, major) -> file
  for (const auto& path : files) {
    file_loader loader{directory, problems, path.lexically_relative(directory).generic_string(), "", "", false};
    add_major(*state, seen, loader, loader.load(path));
  }
  if (files.empty() && problems.empty()) {
    problems.push_back({"", "", "io", "no *.json catalog files under \"" + directory.string() + "\"", "", "", ""});
  }
  return state;
}

std::shared_ptr<event_catalog::state> load_catalog_state(const std::vector<catalog_document>& documents,
                                                         std::vector<catalog_problem>& problems) {
  auto state = std::make_shared<event_catalog::state>();
  std::map<std::pair<std::string, int>, std::string> seen;
  const std::filesystem::path no_root;
  for (const auto& document : documents) {
    file_loader loader{no_root, problems, document.file, "", "", false};
    add_major(*state, seen, loader, loader.load_text(document.text, document.origin));
  }
  return state;
}

}  // namespace detail
}  // namespace aw::events
