"""The alert rules and the dashboard: promtool accepts the rules, each rule fires in its promtool scenario,
and every metric the rules and the dashboard use is one aw-events documents in docs/operations.md."""
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MONITORING = os.path.join(ROOT, "deploy", "monitoring")
METRIC = re.compile(r"\b((?:aw_events|messaging)_[a-z_]+)\b")


def documented_metrics():
    text = open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8").read()
    names = set(re.findall(r"^\| `((?:aw_events|messaging)_[a-z_]+)`", text, re.M))
    assert names, "docs/operations.md has no metrics table"
    return names


def used_metrics(text):
    found = set()
    for name in METRIC.findall(text):
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and name[: -len(suffix)].endswith("_seconds"):
                name = name[: -len(suffix)]
        found.add(name)
    return found


def main():
    promtool = shutil.which("promtool")
    if promtool is None:
        print("FAIL: promtool not found (Debian package prometheus; scripts/install-deps.sh installs it)")
        return 1
    for args in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]):
        done = subprocess.run([promtool, *args], cwd=MONITORING, capture_output=True, text=True)
        print(done.stdout + done.stderr)
        if done.returncode != 0:
            print("FAIL: promtool " + " ".join(args))
            return 1

    rules = open(os.path.join(MONITORING, "alerts.yml"), encoding="utf-8").read()
    alert_names = re.findall(r"^\s*- alert: (\w+)", rules, re.M)
    tested = set(re.findall(r"alertname: (\w+)", open(os.path.join(MONITORING, "alerts_test.yml")).read()))
    untested = set(alert_names) - tested
    if untested:
        print("FAIL: rules without a promtool test case: " + ", ".join(sorted(untested)))
        return 1

    dashboard = json.load(open(os.path.join(MONITORING, "dashboard.json"), encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    documented = documented_metrics()
    for where, text in (("alerts.yml", rules), ("dashboard.json", "\n".join(exprs))):
        unknown = used_metrics(text) - documented
        if unknown:
            print(f"FAIL: {where} uses metrics not documented in docs/operations.md: {sorted(unknown)}")
            return 1
    print(f"rules: {len(alert_names)} (all fire in a test case); dashboard panels: {len(dashboard['panels'])}; "
          f"metrics documented: {len(documented)}")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
