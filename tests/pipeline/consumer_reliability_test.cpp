// The consumer reliability pipeline on the memory transport: dead letters (DESIGN.md §3), dedup and status
// ledger, attempt counts across restarts, transactional inbox, alerts, middleware, error taxonomy.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "aw/events/deadletter.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/ledger.hpp"
#include "aw/events/subscriber.hpp"
#include "aw/events/transport/memory.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("aw-consumer-test-" + new_uuid_v4());
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

class reliability_test : public ::testing::Test {
 protected:
  std::shared_ptr<memory_transport> transport_ = memory_transport::create();
  std::unique_ptr<producer> raw_ = std::move(*transport_->create_producer({}));
  std::unique_ptr<publisher> publisher_ = std::move(*publisher::create(transport_, {.service = "content"}));

  std::string publish(const std::string& key, int seq) {
    auto receipt = publisher_->publish("content.book.published", "{\"seq\":" + std::to_string(seq) + "}", {.key = key}).get();
    EXPECT_TRUE(receipt) << receipt.error().describe();
    return receipt ? receipt->event_id : "";
  }

  void publish_raw(const std::string& topic, const std::string& key, const std::string& value) {
    std::promise<result<delivery_report>> done;
    raw_->produce(record{.topic = topic, .key = key, .value = value},
                  [&](result<delivery_report> r) { done.set_value(std::move(r)); });
    ASSERT_TRUE(done.get_future().get());
  }

  subscriber_config config(std::shared_ptr<status_ledger> ledger = nullptr) {
    subscriber_config c{.service = "search", .group = "indexer"};
    c.retry.initial = 1ms;
    c.retry.max = 2ms;
    c.retry.max_attempts = 3;
    c.ledger = std::move(ledger);
    c.ledger_batch_delay = 5ms;
    return c;
  }

  // Every record of a topic, read by a throw-away group.
  std::vector<record> read_all(const std::string& topic, std::size_t expected) {
    auto consumer = std::move(*transport_->create_consumer({.group_id = "reader-" + new_uuid_v4()}));
    EXPECT_TRUE(consumer->subscribe({topic}));
    std::vector<record> out;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
      auto polled = consumer->poll(20ms);
      if (polled && *polled) out.push_back(std::move(**polled));
    }
    auto extra = consumer->poll(50ms);
    if (extra && *extra) out.push_back(std::move(**extra));
    return out;
  }
};

TEST_F(reliability_test, poison_records_become_dead_letters_with_original_bytes_and_later_events_are_processed) {
  const std::string not_utf8 = std::string("{\"a\":\"") + char(0xff) + "\"}";
  publish_raw("content", "k-1", "{not json");
  publish_raw("content", "k-1", not_utf8);
  publish_raw("content", "k-1", "[1,2]");
  publish_raw("content", "k-1", "");
  const auto good = publish("k-1", 1);
  auto s = std::move(*subscriber::create(transport_, config()));
  std::vector<std::string> handled;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
    handled.push_back(e.event.meta.id);
    return {};
  }));
  auto finished = s->run({.max_events = 5, .idle_exit = 2s});
  ASSERT_TRUE(finished) << finished.error().describe();
  EXPECT_EQ(handled, std::vector<std::string>{good});
  EXPECT_EQ(s->stats().dead_lettered, 4u);

  auto dead = read_all("search.deadletter", 4);
  ASSERT_EQ(dead.size(), 4u);
  const std::vector<std::string> originals{"{not json", not_utf8, "[1,2]", ""};
  const std::vector<std::string> codes{"invalid_json", "invalid_json", "invalid_envelope", "invalid_json"};
  for (std::size_t i = 0; i < dead.size(); ++i) {
    auto decoded = decode_envelope(dead[i].value);
    ASSERT_TRUE(decoded) << decoded.error().describe();
    EXPECT_EQ(decoded->meta.type, "search.deadletter.recorded");
    EXPECT_EQ(decoded->meta.source, "search");
    EXPECT_EQ(dead[i].key, "k-1") << "dead letters are keyed like the original";
    EXPECT_EQ(dead[i].header_value("aw-event-type").value_or(""), "search.deadletter.recorded");
    const auto& data = decoded->data;
    EXPECT_NE(data.find("\"value_base64\":\"" + detail::base64_encode(originals[i]) + "\""), std::string::npos) << data;
    EXPECT_NE(data.find("\"class\":\"permanent\""), std::string::npos);
    EXPECT_NE(data.find("\"code\":\"" + codes[i] + "\""), std::string::npos) << data;
    EXPECT_NE(data.find("\"attempts\":1,"), std::string::npos);
    EXPECT_NE(data.find("\"consumer\":{\"service\":\"search\",\"group\":\"indexer\""), std::string::npos);
    std::printf("dead letter %zu: %zu bytes, original %zu bytes\n", i, dead[i].value.size(), originals[i].size());
  }
  EXPECT_NE(dead[2].value.find("\"value\":[1,2]"), std::string::npos) << "a JSON value is also shown as JSON";
  EXPECT_EQ(dead[0].value.find("\"value\":"), std::string::npos) << "malformed JSON is shown base64 only";
}

TEST_F(reliability_test, dead_letter_keeps_correlation_and_trace_and_schema_details) {
  const auto id = publish("k-9", 1);
  auto s = std::move(*subscriber::create(transport_, config()));
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    return permanent("book has no title", errc::schema_violation, {{"/data/title", "/required", "title is required"}});
  }));
  ASSERT_TRUE(s->run({.max_events = 1, .idle_exit = 2s}));
  auto original = read_all("content", 1);
  auto dead = read_all("search.deadletter", 1);
  ASSERT_EQ(dead.size(), 1u);
  auto source = decode_envelope(original.at(0).value);
  auto decoded = decode_envelope(dead[0].value);
  ASSERT_TRUE(source && decoded);
  EXPECT_EQ(decoded->meta.correlation_id, source->meta.correlation_id);
  EXPECT_EQ(decoded->meta.trace.trace_id, source->meta.trace.trace_id);
  EXPECT_NE(decoded->meta.trace.span_id, source->meta.trace.span_id);
  EXPECT_NE(decoded->data.find("\"instanceLocation\":\"/data/title\""), std::string::npos) << decoded->data;
  EXPECT_NE(decoded->data.find("\"code\":\"schema_violation\""), std::string::npos);
  EXPECT_NE(decoded->data.find(id), std::string::npos);
}

TEST_F(reliability_test, exhausted_retries_are_dead_lettered_as_retries_exhausted_after_max_attempts) {
  publish("k-1", 1);
  auto s = std::move(*subscriber::create(transport_, config()));
  int calls = 0;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++calls;
    return transient("search cluster down", errc::unavailable);
  }));
  ASSERT_TRUE(s->run({.max_events = 1, .idle_exit = 2s}));
  EXPECT_EQ(calls, 3);
  auto dead = read_all("search.deadletter", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].value.find("\"class\":\"retries_exhausted\""), std::string::npos);
  EXPECT_NE(dead[0].value.find("\"attempts\":3,"), std::string::npos);
}

TEST_F(reliability_test, source_offset_is_not_committed_while_the_dead_letter_cannot_be_written) {
  publish("k-1", 1);
  transport_->fail_next_produces(1000, errc::unavailable);
  {
    auto s = std::move(*subscriber::create(transport_, config()));
    ASSERT_TRUE(s->on("content.book.published", 1, [](const received_event&) { return permanent("bad"); }));
    auto finished = s->run({.idle_exit = 300ms});
    ASSERT_TRUE(finished);
    EXPECT_EQ(*finished, 0u);
  }
  transport_->fail_next_produces(0, errc::unavailable);
  auto again = std::move(*subscriber::create(transport_, config()));
  int seen = 0;
  ASSERT_TRUE(again->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++seen;
    return permanent("bad");
  }));
  ASSERT_TRUE(again->run({.max_events = 1, .idle_exit = 2s}));
  EXPECT_EQ(seen, 1) << "the event came back because its offset was held";
  EXPECT_EQ(read_all("search.deadletter", 1).size(), 1u);
}

TEST_F(reliability_test, exceptions_are_transient_by_default_and_permanent_when_configured) {
  publish("k-1", 1);
  auto c = config();
  c.exceptions_are_permanent = true;
  auto s = std::move(*subscriber::create(transport_, std::move(c)));
  int calls = 0;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++calls;
    throw std::runtime_error("boom");
  }));
  ASSERT_TRUE(s->run({.max_events = 1, .idle_exit = 2s}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s->stats().dead_lettered, 1u);
}

TEST_F(reliability_test, ledger_skips_duplicates_of_succeeded_events) {
  auto ledger = make_memory_ledger();
  const auto id = publish("k-1", 1);
  // The same record again, as a producer retry after a lost acknowledgement would write it.
  auto first = read_all("content", 1);
  publish_raw("content", "k-1", first.at(0).value);
  auto s = std::move(*subscriber::create(transport_, config(ledger)));
  int calls = 0;
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    ++calls;
    return {};
  }));
  ASSERT_TRUE(s->run({.max_events = 2, .idle_exit = 2s}));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s->stats().duplicates_skipped, 1u);
  auto history = ledger->history_of_event(id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].state, processing_state::succeeded);
  EXPECT_EQ((*history)[1].state, processing_state::duplicate_skipped);
}

TEST_F(reliability_test, attempt_counts_survive_a_restart_with_the_sqlite_ledger) {
  const auto path = temp_path("ledger.db");
  const auto id = publish("k-1", 1);
  std::vector<std::vector<int>> runs(2);
  for (int run = 0; run < 2; ++run) {
    auto ledger = std::move(*open_sqlite_ledger({.path = path}));
    auto c = config(ledger);
    c.retry.max_attempts = 4;
    c.retry.initial = 200ms;  // long enough that the run ends (idle) before the retry
    c.retry.max = 200ms;
    auto s = std::move(*subscriber::create(transport_, std::move(c)));
    ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
      runs[run].push_back(e.attempt);
      return transient("not yet");
    }));
    ASSERT_TRUE(s->run({.max_events = 1, .idle_exit = 1ms}));
  }
  ASSERT_FALSE(runs[0].empty());
  ASSERT_FALSE(runs[1].empty());
  EXPECT_EQ(runs[0].front(), 1);
  EXPECT_EQ(runs[1].front(), runs[0].back() + 1) << "the second process went on counting from the first one's attempt";
  auto ledger = std::move(*open_sqlite_ledger({.path = path}));
  auto history = ledger->history_of_event(id);
  ASSERT_TRUE(history);
  ASSERT_GE(history->size(), 2u);
  EXPECT_EQ((*history)[0].state, processing_state::retrying);
  EXPECT_EQ((*history)[0].attempt, 1);
  EXPECT_NE((*history)[0].error.find("not yet"), std::string::npos);
}

TEST_F(reliability_test, inbox_commits_handler_writes_with_the_processed_mark_exactly_once) {
  const auto path = temp_path("inbox.db");
  const int events = 200;
  for (int i = 0; i < events; ++i) publish("k-" + std::to_string(i % 7), i);
  {
    auto ledger = std::move(*open_sqlite_ledger({.path = path}));
    auto tx = ledger->inbox();
    ASSERT_TRUE(tx && *tx);
    ASSERT_TRUE((*tx)->execute("CREATE TABLE IF NOT EXISTS effects(event_id TEXT NOT NULL)"));
    ASSERT_TRUE(ledger->flush());
  }
  int failures_left = 20;
  std::uint64_t total_runs = 0;
  // Three runs: the first fails some handlers after writing (rolled back), the later ones see duplicates.
  for (int run = 0; run < 3; ++run) {
    auto ledger = std::move(*open_sqlite_ledger({.path = path}));
    auto c = config(ledger);
    c.inbox = true;
    c.ledger_batch_events = 16;
    auto s = std::move(*subscriber::create(transport_, std::move(c)));
    ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event& e) -> result<void> {
      ++total_runs;
      if (!e.inbox) return permanent("no inbox");
      if (auto ok = e.inbox->execute("INSERT INTO effects(event_id) VALUES(?1)", {std::string_view(e.event.meta.id)}); !ok) {
        return make_error(ok.error());
      }
      if (failures_left > 0 && e.attempt == 1) {
        --failures_left;
        return transient("fails after its write");
      }
      return {};
    }));
    ASSERT_TRUE(s->run({.max_events = static_cast<std::uint64_t>(run == 0 ? events / 2 : events), .idle_exit = 300ms}));
  }
  auto ledger = std::move(*open_sqlite_ledger({.path = path}));
  auto tx = ledger->inbox();
  auto effects = (*tx)->query_int64("SELECT count(*) FROM effects");
  auto distinct = (*tx)->query_int64("SELECT count(DISTINCT event_id) FROM effects");
  ASSERT_TRUE(effects && distinct);
  std::printf("inbox: %d events, %llu handler runs, %lld effects recorded, %lld distinct\n", events,
              static_cast<unsigned long long>(total_runs), static_cast<long long>(**effects),
              static_cast<long long>(**distinct));
  EXPECT_EQ(**effects, events);
  EXPECT_EQ(**distinct, events);
  EXPECT_GT(total_runs, static_cast<std::uint64_t>(events)) << "the test did make handlers fail";
}

TEST_F(reliability_test, alerts_fire_on_repeated_dead_letters_and_consecutive_failures) {
  for (int i = 0; i < 4; ++i) publish("k-" + std::to_string(i), i);
  struct observer : consumer_observer {
    int alerts = 0, dead = 0, retries = 0, handled = 0;
    void alert(const failure_alert&) override { ++alerts; }
    void dead_lettered(const failed_event&) override { ++dead; }
    void retried(const envelope&, int, const error&) override { ++retries; }
    void processed(const envelope&, std::chrono::nanoseconds) override { ++handled; }
  };
  auto obs = std::make_shared<observer>();
  std::vector<failure_alert> fired;
  auto c = config();
  c.observer = obs;
  c.alerts.dead_letters = 2;
  c.alerts.consecutive_failures = 3;
  c.alerts.window = 60s;
  c.alerts.on_alert = [&](const failure_alert& a) { fired.push_back(a); };
  auto s = std::move(*subscriber::create(transport_, std::move(c)));
  ASSERT_TRUE(s->on("content.book.published", 1, [](const received_event&) { return permanent("rejected"); }));
  ASSERT_TRUE(s->run({.max_events = 4, .idle_exit = 2s}));
  // 4 dead letters → 2 dead-letter alerts; 4 consecutive failures of one type → 1 consecutive alert.
  int dead_alerts = 0, consecutive = 0;
  for (const auto& a : fired) (a.reason == "dead_letters" ? dead_alerts : consecutive)++;
  EXPECT_EQ(dead_alerts, 2);
  EXPECT_EQ(consecutive, 1);
  EXPECT_EQ(obs->alerts, 3);
  EXPECT_EQ(obs->dead, 4);
  EXPECT_EQ(obs->handled, 4);
  EXPECT_EQ(obs->retries, 0);
}

TEST_F(reliability_test, middlewares_wrap_handlers_first_added_outermost) {
  publish("k-1", 1);
  auto s = std::move(*subscriber::create(transport_, config()));
  std::vector<std::string> trail;
  auto tag = [&](std::string name) {
    return [&trail, name](std::string_view, int, event_handler next) -> event_handler {
      return [&trail, name, next](const received_event& e) {
        trail.push_back(name + ">");
        auto r = next(e);
        trail.push_back("<" + name);
        return r;
      };
    };
  };
  s->use(tag("a"));
  s->use(tag("b"));
  ASSERT_TRUE(s->on("content.book.published", 1, [&](const received_event&) -> result<void> {
    trail.push_back("handler");
    return {};
  }));
  ASSERT_TRUE(s->run({.max_events = 1, .idle_exit = 2s}));
  EXPECT_EQ(trail, (std::vector<std::string>{"a>", "b>", "handler", "<b", "<a"}));
}

TEST(ledger_test, sqlite_ledger_batches_until_flush_and_answers_history_queries) {
  const auto path = temp_path("l.db");
  auto ledger = std::move(*open_sqlite_ledger({.path = path}));
  ASSERT_TRUE(ledger->record({.group = "g", .event_id = "e1", .state = processing_state::retrying, .attempt = 1,
                              .error = "x", .correlation_id = "c1", .type = "a.b.c"}));
  ASSERT_TRUE(ledger->record({.group = "g", .event_id = "e1", .state = processing_state::succeeded, .attempt = 2,
                              .correlation_id = "c1", .type = "a.b.c"}));
  EXPECT_EQ(ledger->pending(), 2u);
  auto seen = ledger->lookup("g", "e1");
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ((*seen)->state, processing_state::succeeded) << "unflushed transitions are visible to dedup";
  EXPECT_FALSE(*ledger->lookup("other-group", "e1"));
  {
    auto reader = std::move(*open_sqlite_ledger({.path = path, .busy_timeout = 50ms}));
    auto none = reader->history_of_event("e1");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty()) << "nothing is durable before flush";
  }
  ASSERT_TRUE(ledger->flush());
  EXPECT_EQ(ledger->pending(), 0u);
  auto reader = std::move(*open_sqlite_ledger({.path = path}));
  auto by_correlation = reader->history_of_correlation("c1");
  ASSERT_TRUE(by_correlation);
  ASSERT_EQ(by_correlation->size(), 2u);
  EXPECT_EQ((*by_correlation)[1].attempt, 2);
}

TEST(ledger_test, path_next_to_the_store_and_bad_options_are_named) {
  EXPECT_EQ(ledger_path_for_store("/data/events.db"), "/data/events.ledger.db");
  auto bad = open_sqlite_ledger({.path = ""});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("path"), std::string::npos);
  subscriber_config c{.service = "s", .group = "g"};
  c.inbox = true;
  auto refused = subscriber::create(memory_transport::create(), c);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("inbox"), std::string::npos);
}

}  // namespace
}  // namespace aw::events
