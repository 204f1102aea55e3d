#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>
#include <thread>
#include <unordered_set>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"

namespace aw::events {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// ---- UUID v4 ----

TEST(new_uuid_v4, is_lowercase_canonical_version_4_variant_rfc4122) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_uuid_v4();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_TRUE(is_uuid_v4(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_THAT(std::string("89ab"), ::testing::Contains(id[19])) << id;
  }
}

TEST(new_uuid_v4, has_no_duplicates_in_100k_and_every_random_digit_varies) {
  std::unordered_set<std::string> seen;
  seen.reserve(100000);
  std::vector<std::set<char>> digits_at(36);
  for (int i = 0; i < 100000; ++i) {
    const std::string id = new_uuid_v4();
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
    for (std::size_t p = 0; p < id.size(); ++p) digits_at[p].insert(id[p]);
  }
  for (std::size_t p = 0; p < 36; ++p) {
    if (p == 8 || p == 13 || p == 18 || p == 23) {
      EXPECT_EQ(digits_at[p], std::set<char>{'-'});
    } else if (p == 14) {
      EXPECT_EQ(digits_at[p], std::set<char>{'4'});
    } else if (p == 19) {
      EXPECT_EQ(digits_at[p], (std::set<char>{'8', '9', 'a', 'b'}));
    } else {
      EXPECT_EQ(digits_at[p].size(), 16u) << "position " << p << " is not uniformly random";
    }
  }
}

TEST(new_uuid_v4, threads_draw_different_ids) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 5000; ++i) ids.push_back(new_uuid_v4());
    });
  }
  for (auto& t : threads) t.join();
  std::unordered_set<std::string> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(new_uuid_v4, forked_child_does_not_repeat_the_parents_buffered_ids) {
  (void)new_uuid_v4();  // the parent's buffer now holds bytes for many more ids
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string child = new_uuid_v4();
    const auto written = write(fds[1], child.data(), child.size());
    _exit(written == static_cast<ssize_t>(child.size()) ? 0 : 1);
  }
  close(fds[1]);
  const std::string parent = new_uuid_v4();
  char buf[36];
  ASSERT_EQ(read(fds[0], buf, sizeof buf), 36);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(std::string(buf, 36), parent);
}

TEST(is_uuid_v4, rejects_near_misses) {
  EXPECT_TRUE(is_uuid_v4("0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f"));
  EXPECT_TRUE(is_uuid_v4("00000000-0000-4000-8000-000000000000"));
  for (const char* bad : {"", "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6", "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f0",
                          "0B6F4C8E-3F1A-4D2B-9C7E-1A2B3C4D5E6F", "0b6f4c8e-3f1a-5d2b-9c7e-1a2b3c4d5e6f",
                          "0b6f4c8e-3f1a-4d2b-7c7e-1a2b3c4d5e6f", "0b6f4c8e-3f1a-4d2b-cc7e-1a2b3c4d5e6f",
                          "0b6f4c8e_3f1a-4d2b-9c7e-1a2b3c4d5e6f", "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6g",
                          "0b6f4c8e3f1a4d2b9c7e1a2b3c4d5e6f0000", "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e-f",
                          "0b6f4c8e-3f1a-4d2b-9c7e--a2b3c4d5e6f", "0b6f4c8e-3f1a-4d2b-9c7e 1a2b3c4d5e6f"}) {
    EXPECT_FALSE(is_uuid_v4(bad)) << bad;
  }
}

// ---- timestamps ----

system_clock::time_point at(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
}

TEST(format_timestamp, writes_utc_with_exactly_three_fraction_digits_and_z) {
  EXPECT_EQ(format_timestamp(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(at(2023, 6, 15, 14, 22, 31, 123)), "2023-06-15T14:22:31.123Z");
  EXPECT_EQ(format_timestamp(at(2024, 2, 29, 23, 59, 59, 999)), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(at(2000, 1, 1, 0, 0, 0, 7)), "2000-01-01T00:00:00.007Z");
}

TEST(format_timestamp, truncates_sub_millisecond_parts_toward_the_past) {
  EXPECT_EQ(format_timestamp(at(2023, 6, 15, 14, 22, 31, 123) + std::chrono::microseconds(999)),
            "2023-06-15T14:22:31.123Z");
  EXPECT_EQ(format_timestamp(system_clock::time_point{} - std::chrono::microseconds(1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_timestamp(at(1900, 3, 1, 0, 0, 0, 0)), "1900-03-01T00:00:00.000Z");
}

TEST(now_timestamp, is_the_current_time) {
  const auto before = std::chrono::floor<milliseconds>(system_clock::now());
  const std::string now = now_timestamp();
  const auto after = system_clock::now();
  const auto parsed = parse_timestamp(now);
  ASSERT_TRUE(parsed) << now;
  EXPECT_GE(*parsed, before);
  EXPECT_LE(*parsed, after);
}

TEST(parse_timestamp, is_the_inverse_of_format_over_random_times) {
  std::mt19937_64 rng(42);
  const auto low = at(1700, 1, 1, 0, 0, 0, 0).time_since_epoch().count();
  const auto high = at(2260, 12, 31, 23, 59, 59, 999).time_since_epoch().count();
  std::uniform_int_distribution<std::int64_t> pick(low, high);
  for (int i = 0; i < 20000; ++i) {
    const system_clock::time_point t{system_clock::duration{pick(rng)}};
    const std::string text = format_timestamp(t);
    ASSERT_TRUE(is_utc_millis_timestamp(text)) << text;
    const auto back = parse_timestamp(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, std::chrono::floor<milliseconds>(t)) << text;
  }
}

TEST(parse_timestamp, accepts_real_dates_only) {
  EXPECT_EQ(parse_timestamp("2024-02-29T12:00:00.000Z"), at(2024, 2, 29, 12, 0, 0, 0));
  EXPECT_EQ(parse_timestamp("2000-02-29T00:00:00.000Z"), at(2000, 2, 29, 0, 0, 0, 0));
  EXPECT_EQ(parse_timestamp("2023-12-31T23:59:59.999Z"), at(2023, 12, 31, 23, 59, 59, 999));
  for (const char* bad : {
           "2023-02-29T00:00:00.000Z",  // 2023 is not a leap year
           "1900-02-29T00:00:00.000Z",  // century, not a leap year
           "2023-04-31T00:00:00.000Z",  // April has 30 days
           "2023-13-01T00:00:00.000Z", "2023-00-10T00:00:00.000Z", "2023-01-00T00:00:00.000Z",
           "2023-06-15T24:00:00.000Z", "2023-06-15T23:60:00.000Z", "2023-06-15T23:59:60.000Z",
       }) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
    EXPECT_FALSE(is_utc_millis_timestamp(bad)) << bad;
  }
}

TEST(parse_timestamp, accepts_exactly_one_form) {
  for (const char* bad : {
           "", "2023-06-15T14:22:31Z",             // missing millis
           "2023-06-15T14:22:31.12Z",              // two digits
           "2023-06-15T14:22:31.1234Z",            // four digits
           "2023-06-15T14:22:31.123+00:00",        // offset instead of Z
           "2023-06-15T14:22:31.123",              // no zone
           "2023-06-15T14:22:31.123z",             // lowercase z
           "2023-06-15t14:22:31.123Z",             // lowercase t
           "2023-06-15 14:22:31.123Z",             // space separator
           "2023-6-15T14:22:31.123Z", "+2023-06-15T14:22:31.123Z", "2023-06-15T14:22:31.123Z ",
           " 2023-06-15T14:22:31.123Z", "2023-06-15T14:22:31,123Z", "2023-06-1aT14:22:31.123Z",
           "20230615T142231.123Z",
       }) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
    EXPECT_FALSE(is_utc_millis_timestamp(bad)) << bad;
  }
}

TEST(parse_timestamp, refuses_years_the_clock_cannot_hold_but_the_format_check_accepts_them) {
  // system_clock counts 64-bit nanoseconds (about 1678..2261); the envelope rule is about the text.
  EXPECT_FALSE(parse_timestamp("9999-12-31T23:59:59.999Z"));
  EXPECT_TRUE(is_utc_millis_timestamp("9999-12-31T23:59:59.999Z"));
  EXPECT_FALSE(parse_timestamp("0001-01-01T00:00:00.000Z"));
  EXPECT_TRUE(is_utc_millis_timestamp("0001-01-01T00:00:00.000Z"));
}

// ---- W3C trace context ----

TEST(trace_context, new_trace_makes_valid_distinct_ids) {
  std::set<std::string> traces;
  for (int i = 0; i < 1000; ++i) {
    const trace_context t = new_trace();
    EXPECT_TRUE(is_trace_id(t.trace_id)) << t.trace_id;
    EXPECT_TRUE(is_span_id(t.span_id)) << t.span_id;
    traces.insert(t.trace_id);
  }
  EXPECT_EQ(traces.size(), 1000u);
}

TEST(trace_context, child_span_keeps_the_trace_and_changes_the_span) {
  const trace_context parent = new_trace();
  const trace_context child = child_span(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_TRUE(is_span_id(child.span_id));
}

TEST(traceparent, round_trips) {
  const trace_context t{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
  EXPECT_EQ(to_traceparent(t), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(parse_traceparent(to_traceparent(t)), t);
  const trace_context fresh = new_trace();
  EXPECT_EQ(parse_traceparent(to_traceparent(fresh)), fresh);
}

TEST(traceparent, accepts_any_flags_and_future_versions_per_w3c) {
  const trace_context t{"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
  EXPECT_EQ(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), t);
  EXPECT_EQ(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"), t);
  EXPECT_EQ(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), t);
  EXPECT_EQ(parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-brings"), t);
}

TEST(traceparent, rejects_malformed_headers) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",       // version 00 has nothing after
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff is invalid
           "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",       // future version: '-' must follow
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero span id
           "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",        // misplaced dash
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
           " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  }
}

TEST(trace_ids, predicates_check_length_case_and_zero) {
  EXPECT_TRUE(is_trace_id("00000000000000000000000000000001"));
  EXPECT_FALSE(is_trace_id("00000000000000000000000000000000"));
  EXPECT_FALSE(is_trace_id("0000000000000000000000000000001"));
  EXPECT_FALSE(is_trace_id("0000000000000000000000000000000A"));
  EXPECT_TRUE(is_span_id("0000000000000001"));
  EXPECT_FALSE(is_span_id("0000000000000000"));
  EXPECT_FALSE(is_span_id("00000000000000001"));
  EXPECT_FALSE(is_span_id("000000000000000x"));
}

// ---- Kafka-compatible partitioning ----

std::int32_t signed_murmur2(std::string_view key) { return static_cast<std::int32_t>(murmur2(key)); }

TEST(murmur2, matches_kafka_utils_test_vectors) {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  EXPECT_EQ(signed_murmur2("21"), -973932308);
  EXPECT_EQ(signed_murmur2("foobar"), -790332482);
  EXPECT_EQ(signed_murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(signed_murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(signed_murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(signed_murmur2(std::string{'a', 'b', 'c'}), 479470107);
}

TEST(murmur2, matches_java_for_every_tail_length) {
  // Utils.murmur2 over the UTF-8 bytes, lengths 1..5 cover each remainder case.
  EXPECT_EQ(signed_murmur2("1"), -1993445489);
  EXPECT_EQ(signed_murmur2("12"), 126087238);
  EXPECT_EQ(signed_murmur2("123"), -267702483);
  EXPECT_EQ(signed_murmur2("1234"), -1614185708);
  EXPECT_EQ(signed_murmur2("12345"), -1188365604);
  // librdkafka's rdmurmur2.c unit test (same function in C).
  EXPECT_EQ(murmur2("kafka"), 0xd067cf64u);
  EXPECT_EQ(murmur2(""), 0x106e08d9u);
}

TEST(murmur2, hashes_bytes_not_chars) {
  // Bytes >= 0x80 must be taken as unsigned, as Java's `& 0xff` does.
  EXPECT_NE(murmur2("\xff\xfe\xfd"), murmur2("\x7f\x7e\x7d"));
  EXPECT_EQ(murmur2(std::string_view("a\0b", 3)), murmur2(std::string_view("a\0b", 3)));
  EXPECT_NE(murmur2(std::string_view("a\0b", 3)), murmur2("ab"));
}

TEST(partition_for_key, is_positive_murmur2_modulo_partition_count) {
  for (const char* key : {"21", "foobar", "a-little-bit-long-string", "abc", "kafka", "b-1"}) {
    for (std::int32_t n : {1, 3, 6, 12, 100}) {
      const std::int32_t p = partition_for_key(key, n);
      EXPECT_EQ(p, static_cast<std::int32_t>((murmur2(key) & 0x7fffffffu) % static_cast<std::uint32_t>(n)));
      EXPECT_GE(p, 0);
      EXPECT_LT(p, n);
    }
  }
  // "21" hashes negative: the sign bit must be masked, not the absolute value taken (Kafka's toPositive).
  EXPECT_EQ(partition_for_key("21", 100), static_cast<std::int32_t>((std::uint32_t(-973932308) & 0x7fffffffu) % 100));
  EXPECT_EQ(partition_for_key("21", 100), 40);
}

TEST(partition_for_key, refuses_a_non_positive_partition_count) {
  EXPECT_EQ(partition_for_key("k", 0), -1);
  EXPECT_EQ(partition_for_key("k", -3), -1);
}

}  // namespace
}  // namespace aw::events
