// A known-good event, as a struct and as wire text, for tests that break one thing at a time.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "aw/events/envelope.hpp"

namespace aw::events::testing {

inline envelope sample_envelope() {
  envelope e;
  e.meta.id = "0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f";
  e.meta.type = "content.book.published";
  e.meta.version = "1.0";
  e.meta.timestamp = "2023-06-15T14:22:31.123Z";
  e.meta.correlation_id = "corr-123";
  e.meta.source = "content";
  e.meta.trace = {"4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"};
  e.data = R"({"book_id":"b-1","title":"Dune","tags":["sf",1965,true,null],"price":{"amount":9.99e0}})";
  return e;
}

// The wire form of sample_envelope(), exactly as encode() writes it.
inline std::string sample_json() {
  return R"({"meta":{"id":"0b6f4c8e-3f1a-4d2b-9c7e-1a2b3c4d5e6f","type":"content.book.published",)"
         R"("version":"1.0","timestamp":"2023-06-15T14:22:31.123Z","correlation_id":"corr-123",)"
         R"("source":"content","trace_context":{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",)"
         R"("span_id":"00f067aa0ba902b7"}},)"
         R"("data":{"book_id":"b-1","title":"Dune","tags":["sf",1965,true,null],"price":{"amount":9.99e0}}})";
}

// text with the single occurrence of `from` replaced by `to`; throws if `from` is not there exactly once,
// so a typo in a test table cannot silently test the unmodified document.
inline std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
    throw std::invalid_argument("replace_once: pattern must occur exactly once: " + std::string(from));
  }
  text.replace(at, from.size(), to);
  return text;
}

}  // namespace aw::events::testing
