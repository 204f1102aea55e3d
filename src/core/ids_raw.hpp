// Allocation-free forms of the id, clock and trace generators of aw/events/ids.hpp, for the publish hot
// path: each writes a fixed number of characters into the caller's buffer (no terminating NUL).
#pragma once

#include <cstddef>

namespace aw::events::detail {

inline constexpr std::size_t uuid_chars = 36;
inline constexpr std::size_t timestamp_chars = 24;
inline constexpr std::size_t trace_id_chars = 32;
inline constexpr std::size_t span_id_chars = 16;

// UUID v4, lowercase canonical (the same generator as new_uuid_v4).
void write_uuid_v4(char* out) noexcept;
// The current UTC time as now_timestamp() writes it.
void write_now_timestamp(char* out) noexcept;
// Random lowercase hex id of `chars` / 2 bytes, never all zero (W3C trace-id: 32, parent-id: 16).
void write_random_hex_id(char* out, std::size_t chars) noexcept;

}  // namespace aw::events::detail
