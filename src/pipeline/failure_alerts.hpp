// Alerting on repeated failures: N dead letters, or N consecutive failed attempts of one type, within a window.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include "aw/events/subscriber.hpp"

namespace aw::events::pipeline {

class failure_alerts {
 public:
  using clock = std::chrono::steady_clock;
  failure_alerts(alert_policy policy, std::shared_ptr<consumer_observer> observer)
      : policy_(std::move(policy)), observer_(std::move(observer)) {}

  void dead_lettered(std::string_view last_error, clock::time_point now = clock::now());
  void attempt_failed(std::string_view type, std::string_view error, clock::time_point now = clock::now());
  // A success of `type` ends its run of consecutive failures. No lookup while nothing is failing.
  void succeeded(std::string_view type) {
    if (failing_.empty()) return;
    if (auto it = failing_.find(type); it != failing_.end()) failing_.erase(it);
  }
  [[nodiscard]] std::uint64_t fired() const noexcept { return fired_; }

 private:
  void fire(failure_alert alert);

  struct run_of_failures {
    int count = 0;
    clock::time_point first;
  };
  alert_policy policy_;
  std::shared_ptr<consumer_observer> observer_;
  std::deque<clock::time_point> dead_letters_;  // bounded by policy_.dead_letters
  std::map<std::string, run_of_failures, std::less<>> failing_;
  std::uint64_t fired_ = 0;
};

}  // namespace aw::events::pipeline
