#!/usr/bin/env bash
# Builds Blaze v1.0.0 (sourcemeta/blaze, the fastest published C++ JSON Schema validator) and the bench
# harness against it, OUTSIDE the aw-events repository. Blaze is never vendored or committed.
#   BLAZE_SRC   Blaze v1.0.0 source tree (default /work/peers/blaze). From a git mirror:
#                 git --git-dir=MIRROR archive refs/tags/v1.0.0 | tar -x -C "$BLAZE_SRC"
#               or: git clone --depth 1 --branch v1.0.0 https://github.com/sourcemeta/blaze "$BLAZE_SRC"
#   BLAZE_BUILD build directory (default $BLAZE_SRC/build)
# Prints the harness path on success (bench/peers/run_validate_bench.sh passes it to aw-events bench validate).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${BLAZE_SRC:-/work/peers/blaze}
build=${BLAZE_BUILD:-$src/build}
jobs=${JOBS:-2}
case "$src" in
  "$(cd "$here/../.." && pwd)"*) echo "build_blaze: BLAZE_SRC must be outside the aw-events tree" >&2; exit 2 ;;
esac
if [[ ! -f "$src/CMakeLists.txt" || ! -d "$src/src/evaluator" ]]; then
  echo "build_blaze: no Blaze source at $src (set BLAZE_SRC)" >&2
  exit 3
fi
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBLAZE_TESTS=OFF -DBLAZE_BENCHMARK=OFF >&2
fi
ninja -C "$build" -j"$jobs" sourcemeta_blaze_compiler sourcemeta_blaze_evaluator >&2
# Link order: Blaze on top of sourcemeta core (json, jsonpointer, jsonschema, uri, regex) and uriparser.
libs=(
  "$build/src/compiler/libsourcemeta_blaze_compiler.a"
  "$build/src/evaluator/libsourcemeta_blaze_evaluator.a"
  "$build/vendor/core/src/core/jsonschema/libsourcemeta_core_jsonschema.a"
  "$build/vendor/core/src/core/jsonpointer/libsourcemeta_core_jsonpointer.a"
  "$build/vendor/core/src/core/uri/libsourcemeta_core_uri.a"
  "$build/vendor/core/src/core/json/libsourcemeta_core_json.a"
)
for extra in $(find "$build/vendor" -name 'liburiparser*.a' -o -name 'libsourcemeta_core_regex*.a' -o -name 'libboost_regex*.a' 2>/dev/null); do
  libs+=("$extra")
done
includes=()
for dir in "$src/src/compiler/include" "$src/src/evaluator/include" \
           $(find "$src/vendor/core/src/core" -maxdepth 2 -type d -name include) \
           $(find "$build" -type d -name include -path '*core*'); do
  includes+=("-I$dir")
done
# Generated export headers live in the build tree.
for dir in $(find "$build" -name '*_export.h' -printf '%h\n' | sort -u); do
  includes+=("-I$(dirname "$(dirname "$dir")")")
done
out="$build/blaze_harness"
g++ -std=c++20 -O3 -DNDEBUG "${includes[@]}" "$here/blaze_harness.cpp" -o "$out" \
  -Wl,--start-group "${libs[@]}" -Wl,--end-group -pthread >&2
echo "$out"
