#include "transport/kafka/rdkafka_conf.hpp"

#include <array>

#include "core/log.hpp"

namespace aw::events::kafka_detail {
namespace {

// Runs on librdkafka's threads: must not throw.
void log_trampoline(const rd_kafka_t* rk, int level, const char* facility, const char* text) noexcept {
  try {
    // syslog levels: 0..3 error, 4 warning, 5..6 notice/info, 7 debug.
    const log::level lvl = level <= 3 ? log::level::error
                           : level == 4 ? log::level::warn
                           : level <= 6 ? log::level::info
                                        : log::level::debug;
    if (!log::enabled(lvl)) return;
    log::write(lvl, "librdkafka", {{"client", rk != nullptr ? rd_kafka_name(rk) : ""},
                                   {"facility", facility != nullptr ? facility : ""},
                                   {"text", text != nullptr ? text : ""}});
  } catch (...) {
    // Nowhere left to report to; dropping one log line is better than terminating the process.
  }
}

}  // namespace

conf_ptr new_conf() {
  conf_ptr conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_trampoline);
  return conf;
}

result<void> set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::array<char, 512> reason{};
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), reason.data(), reason.size()) != RD_KAFKA_CONF_OK) {
    return make_error(errc::invalid_argument,
                      "librdkafka property " + key + "=" + value + " rejected: " + std::string(reason.data()));
  }
  return {};
}

result<void> set_properties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& properties) {
  for (const auto& [key, value] : properties) {
    if (auto ok = set_property(conf, key, value); !ok) return ok;
  }
  return {};
}

result<handle_ptr> new_handle(rd_kafka_type_t type, conf_ptr conf, const std::string& what) {
  std::array<char, 512> reason{};
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), reason.data(), reason.size());
  if (rk == nullptr) {
    return make_error(errc::invalid_argument, "cannot create " + what + ": " + std::string(reason.data()));
  }
  (void)conf.release();  // rd_kafka_new took ownership of conf because it succeeded
  return handle_ptr(rk);
}

}  // namespace aw::events::kafka_detail
