// The event catalog: every event type, per major version, with its data schema, producer, consumers,
// description and sample (docs/catalog.md). Loaded from a directory of JSON files; schemas are compiled
// once and the loaded catalog is immutable, so one instance is shared by publishers and subscribers.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events {

struct topic_overrides {
  std::optional<int> partitions;
  std::optional<int> retention_days;
};

struct deprecation {
  std::string date;  // "YYYY-MM-DD": from this day on producers should use the successor
  std::string note;  // what to use instead
};

// One MINOR version of a type whose schema is kept for compatibility checks and for events still
// carrying that version.
struct schema_version {
  std::string version;      // "MAJOR.MINOR"
  std::string schema_json;  // JSON Schema of `data`
};

// One file of the catalog: a type at one major version, described by its latest minor.
struct event_type_entry {
  std::string type;                      // service.resource.action
  std::string version;                   // latest "MAJOR.MINOR" of this major
  int major = 0;
  int minor = 0;
  std::string schema_json;               // JSON Schema of `data` at `version`
  std::string producer;                  // the producing service (= the type's service segment)
  std::vector<std::string> consumers;    // services expected to consume it
  std::string description;
  std::string sample_json;               // a complete sample envelope, valid against everything above
  std::optional<topic_overrides> topic;
  std::optional<deprecation> deprecated;
  std::vector<schema_version> history;   // older minors of this major, oldest first
  std::filesystem::path file;            // where it was loaded from

  // Every minor of this major, oldest first, ending with `version`.
  [[nodiscard]] std::vector<schema_version> versions() const;
};

// Confluent Schema Registry's modes. BACKWARD: the newer schema accepts data written with the older one;
// FORWARD: the older accepts data written with the newer; FULL: both. *_TRANSITIVE: against every earlier
// minor of the major, not only the previous one. NONE: no check.
enum class compatibility_mode { none, backward, backward_transitive, forward, forward_transitive, full, full_transitive };

// "BACKWARD", "full_transitive", … (case-insensitive); invalid_argument naming the accepted values otherwise.
[[nodiscard]] result<compatibility_mode> parse_compatibility_mode(std::string_view text);
[[nodiscard]] std::string_view to_string(compatibility_mode mode) noexcept;

// One reason why a schema change is incompatible.
struct compatibility_issue {
  std::string rule;      // e.g. "required_property_added", "enum_narrowed", "additional_properties_closed"
  std::string location;  // JSON Pointer into the newer schema ("" = its root)
  std::string message;   // names the property, keyword and both values
};

// Checks `newer` against `older` (two JSON Schemas of the same data) in one direction of `mode`
// (transitivity is the caller's business: it decides which pairs to compare). Fails with
// invalid_argument when either text is not JSON.
[[nodiscard]] result<std::vector<compatibility_issue>> check_compatibility(std::string_view older_schema,
                                                                           std::string_view newer_schema,
                                                                           compatibility_mode mode);

// One problem found in a catalog directory.
struct catalog_problem {
  std::string file;      // path relative to the catalog directory ("" for the directory itself)
  std::string location;  // JSON Pointer into the file (for compatibility: into the newer schema, under /schema)
  std::string rule;      // what was checked: "json", "format", "naming", "sample", "compatibility/<rule>", …
  std::string message;
  std::string type;      // the event type, when known
  std::string version;   // the version concerned, when known
  std::string against;   // for compatibility problems: the older version compared with
};

class event_catalog {
 public:
  // Loads every `*.json` file below `directory` (layout `<service>/<resource>.<action>.v<MAJOR>.json`).
  // Each file is validated completely (format, naming, schema compiles, sample valid); any problem fails
  // the load with errc::invalid_argument whose details name the file and the JSON Pointer of each problem.
  [[nodiscard]] static result<event_catalog> load_directory(const std::filesystem::path& directory);

  // Loads the catalog served by an `aw-events serve --catalog` registry at `url` ("http://HOST:PORT", a
  // path prefix allowed): GET /v1/catalog/types, then every version of every type, each type rebuilt as its
  // catalog file and checked like load_directory does. Errors name the URL, the request and what failed:
  // unavailable (cannot connect, HTTP error), timeout (10 s per request), invalid_argument (bad URL,
  // unexpected answer, or an invalid catalog, with details as load_directory).
  [[nodiscard]] static result<event_catalog> load_url(std::string_view url);

  // Everything `load_directory` checks plus compatibility between the minors of each major under `mode`.
  // Never fails: an unreadable directory is itself a problem.
  [[nodiscard]] static std::vector<catalog_problem> check_directory(const std::filesystem::path& directory,
                                                                    compatibility_mode mode = compatibility_mode::backward);

  // The entry of `type` at major version `major`, or null. The pointer lives as long as any copy of this catalog.
  [[nodiscard]] const event_type_entry* find(std::string_view type, int major) const;
  // The version a producer writes for `type` when it names none: the latest minor of the highest major that
  // is not retired (its deprecation date is after `today`), or of the highest major when all are retired;
  // nullopt when the type is unknown. `today` is "YYYY-MM-DD" (empty: the current UTC date).
  [[nodiscard]] std::optional<std::string> default_version(std::string_view type, std::string_view today = {}) const;
  // All entries, ordered by type then major.
  [[nodiscard]] std::vector<const event_type_entry*> entries() const;

  // Checks `data_json` (the `data` object of an event of `type` at `version`) against the schema of that
  // version (format assertion on). Errors: unknown_event_type (type not in the catalog), unsupported_version
  // (no such major, or a minor newer than the catalog knows), schema_violation (details located under "/data").
  // Thread-safe.
  [[nodiscard]] result<void> validate_data(std::string_view type, std::string_view version,
                                           std::string_view data_json) const;

  event_catalog(const event_catalog&) = default;
  event_catalog(event_catalog&&) noexcept = default;
  event_catalog& operator=(const event_catalog&) = default;
  event_catalog& operator=(event_catalog&&) noexcept = default;
  ~event_catalog() = default;

  struct state;  // defined in src/catalog

 private:
  explicit event_catalog(std::shared_ptr<const state> state);
  std::shared_ptr<const state> state_;
};

// True when a --catalog / AW_EVENTS_CATALOG value names a registry (http:// or https://) rather than a directory.
[[nodiscard]] bool is_catalog_url(std::string_view location) noexcept;

// The AsyncAPI 3.0 document of a catalog: channels = topics (per_service strategy, dead-letter topics
// excluded), operations = send per producer and receive per consumer, messages = each type and major with
// its payload schema (the envelope with the data schema) and its sample as example.
[[nodiscard]] std::string export_asyncapi(const event_catalog& catalog);

// Writes a static HTML site documenting the catalog into `out_dir` (created when missing): index.html
// (types grouped by producing service, with an offline search box), one page per type and major
// (`<type>.v<MAJOR>.html`: description, producer, consumers, topic, versions, deprecation, the data schema
// as a table, the sample) and style.css. No network, no external assets; same catalog, same bytes.
// Fails with invalid_argument naming the path when the directory or a file cannot be written.
[[nodiscard]] result<void> write_docs_site(const event_catalog& catalog, const std::string& out_dir);

}  // namespace aw::events
