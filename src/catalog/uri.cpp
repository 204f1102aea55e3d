// RFC 3986 section 5: resolving a URI reference against a base URI.
#include "catalog/uri.hpp"

#include <optional>

namespace aw::events::schema_detail::uri {
namespace {

struct parts {
  std::optional<std::string_view> scheme, authority, query, fragment;
  std::string_view path;
};

// The regular expression of RFC 3986 appendix B, by hand.
parts parse(std::string_view s) {
  parts p;
  size_t colon = s.find(':');
  size_t delim = s.find_first_of("/?#");
  if (colon != std::string_view::npos && colon > 0 && (delim == std::string_view::npos || colon < delim)) {
    p.scheme = s.substr(0, colon);
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    size_t end = s.find_first_of("/?#", 2);
    p.authority = s.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  }
  if (size_t hash = s.find('#'); hash != std::string_view::npos) {
    p.fragment = s.substr(hash + 1);
    s = s.substr(0, hash);
  }
  if (size_t q = s.find('?'); q != std::string_view::npos) {
    p.query = s.substr(q + 1);
    s = s.substr(0, q);
  }
  p.path = s;
  return p;
}

std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t last = out.rfind('/');
      out.resize(last == std::string::npos ? 0 : last);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', in[0] == '/' ? 1 : 0);
      out += in.substr(0, next);
      in = next == std::string_view::npos ? std::string_view{} : in.substr(next);
    }
  }
  return out;
}

std::string compose(const std::optional<std::string_view>& scheme, const std::optional<std::string_view>& authority,
                    std::string_view path, const std::optional<std::string_view>& query,
                    const std::optional<std::string_view>& fragment) {
  std::string out;
  if (scheme) {
    out += *scheme;
    out += ':';
  }
  if (authority) {
    out += "//";
    out += *authority;
  }
  out += path;
  if (query) {
    out += '?';
    out += *query;
  }
  if (fragment) {
    out += '#';
    out += *fragment;
  }
  return out;
}

}  // namespace

std::string resolve(std::string_view base_text, std::string_view reference) {
  parts r = parse(reference);
  if (r.scheme) return compose(r.scheme, r.authority, remove_dot_segments(r.path), r.query, r.fragment);
  parts b = parse(base_text);
  if (r.authority) return compose(b.scheme, r.authority, remove_dot_segments(r.path), r.query, r.fragment);
  if (r.path.empty()) return compose(b.scheme, b.authority, b.path, r.query ? r.query : b.query, r.fragment);
  std::string merged;
  if (r.path[0] == '/') {
    merged = remove_dot_segments(r.path);
  } else {
    if (b.authority && b.path.empty()) {
      merged = "/" + std::string(r.path);
    } else {
      size_t last = b.path.rfind('/');
      merged = std::string(last == std::string_view::npos ? std::string_view{} : b.path.substr(0, last + 1));
      merged += r.path;
    }
    // Opaque paths (URNs) have no hierarchy to remove dot segments from.
    if (!(b.scheme && !b.authority && !b.path.starts_with("/"))) merged = remove_dot_segments(merged);
  }
  return compose(b.scheme, b.authority, merged, r.query, r.fragment);
}

std::pair<std::string, std::string> split_fragment(std::string_view text) {
  size_t hash = text.find('#');
  if (hash == std::string_view::npos) return {std::string(text), {}};
  return {std::string(text.substr(0, hash)), std::string(text.substr(hash + 1))};
}

}  // namespace aw::events::schema_detail::uri
