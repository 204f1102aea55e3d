#include "aw/events/envelope.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>

#include "aw/events/ids.hpp"
#include "core/envelope_rules.hpp"
#include "core/json_check.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace detail {
namespace {

constexpr std::array<std::string_view, 7> member_names{"id",     "type",           "version",      "timestamp",
                                                       "correlation_id", "source", "trace_context"};

bool is_lower_alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z][a-z0-9]*(_[a-z0-9]+)*
bool is_snake_case_segment(std::string_view s) noexcept {
  if (s.empty() || s[0] < 'a' || s[0] > 'z' || s.back() == '_') return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (s[i - 1] == '_') return false;
    } else if (!is_lower_alnum(s[i])) {
      return false;
    }
  }
  return true;
}

// Non-negative integer without leading zeros, at most 9 digits so that it fits an int.
bool is_version_number(std::string_view s) noexcept {
  if (s.empty() || s.size() > 9 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int parse_version_number(std::string_view s) noexcept {
  int n = 0;
  for (char c : s) n = n * 10 + (c - '0');
  return n;
}

const char* correlation_id_problem(std::string_view s) noexcept {
  if (s.empty()) return "must be a non-empty string";
  if (s.size() > max_correlation_id_bytes) return "must be at most 256 bytes long";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "must not contain control characters";
  }
  if (!is_valid_utf8(s)) return "must be valid UTF-8";
  return nullptr;
}

// [a-z][a-z0-9_-]*
const char* source_problem(std::string_view s) noexcept {
  if (s.empty()) return "must be a non-empty string naming the producing service";
  if (s[0] < 'a' || s[0] > 'z') return "must be a lowercase service name matching [a-z][a-z0-9_-]*";
  for (char c : s) {
    if (!is_lower_alnum(c) && c != '_' && c != '-') {
      return "must be a lowercase service name matching [a-z][a-z0-9_-]*";
    }
  }
  return nullptr;
}

// A short, printable excerpt of a bad value for messages; never splits a UTF-8 sequence.
std::string excerpt(std::string_view value) {
  constexpr std::size_t limit = 64;
  if (!is_valid_utf8(value)) return {};
  std::string_view cut = value;
  if (cut.size() > limit) {
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(cut[n]) & 0xC0) == 0x80) --n;
    cut = cut.substr(0, n);
  }
  std::string out = json_string(cut);
  if (cut.size() < value.size()) out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace

std::string_view meta_member_name(meta_member m) noexcept {
  const auto index = static_cast<std::size_t>(m);
  return index < member_names.size() ? member_names[index] : std::string_view{};
}

meta_member meta_member_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < member_names.size(); ++i) {
    if (member_names[i] == name) return static_cast<meta_member>(i);
  }
  return meta_member::count;
}

const char* meta_string_problem(meta_member m, std::string_view value) noexcept {
  switch (m) {
    case meta_member::id:
      return is_uuid_v4(value) ? nullptr
                               : "must be a UUID v4 in lowercase canonical form (8-4-4-4-12 hex digits, "
                                 "version 4, variant 8, 9, a or b)";
    case meta_member::type:
      return is_event_type(value) ? nullptr
                                  : "must be service.resource.action: exactly three lowercase snake_case "
                                    "segments, each matching [a-z][a-z0-9]*(_[a-z0-9]+)*";
    case meta_member::version:
      return is_event_version(value) ? nullptr
                                     : "must be MAJOR.MINOR: integers without leading zeros, MAJOR at least 1 "
                                       "(for example \"1.0\")";
    case meta_member::timestamp:
      return is_utc_millis_timestamp(value) ? nullptr
                                            : "must be a real UTC RFC 3339 time with exactly milliseconds and Z "
                                              "(for example \"2023-06-15T14:22:31.123Z\")";
    case meta_member::correlation_id: return correlation_id_problem(value);
    case meta_member::source: return source_problem(value);
    case meta_member::trace_context:
    case meta_member::count: break;
  }
  return "is not a string member";
}

const char* trace_id_problem(std::string_view value) noexcept {
  return is_trace_id(value) ? nullptr : "must be 32 lowercase hex digits, not all zero (W3C trace-id)";
}

const char* span_id_problem(std::string_view value) noexcept {
  return is_span_id(value) ? nullptr : "must be 16 lowercase hex digits, not all zero (W3C parent-id)";
}

validation_error rule_error(std::string instance_location, std::string_view rule, std::string message) {
  std::string keyword;
  keyword.reserve(10 + instance_location.size() + rule.size());
  keyword += "/envelope";
  keyword += instance_location;
  keyword.push_back('/');
  keyword += rule;
  return validation_error{std::move(instance_location), std::move(keyword), std::move(message)};
}

validation_error missing_member(std::string instance_location) {
  return rule_error(std::move(instance_location), "required", "missing required member");
}

validation_error wrong_type(std::string instance_location, std::string_view expected, std::string_view found) {
  std::string message = "must be ";
  message += expected;
  message += ", found ";
  message += found;
  return rule_error(std::move(instance_location), "type", std::move(message));
}

validation_error duplicate_member(std::string instance_location) {
  return rule_error(std::move(instance_location), "duplicate", "member appears more than once; it must be unique");
}

validation_error bad_format(std::string instance_location, const char* problem, std::string_view value) {
  std::string message = problem;
  const std::string quoted = excerpt(value);
  if (!quoted.empty()) {
    message += ", found ";
    message += quoted;
  }
  return rule_error(std::move(instance_location), "format", std::move(message));
}

error envelope_error(std::vector<validation_error> details) {
  std::string message = "event breaks ";
  message += std::to_string(details.size());
  message += details.size() == 1 ? " envelope rule" : " envelope rules";
  if (!details.empty()) {
    message += "; first: ";
    message += details.front().instance_location.empty() ? "(root)" : details.front().instance_location;
    message += " ";
    message += details.front().message;
  }
  return error{errc::invalid_envelope, std::move(message), is_retriable(errc::invalid_envelope), std::move(details)};
}

}  // namespace detail

namespace {

// Checks that extra_members is a comma-joined list of `"name":value` pairs that would not clash
// with the standard members once encoded (a clash would make the encoded meta ambiguous).
void check_extra_members(std::string_view extra, std::vector<validation_error>& errors) {
  if (extra.empty()) return;
  std::string wrapped;
  wrapped.reserve(extra.size() + 2);
  wrapped.push_back('{');
  wrapped += extra;
  wrapped.push_back('}');
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object members;
  if (auto err = parser.parse(wrapped).get(members); err) {
    errors.push_back(detail::rule_error("/meta", "extra_members",
                                        std::string("extra members must be comma-separated \"name\":value JSON "
                                                    "members: ") +
                                            simdjson::error_message(err)));
    return;
  }
  std::vector<std::string_view> seen;
  for (auto [key, value] : members) {
    (void)value;
    const std::string location = "/meta/" + detail::pointer_token(key);
    if (detail::meta_member_from_name(key) != detail::meta_member::count) {
      errors.push_back(detail::rule_error(location, "extra_members",
                                          "extra member repeats a standard meta member; set the field instead"));
    } else if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      errors.push_back(detail::duplicate_member(location));
    } else {
      seen.push_back(key);
    }
  }
}

}  // namespace

std::string_view envelope::service() const noexcept {
  const std::string_view type = meta.type;
  return type.substr(0, type.find('.'));
}

int envelope::major_version() const noexcept {
  if (!is_event_version(meta.version)) return -1;
  const std::string_view version = meta.version;
  return detail::parse_version_number(version.substr(0, version.find('.')));
}

void encode_to(const envelope& event, std::string& out) {
  const event_meta& m = event.meta;
  // Fixed text is ~130 bytes; escapes are rare, so this reserve almost always avoids regrowth.
  out.reserve(out.size() + 160 + m.id.size() + m.type.size() + m.version.size() + m.timestamp.size() +
              m.correlation_id.size() + m.source.size() + m.trace.trace_id.size() + m.trace.span_id.size() +
              m.extra_members.size() + event.data.size());
  out += R"({"meta":{"id":)";
  detail::append_json_string(out, m.id);
  out += R"(,"type":)";
  detail::append_json_string(out, m.type);
  out += R"(,"version":)";
  detail::append_json_string(out, m.version);
  out += R"(,"timestamp":)";
  detail::append_json_string(out, m.timestamp);
  out += R"(,"correlation_id":)";
  detail::append_json_string(out, m.correlation_id);
  out += R"(,"source":)";
  detail::append_json_string(out, m.source);
  out += R"(,"trace_context":{"trace_id":)";
  detail::append_json_string(out, m.trace.trace_id);
  out += R"(,"span_id":)";
  detail::append_json_string(out, m.trace.span_id);
  out.push_back('}');
  if (!m.extra_members.empty()) {
    out.push_back(',');
    out += m.extra_members;
  }
  out += R"(},"data":)";
  out += event.data;
  out.push_back('}');
}

std::string encode(const envelope& event) {
  std::string out;
  encode_to(event, out);
  return out;
}

std::vector<validation_error> validate_envelope(const envelope& event) {
  using detail::meta_member;
  std::vector<validation_error> errors;
  const event_meta& m = event.meta;
  const std::pair<meta_member, const std::string*> strings[] = {
      {meta_member::id, &m.id},
      {meta_member::type, &m.type},
      {meta_member::version, &m.version},
      {meta_member::timestamp, &m.timestamp},
      {meta_member::correlation_id, &m.correlation_id},
      {meta_member::source, &m.source},
  };
  for (const auto& [member, value] : strings) {
    if (const char* problem = detail::meta_string_problem(member, *value)) {
      errors.push_back(
          detail::bad_format("/meta/" + std::string(detail::meta_member_name(member)), problem, *value));
    }
  }
  if (const char* problem = detail::trace_id_problem(m.trace.trace_id)) {
    errors.push_back(detail::bad_format("/meta/trace_context/trace_id", problem, m.trace.trace_id));
  }
  if (const char* problem = detail::span_id_problem(m.trace.span_id)) {
    errors.push_back(detail::bad_format("/meta/trace_context/span_id", problem, m.trace.span_id));
  }
  check_extra_members(m.extra_members, errors);
  if (auto problem = detail::check_json_object(event.data, "/data")) {
    const bool is_type_problem = problem->keyword_location == "/type";
    errors.push_back(detail::rule_error("/data", is_type_problem ? "type" : "json", std::move(problem->message)));
  }
  return errors;
}

bool is_uuid_v4(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  unsigned wrong = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    wrong |= static_cast<unsigned>(dash_position ? c != '-' : !hex);
  }
  if (wrong != 0) return false;
  const char variant = s[19];
  return s[14] == '4' && (variant == '8' || variant == '9' || variant == 'a' || variant == 'b');
}

bool is_event_type(std::string_view s) noexcept {
  const auto first = s.find('.');
  if (first == std::string_view::npos) return false;
  const auto second = s.find('.', first + 1);
  if (second == std::string_view::npos) return false;
  return detail::is_snake_case_segment(s.substr(0, first)) &&
         detail::is_snake_case_segment(s.substr(first + 1, second - first - 1)) &&
         detail::is_snake_case_segment(s.substr(second + 1));
}

bool is_event_version(std::string_view s) noexcept {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view major = s.substr(0, dot);
  const std::string_view minor = s.substr(dot + 1);
  return detail::is_version_number(major) && detail::is_version_number(minor) &&
         detail::parse_version_number(major) >= 1;
}

}  // namespace aw::events
