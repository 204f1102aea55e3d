// The C++ gateway client against an in-process gateway on an embedded store: receive, publish, and survive a
// gateway restart (reconnect with backoff, resume with no gap and no duplicate).
#include "aw/events/gateway_client.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>

#include "aw/events/ids.hpp"
#include "aw/events/publisher.hpp"
#include "aw/events/transport.hpp"
#include "gateway/gateway.hpp"
#include "gateway/jwt_verifier.hpp"
#include "server/http_server.hpp"

namespace aw::events {
namespace {

using namespace std::chrono_literals;

const std::string secret = "client-test-secret-of-at-least-32-bytes";

std::string token(long ttl_seconds = 300) {
  const long now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string payload = R"({"iss":"iss","aud":"aud","sub":"cpp-client","exp":)" + std::to_string(now + ttl_seconds) +
                              R"(,"events":{"subscribe":["content.*"],"publish":["content.book.edited"]}})";
  const auto input = gateway::base64url_encode(R"({"alg":"HS256"})") + "." + gateway::base64url_encode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &size);
  return input + "." + gateway::base64url_encode(std::string(reinterpret_cast<char*>(mac), size));
}

// serve's gateway part, in process.
struct running_gateway {
  std::unique_ptr<gateway::websocket_gateway> gw;
  std::unique_ptr<server::http_server> http;

  static running_gateway start(std::shared_ptr<transport> t, std::uint16_t port) {
    running_gateway r;
    auto bound = server::http_server::bind({.listen = "127.0.0.1:" + std::to_string(port)});
    EXPECT_TRUE(bound) << bound.error().describe();
    r.http = std::move(*bound);
    auto verifier = gateway::jwt_verifier::from_secret(secret, {"iss", "aud", 60s});
    gateway::gateway_options options;
    options.services = {"content"};
    options.heartbeat = 1s;
    auto made = gateway::websocket_gateway::create(std::move(t), std::move(*verifier), options);
    EXPECT_TRUE(made) << made.error().describe();
    r.gw = std::move(*made);
    r.gw->mount(*r.http);
    r.http->start();
    return r;
  }
  void stop() {
    gw->stop();
    http->stop();
    http.reset();
    gw.reset();
  }
};

struct collector {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;
  std::vector<std::string> controls;

  bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout = 15s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, done);
  }
};

TEST(gateway_client, receives_publishes_and_resumes_across_a_gateway_restart) {
  const auto dir = std::filesystem::temp_directory_path() / ("aw-gateway-client-" + new_uuid_v4());
  transport_config config;
  config.store_path = (dir / "events.db").string();
  auto t = open_transport(config);
  ASSERT_TRUE(t) << t.error().describe();
  auto pub = publisher::create(*t, {.service = "content"});
  ASSERT_TRUE(pub) << pub.error().describe();
  auto publish = [&](const std::string& key) {
    auto receipt = (*pub)->publish("content.book.published", R"({"title":"x"})", {.key = key}).get();
    EXPECT_TRUE(receipt) << receipt.error().describe();
    return receipt->event_id;
  };

  auto gw = running_gateway::start(*t, 0);
  const auto port = gw.http->port();
  collector got;
  gateway_client_config client_config;
  client_config.url = "ws://127.0.0.1:" + std::to_string(port) + "/v1/content/ws";
  client_config.token = [] { return token(); };
  client_config.types = {"content.book.*"};
  client_config.initial_backoff = 100ms;
  client_config.max_backoff = 400ms;
  client_config.heartbeat = 1s;
  gateway_client_callbacks callbacks;
  callbacks.on_event = [&](const envelope& e, std::string_view) {
    std::lock_guard lock(got.mutex);
    got.events.push_back(e.meta.id);
    got.changed.notify_all();
  };
  callbacks.on_control = [&](const envelope& e) {
    std::lock_guard lock(got.mutex);
    got.controls.push_back(e.meta.type);
    got.changed.notify_all();
  };
  auto client = gateway_client::start(client_config, callbacks);
  ASSERT_TRUE(client) << client.error().describe();
  ASSERT_TRUE(got.wait_for([&] { return !got.controls.empty(); })) << "no subscription answer";
  EXPECT_EQ(got.controls.front(), "gateway.subscription.accepted");

  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(publish("book-" + std::to_string(i)));
  ASSERT_TRUE(got.wait_for([&] { return got.events.size() >= 5; }));

  // Publish through the client: acknowledged, and seen by its own subscription.
  envelope edit;
  edit.meta = {new_uuid_v4(), "content.book.edited", "1.0", now_timestamp(), "corr-1", "cpp", new_trace(), ""};
  edit.data = R"({"op":"insert"})";
  ASSERT_TRUE((*client)->publish(edit, "book-1"));
  expected.push_back(edit.meta.id);
  ASSERT_TRUE(got.wait_for([&] {
    return got.events.size() >= 6 &&
           std::count(got.controls.begin(), got.controls.end(), "gateway.publish.accepted") == 1;
  }));

  // The gateway goes away; events keep arriving in the store; a new gateway comes up on the same port.
  gw.stop();
  ASSERT_TRUE(got.wait_for([&] { return !(*client)->connected(); }, 5s));
  for (int i = 5; i < 12; ++i) expected.push_back(publish("book-" + std::to_string(i)));
  gw = running_gateway::start(*t, port);
  ASSERT_TRUE(got.wait_for([&] {
    return std::count(got.controls.begin(), got.controls.end(), "gateway.subscription.resumed") == 1;
  }, 20s));
  expected.push_back(publish("book-live"));
  ASSERT_TRUE(got.wait_for([&] { return got.events.size() >= expected.size(); }));
  std::this_thread::sleep_for(300ms);  // a duplicate would show up now
  {
    std::lock_guard lock(got.mutex);
    EXPECT_EQ(std::multiset<std::string>(got.events.begin(), got.events.end()),
              std::multiset<std::string>(expected.begin(), expected.end()));
  }
  EXPECT_GE((*client)->connections(), 2);
  EXPECT_FALSE((*client)->positions().empty());
  (*client)->stop();
  gw.stop();
  std::filesystem::remove_all(dir);
}

TEST(gateway_client, refuses_bad_configuration) {
  gateway_client_config config;
  config.url = "http://x/v1/content/ws";
  config.token = [] { return std::string("t"); };
  config.types = {"content.*"};
  EXPECT_FALSE(gateway_client::start(config, {}));
  config.url = "ws://127.0.0.1/v1/content/ws";
  EXPECT_FALSE(gateway_client::start(config, {}));
  config.url = "ws://127.0.0.1:1/v1/content/ws";
  config.types.clear();
  EXPECT_FALSE(gateway_client::start(config, {}));
}

TEST(gateway_backoff, full_jitter_within_an_exponential_ceiling) {
  EXPECT_EQ(gateway_backoff_delay(0, 500ms, 20s, 0.999999), 499ms);
  EXPECT_EQ(gateway_backoff_delay(1, 500ms, 20s, 0.5), 500ms);
  EXPECT_EQ(gateway_backoff_delay(3, 500ms, 20s, 1.0), 4000ms);
  EXPECT_EQ(gateway_backoff_delay(10, 500ms, 20s, 1.0), 20s);
  EXPECT_EQ(gateway_backoff_delay(1000, 500ms, 20s, 1.0), 20s);
  EXPECT_EQ(gateway_backoff_delay(5, 500ms, 20s, 0.0), 0ms);
}

}  // namespace
}  // namespace aw::events
