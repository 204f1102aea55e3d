#include "aw/events/gateway_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>

#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include "aw/events/ids.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"

namespace aw::events {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using detail::json_string;

std::chrono::milliseconds gateway_backoff_delay(int attempt, std::chrono::milliseconds initial,
                                                std::chrono::milliseconds max, double random01) noexcept {
  const double ceiling = std::min(static_cast<double>(max.count()),
                                  static_cast<double>(initial.count()) * std::pow(2.0, std::min(attempt, 30)));
  return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling * std::clamp(random01, 0.0, 1.0)));
}

result<void> gateway_client_config::validate() const {
  if (!url.starts_with("ws://")) return make_error(errc::invalid_argument, "gateway_client_config.url must start with ws://");
  const auto rest = std::string_view(url).substr(5);
  const auto slash = rest.find('/');
  const auto colon = rest.substr(0, slash).rfind(':');
  if (slash == std::string_view::npos || colon == std::string_view::npos || colon == 0) {
    return make_error(errc::invalid_argument, "gateway_client_config.url must be ws://HOST:PORT/v1/{service}/ws");
  }
  if (!token) return make_error(errc::invalid_argument, "gateway_client_config.token is required");
  if (types.empty()) return make_error(errc::invalid_argument, "gateway_client_config.types must not be empty");
  if (initial_backoff <= std::chrono::milliseconds(0) || max_backoff < initial_backoff) {
    return make_error(errc::invalid_argument, "gateway_client_config: need 0 < initial_backoff <= max_backoff");
  }
  if (heartbeat <= std::chrono::milliseconds(0)) return make_error(errc::invalid_argument, "gateway_client_config.heartbeat must be positive");
  if (outbox_limit == 0 || dedup_window == 0) {
    return make_error(errc::invalid_argument, "gateway_client_config: outbox_limit and dedup_window must be positive");
  }
  return {};
}

struct gateway_client::impl : std::enable_shared_from_this<gateway_client::impl> {
  gateway_client_config config_;
  gateway_client_callbacks callbacks_;
  std::string host_, port_, path_;
  asio::io_context io_;
  asio::strand<asio::io_context::executor_type> strand_{asio::make_strand(io_)};
  // One stream per connection attempt; handlers keep theirs alive and ignore it once it is stale.
  std::shared_ptr<websocket::stream<beast::tcp_stream>> ws_;
  asio::steady_timer retry_timer_{strand_};
  beast::flat_buffer buffer_;
  std::deque<std::string> writes_;  // frames of the current connection, one in flight
  std::deque<std::string> outbox_;  // publishes waiting for a connection
  std::mutex outbox_mutex_;         // guards outbox_ size checks from publish()
  std::atomic<std::size_t> outbox_size_{0};
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<int> connections_{0};
  std::atomic<bool> stopped_{false};
  int attempt_ = 0;
  std::chrono::steady_clock::time_point connected_at_;
  std::int64_t since_ms_ = -1;  // from the first gateway.subscription.accepted
  mutable std::mutex positions_mutex_;
  std::map<std::int32_t, std::int64_t> positions_;
  std::unordered_set<std::string> seen_;
  std::deque<std::string> seen_order_;
  std::mt19937_64 random_{std::random_device{}()};
  simdjson::dom::parser parser_;

  void connect() {
    if (stopped_) return;
    ws_ = std::make_shared<websocket::stream<beast::tcp_stream>>(strand_);
    auto resolver = std::make_shared<tcp::resolver>(strand_);
    resolver->async_resolve(host_, port_, [self = shared_from_this(), resolver, ws = ws_](beast::error_code ec, tcp::resolver::results_type results) {
      if (ws != self->ws_) return;
      if (ec) return self->fail("resolve: " + ec.message());
      beast::get_lowest_layer(*self->ws_).expires_after(std::chrono::seconds(10));
      beast::get_lowest_layer(*self->ws_).async_connect(results, [self, ws](beast::error_code ec2, const tcp::endpoint&) {
        if (ws != self->ws_) return;
        if (ec2) return self->fail("connect: " + ec2.message());
        self->handshake();
      });
    });
  }

  void handshake() {
    beast::get_lowest_layer(*ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    // The server pings every heartbeat; silence for 2.5 of them means the connection is gone.
    timeouts.idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(config_.heartbeat * 5 / 2) +
                            std::chrono::seconds(1);
    timeouts.keep_alive_pings = false;
    ws_->set_option(timeouts);
    std::string token;
    try {
      token = config_.token();
    } catch (const std::exception& e) {
      return fail(std::string("token provider threw: ") + e.what());
    }
    ws_->set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(http::field::authorization, "Bearer " + token);
      req.set(http::field::user_agent, "aw-events-gateway-client");
    }));
    auto response = std::make_shared<websocket::response_type>();
    ws_->async_handshake(*response, host_ + ":" + port_, path_, [self = shared_from_this(), response, ws = ws_](beast::error_code ec) {
      if (ws != self->ws_) return;
      if (ec) {
        return self->fail("handshake: " + (response->result_int() ? "HTTP " + std::to_string(response->result_int()) : ec.message()));
      }
      self->on_connected();
    });
  }

  void on_connected() {
    connected_ = true;
    ++connections_;
    connected_at_ = std::chrono::steady_clock::now();
    if (callbacks_.on_state) callbacks_.on_state(true, "connected");
    writes_.clear();
    write(subscription_request());
    {
      std::lock_guard lock(outbox_mutex_);
      for (auto& frame : outbox_) write(std::move(frame));
      outbox_.clear();
      outbox_size_ = 0;
    }
    read();
  }

  std::string subscription_request() {
    std::string data = "{\"types\":[";
    for (std::size_t i = 0; i < config_.types.size(); ++i) data += (i ? "," : "") + json_string(config_.types[i]);
    data += "]";
    if (!config_.keys.empty()) {
      data += ",\"keys\":[";
      for (std::size_t i = 0; i < config_.keys.size(); ++i) data += (i ? "," : "") + json_string(config_.keys[i]);
      data += "]";
    }
    if (since_ms_ >= 0) {  // a reconnect: continue after what we saw
      data += ",\"resume\":{\"since_ms\":" + std::to_string(since_ms_) + ",\"positions\":[";
      std::lock_guard lock(positions_mutex_);
      bool first = true;
      for (const auto& [partition, offset] : positions_) {
        data += std::string(first ? "" : ",") + "{\"partition\":" + std::to_string(partition) +
                ",\"offset\":" + std::to_string(offset) + "}";
        first = false;
      }
      data += "]}";
    }
    data += "}";
    envelope request;
    request.meta.id = new_uuid_v4();
    request.meta.type = "gateway.subscription.requested";
    request.meta.version = "1.0";
    request.meta.timestamp = now_timestamp();
    request.meta.correlation_id = request.meta.id;
    request.meta.source = "gateway-client";
    request.meta.trace = new_trace();
    request.data = std::move(data);
    return encode(request);
  }

  void write(std::string frame) {
    writes_.push_back(std::move(frame));
    if (writes_.size() == 1) write_next();
  }

  void write_next() {
    ws_->text(true);
    ws_->async_write(asio::buffer(writes_.front()), [self = shared_from_this(), ws = ws_](beast::error_code ec, std::size_t) {
      if (ec || ws != self->ws_) return;  // the read side reports the failure and reconnects
      self->writes_.pop_front();
      if (!self->writes_.empty()) self->write_next();
    });
  }

  void read() {
    ws_->async_read(buffer_, [self = shared_from_this(), ws = ws_](beast::error_code ec, std::size_t) {
      if (ws != self->ws_) return;
      if (ec) {
        std::string reason = ec.message();
        if (ec == websocket::error::closed) {
          reason = "closed " + std::to_string(self->ws_->reason().code) + " " + std::string(self->ws_->reason().reason.begin(), self->ws_->reason().reason.end());
        }
        return self->fail(reason);
      }
      const auto text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.clear();
      self->on_frame(text);
      self->read();
    });
  }

  void on_frame(const std::string& text) {
    auto decoded = decode_envelope(text);
    if (!decoded) {
      log::warn("gateway client: frame is not a valid envelope", {{"error", decoded.error().describe()}});
      return;
    }
    if (decoded->service() == "gateway") {
      if (decoded->meta.type == "gateway.subscription.accepted" && since_ms_ < 0) {
        std::int64_t since = -1;
        if (parser_.parse(decoded->data)["since_ms"].get_int64().get(since) == simdjson::SUCCESS) since_ms_ = since;
      }
      if (callbacks_.on_control) callbacks_.on_control(*decoded);
      return;
    }
    std::int64_t partition = -1;
    std::int64_t offset = -1;
    const auto meta_extra = "{" + decoded->meta.extra_members + "}";
    auto position = parser_.parse(meta_extra)["_position"];
    if (position["partition"].get_int64().get(partition) == simdjson::SUCCESS &&
        position["offset"].get_int64().get(offset) == simdjson::SUCCESS) {
      std::lock_guard lock(positions_mutex_);
      auto [it, inserted] = positions_.try_emplace(static_cast<std::int32_t>(partition), offset);
      if (!inserted) it->second = std::max(it->second, offset);
    }
    if (!seen_.insert(decoded->meta.id).second) return;  // a duplicate: delivered before
    seen_order_.push_back(decoded->meta.id);
    if (seen_order_.size() > config_.dedup_window) {
      seen_.erase(seen_order_.front());
      seen_order_.pop_front();
    }
    if (callbacks_.on_event) callbacks_.on_event(*decoded, text);
  }

  void fail(const std::string& reason) {
    const bool was_connected = connected_.exchange(false);
    if (was_connected && callbacks_.on_state) callbacks_.on_state(false, reason);
    if (stopped_) return;
    if (was_connected && std::chrono::steady_clock::now() - connected_at_ >= config_.stable_after) attempt_ = 0;
    const auto delay = gateway_backoff_delay(attempt_++, config_.initial_backoff, config_.max_backoff,
                                             std::uniform_real_distribution<double>(0.0, 1.0)(random_));
    log::info("gateway client reconnecting", {{"reason", reason}, {"delay_ms", std::to_string(delay.count())}});
    if (ws_) {
      beast::error_code ignored;
      beast::get_lowest_layer(*ws_).socket().close(ignored);
      ws_.reset();  // pending handlers of this stream see it is stale
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->connect();
    });
  }
};

gateway_client::gateway_client(std::shared_ptr<impl> impl) : impl_(std::move(impl)) {}

gateway_client::~gateway_client() { stop(); }

result<std::unique_ptr<gateway_client>> gateway_client::start(gateway_client_config config,
                                                              gateway_client_callbacks callbacks) {
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto state = std::make_shared<impl>();
  const auto rest = std::string_view(config.url).substr(5);
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  const auto colon = authority.rfind(':');
  state->host_ = std::string(authority.substr(0, colon));
  state->port_ = std::string(authority.substr(colon + 1));
  state->path_ = std::string(rest.substr(slash));
  state->config_ = std::move(config);
  state->callbacks_ = std::move(callbacks);
  asio::post(state->strand_, [s = state] { s->connect(); });
  state->thread_ = std::thread([s = state.get()] {
    auto guard = asio::make_work_guard(s->io_);
    s->io_.run();
  });
  return std::unique_ptr<gateway_client>(new gateway_client(std::move(state)));
}

result<void> gateway_client::publish(const envelope& event, std::string key) {
  if (impl_->stopped_) return make_error(errc::closed, "gateway client is stopped");
  envelope copy = event;
  if (!copy.meta.extra_members.empty()) copy.meta.extra_members += ',';
  copy.meta.extra_members += "\"key\":" + json_string(key);
  auto frame = encode(copy);
  {
    std::lock_guard lock(impl_->outbox_mutex_);
    if (impl_->outbox_size_ >= impl_->config_.outbox_limit) {
      return make_error(errc::queue_full, "gateway client outbox full (" + std::to_string(impl_->config_.outbox_limit) + ")");
    }
    ++impl_->outbox_size_;
  }
  asio::post(impl_->strand_, [s = impl_, frame = std::move(frame)]() mutable {
    std::lock_guard lock(s->outbox_mutex_);
    if (s->connected_) {
      --s->outbox_size_;
      s->write(std::move(frame));
    } else {
      s->outbox_.push_back(std::move(frame));
    }
  });
  return {};
}

void gateway_client::stop() {
  if (!impl_ || impl_->stopped_.exchange(true)) return;
  asio::post(impl_->strand_, [s = impl_] {
    s->retry_timer_.cancel();
    if (s->ws_ && s->connected_) {
      s->ws_->async_close(websocket::close_code::normal, [s](beast::error_code) { s->io_.stop(); });
    } else {
      s->io_.stop();
    }
  });
  // A close the server never answers is cut short.
  if (impl_->thread_.joinable()) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (!impl_->io_.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl_->io_.stop();
    impl_->thread_.join();
  }
}

bool gateway_client::connected() const noexcept { return impl_->connected_; }
int gateway_client::connections() const noexcept { return impl_->connections_; }

std::map<std::int32_t, std::int64_t> gateway_client::positions() const {
  std::lock_guard lock(impl_->positions_mutex_);
  return impl_->positions_;
}

}  // namespace aw::events
