// The envelope rules of DESIGN.md §3, shared by validate_envelope (built envelopes) and the
// decoder (wire bytes), so both report the same locations and messages.
#pragma once

#include <string>
#include <string_view>

#include "aw/events/result.hpp"

namespace aw::events::detail {

// The meta members the standard defines, in wire order.
enum class meta_member { id, type, version, timestamp, correlation_id, source, trace_context, count };

// Name as on the wire ("correlation_id"), or "" for meta_member::count.
[[nodiscard]] std::string_view meta_member_name(meta_member m) noexcept;
// The member for a wire name, or meta_member::count when the name is not a standard member.
[[nodiscard]] meta_member meta_member_from_name(std::string_view name) noexcept;

constexpr std::size_t max_correlation_id_bytes = 256;

// nullptr when value satisfies the rule of a string-valued member (every member but trace_context),
// otherwise what is wrong and what is expected.
[[nodiscard]] const char* meta_string_problem(meta_member m, std::string_view value) noexcept;
[[nodiscard]] const char* trace_id_problem(std::string_view value) noexcept;
[[nodiscard]] const char* span_id_problem(std::string_view value) noexcept;

// Every rule error has keyword_location "/envelope" + instance_location + "/" + rule, so that the
// rule (required, type, format, duplicate) and the place are both readable from it.
[[nodiscard]] validation_error rule_error(std::string instance_location, std::string_view rule, std::string message);
[[nodiscard]] validation_error missing_member(std::string instance_location);
[[nodiscard]] validation_error wrong_type(std::string instance_location, std::string_view expected,
                                          std::string_view found);
[[nodiscard]] validation_error duplicate_member(std::string instance_location);
// A format error that quotes (a prefix of) the offending value when it is printable UTF-8.
[[nodiscard]] validation_error bad_format(std::string instance_location, const char* problem, std::string_view value);

// The error code and summary message for a non-empty list of envelope rule violations.
[[nodiscard]] error envelope_error(std::vector<validation_error> details);

}  // namespace aw::events::detail
