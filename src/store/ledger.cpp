// Dedup and status ledger: SQLite (batched, doubles as the transactional inbox) and in-memory.
#include "aw/events/ledger.hpp"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "core/log.hpp"
#include "store/sqlite.hpp"

namespace aw::events {

std::string_view to_string(processing_state state) noexcept {
  switch (state) {
    case processing_state::received: return "received";
    case processing_state::processing: return "processing";
    case processing_state::retrying: return "retrying";
    case processing_state::succeeded: return "succeeded";
    case processing_state::dead_lettered: return "dead_lettered";
    case processing_state::duplicate_skipped: return "duplicate_skipped";
  }
  return "received";
}

std::optional<processing_state> parse_processing_state(std::string_view text) noexcept {
  for (auto s : {processing_state::received, processing_state::processing, processing_state::retrying,
                 processing_state::succeeded, processing_state::dead_lettered, processing_state::duplicate_skipped}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

result<void> sqlite_ledger_options::validate() const {
  if (path.empty()) return make_error(errc::invalid_argument, "sqlite_ledger_options.path is required");
  if (retention.count() <= 0) return make_error(errc::invalid_argument, "sqlite_ledger_options.retention must be positive");
  return {};
}

std::string ledger_path_for_store(std::string_view store_path) {
  std::filesystem::path p{std::string(store_path)};
  auto stem = p.extension() == ".db" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".ledger.db")).string();
}

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS ledger_history(
  seq INTEGER PRIMARY KEY, group_id TEXT NOT NULL, event_id TEXT NOT NULL, state TEXT NOT NULL,
  attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL, error TEXT NOT NULL, correlation_id TEXT NOT NULL,
  type TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_by_event ON ledger_history(event_id, group_id, seq);
CREATE INDEX IF NOT EXISTS ledger_by_correlation ON ledger_history(correlation_id);
)sql";

// An empty view may have a null data pointer, which SQLite binds as NULL; the columns are NOT NULL text.
void bind_view(store::statement& stmt, int index, std::string_view value) {
  stmt.bind_text(index, value.data() != nullptr ? value : std::string_view(""), false);
}

constexpr std::string_view columns =
    "group_id, event_id, state, attempt, at_ms, error, correlation_id, type, topic, partition, \"offset\"";

class sqlite_ledger final : public status_ledger, public inbox_transaction {
 public:
  static result<std::shared_ptr<status_ledger>> open(sqlite_ledger_options options) {
    if (auto ok = options.validate(); !ok) return make_error(ok.error());
    std::error_code ec;
    const auto parent = std::filesystem::path(options.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return make_error(errc::storage_error, options.path + ": cannot create directory: " + ec.message());
    auto db = store::connection::open(options.path, options.busy_timeout);
    if (!db) return make_error(db.error());
    // WAL + synchronous=NORMAL: a committed batch survives a crash of the process (kill -9); the last batches
    // may be lost on power failure, which only re-runs handlers (at-least-once), never loses events.
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY"}) {
      if (auto ok = (*db)->exec(pragma); !ok) return make_error(ok.error());
    }
    if (auto ok = (*db)->exec(schema); !ok) return make_error(ok.error());
    auto ledger = std::shared_ptr<sqlite_ledger>(new sqlite_ledger(std::move(options), std::move(*db)));
    if (auto ok = ledger->prepare_all(); !ok) return make_error(ok.error());
    // Pruning needs the write lock; another process holding it only delays pruning to the next open.
    if (auto pruned = ledger->prune(); !pruned) log::warn("ledger not pruned", {{"error", pruned.error().describe()}});
    return std::shared_ptr<status_ledger>(std::move(ledger));
  }

  ~sqlite_ledger() override {
    statements_.clear();
    if (db_->in_transaction()) (void)db_->exec("COMMIT");
  }

  result<std::optional<ledger_status>> lookup(std::string_view group, std::string_view event_id) override {
    lookup_.bind_text(1, event_id, false);
    lookup_.bind_text(2, group, false);
    auto row = lookup_.step();
    if (!row) return make_error(row.error());
    std::optional<ledger_status> found;
    if (*row) {
      auto state = parse_processing_state(lookup_.column_text(0));
      found = ledger_status{state.value_or(processing_state::received), static_cast<int>(lookup_.column_int64(1))};
    }
    lookup_.reset();
    return found;
  }

  result<void> record(const ledger_transition& e) override {
    if (auto ok = ensure_batch(); !ok) return ok;
    bind_view(insert_, 1, e.group);
    bind_view(insert_, 2, e.event_id);
    bind_view(insert_, 3, to_string(e.state));
    insert_.bind_int64(4, e.attempt);
    insert_.bind_int64(5, e.at_ms != 0 ? e.at_ms : now_ms());
    bind_view(insert_, 6, e.error);
    bind_view(insert_, 7, e.correlation_id);
    bind_view(insert_, 8, e.type);
    bind_view(insert_, 9, e.topic);
    insert_.bind_int64(10, e.partition);
    insert_.bind_int64(11, e.offset);
    if (auto ok = insert_.run(); !ok) return ok;
    ++pending_;
    return {};
  }

  result<void> flush() override {
    if (!db_->in_transaction()) {
      pending_ = 0;
      return {};
    }
    if (auto ok = db_->exec("COMMIT"); !ok) return ok;
    pending_ = 0;
    return {};
  }

  std::size_t pending() const noexcept override { return pending_; }

  result<std::vector<ledger_entry>> history_of_event(std::string_view event_id) override {
    return query("SELECT " + std::string(columns) + " FROM ledger_history WHERE event_id = ?1 ORDER BY seq", event_id);
  }

  result<std::vector<ledger_entry>> history_of_correlation(std::string_view correlation_id) override {
    return query("SELECT " + std::string(columns) + " FROM ledger_history WHERE correlation_id = ?1 ORDER BY seq",
                 correlation_id);
  }

  result<std::int64_t> prune() override {
    // Outside a batch so pruning never delays the durability of processed marks.
    if (auto ok = flush(); !ok) return make_error(ok.error());
    auto stmt = db_->prepare("DELETE FROM ledger_history WHERE at_ms < ?1");
    if (!stmt) return make_error(stmt.error());
    stmt->bind_int64(1, now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count());
    if (auto ok = stmt->run(); !ok) return make_error(ok.error());
    return db_->changes();
  }

  result<inbox_transaction*> inbox() override {
    if (auto ok = ensure_batch(); !ok) return make_error(ok.error());
    return static_cast<inbox_transaction*>(this);
  }

  result<void> begin_handler() override {
    if (auto ok = ensure_batch(); !ok) return ok;
    return savepoint_.run();
  }

  result<void> end_handler(bool keep) override {
    if (!keep) {
      if (auto ok = rollback_to_.run(); !ok) return ok;
    }
    return release_.run();
  }

  // inbox_transaction
  result<void> execute(std::string_view sql, std::initializer_list<value> params) override {
    auto stmt = cached(sql, params);
    if (!stmt) return make_error(stmt.error());
    return (*stmt)->run();
  }

  result<std::optional<std::int64_t>> query_int64(std::string_view sql, std::initializer_list<value> params) override {
    auto stmt = cached(sql, params);
    if (!stmt) return make_error(stmt.error());
    auto row = (*stmt)->step();
    if (!row) return make_error(row.error());
    std::optional<std::int64_t> found;
    if (*row) found = (*stmt)->column_int64(0);
    (*stmt)->reset();
    return found;
  }

  sqlite3* native_handle() noexcept override { return db_->handle(); }

 private:
  sqlite_ledger(sqlite_ledger_options options, std::unique_ptr<store::connection> db)
      : options_(std::move(options)), db_(std::move(db)) {}

  result<void> prepare_all() {
    auto lookup = db_->prepare(
        "SELECT state, attempt FROM ledger_history WHERE event_id = ?1 AND group_id = ?2 ORDER BY seq DESC LIMIT 1");
    if (!lookup) return make_error(lookup.error());
    lookup_ = std::move(*lookup);
    auto insert = db_->prepare("INSERT INTO ledger_history(" + std::string(columns) +
                               ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (!insert) return make_error(insert.error());
    insert_ = std::move(*insert);
    for (auto [target, sql] : {std::pair{&savepoint_, "SAVEPOINT aw_handler"},
                               std::pair{&rollback_to_, "ROLLBACK TO aw_handler"},
                               std::pair{&release_, "RELEASE aw_handler"}}) {
      auto stmt = db_->prepare(sql);
      if (!stmt) return make_error(stmt.error());
      *target = std::move(*stmt);
    }
    return {};
  }

  // The batch is one IMMEDIATE transaction: it takes the write lock up front, so a batch never fails half-way
  // because another process sharing the file is writing too.
  result<void> ensure_batch() {
    if (db_->in_transaction()) return {};
    return db_->exec("BEGIN IMMEDIATE");
  }

  result<store::statement*> cached(std::string_view sql, std::initializer_list<value> params) {
    auto found = statements_.find(std::string(sql));
    if (found == statements_.end()) {
      auto stmt = db_->prepare(sql);
      if (!stmt) return make_error(stmt.error());
      found = statements_.emplace(std::string(sql), std::move(*stmt)).first;
    }
    auto& stmt = found->second;
    int index = 1;
    for (const auto& param : params) {
      if (std::holds_alternative<std::nullptr_t>(param)) stmt.bind_null(index);
      else if (auto* i = std::get_if<std::int64_t>(&param)) stmt.bind_int64(index, *i);
      else stmt.bind_text(index, std::get<std::string_view>(param), true);
      ++index;
    }
    return &stmt;
  }

  result<std::vector<ledger_entry>> query(const std::string& sql, std::string_view key) {
    auto stmt = db_->prepare(sql);
    if (!stmt) return make_error(stmt.error());
    stmt->bind_text(1, key, true);
    std::vector<ledger_entry> out;
    for (;;) {
      auto row = stmt->step();
      if (!row) return make_error(row.error());
      if (!*row) break;
      ledger_entry e;
      e.group = stmt->column_text(0);
      e.event_id = stmt->column_text(1);
      e.state = parse_processing_state(stmt->column_text(2)).value_or(processing_state::received);
      e.attempt = static_cast<int>(stmt->column_int64(3));
      e.at_ms = stmt->column_int64(4);
      e.error = stmt->column_text(5);
      e.correlation_id = stmt->column_text(6);
      e.type = stmt->column_text(7);
      e.topic = stmt->column_text(8);
      e.partition = static_cast<std::int32_t>(stmt->column_int64(9));
      e.offset = stmt->column_int64(10);
      out.push_back(std::move(e));
    }
    return out;
  }

  sqlite_ledger_options options_;
  std::unique_ptr<store::connection> db_;
  store::statement lookup_;
  store::statement insert_;
  store::statement savepoint_;
  store::statement rollback_to_;
  store::statement release_;
  std::unordered_map<std::string, store::statement> statements_;
  std::size_t pending_ = 0;
};

// In-memory ledger: histories by (group, event id); FIFO eviction keeps it bounded.
class memory_ledger final : public status_ledger {
 public:
  memory_ledger(std::size_t max_events, std::chrono::hours retention) : max_events_(max_events), retention_(retention) {}

  result<std::optional<ledger_status>> lookup(std::string_view group, std::string_view event_id) override {
    std::lock_guard lock(mutex_);
    auto found = histories_.find(key_of(group, event_id));
    if (found == histories_.end() || found->second.empty()) return std::optional<ledger_status>{};
    const auto& last = found->second.back();
    return std::optional<ledger_status>(ledger_status{last.state, last.attempt});
  }

  result<void> record(const ledger_transition& entry) override {
    std::lock_guard lock(mutex_);
    auto key = key_of(entry.group, entry.event_id);
    auto [it, inserted] = histories_.try_emplace(key);
    if (inserted) {
      order_.push_back(std::move(key));
      while (order_.size() > max_events_) {
        histories_.erase(order_.front());
        order_.pop_front();
      }
    }
    it->second.push_back(ledger_entry{std::string(entry.group), std::string(entry.event_id), entry.state,
                                      entry.attempt, entry.at_ms != 0 ? entry.at_ms : now_ms(),
                                      std::string(entry.error), std::string(entry.correlation_id),
                                      std::string(entry.type), std::string(entry.topic), entry.partition,
                                      entry.offset});
    return {};
  }

  result<void> flush() override { return {}; }
  std::size_t pending() const noexcept override { return 0; }

  result<std::vector<ledger_entry>> history_of_event(std::string_view event_id) override {
    return collect([&](const ledger_entry& e) { return e.event_id == event_id; });
  }
  result<std::vector<ledger_entry>> history_of_correlation(std::string_view correlation_id) override {
    return collect([&](const ledger_entry& e) { return e.correlation_id == correlation_id; });
  }

  result<std::int64_t> prune() override {
    std::lock_guard lock(mutex_);
    const auto cutoff = now_ms() - std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
    std::int64_t removed = 0;
    std::erase_if(order_, [&](const std::string& key) {
      auto found = histories_.find(key);
      if (found == histories_.end() || found->second.back().at_ms >= cutoff) return false;
      removed += static_cast<std::int64_t>(found->second.size());
      histories_.erase(found);
      return true;
    });
    return removed;
  }

  result<inbox_transaction*> inbox() override { return static_cast<inbox_transaction*>(nullptr); }
  result<void> begin_handler() override { return {}; }
  result<void> end_handler(bool) override { return {}; }

 private:
  static std::string key_of(std::string_view group, std::string_view event_id) {
    std::string key(group);
    key += '\0';
    key += event_id;
    return key;
  }

  template <class Pred>
  result<std::vector<ledger_entry>> collect(Pred pred) {
    std::lock_guard lock(mutex_);
    std::vector<ledger_entry> out;
    for (const auto& key : order_) {
      for (const auto& e : histories_.at(key)) {
        if (pred(e)) out.push_back(e);
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
    return out;
  }

  std::size_t max_events_;
  std::chrono::hours retention_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<ledger_entry>> histories_;
  std::deque<std::string> order_;
};

}  // namespace

result<std::shared_ptr<status_ledger>> open_sqlite_ledger(sqlite_ledger_options options) {
  return sqlite_ledger::open(std::move(options));
}

std::shared_ptr<status_ledger> make_memory_ledger(std::size_t max_events, std::chrono::hours retention) {
  return std::make_shared<memory_ledger>(std::max<std::size_t>(max_events, 1), retention);
}

}  // namespace aw::events
