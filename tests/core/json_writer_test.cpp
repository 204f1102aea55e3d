#include "aw/events/json_writer.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace aw::events {
namespace {

TEST(json_writer, writes_nested_objects_arrays_and_scalars_compactly) {
  json_writer w;
  w.begin_object()
      .field("s", "a\"b\\c\n")
      .field("i", -42)
      .field("u", std::uint64_t{18446744073709551615ULL})
      .field("d", 1.5)
      .field("t", true)
      .field("v", std::vector<int>{1, 2})
      .field("o", std::optional<std::string>{})
      .field("m", std::map<std::string, int>{{"k", 1}})
      .end_object();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.str(),
            R"({"s":"a\"b\\c\n","i":-42,"u":18446744073709551615,"d":1.5,"t":true,"v":[1,2],"o":null,"m":{"k":1}})");
}

TEST(json_writer, misuse_marks_the_output_as_not_ok) {
  json_writer value_without_key;
  value_without_key.begin_object().value(1).end_object();
  EXPECT_FALSE(value_without_key.ok());

  json_writer unclosed;
  unclosed.begin_object().field("a", 1);
  EXPECT_FALSE(unclosed.ok());

  json_writer mismatched;
  mismatched.begin_array().end_object();
  EXPECT_FALSE(mismatched.ok());

  json_writer dangling_key;
  dangling_key.begin_object().key("a").end_object();
  EXPECT_FALSE(dangling_key.ok());

  json_writer two_roots;
  two_roots.begin_object().end_object().begin_object().end_object();
  EXPECT_FALSE(two_roots.ok());

  json_writer not_a_number;
  not_a_number.begin_object().field("x", std::nan("")).end_object();
  EXPECT_FALSE(not_a_number.ok());

  json_writer bad_utf8;
  bad_utf8.begin_object().field("x", std::string("\xc3\x28")).end_object();
  EXPECT_FALSE(bad_utf8.ok());
}

TEST(json_writer, control_characters_are_escaped) {
  json_writer w;
  w.value(std::string("\x01\x1f", 2));
  EXPECT_EQ(w.str(), R"("\u0001\u001f")");
  EXPECT_TRUE(w.ok());
}

}  // namespace
}  // namespace aw::events
