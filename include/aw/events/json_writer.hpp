// A small streaming JSON writer for turning C++ structs into event `data` (the typed publish path).
// Produces compact, well-formed JSON by construction; misuse (a value where a key is due) is a bug
// reported by `ok()` returning false and publish refusing the event.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aw::events {

class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view name);
  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(bool b);
  json_writer& value(std::int64_t n);
  json_writer& value(std::uint64_t n);
  json_writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  json_writer& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  json_writer& value(double d);  // NaN and infinities are not JSON: they mark the writer as failed
  json_writer& null();
  // Inserts already-serialized JSON verbatim (the caller guarantees it is valid).
  json_writer& raw(std::string_view json);

  // key(name) followed by the value; nested types use write_json(json_writer&, const T&) found by ADL.
  template <class T>
  json_writer& field(std::string_view name, const T& v) {
    key(name);
    write(v);
    return *this;
  }

  template <class T>
  void write(const T& v) {
    if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T> || std::is_convertible_v<const T&, std::string_view>) {
      if constexpr (std::is_floating_point_v<T>) value(static_cast<double>(v));
      else if constexpr (std::is_same_v<T, bool>) value(v);
      else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) value(static_cast<std::int64_t>(v));
      else if constexpr (std::is_integral_v<T>) value(static_cast<std::uint64_t>(v));
      else value(std::string_view(v));
    } else {
      write_json(*this, v);
    }
  }

  // True when the output is one complete, well-formed JSON value.
  [[nodiscard]] bool ok() const noexcept { return !failed_ && depth_.empty() && wrote_value_; }
  [[nodiscard]] const std::string& str() const noexcept { return out_; }
  [[nodiscard]] std::string take() { return std::move(out_); }
  void clear();

 private:
  void before_value();
  std::string out_;
  std::vector<char> depth_;       // '{' or '['
  std::vector<bool> has_member_;  // per level: a comma is due before the next member
  bool expecting_value_after_key_ = false;
  bool wrote_value_ = false;
  bool failed_ = false;
};

template <class T>
void write_json(json_writer& w, const std::vector<T>& items) {
  w.begin_array();
  for (const auto& item : items) w.write(item);
  w.end_array();
}

template <class T>
void write_json(json_writer& w, const std::optional<T>& v) {
  if (v) w.write(*v);
  else w.null();
}

template <class V>
void write_json(json_writer& w, const std::map<std::string, V>& m) {
  w.begin_object();
  for (const auto& [k, v] : m) w.field(k, v);
  w.end_object();
}

}  // namespace aw::events
