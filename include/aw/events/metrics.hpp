// Metrics in the Prometheus data model: counters, gauges and histograms grouped in labelled families,
// gauges computed at scrape time (consumer lag, spool depth), and the text exposition format 0.0.4.
// Updating a metric is lock-free; only creating a new label combination takes a lock, so hot paths look a
// child up once and keep the reference (children live as long as their registry).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events::metrics {

class counter {
 public:
  void inc(double by = 1) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(double by) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative buckets as Prometheus expects: an observation counts in every bucket whose upper bound
// (inclusive) it does not exceed, and always in +Inf.
class histogram {
 public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double value) noexcept;

  struct snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  [[nodiscard]] snapshot read() const;

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for durations from 100 µs to 10 s (publish, handler).
[[nodiscard]] std::vector<double> default_duration_buckets();

enum class metric_kind { counter, gauge, histogram };

// One metric name with a fixed list of label names; children are the label-value combinations.
template <class Metric>
class family {
 public:
  // The child for these label values (as many as the family has label names), created on first use.
  // Thread-safe; the reference stays valid for the life of the registry.
  Metric& with(const std::vector<std::string>& label_values);
  Metric& with(std::initializer_list<std::string_view> label_values) {
    return with(std::vector<std::string>(label_values.begin(), label_values.end()));
  }

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept { return label_names_; }
  // Calls visit(label_values, metric) for every child, in label order.
  void for_each(const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const;

  family(std::string name, std::string help, std::vector<std::string> label_names, std::vector<double> buckets)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)),
        buckets_(std::move(buckets)) {}

 private:
  friend class registry;
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;  // histograms only
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

// A value computed when /metrics is scraped.
struct sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};
using collector = std::function<std::vector<sample>()>;

class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // Registers a family, or returns the existing one when name, kind, label names (and buckets) match.
  // Errors (invalid_argument) name the metric: a bad name or label name, or a clash with another definition.
  [[nodiscard]] result<family<counter>*> counters(std::string name, std::string help,
                                                  std::vector<std::string> label_names = {});
  [[nodiscard]] result<family<gauge>*> gauges(std::string name, std::string help,
                                              std::vector<std::string> label_names = {});
  [[nodiscard]] result<family<histogram>*> histograms(std::string name, std::string help,
                                                      std::vector<std::string> label_names,
                                                      std::vector<double> upper_bounds = default_duration_buckets());

  // A gauge (or counter) whose samples are computed at scrape time. The collector runs on the scraping
  // thread and must not block for long. Returns a handle for remove_collector.
  [[nodiscard]] result<std::uint64_t> add_collector(std::string name, std::string help, metric_kind kind,
                                                    collector collect);
  void remove_collector(std::uint64_t handle);

  // The Prometheus text exposition format (version 0.0.4), families sorted by name.
  [[nodiscard]] std::string render() const;

  // The process-wide registry that the library's publishers and subscribers report to.
  static registry& global();

 private:
  struct collector_entry {
    std::uint64_t handle;
    std::string name;
    std::string help;
    metric_kind kind;
    collector collect;
  };
  result<void> check_new(const std::string& name, metric_kind kind, const std::vector<std::string>& label_names);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<family<counter>>> counters_;
  std::map<std::string, std::unique_ptr<family<gauge>>> gauges_;
  std::map<std::string, std::unique_ptr<family<histogram>>> histograms_;
  std::vector<collector_entry> collectors_;
  std::uint64_t next_handle_ = 1;
};

// Serves GET /metrics (text format) on ADDR:PORT until destroyed; port 0 picks a free port.
class endpoint {
 public:
  [[nodiscard]] static result<std::unique_ptr<endpoint>> start(const std::string& listen,
                                                               registry& source = registry::global());
  ~endpoint();
  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;
  [[nodiscard]] std::string address() const;  // "127.0.0.1:PORT" as bound

 private:
  struct impl;
  explicit endpoint(std::unique_ptr<impl> impl);
  std::unique_ptr<impl> impl_;
};

template <class Metric>
Metric& family<Metric>::with(const std::vector<std::string>& label_values) {
  std::lock_guard lock(mutex_);
  auto found = children_.find(label_values);
  if (found != children_.end()) return *found->second;
  // A wrong number of values is a programming error; pad or cut so the exposition stays well-formed.
  std::vector<std::string> values = label_values;
  values.resize(label_names_.size());
  found = children_.find(values);
  if (found != children_.end()) return *found->second;
  std::unique_ptr<Metric> child;
  if constexpr (std::is_same_v<Metric, histogram>) child = std::make_unique<Metric>(buckets_);
  else child = std::make_unique<Metric>();
  auto& ref = *child;
  children_.emplace(std::move(values), std::move(child));
  return ref;
}

template <class Metric>
void family<Metric>::for_each(
    const std::function<void(const std::vector<std::string>&, const Metric&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [values, metric] : children_) visit(values, *metric);
}

}  // namespace aw::events::metrics
