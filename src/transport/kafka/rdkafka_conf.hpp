// Building librdkafka configurations: properties that fail name the key, and librdkafka's own log lines go
// through our structured log. Internal.
#pragma once

#include <map>
#include <string>

#include "aw/events/result.hpp"
#include "transport/kafka/rdkafka_handles.hpp"

namespace aw::events::kafka_detail {

// A fresh configuration that logs through aw::events::log (librdkafka would print to stderr in its own form).
[[nodiscard]] conf_ptr new_conf();

// Sets one property; errc::invalid_argument naming the key, the value and librdkafka's reason on failure.
[[nodiscard]] result<void> set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);
[[nodiscard]] result<void> set_properties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& properties);

// rd_kafka_new that leaves ownership straight: on success the handle owns conf (released here), on failure
// conf is still ours and is destroyed with the unique_ptr.
[[nodiscard]] result<handle_ptr> new_handle(rd_kafka_type_t type, conf_ptr conf, const std::string& what);

}  // namespace aw::events::kafka_detail
