// RFC 3986 reference resolution, enough for JSON Schema "$id" and "$ref".
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace aw::events::schema_detail::uri {

// Resolves reference against base (RFC 3986 section 5.2), removing dot segments.
[[nodiscard]] std::string resolve(std::string_view base, std::string_view reference);

// Splits "absolute#fragment" into the part before '#' and the (still percent-encoded) fragment.
[[nodiscard]] std::pair<std::string, std::string> split_fragment(std::string_view uri);

}  // namespace aw::events::schema_detail::uri
