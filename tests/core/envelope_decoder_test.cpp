#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include <simdjson.h>
#include <fstream>
#include <sstream>

#include "aw/events/envelope.hpp"
#include "aw/events/ids.hpp"
#include "core/sample_events.hpp"

namespace aw::events {
namespace {

using testing::replace_once;
using testing::sample_envelope;
using testing::sample_json;
using ::testing::HasSubstr;

std::string describe_errors(const error& e) {
  std::string out = e.message;
  for (const auto& d : e.details) out += "\n  " + d.instance_location + " | " + d.keyword_location + " | " + d.message;
  return out;
}

TEST(envelope_decoder, decodes_a_valid_event_into_its_parts) {
  auto decoded = decode_envelope(sample_json());
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(*decoded, sample_envelope());
}

TEST(envelope_decoder, keeps_data_text_verbatim_including_spacing) {
  const std::string data = "{ \"a\" : [ 1 , 2 ] ,\n \"b\" : { } }";
  auto decoded = decode_envelope(replace_once(sample_json(), sample_envelope().data, data));
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->data, data);
}

TEST(envelope_decoder, accepts_data_before_meta_and_whitespace_around_everything) {
  const auto e = sample_envelope();
  std::string meta_text = encode(e);
  meta_text = meta_text.substr(8, meta_text.find(R"(,"data":)") - 8);
  const std::string json = " \n{ \"data\" : " + e.data + " ,\t\"meta\":" + meta_text + " }\r\n ";
  auto decoded = decode_envelope(json);
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(*decoded, e);
}

TEST(envelope_decoder, unescapes_meta_strings) {
  auto decoded = decode_envelope(replace_once(sample_json(), R"("corr-123")", R"("corr\u002d\"q\"\u00e9")"));
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->meta.correlation_id, "corr-\"q\"\xc3\xa9");
}

TEST(envelope_decoder, keeps_unknown_meta_members_verbatim_and_reencodes_them) {
  const std::string extra = R"("tenant":"t-1","flags":{"beta": [true, 2]},"n":-1.5e3)";
  const std::string json = replace_once(sample_json(), R"("source":"content",)", R"("source":"content",)" + extra + ",");
  auto decoded = decode_envelope(json);
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->meta.extra_members, extra);
  const std::string reencoded = encode(*decoded);
  EXPECT_THAT(reencoded, HasSubstr(extra));
  auto again = decode_envelope(reencoded);
  ASSERT_TRUE(again) << describe_errors(again.error());
  EXPECT_EQ(*again, *decoded);
}

TEST(envelope_decoder, unknown_member_key_keeps_its_escapes) {
  const std::string json = replace_once(sample_json(), R"("source":"content",)", R"("source":"content","x\"y":1,)");
  auto decoded = decode_envelope(json);
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->meta.extra_members, R"("x\"y":1)");
}

TEST(envelope_decoder, ignores_unknown_trace_context_members) {
  const std::string json = replace_once(sample_json(), R"("span_id":"00f067aa0ba902b7")",
                                        R"("span_id":"00f067aa0ba902b7","tracestate":"k=v","sampled":{"x":[1]})");
  auto decoded = decode_envelope(json);
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->meta.trace, sample_envelope().meta.trace);
}

TEST(envelope_decoder, round_trips_freshly_generated_events) {
  for (int i = 0; i < 200; ++i) {
    envelope e = sample_envelope();
    e.meta.id = new_uuid_v4();
    e.meta.timestamp = now_timestamp();
    e.meta.trace = new_trace();
    e.meta.correlation_id = "c-" + std::to_string(i) + " \"quoted\" \\ caf\xc3\xa9 \u2603";
    e.data = R"({"i":)" + std::to_string(i) + R"(,"s":"\u2603 snow","nested":[[],{}]})";
    auto decoded = decode_envelope(encode(e));
    ASSERT_TRUE(decoded) << describe_errors(decoded.error());
    EXPECT_EQ(*decoded, e);
  }
}

TEST(envelope_decoder, one_decoder_is_reusable_across_sizes_and_failures) {
  envelope_decoder decoder;
  envelope big = sample_envelope();
  big.data = R"({"blob":")" + std::string(100000, 'x') + R"("})";
  for (int round = 0; round < 3; ++round) {
    auto a = decoder.decode(encode(big));
    ASSERT_TRUE(a) << describe_errors(a.error());
    EXPECT_EQ(a->data, big.data);
    EXPECT_FALSE(decoder.decode("{\"meta\":"));
    auto b = decoder.decode(sample_json());
    ASSERT_TRUE(b);
    EXPECT_EQ(*b, sample_envelope());
  }
}

TEST(envelope_decoder, decode_into_refills_one_envelope_without_stale_fields) {
  envelope_decoder decoder;
  envelope target;
  // First an event with extra meta members and long fields, then one without: nothing may carry over.
  const std::string extra = R"("tenant":"t-1")";
  const auto with_extra = replace_once(sample_json(), R"("source":"content",)", R"("source":"content",)" + extra + ",");
  ASSERT_TRUE(decoder.decode_into(with_extra, target));
  EXPECT_EQ(target.meta.extra_members, extra);
  ASSERT_TRUE(decoder.decode_into(sample_json(), target));
  EXPECT_EQ(target, sample_envelope());

  // A failure reports exactly what decode reports, and the next decode is whole again.
  const auto broken = replace_once(sample_json(), R"("version":"1.0")", R"("version":"01.0")");
  auto failed = decoder.decode_into(broken, target);
  auto failed_decode = decoder.decode(broken);
  ASSERT_FALSE(failed);
  ASSERT_FALSE(failed_decode);
  EXPECT_EQ(failed.error().code, errc::invalid_envelope);
  EXPECT_EQ(failed.error().details, failed_decode.error().details);
  EXPECT_EQ(failed.error().details.at(0).instance_location, "/meta/version");
  auto bad_json = decoder.decode_into(R"({"meta":{"id":)", target);
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code, errc::invalid_json);
  ASSERT_TRUE(decoder.decode_into(sample_json(), target));
  EXPECT_EQ(target, sample_envelope());
}

TEST(envelope_decoder, decode_into_keeps_capacity_once_warm) {
  envelope_decoder decoder;
  envelope target;
  ASSERT_TRUE(decoder.decode_into(sample_json(), target));
  const char* data_buffer = target.data.data();
  const char* id_buffer = target.meta.id.data();
  ASSERT_TRUE(decoder.decode_into(sample_json(), target));
  // Same buffers: the strings were refilled in place, not reallocated.
  EXPECT_EQ(target.data.data(), data_buffer);
  EXPECT_EQ(target.meta.id.data(), id_buffer);
  EXPECT_EQ(target, sample_envelope());
}

TEST(envelope_decoder, moved_from_decoder_still_decodes) {
  envelope_decoder a;
  envelope_decoder b(std::move(a));
  EXPECT_TRUE(b.decode(sample_json()));
  EXPECT_TRUE(a.decode(sample_json()));  // NOLINT(bugprone-use-after-move): documented as usable
}

TEST(envelope_decoder, accepts_numbers_of_any_magnitude_as_json_does) {
  const std::string data = R"({"huge":1e400,"tiny":-1e-400,"big":123456789012345678901234567890,"neg":-0.0E+0})";
  auto decoded = decode_envelope(replace_once(sample_json(), sample_envelope().data, data));
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->data, data);
  const std::string extra = R"("big":[1e999])";
  auto with_extra = decode_envelope(replace_once(sample_json(), R"("source":"content")", R"("source":"content",)" + extra));
  ASSERT_TRUE(with_extra) << describe_errors(with_extra.error());
  EXPECT_EQ(with_extra->meta.extra_members, extra);
}

TEST(envelope_decoder, keeps_empty_and_nested_data_exactly) {
  for (const std::string data : {"{}", "{ }", R"({"a":{"b":{"c":[[[]]]}}})", R"({"":""})"}) {
    auto decoded = decode_envelope(replace_once(sample_json(), sample_envelope().data, data));
    ASSERT_TRUE(decoded) << data << ": " << describe_errors(decoded.error());
    EXPECT_EQ(decoded->data, data);
  }
}

// ---- envelope rule violations: break exactly one thing, expect exactly one error there ----

struct broken_case {
  const char* name;
  std::string json;
  std::string instance_location;
  std::string keyword_location;
};

void PrintTo(const broken_case& c, std::ostream* os) { *os << c.name; }

std::string with(std::string_view from, std::string_view to) { return replace_once(sample_json(), from, to); }

std::vector<broken_case> broken_cases() {
  const std::string id = R"("id":"0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f")";
  const std::string type = R"("type":"content.book.published")";
  const std::string version = R"("version":"1.0")";
  const std::string ts = R"("timestamp":"2023-06-15T14:22:31.123Z")";
  const std::string corr = R"("correlation_id":"corr-123")";
  const std::string source = R"("source":"content")";
  const std::string trace_id = R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736")";
  const std::string span_id = R"("span_id":"00f067aa0ba902b7")";
  const std::string trace = R"("trace_context":{)" + trace_id + "," + span_id + "}";
  const std::string data = R"("data":{"book_id":"b-1","title":"Dune","tags":["sf",1965,true,null],"price":{"amount":9.99e0}})";
  return {
      {"id_not_uuid", with(id, R"("id":"not-a-uuid")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_uppercase", with(id, R"("id":"0B6F4C8E-3F1A-4D2B-9C7E-1A2B3C4D5E6F")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_version_1", with(id, R"("id":"0b6f4c8e-3f1a-1d2b-9c7e-1a2b3c4d5e6f")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_variant_c", with(id, R"("id":"0b6f4c8e-3f1a-4d2b-cc7e-1a2b3c4d5e6f")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_no_dashes", with(id, R"("id":"0b6f4c8e3f1a4d2b9c7e1a2b3c4d5e6f")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_braced", with(id, R"("id":"{0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f}")"), "/meta/id", "/envelope/meta/id/format"},
      {"id_number", with(id, R"("id":42)"), "/meta/id", "/envelope/meta/id/type"},
      {"id_missing", with(id + ",", ""), "/meta/id", "/envelope/meta/id/required"},
      {"id_duplicate", with(id, id + "," + id), "/meta/id", "/envelope/meta/id/duplicate"},
      {"type_two_segments", with(type, R"("type":"content.book")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_four_segments", with(type, R"("type":"content.book.was.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_uppercase", with(type, R"("type":"content.Book.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_camel_case", with(type, R"("type":"content.book.wasPublished")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_empty_segment", with(type, R"("type":"content..published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_trailing_underscore", with(type, R"("type":"content.book_.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_double_underscore", with(type, R"("type":"content.book__x.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_leading_digit", with(type, R"("type":"content.1book.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_hyphen", with(type, R"("type":"content.book-x.published")"), "/meta/type", "/envelope/meta/type/format"},
      {"type_array", with(type, R"("type":["content"])"), "/meta/type", "/envelope/meta/type/type"},
      {"type_missing", with(type + ",", ""), "/meta/type", "/envelope/meta/type/required"},
      {"version_major_only", with(version, R"("version":"1")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_three_parts", with(version, R"("version":"1.0.0")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_leading_zero", with(version, R"("version":"01.0")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_minor_leading_zero", with(version, R"("version":"1.01")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_major_zero", with(version, R"("version":"0.1")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_prefixed", with(version, R"("version":"v1.0")"), "/meta/version", "/envelope/meta/version/format"},
      {"version_number", with(version, R"("version":1.0)"), "/meta/version", "/envelope/meta/version/type"},
      {"version_missing", with(version + ",", ""), "/meta/version", "/envelope/meta/version/required"},
      {"timestamp_no_millis", with(ts, R"("timestamp":"2023-06-15T14:22:31Z")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_micros", with(ts, R"("timestamp":"2023-06-15T14:22:31.123456Z")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_offset", with(ts, R"("timestamp":"2023-06-15T14:22:31.123+00:00")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_not_leap_year", with(ts, R"("timestamp":"2023-02-29T00:00:00.000Z")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_hour_24", with(ts, R"("timestamp":"2023-06-15T24:00:00.000Z")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_lowercase", with(ts, R"("timestamp":"2023-06-15t14:22:31.123z")"), "/meta/timestamp", "/envelope/meta/timestamp/format"},
      {"timestamp_epoch_number", with(ts, R"("timestamp":1686838951123)"), "/meta/timestamp", "/envelope/meta/timestamp/type"},
      {"timestamp_missing", with(ts + ",", ""), "/meta/timestamp", "/envelope/meta/timestamp/required"},
      {"correlation_id_empty", with(corr, R"("correlation_id":"")"), "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_id_too_long", with(corr, R"("correlation_id":")" + std::string(257, 'c') + "\""), "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_id_control_char", with(corr, R"("correlation_id":"a\u0001b")"), "/meta/correlation_id", "/envelope/meta/correlation_id/format"},
      {"correlation_id_null", with(corr, R"("correlation_id":null)"), "/meta/correlation_id", "/envelope/meta/correlation_id/type"},
      {"correlation_id_missing", with(corr + ",", ""), "/meta/correlation_id", "/envelope/meta/correlation_id/required"},
      {"source_empty", with(source, R"("source":"")"), "/meta/source", "/envelope/meta/source/format"},
      {"source_uppercase", with(source, R"("source":"Content")"), "/meta/source", "/envelope/meta/source/format"},
      {"source_leading_digit", with(source, R"("source":"9content")"), "/meta/source", "/envelope/meta/source/format"},
      {"source_space", with(source, R"("source":"content svc")"), "/meta/source", "/envelope/meta/source/format"},
      {"source_boolean", with(source, R"("source":true)"), "/meta/source", "/envelope/meta/source/type"},
      {"source_missing", with(source + ",", ""), "/meta/source", "/envelope/meta/source/required"},
      {"trace_context_string", with(trace, R"("trace_context":"00-abc")"), "/meta/trace_context", "/envelope/meta/trace_context/type"},
      {"trace_context_missing", with("," + trace, ""), "/meta/trace_context", "/envelope/meta/trace_context/required"},
      {"trace_context_duplicate", with(trace, trace + "," + trace), "/meta/trace_context", "/envelope/meta/trace_context/duplicate"},
      {"trace_id_short", with(trace_id, R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e473")"), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/format"},
      {"trace_id_uppercase", with(trace_id, R"("trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736")"), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/format"},
      {"trace_id_all_zero", with(trace_id, R"("trace_id":"00000000000000000000000000000000")"), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/format"},
      {"trace_id_number", with(trace_id, R"("trace_id":12)"), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/type"},
      {"trace_id_missing", with(trace_id + ",", ""), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/required"},
      {"trace_id_duplicate", with(trace_id, trace_id + "," + trace_id), "/meta/trace_context/trace_id", "/envelope/meta/trace_context/trace_id/duplicate"},
      {"span_id_all_zero", with(span_id, R"("span_id":"0000000000000000")"), "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/format"},
      {"span_id_long", with(span_id, R"("span_id":"00f067aa0ba902b7a")"), "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/format"},
      {"span_id_not_hex", with(span_id, R"("span_id":"00f067aa0ba902bg")"), "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/format"},
      {"span_id_object", with(span_id, R"("span_id":{})"), "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/type"},
      {"span_id_missing", with("," + span_id, ""), "/meta/trace_context/span_id", "/envelope/meta/trace_context/span_id/required"},
      {"unknown_meta_member_duplicate", with(source, source + R"(,"x":1,"x":2)"), "/meta/x", "/envelope/meta/x/duplicate"},
      {"meta_array", R"({"meta":[],)" + data + "}", "/meta", "/envelope/meta/type"},
      {"meta_missing", "{" + data + "}", "/meta", "/envelope/meta/required"},
      {"meta_duplicate", with(data, data + R"(,"meta":{})"), "/meta", "/envelope/meta/duplicate"},
      {"data_missing", with("," + data, ""), "/data", "/envelope/data/required"},
      {"data_array", with(data, R"("data":[1,2])"), "/data", "/envelope/data/type"},
      {"data_string", with(data, R"("data":"{}")"), "/data", "/envelope/data/type"},
      {"data_null", with(data, R"("data":null)"), "/data", "/envelope/data/type"},
      {"data_duplicate", with(data, data + R"(,"data":{})"), "/data", "/envelope/data/duplicate"},
      {"unknown_top_level_member", with(data, data + R"(,"extra":{"a":1})"), "/extra", "/envelope/additionalProperties"},
      {"unknown_top_level_member_escaped", with(data, data + R"(,"a/b~c":0)"), "/a~1b~0c", "/envelope/additionalProperties"},
      {"root_array", "[" + sample_json() + "]", "", "/envelope/type"},
      {"root_string", R"("meta")", "", "/envelope/type"},
      {"root_number", "  12 ", "", "/envelope/type"},
      {"root_null", "null", "", "/envelope/type"},
  };
}

class envelope_decoder_rejects : public ::testing::TestWithParam<broken_case> {};

TEST_P(envelope_decoder_rejects, exactly_the_broken_rule_at_its_location) {
  const broken_case& c = GetParam();
  auto decoded = decode_envelope(c.json);
  ASSERT_FALSE(decoded) << c.json;
  const error& e = decoded.error();
  EXPECT_EQ(e.code, errc::invalid_envelope) << describe_errors(e);
  EXPECT_FALSE(e.retriable());
  ASSERT_EQ(e.details.size(), 1u) << describe_errors(e);
  EXPECT_EQ(e.details[0].instance_location, c.instance_location) << describe_errors(e);
  EXPECT_EQ(e.details[0].keyword_location, c.keyword_location) << describe_errors(e);
  EXPECT_FALSE(e.details[0].message.empty());
  EXPECT_THAT(e.message, HasSubstr(c.instance_location)) << "the summary names where";
}

INSTANTIATE_TEST_SUITE_P(rules, envelope_decoder_rejects, ::testing::ValuesIn(broken_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(envelope_decoder, messages_say_what_is_wrong_and_what_is_expected) {
  auto missing = decode_envelope(replace_once(sample_json(), R"(,"source":"content")", ""));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().details.at(0).message, "missing required member");

  auto wrong_type = decode_envelope(replace_once(sample_json(), R"("version":"1.0")", R"("version":1.0)"));
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().details.at(0).message, "must be a string, found a number");

  auto bad_id = decode_envelope(replace_once(sample_json(), "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f", "nope"));
  ASSERT_FALSE(bad_id);
  EXPECT_THAT(bad_id.error().details.at(0).message, HasSubstr("UUID v4"));
  EXPECT_THAT(bad_id.error().details.at(0).message, HasSubstr(R"(found "nope")"));
}

TEST(envelope_decoder, reports_every_violation_at_once) {
  std::string json = replace_once(sample_json(), "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f", "x");
  json = replace_once(json, R"("version":"1.0")", R"("version":"one")");
  json = replace_once(json, R"(,"source":"content")", "");
  json = replace_once(json, "00f067aa0ba902b7", "0000000000000000");
  json = replace_once(json, R"("data":{)", R"("extra":1,"data":{)");
  auto decoded = decode_envelope(json);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, errc::invalid_envelope);
  std::vector<std::string> locations;
  for (const auto& d : decoded.error().details) locations.push_back(d.instance_location);
  EXPECT_THAT(locations, ::testing::UnorderedElementsAre("/meta/id", "/meta/version", "/meta/source",
                                                         "/meta/trace_context/span_id", "/extra"));
  EXPECT_THAT(decoded.error().message, HasSubstr("5 envelope rules"));
}

TEST(envelope_decoder, meta_not_an_object_does_not_also_report_each_missing_field) {
  auto decoded = decode_envelope(R"({"meta":"x","data":{}})");
  ASSERT_FALSE(decoded);
  ASSERT_EQ(decoded.error().details.size(), 1u);
  EXPECT_EQ(decoded.error().details[0].message, "must be an object, found a string");
}

TEST(envelope_decoder, empty_meta_reports_all_seven_missing_members) {
  auto decoded = decode_envelope(R"({"meta":{},"data":{}})");
  ASSERT_FALSE(decoded);
  std::vector<std::string> locations;
  for (const auto& d : decoded.error().details) locations.push_back(d.instance_location);
  EXPECT_THAT(locations, ::testing::ElementsAre("/meta/id", "/meta/type", "/meta/version", "/meta/timestamp",
                                                "/meta/correlation_id", "/meta/source", "/meta/trace_context"));
}

TEST(envelope_decoder, meta_keys_are_compared_after_unescaping) {
  auto decoded = decode_envelope(replace_once(sample_json(), R"("id":)", R"("\u0069d":)"));
  ASSERT_TRUE(decoded) << describe_errors(decoded.error());
  EXPECT_EQ(decoded->meta.id, sample_envelope().meta.id);
  EXPECT_TRUE(decoded->meta.extra_members.empty());
}

// ---- malformed JSON ----

struct malformed_case {
  const char* name;
  std::string json;
  std::string location;  // JSON Pointer of where it broke
  std::string message_part;
};

void PrintTo(const malformed_case& c, std::ostream* os) { *os << c.name; }

std::vector<malformed_case> malformed_cases() {
  const std::string good = sample_json();
  return {
      {"empty_input", "", "", "at end of input"},
      {"only_whitespace", " \n\t ", "", "not well-formed JSON"},
      {"truncated", good.substr(0, good.size() - 1), "", "not well-formed JSON"},
      {"trailing_garbage", good + " x", "", "at byte " + std::to_string(good.size() + 1)},
      {"trailing_garbage_then_brace", good + " x}", "", "after the JSON document"},
      {"trailing_second_object", good + "{}", "", "after the JSON document"},
      {"trailing_brace", good + "}", "", "after the JSON document"},
      {"trailing_comma_in_data", replace_once(good, R"("Dune")", R"("Dune",)"), "/data", "not well-formed JSON"},
      {"bad_number_in_data", replace_once(good, "9.99e0", "9.99e"), "/data/price/amount", "invalid number"},
      {"leading_zero_number", replace_once(good, "9.99e0", "09"), "/data/price/amount", "invalid number"},
      {"bad_literal_in_data", replace_once(good, "true", "tru"), "/data/tags/2", "invalid literal"},
      {"bad_literal_suffix", replace_once(good, "null", "nulls"), "/data/tags/3", "invalid literal"},
      {"bad_escape_in_data", replace_once(good, R"("Dune")", R"("Du\qne")"), "/data/title", "invalid string"},
      {"single_quotes", replace_once(good, R"("Dune")", "'Dune'"), "/data/title", "not well-formed JSON"},
      {"missing_colon_in_meta", replace_once(good, R"("source":)", R"("source" )"), "/meta", "not well-formed JSON"},
      {"bad_value_in_unknown_meta_member",
       replace_once(good, R"("source":"content",)", R"("source":"content","x":[1,],)"), "/meta/x/1",
       "not well-formed JSON"},
      {"bad_value_in_trace_context",
       replace_once(good, R"("span_id":"00f067aa0ba902b7")", R"("span_id":"00f067aa0ba902b7","z":-)"),
       "/meta/trace_context/z", "invalid number"},
      {"bad_value_under_unknown_top_level_member", replace_once(good, R"("data":{)", R"("x":{"y":+1},"data":{)"),
       "/x/y", "not well-formed JSON"},
      {"invalid_utf8_in_data", replace_once(good, "Dune", "Du\xff\xfene"), "", "UTF-8"},
      {"invalid_utf8_in_meta", replace_once(good, "corr-123", "corr\xc3\x28"), "", "UTF-8"},
      {"overlong_utf8", replace_once(good, "Dune", "Du\xc0\xafne"), "", "UTF-8"},
      {"utf8_surrogate_bytes", replace_once(good, "Dune", "Du\xed\xa0\x80ne"), "", "UTF-8"},
      {"raw_control_char_in_string", replace_once(good, "Dune", "Du\x01ne"), "", "not well-formed JSON"},
      {"raw_newline_in_string", replace_once(good, "Dune", "Du\nne"), "", "not well-formed JSON"},
      {"raw_control_char_in_meta_string", replace_once(good, "corr-123", "corr\x01-123"), "", "not well-formed JSON"},
      {"raw_control_char_in_key", replace_once(good, R"("book_id")", "\"book\x02id\""), "", "not well-formed JSON"},
      {"unclosed_string", R"({"meta":{"id":"abc)", "", "not well-formed JSON"},
      {"too_deep", R"({"meta":{},"data":)" + std::string(300, '[') + std::string(300, ']') + "}", "", "nesting"},
  };
}

class envelope_decoder_malformed : public ::testing::TestWithParam<malformed_case> {};

TEST_P(envelope_decoder_malformed, is_invalid_json_naming_where) {
  const malformed_case& c = GetParam();
  auto decoded = decode_envelope(c.json);
  ASSERT_FALSE(decoded);
  const error& e = decoded.error();
  EXPECT_EQ(e.code, errc::invalid_json) << describe_errors(e);
  EXPECT_THAT(e.message, HasSubstr(c.message_part)) << describe_errors(e);
  ASSERT_EQ(e.details.size(), 1u);
  EXPECT_EQ(e.details[0].keyword_location, "/json");
  if (!c.location.empty()) EXPECT_EQ(e.details[0].instance_location, c.location) << describe_errors(e);
}

INSTANTIATE_TEST_SUITE_P(json, envelope_decoder_malformed, ::testing::ValuesIn(malformed_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(envelope_decoder, byte_offset_points_at_the_bad_number) {
  const std::string json = replace_once(sample_json(), "9.99e0", "1.2.3");
  auto decoded = decode_envelope(json);
  ASSERT_FALSE(decoded);
  EXPECT_THAT(decoded.error().message, HasSubstr("at byte " + std::to_string(json.find("1.2.3"))));
}

TEST(envelope_decoder, input_without_padding_at_a_page_end_is_read_safely) {
  // The decoder copies into its own padded buffer; reading the caller's bytes past the end would be a bug
  // that ASan reports here.
  const std::string json = sample_json();
  auto exact = std::make_unique<char[]>(json.size());
  std::copy(json.begin(), json.end(), exact.get());
  auto decoded = decode_envelope(std::string_view(exact.get(), json.size()));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, sample_envelope());
}

TEST(envelope_decoder, agrees_with_a_full_dom_parse_on_mutated_input) {
  // Byte-level mutations of a valid event: whenever simdjson's DOM parser (which checks the whole
  // document) accepts the text, the decoder must not call it malformed, and the other way round.
  // Numbers out of double range are valid JSON the DOM refuses; those mutations prove nothing here.
  std::mt19937 rng(7);
  const std::string base = sample_json() + " ";
  const std::string alphabet = "{}[]\",:0123456789-+.eEtrufalsn \\/\x01\xc3\xff";
  simdjson::dom::parser dom;
  int valid_json = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = base;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0: text[at] = alphabet[rng() % alphabet.size()]; break;
        case 1: text.erase(at, 1); break;
        default: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), alphabet[rng() % alphabet.size()]);
      }
    }
    auto decoded = decode_envelope(text);
    const auto dom_error = dom.parse(text).error();
    if (dom_error == simdjson::NUMBER_ERROR) continue;
    const bool dom_ok = dom_error == simdjson::SUCCESS;
    const bool decoder_says_malformed = !decoded && decoded.error().code == errc::invalid_json;
    ASSERT_EQ(dom_ok, !decoder_says_malformed) << text << "\n" << (decoded ? "" : describe_errors(decoded.error()));
    if (decoded) {
      EXPECT_EQ(decode_envelope(encode(*decoded)).value_or(envelope{}), *decoded) << text;
    }
    valid_json += dom_ok;
  }
  EXPECT_GT(valid_json, 1000);  // the mutations must exercise both sides
}

// ---- JSONTestSuite conformance ----

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(envelope_decoder_conformance, json_test_suite_parsing) {
  const std::filesystem::path dir = std::filesystem::path(AW_TESTDATA_DIR) / "json-test-suite" / "test_parsing";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int accepted = 0, rejected = 0, either = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string text = read_file(path);
    auto decoded = decode_envelope(text);
    if (name.starts_with("y_")) {
      ++accepted;
      // Well-formed JSON: never invalid_json; none of the suite's documents is a valid envelope.
      ASSERT_FALSE(decoded) << name;
      EXPECT_EQ(decoded.error().code, errc::invalid_envelope) << name << ": " << describe_errors(decoded.error());
      if (!text.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos &&
          text[text.find_first_not_of(" \t\r\n")] != '{') {
        ASSERT_EQ(decoded.error().details.size(), 1u) << name;
        EXPECT_EQ(decoded.error().details[0].instance_location, "") << name;
        EXPECT_EQ(decoded.error().details[0].keyword_location, "/envelope/type") << name;
      }
    } else if (name.starts_with("n_")) {
      ++rejected;
      ASSERT_FALSE(decoded) << name;
      EXPECT_EQ(decoded.error().code, errc::invalid_json) << name << ": " << describe_errors(decoded.error());
    } else if (name.starts_with("i_")) {
      ++either;
      if (!decoded) {
        EXPECT_TRUE(decoded.error().code == errc::invalid_json || decoded.error().code == errc::invalid_envelope)
            << name;
      }
    }
  }
  EXPECT_GT(accepted, 90);
  EXPECT_GT(rejected, 180);
  EXPECT_GT(either, 20);
}

}  // namespace
}  // namespace aw::events
