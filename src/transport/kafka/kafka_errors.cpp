#include "transport/kafka/kafka_errors.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_map>

namespace aw::events::kafka_detail {
namespace {

// Kafka marks these as retriable (org.apache.kafka.common.errors.RetriableException) or they are local
// conditions that clear by themselves; everything else defaults to permanent.
bool broker_error_retriable(rd_kafka_resp_err_t code) noexcept {
  switch (code) {
    case RD_KAFKA_RESP_ERR_INVALID_MSG:  // Kafka's CORRUPT_MESSAGE
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__OUTDATED:
      return true;
    default:
      return false;
  }
}

std::string describe_code(rd_kafka_resp_err_t code, std::string_view context) {
  std::string text(context);
  text += ": ";
  text += rd_kafka_err2name(code);
  text += " (";
  text += rd_kafka_err2str(code);
  text += ")";
  return text;
}

error make(errc code, std::string message, bool retriable) {
  error e;
  e.code = code;
  e.message = std::move(message);
  e.retriable_ = retriable;
  return e;
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

}  // namespace

error map_kafka_error(rd_kafka_resp_err_t code, std::string_view context, bool client_fatal,
                      bool possibly_persisted) {
  std::string message = describe_code(code, context);
  if (client_fatal || code == RD_KAFKA_RESP_ERR__FATAL) {
    return make(errc::fatal, message + "; the client instance is unusable and must be recreated", false);
  }
  switch (code) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return make(errc::internal, message + "; mapped a success code as an error", false);
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      if (possibly_persisted) {
        message += "; status POSSIBLY_PERSISTED: the record may be in the log, a resend may duplicate it";
      }
      return make(errc::timeout, std::move(message), true);
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
      return make(errc::unavailable, std::move(message), true);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return make(errc::message_too_large, std::move(message), false);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return make(errc::authorization_failed, std::move(message), false);
    // Kafka classes an unknown topic as retriable: with auto-creation (or right after CreateTopics) the
    // metadata can lag behind, so the first use of a topic may see it for a while.
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      return make(errc::invalid_topic, std::move(message), true);
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return make(errc::invalid_topic, std::move(message), false);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return make(errc::queue_full, std::move(message), true);
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
      return make(errc::closed, std::move(message), false);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__INVALID_TYPE:
    case RD_KAFKA_RESP_ERR__CONFLICT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
      return make(errc::invalid_argument, std::move(message), false);
    case RD_KAFKA_RESP_ERR__STATE:
    case RD_KAFKA_RESP_ERR__UNKNOWN_GROUP:
      return make(errc::not_found, std::move(message), false);
    case RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
      return make(errc::broker_error, std::move(message), false);
    default:
      return make(errc::broker_error, std::move(message), broker_error_retriable(code));
  }
}

error map_kafka_error(const rd_kafka_error_t* err, std::string_view context) {
  const rd_kafka_resp_err_t code = rd_kafka_error_code(err);
  error e = map_kafka_error(code, context, rd_kafka_error_is_fatal(err) != 0);
  e.message += std::string(": ") + rd_kafka_error_string(err);
  // librdkafka knows better for the codes it flags itself (e.g. transactional abortable errors).
  if (e.code != errc::fatal && rd_kafka_error_is_retriable(err)) e.retriable_ = true;
  return e;
}

std::optional<rd_kafka_resp_err_t> kafka_error_from_name(std::string_view name) {
  static const std::unordered_map<std::string, rd_kafka_resp_err_t> by_name = [] {
    std::unordered_map<std::string, rd_kafka_resp_err_t> table;
    const rd_kafka_err_desc* descs = nullptr;
    size_t count = 0;
    rd_kafka_get_err_descs(&descs, &count);
    for (size_t i = 0; i < count; ++i) {
      if (descs[i].name == nullptr) continue;  // the table has holes between local and broker codes
      table.emplace(upper(descs[i].name), descs[i].code);
    }
    return table;
  }();
  std::string key = upper(name);
  constexpr std::string_view prefix = "RD_KAFKA_RESP_ERR_";
  if (key.size() > prefix.size() && key.compare(0, prefix.size(), prefix) == 0) key.erase(0, prefix.size());
  if (key.empty()) return std::nullopt;
  if (auto it = by_name.find(key); it != by_name.end()) return it->second;
  if (key.front() != '_') {
    if (auto it = by_name.find("_" + key); it != by_name.end()) return it->second;
  }
  return std::nullopt;
}

}  // namespace aw::events::kafka_detail
