#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/envelope.hpp"
#include "core/json_check.hpp"
#include "core/sample_events.hpp"

namespace aw::events {
namespace {

using testing::sample_envelope;
using testing::sample_json;

TEST(encode, writes_compact_json_with_meta_members_in_standard_order) {
  EXPECT_EQ(encode(sample_envelope()), sample_json());
}

TEST(encode, writes_extra_members_after_the_standard_ones_and_data_verbatim) {
  envelope e = sample_envelope();
  e.meta.extra_members = R"("tenant":"t-1","flags" : [1, 2])";
  e.data = "{ \"spaced\" : 1.50 }";
  const std::string json = encode(e);
  EXPECT_THAT(json, ::testing::HasSubstr(R"("span_id":"00f067aa0ba902b7"},"tenant":"t-1","flags" : [1, 2]},)"));
  EXPECT_THAT(json, ::testing::EndsWith(R"("data":{ "spaced" : 1.50 }})"));
  EXPECT_FALSE(detail::check_json_object(json, ""));
}

TEST(encode, escapes_meta_strings) {
  envelope e = sample_envelope();
  e.meta.correlation_id = "a\"b\\c\nd\x01";
  const std::string json = encode(e);
  EXPECT_THAT(json, ::testing::HasSubstr(R"("correlation_id":"a\"b\\c\nd\u0001")"));
  EXPECT_FALSE(detail::check_json_object(json, ""));
}

TEST(encode_to, appends_to_existing_text) {
  std::string out = "prefix:";
  encode_to(sample_envelope(), out);
  EXPECT_EQ(out, "prefix:" + sample_json());
}

TEST(encode, round_trips_through_the_decoder) {
  envelope e = sample_envelope();
  e.meta.extra_members = R"("x":{"y":[null]})";
  auto decoded = decode_envelope(encode(e));
  ASSERT_TRUE(decoded) << decoded.error().describe();
  EXPECT_EQ(*decoded, e);
}

TEST(envelope, service_is_the_first_type_segment) {
  envelope e = sample_envelope();
  EXPECT_EQ(e.service(), "content");
  e.meta.type = "user_profile.avatar.changed";
  EXPECT_EQ(e.service(), "user_profile");
  e.meta.type = "nodots";
  EXPECT_EQ(e.service(), "nodots");
  e.meta.type = "";
  EXPECT_EQ(e.service(), "");
}

TEST(envelope, major_version_parses_valid_versions_only) {
  envelope e = sample_envelope();
  EXPECT_EQ(e.major_version(), 1);
  e.meta.version = "12.34";
  EXPECT_EQ(e.major_version(), 12);
  e.meta.version = "999999999.0";
  EXPECT_EQ(e.major_version(), 999999999);
  for (const char* bad : {"", "1", "01.0", "0.5", "1.0.0", "a.b", "1.", ".1", "1234567890.0", "-1.0"}) {
    e.meta.version = bad;
    EXPECT_EQ(e.major_version(), -1) << bad;
  }
}

}  // namespace
}  // namespace aw::events
