// aw-events bench validate. Every subject runs the same structure: compile the schema once, parse every
// instance once (timed apart), then validate the already-parsed instances round after round for the time
// budget; the figure compared is validate-only ns per instance. aw-events is measured in this process; the
// peers are separate programs (bench/peers/*_harness*) given the same schema and instance files, each
// printing one JSON line. Every subject is timed in CPU time of its measuring thread, not wall time.
// Results are cross-checked: every peer must find the same number of valid instances as the generator
// intended, or its figure is flagged.
#include "validate_bench.hpp"

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "aw/events/json_schema.hpp"

namespace aw::bench {
namespace {

// A richer variant of examples/catalog content.book.published v2: nested objects, a $ref'd definition,
// patterns, enums, a numeric range, date-time and uuid formats, and two uniqueItems arrays. Only keywords
// whose meaning is the same in draft 7 and 2020-12, so that valijson (draft 7 only) checks the same thing.
constexpr const char* schema_text = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["book_id", "edition_id", "authors", "title", "isbn", "language", "format", "price", "published_at"],
  "additionalProperties": false,
  "properties": {
    "book_id": {"type": "string", "pattern": "^bk-[0-9a-z]{6,32}$"},
    "edition_id": {"type": "string", "pattern": "^ed-[0-9a-z]{6,32}$"},
    "authors": {"type": "array", "minItems": 1, "maxItems": 8, "uniqueItems": true, "items": {"$ref": "#/$defs/contributor"}},
    "title": {"type": "string", "minLength": 1, "maxLength": 300},
    "subtitle": {"type": "string", "maxLength": 300},
    "isbn": {"type": "string", "pattern": "^97[89][0-9]{10}$"},
    "language": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
    "format": {"enum": ["ebook", "audiobook", "paperback", "hardcover"]},
    "page_count": {"type": "integer", "minimum": 1, "maximum": 20000},
    "price": {
      "type": "object",
      "required": ["amount", "currency"],
      "additionalProperties": false,
      "properties": {
        "amount": {"type": "number", "minimum": 0, "exclusiveMaximum": 10000},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}
      }
    },
    "tags": {"type": "array", "maxItems": 10, "uniqueItems": true, "items": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,30}$"}},
    "published_at": {"type": "string", "format": "date-time"}
  },
  "$defs": {
    "contributor": {
      "type": "object",
      "required": ["author_id", "role"],
      "additionalProperties": false,
      "properties": {
        "author_id": {"type": "string", "format": "uuid"},
        "role": {"enum": ["author", "co_author", "translator", "illustrator"]}
      }
    }
  }
})";

// splitmix64: deterministic on every platform, so every run and every peer sees the same instances.
struct rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

std::string alnum(rng& r, size_t n) {
  static constexpr char chars[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (size_t i = 0; i < n; ++i) s += chars[r.below(36)];
  return s;
}

std::string uuid(rng& r) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
    if (i == 12) s += '4';
    else if (i == 16) s += "89ab"[r.below(4)];
    else s += hex[r.below(16)];
  }
  return s;
}

std::string words(rng& r, size_t count) {
  static constexpr const char* pool[] = {"night",  "river", "silent", "garden", "winter", "letters", "glass",
                                         "empire", "north", "memory", "salt",   "orchard", "quiet",  "harbour"};
  std::string s;
  for (size_t i = 0; i < count; ++i) {
    if (i) s += ' ';
    std::string w = pool[r.below(std::size(pool))];
    if (i == 0) w[0] = static_cast<char>(w[0] - 'a' + 'A');
    s += w;
  }
  return s;
}

// The defects planted in invalid instances. None is a format defect: Blaze treats "format" as an
// annotation, so every peer must agree on which instances are valid for the cross-check to hold.
enum class defect { none, isbn, missing_language, extra_property, duplicate_author, format_enum, page_count_zero,
                    currency_case, tag_case, role_enum, author_id_number };
constexpr int defect_count = 10;

std::string instance(rng& r, defect d) {
  static constexpr const char* formats[] = {"ebook", "audiobook", "paperback", "hardcover"};
  static constexpr const char* roles[] = {"author", "co_author", "translator", "illustrator"};
  static constexpr const char* languages[] = {"en", "de", "fr", "en-GB", "pt-BR", "es"};
  static constexpr const char* currencies[] = {"EUR", "USD", "GBP", "CHF"};
  static constexpr const char* tags[] = {"fiction", "sci-fi", "history", "award-2024", "bestseller", "debut", "translated"};
  std::string s = "{\"book_id\":\"bk-" + alnum(r, 6 + r.below(10)) + "\"";
  s += ",\"edition_id\":\"ed-" + alnum(r, 8 + r.below(8)) + "\"";
  s += ",\"authors\":[";
  const size_t authors = 1 + r.below(3);
  std::string first_author;
  for (size_t i = 0; i < authors; ++i) {
    if (i) s += ',';
    std::string a = d == defect::author_id_number && i == authors - 1
                        ? "{\"author_id\":" + std::to_string(r.below(100000)) + ",\"role\":\"author\"}"
                        : "{\"author_id\":\"" + uuid(r) + "\",\"role\":\"" +
                              (d == defect::role_enum && i == authors - 1 ? std::string("ghost") : roles[r.below(4)]) + "\"}";
    if (i == 0) first_author = a;
    s += a;
  }
  if (d == defect::duplicate_author) s += "," + first_author;
  s += "]";
  s += ",\"title\":\"" + words(r, 2 + r.below(5)) + "\"";
  if (r.below(3) == 0) s += ",\"subtitle\":\"" + words(r, 3 + r.below(6)) + "\"";
  s += ",\"isbn\":\"" + std::string(d == defect::isbn ? "977" : r.below(2) ? "978" : "979");
  for (int i = 0; i < 10; ++i) s += static_cast<char>('0' + r.below(10));
  s += "\"";
  if (d != defect::missing_language) s += ",\"language\":\"" + std::string(languages[r.below(std::size(languages))]) + "\"";
  s += ",\"format\":\"" + std::string(d == defect::format_enum ? "kindle" : formats[r.below(4)]) + "\"";
  if (d == defect::page_count_zero || r.below(4) != 0)
    s += ",\"page_count\":" + std::to_string(d == defect::page_count_zero ? 0 : 40 + r.below(1200));
  char amount[32];
  std::snprintf(amount, sizeof amount, "%zu.%02zu", r.below(80), r.below(100));
  std::string currency = currencies[r.below(4)];
  if (d == defect::currency_case) currency[1] = static_cast<char>(currency[1] - 'A' + 'a');
  s += ",\"price\":{\"amount\":" + std::string(amount) + ",\"currency\":\"" + currency + "\"}";
  const size_t tag_count = d == defect::tag_case ? 1 + r.below(3) : r.below(4);
  if (tag_count) {
    s += ",\"tags\":[";
    size_t start = r.below(std::size(tags));
    for (size_t i = 0; i < tag_count; ++i) {
      if (i) s += ',';
      std::string tag = tags[(start + i) % std::size(tags)];
      if (d == defect::tag_case && i == tag_count - 1) tag[0] = static_cast<char>(tag[0] - 'a' + 'A');
      s += "\"" + tag + "\"";
    }
    s += "]";
  }
  char when[64];
  const char* zones[] = {"Z", "+02:00", "-05:30", "Z"};
  std::snprintf(when, sizeof when, "%04zu-%02zu-%02zuT%02zu:%02zu:%02zu.%03zu%s", 2020 + r.below(6), 1 + r.below(12),
                1 + r.below(28), r.below(24), r.below(60), r.below(60), r.below(1000), zones[r.below(4)]);
  s += ",\"published_at\":\"" + std::string(when) + "\"";
  if (d == defect::extra_property) s += ",\"price_cents\":" + std::to_string(r.below(10000));
  s += "}";
  return s;
}

struct generated {
  std::vector<std::string> texts;
  std::vector<bool> valid;
};

generated generate(size_t count) {
  generated g;
  rng r{20250203};
  while (g.texts.size() < count) {
    // One instance in ten is invalid, cycling through the defects.
    const size_t i = g.texts.size();
    defect d = i % 10 == 9 ? static_cast<defect>(1 + (i / 10) % defect_count) : defect::none;
    std::string text = instance(r, d);
    if (text.size() < 300 || text.size() > 600) continue;  // keep the 300–600-byte band
    g.texts.push_back(std::move(text));
    g.valid.push_back(d == defect::none);
  }
  return g;
}

struct subject_result {
  std::string subject;
  std::string line;  // the JSON line as printed
  double validate_ns = 0;
  double parse_ns = 0;
  size_t valid = 0;
};

std::optional<double> number_field(const std::string& line, const std::string& name) {
  auto at = line.find("\"" + name + "\":");
  if (at == std::string::npos) return std::nullopt;
  const char* begin = line.c_str() + at + name.size() + 3;
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  if (end == begin) return std::nullopt;
  return v;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Runs a peer harness and takes the last JSON line it prints; nullopt (with why) when it fails.
std::optional<subject_result> run_peer(const std::string& subject, const std::string& command, std::string& why) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) {
    why = "cannot start: " + command;
    return std::nullopt;
  }
  std::string output, last;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) {
    output += buf;
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.starts_with("{")) last = line;
  }
  int status = ::pclose(pipe);
  auto ns = number_field(last, "validate_ns_per_instance");
  auto parse = number_field(last, "parse_ns_per_instance");
  auto valid = number_field(last, "valid");
  if (status != 0 || !ns || !parse || !valid) {
    if (output.size() > 600) output = output.substr(output.size() - 600);
    why = "exit status " + std::to_string(status) + ", output: " + output;
    return std::nullopt;
  }
  return subject_result{subject, last, *ns, *parse, static_cast<size_t>(*valid)};
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

}  // namespace

std::string default_peers_dir() {
#ifdef AW_BENCH_PEERS_DIR
  return AW_BENCH_PEERS_DIR;
#else
  return "bench/peers";
#endif
}

std::string validate_bench_schema() { return schema_text; }

std::vector<std::string> validate_bench_instances(size_t count) { return generate(count).texts; }

int run_validate_bench(const validate_bench_options& options, const printer& print) {
  namespace fs = std::filesystem;
  const auto g = generate(options.instances);
  size_t bytes = 0, expected_valid = 0;
  for (size_t i = 0; i < g.texts.size(); ++i) {
    bytes += g.texts[i].size();
    expected_valid += g.valid[i] ? 1 : 0;
  }
  std::error_code ec;
  fs::create_directories(options.work_dir, ec);
  const std::string schema_file = (fs::path(options.work_dir) / "schema.json").string();
  const std::string instances_file = (fs::path(options.work_dir) / "instances.jsonl").string();
  {
    std::ofstream schema_out(schema_file, std::ios::binary | std::ios::trunc);
    schema_out << schema_text << '\n';
    std::ofstream instances_out(instances_file, std::ios::binary | std::ios::trunc);
    for (const auto& t : g.texts) instances_out << t << '\n';
    if (!schema_out || !instances_out) {
      print("{\"bench\":\"validate\",\"error\":\"cannot write the schema and instances under " +
            json_escape(options.work_dir) + "\"}");
      return 1;
    }
  }
  char head[512];
  std::snprintf(head, sizeof head,
                "{\"bench\":\"validate\",\"instances\":%zu,\"expected_valid\":%zu,\"mean_bytes\":%.0f,"
                "\"schema\":\"%s\",\"instances_file\":\"%s\"}",
                g.texts.size(), expected_valid, static_cast<double>(bytes) / static_cast<double>(g.texts.size()),
                json_escape(schema_file).c_str(), json_escape(instances_file).c_str());
  print(head);

  // aw-events, in this process, with format assertion on (Ajv with ajv-formats asserts formats too).
  events::schema_options schema_options;
  schema_options.format_assertion = true;
  auto schema = events::json_schema::compile(schema_text, schema_options);
  if (!schema) {
    print("{\"bench\":\"validate\",\"error\":\"" + json_escape(schema.error().message) + "\"}");
    return 1;
  }
  // This thread's CPU time, as the peer harnesses measure theirs: on a shared machine wall time would
  // mostly measure the other processes.
  struct clock {
    static double now() {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
    }
  };
  auto elapsed_ns = [](double since) { return clock::now() - since; };
  std::vector<events::json_document> docs;
  size_t parse_rounds = 0;
  auto start = clock::now();
  do {
    docs.clear();
    for (const auto& t : g.texts) {
      auto doc = events::json_document::parse(t);
      if (!doc) {
        print("{\"bench\":\"validate\",\"error\":\"generated instance does not parse\"}");
        return 1;
      }
      docs.push_back(std::move(*doc));
    }
    ++parse_rounds;
  } while (elapsed_ns(start) < options.seconds * 0.25e9);
  const double parse_ns = elapsed_ns(start) / static_cast<double>(parse_rounds * docs.size());

  size_t valid = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    const bool ok = schema->is_valid(docs[i]);
    valid += ok ? 1 : 0;
    if (ok != g.valid[i]) {
      print("{\"bench\":\"validate\",\"error\":\"aw-events decides instance " + std::to_string(i) + " as " +
            (ok ? "valid" : "invalid") + ", the generator intended the opposite\"}");
      return 1;
    }
  }
  auto warm = clock::now();
  for (size_t i = 0; elapsed_ns(warm) < 0.2e9; i = (i + 1) % docs.size()) (void)schema->is_valid(docs[i]);
  size_t rounds = 0, sink = 0;
  start = clock::now();
  do {
    for (const auto& d : docs) sink += schema->is_valid(d) ? 1 : 0;
    ++rounds;
  } while (elapsed_ns(start) < options.seconds * 1e9);
  const double ours_ns = elapsed_ns(start) / static_cast<double>(rounds * docs.size());
  if (sink != valid * rounds) {
    print("{\"bench\":\"validate\",\"error\":\"validation results changed between rounds\"}");
    return 1;
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "{\"subject\":\"aw-events\",\"version\":\"compiled program over simdjson DOM\",\"instances\":%zu,"
                "\"valid\":%zu,\"rounds\":%zu,\"validate_ns_per_instance\":%.1f,\"parse_ns_per_instance\":%.1f}",
                docs.size(), valid, rounds, ours_ns, parse_ns);
  print(line);

  struct peer_spec {
    std::string name;
    std::string command;  // empty: skipped, with skip_reason
    std::string skip_reason;
    double goal;          // peer ns / our ns must be at least this
    const char* goal_text;
  };
  const std::string files = shell_quote(schema_file) + " " + shell_quote(instances_file) + " " +
                            std::to_string(options.seconds);
  std::vector<peer_spec> peers;
  {
    peer_spec ajv{"ajv", "", "", 2.0, "aw-events at least 2x faster"};
    const std::string script = (fs::path(options.peers_dir) / "ajv_harness.cjs").string();
    if (options.ajv_prefix.empty()) {
      ajv.skip_reason = "no --ajv-prefix (npm install --prefix DIR ajv@8 ajv-formats@3; see bench/peers/run_validate_bench.sh)";
    } else if (!fs::exists(fs::path(options.ajv_prefix) / "node_modules" / "ajv" / "package.json")) {
      ajv.skip_reason = "ajv is not installed under " + options.ajv_prefix;
    } else if (!fs::exists(script)) {
      ajv.skip_reason = "harness " + script + " not found (--peers-dir)";
    } else {
      ajv.command = "node " + shell_quote(script) + " " + shell_quote(options.ajv_prefix) + " " + files;
    }
    peers.push_back(ajv);
  }
  auto binary_peer = [&](const std::string& name, const std::string& path, double goal, const char* goal_text,
                         const std::string& how) {
    peer_spec p{name, "", "", goal, goal_text};
    if (path.empty()) p.skip_reason = "no harness given (" + how + ")";
    else if (!executable(path)) p.skip_reason = "harness " + path + " is not an executable file (" + how + ")";
    else p.command = shell_quote(path) + " " + files;
    return p;
  };
  peers.push_back(binary_peer("blaze", options.blaze_harness, 1.0, "aw-events faster",
                              "--blaze-harness or AW_BENCH_BLAZE_HARNESS; build it with bench/peers/build_blaze.sh"));
  peers.push_back(binary_peer("valijson", options.valijson_harness, 10.0, "aw-events far ahead (10x)",
                              "--valijson-harness or AW_BENCH_VALIJSON_HARNESS; bench/peers/run_validate_bench.sh builds it"));

  bool all_met = true;
  for (const auto& p : peers) {
    if (p.command.empty()) {
      print("{\"bench\":\"validate\",\"subject\":\"" + p.name + "\",\"skipped\":\"" + json_escape(p.skip_reason) + "\"}");
      continue;
    }
    std::string why;
    auto r = run_peer(p.name, p.command, why);
    if (!r) {
      all_met = false;
      print("{\"bench\":\"validate\",\"subject\":\"" + p.name + "\",\"error\":\"" + json_escape(why) + "\"}");
      continue;
    }
    print(r->line);
    const bool agrees = r->valid == expected_valid;
    const double ratio = r->validate_ns / ours_ns;
    const bool met = agrees && ratio >= p.goal;
    all_met = all_met && met;
    char ratio_line[512];
    std::snprintf(ratio_line, sizeof ratio_line,
                  "{\"bench\":\"validate\",\"ratio\":\"%s_ns/aw-events_ns\",\"value\":%.2f,\"goal\":\"%s\","
                  "\"agrees_on_validity\":%s,\"met\":%s,\"parse_ratio\":%.2f}",
                  p.name.c_str(), ratio, p.goal_text, agrees ? "true" : "false", met ? "true" : "false",
                  r->parse_ns / parse_ns);
    print(ratio_line);
  }
  return all_met ? 0 : 1;
}

}  // namespace aw::bench
