"""Cross-client interop on real Apache Kafka: what aw-events publishes is read and checked by kcat and by
Python confluent-kafka (envelope, headers, murmur2 partition); what the Java client produces in the
standard's shape is consumed by `aw-events tail` and passes `aw-events envelope check`; a record with the
Rust example's `type_name` is rejected at /meta/type."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import kafkareal as kr  # noqa: E402
from awtest import check_envelope, check_roundtrip, jsonl_events, new_id, partition_for, run, scratch_dir  # noqa: E402

COUNT, KEYS, PARTITIONS = 300, 17, 3

PY_READER = r"""
import json, sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[3], "auto.offset.reset": "earliest",
              "enable.auto.commit": False})
c.subscribe([sys.argv[2]])
want, got, idle = int(sys.argv[4]), 0, 0
while got < want and idle < 60:
    m = c.poll(0.5)
    if m is None:
        idle += 1
        continue
    if m.error():
        print("ERROR " + str(m.error()), file=sys.stderr)
        continue
    idle = 0
    headers = {k: v.decode() for k, v in (m.headers() or [])}
    print(json.dumps({"value": m.value().decode(), "headers": headers, "key": m.key().decode(),
                      "partition": m.partition(), "offset": m.offset()}))
    got += 1
c.close()
"""


class Interop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = scratch_dir("interop")
        cls.bootstrap = kr.bootstrap()

    def publish(self, topic):
        kr.create_topic(topic, PARTITIONS)
        _, lines, _ = run(["publish", "--bootstrap-servers", self.bootstrap, "--type", "content.book.published",
                           "--topic", topic, "--jsonl"], stdin=jsonl_events(COUNT, KEYS))
        receipts = [json.loads(l) for l in lines]
        self.assertEqual(len(receipts), COUNT)
        for r in receipts:
            self.assertNotIn("error", r, r)
        return receipts

    def test_kcat_reads_what_aw_events_published(self):
        topic = "interop-kcat-" + new_id()
        receipts = self.publish(topic)
        records = kr.kcat_read(topic, COUNT)
        records.sort(key=lambda r: (r[3], r[4]))
        check_roundtrip(self, receipts, records, PARTITIONS)

    def test_confluent_kafka_python_reads_what_aw_events_published(self):
        python = kr.venv_python()
        if python is None:
            self.skipTest("confluent-kafka could not be installed (see the SKIP line)")
        topic = "interop-py-" + new_id()
        receipts = self.publish(topic)
        proc = subprocess.run([python, "-c", PY_READER, self.bootstrap, topic, "py-" + new_id(), str(COUNT)],
                              capture_output=True, text=True, timeout=180)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        records = []
        for line in proc.stdout.splitlines():
            m = json.loads(line)
            records.append((json.loads(m["value"]), m["headers"], m["key"], m["partition"], m["offset"]))
        records.sort(key=lambda r: (r[3], r[4]))
        check_roundtrip(self, receipts, records, PARTITIONS)

    def java_produce(self, topic, count, mode):
        libs = [kr.jar_dir()]
        classes = os.path.join(self.scratch, "classes")
        if not os.path.exists(os.path.join(classes, "StandardProducer.class")):
            os.makedirs(classes, exist_ok=True)
            proc = subprocess.run(["javac", "-cp", libs[0] + "/*", "-d", classes,
                                   os.path.join(os.path.dirname(__file__), "StandardProducer.java")],
                                  capture_output=True, text=True, timeout=180)
            self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = subprocess.run(["java", "-Xmx256m", "-XX:+UseSerialGC", "-cp", classes + ":" + libs[0] + "/*",
                               "StandardProducer", self.bootstrap, topic, str(count), str(KEYS), mode],
                              capture_output=True, text=True, timeout=180)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        acks = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
        self.assertEqual(len(acks), count)
        return acks

    def test_aw_events_consumes_and_validates_java_events(self):
        topic = "interop-java-" + new_id()
        kr.create_topic(topic, PARTITIONS)
        acks = self.java_produce(topic, COUNT, "standard")
        # The Java client's default partitioner is murmur2: the same partition as ours and Python's.
        for a in acks:
            self.assertEqual(a["partition"], partition_for(a["key"], PARTITIONS), a)
        _, lines, err = run(["tail", "--bootstrap-servers", self.bootstrap, "--topic", topic, "--from-beginning",
                             "--max", str(COUNT), "--idle-exit", "30"], timeout=120)
        self.assertEqual(len(lines), COUNT, err)
        by_id = {a["id"]: a for a in acks}
        envelopes = []
        last_seq = {}
        for line in lines:
            event = json.loads(line)
            rec = event.pop("_record")
            self.assertNotIn("_envelope_errors", event)
            meta = check_envelope(event, "content.book.published", rec["headers"])
            ack = by_id[meta["id"]]
            self.assertEqual((rec["partition"], rec["offset"], rec["key"]), (ack["partition"], ack["offset"], ack["key"]))
            seq = event["data"]["series"]["position"]  # the Java producer's per-key sequence number
            self.assertGreater(seq, last_seq.get(rec["key"], 0), "per-key order")
            last_seq[rec["key"]] = seq
            envelopes.append(json.dumps(event, ensure_ascii=False))
        self.assertEqual(len({json.loads(e)["meta"]["id"] for e in envelopes}), COUNT)
        # And the standard's envelope rules plus the catalog's data schema, checked by aw-events itself.
        code, results, err = run(["envelope", "check", "--catalog", kr.CATALOG], stdin="\n".join(envelopes) + "\n",
                                 check=False)
        self.assertEqual(code, 0, err + "\n".join(results[:3]))
        self.assertEqual(results, ['{"valid":true}'] * COUNT)

    def test_rust_example_type_name_is_rejected_at_meta_type(self):
        topic = "interop-typename-" + new_id()
        kr.create_topic(topic, 1)
        self.java_produce(topic, 3, "type_name")
        _, lines, err = run(["tail", "--bootstrap-servers", self.bootstrap, "--topic", topic, "--from-beginning",
                             "--max", "3", "--idle-exit", "30"], timeout=120)
        self.assertEqual(len(lines), 3, err)
        values = []
        for line in lines:
            event = json.loads(line)
            event.pop("_record")
            # tail shows the envelope problems it found, at the same place
            self.assertIn("/meta/type", [e["instanceLocation"] for e in event.pop("_envelope_errors", [])], line)
            values.append(json.dumps(event))
        code, results, _ = run(["envelope", "check"], stdin="\n".join(values) + "\n", check=False)
        self.assertEqual(code, 1)
        self.assertEqual(len(results), 3)
        for r in results:
            r = json.loads(r)
            self.assertFalse(r["valid"])
            self.assertIn("/meta/type", [e["instanceLocation"] for e in r["errors"]], r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
