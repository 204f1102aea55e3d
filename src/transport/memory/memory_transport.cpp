// The memory transport: every topic is a vector of in-process logs guarded by one mutex. Consumer groups
// follow the same protocol as the embedded store (heartbeats, session expiry, deterministic round-robin
// split, hand-over only after the previous owner released), so tests of user code see realistic rebalances.
#include "aw/events/transport/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "aw/events/ids.hpp"
#include "store/log_rules.hpp"

namespace aw::events {
namespace {

using clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe_partition(const topic_partition& tp) { return tp.topic + "[" + std::to_string(tp.partition) + "]"; }

struct partition_log {
  std::deque<record> records;
  std::int64_t first_offset = 0;  // offset of records.front()
  [[nodiscard]] std::int64_t next_offset() const { return first_offset + static_cast<std::int64_t>(records.size()); }
};

struct topic_log {
  std::vector<partition_log> partitions;
  std::uint32_t round_robin = 0;
};

struct member_info {
  std::vector<std::string> topics;
  clock::time_point last_seen;
  std::chrono::milliseconds session_timeout;
};

struct group_state {
  std::map<std::string, member_info> members;
  std::map<topic_partition, std::string> owners;
  std::map<topic_partition, std::int64_t> committed;
};

// Everything the transport, its producers and consumers share. Consumers and producers keep it alive.
struct shared_state {
  explicit shared_state(memory_options o) : options(o) {}
  memory_options options;
  std::mutex mutex;
  std::condition_variable changed;  // new records, membership changes, released partitions
  std::map<std::string, topic_log> topics;
  std::map<std::string, group_state> groups;
  int fail_count = 0;
  errc fail_code = errc::broker_error;
  std::uint64_t next_member = 0;

  // Requires mutex held.
  topic_log& topic_locked(const std::string& name, std::int32_t partitions) {
    auto [it, inserted] = topics.try_emplace(name);
    if (inserted) it->second.partitions.resize(static_cast<std::size_t>(partitions));
    return it->second;
  }
};

class memory_producer final : public producer {
 public:
  memory_producer(std::shared_ptr<shared_state> state, producer_options options)
      : state_(std::move(state)), options_(std::move(options)), thread_([this] { run(); }) {}

  ~memory_producer() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void produce(record rec, delivery_handler on_delivery) override {
    auto report = append(std::move(rec));
    // Reports run on the producer's own thread, like a real client's, so a handler may take locks its caller holds.
    std::unique_lock lock(mutex_);
    if (!drained_.wait_for(lock, options_.enqueue_timeout, [&] { return pending_.size() < max_pending_; })) {
      lock.unlock();
      on_delivery(make_error(errc::queue_full, "memory producer: " + std::to_string(max_pending_) +
                                                   " delivery reports pending for longer than enqueue_timeout"));
      return;
    }
    pending_.emplace_back(std::move(on_delivery), std::move(report));
    wake_.notify_one();
  }

  result<void> flush(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    if (!drained_.wait_for(lock, timeout, [&] { return pending_.empty() && in_flight_ == 0; })) {
      return make_error(errc::timeout, "memory producer: flush timed out with " +
                                           std::to_string(pending_.size() + in_flight_) + " reports pending");
    }
    return {};
  }

  result<std::int32_t> partition_count(const std::string& topic) override {
    if (auto ok = store::validate_topic_name(topic); !ok) return make_error(ok.error());
    std::lock_guard lock(state_->mutex);
    return static_cast<std::int32_t>(
        state_->topic_locked(topic, state_->options.default_partitions).partitions.size());
  }

 private:
  result<delivery_report> append(record rec) {
    if (auto ok = store::validate_topic_name(rec.topic); !ok) return make_error(ok.error());
    std::lock_guard lock(state_->mutex);
    if (state_->fail_count > 0) {
      --state_->fail_count;
      return make_error(state_->fail_code, "memory transport: injected failure for a record to " + rec.topic);
    }
    auto& topic = state_->topic_locked(rec.topic, state_->options.default_partitions);
    const auto count = static_cast<std::int32_t>(topic.partitions.size());
    if (rec.partition < 0) {
      rec.partition = rec.key.empty() ? static_cast<std::int32_t>(topic.round_robin++ % static_cast<std::uint32_t>(count))
                                      : partition_for_key(rec.key, count);
    } else if (rec.partition >= count) {
      return make_error(errc::not_found, "memory transport: partition " + std::to_string(rec.partition) +
                                             " of topic " + rec.topic + " does not exist (" + std::to_string(count) +
                                             " partitions)");
    }
    auto& log = topic.partitions[static_cast<std::size_t>(rec.partition)];
    rec.offset = log.next_offset();
    if (rec.timestamp_ms == 0) rec.timestamp_ms = now_ms();
    delivery_report report{rec.topic, rec.partition, rec.offset};
    log.records.push_back(std::move(rec));
    state_->changed.notify_all();
    return report;
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and drained
      auto batch = std::move(pending_);
      pending_.clear();
      in_flight_ = batch.size();
      drained_.notify_all();
      lock.unlock();
      for (auto& [handler, report] : batch) {
        if (handler) handler(std::move(report));
      }
      lock.lock();
      in_flight_ = 0;
      drained_.notify_all();
    }
  }

  std::shared_ptr<shared_state> state_;
  producer_options options_;
  static constexpr std::size_t max_pending_ = 100000;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::deque<std::pair<delivery_handler, result<delivery_report>>> pending_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after every other member exists
};

class memory_consumer final : public consumer {
 public:
  memory_consumer(std::shared_ptr<shared_state> state, consumer_options options)
      : state_(std::move(state)), options_(std::move(options)) {
    std::lock_guard lock(state_->mutex);
    char id[32];
    std::snprintf(id, sizeof id, "%012llu", static_cast<unsigned long long>(state_->next_member++));
    member_id_ = options_.client_id + "-" + id;
  }

  ~memory_consumer() override { close(); }

  result<void> subscribe(const std::vector<std::string>& topics) override {
    if (closed_) return make_error(errc::closed, "memory consumer is closed");
    if (topics.empty()) return make_error(errc::invalid_argument, "subscribe: no topics given");
    for (const auto& t : topics) {
      if (auto ok = store::validate_topic_name(t); !ok) return make_error(ok.error());
    }
    std::lock_guard lock(state_->mutex);
    auto& group = state_->groups[options_.group_id];
    auto& me = group.members[member_id_];
    me.topics = topics;
    topics_ = topics;
    me.last_seen = clock::now();
    me.session_timeout = options_.session_timeout;
    subscribed_ = true;
    state_->changed.notify_all();
    return {};
  }

  result<std::optional<record>> poll(std::chrono::milliseconds timeout) override {
    if (closed_) return make_error(errc::closed, "memory consumer is closed");
    if (!subscribed_) return make_error(errc::invalid_argument, "poll before subscribe");
    const auto deadline = clock::now() + timeout;
    for (;;) {
      if (auto ok = rebalance(); !ok) return make_error(ok.error());
      maybe_auto_commit();
      std::unique_lock lock(state_->mutex);
      if (auto rec = next_locked()) return std::optional<record>(std::move(*rec));
      const auto now = clock::now();
      if (now >= deadline) return std::optional<record>();
      // Wake at least every 50 ms to heartbeat and take over partitions whose owner went away.
      state_->changed.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(50)));
    }
  }

  result<void> store_offset(const record& rec) override {
    const topic_partition tp{rec.topic, rec.partition};
    if (!owned_.contains(tp)) {
      return make_error(errc::not_found, "store_offset: partition " + describe_partition(tp) +
                                             " is not assigned to this consumer");
    }
    stored_[tp] = rec.offset + 1;
    return {};
  }

  result<void> commit() override {
    std::lock_guard lock(state_->mutex);
    commit_locked(owned_);
    return {};
  }

  result<void> seek(const topic_partition& tp, std::int64_t offset) override {
    if (!owned_.contains(tp)) {
      return make_error(errc::not_found, "seek: partition " + describe_partition(tp) + " is not assigned");
    }
    if (offset < 0) return make_error(errc::invalid_argument, "seek: negative offset " + std::to_string(offset));
    positions_[tp] = offset;
    return {};
  }

  result<void> pause(const std::vector<topic_partition>& partitions) override {
    return set_paused(partitions, true, "pause");
  }

  result<void> resume(const std::vector<topic_partition>& partitions) override {
    auto ok = set_paused(partitions, false, "resume");
    state_->changed.notify_all();
    return ok;
  }

  std::vector<topic_partition> assignment() override { return {owned_.begin(), owned_.end()}; }

  result<std::vector<partition_position>> positions() override {
    std::lock_guard lock(state_->mutex);
    std::vector<partition_position> out;
    for (const auto& tp : owned_) {
      const auto& log = state_->topics[tp.topic].partitions[static_cast<std::size_t>(tp.partition)];
      const auto at = positions_.find(tp);
      out.push_back({tp, at != positions_.end() ? std::max(at->second, log.first_offset) : -1, log.next_offset()});
    }
    return out;
  }

  result<std::int64_t> committed(const topic_partition& tp) override {
    std::lock_guard lock(state_->mutex);
    auto& group = state_->groups[options_.group_id];
    const auto it = group.committed.find(tp);
    return it == group.committed.end() ? -1 : it->second;
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (!owned_.empty() && options_.listener.on_revoked) {
      options_.listener.on_revoked(std::vector<topic_partition>(owned_.begin(), owned_.end()), false);
    }
    std::lock_guard lock(state_->mutex);
    commit_locked(owned_);
    auto& group = state_->groups[options_.group_id];
    for (const auto& tp : owned_) group.owners.erase(tp);
    group.members.erase(member_id_);
    owned_.clear();
    state_->changed.notify_all();
  }

 private:
  result<void> set_paused(const std::vector<topic_partition>& partitions, bool pause, const char* what) {
    std::string missing;
    for (const auto& tp : partitions) {
      if (!owned_.contains(tp)) {
        missing += (missing.empty() ? "" : ", ") + describe_partition(tp);
        continue;
      }
      if (pause) {
        paused_.insert(tp);
      } else {
        paused_.erase(tp);
      }
    }
    if (!missing.empty()) return make_error(errc::not_found, std::string(what) + ": not assigned: " + missing);
    return {};
  }

  // Requires the state mutex. Writes stored offsets of these partitions to the group.
  void commit_locked(const std::set<topic_partition>& partitions) {
    auto& group = state_->groups[options_.group_id];
    for (const auto& tp : partitions) {
      const auto it = stored_.find(tp);
      if (it != stored_.end()) group.committed[tp] = it->second;
    }
  }

  void maybe_auto_commit() {
    const auto now = clock::now();
    if (now - last_commit_ < options_.commit_interval) return;
    last_commit_ = now;
    std::lock_guard lock(state_->mutex);
    commit_locked(owned_);
  }

  void forget(const topic_partition& tp) {
    owned_.erase(tp);
    positions_.erase(tp);
    stored_.erase(tp);
    paused_.erase(tp);
  }

  // One round of the group protocol; listener callbacks run without the state mutex held.
  result<void> rebalance() {
    std::vector<topic_partition> revoke;
    bool lost = false;
    {
      std::lock_guard lock(state_->mutex);
      auto& group = state_->groups[options_.group_id];
      const auto now = clock::now();
      auto me = group.members.find(member_id_);
      if (me == group.members.end()) {
        // Expired by another member: whatever we held may already be processed elsewhere.
        lost = true;
        revoke.assign(owned_.begin(), owned_.end());
        group.members[member_id_] = member_info{topics_, now, options_.session_timeout};
      } else {
        me->second.last_seen = now;
      }
      for (auto it = group.members.begin(); it != group.members.end();) {
        if (now - it->second.last_seen > it->second.session_timeout) {
          for (auto o = group.owners.begin(); o != group.owners.end();) {
            o = o->second == it->first ? group.owners.erase(o) : std::next(o);
          }
          it = group.members.erase(it);
          state_->changed.notify_all();
        } else {
          ++it;
        }
      }
      if (!lost) {
        desired_ = desired_locked(group);
        for (const auto& tp : owned_) {
          if (!desired_.contains(tp)) revoke.push_back(tp);
        }
      }
    }
    if (!revoke.empty()) {
      if (options_.listener.on_revoked) options_.listener.on_revoked(revoke, lost);
      std::lock_guard lock(state_->mutex);
      auto& group = state_->groups[options_.group_id];
      if (!lost) commit_locked({revoke.begin(), revoke.end()});
      for (const auto& tp : revoke) {
        const auto o = group.owners.find(tp);
        if (o != group.owners.end() && o->second == member_id_) group.owners.erase(o);
        forget(tp);
      }
      state_->changed.notify_all();
      if (lost) desired_ = desired_locked(group);
    }
    std::vector<topic_partition> claimed;
    {
      std::lock_guard lock(state_->mutex);
      auto& group = state_->groups[options_.group_id];
      for (const auto& tp : desired_) {
        if (owned_.contains(tp)) continue;
        auto [it, inserted] = group.owners.try_emplace(tp, member_id_);
        if (!inserted && it->second != member_id_) continue;  // previous owner has not released it yet
        owned_.insert(tp);
        const auto c = group.committed.find(tp);
        const auto& log = state_->topics[tp.topic].partitions[static_cast<std::size_t>(tp.partition)];
        positions_[tp] = c != group.committed.end() ? c->second
                         : options_.from_beginning ? log.first_offset
                                                   : log.next_offset();
        claimed.push_back(tp);
      }
    }
    if (!claimed.empty() && options_.listener.on_assigned) options_.listener.on_assigned(claimed);
    return {};
  }

  std::set<topic_partition> desired_locked(const group_state& group) {
    std::set<topic_partition> desired;
    const auto me = group.members.find(member_id_);
    if (me == group.members.end()) return desired;
    for (const auto& topic : me->second.topics) {
      const auto t = state_->topics.find(topic);
      if (t == state_->topics.end()) continue;
      std::vector<std::string> members;
      for (const auto& [id, info] : group.members) {
        if (std::find(info.topics.begin(), info.topics.end(), topic) != info.topics.end()) members.push_back(id);
      }
      for (auto p : store::assigned_partitions(members, member_id_, static_cast<std::int32_t>(t->second.partitions.size()))) {
        desired.insert({topic, p});
      }
    }
    return desired;
  }

  // Requires the state mutex. Round-robin over owned, unpaused partitions so one busy partition does not
  // starve the others.
  std::optional<record> next_locked() {
    if (owned_.empty()) return std::nullopt;
    std::vector<topic_partition> order(owned_.begin(), owned_.end());
    const std::size_t n = order.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto& tp = order[(cursor_ + i) % n];
      if (paused_.contains(tp)) continue;
      auto& log = state_->topics[tp.topic].partitions[static_cast<std::size_t>(tp.partition)];
      auto& position = positions_[tp];
      if (position < log.first_offset) position = log.first_offset;
      if (position >= log.next_offset()) continue;
      record rec = log.records[static_cast<std::size_t>(position - log.first_offset)];
      ++position;
      cursor_ = (cursor_ + i + 1) % n;
      return rec;
    }
    return std::nullopt;
  }

  std::shared_ptr<shared_state> state_;
  consumer_options options_;
  std::string member_id_;
  std::vector<std::string> topics_;
  bool subscribed_ = false;
  bool closed_ = false;
  std::set<topic_partition> owned_;
  std::set<topic_partition> desired_;
  std::set<topic_partition> paused_;
  std::map<topic_partition, std::int64_t> positions_;
  std::map<topic_partition, std::int64_t> stored_;
  std::size_t cursor_ = 0;
  clock::time_point last_commit_ = clock::now();
};

class memory_transport_impl final : public memory_transport {
 public:
  explicit memory_transport_impl(memory_options options) : state_(std::make_shared<shared_state>(options)) {}

  std::string_view kind() const noexcept override { return "memory"; }
  transport_features features() const noexcept override {
    return transport_features{.retention_by_age = true, .cross_process = false, .creates_topics = true};
  }

  result<std::unique_ptr<producer>> create_producer(const producer_options& options) override {
    return std::unique_ptr<producer>(std::make_unique<memory_producer>(state_, options));
  }

  result<std::unique_ptr<consumer>> create_consumer(const consumer_options& options) override {
    if (options.group_id.empty()) return make_error(errc::invalid_argument, "consumer_options.group_id is required");
    if (options.session_timeout.count() <= 0) {
      return make_error(errc::invalid_argument, "consumer_options.session_timeout must be positive");
    }
    return std::unique_ptr<consumer>(std::make_unique<memory_consumer>(state_, options));
  }

  result<void> create_topic(const std::string& topic, std::int32_t partitions) override {
    if (auto ok = store::validate_topic_name(topic); !ok) return ok;
    if (partitions < 1 || partitions > 10000) {
      return make_error(errc::invalid_argument, "create_topic " + topic + ": partitions must be 1..10000, got " +
                                                    std::to_string(partitions));
    }
    std::lock_guard lock(state_->mutex);
    state_->topic_locked(topic, partitions);
    state_->changed.notify_all();
    return {};
  }

  std::string describe() const override { return "memory"; }

  void fail_next_produces(int count, errc code) override {
    std::lock_guard lock(state_->mutex);
    state_->fail_count = count;
    state_->fail_code = code;
  }

  void enforce_retention() override {
    const std::int64_t cutoff = now_ms() - state_->options.retention.count();
    std::lock_guard lock(state_->mutex);
    for (auto& [name, topic] : state_->topics) {
      for (auto& log : topic.partitions) {
        while (!log.records.empty() && log.records.front().timestamp_ms < cutoff) {
          log.records.pop_front();
          ++log.first_offset;
        }
      }
    }
  }

 private:
  std::shared_ptr<shared_state> state_;
};

}  // namespace

std::shared_ptr<memory_transport> memory_transport::create(memory_options options) {
  if (options.default_partitions < 1) options.default_partitions = 1;
  return std::make_shared<memory_transport_impl>(options);
}

}  // namespace aw::events
