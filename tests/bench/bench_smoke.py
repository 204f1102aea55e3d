"""Runs every `aw-events bench` variant on a few thousand events and checks the report's shape."""
import json
import subprocess
import sys

binary, scratch = sys.argv[1], sys.argv[2]
failures = 0
for bench in ("publish", "consume"):
    for transport in ("mock-kafka", "embedded"):
        cmd = [binary, "bench", bench, "--transport", transport, "--events", "3000", "--dir", scratch]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
        subjects = [l.get("subject") for l in lines if "subject" in l]
        ratio = [l for l in lines if "ratio" in l]
        ok = (proc.returncode == 0 and "aw-events" in subjects and len(subjects) == 2 and len(ratio) == 1
              and all(l["events"] == 3000 for l in lines if "subject" in l))
        print(("ok  " if ok else "FAIL"), " ".join(cmd[1:5]), proc.stdout.strip().replace("\n", " | "))
        if not ok:
            failures += 1
            print(proc.stderr[-2000:])
print(f"{4 - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
