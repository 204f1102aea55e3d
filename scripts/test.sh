#!/usr/bin/env bash
# Set-up command (b): install what is missing, build everything, run the whole test suite, then the unit
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer. Exits non-zero on any failure.
# AW_TEST_LABELS (a ctest -L regex) narrows the main run, e.g. AW_TEST_LABELS=unit scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
start=$(date +%s)

echo "== build (RelWithDebInfo)"
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"

echo "== tests"
label_args=()
[[ -n "${AW_TEST_LABELS:-}" ]] && label_args=(-L "$AW_TEST_LABELS")
ctest --preset default -j "$jobs" --timeout 600 "${label_args[@]}"

if [[ "${AW_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== unit tests under ASan + UBSan"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"
  ctest --preset asan -j "$jobs" --timeout 600
fi

echo "== all tests passed in $(( $(date +%s) - start )) s"
