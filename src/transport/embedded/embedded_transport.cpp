// The embedded durable log: one SQLite file in WAL mode (synchronous=NORMAL: a committed transaction
// survives a crash of the process, only an OS crash / power loss can lose the last ones), shared by
// several processes. Producers group-commit everything queued into one transaction; consumers form groups
// through heartbeat and ownership tables, so the same partition is never read by two live members.
#include "aw/events/transport/embedded.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "aw/events/ids.hpp"
#include "core/log.hpp"
#include "store/log_rules.hpp"
#include "store/sqlite.hpp"

namespace aw::events {
namespace {

using clock = std::chrono::steady_clock;
using store::connection;
using store::statement;
using store::transaction;

constexpr std::size_t fetch_batch = 1024;            // records read per partition per query
constexpr std::int64_t retention_chunk = 5000;       // rows deleted per transaction by the cleaner
constexpr std::chrono::seconds retention_period{60};  // background cleaner cadence

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string describe_partition(const topic_partition& tp) { return tp.topic + "[" + std::to_string(tp.partition) + "]"; }

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS topics(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, partitions INTEGER NOT NULL, retention_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS partitions(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
  PRIMARY KEY(topic_id, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL,
  key BLOB, value BLOB, headers BLOB);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_offset ON records(topic_id, partition, offset);
CREATE TABLE IF NOT EXISTS group_offsets(
  group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  PRIMARY KEY(group_id, topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_members(
  group_id TEXT NOT NULL, member_id TEXT NOT NULL, topics TEXT NOT NULL, heartbeat_ms INTEGER NOT NULL,
  session_timeout_ms INTEGER NOT NULL, PRIMARY KEY(group_id, member_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_owners(
  group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member_id TEXT NOT NULL,
  PRIMARY KEY(group_id, topic, partition)) WITHOUT ROWID;
)sql";

// Opens one connection with the settings every user of the file needs.
result<std::unique_ptr<connection>> open_connection(const embedded_options& options) {
  auto db = connection::open(options.path, options.busy_timeout);
  if (!db) return db;
  // journal_mode=WAL is persistent in the file; setting it again is a cheap no-op.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY",
                             "PRAGMA cache_size=-16384", "PRAGMA journal_size_limit=67108864",
                             "PRAGMA mmap_size=268435456"}) {
    if (auto ok = (*db)->exec(pragma); !ok) return make_error(ok.error());
  }
  return db;
}

// Wakes consumers of this process when a producer of this process commits; other processes are noticed
// through PRAGMA data_version. One per database file, shared by every transport opened on it.
struct commit_notifier {
  std::mutex mutex;
  std::condition_variable committed;
  std::uint64_t sequence = 0;

  void notify() {
    {
      std::lock_guard lock(mutex);
      ++sequence;
    }
    committed.notify_all();
  }
  std::uint64_t current() {
    std::lock_guard lock(mutex);
    return sequence;
  }
  // Waits until the sequence differs from seen or the timeout passes; returns the current sequence.
  std::uint64_t wait(std::uint64_t seen, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    committed.wait_for(lock, timeout, [&] { return sequence != seen; });
    return sequence;
  }
};

std::shared_ptr<commit_notifier> notifier_for(const std::string& path) {
  static std::mutex registry_mutex;
  static std::map<std::string, std::weak_ptr<commit_notifier>> registry;
  std::lock_guard lock(registry_mutex);
  auto& slot = registry[path];
  auto notifier = slot.lock();
  if (!notifier) {
    notifier = std::make_shared<commit_notifier>();
    slot = notifier;
  }
  return notifier;
}

struct topic_info {
  std::int64_t id = 0;
  std::int32_t partitions = 0;
};

// Inside a write transaction: the topic's id and partition count, creating it when missing.
result<topic_info> ensure_topic_in_transaction(connection& db, const std::string& name, std::int32_t partitions,
                                               std::int64_t retention_ms) {
  auto select = db.prepare("SELECT id, partitions FROM topics WHERE name = ?1");
  if (!select) return make_error(select.error());
  select->bind_text(1, name);
  auto row = select->step();
  if (!row) return make_error(row.error());
  if (*row) return topic_info{select->column_int64(0), static_cast<std::int32_t>(select->column_int64(1))};
  select->reset();
  auto insert = db.prepare("INSERT INTO topics(name, partitions, retention_ms) VALUES(?1, ?2, ?3)");
  if (!insert) return make_error(insert.error());
  insert->bind_text(1, name);
  insert->bind_int64(2, partitions);
  insert->bind_int64(3, retention_ms);
  if (auto ok = insert->run(); !ok) return make_error(ok.error());
  auto id = static_cast<std::int64_t>(0);
  auto last = db.prepare("SELECT id FROM topics WHERE name = ?1");
  if (!last) return make_error(last.error());
  last->bind_text(1, name);
  auto found = last->step();
  if (!found) return make_error(found.error());
  if (!*found) return make_error(errc::internal, db.path() + ": topic " + name + " vanished after insert");
  id = last->column_int64(0);
  last->reset();
  auto part = db.prepare("INSERT OR IGNORE INTO partitions(topic_id, partition, next_offset) VALUES(?1, ?2, 0)");
  if (!part) return make_error(part.error());
  for (std::int32_t p = 0; p < partitions; ++p) {
    part->bind_int64(1, id);
    part->bind_int64(2, p);
    if (auto ok = part->run(); !ok) return make_error(ok.error());
  }
  return topic_info{id, partitions};
}

// What every producer, consumer and the transport of one open store share.
class store_core {
 public:
  static result<std::shared_ptr<store_core>> open(embedded_options options) {
    std::error_code ec;
    const std::filesystem::path path(options.path);
    if (path.has_parent_path()) {
      std::filesystem::create_directories(path.parent_path(), ec);
      if (ec) {
        return make_error(errc::storage_error, options.path + ": cannot create directory " +
                                                   path.parent_path().string() + ": " + ec.message());
      }
    }
    auto db = open_connection(options);
    if (!db) return make_error(db.error());
    {
      auto tx = transaction::begin(**db, true);
      if (!tx) return make_error(tx.error());
      if (auto ok = (*db)->exec(schema_sql); !ok) return make_error(ok.error());
      if (auto ok = tx->commit(); !ok) return make_error(ok.error());
    }
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    auto core = std::shared_ptr<store_core>(new store_core(std::move(options), std::move(*db)));
    core->notifier_ = notifier_for(ec ? core->options_.path : canonical.string());
    return core;
  }

  const embedded_options& options() const { return options_; }
  commit_notifier& notifier() { return *notifier_; }

  result<topic_info> ensure_topic(const std::string& name, std::int32_t partitions) {
    if (auto ok = store::validate_topic_name(name); !ok) return make_error(ok.error());
    std::lock_guard lock(admin_mutex_);
    auto tx = transaction::begin(*admin_, true);
    if (!tx) return make_error(tx.error());
    auto info = ensure_topic_in_transaction(*admin_, name, partitions, options_.retention.count());
    if (!info) return info;
    if (auto ok = tx->commit(); !ok) return make_error(ok.error());
    return info;
  }

  result<std::pair<std::int64_t, std::int64_t>> offsets(const topic_partition& tp) {
    std::lock_guard lock(admin_mutex_);
    auto stmt = admin_->prepare(
        "SELECT p.next_offset, (SELECT MIN(offset) FROM records r WHERE r.topic_id = t.id AND r.partition = p.partition) "
        "FROM topics t JOIN partitions p ON p.topic_id = t.id WHERE t.name = ?1 AND p.partition = ?2");
    if (!stmt) return make_error(stmt.error());
    stmt->bind_text(1, tp.topic);
    stmt->bind_int64(2, tp.partition);
    auto row = stmt->step();
    if (!row) return make_error(row.error());
    if (!*row) return make_error(errc::not_found, options_.path + ": no partition " + describe_partition(tp));
    const std::int64_t next = stmt->column_int64(0);
    const std::int64_t first = stmt->column_is_null(1) ? next : stmt->column_int64(1);
    return std::pair{first, next};
  }

  result<std::int64_t> enforce_retention() {
    std::lock_guard lock(admin_mutex_);
    std::int64_t total = 0;
    for (;;) {
      auto deleted = delete_expired(*admin_, retention_chunk);
      if (!deleted) return deleted;
      total += *deleted;
      if (*deleted < retention_chunk) return total;
    }
  }

  // Deletes at most limit records older than their topic's retention, from the head of each partition
  // (as Kafka drops whole old segments), in one transaction. Returns how many went.
  static result<std::int64_t> delete_expired(connection& db, std::int64_t limit) {
    auto tx = transaction::begin(db, true);
    if (!tx) return make_error(tx.error());
    auto parts = db.prepare(
        "SELECT t.id, p.partition, t.retention_ms FROM topics t JOIN partitions p ON p.topic_id = t.id");
    auto first = db.prepare("SELECT MIN(offset) FROM records WHERE topic_id = ?1 AND partition = ?2");
    auto boundary = db.prepare(
        "SELECT offset FROM records WHERE topic_id = ?1 AND partition = ?2 AND offset >= ?3 AND timestamp_ms >= ?4 "
        "ORDER BY offset LIMIT 1");
    auto last = db.prepare("SELECT MAX(offset) FROM records WHERE topic_id = ?1 AND partition = ?2");
    auto remove = db.prepare("DELETE FROM records WHERE topic_id = ?1 AND partition = ?2 AND offset < ?3");
    for (auto* s : {&parts, &first, &boundary, &last, &remove}) {
      if (!*s) return make_error(s->error());
    }
    struct target {
      std::int64_t topic_id, partition, retention_ms;
    };
    std::vector<target> targets;
    for (;;) {
      auto row = parts->step();
      if (!row) return make_error(row.error());
      if (!*row) break;
      targets.push_back({parts->column_int64(0), parts->column_int64(1), parts->column_int64(2)});
    }
    parts->reset();
    const std::int64_t now = now_ms();
    std::int64_t deleted = 0;
    for (const auto& t : targets) {
      if (deleted >= limit) break;
      first->bind_int64(1, t.topic_id);
      first->bind_int64(2, t.partition);
      auto row = first->step();
      if (!row) return make_error(row.error());
      const bool empty = !*row || first->column_is_null(0);
      const std::int64_t head = empty ? 0 : first->column_int64(0);
      first->reset();
      if (empty) continue;
      // Only look `limit` records ahead so one call never scans a huge backlog.
      const std::int64_t budget = limit - deleted;
      boundary->bind_int64(1, t.topic_id);
      boundary->bind_int64(2, t.partition);
      boundary->bind_int64(3, head);
      boundary->bind_int64(4, now - t.retention_ms);
      row = boundary->step();
      if (!row) return make_error(row.error());
      std::int64_t end = 0;
      if (*row) {
        end = boundary->column_int64(0);
      } else {
        last->bind_int64(1, t.topic_id);
        last->bind_int64(2, t.partition);
        auto l = last->step();
        if (!l) return make_error(l.error());
        end = last->column_int64(0) + 1;
        last->reset();
      }
      boundary->reset();
      end = std::min(end, head + budget);
      if (end <= head) continue;
      remove->bind_int64(1, t.topic_id);
      remove->bind_int64(2, t.partition);
      remove->bind_int64(3, end);
      if (auto ok = remove->run(); !ok) return make_error(ok.error());
      deleted += db.changes();
    }
    if (auto ok = tx->commit(); !ok) return make_error(ok.error());
    return deleted;
  }

 private:
  store_core(embedded_options options, std::unique_ptr<connection> admin)
      : options_(std::move(options)), admin_(std::move(admin)) {}

  embedded_options options_;
  std::shared_ptr<commit_notifier> notifier_;
  std::mutex admin_mutex_;  // guards admin_
  std::unique_ptr<connection> admin_;
};

// ---------------------------------------------------------------------------------------------- producer

// Three threads per producer, so that the one doing SQLite inserts never waits for anything else:
// - the writer group-commits whatever is queued (one transaction per batch);
// - the deliverer runs the delivery handlers of committed batches and frees their records;
// - the checkpointer copies the WAL back into the database file (PASSIVE, concurrently with the writer),
//   instead of the writer stalling for it inside every n-th commit as SQLite's auto-checkpoint would.
class embedded_producer final : public producer {
 public:
  static result<std::unique_ptr<producer>> create(std::shared_ptr<store_core> core, producer_options options) {
    auto db = open_connection(core->options());
    if (!db) return make_error(db.error());
    auto checkpoint_db = open_connection(core->options());
    if (!checkpoint_db) return make_error(checkpoint_db.error());
    auto insert = (*db)->prepare(
        "INSERT INTO records(topic_id, partition, offset, timestamp_ms, key, value, headers) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert) return make_error(insert.error());
    auto read_next = (*db)->prepare("SELECT next_offset FROM partitions WHERE topic_id = ?1 AND partition = ?2");
    if (!read_next) return make_error(read_next.error());
    auto write_next = (*db)->prepare("UPDATE partitions SET next_offset = ?3 WHERE topic_id = ?1 AND partition = ?2");
    if (!write_next) return make_error(write_next.error());
    return std::unique_ptr<producer>(new embedded_producer(std::move(core), std::move(options), std::move(*db),
                                                           std::move(*checkpoint_db), std::move(*insert),
                                                           std::move(*read_next), std::move(*write_next)));
  }

  ~embedded_producer() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_.notify_all();
    writer_.join();  // the writer drains the queue first: every record gets its report
    {
      std::lock_guard lock(mutex_);
      deliverer_stopping_ = true;
    }
    delivered_work_.notify_all();
    deliverer_.join();  // runs the reports of the last batches
    {
      std::lock_guard lock(checkpoint_mutex_);
      checkpoint_stopping_ = true;
    }
    checkpoint_wanted_.notify_all();
    checkpointer_.join();
    sqlite3_wal_hook(db_->handle(), nullptr, nullptr);
  }

  void produce(record rec, delivery_handler on_delivery) override {
    if (auto ok = store::validate_topic_name(rec.topic); !ok) {
      on_delivery(make_error(ok.error()));
      return;
    }
    if (rec.partition < -1) {
      on_delivery(make_error(errc::invalid_argument, "produce to " + rec.topic + ": negative partition " +
                                                         std::to_string(rec.partition)));
      return;
    }
    std::unique_lock lock(mutex_);
    const std::size_t bound = core_->options().max_queued;
    if (queue_.size() >= bound &&
        !space_.wait_for(lock, options_.enqueue_timeout, [&] { return queue_.size() < bound; })) {
      lock.unlock();
      on_delivery(make_error(errc::queue_full, core_->options().path + ": producer queue full (" +
                                                   std::to_string(bound) + " records waiting for the writer)"));
      return;
    }
    queue_.push_back(pending{std::move(rec), std::move(on_delivery), {}});
    if (!writer_busy_) work_.notify_one();
  }

  result<void> flush(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    if (!drained_.wait_for(lock, timeout, [&] { return queue_.empty() && in_flight_ == 0; })) {
      return make_error(errc::timeout, core_->options().path + ": flush timed out with " +
                                           std::to_string(queue_.size() + in_flight_) + " records unacknowledged");
    }
    return {};
  }

  result<std::int32_t> partition_count(const std::string& topic) override {
    return core_->ensure_topic(topic, core_->options().default_partitions).map([](topic_info t) {
      return t.partitions;
    });
  }

 private:
  struct pending {
    record rec;
    delivery_handler handler;
    std::optional<error> failure;
  };

  // WAL size (pages) at which the checkpointer is woken, and the size at which the writer checkpoints
  // itself because the checkpointer has fallen behind (keeps the WAL file bounded under any load).
  static constexpr int checkpoint_pages = 2000;
  static constexpr int writer_checkpoint_pages = 32000;

  embedded_producer(std::shared_ptr<store_core> core, producer_options options, std::unique_ptr<connection> db,
                    std::unique_ptr<connection> checkpoint_db, statement insert, statement read_next,
                    statement write_next)
      : core_(std::move(core)),
        options_(std::move(options)),
        db_(std::move(db)),
        checkpoint_db_(std::move(checkpoint_db)),
        insert_(std::move(insert)),
        read_next_(std::move(read_next)),
        write_next_(std::move(write_next)),
        checkpointer_([this] { run_checkpoints(); }),
        deliverer_([this] { run_deliveries(); }),
        writer_([this] { run(); }) {
    // Replaces SQLite's auto-checkpoint on the writer's connection (a WAL hook and auto-checkpoint are
    // exclusive); the other connections of the file keep theirs, so a WAL left by a dead process is
    // still checkpointed by whoever writes next.
    sqlite3_wal_hook(db_->handle(), &embedded_producer::wal_hook, this);
  }

  // Runs on the writer thread at the end of each commit.
  static int wal_hook(void* self_ptr, sqlite3* db, const char* schema, int pages) {
    auto* self = static_cast<embedded_producer*>(self_ptr);
    if (pages >= writer_checkpoint_pages) {
      // A PASSIVE checkpoint never waits: if the checkpointer is at it right now this returns at once.
      (void)sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= checkpoint_pages) {
      {
        std::lock_guard lock(self->checkpoint_mutex_);
        self->checkpoint_requested_ = true;
      }
      self->checkpoint_wanted_.notify_one();
    }
    return SQLITE_OK;
  }

  void run_checkpoints() {
    std::unique_lock lock(checkpoint_mutex_);
    for (;;) {
      checkpoint_wanted_.wait(lock, [&] { return checkpoint_stopping_ || checkpoint_requested_; });
      if (checkpoint_stopping_) return;
      checkpoint_requested_ = false;
      lock.unlock();
      const int rc = sqlite3_wal_checkpoint_v2(checkpoint_db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                               nullptr);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
        log::warn("embedded store checkpoint failed",
                  {{"path", core_->options().path}, {"error", sqlite3_errstr(rc)}});
      }
      lock.lock();
    }
  }

  void run() {
    std::vector<pending> batch;
    auto next_retention = clock::now() + retention_period;
    std::unique_lock lock(mutex_);
    // Records written but not yet reported are bounded like the queue: when the deliverer falls behind, the
    // writer waits for it (and producers then for the writer) instead of piling up committed batches.
    const std::size_t bound = core_->options().max_queued;
    const auto ready = [&] { return !queue_.empty() && in_flight_ < bound; };
    for (;;) {
      writer_busy_ = false;
      work_.wait_until(lock, next_retention, [&] { return (stopping_ && queue_.empty()) || ready(); });
      if (!ready()) {
        if (stopping_ && queue_.empty()) return;
        if (clock::now() >= next_retention) {
          lock.unlock();
          next_retention = clean_some();
          lock.lock();
        }
        continue;
      }
      writer_busy_ = true;
      const std::size_t take = std::min(queue_.size(), core_->options().max_batch);
      if (!spare_batches_.empty()) {
        batch = std::move(spare_batches_.back());
        spare_batches_.pop_back();
      }
      batch.reserve(take);
      for (std::size_t i = 0; i < take; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ += take;
      lock.unlock();
      space_.notify_all();
      write_batch(batch);
      lock.lock();
      committed_.push_back(std::move(batch));
      batch = std::vector<pending>();
      delivered_work_.notify_one();
      if (clock::now() >= next_retention && !stopping_) {
        lock.unlock();
        next_retention = clean_some();
        lock.lock();
      }
    }
  }

  // Reports committed batches in commit order, then frees their records, off the writer's thread.
  void run_deliveries() {
    std::unique_lock lock(mutex_);
    for (;;) {
      delivered_work_.wait(lock, [&] { return deliverer_stopping_ || !committed_.empty(); });
      if (committed_.empty()) return;  // stopping, and the writer (joined first) left nothing behind
      auto batch = std::move(committed_.front());
      committed_.pop_front();
      lock.unlock();
      for (auto& item : batch) deliver(item);
      const std::size_t n = batch.size();
      batch.clear();
      lock.lock();
      if (spare_batches_.size() < 2) spare_batches_.push_back(std::move(batch));
      in_flight_ -= n;
      work_.notify_one();  // the writer may be waiting for reports to catch up
      drained_.notify_all();
    }
  }

  // One chunk of the background cleaner; returns when to run again (soon while a backlog remains).
  clock::time_point clean_some() {
    auto deleted = store_core::delete_expired(*db_, retention_chunk);
    if (!deleted) {
      log::warn("embedded store retention failed", {{"error", deleted.error().describe()}});
      return clock::now() + retention_period;
    }
    return *deleted >= retention_chunk ? clock::now() + std::chrono::milliseconds(100) : clock::now() + retention_period;
  }

  static void deliver(pending& item) {
    if (!item.handler) return;
    try {
      if (item.failure) {
        item.handler(make_error(std::move(*item.failure)));
      } else {
        item.handler(delivery_report{item.rec.topic, item.rec.partition, item.rec.offset});
      }
    } catch (const std::exception& e) {
      log::error("delivery handler threw; exception dropped", {{"what", e.what()}});
    } catch (...) {
      log::error("delivery handler threw a non-standard exception; dropped");
    }
  }

  result<topic_info> topic_in_transaction(const std::string& name) {
    const auto it = topics_.find(name);
    if (it != topics_.end()) return it->second;
    auto info = ensure_topic_in_transaction(*db_, name, core_->options().default_partitions,
                                            core_->options().retention.count());
    // Topics are never dropped, so the id and partition count stay valid once read (even when this
    // transaction rolls back after creating it, the next batch simply creates it again with the same count).
    if (info) topics_.emplace(name, *info);
    return info;
  }

  void fail_all(std::vector<pending>& batch, const error& e) {
    for (auto& item : batch) {
      if (!item.failure) item.failure = e;
    }
    topics_.clear();  // a rolled-back transaction may have created a topic that no longer exists
  }

  void write_batch(std::vector<pending>& batch) {
    auto tx = transaction::begin(*db_, true);
    if (!tx) return fail_all(batch, tx.error());
    next_offsets_.clear();
    const std::int64_t now = now_ms();
    for (auto& item : batch) {
      auto& rec = item.rec;
      auto topic = topic_in_transaction(rec.topic);
      if (!topic) return fail_all(batch, topic.error());
      if (rec.partition < 0) {
        rec.partition = rec.key.empty()
                            ? static_cast<std::int32_t>(round_robin_++ % static_cast<std::uint32_t>(topic->partitions))
                            : partition_for_key(rec.key, topic->partitions);
      } else if (rec.partition >= topic->partitions) {
        item.failure = error{errc::not_found,
                             core_->options().path + ": partition " + std::to_string(rec.partition) + " of topic " +
                                 rec.topic + " does not exist (" + std::to_string(topic->partitions) + " partitions)",
                             false,
                             {}};
        continue;
      }
      const std::uint64_t slot = (static_cast<std::uint64_t>(topic->id) << 32) | static_cast<std::uint32_t>(rec.partition);
      auto [next, inserted] = next_offsets_.try_emplace(slot, 0);
      if (inserted) {
        // Re-read inside the write transaction: producers of other processes append to the same partitions.
        read_next_.bind_int64(1, topic->id);
        read_next_.bind_int64(2, rec.partition);
        auto row = read_next_.step();
        if (!row) return fail_all(batch, row.error());
        if (!*row) {
          read_next_.reset();
          return fail_all(batch, error{errc::storage_error,
                                       core_->options().path + ": partitions row missing for " + rec.topic + "[" +
                                           std::to_string(rec.partition) + "]",
                                       true,
                                       {}});
        }
        next->second = read_next_.column_int64(0);
        read_next_.reset();
      }
      rec.offset = next->second++;
      if (rec.timestamp_ms == 0) rec.timestamp_ms = now;
      store::encode_headers(rec.headers, header_buffer_);
      // SQLITE_STATIC: rec and header_buffer_ outlive the step; reset() below unbinds them.
      insert_.bind_int64(1, topic->id);
      insert_.bind_int64(2, rec.partition);
      insert_.bind_int64(3, rec.offset);
      insert_.bind_int64(4, rec.timestamp_ms);
      insert_.bind_blob(5, rec.key, false);
      insert_.bind_blob(6, rec.value, false);
      if (header_buffer_.empty()) {
        insert_.bind_null(7);
      } else {
        insert_.bind_blob(7, header_buffer_, false);
      }
      auto done = insert_.step();
      insert_.reset();
      if (!done) return fail_all(batch, done.error());
    }
    for (const auto& [slot, next] : next_offsets_) {
      write_next_.bind_int64(1, static_cast<std::int64_t>(slot >> 32));
      write_next_.bind_int64(2, static_cast<std::int64_t>(slot & 0xffffffffu));
      write_next_.bind_int64(3, next);
      if (auto ok = write_next_.run(); !ok) return fail_all(batch, ok.error());
    }
    if (auto ok = tx->commit(); !ok) return fail_all(batch, ok.error());
    core_->notifier().notify();
  }

  std::shared_ptr<store_core> core_;
  producer_options options_;
  std::unique_ptr<connection> db_;  // used by the writer thread only
  std::unique_ptr<connection> checkpoint_db_;  // used by the checkpointer thread only
  statement insert_;
  statement read_next_;
  statement write_next_;
  std::unordered_map<std::string, topic_info> topics_;          // writer thread only
  std::unordered_map<std::uint64_t, std::int64_t> next_offsets_;  // writer thread only, per transaction
  std::string header_buffer_;                                   // writer thread only
  std::uint32_t round_robin_ = 0;                               // writer thread only

  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wanted_;
  bool checkpoint_requested_ = false;
  bool checkpoint_stopping_ = false;

  std::mutex mutex_;
  std::condition_variable work_;            // writer: records queued or stopping
  std::condition_variable space_;           // producers: room in the queue
  std::condition_variable drained_;         // flush: queue empty and nothing in flight
  std::condition_variable delivered_work_;  // deliverer: a committed batch waits, or stopping
  std::deque<pending> queue_;
  std::deque<std::vector<pending>> committed_;   // written (or failed), reports not yet run
  std::vector<std::vector<pending>> spare_batches_;  // emptied batches, reused for their capacity
  std::size_t in_flight_ = 0;  // taken by the writer, not yet reported
  bool writer_busy_ = false;
  bool stopping_ = false;
  bool deliverer_stopping_ = false;
  // Last: they start after every other member exists.
  std::thread checkpointer_;
  std::thread deliverer_;
  std::thread writer_;
};

// ---------------------------------------------------------------------------------------------- consumer

std::string new_member_id(const std::string& client_id) {
  static std::atomic<std::uint64_t> counter{0};
  std::random_device random;
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "-%d-%llu-%08x", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(counter++), random());
  return client_id + suffix;
}

std::string join_topics(const std::vector<std::string>& topics) {
  std::string out;
  for (const auto& t : topics) {
    if (!out.empty()) out += ',';
    out += t;  // topic names cannot contain ','
  }
  return out;
}

std::vector<std::string> split_topics(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

class embedded_consumer final : public consumer {
 public:
  static result<std::unique_ptr<consumer>> create(std::shared_ptr<store_core> core, consumer_options options) {
    auto db = open_connection(core->options());
    if (!db) return make_error(db.error());
    auto fetch = (*db)->prepare(
        "SELECT offset, timestamp_ms, key, value, headers FROM records "
        "WHERE topic_id = ?1 AND partition = ?2 AND offset >= ?3 ORDER BY offset LIMIT ?4");
    if (!fetch) return make_error(fetch.error());
    return std::unique_ptr<consumer>(
        new embedded_consumer(std::move(core), std::move(options), std::move(*db), std::move(*fetch)));
  }

  ~embedded_consumer() override { close(); }

  result<void> subscribe(const std::vector<std::string>& topics) override {
    if (closed_) return make_error(errc::closed, "embedded consumer is closed");
    if (topics.empty()) return make_error(errc::invalid_argument, "subscribe: no topics given");
    for (const auto& t : topics) {
      if (auto ok = store::validate_topic_name(t); !ok) return make_error(ok.error());
    }
    topics_ = topics;
    std::sort(topics_.begin(), topics_.end());
    topics_.erase(std::unique(topics_.begin(), topics_.end()), topics_.end());
    next_heartbeat_ = clock::time_point{};  // rebalance at the next poll
    return {};
  }

  result<std::optional<record>> poll(std::chrono::milliseconds timeout) override {
    if (closed_) return make_error(errc::closed, "embedded consumer is closed");
    if (topics_.empty()) return make_error(errc::invalid_argument, "poll before subscribe");
    const auto deadline = clock::now() + timeout;
    for (;;) {
      auto now = clock::now();
      if (now >= next_heartbeat_) {
        next_heartbeat_ = now + heartbeat_interval_;
        if (auto ok = rebalance(); !ok) return make_error(ok.error());
      }
      if (now - last_commit_ >= options_.commit_interval) {
        last_commit_ = now;
        if (auto ok = commit(); !ok) return make_error(ok.error());
      }
      if (auto rec = take_buffered()) return rec;
      // Buffers are empty: read again only when something may have changed, so an idle consumer costs one
      // PRAGMA per poll_interval.
      auto version = db_->data_version();
      if (!version) return make_error(version.error());
      const auto sequence = core_->notifier().current();
      if (refetch_ || *version != seen_version_ || sequence != seen_sequence_) {
        seen_version_ = *version;
        seen_sequence_ = sequence;
        auto fetched = fetch();
        if (!fetched) return make_error(fetched.error());
        if (auto rec = take_buffered()) return rec;
        continue;  // may have fetched for paused partitions only: re-check the deadline below next round
      }
      now = clock::now();
      if (now >= deadline) return std::optional<record>();
      const auto wait = std::min({std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                                  std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat_ - now),
                                  core_->options().poll_interval});
      core_->notifier().wait(seen_sequence_, std::max(wait, std::chrono::milliseconds(0)));
    }
  }

  result<void> store_offset(const record& rec) override {
    auto* state = find({rec.topic, rec.partition});
    if (state == nullptr) {
      return make_error(errc::not_found, "store_offset: partition " + describe_partition({rec.topic, rec.partition}) +
                                             " is not assigned to this consumer");
    }
    state->stored = rec.offset + 1;
    return {};
  }

  result<void> commit() override {
    std::vector<partition_state*> dirty;
    for (auto& p : owned_) {
      if (p.stored >= 0 && p.stored != p.committed) dirty.push_back(&p);
    }
    if (dirty.empty()) return {};
    auto tx = transaction::begin(*db_, true);
    if (!tx) return make_error(tx.error());
    if (auto ok = write_offsets(dirty); !ok) return ok;
    if (auto ok = tx->commit(); !ok) return ok;
    for (auto* p : dirty) p->committed = p->stored;
    return {};
  }

  result<void> seek(const topic_partition& tp, std::int64_t offset) override {
    auto* state = find(tp);
    if (state == nullptr) return make_error(errc::not_found, "seek: partition " + describe_partition(tp) + " is not assigned");
    if (offset < 0) return make_error(errc::invalid_argument, "seek " + describe_partition(tp) + ": negative offset");
    state->buffer.clear();
    state->fetch_position = offset;
    refetch_ = true;
    return {};
  }

  result<void> pause(const std::vector<topic_partition>& partitions) override {
    return set_paused(partitions, true, "pause");
  }
  result<void> resume(const std::vector<topic_partition>& partitions) override {
    return set_paused(partitions, false, "resume");
  }

  std::vector<topic_partition> assignment() override {
    std::vector<topic_partition> out;
    for (const auto& p : owned_) out.push_back(p.tp);
    return out;
  }

  result<std::vector<partition_position>> positions() override {
    auto end = db_->prepare("SELECT next_offset FROM partitions WHERE topic_id = ?1 AND partition = ?2");
    if (!end) return make_error(end.error());
    std::vector<partition_position> out;
    for (const auto& p : owned_) {
      end->bind_int64(1, p.topic_id);
      end->bind_int64(2, p.tp.partition);
      auto row = end->step();
      if (!row) return make_error(row.error());
      const std::int64_t end_offset = *row ? end->column_int64(0) : -1;
      end->reset();
      // Buffered records were read from the file but not handed out yet: the position is the first of them.
      out.push_back({p.tp, p.buffer.empty() ? p.fetch_position : p.buffer.front().offset, end_offset});
    }
    return out;
  }

  result<std::int64_t> committed(const topic_partition& tp) override {
    auto stmt = db_->prepare("SELECT offset FROM group_offsets WHERE group_id = ?1 AND topic = ?2 AND partition = ?3");
    if (!stmt) return make_error(stmt.error());
    stmt->bind_text(1, options_.group_id);
    stmt->bind_text(2, tp.topic);
    stmt->bind_int64(3, tp.partition);
    auto row = stmt->step();
    if (!row) return make_error(row.error());
    return *row ? stmt->column_int64(0) : std::int64_t{-1};
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (!owned_.empty() && options_.listener.on_revoked) options_.listener.on_revoked(assignment(), false);
    auto left = leave();
    if (!left) log::warn("embedded consumer: leaving the group failed", {{"error", left.error().describe()}});
    owned_.clear();
  }

 private:
  struct partition_state {
    topic_partition tp;
    std::int64_t topic_id = 0;
    std::int64_t fetch_position = 0;  // next offset to read from the file
    std::int64_t stored = -1;         // committable position (-1: nothing stored)
    std::int64_t committed = -1;      // what this member last committed
    bool paused = false;
    std::deque<record> buffer;
  };

  embedded_consumer(std::shared_ptr<store_core> core, consumer_options options, std::unique_ptr<connection> db,
                    statement fetch)
      : core_(std::move(core)),
        options_(std::move(options)),
        db_(std::move(db)),
        fetch_(std::move(fetch)),
        member_id_(new_member_id(options_.client_id)),
        heartbeat_interval_(std::clamp(options_.session_timeout / 4, std::chrono::milliseconds(10),
                                       std::chrono::milliseconds(150))) {}

  partition_state* find(const topic_partition& tp) {
    for (auto& p : owned_) {
      if (p.tp == tp) return &p;
    }
    return nullptr;
  }

  result<void> set_paused(const std::vector<topic_partition>& partitions, bool pause, const char* what) {
    std::string missing;
    for (const auto& tp : partitions) {
      auto* state = find(tp);
      if (state == nullptr) {
        missing += (missing.empty() ? "" : ", ") + describe_partition(tp);
        continue;
      }
      state->paused = pause;
    }
    if (!pause) refetch_ = true;
    if (!missing.empty()) return make_error(errc::not_found, std::string(what) + ": not assigned: " + missing);
    return {};
  }

  std::optional<record> take_buffered() {
    const std::size_t n = owned_.size();
    for (std::size_t i = 0; i < n; ++i) {
      auto& p = owned_[(cursor_ + i) % n];
      if (p.paused || p.buffer.empty()) continue;
      cursor_ = (cursor_ + i) % n;
      record rec = std::move(p.buffer.front());
      p.buffer.pop_front();
      if (p.buffer.empty()) cursor_ = (cursor_ + 1) % n;  // next partition gets its turn
      return rec;
    }
    return std::nullopt;
  }

  result<void> fetch() {
    refetch_ = false;
    std::vector<header> headers;
    for (auto& p : owned_) {
      if (p.paused || !p.buffer.empty()) continue;
      fetch_.bind_int64(1, p.topic_id);
      fetch_.bind_int64(2, p.tp.partition);
      fetch_.bind_int64(3, p.fetch_position);
      fetch_.bind_int64(4, static_cast<std::int64_t>(fetch_batch));
      for (;;) {
        auto row = fetch_.step();
        if (!row) {
          fetch_.reset();
          return make_error(row.error());
        }
        if (!*row) break;
        record rec;
        rec.topic = p.tp.topic;
        rec.partition = p.tp.partition;
        rec.offset = fetch_.column_int64(0);
        rec.timestamp_ms = fetch_.column_int64(1);
        rec.key = fetch_.column_blob(2);
        rec.value = fetch_.column_blob(3);
        const auto header_blob = fetch_.column_blob(4);
        // Events carry six standard headers: one allocation instead of one per doubling of the vector.
        if (!header_blob.empty()) rec.headers.reserve(8);
        if (auto ok = store::decode_headers(header_blob, rec.headers); !ok) {
          fetch_.reset();
          return make_error(errc::storage_error, core_->options().path + ": record " + describe_partition(p.tp) + "@" +
                                                     std::to_string(rec.offset) + ": " + ok.error().message);
        }
        p.fetch_position = rec.offset + 1;
        p.buffer.push_back(std::move(rec));
      }
      fetch_.reset();
      if (p.buffer.size() >= fetch_batch) refetch_ = true;  // more may be waiting
    }
    return {};
  }

  // Requires a write transaction. Commits only partitions this member still owns in the file, so a member
  // that was expired (a zombie) cannot overwrite its successor's progress.
  result<void> write_offsets(const std::vector<partition_state*>& partitions) {
    auto stmt = db_->prepare(
        "INSERT INTO group_offsets(group_id, topic, partition, offset) "
        "SELECT ?1, ?2, ?3, ?4 WHERE EXISTS(SELECT 1 FROM group_owners WHERE group_id = ?1 AND topic = ?2 "
        "AND partition = ?3 AND member_id = ?5) "
        "ON CONFLICT(group_id, topic, partition) DO UPDATE SET offset = excluded.offset");
    if (!stmt) return make_error(stmt.error());
    for (auto* p : partitions) {
      stmt->bind_text(1, options_.group_id);
      stmt->bind_text(2, p->tp.topic);
      stmt->bind_int64(3, p->tp.partition);
      stmt->bind_int64(4, p->stored);
      stmt->bind_text(5, member_id_);
      if (auto ok = stmt->run(); !ok) return ok;
    }
    return {};
  }

  // One round of the group protocol. Heartbeat, expiry and claims happen in one write transaction; the
  // release of revoked partitions in a second one after on_revoked, so the listener can still commit.
  result<void> rebalance() {
    std::vector<topic_partition> revoke;
    std::vector<topic_partition> lost;
    std::vector<partition_state> claimed;
    {
      auto tx = transaction::begin(*db_, true);
      if (!tx) return make_error(tx.error());
      const std::int64_t now = now_ms();
      auto expire = db_->exec("DELETE FROM group_members WHERE heartbeat_ms + session_timeout_ms < " +
                              std::to_string(now));
      if (!expire) return expire;
      auto orphans = db_->exec(
          "DELETE FROM group_owners WHERE NOT EXISTS(SELECT 1 FROM group_members m WHERE m.group_id = "
          "group_owners.group_id AND m.member_id = group_owners.member_id)");
      if (!orphans) return orphans;
      auto beat = db_->prepare(
          "INSERT INTO group_members(group_id, member_id, topics, heartbeat_ms, session_timeout_ms) "
          "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(group_id, member_id) DO UPDATE SET topics = excluded.topics, "
          "heartbeat_ms = excluded.heartbeat_ms, session_timeout_ms = excluded.session_timeout_ms");
      if (!beat) return make_error(beat.error());
      beat->bind_text(1, options_.group_id);
      beat->bind_text(2, member_id_);
      beat->bind_text(3, join_topics(topics_));
      beat->bind_int64(4, now);
      beat->bind_int64(5, options_.session_timeout.count());
      if (auto ok = beat->run(); !ok) return ok;

      // What the file says this member owns: anything we hold that is not there was taken away.
      std::set<topic_partition> held;
      {
        auto mine = db_->prepare("SELECT topic, partition FROM group_owners WHERE group_id = ?1 AND member_id = ?2");
        if (!mine) return make_error(mine.error());
        mine->bind_text(1, options_.group_id);
        mine->bind_text(2, member_id_);
        for (;;) {
          auto row = mine->step();
          if (!row) return make_error(row.error());
          if (!*row) break;
          held.insert({std::string(mine->column_text(0)), static_cast<std::int32_t>(mine->column_int64(1))});
        }
      }
      for (const auto& p : owned_) {
        if (!held.contains(p.tp)) lost.push_back(p.tp);
      }

      std::map<std::string, std::vector<std::string>> members_by_topic;
      {
        auto members = db_->prepare("SELECT member_id, topics FROM group_members WHERE group_id = ?1");
        if (!members) return make_error(members.error());
        members->bind_text(1, options_.group_id);
        for (;;) {
          auto row = members->step();
          if (!row) return make_error(row.error());
          if (!*row) break;
          for (auto& t : split_topics(members->column_text(1))) {
            members_by_topic[t].emplace_back(members->column_text(0));
          }
        }
      }
      auto topic_row = db_->prepare("SELECT id, partitions FROM topics WHERE name = ?1");
      auto owner = db_->prepare("SELECT member_id FROM group_owners WHERE group_id = ?1 AND topic = ?2 AND partition = ?3");
      auto claim = db_->prepare("INSERT INTO group_owners(group_id, topic, partition, member_id) VALUES(?1, ?2, ?3, ?4)");
      auto start = db_->prepare(
          "SELECT (SELECT offset FROM group_offsets WHERE group_id = ?1 AND topic = ?2 AND partition = ?3), "
          "(SELECT next_offset FROM partitions WHERE topic_id = ?4 AND partition = ?3)");
      for (auto* s : {&topic_row, &owner, &claim, &start}) {
        if (!*s) return make_error(s->error());
      }
      std::set<topic_partition> desired;
      for (const auto& topic : topics_) {
        topic_row->bind_text(1, topic);
        auto row = topic_row->step();
        if (!row) return make_error(row.error());
        if (!*row) {  // not created yet: nothing to own until a producer creates it
          topic_row->reset();
          continue;
        }
        const std::int64_t topic_id = topic_row->column_int64(0);
        const auto partitions = static_cast<std::int32_t>(topic_row->column_int64(1));
        topic_row->reset();
        for (auto partition : store::assigned_partitions(members_by_topic[topic], member_id_, partitions)) {
          topic_partition tp{topic, partition};
          desired.insert(tp);
          if (held.contains(tp)) {
            if (find(tp) != nullptr) continue;
            // Held in the file but not here (we lost it and got it back): take it over fresh below.
          } else {
            owner->bind_text(1, options_.group_id);
            owner->bind_text(2, topic);
            owner->bind_int64(3, partition);
            auto taken = owner->step();
            if (!taken) return make_error(taken.error());
            owner->reset();
            if (*taken) continue;  // its previous owner has not released it yet
            claim->bind_text(1, options_.group_id);
            claim->bind_text(2, topic);
            claim->bind_int64(3, partition);
            claim->bind_text(4, member_id_);
            if (auto ok = claim->run(); !ok) return ok;
          }
          start->bind_text(1, options_.group_id);
          start->bind_text(2, topic);
          start->bind_int64(3, partition);
          start->bind_int64(4, topic_id);
          auto pos = start->step();
          if (!pos) return make_error(pos.error());
          partition_state state;
          state.tp = tp;
          state.topic_id = topic_id;
          if (!start->column_is_null(0)) {
            state.fetch_position = start->column_int64(0);
            state.committed = state.fetch_position;
          } else {
            state.fetch_position = options_.from_beginning ? 0 : start->column_int64(1);
          }
          start->reset();
          claimed.push_back(std::move(state));
        }
      }
      for (const auto& p : owned_) {
        if (!desired.contains(p.tp) && held.contains(p.tp)) revoke.push_back(p.tp);
      }
      if (auto ok = tx->commit(); !ok) return ok;
    }

    if (!lost.empty()) {
      if (options_.listener.on_revoked) options_.listener.on_revoked(lost, true);
      for (const auto& tp : lost) drop(tp);
    }
    if (!revoke.empty()) {
      if (options_.listener.on_revoked) options_.listener.on_revoked(revoke, false);
      std::vector<partition_state*> states;
      for (const auto& tp : revoke) {
        if (auto* p = find(tp); p != nullptr && p->stored >= 0 && p->stored != p->committed) states.push_back(p);
      }
      auto tx = transaction::begin(*db_, true);
      if (!tx) return make_error(tx.error());
      if (auto ok = write_offsets(states); !ok) return ok;
      auto release = db_->prepare(
          "DELETE FROM group_owners WHERE group_id = ?1 AND topic = ?2 AND partition = ?3 AND member_id = ?4");
      if (!release) return make_error(release.error());
      for (const auto& tp : revoke) {
        release->bind_text(1, options_.group_id);
        release->bind_text(2, tp.topic);
        release->bind_int64(3, tp.partition);
        release->bind_text(4, member_id_);
        if (auto ok = release->run(); !ok) return ok;
      }
      if (auto ok = tx->commit(); !ok) return ok;
      for (const auto& tp : revoke) drop(tp);
    }
    if (!claimed.empty()) {
      std::vector<topic_partition> assigned;
      for (auto& state : claimed) {
        assigned.push_back(state.tp);
        owned_.push_back(std::move(state));
      }
      std::sort(owned_.begin(), owned_.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });
      refetch_ = true;
      if (options_.listener.on_assigned) options_.listener.on_assigned(assigned);
    }
    return {};
  }

  void drop(const topic_partition& tp) {
    std::erase_if(owned_, [&](const partition_state& p) { return p.tp == tp; });
    cursor_ = 0;
  }

  result<void> leave() {
    std::vector<partition_state*> dirty;
    for (auto& p : owned_) {
      if (p.stored >= 0 && p.stored != p.committed) dirty.push_back(&p);
    }
    auto tx = transaction::begin(*db_, true);
    if (!tx) return make_error(tx.error());
    if (auto ok = write_offsets(dirty); !ok) return ok;
    auto owners = db_->prepare("DELETE FROM group_owners WHERE group_id = ?1 AND member_id = ?2");
    auto member = db_->prepare("DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2");
    for (auto* s : {&owners, &member}) {
      if (!*s) return make_error(s->error());
      (*s)->bind_text(1, options_.group_id);
      (*s)->bind_text(2, member_id_);
      if (auto ok = (*s)->run(); !ok) return ok;
    }
    return tx->commit();
  }

  std::shared_ptr<store_core> core_;
  consumer_options options_;
  std::unique_ptr<connection> db_;
  statement fetch_;
  std::string member_id_;
  std::chrono::milliseconds heartbeat_interval_;
  std::vector<std::string> topics_;
  std::vector<partition_state> owned_;  // sorted by topic_partition
  std::size_t cursor_ = 0;
  bool refetch_ = true;
  bool closed_ = false;
  std::int64_t seen_version_ = -1;
  std::uint64_t seen_sequence_ = 0;
  clock::time_point next_heartbeat_{};
  clock::time_point last_commit_ = clock::now();
};

// --------------------------------------------------------------------------------------------- transport

class embedded_transport_impl final : public embedded_transport {
 public:
  explicit embedded_transport_impl(std::shared_ptr<store_core> core) : core_(std::move(core)) {}

  std::string_view kind() const noexcept override { return "embedded"; }
  transport_features features() const noexcept override {
    return transport_features{.retention_by_age = true, .cross_process = true, .creates_topics = true};
  }

  result<std::unique_ptr<producer>> create_producer(const producer_options& options) override {
    return embedded_producer::create(core_, options);
  }

  result<std::unique_ptr<consumer>> create_consumer(const consumer_options& options) override {
    if (options.group_id.empty()) return make_error(errc::invalid_argument, "consumer_options.group_id is required");
    if (options.session_timeout.count() <= 0) {
      return make_error(errc::invalid_argument, "consumer_options.session_timeout must be positive");
    }
    if (options.commit_interval.count() <= 0) {
      return make_error(errc::invalid_argument, "consumer_options.commit_interval must be positive");
    }
    return embedded_consumer::create(core_, options);
  }

  result<void> create_topic(const std::string& topic, std::int32_t partitions) override {
    if (partitions < 1 || partitions > 10000) {
      return make_error(errc::invalid_argument, "create_topic " + topic + ": partitions must be 1..10000, got " +
                                                    std::to_string(partitions));
    }
    auto info = core_->ensure_topic(topic, partitions);
    if (!info) return make_error(info.error());
    return {};
  }

  std::string describe() const override { return core_->options().path; }

  result<std::int64_t> enforce_retention() override { return core_->enforce_retention(); }

  result<std::pair<std::int64_t, std::int64_t>> offsets(const topic_partition& tp) override {
    return core_->offsets(tp);
  }

 private:
  std::shared_ptr<store_core> core_;
};

}  // namespace

result<void> embedded_options::validate() const {
  if (path.empty()) return make_error(errc::invalid_argument, "embedded_options.path is empty");
  if (default_partitions < 1 || default_partitions > 10000) {
    return make_error(errc::invalid_argument, "embedded_options.default_partitions must be 1..10000, got " +
                                                  std::to_string(default_partitions));
  }
  if (retention.count() <= 0) return make_error(errc::invalid_argument, "embedded_options.retention must be positive");
  if (poll_interval.count() <= 0) {
    return make_error(errc::invalid_argument, "embedded_options.poll_interval must be positive");
  }
  if (max_batch < 1) return make_error(errc::invalid_argument, "embedded_options.max_batch must be at least 1");
  if (max_queued < 1) return make_error(errc::invalid_argument, "embedded_options.max_queued must be at least 1");
  if (busy_timeout.count() < 0) {
    return make_error(errc::invalid_argument, "embedded_options.busy_timeout must not be negative");
  }
  return {};
}

result<std::shared_ptr<embedded_transport>> embedded_transport::open(embedded_options options) {
  if (auto ok = options.validate(); !ok) return make_error(ok.error());
  auto core = store_core::open(std::move(options));
  if (!core) return make_error(core.error());
  return std::shared_ptr<embedded_transport>(std::make_shared<embedded_transport_impl>(std::move(*core)));
}

}  // namespace aw::events
