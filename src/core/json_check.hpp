// Well-formedness checks for JSON text that comes from callers (the raw publish path).
#pragma once

#include <optional>
#include <string_view>

#include "aw/events/result.hpp"

namespace aw::events::detail {

// nullopt when text is one well-formed JSON object (UTF-8, nothing after it); otherwise the problem,
// located at `location` (a JSON Pointer naming where the text sits, e.g. "/data").
[[nodiscard]] std::optional<validation_error> check_json_object(std::string_view text, std::string_view location);

}  // namespace aw::events::detail
