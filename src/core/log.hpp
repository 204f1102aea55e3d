// Structured logs: one JSON object per line on stderr ({"ts","level","msg",fields...}), or a human-readable
// line with AW_EVENTS_LOG_FORMAT=text. Lines written while an event context is current (a handler runs, a
// service set one) carry its correlation_id, trace_id and span_id; lines carry the service once set_service
// ran. Never log secrets (tokens, keys): callers pass only what may be read by operators.
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

enum class format { json, text };
// Default json; AW_EVENTS_LOG_FORMAT=text|json overrides.
void set_format(format f);
// Adds "service" to every line (unless a line names its own).
void set_service(std::string_view service);

}  // namespace aw::events::log
