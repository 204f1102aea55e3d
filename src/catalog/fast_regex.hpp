// A DFA for the patterns event schemas actually use (anchored sequences of ASCII literals and positive
// ASCII classes with quantifiers, groups and alternation: "^bk-[0-9a-z]{6,32}$", "^[A-Z]{3}$", ...).
// Matching is one table lookup per byte, far cheaper than a call into RE2; patterns outside the subset
// (".", negated classes, \s, \b, Unicode escapes, non-ASCII text, anchors inside groups, too many states)
// are not built here and keep running on RE2. Linear time either way, so ReDoS-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace aw::events::schema_detail {

class fast_regex {
 public:
  // The DFA for an ECMA-262 pattern, or null when the pattern is outside the supported subset.
  [[nodiscard]] static std::unique_ptr<fast_regex> build(std::string_view pattern);

  // ECMA RegExp.prototype.test semantics (unanchored search unless the pattern has ^ / $).
  [[nodiscard]] bool matches(std::string_view text) const noexcept {
    // States are kept as row offsets (state * columns): one load per byte, no multiply in the chain.
    uint32_t row = start_ * columns;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    if (anchored_end_) {
      for (; p != end; ++p) {
        row = table_[row + (*p < 0x80 ? *p : 0x80u)];  // every non-ASCII byte behaves alike
        if (row == dead) return false;
      }
      return accept_[row / columns] != 0;
    }
    if (accept_[start_]) return true;
    for (; p != end; ++p) {
      row = table_[row + (*p < 0x80 ? *p : 0x80u)];
      if (row == dead) return false;
      if (accept_[row / columns]) return true;
    }
    return false;
  }

  [[nodiscard]] size_t states() const noexcept { return accept_.size(); }

  static constexpr uint32_t columns = 129;
  static constexpr uint32_t dead = 0;
  static constexpr size_t max_states = 512;

 private:
  std::vector<uint32_t> table_;  // state * columns + byte class -> next state * columns
  std::vector<uint8_t> accept_;
  uint32_t start_ = 1;
  bool anchored_end_ = false;
};

}  // namespace aw::events::schema_detail
