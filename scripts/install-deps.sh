#!/usr/bin/env bash
# Installs the Debian bookworm packages that aw-events needs to build, test and run (DESIGN.md §6).
# Idempotent: packages already present are left alone; apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  librdkafka-dev libsimdjson-dev libboost1.81-dev libsqlite3-dev sqlite3 libre2-dev libssl-dev
  libjwt-dev libspdlog-dev libcli11-dev libexpected-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  kcat python3 curl
  clang libclang-rt-14-dev   # libFuzzer target of the validator (tests/fuzz/libfuzzer)
  prometheus   # promtool: checks and tests deploy/monitoring/alerts.yml
  libvalijson-dev rapidjson-dev   # valijson peer of `aw-events bench validate` (bench/peers)
  openjdk-17-jdk-headless maven python3-venv   # kafka-real tests: Apache Kafka jars, Java producer, confluent-kafka venv
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or install them yourself)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
