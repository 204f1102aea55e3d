#include "raw_sqlite.hpp"

#include <sqlite3.h>

#include <memory>

namespace aw::bench {
namespace {

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;
using stmt_handle = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

db_handle open_db(const std::string& path, std::string& error) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(path.c_str(), &raw) != SQLITE_OK) {
    error = path + ": " + sqlite3_errmsg(raw);
    sqlite3_close(raw);
    return nullptr;
  }
  db_handle db(raw);
  sqlite3_exec(db.get(), "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr, nullptr);
  return db;
}

std::string encode_headers(const std::vector<events::header>& headers) {
  std::string out;
  for (const auto& h : headers) {
    out += std::to_string(h.name.size()) + ":" + h.name + std::to_string(h.value.size()) + ":" + h.value;
  }
  return out;
}

}  // namespace

measurement raw_sqlite_insert(const std::string& path, const std::vector<events::record>& records, std::string& error) {
  auto db = open_db(path, error);
  if (!db) return {};
  sqlite3_exec(db.get(),
               "CREATE TABLE IF NOT EXISTS records(topic TEXT, partition INTEGER, offset INTEGER, ts INTEGER, "
               "key BLOB, value BLOB, headers BLOB)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* raw = nullptr;
  sqlite3_prepare_v2(db.get(), "INSERT INTO records VALUES(?,?,?,?,?,?,?)", -1, &raw, nullptr);
  stmt_handle insert(raw);
  std::vector<std::string> headers;
  headers.reserve(records.size());
  for (const auto& r : records) headers.push_back(encode_headers(r.headers));
  std::size_t bytes = 0;
  stopwatch started;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i % 1000 == 0) sqlite3_exec(db.get(), "BEGIN", nullptr, nullptr, nullptr);
    const auto& r = records[i];
    sqlite3_bind_text(insert.get(), 1, r.topic.data(), static_cast<int>(r.topic.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert.get(), 2, static_cast<int>(i % 12));
    sqlite3_bind_int64(insert.get(), 3, static_cast<sqlite3_int64>(i));
    sqlite3_bind_int64(insert.get(), 4, 0);
    sqlite3_bind_blob(insert.get(), 5, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert.get(), 6, r.value.data(), static_cast<int>(r.value.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert.get(), 7, headers[i].data(), static_cast<int>(headers[i].size()), SQLITE_STATIC);
    if (sqlite3_step(insert.get()) != SQLITE_DONE) {
      error = sqlite3_errmsg(db.get());
      return {};
    }
    sqlite3_reset(insert.get());
    bytes += r.value.size();
    if (i % 1000 == 999 || i + 1 == records.size()) sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  }
  return finish(started, "publish", "plain-sqlite", records.size(), bytes);
}

measurement raw_sqlite_scan(const std::string& path, std::string& error) {
  auto db = open_db(path, error);
  if (!db) return {};
  sqlite3_stmt* raw = nullptr;
  sqlite3_prepare_v2(db.get(), "SELECT topic, partition, offset, ts, key, value, headers FROM records ORDER BY rowid",
                     -1, &raw, nullptr);
  stmt_handle scan(raw);
  std::size_t rows = 0;
  std::size_t bytes = 0;
  stopwatch started;
  while (sqlite3_step(scan.get()) == SQLITE_ROW) {
    ++rows;
    bytes += static_cast<std::size_t>(sqlite3_column_bytes(scan.get(), 5));
    (void)sqlite3_column_blob(scan.get(), 4);
    (void)sqlite3_column_blob(scan.get(), 5);
    (void)sqlite3_column_blob(scan.get(), 6);
  }
  return finish(started, "consume", "plain-sqlite", rows, bytes);
}

}  // namespace aw::bench
