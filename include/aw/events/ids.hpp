// Identifiers, clocks and trace context generation (the producer's duties 1, 2 and 4).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aw/events/envelope.hpp"

namespace aw::events {

// UUID v4 from a CSPRNG (OpenSSL RAND_bytes, buffered per thread), lowercase canonical form.
[[nodiscard]] std::string new_uuid_v4();

// RFC 3339 UTC with exactly milliseconds and Z: 2023-06-15T14:22:31.123Z.
[[nodiscard]] std::string format_timestamp(std::chrono::system_clock::time_point t);
[[nodiscard]] std::string now_timestamp();
// Inverse of format_timestamp; nullopt when s is not in exactly that form.
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s);

// W3C Trace Context.
[[nodiscard]] trace_context new_trace();                           // fresh trace and span id
[[nodiscard]] trace_context child_span(const trace_context& parent); // same trace, new span
// "00-<trace_id>-<span_id>-01"
[[nodiscard]] std::string to_traceparent(const trace_context& t);
// Parses a traceparent header (version 00, lowercase hex, ids not all zero); nullopt if malformed.
[[nodiscard]] std::optional<trace_context> parse_traceparent(std::string_view header);

// Java-compatible murmur2 partitioning (Kafka's DefaultPartitioner / librdkafka murmur2_random).
[[nodiscard]] std::uint32_t murmur2(std::string_view key) noexcept;
// Partition for a non-empty key: (murmur2(key) & 0x7fffffff) % partition_count.
[[nodiscard]] std::int32_t partition_for_key(std::string_view key, std::int32_t partition_count) noexcept;

}  // namespace aw::events
