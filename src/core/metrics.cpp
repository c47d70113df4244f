#include "core/metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

namespace sai::core::metrics {
namespace {

void append_number(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
        out += std::to_string(static_cast<long long>(v));
    } else {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, ec == std::errc{} ? end : buf);
    }
}

void escape_into(std::string& out, std::string_view v, bool help) {
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && !help) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

enum class Type { Counter, Gauge, Histogram };

const char* type_name(Type t) {
    switch (t) {
    case Type::Counter: return "counter";
    case Type::Gauge: return "gauge";
    case Type::Histogram: return "histogram";
    }
    return "untyped";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    std::sort(bounds_.begin(), bounds_.end());
    counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
    for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) noexcept {
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    double cur = sum_.load(std::memory_order_relaxed);
    while (!sum_.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
    }
}

std::vector<std::uint64_t> Histogram::buckets() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
    return out;
}

double Histogram::quantile(double q) const {
    const auto b = buckets();
    std::uint64_t total = 0;
    for (auto n : b) total += n;
    if (total == 0) return 0;
    const double rank = q * static_cast<double>(total);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (static_cast<double>(seen + b[i]) >= rank && b[i] > 0) {
            const double lo = i == 0 ? 0 : bounds_[i - 1];
            if (i == bounds_.size()) return lo;  // in +Inf: the highest finite bound is all we know
            const double hi = bounds_[i];
            return lo + (hi - lo) * (rank - static_cast<double>(seen)) / static_cast<double>(b[i]);
        }
        seen += b[i];
    }
    return bounds_.empty() ? 0 : bounds_.back();
}

std::vector<double> latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string format_labels(const Labels& labels) {
    if (labels.empty()) return {};
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += "=\"";
        escape_into(out, v, false);
        out += '"';
    }
    out += '}';
    return out;
}

void Writer::family(std::string_view name, std::string_view help, std::string_view type) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    escape_into(out_, help, true);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

void Writer::sample(std::string_view name, const Labels& labels, double value) {
    out_ += name;
    out_ += format_labels(labels);
    out_ += ' ';
    append_number(out_, value);
    out_ += '\n';
}

struct Registry::Impl {
    struct Series {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
    };
    struct Family {
        Type type;
        std::string help;
        std::vector<std::unique_ptr<Series>> series;
        std::unordered_map<std::string, Series*> by_labels;
    };
    mutable std::mutex mutex;
    std::map<std::string, Family, std::less<>> families;
    std::vector<std::function<void(Writer&)>> collectors;

    Series& series(std::string_view name, std::string_view help, Type type, const Labels& labels,
                   const std::vector<double>* bounds) {
        std::lock_guard lock(mutex);
        auto it = families.find(name);
        if (it == families.end()) {
            it = families.emplace(std::string(name), Family{type, std::string(help), {}, {}}).first;
        }
        Family& f = it->second;
        const std::string key = format_labels(labels);
        if (auto s = f.by_labels.find(key); s != f.by_labels.end()) return *s->second;
        auto s = std::make_unique<Series>();
        s->labels = labels;
        // A family keeps the type it was first registered with.
        switch (f.type) {
        case Type::Counter: s->counter = std::make_unique<Counter>(); break;
        case Type::Gauge: s->gauge = std::make_unique<Gauge>(); break;
        case Type::Histogram: s->histogram = std::make_unique<Histogram>(bounds ? *bounds : latency_buckets()); break;
        }
        Series& ref = *s;
        f.by_labels.emplace(key, s.get());
        f.series.push_back(std::move(s));
        return ref;
    }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

// A name registered first with another type hands back a private series, so a
// programming error shows as a missing sample, never as a crash.
Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    auto& s = impl_->series(name, help, Type::Counter, labels, nullptr);
    static Counter orphan;
    return s.counter ? *s.counter : orphan;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    auto& s = impl_->series(name, help, Type::Gauge, labels, nullptr);
    static Gauge orphan;
    return s.gauge ? *s.gauge : orphan;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& bounds) {
    auto& s = impl_->series(name, help, Type::Histogram, labels, &bounds);
    static Histogram orphan({1});
    return s.histogram ? *s.histogram : orphan;
}

void Registry::add_collector(std::function<void(Writer&)> collector) {
    std::lock_guard lock(impl_->mutex);
    impl_->collectors.push_back(std::move(collector));
}

std::string Registry::expose() const {
    Writer w;
    std::vector<std::function<void(Writer&)>> collectors;
    {
        std::lock_guard lock(impl_->mutex);
        for (const auto& [name, f] : impl_->families) {
            w.family(name, f.help, type_name(f.type));
            for (const auto& s : f.series) {
                switch (f.type) {
                case Type::Counter: w.sample(name, s->labels, static_cast<double>(s->counter->value())); break;
                case Type::Gauge: w.sample(name, s->labels, s->gauge->value()); break;
                case Type::Histogram: {
                    const auto& h = *s->histogram;
                    const auto counts = h.buckets();
                    std::uint64_t cumulative = 0;
                    Labels labels = s->labels;
                    labels.emplace_back("le", "");
                    for (std::size_t i = 0; i < counts.size(); ++i) {
                        cumulative += counts[i];
                        std::string le;
                        if (i < h.bounds().size()) {
                            append_number(le, h.bounds()[i]);
                        } else {
                            le = "+Inf";
                        }
                        labels.back().second = le;
                        w.sample(name + "_bucket", labels, static_cast<double>(cumulative));
                    }
                    w.sample(name + "_sum", s->labels, h.sum());
                    w.sample(name + "_count", s->labels, static_cast<double>(cumulative));
                    break;
                }
                }
            }
        }
        collectors = impl_->collectors;
    }
    for (const auto& c : collectors) c(w);
    return w.take();
}

Registry& default_registry() {
    static Registry registry;
    return registry;
}

void collect_process(Writer& w) {
    // /proc/self/stat: utime and stime (fields 14, 15) in clock ticks, starttime (22),
    // vsize (23, bytes), rss (24, pages), num_threads (20).
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (std::getline(stat, line)) {
        const auto close = line.rfind(')');
        std::istringstream rest(close == std::string::npos ? std::string() : line.substr(close + 2));
        std::vector<std::string> f{"", "", ""};  // fields 1-2 consumed; index 2 is field 3
        std::string tok;
        while (rest >> tok) f.push_back(tok);
        auto field = [&](std::size_t n) -> double { return n < f.size() ? std::atof(f[n].c_str()) : 0.0; };
        const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
        w.family("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", "counter");
        w.sample("process_cpu_seconds_total", {}, (field(14) + field(15)) / ticks);
        w.family("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
        w.sample("process_resident_memory_bytes", {}, field(24) * page);
        w.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge");
        w.sample("process_virtual_memory_bytes", {}, field(23));
        w.family("process_threads", "Threads of the process.", "gauge");
        w.sample("process_threads", {}, field(20));
        std::ifstream uptime("/proc/uptime");
        double up = 0;
        uptime >> up;
        std::ifstream btime_file("/proc/stat");
        double boot = 0;
        for (std::string l; std::getline(btime_file, l);) {
            if (l.starts_with("btime ")) boot = std::atof(l.c_str() + 6);
        }
        w.family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", "gauge");
        w.sample("process_start_time_seconds", {}, boot + field(22) / ticks);
    }
    std::size_t fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++fds;
        closedir(d);
        fds = fds >= 2 ? fds - 2 : 0;  // . and ..
    }
    w.family("process_open_fds", "Open file descriptors.", "gauge");
    w.sample("process_open_fds", {}, static_cast<double>(fds));
    w.family("process_max_fds", "Limit of open file descriptors.", "gauge");
    w.sample("process_max_fds", {}, static_cast<double>(sysconf(_SC_OPEN_MAX)));
}

}  // namespace sai::core::metrics
