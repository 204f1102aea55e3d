// One-pass decode and validation of the envelope with simdjson On-Demand.
//
// On-Demand only checks what it is asked to read, so every value of the document must be checked
// explicitly for the whole input to be proven well-formed JSON:
// - stage 1 (run by iterate) validates UTF-8, string termination and raw control characters for
//   the whole input up front;
// - meta is read member by member; scalars the decoder does not convert are checked by their text
//   (numbers against the RFC 8259 grammar, since any magnitude is valid JSON, literals exactly);
// - containers it does not need (data, unknown members) are skipped by On-Demand and their exact
//   text is validated in place by the DOM parser, several times faster than walking every value.
// Only when something is wrong does a slower On-Demand walk find the path and byte to report.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "aw/events/envelope.hpp"
#include "core/envelope_rules.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

namespace od = simdjson::ondemand;
using detail::meta_member;

// RFC 8259 lets parsers limit nesting; the limit bounds the walker's recursion (stack use) on
// hostile input. Real events nest a handful of levels.
constexpr int max_nesting_depth = 256;

bool is_json_whitespace(char c) noexcept { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string_view trim_trailing_whitespace(std::string_view s) noexcept {
  while (!s.empty() && is_json_whitespace(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) noexcept {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !is_digit(s[i])) return false;
    while (i < n && is_digit(s[i])) ++i;
  }
  return i == n;
}

std::string_view type_name(od::json_type t) noexcept {
  switch (t) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "an unknown value";
}

// End of the escaped key text that starts at `raw` (just after the opening quote).
const char* end_of_raw_key(const char* raw) noexcept {
  while (*raw != '"') raw += (*raw == '\\') ? 2 : 1;
  return raw;
}

// Where the JSON broke: simdjson's code or our own description, the byte, and the path to it.
struct json_fault {
  simdjson::error_code code = simdjson::SUCCESS;
  const char* what = nullptr;
  const char* where = nullptr;
  std::vector<std::string> path;  // tokens, innermost first (filled while unwinding)
};

}  // namespace

struct envelope_decoder::impl {
  od::parser parser;
  simdjson::dom::parser dom_parser;
  od::parser diagnosis_parser;  // only used to locate errors in bad input

  impl() {
    // The DOM keeps this nesting limit when it grows. Should this allocation fail, the first parse
    // allocates again and reports the failure.
    const auto ignored = dom_parser.allocate(4096, max_nesting_depth);
    (void)ignored;
  }

  std::unique_ptr<char[]> buffer;  // input copy with SIMDJSON_PADDING readable bytes after it
  std::size_t capacity = 0;

  // Per-decode state.
  const char* input_end = nullptr;
  od::document* doc = nullptr;
  json_fault fault;
  std::vector<validation_error> errors;
  envelope* out = nullptr;  // the caller's envelope, filled in place

  result<void> decode_into(std::string_view json, envelope& target);

  void copy_to_padded_buffer(std::string_view json);
  bool fail(simdjson::error_code code, const char* what = nullptr);
  bool fail_at(const char* where, const char* what);
  bool fail_unclosed_root(simdjson::error_code code);
  bool check_value(od::value& v, const char** end);
  bool check_container_text(std::string_view text);
  bool walk(od::value& v, int depth);
  bool walk_root_scalar(od::json_type t);
  bool process_root_object(od::object& root);
  bool process_meta(od::value& v);
  bool process_trace_context(od::value& v);
  bool process_string_member(meta_member member, od::value& v, std::string& target);
  error json_error() const;
};

void envelope_decoder::impl::copy_to_padded_buffer(std::string_view json) {
  const std::size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
  if (capacity < needed) {
    std::size_t grown = capacity == 0 ? 4096 : capacity;
    while (grown < needed) grown *= 2;
    buffer = std::make_unique_for_overwrite<char[]>(grown);
    capacity = grown;
  }
  if (!json.empty()) std::memcpy(buffer.get(), json.data(), json.size());
  std::memset(buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
}

bool envelope_decoder::impl::fail(simdjson::error_code code, const char* what) {
  fault.code = code;
  fault.what = what;
  const char* where = nullptr;
  if (doc != nullptr && doc->current_location().get(where) != simdjson::SUCCESS) where = nullptr;
  fault.where = where;
  return false;
}

bool envelope_decoder::impl::fail_at(const char* where, const char* what) {
  fault.code = simdjson::TAPE_ERROR;
  fault.what = what;
  fault.where = where;
  return false;
}

// simdjson checks up front that the last token closes the top-level container; when it does not,
// the useful place to point at is the end of the input, not the start.
bool envelope_decoder::impl::fail_unclosed_root(simdjson::error_code code) {
  if (code != simdjson::INCOMPLETE_ARRAY_OR_OBJECT) return fail(code);
  const char* last = input_end;
  while (last > buffer.get() && is_json_whitespace(last[-1])) --last;
  if (last > buffer.get()) --last;
  return fail_at(last,
                 "the top-level object or array is not closed at the end of the input (truncated, or content "
                 "after it)");
}

// Scalars are checked where they stand (cheap); containers are skipped by On-Demand (bracket
// counting only) and their exact text is then checked by the DOM parser, which validates a whole
// document several times faster than an On-Demand walk of every value. Sets *end, when asked, to
// one past the value's last byte.
bool envelope_decoder::impl::check_value(od::value& v, const char** end) {
  od::json_type type;
  if (auto err = v.type().get(type)) return fail(err, "expected a JSON value");
  std::string_view text;
  switch (type) {
    case od::json_type::object: {
      od::object object;
      if (auto err = v.get_object().get(object)) return fail(err);
      if (auto err = object.raw_json().get(text)) return fail(err);
      text = trim_trailing_whitespace(text);
      if (!check_container_text(text)) return false;
      break;
    }
    case od::json_type::array: {
      od::array array;
      if (auto err = v.get_array().get(array)) return fail(err);
      if (auto err = array.raw_json().get(text)) return fail(err);
      text = trim_trailing_whitespace(text);
      if (!check_container_text(text)) return false;
      break;
    }
    case od::json_type::string: {
      text = trim_trailing_whitespace(v.raw_json_token());
      std::string_view unused;
      if (auto err = v.get_string().get(unused)) return fail(err, "invalid string");
      break;
    }
    case od::json_type::number:
      // Left unconsumed on purpose: the parent's iteration skips it.
      text = trim_trailing_whitespace(v.raw_json_token());
      if (!is_json_number(text)) return fail_at(text.data(), "invalid number");
      break;
    case od::json_type::boolean:
    case od::json_type::null: {
      text = trim_trailing_whitespace(v.raw_json_token());
      const bool ok = type == od::json_type::null ? text == "null" : (text == "true" || text == "false");
      if (!ok) return fail_at(text.data(), "invalid literal (expected true, false or null)");
      break;
    }
  }
  if (end != nullptr) *end = text.data() + text.size();
  return true;
}

// `text` lies inside buffer, so SIMDJSON_PADDING readable bytes follow it and both parsers can read
// it in place. When the DOM parser refuses it, an On-Demand walk finds where (path and byte) for
// the error message; that slow path runs only for bad input.
bool envelope_decoder::impl::check_container_text(std::string_view text) {
  simdjson::dom::element unused;
  const auto dom_error = dom_parser.parse(text.data(), text.size(), false).get(unused);
  if (dom_error == simdjson::SUCCESS) return true;

  od::document* outer = doc;
  od::document inner;
  const std::size_t readable = static_cast<std::size_t>(input_end - text.data()) + simdjson::SIMDJSON_PADDING;
  bool ok = true;
  if (auto err = diagnosis_parser.iterate(text.data(), text.size(), readable).get(inner)) {
    ok = fail_at(text.data(), simdjson::error_message(err));
  } else {
    doc = &inner;
    od::value root;
    if (auto err = inner.get_value().get(root)) {
      ok = fail_unclosed_root(err);
    } else {
      ok = walk(root, 0);
    }
    doc = outer;
  }
  if (!ok) return false;
  // The walk accepts numbers of any magnitude, as JSON does; the DOM parser cannot represent some.
  if (dom_error == simdjson::NUMBER_ERROR) return true;
  fail_at(text.data(), simdjson::error_message(dom_error));
  fault.code = dom_error;
  return false;
}

// Recursive check of every value, used to locate an error the DOM parser found.
bool envelope_decoder::impl::walk(od::value& v, int depth) {
  od::json_type type;
  if (auto err = v.type().get(type)) return fail(err, "expected a JSON value");
  switch (type) {
    case od::json_type::object: {
      if (depth >= max_nesting_depth) return fail_at(v.raw_json_token().data(), "nesting deeper than 256 levels");
      od::object object;
      if (auto err = v.get_object().get(object)) return fail(err);
      for (auto member : object) {
        od::field field;
        if (auto err = std::move(member).get(field)) return fail(err);
        std::string_view key;
        if (auto err = field.unescaped_key().get(key)) return fail(err, "invalid object key");
        if (!walk(field.value(), depth + 1)) {
          fault.path.emplace_back(key);
          return false;
        }
      }
      return true;
    }
    case od::json_type::array: {
      if (depth >= max_nesting_depth) return fail_at(v.raw_json_token().data(), "nesting deeper than 256 levels");
      od::array array;
      if (auto err = v.get_array().get(array)) return fail(err);
      std::size_t index = 0;
      for (auto element : array) {
        od::value child;
        if (auto err = element.get(child)) return fail(err);
        if (!walk(child, depth + 1)) {
          fault.path.push_back(std::to_string(index));
          return false;
        }
        ++index;
      }
      return true;
    }
    default: return check_value(v, nullptr);
  }
}

// A document that is a single scalar: valid JSON (so not invalid_json) but not an envelope.
bool envelope_decoder::impl::walk_root_scalar(od::json_type t) {
  std::string_view token;
  if (auto err = doc->raw_json_token().get(token)) return fail(err);
  token = trim_trailing_whitespace(token);
  switch (t) {
    case od::json_type::string: {
      std::string_view unused;
      if (auto err = doc->get_string().get(unused)) return fail(err, "invalid string");
      break;
    }
    case od::json_type::number:
      if (!is_json_number(token)) return fail_at(token.data(), "invalid number");
      break;
    case od::json_type::boolean:
      if (token != "true" && token != "false") return fail_at(token.data(), "invalid literal");
      break;
    case od::json_type::null:
      if (token != "null") return fail_at(token.data(), "invalid literal");
      break;
    default: return fail(simdjson::TAPE_ERROR);
  }
  for (const char* p = token.data() + token.size(); p < input_end; ++p) {
    if (!is_json_whitespace(*p)) return fail_at(p, "unexpected content after the JSON document");
  }
  return true;
}

bool envelope_decoder::impl::process_string_member(meta_member member, od::value& v, std::string& target) {
  // Locations are built only when there is an error: this runs for every field of every event.
  const auto location = [member] { return "/meta/" + std::string(detail::meta_member_name(member)); };
  od::json_type type;
  if (auto err = v.type().get(type)) return fail(err, "expected a JSON value");
  if (type != od::json_type::string) {
    errors.push_back(detail::wrong_type(location(), "a string", type_name(type)));
    return check_value(v, nullptr);
  }
  std::string_view value;
  if (auto err = v.get_string().get(value)) return fail(err, "invalid string");
  target.assign(value);
  if (const char* problem = detail::meta_string_problem(member, value)) {
    errors.push_back(detail::bad_format(location(), problem, value));
  }
  return true;
}

bool envelope_decoder::impl::process_trace_context(od::value& v) {
  od::json_type type;
  if (auto err = v.type().get(type)) return fail(err, "expected a JSON value");
  if (type != od::json_type::object) {
    errors.push_back(detail::wrong_type("/meta/trace_context", "an object with trace_id and span_id", type_name(type)));
    return check_value(v, nullptr);
  }
  od::object object;
  if (auto err = v.get_object().get(object)) return fail(err);
  bool seen_trace_id = false;
  bool seen_span_id = false;
  for (auto member : object) {
    od::field field;
    if (auto err = std::move(member).get(field)) return fail(err);
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return fail(err, "invalid object key");
    od::value& value = field.value();
    const bool is_trace_id = key == "trace_id";
    const bool is_span_id = key == "span_id";
    bool ok = true;
    if (is_trace_id || is_span_id) {
      bool& seen = is_trace_id ? seen_trace_id : seen_span_id;
      const char* location = is_trace_id ? "/meta/trace_context/trace_id" : "/meta/trace_context/span_id";
      od::json_type member_type;
      if (auto err = value.type().get(member_type)) {
        ok = fail(err, "expected a JSON value");
      } else if (seen) {
        errors.push_back(detail::duplicate_member(location));
        ok = check_value(value, nullptr);
      } else if (member_type != od::json_type::string) {
        seen = true;
        errors.push_back(detail::wrong_type(location, "a string", type_name(member_type)));
        ok = check_value(value, nullptr);
      } else {
        seen = true;
        std::string_view text;
        if (auto err = value.get_string().get(text)) {
          ok = fail(err, "invalid string");
        } else {
          std::string& target = is_trace_id ? out->meta.trace.trace_id : out->meta.trace.span_id;
          target.assign(text);
          const char* problem = is_trace_id ? detail::trace_id_problem(text) : detail::span_id_problem(text);
          if (problem != nullptr) errors.push_back(detail::bad_format(location, problem, text));
        }
      }
    } else {
      // Other trace_context members (vendor extensions) are allowed and ignored, but must be JSON.
      ok = check_value(value, nullptr);
    }
    if (!ok) {
      fault.path.emplace_back(key);
      return false;
    }
  }
  if (!seen_trace_id) errors.push_back(detail::missing_member("/meta/trace_context/trace_id"));
  if (!seen_span_id) errors.push_back(detail::missing_member("/meta/trace_context/span_id"));
  return true;
}

bool envelope_decoder::impl::process_meta(od::value& v) {
  od::json_type type;
  if (auto err = v.type().get(type)) return fail(err, "expected a JSON value");
  if (type != od::json_type::object) {
    errors.push_back(detail::wrong_type("/meta", "an object", type_name(type)));
    return check_value(v, nullptr);
  }
  od::object object;
  if (auto err = v.get_object().get(object)) return fail(err);
  unsigned seen = 0;
  std::vector<std::string_view> unknown_seen;  // names of unknown members, for duplicate detection
  for (auto member_result : object) {
    od::field field;
    if (auto err = std::move(member_result).get(field)) return fail(err);
    // The raw key must be taken before unescaped_key() consumes it.
    const char* raw_key = reinterpret_cast<const char*>(field.key().raw());
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return fail(err, "invalid object key");
    od::value& value = field.value();
    const meta_member member = detail::meta_member_from_name(key);
    bool ok = true;
    if (member == meta_member::count) {
      const char* value_start = value.raw_json_token().data();
      const char* value_end = nullptr;
      ok = check_value(value, &value_end);
      if (ok) {
        if (std::find(unknown_seen.begin(), unknown_seen.end(), key) != unknown_seen.end()) {
          errors.push_back(detail::duplicate_member("/meta/" + detail::pointer_token(key)));
        } else {
          unknown_seen.push_back(key);
          // Kept as written (key escapes and the value's inner spacing included) so that
          // re-encoding passes it on unchanged.
          std::string& extra = out->meta.extra_members;
          if (!extra.empty()) extra.push_back(',');
          extra.push_back('"');
          extra.append(raw_key, end_of_raw_key(raw_key));
          extra += "\":";
          extra.append(value_start, value_end);
        }
      }
    } else {
      const unsigned bit = 1u << static_cast<unsigned>(member);
      if ((seen & bit) != 0) {
        errors.push_back(detail::duplicate_member("/meta/" + std::string(key)));
        ok = check_value(value, nullptr);
      } else {
        seen |= bit;
        switch (member) {
          case meta_member::id: ok = process_string_member(member, value, out->meta.id); break;
          case meta_member::type: ok = process_string_member(member, value, out->meta.type); break;
          case meta_member::version: ok = process_string_member(member, value, out->meta.version); break;
          case meta_member::timestamp: ok = process_string_member(member, value, out->meta.timestamp); break;
          case meta_member::correlation_id:
            ok = process_string_member(member, value, out->meta.correlation_id);
            break;
          case meta_member::source: ok = process_string_member(member, value, out->meta.source); break;
          case meta_member::trace_context: ok = process_trace_context(value); break;
          case meta_member::count: break;
        }
      }
    }
    if (!ok) {
      fault.path.emplace_back(key);
      return false;
    }
  }
  for (unsigned i = 0; i < static_cast<unsigned>(meta_member::count); ++i) {
    if ((seen & (1u << i)) == 0) {
      errors.push_back(detail::missing_member("/meta/" + std::string(detail::meta_member_name(meta_member(i)))));
    }
  }
  return true;
}

bool envelope_decoder::impl::process_root_object(od::object& root) {
  bool seen_meta = false;
  bool seen_data = false;
  for (auto member : root) {
    od::field field;
    if (auto err = std::move(member).get(field)) return fail(err);
    std::string_view key;
    if (auto err = field.unescaped_key().get(key)) return fail(err, "invalid object key");
    od::value& value = field.value();
    bool ok = true;
    if (key == "meta") {
      if (seen_meta) {
        errors.push_back(detail::duplicate_member("/meta"));
        ok = check_value(value, nullptr);
      } else {
        seen_meta = true;
        ok = process_meta(value);
      }
    } else if (key == "data") {
      od::json_type type;
      if (auto err = value.type().get(type)) {
        ok = fail(err, "expected a JSON value");
      } else if (seen_data) {
        errors.push_back(detail::duplicate_member("/data"));
        ok = check_value(value, nullptr);
      } else {
        seen_data = true;
        const char* start = value.raw_json_token().data();
        const char* end = nullptr;
        ok = check_value(value, &end);
        if (ok && type == od::json_type::object) {
          out->data.assign(start, end);
        } else if (ok) {
          errors.push_back(detail::wrong_type("/data", "an object", type_name(type)));
        }
      }
    } else {
      errors.push_back(validation_error{"/" + detail::pointer_token(key), "/envelope/additionalProperties",
                                        "unknown top-level member; the top level must have exactly the members "
                                        "meta and data"});
      ok = check_value(value, nullptr);
    }
    if (!ok) {
      fault.path.emplace_back(key);
      return false;
    }
  }
  if (!seen_meta) errors.push_back(detail::missing_member("/meta"));
  if (!seen_data) errors.push_back(detail::missing_member("/data"));
  return true;
}

error envelope_decoder::impl::json_error() const {
  std::string location;
  for (auto it = fault.path.rbegin(); it != fault.path.rend(); ++it) {
    location.push_back('/');
    location += detail::pointer_token(*it);
  }
  std::string message = "not well-formed JSON";
  if (fault.where != nullptr && fault.where >= buffer.get() && fault.where <= input_end) {
    message += " at byte ";
    message += std::to_string(fault.where - buffer.get());
  } else {
    message += " at end of input";
  }
  if (!location.empty()) {
    message += " (in ";
    message += location;
    message += ")";
  }
  message += ": ";
  message += fault.what != nullptr ? fault.what : simdjson::error_message(fault.code);
  if (fault.what != nullptr && fault.code != simdjson::TAPE_ERROR && fault.code != simdjson::SUCCESS &&
      std::string_view(fault.what) != simdjson::error_message(fault.code)) {
    message += " (";
    message += simdjson::error_message(fault.code);
    message += ")";
  }
  std::vector<validation_error> details;
  details.push_back(validation_error{std::move(location), "/json", message});
  // Running out of memory says nothing about the input: do not let it dead-letter an event.
  const errc code = fault.code == simdjson::MEMALLOC ? errc::internal : errc::invalid_json;
  return error{code, std::move(message), is_retriable(code), std::move(details)};
}

namespace {

// Clears every member but keeps the strings' capacity, so a reused envelope decodes without allocating.
void clear_envelope(envelope& e) noexcept {
  e.meta.id.clear();
  e.meta.type.clear();
  e.meta.version.clear();
  e.meta.timestamp.clear();
  e.meta.correlation_id.clear();
  e.meta.source.clear();
  e.meta.trace.trace_id.clear();
  e.meta.trace.span_id.clear();
  e.meta.extra_members.clear();
  e.data.clear();
}

}  // namespace

result<void> envelope_decoder::impl::decode_into(std::string_view json, envelope& target) {
  fault = json_fault{};
  errors.clear();
  clear_envelope(target);
  out = &target;
  doc = nullptr;

  copy_to_padded_buffer(json);
  input_end = buffer.get() + json.size();

  od::document document;
  if (auto err = parser.iterate(buffer.get(), json.size(), capacity).get(document)) {
    fail(err);
    out = nullptr;
    return make_error(json_error());
  }
  doc = &document;
  const auto finish = [&](bool ok) -> result<void> {
    doc = nullptr;
    out = nullptr;
    if (!ok) return make_error(json_error());
    if (!errors.empty()) return make_error(detail::envelope_error(std::exchange(errors, {})));
    return {};
  };

  od::json_type type;
  if (auto err = document.type().get(type)) return finish(fail(err, "expected a JSON value"));
  bool ok = true;
  if (type == od::json_type::object || type == od::json_type::array) {
    if (type == od::json_type::object) {
      od::object root;
      if (auto err = document.get_object().get(root)) return finish(fail_unclosed_root(err));
      ok = process_root_object(root);
    } else {
      od::value root;
      if (auto err = document.get_value().get(root)) return finish(fail_unclosed_root(err));
      ok = check_value(root, nullptr);
    }
    if (ok) {
      const char* next = nullptr;
      if (document.current_location().get(next) == simdjson::SUCCESS) {
        ok = fail_at(next, "unexpected content after the JSON document");
      }
    }
  } else {
    ok = walk_root_scalar(type);
  }
  if (ok && type != od::json_type::object) {
    errors.push_back(detail::wrong_type("", "an object with exactly the members meta and data", type_name(type)));
  }
  return finish(ok);
}

envelope_decoder::envelope_decoder() : impl_(std::make_unique<impl>()) {}
envelope_decoder::~envelope_decoder() = default;
envelope_decoder::envelope_decoder(envelope_decoder&&) noexcept = default;
envelope_decoder& envelope_decoder::operator=(envelope_decoder&&) noexcept = default;

result<envelope> envelope_decoder::decode(std::string_view json) {
  envelope out;
  if (auto ok = decode_into(json, out); !ok) return make_error(std::move(ok.error()));
  return out;
}

result<void> envelope_decoder::decode_into(std::string_view json, envelope& out) {
  // A moved-from decoder stays usable.
  if (!impl_) impl_ = std::make_unique<impl>();
  return impl_->decode_into(json, out);
}

result<envelope> decode_envelope(std::string_view json) {
  thread_local envelope_decoder decoder;
  return decoder.decode(json);
}

}  // namespace aw::events
