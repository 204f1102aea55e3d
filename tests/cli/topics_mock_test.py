"""aw-events topics plan|apply against librdkafka's mock cluster (no CreateTopics/DescribeConfigs there):
what the plan derives from the catalog, the partition and replication-factor rules, and the failure paths.
Creating and altering for real is tested on Apache Kafka in tests/kafka_real/topics_real_test.py."""
import glob
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from awtest import MockKafka, run  # noqa: E402

CATALOG = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "catalog")
DAY_MS = 24 * 3600 * 1000


def expected_topics(strategy="per_service", default_partitions=6, deadletter_partitions=3):
    """The topics the catalog asks for, computed from the catalog files independently of the C++ code."""
    topics, services = {}, set()
    for path in glob.glob(os.path.join(CATALOG, "*", "*.json")):
        with open(path) as f:
            entry = json.load(f)
        parts = entry["type"].split(".")
        name = parts[0] if strategy == "per_service" else ".".join(parts[:2])
        override = entry.get("topic") or {}
        t = topics.setdefault(name, {"partitions": 0, "days": 0})
        t["partitions"] = max(t["partitions"], override.get("partitions", default_partitions))
        t["days"] = max(t["days"], override.get("retention_days", 7))
        services.add(entry["producer"])
        services.update(entry.get("consumers", []))
    for s in services:
        topics[f"{s}.deadletter"] = {"partitions": deadletter_partitions, "days": 30}
    return topics


def parse(lines):
    out = [json.loads(l) for l in lines]
    assert "summary" in out[-1], out[-1]
    return out[:-1], out[-1]["summary"]


class TopicsOnMock(unittest.TestCase):
    def test_plan_creates_everything_and_raises_partitions_loudly(self):
        mock = MockKafka(brokers=3, partitions=4, topics=["content"])
        try:
            code, lines, err = run(["topics", "plan", "--bootstrap-servers", mock.bootstrap, "--catalog", CATALOG,
                                    "--timeout-ms", "3000"])  # the mock never answers DescribeConfigs
        finally:
            mock.close()
        self.assertEqual(code, 0, err)
        rows, summary = parse(lines)
        want = expected_topics()
        creates = {r["topic"]: r for r in rows if r.get("action") == "create"}
        self.assertEqual(set(creates), set(want) - {"content"})
        for name, row in creates.items():
            self.assertEqual(row["partitions"], want[name]["partitions"], name)
            self.assertEqual(row["replication_factor"], 3)
            self.assertEqual(row["configs"], {"min.insync.replicas": "2", "retention.ms": str(want[name]["days"] * DAY_MS)}, name)
            self.assertTrue(row["sources"], name)
        self.assertEqual(creates["user.deadletter"]["configs"]["retention.ms"], str(30 * DAY_MS))
        self.assertEqual(creates["collaboration"]["partitions"], 24)
        self.assertEqual(creates["search"]["configs"]["retention.ms"], str(2 * DAY_MS))
        # The mock made `content` with 4 partitions; the catalog wants 12: add, never remove, warn loudly.
        adds = [r for r in rows if r.get("action") == "add_partitions"]
        self.assertEqual([(a["topic"], a["from"], a["to"]) for a in adds], [("content", 4, 12)])
        warn = [r for r in rows if r.get("warning") == "adding_partitions_moves_keys"]
        self.assertEqual(len(warn), 1)
        self.assertIn("moves most keys", warn[0]["message"])
        self.assertIn("moves most keys", err, "the key-moving warning must reach stderr too")
        # The mock cannot describe configs: said per topic, not silently skipped.
        self.assertTrue(any(r.get("warning") == "configs_unreadable" and r["topic"] == "content" for r in rows), rows)
        merged = [r for r in rows if r.get("warning") == "overrides_merged" and r["topic"] == "content"]
        self.assertEqual(len(merged), 1, rows)  # book.published asks 12 partitions, chapter.updated the default
        self.assertEqual(summary["brokers"], 3)
        self.assertEqual(summary["create"], len(want) - 1)
        self.assertEqual(summary["add_partitions"], 1)
        self.assertEqual(summary["errors"], 0)
        self.assertEqual(summary["topics"], len(want))

    def test_per_resource_strategy(self):
        mock = MockKafka(brokers=3)
        try:
            code, lines, err = run(["topics", "plan", "--bootstrap-servers", mock.bootstrap, "--catalog", CATALOG,
                                    "--strategy", "per_resource", "--default-partitions", "2"])
        finally:
            mock.close()
        self.assertEqual(code, 0, err)
        rows, summary = parse(lines)
        want = expected_topics("per_resource", default_partitions=2)
        creates = {r["topic"]: r["partitions"] for r in rows if r.get("action") == "create"}
        self.assertEqual(creates, {k: v["partitions"] for k, v in want.items()})
        self.assertIn("content.chapter", creates)
        self.assertEqual(creates["content.chapter"], 2)

    def test_replication_factor_above_brokers_is_refused(self):
        mock = MockKafka(brokers=1)
        try:
            code, lines, err = run(["topics", "apply", "--bootstrap-servers", mock.bootstrap, "--catalog", CATALOG],
                                   check=False)
        finally:
            mock.close()
        self.assertEqual(code, 1)
        rows, summary = parse(lines)
        self.assertTrue(any(r.get("error") == "replication_factor_above_brokers" for r in rows), rows)
        self.assertTrue(any(r.get("warning") == "fewer_than_3_brokers" for r in rows), rows)
        self.assertFalse(any("result" in r for r in rows), "nothing may be applied")
        self.assertEqual(summary["applied"], 0)
        self.assertIn("nothing applied", err)

    def test_small_cluster_override_warns(self):
        mock = MockKafka(brokers=1)
        try:
            code, lines, err = run(["topics", "plan", "--bootstrap-servers", mock.bootstrap, "--catalog", CATALOG,
                                    "--replication-factor", "1"])
        finally:
            mock.close()
        self.assertEqual(code, 0, err)
        rows, summary = parse(lines)
        creates = [r for r in rows if r.get("action") == "create"]
        self.assertTrue(creates)
        for r in creates:
            self.assertEqual(r["replication_factor"], 1)
            # min.insync.replicas above RF would refuse every acks=all write.
            self.assertEqual(r["configs"]["min.insync.replicas"], "1")
        below = {r["topic"] for r in rows if r.get("warning") == "replication_factor_below_3"}
        self.assertEqual(below, {r["topic"] for r in creates})

    def test_apply_reports_each_failure(self):
        # The mock has no CreateTopics: every create must come back failed, naming the broker's error.
        mock = MockKafka(brokers=3)
        try:
            code, lines, err = run(["topics", "apply", "--bootstrap-servers", mock.bootstrap, "--catalog", CATALOG,
                                    "--timeout-ms", "3000"], check=False, timeout=60)
        finally:
            mock.close()
        self.assertEqual(code, 1, err)
        rows, summary = parse(lines)
        results = [r for r in rows if "result" in r]
        self.assertEqual(len(results), len(expected_topics()))
        for r in results:
            self.assertEqual(r["result"], "failed", r)
            self.assertTrue(r["error"], r)
        self.assertEqual(summary["failed"], len(results))
        self.assertEqual(summary["applied"], 0)

    def test_usage_errors(self):
        code, _, err = run(["topics", "plan", "--catalog", CATALOG], check=False)
        self.assertEqual(code, 2)
        self.assertIn("--bootstrap-servers", err)
        code, _, err = run(["topics", "plan", "--bootstrap-servers", "127.0.0.1:1"], check=False)
        self.assertEqual(code, 2)
        self.assertIn("--catalog", err)
        code, _, err = run(["topics", "plan", "--bootstrap-servers", "127.0.0.1:1", "--catalog", CATALOG,
                            "--replication-factor", "0"], check=False)
        self.assertEqual(code, 2)
        code, _, err = run(["topics", "plan", "--bootstrap-servers", "127.0.0.1:1", "--catalog", CATALOG,
                            "--strategy", "per_galaxy"], check=False)
        self.assertEqual(code, 2)

    def test_unreachable_cluster_fails_clearly(self):
        code, lines, err = run(["topics", "plan", "--bootstrap-servers", "127.0.0.1:1", "--catalog", CATALOG,
                                "--timeout-ms", "1500"], check=False, timeout=60)
        self.assertEqual(code, 1)
        self.assertIn("metadata", err)
        self.assertIn("127.0.0.1:1", err)

    def test_bad_catalog_fails_with_location(self):
        code, lines, err = run(["topics", "plan", "--bootstrap-servers", "127.0.0.1:1", "--catalog", "/nonexistent/catalog"],
                               check=False)
        self.assertEqual(code, 1)
        self.assertIn("/nonexistent/catalog", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
