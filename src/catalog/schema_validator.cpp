// Runs a compiled schema over a simdjson DOM. The first pass only decides valid/invalid: it
// allocates nothing unless "unevaluated*" keywords need annotations. Only an invalid instance is
// walked a second time, in reporting mode, to build the "basic" output (JSON pointers, messages).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/schema_program.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

using schema_detail::element;
using schema_detail::no_node;
using schema_detail::node;
namespace dom = simdjson::dom;

// Deeper recursion means a schema that references itself without consuming the instance.
constexpr size_t max_depth = 512;

struct segment {
  std::string_view name;
  size_t index = 0;
  bool is_index = false;
};

// What in-place applicators evaluated, for unevaluatedProperties/unevaluatedItems. Properties are
// identified by their position in the instance object.
struct annotations {
  bool all_properties = false;
  std::vector<bool> properties;
  bool all_items = false;
  size_t prefix_items = 0;
  std::vector<bool> items;

  void mark_property(size_t i, size_t count) {
    if (properties.size() < count) properties.resize(count);
    properties[i] = true;
  }
  void mark_item(size_t i, size_t count) {
    if (items.size() < count) items.resize(count);
    items[i] = true;
  }
  void merge(const annotations& other) {
    all_properties = all_properties || other.all_properties;
    all_items = all_items || other.all_items;
    prefix_items = std::max(prefix_items, other.prefix_items);
    if (properties.size() < other.properties.size()) properties.resize(other.properties.size());
    for (size_t i = 0; i < other.properties.size(); ++i)
      if (other.properties[i]) properties[i] = true;
    if (items.size() < other.items.size()) items.resize(other.items.size());
    for (size_t i = 0; i < other.items.size(); ++i)
      if (other.items[i]) items[i] = true;
  }
  bool property_evaluated(size_t i) const { return all_properties || (i < properties.size() && properties[i]); }
  bool item_evaluated(size_t i) const {
    return all_items || i < prefix_items || (i < items.size() && items[i]);
  }
};

using schema_detail::is_numeric;
using schema_detail::number_of;

// JSON equality: numbers by value (1 == 1.0), objects regardless of member order.
bool json_equal(const element& a, const element& b) {
  auto ta = a.type(), tb = b.type();
  if (is_numeric(ta) && is_numeric(tb)) return number_of(a) == number_of(b);
  if (ta != tb) return false;
  switch (ta) {
    case dom::element_type::STRING: return std::string_view(a) == std::string_view(b);
    case dom::element_type::BOOL: return bool(a) == bool(b);
    case dom::element_type::NULL_VALUE: return true;
    case dom::element_type::ARRAY: {
      dom::array x = a.get_array(), y = b.get_array();
      if (x.size() != y.size()) return false;
      auto i = x.begin(), j = y.begin();
      for (; i != x.end(); ++i, ++j)
        if (!json_equal(*i, *j)) return false;
      return true;
    }
    case dom::element_type::OBJECT: {
      dom::object x = a.get_object(), y = b.get_object();
      if (x.size() != y.size()) return false;
      for (auto [key, value] : x) {
        auto other = y.at_key(key);
        if (other.error() || !json_equal(value, other.value_unsafe())) return false;
      }
      return true;
    }
    default: return false;
  }
}

// A hash consistent with json_equal, used to find duplicates in large arrays.
uint64_t json_hash(const element& e) {
  auto mix = [](uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL; };
  auto t = e.type();
  if (is_numeric(t)) {
    double d = static_cast<double>(number_of(e));
    if (d == 0) d = 0;  // -0 == 0
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return mix(1, bits);
  }
  switch (t) {
    case dom::element_type::STRING: return mix(2, std::hash<std::string_view>{}(std::string_view(e)));
    case dom::element_type::BOOL: return mix(3, bool(e));
    case dom::element_type::NULL_VALUE: return 4;
    case dom::element_type::ARRAY: {
      uint64_t h = 5;
      for (element item : e.get_array()) h = mix(h, json_hash(item));
      return h;
    }
    case dom::element_type::OBJECT: {
      uint64_t h = 6;  // order-independent: sum of member hashes
      for (auto [key, value] : e.get_object())
        h += mix(std::hash<std::string_view>{}(key), json_hash(value));
      return h;
    }
    default: return 0;
  }
}

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

const char* type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64: return "integer";
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

std::string format_number(long double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17Lg", v);
  std::string s(buf);
  // Prefer the shortest spelling that reads back the same double.
  for (int precision = 1; precision < 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*Lg", precision, v);
    if (std::strtold(buf, nullptr) == v || static_cast<double>(std::strtold(buf, nullptr)) == static_cast<double>(v))
      return buf;
  }
  return s;
}

struct context {
  const json_schema::program* program = nullptr;
  bool report = false;
  std::vector<validation_error>* errors = nullptr;
  std::vector<segment> instance_path;
  std::vector<segment> keyword_path;
  std::vector<uint32_t> scope;
  size_t depth = 0;

  static std::string pointer(const std::vector<segment>& path, std::string_view last = {}) {
    std::string out;
    for (const auto& s : path) {
      out += '/';
      if (s.is_index) {
        out += std::to_string(s.index);
      } else {
        out += detail::pointer_token(s.name);
      }
    }
    if (!last.empty()) {
      out += '/';
      out += detail::pointer_token(last);
    }
    return out;
  }

  void fail(std::string_view keyword, std::string message) {
    if (!report) return;
    errors->push_back({pointer(instance_path), pointer(keyword_path, keyword), std::move(message)});
  }
};

// Pushes a path segment in reporting mode and pops it on scope exit.
class path_guard {
 public:
  path_guard(context& c, std::vector<segment>& path, segment s) : path_(c.report ? &path : nullptr) {
    if (path_) path_->push_back(s);
  }
  path_guard(const path_guard&) = delete;
  path_guard& operator=(const path_guard&) = delete;
  ~path_guard() {
    if (path_) path_->pop_back();
  }

 private:
  std::vector<segment>* path_;
};

// Evaluates without reporting (anyOf branches, not, if, contains): their failures are expected.
class quiet_guard {
 public:
  explicit quiet_guard(context& c) : c_(c), saved_(c.report) { c.report = false; }
  quiet_guard(const quiet_guard&) = delete;
  quiet_guard& operator=(const quiet_guard&) = delete;
  ~quiet_guard() { c_.report = saved_; }

 private:
  context& c_;
  bool saved_;
};

class evaluator {
 public:
  explicit evaluator(context& c) : c_(c), nodes_(c.program->nodes) {}

  // Evaluates node index against value; in-place annotations go to ann when it is not null.
  bool eval(int32_t index, element value, annotations* ann) {
    const node& n = nodes_[static_cast<size_t>(index)];
    if (n.is_boolean) {
      if (!n.boolean_value) c_.fail({}, "no value is allowed here (schema is false)");
      return n.boolean_value;
    }
    if (++c_.depth > max_depth) {
      --c_.depth;
      c_.fail({}, "schema recursion is too deep for this instance");
      return false;
    }
    bool pushed_scope = false;
    if (c_.program->uses_dynamic_scope && (c_.scope.empty() || c_.scope.back() != n.resource)) {
      c_.scope.push_back(n.resource);
      pushed_scope = true;
    }
    bool ok;
    if (n.unevaluated_items != no_node || n.unevaluated_properties != no_node) {
      annotations local;
      ok = eval_keywords(n, value, &local);
      ok = eval_unevaluated(n, value, local) && ok;
      if (ok && ann) ann->merge(local);
    } else {
      ok = eval_keywords(n, value, ann);
    }
    if (pushed_scope) c_.scope.pop_back();
    --c_.depth;
    return ok;
  }

  bool eval_at_keyword(int32_t index, element value, annotations* ann, std::string_view keyword) {
    path_guard k(c_, c_.keyword_path, {keyword});
    return eval(index, value, ann);
  }

 private:
  bool eval_keywords(const node& n, element value, annotations* ann) {
    bool ok = true;
    const auto t = value.type();
    if (n.types != 0 && !type_matches(n.types, value, t)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("type", std::string("must be of type ") + types_text(n.types) + ", not " + type_name(t));
    }
    if (n.has_const && !json_equal(value, n.const_value)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("const", "must be equal to the constant " + simdjson::minify(n.const_value));
    }
    if (n.has_enum) {
      bool found = false;
      if (n.enum_all_strings) {
        if (t == dom::element_type::STRING) {
          const std::string_view v(value);
          for (std::string_view candidate : n.enum_strings) {
            if (candidate.size() == v.size() && schema_detail::same_bytes(candidate.data(), v.data(), v.size())) {
              found = true;
              break;
            }
          }
        }
      } else {
        for (const auto& candidate : n.enum_values) {
          if (json_equal(value, candidate)) {
            found = true;
            break;
          }
        }
      }
      if (!found) {
        if (!c_.report) return false;
        ok = false;
        std::string allowed;
        for (const auto& candidate : n.enum_values) {
          if (!allowed.empty()) allowed += ", ";
          allowed += simdjson::minify(candidate);
          if (allowed.size() > 200) {
            allowed += ", ...";
            break;
          }
        }
        c_.fail("enum", "must be one of " + allowed);
      }
    }
    if (n.has_applicators && !eval_applicators(n, value, ann)) {
      if (!c_.report) return false;
      ok = false;
    }
    switch (t) {
      case dom::element_type::INT64:
      case dom::element_type::UINT64:
      case dom::element_type::DOUBLE:
        if (n.has_number_keywords && !eval_number(n, value, t)) ok = false;
        break;
      case dom::element_type::STRING:
        if (n.has_string_keywords && !eval_string(n, std::string_view(value))) ok = false;
        break;
      case dom::element_type::ARRAY:
        if (n.has_array_keywords && !eval_array(n, value.get_array(), ann)) ok = false;
        break;
      case dom::element_type::OBJECT:
        if (n.has_object_keywords && !eval_object(n, value, ann)) ok = false;
        break;
      default: break;
    }
    return ok;
  }

  static bool type_matches(uint8_t types, const element& value, dom::element_type t) {
    switch (t) {
      case dom::element_type::NULL_VALUE: return types & schema_detail::type_null;
      case dom::element_type::BOOL: return types & schema_detail::type_boolean;
      case dom::element_type::OBJECT: return types & schema_detail::type_object;
      case dom::element_type::ARRAY: return types & schema_detail::type_array;
      case dom::element_type::STRING: return types & schema_detail::type_string;
      case dom::element_type::INT64:
      case dom::element_type::UINT64: return types & (schema_detail::type_number | schema_detail::type_integer);
      case dom::element_type::DOUBLE: {
        if (types & schema_detail::type_number) return true;
        if (!(types & schema_detail::type_integer)) return false;
        double d = double(value);
        return std::isfinite(d) && std::floor(d) == d;
      }
    }
    return false;
  }

  static std::string types_text(uint8_t types) {
    static constexpr std::pair<uint8_t, const char*> names[] = {
        {schema_detail::type_null, "null"},     {schema_detail::type_boolean, "boolean"},
        {schema_detail::type_object, "object"}, {schema_detail::type_array, "array"},
        {schema_detail::type_number, "number"}, {schema_detail::type_string, "string"},
        {schema_detail::type_integer, "integer"}};
    std::string out;
    for (auto [bit, name] : names) {
      if (types & bit) {
        if (!out.empty()) out += " or ";
        out += name;
      }
    }
    return out.empty() ? "none (empty type list)" : out;
  }

  bool eval_applicators(const node& n, element value, annotations* ann) {
    bool ok = true;
    if (n.ref != no_node) {
      if (!eval_at_keyword(n.ref, value, ann, "$ref")) {
        if (!c_.report) return false;
        ok = false;
      }
    }
    if (n.dynamic_ref != no_node) {
      int32_t target = n.dynamic_ref;
      if (!n.dynamic_anchor_name.empty()) {
        // The outermost resource in the dynamic scope that declares the anchor wins.
        for (uint32_t resource : c_.scope) {
          const auto& anchors = c_.program->resources[resource].dynamic_anchors;
          auto it = anchors.find(n.dynamic_anchor_name);
          if (it != anchors.end()) {
            target = it->second;
            break;
          }
        }
      }
      if (!eval_at_keyword(target, value, ann, "$dynamicRef")) {
        if (!c_.report) return false;
        ok = false;
      }
    }
    if (!n.all_of.empty()) {
      path_guard k(c_, c_.keyword_path, {"allOf"});
      for (size_t i = 0; i < n.all_of.size(); ++i) {
        path_guard s(c_, c_.keyword_path, {{}, i, true});
        if (!eval(n.all_of[i], value, ann)) {
          if (!c_.report) return false;
          ok = false;
        }
      }
    }
    if (!n.any_of.empty()) {
      bool any = false;
      {
        quiet_guard q(c_);
        for (int32_t branch : n.any_of) {
          if (ann) {
            annotations local;
            if (eval(branch, value, &local)) {
              ann->merge(local);
              any = true;
            }
          } else if (eval(branch, value, nullptr)) {
            any = true;
            break;
          }
        }
      }
      if (!any) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("anyOf", "must match at least one of the " + std::to_string(n.any_of.size()) + " schemas in anyOf");
      }
    }
    if (!n.one_of.empty()) {
      size_t matches = 0;
      size_t first = 0, second = 0;
      {
        quiet_guard q(c_);
        annotations winner;
        for (size_t i = 0; i < n.one_of.size(); ++i) {
          annotations local;
          if (eval(n.one_of[i], value, ann ? &local : nullptr)) {
            if (++matches == 1) {
              first = i;
              if (ann) winner = std::move(local);
            } else {
              second = i;
              break;
            }
          }
        }
        if (matches == 1 && ann) ann->merge(winner);
      }
      if (matches != 1) {
        if (!c_.report) return false;
        ok = false;
        if (matches == 0) {
          c_.fail("oneOf", "must match exactly one of the " + std::to_string(n.one_of.size()) +
                               " schemas in oneOf, matches none");
        } else {
          c_.fail("oneOf", "must match exactly one schema in oneOf, matches both " + std::to_string(first) +
                               " and " + std::to_string(second));
        }
      }
    }
    if (n.not_ != no_node) {
      bool matched;
      {
        quiet_guard q(c_);
        matched = eval(n.not_, value, nullptr);
      }
      if (matched) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("not", "must not match the schema in \"not\"");
      }
    }
    if (n.if_ != no_node) {
      bool condition;
      annotations local;
      {
        quiet_guard q(c_);
        condition = eval(n.if_, value, ann ? &local : nullptr);
      }
      if (condition && ann) ann->merge(local);
      int32_t branch = condition ? n.then_ : n.else_;
      if (branch != no_node && !eval_at_keyword(branch, value, ann, condition ? "then" : "else")) {
        if (!c_.report) return false;
        ok = false;
      }
    }
    return ok;
  }

  bool eval_number(const node& n, element value, dom::element_type t) {
    bool ok = true;
    long double v = number_of(value);
    auto check = [&](const schema_detail::limit& l, bool pass, const char* keyword, const char* relation) {
      if (pass) return true;
      ok = false;
      c_.fail(keyword, std::string("must be ") + relation + " " + format_number(l.value));
      return c_.report;
    };
    if (n.minimum.present && !check(n.minimum, v >= n.minimum.value, "minimum", ">=")) return false;
    if (n.maximum.present && !check(n.maximum, v <= n.maximum.value, "maximum", "<=")) return false;
    if (n.exclusive_minimum.present &&
        !check(n.exclusive_minimum, v > n.exclusive_minimum.value, "exclusiveMinimum", ">"))
      return false;
    if (n.exclusive_maximum.present &&
        !check(n.exclusive_maximum, v < n.exclusive_maximum.value, "exclusiveMaximum", "<"))
      return false;
    if (n.multiple_of.present) {
      bool multiple;
      if (n.multiple_of_integer && t == dom::element_type::INT64) {
        int64_t i = int64_t(value);
        uint64_t magnitude = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
        multiple = magnitude % n.multiple_of_int == 0;
      } else if (n.multiple_of_integer && t == dom::element_type::UINT64) {
        multiple = uint64_t(value) % n.multiple_of_int == 0;
      } else {
        // Floating point: the quotient must be an integer up to rounding error of the division.
        double q = double(value) / n.multiple_of.as_double;
        if (!std::isfinite(q)) {
          multiple = false;
        } else {
          double r = std::nearbyint(q);
          multiple = std::fabs(q - r) <= 1e-9 * std::max(1.0, std::fabs(q));
        }
      }
      if (!check(n.multiple_of, multiple, "multipleOf", "a multiple of")) return false;
    }
    return ok;
  }

  bool eval_string(const node& n, std::string_view s) {
    bool ok = true;
    // A code point takes 1 to 4 bytes: the byte count often decides without counting.
    const bool max_decided = n.max_length < 0 || s.size() <= static_cast<uint64_t>(n.max_length);
    const bool min_decided = n.min_length < 0 || (s.size() + 3) / 4 >= static_cast<uint64_t>(n.min_length);
    if (!max_decided || !min_decided) {
      size_t length = code_points(s);
      if (n.min_length >= 0 && length < static_cast<uint64_t>(n.min_length)) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("minLength", "must be at least " + std::to_string(n.min_length) + " characters long, is " +
                                 std::to_string(length));
      }
      if (n.max_length >= 0 && length > static_cast<uint64_t>(n.max_length)) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("maxLength", "must be at most " + std::to_string(n.max_length) + " characters long, is " +
                                 std::to_string(length));
      }
    }
    if (n.pattern >= 0) {
      const auto& re = c_.program->regexes[static_cast<size_t>(n.pattern)];
      if (!re.matches(s)) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("pattern", "must match the pattern " + detail::json_string(re.source));
      }
    }
    if (n.format != schema_detail::format_kind::none && !schema_detail::check_format(n.format, s)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("format", "must be a valid " + std::string(n.format_name));
    }
    return ok;
  }

  bool eval_array(const node& n, dom::array array, annotations* ann) {
    bool ok = true;
    const size_t size = array.size();
    if (n.min_items >= 0 && size < static_cast<uint64_t>(n.min_items)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("minItems", "must have at least " + std::to_string(n.min_items) + " items, has " + std::to_string(size));
    }
    if (n.max_items >= 0 && size > static_cast<uint64_t>(n.max_items)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("maxItems", "must have at most " + std::to_string(n.max_items) + " items, has " + std::to_string(size));
    }
    if (!n.prefix_items.empty() || n.rest_items != no_node) {
      size_t i = 0;
      for (element item : array) {
        bool prefix = i < n.prefix_items.size();
        if (!prefix && n.rest_items == no_node) break;
        path_guard p(c_, c_.instance_path, {{}, i, true});
        bool item_ok;
        if (prefix) {
          path_guard k(c_, c_.keyword_path, {n.prefix_items_keyword});
          path_guard ki(c_, c_.keyword_path, {{}, i, true});
          item_ok = eval(n.prefix_items[i], item, nullptr);
        } else {
          item_ok = eval_at_keyword(n.rest_items, item, nullptr, n.rest_items_keyword);
        }
        if (!item_ok) {
          if (!c_.report) return false;
          ok = false;
        }
        ++i;
      }
      if (ann) {
        ann->prefix_items = std::max(ann->prefix_items, std::min(size, n.prefix_items.size()));
        if (n.rest_items != no_node) ann->all_items = true;
      }
    }
    if (n.contains != no_node) {
      size_t matches = 0, i = 0;
      {
        quiet_guard q(c_);
        for (element item : array) {
          if (eval(n.contains, item, nullptr)) {
            ++matches;
            if (ann) ann->mark_item(i, size);
          }
          ++i;
        }
      }
      const auto min = static_cast<uint64_t>(n.min_contains);
      if (matches < min) {
        if (!c_.report) return false;
        ok = false;
        if (n.min_contains == 1) {
          c_.fail("contains", "must contain at least one item matching \"contains\"");
        } else {
          c_.fail("minContains", "must contain at least " + std::to_string(min) + " items matching \"contains\", has " +
                                     std::to_string(matches));
        }
      }
      if (n.max_contains >= 0 && matches > static_cast<uint64_t>(n.max_contains)) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("maxContains", "must contain at most " + std::to_string(n.max_contains) +
                                   " items matching \"contains\", has " + std::to_string(matches));
      }
    }
    if (n.unique_items) {
      size_t first = 0, second = 0;
      if (!unique(array, size, first, second)) {
        if (!c_.report) return false;
        ok = false;
        c_.fail("uniqueItems", "items must be unique, items " + std::to_string(first) + " and " +
                                   std::to_string(second) + " are equal");
      }
    }
    return ok;
  }

  static bool unique(dom::array array, size_t size, size_t& first, size_t& second) {
    if (size < 2) return true;
    if (size <= 16) {
      element items[16];
      size_t count = 0;
      for (element item : array) items[count++] = item;
      for (size_t i = 0; i < count; ++i)
        for (size_t j = i + 1; j < count; ++j)
          if (json_equal(items[i], items[j])) {
            first = i;
            second = j;
            return false;
          }
      return true;
    }
    std::vector<std::pair<uint64_t, size_t>> hashes;
    std::vector<element> items;
    hashes.reserve(size);
    items.reserve(size);
    for (element item : array) {
      hashes.emplace_back(json_hash(item), items.size());
      items.push_back(item);
    }
    std::sort(hashes.begin(), hashes.end());
    for (size_t i = 0; i < hashes.size(); ++i)
      for (size_t j = i + 1; j < hashes.size() && hashes[j].first == hashes[i].first; ++j)
        if (json_equal(items[hashes[i].second], items[hashes[j].second])) {
          first = std::min(hashes[i].second, hashes[j].second);
          second = std::max(hashes[i].second, hashes[j].second);
          return false;
        }
    return true;
  }

  // The first "properties" entry named key, or null.
  static const schema_detail::named_node* find_property(const node& n, std::string_view key) {
    if (!n.property_slots.empty()) {
      uint32_t pos = schema_detail::property_hash(key) & n.property_mask;
      for (;;) {
        const int16_t i = n.property_slots[pos];
        if (i < 0) return nullptr;
        const auto& property = n.properties[static_cast<size_t>(i)];
        if (property.name.size() == key.size() && schema_detail::same_bytes(property.name.data(), key.data(), key.size()))
          return &property;
        pos = (pos + 1) & n.property_mask;
      }
    }
    for (const auto& property : n.properties)
      if (property.name.size() == key.size() && schema_detail::same_bytes(property.name.data(), key.data(), key.size()))
        return &property;
    return nullptr;
  }

  bool eval_object(const node& n, element value, annotations* ann) {
    bool ok = true;
    dom::object object = value.get_object();
    const size_t size = object.size();
    if (n.min_properties >= 0 && size < static_cast<uint64_t>(n.min_properties)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("minProperties", "must have at least " + std::to_string(n.min_properties) + " properties, has " +
                                   std::to_string(size));
    }
    if (n.max_properties >= 0 && size > static_cast<uint64_t>(n.max_properties)) {
      if (!c_.report) return false;
      ok = false;
      c_.fail("maxProperties", "must have at most " + std::to_string(n.max_properties) + " properties, has " +
                                   std::to_string(size));
    }
    if (!n.required_via_properties) {
      for (std::string_view name : n.required) {
        if (object.at_key(name).error()) {
          if (!c_.report) return false;
          ok = false;
          c_.fail("required", "missing required property " + detail::json_string(name));
        }
      }
    }
    for (const auto& dependency : n.dependent_required) {
      if (object.at_key(dependency.name).error()) continue;
      for (std::string_view name : dependency.required) {
        if (object.at_key(name).error()) {
          if (!c_.report) return false;
          ok = false;
          path_guard k(c_, c_.keyword_path, {n.dependent_required_keyword});
          c_.fail(dependency.name, "property " + detail::json_string(name) + " is required when " +
                                       detail::json_string(dependency.name) + " is present");
        }
      }
    }
    uint64_t present = 0;  // bits of required names seen, when required_via_properties
    if (!n.properties.empty() || !n.pattern_properties.empty() || n.additional_properties != no_node ||
        n.property_names != no_node) {
      size_t i = 0;
      for (auto [key, member] : object) {
        path_guard p(c_, c_.instance_path, {key});
        bool matched = false;
        if (const auto* property = find_property(n, key)) {
          matched = true;
          if (property->required_bit >= 0) present |= uint64_t{1} << property->required_bit;
          path_guard k(c_, c_.keyword_path, {"properties"});
          path_guard kn(c_, c_.keyword_path, {property->name});
          if (!eval(property->node, member, nullptr)) {
            if (!c_.report) return false;
            ok = false;
          }
        }
        for (const auto& pattern : n.pattern_properties) {
          const auto& re = c_.program->regexes[pattern.regex];
          if (!re.matches(key)) continue;
          matched = true;
          path_guard k(c_, c_.keyword_path, {"patternProperties"});
          path_guard kn(c_, c_.keyword_path, {re.source});
          if (!eval(pattern.node, member, nullptr)) {
            if (!c_.report) return false;
            ok = false;
          }
        }
        if (!matched && n.additional_properties != no_node) {
          matched = true;
          if (!eval_extra_property(n.additional_properties, member, "additionalProperties", key)) {
            if (!c_.report) return false;
            ok = false;
          }
        }
        if (matched && ann) ann->mark_property(i, size);
        if (n.property_names != no_node && !eval_property_name(n.property_names, key)) {
          if (!c_.report) return false;
          ok = false;
        }
        ++i;
      }
    }
    if (n.required_via_properties && present != (n.required.size() == 64 ? ~uint64_t{0}
                                                                          : (uint64_t{1} << n.required.size()) - 1)) {
      if (!c_.report) return false;
      ok = false;
      for (size_t r = 0; r < n.required.size(); ++r)
        if (!(present & (uint64_t{1} << r)))
          c_.fail("required", "missing required property " + detail::json_string(n.required[r]));
    }
    for (const auto& dependency : n.dependent_schemas) {
      if (object.at_key(dependency.name).error()) continue;
      path_guard k(c_, c_.keyword_path, {n.dependent_schemas_keyword});
      path_guard kn(c_, c_.keyword_path, {dependency.name});
      if (!eval(dependency.node, value, ann)) {
        if (!c_.report) return false;
        ok = false;
      }
    }
    return ok;
  }

  // additionalProperties / unevaluatedProperties: "false" gets a message naming the property.
  bool eval_extra_property(int32_t index, element value, std::string_view keyword, std::string_view key) {
    const node& target = nodes_[static_cast<size_t>(index)];
    if (target.is_boolean && !target.boolean_value) {
      c_.fail(keyword, "property " + detail::json_string(key) + " is not allowed");
      return false;
    }
    return eval_at_keyword(index, value, nullptr, keyword);
  }

  bool eval_property_name(int32_t index, std::string_view key) {
    // Property names are not DOM elements: parse the name as a JSON string to validate it.
    thread_local dom::parser name_parser;
    thread_local std::string text;
    text.clear();
    detail::append_json_string(text, key);
    text.reserve(text.size() + simdjson::SIMDJSON_PADDING);
    element name;
    if (name_parser.parse(text.data(), text.size(), false).get(name)) return false;
    return eval_at_keyword(index, name, nullptr, "propertyNames");
  }

  bool eval_unevaluated(const node& n, element value, annotations& local) {
    bool ok = true;
    if (n.unevaluated_properties != no_node && value.is_object()) {
      dom::object object = value.get_object();
      size_t i = 0;
      for (auto [key, item] : object) {
        if (!local.property_evaluated(i)) {
          path_guard p(c_, c_.instance_path, {key});
          if (!eval_extra_property(n.unevaluated_properties, item, "unevaluatedProperties", key)) {
            if (!c_.report) return false;
            ok = false;
          }
        }
        ++i;
      }
      local.all_properties = true;
    }
    if (n.unevaluated_items != no_node && value.is_array()) {
      size_t i = 0;
      const node& target = nodes_[static_cast<size_t>(n.unevaluated_items)];
      for (element item : value.get_array()) {
        if (!local.item_evaluated(i)) {
          path_guard p(c_, c_.instance_path, {{}, i, true});
          bool item_ok;
          if (target.is_boolean && !target.boolean_value) {
            c_.fail("unevaluatedItems", "item " + std::to_string(i) + " is not allowed");
            item_ok = false;
          } else {
            item_ok = eval_at_keyword(n.unevaluated_items, item, nullptr, "unevaluatedItems");
          }
          if (!item_ok) {
            if (!c_.report) return false;
            ok = false;
          }
        }
        ++i;
      }
      local.all_items = true;
    }
    return ok;
  }

  context& c_;
  const std::vector<node>& nodes_;
};

// A per-thread parser and padded buffer: validating allocates nothing once they have grown.
struct thread_parser {
  dom::parser parser;
  std::string buffer;
};

simdjson::error_code parse_instance(std::string_view json, element& root) {
  thread_local thread_parser state;
  if (state.buffer.capacity() < json.size() + simdjson::SIMDJSON_PADDING)
    state.buffer.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  state.buffer.assign(json.data(), json.size());
  return state.parser.parse(state.buffer.data(), state.buffer.size(), false).get(root);
}

}  // namespace

namespace {

std::vector<validation_error> validate_root(const json_schema::program& program, element root) {
  context c;
  c.program = &program;
  {
    evaluator e(c);
    if (e.eval(program.root, root, nullptr)) return {};
  }
  std::vector<validation_error> errors;
  c.report = true;
  c.errors = &errors;
  c.scope.clear();
  c.depth = 0;
  evaluator e(c);
  e.eval(program.root, root, nullptr);
  if (errors.empty()) errors.push_back({"", "", "instance does not match the schema"});
  return errors;
}

bool is_valid_root(const json_schema::program& program, element root) {
  context c;
  c.program = &program;
  evaluator e(c);
  return e.eval(program.root, root, nullptr);
}

}  // namespace

struct json_document::state {
  dom::document document;
  element root;
};

json_document::json_document(std::unique_ptr<state> s) : state_(std::move(s)) {}
json_document::json_document(json_document&&) noexcept = default;
json_document& json_document::operator=(json_document&&) noexcept = default;
json_document::~json_document() = default;

result<json_document> json_document::parse(std::string_view json) {
  auto s = std::make_unique<state>();
  thread_local dom::parser parser;
  // parse_into_document copies the text into its own padded buffer when needed.
  auto err = parser.parse_into_document(s->document, json.data(), json.size()).get(s->root);
  if (err) return make_error(errc::invalid_argument, std::string("instance is not valid JSON: ") + simdjson::error_message(err));
  return json_document(std::move(s));
}

std::vector<validation_error> json_schema::validate(std::string_view instance_json) const {
  element root;
  if (auto err = parse_instance(instance_json, root)) {
    return {{"", "", std::string("instance is not valid JSON: ") + simdjson::error_message(err)}};
  }
  return validate_root(*program_, root);
}

bool json_schema::is_valid(std::string_view instance_json) const {
  element root;
  if (parse_instance(instance_json, root)) return false;
  return is_valid_root(*program_, root);
}

std::vector<validation_error> json_schema::validate(const json_document& instance) const {
  return validate_root(*program_, instance.parsed().root);
}

bool json_schema::is_valid(const json_document& instance) const { return is_valid_root(*program_, instance.parsed().root); }

}  // namespace aw::events
