#include "server/catalog_registry.hpp"

#include <boost/json.hpp>
#include <boost/json/src.hpp>  // Boost.JSON header-only: this is its one translation unit

#include <fstream>
#include <sstream>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "core/log.hpp"

namespace aw::events::server {
namespace json = boost::json;

namespace {

constexpr std::string_view types_path = "/v1/catalog/types";

http_response json_response(int status, const json::value& body) { return {status, "application/json", json::serialize(body), {}}; }

http_response error_response(int status, std::string message, json::array errors = {}) {
  json::object body{{"error", message}};
  if (!errors.empty()) body["errors"] = std::move(errors);
  return json_response(status, body);
}

std::pair<int, int> version_numbers(std::string_view version) {
  const auto dot = version.find('.');
  return {std::stoi(std::string(version.substr(0, dot))), std::stoi(std::string(version.substr(dot + 1)))};
}

// <dir>/<service>/<resource>.<action>.v<MAJOR>.json
std::filesystem::path relative_file(std::string_view type, int major) {
  const auto first = type.find('.');
  return std::filesystem::path(std::string(type.substr(0, first))) /
         (std::string(type.substr(first + 1)) + ".v" + std::to_string(major) + ".json");
}

result<json::value> read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  auto value = json::parse(text.str(), ec);
  if (ec) return make_error(errc::storage_error, file.string() + ": not JSON: " + ec.message());
  return value;
}

result<void> write_file_atomically(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const auto temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text << '\n';
    if (!out.flush()) return make_error(errc::storage_error, "cannot write " + temporary);
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) return make_error(errc::storage_error, "cannot replace " + file.string() + ": " + ec.message());
  return {};
}

json::object entry_summary(const event_type_entry& entry) {
  json::array versions;
  for (const auto& v : entry.versions()) versions.emplace_back(v.version);
  json::array consumers(entry.consumers.begin(), entry.consumers.end());
  json::object out{{"type", entry.type},        {"version", entry.version},          {"major", entry.major},
                   {"producer", entry.producer}, {"consumers", std::move(consumers)}, {"description", entry.description},
                   {"versions", std::move(versions)}};
  if (entry.deprecated) out["deprecated"] = json::object{{"date", entry.deprecated->date}, {"note", entry.deprecated->note}};
  return out;
}

}  // namespace

catalog_registry::catalog_registry(std::filesystem::path directory, compatibility_mode mode,
                                   std::shared_ptr<const event_catalog> c)
    : directory_(std::move(directory)), mode_(mode), current_(std::move(c)) {}

result<std::unique_ptr<catalog_registry>> catalog_registry::open(std::filesystem::path directory,
                                                                 compatibility_mode mode) {
  auto loaded = event_catalog::load_directory(directory);
  if (!loaded) return make_error(loaded.error());
  auto shared = std::make_shared<const event_catalog>(std::move(*loaded));
  return std::unique_ptr<catalog_registry>(new catalog_registry(std::move(directory), mode, std::move(shared)));
}

std::shared_ptr<const event_catalog> catalog_registry::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

void catalog_registry::mount(http_server& server) {
  server.route("GET", std::string(types_path), [this](const http_request&) { return list_types(); });
  // /v1/catalog/types/{type}/versions[/{version}]
  auto parse = [](const http_request& request) -> std::optional<std::pair<std::string, std::string>> {
    std::string_view rest(request.path);
    rest.remove_prefix(types_path.size() + 1);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto type = rest.substr(0, slash);
    auto tail = rest.substr(slash + 1);
    if (tail == "versions") return std::pair<std::string, std::string>(type, "");
    if (!tail.starts_with("versions/")) return std::nullopt;
    return std::pair<std::string, std::string>(type, tail.substr(9));
  };
  server.route("GET", std::string(types_path) + "/", [this, parse](const http_request& request) {
    auto parts = parse(request);
    if (!parts || parts->second.empty()) return error_response(404, "not found: expected /v1/catalog/types/{type}/versions/{version}");
    return get_version(parts->first, parts->second);
  });
  server.route("POST", std::string(types_path) + "/", [this, parse](const http_request& request) {
    auto parts = parse(request);
    if (!parts || !parts->second.empty()) return error_response(404, "not found: expected POST /v1/catalog/types/{type}/versions");
    return register_version(parts->first, request.body);
  });
}

http_response catalog_registry::list_types() const {
  auto catalog = current();
  json::array types;
  for (const auto* entry : catalog->entries()) types.emplace_back(entry_summary(*entry));
  return json_response(200, json::object{{"types", std::move(types)}});
}

http_response catalog_registry::get_version(std::string_view type, std::string_view version) const {
  if (!is_event_type(type)) return error_response(404, "\"" + std::string(type) + "\" is not an event type");
  if (!is_event_version(version)) return error_response(404, "\"" + std::string(version) + "\" is not a version MAJOR.MINOR");
  auto catalog = current();
  const auto* entry = catalog->find(type, version_numbers(version).first);
  if (!entry) return error_response(404, std::string(type) + " has no major version " + std::string(version.substr(0, version.find('.'))));
  for (const auto& v : entry->versions()) {
    if (v.version != version) continue;
    json::object body = entry_summary(*entry);
    body["version"] = v.version;
    body["schema"] = json::parse(v.schema_json);
    if (v.version == entry->version) body["sample"] = json::parse(entry->sample_json);
    return json_response(200, body);
  }
  return error_response(404, std::string(type) + " has no version " + std::string(version));
}

http_response catalog_registry::register_version(std::string_view type, std::string_view body_text) {
  if (!is_event_type(type)) return error_response(404, "\"" + std::string(type) + "\" is not an event type");
  boost::system::error_code ec;
  auto body_value = json::parse(body_text, ec);
  if (ec || !body_value.is_object()) return error_response(400, "the body must be a JSON object (a catalog entry)");
  auto& body = body_value.as_object();
  if (const auto* given = body.if_contains("type"); given && (!given->is_string() || given->as_string() != type)) {
    return error_response(400, "/type in the body must be \"" + std::string(type) + "\" as in the path");
  }
  const auto* version_value = body.if_contains("version");
  if (!version_value || !version_value->is_string() || !is_event_version(version_value->as_string())) {
    return error_response(400, "/version is required: \"MAJOR.MINOR\"");
  }
  const std::string version(version_value->as_string());
  const auto [major, minor] = version_numbers(version);

  std::lock_guard lock(mutex_);
  const auto relative = relative_file(type, major);
  const auto file = directory_ / relative;
  json::object entry;
  if (std::filesystem::exists(file)) {
    auto existing = read_json_file(file);
    if (!existing || !existing->is_object()) return error_response(500, "registered file unreadable: " + file.string());
    entry = existing->as_object();
    const std::string current_version(entry["version"].as_string());
    if (version_numbers(current_version).second >= minor) {
      return error_response(409, "version " + version + " is not newer than the registered " + current_version);
    }
    // The registered minor moves into the history; the body replaces what it names.
    if (!entry.contains("history")) entry["history"] = json::array{};
    entry["history"].as_array().emplace_back(json::object{{"version", current_version}, {"schema", entry["schema"]}});
    for (const auto& [name, value] : body) entry[name] = value;
  } else {
    entry = body;
    entry["type"] = type;
  }

  // Check the catalog as it would be, in a scratch copy, with the same rules as `catalog check`.
  const auto scratch = std::filesystem::temp_directory_path() / ("aw-events-registry-" + new_uuid_v4());
  std::error_code copy_error;
  std::filesystem::copy(directory_, scratch, std::filesystem::copy_options::recursive, copy_error);
  if (copy_error) return error_response(500, "cannot stage the change: " + copy_error.message());
  const auto text = json::serialize(entry);
  if (auto staged = write_file_atomically(scratch / relative, text); !staged) {
    std::filesystem::remove_all(scratch, copy_error);
    return error_response(500, staged.error().message);
  }
  const auto problems = event_catalog::check_directory(scratch, mode_);
  std::filesystem::remove_all(scratch, copy_error);
  json::array compatibility, other;
  for (const auto& p : problems) {
    json::object item{{"file", p.file}, {"location", p.location}, {"rule", p.rule}, {"message", p.message}};
    if (!p.against.empty()) item["against"] = p.against;
    (p.rule.starts_with("compatibility/") ? compatibility : other).emplace_back(std::move(item));
  }
  if (!other.empty()) return error_response(422, "the entry is not valid", std::move(other));
  if (!compatibility.empty()) {
    return error_response(409, std::string(type) + " " + version + " is not compatible (" +
                                   std::string(to_string(mode_)) + ")", std::move(compatibility));
  }
  if (auto written = write_file_atomically(file, text); !written) return error_response(500, written.error().message);
  auto reloaded = event_catalog::load_directory(directory_);
  if (!reloaded) return error_response(500, "registered, but the catalog no longer loads: " + reloaded.error().describe());
  current_ = std::make_shared<const event_catalog>(std::move(*reloaded));
  log::info("catalog version registered", {{"type", type}, {"version", version}, {"file", file.string()}});
  return json_response(201, json::object{{"type", type}, {"version", version}, {"file", relative.string()}});
}

}  // namespace aw::events::server
