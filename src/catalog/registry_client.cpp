// event_catalog::load_url: the catalog as served by an `aw-events serve --catalog` registry. A plain
// HTTP/1.1 client (Boost.Beast, kept out of the public headers) fetches GET /v1/catalog/types and every
// version of every type, rebuilds each type's catalog file from the answers and loads those files with the
// same checks as a catalog directory, so a registry and a directory give the same catalog.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>

#include <cctype>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_state.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto request_timeout = std::chrono::seconds(10);
constexpr size_t max_body = 64u << 20;  // a catalog answer larger than this is not a catalog

struct registry_url {
  std::string host, port, prefix;  // prefix: path before /v1 ("" or "/something")
};

result<registry_url> parse_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "catalog registry URL \"" + std::string(url) + "\": " + why);
  };
  if (url.starts_with("https://")) return bad("https is not supported; use http:// (a TLS proxy in front is fine)");
  if (!url.starts_with("http://")) return bad("expected http://HOST:PORT");
  std::string_view rest = url.substr(7);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (authority.empty()) return bad("no host");
  registry_url out;
  if (authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [IPv6] host");
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return bad("expected :PORT after the host");
    out.port = authority.empty() ? "80" : std::string(authority.substr(1));
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    out.port = colon == std::string_view::npos ? "80" : std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) return bad("no host");
  if (out.port.empty() || out.port.find_first_not_of("0123456789") != std::string::npos || out.port.size() > 5)
    return bad("the port must be a number");
  out.prefix = std::move(prefix);
  return out;
}

// Percent-encodes a path segment (event types and versions are plain, but be exact anyway).
std::string encode_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

class client {
 public:
  client(registry_url url, std::string display) : url_(std::move(url)), display_(std::move(display)) {}

  // GET prefix + path; the body of a 200 answer, an error naming the URL and what failed otherwise.
  result<std::string> get(const std::string& path) {
    const std::string target = url_.prefix + path;
    const std::string where = "catalog registry " + display_ + ": GET " + target;
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url_.host, url_.port, ec);
    if (ec) return make_error(errc::unavailable, where + ": cannot resolve " + url_.host + ": " + ec.message());
    beast::tcp_stream stream(ioc);
    stream.expires_after(request_timeout);  // one deadline for connect, request and answer
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, url_.host + ":" + url_.port);
    request.set(http::field::user_agent, "aw-events");
    request.set(http::field::accept, "application/json");
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    std::string step = "connect";
    beast::error_code failure;
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      if (e) {
        failure = e;
        return;
      }
      step = "send the request";
      http::async_write(stream, request, [&](beast::error_code e2, size_t) {
        if (e2) {
          failure = e2;
          return;
        }
        step = "read the answer";
        http::async_read(stream, buffer, parser, [&](beast::error_code e3, size_t) { failure = e3; });
      });
    });
    ioc.run();
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (failure == beast::error::timeout)
      return make_error(errc::timeout, where + ": no answer within " + std::to_string(request_timeout.count()) + " s (" + step + ")");
    if (failure) return make_error(errc::unavailable, where + ": cannot " + step + ": " + failure.message());
    auto& response = parser.get();
    if (response.result() != http::status::ok) {
      std::string body = response.body().substr(0, 300);
      return make_error(response.result() == http::status::not_found ? errc::not_found : errc::unavailable,
                        where + ": HTTP " + std::to_string(response.result_int()) + (body.empty() ? "" : ": " + body));
    }
    return std::move(response.body());
  }

 private:
  registry_url url_;
  std::string display_;
};

result<simdjson::dom::element> parse_answer(simdjson::dom::parser& parser, const std::string& text,
                                            const std::string& where) {
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root))
    return make_error(errc::invalid_argument, where + ": the answer is not JSON: " + simdjson::error_message(err));
  if (!root.is_object()) return make_error(errc::invalid_argument, where + ": the answer is not a JSON object");
  return root;
}

using detail::append_json_string;

}  // namespace

result<event_catalog> event_catalog::load_url(std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) return make_error(parsed.error());
  const std::string display(url);
  client http_client(*parsed, display);
  const std::string types_path = "/v1/catalog/types";
  auto list_text = http_client.get(types_path);
  if (!list_text) return make_error(list_text.error());
  simdjson::dom::parser list_parser;
  const std::string list_where = "catalog registry " + display + ": GET " + types_path;
  auto list = parse_answer(list_parser, *list_text, list_where);
  if (!list) return make_error(list.error());
  simdjson::dom::array types;
  if ((*list)["types"].get(types))
    return make_error(errc::invalid_argument, list_where + ": the answer has no \"types\" array");

  std::vector<detail::catalog_document> documents;
  size_t index = 0;
  for (simdjson::dom::element summary : types) {
    const std::string at = list_where + ": /types/" + std::to_string(index++);
    std::string_view type;
    simdjson::dom::array versions;
    if (summary["type"].get(type) || summary["versions"].get(versions) || versions.size() == 0)
      return make_error(errc::invalid_argument, at + " lacks \"type\" or a non-empty \"versions\" array");
    // Fetch every version; the last one listed is the latest minor of the major (oldest first).
    std::string history = "[";
    std::string latest_text;
    simdjson::dom::parser version_parser;
    size_t position = 0;
    std::string file_text;
    for (simdjson::dom::element v : versions) {
      std::string_view version;
      if (v.get(version)) return make_error(errc::invalid_argument, at + "/versions holds a non-string");
      const std::string path = types_path + "/" + encode_segment(type) + "/versions/" + encode_segment(version);
      auto text = http_client.get(path);
      if (!text) return make_error(text.error());
      const std::string where = "catalog registry " + display + ": GET " + path;
      auto answer = parse_answer(version_parser, *text, where);
      if (!answer) return make_error(answer.error());
      simdjson::dom::element schema;
      if ((*answer)["schema"].get(schema))
        return make_error(errc::invalid_argument, where + ": the answer has no \"schema\"");
      if (++position < versions.size()) {
        if (history.size() > 1) history += ',';
        history += "{\"version\":";
        append_json_string(history, version);
        history += ",\"schema\":" + simdjson::minify(schema) + "}";
        continue;
      }
      // The latest: everything but the history comes from this answer, in catalog file form.
      file_text = "{\"type\":";
      append_json_string(file_text, type);
      file_text += ",\"version\":";
      append_json_string(file_text, version);
      for (const char* field : {"description", "producer", "consumers", "sample", "topic", "deprecated"}) {
        simdjson::dom::element value;
        if ((*answer)[field].get(value)) continue;  // missing required fields are reported by the loader
        file_text += ",\"";
        file_text += field;
        file_text += "\":" + simdjson::minify(value);
      }
      file_text += ",\"schema\":" + simdjson::minify(schema);
    }
    history += ']';
    if (history.size() > 2) file_text += ",\"history\":" + history;
    file_text += '}';
    // The path this entry would have in a catalog directory, so that the naming rules apply alike.
    const std::string type_text(type);
    const auto first = type_text.find('.');
    const std::string latest(versions.at(versions.size() - 1).get_string().value());
    const std::string major = latest.substr(0, latest.find('.'));
    std::string file = first == std::string::npos
                           ? type_text + ".v" + major + ".json"
                           : type_text.substr(0, first) + "/" + type_text.substr(first + 1) + ".v" + major + ".json";
    documents.push_back({std::move(file), std::move(file_text),
                         display + types_path + "/" + type_text + "/versions/" + latest});
  }
  if (documents.empty())
    return make_error(errc::invalid_argument, list_where + ": the registry serves no event types");

  std::vector<catalog_problem> problems;
  auto state = detail::load_catalog_state(documents, problems);
  if (!problems.empty()) {
    std::vector<validation_error> details;
    for (const auto& p : problems) details.push_back({p.location, p.rule, p.file + ": " + p.message});
    const auto& first = problems.front();
    return make_error(errc::invalid_argument,
                      "event catalog from registry " + display + ": " + std::to_string(problems.size()) +
                          " problem(s); first: " + first.file + (first.location.empty() ? "" : " at " + first.location) +
                          ": " + first.message,
                      std::move(details));
  }
  return event_catalog(std::move(state));
}

bool is_catalog_url(std::string_view location) noexcept {
  return location.starts_with("http://") || location.starts_with("https://");
}

}  // namespace aw::events
