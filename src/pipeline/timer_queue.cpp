#include "pipeline/timer_queue.hpp"

#include "core/log.hpp"

namespace aw::events::detail {

timer_queue::timer_queue() : thread_([this] { loop(); }) {}

timer_queue::~timer_queue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void timer_queue::schedule(clock::time_point deadline, task t) {
  bool cancelled = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) cancelled = true;
    else entries_.push(entry{deadline, next_sequence_++, std::move(t)});
  }
  if (cancelled) t(true);
  else wake_.notify_one();
}

std::size_t timer_queue::pending() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

void timer_queue::loop() {
  std::unique_lock lock(mutex_);
  // Runs the earliest task outside the lock; a task that throws is logged and the queue goes on.
  auto run_first = [&](bool cancelled) {
    auto run = std::move(const_cast<entry&>(entries_.top()).run);
    entries_.pop();
    lock.unlock();
    try {
      run(cancelled);
    } catch (const std::exception& e) {
      log::error("timer task threw", {{"error", e.what()}});
    }
    lock.lock();
  };
  while (!stopping_) {
    if (entries_.empty()) {
      wake_.wait(lock);
    } else if (const auto deadline = entries_.top().deadline; clock::now() < deadline) {
      wake_.wait_until(lock, deadline);
    } else {
      run_first(false);
    }
  }
  while (!entries_.empty()) run_first(true);
}

}  // namespace aw::events::detail
