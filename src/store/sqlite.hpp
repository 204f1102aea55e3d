// Thin RAII layer over the SQLite C API: a connection and its prepared statements, errors as values
// that name the database file and carry SQLite's own message. Internal (not a public header).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "aw/events/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace aw::events::store {

class connection;

// A prepared statement. Owned by the caller; must not outlive its connection. Not thread-safe.
class statement {
 public:
  statement() = default;
  statement(statement&&) noexcept;
  statement& operator=(statement&&) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  // Parameter indexes start at 1, as in SQLite.
  void bind_int64(int index, std::int64_t value) noexcept;
  void bind_null(int index) noexcept;
  // copy = false binds without copying (SQLITE_STATIC): the bytes must stay valid until reset().
  void bind_text(int index, std::string_view value, bool copy = true) noexcept;
  void bind_blob(int index, std::string_view value, bool copy = true) noexcept;

  // Runs one step: true when a row is available, false when done.
  [[nodiscard]] result<bool> step();
  // Runs to completion, ignoring rows; then resets.
  [[nodiscard]] result<void> run();
  // Resets for re-execution and drops bindings (so no dangling SQLITE_STATIC pointer stays bound).
  void reset() noexcept;

  [[nodiscard]] std::int64_t column_int64(int column) const noexcept;
  [[nodiscard]] bool column_is_null(int column) const noexcept;
  // Valid until the next step/reset.
  [[nodiscard]] std::string_view column_blob(int column) const noexcept;
  [[nodiscard]] std::string_view column_text(int column) const noexcept;

  [[nodiscard]] bool valid() const noexcept { return stmt_ != nullptr; }

 private:
  friend class connection;
  statement(sqlite3_stmt* stmt, const connection* owner) : stmt_(stmt), owner_(owner) {}
  sqlite3_stmt* stmt_ = nullptr;
  const connection* owner_ = nullptr;
};

// One SQLite connection. Thread-compatible: use from one thread at a time.
class connection {
 public:
  // Opens (creating when missing) the database at path, with a busy timeout so writers of other
  // processes are waited for instead of failing at once.
  [[nodiscard]] static result<std::unique_ptr<connection>> open(const std::string& path,
                                                                std::chrono::milliseconds busy_timeout);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  [[nodiscard]] result<void> exec(std::string_view sql);
  [[nodiscard]] result<statement> prepare(std::string_view sql);
  // PRAGMA data_version: changes whenever another connection commits to the file.
  [[nodiscard]] result<std::int64_t> data_version();
  [[nodiscard]] bool in_transaction() const noexcept;
  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  [[nodiscard]] std::int64_t changes() const noexcept;

  // storage_error naming the file, what was being done, and SQLite's message.
  [[nodiscard]] error make_storage_error(std::string_view doing) const;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] sqlite3* handle() const noexcept { return db_; }

 private:
  connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unique_ptr<statement> data_version_;
};

// Rolls back on destruction unless committed. BEGIN IMMEDIATE takes the write lock up front, so a
// read-then-write transaction never fails half-way with SQLITE_BUSY.
class transaction {
 public:
  [[nodiscard]] static result<transaction> begin(connection& db, bool immediate);
  transaction(transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  transaction& operator=(transaction&&) = delete;
  transaction(const transaction&) = delete;
  ~transaction();
  [[nodiscard]] result<void> commit();

 private:
  explicit transaction(connection* db) : db_(db) {}
  connection* db_ = nullptr;
};

}  // namespace aw::events::store
