#include "aw/events/json_writer.hpp"

#include <charconv>
#include <cmath>

#include "core/json_text.hpp"

namespace aw::events {

void json_writer::before_value() {
  if (depth_.empty()) {
    if (wrote_value_) failed_ = true;  // a second top-level value
    return;
  }
  if (depth_.back() == '{') {
    if (!expecting_value_after_key_) failed_ = true;  // value without a key
    expecting_value_after_key_ = false;
    return;
  }
  if (has_member_.back()) out_.push_back(',');
  has_member_.back() = true;
}

json_writer& json_writer::begin_object() {
  before_value();
  out_.push_back('{');
  depth_.push_back('{');
  has_member_.push_back(false);
  return *this;
}

json_writer& json_writer::end_object() {
  if (depth_.empty() || depth_.back() != '{' || expecting_value_after_key_) {
    failed_ = true;
    return *this;
  }
  out_.push_back('}');
  depth_.pop_back();
  has_member_.pop_back();
  if (depth_.empty()) wrote_value_ = true;
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_.push_back('[');
  depth_.push_back('[');
  has_member_.push_back(false);
  return *this;
}

json_writer& json_writer::end_array() {
  if (depth_.empty() || depth_.back() != '[') {
    failed_ = true;
    return *this;
  }
  out_.push_back(']');
  depth_.pop_back();
  has_member_.pop_back();
  if (depth_.empty()) wrote_value_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  if (depth_.empty() || depth_.back() != '{' || expecting_value_after_key_) {
    failed_ = true;
    return *this;
  }
  if (has_member_.back()) out_.push_back(',');
  has_member_.back() = true;
  detail::append_json_string(out_, name);
  out_.push_back(':');
  expecting_value_after_key_ = true;
  return *this;
}

json_writer& json_writer::value(std::string_view s) {
  before_value();
  if (!detail::is_valid_utf8(s)) failed_ = true;
  detail::append_json_string(out_, s);
  if (depth_.empty()) wrote_value_ = true;
  return *this;
}

json_writer& json_writer::value(bool b) { return raw(b ? "true" : "false"); }

json_writer& json_writer::value(std::int64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

json_writer& json_writer::value(std::uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  return raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

json_writer& json_writer::value(double d) {
  if (!std::isfinite(d)) {
    failed_ = true;
    return raw("null");
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return raw(std::string_view(buf, static_cast<std::size_t>(end - buf)));
}

json_writer& json_writer::null() { return raw("null"); }

json_writer& json_writer::raw(std::string_view json) {
  before_value();
  out_.append(json);
  if (depth_.empty()) wrote_value_ = true;
  return *this;
}

void json_writer::clear() { *this = json_writer(); }

}  // namespace aw::events
