// The embedded store across processes: publish here / consume there, latency to another process,
// durability of acknowledged records across kill -9, and group take-over after a member is killed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "aw/events/transport/embedded.hpp"
#include "transport/embedded/embedded_test_support.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;
using testing::child_process;
using testing::scratch_dir;

const std::string peer = AW_EMBEDDED_PEER;

std::shared_ptr<embedded_transport> open_at(const std::string& path, std::int32_t partitions = 4) {
  auto t = embedded_transport::open({.path = path, .default_partitions = partitions});
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().describe());
  return t ? *t : nullptr;
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// value "<i>:<ns>" as written by embedded_peer publish
std::pair<long, std::int64_t> parse_value(const std::string& value) {
  const auto colon = value.find(':');
  return {std::stol(value.substr(0, colon)), std::stoll(value.substr(colon + 1))};
}

TEST(embedded_processes, consumer_here_receives_everything_another_process_publishes_in_key_order) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  auto t = open_at(path);
  ASSERT_TRUE(t->create_topic("xproc", 4).has_value());
  auto c = t->create_consumer({.group_id = "g", .session_timeout = 2s}).value();
  ASSERT_TRUE(c->subscribe({"xproc"}).has_value());

  child_process publisher({peer, "publish", path, "xproc", "3000", "30", "0"});
  std::map<std::string, long> last;
  std::size_t received = 0;
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (received < 3000 && std::chrono::steady_clock::now() < end) {
    auto r = c->poll(100ms);
    ASSERT_TRUE(r.has_value()) << r.error().describe();
    if (!*r) continue;
    ++received;
    const long index = parse_value((*r)->value).first;
    auto [it, first] = last.try_emplace((*r)->key, index);
    if (!first) {
      EXPECT_GT(index, it->second) << "key " << (*r)->key << " out of order";
      it->second = index;
    }
  }
  EXPECT_EQ(received, 3000u);
  EXPECT_EQ(last.size(), 30u);
  EXPECT_EQ(publisher.wait(), 0);
  c->close();
}

TEST(embedded_processes, another_process_sees_a_new_event_quickly) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  auto t = open_at(path, 1);
  ASSERT_TRUE(t->create_topic("latency", 1).has_value());
  auto c = t->create_consumer({.group_id = "g", .session_timeout = 2s}).value();
  ASSERT_TRUE(c->subscribe({"latency"}).has_value());
  const auto assign_end = std::chrono::steady_clock::now() + 5s;
  while (c->assignment().empty() && std::chrono::steady_clock::now() < assign_end) ASSERT_TRUE(c->poll(10ms).has_value());
  ASSERT_EQ(c->assignment().size(), 1u);

  constexpr int count = 200;
  child_process publisher({peer, "publish", path, "latency", std::to_string(count), "1", "5"});
  std::vector<double> latencies_ms;
  const auto end = std::chrono::steady_clock::now() + 30s;
  while (latencies_ms.size() < count && std::chrono::steady_clock::now() < end) {
    auto r = c->poll(100ms);
    ASSERT_TRUE(r.has_value());
    if (!*r) continue;
    latencies_ms.push_back(static_cast<double>(steady_ns() - parse_value((*r)->value).second) / 1e6);
  }
  ASSERT_EQ(latencies_ms.size(), static_cast<std::size_t>(count));
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const double p50 = latencies_ms[count / 2];
  const double p99 = latencies_ms[count * 99 / 100];
  std::printf("embedded cross-process publish->visible latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)\n", p50,
              p99, latencies_ms.back(), count);
  RecordProperty("latency_p50_ms", std::to_string(p50));
  RecordProperty("latency_p99_ms", std::to_string(p99));
  EXPECT_LT(p99, 1000.0) << "design target is 100 ms; 1 s bound keeps a loaded CI machine from flaking";
  EXPECT_EQ(publisher.wait(), 0);
  c->close();
}

TEST(embedded_processes, every_acknowledged_record_survives_kill_9_of_the_publisher) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  {
    auto t = open_at(path);
    ASSERT_TRUE(t->create_topic("durable", 4).has_value());
  }
  std::map<long, std::pair<std::int32_t, std::int64_t>> acked;
  {
    child_process publisher({peer, "publish", path, "durable", "0", "50", "0"});
    while (acked.size() < 20000) {
      auto line = publisher.read_line(10s);
      ASSERT_TRUE(line.has_value()) << "publisher stopped acknowledging after " << acked.size();
      long index = 0;
      int partition = 0;
      long long offset = 0;
      ASSERT_EQ(std::sscanf(line->c_str(), "ack %ld %d %lld", &index, &partition, &offset), 3) << *line;
      acked[index] = {partition, offset};
    }
    publisher.kill_hard();
    // Acknowledgements already written to the pipe before the kill count too.
    while (auto line = publisher.read_line(2s)) {
      long index = 0;
      int partition = 0;
      long long offset = 0;
      if (std::sscanf(line->c_str(), "ack %ld %d %lld", &index, &partition, &offset) == 3) {
        acked[index] = {partition, offset};
      }
    }
    EXPECT_EQ(publisher.wait(), 128 + SIGKILL);
  }
  auto t = open_at(path);
  auto c = t->create_consumer({.group_id = "verify"}).value();
  ASSERT_TRUE(c->subscribe({"durable"}).has_value());
  std::map<std::pair<std::int32_t, std::int64_t>, long> stored;
  std::int64_t total_next = 0;
  for (std::int32_t p = 0; p < 4; ++p) total_next += t->offsets({"durable", p}).value().second;
  const auto end = std::chrono::steady_clock::now() + 60s;
  while (static_cast<std::int64_t>(stored.size()) < total_next && std::chrono::steady_clock::now() < end) {
    auto r = c->poll(100ms);
    ASSERT_TRUE(r.has_value());
    if (*r) stored[{(*r)->partition, (*r)->offset}] = parse_value((*r)->value).first;
  }
  std::size_t lost = 0;
  for (const auto& [index, position] : acked) {
    auto it = stored.find(position);
    if (it == stored.end() || it->second != index) ++lost;
  }
  std::printf("kill -9 durability: %zu acknowledged, %zu stored, %zu lost\n", acked.size(), stored.size(), lost);
  EXPECT_EQ(lost, 0u);
  EXPECT_GE(stored.size(), acked.size());
}

TEST(embedded_processes, group_member_in_another_process_is_replaced_after_kill_9) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  auto t = open_at(path);
  ASSERT_TRUE(t->create_topic("groups", 4).has_value());
  auto here = t->create_consumer({.group_id = "g", .session_timeout = 1s}).value();
  ASSERT_TRUE(here->subscribe({"groups"}).has_value());
  child_process other({peer, "consume", path, "groups", "g", "0", "1000", "600000"});

  // Settle: both members hold two partitions each.
  std::size_t other_assigned = 0;
  const auto settle_end = std::chrono::steady_clock::now() + 15s;
  while ((here->assignment().size() != 2 || other_assigned != 2) && std::chrono::steady_clock::now() < settle_end) {
    ASSERT_TRUE(here->poll(20ms).has_value());
    if (auto line = other.read_line(1ms); line && line->rfind("assigned ", 0) == 0) {
      other_assigned = std::stoul(line->substr(9));
    }
  }
  ASSERT_EQ(here->assignment().size(), 2u);
  ASSERT_EQ(other_assigned, 2u);

  // Records in all partitions: each member reads only its own.
  auto p = t->create_producer({}).value();
  for (int i = 0; i < 200; ++i) {
    record rec;
    rec.topic = "groups";
    rec.partition = i % 4;
    rec.key = "k";
    rec.value = "before-" + std::to_string(i);
    p->produce(std::move(rec), [](result<delivery_report> r) { ASSERT_TRUE(r.has_value()); });
  }
  ASSERT_TRUE(p->flush(10s).has_value());
  std::set<std::string> here_seen, other_seen;
  const auto read_end = std::chrono::steady_clock::now() + 15s;
  while (here_seen.size() + other_seen.size() < 200 && std::chrono::steady_clock::now() < read_end) {
    if (auto r = here->poll(10ms).value()) {
      here_seen.insert(r->value);
      ASSERT_TRUE(here->store_offset(*r).has_value());
    }
    while (auto line = other.read_line(1ms)) {
      std::istringstream in(*line);
      std::string tag, partition, offset, key, value;
      in >> tag >> partition >> offset >> key >> value;
      if (tag == "rec") other_seen.insert(value);
    }
  }
  EXPECT_EQ(here_seen.size(), 100u);
  EXPECT_EQ(other_seen.size(), 100u);
  for (const auto& v : here_seen) EXPECT_FALSE(other_seen.contains(v)) << v << " read by both processes";

  other.kill_hard();
  EXPECT_EQ(other.wait(), 128 + SIGKILL);
  const auto killed_at = std::chrono::steady_clock::now();
  const auto take_end = killed_at + 10s;
  std::set<std::string> redelivered;
  while (here->assignment().size() != 4 && std::chrono::steady_clock::now() < take_end) {
    if (auto r = here->poll(20ms).value()) redelivered.insert(r->value);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed_at);
  ASSERT_EQ(here->assignment().size(), 4u);
  std::printf("take-over after kill -9 with session_timeout 1000 ms: %lld ms\n", static_cast<long long>(took.count()));
  EXPECT_GE(took.count(), 500) << "taken over long before the session timeout";

  // New records in every partition all arrive here; anything else that arrives is a record of the killed
  // member's partitions it had not committed yet (at-least-once), never one of ours.
  for (int i = 0; i < 40; ++i) {
    record rec;
    rec.topic = "groups";
    rec.partition = i % 4;
    rec.key = "k";
    rec.value = "after-" + std::to_string(i);
    p->produce(std::move(rec), [](result<delivery_report> r) { ASSERT_TRUE(r.has_value()); });
  }
  ASSERT_TRUE(p->flush(10s).has_value());
  std::set<std::string> after;
  const auto after_end = std::chrono::steady_clock::now() + 10s;
  while (after.size() < 40 && std::chrono::steady_clock::now() < after_end) {
    auto r = here->poll(20ms).value();
    if (!r) continue;
    if (r->value.rfind("after-", 0) == 0) {
      EXPECT_TRUE(after.insert(r->value).second) << "duplicate " << r->value;
    } else {
      redelivered.insert(r->value);
    }
  }
  EXPECT_EQ(after.size(), 40u);
  for (const auto& v : redelivered) {
    EXPECT_TRUE(other_seen.contains(v)) << v << " was redelivered but the killed member never had it";
  }
  std::printf("records of the killed member redelivered: %zu of %zu\n", redelivered.size(), other_seen.size());
  here->close();
}

}  // namespace
}  // namespace aw::events
