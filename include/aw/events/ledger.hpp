// The dedup and status ledger of a consumer (DESIGN.md §4): one history per (consumer group, event id),
// states received → processing → retrying(n) → succeeded | dead_lettered. SQLite by default (batched: one
// transaction per batch of events, never one fsync per event), in memory as an option. With SQLite the
// batch transaction doubles as the transactional inbox: a handler's own writes and the processed mark
// commit together.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aw/events/result.hpp"

struct sqlite3;  // for inbox_transaction::native_handle only; the header does not include sqlite3.h

namespace aw::events {

enum class processing_state { received, processing, retrying, succeeded, dead_lettered, duplicate_skipped };

[[nodiscard]] std::string_view to_string(processing_state state) noexcept;
[[nodiscard]] std::optional<processing_state> parse_processing_state(std::string_view text) noexcept;

// One transition of one event in one group.
struct ledger_entry {
  std::string group;
  std::string event_id;
  processing_state state = processing_state::received;
  int attempt = 0;               // attempts made so far (retrying: the failed attempt's number)
  std::int64_t at_ms = 0;        // when, ms since the epoch (UTC)
  std::string error;             // last error ("" when none)
  std::string correlation_id;
  std::string type;
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// A transition as the subscriber records it: views into its own buffers, so recording allocates nothing.
struct ledger_transition {
  std::string_view group;
  std::string_view event_id;
  processing_state state = processing_state::received;
  int attempt = 0;
  std::int64_t at_ms = 0;  // 0 = now
  std::string_view error;
  std::string_view correlation_id;
  std::string_view type;
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// What the ledger knows of an event when it is delivered again.
struct ledger_status {
  processing_state state = processing_state::received;
  int attempts = 0;
};

// A handle on the ledger's open batch transaction, given to inbox handlers. Writes made through it commit
// together with the event's processed mark, or not at all (a savepoint per handler call is rolled back when
// the handler fails). Valid during the handler call only; not thread-safe.
class inbox_transaction {
 public:
  using value = std::variant<std::nullptr_t, std::int64_t, std::string_view>;
  virtual ~inbox_transaction() = default;
  // Runs one SQL statement with positional parameters (?1, ?2, …). Statements are cached by text.
  [[nodiscard]] virtual result<void> execute(std::string_view sql, std::initializer_list<value> params = {}) = 0;
  // First column of the first row as an integer, nullopt when there is no row.
  [[nodiscard]] virtual result<std::optional<std::int64_t>> query_int64(std::string_view sql,
                                                                       std::initializer_list<value> params = {}) = 0;
  // The SQLite connection, for what the two calls above cannot do. Do not BEGIN/COMMIT on it.
  [[nodiscard]] virtual sqlite3* native_handle() noexcept = 0;
};

class status_ledger {
 public:
  virtual ~status_ledger() = default;
  // What is known of (group, event id), including transitions not yet flushed; nullopt when never seen.
  [[nodiscard]] virtual result<std::optional<ledger_status>> lookup(std::string_view group, std::string_view event_id) = 0;
  // Appends a transition to the current batch (not yet durable).
  [[nodiscard]] virtual result<void> record(const ledger_transition& entry) = 0;
  // Makes the current batch durable (one transaction). The subscriber calls it before storing offsets.
  [[nodiscard]] virtual result<void> flush() = 0;
  // Transitions appended since the last flush.
  [[nodiscard]] virtual std::size_t pending() const noexcept = 0;
  // Every transition of an event (all groups), or of every event with a correlation id, oldest first.
  [[nodiscard]] virtual result<std::vector<ledger_entry>> history_of_event(std::string_view event_id) = 0;
  [[nodiscard]] virtual result<std::vector<ledger_entry>> history_of_correlation(std::string_view correlation_id) = 0;
  // Deletes histories whose last transition is older than the retention; returns how many rows went.
  [[nodiscard]] virtual result<std::int64_t> prune() = 0;
  // The inbox handle on the current batch, opening a batch when none is open; null when the ledger has no
  // transactions (in-memory).
  [[nodiscard]] virtual result<inbox_transaction*> inbox() = 0;
  // Savepoints around one handler call (used by the subscriber for inbox handlers).
  [[nodiscard]] virtual result<void> begin_handler() = 0;
  [[nodiscard]] virtual result<void> end_handler(bool keep) = 0;
};

struct sqlite_ledger_options {
  std::string path;  // the ledger file; parent directories are created
  // Kept at least as long as the topics' retention (7 days by default) so a redelivered event is still known.
  std::chrono::hours retention{24 * 8};
  std::chrono::milliseconds busy_timeout{10000};
  [[nodiscard]] result<void> validate() const;
};

[[nodiscard]] result<std::shared_ptr<status_ledger>> open_sqlite_ledger(sqlite_ledger_options options);

// In-memory ledger: nothing survives the process. Bounded: beyond max_events the oldest events are forgotten.
[[nodiscard]] std::shared_ptr<status_ledger> make_memory_ledger(std::size_t max_events = 1'000'000,
                                                                std::chrono::hours retention = std::chrono::hours(24 * 8));

// The default ledger file next to an embedded store: "<dir>/<stem>.ledger.db" for "<dir>/<stem>.db".
[[nodiscard]] std::string ledger_path_for_store(std::string_view store_path);

}  // namespace aw::events
