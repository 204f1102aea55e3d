#include "pipeline/timer_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace aw::events::detail {
namespace {

using namespace std::chrono_literals;

TEST(timer_queue, runs_tasks_in_deadline_order) {
  timer_queue queue;
  std::mutex mutex;
  std::vector<int> order;
  std::promise<void> done;
  const auto now = timer_queue::clock::now();
  auto add = [&](int id, std::chrono::milliseconds delay, bool last = false) {
    queue.schedule(now + delay, [&, id, last](bool cancelled) {
      EXPECT_FALSE(cancelled);
      std::lock_guard lock(mutex);
      order.push_back(id);
      if (last) done.set_value();
    });
  };
  add(3, 30ms, true);
  add(1, 10ms);
  add(2, 20ms);
  done.get_future().wait();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(timer_queue, shutdown_runs_pending_tasks_as_cancelled_so_nothing_vanishes) {
  std::atomic<int> cancelled{0};
  {
    timer_queue queue;
    for (int i = 0; i < 3; ++i) {
      queue.schedule(timer_queue::clock::now() + 1h, [&](bool c) {
        if (c) ++cancelled;
      });
    }
    EXPECT_EQ(queue.pending(), 3u);
  }
  EXPECT_EQ(cancelled.load(), 3);
}

TEST(timer_queue, a_throwing_task_does_not_stop_the_queue) {
  timer_queue queue;
  std::promise<void> ran;
  queue.schedule(timer_queue::clock::now(), [](bool) { throw std::runtime_error("boom"); });
  queue.schedule(timer_queue::clock::now() + 5ms, [&](bool) { ran.set_value(); });
  EXPECT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
}

}  // namespace
}  // namespace aw::events::detail
