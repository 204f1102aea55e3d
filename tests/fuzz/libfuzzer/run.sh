#!/usr/bin/env bash
# Builds (build.sh) and runs the validator's libFuzzer target for AW_FUZZ_SECONDS (default 60) on a corpus
# seeded with the example catalog's sample data. Any finding (crash, sanitizer report, broken invariant,
# input slower than 10 s) fails with libFuzzer's report and the reproducer file. Exit 77 = skipped.
# Usage: run.sh WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=${1:?usage: run.sh WORK_DIR}
seconds=${AW_FUZZ_SECONDS:-60}
mkdir -p "$work"
set +e
bin=$("$here/build.sh" "$work")
status=$?
set -e
if [[ $status -eq 77 ]]; then exit 77; fi
if [[ $status -ne 0 ]]; then echo "libfuzzer: the target does not build" >&2; exit 1; fi
corpus="$work/corpus"
mkdir -p "$corpus"
# Seeds: mode byte 0 (fixed schema, format annotation) / 2 (format assertion), schema index, sample data.
# The fixed schemas are the 7 built-in ones followed by the catalog files in sorted order.
python3 - "$root/examples/catalog" "$corpus" <<'PY'
import json, os, sys
catalog, corpus = sys.argv[1], sys.argv[2]
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(catalog) for f in fs if f.endswith(".json"))
for i, path in enumerate(files):
    with open(path) as f:
        data = json.dumps(json.load(f)["sample"]["data"], separators=(",", ":")).encode()
    for mode in (0, 2):
        with open(os.path.join(corpus, f"seed-{i}-{mode}"), "wb") as out:
            out.write(bytes([mode, 7 + i]) + data)
with open(os.path.join(corpus, "seed-pair"), "wb") as out:
    out.write(b'\x01\x01{"type":"object","properties":{"a":{"pattern":"^[a-z]{2}$"}}}\x00{"a":"xy"}')
with open(os.path.join(corpus, "seed-hostile"), "wb") as out:
    out.write(b'\x00\x00{"a":"' + b"a" * 3000 + b'!"}')
PY
echo "libfuzzer: running $bin for $seconds s" >&2
cd "$work"
exec "$bin" -dict="$here/schema.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$work/" "$corpus"
