#include "pipeline/spool_drain.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>

namespace aw::events {

result<drain_report> drain_spool(store::spool& spool, producer& producer, std::string_view service,
                                 std::size_t batch, std::chrono::milliseconds timeout) {
  drain_report report;
  while (true) {
    auto records = spool.oldest(batch, service);
    if (!records) return make_error(records.error());
    if (records->empty()) break;
    // Every report of the batch lands in its slot; the batch is judged once all have come in.
    struct state {
      std::mutex mutex;
      std::condition_variable done;
      std::size_t reported = 0;
      std::vector<bool> arrived;                  // per record: its report came in
      std::vector<std::optional<error>> outcome;  // per record: the failure, if it failed
    };
    auto shared = std::make_shared<state>();
    shared->arrived.resize(records->size());
    shared->outcome.resize(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      producer.produce((*records)[i].rec, [shared, i](result<delivery_report> r) {
        std::lock_guard lock(shared->mutex);
        if (!r) shared->outcome[i] = r.error();
        shared->arrived[i] = true;
        ++shared->reported;
        shared->done.notify_all();
      });
    }
    std::unique_lock lock(shared->mutex);
    const auto expected = records->size();
    // On timeout, judge what came in; records still without a report stay spooled and are sent again later.
    (void)shared->done.wait_for(lock, timeout, [&] { return shared->reported == expected; });
    std::vector<std::int64_t> delivered;
    std::optional<error> failure;
    for (std::size_t i = 0; i < expected; ++i) {
      if (!shared->arrived[i]) {
        failure = error{errc::timeout, "no delivery report within " + std::to_string(timeout.count()) + " ms", true, {}};
      } else if (shared->outcome[i]) {
        failure = shared->outcome[i];
      }
      if (failure) {
        failure->message = "spooled event " + (*records)[i].event_id + ": " + failure->message;
        break;
      }
      delivered.push_back((*records)[i].sequence);
    }
    lock.unlock();
    if (auto removed = spool.remove(delivered); !removed) return make_error(removed.error());
    report.sent += delivered.size();
    if (failure) return make_error(*failure);
  }
  auto stats = spool.stats(service);
  if (!stats) return make_error(stats.error());
  report.left = stats->depth;
  return report;
}

}  // namespace aw::events
