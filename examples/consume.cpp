// Consuming in a group: a handler per event type and major version; offsets commit after success.
// Run: ./build/examples/example_consume [STORE]   (stops after 5 s without events)
#include <aw/events/subscriber.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  aw::events::transport_config config;
  if (argc > 1) config.store_path = argv[1];
  auto transport = aw::events::open_transport(config);
  if (!transport) return std::fprintf(stderr, "%s\n", transport.error().describe().c_str()), 1;

  auto subscriber = aw::events::subscriber::create(*transport, {.service = "search", .group = "search-indexer"});
  if (!subscriber) return std::fprintf(stderr, "%s\n", subscriber.error().describe().c_str()), 1;

  auto registered = (*subscriber)->on("content.book.published", 1, [](const aw::events::received_event& e) {
    std::printf("indexing %s: %s\n", e.event.meta.id.c_str(), e.event.data.c_str());
    // A retriable error (errc::unavailable, timeout…) is retried in place with backoff; others are permanent.
    return aw::events::result<void>{};
  });
  if (!registered) return std::fprintf(stderr, "%s\n", registered.error().describe().c_str()), 1;

  auto handled = (*subscriber)->run({.idle_exit = std::chrono::seconds(5)});
  if (!handled) return std::fprintf(stderr, "%s\n", handled.error().describe().c_str()), 1;
  std::printf("%llu events\n", static_cast<unsigned long long>(*handled));
  return 0;
}
