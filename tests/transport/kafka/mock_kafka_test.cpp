#include "aw/events/transport/mock_kafka.hpp"

#include <gtest/gtest.h>

namespace aw::events {
namespace {

class mock_kafka_control : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = mock_kafka_cluster::start({3, 2});
    ASSERT_TRUE(started) << started.error().describe();
    cluster = std::move(*started).release();
    ASSERT_TRUE(cluster->create_topic("control-topic", 2));
  }
  static void TearDownTestSuite() {
    delete cluster;
    cluster = nullptr;
  }
  static bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
  static mock_kafka_cluster* cluster;
};
mock_kafka_cluster* mock_kafka_control::cluster = nullptr;

TEST_F(mock_kafka_control, reports_three_loopback_brokers) {
  EXPECT_EQ(cluster->broker_count(), 3);
  const auto servers = cluster->bootstrap_servers();
  EXPECT_EQ(std::count(servers.begin(), servers.end(), ','), 2) << servers;
  EXPECT_NE(servers.find("127.0.0.1:"), std::string::npos) << servers;
}

TEST_F(mock_kafka_control, accepts_every_documented_command) {
  EXPECT_EQ(cluster->apply_control_line("down 2"), "ok");
  EXPECT_EQ(cluster->apply_control_line("up 2"), "ok");
  EXPECT_EQ(cluster->apply_control_line("down all"), "ok");
  EXPECT_EQ(cluster->apply_control_line("up all"), "ok");
  EXPECT_EQ(cluster->apply_control_line("rtt 1 25"), "ok");
  EXPECT_EQ(cluster->apply_control_line("rtt all 0"), "ok");
  EXPECT_EQ(cluster->apply_control_line("error Produce 5 NOT_LEADER_FOR_PARTITION"), "ok");
  EXPECT_EQ(cluster->apply_control_line("error 3 1 _TRANSPORT"), "ok");
  EXPECT_EQ(cluster->apply_control_line("error fetch 2 REQUEST_TIMED_OUT"), "ok");
  EXPECT_EQ(cluster->apply_control_line("leader control-topic 1 3"), "ok");
  EXPECT_EQ(cluster->apply_control_line("  leader\tcontrol-topic 0   2  "), "ok");
  // A topic not used yet is created with the cluster's default partitions (2 here), as on first use.
  EXPECT_EQ(cluster->apply_control_line("leader new-topic 1 1"), "ok");
}

TEST_F(mock_kafka_control, refuses_bad_lines_with_a_reason) {
  struct bad_line {
    std::string line;
    std::string_view expected_fragment;
  };
  const std::vector<bad_line> cases = {
      {"", "empty"},
      {"   ", "empty"},
      {"reboot 1", "unknown command 'reboot'"},
      {"DOWN 1", "unknown command 'DOWN'"},
      {"down", "takes 1 argument"},
      {"down 1 2", "takes 1 argument"},
      {"down x", "bad broker id 'x'"},
      {"down 4", "unknown broker id 4"},
      {"up 0", "unknown broker id 0"},
      {"down -1", "unknown broker id -1"},
      {"rtt 1", "takes 2 argument"},
      {"rtt 1 -5", "bad rtt '-5'"},
      {"rtt 1 fast", "bad rtt 'fast'"},
      {"rtt 9 10", "unknown broker id 9"},
      {"error Produce 5", "takes 3 argument"},
      {"error Produce five NOT_LEADER_FOR_PARTITION", "bad count 'five'"},
      {"error Produce 0 NOT_LEADER_FOR_PARTITION", "count must be"},
      {"error Produce 5 NOT_A_REAL_ERROR", "unknown librdkafka error name 'NOT_A_REAL_ERROR'"},
      {"error Teleport 5 NOT_LEADER_FOR_PARTITION", "unknown API 'Teleport'"},
      {"error -3 5 NOT_LEADER_FOR_PARTITION", "unknown API '-3'"},
      {"leader control-topic 0", "takes 3 argument"},
      {"leader control-topic x 1", "bad partition 'x'"},
      {"leader control-topic 0 all", "bad broker id 'all'"},
      {"leader control-topic 0 7", "unknown broker id 7"},
      {"leader control-topic 9 1", "no partition 9"},
      {"leader fresh-topic 2 1", "no partition 2 of topic 'fresh-topic'"},
      {"leader control-topic -1 1", "partition must be >= 0"},
  };
  for (const auto& c : cases) {
    const auto reply = cluster->apply_control_line(c.line);
    EXPECT_TRUE(starts_with(reply, "error: ")) << "line '" << c.line << "' got " << reply;
    EXPECT_NE(reply.find(c.expected_fragment), std::string::npos) << "line '" << c.line << "' got " << reply;
  }
}

TEST_F(mock_kafka_control, direct_calls_validate_like_the_parser) {
  EXPECT_EQ(cluster->broker_down(5).error().code, errc::invalid_argument);
  EXPECT_EQ(cluster->broker_rtt(1, -1).error().code, errc::invalid_argument);
  EXPECT_EQ(cluster->push_request_errors("Produce", 1, "nope").error().code, errc::invalid_argument);
  EXPECT_EQ(cluster->set_partition_leader("control-topic", 5, 1).error().code, errc::not_found);
  EXPECT_EQ(cluster->create_topic("", 1).error().code, errc::invalid_argument);
  EXPECT_EQ(cluster->create_topic("t", 0).error().code, errc::invalid_argument);
  // An existing topic keeps its partitions and is not an error.
  EXPECT_TRUE(cluster->create_topic("control-topic", 5));
}

TEST(mock_kafka_start, refuses_bad_options) {
  EXPECT_EQ(mock_kafka_cluster::start({0, 3}).error().code, errc::invalid_argument);
  EXPECT_EQ(mock_kafka_cluster::start({3, 0}).error().code, errc::invalid_argument);
  auto e = mock_kafka_cluster::start({100, 3}).error();
  EXPECT_NE(e.message.find("brokers"), std::string::npos);
}

}  // namespace
}  // namespace aw::events
