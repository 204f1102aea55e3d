#include "aw/events/transport/embedded.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "store/sqlite.hpp"
#include "transport/conformance/conformance_suite.hpp"
#include "transport/embedded/embedded_test_support.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;
using testing::make_record;
using testing::produce_one;
using testing::scratch_dir;

scratch_dir& suite_dir() {
  static scratch_dir dir;
  return dir;
}

std::shared_ptr<transport> open_fresh() {
  static std::atomic<int> counter{0};
  embedded_options options;
  options.path = suite_dir().file("conformance-" + std::to_string(counter++) + "/events.db");
  options.default_partitions = 3;
  options.retention = std::chrono::hours(1);
  auto t = embedded_transport::open(options);
  if (!t) throw std::runtime_error(t.error().describe());
  return *t;
}

INSTANTIATE_TEST_SUITE_P(embedded, transport_conformance,
                         ::testing::Values(testing::transport_fixture{
                             .name = "embedded",
                             .make = open_fresh,
                             .session_timeout = 1000ms,
                             .retention = std::chrono::hours(1),
                             .enforce_retention =
                                 [](transport& t) -> result<void> {
                               auto deleted = static_cast<embedded_transport&>(t).enforce_retention();
                               if (!deleted) return make_error(deleted.error());
                               return {};
                             }}),
                         testing::fixture_name);

std::shared_ptr<embedded_transport> open_at(const std::string& path, embedded_options options = {}) {
  options.path = path;
  auto t = embedded_transport::open(options);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().describe());
  return t ? *t : nullptr;
}

TEST(embedded_transport, records_survive_closing_and_reopening_the_file) {
  scratch_dir dir;
  const auto path = dir.file("a/b/events.db");  // parent directories are created
  {
    auto t = open_at(path);
    auto p = t->create_producer({}).value();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(produce_one(*p, make_record("persist", "k", std::to_string(i))).has_value());
  }
  auto t = open_at(path);
  auto c = t->create_consumer({.group_id = "g"}).value();
  ASSERT_TRUE(c->subscribe({"persist"}).has_value());
  std::vector<std::string> values;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (values.size() < 10 && std::chrono::steady_clock::now() < end) {
    if (auto r = c->poll(50ms).value()) values.push_back(r->value);
  }
  ASSERT_EQ(values.size(), 10u);
  EXPECT_EQ(values.front(), "0");
  EXPECT_EQ(values.back(), "9");
  EXPECT_EQ(t->describe(), path);
}

TEST(embedded_transport, open_errors_name_the_file) {
  scratch_dir dir;
  const auto blocker = dir.file("plain-file");
  std::ofstream(blocker) << "not a directory";
  auto t = embedded_transport::open({.path = blocker + "/events.db"});
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, errc::storage_error);
  EXPECT_NE(t.error().message.find(blocker), std::string::npos) << t.error().message;

  std::ofstream(dir.file("garbage.db")) << std::string(8192, 'x');
  auto garbage = embedded_transport::open({.path = dir.file("garbage.db")});
  ASSERT_FALSE(garbage.has_value());
  EXPECT_NE(garbage.error().message.find("garbage.db"), std::string::npos) << garbage.error().message;

  auto bad = embedded_transport::open({.path = dir.file("x.db"), .default_partitions = 0});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, errc::invalid_argument);
  EXPECT_NE(bad.error().message.find("default_partitions"), std::string::npos);
}

TEST(embedded_transport, offsets_are_dense_per_partition_across_two_writers) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  // Two transports on one file behave like two processes: separate connections, separate writer threads.
  auto first = open_at(path, {.default_partitions = 2});
  auto second = open_at(path, {.default_partitions = 2});
  auto p1 = first->create_producer({}).value();
  auto p2 = second->create_producer({}).value();
  std::mutex mutex;
  std::map<std::int32_t, std::set<std::int64_t>> seen;
  std::atomic<int> failures{0};
  auto record_report = [&](result<delivery_report> r) {
    if (!r) {
      ++failures;
      return;
    }
    std::lock_guard lock(mutex);
    EXPECT_TRUE(seen[r->partition].insert(r->offset).second) << "offset handed out twice";
  };
  std::thread a([&] {
    for (int i = 0; i < 3000; ++i) p1->produce(make_record("dense", "a" + std::to_string(i), "v"), record_report);
  });
  std::thread b([&] {
    for (int i = 0; i < 3000; ++i) p2->produce(make_record("dense", "b" + std::to_string(i), "v"), record_report);
  });
  a.join();
  b.join();
  ASSERT_TRUE(p1->flush(10s).has_value());
  ASSERT_TRUE(p2->flush(10s).has_value());
  EXPECT_EQ(failures.load(), 0);
  std::size_t total = 0;
  for (auto& [partition, offsets] : seen) {
    total += offsets.size();
    EXPECT_EQ(*offsets.begin(), 0);
    EXPECT_EQ(*offsets.rbegin(), static_cast<std::int64_t>(offsets.size()) - 1) << "gap in partition " << partition;
    auto range = first->offsets({"dense", partition});
    ASSERT_TRUE(range.has_value());
    EXPECT_EQ(range->first, 0);
    EXPECT_EQ(range->second, static_cast<std::int64_t>(offsets.size()));
  }
  EXPECT_EQ(total, 6000u);
}

TEST(embedded_transport, retention_moves_the_first_offset_and_keeps_next) {
  scratch_dir dir;
  auto t = open_at(dir.file("events.db"), {.default_partitions = 1, .retention = 60s});
  auto p = t->create_producer({}).value();
  for (int i = 0; i < 7; ++i) {
    auto rec = make_record("ret", "k", "old");
    rec.timestamp_ms = 1000;
    ASSERT_TRUE(produce_one(*p, rec).has_value());
  }
  ASSERT_TRUE(produce_one(*p, make_record("ret", "k", "young")).has_value());
  auto deleted = t->enforce_retention();
  ASSERT_TRUE(deleted.has_value()) << deleted.error().describe();
  EXPECT_EQ(*deleted, 7);
  auto range = t->offsets({"ret", 0});
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->first, 7);
  EXPECT_EQ(range->second, 8);
  EXPECT_EQ(t->enforce_retention().value(), 0);
  auto missing = t->offsets({"ret", 5});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, errc::not_found);
}

TEST(embedded_transport, full_queue_fails_with_queue_full_and_locked_file_with_storage_error) {
  scratch_dir dir;
  const auto path = dir.file("events.db");
  auto t = open_at(path, {.max_queued = 1, .busy_timeout = 300ms});
  ASSERT_TRUE(t->create_topic("locked", 1).has_value());
  auto p = t->create_producer({.enqueue_timeout = 20ms}).value();
  // Another connection holds the write lock, like a long transaction of another process.
  auto other = store::connection::open(path, 1000ms).value();
  ASSERT_TRUE(other->exec("BEGIN IMMEDIATE").has_value());
  std::vector<std::shared_ptr<std::promise<result<delivery_report>>>> reports;
  std::vector<std::future<result<delivery_report>>> futures;
  for (int i = 0; i < 3; ++i) {
    auto promise = std::make_shared<std::promise<result<delivery_report>>>();
    futures.push_back(promise->get_future());
    p->produce(make_record("locked", "k", "v"), [promise](result<delivery_report> r) { promise->set_value(std::move(r)); });
    std::this_thread::sleep_for(30ms);  // let the writer take the first record into its (blocked) batch
  }
  // The writer holds record 0 waiting for the lock, record 1 fills the queue, record 2 finds no room.
  auto third = futures[2].get();
  ASSERT_FALSE(third.has_value());
  EXPECT_EQ(third.error().code, errc::queue_full);
  auto first = futures[0].get();
  ASSERT_FALSE(first.has_value());
  EXPECT_EQ(first.error().code, errc::storage_error);
  EXPECT_TRUE(first.error().retriable());
  EXPECT_NE(first.error().message.find(path), std::string::npos) << first.error().message;
  ASSERT_TRUE(other->exec("ROLLBACK").has_value());
  auto second = futures[1].get();
  EXPECT_TRUE(second.has_value()) << second.error().describe();
  auto after = produce_one(*p, make_record("locked", "k", "v"));
  EXPECT_TRUE(after.has_value()) << "the producer recovers once the lock is gone";
}

TEST(embedded_transport, consumer_picks_up_a_topic_created_after_subscribing) {
  scratch_dir dir;
  auto t = open_at(dir.file("events.db"), {.default_partitions = 2});
  auto c = t->create_consumer({.group_id = "g"}).value();
  ASSERT_TRUE(c->subscribe({"later"}).has_value());
  EXPECT_FALSE(c->poll(50ms).value().has_value());
  EXPECT_TRUE(c->assignment().empty());
  auto p = t->create_producer({}).value();
  ASSERT_TRUE(produce_one(*p, make_record("later", "k", "hello")).has_value());
  std::optional<record> got;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (!got && std::chrono::steady_clock::now() < end) got = c->poll(50ms).value();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "hello");
  EXPECT_EQ(c->assignment().size(), 2u);
}

TEST(embedded_transport, expired_member_is_fenced_and_told_its_partitions_were_lost) {
  scratch_dir dir;
  auto t = open_at(dir.file("events.db"), {.default_partitions = 1});
  auto p = t->create_producer({}).value();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(produce_one(*p, make_record("fence", "k", std::to_string(i))).has_value());
  std::vector<bool> lost_flags;
  consumer_options zombie_options{.group_id = "g", .commit_interval = 1h, .session_timeout = 200ms};
  zombie_options.listener.on_revoked = [&](const std::vector<topic_partition>&, bool lost) {
    lost_flags.push_back(lost);
  };
  auto zombie = t->create_consumer(zombie_options).value();
  ASSERT_TRUE(zombie->subscribe({"fence"}).has_value());
  std::optional<record> first;
  const auto end = std::chrono::steady_clock::now() + 5s;
  while (!first && std::chrono::steady_clock::now() < end) first = zombie->poll(50ms).value();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(zombie->store_offset(*first).has_value());

  // The zombie stops polling; after its session timeout a healthy member takes the partition over.
  std::this_thread::sleep_for(300ms);
  auto healthy = t->create_consumer({.group_id = "g", .session_timeout = 5s}).value();
  ASSERT_TRUE(healthy->subscribe({"fence"}).has_value());
  std::vector<std::string> values;
  const auto end2 = std::chrono::steady_clock::now() + 5s;
  while (values.size() < 3 && std::chrono::steady_clock::now() < end2) {
    if (auto r = healthy->poll(50ms).value()) values.push_back(r->value);
  }
  EXPECT_EQ(values, (std::vector<std::string>{"0", "1", "2"})) << "nothing was committed: all come back";

  // The zombie's commit must not overwrite the new owner's progress.
  ASSERT_TRUE(zombie->commit().has_value());
  EXPECT_EQ(healthy->committed({"fence", 0}).value(), -1);
  ASSERT_TRUE(zombie->poll(10ms).has_value());
  EXPECT_EQ(lost_flags, std::vector<bool>{true});
  EXPECT_TRUE(zombie->assignment().empty());
  EXPECT_EQ(healthy->assignment().size(), 1u);
}

TEST(embedded_transport, rejects_bad_arguments_with_named_fields) {
  scratch_dir dir;
  auto t = open_at(dir.file("events.db"));
  auto p = t->create_producer({}).value();
  auto negative = produce_one(*p, make_record("t", "k", "v", -5));
  ASSERT_FALSE(negative.has_value());
  EXPECT_EQ(negative.error().code, errc::invalid_argument);
  auto unknown = produce_one(*p, make_record("t", "k", "v", 99));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, errc::not_found);
  EXPECT_NE(unknown.error().message.find("partition 99"), std::string::npos);
  auto topic = produce_one(*p, make_record(std::string(300, 'a'), "k", "v"));
  ASSERT_FALSE(topic.has_value());
  EXPECT_EQ(topic.error().code, errc::invalid_topic);
  EXPECT_FALSE(t->create_topic("ok", 0).has_value());
  auto no_group = t->create_consumer({});
  ASSERT_FALSE(no_group.has_value());
  EXPECT_NE(no_group.error().message.find("group_id"), std::string::npos);
  auto c = t->create_consumer({.group_id = "g"}).value();
  EXPECT_FALSE(c->poll(1ms).has_value()) << "poll before subscribe";
  EXPECT_FALSE(c->subscribe({}).has_value());
}

}  // namespace
}  // namespace aw::events
