// The transactional outbox on SQLite and its relay (aw/events/outbox.hpp).
#include "aw/events/outbox.hpp"

#include <sqlite3.h>

#include <future>
#include <mutex>
#include <thread>

#include "aw/events/catalog.hpp"
#include "aw/events/context.hpp"
#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "core/log.hpp"
#include "store/sqlite.hpp"

namespace aw::events {
namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS aw_outbox (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  topic TEXT NOT NULL,
  record_key TEXT NOT NULL,
  envelope TEXT NOT NULL,
  event_id TEXT NOT NULL,
  staged_at_ms INTEGER NOT NULL,
  sent_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS aw_outbox_unsent ON aw_outbox (sequence) WHERE sent_at_ms IS NULL;
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

result<void> bind_all(store::statement& stmt, std::initializer_list<outbox_transaction::value> params) {
  int index = 1;
  for (const auto& p : params) {
    if (std::holds_alternative<std::nullptr_t>(p)) stmt.bind_null(index);
    else if (const auto* i = std::get_if<std::int64_t>(&p)) stmt.bind_int64(index, *i);
    else stmt.bind_text(index, std::get<std::string_view>(p));
    ++index;
  }
  return {};
}

// The envelope of a staged event: the same defaults as the publisher (version, correlation, trace).
result<envelope> build_event(const outbox_config& config, std::string_view type, std::string_view data_json,
                             const publish_options& options) {
  envelope event;
  event.meta.id = new_uuid_v4();
  event.meta.type = type;
  if (!options.version.empty()) event.meta.version = options.version;
  else if (auto v = config.catalog ? config.catalog->default_version(type) : std::nullopt) event.meta.version = *v;
  else event.meta.version = "1.0";
  event.meta.timestamp = now_timestamp();
  const auto* context = current_context();
  if (!options.correlation_id.empty()) event.meta.correlation_id = options.correlation_id;
  else if (context && !context->correlation_id.empty()) event.meta.correlation_id = context->correlation_id;
  else event.meta.correlation_id = new_uuid_v4();
  event.meta.source = config.service;
  if (options.parent) event.meta.trace = child_span(*options.parent);
  else if (context && context->trace) event.meta.trace = child_span(*context->trace);
  else event.meta.trace = new_trace();
  event.data = data_json;
  if (auto problems = validate_envelope(event); !problems.empty()) {
    auto message = "outbox: " + std::string(type) + " is not a valid event: " + problems.front().message;
    return make_error(errc::invalid_envelope, std::move(message), std::move(problems));
  }
  if (config.catalog) {
    if (auto checked = config.catalog->validate_data(event.meta.type, event.meta.version, event.data); !checked) {
      return make_error(checked.error());
    }
  }
  return event;
}

}  // namespace

result<void> outbox_config::validate() const {
  if (path.empty()) return make_error(errc::invalid_argument, "outbox_config.path is required");
  if (service.empty()) return make_error(errc::invalid_argument, "outbox_config.service is required");
  return {};
}

struct outbox::impl {
  outbox_config config;
  std::mutex mutex;  // one transaction at a time on the connection
  std::unique_ptr<store::connection> db;
};

namespace {

class sqlite_outbox_transaction final : public outbox_transaction {
 public:
  sqlite_outbox_transaction(store::connection& db, const outbox_config& config) : db_(db), config_(config) {}

  result<void> execute(std::string_view sql, std::initializer_list<value> params) override {
    auto stmt = db_.prepare(sql);
    if (!stmt) return make_error(stmt.error());
    (void)bind_all(*stmt, params);
    return stmt->run();
  }

  result<std::optional<std::int64_t>> query_int64(std::string_view sql, std::initializer_list<value> params) override {
    auto stmt = db_.prepare(sql);
    if (!stmt) return make_error(stmt.error());
    (void)bind_all(*stmt, params);
    auto row = stmt->step();
    if (!row) return make_error(row.error());
    if (!*row || stmt->column_is_null(0)) return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>{stmt->column_int64(0)};
  }

  result<std::string> stage(std::string_view type, std::string_view data_json, publish_options options) override {
    if (options.key.empty()) {
      return make_error(errc::invalid_argument, "outbox: " + std::string(type) + ": publish_options.key is required");
    }
    auto event = build_event(config_, type, data_json, options);
    if (!event) return make_error(event.error());
    const auto topic = options.topic.empty() ? topic_for(type, config_.topics) : options.topic;
    auto insert = db_.prepare(
        "INSERT INTO aw_outbox (topic, record_key, envelope, event_id, staged_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!insert) return make_error(insert.error());
    insert->bind_text(1, topic);
    insert->bind_text(2, options.key);
    insert->bind_text(3, encode(*event));
    insert->bind_text(4, event->meta.id);
    insert->bind_int64(5, now_ms());
    if (auto ok = insert->run(); !ok) return make_error(ok.error());
    return event->meta.id;
  }

  sqlite3* native_handle() noexcept override { return db_.handle(); }

 private:
  store::connection& db_;
  const outbox_config& config_;
};

}  // namespace

outbox::outbox(std::unique_ptr<impl> impl) : impl_(std::move(impl)) {}
outbox::~outbox() = default;

result<std::unique_ptr<outbox>> outbox::open(outbox_config config) {
  if (auto ok = config.validate(); !ok) return make_error(ok.error());
  auto db = store::connection::open(config.path, config.busy_timeout);
  if (!db) return make_error(db.error());
  // FULL: a committed domain change and its events are durable together, even across a power loss.
  if (auto ok = (*db)->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"); !ok) return make_error(ok.error());
  if (auto ok = (*db)->exec(schema); !ok) return make_error(ok.error());
  auto state = std::make_unique<impl>();
  state->config = std::move(config);
  state->db = std::move(*db);
  return std::unique_ptr<outbox>(new outbox(std::move(state)));
}

result<void> outbox::transact(const std::function<result<void>(outbox_transaction&)>& body) {
  std::lock_guard lock(impl_->mutex);
  auto tx = store::transaction::begin(*impl_->db, true);
  if (!tx) return make_error(tx.error());
  sqlite_outbox_transaction handle(*impl_->db, impl_->config);
  result<void> outcome;
  try {
    outcome = body(handle);
  } catch (const std::exception& e) {
    return make_error(errc::handler_failed, std::string("outbox transaction body threw: ") + e.what());
  }
  if (!outcome) return outcome;  // tx rolls back on destruction
  return tx->commit();
}

result<std::vector<outbox_row>> outbox::unsent(std::size_t max) {
  std::lock_guard lock(impl_->mutex);
  auto select = impl_->db->prepare(
      "SELECT sequence, topic, record_key, envelope, event_id FROM aw_outbox WHERE sent_at_ms IS NULL "
      "ORDER BY sequence LIMIT ?1");
  if (!select) return make_error(select.error());
  select->bind_int64(1, static_cast<std::int64_t>(max));
  std::vector<outbox_row> rows;
  while (true) {
    auto row = select->step();
    if (!row) return make_error(row.error());
    if (!*row) break;
    rows.push_back({select->column_int64(0), std::string(select->column_text(1)), std::string(select->column_text(2)),
                    std::string(select->column_text(3)), std::string(select->column_text(4))});
  }
  return rows;
}

result<void> outbox::mark_sent(const std::vector<std::int64_t>& sequences) {
  if (sequences.empty()) return {};
  std::lock_guard lock(impl_->mutex);
  auto tx = store::transaction::begin(*impl_->db, true);
  if (!tx) return make_error(tx.error());
  auto update = impl_->db->prepare("UPDATE aw_outbox SET sent_at_ms = ?1 WHERE sequence = ?2");
  if (!update) return make_error(update.error());
  const auto at = now_ms();
  for (const auto sequence : sequences) {
    update->bind_int64(1, at);
    update->bind_int64(2, sequence);
    if (auto ok = update->run(); !ok) return make_error(ok.error());
  }
  return tx->commit();
}

result<std::int64_t> outbox::depth() {
  std::lock_guard lock(impl_->mutex);
  auto select = impl_->db->prepare("SELECT count(*) FROM aw_outbox WHERE sent_at_ms IS NULL");
  if (!select) return make_error(select.error());
  auto row = select->step();
  if (!row) return make_error(row.error());
  return select->column_int64(0);
}

outbox_relay::outbox_relay(std::shared_ptr<outbox_store> store, std::shared_ptr<publisher> publisher,
                           outbox_relay_config config)
    : store_(std::move(store)), publisher_(std::move(publisher)), config_(config) {}

result<std::size_t> outbox_relay::run_once() {
  auto rows = store_->unsent(config_.batch);
  if (!rows) return make_error(rows.error());
  if (rows->empty()) return std::size_t{0};
  // Published in sequence order; the publisher keeps per-key order, so rows of one key arrive in commit order.
  std::vector<std::future<result<publish_receipt>>> receipts;
  receipts.reserve(rows->size());
  for (const auto& row : *rows) {
    auto event = decode_envelope(row.envelope_json);
    if (!event) {
      // Only this process wrote the row, after validating it: a bad row means the database was edited.
      return make_error(errc::invalid_envelope, "outbox row " + std::to_string(row.sequence) + " (event " +
                                                    row.event_id + ") is not a valid event: " + event.error().message);
    }
    auto promise = std::make_shared<std::promise<result<publish_receipt>>>();
    receipts.push_back(promise->get_future());
    publish_options options;
    options.key = row.key;
    options.topic = row.topic;
    publisher_->publish_envelope(*event, std::move(options),
                                 [promise](result<publish_receipt> r) { promise->set_value(std::move(r)); });
  }
  // A batch is marked sent only as far as it was acknowledged without a gap, so nothing is skipped.
  std::vector<std::int64_t> sent;
  std::optional<error> failure;
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    if (receipts[i].wait_for(config_.delivery_timeout) != std::future_status::ready) {
      failure = error{errc::timeout, "outbox relay: event " + (*rows)[i].event_id + " not acknowledged in time", true, {}};
      break;
    }
    auto receipt = receipts[i].get();
    if (!receipt) {
      failure = receipt.error();
      failure->message = "outbox relay: event " + (*rows)[i].event_id + ": " + failure->message;
      break;
    }
    sent.push_back((*rows)[i].sequence);
  }
  if (auto marked = store_->mark_sent(sent); !marked) return make_error(marked.error());
  if (failure) return make_error(*failure);
  return sent.size();
}

result<std::uint64_t> outbox_relay::run() {
  std::uint64_t total = 0;
  while (!stop_.load()) {
    auto round = run_once();
    if (!round) {
      if (!round.error().retriable()) return make_error(round.error());
      log::warn("outbox relay round failed; retrying", {{"error", round.error().describe()}});
      std::this_thread::sleep_for(config_.idle_poll);
      continue;
    }
    total += *round;
    if (*round == 0) std::this_thread::sleep_for(config_.idle_poll);
  }
  return total;
}

}  // namespace aw::events
