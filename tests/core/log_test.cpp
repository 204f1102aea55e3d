#include "core/log.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/context.hpp"

namespace aw::events::log {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class log_test : public ::testing::Test {
 protected:
  void SetUp() override { set_min_level(level::debug); }
  void TearDown() override {
    set_min_level(level::info);
    set_format(format::json);
    set_service("");
  }
  static std::string capture(const std::function<void()>& body) {
    ::testing::internal::CaptureStderr();
    body();
    return ::testing::internal::GetCapturedStderr();
  }
};

TEST_F(log_test, json_lines_carry_level_message_and_escaped_fields) {
  const auto line = capture([] { warn("handler \"failed\"", {{"event_id", "e-1"}, {"error", "a\nb"}}); });
  EXPECT_THAT(line, MatchesRegex(R"(\{"ts":"[0-9T:.Z-]+","level":"warn","msg":"handler \\"failed\\"",)"
                                 R"("event_id":"e-1","error":"a\\nb"\}
)"));
}

TEST_F(log_test, lines_inside_an_event_context_carry_its_correlation_and_trace) {
  trace_context trace{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
  set_service("content");
  const auto line = capture([&] {
    context_scope scope(event_context{"req-7", trace});
    info("processed", {{"event_id", "e-1"}});
  });
  EXPECT_THAT(line, HasSubstr(R"("event_id":"e-1","service":"content","correlation_id":"req-7",)"
                              R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"})"));
  // Outside the scope nothing is added but the service.
  const auto outside = capture([] { info("idle"); });
  EXPECT_THAT(outside, Not(HasSubstr("correlation_id")));
  EXPECT_THAT(outside, HasSubstr(R"("service":"content")"));
}

TEST_F(log_test, a_field_given_by_the_caller_wins_over_the_context) {
  const auto line = capture([] {
    context_scope scope(event_context{"from-context", std::nullopt});
    info("x", {{"correlation_id", "explicit"}});
  });
  EXPECT_THAT(line, HasSubstr(R"("correlation_id":"explicit")"));
  EXPECT_THAT(line, Not(HasSubstr("from-context")));
}

TEST_F(log_test, text_format_is_one_readable_line_with_quoted_values_where_needed) {
  set_format(format::text);
  const auto line = capture([] { error("dead-lettered", {{"event_id", "e-1"}, {"error", "bad value"}}); });
  EXPECT_THAT(line, MatchesRegex(R"([0-9T:.Z-]+ ERROR dead-lettered event_id=e-1 error="bad value"
)"));
}

TEST_F(log_test, lines_below_the_minimum_level_are_dropped) {
  set_min_level(level::warn);
  EXPECT_EQ(capture([] { info("quiet"); }), "");
  EXPECT_NE(capture([] { error("loud"); }), "");
}

}  // namespace
}  // namespace aw::events::log
