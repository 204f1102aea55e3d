"""The command-line contract of DESIGN.md §5: exit codes, output forms, errors that say what and where."""
import json
import os
import subprocess
import time
import unittest
import urllib.request

import awtest

VALID = {
    "meta": {"id": "0b6f2a4e-9c1d-4f3a-8b2e-5d6c7a8b9c0d", "type": "content.book.published", "version": "1.0",
             "timestamp": "2023-06-15T14:22:31.123Z", "correlation_id": "req-1", "source": "content",
             "trace_context": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}},
    "data": {"book_id": "b-1"},
}


class CliContract(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir(self.id().rsplit(".", 1)[-1])
        self.globals = ["--store", os.path.join(self.dir, "events.db")]

    def test_usage_errors_exit_2(self):
        self.assertEqual(awtest.run(["publish"], check=False)[0], 2)
        self.assertEqual(awtest.run(["no-such-command"], check=False)[0], 2)
        self.assertEqual(awtest.run(["tail"], check=False)[0], 2)
        self.assertEqual(awtest.run(["tail", "--topic", "a", "--type", "a.b.c"], check=False)[0], 2)

    def test_envelope_check_reports_each_problem_at_its_field(self):
        broken = json.loads(json.dumps(VALID))
        broken["meta"]["id"] = "not-a-uuid"
        extra = json.loads(json.dumps(VALID))
        extra["meta"]["tenant"] = "acme"
        stdin = "\n".join([json.dumps(VALID), json.dumps(broken), "{not json", json.dumps(extra)]) + "\n"
        code, lines, _ = awtest.run(["envelope", "check"], stdin=stdin, check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0]), {"valid": True})
        second = json.loads(lines[1])
        self.assertFalse(second["valid"])
        self.assertEqual([e["instanceLocation"] for e in second["errors"]], ["/meta/id"])
        self.assertFalse(json.loads(lines[2])["valid"])
        self.assertEqual(json.loads(lines[3]), {"valid": True})

    def test_publish_prints_receipt_and_refuses_bad_data_with_location(self):
        _, lines, _ = awtest.run(self.globals + ["publish", "--type", "content.book.published", "--key", "b-1",
                                                 "--data", '{"book_id":"b-1"}', "--correlation-id", "req-9"])
        receipt = json.loads(lines[0])
        self.assertEqual(set(receipt), {"id", "topic", "partition", "offset"})
        self.assertEqual((receipt["topic"], receipt["offset"]), ("content", 0))
        code, lines, err = awtest.run(self.globals + ["publish", "--type", "content.book.published", "--key", "b-1",
                                                      "--data", '[1,2]'], check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0])["errors"][0]["instanceLocation"], "/data")
        code, lines, _ = awtest.run(self.globals + ["publish", "--type", "Content.Book", "--key", "b-1",
                                                    "--data", '{}'], check=False)
        self.assertEqual(code, 1)
        self.assertEqual(json.loads(lines[0])["errors"][0]["instanceLocation"], "/meta/type")

    def test_publish_jsonl_reports_bad_lines_and_publishes_good_ones(self):
        stdin = '{"key":"a","data":{"n":1}}\n{"key":"b"}\nnot json\n{"key":"c","data":{"n":3},"version":"2.1"}\n'
        code, lines, _ = awtest.run(self.globals + ["publish", "--type", "content.book.published", "--jsonl"],
                                    stdin=stdin, check=False)
        self.assertEqual(code, 1)
        results = [json.loads(l) for l in lines]
        self.assertEqual(len(results), 4)
        self.assertIn("id", results[0])
        self.assertEqual(results[1]["line"], 2)
        self.assertIn("/data", results[1]["error"]["message"])
        self.assertEqual(results[2]["line"], 3)
        self.assertIn("id", results[3])
        _, tailed, _ = awtest.run(self.globals + ["tail", "--topic", "content", "--from-beginning", "--idle-exit", "1"])
        events = sorted((json.loads(l) for l in tailed), key=lambda e: e["data"]["n"])
        self.assertEqual([e["data"]["n"] for e in events], [1, 3])
        self.assertEqual([e["meta"]["version"] for e in events], ["1.0", "2.1"])

    def test_serve_answers_healthz_and_stops_on_sigterm(self):
        proc = subprocess.Popen([awtest.BIN] + self.globals + ["serve", "--listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = json.loads(proc.stdout.readline())
            url = first["listening"]
            self.assertTrue(url.startswith("http://127.0.0.1:"))
            self.assertEqual(first["transport"], "embedded")
            with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
                health = json.loads(response.read())
            self.assertEqual(health["status"], "ok")
            with self.assertRaises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(url + "/nope", timeout=10)
            self.assertEqual(missing.exception.code, 404)
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
