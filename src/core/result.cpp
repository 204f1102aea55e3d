#include "aw/events/result.hpp"

namespace aw::events {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::invalid_json: return "invalid_json";
    case errc::invalid_envelope: return "invalid_envelope";
    case errc::schema_violation: return "schema_violation";
    case errc::unknown_event_type: return "unknown_event_type";
    case errc::unsupported_version: return "unsupported_version";
    case errc::not_found: return "not_found";
    case errc::timeout: return "timeout";
    case errc::unavailable: return "unavailable";
    case errc::broker_error: return "broker_error";
    case errc::message_too_large: return "message_too_large";
    case errc::authorization_failed: return "authorization_failed";
    case errc::invalid_topic: return "invalid_topic";
    case errc::storage_error: return "storage_error";
    case errc::queue_full: return "queue_full";
    case errc::closed: return "closed";
    case errc::fatal: return "fatal";
    case errc::handler_failed: return "handler_failed";
    case errc::internal: return "internal";
  }
  return "unknown";
}

bool is_retriable(errc code) noexcept {
  switch (code) {
    case errc::timeout:
    case errc::unavailable:
    case errc::broker_error:
    case errc::queue_full:
    case errc::storage_error:
    case errc::fatal:  // the instance must be recreated, then the operation can be retried
      return true;
    default:
      return false;
  }
}

std::string error::describe() const {
  std::string out(to_string(code));
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  if (!details.empty()) {
    out += " at ";
    out += details.front().instance_location.empty() ? "(root)" : details.front().instance_location;
    out += ": ";
    out += details.front().message;
  }
  return out;
}

}  // namespace aw::events
