"""The same round trip on the embedded store, publisher and readers in separate processes."""
import json
import os
import subprocess
import unittest

import awtest

PARTITIONS = 6  # the embedded store's default for topics created on first use


class EmbeddedRoundtrip(unittest.TestCase):
    def setUp(self):
        self.dir = awtest.scratch_dir(self.id().rsplit(".", 1)[-1])
        self.globals = ["--store", os.path.join(self.dir, "events.db")]

    def test_publisher_and_reader_in_separate_processes(self):
        # The reader starts first and waits for the events (only new records, no --from-beginning).
        reader = subprocess.Popen([awtest.BIN] + self.globals + ["tail", "--topic", "content", "--group", "readers",
                                                                 "--from-beginning", "--max", "1000", "--idle-exit", "30"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _, lines, _ = awtest.run(self.globals + ["publish", "--type", "content.book.published", "--jsonl"],
                                 stdin=awtest.jsonl_events(1000, 50))
        published = [json.loads(l) for l in lines]
        self.assertEqual(len(published), 1000)
        out, err = reader.communicate(timeout=120)
        self.assertEqual(reader.returncode, 0, err)
        records = []
        for line in out.splitlines():
            obj = json.loads(line)
            rec = obj.pop("_record")
            records.append((obj, rec["headers"], rec["key"], rec["partition"], rec["offset"]))
        awtest.check_roundtrip(self, published, records, PARTITIONS)
        # The group committed: a second run of the same group sees nothing new.
        _, again, _ = awtest.run(self.globals + ["tail", "--topic", "content", "--group", "readers",
                                                 "--from-beginning", "--idle-exit", "1"])
        self.assertEqual(again, [])
        # A fresh reader from the beginning sees everything again, in the same order per key.
        _, fresh, _ = awtest.run(self.globals + ["tail", "--topic", "content", "--from-beginning", "--idle-exit", "2"])
        self.assertEqual(len(fresh), 1000)

    def test_raw_bad_bytes_are_shown_not_lost(self):
        proc = subprocess.run([awtest.BIN] + self.globals + ["publish", "--raw", "--topic", "content", "--key", "k"],
                              input=b"\xff\xfenot json", capture_output=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        _, lines, _ = awtest.run(self.globals + ["tail", "--topic", "content", "--from-beginning", "--idle-exit", "1"])
        self.assertEqual(len(lines), 1)
        shown = json.loads(lines[0])
        self.assertEqual(shown["_value_base64"], "//5ub3QganNvbg==")
        self.assertTrue(shown["_envelope_errors"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
