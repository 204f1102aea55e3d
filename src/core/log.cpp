#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "aw/events/context.hpp"

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

format initial_format() {
  const char* env = std::getenv("AW_EVENTS_LOG_FORMAT");
  return env && std::string_view(env) == "text" ? format::text : format::json;
}

std::atomic<format>& current_format() {
  static std::atomic<format> f{initial_format()};
  return f;
}

std::mutex& service_mutex() {
  static std::mutex m;
  return m;
}
std::string& service_name() {
  static std::string name;
  return name;
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

void set_format(format f) { current_format().store(f); }

void set_service(std::string_view service) {
  std::lock_guard lock(service_mutex());
  service_name() = service;
}

namespace {

bool names(std::initializer_list<field> fields, std::string_view key) {
  for (const auto& f : fields) {
    if (f.first == key) return true;
  }
  return false;
}

// A text value is quoted when it would not read back as one token.
void append_text_value(std::string& line, std::string_view value) {
  if (!value.empty() && value.find_first_of(" \"=\n\t") == std::string_view::npos) {
    line += value;
  } else {
    detail::append_json_string(line, value);
  }
}

}  // namespace

void write(level lvl, std::string_view message, std::initializer_list<field> fields) {
  if (!enabled(lvl)) return;
  // Fields added from the process and the current event context, unless the caller gave them.
  std::vector<field> implicit;
  std::string service;
  {
    std::lock_guard lock(service_mutex());
    service = service_name();
  }
  if (!service.empty() && !names(fields, "service")) implicit.emplace_back("service", service);
  if (const auto* ctx = current_context()) {
    if (!ctx->correlation_id.empty() && !names(fields, "correlation_id")) {
      implicit.emplace_back("correlation_id", ctx->correlation_id);
    }
    if (ctx->trace && !names(fields, "trace_id")) {
      implicit.emplace_back("trace_id", ctx->trace->trace_id);
      implicit.emplace_back("span_id", ctx->trace->span_id);
    }
  }
  std::string line;
  line.reserve(160);
  if (current_format().load(std::memory_order_relaxed) == format::text) {
    line += now_timestamp();
    line += ' ';
    std::string upper(name_of(lvl));
    for (auto& c : upper) c = static_cast<char>(c - 'a' + 'A');
    upper.resize(5, ' ');
    line += upper;
    line += ' ';
    line += message;
    const auto append = [&line](const field& f) {
      line += ' ';
      line += f.first;
      line += '=';
      append_text_value(line, f.second);
    };
    for (const auto& f : fields) append(f);
    for (const auto& f : implicit) append(f);
    line += '\n';
  } else {
    line += "{\"ts\":";
    detail::append_json_string(line, now_timestamp());
    line += ",\"level\":\"";
    line += name_of(lvl);
    line += "\",\"msg\":";
    detail::append_json_string(line, message);
    const auto append = [&line](const field& f) {
      line.push_back(',');
      detail::append_json_string(line, f.first);
      line.push_back(':');
      detail::append_json_string(line, f.second);
    };
    for (const auto& f : fields) append(f);
    for (const auto& f : implicit) append(f);
    line += "}\n";
  }
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace aw::events::log
