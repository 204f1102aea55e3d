#!/usr/bin/env bash
# One run of `aw-events bench validate` with every peer that can be prepared on this machine:
#   Ajv 8 + ajv-formats  npm-installed into $BUILD_DIR/peers/ajv (needs node + npm and registry access)
#   valijson             built from bench/peers/valijson_harness.cpp (Debian libvalijson-dev, rapidjson-dev)
#   Blaze v1.0.0         built by build_blaze.sh from BLAZE_SRC, outside the repository (skipped when absent)
# A peer that cannot be prepared is skipped with a message; aw-events itself always runs.
# Usage: bench/peers/run_validate_bench.sh [BUILD_DIR] [extra aw-events bench validate options...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
shift || true
cache="$build/peers"
mkdir -p "$cache"
args=(--peers-dir "$here" --dir "$cache/work")

if command -v npm >/dev/null && command -v node >/dev/null; then
  if [[ ! -f "$cache/ajv/node_modules/ajv/package.json" || ! -f "$cache/ajv/node_modules/ajv-formats/package.json" ]]; then
    mkdir -p "$cache/ajv"
    npm install --silent --no-audit --no-fund --prefix "$cache/ajv" ajv@8 ajv-formats@3 >&2 ||
      echo "run_validate_bench: npm install of ajv failed; Ajv is skipped" >&2
  fi
  [[ -f "$cache/ajv/node_modules/ajv/package.json" ]] && args+=(--ajv-prefix "$cache/ajv")
else
  echo "run_validate_bench: node/npm not found; Ajv is skipped" >&2
fi

if [[ -f /usr/include/valijson/validator.hpp && -f /usr/include/rapidjson/document.h ]]; then
  if [[ ! -x "$cache/valijson_harness" || "$here/valijson_harness.cpp" -nt "$cache/valijson_harness" ||
        "$here/harness_common.hpp" -nt "$cache/valijson_harness" ]]; then
    g++ -std=c++20 -O3 -DNDEBUG "$here/valijson_harness.cpp" -o "$cache/valijson_harness" >&2 ||
      echo "run_validate_bench: valijson harness does not build; valijson is skipped" >&2
  fi
  [[ -x "$cache/valijson_harness" ]] && args+=(--valijson-harness "$cache/valijson_harness")
else
  echo "run_validate_bench: libvalijson-dev / rapidjson-dev not installed; valijson is skipped" >&2
fi

blaze_src=${BLAZE_SRC:-/work/peers/blaze}
if [[ -n "${AW_BENCH_BLAZE_HARNESS:-}" && -x "$AW_BENCH_BLAZE_HARNESS" ]]; then
  args+=(--blaze-harness "$AW_BENCH_BLAZE_HARNESS")
elif [[ -f "$blaze_src/CMakeLists.txt" ]]; then
  if harness=$(BLAZE_SRC="$blaze_src" "$here/build_blaze.sh"); then
    args+=(--blaze-harness "$harness")
  else
    echo "run_validate_bench: Blaze did not build from $blaze_src; Blaze is skipped" >&2
  fi
else
  echo "run_validate_bench: no Blaze v1.0.0 source at $blaze_src (set BLAZE_SRC); Blaze is skipped" >&2
fi

exec "$build/apps/aw-events/aw-events" bench validate "${args[@]}" "$@"
