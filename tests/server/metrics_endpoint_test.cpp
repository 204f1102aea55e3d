#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/metrics.hpp"
#include "server/http_client.hpp"

namespace aw::events::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::uint16_t port_of(const std::string& address) {
  return static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

TEST(metrics_endpoint, serves_the_registry_in_text_format) {
  registry r;
  auto c = r.counters("aw_events_retries_total", "Retries", {"type"});
  ASSERT_TRUE(c);
  (*c)->with({"content.book.published"}).inc(4);
  auto started = endpoint::start("127.0.0.1:0", r);
  ASSERT_TRUE(started) << started.error().describe();
  const auto response = server::get(port_of((*started)->address()), "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(response, HasSubstr("aw_events_retries_total{type=\"content.book.published\"} 4\n"));
  // Values are read at scrape time.
  (*c)->with({"content.book.published"}).inc();
  EXPECT_THAT(server::get(port_of((*started)->address()), "/metrics"),
              HasSubstr("aw_events_retries_total{type=\"content.book.published\"} 5\n"));
  EXPECT_THAT(server::get(port_of((*started)->address()), "/other"), StartsWith("HTTP/1.1 404"));
}

TEST(metrics_endpoint, bad_listen_address_is_an_error_naming_it) {
  auto started = endpoint::start("127.0.0.1:notaport");
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().message, HasSubstr("127.0.0.1:notaport"));
}

}  // namespace
}  // namespace aw::events::metrics
