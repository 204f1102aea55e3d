// "format" assertions: RFC 3339 dates and times, ISO 8601 durations (RFC 3339 appendix A),
// RFC 5321 mailboxes, RFC 4122 UUIDs, RFC 3986 URIs, RFC 1123 host names and RFC 2673/4291 IP
// addresses. Hand-written scanners: they run on every validated string, without allocating.
#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/schema_program.hpp"

namespace aw::events::schema_detail {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Reads exactly n digits at s[pos]; false if any is not a digit.
bool digits(std::string_view s, size_t pos, size_t n, int& value) {
  if (pos + n > s.size()) return false;
  value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  return true;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool valid_date(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, year) || !digits(s, 5, 2, month) || !digits(s, 8, 2, day)) return false;
  static constexpr int days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  int limit = days_in_month[month - 1] + ((month == 2 && is_leap(year)) ? 1 : 0);
  return day <= limit;
}

// RFC 3339 full-time: hh:mm:ss[.frac](Z|±hh:mm). A leap second (ss = 60) is only valid at
// 23:59:60 UTC, so the offset is applied before checking it.
bool valid_time(std::string_view s) {
  int hour = 0, minute = 0, second = 0;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return false;
  if (!digits(s, 0, 2, hour) || !digits(s, 3, 2, minute) || !digits(s, 6, 2, second)) return false;
  size_t pos = 8;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return false;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (s.size() != pos + 6 || s[pos + 3] != ':') return false;
    if (!digits(s, pos + 1, 2, oh) || !digits(s, pos + 4, 2, om)) return false;
    if (oh > 23 || om > 59) return false;
    offset_minutes = (oh * 60 + om) * (s[pos] == '+' ? 1 : -1);
  } else {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (second == 60) {
    int utc = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

bool valid_date_time(std::string_view s) {
  if (s.size() < 20) return false;
  if (s[10] != 'T' && s[10] != 't') return false;
  return valid_date(s.substr(0, 10)) && valid_time(s.substr(11));
}

// ISO 8601 duration as in RFC 3339 appendix A: P[nY][nM][nD][T[nH][nM][nS]] or PnW.
bool valid_duration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return false;
  size_t pos = 1;
  auto read_units = [&](std::string_view units, bool& any) {
    size_t next_unit = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      size_t start = pos;
      while (pos < s.size() && is_digit(s[pos])) ++pos;
      if (pos == start || pos >= s.size()) return false;
      size_t u = units.find(s[pos], next_unit);
      // Units are contiguous: "P1Y2D" lacks the months between years and days.
      if (u == std::string_view::npos || (any && u != next_unit)) return false;
      next_unit = u + 1;
      ++pos;
      any = true;
    }
    return true;
  };
  bool any_date = false;
  if (pos < s.size() && is_digit(s[pos])) {
    // Weeks stand alone.
    size_t start = pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos < s.size() && s[pos] == 'W') return pos + 1 == s.size() && pos > start;
    pos = start;
    if (!read_units("YMD", any_date)) return false;
  }
  if (pos == s.size()) return any_date;
  if (s[pos] != 'T') return false;
  ++pos;
  bool any_time = false;
  if (!read_units("HMS", any_time)) return false;
  return any_time && pos == s.size();
}

// 1 for the 22 hex digits in either case, 0 for every other byte.
struct hex_table {
  uint8_t value[256] = {};
  constexpr hex_table() {
    for (int c = '0'; c <= '9'; ++c) value[c] = 1;
    for (int c = 'a'; c <= 'f'; ++c) value[c] = 1;
    for (int c = 'A'; c <= 'F'; ++c) value[c] = 1;
  }
};
constexpr hex_table hex_digits;

// Branch-free over the 32 digits: a per-character branch mispredicts on random hex (digits vs letters),
// and UUIDs are in almost every event.
bool valid_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  if ((p[8] != '-') | (p[13] != '-') | (p[18] != '-') | (p[23] != '-')) return false;
  static constexpr uint8_t positions[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
                                            19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  unsigned all = 1;
  for (uint8_t i : positions) all &= hex_digits.value[p[i]];
  return all != 0;
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t start = pos;
    int value = 0;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 4) value = value * 10 + (s[pos++] - '0');
    size_t len = pos - start;
    if (len == 0 || len > 3 || value > 255) return false;
    if (len > 1 && s[start] == '0') return false;  // leading zeroes are ambiguous (octal)
    ++parts;
    if (pos == s.size()) break;
    if (s[pos] != '.' || parts == 4) return false;
    ++pos;
  }
  return parts == 4;
}

bool valid_ipv6(std::string_view s) {
  if (s.empty()) return false;
  int groups = 0;
  bool compressed = false;
  size_t pos = 0;
  if (s.starts_with("::")) {
    compressed = true;
    pos = 2;
    if (pos == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (pos < s.size()) {
    size_t start = pos;
    while (pos < s.size() && is_hex(s[pos])) ++pos;
    size_t len = pos - start;
    if (pos < s.size() && s[pos] == '.') {
      // Embedded IPv4 in the last 32 bits.
      if (!valid_ipv4(s.substr(start))) return false;
      groups += 2;
      pos = s.size();
      break;
    }
    if (len == 0 || len > 4) return false;
    ++groups;
    if (pos == s.size()) break;
    if (s[pos] != ':') return false;
    ++pos;
    if (pos < s.size() && s[pos] == ':') {
      if (compressed) return false;
      compressed = true;
      ++pos;
      if (pos == s.size()) break;
    } else if (pos == s.size()) {
      return false;  // trailing single colon
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

// RFC 3492 Punycode: decodes the part after "xn--" into code points.
bool punycode_decode(std::string_view input, std::u32string& out) {
  constexpr uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
  out.clear();
  size_t basic_end = input.rfind('-');
  if (basic_end != std::string_view::npos) {
    for (size_t i = 0; i < basic_end; ++i) {
      if (static_cast<unsigned char>(input[i]) >= 0x80) return false;
      out.push_back(static_cast<unsigned char>(input[i]));
    }
  }
  size_t pos = basic_end == std::string_view::npos ? 0 : basic_end + 1;
  uint32_t n = 128, bias = 72;
  uint64_t i = 0;
  while (pos < input.size()) {
    uint64_t old_i = i, w = 1;
    for (uint32_t k = base;; k += base) {
      if (pos >= input.size()) return false;
      char c = input[pos++];
      uint32_t digit;
      if (c >= 'a' && c <= 'z') digit = static_cast<uint32_t>(c - 'a');
      else if (c >= 'A' && c <= 'Z') digit = static_cast<uint32_t>(c - 'A');
      else if (c >= '0' && c <= '9') digit = static_cast<uint32_t>(c - '0') + 26;
      else return false;
      i += digit * w;
      if (i > 0x10FFFF * 64ULL) return false;
      uint32_t t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias);
      if (digit < t) break;
      w *= base - t;
    }
    uint64_t length = out.size() + 1;
    uint64_t delta = old_i == 0 ? (i - old_i) / damp : (i - old_i) / 2;
    delta += delta / length;
    uint32_t k = 0;
    while (delta > ((base - tmin) * tmax) / 2) {
      delta /= base - tmin;
      k += base;
    }
    bias = static_cast<uint32_t>(k + (base * delta) / (delta + skew));
    n += static_cast<uint32_t>(i / length);
    i %= length;
    if (n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF)) return false;
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(i), n);
    ++i;
  }
  return true;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool code_point_is(char32_t cp, const RE2& re) {
  std::string text;
  append_utf8(text, cp);
  return RE2::FullMatch(text, re);
}

bool is_virama(char32_t cp) {
  // Canonical combining class 9 (RFC 5892 A.1/A.2 need it); the common Indic viramas.
  static constexpr char32_t viramas[] = {0x094D, 0x09CD, 0x0A4D, 0x0ACD, 0x0B4D, 0x0BCD, 0x0C4D, 0x0CCD,
                                         0x0D3B, 0x0D3C, 0x0D4D, 0x0DCA, 0x0E3A, 0x0EBA, 0x0F84, 0x1039,
                                         0x103A, 0x1714, 0x1734, 0x17D2, 0x1A60, 0x1B44, 0x1BAA, 0x1BAB,
                                         0x1BF2, 0x1BF3, 0x2D7F, 0xA806, 0xA8C4, 0xA953, 0xA9C0, 0xAAF6,
                                         0xABED, 0x10A3F, 0x11046, 0x1107F, 0x110B9, 0x11133, 0x11134};
  for (char32_t v : viramas)
    if (v == cp) return true;
  return false;
}

// An A-label ("xn--...") must decode to a valid U-label: IDNA2008 (RFC 5891 5.4, RFC 5892) with
// the general-category approximation of PVALID and the contextual rules of RFC 5892 appendix A.
bool valid_a_label(std::string_view label) {
  static const RE2 mark("\\p{M}");
  static const RE2 letter_digit("[\\p{Ll}\\p{Lo}\\p{Lm}\\p{Mn}\\p{Mc}\\p{Nd}]");
  static const RE2 greek("\\p{Greek}");
  static const RE2 hebrew("\\p{Hebrew}");
  static const RE2 japanese("[\\p{Hiragana}\\p{Katakana}\\p{Han}]");
  std::u32string u;
  if (!punycode_decode(label.substr(4), u) || u.empty()) return false;
  if (u.size() >= 4 && u[2] == U'-' && u[3] == U'-') return false;
  if (u.front() == U'-' || u.back() == U'-') return false;
  if (code_point_is(u.front(), mark)) return false;
  bool arabic_indic = false, extended_arabic_indic = false, japanese_found = false, has_katakana_dot = false;
  for (size_t i = 0; i < u.size(); ++i) {
    char32_t cp = u[i];
    char32_t prev = i > 0 ? u[i - 1] : 0, next = i + 1 < u.size() ? u[i + 1] : 0;
    switch (cp) {
      case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x3031: case 0x3032: case 0x3033:
      case 0x3034: case 0x3035: case 0x303B:
        return false;  // RFC 5892 2.6: exceptions that are DISALLOWED
      case 0x00B7:
        if (prev != U'l' || next != U'l') return false;
        continue;
      case 0x0375:
        if (next == 0 || !code_point_is(next, greek)) return false;
        continue;
      case 0x05F3: case 0x05F4:
        if (prev == 0 || !code_point_is(prev, hebrew)) return false;
        continue;
      case 0x30FB:
        has_katakana_dot = true;
        continue;
      case 0x200D:
        if (!is_virama(prev)) return false;
        continue;
      case 0x200C:
        continue;
      case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B: case 0x3007:
        continue;  // RFC 5892 2.6: exceptions that are PVALID  // also valid after a virama or between joining letters (RFC 5892 A.1)
      default: break;
    }
    if (cp >= 0x0660 && cp <= 0x0669) arabic_indic = true;
    if (cp >= 0x06F0 && cp <= 0x06F9) extended_arabic_indic = true;
    if (cp < 0x80) {
      if (!is_alpha(static_cast<char>(cp)) && !is_digit(static_cast<char>(cp)) && cp != U'-') return false;
      continue;
    }
    if (!code_point_is(cp, letter_digit)) return false;
    if (code_point_is(cp, japanese)) japanese_found = true;
  }
  if (arabic_indic && extended_arabic_indic) return false;
  if (has_katakana_dot && !japanese_found) return false;
  return true;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t pos = 0;
  while (true) {
    size_t start = pos;
    while (pos < s.size() && s[pos] != '.') ++pos;
    std::string_view label = s.substr(start, pos - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    // "--" in positions 3-4 is reserved for A-labels (RFC 5891 4.2.3.1), which must decode.
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-') {
      if (!((label[0] == 'x' || label[0] == 'X') && (label[1] == 'n' || label[1] == 'N'))) return false;
      if (!valid_a_label(label)) return false;
    }
    if (pos == s.size()) return true;
    ++pos;  // a trailing dot leaves an empty last label, which is rejected above
  }
}

// RFC 5321 Mailbox: Local-part "@" ( Domain / address-literal ).
bool valid_email(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.size() > 64) return false;
  if (local.front() == '"') {
    if (local.size() < 2 || local.back() != '"') return false;
    for (size_t i = 1; i + 1 < local.size(); ++i) {
      char c = local[i];
      if (c == '\\') {
        if (++i + 1 >= local.size() + 1) return false;
        continue;
      }
      if (c == '"' || static_cast<unsigned char>(c) < 32) return false;
    }
  } else {
    static constexpr std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~";
    if (local.front() == '.' || local.back() == '.') return false;
    for (size_t i = 0; i < local.size(); ++i) {
      char c = local[i];
      if (c == '.') {
        if (local[i + 1] == '.') return false;
        continue;
      }
      if (!is_alpha(c) && !is_digit(c) && atext_specials.find(c) == std::string_view::npos) return false;
    }
  }
  if (domain.front() == '[') {
    if (domain.back() != ']') return false;
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.starts_with("IPv6:")) return valid_ipv6(literal.substr(5));
    return valid_ipv4(literal);
  }
  return valid_hostname(domain);
}

bool is_unreserved(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }
bool is_sub_delim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' ||
         c == ',' || c == ';' || c == '=';
}

// True when every character of s is unreserved, sub-delims, a percent-escape or in extra.
bool uri_chars(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() + 0 || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
      continue;
    }
    if (is_unreserved(c) || is_sub_delim(c) || extra.find(c) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

bool valid_authority(std::string_view a) {
  size_t at = a.rfind('@');
  if (at != std::string_view::npos) {
    if (!uri_chars(a.substr(0, at), ":")) return false;
    a = a.substr(at + 1);
  }
  std::string_view host = a;
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view literal = a.substr(1, close - 1);
    if (literal.empty()) return false;
    if (literal[0] == 'v' || literal[0] == 'V') {
      size_t dot = literal.find('.');
      if (dot == std::string_view::npos || dot < 2 || dot + 1 == literal.size()) return false;
    } else if (!valid_ipv6(literal)) {
      return false;
    }
    host = {};
    a = a.substr(close + 1);
    if (!a.empty() && a.front() != ':') return false;
  } else {
    size_t colon = a.rfind(':');
    host = colon == std::string_view::npos ? a : a.substr(0, colon);
    a = colon == std::string_view::npos ? std::string_view{} : a.substr(colon);
  }
  if (!uri_chars(host, "")) return false;
  if (!a.empty()) {  // ":port"
    for (size_t i = 1; i < a.size(); ++i)
      if (!is_digit(a[i])) return false;
  }
  return true;
}

// RFC 3986 URI-reference; require_scheme selects "URI".
bool valid_uri(std::string_view s, bool require_scheme) {
  std::string_view rest = s;
  size_t colon = s.find(':');
  size_t first_delim = s.find_first_of("/?#");
  bool has_scheme = colon != std::string_view::npos && (first_delim == std::string_view::npos || colon < first_delim);
  if (has_scheme) {
    std::string_view scheme = s.substr(0, colon);
    if (scheme.empty() || !is_alpha(scheme[0])) return false;
    for (char c : scheme)
      if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    rest = s.substr(colon + 1);
  } else if (require_scheme) {
    return false;
  }
  std::string_view fragment, query;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
    if (!uri_chars(fragment, ":@/?")) return false;
  }
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!uri_chars(query, ":@/?")) return false;
  }
  std::string_view path = rest;
  if (rest.starts_with("//")) {
    size_t end = rest.find('/', 2);
    std::string_view authority = rest.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    if (!valid_authority(authority)) return false;
    path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  } else if (!has_scheme) {
    // A relative path's first segment cannot contain ':' (it would read as a scheme).
    size_t slash = path.find('/');
    if (path.substr(0, slash).find(':') != std::string_view::npos) return false;
  }
  return uri_chars(path, ":@/");
}

}  // namespace

format_kind format_from_name(std::string_view name) noexcept {
  if (name == "date-time") return format_kind::date_time;
  if (name == "date") return format_kind::date;
  if (name == "time") return format_kind::time;
  if (name == "duration") return format_kind::duration;
  if (name == "email") return format_kind::email;
  if (name == "uuid") return format_kind::uuid;
  if (name == "uri") return format_kind::uri;
  if (name == "uri-reference") return format_kind::uri_reference;
  if (name == "hostname") return format_kind::hostname;
  if (name == "ipv4") return format_kind::ipv4;
  if (name == "ipv6") return format_kind::ipv6;
  return format_kind::none;
}

bool check_format(format_kind kind, std::string_view v) noexcept {
  switch (kind) {
    case format_kind::none: return true;
    case format_kind::date_time: return valid_date_time(v);
    case format_kind::date: return valid_date(v);
    case format_kind::time: return valid_time(v);
    case format_kind::duration: return valid_duration(v);
    case format_kind::email: return valid_email(v);
    case format_kind::uuid: return valid_uuid(v);
    case format_kind::uri: return valid_uri(v, true);
    case format_kind::uri_reference: return valid_uri(v, false);
    case format_kind::hostname: return valid_hostname(v);
    case format_kind::ipv4: return valid_ipv4(v);
    case format_kind::ipv6: return valid_ipv6(v);
  }
  return true;
}

}  // namespace aw::events::schema_detail
