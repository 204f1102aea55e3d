"""`aw-events topics plan|apply` on real Apache Kafka with examples/catalog: creates every topic with RF 3,
min.insync.replicas 2 and the retention the catalog asks for; raises partitions with a warning; repairs
config drift while keeping configs it does not manage; a second plan is empty; RF above the brokers is
refused. Checked with Kafka's own ConfigCommand (org.apache.kafka.tools) and kcat metadata, not with aw-events."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import kafkareal as kr  # noqa: E402
from awtest import run  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from topics_mock_test import DAY_MS, expected_topics  # noqa: E402


def kafka_java(*args):
    proc = subprocess.run(["java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", kr.jar_dir() + "/*"] +
                          list(args), capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"{args[0]} failed: {proc.stderr}{proc.stdout}")
    return proc.stdout


def topic_configs():
    """{topic: {key: value}} of the dynamic topic configs, as Kafka's ConfigCommand reports them."""
    out = kafka_java("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", kr.bootstrap(), "--entity-type", "topics",
                     "--describe")
    configs, current = {}, None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Dynamic configs for topic"):
            current = line.split("topic", 1)[1].split()[0]
            configs[current] = {}
        elif current and "=" in line and line.split("=", 1)[0] and " " not in line.split("=", 1)[0]:
            key, rest = line.split("=", 1)
            configs[current][key] = rest.split(" ", 1)[0]
    return configs


def topics_cmd(mode, *extra, check=True):
    code, lines, err = run(["topics", mode, "--bootstrap-servers", kr.bootstrap(), "--catalog", kr.CATALOG] + list(extra),
                           check=check, timeout=180)
    rows = [json.loads(l) for l in lines]
    return code, rows[:-1], rows[-1]["summary"], err


class TopicsOnRealKafka(unittest.TestCase):
    def test_provisioning_cycle(self):
        want = expected_topics()
        # A topic that already exists with too few partitions (made by someone else).
        kafka_java("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", kr.bootstrap(), "--create",
                   "--if-not-exists", "--topic", "user", "--partitions", "2", "--replication-factor", "3")
        kr.wait_topic("user", 2)

        code, rows, summary, err = topics_cmd("plan")
        self.assertEqual(code, 0, err)
        self.assertEqual(summary["brokers"], 3)
        self.assertEqual({r["topic"] for r in rows if r.get("action") == "create"}, set(want) - {"user"})
        self.assertEqual([(r["topic"], r["from"], r["to"]) for r in rows if r.get("action") == "add_partitions"],
                         [("user", 2, 12)])
        self.assertIn("moves most keys", err)
        # `user` was created with the broker defaults: retention 7 days, but min.insync.replicas 2 comes from
        # this cluster's broker config; retention 14 days is what the catalog asks, so it must be altered.
        alters = {r["topic"]: r for r in rows if r.get("action") == "alter_config"}
        self.assertEqual(alters["user"]["changes"]["retention.ms"], {"current": str(7 * DAY_MS), "wanted": str(14 * DAY_MS)})

        code, rows, summary, err = topics_cmd("apply")
        self.assertEqual(code, 0, err)
        results = [r for r in rows if "result" in r]
        self.assertTrue(results)
        self.assertEqual([r for r in results if r["result"] != "ok"], [])
        self.assertEqual(summary["failed"], 0)

        for name, spec in want.items():
            parts = kr.wait_topic(name, spec["partitions"])
            for p in parts:
                self.assertEqual(len(p["replicas"]), 3, (name, p))
        configs = topic_configs()
        for name, spec in want.items():
            self.assertEqual(configs[name].get("retention.ms"), str(spec["days"] * DAY_MS), name)
            self.assertEqual(configs[name].get("min.insync.replicas"), "2", name)

        # Nothing left to do.
        code, rows, summary, err = topics_cmd("plan")
        self.assertEqual(code, 0, err)
        self.assertEqual([r for r in rows if "action" in r], [])
        self.assertEqual(summary["unchanged"], len(want))

        # Drift: someone shortens retention and adds a config we do not manage.
        kafka_java("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", kr.bootstrap(), "--entity-type", "topics",
                   "--entity-name", "search", "--alter", "--add-config", "retention.ms=1000,max.message.bytes=2000000")
        code, rows, summary, err = topics_cmd("plan")
        alters = [r for r in rows if r.get("action") == "alter_config"]
        self.assertEqual(len(alters), 1, rows)
        self.assertEqual(alters[0]["topic"], "search")
        self.assertEqual(alters[0]["changes"], {"retention.ms": {"current": "1000", "wanted": str(2 * DAY_MS)}})
        self.assertEqual(alters[0]["configs"]["max.message.bytes"], "2000000")
        code, rows, summary, err = topics_cmd("apply")
        self.assertEqual(code, 0, err)
        search = topic_configs()["search"]
        self.assertEqual(search["retention.ms"], str(2 * DAY_MS))
        self.assertEqual(search["max.message.bytes"], "2000000", "a config we do not manage was lost")
        self.assertEqual(search["min.insync.replicas"], "2")

    def test_replication_factor_above_brokers_is_refused(self):
        code, rows, summary, err = topics_cmd("apply", "--replication-factor", "4", check=False)
        self.assertEqual(code, 1)
        self.assertTrue(any(r.get("error") == "replication_factor_above_brokers" for r in rows), rows)
        self.assertEqual(summary["applied"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
