// GET /metrics for any process: the registry rendered on the platform's HTTP server.
#include "aw/events/metrics.hpp"
#include "server/metrics_endpoint.hpp"

namespace aw::events::server {

void mount_metrics(http_server& server, metrics::registry& source) {
  server.route("GET", "/metrics", [&source](const http_request&) {
    return http_response{200, "text/plain; version=0.0.4; charset=utf-8", source.render(), {}};
  });
}

}  // namespace aw::events::server

namespace aw::events::metrics {

struct endpoint::impl {
  std::unique_ptr<server::http_server> server;
};

endpoint::endpoint(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
endpoint::~endpoint() {
  if (impl_ && impl_->server) impl_->server->stop();
}

result<std::unique_ptr<endpoint>> endpoint::start(const std::string& listen, registry& source) {
  auto bound = server::http_server::bind({.listen = listen});
  if (!bound) return make_error(bound.error().code, "metrics endpoint " + listen + ": " + bound.error().message);
  server::mount_metrics(**bound, source);
  (*bound)->start();
  auto state = std::make_unique<impl>();
  state->server = std::move(*bound);
  return std::unique_ptr<endpoint>(new endpoint(std::move(state)));
}

std::string endpoint::address() const { return impl_->server->address(); }

}  // namespace aw::events::metrics
