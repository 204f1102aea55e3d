// In-process, deterministic transport for unit tests of user code, with fault injection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "aw/events/transport.hpp"

namespace aw::events {

struct memory_options {
  std::int32_t default_partitions = 6;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 7)};
};

class memory_transport : public transport {
 public:
  static std::shared_ptr<memory_transport> create(memory_options options = {});
  // Fault injection: the next `count` produce calls fail with `code` (delivery report error).
  virtual void fail_next_produces(int count, errc code) = 0;
  // Deletes records older than the retention, as the embedded store's cleaner does.
  virtual void enforce_retention() = 0;
};

}  // namespace aw::events
