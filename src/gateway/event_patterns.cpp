#include "gateway/event_patterns.hpp"

namespace aw::events::gateway {

namespace {

bool is_segment(std::string_view s) noexcept {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

result<event_pattern> parse_event_pattern(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    parts.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const auto quoted = "pattern \"" + std::string(text.substr(0, 64)) + "\"";
  if (parts.size() > 3) return make_error(errc::invalid_argument, quoted + " has more than three segments");
  event_pattern pattern;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != "*" && !is_segment(parts[i])) {
      return make_error(errc::invalid_argument, quoted + ": segment " + std::to_string(i + 1) +
                                                    " must be \"*\" or lowercase snake_case");
    }
    pattern.segments[i] = std::string(parts[i]);
  }
  if (parts.size() < 3) {
    if (parts.back() != "*") {
      return make_error(errc::invalid_argument, quoted + " must have three segments or end in \"*\"");
    }
    for (std::size_t i = parts.size(); i < 3; ++i) pattern.segments[i] = "*";
  }
  return pattern;
}

bool event_pattern::matches(std::string_view event_type) const noexcept {
  std::size_t start = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto dot = event_type.find('.', start);
    if ((i < 2) == (dot == std::string_view::npos)) return false;
    const auto segment = event_type.substr(start, i < 2 ? dot - start : std::string_view::npos);
    if (segments[i] != "*" && segments[i] != segment) return false;
    start = dot + 1;
  }
  return true;
}

bool event_pattern::covered_by(const event_pattern& grant) const noexcept {
  for (std::size_t i = 0; i < 3; ++i) {
    if (grant.segments[i] != "*" && grant.segments[i] != segments[i]) return false;
  }
  return true;
}

std::string event_pattern::text() const { return segments[0] + "." + segments[1] + "." + segments[2]; }

bool granted(const std::vector<event_pattern>& grants, const event_pattern& requested) noexcept {
  for (const auto& g : grants) {
    if (requested.covered_by(g)) return true;
  }
  return false;
}

}  // namespace aw::events::gateway
