// Compiles JSON Schema documents into a json_schema::program. Two passes over each document: the
// first indexes every subschema under each enclosing resource URI ("uri#/json/pointer") and every
// anchor ("uri#name"); the second compiles nodes on demand starting from the root, so "$ref"
// resolves to a node index once, here, and never at validation time.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/metaschemas.hpp"
#include "catalog/schema_program.hpp"
#include "catalog/uri.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

using schema_detail::element;
using schema_detail::no_node;
using schema_detail::node;
namespace dom = simdjson::dom;
namespace uri = schema_detail::uri;

// Base URI of a root schema without "$id"; only shown to users as "#/pointer".
constexpr std::string_view default_base = "aw-events:/schema.json";

std::optional<schema_draft> draft_from_uri(std::string_view uri) {
  if (uri.ends_with("#")) uri.remove_suffix(1);
  if (uri == "http://json-schema.org/draft-07/schema" || uri == "https://json-schema.org/draft-07/schema" ||
      uri == "http://json-schema.org/draft-06/schema" || uri == "http://json-schema.org/draft-04/schema")
    return schema_draft::draft7;
  if (uri == "https://json-schema.org/draft/2020-12/schema" || uri == "https://json-schema.org/draft/2019-09/schema")
    return schema_draft::draft2020_12;
  return std::nullopt;
}

// The keywords of the 2020-12 validation vocabulary.
bool is_validation_keyword(std::string_view k) {
  static constexpr std::string_view keywords[] = {
      "type",     "const",    "enum",          "multipleOf",    "maximum",       "exclusiveMaximum",
      "minimum",  "exclusiveMinimum", "maxLength", "minLength", "pattern",     "maxItems",
      "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties",
      "required", "dependentRequired"};
  for (auto keyword : keywords)
    if (k == keyword) return true;
  return false;
}

std::string display(std::string_view key) {
  if (key.starts_with(default_base)) return std::string(key.substr(default_base.size()));
  return std::string(key);
}

std::string type_name(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

bool is_number(const element& e) { return schema_detail::is_numeric(e.type()); }

// Decodes %XX escapes (JSON pointers in URI fragments are percent-encoded).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

class compiler {
 public:
  compiler(const schema_options& options, json_schema::program& program) : options_(options), program_(program) {}

  result<void> compile_root(std::string_view text) {
    auto root = parse(text, "schema");
    if (!root) return make_error(root.error());
    program_.draft = options_.default_draft;
    bool validation = true;
    if (root->is_object()) {
      if (auto s = (*root)["$schema"]; !s.error()) {
        if (!s.is_string()) return invalid("#", "\"$schema\" must be a string");
        auto d = draft_from_uri(std::string_view(s));
        if (d) {
          program_.draft = *d;
        } else {
          auto dialect = custom_dialect(std::string_view(s));
          if (!dialect) return make_error(dialect.error());
          program_.draft = dialect->first;
          validation = dialect->second;
        }
      }
    }
    register_document(*root, std::string(default_base), program_.draft, validation);
    auto index = compile_key(std::string(default_base) + "#");
    if (!index) return make_error(index.error());
    program_.root = *index;
    // Every "$dynamicAnchor" of every loaded resource may become the target of a dynamic
    // reference, so compile them all (loading more documents may add more, hence the loop).
    for (size_t i = 0; i < dynamic_anchors_.size(); ++i) {
      auto [resource, name, key] = dynamic_anchors_[i];
      auto target = compile_key(key);
      if (!target) return make_error(target.error());
      program_.resources[resource].dynamic_anchors.emplace(name, *target);
    }
    return {};
  }

 private:
  struct location {
    element value;
    std::string base_uri;
    uint32_t resource = 0;
    schema_draft draft = schema_draft::draft2020_12;
    std::string canonical;
    bool validation_vocabulary = true;
  };
  struct scope {
    std::string uri;
    std::string pointer;
  };

  tl::unexpected<error> invalid(std::string_view where, std::string_view what) const {
    return make_error(errc::invalid_argument, "invalid schema at " + display(where) + ": " + std::string(what));
  }

  result<element> parse(std::string_view text, std::string_view what) {
    auto doc = std::make_unique<dom::document>();
    element root;
    auto err = parser_.parse_into_document(*doc, text.data(), text.size()).get(root);
    if (err) {
      return make_error(errc::invalid_argument,
                        std::string(what) + " is not valid JSON: " + simdjson::error_message(err));
    }
    program_.documents.push_back(std::move(doc));
    return root;
  }

  uint32_t add_resource(const std::string& uri, element root, schema_draft draft) {
    auto it = resource_by_uri_.find(uri);
    if (it != resource_by_uri_.end()) return it->second;
    auto index = static_cast<uint32_t>(program_.resources.size());
    program_.resources.push_back({uri, {}});
    resource_by_uri_.emplace(uri, index);
    resource_roots_.emplace(uri, std::make_pair(root, draft));
    return index;
  }

  void register_document(element root, const std::string& uri, schema_draft draft, bool validation_vocabulary) {
    validation_vocabulary_ = validation_vocabulary;
    std::vector<scope> scopes{{uri, ""}};
    uint32_t resource = add_resource(uri, root, draft);
    walk(root, scopes, resource, draft, true);
  }

  void register_location(element value, const std::vector<scope>& scopes, uint32_t resource, schema_draft draft) {
    std::string canonical = scopes.back().uri + "#" + scopes.back().pointer;
    for (const auto& s : scopes)
      locations_.emplace(s.uri + "#" + s.pointer,
                         location{value, scopes.back().uri, resource, draft, canonical, validation_vocabulary_});
  }

  // Indexes value and its subschemas under every enclosing resource.
  void walk(element value, std::vector<scope>& scopes, uint32_t resource, schema_draft draft, bool document_root) {
    if (!value.is_object()) {
      register_location(value, scopes, resource, draft);
      return;
    }
    dom::object obj = value.get_object();
    bool pushed = false;
    auto schema_kw = obj["$schema"];
    auto id_kw = obj["$id"];
    bool has_ref = !obj["$ref"].error();
    std::vector<std::string> anchors;
    if (!id_kw.error() && id_kw.is_string() && !(draft == schema_draft::draft7 && has_ref)) {
      std::string id{std::string_view(id_kw)};
      std::string absolute = uri::resolve(scopes.back().uri, id);
      auto [base, fragment] = uri::split_fragment(absolute);
      if (draft == schema_draft::draft7 && !fragment.empty() && fragment[0] != '/') anchors.push_back(fragment);
      if (!base.empty() && !(id.starts_with("#"))) {
        if (!schema_kw.error() && schema_kw.is_string()) {
          if (auto d = draft_from_uri(std::string_view(schema_kw))) draft = *d;
        }
        if (base != scopes.back().uri) {
          resource = add_resource(base, value, draft);
          scopes.push_back({base, ""});
          pushed = true;
        }
      }
    } else if (document_root && !schema_kw.error() && schema_kw.is_string()) {
      if (auto d = draft_from_uri(std::string_view(schema_kw))) draft = *d;
    }
    if (draft == schema_draft::draft2020_12) {
      if (auto a = obj["$anchor"]; !a.error() && a.is_string()) anchors.emplace_back(std::string_view(a));
      if (auto a = obj["$dynamicAnchor"]; !a.error() && a.is_string()) {
        std::string name{std::string_view(a)};
        anchors.push_back(name);
        dynamic_anchors_.push_back({resource, name, scopes.back().uri + "#" + name});
      }
    }
    register_location(value, scopes, resource, draft);
    for (const auto& anchor : anchors) {
      locations_.emplace(scopes.back().uri + "#" + anchor,
                         location{value, scopes.back().uri, resource, draft,
                                  scopes.back().uri + "#" + scopes.back().pointer, validation_vocabulary_});
    }

    auto child = [&](element sub, std::string_view keyword, std::optional<std::string_view> name,
                     std::optional<size_t> index) {
      std::vector<size_t> lengths;
      for (auto& s : scopes) {
        lengths.push_back(s.pointer.size());
        s.pointer += '/';
        s.pointer += keyword;
        if (name) {
          s.pointer += '/';
          s.pointer += detail::pointer_token(*name);
        }
        if (index) {
          s.pointer += '/';
          s.pointer += std::to_string(*index);
        }
      }
      walk(sub, scopes, resource, draft, false);
      for (size_t i = 0; i < scopes.size(); ++i) scopes[i].pointer.resize(lengths[i]);
    };
    const bool d7 = draft == schema_draft::draft7;
    for (auto [key, sub] : obj) {
      if (key == "additionalProperties" || key == "contains" || key == "propertyNames" || key == "not" ||
          key == "if" || key == "then" || key == "else" || (d7 && key == "additionalItems") ||
          (!d7 && (key == "items" || key == "unevaluatedItems" || key == "unevaluatedProperties" ||
                   key == "contentSchema"))) {
        child(sub, key, std::nullopt, std::nullopt);
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf" || (!d7 && key == "prefixItems") ||
                 (d7 && key == "items")) {
        if (sub.is_array()) {
          size_t i = 0;
          for (element item : sub.get_array()) child(item, key, std::nullopt, i++);
        } else {
          child(sub, key, std::nullopt, std::nullopt);
        }
      } else if (key == "properties" || key == "patternProperties" || key == "definitions" ||
                 (!d7 && (key == "$defs" || key == "dependentSchemas")) || (d7 && key == "dependencies")) {
        if (sub.is_object()) {
          for (auto [name, item] : sub.get_object()) {
            if (item.is_object() || item.is_bool()) child(item, key, name, std::nullopt);
          }
        }
      }
    }
    if (pushed) scopes.pop_back();
  }

  // A custom metaschema's "$vocabulary" decides the draft and whether validation keywords apply
  // (2020-12 section 8.1.2); without "$vocabulary" the default draft applies in full.
  result<std::pair<schema_draft, bool>> custom_dialect(std::string_view metaschema_uri) {
    std::string uri = uri::split_fragment(metaschema_uri).first;
    std::optional<std::string> text;
    if (options_.resolve_remote) text = options_.resolve_remote(uri);
    if (!text) return std::pair{options_.default_draft, true};
    dom::parser parser;
    element meta;
    if (parser.parse(*text).get(meta) || !meta.is_object())
      return make_error(errc::invalid_argument, "metaschema \"" + uri + "\" is not a JSON object");
    auto vocabulary = meta["$vocabulary"];
    if (vocabulary.error() || !vocabulary.is_object()) return std::pair{options_.default_draft, true};
    constexpr std::string_view vocab_2020 = "https://json-schema.org/draft/2020-12/vocab/";
    bool validation = false;
    for (auto [key, required] : vocabulary.get_object()) {
      if (key == std::string(vocab_2020) + "validation") validation = true;
      if (!key.starts_with(vocab_2020) && required.is_bool() && bool(required))
        return make_error(errc::invalid_argument, "metaschema \"" + uri + "\" requires the unknown vocabulary \"" +
                                                      std::string(key) + "\"");
    }
    return std::pair{schema_draft::draft2020_12, validation};
  }

  // Loads the document a reference points into, when it is not loaded yet.
  result<void> ensure_resource(const std::string& uri, schema_draft draft) {
    if (resource_roots_.count(uri)) return {};
    std::optional<std::string> text;
    if (auto embedded = schema_detail::embedded_metaschema(uri)) {
      text = std::string(*embedded);
    } else if (options_.resolve_remote) {
      text = options_.resolve_remote(uri);
    }
    if (!text) return make_error(errc::invalid_argument, "cannot resolve schema reference to \"" + uri + "\"");
    auto root = parse(*text, "referenced schema \"" + uri + "\"");
    if (!root) return make_error(root.error());
    bool validation = true;
    if (root->is_object()) {
      if (auto s = (*root)["$schema"]; !s.error() && s.is_string()) {
        if (auto d = draft_from_uri(std::string_view(s))) {
          draft = *d;
        } else if (std::string_view(s) != uri) {
          auto dialect = custom_dialect(std::string_view(s));
          if (!dialect) return make_error(dialect.error());
          draft = dialect->first;
          validation = dialect->second;
        }
      }
    }
    register_document(*root, uri, draft, validation);
    return {};
  }

  // Resolves a reference to a key of locations_.
  result<std::string> resolve_reference(std::string_view where, std::string_view ref, const location& from) {
    std::string absolute = uri::resolve(from.base_uri, ref);
    auto [base, raw_fragment] = uri::split_fragment(absolute);
    std::string fragment = percent_decode(raw_fragment);
    if (!base.empty() && !resource_roots_.count(base)) {
      auto loaded = ensure_resource(base, from.draft);
      if (!loaded) return invalid(where, loaded.error().message);
    }
    std::string key = base + "#" + fragment;
    if (locations_.count(key)) return key;
    if (!fragment.empty() && fragment[0] != '/')
      return invalid(where, "reference \"" + std::string(ref) + "\" names an unknown anchor");
    // A pointer to a location the index skipped (inside an unknown keyword, say): walk to it.
    auto root_it = resource_roots_.find(base);
    if (root_it == resource_roots_.end())
      return invalid(where, "cannot resolve reference \"" + std::string(ref) + "\"");
    element current = root_it->second.first;
    size_t pos = 1;
    while (pos <= fragment.size() && !fragment.empty()) {
      size_t next = fragment.find('/', pos);
      std::string token = unescape_token(fragment.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
      if (current.is_object()) {
        auto sub = current.get_object()[token];
        if (sub.error()) return invalid(where, "reference \"" + std::string(ref) + "\" points to nothing");
        current = sub.value_unsafe();
      } else if (current.is_array()) {
        char* end = nullptr;
        unsigned long long i = std::strtoull(token.c_str(), &end, 10);
        auto sub = current.get_array().at(i);
        if (token.empty() || *end != '\0' || sub.error())
          return invalid(where, "reference \"" + std::string(ref) + "\" points to nothing");
        current = sub.value_unsafe();
      } else {
        return invalid(where, "reference \"" + std::string(ref) + "\" points to nothing");
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    std::vector<scope> scopes{{base, fragment}};
    uint32_t resource = resource_by_uri_.at(base);
    walk(current, scopes, resource, root_it->second.second, false);
    return key;
  }

  result<int32_t> compile_key(const std::string& key) {
    auto it = locations_.find(key);
    if (it == locations_.end()) return make_error(errc::internal, "schema location not indexed: " + key);
    location loc = it->second;
    if (auto done = compiled_.find(loc.canonical); done != compiled_.end()) return done->second;
    auto index = static_cast<int32_t>(program_.nodes.size());
    program_.nodes.emplace_back();
    compiled_.emplace(loc.canonical, index);
    auto compiled = compile_node(loc);
    if (!compiled) return make_error(compiled.error());
    program_.nodes[static_cast<size_t>(index)] = std::move(*compiled);
    return index;
  }

  result<node> compile_node(const location& loc) {
    node n;
    n.resource = loc.resource;
    const std::string& where = loc.canonical;
    if (loc.value.is_bool()) {
      n.is_boolean = true;
      n.boolean_value = bool(loc.value);
      return n;
    }
    if (!loc.value.is_object())
      return invalid(where, "a schema must be an object or a boolean, not " + type_name(loc.value.type()));
    dom::object obj = loc.value.get_object();
    const bool d7 = loc.draft == schema_draft::draft7;

    auto sub = [&](std::string_view keyword, std::string_view suffix) -> result<int32_t> {
      return compile_key(where + "/" + std::string(keyword) + std::string(suffix));
    };
    auto check_schema = [&](std::string_view keyword, element value) -> result<void> {
      if (!value.is_object() && !value.is_bool())
        return invalid(where, "\"" + std::string(keyword) + "\" must be a schema (object or boolean)");
      return {};
    };
    auto single = [&](std::string_view keyword, element value, int32_t& out) -> result<void> {
      if (auto ok = check_schema(keyword, value); !ok) return ok;
      auto index = sub(keyword, "");
      if (!index) return make_error(index.error());
      out = *index;
      return {};
    };
    auto schema_array = [&](std::string_view keyword, element value, std::vector<int32_t>& out) -> result<void> {
      if (!value.is_array() || value.get_array().size() == 0)
        return invalid(where, "\"" + std::string(keyword) + "\" must be a non-empty array of schemas");
      size_t i = 0;
      for (element item : value.get_array()) {
        if (auto ok = check_schema(keyword, item); !ok) return ok;
        auto index = sub(keyword, "/" + std::to_string(i++));
        if (!index) return make_error(index.error());
        out.push_back(*index);
      }
      return {};
    };
    auto schema_map = [&](std::string_view keyword, element value,
                          std::vector<schema_detail::named_node>& out) -> result<void> {
      if (!value.is_object()) return invalid(where, "\"" + std::string(keyword) + "\" must be an object");
      for (auto [name, item] : value.get_object()) {
        if (auto ok = check_schema(keyword, item); !ok) return ok;
        auto index = sub(keyword, "/" + detail::pointer_token(name));
        if (!index) return make_error(index.error());
        out.push_back({name, *index});
      }
      return {};
    };
    auto count = [&](std::string_view keyword, element value, int64_t& out) -> result<void> {
      long double v = is_number(value) ? schema_detail::number_of(value) : -1;
      if (!is_number(value) || v < 0 || std::floor(v) != v)
        return invalid(where, "\"" + std::string(keyword) + "\" must be a non-negative integer");
      out = v > static_cast<long double>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                               : static_cast<int64_t>(v);
      return {};
    };
    auto number = [&](std::string_view keyword, element value, schema_detail::limit& out) -> result<void> {
      if (!is_number(value)) return invalid(where, "\"" + std::string(keyword) + "\" must be a number");
      out.present = true;
      out.value = schema_detail::number_of(value);
      out.as_double = static_cast<double>(out.value);
      return {};
    };
    auto string_list = [&](std::string_view keyword, element value,
                           std::vector<std::string_view>& out) -> result<void> {
      if (!value.is_array()) return invalid(where, "\"" + std::string(keyword) + "\" must be an array of strings");
      for (element item : value.get_array()) {
        if (!item.is_string()) return invalid(where, "\"" + std::string(keyword) + "\" must be an array of strings");
        out.push_back(std::string_view(item));
      }
      return {};
    };

    // Draft-07: "$ref" overrides every sibling keyword.
    if (auto ref = obj["$ref"]; !ref.error()) {
      if (!ref.is_string()) return invalid(where, "\"$ref\" must be a string");
      auto key = resolve_reference(where, std::string_view(ref), loc);
      if (!key) return make_error(key.error());
      auto target = compile_key(*key);
      if (!target) return make_error(target.error());
      n.ref = *target;
      n.has_applicators = true;
      if (d7) return n;
    }

    element items_value;
    bool has_items = false, has_additional_items = false;
    element additional_items_value;
    for (auto [key, value] : obj) {
      if (!loc.validation_vocabulary && is_validation_keyword(key)) continue;
      if (key == "type") {
        auto add = [&](std::string_view name) -> bool {
          if (name == "null") n.types |= schema_detail::type_null;
          else if (name == "boolean") n.types |= schema_detail::type_boolean;
          else if (name == "object") n.types |= schema_detail::type_object;
          else if (name == "array") n.types |= schema_detail::type_array;
          else if (name == "number") n.types |= schema_detail::type_number;
          else if (name == "string") n.types |= schema_detail::type_string;
          else if (name == "integer") n.types |= schema_detail::type_integer;
          else return false;
          return true;
        };
        if (value.is_string()) {
          if (!add(std::string_view(value))) return invalid(where, "\"type\" names an unknown type \"" + std::string(std::string_view(value)) + "\"");
        } else if (value.is_array()) {
          for (element t : value.get_array()) {
            if (!t.is_string() || !add(std::string_view(t)))
              return invalid(where, "\"type\" must be a type name or an array of type names");
          }
          if (n.types == 0) n.types = 0x80;  // "type": [] accepts nothing
        } else {
          return invalid(where, "\"type\" must be a string or an array of strings");
        }
      } else if (key == "const") {
        n.has_const = true;
        n.const_value = value;
      } else if (key == "enum") {
        if (!value.is_array()) return invalid(where, "\"enum\" must be an array");
        n.has_enum = true;
        for (element item : value.get_array()) n.enum_values.push_back(item);
      } else if (key == "$dynamicRef" && !d7) {
        if (!value.is_string()) return invalid(where, "\"$dynamicRef\" must be a string");
        std::string_view ref(value);
        auto target_key = resolve_reference(where, ref, loc);
        if (!target_key) return make_error(target_key.error());
        auto target = compile_key(*target_key);
        if (!target) return make_error(target.error());
        n.dynamic_ref = *target;
        n.has_applicators = true;
        // Only a reference that first lands on a "$dynamicAnchor" of the same name is dynamic.
        auto hash = target_key->find('#');
        std::string name = target_key->substr(hash + 1);
        if (!name.empty() && name[0] != '/') {
          for (const auto& d : dynamic_anchors_) {
            if (std::get<2>(d) == *target_key) {
              n.dynamic_anchor_name = name;
              program_.uses_dynamic_scope = true;
              break;
            }
          }
        }
      } else if (key == "allOf") {
        if (auto ok = schema_array(key, value, n.all_of); !ok) return make_error(ok.error());
      } else if (key == "anyOf") {
        if (auto ok = schema_array(key, value, n.any_of); !ok) return make_error(ok.error());
      } else if (key == "oneOf") {
        if (auto ok = schema_array(key, value, n.one_of); !ok) return make_error(ok.error());
      } else if (key == "not") {
        if (auto ok = single(key, value, n.not_); !ok) return make_error(ok.error());
      } else if (key == "if") {
        if (auto ok = single(key, value, n.if_); !ok) return make_error(ok.error());
      } else if (key == "then") {
        if (auto ok = single(key, value, n.then_); !ok) return make_error(ok.error());
      } else if (key == "else") {
        if (auto ok = single(key, value, n.else_); !ok) return make_error(ok.error());
      } else if (key == "minimum") {
        if (auto ok = number(key, value, n.minimum); !ok) return make_error(ok.error());
      } else if (key == "maximum") {
        if (auto ok = number(key, value, n.maximum); !ok) return make_error(ok.error());
      } else if (key == "exclusiveMinimum") {
        if (auto ok = number(key, value, n.exclusive_minimum); !ok) return make_error(ok.error());
      } else if (key == "exclusiveMaximum") {
        if (auto ok = number(key, value, n.exclusive_maximum); !ok) return make_error(ok.error());
      } else if (key == "multipleOf") {
        if (auto ok = number(key, value, n.multiple_of); !ok) return make_error(ok.error());
        if (n.multiple_of.value <= 0) return invalid(where, "\"multipleOf\" must be greater than 0");
        long double m = n.multiple_of.value;
        if (std::floor(m) == m && m < 1.8e19L) {
          n.multiple_of_integer = true;
          n.multiple_of_int = static_cast<uint64_t>(m);
        }
      } else if (key == "minLength") {
        if (auto ok = count(key, value, n.min_length); !ok) return make_error(ok.error());
      } else if (key == "maxLength") {
        if (auto ok = count(key, value, n.max_length); !ok) return make_error(ok.error());
      } else if (key == "pattern") {
        if (!value.is_string()) return invalid(where, "\"pattern\" must be a string");
        auto index = add_regex(where, "pattern", std::string_view(value));
        if (!index) return make_error(index.error());
        n.pattern = static_cast<int32_t>(*index);
      } else if (key == "format") {
        if (!value.is_string()) return invalid(where, "\"format\" must be a string");
        if (options_.format_assertion) {
          n.format = schema_detail::format_from_name(std::string_view(value));
          n.format_name = std::string_view(value);
        }
      } else if (key == "items") {
        has_items = true;
        items_value = value;
      } else if (key == "prefixItems" && !d7) {
        if (auto ok = schema_array(key, value, n.prefix_items); !ok) return make_error(ok.error());
      } else if (key == "additionalItems" && d7) {
        has_additional_items = true;
        additional_items_value = value;
      } else if (key == "contains") {
        if (auto ok = single(key, value, n.contains); !ok) return make_error(ok.error());
      } else if (key == "minContains" && !d7) {
        if (auto ok = count(key, value, n.min_contains); !ok) return make_error(ok.error());
      } else if (key == "maxContains" && !d7) {
        if (auto ok = count(key, value, n.max_contains); !ok) return make_error(ok.error());
      } else if (key == "minItems") {
        if (auto ok = count(key, value, n.min_items); !ok) return make_error(ok.error());
      } else if (key == "maxItems") {
        if (auto ok = count(key, value, n.max_items); !ok) return make_error(ok.error());
      } else if (key == "uniqueItems") {
        if (!value.is_bool()) return invalid(where, "\"uniqueItems\" must be a boolean");
        n.unique_items = bool(value);
      } else if (key == "unevaluatedItems" && !d7) {
        if (auto ok = single(key, value, n.unevaluated_items); !ok) return make_error(ok.error());
      } else if (key == "properties") {
        if (auto ok = schema_map(key, value, n.properties); !ok) return make_error(ok.error());
      } else if (key == "patternProperties") {
        if (!value.is_object()) return invalid(where, "\"patternProperties\" must be an object");
        for (auto [pattern, item] : value.get_object()) {
          if (auto ok = check_schema(key, item); !ok) return make_error(ok.error());
          auto regex = add_regex(where, "patternProperties", pattern);
          if (!regex) return make_error(regex.error());
          auto index = sub(key, "/" + detail::pointer_token(pattern));
          if (!index) return make_error(index.error());
          n.pattern_properties.push_back({*regex, *index});
        }
      } else if (key == "additionalProperties") {
        if (auto ok = single(key, value, n.additional_properties); !ok) return make_error(ok.error());
      } else if (key == "propertyNames") {
        if (auto ok = single(key, value, n.property_names); !ok) return make_error(ok.error());
      } else if (key == "required") {
        if (auto ok = string_list(key, value, n.required); !ok) return make_error(ok.error());
      } else if (key == "dependentRequired" && !d7) {
        if (!value.is_object()) return invalid(where, "\"dependentRequired\" must be an object");
        for (auto [name, list] : value.get_object()) {
          schema_detail::dependent_required_entry entry{name, {}};
          if (auto ok = string_list(key, list, entry.required); !ok) return make_error(ok.error());
          n.dependent_required.push_back(std::move(entry));
        }
      } else if (key == "dependentSchemas" && !d7) {
        if (auto ok = schema_map(key, value, n.dependent_schemas); !ok) return make_error(ok.error());
      } else if (key == "dependencies" && d7) {
        if (!value.is_object()) return invalid(where, "\"dependencies\" must be an object");
        n.dependent_required_keyword = "dependencies";
        n.dependent_schemas_keyword = "dependencies";
        for (auto [name, item] : value.get_object()) {
          if (item.is_array()) {
            schema_detail::dependent_required_entry entry{name, {}};
            if (auto ok = string_list(key, item, entry.required); !ok) return make_error(ok.error());
            n.dependent_required.push_back(std::move(entry));
          } else {
            if (auto ok = check_schema(key, item); !ok) return make_error(ok.error());
            auto index = sub(key, "/" + detail::pointer_token(name));
            if (!index) return make_error(index.error());
            n.dependent_schemas.push_back({name, *index});
          }
        }
      } else if (key == "minProperties") {
        if (auto ok = count(key, value, n.min_properties); !ok) return make_error(ok.error());
      } else if (key == "maxProperties") {
        if (auto ok = count(key, value, n.max_properties); !ok) return make_error(ok.error());
      } else if (key == "unevaluatedProperties" && !d7) {
        if (auto ok = single(key, value, n.unevaluated_properties); !ok) return make_error(ok.error());
      }
    }
    if (has_items) {
      if (d7 && items_value.is_array()) {
        n.prefix_items_keyword = "items";
        size_t i = 0;
        for (element item : items_value.get_array()) {
          if (auto ok = check_schema("items", item); !ok) return make_error(ok.error());
          auto index = sub("items", "/" + std::to_string(i++));
          if (!index) return make_error(index.error());
          n.prefix_items.push_back(*index);
        }
        if (has_additional_items) {
          n.rest_items_keyword = "additionalItems";
          if (auto ok = single("additionalItems", additional_items_value, n.rest_items); !ok) return make_error(ok.error());
        }
      } else {
        n.rest_items_keyword = "items";
        if (auto ok = single("items", items_value, n.rest_items); !ok) return make_error(ok.error());
      }
    }
    if (d7) n.prefix_items_keyword = "items";
    if (n.has_enum) {
      n.enum_all_strings = true;
      for (const auto& v : n.enum_values) {
        if (!v.is_string()) {
          n.enum_all_strings = false;
          break;
        }
        n.enum_strings.emplace_back(std::string_view(v));
      }
      if (!n.enum_all_strings) n.enum_strings.clear();
    }
    if (n.properties.size() >= 4 && n.properties.size() < 16384) {
      size_t slots = 8;
      while (slots < 2 * n.properties.size()) slots *= 2;
      n.property_slots.assign(slots, -1);
      n.property_mask = static_cast<uint32_t>(slots - 1);
      for (size_t i = 0; i < n.properties.size(); ++i) {
        uint32_t pos = schema_detail::property_hash(n.properties[i].name) & n.property_mask;
        while (n.property_slots[pos] >= 0) pos = (pos + 1) & n.property_mask;
        n.property_slots[pos] = static_cast<int16_t>(i);
      }
    }
    if (!n.required.empty() && n.required.size() <= 64) {
      size_t covered = 0;
      for (size_t r = 0; r < n.required.size(); ++r) {
        for (auto& property : n.properties) {
          if (property.name == n.required[r] && property.required_bit < 0) {
            property.required_bit = static_cast<int32_t>(r);
            ++covered;
            break;
          }
        }
      }
      n.required_via_properties = covered == n.required.size();
    }

    n.has_number_keywords = n.minimum.present || n.maximum.present || n.exclusive_minimum.present ||
                            n.exclusive_maximum.present || n.multiple_of.present;
    n.has_string_keywords = n.min_length >= 0 || n.max_length >= 0 || n.pattern >= 0 ||
                            n.format != schema_detail::format_kind::none;
    n.has_array_keywords = !n.prefix_items.empty() || n.rest_items != no_node || n.contains != no_node ||
                           n.min_items >= 0 || n.max_items >= 0 || n.unique_items || n.unevaluated_items != no_node;
    n.has_object_keywords = !n.properties.empty() || !n.pattern_properties.empty() ||
                            n.additional_properties != no_node || n.property_names != no_node ||
                            !n.required.empty() || !n.dependent_required.empty() || !n.dependent_schemas.empty() ||
                            n.min_properties >= 0 || n.max_properties >= 0 || n.unevaluated_properties != no_node;
    n.has_applicators = n.has_applicators || !n.all_of.empty() || !n.any_of.empty() || !n.one_of.empty() ||
                        n.not_ != no_node || n.if_ != no_node;
    return n;
  }

  result<uint32_t> add_regex(const std::string& where, std::string_view keyword, std::string_view pattern) {
    std::string translated, why;
    if (!schema_detail::ecma_to_re2(pattern, translated, why))
      return invalid(where, "\"" + std::string(keyword) + "\" pattern \"" + std::string(pattern) + "\" is not supported: " + why);
    RE2::Options re_options;
    re_options.set_log_errors(false);
    re_options.set_max_mem(8 << 20);
    auto re = std::make_unique<RE2>(translated, re_options);
    if (!re->ok())
      return invalid(where, "\"" + std::string(keyword) + "\" pattern \"" + std::string(pattern) + "\" does not compile: " + re->error());
    program_.regexes.push_back({std::string(pattern), std::move(re), schema_detail::fast_regex::build(pattern)});
    return static_cast<uint32_t>(program_.regexes.size() - 1);
  }

  const schema_options& options_;
  json_schema::program& program_;
  dom::parser parser_;
  std::unordered_map<std::string, location> locations_;
  std::unordered_map<std::string, uint32_t> resource_by_uri_;
  std::unordered_map<std::string, std::pair<element, schema_draft>> resource_roots_;
  std::unordered_map<std::string, int32_t> compiled_;
  std::vector<std::tuple<uint32_t, std::string, std::string>> dynamic_anchors_;  // resource, name, key
  bool validation_vocabulary_ = true;  // of the document being indexed
};

}  // namespace

json_schema::json_schema(std::shared_ptr<const program> program) : program_(std::move(program)) {}

schema_draft json_schema::draft() const noexcept { return program_->draft; }

result<json_schema> json_schema::compile(std::string_view schema_json, const schema_options& options) {
  auto compiled = std::make_shared<program>();
  compiled->format_assertion = options.format_assertion;
  compiler c(options, *compiled);
  if (auto ok = c.compile_root(schema_json); !ok) return make_error(ok.error());
  return json_schema(std::move(compiled));
}

}  // namespace aw::events
