// Grant and subscription patterns: parsing, matching types, and one pattern covering another.
#include "gateway/event_patterns.hpp"

#include <gtest/gtest.h>

namespace aw::events::gateway {
namespace {

event_pattern p(std::string_view text) {
  auto parsed = parse_event_pattern(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(event_pattern{});
}

TEST(event_patterns, short_patterns_ending_in_star_cover_the_rest) {
  EXPECT_EQ(p("content.*").text(), "content.*.*");
  EXPECT_EQ(p("*").text(), "*.*.*");
  EXPECT_EQ(p("content.book.*").text(), "content.book.*");
  EXPECT_EQ(p("content.*.published").text(), "content.*.published");
}

TEST(event_patterns, refuses_malformed_patterns_naming_the_problem) {
  for (auto bad : {"", "content", "content.book", "Content.*", "content..*", "content.book.published.extra",
                   "content.bo-ok.*", "content.b*", "1content.*"}) {
    auto parsed = parse_event_pattern(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find("pattern"), std::string::npos);
  }
}

TEST(event_patterns, matches_event_types_segment_by_segment) {
  EXPECT_TRUE(p("content.book.*").matches("content.book.published"));
  EXPECT_FALSE(p("content.book.*").matches("content.chapter.published"));
  EXPECT_FALSE(p("content.book.*").matches("contents.book.published"));
  EXPECT_TRUE(p("content.*").matches("content.chapter.added"));
  EXPECT_TRUE(p("content.*.published").matches("content.book.published"));
  EXPECT_FALSE(p("content.*.published").matches("content.book.deleted"));
  EXPECT_FALSE(p("content.book.*").matches("content.book"));
  EXPECT_FALSE(p("content.book.*").matches("content.book.published.x"));
  EXPECT_FALSE(p("*").matches(""));
}

TEST(event_patterns, a_request_is_granted_only_when_a_grant_covers_all_of_it) {
  const std::vector<event_pattern> grants{p("content.book.*"), p("content.chapter.added")};
  EXPECT_TRUE(granted(grants, p("content.book.*")));
  EXPECT_TRUE(granted(grants, p("content.book.published")));
  EXPECT_TRUE(granted(grants, p("content.chapter.added")));
  EXPECT_FALSE(granted(grants, p("content.*")));
  EXPECT_FALSE(granted(grants, p("content.chapter.*")));
  EXPECT_FALSE(granted(grants, p("content.*.published")));
  EXPECT_FALSE(granted(grants, p("billing.book.published")));
  EXPECT_TRUE(granted({p("*")}, p("billing.invoice.*")));
  EXPECT_FALSE(granted({}, p("content.book.published")));
}

}  // namespace
}  // namespace aw::events::gateway
