// The standard event envelope: {"meta":{...},"data":{...}} (DESIGN.md §3).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events {

struct trace_context {
  std::string trace_id;  // 32 lowercase hex, not all zero
  std::string span_id;   // 16 lowercase hex, not all zero
  bool operator==(const trace_context&) const = default;
};

struct event_meta {
  std::string id;              // UUID v4, lowercase canonical
  std::string type;            // service.resource.action, lowercase snake_case segments
  std::string version;         // MAJOR.MINOR
  std::string timestamp;       // UTC RFC 3339 with exactly milliseconds and Z
  std::string correlation_id;  // non-empty
  std::string source;          // producing service
  trace_context trace;
  // Unknown meta members, kept verbatim as `"name":value` pairs joined by commas (no braces).
  // They are ignored on read and written back unchanged on encode.
  std::string extra_members;
  bool operator==(const event_meta&) const = default;
};

struct envelope {
  event_meta meta;
  std::string data;  // the JSON text of the data object, verbatim
  bool operator==(const envelope&) const = default;

  // "service" segment of meta.type ("content" for "content.book.published").
  [[nodiscard]] std::string_view service() const noexcept;
  // MAJOR of meta.version, or -1 when the version is malformed.
  [[nodiscard]] int major_version() const noexcept;
};

// Compact JSON: {"meta":{id,type,version,timestamp,correlation_id,source,trace_context,<extra>},"data":<data>}.
// Does not validate; call validate_envelope first if the parts come from outside.
[[nodiscard]] std::string encode(const envelope& event);
void encode_to(const envelope& event, std::string& out);

// Every envelope rule of DESIGN.md §3 checked on an already built envelope (data must be a JSON object).
// Returns all problems found, each located by JSON Pointer; empty means valid.
[[nodiscard]] std::vector<validation_error> validate_envelope(const envelope& event);

// Parses and validates in one pass. Reuse one decoder per thread: it owns a parser and a padded buffer.
// Not thread-safe. Errors: invalid_json (with location) or invalid_envelope (all rule violations).
class envelope_decoder {
 public:
  envelope_decoder();
  ~envelope_decoder();
  envelope_decoder(envelope_decoder&&) noexcept;
  envelope_decoder& operator=(envelope_decoder&&) noexcept;

  [[nodiscard]] result<envelope> decode(std::string_view json);
  // Same checks and errors as decode, written into `out`. Its strings are cleared and refilled in place, so
  // decoding into one envelope again and again allocates nothing once their capacity suffices. On error
  // `out` holds whatever was read before the error was found: use it only on success.
  [[nodiscard]] result<void> decode_into(std::string_view json, envelope& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Convenience: one-off decode with a thread-local decoder.
[[nodiscard]] result<envelope> decode_envelope(std::string_view json);

// Per-rule checks, shared with the catalog and the CLI.
[[nodiscard]] bool is_uuid_v4(std::string_view s) noexcept;
[[nodiscard]] bool is_event_type(std::string_view s) noexcept;
[[nodiscard]] bool is_event_version(std::string_view s) noexcept;
[[nodiscard]] bool is_utc_millis_timestamp(std::string_view s) noexcept;
[[nodiscard]] bool is_trace_id(std::string_view s) noexcept;
[[nodiscard]] bool is_span_id(std::string_view s) noexcept;

}  // namespace aw::events
