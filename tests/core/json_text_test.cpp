#include <gtest/gtest.h>

#include <string>

#include "core/json_check.hpp"
#include "core/json_text.hpp"

namespace aw::events::detail {
namespace {

TEST(json_string, quotes_and_escapes_per_rfc8259) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("plain"), R"("plain")");
  EXPECT_EQ(json_string("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_string(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");
  EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x98\x83"), "\"caf\xc3\xa9 \xe2\x98\x83\"");
}

TEST(json_string, output_parses_back_to_the_input_for_every_byte_below_0x80) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  const std::string doc = "{\"k\":" + json_string(all) + "}";
  EXPECT_FALSE(check_json_object(doc, ""));
}

TEST(append_json_string, appends_without_touching_the_prefix) {
  std::string out = "x=";
  append_json_string(out, "a\"");
  EXPECT_EQ(out, R"(x="a\"")");
}

TEST(pointer_token, escapes_tilde_before_slash) {
  EXPECT_EQ(pointer_token("plain"), "plain");
  EXPECT_EQ(pointer_token("a/b"), "a~1b");
  EXPECT_EQ(pointer_token("a~b"), "a~0b");
  EXPECT_EQ(pointer_token("~1"), "~01");
  EXPECT_EQ(pointer_token(""), "");
}

TEST(is_valid_utf8, accepts_well_formed_sequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("ascii"));
  EXPECT_TRUE(is_valid_utf8(std::string("\0", 1)));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));          // U+0080
  EXPECT_TRUE(is_valid_utf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xe0\xa0\x80"));      // U+0800
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(is_valid_utf8, rejects_malformed_sequences) {
  for (const char* bad : {
           "\x80",              // lone continuation
           "\xc2",              // truncated
           "\xe2\x82",          // truncated
           "\xc0\xaf",          // overlong '/'
           "\xe0\x80\xaf",      // overlong
           "\xf0\x80\x80\xaf",  // overlong
           "\xed\xa0\x80",      // surrogate U+D800
           "\xed\xbf\xbf",      // surrogate U+DFFF
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf8\x88\x80\x80\x80", "\xff", "\xfe", "a\xc3(b",
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << "bytes: " << base64_encode(bad);
  }
}

TEST(base64_encode, matches_rfc4648_test_vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(check_json_object, accepts_one_object_and_names_the_location_otherwise) {
  EXPECT_FALSE(check_json_object(R"({"a":[1,{"b":null}]})", "/data"));
  const auto not_object = check_json_object("[1]", "/data");
  ASSERT_TRUE(not_object);
  EXPECT_EQ(not_object->instance_location, "/data");
  const auto malformed = check_json_object(R"({"a":})", "/data");
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->instance_location, "/data");
  EXPECT_TRUE(check_json_object("{\"a\":\"\xff\"}", "/data"));
  EXPECT_TRUE(check_json_object("{} x", "/data"));
}

}  // namespace
}  // namespace aw::events::detail
