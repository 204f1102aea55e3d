#include "gateway/gateway.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <simdjson.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "aw/events/publisher.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "gateway/event_patterns.hpp"
#include "server/http_server.hpp"
#include "server/http_upgrade.hpp"

namespace aw::events::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using detail::append_json_string;
using detail::json_string;

namespace {

using frame_bytes = std::shared_ptr<const std::string>;

// One event read from a service topic, serialized once and shared by every connection it goes to.
struct live_frame {
  std::string type;
  std::string key;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  frame_bytes bytes;
};

bool is_service_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool is_source_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 128 || s[0] < 'a' || s[0] > 'z') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string errors_json(const std::vector<validation_error>& errors) {
  std::string out;
  detail::append_validation_errors(out, errors);
  return out;
}

// {"code","message","errors"} of an error, as carried in rejection frames.
std::string error_members(const error& e) {
  std::string out = "\"code\":";
  append_json_string(out, to_string(e.code));
  out += ",\"message\":";
  append_json_string(out, e.message);
  out += ",\"errors\":" + errors_json(e.details);
  return out;
}

// A frame the gateway itself emits: a standard envelope of a gateway.* type.
frame_bytes control_frame(std::string_view type, std::string_view correlation_id, std::string data_json) {
  envelope ev;
  ev.meta.id = new_uuid_v4();
  ev.meta.type = std::string(type);
  ev.meta.version = "1.0";
  ev.meta.timestamp = now_timestamp();
  ev.meta.correlation_id = correlation_id.empty() ? new_uuid_v4() : std::string(correlation_id);
  ev.meta.source = "gateway";
  ev.meta.trace = new_trace();
  ev.data = std::move(data_json);
  return std::make_shared<const std::string>(encode(ev));
}

// The frame of a record: its envelope with the gateway's position member added to meta (docs/gateway.md).
std::optional<live_frame> frame_of(const record& rec) {
  auto decoded = decode_envelope(rec.value);
  if (!decoded) {
    log::warn("gateway: record is not a valid envelope, not forwarded",
              {{"topic", rec.topic},
               {"partition", std::to_string(rec.partition)},
               {"offset", std::to_string(rec.offset)},
               {"error", decoded.error().describe()}});
    return std::nullopt;
  }
  auto& ev = *decoded;
  std::string position = "\"_position\":{\"topic\":" + json_string(rec.topic) +
                         ",\"partition\":" + std::to_string(rec.partition) + ",\"offset\":" + std::to_string(rec.offset) +
                         ",\"timestamp_ms\":" + std::to_string(rec.timestamp_ms) + "}";
  if (!ev.meta.extra_members.empty()) ev.meta.extra_members += ',';
  ev.meta.extra_members += position;
  live_frame frame;
  frame.type = ev.meta.type;
  frame.key = rec.key;
  frame.partition = rec.partition;
  frame.offset = rec.offset;
  frame.bytes = std::make_shared<const std::string>(encode(ev));
  return frame;
}

struct subscription {
  std::string id;  // meta.id of the request
  std::vector<event_pattern> types;
  std::unordered_set<std::string> keys;  // empty: every key
  bool replaying = false;
  std::deque<std::shared_ptr<const live_frame>> held;  // live frames that arrived while replaying
  std::unordered_map<std::int32_t, std::int64_t> delivered;  // partition -> last offset sent

  [[nodiscard]] bool matches(const std::string& type, const std::string& key) const {
    if (!keys.empty() && !keys.contains(key)) return false;
    for (const auto& p : types) {
      if (p.matches(type)) return true;
    }
    return false;
  }
  // True (and remembered) when offset is new for this subscription.
  bool advance(std::int32_t partition, std::int64_t offset) {
    auto [it, inserted] = delivered.try_emplace(partition, offset);
    if (inserted) return true;
    if (offset <= it->second) return false;
    it->second = offset;
    return true;
  }
};

struct replay_job;

}  // namespace

class session;

// One consumer per service topic, shared by every connection of that service.
class topic_feed {
 public:
  topic_feed(std::string topic, std::int32_t partitions) : topic_(std::move(topic)), partitions_(partitions) {}

  result<void> start(transport& t) {
    consumer_options options;
    options.group_id = "aw-gateway-" + new_uuid_v4();
    options.client_id = "aw-gateway";
    options.from_beginning = false;  // live feed: from the end; older events come through resume
    auto made = t.create_consumer(options);
    if (!made) return make_error(made.error());
    consumer_ = std::move(*made);
    if (auto ok = consumer_->subscribe({topic_}); !ok) return ok;
    // Wait until every partition is assigned: a subscription accepted before that could miss events.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (consumer_->assignment().size() < static_cast<std::size_t>(partitions_)) {
      auto polled = consumer_->poll(std::chrono::milliseconds(50));
      if (!polled) return make_error(polled.error());
      if (*polled) dispatch(**polled);
      if (std::chrono::steady_clock::now() > deadline) {
        return make_error(errc::timeout, "gateway consumer of topic " + topic_ + " got no partitions within 15 s");
      }
    }
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (consumer_) consumer_->close();
  }

  void add(const std::shared_ptr<session>& s) {
    std::lock_guard lock(mutex_);
    sessions_.push_back(s);
  }

  [[nodiscard]] const std::string& topic() const noexcept { return topic_; }

 private:
  void run() {
    while (!stop_) {
      auto polled = consumer_->poll(std::chrono::milliseconds(100));
      if (!polled) {
        log::error("gateway consumer failed; retrying", {{"topic", topic_}, {"error", polled.error().describe()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      if (!*polled) continue;
      dispatch(**polled);
      // Positions are kept only so that a re-subscription after a rebalance continues where we were.
      (void)consumer_->store_offset(**polled);
    }
  }

  void dispatch(const record& rec);

  std::string topic_;
  std::int32_t partitions_;
  std::unique_ptr<consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::weak_ptr<session>> sessions_;
};

namespace {

struct replay_job {
  std::weak_ptr<session> target;
  std::string subscription_id;
  std::string correlation_id;  // of the request: the replies carry it
  std::string topic;
  std::vector<event_pattern> types;
  std::unordered_set<std::string> keys;
  std::map<std::int32_t, std::int64_t> positions;  // partition -> last offset the client saw
  std::int64_t since_ms = 0;  // partitions without a position: records from this time on
};

}  // namespace

struct websocket_gateway::state : std::enable_shared_from_this<websocket_gateway::state> {
  std::shared_ptr<transport> transport_;
  jwt_verifier verifier_;
  gateway_options options_;
  std::unique_ptr<publisher> publisher_;
  std::unique_ptr<producer> metadata_producer_;  // only to learn and create topics

  std::mutex feeds_mutex_;
  std::map<std::string, std::unique_ptr<topic_feed>> feeds_;

  std::mutex ips_mutex_;
  std::unordered_map<std::string, std::size_t> connections_per_ip_;

  std::mutex sessions_mutex_;
  std::vector<std::weak_ptr<session>> sessions_;

  // Replays run on their own threads: they read the log synchronously.
  std::mutex replay_mutex_;
  std::condition_variable replay_ready_;
  std::deque<replay_job> replay_queue_;
  std::vector<std::thread> replay_threads_;
  bool stopping_ = false;

  state(std::shared_ptr<transport> t, jwt_verifier v, gateway_options o)
      : transport_(std::move(t)), verifier_(std::move(v)), options_(std::move(o)) {}

  result<topic_feed*> feed(const std::string& service) {
    std::lock_guard lock(feeds_mutex_);
    if (auto it = feeds_.find(service); it != feeds_.end()) return it->second.get();
    const auto topic = topic_for(service + ".x.x", topic_strategy::per_service);
    auto partitions = metadata_producer_->partition_count(topic);
    if (!partitions) return make_error(partitions.error());
    auto made = std::make_unique<topic_feed>(topic, *partitions);
    if (auto ok = made->start(*transport_); !ok) return make_error(ok.error());
    log::info("gateway feed started", {{"topic", topic}, {"partitions", std::to_string(*partitions)}});
    return (feeds_[service] = std::move(made)).get();
  }

  bool admit_ip(const std::string& ip) {
    std::lock_guard lock(ips_mutex_);
    auto& count = connections_per_ip_[ip];
    if (count >= options_.max_connections_per_ip) return false;
    ++count;
    return true;
  }
  void release_ip(const std::string& ip) {
    std::lock_guard lock(ips_mutex_);
    auto it = connections_per_ip_.find(ip);
    if (it != connections_per_ip_.end() && --it->second == 0) connections_per_ip_.erase(it);
  }

  // False when the queue is full (the subscription is then rejected).
  bool enqueue_replay(replay_job job) {
    std::lock_guard lock(replay_mutex_);
    if (stopping_ || replay_queue_.size() >= 64) return false;
    replay_queue_.push_back(std::move(job));
    replay_ready_.notify_one();
    return true;
  }

  void replay_worker();
  void run_replay(const replay_job& job);
  void on_upgrade(std::unique_ptr<server::upgraded_connection> connection);
};

// One WebSocket connection. Everything below runs on the connection's strand unless said otherwise.
class session : public std::enable_shared_from_this<session> {
 public:
  session(std::shared_ptr<websocket_gateway::state> gw, beast::tcp_stream stream, std::string service,
          std::string ip, token_claims claims, std::vector<event_pattern> subscribe_grants,
          std::vector<event_pattern> publish_grants, std::string topic)
      : gateway_(std::move(gw)),
        ws_(std::move(stream)),
        heartbeat_timer_(ws_.get_executor()),
        expiry_timer_(ws_.get_executor()),
        service_(std::move(service)),
        ip_(std::move(ip)),
        claims_(std::move(claims)),
        subscribe_grants_(std::move(subscribe_grants)),
        publish_grants_(std::move(publish_grants)),
        topic_(std::move(topic)) {}

  ~session() { gateway_->release_ip(ip_); }

  void accept(const http::request<http::string_body>& request, bool bearer_subprotocol) {
    const auto& o = gateway_->options_;
    ws_.read_message_max(o.max_message_bytes);
    ws_.auto_fragment(false);  // one frame per event: the shared buffer goes out in one piece
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);  // also bounds the closing handshake
    timeouts.idle_timeout = websocket::stream_base::none();  // liveness is our own ping/pong below
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([bearer_subprotocol](websocket::response_type& res) {
      res.set(http::field::server, "aw-events");
      if (bearer_subprotocol) res.set(http::field::sec_websocket_protocol, "bearer");
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) missed_pings_ = 0;
    });
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  // From a feed thread: a live event of this connection's topic.
  void offer(std::shared_ptr<const live_frame> frame) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), frame = std::move(frame)] { self->on_live(*frame, frame); });
  }

  // From a replay thread.
  void offer_replayed(std::string subscription_id, std::int32_t partition, std::int64_t offset, frame_bytes bytes) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), id = std::move(subscription_id), partition, offset,
                                    bytes = std::move(bytes)] {
      auto* sub = self->find_subscription(id);
      if (sub == nullptr || !sub->replaying) return;
      if (sub->advance(partition, offset)) self->send(bytes);
    });
  }

  void finish_replay(std::string subscription_id, std::string correlation_id, result<std::string> outcome) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), id = std::move(subscription_id),
                                    correlation = std::move(correlation_id), outcome = std::move(outcome)] {
      auto* sub = self->find_subscription(id);
      if (sub == nullptr) return;
      if (!outcome) {
        self->subscriptions_.erase(self->subscriptions_.begin() + (sub - self->subscriptions_.data()));
        self->send(control_frame("gateway.subscription.rejected", correlation,
                                 "{\"subscription\":" + json_string(id) + ",\"reason\":" +
                                     json_string("resume failed: " + outcome.error().describe()) + "}"));
        return;
      }
      self->send(control_frame("gateway.subscription.resumed", correlation,
                               "{\"subscription\":" + json_string(id) + "," + *outcome + "}"));
      sub->replaying = false;
      // Live frames held during the replay, minus those the replay already sent.
      auto held = std::move(sub->held);
      for (const auto& frame : held) {
        if (sub->advance(frame->partition, frame->offset)) self->send(frame->bytes);
      }
    });
  }

  void shutdown() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->close(websocket::close_code::going_away, "server stopping"); });
  }

 private:
  subscription* find_subscription(const std::string& id) {
    for (auto& s : subscriptions_) {
      if (s.id == id) return &s;
    }
    return nullptr;
  }

  void on_accept(beast::error_code ec) {
    if (ec) {
      log::info("gateway handshake failed", {{"ip", ip_}, {"error", ec.message()}});
      return;
    }
    log::info("gateway connection", {{"ip", ip_}, {"service", service_}, {"subject", claims_.subject}});
    arm_expiry();
    arm_heartbeat();
    read();
  }

  void arm_expiry() {
    expiry_timer_.expires_after(claims_.expires + gateway_->verifier_.policy().leeway - std::chrono::system_clock::now());
    expiry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->close(websocket::close_code::policy_error, "token expired");
    });
  }

  void arm_heartbeat() {
    heartbeat_timer_.expires_after(gateway_->options_.heartbeat);
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closing_) return;
      if (self->missed_pings_ >= 2) {
        log::info("gateway peer missed two heartbeats; dropping it", {{"ip", self->ip_}});
        self->drop();
        return;
      }
      ++self->missed_pings_;
      if (!self->ping_in_flight_) {
        self->ping_in_flight_ = true;
        self->ws_.async_ping({}, [self](beast::error_code) { self->ping_in_flight_ = false; });
      }
      self->arm_heartbeat();
    });
  }

  void read() {
    ws_.async_read(read_buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      // Beast has already answered protocol errors with the right close code (1009 too big, 1002 unmasked ...).
      if (ec != websocket::error::closed && ec != asio::error::operation_aborted) {
        log::info("gateway connection ended", {{"ip", ip_}, {"reason", ec.message()}});
      }
      closing_ = true;
      heartbeat_timer_.cancel();
      expiry_timer_.cancel();
      return;
    }
    if (!ws_.got_text()) {
      read_buffer_.clear();
      close(websocket::close_code::bad_payload, "frames must be JSON text");
      return;
    }
    std::string text = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.clear();
    handle_message(text);
    if (!closing_) read();
  }

  void handle_message(const std::string& text) {
    auto decoded = decode_envelope(text);
    if (!decoded) {
      send(control_frame("gateway.message.rejected", "", "{" + error_members(decoded.error()) + "}"));
      return;
    }
    const auto& ev = *decoded;
    if (ev.meta.type == "gateway.subscription.requested") return subscribe(ev);
    if (ev.meta.type == "gateway.subscription.cancelled") return cancel(ev);
    if (ev.service() == "gateway") {
      send(control_frame("gateway.message.rejected", ev.meta.correlation_id,
                         "{\"request_id\":" + json_string(ev.meta.id) +
                             ",\"code\":\"unknown_event_type\",\"message\":" +
                             json_string("unknown gateway control type " + ev.meta.type) + ",\"errors\":[]}"));
      return;
    }
    publish(ev);
  }

  void reject_subscription(const envelope& request, const std::string& reason, const std::string& pointer = "") {
    std::string data = "{\"subscription\":" + json_string(request.meta.id) + ",\"reason\":" + json_string(reason);
    if (!pointer.empty()) data += ",\"location\":" + json_string(pointer);
    send(control_frame("gateway.subscription.rejected", request.meta.correlation_id, data + "}"));
  }

  void subscribe(const envelope& request) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object data;
    if (parser.parse(request.data).get_object().get(data) != simdjson::SUCCESS) {
      return reject_subscription(request, "data must be a JSON object", "/data");
    }
    subscription sub;
    sub.id = request.meta.id;
    if (find_subscription(sub.id) != nullptr) {
      return reject_subscription(request, "a subscription with this meta.id exists already", "/meta/id");
    }
    if (subscriptions_.size() >= gateway_->options_.max_subscriptions) {
      return reject_subscription(request, "too many subscriptions on this connection (limit " +
                                              std::to_string(gateway_->options_.max_subscriptions) + ")");
    }
    bool has_types = false;
    bool has_resume = false;
    replay_job job;
    for (auto [name, value] : data) {
      if (name == "types") {
        has_types = true;
        simdjson::dom::array types;
        if (value.get_array().get(types) != simdjson::SUCCESS || types.size() == 0) {
          return reject_subscription(request, "types must be a non-empty array of event type patterns", "/data/types");
        }
        std::size_t index = 0;
        for (auto item : types) {
          const auto where = "/data/types/" + std::to_string(index++);
          std::string_view text;
          if (item.get_string().get(text) != simdjson::SUCCESS) return reject_subscription(request, "must be a string", where);
          auto pattern = parse_event_pattern(text);
          if (!pattern) return reject_subscription(request, pattern.error().message, where);
          if (pattern->segments[0] == "*") pattern->segments[0] = service_;  // the endpoint's service only
          if (pattern->segments[0] != service_) {
            return reject_subscription(request, "pattern " + std::string(text) + " is outside service " + service_ +
                                                    " of this endpoint", where);
          }
          if (!granted(subscribe_grants_, *pattern)) {
            return reject_subscription(request, "token grants no subscription to " + pattern->text(), where);
          }
          sub.types.push_back(std::move(*pattern));
        }
      } else if (name == "keys") {
        simdjson::dom::array keys;
        if (value.get_array().get(keys) != simdjson::SUCCESS) {
          return reject_subscription(request, "keys must be an array of resource ids", "/data/keys");
        }
        std::size_t index = 0;
        for (auto item : keys) {
          std::string_view text;
          if (item.get_string().get(text) != simdjson::SUCCESS) {
            return reject_subscription(request, "must be a string", "/data/keys/" + std::to_string(index));
          }
          ++index;
          sub.keys.emplace(text);
        }
      } else if (name == "resume") {
        has_resume = true;
        if (auto problem = parse_resume(value, job)) return reject_subscription(request, problem->first, problem->second);
      } else {
        return reject_subscription(request, "unknown member (expected types, keys, resume)",
                                   "/data/" + detail::pointer_token(name));
      }
    }
    if (!has_types) return reject_subscription(request, "types is required", "/data/types");
    std::string accepted = "{\"subscription\":" + json_string(sub.id) + ",\"topic\":" + json_string(topic_) +
                           ",\"types\":[";
    for (std::size_t i = 0; i < sub.types.size(); ++i) accepted += (i ? "," : "") + json_string(sub.types[i].text());
    // `since` lets a client that saw nothing of a partition resume it from the time it subscribed.
    accepted += "],\"since_ms\":" +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count()) +
                ",\"resume\":" + (has_resume ? "true" : "false") + "}";
    if (has_resume) {
      sub.replaying = true;
      job.target = weak_from_this();
      job.subscription_id = sub.id;
      job.topic = topic_;
      job.types = sub.types;
      job.keys = sub.keys;
      job.correlation_id = request.meta.correlation_id;
      for (const auto& [partition, offset] : job.positions) sub.delivered[partition] = offset;
      if (!gateway_->enqueue_replay(std::move(job))) {
        return reject_subscription(request, "too many resumes in progress; retry later");
      }
    }
    subscriptions_.push_back(std::move(sub));
    send(control_frame("gateway.subscription.accepted", request.meta.correlation_id, std::move(accepted)));
  }

  // resume: {"positions":[{"partition":N,"offset":N}...], "since_ms": N}; on error (message, pointer).
  std::optional<std::pair<std::string, std::string>> parse_resume(simdjson::dom::element value, replay_job& job) {
    simdjson::dom::object resume;
    if (value.get_object().get(resume) != simdjson::SUCCESS) return std::pair{"resume must be an object", "/data/resume"};
    for (auto [name, member] : resume) {
      if (name == "positions") {
        simdjson::dom::array positions;
        if (member.get_array().get(positions) != simdjson::SUCCESS) {
          return std::pair{"positions must be an array", "/data/resume/positions"};
        }
        std::size_t index = 0;
        for (auto item : positions) {
          const auto where = "/data/resume/positions/" + std::to_string(index++);
          std::int64_t partition = -1;
          std::int64_t offset = -1;
          std::string_view topic;
          if (item["partition"].get_int64().get(partition) != simdjson::SUCCESS || partition < 0 ||
              partition > 100000) {
            return std::pair{"partition must be a non-negative integer", where + "/partition"};
          }
          if (item["offset"].get_int64().get(offset) != simdjson::SUCCESS || offset < -1) {
            return std::pair{"offset must be an integer >= -1 (the last offset received)", where + "/offset"};
          }
          if (item["topic"].get_string().get(topic) == simdjson::SUCCESS && topic != topic_) {
            return std::pair{"topic must be " + topic_ + " on this endpoint", where + "/topic"};
          }
          job.positions[static_cast<std::int32_t>(partition)] = offset;
        }
      } else if (name == "since_ms") {
        if (member.get_int64().get(job.since_ms) != simdjson::SUCCESS || job.since_ms < 0) {
          return std::pair{"since_ms must be a non-negative integer (ms since the epoch)", "/data/resume/since_ms"};
        }
      } else {
        return std::pair{"unknown member (expected positions, since_ms)", "/data/resume/" + detail::pointer_token(name)};
      }
    }
    return std::nullopt;
  }

  void cancel(const envelope& request) {
    thread_local simdjson::dom::parser parser;
    std::string_view id;
    if (parser.parse(request.data)["subscription"].get_string().get(id) != simdjson::SUCCESS) {
      send(control_frame("gateway.message.rejected", request.meta.correlation_id,
                         "{\"request_id\":" + json_string(request.meta.id) +
                             ",\"code\":\"invalid_argument\",\"message\":\"data.subscription must be the id of a "
                             "subscription\",\"errors\":[{\"instanceLocation\":\"/data/subscription\","
                             "\"keywordLocation\":\"/gateway/subscription\",\"error\":\"required string\"}]}"));
      return;
    }
    std::erase_if(subscriptions_, [&](const subscription& s) { return s.id == id; });
    send(control_frame("gateway.subscription.cancelled", request.meta.correlation_id,
                       "{\"subscription\":" + json_string(id) + "}"));
  }

  void reject_publish(const envelope& request, const error& e) {
    send(control_frame("gateway.publish.rejected", request.meta.correlation_id,
                       "{\"request_id\":" + json_string(request.meta.id) + "," + error_members(e) + "}"));
  }

  void publish(envelope ev) {
    if (ev.service() != service_) {
      return reject_publish(ev, error{errc::authorization_failed,
                                      "type " + ev.meta.type + " is outside service " + service_ + " of this endpoint",
                                      false,
                                      {{"/meta/type", "/gateway/service", "outside the endpoint's service"}}});
    }
    auto as_pattern = parse_event_pattern(ev.meta.type);
    if (!as_pattern || !granted(publish_grants_, *as_pattern)) {
      return reject_publish(ev, error{errc::authorization_failed, "token grants no publish of " + ev.meta.type, false,
                                      {{"/meta/type", "/gateway/grant/publish", "not granted"}}});
    }
    if (!is_source_name(claims_.subject)) {
      return reject_publish(ev, error{errc::authorization_failed,
                                      "the token's sub cannot name an event source ([a-z][a-z0-9_-]*)", false, {}});
    }
    // The partition key travels in meta.key (kept in the published event: unknown meta members are ignored).
    thread_local simdjson::dom::parser parser;
    std::string extra = "{" + ev.meta.extra_members + "}";
    simdjson::dom::object members;
    std::string_view key;
    if (parser.parse(extra).get_object().get(members) != simdjson::SUCCESS ||
        members["key"].get_string().get(key) != simdjson::SUCCESS || key.empty()) {
      return reject_publish(ev, error{errc::invalid_envelope, "meta.key (the resource id, used as partition key) is required",
                                      false, {{"/meta/key", "/gateway/publish/key", "required non-empty string"}}});
    }
    if (members["_position"].error() != simdjson::NO_SUCH_FIELD) {
      return reject_publish(ev, error{errc::invalid_envelope, "meta._position is set by the gateway only", false,
                                      {{"/meta/_position", "/gateway/publish/position", "must not be sent"}}});
    }
    ev.meta.source = claims_.subject;  // the connection's identity, whatever the client wrote
    publish_options options;
    options.key = std::string(key);
    auto request = std::make_shared<envelope>(ev);
    gateway_->publisher_->publish_envelope(
        ev, std::move(options), [weak = weak_from_this(), request](result<publish_receipt> receipt) {
          auto self = weak.lock();
          if (!self) return;
          asio::post(self->ws_.get_executor(), [self, request, receipt = std::move(receipt)] {
            if (!receipt) return self->reject_publish(*request, receipt.error());
            self->send(control_frame("gateway.publish.accepted", request->meta.correlation_id,
                                     "{\"request_id\":" + json_string(request->meta.id) +
                                         ",\"topic\":" + json_string(receipt->topic) +
                                         ",\"partition\":" + std::to_string(receipt->partition) +
                                         ",\"offset\":" + std::to_string(receipt->offset) + "}"));
          });
        });
  }

  void on_live(const live_frame& frame, const std::shared_ptr<const live_frame>& shared) {
    if (closing_) return;
    bool deliver = false;
    for (auto& sub : subscriptions_) {
      if (!sub.matches(frame.type, frame.key)) continue;
      if (sub.replaying) {
        if (sub.held.size() >= gateway_->options_.replay_buffer_frames) {
          close(websocket::close_code::try_again_later, "resume buffer overflow");
          return;
        }
        sub.held.push_back(shared);
        continue;
      }
      if (sub.advance(frame.partition, frame.offset)) deliver = true;
    }
    if (deliver) send(frame.bytes);
  }

  // Overflow policy: a consumer that cannot keep up is closed with 1013 (try again later), never blocked on.
  void send(frame_bytes bytes) {
    if (closing_) return;
    if (queue_.size() >= gateway_->options_.send_queue_frames) {
      close(websocket::close_code::try_again_later, "send queue overflow: consumer too slow");
      return;
    }
    queue_.push_back(std::move(bytes));
    if (queue_.size() == 1) write_next();
  }

  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->queue_.clear();
        return;
      }
      self->queue_.pop_front();
      if (!self->queue_.empty() && !self->closing_) self->write_next();
    });
  }

  void close(websocket::close_code code, const char* reason) {
    if (closing_) return;
    closing_ = true;
    expiry_timer_.cancel();
    log::info("gateway closing connection", {{"ip", ip_}, {"code", std::to_string(static_cast<int>(code))}, {"reason", reason}});
    ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) {});
    // A peer that does not complete the closing handshake (or never reads) is cut off.
    heartbeat_timer_.expires_after(std::chrono::seconds(5));
    heartbeat_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->drop();
    });
  }

  void drop() {
    closing_ = true;
    expiry_timer_.cancel();
    beast::get_lowest_layer(ws_).close();
  }

  std::shared_ptr<websocket_gateway::state> gateway_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer heartbeat_timer_;
  asio::steady_timer expiry_timer_;
  beast::flat_buffer read_buffer_;
  std::deque<frame_bytes> queue_;
  std::vector<subscription> subscriptions_;
  std::string service_;
  std::string ip_;
  token_claims claims_;
  std::vector<event_pattern> subscribe_grants_;
  std::vector<event_pattern> publish_grants_;
  std::string topic_;
  int missed_pings_ = 0;
  bool ping_in_flight_ = false;
  bool closing_ = false;

};

void topic_feed::dispatch(const record& rec) {
  auto frame = frame_of(rec);
  if (!frame) return;
  auto shared = std::make_shared<const live_frame>(std::move(*frame));
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const std::weak_ptr<session>& weak) {
    auto s = weak.lock();
    if (!s) return true;
    s->offer(shared);
    return false;
  });
}

void websocket_gateway::state::replay_worker() {
  while (true) {
    replay_job job;
    {
      std::unique_lock lock(replay_mutex_);
      replay_ready_.wait(lock, [&] { return stopping_ || !replay_queue_.empty(); });
      if (stopping_) return;
      job = std::move(replay_queue_.front());
      replay_queue_.pop_front();
    }
    run_replay(job);
  }
}

// Reads the topic from the client's positions to the end and hands matching events to the session; the session
// merges them with the live frames it held meanwhile (by partition offset: no gap, no duplicate).
void websocket_gateway::state::run_replay(const replay_job& job) {
  if (job.target.expired()) return;
  consumer_options options;
  options.group_id = "aw-gateway-replay-" + new_uuid_v4();
  options.client_id = "aw-gateway-replay";
  options.from_beginning = true;
  auto made = transport_->create_consumer(options);
  auto finish = [&](result<std::string> outcome) {
    if (auto s = job.target.lock()) s->finish_replay(job.subscription_id, job.correlation_id, std::move(outcome));
  };
  if (!made) return finish(make_error(made.error()));
  auto& consumer = **made;
  if (auto ok = consumer.subscribe({job.topic}); !ok) return finish(make_error(ok.error()));
  std::set<std::int32_t> sought;
  std::map<std::int32_t, std::int64_t> first_seen;
  std::size_t replayed = 0;
  std::string gaps;
  auto last_record = std::chrono::steady_clock::now();
  while (true) {
    {
      std::lock_guard lock(replay_mutex_);
      if (stopping_) break;
    }
    if (job.target.expired()) break;
    auto polled = consumer.poll(std::chrono::milliseconds(50));
    if (!polled) return finish(make_error(polled.error()));
    if (!*polled) {
      if (std::chrono::steady_clock::now() - last_record >= options_.replay_idle) break;
      continue;
    }
    last_record = std::chrono::steady_clock::now();
    const auto& rec = **polled;
    auto position = job.positions.find(rec.partition);
    if (position != job.positions.end()) {
      if (rec.offset <= position->second) {
        if (sought.insert(rec.partition).second) (void)consumer.seek({rec.topic, rec.partition}, position->second + 1);
        continue;
      }
      // The first record after the client's position: anything between was deleted by retention.
      if (first_seen.emplace(rec.partition, rec.offset).second && rec.offset > position->second + 1) {
        if (!gaps.empty()) gaps += ',';
        gaps += "{\"partition\":" + std::to_string(rec.partition) + ",\"from\":" + std::to_string(position->second + 1) +
                ",\"to\":" + std::to_string(rec.offset - 1) + "}";
      }
    } else if (rec.timestamp_ms < job.since_ms) {
      continue;
    }
    auto frame = frame_of(rec);
    if (!frame) continue;
    bool wanted = job.keys.empty() || job.keys.contains(frame->key);
    if (wanted) {
      wanted = false;
      for (const auto& p : job.types) wanted = wanted || p.matches(frame->type);
    }
    if (!wanted) continue;
    auto s = job.target.lock();
    if (!s) break;
    s->offer_replayed(job.subscription_id, frame->partition, frame->offset, frame->bytes);
    ++replayed;
  }
  consumer.close();
  finish(std::string("\"replayed\":" + std::to_string(replayed) + ",\"gaps\":[" + gaps + "]"));
}

void websocket_gateway::state::on_upgrade(std::unique_ptr<server::upgraded_connection> connection) {
  // Answers the upgrade request with an HTTP error and closes the connection.
  auto refuse = [&](http::status status, std::string message, bool bearer_challenge) {
    struct holder {
      beast::tcp_stream stream;
      http::response<http::string_body> response;
    };
    auto h = std::make_shared<holder>(holder{std::move(connection->stream), {}});
    h->response.result(status);
    h->response.version(11);
    h->response.set(http::field::server, "aw-events");
    h->response.set(http::field::content_type, "application/json");
    if (bearer_challenge) h->response.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
    h->response.body() = "{\"error\":" + json_string(message) + "}";
    h->response.keep_alive(false);
    h->response.prepare_payload();
    h->stream.expires_after(std::chrono::seconds(10));
    http::async_write(h->stream, h->response, [h](beast::error_code, std::size_t) {
      beast::error_code ignored;
      h->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    });
  };
  beast::error_code ec;
  const auto remote = connection->stream.socket().remote_endpoint(ec);
  const std::string ip = ec ? std::string("unknown") : remote.address().to_string();
  const auto& path = connection->parsed.path;
  // /v1/{service}/ws
  const std::string_view rest = std::string_view(path).substr(4);
  const auto slash = rest.find('/');
  const auto service = std::string(rest.substr(0, slash));
  if (slash == std::string_view::npos || rest.substr(slash) != "/ws" || !is_service_name(service)) {
    return refuse(http::status::not_found, "no WebSocket endpoint at " + path.substr(0, 128), false);
  }
  if (!options_.services.empty() &&
      std::find(options_.services.begin(), options_.services.end(), service) == options_.services.end()) {
    return refuse(http::status::not_found, "service " + service + " is not served by this gateway", false);
  }
  const auto& headers = connection->parsed.headers;
  if (auto origin = headers.find("origin"); origin != headers.end()) {
    if (std::find(options_.origins.begin(), options_.origins.end(), origin->second) == options_.origins.end()) {
      log::warn("gateway refused a foreign Origin", {{"ip", ip}, {"origin", origin->second.substr(0, 128)}});
      return refuse(http::status::forbidden, "Origin not allowed", false);
    }
  }
  std::string token;
  bool bearer_subprotocol = false;
  if (auto auth = headers.find("authorization"); auth != headers.end()) {
    std::string_view value = auth->second;
    if (value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer ")) {
      token = std::string(value.substr(7));
    }
  } else if (auto protocols = headers.find("sec-websocket-protocol"); protocols != headers.end()) {
    // Browsers cannot set headers: "bearer, <token>".
    std::string_view value = protocols->second;
    const auto comma = value.find(',');
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    if (comma != std::string_view::npos && trim(value.substr(0, comma)) == "bearer") {
      token = std::string(trim(value.substr(comma + 1)));
      bearer_subprotocol = true;
    }
  }
  if (token.empty()) {
    return refuse(http::status::unauthorized, "a bearer token is required (Authorization or Sec-WebSocket-Protocol)", true);
  }
  auto claims = verifier_.verify(token, std::chrono::system_clock::now());
  if (!claims) {
    log::info("gateway refused a token", {{"ip", ip}, {"reason", claims.error().message}});
    if (claims.error().code == errc::invalid_argument) return refuse(http::status::forbidden, claims.error().message, false);
    return refuse(http::status::unauthorized, claims.error().message, true);
  }
  std::vector<event_pattern> subscribe_grants, publish_grants;
  bool any_grant = false;
  for (const auto& text : claims->subscribe) {
    subscribe_grants.push_back(*parse_event_pattern(text));
    any_grant = any_grant || subscribe_grants.back().segments[0] == "*" || subscribe_grants.back().segments[0] == service;
  }
  for (const auto& text : claims->publish) {
    publish_grants.push_back(*parse_event_pattern(text));
    any_grant = any_grant || publish_grants.back().segments[0] == "*" || publish_grants.back().segments[0] == service;
  }
  if (!any_grant) return refuse(http::status::forbidden, "token grants no events of service " + service, false);
  auto feed = this->feed(service);
  if (!feed) {
    log::error("gateway feed unavailable", {{"service", service}, {"error", feed.error().describe()}});
    return refuse(http::status::service_unavailable, "event feed unavailable", false);
  }
  if (!admit_ip(ip)) return refuse(http::status::too_many_requests, "too many connections from this address", false);
  auto s = std::make_shared<session>(shared_from_this(), std::move(connection->stream), service, ip, std::move(*claims),
                                     std::move(subscribe_grants), std::move(publish_grants), (*feed)->topic());
  (*feed)->add(s);
  {
    std::lock_guard lock(sessions_mutex_);
    std::erase_if(sessions_, [](const auto& w) { return w.expired(); });
    sessions_.push_back(s);
  }
  s->accept(connection->request, bearer_subprotocol);
}

result<void> gateway_options::validate() const {
  for (const auto& s : services) {
    if (!is_service_name(s)) return make_error(errc::invalid_argument, "--ws-services: \"" + s + "\" is not a service name");
  }
  if (heartbeat < std::chrono::seconds(1) || heartbeat > std::chrono::hours(1)) {
    return make_error(errc::invalid_argument, "--ws-heartbeat-seconds must be 1..3600");
  }
  if (max_message_bytes < 1024 || max_message_bytes > (16u << 20)) {
    return make_error(errc::invalid_argument, "gateway max message size must be 1 KiB..16 MiB");
  }
  if (send_queue_frames == 0 || replay_buffer_frames == 0 || max_connections_per_ip == 0 || max_subscriptions == 0 ||
      max_concurrent_replays == 0 || max_concurrent_replays > 64) {
    return make_error(errc::invalid_argument, "gateway limits must be positive (concurrent replays at most 64)");
  }
  return {};
}

websocket_gateway::websocket_gateway(std::shared_ptr<state> s) : state_(std::move(s)) {}

websocket_gateway::~websocket_gateway() { stop(); }

result<std::unique_ptr<websocket_gateway>> websocket_gateway::create(std::shared_ptr<transport> transport,
                                                                     jwt_verifier verifier, gateway_options options) {
  if (auto ok = options.validate(); !ok) return make_error(ok.error());
  auto s = std::make_shared<state>(transport, std::move(verifier), std::move(options));
  auto producer = transport->create_producer({});
  if (!producer) return make_error(producer.error());
  s->metadata_producer_ = std::move(*producer);
  publisher_config config;
  config.service = "gateway";
  config.catalog = s->options_.catalog;
  auto pub = publisher::create(transport, std::move(config));
  if (!pub) return make_error(pub.error());
  s->publisher_ = std::move(*pub);
  for (const auto& service : s->options_.services) {
    if (auto feed = s->feed(service); !feed) return make_error(feed.error());
  }
  for (std::size_t i = 0; i < s->options_.max_concurrent_replays; ++i) {
    s->replay_threads_.emplace_back([raw = s.get()] { raw->replay_worker(); });
  }
  return std::unique_ptr<websocket_gateway>(new websocket_gateway(std::move(s)));
}

void websocket_gateway::mount(server::http_server& server) {
  server.route_upgrade("/v1/", [weak = std::weak_ptr<state>(state_)](std::unique_ptr<server::upgraded_connection> c) {
    if (auto s = weak.lock()) s->on_upgrade(std::move(c));
  });
}

void websocket_gateway::stop() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->replay_mutex_);
    if (state_->stopping_) return;
    state_->stopping_ = true;
    state_->replay_ready_.notify_all();
  }
  for (auto& t : state_->replay_threads_) t.join();
  state_->replay_threads_.clear();
  {
    std::lock_guard lock(state_->sessions_mutex_);
    for (auto& weak : state_->sessions_) {
      if (auto s = weak.lock()) s->shutdown();
    }
  }
  std::lock_guard lock(state_->feeds_mutex_);
  for (auto& [service, feed] : state_->feeds_) feed->stop();
  if (state_->publisher_) (void)state_->publisher_->flush(std::chrono::seconds(5));
}

}  // namespace aw::events::gateway
