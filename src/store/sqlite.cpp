#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace aw::events::store {

statement::statement(statement&& other) noexcept : stmt_(other.stmt_), owner_(other.owner_) {
  other.stmt_ = nullptr;
}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    owner_ = other.owner_;
    other.stmt_ = nullptr;
  }
  return *this;
}

statement::~statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void statement::bind_int64(int index, std::int64_t value) noexcept { sqlite3_bind_int64(stmt_, index, value); }
void statement::bind_null(int index) noexcept { sqlite3_bind_null(stmt_, index); }

void statement::bind_text(int index, std::string_view value, bool copy) noexcept {
  // As for blobs: an empty view may have a null pointer, which would bind NULL instead of ''.
  const char* data = value.data() != nullptr ? value.data() : "";
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(value.size()), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

void statement::bind_blob(int index, std::string_view value, bool copy) noexcept {
  // A zero-length blob with a null pointer would bind NULL; keep empty values as empty blobs.
  const char* data = value.data() != nullptr ? value.data() : "";
  sqlite3_bind_blob(stmt_, index, data, static_cast<int>(value.size()), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

result<bool> statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  auto err = owner_->make_storage_error(sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return make_error(std::move(err));
}

result<void> statement::run() {
  for (;;) {
    auto more = step();
    if (!more) {
      reset();
      return make_error(more.error());
    }
    if (!*more) break;
  }
  reset();
  return {};
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::column_int64(int column) const noexcept { return sqlite3_column_int64(stmt_, column); }

bool statement::column_is_null(int column) const noexcept { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string_view statement::column_blob(int column) const noexcept {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return {static_cast<const char*>(data), static_cast<std::size_t>(size)};
}

std::string_view statement::column_text(int column) const noexcept {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(size)};
}

result<std::unique_ptr<connection>> connection::open(const std::string& path, std::chrono::milliseconds busy_timeout) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = path + ": cannot open SQLite database: " +
                          (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return make_error(errc::storage_error, std::move(message));
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  return std::unique_ptr<connection>(new connection(db, path));
}

connection::~connection() {
  data_version_.reset();
  // close_v2 defers the close until every statement is finalized, so member order does not matter.
  sqlite3_close_v2(db_);
}

result<void> connection::exec(std::string_view sql) {
  std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return make_error(errc::storage_error, path_ + ": " + text + ": " + detail);
  }
  return {};
}

result<statement> connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                    nullptr);
  if (rc != SQLITE_OK) return make_error(make_storage_error("prepare " + std::string(sql)));
  return statement(stmt, this);
}

result<std::int64_t> connection::data_version() {
  if (!data_version_) {
    auto stmt = prepare("PRAGMA data_version");
    if (!stmt) return make_error(stmt.error());
    data_version_ = std::make_unique<statement>(std::move(*stmt));
  }
  auto row = data_version_->step();
  if (!row) return make_error(row.error());
  const std::int64_t version = *row ? data_version_->column_int64(0) : -1;
  data_version_->reset();
  return version;
}

std::int64_t connection::changes() const noexcept { return sqlite3_changes64(db_); }

bool connection::in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

error connection::make_storage_error(std::string_view doing) const {
  std::string message = path_;
  message += ": ";
  message += doing;
  message += ": ";
  message += sqlite3_errmsg(db_);
  return error{errc::storage_error, std::move(message), is_retriable(errc::storage_error), {}};
}

result<transaction> transaction::begin(connection& db, bool immediate) {
  if (auto ok = db.exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN"); !ok) return make_error(ok.error());
  return transaction(&db);
}

transaction::~transaction() {
  if (db_ != nullptr && db_->in_transaction()) (void)db_->exec("ROLLBACK");
}

result<void> transaction::commit() {
  if (db_ == nullptr) return make_error(errc::internal, "transaction committed twice");
  auto ok = db_->exec("COMMIT");
  if (!ok) return ok;  // the destructor rolls back
  db_ = nullptr;
  return {};
}

}  // namespace aw::events::store
