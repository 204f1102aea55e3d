#include "aw/events/subscriber.hpp"

#include <algorithm>
#include <set>
#include <thread>

#include "aw/events/catalog.hpp"
#include "aw/events/deadletter.hpp"
#include "core/log.hpp"
#include "pipeline/failure_alerts.hpp"
#include "pipeline/middleware.hpp"

namespace aw::events {

result<void> subscriber_config::validate() const {
  if (group.empty()) return make_error(errc::invalid_argument, "subscriber_config.group is required");
  if (service.empty()) return make_error(errc::invalid_argument, "subscriber_config.service is required");
  if (auto ok = retry.validate(); !ok) return ok;
  for (const auto& [type, policy] : retry_by_type) {
    if (auto ok = policy.validate(); !ok) {
      return make_error(errc::invalid_argument, "subscriber_config.retry_by_type[" + type + "]: " + ok.error().message);
    }
  }
  if (inbox && !ledger) return make_error(errc::invalid_argument, "subscriber_config.inbox needs a ledger");
  if (ledger_batch_events == 0) return make_error(errc::invalid_argument, "subscriber_config.ledger_batch_events must be >= 1");
  if (ledger_batch_delay.count() < 0) return make_error(errc::invalid_argument, "subscriber_config.ledger_batch_delay must be >= 0");
  if (alerts.dead_letters < 0 || alerts.consecutive_failures < 0 || alerts.window.count() <= 0) {
    return make_error(errc::invalid_argument, "subscriber_config.alerts: thresholds must be >= 0 and window > 0");
  }
  return {};
}

namespace {

using clock = std::chrono::steady_clock;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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
  // type → major version → handler as registered; chains_ holds them wrapped in the middlewares at run().
  std::map<std::string, std::map<int, event_handler>, std::less<>> handlers_;
  std::map<std::string, std::map<int, event_handler>, std::less<>> chains_;
  std::vector<middleware> middlewares_;
  failure_sink sink_;  // empty: dead letters (config_.dead_letters) or the log line
  std::unique_ptr<deadletter_writer> deadletters_;  // created on the first dead letter
  std::atomic<bool> stop_{false};
  envelope_decoder decoder_;
  std::unique_ptr<consumer> consumer_;
  std::unique_ptr<pipeline::failure_alerts> alerts_;
  counters stats_;
  std::optional<error> fatal_;

  // A record waiting in place for its next attempt; its partition is paused meanwhile so per-key order holds.
  struct waiting {
    record rec;
    std::optional<envelope> event;
    const event_handler* handler = nullptr;
    int attempts = 0;
    clock::time_point due;
    std::int64_t first_failure_ms = 0;
    std::int64_t last_failure_ms = 0;
    std::optional<error> final_error;  // set once the handler is done with it and only the sink is left
    bool retries_exhausted = false;
  };
  std::map<topic_partition, waiting> waiting_;
  clock::time_point last_progress_ = clock::now();  // a record arrived or finished

  // With a ledger, offsets are stored only after the batch holding their processed marks is durable.
  std::vector<record> pending_offsets_;  // one per partition: topic, partition and offset only
  std::size_t batch_records_ = 0;
  clock::time_point batch_started_;

  // -------------------------------------------------------------------------------------- offsets, ledger

  void stop_with(error e) {
    log::error("consumer stopping: the ledger cannot be written", {{"error", e.describe()}});
    if (!fatal_) fatal_ = std::move(e);
    stop_.store(true);
  }

  void store_now(const record& rec) {
    if (auto stored = consumer_->store_offset(rec); !stored) {
      // The partition moved to another member: it will redeliver from the last committed offset.
      log::warn("offset not stored: partition no longer assigned",
                {{"topic", rec.topic}, {"partition", std::to_string(rec.partition)}, {"error", stored.error().describe()}});
    }
  }

  void complete(const record& rec) {
    ++stats_.finished;
    if (!config_.ledger) {
      store_now(rec);
      return;
    }
    auto found = std::find_if(pending_offsets_.begin(), pending_offsets_.end(), [&](const record& p) {
      return p.partition == rec.partition && p.topic == rec.topic;
    });
    if (found == pending_offsets_.end()) {
      record& p = pending_offsets_.emplace_back();
      p.topic = rec.topic;
      p.partition = rec.partition;
      found = pending_offsets_.end() - 1;
    }
    found->offset = rec.offset;
    if (batch_records_++ == 0) batch_started_ = clock::now();
    if (batch_records_ >= config_.ledger_batch_events) flush_batch();
    // The batch age is looked at every 64 records only: no clock read per record.
    else if ((batch_records_ & 63) == 0 && clock::now() - batch_started_ >= config_.ledger_batch_delay) flush_batch();
  }

  // Makes the ledger batch durable, then stores the offsets it covers.
  void flush_batch() {
    if (!config_.ledger) return;
    if (auto ok = config_.ledger->flush(); !ok) {
      stop_with(ok.error());
      return;
    }
    for (const auto& rec : pending_offsets_) store_now(rec);
    pending_offsets_.clear();
    batch_records_ = 0;
  }

  void maybe_flush_on_idle() {
    if (batch_records_ > 0 && clock::now() - batch_started_ >= config_.ledger_batch_delay) flush_batch();
  }

  void record_state(const waiting& item, processing_state state, std::string_view error_text = {}) {
    if (!config_.ledger || !item.event) return;
    const auto& meta = item.event->meta;
    auto ok = config_.ledger->record(ledger_transition{config_.group, meta.id, state, item.attempts, 0, error_text,
                                                       meta.correlation_id, meta.type, item.rec.topic,
                                                       item.rec.partition, item.rec.offset});
    if (!ok) stop_with(ok.error());
  }

  void forget_revoked(const std::vector<topic_partition>& partitions, bool lost) {
    // Hand-over: what is processed gets its offsets stored now, so the commit after this callback covers it.
    if (!lost) flush_batch();
    else {
      std::erase_if(pending_offsets_, [&](const record& p) {
        return std::find(partitions.begin(), partitions.end(), topic_partition{p.topic, p.partition}) != partitions.end();
      });
    }
    for (const auto& tp : partitions) {
      if (waiting_.erase(tp) > 0) {
        log::warn("partition revoked while an event waited for retry; the next owner redelivers it",
                  {{"topic", tp.topic}, {"partition", std::to_string(tp.partition)}, {"lost", lost ? "true" : "false"}});
      }
    }
  }

  // ------------------------------------------------------------------------------------------ handlers

  const retry_policy& retry_for(std::string_view type) const {
    if (config_.retry_by_type.empty()) return config_.retry;
    auto found = config_.retry_by_type.find(type);
    return found == config_.retry_by_type.end() ? config_.retry : found->second;
  }

  // Runs the handler chain once. Returns nullopt on success, else the error.
  std::optional<error> attempt(waiting& item) {
    const bool inbox = config_.inbox;
    inbox_transaction* tx = nullptr;
    if (inbox) {
      auto opened = config_.ledger->inbox();
      if (!opened) return std::move(opened.error());
      tx = *opened;
      if (auto ok = config_.ledger->begin_handler(); !ok) return std::move(ok.error());
    }
    const auto started = config_.observer ? clock::now() : clock::time_point{};
    auto outcome = (*item.handler)(received_event{*item.event, &item.rec, item.attempts, tx});
    if (config_.observer) config_.observer->processed(*item.event, clock::now() - started);
    if (inbox) {
      if (auto ok = config_.ledger->end_handler(outcome.has_value()); !ok) {
        stop_with(ok.error());
        return std::move(ok.error());
      }
    }
    if (outcome) return std::nullopt;
    return std::move(outcome.error());
  }

  result<void> sink(const failed_event& failed) {
    if (sink_) return sink_(failed);
    if (!config_.dead_letters) return log_failure(failed);
    if (!deadletters_) {
      deadletter_config dl;
      dl.service = config_.service;
      dl.group = config_.group;
      dl.ack_timeout = config_.deadletter_ack_timeout;
      auto created = deadletter_writer::create(transport_, std::move(dl));
      if (!created) return make_error(created.error());
      deadletters_ = std::move(*created);
    }
    return deadletters_->sink()(failed);
  }

  // Drives one record as far as it goes now; leaves it in waiting_ when it must be tried again later.
  void process(waiting&& item) {
    if (!item.final_error && item.event) {
      ++item.attempts;
      auto failure = attempt(item);
      if (!failure) {
        record_state(item, processing_state::succeeded);
        ++stats_.succeeded;
        if (alerts_) alerts_->succeeded(item.event->meta.type);
        resume_if_waiting(item.rec);
        complete(item.rec);
        return;
      }
      item.last_failure_ms = wall_ms();
      if (item.first_failure_ms == 0) item.first_failure_ms = item.last_failure_ms;
      if (alerts_) alerts_->attempt_failed(item.event->meta.type, failure->message);
      const auto& policy = retry_for(item.event->meta.type);
      if (failure->retriable() && item.attempts < policy.max_attempts) {
        const auto delay = policy.backoff(item.attempts);
        log::warn("handler failed, will retry in place",
                  {{"event_id", item.event->meta.id}, {"correlation_id", item.event->meta.correlation_id},
                   {"type", item.event->meta.type}, {"attempt", std::to_string(item.attempts)},
                   {"retry_in_ms", std::to_string(delay.count())}, {"error", failure->describe()}});
        // Durable at once, so the attempt count survives a restart.
        record_state(item, processing_state::retrying, failure->describe());
        flush_batch();
        ++stats_.retried;
        if (config_.observer) config_.observer->retried(*item.event, item.attempts, *failure);
        item.due = clock::now() + delay;
        hold(std::move(item));
        return;
      }
      if (failure->retriable()) {
        item.retries_exhausted = true;
        failure->message = "retries exhausted after " + std::to_string(item.attempts) + " attempts: " + failure->message;
      }
      item.final_error = std::move(*failure);
    } else if (item.first_failure_ms == 0) {
      item.first_failure_ms = item.last_failure_ms = wall_ms();
      if (item.attempts == 0) item.attempts = 1;  // the one look at it that showed it cannot be processed
    }
    failed_event failed{&item.rec, item.event ? &*item.event : nullptr, *item.final_error, item.attempts,
                        item.retries_exhausted, item.first_failure_ms, item.last_failure_ms};
    auto sunk = sink(failed);
    if (sunk) {
      record_state(item, processing_state::dead_lettered, item.final_error->describe());
      ++stats_.dead_lettered;
      if (config_.observer) config_.observer->dead_lettered(failed);
      if (alerts_) alerts_->dead_lettered(item.final_error->describe());
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
    if (waiting_.empty()) return;
    topic_partition tp{rec.topic, rec.partition};
    if (waiting_.erase(tp) > 0) (void)consumer_->resume({tp});
  }

  void skip(const record& rec) {
    ++stats_.skipped;
    complete(rec);
  }

  void handle(record&& rec) {
    if (config_.observer) config_.observer->consumed(rec);
    waiting item;
    auto decoded = decoder_.decode(rec.value);
    if (!decoded) {
      item.final_error = std::move(decoded.error());
      item.final_error->retriable_ = false;
      item.rec = std::move(rec);
      process(std::move(item));
      return;
    }
    const auto& meta = decoded->meta;
    auto type = chains_.find(std::string_view(meta.type));
    if (type == chains_.end()) {
      if (config_.catalog && config_.unknown_types_are_permanent &&
          config_.catalog->find(meta.type, decoded->major_version()) == nullptr) {
        // The catalog does not know this type (or this major of it): the producer broke the contract.
        auto checked = config_.catalog->validate_data(meta.type, meta.version, decoded->data);
        item.final_error = checked ? error{errc::unknown_event_type, "event type " + meta.type + " version " +
                                                                         meta.version + " is not in the catalog",
                                           false, {}}
                                   : std::move(checked.error());
        item.final_error->retriable_ = false;
        item.event.emplace(std::move(*decoded));
        item.rec = std::move(rec);
        process(std::move(item));
        return;
      }
      skip(rec);  // not ours: skipped and committed
      return;
    }
    auto found = type->second.find(decoded->major_version());
    if (found == type->second.end()) {
      item.final_error = error{errc::unsupported_version,
                               "no handler for " + meta.type + " version " + meta.version, false, {}};
    } else {
      item.handler = &found->second;
    }
    if (config_.ledger) {
      auto known = config_.ledger->lookup(config_.group, meta.id);
      if (!known) {
        stop_with(known.error());
        return;
      }
      if (*known) {
        const auto state = (*known)->state;
        if (state == processing_state::succeeded || state == processing_state::dead_lettered ||
            state == processing_state::duplicate_skipped) {
          ++stats_.duplicates_skipped;
          if (config_.observer) config_.observer->duplicate_skipped(*decoded);
          item.event.emplace(std::move(*decoded));
          item.rec = std::move(rec);
          item.attempts = (*known)->attempts;
          record_state(item, processing_state::duplicate_skipped);
          complete(item.rec);
          return;
        }
        item.attempts = (*known)->attempts;  // retrying(n) before a restart: counting goes on from n
      }
    }
    item.event.emplace(std::move(*decoded));
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
    if (batch_records_ > 0) timeout = std::min(timeout, std::max(config_.ledger_batch_delay, std::chrono::milliseconds(1)));
    if (waiting_.empty()) return timeout;
    const auto now = clock::now();
    for (const auto& [tp, item] : waiting_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(item.due - now);
      timeout = std::clamp(left, std::chrono::milliseconds(0), timeout);
    }
    return timeout;
  }

  void build_chains() {
    std::vector<middleware> stack;
    stack.push_back(pipeline::catch_exceptions(config_.exceptions_are_permanent));
    if (config_.catalog) stack.push_back(pipeline::validate_with_catalog(config_.catalog));
    stack.push_back(pipeline::propagate_context());
    stack.insert(stack.end(), middlewares_.begin(), middlewares_.end());
    chains_.clear();
    for (const auto& [type, by_major] : handlers_) {
      auto& out = chains_[type];
      for (const auto& [major, handler] : by_major) out.emplace(major, pipeline::compose(stack, type, major, handler));
    }
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
  if (state->config_.alerts.dead_letters > 0 || state->config_.alerts.consecutive_failures > 0) {
    state->alerts_ = std::make_unique<pipeline::failure_alerts>(state->config_.alerts, state->config_.observer);
  }
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

void subscriber::on_failure(failure_sink sink) { impl_->sink_ = std::move(sink); }

void subscriber::use(middleware m) {
  if (m) impl_->middlewares_.push_back(std::move(m));
}

subscriber::counters subscriber::stats() const noexcept { return impl_->stats_; }

void subscriber::stop() noexcept { impl_->stop_.store(true); }

result<std::uint64_t> subscriber::run(run_limits limits) {
  auto& state = *impl_;
  std::set<std::string> topics(state.config_.extra_topics.begin(), state.config_.extra_topics.end());
  for (const auto& [type, by_major] : state.handlers_) topics.insert(topic_for(type, state.config_.topics));
  if (topics.empty()) return make_error(errc::invalid_argument, "subscriber::run: no handlers and no topics");
  state.build_chains();

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
    if (limits.max_events && state.stats_.finished >= *limits.max_events) break;
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
    } else {
      state.maybe_flush_on_idle();
      if (limits.idle_exit && clock::now() - state.last_progress_ >= *limits.idle_exit) {
        break;  // held records stay uncommitted and come back on the next run
      }
    }
  }
  // Held records are not finished: their offsets stay uncommitted and they are redelivered next time.
  state.waiting_.clear();
  if (!state.fatal_) state.flush_batch();
  auto committed = state.consumer_->commit();
  state.consumer_->close();
  state.consumer_.reset();
  const auto finished = state.stats_.finished;
  log::info("subscriber stopped", {{"group", state.config_.group}, {"finished", std::to_string(finished)},
                                   {"succeeded", std::to_string(state.stats_.succeeded)},
                                   {"dead_lettered", std::to_string(state.stats_.dead_lettered)},
                                   {"duplicates_skipped", std::to_string(state.stats_.duplicates_skipped)}});
  if (state.fatal_) return make_error(*state.fatal_);
  if (fatal) return make_error(*fatal);
  if (!committed && committed.error().code != errc::not_found) return make_error(committed.error());
  return finished;
}

}  // namespace aw::events
