#include "server/http_server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <charconv>
#include <optional>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "server/http_upgrade.hpp"

namespace aw::events::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

result<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error(errc::invalid_argument, "listen address \"" + std::string(text) + "\" must be HOST:PORT");
  }
  auto host = std::string(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return make_error(errc::invalid_argument, "listen address \"" + std::string(text) + "\": port \"" +
                                                  std::string(port_text) + "\" is not a number 0..65535");
  }
  boost::system::error_code bad;
  asio::ip::make_address(host, bad);
  if (bad && host != "localhost") {
    return make_error(errc::invalid_argument, "listen address \"" + std::string(text) + "\": \"" + host +
                                                  "\" is not an IP address");
  }
  if (host == "localhost") host = "127.0.0.1";
  return std::pair<std::string, std::uint16_t>(host, static_cast<std::uint16_t>(port));
}

result<void> http_server_options::validate() const {
  if (auto parsed = parse_listen_address(listen); !parsed) return make_error(parsed.error());
  if (threads < 1 || threads > 64) return make_error(errc::invalid_argument, "http_server_options.threads must be 1..64");
  return {};
}

struct http_server::impl {
  http_server_options options_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::vector<std::pair<std::pair<std::string, std::string>, http_handler>> routes_;
  std::vector<std::pair<std::string, upgrade_handler>> upgrade_routes_;
  std::vector<std::thread> threads_;
  bool started_ = false;

  http_response dispatch(const http_request& request) const {
    bool path_known = false;
    for (const auto& [key, handler] : routes_) {
      const auto& [method, path] = key;
      const bool matches = path.back() == '/' ? request.path.starts_with(path) : request.path == path;
      if (!matches) continue;
      path_known = true;
      if (method != request.method) continue;
      try {
        return handler(request);
      } catch (const std::exception& e) {
        log::error("http handler threw", {{"path", request.path}, {"error", e.what()}});
        return {500, "application/json", R"({"error":"internal error"})", {}};
      }
    }
    if (path_known) return {405, "application/json", R"({"error":"method not allowed"})", {}};
    return {404, "application/json", R"({"error":"not found"})", {}};
  }

  void accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<session>(std::move(socket), *this)->read();
      accept();
    });
  }

  // One connection: read a request, answer, repeat while keep-alive.
  struct session : std::enable_shared_from_this<session> {
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;
    impl& owner;

    session(tcp::socket socket, impl& o) : stream(std::move(socket)), owner(o) {}

    void read() {
      parser.emplace();
      parser->body_limit(owner.options_.max_body_bytes);
      parser->header_limit(16 * 1024);
      stream.expires_after(std::chrono::seconds(30));
      http::async_read(stream, buffer, *parser, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_read(ec);
      });
    }

    void on_read(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset) {
        return close();
      }
      if (ec) {
        response = {};
        response.result(ec == http::error::body_limit ? http::status::payload_too_large : http::status::bad_request);
        response.set(http::field::content_type, "application/json");
        response.body() = R"({"error":"bad request"})";
        response.keep_alive(false);
        return write();
      }
      const auto& req = parser->get();
      http_request request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      const auto question = request.target.find('?');
      request.path = request.target.substr(0, question);
      if (question != std::string::npos) request.query = request.target.substr(question + 1);
      for (const auto& field : req) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        request.headers[name] = std::string(field.value());
      }
      request.body = req.body();
      if (beast::websocket::is_upgrade(req)) {
        for (const auto& [prefix, handler] : owner.upgrade_routes_) {
          if (!request.path.starts_with(prefix)) continue;
          stream.expires_never();
          auto connection = std::unique_ptr<upgraded_connection>(
              new upgraded_connection{std::move(stream), std::move(buffer), parser->release(), std::move(request)});
          try {
            handler(std::move(connection));
          } catch (const std::exception& e) {
            log::error("upgrade handler threw", {{"path", prefix}, {"error", e.what()}});
          }
          return;
        }
      }
      auto answer = owner.dispatch(request);
      response = {};
      response.version(req.version());
      response.result(static_cast<http::status>(answer.status));
      response.set(http::field::server, "aw-events");
      response.set(http::field::content_type, answer.content_type);
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      response.body() = std::move(answer.body);
      response.keep_alive(req.keep_alive());
      write();
    }

    void write() {
      response.prepare_payload();
      http::async_write(stream, response, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec || !self->response.keep_alive()) return self->close();
        self->read();
      });
    }

    void close() {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  };
};

http_server::http_server(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}

http_server::~http_server() { stop(); }

result<std::unique_ptr<http_server>> http_server::bind(http_server_options options) {
  if (auto ok = options.validate(); !ok) return make_error(ok.error());
  auto [host, port] = *parse_listen_address(options.listen);
  auto state = std::make_unique<impl>();
  state->options_ = std::move(options);
  beast::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(host), port);
  state->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor_.bind(endpoint, ec);
  if (!ec) state->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(errc::unavailable, "cannot listen on " + state->options_.listen + ": " + ec.message());
  }
  return std::unique_ptr<http_server>(new http_server(std::move(state)));
}

void http_server::route(std::string method, std::string path, http_handler handler) {
  impl_->routes_.push_back({{std::move(method), std::move(path)}, std::move(handler)});
}

void http_server::route_upgrade(std::string path_prefix, upgrade_handler handler) {
  impl_->upgrade_routes_.push_back({std::move(path_prefix), std::move(handler)});
}

void http_server::start() {
  if (impl_->started_) return;
  impl_->started_ = true;
  impl_->accept();
  for (int i = 0; i < impl_->options_.threads; ++i) {
    impl_->threads_.emplace_back([this] { impl_->io_.run(); });
  }
}

void http_server::stop() {
  if (!impl_) return;
  impl_->io_.stop();
  for (auto& t : impl_->threads_) t.join();
  impl_->threads_.clear();
}

std::string http_server::address() const {
  const auto endpoint = impl_->acceptor_.local_endpoint();
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::uint16_t http_server::port() const { return impl_->acceptor_.local_endpoint().port(); }

}  // namespace aw::events::server
