// Structural compatibility of two JSON Schemas of the same event data (docs/catalog.md, "Compatibility").
// One primitive: can a *reader* schema accept everything a *writer* schema accepts? BACKWARD runs it with
// the newer schema as reader, FORWARD with the older one, FULL both. The comparison walks both schemas
// side by side (local "$ref"s resolved) and reports each keyword that makes the reader stricter, located
// in the newer schema. What it cannot prove compatible (a changed allOf, say) is reported, never guessed.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "aw/events/catalog.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

enum class direction { backward, forward };  // backward: reader = newer; forward: reader = older

constexpr int max_depth = 64;  // recursive schemas ($ref cycles) are compared this deep, no further

std::optional<element> member(element node, std::string_view name) {
  element value;
  if (node.type() != element_type::OBJECT || node[name].get(value)) return std::nullopt;
  return value;
}

std::optional<double> number_member(element node, std::string_view name) {
  auto value = member(node, name);
  if (!value) return std::nullopt;
  double number = 0;
  if (value->is_double() || value->is_int64() || value->is_uint64()) {
    if (!value->get_double().get(number)) return number;
  }
  return std::nullopt;
}

std::string text(element node) { return simdjson::minify(node); }

std::string number_text(double value) {
  if (std::floor(value) == value && std::abs(value) < 1e15) return std::to_string(static_cast<long long>(value));
  std::string out = std::to_string(value);
  while (!out.empty() && out.back() == '0') out.pop_back();
  return out;
}

std::vector<std::string> string_list(element node, std::string_view name) {
  std::vector<std::string> out;
  auto value = member(node, name);
  if (!value || value->type() != element_type::ARRAY) return out;
  simdjson::dom::array items = value->get_array().value();  // a named copy: the range must outlive the loop
  for (auto item : items) {
    std::string_view s;
    if (!item.get(s)) out.emplace_back(s);
  }
  return out;
}

// The JSON types a schema allows; nullopt = any.
std::optional<std::set<std::string>> types_of(element node) {
  auto value = member(node, "type");
  if (!value) return std::nullopt;
  std::set<std::string> out;
  if (std::string_view one; !value->get(one)) {
    out.emplace(one);
  } else {
    for (const auto& t : string_list(node, "type")) out.insert(t);
  }
  return out;
}

// enum or const as the set of allowed values (minified JSON); nullopt = no such restriction.
std::optional<std::set<std::string>> allowed_values(element node) {
  if (auto value = member(node, "const")) return std::set<std::string>{text(*value)};
  auto value = member(node, "enum");
  if (!value || value->type() != element_type::ARRAY) return std::nullopt;
  std::set<std::string> out;
  simdjson::dom::array items = value->get_array().value();
  for (auto item : items) out.insert(text(item));
  return out;
}

bool is_false_schema(std::optional<element> node) {
  bool b = true;
  return node && !node->get(b) && !b;
}

bool closed(element node) {
  return is_false_schema(member(node, "additionalProperties")) || is_false_schema(member(node, "unevaluatedProperties"));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

struct comparer {
  direction dir;
  element reader_root;
  element writer_root;
  element empty_schema;  // {}: what an absent subschema means
  std::vector<compatibility_issue>& out;

  // In the newer schema; reports carry that location.
  void report(const std::string& reader_path, const std::string& writer_path, std::string rule, std::string message) {
    out.push_back({std::move(rule), dir == direction::backward ? reader_path : writer_path, std::move(message)});
  }
  std::string name(std::string_view backward, std::string_view forward) const {
    return std::string(dir == direction::backward ? backward : forward);
  }
  // "newer" / "older" for the reader and the writer in messages.
  std::string_view reader_label() const { return dir == direction::backward ? "newer" : "older"; }
  std::string_view writer_label() const { return dir == direction::backward ? "older" : "newer"; }

  // Follows local "$ref"s ("#" or "#/json/pointer") within the same schema document.
  element resolve(element node, element root) const {
    for (int hops = 0; hops < 16; ++hops) {
      auto ref = member(node, "$ref");
      std::string_view target;
      if (!ref || ref->get(target) || target.empty() || target.front() != '#') return node;
      element next;
      if (target.size() == 1) next = root;
      else if (root.at_pointer(target.substr(1)).get(next)) return node;
      node = next;
    }
    return node;
  }

  void compare(element reader, element writer, const std::string& rp, const std::string& wp, int depth) {
    if (depth > max_depth) return;
    reader = resolve(reader, reader_root);
    writer = resolve(writer, writer_root);
    bool reader_bool = true;
    bool writer_bool = true;
    if (!writer.get(writer_bool)) {
      if (!writer_bool) return;  // the writer accepts nothing, so the reader cannot be stricter
      writer = empty_schema;
    }
    if (!reader.get(reader_bool)) {
      if (reader_bool) return;  // the reader accepts anything
      report(rp, wp, name("schema_narrowed", "schema_widened"),
             "the " + std::string(reader_label()) + " schema here is false (accepts nothing) while the " +
                 std::string(writer_label()) + " one accepts values");
      return;
    }
    if (reader.type() != element_type::OBJECT || writer.type() != element_type::OBJECT) return;
    compare_types(reader, writer, rp, wp);
    compare_values(reader, writer, rp, wp);
    compare_ranges(reader, writer, rp, wp);
    compare_strings_and_arrays(reader, writer, rp, wp);
    compare_required(reader, writer, rp, wp);
    compare_object_shape(reader, writer, rp, wp, depth);
    compare_items(reader, writer, rp, wp, depth);
    compare_unsupported(reader, writer, rp, wp);
  }

  void compare_types(element reader, element writer, const std::string& rp, const std::string& wp) {
    auto reader_types = types_of(reader);
    if (!reader_types) return;
    static const std::set<std::string> any = {"array", "boolean", "integer", "null", "number", "object", "string"};
    const auto writer_types = types_of(writer).value_or(any);
    std::vector<std::string> lost;
    for (const auto& t : writer_types) {
      const bool allowed = reader_types->contains(t) || (t == "integer" && reader_types->contains("number"));
      if (!allowed) lost.push_back("\"" + t + "\"");
    }
    if (lost.empty()) return;
    report(rp + "/type", wp + "/type", name("type_narrowed", "type_widened"),
           "type " + join(lost) + " is accepted by the " + std::string(writer_label()) + " schema but not by the " +
               std::string(reader_label()) + " one (type " + text(*member(reader, "type")) + ")");
  }

  void compare_values(element reader, element writer, const std::string& rp, const std::string& wp) {
    auto reader_values = allowed_values(reader);
    if (!reader_values) return;
    const std::string keyword = member(reader, "const") ? "/const" : "/enum";
    auto writer_values = allowed_values(writer);
    if (!writer_values) {
      report(rp + keyword, wp + keyword, name("enum_narrowed", "enum_widened"),
             "the " + std::string(reader_label()) + " schema restricts values to " + keyword.substr(1) + " " +
                 text(*member(reader, keyword.substr(1))) + " where the " + std::string(writer_label()) +
                 " one allowed any value");
      return;
    }
    std::vector<std::string> lost;
    for (const auto& v : *writer_values) {
      if (!reader_values->contains(v)) lost.push_back(v);
    }
    if (lost.empty()) return;
    report(rp + keyword, wp + keyword, name("enum_narrowed", "enum_widened"),
           "value(s) " + join(lost) + " allowed by the " + std::string(writer_label()) + " schema are not allowed by the " +
               std::string(reader_label()) + " one");
  }

  void compare_ranges(element reader, element writer, const std::string& rp, const std::string& wp) {
    static constexpr std::string_view lower[] = {"minimum", "exclusiveMinimum", "minLength", "minItems",
                                                 "minProperties", "minContains"};
    static constexpr std::string_view upper[] = {"maximum", "exclusiveMaximum", "maxLength", "maxItems",
                                                 "maxProperties", "maxContains"};
    auto check = [&](std::string_view keyword, bool is_lower) {
      auto bound = number_member(reader, keyword);
      if (!bound) return;
      auto previous = number_member(writer, keyword);
      const bool stricter = !previous || (is_lower ? *bound > *previous : *bound < *previous);
      if (!stricter) return;
      const std::string k(keyword);
      report(rp + "/" + k, wp + "/" + k, name("range_narrowed", "range_widened"),
             k + " " + number_text(*bound) + " in the " + std::string(reader_label()) + " schema is stricter than " +
                 (previous ? k + " " + number_text(*previous) : std::string("no ") + k) + " in the " +
                 std::string(writer_label()) + " one");
    };
    for (auto k : lower) check(k, true);
    for (auto k : upper) check(k, false);
    if (auto step = number_member(reader, "multipleOf")) {
      auto previous = number_member(writer, "multipleOf");
      const double ratio = previous ? *previous / *step : 0.5;
      if (!previous || std::abs(ratio - std::round(ratio)) > 1e-9 || std::round(ratio) < 1) {
        report(rp + "/multipleOf", wp + "/multipleOf", name("range_narrowed", "range_widened"),
               "multipleOf " + number_text(*step) + " in the " + std::string(reader_label()) + " schema rejects values " +
                   "the " + std::string(writer_label()) + " one accepts" +
                   (previous ? " (multipleOf " + number_text(*previous) + ")" : std::string()));
      }
    }
  }

  void compare_strings_and_arrays(element reader, element writer, const std::string& rp, const std::string& wp) {
    for (std::string_view keyword : {"pattern", "format", "contentEncoding", "contentMediaType"}) {
      auto value = member(reader, keyword);
      if (!value) continue;
      auto previous = member(writer, keyword);
      if (previous && text(*previous) == text(*value)) continue;
      const std::string k(keyword);
      report(rp + "/" + k, wp + "/" + k, name(k + "_narrowed", k + "_widened"),
             k + " " + text(*value) + " in the " + std::string(reader_label()) + " schema " +
                 (previous ? "differs from " + k + " " + text(*previous) : "is new") + " (the " +
                 std::string(writer_label()) + " schema's values may not match it)");
    }
    bool unique = false;
    if (auto value = member(reader, "uniqueItems"); value && !value->get(unique) && unique) {
      bool before = false;
      auto previous = member(writer, "uniqueItems");
      if (!previous || previous->get(before) || !before) {
        report(rp + "/uniqueItems", wp + "/uniqueItems", name("range_narrowed", "range_widened"),
               "uniqueItems true in the " + std::string(reader_label()) + " schema rejects arrays with duplicates that the " +
                   std::string(writer_label()) + " one accepts");
      }
    }
  }

  void compare_required(element reader, element writer, const std::string& rp, const std::string& wp) {
    const auto& newer = dir == direction::backward ? reader : writer;
    const auto& older = dir == direction::backward ? writer : reader;
    const auto newer_required = string_list(newer, "required");
    const auto older_required = string_list(older, "required");
    std::vector<std::string> added;
    std::vector<std::string> removed;
    for (const auto& r : newer_required) {
      if (std::find(older_required.begin(), older_required.end(), r) == older_required.end()) added.push_back(r);
    }
    for (const auto& r : older_required) {
      if (std::find(newer_required.begin(), newer_required.end(), r) == newer_required.end()) removed.push_back(r);
    }
    // A removed and an added required property at the same place read best as a rename.
    std::size_t renamed = 0;
    for (; renamed < std::min(added.size(), removed.size()); ++renamed) {
      report(rp + "/required", wp + "/required", "required_property_renamed",
             "required property \"" + removed[renamed] + "\" was renamed to \"" + added[renamed] +
                 "\": consumers relying on \"" + removed[renamed] + "\" and data without \"" + added[renamed] +
                 "\" break");
    }
    // Removing a required property breaks the consumers that rely on it (FORWARD in Confluent's terms); the
    // catalog reports it under BACKWARD as well because the standard forbids it in any MINOR bump.
    for (std::size_t i = renamed; i < removed.size(); ++i) {
      report(rp + "/required", wp + "/required", "required_property_removed",
             "required property \"" + removed[i] + "\" of the older schema is no longer required: consumers relying on it break");
    }
    if (dir == direction::backward) {
      for (std::size_t i = renamed; i < added.size(); ++i) {
        report(rp + "/required", wp + "/required", "required_property_added",
               "property \"" + added[i] + "\" is required by the newer schema but not by the older one: data written "
               "without it is rejected");
      }
    }
  }

  void compare_object_shape(element reader, element writer, const std::string& rp, const std::string& wp, int depth) {
    const bool reader_closed = closed(reader);
    const bool writer_closed = closed(writer);
    const std::string keyword = is_false_schema(member(reader, "additionalProperties")) ? "additionalProperties"
                                                                                          : "unevaluatedProperties";
    if (reader_closed && !writer_closed) {
      report(rp + "/" + keyword, wp + "/" + keyword, name("additional_properties_closed", "additional_properties_opened"),
             keyword + " false in the " + std::string(reader_label()) + " schema rejects extra properties the " +
                 std::string(writer_label()) + " one accepts");
    }
    auto reader_properties = member(reader, "properties");
    auto writer_properties = member(writer, "properties");
    if (!writer_properties || writer_properties->type() != element_type::OBJECT) return;
    const bool reader_has_properties = reader_properties && reader_properties->type() == element_type::OBJECT;
    auto reader_additional = member(reader, "additionalProperties");
    simdjson::dom::object writer_object = writer_properties->get_object().value();
    for (auto [key, writer_schema] : writer_object) {
      const std::string token = detail::pointer_token(key);
      element reader_schema;
      if (reader_has_properties && !(*reader_properties)[key].get(reader_schema)) {
        compare(reader_schema, writer_schema, rp + "/properties/" + token, wp + "/properties/" + token, depth + 1);
        continue;
      }
      if (reader_closed && writer_closed) {
        report(rp + "/properties", wp + "/properties/" + token,
               name("property_removed_from_closed_model", "property_added_to_closed_model"),
               "property \"" + std::string(key) + "\" of the " + std::string(writer_label()) +
                   " schema is not allowed by the closed " + std::string(reader_label()) + " schema");
      } else if (reader_additional && reader_additional->type() == element_type::OBJECT) {
        compare(*reader_additional, writer_schema, rp + "/additionalProperties", wp + "/properties/" + token, depth + 1);
      }
    }
    auto writer_additional = member(writer, "additionalProperties");
    if (reader_additional && writer_additional && reader_additional->type() == element_type::OBJECT &&
        writer_additional->type() == element_type::OBJECT) {
      compare(*reader_additional, *writer_additional, rp + "/additionalProperties", wp + "/additionalProperties", depth + 1);
    }
  }

  void compare_items(element reader, element writer, const std::string& rp, const std::string& wp, int depth) {
    for (std::string_view keyword : {"prefixItems", "items", "additionalItems", "contains", "propertyNames"}) {
      auto r = member(reader, keyword);
      auto w = member(writer, keyword);
      const std::string k(keyword);
      if (!r) continue;
      if (r->type() == element_type::ARRAY) {
        if (!w || w->type() != element_type::ARRAY) {
          if (!w || text(*r) != text(*w)) {
            report(rp + "/" + k, wp + "/" + k, name("constraint_added", "constraint_removed"),
                   k + " changed its form between the schemas; the catalog cannot prove the change compatible");
          }
          continue;
        }
        auto reader_items = r->get_array().value();
        auto writer_items = w->get_array().value();
        const std::size_t common = std::min(reader_items.size(), writer_items.size());
        for (std::size_t i = 0; i < common; ++i) {
          compare(reader_items.at(i).value(), writer_items.at(i).value(), rp + "/" + k + "/" + std::to_string(i),
                  wp + "/" + k + "/" + std::to_string(i), depth + 1);
        }
        continue;
      }
      if (w && w->type() != element_type::ARRAY) {
        compare(*r, *w, rp + "/" + k, wp + "/" + k, depth + 1);
      } else if (!w && (keyword == "contains" || keyword == "propertyNames")) {
        report(rp + "/" + k, wp + "/" + k, name("constraint_added", "constraint_removed"),
               k + " in the " + std::string(reader_label()) + " schema constrains values the " +
                   std::string(writer_label()) + " one leaves free");
      } else if (!w) {
        compare(*r, empty_schema, rp + "/" + k, wp + "/" + k, depth + 1);
      }
    }
  }

  // Keywords whose changes the checker does not analyse: any difference is reported as incompatible.
  void compare_unsupported(element reader, element writer, const std::string& rp, const std::string& wp) {
    for (std::string_view keyword : {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentRequired",
                                     "dependentSchemas", "dependencies", "patternProperties", "unevaluatedItems",
                                     "$dynamicRef", "$recursiveRef"}) {
      auto r = member(reader, keyword);
      if (!r) continue;
      auto w = member(writer, keyword);
      if (w && text(*w) == text(*r)) continue;
      const std::string k(keyword);
      report(rp + "/" + k, wp + "/" + k, name("constraint_added", "constraint_removed"),
             k + " " + (w ? "changed" : "appears") + " in the " + std::string(reader_label()) +
                 " schema; the catalog cannot prove such a change compatible, so it needs a MAJOR version");
    }
  }
};

}  // namespace

result<std::vector<compatibility_issue>> check_compatibility(std::string_view older_schema, std::string_view newer_schema,
                                                             compatibility_mode mode) {
  simdjson::dom::parser older_parser;
  simdjson::dom::parser newer_parser;
  element older;
  element newer;
  if (older_parser.parse(simdjson::padded_string(older_schema)).get(older)) {
    return make_error(errc::invalid_argument, "the older schema is not JSON");
  }
  if (newer_parser.parse(simdjson::padded_string(newer_schema)).get(newer)) {
    return make_error(errc::invalid_argument, "the newer schema is not JSON");
  }
  simdjson::dom::parser empty_parser;
  element empty = empty_parser.parse(simdjson::padded_string(std::string_view("{}"))).value();
  std::vector<compatibility_issue> issues;
  const bool backward = mode == compatibility_mode::backward || mode == compatibility_mode::backward_transitive ||
                        mode == compatibility_mode::full || mode == compatibility_mode::full_transitive;
  const bool forward = mode == compatibility_mode::forward || mode == compatibility_mode::forward_transitive ||
                       mode == compatibility_mode::full || mode == compatibility_mode::full_transitive;
  if (backward) comparer{direction::backward, newer, older, empty, issues}.compare(newer, older, "", "", 0);
  if (forward) {
    std::vector<compatibility_issue> forward_issues;
    comparer{direction::forward, older, newer, empty, forward_issues}.compare(older, newer, "", "", 0);
    // FULL: the rename/removal findings are the same in both directions; report each once.
    for (auto& issue : forward_issues) {
      const bool seen = std::any_of(issues.begin(), issues.end(), [&](const compatibility_issue& i) {
        return i.rule == issue.rule && i.location == issue.location && i.message == issue.message;
      });
      if (!seen) issues.push_back(std::move(issue));
    }
  }
  return issues;
}

}  // namespace aw::events
