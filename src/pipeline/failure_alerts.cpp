#include "pipeline/failure_alerts.hpp"

#include "core/log.hpp"

namespace aw::events::pipeline {

void failure_alerts::dead_lettered(std::string_view last_error, clock::time_point now) {
  if (policy_.dead_letters <= 0) return;
  dead_letters_.push_back(now);
  while (!dead_letters_.empty() && now - dead_letters_.front() > policy_.window) dead_letters_.pop_front();
  if (static_cast<int>(dead_letters_.size()) >= policy_.dead_letters) {
    const int count = static_cast<int>(dead_letters_.size());
    dead_letters_.clear();
    fire(failure_alert{"dead_letters", "", count, policy_.window, std::string(last_error)});
  }
}

void failure_alerts::attempt_failed(std::string_view type, std::string_view error, clock::time_point now) {
  if (policy_.consecutive_failures <= 0) return;
  auto it = failing_.find(type);
  if (it == failing_.end()) it = failing_.emplace(std::string(type), run_of_failures{0, now}).first;
  auto& run = it->second;
  if (now - run.first > policy_.window) run = run_of_failures{0, now};
  if (++run.count >= policy_.consecutive_failures) {
    const int count = run.count;
    failing_.erase(it);
    fire(failure_alert{"consecutive_failures", std::string(type), count, policy_.window, std::string(error)});
  }
}

void failure_alerts::fire(failure_alert alert) {
  ++fired_;
  const auto count = std::to_string(alert.count);
  const auto window = std::to_string(alert.window.count());
  log::error("alert: repeated consumer failures", {{"reason", alert.reason}, {"type", alert.type}, {"count", count},
                                                   {"window_s", window}, {"last_error", alert.last_error}});
  if (observer_) observer_->alert(alert);
  if (policy_.on_alert) policy_.on_alert(alert);
}

}  // namespace aw::events::pipeline
