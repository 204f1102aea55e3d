// A service that only knows the installed aw-events: publish one event on the memory transport, read it back.
#include <aw/events/publisher.hpp>
#include <aw/events/subscriber.hpp>
#include <aw/events/transport/memory.hpp>

#include <cstdio>

int main() {
  auto transport = aw::events::memory_transport::create();
  auto publisher = aw::events::publisher::create(transport, {.service = "content"});
  if (!publisher) return std::fprintf(stderr, "%s\n", publisher.error().describe().c_str()), 1;
  auto sent = (*publisher)->publish("content.book.published", R"({"book_id":"b-1"})", {.key = "b-1"}).get();
  if (!sent) return std::fprintf(stderr, "%s\n", sent.error().describe().c_str()), 1;

  auto subscriber = aw::events::subscriber::create(transport, {.service = "search", .group = "search"});
  std::string seen;
  (void)(*subscriber)->on("content.book.published", 1, [&](const aw::events::received_event& e) {
    seen = e.event.meta.id;
    return aw::events::result<void>{};
  });
  auto finished = (*subscriber)->run({.max_events = 1, .idle_exit = std::chrono::seconds(5)});
  if (!finished || seen != sent->event_id) return std::fprintf(stderr, "event not received\n"), 1;
  std::printf("installed aw-events works: %s\n", seen.c_str());
  return 0;
}
