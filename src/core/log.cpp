#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "aw/events/ids.hpp"
#include "core/json_text.hpp"

namespace aw::events::log {
namespace {

level initial_level() {
  const char* env = std::getenv("AW_EVENTS_LOG_LEVEL");
  const std::string_view v = env ? env : "";
  if (v == "debug") return level::debug;
  if (v == "warn") return level::warn;
  if (v == "error") return level::error;
  return level::info;
}

std::atomic<level>& min_level() {
  static std::atomic<level> lvl{initial_level()};
  return lvl;
}

constexpr std::string_view name_of(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

}  // namespace

void set_min_level(level lvl) { min_level().store(lvl); }
bool enabled(level lvl) noexcept { return lvl >= min_level().load(std::memory_order_relaxed); }

void write(level lvl, std::string_view message, std::initializer_list<field> fields) {
  if (!enabled(lvl)) return;
  std::string line;
  line.reserve(128);
  line += "{\"ts\":";
  detail::append_json_string(line, now_timestamp());
  line += ",\"level\":\"";
  line += name_of(lvl);
  line += "\",\"msg\":";
  detail::append_json_string(line, message);
  for (const auto& [key, value] : fields) {
    line.push_back(',');
    detail::append_json_string(line, key);
    line.push_back(':');
    detail::append_json_string(line, value);
  }
  line += "}\n";
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aw::events::log
