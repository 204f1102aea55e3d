#!/usr/bin/env bash
# Builds the libFuzzer target over the JSON Schema validator with clang (-fsanitize=fuzzer,address,undefined)
# in its own directory, from the validator's sources only (the rest of aw-events is not needed).
# Usage: build.sh OUT_DIR   -> prints the binary's path. Exit 77 when clang++ or libFuzzer is missing.
# CLANGXX overrides the compiler (default: clang++). Rebuilds only what changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:?usage: build.sh OUT_DIR}
cxx=${CLANGXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "libfuzzer: SKIPPED: $cxx not found (install the Debian packages clang and libclang-rt-14-dev)" >&2
  exit 77
fi
mkdir -p "$out/obj"
common=(-std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I"$root/include" -I"$root/src" -DAW_CATALOG_DIR="\"$root/examples/catalog\""
        -DSIMDJSON_THREADS_ENABLED=1)  # as Debian's libsimdjson was built: the class layouts must agree
# Does this clang have libFuzzer at all? (Debian ships it in libclang-rt-<version>-dev.)
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
     "$cxx" -x c++ - -fsanitize=fuzzer -o "$out/probe" >/dev/null 2>&1; then
  echo "libfuzzer: SKIPPED: $cxx cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)" >&2
  exit 77
fi
sources=(
  src/catalog/schema_compiler.cpp src/catalog/schema_validator.cpp src/catalog/formats.cpp
  src/catalog/ecma_regex.cpp src/catalog/fast_regex.cpp src/catalog/metaschemas.cpp src/catalog/uri.cpp
  src/core/json_text.cpp src/core/result.cpp
)
# Any header change rebuilds everything (few files; simpler than tracking dependencies).
newest_header=$(find "$root/include" "$root/src/catalog" "$root/src/core" -name '*.hpp' -newer "$out/obj/.stamp" 2>/dev/null | head -1 || true)
[[ -f "$out/obj/.stamp" ]] || newest_header=all
# Different flags (or compiler) than the last build: rebuild everything.
flags="$cxx ${common[*]}"
[[ "$(cat "$out/obj/.flags" 2>/dev/null)" == "$flags" ]] || newest_header=all
echo "$flags" > "$out/obj/.flags"
objects=()
pids=()
for s in "${sources[@]}"; do
  o="$out/obj/$(basename "${s%.cpp}").o"
  objects+=("$o")
  if [[ -n "$newest_header" || ! -f "$o" || "$root/$s" -nt "$o" ]]; then
    "$cxx" "${common[@]}" -fsanitize=fuzzer-no-link -c "$root/$s" -o "$o" &
    pids+=($!)
    if ((${#pids[@]} >= ${JOBS:-2})); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
touch "$out/obj/.stamp"
bin="$out/validator_fuzz"
"$cxx" "${common[@]}" -fsanitize=fuzzer "$here/validator_fuzz.cpp" "${objects[@]}" -o "$bin" \
  $(pkg-config --libs re2) -lsimdjson -pthread
echo "$bin"
