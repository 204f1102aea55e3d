#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "aw/events/envelope.hpp"
#include "core/sample_events.hpp"

namespace aw::events {
namespace {

using testing::sample_envelope;

std::string describe(const std::vector<validation_error>& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.instance_location + " | " + e.keyword_location + " | " + e.message;
  return out;
}

TEST(validate_envelope, accepts_a_valid_event) { EXPECT_THAT(validate_envelope(sample_envelope()), ::testing::IsEmpty()); }

TEST(validate_envelope, accepts_well_formed_extra_members) {
  envelope e = sample_envelope();
  e.meta.extra_members = R"("tenant":"t-1","n":{"a":[1,2]})";
  EXPECT_THAT(validate_envelope(e), ::testing::IsEmpty());
}

struct broken_field {
  const char* name;
  std::function<void(envelope&)> ruin;
  std::string instance_location;
  std::string keyword_location;
};

void PrintTo(const broken_field& c, std::ostream* os) { *os << c.name; }

std::vector<broken_field> broken_fields() {
  return {
      {"id_empty", [](envelope& e) { e.meta.id.clear(); }, "/meta/id", "/envelope/meta/id/format"},
      {"id_v1", [](envelope& e) { e.meta.id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"; }, "/meta/id", "/envelope/meta/id/format"},
      {"type_two_segments", [](envelope& e) { e.meta.type = "content.book"; }, "/meta/type", "/envelope/meta/type/format"},
      {"type_upper", [](envelope& e) { e.meta.type = "Content.book.published"; }, "/meta/type", "/envelope/meta/type/format"},
      {"version_empty", [](envelope& e) { e.meta.version.clear(); }, "/meta/version", "/envelope/meta/version/format"},
      {"version_zero_major", [](envelope& e) { e.meta.version = "0.9"; }, "/meta/version", "/envelope/meta/version/format"},
      {"timestamp_offset", [](envelope& e) { e.meta.timestamp = "2023-06-15T14:22:31.123+01:00"; }, "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_feb_30", [](envelope& e) { e.meta.timestamp = "2024-02-30T00:00:00.000Z"; }, "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"correlation_empty", [](envelope& e) { e.meta.correlation_id.clear(); }, "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_too_long", [](envelope& e) { e.meta.correlation_id.assign(257, 'x'); }, "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_newline", [](envelope& e) { e.meta.correlation_id = "a\nb"; }, "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_bad_utf8", [](envelope& e) { e.meta.correlation_id = "a\xc3"; }, "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"source_empty", [](envelope& e) { e.meta.source.clear(); }, "/meta/source", "/envelope/meta/source/format"},
      {"source_dot", [](envelope& e) { e.meta.source = "content.svc"; }, "/meta/source", "/envelope/meta/source/format"},
      {"trace_id_empty", [](envelope& e) { e.meta.trace.trace_id.clear(); }, "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/format"},
      {"trace_id_zero", [](envelope& e) { e.meta.trace.trace_id.assign(32, '0'); }, "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/format"},
      {"span_id_upper", [](envelope& e) { e.meta.trace.span_id = "00F067AA0BA902B7"; }, "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/format"},
      {"data_empty", [](envelope& e) { e.data.clear(); }, "/data", "/envelope/data/json"},
      {"data_malformed", [](envelope& e) { e.data = R"({"a":})"; }, "/data", "/envelope/data/json"},
      {"data_trailing", [](envelope& e) { e.data = R"({"a":1} {})"; }, "/data", "/envelope/data/json"},
      {"data_bad_utf8", [](envelope& e) { e.data = "{\"a\":\"\xff\"}"; }, "/data", "/envelope/data/json"},
      {"data_array", [](envelope& e) { e.data = "[]"; }, "/data", "/envelope/data/type"},
      {"data_number", [](envelope& e) { e.data = "1"; }, "/data", "/envelope/data/type"},
      {"extra_malformed", [](envelope& e) { e.meta.extra_members = R"("a":)"; }, "/meta", "/envelope/meta/extra_members"},
      {"extra_not_members", [](envelope& e) { e.meta.extra_members = R"([1,2])"; }, "/meta", "/envelope/meta/extra_members"},
      {"extra_leading_comma", [](envelope& e) { e.meta.extra_members = R"(,"a":1)"; }, "/meta", "/envelope/meta/extra_members"},
      {"extra_repeats_standard", [](envelope& e) { e.meta.extra_members = R"("source":"other")"; }, "/meta/source", "/envelope/meta/source/extra_members"},
      {"extra_duplicate", [](envelope& e) { e.meta.extra_members = R"("x":1,"x":2)"; }, "/meta/x", "/envelope/meta/x/duplicate"},
  };
}

class validate_envelope_rejects : public ::testing::TestWithParam<broken_field> {};

TEST_P(validate_envelope_rejects, exactly_the_broken_field) {
  envelope e = sample_envelope();
  GetParam().ruin(e);
  const auto errors = validate_envelope(e);
  ASSERT_EQ(errors.size(), 1u) << describe(errors);
  EXPECT_EQ(errors[0].instance_location, GetParam().instance_location) << describe(errors);
  EXPECT_EQ(errors[0].keyword_location, GetParam().keyword_location) << describe(errors);
  EXPECT_FALSE(errors[0].message.empty());
}

INSTANTIATE_TEST_SUITE_P(rules, validate_envelope_rejects, ::testing::ValuesIn(broken_fields()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(validate_envelope, agrees_with_the_decoder_on_every_broken_field) {
  // What validate_envelope rejects on a struct, the decoder rejects on the wire at the same place.
  for (const auto& c : broken_fields()) {
    if (std::string_view(c.name).starts_with("data_") || std::string_view(c.name).starts_with("extra_") ||
        std::string_view(c.name) == "correlation_bad_utf8") {
      continue;  // these break the JSON itself once encoded
    }
    envelope e = sample_envelope();
    c.ruin(e);
    auto decoded = decode_envelope(encode(e));
    ASSERT_FALSE(decoded) << c.name;
    ASSERT_EQ(decoded.error().details.size(), 1u) << c.name;
    EXPECT_EQ(decoded.error().details[0], validate_envelope(e).at(0)) << c.name;
  }
}

TEST(validate_envelope, reports_all_problems_together) {
  envelope e;
  const auto errors = validate_envelope(e);
  std::vector<std::string> locations;
  for (const auto& err : errors) locations.push_back(err.instance_location);
  EXPECT_THAT(locations, ::testing::ElementsAre("/meta/id", "/meta/type", "/meta/version", "/meta/timestamp",
                                                "/meta/correlation_id", "/meta/source", "/meta/trace_context/trace_id",
                                                "/meta/trace_context/span_id", "/data"));
}

TEST(validate_envelope, message_quotes_a_bad_value_but_never_invalid_utf8) {
  envelope e = sample_envelope();
  e.meta.type = "Content.Book";
  auto errors = validate_envelope(e);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, ::testing::HasSubstr(R"(found "Content.Book")"));

  e = sample_envelope();
  e.meta.correlation_id = "\xff";
  errors = validate_envelope(e);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "must be valid UTF-8");

  e = sample_envelope();
  e.meta.id = std::string(200, 'z');
  errors = validate_envelope(e);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, ::testing::HasSubstr("zzz...\""));
  EXPECT_LT(errors[0].message.size(), 250u);
}

TEST(is_event_type, accepts_three_lowercase_snake_case_segments) {
  for (const char* good : {"content.book.published", "a.b.c", "user_profile.avatar_image.changed_v2", "a1.b2.c3"}) {
    EXPECT_TRUE(is_event_type(good)) << good;
  }
  for (const char* bad : {"", "content", "content.book", "content.book.published.now", ".book.published",
                          "content.book.", "content..published", "_content.book.published", "content.book_.published",
                          "content.bo__ok.published", "content.2book.published", "content.Book.published",
                          "content.book-x.published", "content.book.pub lished", "content.book.published "}) {
    EXPECT_FALSE(is_event_type(bad)) << bad;
  }
}

TEST(is_event_version, accepts_major_at_least_one_dot_minor_without_leading_zeros) {
  for (const char* good : {"1.0", "1.10", "2.3", "10.0", "999999999.999999999"}) EXPECT_TRUE(is_event_version(good)) << good;
  for (const char* bad : {"", "1", "1.", ".0", "0.0", "0.1", "01.0", "1.00", "1.01", "1.0.0", "+1.0", "-1.0", "1.0a",
                          "a.0", "1,0", " 1.0", "1000000000.0"}) {
    EXPECT_FALSE(is_event_version(bad)) << bad;
  }
}

}  // namespace
}  // namespace aw::events
