// The loaded form of an event catalog, shared by the loader, the lookups and the exporters.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "aw/events/catalog.hpp"
#include "aw/events/json_schema.hpp"

namespace aw::events {

struct compiled_version {
  std::string version;
  int minor = 0;
  json_schema schema;
};

struct catalog_major {
  event_type_entry entry;
  std::vector<compiled_version> compiled;  // every minor of the major, ascending
};

struct event_catalog::state {
  // type -> major -> entry; immutable once built, so concurrent reads need no lock.
  std::map<std::string, std::map<int, catalog_major>, std::less<>> types;
};

namespace detail {

// Catalog schemas always run with format assertion on: "format" is part of the contract producers
// and consumers agree on, not a hint.
[[nodiscard]] schema_options catalog_schema_options();

// Builds the catalog from `directory`, appending every problem found (files, naming, schemas,
// samples). The catalog holds the files that loaded cleanly.
[[nodiscard]] std::shared_ptr<event_catalog::state> load_catalog_state(const std::filesystem::path& directory,
                                                                        std::vector<catalog_problem>& problems);

// One catalog file that did not come from a directory (e.g. rebuilt from a registry's answers).
struct catalog_document {
  std::string file;                // the path it would have in a catalog directory (naming rules apply)
  std::string text;                // the file's JSON
  std::filesystem::path origin;    // recorded as event_type_entry::file (e.g. the registry URL)
};

// The same checks as load_catalog_state over documents instead of a directory.
[[nodiscard]] std::shared_ptr<event_catalog::state> load_catalog_state(const std::vector<catalog_document>& documents,
                                                                        std::vector<catalog_problem>& problems);

}  // namespace detail
}  // namespace aw::events
