#include "server/http_server.hpp"

#include <gtest/gtest.h>

#include "server/http_client.hpp"

namespace aw::events::server {
namespace {

class http_server_test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bound = http_server::bind({.listen = "127.0.0.1:0"});
    ASSERT_TRUE(bound) << bound.error().describe();
    server_ = std::move(*bound);
    server_->route("GET", "/healthz", [](const http_request&) { return http_response{200, "application/json", "{\"status\":\"ok\"}", {}}; });
    server_->route("POST", "/echo", [](const http_request& r) {
      return http_response{201, "text/plain", r.method + " " + r.path + " " + r.query + " " + r.body, {{"x-seen", r.headers.at("x-test")}}};
    });
    server_->route("GET", "/prefix/", [](const http_request& r) { return http_response{200, "text/plain", r.path, {}}; });
    server_->route("GET", "/throws", [](const http_request&) -> http_response { throw std::runtime_error("boom"); });
    server_->start();
  }
  std::unique_ptr<http_server> server_;
};

TEST_F(http_server_test, routes_by_method_and_path) {
  auto ok = get(server_->port(), "/healthz");
  EXPECT_NE(ok.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(ok.find("{\"status\":\"ok\"}"), std::string::npos);
  EXPECT_NE(get(server_->port(), "/prefix/a/b").find("/prefix/a/b"), std::string::npos);
  EXPECT_NE(get(server_->port(), "/nope").find("404"), std::string::npos);
  EXPECT_NE(get(server_->port(), "/healthz", "DELETE").find("405"), std::string::npos);
  EXPECT_NE(get(server_->port(), "/throws").find("500"), std::string::npos);
}

TEST_F(http_server_test, passes_query_headers_and_body_to_the_handler) {
  const std::string body = "hello";
  auto response = send_request(server_->port(), "POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 5\r\n"
                                                "Connection: close\r\n\r\n" + body);
  EXPECT_NE(response.find("201"), std::string::npos);
  EXPECT_NE(response.find("POST /echo a=1 hello"), std::string::npos);
  EXPECT_NE(response.find("x-seen: yes"), std::string::npos);
}

TEST_F(http_server_test, refuses_bodies_over_the_limit_and_garbage) {
  const std::string big(2 << 20, 'x');
  auto response = send_request(server_->port(), "POST /echo HTTP/1.1\r\nHost: x\r\nX-Test: y\r\nContent-Length: " +
                                                    std::to_string(big.size()) + "\r\n\r\n" + big);
  EXPECT_NE(response.find("413"), std::string::npos);
  EXPECT_NE(send_request(server_->port(), "NOT HTTP AT ALL\r\n\r\n").find("400"), std::string::npos);
}

TEST(parse_listen_address, accepts_host_port_and_names_the_bad_part) {
  EXPECT_EQ(*parse_listen_address("127.0.0.1:8080"), (std::pair<std::string, std::uint16_t>{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen_address("localhost:0")->first, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("[::1]:9")->first, "::1");
  EXPECT_NE(parse_listen_address("8080").error().message.find("HOST:PORT"), std::string::npos);
  EXPECT_NE(parse_listen_address("127.0.0.1:99999").error().message.find("99999"), std::string::npos);
  EXPECT_NE(parse_listen_address("example:80").error().message.find("example"), std::string::npos);
  EXPECT_FALSE(http_server::bind({.listen = "127.0.0.1:x"}));
}

}  // namespace
}  // namespace aw::events::server
