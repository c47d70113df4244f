#pragma once
// Metrics in the Prometheus text exposition format (version 0.0.4).
//
// A Registry holds families (name, help, type) of counters, gauges and
// histograms, each family keyed by label values. Hot paths keep a reference to
// their series (creation takes a lock, updates are atomic and lock-free).
// Collectors are callbacks run at scrape time for values that are read rather
// than counted (queue depth, resident memory, open files).

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sai::core::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double d) noexcept {
        double cur = value_.load(std::memory_order_relaxed);
        while (!value_.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
        }
    }
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0};
};

/// Cumulative buckets with upper bounds `bounds` (sorted; +Inf is implicit).
class Histogram {
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
    double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
    /// Per-bucket (non-cumulative) counts, the last one being +Inf.
    std::vector<std::uint64_t> buckets() const;
    const std::vector<double>& bounds() const { return bounds_; }
    /// The value under which `q` (0..1) of the observations fall, interpolated within its bucket.
    double quantile(double q) const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0};
};

/// Latency buckets in seconds: 100 µs .. 10 s.
std::vector<double> latency_buckets();

/// Writes samples for a collector: one call per sample, families declared first.
class Writer {
public:
    void family(std::string_view name, std::string_view help, std::string_view type);
    void sample(std::string_view name, const Labels& labels, double value);
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

/// Thread-safe. One per process (default_registry()) plus private ones in tests.
class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    /// The series of `name` with these label values, created on first use. A name
    /// always has one type and help text (the first registration wins).
    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {},
                         const std::vector<double>& bounds = latency_buckets());
    /// Runs at every scrape, after the registered series.
    void add_collector(std::function<void(Writer&)> collector);

    /// The text exposition of everything.
    std::string expose() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

Registry& default_registry();

/// Label values are escaped (backslash, double quote, newline) when written.
std::string format_labels(const Labels& labels);

/// Process figures from /proc/self: CPU seconds, resident and virtual memory,
/// open file descriptors, threads, start time. A collector for the registry.
void collect_process(Writer& w);

}  // namespace sai::core::metrics
