#include "aw/events/context.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace aw::events {
namespace {

TEST(context_scope, scopes_nest_and_restore_and_are_per_thread) {
  EXPECT_EQ(current_context(), nullptr);
  {
    context_scope outer(event_context{"outer", std::nullopt});
    EXPECT_EQ(current_context()->correlation_id, "outer");
    {
      context_scope inner(event_context{"inner", trace_context{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"}});
      EXPECT_EQ(current_context()->correlation_id, "inner");
      std::thread([] { EXPECT_EQ(current_context(), nullptr); }).join();
    }
    EXPECT_EQ(current_context()->correlation_id, "outer");
    EXPECT_FALSE(current_context()->trace.has_value());
  }
  EXPECT_EQ(current_context(), nullptr);
}

}  // namespace
}  // namespace aw::events
