// Event type patterns for grants and subscriptions: `content.book.published`, `content.book.*`, `content.*`,
// `*`. A `*` segment matches any one segment; a pattern of fewer than three segments must end in `*`, which
// then stands for all remaining segments (`content.*` = `content.*.*`).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events::gateway {

struct event_pattern {
  std::array<std::string, 3> segments;  // each "*" or a snake_case segment
  [[nodiscard]] bool matches(std::string_view event_type) const noexcept;
  // True when every type this pattern matches is also matched by `grant` (so a grant of `content.*` covers a
  // request for `content.book.*`, but `content.book.*` does not cover `content.*`).
  [[nodiscard]] bool covered_by(const event_pattern& grant) const noexcept;
  [[nodiscard]] std::string text() const;
  bool operator==(const event_pattern&) const = default;
};

// errc::invalid_argument naming the bad segment.
[[nodiscard]] result<event_pattern> parse_event_pattern(std::string_view text);

// True when some pattern of `grants` covers `requested`.
[[nodiscard]] bool granted(const std::vector<event_pattern>& grants, const event_pattern& requested) noexcept;

}  // namespace aw::events::gateway
