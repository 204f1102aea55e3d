"""`aw-events bench validate` end to end on a small budget: the instance file has the promised shape, aw-events
agrees with the generator on every instance, and peers that are not prepared are skipped with a reason.
(The figures themselves are not judged here; bench/peers/run_validate_bench.sh runs the real comparison.)"""
import json
import os
import unittest

import awtest


class BenchValidate(unittest.TestCase):
    def test_runs_and_reports(self):
        work = awtest.scratch_dir("bench-validate")
        env_peers = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AW_BENCH_")}
        try:
            code, lines, err = awtest.run(["bench", "validate", "--instances", "200", "--seconds", "0.05",
                                           "--dir", work], check=False)
        finally:
            os.environ.update(env_peers)
        self.assertEqual(code, 0, err)
        records = [json.loads(l) for l in lines]
        head = records[0]
        self.assertEqual(head["instances"], 200)
        self.assertEqual(head["expected_valid"], 180)  # one in ten is invalid
        with open(os.path.join(work, "instances.jsonl")) as f:
            instances = [l.rstrip("\n") for l in f]
        self.assertEqual(len(instances), 200)
        self.assertTrue(all(300 <= len(i.encode()) <= 600 for i in instances))
        self.assertEqual(len(set(instances)), 200)
        for i in instances:
            json.loads(i)
        with open(os.path.join(work, "schema.json")) as f:
            schema = json.load(f)
        self.assertEqual(schema["$schema"], "https://json-schema.org/draft/2020-12/schema")

        ours = next(r for r in records if r.get("subject") == "aw-events")
        self.assertEqual(ours["valid"], 180)
        self.assertGreater(ours["validate_ns_per_instance"], 0)
        self.assertGreater(ours["parse_ns_per_instance"], 0)
        skipped = {r["subject"]: r["skipped"] for r in records if "skipped" in r}
        self.assertEqual(set(skipped), {"ajv", "blaze", "valijson"})
        self.assertIn("--ajv-prefix", skipped["ajv"])
        self.assertIn("build_blaze.sh", skipped["blaze"])

    def test_a_broken_peer_is_an_error_not_a_figure(self):
        work = awtest.scratch_dir("bench-validate-broken")
        fake = os.path.join(work, "fake_harness")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'harness exploded' >&2\nexit 3\n")
        os.chmod(fake, 0o755)
        code, lines, _ = awtest.run(["bench", "validate", "--instances", "50", "--seconds", "0.02", "--dir", work,
                                     "--valijson-harness", fake], check=False)
        self.assertEqual(code, 1)
        failed = [json.loads(l) for l in lines if '"error"' in l]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["subject"], "valijson")
        self.assertIn("harness exploded", failed[0]["error"])

    def test_a_peer_disagreeing_on_validity_is_flagged(self):
        work = awtest.scratch_dir("bench-validate-disagree")
        fake = os.path.join(work, "lenient_harness")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho '{\"subject\":\"valijson\",\"instances\":50,\"valid\":50,\"rounds\":1,"
                    "\"validate_ns_per_instance\":99999.0,\"parse_ns_per_instance\":1.0}'\n")
        os.chmod(fake, 0o755)
        code, lines, _ = awtest.run(["bench", "validate", "--instances", "50", "--seconds", "0.02", "--dir", work,
                                     "--valijson-harness", fake], check=False)
        self.assertEqual(code, 1)
        ratio = next(json.loads(l) for l in lines if '"ratio"' in l)
        self.assertFalse(ratio["agrees_on_validity"])
        self.assertFalse(ratio["met"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
