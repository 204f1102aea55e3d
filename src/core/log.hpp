// Structured logs: one JSON object per line on stderr ({"ts","level","msg",fields...}).
// Never log secrets (tokens, keys): callers pass only what may be read by operators.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace aw::events::log {

enum class level { debug, info, warn, error };

using field = std::pair<std::string_view, std::string_view>;

void write(level lvl, std::string_view message, std::initializer_list<field> fields = {});
inline void debug(std::string_view m, std::initializer_list<field> f = {}) { write(level::debug, m, f); }
inline void info(std::string_view m, std::initializer_list<field> f = {}) { write(level::info, m, f); }
inline void warn(std::string_view m, std::initializer_list<field> f = {}) { write(level::warn, m, f); }
inline void error(std::string_view m, std::initializer_list<field> f = {}) { write(level::error, m, f); }

// Lines below this level are dropped. Default info; AW_EVENTS_LOG_LEVEL=debug|info|warn|error overrides.
void set_min_level(level lvl);
[[nodiscard]] bool enabled(level lvl) noexcept;

}  // namespace aw::events::log
