#include "transport/conformance/conformance_suite.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "aw/events/ids.hpp"

namespace aw::events::testing {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

// Generous upper bound for conditions (Kafka rebalances take seconds); loops return as soon as they hold.
constexpr auto settle_deadline = 30s;

std::string unique_name(std::string_view prefix) {
  static std::atomic<int> counter{0};
  std::random_device random;
  return std::string(prefix) + "-" + std::to_string(random() % 1000000) + "-" + std::to_string(counter++);
}

struct reports {
  std::mutex mutex;
  std::vector<result<delivery_report>> all;
  void add(result<delivery_report> r) {
    std::lock_guard lock(mutex);
    all.push_back(std::move(r));
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return all.size();
  }
};

class suite_context {
 public:
  explicit suite_context(const transport_fixture& fixture) : fixture_(fixture) {
    transport_ = fixture.make();
    if (!transport_) throw std::runtime_error("fixture " + fixture.name + " made no transport");
    auto p = transport_->create_producer(producer_options{});
    if (!p) throw std::runtime_error("create_producer: " + p.error().describe());
    producer_ = std::move(*p);
  }

  transport& t() { return *transport_; }
  producer& p() { return *producer_; }

  std::unique_ptr<consumer> make_consumer(const std::string& group, bool from_beginning = true,
                                          rebalance_listener listener = {}) {
    consumer_options options;
    options.group_id = group;
    options.from_beginning = from_beginning;
    options.session_timeout = fixture_.session_timeout;
    options.commit_interval = 100ms;
    options.listener = std::move(listener);
    auto c = transport_->create_consumer(options);
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().describe());
    return c ? std::move(*c) : nullptr;
  }

  // Produces and waits for every delivery report; fails the test on any error.
  std::vector<delivery_report> produce_all(std::vector<record> records) {
    auto sink = std::make_shared<reports>();
    std::vector<std::shared_ptr<std::optional<result<delivery_report>>>> slots;
    for (auto& rec : records) {
      auto slot = std::make_shared<std::optional<result<delivery_report>>>();
      slots.push_back(slot);
      producer_->produce(std::move(rec), [slot, sink](result<delivery_report> r) {
        std::lock_guard lock(sink->mutex);
        *slot = std::move(r);
      });
    }
    auto flushed = producer_->flush(30s);
    EXPECT_TRUE(flushed.has_value()) << (flushed ? "" : flushed.error().describe());
    std::vector<delivery_report> out;
    std::lock_guard lock(sink->mutex);
    for (auto& slot : slots) {
      EXPECT_TRUE(slot->has_value()) << "a record got no delivery report after flush";
      if (!slot->has_value()) continue;
      EXPECT_TRUE((*slot)->has_value()) << (**slot ? "" : (**slot).error().describe());
      if ((*slot)->has_value()) out.push_back(***slot);
    }
    return out;
  }

 private:
  transport_fixture fixture_;
  std::shared_ptr<transport> transport_;
  std::unique_ptr<producer> producer_;
};

record make_record(const std::string& topic, std::string key, std::string value, std::int32_t partition = -1) {
  record rec;
  rec.topic = topic;
  rec.key = std::move(key);
  rec.value = std::move(value);
  rec.partition = partition;
  return rec;
}

// Polls until want records arrived or the deadline passed; returns what arrived.
std::vector<record> poll_count(consumer& c, std::size_t want, std::chrono::milliseconds deadline = settle_deadline,
                               bool store = true) {
  std::vector<record> out;
  const auto end = clock::now() + deadline;
  while (out.size() < want && clock::now() < end) {
    auto r = c.poll(100ms);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
    if (!r) break;
    if (*r) {
      if (store) EXPECT_TRUE(c.store_offset(**r).has_value());
      out.push_back(std::move(**r));
    }
  }
  return out;
}

// Polls for a while and returns everything that arrived (for "nothing more arrives" checks).
std::vector<record> poll_for(consumer& c, std::chrono::milliseconds duration) {
  std::vector<record> out;
  const auto end = clock::now() + duration;
  while (clock::now() < end) {
    auto r = c.poll(20ms);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
    if (!r) break;
    if (*r) out.push_back(std::move(**r));
  }
  return out;
}

// Polls until the assignment holds `partitions` partitions (a consumer alone in its group).
bool wait_assigned(consumer& c, std::size_t partitions) {
  const auto end = clock::now() + settle_deadline;
  while (clock::now() < end) {
    auto r = c.poll(50ms);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().describe());
    EXPECT_FALSE(r && *r) << "a record arrived while waiting for the assignment";
    if (c.assignment().size() == partitions) return true;
  }
  return false;
}

std::string sequence_value(int i) { return "value-" + std::to_string(i); }

TEST_P(transport_conformance, keeps_per_key_order_on_one_stable_partition) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("order");
  ASSERT_TRUE(ctx.t().create_topic(topic, 4).has_value());
  std::vector<record> records;
  for (int i = 0; i < 2000; ++i) records.push_back(make_record(topic, "key-" + std::to_string(i % 50), sequence_value(i)));
  auto reports = ctx.produce_all(records);
  ASSERT_EQ(reports.size(), 2000u);

  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  auto got = poll_count(*c, 2000);
  ASSERT_EQ(got.size(), 2000u);
  std::map<std::string, int> last_index;
  std::map<std::string, std::int32_t> partition_of;
  for (const auto& rec : got) {
    const int index = std::stoi(rec.value.substr(6));
    auto [it, first] = last_index.try_emplace(rec.key, index);
    if (!first) {
      EXPECT_GT(index, it->second) << "key " << rec.key << " out of order";
      it->second = index;
    }
    auto [p, new_key] = partition_of.try_emplace(rec.key, rec.partition);
    EXPECT_EQ(p->second, rec.partition) << "key " << rec.key << " moved partitions";
    EXPECT_EQ(rec.partition, partition_for_key(rec.key, 4)) << "key " << rec.key << " not on its murmur2 partition";
  }
  EXPECT_EQ(last_index.size(), 50u);
  auto extra = poll_for(*c, 200ms);
  EXPECT_TRUE(extra.empty()) << extra.size() << " records delivered twice";
  c->close();
}

TEST_P(transport_conformance, delivers_every_record_once_matching_its_report) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("once");
  ASSERT_TRUE(ctx.t().create_topic(topic, 3).has_value());
  std::vector<record> records;
  for (int i = 0; i < 300; ++i) {
    // Every third record without a key: spread over the partitions, still delivered once.
    records.push_back(make_record(topic, i % 3 == 0 ? "" : "k" + std::to_string(i % 7), sequence_value(i)));
  }
  auto reports = ctx.produce_all(records);
  ASSERT_EQ(reports.size(), 300u);
  std::map<std::pair<std::int32_t, std::int64_t>, int> reported;
  for (const auto& r : reports) {
    EXPECT_EQ(r.topic, topic);
    EXPECT_GE(r.partition, 0);
    EXPECT_LT(r.partition, 3);
    EXPECT_GE(r.offset, 0);
    ++reported[{r.partition, r.offset}];
  }
  EXPECT_EQ(reported.size(), 300u) << "two records reported at the same position";

  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  auto got = poll_count(*c, 300);
  ASSERT_EQ(got.size(), 300u);
  std::set<std::string> values;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& rec = got[i];
    EXPECT_EQ(rec.topic, topic);
    EXPECT_TRUE(values.insert(rec.value).second) << "duplicate " << rec.value;
    auto it = reported.find({rec.partition, rec.offset});
    ASSERT_NE(it, reported.end()) << "consumed position not reported: " << rec.partition << "@" << rec.offset;
    const int index = std::stoi(rec.value.substr(6));
    EXPECT_EQ(reports[static_cast<std::size_t>(index)].partition, rec.partition);
    EXPECT_EQ(reports[static_cast<std::size_t>(index)].offset, rec.offset);
    EXPECT_GT(rec.timestamp_ms, 0);
  }
  EXPECT_TRUE(poll_for(*c, 200ms).empty());
  c->close();
}

TEST_P(transport_conformance, keeps_keys_values_and_headers_byte_exact) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("bytes");
  ASSERT_TRUE(ctx.t().create_topic(topic, 1).has_value());
  const std::string binary("\0\x01\xff\xfe\x80 tail\0", 10);
  std::string large(100000, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 31 + 7);
  std::vector<record> records;
  records.push_back(make_record(topic, "k-binary", binary));
  records.push_back(make_record(topic, "k-empty", ""));
  records.push_back(make_record(topic, binary, "binary key"));
  records.push_back(make_record(topic, "k-large", large));
  {
    auto rec = make_record(topic, "k-headers", "{\"json\":true}");
    rec.headers = {{"aw-event-id", "0f8fad5b-d9cb-469f-a165-70867728950e"},
                   {"empty", ""},
                   {"bin", binary},
                   {"dup", "1"},
                   {"dup", "2"}};
    records.push_back(rec);
  }
  auto expected = records;
  ASSERT_EQ(ctx.produce_all(records).size(), expected.size());

  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  auto got = poll_count(*c, expected.size());
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].key, expected[i].key) << i;
    EXPECT_EQ(got[i].value, expected[i].value) << i;
    EXPECT_EQ(got[i].headers, expected[i].headers) << i;
  }
  EXPECT_EQ(got[4].header_value("bin"), std::optional<std::string_view>(binary));
  EXPECT_EQ(got[4].header_value("dup"), std::optional<std::string_view>("1"));
  c->close();
}

TEST_P(transport_conformance, redelivers_records_that_were_not_stored) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("redeliver");
  ASSERT_TRUE(ctx.t().create_topic(topic, 2).has_value());
  std::vector<record> records;
  for (int i = 0; i < 20; ++i) records.push_back(make_record(topic, "k" + std::to_string(i), sequence_value(i)));
  ASSERT_EQ(ctx.produce_all(records).size(), 20u);
  const auto group = unique_name("g");
  {
    auto first = ctx.make_consumer(group);
    ASSERT_TRUE(first->subscribe({topic}).has_value());
    ASSERT_EQ(poll_count(*first, 20, settle_deadline, /*store=*/false).size(), 20u);
    first->close();  // nothing stored: nothing committed
  }
  auto second = ctx.make_consumer(group);
  ASSERT_TRUE(second->subscribe({topic}).has_value());
  auto again = poll_count(*second, 20);
  EXPECT_EQ(again.size(), 20u) << "records processed without a stored offset must come back";
  second->close();
}

TEST_P(transport_conformance, resumes_exactly_after_the_last_committed_record) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("resume");
  ASSERT_TRUE(ctx.t().create_topic(topic, 1).has_value());
  std::vector<record> records;
  for (int i = 0; i < 20; ++i) records.push_back(make_record(topic, "k", sequence_value(i)));
  ASSERT_EQ(ctx.produce_all(records).size(), 20u);
  const auto group = unique_name("g");
  const topic_partition tp{topic, 0};
  {
    auto first = ctx.make_consumer(group);
    ASSERT_TRUE(first->subscribe({topic}).has_value());
    auto got = poll_count(*first, 20, settle_deadline, /*store=*/false);
    ASSERT_EQ(got.size(), 20u);
    auto before = first->committed(tp);
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(*before, -1) << "nothing committed yet";
    ASSERT_TRUE(first->store_offset(got[11]).has_value());
    ASSERT_TRUE(first->commit().has_value());
    auto after = first->committed(tp);
    ASSERT_TRUE(after.has_value());
    EXPECT_EQ(*after, got[11].offset + 1);
    first->close();
  }
  auto second = ctx.make_consumer(group);
  ASSERT_TRUE(second->subscribe({topic}).has_value());
  auto rest = poll_count(*second, 8);
  ASSERT_EQ(rest.size(), 8u);
  EXPECT_EQ(rest.front().value, sequence_value(12));
  EXPECT_EQ(rest.back().value, sequence_value(19));
  EXPECT_TRUE(poll_for(*second, 200ms).empty());
  second->close();
}

TEST_P(transport_conformance, group_members_split_partitions_and_take_over_on_close) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("split");
  constexpr std::int32_t partitions = 4;
  ASSERT_TRUE(ctx.t().create_topic(topic, partitions).has_value());
  const auto group = unique_name("g");
  std::atomic<int> assigned_calls{0};
  std::atomic<int> revoked_calls{0};
  rebalance_listener listener{[&](const std::vector<topic_partition>&) { ++assigned_calls; },
                              [&](const std::vector<topic_partition>&, bool) { ++revoked_calls; }};
  auto a = ctx.make_consumer(group, true, listener);
  auto b = ctx.make_consumer(group, true, listener);
  ASSERT_TRUE(a->subscribe({topic}).has_value());
  ASSERT_TRUE(b->subscribe({topic}).has_value());

  auto settled = [&] {
    auto x = a->assignment();
    auto y = b->assignment();
    if (x.empty() || y.empty() || x.size() + y.size() != partitions) return false;
    std::set<topic_partition> all(x.begin(), x.end());
    all.insert(y.begin(), y.end());
    return all.size() == partitions;
  };
  const auto end = clock::now() + settle_deadline;
  while (!settled() && clock::now() < end) {
    ASSERT_TRUE(a->poll(20ms).has_value());
    ASSERT_TRUE(b->poll(20ms).has_value());
  }
  ASSERT_TRUE(settled()) << "group did not settle: a has " << a->assignment().size() << ", b has "
                         << b->assignment().size();
  EXPECT_GE(assigned_calls.load(), 2);

  std::vector<record> records;
  for (int i = 0; i < 400; ++i) records.push_back(make_record(topic, "k" + std::to_string(i), sequence_value(i)));
  ASSERT_EQ(ctx.produce_all(records).size(), 400u);
  std::set<std::string> seen_a, seen_b;
  const auto a_parts = a->assignment();
  const auto b_parts = b->assignment();
  const auto read_end = clock::now() + settle_deadline;
  while (seen_a.size() + seen_b.size() < 400 && clock::now() < read_end) {
    for (auto* pair : {&a, &b}) {
      auto r = (*pair)->poll(10ms);
      ASSERT_TRUE(r.has_value());
      if (!*r) continue;
      const auto& parts = pair == &a ? a_parts : b_parts;
      EXPECT_NE(std::find(parts.begin(), parts.end(), topic_partition{topic, (*r)->partition}), parts.end())
          << "record from a partition the member does not own";
      ASSERT_TRUE((*pair)->store_offset(**r).has_value());
      auto& seen = pair == &a ? seen_a : seen_b;
      EXPECT_TRUE(seen.insert((*r)->value).second) << "duplicate within one member";
    }
  }
  ASSERT_EQ(seen_a.size() + seen_b.size(), 400u);
  for (const auto& v : seen_a) EXPECT_FALSE(seen_b.contains(v)) << v << " seen by both members";
  EXPECT_FALSE(seen_a.empty());
  EXPECT_FALSE(seen_b.empty());

  // a leaves after storing everything it processed; b must take over a's partitions from there on.
  a->close();
  std::vector<record> more;
  for (int i = 400; i < 500; ++i) more.push_back(make_record(topic, "k" + std::to_string(i), sequence_value(i)));
  ASSERT_EQ(ctx.produce_all(more).size(), 100u);
  auto after = poll_count(*b, 100);
  ASSERT_EQ(after.size(), 100u);
  for (const auto& rec : after) {
    const int index = std::stoi(rec.value.substr(6));
    EXPECT_GE(index, 400) << "record " << rec.value << " redelivered though a committed it";
  }
  EXPECT_EQ(b->assignment().size(), static_cast<std::size_t>(partitions));
  EXPECT_TRUE(poll_for(*b, 200ms).empty());
  EXPECT_GE(revoked_calls.load(), 1);
  b->close();
}

TEST_P(transport_conformance, takes_over_uncommitted_records_of_a_member_that_left) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("takeover");
  ASSERT_TRUE(ctx.t().create_topic(topic, 2).has_value());
  const auto group = unique_name("g");
  auto a = ctx.make_consumer(group);
  ASSERT_TRUE(a->subscribe({topic}).has_value());
  ASSERT_TRUE(wait_assigned(*a, 2));
  std::vector<record> records;
  for (int i = 0; i < 50; ++i) records.push_back(make_record(topic, "k" + std::to_string(i), sequence_value(i)));
  ASSERT_EQ(ctx.produce_all(records).size(), 50u);
  // Process everything but store nothing: a leaves with all 50 uncommitted.
  ASSERT_EQ(poll_count(*a, 50, settle_deadline, false).size(), 50u);
  auto b = ctx.make_consumer(group);
  ASSERT_TRUE(b->subscribe({topic}).has_value());
  a->close();
  auto again = poll_count(*b, 50);
  EXPECT_EQ(again.size(), 50u);
  b->close();
}

TEST_P(transport_conformance, starts_at_the_end_without_from_beginning) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("latest");
  ASSERT_TRUE(ctx.t().create_topic(topic, 2).has_value());
  std::vector<record> old;
  for (int i = 0; i < 5; ++i) old.push_back(make_record(topic, "k" + std::to_string(i), "old"));
  ASSERT_EQ(ctx.produce_all(old).size(), 5u);
  auto c = ctx.make_consumer(unique_name("g"), /*from_beginning=*/false);
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  ASSERT_TRUE(wait_assigned(*c, 2));
  // Kafka resolves "latest" lazily at the first fetch: give it a few polls before producing.
  EXPECT_TRUE(poll_for(*c, 300ms).empty());
  std::vector<record> fresh;
  for (int i = 0; i < 3; ++i) fresh.push_back(make_record(topic, "k" + std::to_string(i), "new"));
  ASSERT_EQ(ctx.produce_all(fresh).size(), 3u);
  auto got = poll_count(*c, 3);
  ASSERT_EQ(got.size(), 3u);
  for (const auto& rec : got) EXPECT_EQ(rec.value, "new");
  EXPECT_TRUE(poll_for(*c, 200ms).empty());
  c->close();
}

TEST_P(transport_conformance, seek_redelivers_from_the_given_offset) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("seek");
  ASSERT_TRUE(ctx.t().create_topic(topic, 1).has_value());
  std::vector<record> records;
  for (int i = 0; i < 5; ++i) records.push_back(make_record(topic, "k", sequence_value(i)));
  auto reports = ctx.produce_all(records);
  ASSERT_EQ(reports.size(), 5u);
  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  auto got = poll_count(*c, 5);
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(c->seek({topic, 0}, reports[2].offset).has_value());
  auto again = poll_count(*c, 3);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].value, sequence_value(2));
  EXPECT_EQ(again[0].offset, reports[2].offset);
  EXPECT_EQ(again[2].value, sequence_value(4));
  auto bad = c->seek({topic, 7}, 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, errc::not_found);
  c->close();
}

TEST_P(transport_conformance, pause_holds_one_partition_while_others_flow) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("pause");
  ASSERT_TRUE(ctx.t().create_topic(topic, 2).has_value());
  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  ASSERT_TRUE(wait_assigned(*c, 2));
  ASSERT_TRUE(c->pause({{topic, 0}}).has_value());
  std::vector<record> records;
  for (int i = 0; i < 10; ++i) records.push_back(make_record(topic, "k", sequence_value(i), i % 2));
  ASSERT_EQ(ctx.produce_all(records).size(), 10u);
  auto flowing = poll_count(*c, 5);
  ASSERT_EQ(flowing.size(), 5u);
  for (const auto& rec : flowing) EXPECT_EQ(rec.partition, 1);
  EXPECT_TRUE(poll_for(*c, 300ms).empty()) << "a paused partition delivered";
  ASSERT_TRUE(c->resume({{topic, 0}}).has_value());
  auto resumed = poll_count(*c, 5);
  ASSERT_EQ(resumed.size(), 5u);
  for (std::size_t i = 0; i < resumed.size(); ++i) {
    EXPECT_EQ(resumed[i].partition, 0);
    EXPECT_EQ(resumed[i].value, sequence_value(static_cast<int>(i) * 2));
  }
  c->close();
}

TEST_P(transport_conformance, deletes_records_older_than_retention) {
  const auto& fixture = GetParam();
  suite_context ctx(fixture);
  if (!ctx.t().features().retention_by_age || !fixture.enforce_retention) {
    GTEST_SKIP() << "transport cannot be driven to enforce retention by age";
  }
  const auto topic = unique_name("retention");
  ASSERT_TRUE(ctx.t().create_topic(topic, 1).has_value());
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::vector<record> old;
  for (int i = 0; i < 10; ++i) {
    auto rec = make_record(topic, "k", "old");
    rec.timestamp_ms = now - 2 * fixture.retention.count();
    old.push_back(rec);
  }
  ASSERT_EQ(ctx.produce_all(old).size(), 10u);
  std::vector<record> young;
  for (int i = 0; i < 4; ++i) young.push_back(make_record(topic, "k", "young"));
  ASSERT_EQ(ctx.produce_all(young).size(), 4u);
  auto enforced = fixture.enforce_retention(ctx.t());
  ASSERT_TRUE(enforced.has_value()) << enforced.error().describe();
  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  auto got = poll_count(*c, 4);
  ASSERT_EQ(got.size(), 4u);
  for (const auto& rec : got) {
    EXPECT_EQ(rec.value, "young");
    EXPECT_EQ(rec.offset >= 10, true) << "offsets are not reused after deletion";
  }
  EXPECT_TRUE(poll_for(*c, 200ms).empty());
  c->close();
}

TEST_P(transport_conformance, flush_returns_after_every_report) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("flush");
  auto sink = std::make_shared<reports>();
  for (int i = 0; i < 500; ++i) {
    ctx.p().produce(make_record(topic, "k" + std::to_string(i), sequence_value(i)),
                    [sink](result<delivery_report> r) { sink->add(std::move(r)); });
  }
  auto flushed = ctx.p().flush(30s);
  ASSERT_TRUE(flushed.has_value()) << flushed.error().describe();
  ASSERT_EQ(sink->size(), 500u);
  std::lock_guard lock(sink->mutex);
  for (const auto& r : sink->all) EXPECT_TRUE(r.has_value()) << r.error().describe();
  auto count = ctx.p().partition_count(topic);
  ASSERT_TRUE(count.has_value());
  EXPECT_GE(*count, 1);
}

TEST_P(transport_conformance, refuses_invalid_topics_through_the_handler) {
  suite_context ctx(GetParam());
  auto sink = std::make_shared<reports>();
  ctx.p().produce(make_record("bad topic/name", "k", "v"), [sink](result<delivery_report> r) { sink->add(std::move(r)); });
  ASSERT_TRUE(ctx.p().flush(30s).has_value());
  ASSERT_EQ(sink->size(), 1u);
  std::lock_guard lock(sink->mutex);
  EXPECT_FALSE(sink->all[0].has_value()) << "a topic name with a space and a slash was accepted";
}

TEST_P(transport_conformance, refuses_offsets_of_partitions_not_assigned) {
  suite_context ctx(GetParam());
  const auto topic = unique_name("unassigned");
  ASSERT_TRUE(ctx.t().create_topic(topic, 1).has_value());
  auto c = ctx.make_consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({topic}).has_value());
  record foreign = make_record(topic, "k", "v", 0);
  foreign.offset = 3;
  auto stored = c->store_offset(foreign);  // not assigned yet: no poll happened
  ASSERT_FALSE(stored.has_value());
  EXPECT_EQ(stored.error().code, errc::not_found);
  ASSERT_TRUE(wait_assigned(*c, 1));
  record other = make_record(unique_name("elsewhere"), "k", "v", 0);
  other.offset = 0;
  auto wrong = c->store_offset(other);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code, errc::not_found);
  EXPECT_TRUE(c->store_offset(foreign).has_value());
  c->close();
  c->close();  // idempotent
}

}  // namespace
}  // namespace aw::events::testing
