"""Metrics and traces from the aw-events program: spans exported over OTLP/HTTP to a local receiver, the
trace and correlation handed down through the environment (as `consume --exec` does), and /metrics served
from a command with --metrics-listen."""
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import unittest
import urllib.request

import awtest


class OtlpReceiver:
    """A local OTLP/HTTP collector: keeps every span POSTed to /v1/traces."""

    def __init__(self):
        self.spans = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/v1/traces":
                    request = json.loads(body)
                    for rs in request["resourceSpans"]:
                        service = rs["resource"]["attributes"][0]["value"]["stringValue"]
                        for ss in rs["scopeSpans"]:
                            for span in ss["spans"]:
                                span["service"] = service
                                span["attrs"] = {a["key"]: next(iter(a["value"].values())) for a in span["attributes"]}
                                receiver.spans.append(span)
                self.send_response(200 if self.path == "/v1/traces" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ObservabilityTest(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir("observability-" + self._testMethodName)
        self.store = os.path.join(self.dir, "events.db")
        self.collector = OtlpReceiver()
        self.env = dict(os.environ, OTEL_EXPORTER_OTLP_ENDPOINT=self.collector.base, OTEL_SERVICE_NAME="content")

    def tearDown(self):
        self.collector.close()

    def aw(self, args, stdin=None, env=None):
        proc = subprocess.run([awtest.BIN] + args, input=stdin, capture_output=True, text=True, timeout=60,
                              env=env or self.env)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]

    def test_publish_and_consume_spans_link_parent_to_child_and_continue_the_callers_trace(self):
        parent_trace, parent_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        env = dict(self.env, TRACEPARENT=f"00-{parent_trace}-{parent_span}-01", AW_CORRELATION_ID="req-42")
        published = self.aw(["--store", self.store, "publish", "--type", "content.book.published", "--jsonl"],
                            stdin="".join(json.dumps({"key": f"book-{i % 2}", "data": {"book_id": f"book-{i % 2}"}}) + "\n"
                                          for i in range(5)),
                            env=env)
        self.assertEqual(len(published), 5)
        records = self.aw(["--store", self.store, "tail", "--topic", "content", "--group", "search",
                           "--from-beginning", "--max", "5", "--idle-exit", "10"])
        self.assertEqual(len(records), 5)
        producer = {s["spanId"]: s for s in self.collector.spans if s["kind"] == 4}
        consumer = [s for s in self.collector.spans if s["kind"] == 5]
        for event in records:
            meta = event["meta"]
            # Handed down through the environment, as a `consume --exec` handler gets them.
            self.assertEqual(meta["correlation_id"], "req-42")
            self.assertEqual(meta["trace_context"]["trace_id"], parent_trace)
            span = producer[meta["trace_context"]["span_id"]]
            self.assertEqual(span["traceId"], parent_trace)
            self.assertEqual(span["parentSpanId"], parent_span)
            self.assertEqual(span["name"], "publish content")
            self.assertEqual(span["service"], "content")
            self.assertEqual(span["attrs"]["messaging.message.id"], meta["id"])
            self.assertEqual(span["attrs"]["messaging.message.conversation_id"], "req-42")
            self.assertEqual(span["attrs"]["messaging.destination.name"], "content")
            children = [s for s in consumer if s["parentSpanId"] == meta["trace_context"]["span_id"]]
            self.assertEqual(len(children), 1, meta["id"])
            self.assertEqual(children[0]["traceId"], parent_trace)
            self.assertEqual(children[0]["attrs"]["messaging.consumer.group.name"], "search")
            self.assertEqual(children[0]["attrs"]["messaging.kafka.offset"], str(event["_record"]["offset"]))
        print(f"spans: {len(producer)} producer, {len(consumer)} consumer, all linked parent -> child")

    def test_a_collector_that_is_away_never_fails_the_command(self):
        env = dict(self.env, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}")
        published = self.aw(["--store", self.store, "publish", "--type", "content.book.published", "--key", "b-1",
                             "--data", '{"book_id":"b-1"}'], env=env)
        self.assertEqual(len(published), 1)

    def test_bad_otlp_endpoint_is_a_usage_error_naming_it(self):
        env = dict(self.env, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="https://collector:4318/v1/traces")
        proc = subprocess.run([awtest.BIN, "--store", self.store, "tail", "--topic", "content", "--max", "0"],
                              capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("https://collector:4318/v1/traces", proc.stderr)

    def test_metrics_listen_serves_metrics_while_a_command_runs(self):
        self.aw(["--store", self.store, "publish", "--type", "content.book.published", "--jsonl"],
                stdin=awtest.jsonl_events(7, 3))
        port = free_port()
        tail = subprocess.Popen([awtest.BIN, "--store", self.store, "--metrics-listen", f"127.0.0.1:{port}", "tail",
                                 "--topic", "content", "--group", "g", "--from-beginning", "--idle-exit", "30"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            expected = 'messaging_client_consumed_messages_total{topic="content",type="content.book.published",group="g"} 7'
            text, deadline = "", time.time() + 30
            while time.time() < deadline and expected not in text:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                        self.assertIn("text/plain", response.headers["Content-Type"])
                        text = response.read().decode()
                except OSError:
                    time.sleep(0.2)
            self.assertIn(expected, text)
            self.assertIn("# TYPE messaging_client_consumed_messages_total counter", text)
        finally:
            tail.terminate()
            tail.communicate(timeout=30)
        print("scraped /metrics from a running tail: consumed 7")

    def test_metrics_listen_that_cannot_bind_is_a_usage_error(self):
        proc = subprocess.run([awtest.BIN, "--store", self.store, "--metrics-listen", "127.0.0.1:notaport", "tail",
                               "--topic", "content", "--max", "0"], capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--metrics-listen", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
