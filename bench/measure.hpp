// Wall-clock and CPU time of a measured section, and its JSON report line.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <string>

namespace aw::bench {

inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();
};

struct measurement {
  std::string bench;
  std::string subject;
  std::size_t events = 0;
  std::size_t bytes = 0;
  double seconds = 0;
  double cpu = 0;

  [[nodiscard]] double events_per_second() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }

  [[nodiscard]] std::string json() const {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"%s\",\"subject\":\"%s\",\"events\":%zu,\"seconds\":%.3f,\"events_per_s\":%.0f,"
                  "\"mb_per_s\":%.1f,\"cpu_us_per_event\":%.2f}",
                  bench.c_str(), subject.c_str(), events, seconds, events_per_second(),
                  seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0.0,
                  events ? cpu * 1e6 / static_cast<double>(events) : 0.0);
    return buf;
  }
};

inline measurement finish(const stopwatch& started, std::string bench, std::string subject, std::size_t events,
                          std::size_t bytes) {
  measurement m;
  m.bench = std::move(bench);
  m.subject = std::move(subject);
  m.events = events;
  m.bytes = bytes;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started.wall).count();
  m.cpu = cpu_seconds() - started.cpu;
  return m;
}

// The ratio to the baseline, and whether the goal is met: a ratio goal, or an absolute rate when
// goal_events_per_s > 0 (the embedded store's goals are rates; its baseline is shown for scale).
inline std::string ratio_json(const std::string& bench, const measurement& ours, const measurement& baseline,
                              double goal, double goal_events_per_s = 0) {
  const double ratio = baseline.events_per_second() > 0 ? ours.events_per_second() / baseline.events_per_second() : 0;
  const bool met = goal_events_per_s > 0 ? ours.events_per_second() >= goal_events_per_s : ratio >= goal;
  char buf[320];
  if (goal_events_per_s > 0) {
    std::snprintf(buf, sizeof buf,
                  "{\"bench\":\"%s\",\"ratio\":%.3f,\"baseline\":\"%s\",\"goal_events_per_s\":%.0f,\"meets_goal\":%s}",
                  bench.c_str(), ratio, baseline.subject.c_str(), goal_events_per_s, met ? "true" : "false");
  } else {
    std::snprintf(buf, sizeof buf, "{\"bench\":\"%s\",\"ratio\":%.3f,\"baseline\":\"%s\",\"goal\":%.2f,\"meets_goal\":%s}",
                  bench.c_str(), ratio, baseline.subject.c_str(), goal, met ? "true" : "false");
  }
  return buf;
}

// Prints the baseline, ours and the ratio; returns the exit code (1 when the run reported an error).
template <class Printer>
int report(const Printer& print, const std::string& bench, const measurement& ours, const measurement& baseline,
           double goal, const std::string& error, double goal_events_per_s = 0) {
  print(baseline.json());
  print(ours.json());
  print(ratio_json(bench, ours, baseline, goal, goal_events_per_s));
  if (error.empty()) return 0;
  print("{\"bench\":\"" + bench + "\",\"error\":\"" + error + "\"}");
  return 1;
}

}  // namespace aw::bench
