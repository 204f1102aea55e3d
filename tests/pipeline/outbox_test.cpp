#include "aw/events/outbox.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch_dir.hpp"
#include <random>
#include <set>

#include "aw/events/catalog.hpp"
#include "aw/events/envelope.hpp"
#include "aw/events/transport/embedded.hpp"
#include "aw/events/transport/memory.hpp"
#include "store/sqlite.hpp"

namespace aw::events {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class outbox_test : public ::testing::Test {
 protected:
  std::shared_ptr<outbox> open_outbox(std::shared_ptr<const event_catalog> catalog = nullptr) {
    auto opened = outbox::open({.path = dir_.file("service.db"), .service = "content", .catalog = catalog});
    EXPECT_TRUE(opened) << opened.error().describe();
    auto box = std::shared_ptr<outbox>(std::move(*opened));
    EXPECT_TRUE(box->transact([](outbox_transaction& tx) {
      return tx.execute("CREATE TABLE IF NOT EXISTS books (id TEXT PRIMARY KEY, title TEXT)");
    }));
    return box;
  }

  std::shared_ptr<publisher> make_publisher(std::shared_ptr<transport> t) {
    publisher_config config{.service = "content"};
    config.retry.initial = 1ms;
    config.retry.max = 2ms;
    config.retry.max_attempts = 2;
    auto created = publisher::create(std::move(t), std::move(config));
    EXPECT_TRUE(created) << created.error().describe();
    return std::shared_ptr<publisher>(std::move(*created));
  }

  static std::vector<envelope> read_all(transport& t, const std::string& topic, std::size_t expected) {
    auto c = t.create_consumer({.group_id = "reader-" + std::to_string(::getpid())}).value();
    EXPECT_TRUE(c->subscribe({topic}));
    std::vector<envelope> out;
    for (int idle = 0; idle < 30 && out.size() < expected;) {
      auto polled = c->poll(50ms);
      if (!polled || !*polled) {
        ++idle;
        continue;
      }
      out.push_back(decode_envelope((**polled).value).value());
    }
    c->close();
    return out;
  }

  testing_support::scratch_dir dir_{"aw-outbox"};
};

TEST_F(outbox_test, domain_write_and_event_commit_together_and_the_relay_publishes_them) {
  auto box = open_outbox();
  std::string event_id;
  ASSERT_TRUE(box->transact([&](outbox_transaction& tx) -> result<void> {
    if (auto ok = tx.execute("INSERT INTO books VALUES (?1, ?2)", {std::string_view("b-1"), std::string_view("Dune")});
        !ok) {
      return ok;
    }
    auto id = tx.stage("content.book.published", R"({"book_id":"b-1","title":"Dune"})",
                       {.key = "b-1", .correlation_id = "req-1"});
    if (!id) return make_error(id.error());
    event_id = *id;
    return {};
  }));
  EXPECT_EQ(box->depth().value(), 1);
  auto transport = memory_transport::create();
  outbox_relay relay(box, make_publisher(transport));
  auto sent = relay.run_once();
  ASSERT_TRUE(sent) << sent.error().describe();
  EXPECT_EQ(*sent, 1u);
  EXPECT_EQ(box->depth().value(), 0);
  EXPECT_EQ(relay.run_once().value(), 0u);
  auto events = read_all(*transport, "content", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].meta.id, event_id);
  EXPECT_EQ(events[0].meta.correlation_id, "req-1");
  EXPECT_EQ(events[0].meta.source, "content");
  EXPECT_EQ(events[0].data, R"({"book_id":"b-1","title":"Dune"})");
}

TEST_F(outbox_test, a_failed_or_throwing_body_rolls_back_domain_writes_and_events) {
  auto box = open_outbox();
  auto failed = box->transact([](outbox_transaction& tx) -> result<void> {
    (void)tx.execute("INSERT INTO books VALUES ('b-2', 'x')");
    (void)tx.stage("content.book.published", R"({"book_id":"b-2"})", {.key = "b-2"});
    return make_error(errc::invalid_argument, "domain rule broken");
  });
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("domain rule broken"));
  auto thrown = box->transact([](outbox_transaction& tx) -> result<void> {
    (void)tx.stage("content.book.published", R"({"book_id":"b-3"})", {.key = "b-3"});
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(thrown);
  EXPECT_THAT(thrown.error().message, HasSubstr("boom"));
  EXPECT_EQ(box->depth().value(), 0);
  ASSERT_TRUE(box->transact([](outbox_transaction& tx) -> result<void> {
    auto n = tx.query_int64("SELECT count(*) FROM books");
    if (!n) return make_error(n.error());
    EXPECT_EQ(**n, 0);
    return {};
  }));
}

TEST_F(outbox_test, invalid_events_are_refused_at_stage_with_a_located_error) {
  auto box = open_outbox();
  ASSERT_TRUE(box->transact([](outbox_transaction& tx) -> result<void> {
    auto not_object = tx.stage("content.book.published", "[1,2]", {.key = "b-1"});
    EXPECT_FALSE(not_object);
    EXPECT_EQ(not_object.error().code, errc::invalid_envelope);
    auto bad_type = tx.stage("Content.Book", "{}", {.key = "b-1"});
    EXPECT_FALSE(bad_type);
    EXPECT_FALSE(bad_type.error().details.empty());
    auto no_key = tx.stage("content.book.published", "{}", {});
    EXPECT_FALSE(no_key);
    EXPECT_THAT(no_key.error().message, HasSubstr("key"));
    return {};
  }));
  EXPECT_EQ(box->depth().value(), 0);
}

TEST_F(outbox_test, with_a_catalog_staged_data_must_match_its_schema) {
  auto catalog = event_catalog::load_directory(AW_CATALOG_DIR);
  ASSERT_TRUE(catalog) << catalog.error().describe();
  auto box = open_outbox(std::make_shared<const event_catalog>(std::move(*catalog)));
  ASSERT_TRUE(box->transact([](outbox_transaction& tx) -> result<void> {
    auto refused = tx.stage("content.book.published", R"({"book_id":42})", {.key = "b-1"});
    EXPECT_FALSE(refused);
    if (!refused) EXPECT_EQ(refused.error().code, errc::schema_violation);
    auto unknown = tx.stage("content.nothing.happened", "{}", {.key = "b-1"});
    EXPECT_FALSE(unknown);
    return {};
  }));
}

TEST_F(outbox_test, rows_not_acknowledged_stay_unsent_and_go_out_in_the_next_round) {
  auto box = open_outbox();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(box->transact([i](outbox_transaction& tx) -> result<void> {
      auto id = tx.stage("content.book.published", R"({"book_id":"b"})", {.key = "b-" + std::to_string(i)});
      return id ? result<void>{} : make_error(id.error());
    }));
  }
  auto transport = memory_transport::create();
  outbox_relay relay(box, make_publisher(transport));
  transport->fail_next_produces(100, errc::unavailable);
  auto round = relay.run_once();
  ASSERT_FALSE(round);
  EXPECT_EQ(box->depth().value(), 3);
  transport->fail_next_produces(0, errc::unavailable);
  auto retried = relay.run_once();
  ASSERT_TRUE(retried) << retried.error().describe();
  EXPECT_EQ(*retried, 3u);
  EXPECT_EQ(box->depth().value(), 0);
}

// The issue's acceptance: kill -9 between the domain commit and the relay's send at 100 random moments. Every
// committed row is published (a dedup reader sees each exactly once) and no rolled-back row ever is.
TEST_F(outbox_test, kill_9_at_random_moments_loses_no_committed_event_and_leaks_no_rolled_back_one) {
  const auto store = dir_.file("events.db");
  const auto service_db = dir_.file("service.db");
  std::mt19937 random(20261127);
  constexpr int rounds = 100;
  for (int round = 0; round < rounds; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Writes transactions (every third one rolled back) and relays, until killed.
      auto box = outbox::open({.path = service_db, .service = "content"});
      auto t = embedded_transport::open({.path = store, .default_partitions = 2});
      if (!box || !t) ::_exit(3);
      std::shared_ptr<outbox> shared(std::move(*box));
      publisher_config config{.service = "content"};
      auto pub = publisher::create(*t, std::move(config));
      if (!pub) ::_exit(4);
      outbox_relay relay(shared, std::shared_ptr<publisher>(std::move(*pub)));
      (void)shared->transact([](outbox_transaction& tx) {
        return tx.execute("CREATE TABLE IF NOT EXISTS committed (id TEXT PRIMARY KEY)");
      });
      for (int i = 0;; ++i) {
        const bool rollback = i % 3 == 2;
        (void)shared->transact([&](outbox_transaction& tx) -> result<void> {
          auto id = tx.stage("content.book.published", R"({"book_id":"b"})",
                             {.key = "b-" + std::to_string(i % 5)});
          if (!id) return make_error(id.error());
          if (rollback) return make_error(errc::invalid_argument, "rolled back on purpose");
          return tx.execute("INSERT INTO committed VALUES (?1)", {std::string_view(*id)});
        });
        if (i % 4 == 3) (void)relay.run_once();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 60));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": child exited with " << WEXITSTATUS(status);
  }
  // A restarted relay drains what is left.
  auto box = std::shared_ptr<outbox>(outbox::open({.path = service_db, .service = "content"}).value());
  auto t = embedded_transport::open({.path = store, .default_partitions = 2}).value();
  outbox_relay relay(box, make_publisher(t));
  while (relay.run_once().value() > 0) {
  }
  EXPECT_EQ(box->depth().value(), 0);

  std::set<std::string> committed;
  {
    auto reader = events::store::connection::open(service_db, std::chrono::seconds(5)).value();
    auto rows = reader->prepare("SELECT id FROM committed").value();
    while (rows.step().value()) committed.insert(std::string(rows.column_text(0)));
  }
  ASSERT_FALSE(committed.empty());
  auto published = read_all(*t, "content", committed.size() * 2);
  std::set<std::string> seen;
  std::size_t duplicates = 0, leaked = 0;
  for (const auto& e : published) {
    if (!seen.insert(e.meta.id).second) ++duplicates;
    if (!committed.contains(e.meta.id)) ++leaked;
  }
  std::size_t lost = 0;
  for (const auto& id : committed) lost += seen.contains(id) ? 0 : 1;
  std::printf("outbox kill -9 x%d: committed %zu, published %zu (distinct %zu), duplicates %zu, lost %zu, "
              "rolled-back leaked %zu\n",
              rounds, committed.size(), published.size(), seen.size(), duplicates, lost, leaked);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(leaked, 0u);
}

}  // namespace
}  // namespace aw::events
