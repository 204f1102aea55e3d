// Small helpers for writing JSON text by hand (the hot paths avoid a DOM).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events::detail {

// Appends s as a JSON string literal (with quotes), escaping per RFC 8259. Invalid UTF-8 is not
// repaired here: callers validate UTF-8 where bytes come from outside.
void append_json_string(std::string& out, std::string_view s);
[[nodiscard]] std::string json_string(std::string_view s);

// Appends [{"instanceLocation","keywordLocation","error"}…]: validation errors in JSON Schema's "basic"
// output form, as the CLI, dead letters and the gateway all report them.
void append_validation_errors(std::string& out, const std::vector<validation_error>& errors);

// JSON Pointer token escaping (RFC 6901): ~ -> ~0, / -> ~1.
[[nodiscard]] std::string pointer_token(std::string_view token);

// True when bytes are well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view bytes) noexcept;

// Standard base64 (RFC 4648, with padding).
[[nodiscard]] std::string base64_encode(std::string_view bytes);

}  // namespace aw::events::detail
