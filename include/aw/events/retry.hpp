// Exponential backoff with full jitter (AWS architecture blog's "Full Jitter"): the delay before
// attempt n+1 is uniform in [0, min(max, initial * multiplier^(n-1))].
#pragma once

#include <chrono>

#include "aw/events/result.hpp"

namespace aw::events {

struct retry_policy {
  std::chrono::milliseconds initial{200};
  double multiplier = 2.0;
  std::chrono::milliseconds max{30000};
  int max_attempts = 8;  // attempts in all, the first one included

  [[nodiscard]] result<void> validate() const;
  // Upper bound of the delay after failed attempt `attempt` (1-based), before jitter.
  [[nodiscard]] std::chrono::milliseconds ceiling(int attempt) const noexcept;
  // A jittered delay in [0, ceiling(attempt)], from a per-thread PRNG.
  [[nodiscard]] std::chrono::milliseconds backoff(int attempt) const;
};

}  // namespace aw::events
