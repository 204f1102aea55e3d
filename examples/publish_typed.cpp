// Publishing a typed event: a C++ struct becomes `data`, its book id the partition key.
// Run: ./build/examples/example_publish_typed [STORE]   (the embedded store; no Kafka needed)
#include <aw/events/context.hpp>
#include <aw/events/publisher.hpp>

#include <cstdio>
#include <string>
#include <vector>

struct book_published {
  static constexpr std::string_view event_type = "content.book.published";
  static constexpr std::string_view event_version = "1.0";
  std::string book_id;
  std::string title;
  std::vector<std::string> author_ids;
  int pages = 0;

  std::string partition_key() const { return book_id; }
};

// Found by argument-dependent lookup: how the struct is written as JSON.
void write_json(aw::events::json_writer& w, const book_published& e) {
  w.begin_object();
  w.field("book_id", e.book_id).field("title", e.title).field("author_ids", e.author_ids).field("pages", e.pages);
  w.end_object();
}

int main(int argc, char** argv) {
  aw::events::transport_config config;
  if (argc > 1) config.store_path = argv[1];
  // The transport is shared by every publisher and subscriber of the process.
  auto transport = aw::events::open_transport(config);
  if (!transport) return std::fprintf(stderr, "%s\n", transport.error().describe().c_str()), 1;

  // One publisher per service; it owns a producer and is thread-safe.
  auto publisher = aw::events::publisher::create(*transport, {.service = "content"});
  if (!publisher) return std::fprintf(stderr, "%s\n", publisher.error().describe().c_str()), 1;

  // The incoming request's id becomes the correlation id of every event published while the scope lives.
  aw::events::context_scope request(aw::events::event_context{"req-7f3a", std::nullopt});
  auto receipt = (*publisher)->publish(book_published{"b-42", "The Long Night", {"a-1", "a-2"}, 412}).get();
  if (!receipt) return std::fprintf(stderr, "not published: %s\n", receipt.error().describe().c_str()), 1;
  std::printf("published %s to %s[%d]@%lld (correlation %s)\n", receipt->event_id.c_str(), receipt->topic.c_str(),
              receipt->partition, static_cast<long long>(receipt->offset), receipt->correlation_id.c_str());
  return 0;
}
