#include "core/json_check.hpp"

#include <simdjson.h>

#include <string>

namespace aw::events::detail {

std::optional<validation_error> check_json_object(std::string_view text, std::string_view location) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  // dom::parser copies into its own padded buffer when the input has no padding; it validates UTF-8 and
  // the whole document, unlike On-Demand.
  if (auto err = parser.parse(text.data(), text.size(), true).get(root); err) {
    return validation_error{std::string(location), "/json",
                            std::string("not well-formed JSON: ") + simdjson::error_message(err)};
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return validation_error{std::string(location), "/type", "must be a JSON object"};
  }
  return std::nullopt;
}

}  // namespace aw::events::detail
