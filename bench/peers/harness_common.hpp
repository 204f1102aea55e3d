// The measuring loop shared by the C++ peer harnesses of `aw-events bench validate` (valijson, Blaze), so
// that every peer is timed the same way as aw-events itself: parse every instance once (timed apart),
// then validate the already-parsed instances round after round until the time budget is spent.
// Header-only and dependency-free: the harnesses are built outside the aw-events build.
// Time is this thread's CPU time, not wall time: on a shared machine wall time mostly measures the other
// processes, CPU time measures the work (every subject of the bench is timed the same way).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace peer {

struct arguments {
  std::string schema_file, instances_file;
  double seconds = 1.0;
};

inline arguments parse_arguments(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SCHEMA_FILE INSTANCES_FILE [SECONDS]\n", argv[0]);
    std::exit(2);
  }
  arguments a{argv[1], argv[2], argc > 3 ? std::atof(argv[3]) : 1.0};
  if (!(a.seconds > 0)) a.seconds = 1.0;
  return a;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One JSON instance per line (the bench writes them minified).
inline std::vector<std::string> read_lines(const std::string& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

inline double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct clock {
  using time_point = double;
  static double now() { return cpu_ns(); }
};

inline double elapsed_ns(clock::time_point since) { return clock::now() - since; }

// Calls parse_all() until a quarter of the budget passed; returns ns per instance.
template <typename ParseAll>
double time_parse(ParseAll&& parse_all, size_t instances, double seconds) {
  size_t rounds = 0;
  auto start = clock::now();
  do {
    parse_all();
    ++rounds;
  } while (elapsed_ns(start) < seconds * 0.25e9);
  return elapsed_ns(start) / static_cast<double>(rounds * instances);
}

struct validate_timing {
  size_t valid = 0;
  size_t rounds = 0;
  double ns_per_instance = 0;
};

// validate(i) -> bool for instance i. A 0.2 s warm-up, then whole rounds until the budget is spent.
template <typename Validate>
validate_timing time_validate(Validate&& validate, size_t instances, double seconds) {
  validate_timing t;
  for (size_t i = 0; i < instances; ++i) t.valid += validate(i) ? 1 : 0;
  auto warm = clock::now();
  for (size_t i = 0; elapsed_ns(warm) < 0.2e9; i = (i + 1) % instances) (void)validate(i);
  size_t sink = 0;
  auto start = clock::now();
  do {
    for (size_t i = 0; i < instances; ++i) sink += validate(i) ? 1 : 0;
    ++t.rounds;
  } while (elapsed_ns(start) < seconds * 1e9);
  t.ns_per_instance = elapsed_ns(start) / static_cast<double>(t.rounds * instances);
  if (sink != t.valid * t.rounds) throw std::runtime_error("validation results changed between rounds");
  return t;
}

inline void print_result(const char* subject, const char* version, size_t instances, const validate_timing& t,
                         double parse_ns) {
  std::printf(
      "{\"subject\":\"%s\",\"version\":\"%s\",\"instances\":%zu,\"valid\":%zu,\"rounds\":%zu,"
      "\"validate_ns_per_instance\":%.1f,\"parse_ns_per_instance\":%.1f}\n",
      subject, version, instances, t.valid, t.rounds, t.ns_per_instance, parse_ns);
  std::fflush(stdout);
}

}  // namespace peer
