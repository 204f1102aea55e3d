// End-to-end benchmarks behind `aw-events bench`: each runs aw-events and a baseline on the same cluster or
// disk in the same process, and reports both and their ratio as JSON lines.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace aw::bench {

struct bench_options {
  std::string transport = "mock-kafka";  // mock-kafka | kafka | embedded
  std::string bootstrap_servers;         // for kafka
  std::string store_dir = "./aw-events-data/bench";  // for embedded (files are created and removed)
  std::size_t events = 200000;
  std::size_t data_bytes = 300;          // size of the data object; envelopes add ~330 bytes of meta
  int partitions = 12;
  int keys = 1000;
  int threads = 4;                       // publishing threads on the embedded store
};

using printer = std::function<void(const std::string& json_line)>;

// Both return a process exit code; every figure goes through print.
int run_publish_bench(const bench_options& options, const printer& print);
int run_consume_bench(const bench_options& options, const printer& print);

}  // namespace aw::bench
