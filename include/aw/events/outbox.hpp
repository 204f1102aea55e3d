// Transactional outbox (the standard's "ensure events are published"): a service writes its domain change
// and the events that announce it in ONE SQLite transaction of its own database; a relay publishes the
// committed events in order and marks them sent. An event of a rolled-back transaction never leaves; an
// event of a committed one always does (at least once — consumers dedup by event id).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aw/events/publisher.hpp"
#include "aw/events/result.hpp"

struct sqlite3;  // for native_handle only; the header does not include sqlite3.h

namespace aw::events {

class event_catalog;

// The open transaction handed to outbox::transact: domain writes and staged events commit together.
class outbox_transaction {
 public:
  using value = std::variant<std::nullptr_t, std::int64_t, std::string_view>;
  virtual ~outbox_transaction() = default;
  // One SQL statement with positional parameters (?1, ?2, …).
  [[nodiscard]] virtual result<void> execute(std::string_view sql, std::initializer_list<value> params = {}) = 0;
  // First column of the first row as an integer; nullopt when there is no row.
  [[nodiscard]] virtual result<std::optional<std::int64_t>> query_int64(std::string_view sql,
                                                                       std::initializer_list<value> params = {}) = 0;
  // Builds and validates the event now (id, timestamp, correlation and trace from options or the current
  // context, catalog check when configured) and stages it in this transaction. Returns the event id.
  [[nodiscard]] virtual result<std::string> stage(std::string_view type, std::string_view data_json,
                                                  publish_options options) = 0;
  // The SQLite connection, for what the calls above cannot do. Do not BEGIN/COMMIT on it.
  [[nodiscard]] virtual sqlite3* native_handle() noexcept = 0;
};

struct outbox_config {
  std::string path;     // the service's SQLite database (created when missing); table aw_outbox is added
  std::string service;  // meta.source of staged events; required
  topic_strategy topics = topic_strategy::per_service;
  std::shared_ptr<const event_catalog> catalog;  // when set, staged events are checked against it
  std::chrono::milliseconds busy_timeout{10000};
  [[nodiscard]] result<void> validate() const;
};

// One committed, unsent event.
struct outbox_row {
  std::int64_t sequence = 0;  // commit order
  std::string topic;
  std::string key;
  std::string envelope_json;
  std::string event_id;
};

// Where the relay reads from. SQLite here; another SQL store implements these two calls.
class outbox_store {
 public:
  virtual ~outbox_store() = default;
  // The oldest unsent rows, in sequence order.
  [[nodiscard]] virtual result<std::vector<outbox_row>> unsent(std::size_t max) = 0;
  [[nodiscard]] virtual result<void> mark_sent(const std::vector<std::int64_t>& sequences) = 0;
};

class outbox final : public outbox_store {
 public:
  [[nodiscard]] static result<std::unique_ptr<outbox>> open(outbox_config config);
  ~outbox() override;
  outbox(const outbox&) = delete;
  outbox& operator=(const outbox&) = delete;

  // Runs body in one IMMEDIATE transaction: committed when body succeeds, rolled back (domain writes and
  // staged events alike) when it returns an error or throws. Thread-safe (transactions are serialized).
  [[nodiscard]] result<void> transact(const std::function<result<void>(outbox_transaction&)>& body);

  [[nodiscard]] result<std::vector<outbox_row>> unsent(std::size_t max) override;
  [[nodiscard]] result<void> mark_sent(const std::vector<std::int64_t>& sequences) override;
  // Unsent rows and the age of the oldest, for monitoring.
  [[nodiscard]] result<std::int64_t> depth();

 private:
  struct impl;
  explicit outbox(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

struct outbox_relay_config {
  std::size_t batch = 256;                    // rows per round
  std::chrono::milliseconds idle_poll{100};   // wait between rounds when nothing was unsent
  std::chrono::milliseconds delivery_timeout{30000};
};

// Publishes unsent rows in order through a publisher (publish_envelope: the stored event byte-for-byte
// semantics, standard headers) and marks each batch sent once every row of it was acknowledged. A crash
// between the acknowledgement and the mark re-sends the batch: consumers dedup by event id.
class outbox_relay {
 public:
  outbox_relay(std::shared_ptr<outbox_store> store, std::shared_ptr<publisher> publisher,
               outbox_relay_config config = {});
  // One round: returns how many rows were published and marked sent. An error leaves the rows unsent.
  [[nodiscard]] result<std::size_t> run_once();
  // Rounds until stop(); returns the first error that is not retriable, else the rows sent.
  [[nodiscard]] result<std::uint64_t> run();
  void stop() noexcept { stop_.store(true); }

 private:
  std::shared_ptr<outbox_store> store_;
  std::shared_ptr<publisher> publisher_;
  outbox_relay_config config_;
  std::atomic<bool> stop_{false};
};

}  // namespace aw::events
