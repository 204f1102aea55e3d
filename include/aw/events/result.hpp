// Errors are values: one error type, one code enum, one coarse condition (retriable or permanent).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace aw::events {

// Fine-grained error codes. Callers usually test the coarse condition via error::retriable().
enum class errc {
  invalid_argument = 1,   // bad configuration or call arguments
  invalid_json,           // bytes are not well-formed UTF-8 JSON
  invalid_envelope,       // JSON, but breaks a rule of the envelope (details say where)
  schema_violation,       // data does not match its catalog schema
  unknown_event_type,     // no handler / catalog entry for the type
  unsupported_version,    // type known, version not
  not_found,              // a named thing (topic, record, file) does not exist
  timeout,                // the operation did not finish in time; may succeed on retry
  unavailable,            // broker / store unreachable; retriable
  broker_error,           // retriable broker-side failure
  message_too_large,      // permanent: the record exceeds the transport's limit
  authorization_failed,   // permanent
  invalid_topic,          // permanent
  storage_error,          // local SQLite failure
  queue_full,             // a bounded queue is full; retriable
  closed,                 // the object was closed / shut down
  fatal,                  // the client instance is unusable and must be recreated
  handler_failed,         // a user handler reported failure
  internal,               // a bug in aw-events: report it
};

std::string_view to_string(errc code) noexcept;

// One problem found while checking a document: where in the instance, which rule, what is wrong.
struct validation_error {
  std::string instance_location;  // JSON Pointer into the checked document, "" for the root
  std::string keyword_location;   // the rule that failed, e.g. "/envelope/meta/id/format"
  std::string message;            // human readable, names what is wrong
  bool operator==(const validation_error&) const = default;
};

struct error {
  errc code = errc::internal;
  std::string message;
  bool retriable_ = false;
  std::vector<validation_error> details;  // for invalid_envelope / schema_violation

  // True when trying again later may succeed (timeouts, unavailable brokers, full queues).
  [[nodiscard]] bool retriable() const noexcept { return retriable_; }
  // "code: message" plus the first detail's location, for logs and CLI output.
  [[nodiscard]] std::string describe() const;
};

// The default retriable flag for a code; make_error uses it.
bool is_retriable(errc code) noexcept;

template <class T>
using result = tl::expected<T, error>;

[[nodiscard]] inline tl::unexpected<error> make_error(errc code, std::string message,
                                                      std::vector<validation_error> details = {}) {
  return tl::unexpected<error>(error{code, std::move(message), is_retriable(code), std::move(details)});
}

[[nodiscard]] inline tl::unexpected<error> make_error(error e) { return tl::unexpected<error>(std::move(e)); }

}  // namespace aw::events
