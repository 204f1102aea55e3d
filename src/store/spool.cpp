#include "store/spool.hpp"

#include <chrono>

#include "store/sqlite.hpp"

namespace aw::events::store {
namespace {

constexpr std::string_view schema = R"sql(
CREATE TABLE IF NOT EXISTS aw_spool (
  sequence INTEGER PRIMARY KEY AUTOINCREMENT,
  service TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  record_key BLOB NOT NULL,
  value BLOB NOT NULL,
  headers BLOB NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  spooled_at_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aw_spool_by_key ON aw_spool (topic, record_key);
)sql";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void put_u32(std::string& out, std::uint32_t n) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
}

std::optional<std::uint32_t> get_u32(std::string_view& in) {
  if (in.size() < 4) return std::nullopt;
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  in.remove_prefix(4);
  return n;
}

}  // namespace

std::string encode_headers(const std::vector<header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    put_u32(out, static_cast<std::uint32_t>(h.name.size()));
    out += h.name;
    put_u32(out, static_cast<std::uint32_t>(h.value.size()));
    out += h.value;
  }
  return out;
}

result<std::vector<header>> decode_headers(std::string_view blob) {
  std::vector<header> out;
  const auto total = blob.size();
  while (!blob.empty()) {
    header h;
    for (auto* field : {&h.name, &h.value}) {
      const auto at = total - blob.size();
      auto n = get_u32(blob);
      if (!n || *n > blob.size()) {
        return make_error(errc::storage_error, "spooled headers are corrupt at byte " + std::to_string(at));
      }
      field->assign(blob.substr(0, *n));
      blob.remove_prefix(*n);
    }
    out.push_back(std::move(h));
  }
  return out;
}

spool::spool(std::unique_ptr<connection> db) : db_(std::move(db)) {}
spool::~spool() = default;

result<std::unique_ptr<spool>> spool::open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  auto db = connection::open(path, busy_timeout);
  if (!db) return make_error(db.error());
  // WAL + NORMAL: a committed append survives the process being killed (not a power loss, see operations.md).
  if (auto ok = (*db)->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !ok) return make_error(ok.error());
  if (auto ok = (*db)->exec(schema); !ok) return make_error(ok.error());
  return std::unique_ptr<spool>(new spool(std::move(*db)));
}

result<std::vector<std::int64_t>> spool::append(const std::vector<const record*>& records,
                                                const std::vector<std::string_view>& event_ids,
                                                std::string_view service, std::string_view last_error) {
  if (records.size() != event_ids.size()) {
    return make_error(errc::invalid_argument, "spool::append: one event id per record");
  }
  std::lock_guard lock(mutex_);
  auto tx = transaction::begin(*db_, true);
  if (!tx) return make_error(tx.error());
  auto insert = db_->prepare(
      "INSERT INTO aw_spool (service, topic, partition, record_key, value, headers, timestamp_ms, event_id, "
      "spooled_at_ms, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING sequence");
  if (!insert) return make_error(insert.error());
  std::vector<std::int64_t> sequences;
  sequences.reserve(records.size());
  const auto at = now_ms();
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& rec = *records[i];
    insert->bind_text(1, service);
    insert->bind_text(2, rec.topic);
    insert->bind_int64(3, rec.partition);
    insert->bind_blob(4, rec.key);
    insert->bind_blob(5, rec.value, false);
    insert->bind_blob(6, encode_headers(rec.headers));
    insert->bind_int64(7, rec.timestamp_ms);
    insert->bind_text(8, event_ids[i]);
    insert->bind_int64(9, at);
    insert->bind_text(10, last_error);
    auto row = insert->step();
    if (!row) return make_error(row.error());
    if (!*row) return make_error(db_->make_storage_error("spooling a record (no sequence returned)"));
    sequences.push_back(insert->column_int64(0));
    insert->reset();
  }
  if (auto ok = tx->commit(); !ok) return make_error(ok.error());
  return sequences;
}

result<std::int64_t> spool::append(const record& rec, std::string_view event_id, std::string_view service,
                                   std::string_view last_error) {
  auto appended = append(std::vector<const record*>{&rec}, std::vector<std::string_view>{event_id}, service, last_error);
  if (!appended) return make_error(appended.error());
  return appended->front();
}

result<std::vector<spooled_record>> spool::oldest(std::size_t max, std::string_view service) {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare(
      "SELECT sequence, service, topic, partition, record_key, value, headers, timestamp_ms, event_id, "
      "spooled_at_ms, last_error FROM aw_spool WHERE ?1 = '' OR service = ?1 ORDER BY sequence LIMIT ?2");
  if (!select) return make_error(select.error());
  select->bind_text(1, service);
  select->bind_int64(2, static_cast<std::int64_t>(max));
  std::vector<spooled_record> out;
  while (true) {
    auto row = select->step();
    if (!row) return make_error(row.error());
    if (!*row) break;
    spooled_record s;
    s.sequence = select->column_int64(0);
    s.service = select->column_text(1);
    s.rec.topic = select->column_text(2);
    s.rec.partition = static_cast<std::int32_t>(select->column_int64(3));
    s.rec.key = select->column_blob(4);
    s.rec.value = select->column_blob(5);
    auto headers = decode_headers(select->column_blob(6));
    if (!headers) {
      return make_error(errc::storage_error, db_->path() + ": spooled record " + std::to_string(s.sequence) + ": " +
                                                 headers.error().message);
    }
    s.rec.headers = std::move(*headers);
    s.rec.timestamp_ms = select->column_int64(7);
    s.event_id = select->column_text(8);
    s.spooled_at_ms = select->column_int64(9);
    s.last_error = select->column_text(10);
    out.push_back(std::move(s));
  }
  return out;
}

result<void> spool::remove(const std::vector<std::int64_t>& sequences) {
  if (sequences.empty()) return {};
  std::lock_guard lock(mutex_);
  auto tx = transaction::begin(*db_, true);
  if (!tx) return make_error(tx.error());
  auto erase = db_->prepare("DELETE FROM aw_spool WHERE sequence = ?1");
  if (!erase) return make_error(erase.error());
  for (const auto sequence : sequences) {
    erase->bind_int64(1, sequence);
    if (auto ok = erase->run(); !ok) return make_error(ok.error());
  }
  return tx->commit();
}

result<bool> spool::holds_key(std::string_view topic, std::string_view key, std::string_view service) {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare(
      "SELECT 1 FROM aw_spool WHERE topic = ?1 AND record_key = ?2 AND (?3 = '' OR service = ?3) LIMIT 1");
  if (!select) return make_error(select.error());
  select->bind_text(1, topic);
  select->bind_blob(2, key);
  select->bind_text(3, service);
  auto row = select->step();
  if (!row) return make_error(row.error());
  return *row;
}

result<spool_stats> spool::stats(std::string_view service) {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare(
      "SELECT count(*), coalesce(min(spooled_at_ms), 0) FROM aw_spool WHERE ?1 = '' OR service = ?1");
  if (!select) return make_error(select.error());
  select->bind_text(1, service);
  auto row = select->step();
  if (!row) return make_error(row.error());
  return spool_stats{select->column_int64(0), select->column_int64(1)};
}

}  // namespace aw::events::store

namespace aw::events::store {

result<std::map<std::string, spool_stats>> spool::stats_by_service() {
  std::lock_guard lock(mutex_);
  auto select = db_->prepare("SELECT service, count(*), min(spooled_at_ms) FROM aw_spool GROUP BY service");
  if (!select) return make_error(select.error());
  std::map<std::string, spool_stats> out;
  while (true) {
    auto row = select->step();
    if (!row) return make_error(row.error());
    if (!*row) break;
    out[std::string(select->column_text(0))] = spool_stats{select->column_int64(1), select->column_int64(2)};
  }
  return out;
}

result<std::vector<std::uint64_t>> export_spool_metrics(std::shared_ptr<spool> source, metrics::registry& registry) {
  // A failed read reports nothing for that scrape (the series go stale) rather than a false zero.
  const auto collect = [source](bool age) {
    return [source, age] {
      std::vector<metrics::sample> samples;
      auto stats = source->stats_by_service();
      if (!stats) return samples;
      const auto now = now_ms();
      for (const auto& [service, s] : *stats) {
        samples.push_back({{{"service", service}},
                           age ? s.oldest_age_seconds(now) : static_cast<double>(s.depth)});
      }
      return samples;
    };
  };
  auto depth = registry.add_collector("aw_events_spool_depth", "Events waiting in the producer spool",
                                      metrics::metric_kind::gauge, collect(false));
  if (!depth) return make_error(depth.error());
  auto age = registry.add_collector("aw_events_spool_oldest_age_seconds", "Age of the oldest spooled event",
                                    metrics::metric_kind::gauge, collect(true));
  if (!age) {
    registry.remove_collector(*depth);
    return make_error(age.error());
  }
  return std::vector<std::uint64_t>{*depth, *age};
}

}  // namespace aw::events::store
