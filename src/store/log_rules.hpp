// Rules shared by the logs aw-events keeps itself (embedded SQLite store, memory transport): topic names,
// the compact header encoding, and the deterministic partition assignment of a consumer group.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"
#include "aw/events/transport.hpp"

namespace aw::events::store {

// Kafka's topic rules, so a topic that works on the embedded store also works on Kafka:
// 1..249 characters of [A-Za-z0-9._-], not "." or "..".
[[nodiscard]] result<void> validate_topic_name(std::string_view topic);

// Headers as one blob: per header, varint name length, name, varint value length, value. Empty for none.
void encode_headers(const std::vector<header>& headers, std::string& out);
// Inverse of encode_headers; storage_error naming the byte position when the blob is damaged.
[[nodiscard]] result<void> decode_headers(std::string_view blob, std::vector<header>& out);

// Partitions of a topic this member owns, given every live member subscribed to the topic:
// round-robin over the sorted member ids, so every member computes the same split without talking.
[[nodiscard]] std::vector<std::int32_t> assigned_partitions(std::vector<std::string> members,
                                                           const std::string& member, std::int32_t partitions);

}  // namespace aw::events::store
