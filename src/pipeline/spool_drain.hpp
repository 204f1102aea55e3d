// Re-sending what the producer spool holds (store/spool.hpp), oldest first: used by the publisher when the
// broker is back and by `aw-events spool drain`.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aw/events/result.hpp"
#include "aw/events/transport.hpp"
#include "store/spool.hpp"

namespace aw::events {

struct drain_report {
  std::uint64_t sent = 0;  // delivered and removed from the spool
  std::int64_t left = 0;   // still spooled (of this service, or all)
};

// Sends batches of the oldest spooled records (of `service`, or all when empty) and removes each batch's
// acknowledged prefix: a record is removed only when it and every record spooled before it were delivered,
// so order is kept and nothing is skipped. Stops at the first failure and returns it (with what was sent);
// a record that was delivered after a failed one stays and is sent again (consumers dedup by event id).
[[nodiscard]] result<drain_report> drain_spool(store::spool& spool, producer& producer, std::string_view service,
                                               std::size_t batch = 500,
                                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace aw::events
