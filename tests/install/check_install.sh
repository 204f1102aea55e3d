#!/usr/bin/env bash
# check_install.sh BUILD_DIR CONSUMER_SOURCE SCRATCH
set -euo pipefail
build=$1 consumer=$2 scratch=$3
rm -rf "$scratch" && mkdir -p "$scratch"
prefix=$scratch/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/aw/events/publisher.hpp"
test -f "$prefix/lib/cmake/aw-events/aw-events-config.cmake"
test -f "$prefix/lib/pkgconfig/aw-events.pc"

echo "-- find_package(aw-events)"
cmake -S "$consumer" -B "$scratch/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$scratch/cmake-build" >/dev/null
"$scratch/cmake-build/consumer"

echo "-- pkg-config aw-events"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
g++ -o "$scratch/pc-consumer" "$consumer/main.cpp" $(pkg-config --cflags aw-events) \
    $(pkg-config --libs aw-events)
"$scratch/pc-consumer"
