"""mock-kafka → publish --jsonl (1000 events, 50 keys) → read back by `tail` and by kcat (an independent client)."""
import json
import shutil
import subprocess
import unittest

import awtest

PARTITIONS = 6


class MockKafkaRoundtrip(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = awtest.MockKafka(brokers=3, partitions=PARTITIONS, topics=["content"])
        cls.globals = ["--bootstrap-servers", cls.cluster.bootstrap]
        _, lines, _ = awtest.run(cls.globals + ["publish", "--type", "content.book.published", "--jsonl"],
                                 stdin=awtest.jsonl_events(1000, 50))
        cls.published = [json.loads(l) for l in lines]

    @classmethod
    def tearDownClass(cls):
        cls.cluster.close()

    def test_every_event_acknowledged_in_input_order(self):
        self.assertEqual(len(self.published), 1000)
        for receipt in self.published:
            self.assertEqual(receipt["topic"], "content")
            self.assertIn(receipt["partition"], range(PARTITIONS))
            self.assertGreaterEqual(receipt["offset"], 0)

    def test_tail_reads_back_all_events_in_key_order(self):
        _, lines, _ = awtest.run(self.globals + ["tail", "--topic", "content", "--from-beginning", "--max", "1000",
                                                 "--idle-exit", "20"])
        records = []
        for line in lines:
            obj = json.loads(line)
            rec = obj.pop("_record")
            records.append((obj, rec["headers"], rec["key"], rec["partition"], rec["offset"]))
        awtest.check_roundtrip(self, self.published, records, PARTITIONS)

    @unittest.skipUnless(shutil.which("kcat"), "kcat not installed")
    def test_kcat_reads_back_all_events_in_key_order(self):
        out = subprocess.run(["kcat", "-b", self.cluster.bootstrap, "-C", "-t", "content", "-o", "beginning", "-e",
                              "-J", "-q"], capture_output=True, text=True, timeout=60, check=True).stdout
        records = []
        for line in out.splitlines():
            msg = json.loads(line)
            raw = msg["headers"] or []
            headers = dict(zip(raw[0::2], raw[1::2]))
            records.append((json.loads(msg["payload"]), headers, msg["key"], msg["partition"], msg["offset"]))
        awtest.check_roundtrip(self, self.published, records, PARTITIONS)
        # The envelope checker of aw-events agrees with every record kcat saw.
        payloads = "\n".join(json.dumps(r[0]) for r in records) + "\n"
        _, verdicts, _ = awtest.run(["envelope", "check"], stdin=payloads)
        self.assertEqual(verdicts, ['{"valid":true}'] * len(records))

    def test_tail_by_type_filters_other_types(self):
        # Its own topic ("studio"), so the 1000-event topic stays exactly as published.
        awtest.run(self.globals + ["publish", "--type", "studio.chapter.updated", "--key", "ch-1",
                                   "--data", '{"chapter_id":"ch-1"}'])
        awtest.run(self.globals + ["publish", "--type", "studio.chapter.deleted", "--key", "ch-1",
                                   "--data", '{"chapter_id":"ch-1"}'])
        _, lines, _ = awtest.run(self.globals + ["tail", "--type", "studio.chapter.updated", "--from-beginning",
                                                 "--idle-exit", "5"])
        self.assertEqual(len(lines), 1)
        self.assertEqual(json.loads(lines[0])["meta"]["type"], "studio.chapter.updated")

    def test_control_lines(self):
        self.assertEqual(self.cluster.control("rtt all 0"), "ok")
        self.assertEqual(self.cluster.control("down 2"), "ok")
        self.assertEqual(self.cluster.control("up 2"), "ok")
        self.assertTrue(self.cluster.control("down 99").startswith("error: "))
        self.assertTrue(self.cluster.control("frobnicate").startswith("error: "))
        self.assertEqual(self.cluster.control("error Produce 2 NOT_LEADER_FOR_PARTITION"), "ok")
        # The injected errors are retried inside the client: the event still lands once.
        _, lines, _ = awtest.run(self.globals + ["publish", "--type", "audit.book.published", "--key", "b-x",
                                                 "--data", '{"book_id":"b-x"}'])
        self.assertEqual(json.loads(lines[0])["topic"], "audit")
        self.assertEqual(self.cluster.control("topic orders 12"), "ok")
        self.assertTrue(self.cluster.control("topic orders 12").startswith("error: "))


if __name__ == "__main__":
    unittest.main(verbosity=2)
