"""Helpers for the end-to-end tests: run aw-events, start the mock cluster, check envelopes independently."""
import json
import os
import re
import shutil
import subprocess
import uuid

BIN = os.environ.get("AW_EVENTS_BIN", "aw-events")
SCRATCH = os.environ.get("AW_SCRATCH", "/tmp/aw-events-cli-tests")

UUID_V4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def scratch_dir(name):
    path = os.path.join(SCRATCH, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def run(args, stdin=None, timeout=120, check=True):
    """Runs aw-events; returns (exit code, stdout lines, stderr)."""
    proc = subprocess.run([BIN] + args, input=stdin, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"aw-events {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}")
    return proc.returncode, [l for l in proc.stdout.splitlines() if l.strip()], proc.stderr


class MockKafka:
    """`aw-events mock-kafka` as a child process steered through its stdin."""

    def __init__(self, brokers=3, partitions=6, topics=()):
        args = [BIN, "mock-kafka", "--brokers", str(brokers), "--partitions", str(partitions)]
        for topic in topics:
            args += ["--topic", topic]
        self.proc = subprocess.Popen(args,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().strip()
        if not first.startswith("bootstrap.servers="):
            raise AssertionError(f"mock-kafka first line: {first!r}")
        self.bootstrap = first.split("=", 1)[1]

    def control(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def murmur2(data: bytes) -> int:
    """Kafka's Utils.murmur2, written independently of the C++ implementation."""
    length = len(data)
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_for(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def check_envelope(event, expected_type, headers):
    """Checks the envelope rules and that the headers agree with meta; returns the meta object."""
    assert set(event.keys()) == {"meta", "data"}, event.keys()
    meta = event["meta"]
    assert UUID_V4.match(meta["id"]), meta["id"]
    assert meta["type"] == expected_type
    assert re.match(r"^\d+\.\d+$", meta["version"])
    assert TIMESTAMP.match(meta["timestamp"]), meta["timestamp"]
    assert meta["correlation_id"]
    assert meta["source"]
    trace = meta["trace_context"]
    assert re.match(r"^[0-9a-f]{32}$", trace["trace_id"]) and set(trace["trace_id"]) != {"0"}
    assert re.match(r"^[0-9a-f]{16}$", trace["span_id"]) and set(trace["span_id"]) != {"0"}
    assert headers["aw-event-id"] == meta["id"]
    assert headers["aw-event-type"] == meta["type"]
    assert headers["aw-event-version"] == meta["version"]
    assert headers["aw-correlation-id"] == meta["correlation_id"]
    assert headers["content-type"] == "application/json"
    tp = TRACEPARENT.match(headers["traceparent"])
    assert tp and tp.group(1) == trace["trace_id"] and tp.group(2) == trace["span_id"], headers["traceparent"]
    return meta


def jsonl_events(count, keys):
    """`count` publish --jsonl lines over `keys` keys, each carrying its key and per-key sequence number."""
    lines, seq = [], {}
    for i in range(count):
        key = f"book-{i % keys}"
        seq[key] = seq.get(key, 0) + 1
        lines.append(json.dumps({"key": key, "correlation_id": f"req-{i}",
                                 "data": {"book_id": key, "seq": seq[key], "title": f"Title {i} ✓"}}))
    return "\n".join(lines) + "\n"


def check_roundtrip(test, published, records, partitions):
    """records: list of (event dict, headers dict, key, partition, offset) in read order."""
    by_id = {p["id"]: p for p in published}
    test.assertEqual(len(records), len(published))
    test.assertEqual(len({r[0]["meta"]["id"] for r in records}), len(published), "duplicate event ids")
    key_partition, last_seq, last_offset = {}, {}, {}
    for event, headers, key, partition, offset in records:
        meta = check_envelope(event, "content.book.published", headers)
        receipt = by_id[meta["id"]]
        test.assertEqual((receipt["partition"], receipt["offset"]), (partition, offset))
        test.assertEqual(event["data"]["book_id"], key)
        test.assertEqual(key_partition.setdefault(key, partition), partition, f"key {key} moved partition")
        test.assertEqual(partition, partition_for(key, partitions), f"key {key} not on its murmur2 partition")
        test.assertGreater(event["data"]["seq"], last_seq.get(key, 0), f"key {key} out of order")
        last_seq[key] = event["data"]["seq"]
        test.assertGreater(offset, last_offset.get(partition, -1))
        last_offset[partition] = offset


def new_id():
    return uuid.uuid4().hex[:8]
