#!/usr/bin/env bash
# Set-up command (a): install what is missing, build everything, start `aw-events serve` on the embedded
# store. Extra arguments go to `serve` (e.g. --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
# Build output goes to stderr, so the first line on stdout is where the server listens.
cmake --build --preset default >&2
exec ./build/apps/aw-events/aw-events serve "$@"
