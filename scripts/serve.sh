#!/usr/bin/env bash
# Set-up command (a): install what is missing, build everything, start `aw-events serve` on the embedded
# store. Extra arguments go to `serve` (e.g. --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default
exec ./build/apps/aw-events/aw-events serve "$@"
