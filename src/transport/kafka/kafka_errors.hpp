// librdkafka error codes → our error values, in one place so the mapping is unit-tested once.
// Internal: never include from a public header.
#pragma once

#include <optional>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "aw/events/result.hpp"

namespace aw::events::kafka_detail {

// context names the operation ("produce to topic 'x'"). client_fatal: the handle raised a fatal error
// (rd_kafka_fatal_error), which wins over the code. possibly_persisted: a produce that timed out with
// status RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED — said in the message, as a duplicate may follow a resend.
[[nodiscard]] error map_kafka_error(rd_kafka_resp_err_t code, std::string_view context, bool client_fatal = false,
                                    bool possibly_persisted = false);
// Same for the rich error object of newer APIs; its own fatal/retriable flags are honoured.
[[nodiscard]] error map_kafka_error(const rd_kafka_error_t* err, std::string_view context);

// A librdkafka error name as rd_kafka_get_err_descs spells it ("NOT_LEADER_FOR_PARTITION", "_TRANSPORT"),
// case-insensitive, with or without the "RD_KAFKA_RESP_ERR_" prefix; a local error may omit its leading
// underscore ("TRANSPORT") when no broker error has that name.
[[nodiscard]] std::optional<rd_kafka_resp_err_t> kafka_error_from_name(std::string_view name);

}  // namespace aw::events::kafka_detail
