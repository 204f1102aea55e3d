// The metaschemas of draft-07 and draft 2020-12 (with its vocabulary metaschemas), embedded so
// that "$ref" to them works offline.
#pragma once

#include <optional>
#include <string_view>

namespace aw::events::schema_detail {

// The text of the metaschema with this URI (a trailing empty fragment is ignored), if embedded.
[[nodiscard]] std::optional<std::string_view> embedded_metaschema(std::string_view uri) noexcept;

}  // namespace aw::events::schema_detail
