#include "transport/kafka/kafka_errors.hpp"

#include <gtest/gtest.h>

#include "transport/kafka/rdkafka_handles.hpp"

namespace aw::events::kafka_detail {
namespace {

TEST(kafka_errors, timeouts_are_retriable_and_name_possibly_persisted) {
  auto e = map_kafka_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "deliver to topic 't'", false, true);
  EXPECT_EQ(e.code, errc::timeout);
  EXPECT_TRUE(e.retriable());
  EXPECT_NE(e.message.find("POSSIBLY_PERSISTED"), std::string::npos);
  EXPECT_NE(e.message.find("deliver to topic 't'"), std::string::npos);
  EXPECT_NE(e.message.find("_MSG_TIMED_OUT"), std::string::npos);

  auto plain = map_kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT, "x");
  EXPECT_EQ(plain.code, errc::timeout);
  EXPECT_EQ(plain.message.find("POSSIBLY_PERSISTED"), std::string::npos);
}

TEST(kafka_errors, connection_loss_is_unavailable_and_retriable) {
  for (auto code : {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN}) {
    auto e = map_kafka_error(code, "x");
    EXPECT_EQ(e.code, errc::unavailable) << rd_kafka_err2name(code);
    EXPECT_TRUE(e.retriable());
  }
}

TEST(kafka_errors, permanent_classes) {
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x").code, errc::message_too_large);
  EXPECT_FALSE(map_kafka_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, "x").retriable());
  auto auth = map_kafka_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "x");
  EXPECT_EQ(auth.code, errc::authorization_failed);
  EXPECT_FALSE(auth.retriable());
  auto invalid = map_kafka_error(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, "x");
  EXPECT_EQ(invalid.code, errc::invalid_topic);
  EXPECT_FALSE(invalid.retriable());
}

TEST(kafka_errors, unknown_topic_is_invalid_topic_but_retriable_while_auto_creation_catches_up) {
  for (auto code : {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC}) {
    auto e = map_kafka_error(code, "x");
    EXPECT_EQ(e.code, errc::invalid_topic);
    EXPECT_TRUE(e.retriable());
  }
}

TEST(kafka_errors, fatal_client_wins_over_the_code) {
  auto e = map_kafka_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x", true);
  EXPECT_EQ(e.code, errc::fatal);
  EXPECT_FALSE(e.retriable());
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__FATAL, "x").code, errc::fatal);
}

TEST(kafka_errors, other_broker_errors_follow_kafkas_retriable_classes) {
  auto leader = map_kafka_error(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, "x");
  EXPECT_EQ(leader.code, errc::broker_error);
  EXPECT_TRUE(leader.retriable());
  auto replicas = map_kafka_error(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, "x");
  EXPECT_TRUE(replicas.retriable());
  auto sequence = map_kafka_error(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "x");
  EXPECT_EQ(sequence.code, errc::broker_error);
  EXPECT_FALSE(sequence.retriable());
}

TEST(kafka_errors, local_conditions) {
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x").code, errc::queue_full);
  EXPECT_TRUE(map_kafka_error(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x").retriable());
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__PURGE_QUEUE, "x").code, errc::closed);
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, "x").code, errc::closed);
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__STATE, "x").code, errc::not_found);
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG, "x").code, errc::invalid_argument);
  EXPECT_EQ(map_kafka_error(RD_KAFKA_RESP_ERR_NO_ERROR, "x").code, errc::internal);
}

TEST(kafka_errors, rich_error_object_keeps_its_flags) {
  error_ptr timed_out(rd_kafka_error_new(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "boom"));
  auto e = map_kafka_error(timed_out.get(), "op");
  EXPECT_EQ(e.code, errc::timeout);
  EXPECT_NE(e.message.find("boom"), std::string::npos);
}

TEST(kafka_errors, error_names_resolve_as_librdkafka_spells_them) {
  EXPECT_EQ(kafka_error_from_name("NOT_LEADER_FOR_PARTITION"), RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  EXPECT_EQ(kafka_error_from_name("not_leader_for_partition"), RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  EXPECT_EQ(kafka_error_from_name("RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION"),
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  EXPECT_EQ(kafka_error_from_name("_TRANSPORT"), RD_KAFKA_RESP_ERR__TRANSPORT);
  EXPECT_EQ(kafka_error_from_name("TRANSPORT"), RD_KAFKA_RESP_ERR__TRANSPORT);
  EXPECT_EQ(kafka_error_from_name("RD_KAFKA_RESP_ERR__TRANSPORT"), RD_KAFKA_RESP_ERR__TRANSPORT);
  EXPECT_EQ(kafka_error_from_name("REQUEST_TIMED_OUT"), RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
  EXPECT_FALSE(kafka_error_from_name("NOT_A_KAFKA_ERROR"));
  EXPECT_FALSE(kafka_error_from_name(""));
  EXPECT_FALSE(kafka_error_from_name("RD_KAFKA_RESP_ERR_"));
}

}  // namespace
}  // namespace aw::events::kafka_detail
