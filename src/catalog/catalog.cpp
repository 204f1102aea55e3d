// Lookups and data validation over a loaded catalog, and the catalog-wide lint (catalog check).
#include "aw/events/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "aw/events/envelope.hpp"
#include "catalog/catalog_state.hpp"

namespace aw::events {

std::vector<schema_version> event_type_entry::versions() const {
  std::vector<schema_version> all = history;
  all.push_back({version, schema_json});
  return all;
}

event_catalog::event_catalog(std::shared_ptr<const state> state) : state_(std::move(state)) {}

result<event_catalog> event_catalog::load_directory(const std::filesystem::path& directory) {
  std::vector<catalog_problem> problems;
  auto state = detail::load_catalog_state(directory, problems);
  if (!problems.empty()) {
    std::vector<validation_error> details;
    details.reserve(problems.size());
    for (const auto& p : problems) details.push_back({p.location, p.rule, p.file + ": " + p.message});
    const auto& first = problems.front();
    return make_error(errc::invalid_argument,
                      "event catalog " + directory.string() + ": " + std::to_string(problems.size()) +
                          " problem(s); first: " + first.file + (first.location.empty() ? "" : " at " + first.location) +
                          ": " + first.message,
                      std::move(details));
  }
  return event_catalog(std::move(state));
}

const event_type_entry* event_catalog::find(std::string_view type, int major) const {
  auto found = state_->types.find(type);
  if (found == state_->types.end()) return nullptr;
  auto entry = found->second.find(major);
  return entry == found->second.end() ? nullptr : &entry->second.entry;
}

std::optional<std::string> event_catalog::default_version(std::string_view type, std::string_view today) const {
  auto found = state_->types.find(type);
  if (found == state_->types.end() || found->second.empty()) return std::nullopt;
  std::string date(today);
  if (date.empty()) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &utc);
    date = buf;
  }
  // Majors ascend in the map: walk down from the highest to the first one still in service.
  for (auto it = found->second.rbegin(); it != found->second.rend(); ++it) {
    const auto& entry = it->second.entry;
    if (!entry.deprecated || entry.deprecated->date > date) return entry.version;  // ISO dates compare as text
  }
  return found->second.rbegin()->second.entry.version;
}

std::vector<const event_type_entry*> event_catalog::entries() const {
  std::vector<const event_type_entry*> out;
  for (const auto& [type, majors] : state_->types) {
    for (const auto& [major, item] : majors) out.push_back(&item.entry);
  }
  return out;
}

result<void> event_catalog::validate_data(std::string_view type, std::string_view version,
                                          std::string_view data_json) const {
  auto found = state_->types.find(type);
  if (found == state_->types.end()) {
    return make_error(errc::unknown_event_type, "event type \"" + std::string(type) + "\" is not in the event catalog",
                      {{"/meta/type", "/catalog/type", "no catalog entry for this type"}});
  }
  auto unsupported = [&](const std::string& why) {
    return make_error(errc::unsupported_version,
                      std::string(type) + " version \"" + std::string(version) + "\" is not in the event catalog",
                      {{"/meta/version", "/catalog/version", why}});
  };
  if (!is_event_version(version)) return unsupported("not a version MAJOR.MINOR");
  const auto dot = version.find('.');
  int major = 0;
  int minor = 0;
  try {
    major = std::stoi(std::string(version.substr(0, dot)));
    minor = std::stoi(std::string(version.substr(dot + 1)));
  } catch (const std::exception&) {
    return unsupported("version number out of range");
  }
  auto item = found->second.find(major);
  if (item == found->second.end()) {
    std::string known;
    for (const auto& [m, _] : found->second) known += (known.empty() ? "" : ", ") + std::to_string(m);
    return unsupported("the catalog knows major version(s) " + known + " only");
  }
  const auto& compiled = item->second.compiled;
  // The exact minor when its schema is kept, else the next newer one: minors are backward compatible, so
  // a newer schema of the major accepts what an older minor wrote.
  auto schema = std::find_if(compiled.begin(), compiled.end(), [&](const compiled_version& v) { return v.minor >= minor; });
  if (schema == compiled.end()) {
    return unsupported("newer than the catalog's latest " + item->second.entry.version);
  }
  if (schema->schema.is_valid(data_json)) return {};
  auto errors = schema->schema.validate(data_json);
  for (auto& e : errors) e.instance_location = "/data" + e.instance_location;
  // describe() appends the first detail's location and message, so the message only counts them.
  const std::string count = std::to_string(errors.size()) + (errors.size() == 1 ? " problem" : " problems");
  return make_error(errc::schema_violation,
                    std::string(type) + " " + schema->version + ": data does not match its catalog schema (" + count + ")",
                    std::move(errors));
}

result<compatibility_mode> parse_compatibility_mode(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  static constexpr compatibility_mode all[] = {
      compatibility_mode::none,    compatibility_mode::backward,          compatibility_mode::backward_transitive,
      compatibility_mode::forward, compatibility_mode::forward_transitive, compatibility_mode::full,
      compatibility_mode::full_transitive};
  for (auto mode : all) {
    if (upper == to_string(mode)) return mode;
  }
  return make_error(errc::invalid_argument,
                    "compatibility mode \"" + std::string(text) +
                        "\": expected NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL or "
                        "FULL_TRANSITIVE");
}

std::string_view to_string(compatibility_mode mode) noexcept {
  switch (mode) {
    case compatibility_mode::none: return "NONE";
    case compatibility_mode::backward: return "BACKWARD";
    case compatibility_mode::backward_transitive: return "BACKWARD_TRANSITIVE";
    case compatibility_mode::forward: return "FORWARD";
    case compatibility_mode::forward_transitive: return "FORWARD_TRANSITIVE";
    case compatibility_mode::full: return "FULL";
    case compatibility_mode::full_transitive: return "FULL_TRANSITIVE";
  }
  return "NONE";
}

std::vector<catalog_problem> event_catalog::check_directory(const std::filesystem::path& directory,
                                                            compatibility_mode mode) {
  std::vector<catalog_problem> problems;
  auto state = detail::load_catalog_state(directory, problems);
  if (mode == compatibility_mode::none) return problems;
  const bool transitive = mode == compatibility_mode::backward_transitive ||
                          mode == compatibility_mode::forward_transitive || mode == compatibility_mode::full_transitive;
  for (const auto& [type, majors] : state->types) {
    for (const auto& [major, item] : majors) {
      const auto versions = item.entry.versions();
      const auto file = item.entry.file.lexically_relative(directory).generic_string();
      for (std::size_t newer = 1; newer < versions.size(); ++newer) {
        // The newer schema's place in the file: /history/i/schema, or /schema for the latest.
        const std::string base = newer + 1 == versions.size() ? "/schema" : "/history/" + std::to_string(newer) + "/schema";
        for (std::size_t older = transitive ? 0 : newer - 1; older < newer; ++older) {
          auto issues = check_compatibility(versions[older].schema_json, versions[newer].schema_json, mode);
          if (!issues) {
            problems.push_back({file, base, "compatibility", issues.error().message, type, versions[newer].version,
                                versions[older].version});
            continue;
          }
          for (auto& issue : *issues) {
            problems.push_back({file, base + issue.location, "compatibility/" + issue.rule,
                                issue.message + " (" + std::string(to_string(mode)) + ", " + versions[older].version +
                                    " -> " + versions[newer].version + ")",
                                type, versions[newer].version, versions[older].version});
          }
        }
      }
    }
  }
  return problems;
}

}  // namespace aw::events
