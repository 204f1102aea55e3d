// ECMA-262 regular expressions (the dialect JSON Schema prescribes) translated to RE2 syntax.
// RE2 runs in linear time, which makes hostile patterns harmless; the price is that lookarounds
// and backreferences cannot be supported, so they fail compilation instead of matching wrongly.
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/schema_program.hpp"

namespace aw::events::schema_detail {
namespace {

// ECMA \s: WhiteSpace and LineTerminator, which include Unicode spaces RE2's \s lacks.
constexpr std::string_view ecma_space_members =
    "\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}"
    "\\x{3000}\\x{feff}";
// The complement of ecma_space_members, for \S inside a class.
constexpr std::string_view ecma_non_space_members =
    "\\x00-\\x08\\x0e-\\x1f!-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}"
    "\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void append_code_point(std::string& out, uint32_t cp) {
  static const char digits[] = "0123456789abcdef";
  std::string hex;
  do {
    hex.insert(hex.begin(), digits[cp & 0xF]);
    cp >>= 4;
  } while (cp != 0);
  out += "\\x{";
  out += hex;
  out += '}';
}

// Long Unicode property names ECMA accepts that RE2 only knows by their short form.
std::string_view short_property_name(std::string_view name) {
  struct alias {
    std::string_view long_name, short_name;
  };
  static constexpr alias aliases[] = {
      {"Letter", "L"},        {"Lowercase_Letter", "Ll"}, {"Uppercase_Letter", "Lu"},
      {"Titlecase_Letter", "Lt"}, {"Modifier_Letter", "Lm"}, {"Other_Letter", "Lo"},
      {"Mark", "M"},          {"Number", "N"},            {"Decimal_Number", "Nd"},
      {"digit", "Nd"},        {"Letter_Number", "Nl"},    {"Other_Number", "No"},
      {"Punctuation", "P"},   {"punct", "P"},             {"Symbol", "S"},
      {"Separator", "Z"},     {"Space_Separator", "Zs"},  {"Other", "C"},
      {"Control", "Cc"},      {"cntrl", "Cc"},            {"Format", "Cf"},
      {"Private_Use", "Co"},  {"Surrogate", "Cs"},
  };
  for (const auto& a : aliases)
    if (a.long_name == name) return a.short_name;
  if (name.starts_with("General_Category=")) return short_property_name(name.substr(17));
  if (name.starts_with("gc=")) return short_property_name(name.substr(3));
  if (name.starts_with("Script=")) return name.substr(7);
  if (name.starts_with("sc=")) return name.substr(3);
  return name;
}

}  // namespace

bool ecma_to_re2(std::string_view p, std::string& out, std::string& why) {
  out.clear();
  out.reserve(p.size() + 8);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) {
        why = "pattern ends with a lone backslash";
        return false;
      }
      char e = p[++i];
      switch (e) {
        case 'd':
          out += in_class ? "0-9" : "[0-9]";
          break;
        case 'D':
          if (in_class) {
            out += "\\x00-/:-\\x{10ffff}";
          } else {
            out += "[^0-9]";
          }
          break;
        case 's':
          if (in_class) {
            out += ecma_space_members;
          } else {
            out += '[';
            out += ecma_space_members;
            out += ']';
          }
          break;
        case 'S':
          if (in_class) {
            out += ecma_non_space_members;
          } else {
            out += "[^";
            out += ecma_space_members;
            out += ']';
          }
          break;
        case 'w':
        case 'W':
        case 'b':
        case 'B':
          if (in_class && (e == 'b')) {
            out += "\\x08";  // [\b] is a backspace in ECMA
          } else {
            out += '\\';
            out += e;
          }
          break;
        case 'c':
          if (i + 1 < p.size() && ((p[i + 1] >= 'a' && p[i + 1] <= 'z') ||
                                   (p[i + 1] >= 'A' && p[i + 1] <= 'Z'))) {
            append_code_point(out, static_cast<uint32_t>(p[++i]) % 32);
          } else {
            out += "\\\\c";
          }
          break;
        case 'u': {
          if (i + 1 < p.size() && p[i + 1] == '{') {
            size_t close = p.find('}', i + 2);
            if (close == std::string_view::npos) {
              why = "unterminated \\u{...} escape";
              return false;
            }
            uint32_t cp = 0;
            for (size_t k = i + 2; k < close; ++k) {
              if (!is_hex(p[k])) {
                why = "bad \\u{...} escape";
                return false;
              }
              cp = cp * 16 + static_cast<uint32_t>(std::stoul(std::string(1, p[k]), nullptr, 16));
            }
            append_code_point(out, cp);
            i = close;
          } else if (i + 4 < p.size() && is_hex(p[i + 1]) && is_hex(p[i + 2]) && is_hex(p[i + 3]) &&
                     is_hex(p[i + 4])) {
            uint32_t cp = static_cast<uint32_t>(std::stoul(std::string(p.substr(i + 1, 4)), nullptr, 16));
            i += 4;
            // A surrogate pair written as two \u escapes is one code point.
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < p.size() + 0 && p[i + 1] == '\\' &&
                p[i + 2] == 'u') {
              std::string_view low = p.substr(i + 3, 4);
              if (low.size() == 4 && is_hex(low[0]) && is_hex(low[1]) && is_hex(low[2]) &&
                  is_hex(low[3])) {
                uint32_t lo = static_cast<uint32_t>(std::stoul(std::string(low), nullptr, 16));
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                  cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                  i += 6;
                }
              }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) {
              why = "lone surrogate escape cannot match UTF-8 text";
              return false;
            }
            append_code_point(out, cp);
          } else {
            out += 'u';  // identity escape outside unicode mode
          }
          break;
        }
        case 'x':
          if (i + 2 < p.size() && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            out += "\\x";
            out += p.substr(i + 1, 2);
            i += 2;
          } else {
            out += 'x';
          }
          break;
        case 'p':
        case 'P': {
          if (i + 1 < p.size() && p[i + 1] == '{') {
            size_t close = p.find('}', i + 2);
            if (close == std::string_view::npos) {
              why = "unterminated \\p{...} escape";
              return false;
            }
            out += '\\';
            out += e;
            out += '{';
            out += short_property_name(p.substr(i + 2, close - i - 2));
            out += '}';
            i = close;
          } else {
            out += e;
          }
          break;
        }
        case '0':
          out += "\\x00";
          break;
        case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
          if (in_class) {
            why = "backreference-like escape inside a class";
            return false;
          }
          why = "backreferences are not supported (linear-time engine)";
          return false;
        case 'k':
          why = "named backreferences are not supported (linear-time engine)";
          return false;
        case 't': out += "\\t"; break;
        case 'n': out += "\\n"; break;
        case 'r': out += "\\r"; break;
        case 'f': out += "\\f"; break;
        case 'v': out += "\\v"; break;
        default:
          if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
            // ECMA (non-unicode) treats unknown letter escapes as the letter itself.
            out += e;
          } else if (static_cast<unsigned char>(e) >= 0x80) {
            out += e;  // escaped non-ASCII byte: copy the UTF-8 sequence verbatim
          } else {
            out += '\\';
            out += e;
          }
      }
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      if (c == '[') {
        out += "\\[";
        continue;
      }
      out += c;
      continue;
    }
    switch (c) {
      case '[':
        if (p.substr(i).starts_with("[^]")) {
          out += "(?s:.)";
          i += 2;
        } else if (p.substr(i).starts_with("[]")) {
          out += "[^\\x00-\\x{10ffff}]";
          i += 1;
        } else {
          in_class = true;
          out += '[';
          if (i + 1 < p.size() && p[i + 1] == '^') {
            out += '^';
            ++i;
          }
          // A leading ']' is a literal in RE2 but closes an empty class in ECMA; handled above.
        }
        break;
      case '(':
        if (p.substr(i).starts_with("(?=") || p.substr(i).starts_with("(?!") ||
            p.substr(i).starts_with("(?<=") || p.substr(i).starts_with("(?<!")) {
          why = "lookaround assertions are not supported (linear-time engine)";
          return false;
        }
        if (p.substr(i).starts_with("(?<")) {
          out += "(?P<";
          i += 2;
        } else {
          out += '(';
        }
        break;
      case '.':
        // ECMA '.' excludes all line terminators, RE2's only \n.
        out += "[^\\n\\r\\x{2028}\\x{2029}]";
        break;
      case '$':
        out += "\\z";
        break;
      default:
        out += c;
    }
  }
  if (in_class) {
    why = "unterminated character class";
    return false;
  }
  return true;
}

}  // namespace aw::events::schema_detail
