// The metrics registry and the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "aw/events/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace aw::events::metrics {

histogram::histogram(std::vector<double> upper_bounds) : upper_bounds_(std::move(upper_bounds)) {
  std::sort(upper_bounds_.begin(), upper_bounds_.end());
  upper_bounds_.erase(std::unique(upper_bounds_.begin(), upper_bounds_.end()), upper_bounds_.end());
  if (!upper_bounds_.empty() && std::isinf(upper_bounds_.back())) upper_bounds_.pop_back();  // +Inf is implicit
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(upper_bounds_.size() + 1);
}

void histogram::observe(double value) noexcept {
  // Bounds are few (≤ ~20): a linear scan beats a binary search on branch prediction.
  std::size_t bucket = 0;
  while (bucket < upper_bounds_.size() && value > upper_bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot out;
  out.upper_bounds = upper_bounds_;
  out.cumulative_counts.resize(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative_counts[i] = running;
  }
  out.count = running;
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

std::vector<double> default_duration_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

namespace {

bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__") || name == "le") return false;
  return is_metric_name(name) && name.find(':') == std::string_view::npos;
}

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (quote && c == '"') out += "\\\"";
    else out += c;
  }
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, ec == std::errc{} ? end : buffer);
  }
}

void append_labels(std::string& out, const std::vector<std::pair<std::string_view, std::string_view>>& labels) {
  if (labels.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    append_escaped(out, value, true);
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, std::string_view name, std::string_view help, std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_sample(std::string& out, std::string_view name,
                   const std::vector<std::pair<std::string_view, std::string_view>>& labels, double value) {
  out += name;
  append_labels(out, labels);
  out += ' ';
  append_number(out, value);
  out += '\n';
}

std::vector<std::pair<std::string_view, std::string_view>> zip(const std::vector<std::string>& names,
                                                               const std::vector<std::string>& values) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  out.reserve(names.size() + 1);
  for (std::size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

const char* kind_name(metric_kind kind) {
  switch (kind) {
    case metric_kind::counter: return "counter";
    case metric_kind::gauge: return "gauge";
    case metric_kind::histogram: return "histogram";
  }
  return "untyped";
}

template <class Metric>
void render_family(std::string& out, const family<Metric>& f, std::string_view help) {
  append_header(out, f.name(), help,
                std::is_same_v<Metric, counter> ? "counter" : std::is_same_v<Metric, gauge> ? "gauge" : "histogram");
  f.for_each([&](const std::vector<std::string>& values, const Metric& metric) {
    auto labels = zip(f.label_names(), values);
    if constexpr (std::is_same_v<Metric, histogram>) {
      const auto snap = metric.read();
      std::string bound;
      for (std::size_t i = 0; i <= snap.upper_bounds.size(); ++i) {
        bound.clear();
        if (i < snap.upper_bounds.size()) append_number(bound, snap.upper_bounds[i]);
        else bound = "+Inf";
        auto with_le = labels;
        with_le.emplace_back("le", bound);
        append_sample(out, f.name() + "_bucket", with_le, static_cast<double>(snap.cumulative_counts[i]));
      }
      append_sample(out, f.name() + "_sum", labels, snap.sum);
      append_sample(out, f.name() + "_count", labels, static_cast<double>(snap.count));
    } else {
      append_sample(out, f.name(), labels, metric.value());
    }
  });
}

}  // namespace

result<void> registry::check_new(const std::string& name, metric_kind kind,
                                 const std::vector<std::string>& label_names) {
  if (!is_metric_name(name)) {
    return make_error(errc::invalid_argument, "metric name \"" + name + "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  std::set<std::string_view> seen;
  for (const auto& label : label_names) {
    if (!is_label_name(label)) {
      return make_error(errc::invalid_argument, "metric " + name + ": label name \"" + label + "\" is invalid");
    }
    if (!seen.insert(label).second) {
      return make_error(errc::invalid_argument, "metric " + name + ": label \"" + label + "\" given twice");
    }
  }
  const bool taken = (kind != metric_kind::counter && counters_.contains(name)) ||
                     (kind != metric_kind::gauge && gauges_.contains(name)) ||
                     (kind != metric_kind::histogram && histograms_.contains(name)) ||
                     std::any_of(collectors_.begin(), collectors_.end(),
                                 [&](const collector_entry& c) { return c.name == name; });
  if (taken) {
    return make_error(errc::invalid_argument,
                      "metric " + name + " is already registered as another kind (wanted " + kind_name(kind) + ")");
  }
  return {};
}

namespace {
template <class Metric>
result<family<Metric>*> find_or_add(std::map<std::string, std::unique_ptr<family<Metric>>>& families, std::string name,
                                    std::string help, std::vector<std::string> label_names,
                                    std::vector<double> buckets) {
  auto found = families.find(name);
  if (found != families.end()) {
    if (found->second->label_names() != label_names) {
      return make_error(errc::invalid_argument, "metric " + name + " is already registered with other labels");
    }
    return found->second.get();
  }
  auto created = std::make_unique<family<Metric>>(name, std::move(help), std::move(label_names), std::move(buckets));
  auto* out = created.get();
  families.emplace(std::move(name), std::move(created));
  return out;
}
}  // namespace

result<family<counter>*> registry::counters(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  if (auto ok = check_new(name, metric_kind::counter, label_names); !ok) return make_error(ok.error());
  return find_or_add(counters_, std::move(name), std::move(help), std::move(label_names), {});
}

result<family<gauge>*> registry::gauges(std::string name, std::string help, std::vector<std::string> label_names) {
  std::lock_guard lock(mutex_);
  if (auto ok = check_new(name, metric_kind::gauge, label_names); !ok) return make_error(ok.error());
  return find_or_add(gauges_, std::move(name), std::move(help), std::move(label_names), {});
}

result<family<histogram>*> registry::histograms(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> upper_bounds) {
  if (upper_bounds.empty()) {
    return make_error(errc::invalid_argument, "metric " + name + ": a histogram needs at least one bucket bound");
  }
  std::lock_guard lock(mutex_);
  if (auto ok = check_new(name, metric_kind::histogram, label_names); !ok) return make_error(ok.error());
  auto found = histograms_.find(name);
  if (found != histograms_.end() && found->second->buckets_ != upper_bounds) {
    return make_error(errc::invalid_argument, "metric " + name + " is already registered with other buckets");
  }
  return find_or_add(histograms_, std::move(name), std::move(help), std::move(label_names), std::move(upper_bounds));
}

result<std::uint64_t> registry::add_collector(std::string name, std::string help, metric_kind kind,
                                              collector collect) {
  if (!collect) return make_error(errc::invalid_argument, "metric " + name + ": collector is empty");
  if (kind == metric_kind::histogram) {
    return make_error(errc::invalid_argument, "metric " + name + ": collectors report counters or gauges");
  }
  std::lock_guard lock(mutex_);
  // A collector owns its name outright: a second one (or a family) of that name would render twice.
  if (!is_metric_name(name)) {
    return make_error(errc::invalid_argument, "metric name \"" + name + "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  if (counters_.contains(name) || gauges_.contains(name) || histograms_.contains(name) ||
      std::any_of(collectors_.begin(), collectors_.end(), [&](const collector_entry& c) { return c.name == name; })) {
    return make_error(errc::invalid_argument, "metric " + name + " is already registered");
  }
  const auto handle = next_handle_++;
  collectors_.push_back({handle, std::move(name), std::move(help), kind, std::move(collect)});
  return handle;
}

void registry::remove_collector(std::uint64_t handle) {
  std::lock_guard lock(mutex_);
  std::erase_if(collectors_, [handle](const collector_entry& c) { return c.handle == handle; });
}

std::string registry::render() const {
  std::lock_guard lock(mutex_);
  // Families of every kind, sorted by name so that scrapes diff cleanly.
  std::map<std::string_view, std::function<void(std::string&)>> parts;
  for (const auto& [name, f] : counters_) parts[name] = [&f = *f](std::string& out) { render_family(out, f, f.help_); };
  for (const auto& [name, f] : gauges_) parts[name] = [&f = *f](std::string& out) { render_family(out, f, f.help_); };
  for (const auto& [name, f] : histograms_) {
    parts[name] = [&f = *f](std::string& out) { render_family(out, f, f.help_); };
  }
  for (const auto& c : collectors_) {
    parts[c.name] = [&c](std::string& out) {
      append_header(out, c.name, c.help, kind_name(c.kind));
      for (const auto& s : c.collect()) {
        std::vector<std::pair<std::string_view, std::string_view>> labels(s.labels.begin(), s.labels.end());
        append_sample(out, c.name, labels, s.value);
      }
    };
  }
  std::string out;
  for (const auto& [name, render_part] : parts) render_part(out);
  return out;
}

registry& registry::global() {
  static registry instance;
  return instance;
}

}  // namespace aw::events::metrics
