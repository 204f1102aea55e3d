#include "aw/events/retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

namespace aw::events {

result<void> retry_policy::validate() const {
  if (initial.count() < 0) return make_error(errc::invalid_argument, "retry_policy.initial must not be negative");
  if (max < initial) return make_error(errc::invalid_argument, "retry_policy.max must be >= retry_policy.initial");
  if (!(multiplier >= 1.0) || multiplier > 100.0) {
    return make_error(errc::invalid_argument, "retry_policy.multiplier must be in [1, 100], got " + std::to_string(multiplier));
  }
  if (max_attempts < 1) {
    return make_error(errc::invalid_argument, "retry_policy.max_attempts must be >= 1, got " + std::to_string(max_attempts));
  }
  return {};
}

std::chrono::milliseconds retry_policy::ceiling(int attempt) const noexcept {
  const double exponent = std::max(0, attempt - 1);
  const double ms = static_cast<double>(initial.count()) * std::pow(multiplier, exponent);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(ms, static_cast<double>(max.count()))));
}

std::chrono::milliseconds retry_policy::backoff(int attempt) const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto top = ceiling(attempt).count();
  if (top <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<std::int64_t> pick(0, top);
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace aw::events
