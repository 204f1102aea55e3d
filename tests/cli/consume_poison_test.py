"""Poison records injected raw (`publish --raw`) on the embedded store and on `aw-events mock-kafka`: each one is
in `search.deadletter` after exactly one attempt, with its original bytes and a precise error, and the events
after it are processed."""
import base64
import copy
import json
import os
import subprocess
import unittest
import uuid

import awtest

CATALOG = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "catalog")
SAMPLE = json.load(open(os.path.join(CATALOG, "content", "book.published.v1.json")))["sample"]
BIG = ["-X", "message.max.bytes=12000000", "-X", "receive.message.max.bytes=60000000"]


def envelope(**changes):
    event = copy.deepcopy(SAMPLE)
    event["meta"]["id"] = str(uuid.uuid4())
    for path, value in changes.items():
        target, keys = event, path.split("__")
        for k in keys[:-1]:
            target = target[k]
        if value is None:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
    return json.dumps(event).encode()


def poison_cases():
    """(name, bytes, expected error code)."""
    extra = json.loads(envelope())
    extra["extra"] = 1
    return [
        ("malformed_json", b'{"meta":', "invalid_json"),
        ("invalid_utf8", b'{"meta":{},"data":{"t":"\xff\xfe"}}', "invalid_json"),
        ("json_array", b"[1,2,3]", "invalid_envelope"),
        ("empty_object", b"{}", "invalid_envelope"),
        ("bad_id", envelope(meta__id="not-a-uuid"), "invalid_envelope"),
        ("bad_type", envelope(meta__type="Content.Book"), "invalid_envelope"),
        ("bad_version", envelope(meta__version="1"), "invalid_envelope"),
        ("bad_timestamp", envelope(meta__timestamp="2024-06-01 08:00:00"), "invalid_envelope"),
        ("no_correlation_id", envelope(meta__correlation_id=None), "invalid_envelope"),
        ("zero_trace", envelope(meta__trace_context={"trace_id": "0" * 32, "span_id": "0" * 16}), "invalid_envelope"),
        ("data_not_object", envelope(data=[1]), "invalid_envelope"),
        ("extra_top_level_member", json.dumps(extra).encode(), "invalid_envelope"),
        ("schema_violation", envelope(data__isbn="12"), "schema_violation"),
        ("unknown_type", envelope(meta__type="content.book.vanished"), "unknown_event_type"),
        ("unsupported_version", envelope(meta__version="9.0"), "unsupported_version"),
        ("empty_value", b"", "invalid_json"),
        ("two_megabytes", b'{"blob":"' + b"a" * (2 * 1024 * 1024) + b'"}', "invalid_envelope"),
    ]


def publish_raw(globals_, topic, key, value):
    proc = subprocess.run([awtest.BIN] + globals_ + ["publish", "--raw", "--topic", topic, "--key", key], input=value,
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"publish --raw {key}: {proc.stderr.decode(errors='replace')}")


class ConsumePoison:
    globals = []

    def run_poison(self):
        cases = poison_cases()
        for name, value, _ in cases:
            publish_raw(self.globals, "content", "poison-" + name, value)
        good = envelope()
        publish_raw(self.globals, "content", "good-1", good)
        _, lines, err = awtest.run(self.globals + ["--catalog", CATALOG, "--service", "search", "consume", "--group",
                                                   "indexer", "--type", "content.book.published", "--idle-exit", "5",
                                                   "--retry-initial-ms", "1"], timeout=180)
        processed = [json.loads(l) for l in lines]
        self.assertEqual([e["meta"]["id"] for e in processed], [json.loads(good)["meta"]["id"]], err[-2000:])

        _, dead_lines, _ = awtest.run(self.globals + ["tail", "--topic", "search.deadletter", "--from-beginning",
                                                      "--idle-exit", "5"], timeout=180)
        dead = [json.loads(l) for l in dead_lines]
        by_key = {d["data"]["original"]["key"]: d for d in dead}
        self.assertEqual(len(dead), len(cases), sorted(by_key))
        for name, value, code in cases:
            d = by_key["poison-" + name]
            self.assertEqual(d["meta"]["type"], "search.deadletter.recorded")
            self.assertEqual(d["_record"]["key"], "poison-" + name, "keyed like the original")
            data = d["data"]
            self.assertEqual(base64.b64decode(data["original"]["value_base64"]), value, name)
            self.assertEqual(data["original"]["topic"], "content")
            self.assertEqual(data["attempts"], 1, name)
            self.assertEqual(data["error"]["class"], "permanent")
            self.assertEqual(data["error"]["code"], code, f"{name}: {data['error']}")
            self.assertTrue(data["error"]["message"], name)
            self.assertEqual(data["consumer"]["group"], "indexer")
            if code in ("invalid_envelope", "schema_violation"):
                self.assertTrue(data["error"]["details"], f"{name}: details name where")
            print(f"{self.__class__.__name__} {name}: {len(value)} bytes -> {code}: "
                  f"{data['error']['message'][:100]}")
        schema = by_key["poison-schema_violation"]["data"]["error"]["details"]
        self.assertIn("/data/isbn", [x["instanceLocation"] for x in schema])
        print(f"{self.__class__.__name__}: {len(cases)} poison records dead-lettered after 1 attempt each, "
              f"{len(processed)} good event processed")


class EmbeddedPoison(ConsumePoison, unittest.TestCase):
    def test_poison_is_dead_lettered_once_with_original_bytes(self):
        scratch = awtest.scratch_dir("consume-poison-embedded")
        self.globals = ["--store", os.path.join(scratch, "events.db")]
        self.run_poison()
        # The ledger next to the store knows the schema violation as dead-lettered.
        _, status, _ = awtest.run(self.globals + ["status", "--correlation-id", SAMPLE["meta"]["correlation_id"]])
        states = {json.loads(l)["state"] for l in status}
        self.assertIn("dead_lettered", states)
        self.assertIn("succeeded", states)


class MockKafkaPoison(ConsumePoison, unittest.TestCase):
    def test_poison_is_dead_lettered_once_with_original_bytes(self):
        scratch = awtest.scratch_dir("consume-poison-kafka")
        cluster = awtest.MockKafka(brokers=1, partitions=3, topics=["content", "search.deadletter"])
        try:
            self.globals = ["--bootstrap-servers", cluster.bootstrap, "--store", os.path.join(scratch, "events.db")] + BIG
            self.run_poison()
        finally:
            cluster.close()


if __name__ == "__main__":
    unittest.main()
