#include "aw/events/transport.hpp"

namespace aw::events {

std::optional<std::string_view> record::header_value(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return std::string_view(h.value);
  }
  return std::nullopt;
}

}  // namespace aw::events
