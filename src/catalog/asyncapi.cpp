// AsyncAPI 3.0 export of the catalog: one channel per topic (per_service strategy), a send operation per
// producing service and a receive operation per consuming service and channel, one message per type and
// major version whose payload is the whole envelope with the catalog's data schema.
#include <map>
#include <set>

#include "aw/events/catalog.hpp"
#include "aw/events/publisher.hpp"
#include "core/json_text.hpp"

namespace aw::events {
namespace {

using detail::append_json_string;

// The envelope's meta object (DESIGN.md §3), shared by every message payload.
constexpr std::string_view meta_schema = R"({"type":"object","required":["id","type","version","timestamp","correlation_id","source","trace_context"],"properties":{"id":{"type":"string","format":"uuid","description":"UUID v4, lowercase"},"type":{"type":"string","pattern":"^[a-z][a-z0-9]*(_[a-z0-9]+)*\\.[a-z][a-z0-9]*(_[a-z0-9]+)*\\.[a-z][a-z0-9]*(_[a-z0-9]+)*$"},"version":{"type":"string","pattern":"^[1-9][0-9]*\\.(0|[1-9][0-9]*)$"},"timestamp":{"type":"string","format":"date-time","description":"UTC, exactly milliseconds and Z"},"correlation_id":{"type":"string","minLength":1},"source":{"type":"string","minLength":1},"trace_context":{"type":"object","required":["trace_id","span_id"],"properties":{"trace_id":{"type":"string","pattern":"^[0-9a-f]{32}$"},"span_id":{"type":"string","pattern":"^[0-9a-f]{16}$"}}}}})";

// Kafka headers every event carries (DESIGN.md §3).
constexpr std::string_view headers_schema = R"({"type":"object","required":["aw-event-id","aw-event-type","aw-event-version","aw-correlation-id","traceparent","content-type"],"properties":{"aw-event-id":{"type":"string","format":"uuid"},"aw-event-type":{"type":"string"},"aw-event-version":{"type":"string"},"aw-correlation-id":{"type":"string"},"traceparent":{"type":"string","pattern":"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},"content-type":{"const":"application/json"}}})";

std::string message_id(const event_type_entry& entry) { return entry.type + ".v" + std::to_string(entry.major); }

// The data schema as a resource of its own: an "$id" makes its local "$ref"s resolve inside it even when
// it is embedded in the AsyncAPI document.
std::string data_schema(const event_type_entry& entry) {
  const std::string& schema = entry.schema_json;
  if (schema.size() < 2 || schema.front() != '{' || schema.find("\"$id\"") != std::string::npos) return schema;
  std::string out = "{\"$id\":";
  append_json_string(out, "urn:aw-events:catalog:" + message_id(entry));
  if (schema != "{}") out += ',';
  out.append(schema, 1);
  return out;
}

void append_message(std::string& out, const event_type_entry& entry) {
  append_json_string(out, message_id(entry));
  out += ":{\"name\":";
  append_json_string(out, entry.type);
  out += ",\"title\":";
  append_json_string(out, entry.type + " " + entry.version);
  out += ",\"summary\":";
  append_json_string(out, entry.description);
  out += ",\"contentType\":\"application/json\",\"headers\":";
  out += headers_schema;
  out += ",\"payload\":{\"type\":\"object\",\"required\":[\"meta\",\"data\"],\"additionalProperties\":false,"
         "\"properties\":{\"meta\":{\"$ref\":\"#/components/schemas/envelope_meta\"},\"data\":";
  out += data_schema(entry);
  out += "}},\"examples\":[{\"name\":\"sample\",\"payload\":";
  out += entry.sample_json;
  out += "}],\"x-aw-version\":";
  append_json_string(out, entry.version);
  out += ",\"x-aw-producer\":";
  append_json_string(out, entry.producer);
  out += ",\"x-aw-consumers\":[";
  for (std::size_t i = 0; i < entry.consumers.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, entry.consumers[i]);
  }
  out += ']';
  if (entry.deprecated) {
    out += ",\"x-aw-deprecated\":{\"date\":";
    append_json_string(out, entry.deprecated->date);
    out += ",\"note\":";
    append_json_string(out, entry.deprecated->note);
    out += '}';
  }
  out += '}';
}

void append_message_refs(std::string& out, const std::string& channel, const std::set<std::string>& ids) {
  out += '[';
  bool first = true;
  for (const auto& id : ids) {
    if (!first) out += ',';
    first = false;
    out += "{\"$ref\":";
    append_json_string(out, "#/channels/" + channel + "/messages/" + id);
    out += '}';
  }
  out += ']';
}

}  // namespace

std::string export_asyncapi(const event_catalog& catalog) {
  const auto entries = catalog.entries();
  std::map<std::string, std::set<std::string>> channel_messages;                            // topic -> message ids
  std::map<std::string, std::map<std::string, std::set<std::string>>> sends;                 // service -> topic -> ids
  std::map<std::string, std::map<std::string, std::set<std::string>>> receives;              // service -> topic -> ids
  for (const auto* entry : entries) {
    const auto topic = topic_for(entry->type, topic_strategy::per_service);
    if (topic.empty() || topic.ends_with(".deadletter")) continue;  // dead-letter topics are not part of the API
    const auto id = message_id(*entry);
    channel_messages[topic].insert(id);
    sends[entry->producer][topic].insert(id);
    for (const auto& consumer : entry->consumers) receives[consumer][topic].insert(id);
  }

  std::string out = R"({"asyncapi":"3.0.0","info":{"title":"AuthorWorks events","version":"1.0.0",)"
                    R"("description":"Generated by aw-events catalog export from the event catalog. Every message is a )"
                    R"(standard event envelope {meta, data}; the key of each record is the resource id."},)"
                    R"("defaultContentType":"application/json","channels":{)";
  bool first = true;
  for (const auto& [topic, ids] : channel_messages) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, topic);
    out += ":{\"address\":";
    append_json_string(out, topic);
    out += ",\"description\":";
    append_json_string(out, "Events of the " + topic + " service (one topic per service).");
    out += ",\"messages\":{";
    bool first_message = true;
    for (const auto& id : ids) {
      if (!first_message) out += ',';
      first_message = false;
      append_json_string(out, id);
      out += ":{\"$ref\":";
      append_json_string(out, "#/components/messages/" + id);
      out += '}';
    }
    out += "}}";
  }
  out += "},\"operations\":{";
  first = true;
  auto append_operations = [&](const auto& by_service, std::string_view action) {
    for (const auto& [service, topics] : by_service) {
      for (const auto& [topic, ids] : topics) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, service + "." + std::string(action) + "." + topic);
        out += ":{\"action\":";
        append_json_string(out, action);
        out += ",\"summary\":";
        append_json_string(out, service + (action == "send" ? " publishes to " : " consumes from ") + topic);
        out += ",\"channel\":{\"$ref\":";
        append_json_string(out, "#/channels/" + topic);
        out += "},\"messages\":";
        append_message_refs(out, topic, ids);
        out += '}';
      }
    }
  };
  append_operations(sends, "send");
  append_operations(receives, "receive");
  out += "},\"components\":{\"schemas\":{\"envelope_meta\":";
  out += meta_schema;
  out += "},\"messages\":{";
  first = true;
  for (const auto* entry : entries) {
    const auto topic = topic_for(entry->type, topic_strategy::per_service);
    if (topic.empty() || topic.ends_with(".deadletter")) continue;
    if (!first) out += ',';
    first = false;
    append_message(out, *entry);
  }
  out += "}}}";
  return out;
}

}  // namespace aw::events
