// One thread running delayed tasks in deadline order (publisher and subscriber retries).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace aw::events::detail {

class timer_queue {
 public:
  using clock = std::chrono::steady_clock;
  // A task gets `cancelled = true` when the queue shuts down before its deadline: it must still finish
  // its work (report an error), never vanish.
  using task = std::function<void(bool cancelled)>;

  timer_queue();
  ~timer_queue();  // runs every pending task with cancelled = true, then joins
  timer_queue(const timer_queue&) = delete;
  timer_queue& operator=(const timer_queue&) = delete;

  void schedule(clock::time_point deadline, task t);
  [[nodiscard]] std::size_t pending() const;

 private:
  struct entry {
    clock::time_point deadline;
    std::uint64_t sequence;  // keeps FIFO order for equal deadlines
    task run;
    bool operator>(const entry& other) const {
      return deadline != other.deadline ? deadline > other.deadline : sequence > other.sequence;
    }
  };
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<entry, std::vector<entry>, std::greater<>> entries_;
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace aw::events::detail
