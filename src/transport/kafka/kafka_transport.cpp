// Apache Kafka through librdkafka 2.0.2. Lifetimes: a producer owns its rd_kafka_t and one poller thread
// that serves delivery reports; a consumer owns its rd_kafka_t and is driven by the caller's poll thread
// (rebalance callbacks run there); the transport owns only a lazily created admin handle.
// No exception crosses a librdkafka callback: every trampoline catches, logs and returns.
#include "aw/events/transport/kafka.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "core/log.hpp"
#include "store/log_rules.hpp"
#include "transport/kafka/kafka_errors.hpp"
#include "transport/kafka/mock_registry.hpp"
#include "transport/kafka/rdkafka_conf.hpp"

namespace aw::events {

using namespace kafka_detail;

result<void> kafka_options::validate() const {
  if (bootstrap_servers.empty()) {
    return make_error(errc::invalid_argument, "kafka_options.bootstrap_servers is required (host:port[,host:port...])");
  }
  if (default_partitions < 1 || default_partitions > 10000) {
    return make_error(errc::invalid_argument, "kafka_options.default_partitions must be 1..10000, got " +
                                                  std::to_string(default_partitions));
  }
  if (replication_factor < 1) {
    return make_error(errc::invalid_argument,
                      "kafka_options.replication_factor must be >= 1, got " + std::to_string(replication_factor));
  }
  // Unknown or malformed librdkafka properties fail here, before any client thread exists.
  conf_ptr scratch(rd_kafka_conf_new());
  if (auto ok = set_properties(scratch.get(), properties); !ok) {
    return make_error(errc::invalid_argument, "kafka_options.properties: " + ok.error().message);
  }
  return {};
}

namespace {

using steady = std::chrono::steady_clock;

constexpr std::chrono::milliseconds metadata_timeout{5000};
constexpr std::chrono::milliseconds close_flush_timeout{2000};

std::string describe_partition(const std::string& topic, std::int32_t partition) {
  return topic + "[" + std::to_string(partition) + "]";
}

bool client_fatal(rd_kafka_t* rk) { return rd_kafka_fatal_error(rk, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR; }

partition_list_ptr to_list(const std::vector<topic_partition>& partitions) {
  partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& tp : partitions) rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

std::vector<topic_partition> from_list(const rd_kafka_topic_partition_list_t* list) {
  std::vector<topic_partition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<std::size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

// First per-partition error of a list operation, as an error naming the partition.
std::optional<error> first_partition_error(const rd_kafka_topic_partition_list_t* list, std::string_view what) {
  for (int i = 0; i < list->cnt; ++i) {
    const auto err = list->elems[i].err;
    if (!err) continue;
    const std::string where = std::string(what) + " " + describe_partition(list->elems[i].topic, list->elems[i].partition);
    // librdkafka's words for "this member has no such partition": not ours (any more).
    if (err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__STATE) {
      return error{errc::not_found, where + ": partition is not assigned to this member", false, {}};
    }
    return map_kafka_error(err, where);
  }
  return std::nullopt;
}

void error_log_trampoline(rd_kafka_t* rk, int err, const char* reason, void* /*opaque*/) noexcept {
  try {
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      std::array<char, 512> text{};
      const auto original = rd_kafka_fatal_error(rk, text.data(), text.size());
      log::error("kafka client fatal error: the instance must be recreated",
                 {{"client", rd_kafka_name(rk)}, {"error", rd_kafka_err2name(original)}, {"reason", text.data()}});
      return;
    }
    // Broker connection trouble is reported here and retried by librdkafka itself.
    log::warn("kafka client error", {{"client", rd_kafka_name(rk)},
                                     {"error", rd_kafka_err2name(code)},
                                     {"reason", reason != nullptr ? reason : ""}});
  } catch (...) {
  }
}

std::string milliseconds_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

// Metadata of one topic, waiting while it is being auto-created (brokers answer LEADER_NOT_AVAILABLE or
// UNKNOWN_TOPIC_OR_PART until it exists).
result<std::int32_t> topic_partition_count(rd_kafka_t* rk, const std::string& topic) {
  topic_ptr handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  if (!handle) return make_error(map_kafka_error(rd_kafka_last_error(), "topic handle for '" + topic + "'"));
  const auto deadline = steady::now() + metadata_timeout;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  while (steady::now() < deadline) {
    const rd_kafka_metadata_t* raw = nullptr;
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    last = rd_kafka_metadata(rk, 0, handle.get(), &raw, static_cast<int>(std::max<std::int64_t>(1, remaining.count())));
    metadata_ptr md(raw);
    if (last == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        if (topic != t.topic) continue;
        last = t.err;
        if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt > 0) return t.partition_cnt;
      }
      if (last != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && last != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
          last != RD_KAFKA_RESP_ERR_NO_ERROR) {
        break;
      }
    } else if (last != RD_KAFKA_RESP_ERR__TIMED_OUT && last != RD_KAFKA_RESP_ERR__TRANSPORT) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (last == RD_KAFKA_RESP_ERR_NO_ERROR) last = RD_KAFKA_RESP_ERR__TIMED_OUT;
  return make_error(map_kafka_error(last, "metadata of topic '" + topic + "'", client_fatal(rk)));
}

// Topics used for the first time on an in-process mock cluster are created through its control API, so they
// get kafka_options.default_partitions instead of the mock's fixed 4 (librdkafka 2.0.2 has no setting for it).
// On a real cluster (or a mock in another process) the brokers' auto-creation decides.
class mock_topic_creator {
 public:
  explicit mock_topic_creator(const kafka_options& options)
      : bootstrap_(options.bootstrap_servers),
        partitions_(options.default_partitions),
        mock_(is_in_process_mock(bootstrap_)) {}

  void ensure(const std::string& topic) {
    if (!mock_) return;
    std::lock_guard lock(mutex_);
    if (known_.count(topic) != 0) return;
    if (auto err = create_topic_on_mock(bootstrap_, topic, partitions_);
        err && *err != RD_KAFKA_RESP_ERR_NO_ERROR && *err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      log::warn("mock cluster: cannot pre-create topic", {{"topic", topic}, {"error", rd_kafka_err2name(*err)}});
    }
    known_.insert(topic);
  }

 private:
  std::string bootstrap_;
  std::int32_t partitions_;
  bool mock_;
  std::mutex mutex_;
  std::unordered_set<std::string> known_;
};

// ---------------------------------------------------------------------------------------------- producer

// One per produced record: owns the caller's handler. Released to librdkafka as the message opaque; the
// report takes it back. The value is copied by librdkafka (RD_KAFKA_MSG_F_COPY, into the message's own
// allocation) so the record's buffers are freed on the producing thread: a block freed by another thread
// costs glibc an arena lock, and that contention dominated the profile when the value lived here.
struct delivery_context {
  delivery_handler handler;
};

class kafka_producer final : public producer {
 public:
  static result<std::unique_ptr<kafka_producer>> create(const kafka_options& transport_options,
                                                        const producer_options& options) {
    if (options.enqueue_timeout.count() < 0) {
      return make_error(errc::invalid_argument, "producer_options.enqueue_timeout must be >= 0");
    }
    if (options.delivery_timeout.count() <= 0) {
      return make_error(errc::invalid_argument, "producer_options.delivery_timeout must be positive");
    }
    std::unique_ptr<kafka_producer> self(new kafka_producer(transport_options, options));
    conf_ptr conf = new_conf();
    const std::map<std::string, std::string> ours = {
        {"bootstrap.servers", transport_options.bootstrap_servers},
        {"client.id", options.client_id},
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"partitioner", "murmur2_random"},  // Java-compatible: a key maps to the same partition in every language
        {"message.timeout.ms", milliseconds_text(options.delivery_timeout)},
        {"linger.ms", "5"},
        {"compression.codec", "none"},
    };
    for (const auto* properties : {&ours, &transport_options.properties, &options.properties}) {
      if (auto ok = set_properties(conf.get(), *properties); !ok) return make_error(ok.error());
    }
    rd_kafka_conf_set_opaque(conf.get(), self.get());
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &kafka_producer::delivery_trampoline);
    rd_kafka_conf_set_error_cb(conf.get(), &error_log_trampoline);
    auto handle = new_handle(RD_KAFKA_PRODUCER, std::move(conf), "kafka producer");
    if (!handle) return make_error(handle.error());
    self->handle_ = std::move(*handle);
    self->poller_ = std::thread([p = self.get()] { p->poll_loop(); });
    return self;
  }

  ~kafka_producer() override {
    if (!handle_) return;  // create() failed before the client existed
    if (auto ok = flush(std::min(close_flush_timeout, options_.delivery_timeout)); !ok) {
      log::warn("kafka producer closing with undelivered records",
                {{"client", options_.client_id}, {"pending", std::to_string(outstanding_.load())}});
    }
    // Whatever is left fails with _PURGE_QUEUE/_PURGE_INFLIGHT (errc::closed) instead of vanishing.
    rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    stop_.store(true);
    poller_.join();
    const auto deadline = steady::now() + std::chrono::seconds(1);
    while (outstanding_.load() > 0 && steady::now() < deadline) rd_kafka_poll(handle_.get(), 10);
    if (const auto left = outstanding_.load(); left > 0) {
      log::error("kafka producer destroyed with delivery handlers never called",
                 {{"client", options_.client_id}, {"count", std::to_string(left)}});
    }
    handle_.reset();
  }

  void produce(record rec, delivery_handler on_delivery) override {
    if (!on_delivery) on_delivery = [](result<delivery_report>) {};
    if (auto ok = store::validate_topic_name(rec.topic); !ok) {
      report_once(on_delivery, make_error(ok.error()));
      return;
    }
    if (rec.partition < -1) {
      report_once(on_delivery, make_error(errc::invalid_argument, "produce to topic '" + rec.topic +
                                                                      "': bad partition " + std::to_string(rec.partition)));
      return;
    }
    topics_.ensure(rec.topic);

    auto context = std::make_unique<delivery_context>(delivery_context{std::move(on_delivery)});
    headers_ptr headers;
    if (!rec.headers.empty()) {
      headers.reset(rd_kafka_headers_new(rec.headers.size()));
      for (const auto& h : rec.headers) {
        rd_kafka_header_add(headers.get(), h.name.data(), static_cast<ssize_t>(h.name.size()), h.value.data(),
                            static_cast<ssize_t>(h.value.size()));
      }
    }
    // An empty key is a null key: murmur2_random then picks a random partition, as the record contract says.
    const void* key = rec.key.empty() ? nullptr : rec.key.data();
    const std::int32_t partition = rec.partition >= 0 ? rec.partition : RD_KAFKA_PARTITION_UA;
    const auto deadline = steady::now() + options_.enqueue_timeout;
    outstanding_.fetch_add(1);
    rd_kafka_resp_err_t err;
    for (;;) {
      err = rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(rec.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key, rec.key.size()),
                              RD_KAFKA_V_VALUE(rec.value.data(), rec.value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
                              RD_KAFKA_V_TIMESTAMP(rec.timestamp_ms), RD_KAFKA_V_OPAQUE(context.get()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (void)headers.release();  // librdkafka owns the headers once the message is queued
        (void)context.release();  // back in delivery_trampoline
        return;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || steady::now() >= deadline) break;
      // Wait for the poller to serve delivery reports rather than polling here: serving reports on the
      // caller's thread could run a handler while the caller holds a lock that handler needs.
      std::unique_lock lock(room_mutex_);
      room_.wait_until(lock, std::min(deadline, steady::now() + std::chrono::milliseconds(5)));
    }
    outstanding_.fetch_sub(1);
    error e = map_kafka_error(err, "produce to topic '" + rec.topic + "'", client_fatal(handle_.get()));
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      e.message += "; the local queue stayed full for enqueue_timeout (" +
                   milliseconds_text(options_.enqueue_timeout) + " ms)";
    }
    report_once(context->handler, make_error(std::move(e)));
  }

  result<void> flush(std::chrono::milliseconds timeout) override {
    // Our poller serves the reports; waiting here (instead of rd_kafka_flush, which polls on this thread)
    // keeps every handler on the transport thread.
    const auto deadline = steady::now() + timeout;
    std::unique_lock lock(room_mutex_);
    while (outstanding_.load() > 0) {
      if (steady::now() >= deadline) {
        return make_error(errc::timeout, "kafka producer flush: " + std::to_string(outstanding_.load()) +
                                             " records without delivery report after " + milliseconds_text(timeout) +
                                             " ms");
      }
      room_.wait_until(lock, std::min(deadline, steady::now() + std::chrono::milliseconds(5)));
    }
    return {};
  }

  result<std::int32_t> partition_count(const std::string& topic) override {
    if (auto ok = store::validate_topic_name(topic); !ok) return make_error(ok.error());
    topics_.ensure(topic);
    return topic_partition_count(handle_.get(), topic);
  }

 private:
  kafka_producer(const kafka_options& transport_options, producer_options options)
      : options_(std::move(options)), topics_(transport_options) {}

  static void report_once(delivery_handler& handler, result<delivery_report> report) noexcept {
    try {
      handler(std::move(report));
    } catch (const std::exception& e) {
      log::error("delivery handler threw; ignored", {{"what", e.what()}});
    } catch (...) {
      log::error("delivery handler threw a non-exception; ignored");
    }
  }

  static void delivery_trampoline(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque) noexcept {
    auto* self = static_cast<kafka_producer*>(opaque);
    std::unique_ptr<delivery_context> context(static_cast<delivery_context*>(message->_private));
    if (!context) return;
    try {
      const char* topic = rd_kafka_topic_name(message->rkt);
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        report_once(context->handler, delivery_report{topic, message->partition, message->offset});
      } else {
        const bool possibly_persisted = rd_kafka_message_status(message) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED;
        report_once(context->handler,
                    make_error(map_kafka_error(message->err, "deliver to topic '" + std::string(topic) + "'",
                                               client_fatal(rk), possibly_persisted)));
      }
    } catch (...) {
      log::error("kafka delivery report could not be handed over (out of memory?)");
    }
    context.reset();
    self->outstanding_.fetch_sub(1);
  }

  void poll_loop() {
    while (!stop_.load()) {
      if (rd_kafka_poll(handle_.get(), 50) > 0) room_.notify_all();
    }
  }

  producer_options options_;
  mock_topic_creator topics_;
  handle_ptr handle_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> outstanding_{0};  // produced, report not yet handed over
  std::mutex room_mutex_;
  std::condition_variable room_;  // reports were served: queue room, maybe flushed
};

// ---------------------------------------------------------------------------------------------- consumer

class kafka_consumer final : public consumer {
 public:
  static result<std::unique_ptr<kafka_consumer>> create(const kafka_options& transport_options,
                                                        const consumer_options& options) {
    if (options.group_id.empty()) return make_error(errc::invalid_argument, "consumer_options.group_id is required");
    if (options.session_timeout.count() <= 0) {
      return make_error(errc::invalid_argument, "consumer_options.session_timeout must be positive");
    }
    if (options.commit_interval.count() <= 0) {
      return make_error(errc::invalid_argument, "consumer_options.commit_interval must be positive");
    }
    std::unique_ptr<kafka_consumer> self(new kafka_consumer(transport_options, options));
    const auto heartbeat = std::min<std::int64_t>(3000, std::max<std::int64_t>(1, options.session_timeout.count() / 3));
    conf_ptr conf = new_conf();
    const std::map<std::string, std::string> ours = {
        {"bootstrap.servers", transport_options.bootstrap_servers},
        {"client.id", options.client_id},
        {"group.id", options.group_id},
        // Offsets are stored by store_offset after processing; only stored offsets get auto-committed.
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", milliseconds_text(options.commit_interval)},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"auto.offset.reset", options.from_beginning ? "earliest" : "latest"},
        {"session.timeout.ms", milliseconds_text(options.session_timeout)},
        {"heartbeat.interval.ms", std::to_string(heartbeat)},
        {"enable.partition.eof", "false"},
    };
    for (const auto* properties : {&ours, &transport_options.properties, &options.properties}) {
      if (auto ok = set_properties(conf.get(), *properties); !ok) return make_error(ok.error());
    }
    rd_kafka_conf_set_opaque(conf.get(), self.get());
    rd_kafka_conf_set_rebalance_cb(conf.get(), &kafka_consumer::rebalance_trampoline);
    rd_kafka_conf_set_error_cb(conf.get(), &error_log_trampoline);
    auto handle = new_handle(RD_KAFKA_CONSUMER, std::move(conf), "kafka consumer");
    if (!handle) return make_error(handle.error());
    self->handle_ = std::move(*handle);
    // Errors, logs and rebalances are served by consumer poll on the caller's thread.
    rd_kafka_poll_set_consumer(self->handle_.get());
    return self;
  }

  ~kafka_consumer() override {
    close();
    store_list_.reset();  // it may hold partition references: release them before the client goes
    handle_.reset();
  }

  result<void> subscribe(const std::vector<std::string>& topics) override {
    if (closed_) return make_error(errc::closed, "subscribe on a closed kafka consumer");
    if (topics.empty()) return make_error(errc::invalid_argument, "subscribe: no topics given");
    for (const auto& t : topics) {
      if (auto ok = store::validate_topic_name(t); !ok) return make_error(ok.error());
    }
    for (const auto& t : topics) topics_.ensure(t);
    partition_list_ptr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
    for (const auto& t : topics) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(handle_.get(), list.get())) {
      return make_error(map_kafka_error(err, "subscribe", client_fatal(handle_.get())));
    }
    return {};
  }

  result<std::optional<record>> poll(std::chrono::milliseconds timeout) override {
    if (closed_) return make_error(errc::closed, "poll on a closed kafka consumer");
    // The clock is read once per call on the record path; again only when an error message means polling on.
    const auto deadline = steady::now() + timeout;
    auto remaining = std::max<std::int64_t>(0, timeout.count());
    for (;;) {
      // One message at a time: the batch APIs of 2.0.2 can lose messages around pause/seek/rebalance.
      message_ptr message(rd_kafka_consumer_poll(handle_.get(), static_cast<int>(remaining)));
      if (!message) return std::optional<record>{};
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return std::optional<record>{to_record(*message)};
      if (auto e = consumer_error(*message)) return make_error(std::move(*e));
      const auto now = steady::now();
      if (now >= deadline) return std::optional<record>{};
      remaining = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    }
  }

  result<void> store_offset(const record& rec) override {
    if (rec.offset < 0) {
      return make_error(errc::invalid_argument, "store_offset " + describe_partition(rec.topic, rec.partition) +
                                                    ": record has no offset");
    }
    // One list reused while records come from the same partition (they arrive in runs per partition): a
    // fresh list per record cost three allocations. librdkafka may cache the partition handle inside the
    // element, so a list is never reused for another partition, nor across a rebalance (see on_rebalance).
    if (!store_list_ || store_list_->elems[0].partition != rec.partition || rec.topic != store_list_->elems[0].topic) {
      store_list_.reset(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(store_list_.get(), rec.topic.c_str(), rec.partition);
    }
    auto& elem = store_list_->elems[0];
    elem.offset = rec.offset + 1;
    elem.err = RD_KAFKA_RESP_ERR_NO_ERROR;
    auto err = rd_kafka_offsets_store(handle_.get(), store_list_.get());
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && elem.err) err = elem.err;
    if (err == RD_KAFKA_RESP_ERR__STATE || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) {
      return make_error(errc::not_found, "store_offset " + describe_partition(rec.topic, rec.partition) +
                                             ": partition is not assigned to this member any more");
    }
    if (err) return make_error(map_kafka_error(err, "store_offset " + describe_partition(rec.topic, rec.partition)));
    return {};
  }

  result<void> commit() override {
    if (closed_) return make_error(errc::closed, "commit on a closed kafka consumer");
    return commit_stored("commit");
  }

  result<void> seek(const topic_partition& tp, std::int64_t offset) override {
    if (offset < 0) {
      return make_error(errc::invalid_argument, "seek " + describe_partition(tp.topic, tp.partition) + ": negative offset");
    }
    const auto assigned = assignment();
    if (std::find(assigned.begin(), assigned.end(), tp) == assigned.end()) {
      return make_error(errc::not_found, "seek " + describe_partition(tp.topic, tp.partition) +
                                             ": partition is not assigned to this member");
    }
    auto list = to_list({tp});
    list->elems[0].offset = offset;
    error_ptr err(rd_kafka_seek_partitions(handle_.get(), list.get(), static_cast<int>(metadata_timeout.count())));
    if (err) return make_error(map_kafka_error(err.get(), "seek " + describe_partition(tp.topic, tp.partition)));
    if (auto e = first_partition_error(list.get(), "seek")) return make_error(std::move(*e));
    return {};
  }

  result<void> pause(const std::vector<topic_partition>& partitions) override {
    auto list = to_list(partitions);
    if (auto err = rd_kafka_pause_partitions(handle_.get(), list.get())) return make_error(map_kafka_error(err, "pause"));
    if (auto e = first_partition_error(list.get(), "pause")) return make_error(std::move(*e));
    return {};
  }

  result<void> resume(const std::vector<topic_partition>& partitions) override {
    auto list = to_list(partitions);
    if (auto err = rd_kafka_resume_partitions(handle_.get(), list.get())) return make_error(map_kafka_error(err, "resume"));
    if (auto e = first_partition_error(list.get(), "resume")) return make_error(std::move(*e));
    return {};
  }

  std::vector<topic_partition> assignment() override {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(handle_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
    partition_list_ptr list(raw);
    auto out = from_list(list.get());
    std::sort(out.begin(), out.end());
    return out;
  }

  result<std::vector<partition_position>> positions() override {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (auto err = rd_kafka_assignment(handle_.get(), &raw)) return make_error(map_kafka_error(err, "assignment"));
    partition_list_ptr list(raw);
    // The position is what the application consumed (+1); the high watermark is librdkafka's cached copy from the
    // last fetch response: no broker round trip, at most one fetch stale.
    if (auto err = rd_kafka_position(handle_.get(), list.get())) return make_error(map_kafka_error(err, "position"));
    std::vector<partition_position> out;
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      std::int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(handle_.get(), e.topic, e.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        high = -1;
      }
      out.push_back({{e.topic, e.partition}, e.offset >= 0 ? e.offset : -1, high >= 0 ? high : -1});
    }
    return out;
  }

  result<std::int64_t> committed(const topic_partition& tp) override {
    auto list = to_list({tp});
    if (auto err = rd_kafka_committed(handle_.get(), list.get(), static_cast<int>(metadata_timeout.count()))) {
      return make_error(map_kafka_error(err, "committed offset of " + describe_partition(tp.topic, tp.partition),
                                        client_fatal(handle_.get())));
    }
    if (auto e = first_partition_error(list.get(), "committed offset of")) return make_error(std::move(*e));
    const auto offset = list->elems[0].offset;
    return offset >= 0 ? offset : std::int64_t{-1};
  }

  void close() override {
    std::lock_guard lock(close_mutex_);
    if (closed_ || !handle_) return;
    closed_ = true;
    // Runs the final revoke (our callback commits stored offsets) and leaves the group.
    if (auto err = rd_kafka_consumer_close(handle_.get())) {
      log::warn("kafka consumer close", {{"group", options_.group_id}, {"error", rd_kafka_err2name(err)}});
    }
  }

 private:
  kafka_consumer(const kafka_options& transport_options, consumer_options options)
      : options_(std::move(options)), topics_(transport_options) {}

  static record to_record(const rd_kafka_message_t& m) {
    record rec;
    rec.topic = rd_kafka_topic_name(m.rkt);
    rec.partition = m.partition;
    rec.offset = m.offset;
    rd_kafka_timestamp_type_t type;
    rec.timestamp_ms = rd_kafka_message_timestamp(&m, &type);
    if (m.key != nullptr) rec.key.assign(static_cast<const char*>(m.key), m.key_len);
    if (m.payload != nullptr) rec.value.assign(static_cast<const char*>(m.payload), m.len);
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
      rec.headers.reserve(rd_kafka_header_cnt(headers));  // one allocation instead of one per doubling
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        rec.headers.push_back({name, value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string()});
      }
    }
    return rec;
  }

  // Errors that end consumption are returned; the rest (a topic not there yet, a broker reconnecting,
  // end of partition) librdkafka recovers from by itself, so they are logged and polling goes on.
  std::optional<error> consumer_error(const rd_kafka_message_t& m) {
    if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return std::nullopt;
    const std::string where = m.rkt != nullptr ? describe_partition(rd_kafka_topic_name(m.rkt), m.partition) : "";
    error e = map_kafka_error(m.err, "consume " + where, client_fatal(handle_.get()));
    if (e.code == errc::fatal || e.code == errc::authorization_failed) {
      e.message += std::string(": ") + rd_kafka_message_errstr(&m);
      return e;
    }
    log::warn("kafka consumer error; continuing",
              {{"group", options_.group_id}, {"error", e.message}, {"reason", rd_kafka_message_errstr(&m)}});
    return std::nullopt;
  }

  result<void> commit_stored(std::string_view what) {
    // offsets = NULL commits the stored offsets of the current assignment (never the fetch positions).
    const auto err = rd_kafka_commit(handle_.get(), nullptr, 0);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return {};
    return make_error(map_kafka_error(err, std::string(what) + " of group '" + options_.group_id + "'",
                                      client_fatal(handle_.get())));
  }

  static void rebalance_trampoline(rd_kafka_t* /*rk*/, rd_kafka_resp_err_t err,
                                   rd_kafka_topic_partition_list_t* partitions, void* opaque) noexcept {
    auto* self = static_cast<kafka_consumer*>(opaque);
    try {
      self->on_rebalance(err, partitions);
    } catch (const std::exception& e) {
      log::error("rebalance handling threw; ignored", {{"what", e.what()}});
    } catch (...) {
      log::error("rebalance handling threw a non-exception; ignored");
    }
  }

  template <class F, class... Args>
  void call_listener(const F& f, std::string_view which, Args&&... args) noexcept {
    if (!f) return;
    try {
      f(std::forward<Args>(args)...);
    } catch (const std::exception& e) {
      log::error("rebalance listener threw; ignored", {{"listener", which}, {"what", e.what()}});
    } catch (...) {
      log::error("rebalance listener threw a non-exception; ignored", {{"listener", which}});
    }
  }

  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
    rd_kafka_t* rk = handle_.get();
    store_list_.reset();  // may reference a partition handle that is going away
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    const auto list = from_list(partitions);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      if (cooperative) {
        if (error_ptr e{rd_kafka_incremental_assign(rk, partitions)}) {
          log::error("incremental assign failed", {{"error", rd_kafka_error_string(e.get())}});
        }
      } else if (auto e = rd_kafka_assign(rk, partitions)) {
        log::error("assign failed", {{"error", rd_kafka_err2name(e)}});
      }
      // Partitions paused before an earlier revoke can come back paused (2.0.2): resume them explicitly.
      (void)rd_kafka_resume_partitions(rk, partitions);
      call_listener(options_.listener.on_assigned, "on_assigned", list);
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      const bool lost = rd_kafka_assignment_lost(rk) != 0;
      call_listener(options_.listener.on_revoked, "on_revoked", list, lost);
      // Lost partitions may already belong to someone else: committing for them could move their offset back.
      if (!lost) {
        if (auto ok = commit_stored("commit on revoke"); !ok) {
          log::warn("commit of revoked partitions failed", {{"group", options_.group_id}, {"error", ok.error().message}});
        }
      }
      if (cooperative) {
        if (error_ptr e{rd_kafka_incremental_unassign(rk, partitions)}) {
          log::error("incremental unassign failed", {{"error", rd_kafka_error_string(e.get())}});
        }
      } else {
        (void)rd_kafka_assign(rk, nullptr);
      }
      return;
    }
    log::error("rebalance error; dropping the assignment", {{"group", options_.group_id}, {"error", rd_kafka_err2name(err)}});
    (void)rd_kafka_assign(rk, nullptr);
  }

  consumer_options options_;
  mock_topic_creator topics_;
  handle_ptr handle_;
  partition_list_ptr store_list_;  // reused by store_offset
  std::mutex close_mutex_;
  std::atomic<bool> closed_{false};
};

// ---------------------------------------------------------------------------------------------- transport

class kafka_transport_impl final : public kafka_transport {
 public:
  explicit kafka_transport_impl(kafka_options options) : options_(std::move(options)) {}

  std::string_view kind() const noexcept override { return "kafka"; }

  transport_features features() const noexcept override {
    transport_features f;
    f.retention_by_age = false;  // brokers delete by segment, not per record: not observable in a test
    f.cross_process = true;
    f.creates_topics = true;
    return f;
  }

  result<std::unique_ptr<producer>> create_producer(const producer_options& options) override {
    return kafka_producer::create(options_, options).map([](auto p) { return std::unique_ptr<producer>(std::move(p)); });
  }

  result<std::unique_ptr<consumer>> create_consumer(const consumer_options& options) override {
    return kafka_consumer::create(options_, options).map([](auto c) { return std::unique_ptr<consumer>(std::move(c)); });
  }

  result<void> create_topic(const std::string& topic, std::int32_t partitions) override {
    if (auto ok = store::validate_topic_name(topic); !ok) return make_error(ok.error());
    if (partitions < 1 || partitions > 10000) {
      return make_error(errc::invalid_argument,
                        "create_topic " + topic + ": partitions must be 1..10000, got " + std::to_string(partitions));
    }
    // The mock cluster has no CreateTopics API; an in-process one is reached through its control API.
    if (auto err = create_topic_on_mock(options_.bootstrap_servers, topic, partitions)) {
      if (*err == RD_KAFKA_RESP_ERR_NO_ERROR || *err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
      return make_error(map_kafka_error(*err, "create topic '" + topic + "' on the mock cluster"));
    }
    std::lock_guard lock(admin_mutex_);
    auto admin = admin_handle();
    if (!admin) return make_error(admin.error());
    return create_topic_admin(*admin, topic, partitions);
  }

  std::string describe() const override { return options_.bootstrap_servers; }

 private:
  // Requires admin_mutex_. The admin client starts its threads on first use only.
  result<rd_kafka_t*> admin_handle() {
    if (admin_) return admin_.get();
    conf_ptr conf = new_conf();
    if (auto ok = set_property(conf.get(), "bootstrap.servers", options_.bootstrap_servers); !ok) return make_error(ok.error());
    if (auto ok = set_property(conf.get(), "client.id", "aw-events-admin"); !ok) return make_error(ok.error());
    if (auto ok = set_properties(conf.get(), options_.properties); !ok) return make_error(ok.error());
    rd_kafka_conf_set_error_cb(conf.get(), &error_log_trampoline);
    auto handle = new_handle(RD_KAFKA_PRODUCER, std::move(conf), "kafka admin client");
    if (!handle) return make_error(handle.error());
    admin_ = std::move(*handle);
    return admin_.get();
  }

  result<void> create_topic_admin(rd_kafka_t* rk, const std::string& topic, std::int32_t partitions) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (auto err = rd_kafka_metadata(rk, 0, nullptr, &raw, static_cast<int>(metadata_timeout.count()))) {
      return make_error(map_kafka_error(err, "create topic '" + topic + "': cluster metadata"));
    }
    metadata_ptr md(raw);
    const int replication = std::max(1, std::min<int>(options_.replication_factor, md->broker_cnt));
    std::array<char, 512> reason{};
    new_topic_ptr spec(rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, reason.data(), reason.size()));
    if (!spec) return make_error(errc::invalid_argument, "create topic '" + topic + "': " + std::string(reason.data()));
    // PITFALLS: brokers default min.insync.replicas to 1; with acks=all we want a write on two replicas.
    const std::string min_isr = std::to_string(std::min(2, replication));
    (void)rd_kafka_NewTopic_set_config(spec.get(), "min.insync.replicas", min_isr.c_str());
    admin_options_ptr admin_options(rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
    (void)rd_kafka_AdminOptions_set_operation_timeout(admin_options.get(), static_cast<int>(metadata_timeout.count()),
                                                      reason.data(), reason.size());
    queue_ptr queue(rd_kafka_queue_new(rk));
    rd_kafka_NewTopic_t* specs[] = {spec.get()};
    rd_kafka_CreateTopics(rk, specs, 1, admin_options.get(), queue.get());
    event_ptr event(rd_kafka_queue_poll(queue.get(), static_cast<int>(2 * metadata_timeout.count())));
    if (!event) return make_error(errc::timeout, "create topic '" + topic + "': no answer from the cluster");
    auto err = rd_kafka_event_error(event.get());
    std::string detail = rd_kafka_event_error_string(event.get()) != nullptr ? rd_kafka_event_error_string(event.get()) : "";
    if (!err) {
      size_t count = 0;
      const auto* results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
      if (count == 1) {
        err = rd_kafka_topic_result_error(results[0]);
        if (const char* s = rd_kafka_topic_result_error_string(results[0])) detail = s;
      }
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return {};
    error e = map_kafka_error(err, "create topic '" + topic + "'");
    if (!detail.empty()) e.message += ": " + detail;
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
      e.message += "; the cluster does not implement CreateTopics (a librdkafka mock cluster in another process?): "
                   "topics there are created on first produce with the mock's default partition count";
    }
    return make_error(std::move(e));
  }

  kafka_options options_;
  std::mutex admin_mutex_;
  handle_ptr admin_;
};

}  // namespace

result<std::shared_ptr<kafka_transport>> kafka_transport::open(kafka_options options) {
  if (auto ok = options.validate(); !ok) return make_error(ok.error());
  return std::shared_ptr<kafka_transport>(std::make_shared<kafka_transport_impl>(std::move(options)));
}

}  // namespace aw::events
