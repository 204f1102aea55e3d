#include "aw/events/retry.hpp"

#include <gtest/gtest.h>

namespace aw::events {
namespace {

using namespace std::chrono_literals;

TEST(retry_policy, defaults_follow_the_standard_backoff) {
  retry_policy p;
  EXPECT_EQ(p.initial, 200ms);
  EXPECT_EQ(p.max, 30s);
  EXPECT_EQ(p.max_attempts, 8);
  EXPECT_EQ(p.ceiling(1), 200ms);
  EXPECT_EQ(p.ceiling(2), 400ms);
  EXPECT_EQ(p.ceiling(5), 3200ms);
  EXPECT_EQ(p.ceiling(20), 30s);
}

TEST(retry_policy, full_jitter_spreads_delays_over_zero_to_the_ceiling) {
  retry_policy p;
  std::chrono::milliseconds lowest = 1h, highest = 0ms;
  for (int i = 0; i < 2000; ++i) {
    const auto d = p.backoff(3);
    ASSERT_GE(d, 0ms);
    ASSERT_LE(d, 800ms);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_LT(lowest, 100ms);
  EXPECT_GT(highest, 700ms);
}

TEST(retry_policy, invalid_settings_name_the_field) {
  auto bad = [](retry_policy p) { return p.validate().error().message; };
  EXPECT_NE(bad({.max_attempts = 0}).find("max_attempts"), std::string::npos);
  EXPECT_NE(bad({.multiplier = 0.5}).find("multiplier"), std::string::npos);
  EXPECT_NE(bad({.initial = 10s, .max = 1s}).find("max"), std::string::npos);
  EXPECT_TRUE(retry_policy{}.validate());
}

}  // namespace
}  // namespace aw::events
