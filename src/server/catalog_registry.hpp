// The catalog registry API of `serve`: read the catalog, register new versions after the same checks as
// `aw-events catalog check`. The catalog directory is the registry's storage: a registered version is a
// file written there (atomically), so git, `catalog check` and the registry always agree.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "aw/events/catalog.hpp"
#include "server/http_server.hpp"

namespace aw::events::server {

class catalog_registry {
 public:
  // Loads the directory (it must be a valid catalog). `mode` decides which changes POST accepts.
  static result<std::unique_ptr<catalog_registry>> open(std::filesystem::path directory,
                                                        compatibility_mode mode = compatibility_mode::backward);

  // GET /v1/catalog/types, GET /v1/catalog/types/{type}/versions/{version},
  // POST /v1/catalog/types/{type}/versions (201; 400 bad body; 409 incompatible or not newer; 422 invalid).
  void mount(http_server& server);

  // The catalog as last loaded; publishers in the same process may share it. Thread-safe.
  [[nodiscard]] std::shared_ptr<const event_catalog> current() const;

  http_response list_types() const;
  http_response get_version(std::string_view type, std::string_view version) const;
  http_response register_version(std::string_view type, std::string_view body);

 private:
  catalog_registry(std::filesystem::path directory, compatibility_mode mode, std::shared_ptr<const event_catalog> c);
  std::filesystem::path directory_;
  compatibility_mode mode_;
  mutable std::mutex mutex_;  // guards current_; register_version holds it for the whole write
  std::shared_ptr<const event_catalog> current_;
};

}  // namespace aw::events::server
