// The DFA fast path for patterns (src/catalog/fast_regex) must decide exactly as RE2 does on the
// translated pattern, and must refuse what it cannot do right (so that RE2 keeps deciding it).
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "catalog/fast_regex.hpp"
#include "catalog/schema_program.hpp"

namespace aw::events::schema_detail {
namespace {

bool re2_test(std::string_view pattern, std::string_view text) {
  std::string translated, why;
  EXPECT_TRUE(ecma_to_re2(pattern, translated, why)) << pattern << ": " << why;
  RE2 re(translated);
  EXPECT_TRUE(re.ok()) << pattern;
  return re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED, nullptr, 0);
}

const std::vector<std::string> supported = {
    "^bk-[0-9a-z]{6,32}$", "^97[89][0-9]{10}$", "^[a-z]{2}(-[A-Z]{2})?$", "^[A-Z]{3}$",
    "^[a-z][a-z0-9-]{1,30}$", "abc", "^abc", "abc$", "a+b*c?", "(?:ab|cd)+e", "^(a|b|c){2,3}$",
    "[\\d\\w]+", "\\d{3}-\\d{4}", "^$", "", "x{0}y", "^(a+)+$", "[-a]", "[a-]z", "^a\\.b$", "^[\\-\\]]$",
    "^(?:[a-z]+\\.)*[a-z]+$", "(ab)*?c", "^x{2,}$", "\\$", "^[\\t ]*$", "a|b", "((a|b)c|d)e",
};

const std::vector<std::string> unsupported = {
    ".", "[^a]", "\\s", "\\bfoo", "(?=a)", "(?!a)", "(?<n>a)", "\\1", "\\u0041", "caf\xc3\xa9", "a{1001}",
    "^a|b$", "a^b", "a$b", "[[]", "a**", "{", "\\p{L}", "\\D", "\\W", "\\S",
};

TEST(FastRegex, BuildsTheCommonSubsetAndRefusesTheRest) {
  for (const auto& p : supported) EXPECT_NE(fast_regex::build(p), nullptr) << p;
  for (const auto& p : unsupported) EXPECT_EQ(fast_regex::build(p), nullptr) << p;
}

TEST(FastRegex, KnownAnswers) {
  auto isbn = fast_regex::build("^97[89][0-9]{10}$");
  ASSERT_TRUE(isbn);
  EXPECT_TRUE(isbn->matches("9781234567897"));
  EXPECT_FALSE(isbn->matches("9771234567897"));
  EXPECT_FALSE(isbn->matches("97812345678970"));
  EXPECT_FALSE(isbn->matches("978123456789"));
  auto search = fast_regex::build("b+c");
  ASSERT_TRUE(search);
  EXPECT_TRUE(search->matches("aaabbbcaa"));
  EXPECT_TRUE(search->matches("\xc3\xa9" "bc"));  // non-ASCII bytes before a match are skipped
  EXPECT_FALSE(search->matches("aaab c"));
  auto lang = fast_regex::build("^[a-z]{2}(-[A-Z]{2})?$");
  ASSERT_TRUE(lang);
  EXPECT_TRUE(lang->matches("en"));
  EXPECT_TRUE(lang->matches("en-GB"));
  EXPECT_FALSE(lang->matches("en-gb"));
  EXPECT_FALSE(lang->matches("en-"));
  EXPECT_FALSE(lang->matches("\xc3\xa9n"));
}

// Random strings over an alphabet that exercises every class in the patterns, compared with RE2.
TEST(FastRegex, AgreesWithRe2) {
  std::mt19937 gen(7);
  const std::string alphabet = "abcdeyzABZ0189-._ \t$\\]\xc3\xa9";
  for (const auto& p : supported) {
    auto fast = fast_regex::build(p);
    ASSERT_TRUE(fast) << p;
    for (int n = 0; n < 3000; ++n) {
      std::string s;
      const size_t len = gen() % 40;
      for (size_t i = 0; i < len; ++i) s += alphabet[gen() % alphabet.size()];
      ASSERT_EQ(fast->matches(s), re2_test(p, s)) << "pattern " << p << " text \"" << s << "\"";
    }
  }
}

TEST(FastRegex, HostileInputIsLinear) {
  auto re = fast_regex::build("^(a+)+$");
  ASSERT_TRUE(re);
  std::string s(50000, 'a');
  s += '!';
  EXPECT_FALSE(re->matches(s));
  s.pop_back();
  EXPECT_TRUE(re->matches(s));
}

}  // namespace
}  // namespace aw::events::schema_detail
