// The pure part of `aw-events topics`: compute_plan's rules, without a broker (label unit).
#include <gtest/gtest.h>

#include "transport/kafka/kafka_admin.hpp"

namespace ka = aw::events::kafka_admin;

namespace {

ka::topic_spec spec(const std::string& name, int partitions, int rf = 3, const std::string& retention = "604800000") {
  ka::topic_spec s;
  s.name = name;
  s.partitions = partitions;
  s.replication_factor = rf;
  s.configs = {{"min.insync.replicas", "2"}, {"retention.ms", retention}};
  s.sources = {"content.book.published.v1"};
  return s;
}

ka::topic_state existing(int partitions, int rf, std::map<std::string, std::string> effective,
                         std::map<std::string, std::string> dynamic = {}) {
  ka::topic_state t;
  t.partitions = partitions;
  t.replication_factor = rf;
  t.effective = std::move(effective);
  t.dynamic = std::move(dynamic);
  t.configs_known = true;
  return t;
}

bool has_notice(const ka::plan& p, const std::string& level, const std::string& code, const std::string& topic = "") {
  for (const auto& n : p.notices) {
    if (n.level == level && n.code == code && (topic.empty() || n.topic == topic)) return true;
  }
  return false;
}

TEST(TopicPlan, MissingTopicsAreCreatedWithTheirConfigs) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  const auto p = ka::compute_plan({spec("content", 12)}, cluster);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, ka::action_kind::create);
  EXPECT_EQ(p.actions[0].partitions, 12);
  EXPECT_EQ(p.actions[0].replication_factor, 3);
  EXPECT_EQ(p.actions[0].configs.at("min.insync.replicas"), "2");
  EXPECT_TRUE(p.notices.empty());
  EXPECT_FALSE(p.has_errors());
}

TEST(TopicPlan, InSyncTopicIsUnchanged) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  cluster.topics["content"] = existing(12, 3, {{"min.insync.replicas", "2"}, {"retention.ms", "604800000"}});
  const auto p = ka::compute_plan({spec("content", 12)}, cluster);
  EXPECT_TRUE(p.actions.empty());
  EXPECT_EQ(p.unchanged, 1);
}

TEST(TopicPlan, PartitionsAreRaisedWithAWarningAndNeverLowered) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  const std::map<std::string, std::string> ok = {{"min.insync.replicas", "2"}, {"retention.ms", "604800000"}};
  cluster.topics["content"] = existing(4, 3, ok);
  cluster.topics["user"] = existing(24, 3, ok);
  const auto p = ka::compute_plan({spec("content", 12), spec("user", 12)}, cluster);
  ASSERT_EQ(p.actions.size(), 1u);
  EXPECT_EQ(p.actions[0].kind, ka::action_kind::add_partitions);
  EXPECT_EQ(p.actions[0].topic, "content");
  EXPECT_EQ(p.actions[0].current_partitions, 4);
  EXPECT_EQ(p.actions[0].partitions, 12);
  EXPECT_TRUE(has_notice(p, "warning", "adding_partitions_moves_keys", "content"));
  EXPECT_TRUE(has_notice(p, "warning", "more_partitions_than_catalog", "user"));
  EXPECT_EQ(p.unchanged, 1);  // user: nothing we may do
}

TEST(TopicPlan, ConfigDriftKeepsUnmanagedDynamicConfigs) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  cluster.topics["search"] =
      existing(6, 3, {{"min.insync.replicas", "1"}, {"retention.ms", "1000"}, {"max.message.bytes", "2000000"}},
               {{"retention.ms", "1000"}, {"max.message.bytes", "2000000"}});
  const auto p = ka::compute_plan({spec("search", 6, 3, "172800000")}, cluster);
  ASSERT_EQ(p.actions.size(), 1u);
  const auto& a = p.actions[0];
  EXPECT_EQ(a.kind, ka::action_kind::alter_config);
  ASSERT_EQ(a.changes.size(), 2u);
  EXPECT_EQ(a.changes.at("retention.ms"), std::make_pair(std::string("1000"), std::string("172800000")));
  EXPECT_EQ(a.changes.at("min.insync.replicas"), std::make_pair(std::string("1"), std::string("2")));
  // AlterConfigs replaces the whole dynamic set: what we do not manage must be sent back unchanged.
  EXPECT_EQ(a.configs.at("max.message.bytes"), "2000000");
  EXPECT_EQ(a.configs.at("retention.ms"), "172800000");
  EXPECT_EQ(a.configs.at("min.insync.replicas"), "2");
}

TEST(TopicPlan, ReplicationFactorAboveBrokersIsAnError) {
  ka::cluster_state cluster;
  cluster.brokers = 2;
  const auto p = ka::compute_plan({spec("content", 3)}, cluster);
  EXPECT_TRUE(p.has_errors());
  EXPECT_TRUE(has_notice(p, "error", "replication_factor_above_brokers"));
  EXPECT_TRUE(has_notice(p, "warning", "fewer_than_3_brokers"));
}

TEST(TopicPlan, LowReplicationFactorAndDifferingReplicationAreWarnings) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  cluster.topics["content"] = existing(3, 1, {{"min.insync.replicas", "1"}, {"retention.ms", "604800000"}});
  auto wanted = spec("content", 3, 1);
  wanted.configs["min.insync.replicas"] = "1";
  auto p = ka::compute_plan({wanted}, cluster);
  EXPECT_FALSE(p.has_errors());
  EXPECT_TRUE(has_notice(p, "warning", "replication_factor_below_3", "content"));
  p = ka::compute_plan({spec("content", 3)}, cluster);
  EXPECT_TRUE(has_notice(p, "warning", "replication_factor_differs", "content"));
}

TEST(TopicPlan, UnreadableConfigsAreSaidNotSkipped) {
  ka::cluster_state cluster;
  cluster.brokers = 3;
  ka::topic_state t;
  t.partitions = 12;
  t.replication_factor = 3;
  t.configs_error = "UNSUPPORTED_VERSION";
  cluster.topics["content"] = t;
  const auto p = ka::compute_plan({spec("content", 12)}, cluster);
  EXPECT_TRUE(p.actions.empty());
  ASSERT_TRUE(has_notice(p, "warning", "configs_unreadable", "content"));
  for (const auto& n : p.notices) {
    if (n.code == "configs_unreadable") EXPECT_NE(n.message.find("UNSUPPORTED_VERSION"), std::string::npos);
  }
}

}  // namespace
