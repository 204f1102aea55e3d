#include "store/spool.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch_dir.hpp"

namespace aw::events::store {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class spool_test : public ::testing::Test {
 protected:

  static record make(std::string topic, std::string key, std::string value) {
    record r;
    r.topic = std::move(topic);
    r.key = std::move(key);
    r.value = std::move(value);
    r.timestamp_ms = 1700000000123;
    r.headers = {{"aw-event-id", "e"}, {"bin", std::string("a\0b\xff", 4)}};
    return r;
  }

  testing_support::scratch_dir dir_{"aw-spool"};
  std::string path_ = dir_.file("events.db");
};

TEST_F(spool_test, keeps_records_exactly_and_returns_them_oldest_first) {
  auto s = spool::open(path_);
  ASSERT_TRUE(s) << s.error().describe();
  const auto first = make("content", std::string("k\0ey", 4), std::string("{\"v\":1}\0tail", 12));
  const auto second = make("content", "k2", "{\"v\":2}");
  ASSERT_TRUE((*s)->append(first, "id-1", "content", "broker down"));
  ASSERT_TRUE((*s)->append(second, "id-2", "content", "broker down"));
  auto got = (*s)->oldest(10);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_LT((*got)[0].sequence, (*got)[1].sequence);
  EXPECT_EQ((*got)[0].rec.key, first.key);
  EXPECT_EQ((*got)[0].rec.value, first.value);
  EXPECT_EQ((*got)[0].rec.headers, first.headers);
  EXPECT_EQ((*got)[0].rec.timestamp_ms, first.timestamp_ms);
  EXPECT_EQ((*got)[0].rec.partition, -1);
  EXPECT_EQ((*got)[0].event_id, "id-1");
  EXPECT_EQ((*got)[0].service, "content");
  EXPECT_EQ((*got)[0].last_error, "broker down");
  EXPECT_GT((*got)[0].spooled_at_ms, 0);
  EXPECT_EQ((*got)[1].event_id, "id-2");
}

TEST_F(spool_test, remove_deletes_only_the_delivered_records) {
  auto s = spool::open(path_).value();
  std::vector<std::int64_t> seq;
  for (int i = 0; i < 5; ++i) seq.push_back(s->append(make("t", "k", std::to_string(i)), "id", "svc", "x").value());
  ASSERT_TRUE(s->remove({seq[0], seq[2]}));
  auto left = s->oldest(10).value();
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].rec.value, "1");
  EXPECT_EQ(left[1].rec.value, "3");
  EXPECT_EQ(left[2].rec.value, "4");
}

TEST_F(spool_test, stats_and_key_lookup_per_service) {
  auto s = spool::open(path_).value();
  auto empty = s->stats().value();
  EXPECT_EQ(empty.depth, 0);
  EXPECT_EQ(empty.oldest_age_seconds(123), 0.0);
  ASSERT_TRUE(s->append(make("content", "b-1", "1"), "id-1", "content", "x"));
  ASSERT_TRUE(s->append(make("accounts", "u-1", "2"), "id-2", "accounts", "x"));
  EXPECT_EQ(s->stats().value().depth, 2);
  EXPECT_EQ(s->stats("content").value().depth, 1);
  EXPECT_GT(s->stats().value().oldest_spooled_at_ms, 0);
  EXPECT_TRUE(s->holds_key("content", "b-1").value());
  EXPECT_FALSE(s->holds_key("content", "b-2").value());
  EXPECT_FALSE(s->holds_key("content", "b-1", "accounts").value());
  EXPECT_EQ(s->oldest(10, "accounts").value().size(), 1u);
}

TEST_F(spool_test, a_batch_append_is_one_transaction_in_order) {
  auto s = spool::open(path_).value();
  std::vector<record> records;
  for (int i = 0; i < 100; ++i) records.push_back(make("t", "k" + std::to_string(i % 7), std::to_string(i)));
  std::vector<const record*> pointers;
  std::vector<std::string_view> ids;
  for (const auto& r : records) {
    pointers.push_back(&r);
    ids.push_back("id");
  }
  auto seq = s->append(pointers, ids, "svc", "down");
  ASSERT_TRUE(seq);
  ASSERT_EQ(seq->size(), 100u);
  auto got = s->oldest(1000).value();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(got[i].rec.value, std::to_string(i));
  EXPECT_FALSE(s->append(pointers, {}, "svc", "down"));
}

TEST_F(spool_test, what_append_acknowledged_survives_a_kill_9) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = spool::open(path_);
    if (!s) ::_exit(3);
    for (int i = 0; i < 200; ++i) {
      if (!(*s)->append(make("t", "k", std::to_string(i)), "id", "svc", "down")) ::_exit(4);
    }
    ::kill(::getpid(), SIGKILL);  // no destructor, no checkpoint
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  auto s = spool::open(path_).value();
  EXPECT_EQ(s->stats().value().depth, 200);
  EXPECT_EQ(s->oldest(1000).value().back().rec.value, "199");
}

TEST_F(spool_test, corrupt_headers_are_an_error_naming_the_record) {
  EXPECT_THAT(decode_headers(std::string("\x05\x00\x00\x00" "ab", 6)).error().message, HasSubstr("byte 0"));
  auto round = decode_headers(encode_headers({{"a", ""}, {"", "b"}}));
  ASSERT_TRUE(round);
  EXPECT_EQ(round->size(), 2u);
}

TEST_F(spool_test, an_unwritable_path_is_an_error_naming_it) {
  auto s = spool::open(dir_.file("missing-dir/x.db"));
  ASSERT_FALSE(s);
  EXPECT_THAT(s.error().message, HasSubstr("missing-dir"));
}

}  // namespace
}  // namespace aw::events::store

namespace aw::events::store {
namespace {

TEST_F(spool_test, metrics_report_depth_and_oldest_age_per_service_at_scrape_time) {
  std::shared_ptr<spool> s = spool::open(path_).value();
  metrics::registry r;
  auto handles = export_spool_metrics(s, r);
  ASSERT_TRUE(handles) << handles.error().describe();
  EXPECT_THAT(r.render(), Not(HasSubstr("aw_events_spool_depth{")));
  ASSERT_TRUE(s->append(make("content", "b-1", "1"), "id-1", "content", "x"));
  ASSERT_TRUE(s->append(make("content", "b-2", "2"), "id-2", "content", "x"));
  ASSERT_TRUE(s->append(make("accounts", "u-1", "3"), "id-3", "accounts", "x"));
  const auto text = r.render();
  EXPECT_THAT(text, HasSubstr("aw_events_spool_depth{service=\"content\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_spool_depth{service=\"accounts\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aw_events_spool_oldest_age_seconds{service=\"content\"} "));
  EXPECT_FALSE(export_spool_metrics(s, r));  // names taken
}

}  // namespace
}  // namespace aw::events::store
