#include "aw/events/subscriber.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "aw/events/catalog.hpp"
#include "aw/events/context.hpp"
#include "core/log.hpp"

namespace aw::events {

result<void> subscriber_config::validate() const {
  if (group.empty()) return make_error(errc::invalid_argument, "subscriber_config.group is required");
  if (service.empty()) return make_error(errc::invalid_argument, "subscriber_config.service is required");
  return retry.validate();
}

namespace {

using clock = std::chrono::steady_clock;

result<void> log_failure(const failed_event& failed) {
  const auto offset = std::to_string(failed.source->offset);
  const auto partition = std::to_string(failed.source->partition);
  const auto attempts = std::to_string(failed.attempts);
  log::error("event failed permanently; skipped",
             {{"topic", failed.source->topic}, {"partition", partition}, {"offset", offset},
              {"key", failed.source->key}, {"event_id", failed.event ? std::string_view(failed.event->meta.id) : ""},
              {"correlation_id", failed.event ? std::string_view(failed.event->meta.correlation_id) : ""},
              {"attempts", attempts}, {"error", failed.cause.describe()}});
  return {};
}

}  // namespace

struct subscriber::impl {
  std::shared_ptr<transport> transport_;
  subscriber_config config_;
  // type → major version → handler; looked up by string_view without allocating.
  std::map<std::string, std::map<int, event_handler>, std::less<>> handlers_;
  failure_sink sink_ = log_failure;
  std::atomic<bool> stop_{false};
  envelope_decoder decoder_;
  std::unique_ptr<consumer> consumer_;

  // A record waiting in place for its next attempt; its partition is paused meanwhile so per-key order holds.
  struct waiting {
    record rec;
    std::optional<envelope> event;
    int attempts = 0;
    clock::time_point due;
    std::optional<error> final_error;  // set once the handler is done with it and only the sink is left
  };
  std::map<topic_partition, waiting> waiting_;
  std::uint64_t finished_ = 0;
  clock::time_point last_progress_ = clock::now();  // a record arrived or finished

  void forget_revoked(const std::vector<topic_partition>& partitions, bool lost) {
    for (const auto& tp : partitions) {
      if (waiting_.erase(tp) > 0) {
        log::warn("partition revoked while an event waited for retry; the next owner redelivers it",
                  {{"topic", tp.topic}, {"partition", std::to_string(tp.partition)}, {"lost", lost ? "true" : "false"}});
      }
    }
  }

  void complete(const record& rec) {
    ++finished_;
    last_progress_ = clock::now();
    if (auto stored = consumer_->store_offset(rec); !stored) {
      // The partition moved to another member: it will redeliver from the last committed offset.
      log::warn("offset not stored: partition no longer assigned",
                {{"topic", rec.topic}, {"partition", std::to_string(rec.partition)}, {"error", stored.error().describe()}});
    }
  }

  // Runs the handler once. Returns nullopt when the record is finished, else the error to retry on.
  std::optional<error> attempt(const record& rec, const envelope& event, int attempt_number) {
    auto type = handlers_.find(std::string_view(event.meta.type));
    if (type == handlers_.end()) return std::nullopt;  // not ours: skipped and committed
    auto found = type->second.find(event.major_version());
    if (found == type->second.end()) {
      return make_error(errc::unsupported_version,
                        "no handler for " + event.meta.type + " version " + event.meta.version)
          .value();
    }
    if (config_.catalog) {
      // Checked on every attempt: cheap next to the handler, and the data is never handed over unchecked.
      if (auto checked = config_.catalog->validate_data(event.meta.type, event.meta.version, event.data); !checked) {
        return std::move(checked.error());
      }
    }
    context_scope scope(event_context{event.meta.correlation_id, event.meta.trace});
    try {
      auto outcome = found->second(received_event{event, &rec, attempt_number});
      if (outcome) return std::nullopt;
      return outcome.error();
    } catch (const std::exception& e) {
      return error{errc::handler_failed, std::string("handler threw: ") + e.what(), true, {}};
    } catch (...) {
      return error{errc::handler_failed, "handler threw a non-standard exception", true, {}};
    }
  }

  // Drives one record as far as it goes now; leaves it in waiting_ when it must be tried again later.
  // Takes the item by reference: it is moved only when it must wait (hold), not once per record.
  void process(waiting&& item) {
    if (!item.final_error && item.event) {
      ++item.attempts;
      auto failure = attempt(item.rec, *item.event, item.attempts);
      if (!failure) {
        resume_if_waiting(item.rec);
        complete(item.rec);
        return;
      }
      if (failure->retriable() && item.attempts < config_.retry.max_attempts) {
        const auto delay = config_.retry.backoff(item.attempts);
        log::warn("handler failed, will retry in place",
                  {{"event_id", item.event->meta.id}, {"correlation_id", item.event->meta.correlation_id},
                   {"type", item.event->meta.type}, {"attempt", std::to_string(item.attempts)},
                   {"retry_in_ms", std::to_string(delay.count())}, {"error", failure->describe()}});
        item.due = clock::now() + delay;
        hold(std::move(item));
        return;
      }
      if (failure->retriable()) {
        failure->message = "retries exhausted after " + std::to_string(item.attempts) + " attempts: " + failure->message;
      }
      item.final_error = std::move(*failure);
    }
    auto sunk = sink_(failed_event{&item.rec, item.event ? &*item.event : nullptr, *item.final_error, item.attempts});
    if (sunk) {
      resume_if_waiting(item.rec);
      complete(item.rec);
      return;
    }
    // The failure could not be recorded (e.g. the dead-letter topic is down): keep the offset uncommitted.
    const auto delay = config_.retry.backoff(std::min(item.attempts, 8));
    log::error("failed event could not be recorded; holding its partition",
               {{"topic", item.rec.topic}, {"partition", std::to_string(item.rec.partition)},
                {"offset", std::to_string(item.rec.offset)}, {"error", sunk.error().describe()}});
    item.due = clock::now() + std::max(delay, std::chrono::milliseconds(100));
    hold(std::move(item));
  }

  void hold(waiting item) {
    topic_partition tp{item.rec.topic, item.rec.partition};
    if (!waiting_.contains(tp)) (void)consumer_->pause({tp});
    waiting_.insert_or_assign(tp, std::move(item));
  }

  void resume_if_waiting(const record& rec) {
    topic_partition tp{rec.topic, rec.partition};
    if (waiting_.erase(tp) > 0) (void)consumer_->resume({tp});
  }

  void handle(record&& rec) {
    waiting item;
    auto decoded = decoder_.decode(rec.value);
    if (decoded) item.event.emplace(std::move(*decoded));
    else item.final_error = std::move(decoded.error());
    item.rec = std::move(rec);
    process(std::move(item));
  }

  void run_due_retries() {
    if (waiting_.empty()) return;  // the common case: no clock read per record
    const auto now = clock::now();
    std::vector<topic_partition> due;
    for (const auto& [tp, item] : waiting_) {
      if (item.due <= now) due.push_back(tp);
    }
    for (const auto& tp : due) {
      auto found = waiting_.find(tp);
      if (found == waiting_.end()) continue;
      auto item = std::move(found->second);
      waiting_.erase(found);  // process() re-holds it if it must wait again
      (void)consumer_->resume({tp});
      process(std::move(item));
    }
  }

  std::chrono::milliseconds next_poll_timeout() const {
    auto timeout = std::chrono::milliseconds(100);
    if (waiting_.empty()) return timeout;
    const auto now = clock::now();
    for (const auto& [tp, item] : waiting_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(item.due - now);
      timeout = std::clamp(left, std::chrono::milliseconds(0), timeout);
    }
    return timeout;
  }
};

subscriber::subscriber(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
subscriber::~subscriber() = default;

result<std::unique_ptr<subscriber>> subscriber::create(std::shared_ptr<transport> transport, subscriber_config config) {
  if (!transport) return make_error(errc::invalid_argument, "subscriber::create: transport is null");
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto state = std::make_unique<impl>();
  state->transport_ = std::move(transport);
  state->config_ = std::move(config);
  return std::unique_ptr<subscriber>(new subscriber(std::move(state)));
}

result<void> subscriber::on(std::string_view type, int major, event_handler handler) {
  if (!is_event_type(type)) {
    return make_error(errc::invalid_argument, "subscriber::on: \"" + std::string(type) + "\" is not an event type");
  }
  if (major < 1) return make_error(errc::invalid_argument, "subscriber::on: major version must be >= 1");
  if (!handler) return make_error(errc::invalid_argument, "subscriber::on: handler is empty");
  auto& by_major = impl_->handlers_[std::string(type)];
  if (!by_major.emplace(major, std::move(handler)).second) {
    return make_error(errc::invalid_argument, "subscriber::on: " + std::string(type) + " v" + std::to_string(major) +
                                                  " already has a handler");
  }
  return {};
}

void subscriber::on_failure(failure_sink sink) { impl_->sink_ = sink ? std::move(sink) : log_failure; }

void subscriber::stop() noexcept { impl_->stop_.store(true); }

result<std::uint64_t> subscriber::run(run_limits limits) {
  auto& state = *impl_;
  std::set<std::string> topics(state.config_.extra_topics.begin(), state.config_.extra_topics.end());
  for (const auto& [type, by_major] : state.handlers_) topics.insert(topic_for(type, state.config_.topics));
  if (topics.empty()) return make_error(errc::invalid_argument, "subscriber::run: no handlers and no topics");

  auto options = state.config_.consumer;
  options.group_id = state.config_.group;
  auto user_listener = options.listener;
  options.listener.on_assigned = [user_listener](const std::vector<topic_partition>& parts) {
    if (user_listener.on_assigned) user_listener.on_assigned(parts);
  };
  options.listener.on_revoked = [&state, user_listener](const std::vector<topic_partition>& parts, bool lost) {
    state.forget_revoked(parts, lost);
    if (user_listener.on_revoked) user_listener.on_revoked(parts, lost);
  };
  auto created = state.transport_->create_consumer(options);
  if (!created) return make_error(created.error());
  state.consumer_ = std::move(*created);
  if (auto ok = state.consumer_->subscribe({topics.begin(), topics.end()}); !ok) return make_error(ok.error());
  log::info("subscriber started", {{"service", state.config_.service}, {"group", state.config_.group},
                                   {"transport", state.transport_->kind()}});

  state.last_progress_ = clock::now();
  std::optional<error> fatal;
  while (!state.stop_.load()) {
    state.run_due_retries();
    if (limits.max_events && state.finished_ >= *limits.max_events) break;
    auto polled = state.consumer_->poll(state.next_poll_timeout());
    if (!polled) {
      if (!polled.error().retriable()) {
        fatal = polled.error();
        break;
      }
      log::warn("poll failed; retrying", {{"error", polled.error().describe()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (*polled) {
      state.last_progress_ = clock::now();
      state.handle(std::move(**polled));
    } else if (limits.idle_exit && clock::now() - state.last_progress_ >= *limits.idle_exit) {
      break;  // held records stay uncommitted and come back on the next run
    }
  }
  // Held records are not finished: their offsets stay uncommitted and they are redelivered next time.
  state.waiting_.clear();
  auto committed = state.consumer_->commit();
  state.consumer_->close();
  state.consumer_.reset();
  log::info("subscriber stopped", {{"group", state.config_.group}, {"finished", std::to_string(state.finished_)}});
  if (fatal) return make_error(*fatal);
  if (!committed && committed.error().code != errc::not_found) return make_error(committed.error());
  return state.finished_;
}

}  // namespace aw::events
