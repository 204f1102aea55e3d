// Test helper: the other process of the embedded store's multi-process tests.
//
//   embedded_peer publish PATH TOPIC COUNT KEYS INTERVAL_MS   (COUNT 0 = until killed)
//     value "<i>:<steady-clock ns at produce>"; key "k<i % KEYS>"; prints "ack <i> <partition> <offset>"
//     for every acknowledged record, flushed at once, then "done".
//   embedded_peer consume PATH TOPIC GROUP COUNT SESSION_MS IDLE_EXIT_MS
//     prints "assigned <n>" whenever its assignment changes and "rec <partition> <offset> <key> <value>" per
//     record (storing its offset); exits after COUNT records (0 = never) or IDLE_EXIT_MS without records.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "aw/events/transport/embedded.hpp"

using namespace aw::events;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: embedded_peer publish PATH TOPIC COUNT KEYS INTERVAL_MS\n"
               "       embedded_peer consume PATH TOPIC GROUP COUNT SESSION_MS IDLE_EXIT_MS\n");
  return 2;
}

std::shared_ptr<embedded_transport> open_or_die(const std::string& path) {
  embedded_options options;
  options.path = path;
  auto t = embedded_transport::open(options);
  if (!t) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), t.error().describe().c_str());
    std::exit(1);
  }
  return *t;
}

int publish(const std::string& path, const std::string& topic, long count, long keys, long interval_ms) {
  auto t = open_or_die(path);
  auto p = t->create_producer({});
  if (!p) return std::fprintf(stderr, "%s\n", p.error().describe().c_str()), 1;
  for (long i = 0; count == 0 || i < count; ++i) {
    record rec;
    rec.topic = topic;
    rec.key = "k" + std::to_string(i % keys);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count();
    rec.value = std::to_string(i) + ":" + std::to_string(ns);
    (*p)->produce(std::move(rec), [i](result<delivery_report> r) {
      if (!r) {
        std::fprintf(stderr, "record %ld failed: %s\n", i, r.error().describe().c_str());
        return;
      }
      std::printf("ack %ld %d %lld\n", i, r->partition, static_cast<long long>(r->offset));
      std::fflush(stdout);
    });
    if (interval_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    } else if (i % 256 == 255) {
      // Without a pause the producer would just fill its queue; keep acknowledgements flowing steadily.
      (void)(*p)->flush(std::chrono::seconds(10));
    }
  }
  if (auto ok = (*p)->flush(std::chrono::seconds(30)); !ok) {
    std::fprintf(stderr, "flush: %s\n", ok.error().describe().c_str());
    return 1;
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}

int consume(const std::string& path, const std::string& topic, const std::string& group, long count, long session_ms,
            long idle_exit_ms) {
  auto t = open_or_die(path);
  consumer_options options;
  options.group_id = group;
  options.session_timeout = std::chrono::milliseconds(session_ms);
  options.commit_interval = std::chrono::milliseconds(100);
  auto c = t->create_consumer(options);
  if (!c) return std::fprintf(stderr, "%s\n", c.error().describe().c_str()), 1;
  if (auto ok = (*c)->subscribe({topic}); !ok) return std::fprintf(stderr, "%s\n", ok.error().describe().c_str()), 1;
  std::size_t assigned = static_cast<std::size_t>(-1);
  long received = 0;
  auto last_record = std::chrono::steady_clock::now();
  while (count == 0 || received < count) {
    auto r = (*c)->poll(std::chrono::milliseconds(50));
    if (!r) return std::fprintf(stderr, "poll: %s\n", r.error().describe().c_str()), 1;
    const auto now_assigned = (*c)->assignment().size();
    if (now_assigned != assigned) {
      assigned = now_assigned;
      std::printf("assigned %zu\n", assigned);
      std::fflush(stdout);
    }
    if (!*r) {
      if (std::chrono::steady_clock::now() - last_record > std::chrono::milliseconds(idle_exit_ms)) break;
      continue;
    }
    last_record = std::chrono::steady_clock::now();
    ++received;
    if (auto ok = (*c)->store_offset(**r); !ok) std::fprintf(stderr, "store: %s\n", ok.error().describe().c_str());
    std::printf("rec %d %lld %s %s\n", (*r)->partition, static_cast<long long>((*r)->offset), (*r)->key.c_str(),
                (*r)->value.c_str());
    std::fflush(stdout);
  }
  (*c)->close();
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string mode = argv[1];
  if (mode == "publish" && argc == 7) {
    return publish(argv[2], argv[3], std::atol(argv[4]), std::max(1L, std::atol(argv[5])), std::atol(argv[6]));
  }
  if (mode == "consume" && argc == 8) {
    return consume(argv[2], argv[3], argv[4], std::atol(argv[5]), std::atol(argv[6]), std::atol(argv[7]));
  }
  return usage();
}
