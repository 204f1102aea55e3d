// `aw-events catalog docs`: a static HTML site for the event catalog that works offline (issue 3, point 6).
// Everything is generated from the loaded catalog in its order (entries() is sorted), with no clock and no
// environment, so the same catalog always yields the same bytes. All catalog text is HTML-escaped.
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "aw/events/catalog.hpp"
#include "aw/events/publisher.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

namespace fs = std::filesystem;

// Escapes text for HTML element content and quoted attribute values alike.
std::string html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string page_name(const event_type_entry& entry) { return entry.type + ".v" + std::to_string(entry.major) + ".html"; }

// Indents JSON text two spaces per level. Works on the text itself so numbers keep their exact spelling.
std::string pretty_json(std::string_view text) {
  std::string out;
  int depth = 0;
  bool in_string = false;
  auto newline = [&] {
    out += '\n';
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case ' ': case '\n': case '\r': case '\t': break;
      case '"': in_string = true; out += c; break;
      case '{': case '[': {
        // Empty containers stay on one line.
        std::size_t j = i + 1;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\n' || text[j] == '\r' || text[j] == '\t')) ++j;
        if (j < text.size() && (text[j] == '}' || text[j] == ']')) {
          out += c;
          out += text[j];
          i = j;
          break;
        }
        out += c;
        ++depth;
        newline();
        break;
      }
      case '}': case ']': --depth; newline(); out += c; break;
      case ',': out += c; newline(); break;
      case ':': out += ": "; break;
      default: out += c;
    }
  }
  return out;
}

// ---- the schema as a table ----

// Whether a row's property must be present; array items and pattern/additional members are neither.
enum class presence { optional, required, not_applicable };

struct schema_row {
  std::string path;
  std::string type;
  presence required = presence::optional;
  std::vector<std::string> constraints;
  std::string description;
};

class schema_table {
 public:
  explicit schema_table(simdjson::dom::element root) : root_(root) {}

  std::vector<schema_row> rows() {
    walk(root_, "", presence::not_applicable, 0);
    return std::move(rows_);
  }

 private:
  // Schemas nest rarely more than a few levels; this bounds pathological or self-similar ones.
  static constexpr int max_depth = 32;

  simdjson::dom::element root_;
  std::vector<schema_row> rows_;
  std::vector<std::string> ref_stack_;  // local $refs being expanded: a repeat is a cycle

  static std::string text(simdjson::dom::element e) { return simdjson::minify(e); }

  // Resolves a local reference ("#", "#/$defs/x", "#/definitions/x", any JSON Pointer); false otherwise.
  bool resolve(std::string_view ref, simdjson::dom::element& out) const {
    if (ref == "#") {
      out = root_;
      return true;
    }
    if (!ref.starts_with("#/")) return false;
    return !root_.at_pointer(ref.substr(1)).get(out);
  }

  void walk(simdjson::dom::element schema, const std::string& path, presence required, int depth) {
    if (depth > max_depth) {
      rows_.push_back({path, "…", required, {"nested deeper than " + std::to_string(max_depth) + " levels: not expanded"}, ""});
      return;
    }
    if (bool b; !schema.get(b)) {
      if (!path.empty()) rows_.push_back({path, b ? "any" : "never", required, {}, ""});
      return;
    }
    simdjson::dom::object object;
    if (schema.get(object)) return;

    schema_row row{path, "", required, {}, ""};
    std::string_view ref;
    simdjson::dom::element target;
    const bool has_ref = !object["$ref"].get(ref);
    const bool ref_resolved = has_ref && resolve(ref, target);
    bool cycle = false;
    if (has_ref) {
      const std::string ref_text(ref);
      for (const auto& r : ref_stack_) cycle = cycle || r == ref_text;
      row.constraints.push_back(std::string(cycle ? "recursive $ref " : "$ref ") + ref_text);
      if (!ref_resolved) row.constraints.back() += " (not local: not expanded)";
    }
    describe(object, row);
    if (ref_resolved && !cycle) {
      // The referenced schema supplies what the referring one leaves unsaid.
      if (simdjson::dom::object target_object; !target.get(target_object)) {
        schema_row from_target{path, "", required, {}, ""};
        describe(target_object, from_target);
        if (row.type.empty()) row.type = from_target.type;
        if (row.description.empty()) row.description = from_target.description;
        row.constraints.insert(row.constraints.end(), from_target.constraints.begin(), from_target.constraints.end());
      }
    }
    if (row.type.empty()) row.type = "any";
    if (!path.empty()) rows_.push_back(std::move(row));

    children(object, path, depth);
    if (ref_resolved && !cycle) {
      ref_stack_.emplace_back(ref);
      if (simdjson::dom::object target_object; !target.get(target_object)) children(target_object, path, depth);
      ref_stack_.pop_back();
    }
  }

  void describe(simdjson::dom::object object, schema_row& row) const {
    if (simdjson::dom::element type; !object["type"].get(type)) {
      if (std::string_view one; !type.get(one)) {
        row.type = std::string(one);
      } else if (simdjson::dom::array many; !type.get(many)) {
        for (auto t : many) {
          if (!row.type.empty()) row.type += " | ";
          std::string_view name;
          row.type += t.get(name) ? text(t) : std::string(name);
        }
      }
    }
    if (row.type.empty()) {
      if (!object["enum"].error()) row.type = "enum";
      else if (!object["const"].error()) row.type = "const";
      else if (!object["oneOf"].error()) row.type = "oneOf";
      else if (!object["anyOf"].error()) row.type = "anyOf";
      else if (!object["allOf"].error()) row.type = "allOf";
    }
    std::string_view description;
    if (!object["description"].get(description)) row.description = std::string(description);
    else if (!object["title"].get(description)) row.description = std::string(description);

    if (simdjson::dom::array values; !object["enum"].get(values)) {
      std::string list;
      for (auto v : values) list += (list.empty() ? "" : ", ") + text(v);
      row.constraints.push_back("one of: " + list);
    }
    static constexpr std::string_view plain[] = {
        "const", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "contentEncoding",
        "contentMediaType", "default"};
    for (auto key : plain) {
      simdjson::dom::element value;
      if (object[key].get(value)) continue;
      std::string_view s;
      // Patterns and formats read better without JSON quotes; other values are shown as JSON.
      if ((key == "pattern" || key == "format" || key == "contentEncoding" || key == "contentMediaType") && !value.get(s))
        row.constraints.push_back(std::string(key) + ": " + std::string(s));
      else
        row.constraints.push_back(std::string(key) + ": " + text(value));
    }
    if (bool unique; !object["uniqueItems"].get(unique) && unique) row.constraints.push_back("unique items");
    if (bool open; !object["additionalProperties"].get(open) && !open) row.constraints.push_back("no other properties");
    if (bool open; !object["unevaluatedProperties"].get(open) && !open) row.constraints.push_back("no other properties (unevaluated)");
    if (bool d; !object["deprecated"].get(d) && d) row.constraints.push_back("deprecated");
    static constexpr std::string_view conditional[] = {"if", "not", "dependentRequired", "dependentSchemas", "propertyNames", "contains"};
    for (auto key : conditional)
      if (!object[key].error()) row.constraints.push_back("has " + std::string(key) + " (see the JSON schema)");
  }

  static std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
  }

  void children(simdjson::dom::object object, const std::string& path, int depth) {
    std::set<std::string, std::less<>> required;
    if (simdjson::dom::array names; !object["required"].get(names)) {
      for (auto n : names)
        if (std::string_view s; !n.get(s)) required.emplace(s);
    }
    if (simdjson::dom::object properties; !object["properties"].get(properties)) {
      for (auto field : properties) walk(field.value, join(path, field.key), required.contains(field.key) ? presence::required : presence::optional, depth + 1);
    }
    if (simdjson::dom::object patterns; !object["patternProperties"].get(patterns)) {
      for (auto field : patterns) walk(field.value, join(path, "/" + std::string(field.key) + "/"), presence::not_applicable, depth + 1);
    }
    if (simdjson::dom::element extra; !object["additionalProperties"].get(extra) && extra.is_object())
      walk(extra, join(path, "*"), presence::not_applicable, depth + 1);
    if (simdjson::dom::array prefix; !object["prefixItems"].get(prefix)) {
      std::size_t i = 0;
      for (auto sub : prefix) walk(sub, path + "[" + std::to_string(i++) + "]", presence::not_applicable, depth + 1);
    }
    if (simdjson::dom::element items; !object["items"].get(items)) {
      if (simdjson::dom::array positional; !items.get(positional)) {  // draft-07 tuple form
        std::size_t i = 0;
        for (auto sub : positional) walk(sub, path + "[" + std::to_string(i++) + "]", presence::not_applicable, depth + 1);
      } else if (items.is_object()) {
        walk(items, path + "[]", presence::not_applicable, depth + 1);
      }
    }
    // Combinators: allOf parts add to the same object; each oneOf/anyOf alternative gets its own label.
    if (simdjson::dom::array parts; !object["allOf"].get(parts)) {
      for (auto sub : parts)
        if (simdjson::dom::object part; !sub.get(part)) children(part, path, depth + 1);
    }
    for (std::string_view key : {std::string_view("oneOf"), std::string_view("anyOf")}) {
      if (simdjson::dom::array alternatives; !object[key].get(alternatives)) {
        std::size_t i = 0;
        for (auto sub : alternatives)
          walk(sub, path + "<" + std::string(key) + " " + std::to_string(++i) + ">", presence::not_applicable, depth + 1);
      }
    }
  }
};

std::string render_schema(std::string_view schema_json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(schema_json).get(root)) return "<p class=\"muted\">The schema could not be parsed.</p>\n";
  auto rows = schema_table(root).rows();
  std::string out;
  if (rows.empty()) {
    out += "<p class=\"muted\">No properties are described.</p>\n";
  } else {
    out += "<table class=\"schema\">\n<thead><tr><th>Property</th><th>Type</th><th>Required</th><th>Constraints</th>"
           "<th>Description</th></tr></thead>\n<tbody>\n";
    for (const auto& row : rows) {
      out += "<tr><td class=\"path\"><code>" + html(row.path) + "</code></td><td>" + html(row.type) + "</td><td>";
      switch (row.required) {
        case presence::required: out += "<span class=\"req\">required</span>"; break;
        case presence::optional: out += "<span class=\"muted\">optional</span>"; break;
        case presence::not_applicable: out += "<span class=\"muted\">—</span>"; break;
      }
      out += "</td><td>";
      for (const auto& c : row.constraints) out += "<div><code>" + html(c) + "</code></div>";
      out += "</td><td>" + html(row.description) + "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n";
  }
  out += "<details><summary>JSON Schema</summary><pre>" + html(pretty_json(schema_json)) + "</pre></details>\n";
  return out;
}

// ---- pages ----

constexpr std::string_view style_css = R"(body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2b4f;color:#fff;padding:14px 28px}header a{color:#fff;text-decoration:none}
header h1{margin:0;font-size:20px}main{max-width:1100px;margin:0 auto;padding:20px 28px}
h2{border-bottom:1px solid #d5d9e0;padding-bottom:4px;margin-top:28px}h3{margin-bottom:6px}
a{color:#2450b2}code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:13px}
pre{background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:12px;overflow:auto}
#search{width:100%;box-sizing:border-box;padding:9px 12px;font-size:16px;border:1px solid #b8bfcc;border-radius:6px}
ul.types{list-style:none;padding:0;margin:0}ul.types li{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:8px 12px;margin:6px 0}
.desc{color:#4a5263;font-size:14px}.muted{color:#7a8294}
.badge{display:inline-block;font-size:12px;padding:1px 7px;border-radius:10px;background:#e6ebf5;color:#2b3a5c;margin-left:6px}
.deprecated{background:#fde2e1;color:#9b1c1c;font-weight:600}
.warning{background:#fff4e5;border-left:4px solid #d9822b;padding:10px 14px;margin:14px 0}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #e1e4ea;padding:6px 9px;text-align:left;vertical-align:top}
th{background:#eef1f6}td.path{white-space:nowrap}.req{color:#9b1c1c;font-weight:600}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
#none{display:none}
)";

// Filters the index as the reader types: each item carries its searchable text (type, description,
// service, consumers) lowercased in data-search; services left empty are hidden.
constexpr std::string_view search_js = R"(<script>
(function(){
  var box=document.getElementById('search');
  function filter(){
    var words=box.value.toLowerCase().split(/\s+/).filter(function(w){return w.length>0;});
    var shown=0;
    document.querySelectorAll('section.service').forEach(function(section){
      var visible=0;
      section.querySelectorAll('li[data-search]').forEach(function(li){
        var text=li.getAttribute('data-search');
        var match=words.every(function(w){return text.indexOf(w)>=0;});
        li.style.display=match?'':'none';
        if(match)visible++;
      });
      section.style.display=visible?'':'none';
      shown+=visible;
    });
    document.getElementById('none').style.display=shown?'none':'block';
  }
  box.addEventListener('input',filter);
  filter();
})();
</script>
)";

std::string lower(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return text;
}

std::string head(std::string_view title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         html(title) + "</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n"
         "<header><h1><a href=\"index.html\">AuthorWorks event catalog</a></h1></header>\n<main>\n";
}

constexpr std::string_view foot = "</main>\n</body>\n</html>\n";

std::string deprecation_badge(const event_type_entry& entry) {
  if (!entry.deprecated) return "";
  return "<span class=\"badge deprecated\">deprecated since " + html(entry.deprecated->date) + "</span>";
}

std::string index_page(const std::vector<const event_type_entry*>& entries) {
  std::map<std::string, std::vector<const event_type_entry*>> by_service;
  for (const auto* entry : entries) by_service[entry->producer].push_back(entry);

  std::string out = head("AuthorWorks event catalog");
  out += "<p>" + std::to_string(entries.size()) + " event types (type and major version) from " +
         std::to_string(by_service.size()) + " services. Generated by <code>aw-events catalog docs</code>.</p>\n";
  out += "<input id=\"search\" type=\"search\" placeholder=\"Filter by type, description or service…\" "
         "aria-label=\"Filter event types\" autofocus>\n";
  out += "<p id=\"none\" class=\"muted\">No event type matches.</p>\n";
  for (const auto& [service, list] : by_service) {
    out += "<section class=\"service\" id=\"service-" + html(service) + "\">\n<h2>" + html(service) +
           " <span class=\"badge\">topic " + html(topic_for(list.front()->type, topic_strategy::per_service)) +
           "</span></h2>\n<ul class=\"types\">\n";
    for (const auto* entry : list) {
      std::string search = entry->type + " v" + std::to_string(entry->major) + " " + entry->version + " " +
                           entry->description + " " + entry->producer;
      for (const auto& consumer : entry->consumers) search += " " + consumer;
      if (entry->deprecated) search += " deprecated";
      out += "<li data-search=\"" + html(lower(search)) + "\"><a href=\"" + html(page_name(*entry)) + "\"><code>" +
             html(entry->type) + "</code></a> <span class=\"badge\">v" + html(entry->version) + "</span>" +
             deprecation_badge(*entry) + "<div class=\"desc\">" + html(entry->description) + "</div></li>\n";
    }
    out += "</ul>\n</section>\n";
  }
  out += search_js;
  out += foot;
  return out;
}

std::string type_page(const event_type_entry& entry, const std::vector<const event_type_entry*>& all) {
  std::string out = head(entry.type + " v" + entry.version);
  out += "<p><a href=\"index.html\">← all event types</a></p>\n";
  out += "<h2><code>" + html(entry.type) + "</code> <span class=\"badge\">v" + html(entry.version) + "</span>" +
         deprecation_badge(entry) + "</h2>\n";
  if (entry.deprecated) {
    out += "<div class=\"warning\"><strong>Deprecated</strong> since " + html(entry.deprecated->date) + ": " +
           html(entry.deprecated->note) + "</div>\n";
  }
  out += "<p>" + html(entry.description) + "</p>\n<dl class=\"facts\">\n";
  out += "<dt>Producer</dt><dd>" + html(entry.producer) + "</dd>\n<dt>Consumers</dt><dd>";
  if (entry.consumers.empty()) out += "<span class=\"muted\">none registered</span>";
  for (std::size_t i = 0; i < entry.consumers.size(); ++i) out += (i ? ", " : "") + html(entry.consumers[i]);
  out += "</dd>\n<dt>Topic</dt><dd><code>" + html(topic_for(entry.type, topic_strategy::per_service)) +
         "</code> (one topic per service)";
  if (entry.topic && entry.topic->partitions) out += "; partitions: " + std::to_string(*entry.topic->partitions);
  if (entry.topic && entry.topic->retention_days) out += "; retention: " + std::to_string(*entry.topic->retention_days) + " days";
  out += "</dd>\n<dt>Versions</dt><dd>";
  const auto versions = entry.versions();
  for (std::size_t i = 0; i < versions.size(); ++i) {
    out += (i ? ", " : "") + html(versions[i].version);
    if (versions[i].version == entry.version) out += " (current)";
  }
  out += "</dd>\n";
  std::string other_majors;
  for (const auto* other : all) {
    if (other->type != entry.type || other == &entry) continue;
    other_majors += (other_majors.empty() ? "" : ", ") + std::string("<a href=\"") + html(page_name(*other)) + "\">v" +
                    html(other->version) + "</a>" + (other->deprecated ? " (deprecated)" : "");
  }
  if (!other_majors.empty()) out += "<dt>Other majors</dt><dd>" + other_majors + "</dd>\n";
  out += "<dt>Catalog file</dt><dd><code>" + html(entry.file.filename().string()) + "</code></dd>\n</dl>\n";

  out += "<h3>Data schema (v" + html(entry.version) + ")</h3>\n" + render_schema(entry.schema_json);
  for (auto it = entry.history.rbegin(); it != entry.history.rend(); ++it) {
    out += "<details><summary>Older minor: data schema v" + html(it->version) + "</summary>\n" +
           render_schema(it->schema_json) + "</details>\n";
  }
  out += "<h3>Sample event</h3>\n<pre class=\"sample\">" + html(pretty_json(entry.sample_json)) + "</pre>\n";
  out += foot;
  return out;
}

result<void> write_file(const fs::path& path, std::string_view text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (file) file.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (file) file.close();
  if (!file) return make_error(errc::invalid_argument, "cannot write " + path.string());
  return {};
}

}  // namespace

result<void> write_docs_site(const event_catalog& catalog, const std::string& out_dir) {
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(errc::invalid_argument, "cannot create the docs directory " + out_dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec)) return make_error(errc::invalid_argument, "docs output " + out_dir + " is not a directory");

  const auto entries = catalog.entries();
  if (auto r = write_file(dir / "style.css", style_css); !r) return r;
  for (const auto* entry : entries)
    if (auto r = write_file(dir / page_name(*entry), type_page(*entry, entries)); !r) return r;
  return write_file(dir / "index.html", index_page(entries));
}

}  // namespace aw::events
