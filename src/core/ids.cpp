#include "aw/events/ids.hpp"

#include <openssl/rand.h>
#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/ids_raw.hpp"
#include "core/log.hpp"

namespace aw::events {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Random bytes are drawn from OpenSSL in 4 KiB blocks per thread: one RAND_bytes call per ~250 ids
// instead of one per id keeps id generation off the publish hot path's profile.
// A forked child inherits the parent's buffered bytes; reusing them would repeat ids, so a
// fork generation (bumped in the child by pthread_atfork) invalidates every inherited buffer.
std::atomic<std::uint64_t> fork_generation{0};

void register_fork_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
}

// Falls back to the kernel CSPRNG when OpenSSL cannot deliver; with neither there is no safe id
// to hand out, and continuing with predictable ids would be worse than stopping.
void fill_random(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      log::error("no source of secure random bytes (OpenSSL RAND_bytes and getrandom failed)",
                 {{"errno", std::strerror(errno)}});
      std::abort();
    }
    done += static_cast<std::size_t>(got);
  }
}

class random_pool {
 public:
  void take(unsigned char* out, std::size_t n) {
    const auto generation = fork_generation.load(std::memory_order_relaxed);
    if (generation != generation_) {
      used_ = buffer_.size();
      generation_ = generation;
    }
    if (buffer_.size() - used_ < n) {
      register_fork_handler();
      fill_random(buffer_.data(), buffer_.size());
      used_ = 0;
    }
    std::memcpy(out, buffer_.data() + used_, n);
    // Bytes handed out are wiped so they cannot leak through a later memory disclosure.
    std::memset(buffer_.data() + used_, 0, n);
    used_ += n;
  }

 private:
  std::array<unsigned char, 4096> buffer_{};
  std::size_t used_ = buffer_.size();
  std::uint64_t generation_ = 0;
};

void random_bytes(unsigned char* out, std::size_t n) {
  thread_local random_pool pool;
  pool.take(out, n);
}

char* put_hex(char* out, const unsigned char* bytes, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    *out++ = hex_digits[bytes[i] >> 4];
    *out++ = hex_digits[bytes[i] & 0xf];
  }
  return out;
}

// Random lowercase hex id of n bytes that is not all zero (W3C forbids all-zero trace and span ids).
std::string random_hex_id(std::size_t n) {
  std::string out(2 * n, '0');
  detail::write_random_hex_id(out.data(), 2 * n);
  return out;
}

bool is_lower_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Branch-free over the id (it runs for every consumed event): OR together "not hex" and "not zero".
bool is_lower_hex_id(std::string_view s, std::size_t length) noexcept {
  if (s.size() != length) return false;
  unsigned not_hex = 0;
  unsigned non_zero = 0;
  for (char c : s) {
    not_hex |= static_cast<unsigned>(!is_lower_hex(c));
    non_zero |= static_cast<unsigned>(c != '0');
  }
  return not_hex == 0 && non_zero != 0;
}

void put_digits(char* out, unsigned value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Reads exactly `width` ASCII digits; false on anything else.
bool read_digits(std::string_view s, std::size_t pos, int width, unsigned& value) noexcept {
  value = 0;
  for (int i = 0; i < width; ++i) {
    const char c = s[pos + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

struct timestamp_fields {
  std::chrono::year_month_day date;
  unsigned hour, minute, second, millisecond;
};

// Syntax and calendar check of YYYY-MM-DDTHH:MM:SS.mmmZ, independent of time_point's range.
std::optional<timestamp_fields> parse_timestamp_fields(std::string_view s) noexcept {
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s[19] != '.' || s[23] != 'Z') {
    return std::nullopt;
  }
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millisecond = 0;
  if (!read_digits(s, 0, 4, year) || !read_digits(s, 5, 2, month) || !read_digits(s, 8, 2, day) ||
      !read_digits(s, 11, 2, hour) || !read_digits(s, 14, 2, minute) || !read_digits(s, 17, 2, second) ||
      !read_digits(s, 20, 3, millisecond)) {
    return std::nullopt;
  }
  // Leap seconds (:60) are rejected: system_clock cannot represent them and producers never write them.
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(year)}, std::chrono::month{month},
                                         std::chrono::day{day}};
  if (!date.ok()) return std::nullopt;
  return timestamp_fields{date, hour, minute, second, millisecond};
}

void write_timestamp(std::chrono::system_clock::time_point t, char* buf) noexcept;

}  // namespace

namespace detail {

void write_uuid_v4(char* out) noexcept {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10xx (RFC 4122)
  out = put_hex(out, b.data(), 4);
  *out++ = '-';
  out = put_hex(out, b.data() + 4, 2);
  *out++ = '-';
  out = put_hex(out, b.data() + 6, 2);
  *out++ = '-';
  out = put_hex(out, b.data() + 8, 2);
  *out++ = '-';
  put_hex(out, b.data() + 10, 6);
}

void write_random_hex_id(char* out, std::size_t chars) noexcept {
  std::array<unsigned char, 16> bytes{};
  const std::size_t n = std::min(chars / 2, bytes.size());
  for (;;) {
    random_bytes(bytes.data(), n);
    bool all_zero = true;
    for (std::size_t i = 0; i < n; ++i) all_zero = all_zero && bytes[i] == 0;
    if (!all_zero) break;
  }
  put_hex(out, bytes.data(), n);
}

void write_now_timestamp(char* out) noexcept { write_timestamp(std::chrono::system_clock::now(), out); }

}  // namespace detail

std::string new_uuid_v4() {
  std::string out(detail::uuid_chars, '0');
  detail::write_uuid_v4(out.data());
  return out;
}

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  std::string out(detail::timestamp_chars, '0');
  write_timestamp(t, out.data());
  return out;
}

namespace {

void write_timestamp(std::chrono::system_clock::time_point t, char* buf) noexcept {
  using namespace std::chrono;
  // floor, not duration_cast: times before 1970 must round toward the past, not toward zero.
  const auto ms = floor<milliseconds>(t);
  const auto day_start = floor<days>(ms);
  const year_month_day date{day_start};
  const hh_mm_ss clock{ms - day_start};
  put_digits(buf, static_cast<unsigned>(static_cast<int>(date.year())), 4);
  buf[4] = '-';
  put_digits(buf + 5, static_cast<unsigned>(date.month()), 2);
  buf[7] = '-';
  put_digits(buf + 8, static_cast<unsigned>(date.day()), 2);
  buf[10] = 'T';
  put_digits(buf + 11, static_cast<unsigned>(clock.hours().count()), 2);
  buf[13] = ':';
  put_digits(buf + 14, static_cast<unsigned>(clock.minutes().count()), 2);
  buf[16] = ':';
  put_digits(buf + 17, static_cast<unsigned>(clock.seconds().count()), 2);
  buf[19] = '.';
  put_digits(buf + 20, static_cast<unsigned>(clock.subseconds().count()), 3);
  buf[23] = 'Z';
}

}  // namespace

std::string now_timestamp() { return format_timestamp(std::chrono::system_clock::now()); }

std::optional<std::chrono::system_clock::time_point> parse_timestamp(std::string_view s) {
  using namespace std::chrono;
  const auto fields = parse_timestamp_fields(s);
  if (!fields) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (years 1678..2261): refuse what it cannot hold
  // rather than wrap around.
  const int year = static_cast<int>(fields->date.year());
  if (year < 1678 || year > 2261) return std::nullopt;
  const sys_days day{fields->date};
  return system_clock::time_point{duration_cast<system_clock::duration>(
      day.time_since_epoch() + hours{fields->hour} + minutes{fields->minute} + seconds{fields->second} +
      milliseconds{fields->millisecond})};
}

bool is_utc_millis_timestamp(std::string_view s) noexcept { return parse_timestamp_fields(s).has_value(); }

bool is_trace_id(std::string_view s) noexcept { return is_lower_hex_id(s, 32); }
bool is_span_id(std::string_view s) noexcept { return is_lower_hex_id(s, 16); }

trace_context new_trace() { return trace_context{random_hex_id(16), random_hex_id(8)}; }

trace_context child_span(const trace_context& parent) { return trace_context{parent.trace_id, random_hex_id(8)}; }

std::string to_traceparent(const trace_context& t) {
  std::string out;
  out.reserve(55);
  out += "00-";
  out += t.trace_id;
  out.push_back('-');
  out += t.span_id;
  out += "-01";
  return out;
}

std::optional<trace_context> parse_traceparent(std::string_view header) {
  // version(2)-trace_id(32)-parent_id(16)-flags(2) = 55 characters.
  if (header.size() < 55) return std::nullopt;
  const std::string_view version = header.substr(0, 2);
  if (!is_lower_hex(version[0]) || !is_lower_hex(version[1]) || version == "ff") return std::nullopt;
  // Version 00 is exactly 55 characters; W3C lets later versions append fields after a '-'.
  if (version == "00" ? header.size() != 55 : (header.size() > 55 && header[55] != '-')) return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  const std::string_view trace_id = header.substr(3, 32);
  const std::string_view span_id = header.substr(36, 16);
  if (!is_trace_id(trace_id) || !is_span_id(span_id)) return std::nullopt;
  if (!is_lower_hex(header[53]) || !is_lower_hex(header[54])) return std::nullopt;
  return trace_context{std::string(trace_id), std::string(span_id)};
}

// Byte for byte Kafka's org.apache.kafka.common.utils.Utils.murmur2 (Java int arithmetic = uint32 wrap).
std::uint32_t murmur2(std::string_view key) noexcept {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  constexpr int r = 24;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const auto length = static_cast<std::uint32_t>(key.size());
  std::uint32_t h = seed ^ length;
  const std::uint32_t length4 = length / 4;
  for (std::uint32_t i = 0; i < length4; ++i) {
    const std::uint32_t i4 = i * 4;
    std::uint32_t k = std::uint32_t(data[i4]) | (std::uint32_t(data[i4 + 1]) << 8) |
                      (std::uint32_t(data[i4 + 2]) << 16) | (std::uint32_t(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::uint32_t tail = length & ~3u;
  switch (length % 4) {
    case 3: h ^= std::uint32_t(data[tail + 2]) << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t(data[tail + 1]) << 8; [[fallthrough]];
    case 1:
      h ^= std::uint32_t(data[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

std::int32_t partition_for_key(std::string_view key, std::int32_t partition_count) noexcept {
  if (partition_count <= 0) return -1;
  return static_cast<std::int32_t>((murmur2(key) & 0x7fffffffu) % static_cast<std::uint32_t>(partition_count));
}

}  // namespace aw::events
