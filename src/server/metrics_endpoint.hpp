// Mounts GET /metrics (Prometheus text format) on a platform HTTP server.
#pragma once

#include "aw/events/metrics.hpp"
#include "server/http_server.hpp"

namespace aw::events::server {

void mount_metrics(http_server& server, metrics::registry& source);

}  // namespace aw::events::server
