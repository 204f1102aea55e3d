// Every librdkafka handle we hold, owned by a std::unique_ptr with a one-line deleter (one file, so a
// reader sees all lifetimes at once). Internal: never include from a public header.
#pragma once

#include <memory>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace aw::events::kafka_detail {

struct conf_deleter { void operator()(rd_kafka_conf_t* p) const noexcept { rd_kafka_conf_destroy(p); } };
struct handle_deleter { void operator()(rd_kafka_t* p) const noexcept { rd_kafka_destroy(p); } };
struct topic_deleter { void operator()(rd_kafka_topic_t* p) const noexcept { rd_kafka_topic_destroy(p); } };
struct metadata_deleter { void operator()(const rd_kafka_metadata_t* p) const noexcept { rd_kafka_metadata_destroy(p); } };
struct partition_list_deleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const noexcept { rd_kafka_topic_partition_list_destroy(p); }
};
struct headers_deleter { void operator()(rd_kafka_headers_t* p) const noexcept { rd_kafka_headers_destroy(p); } };
struct message_deleter { void operator()(rd_kafka_message_t* p) const noexcept { rd_kafka_message_destroy(p); } };
struct error_deleter { void operator()(rd_kafka_error_t* p) const noexcept { rd_kafka_error_destroy(p); } };
struct queue_deleter { void operator()(rd_kafka_queue_t* p) const noexcept { rd_kafka_queue_destroy(p); } };
struct event_deleter { void operator()(rd_kafka_event_t* p) const noexcept { rd_kafka_event_destroy(p); } };
struct admin_options_deleter {
  void operator()(rd_kafka_AdminOptions_t* p) const noexcept { rd_kafka_AdminOptions_destroy(p); }
};
struct new_topic_deleter { void operator()(rd_kafka_NewTopic_t* p) const noexcept { rd_kafka_NewTopic_destroy(p); } };
struct mock_cluster_deleter {
  void operator()(rd_kafka_mock_cluster_t* p) const noexcept { rd_kafka_mock_cluster_destroy(p); }
};

using conf_ptr = std::unique_ptr<rd_kafka_conf_t, conf_deleter>;
using handle_ptr = std::unique_ptr<rd_kafka_t, handle_deleter>;
using topic_ptr = std::unique_ptr<rd_kafka_topic_t, topic_deleter>;
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;
using partition_list_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, partition_list_deleter>;
using headers_ptr = std::unique_ptr<rd_kafka_headers_t, headers_deleter>;
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;
using queue_ptr = std::unique_ptr<rd_kafka_queue_t, queue_deleter>;
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;
using admin_options_ptr = std::unique_ptr<rd_kafka_AdminOptions_t, admin_options_deleter>;
using new_topic_ptr = std::unique_ptr<rd_kafka_NewTopic_t, new_topic_deleter>;
using mock_cluster_ptr = std::unique_ptr<rd_kafka_mock_cluster_t, mock_cluster_deleter>;

}  // namespace aw::events::kafka_detail
