// ML scoring costs: one event through feature extraction, the Isolation Forest
// and the Random Forest (100 trees each), with p50/p99 from manual timing of
// every call; and batch scoring rows/s of both forests.
// Run: build/bench/bench_ml
//
// The models are trained here on the feature vectors of a generated event
// stream (logins with failure bursts, connections with port scans and large
// transfers), labelled benign/suspicious/malicious by simple rules, so the
// trees have realistic depth; the figures measure scoring cost, not accuracy.

#include "ml/features.hpp"
#include "ml/isolation_forest.hpp"
#include "ml/random_forest.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <random>

namespace {

using namespace sai;

std::vector<model::Event> event_stream(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<model::Event> events;
    const char* users[] = {"root", "admin", "alice", "bob", "carol", "dave", "svc-backup"};
    std::int64_t t = 1'700'000'000'000;
    for (std::size_t i = 0; i < n; ++i) {
        model::Event e;
        t += static_cast<std::int64_t>(rng() % 200);
        e.timestamp = t;
        e.source_ip = "10.0." + std::to_string(rng() % 8) + "." + std::to_string(rng() % 64);
        e.host_name = "host-" + std::to_string(rng() % 20);
        e.severity = static_cast<std::int64_t>(rng() % 5);
        const auto kind = rng() % 10;
        if (kind < 4) {
            e.category = "authentication";
            e.action = "login_attempt";
            e.user_name = users[rng() % 7];
            e.outcome = rng() % 4 == 0 ? "failure" : "success";
            e.message = "Accepted password for " + e.user_name;
        } else {
            e.category = "network";
            e.type = "connection";
            e.network_transport = rng() % 5 == 0 ? "udp" : "tcp";
            e.destination_ip = "192.168.1." + std::to_string(rng() % 50);
            e.destination_port = kind == 9 ? static_cast<std::int64_t>(rng() % 2000) : std::int64_t{443};
            e.source_port = static_cast<std::int64_t>(32768 + rng() % 30000);
            e.source_bytes = static_cast<std::int64_t>(rng() % (kind == 8 ? 50'000'000 : 20'000));
            e.destination_bytes = static_cast<std::int64_t>(rng() % 100'000);
            e.duration_ns = static_cast<std::int64_t>(rng() % 5'000'000'000);
        }
        e.template_id = "t" + std::to_string(rng() % 30);
        events.push_back(std::move(e));
    }
    return events;
}

struct Models {
    ml::Matrix features;
    ml::IsolationForest iforest;
    ml::RandomForest forest;
    std::vector<model::Event> probe;  // unseen events for single-event timing
};

const Models& models() {
    static const Models m = [] {
        const auto events = event_stream(20000, 1);
        ml::FeatureExtractor fx;
        const std::size_t d = ml::FeatureExtractor::feature_count();
        ml::Matrix x(events.size(), d);
        std::vector<std::int32_t> y(events.size());
        const auto& names = ml::FeatureExtractor::feature_names();
        auto col = [&](std::string_view name) {
            return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
        };
        for (std::size_t i = 0; i < events.size(); ++i) {
            fx.extract(events[i], x.row(i));
            const auto f = x.row(i);
            y[i] = f[col("failed_logins_user")] >= 3 || f[col("bytes_out_log")] > 16 ? 2
                   : f[col("distinct_dst_ports_source")] > 20                         ? 1
                                                                                     : 0;
        }
        auto iforest = ml::IsolationForest::fit(x, {}).value();
        auto forest = ml::RandomForest::fit(x, y, {"benign", "suspicious", "malicious"}, {}).value();
        return Models{std::move(x), std::move(iforest), std::move(forest), event_stream(50000, 2)};
    }();
    return m;
}

/// One event: extract features (updating windows), IF score, RF probabilities.
void BM_ScoreOneEvent(benchmark::State& state) {
    const auto& m = models();
    ml::FeatureExtractor fx;
    std::vector<float> f(ml::FeatureExtractor::feature_count());
    std::vector<double> proba(3);
    std::vector<double> nanos;
    nanos.reserve(1 << 20);
    std::size_t i = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        fx.extract(m.probe[i % m.probe.size()], f);
        const double s = m.iforest.score(f);
        m.forest.predict_proba(f, proba);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(proba.data());
        nanos.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
        ++i;
    }
    std::sort(nanos.begin(), nanos.end());
    state.counters["p50_us"] = nanos[nanos.size() / 2] / 1000;
    state.counters["p99_us"] = nanos[nanos.size() * 99 / 100] / 1000;
    state.counters["max_us"] = nanos.back() / 1000;
    state.counters["if_nodes"] = static_cast<double>(m.iforest.node_count());
    state.counters["rf_nodes"] = static_cast<double>(m.forest.node_count());
}
BENCHMARK(BM_ScoreOneEvent)->Iterations(200000)->Unit(benchmark::kMicrosecond);

/// The parts of BM_ScoreOneEvent alone (mean per call).
void BM_ExtractOnly(benchmark::State& state) {
    const auto& m = models();
    ml::FeatureExtractor fx;
    std::vector<float> f(ml::FeatureExtractor::feature_count());
    std::size_t i = 0;
    for (auto _ : state) {
        fx.extract(m.probe[i++ % m.probe.size()], f);
        benchmark::DoNotOptimize(f.data());
    }
}
BENCHMARK(BM_ExtractOnly)->Unit(benchmark::kMicrosecond);

void BM_IsolationForestOne(benchmark::State& state) {
    const auto& m = models();
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(m.iforest.score(m.features.row(i++ % m.features.rows)));
}
BENCHMARK(BM_IsolationForestOne)->Unit(benchmark::kMicrosecond);

void BM_RandomForestOne(benchmark::State& state) {
    const auto& m = models();
    std::vector<double> proba(3);
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(m.forest.predict_proba(m.features.row(i++ % m.features.rows), proba));
}
BENCHMARK(BM_RandomForestOne)->Unit(benchmark::kMicrosecond);

void BM_IsolationForestBatch(benchmark::State& state) {
    const auto& m = models();
    std::vector<double> out(m.features.rows);
    for (auto _ : state) {
        m.iforest.score_batch(m.features, out, static_cast<unsigned>(state.range(0)));
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(m.features.rows * state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IsolationForestBatch)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RandomForestBatch(benchmark::State& state) {
    const auto& m = models();
    std::vector<double> out(m.features.rows * 3);
    for (auto _ : state) {
        m.forest.predict_proba_batch(m.features, out, static_cast<unsigned>(state.range(0)));
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["rows/s"] = benchmark::Counter(static_cast<double>(m.features.rows * state.iterations()),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RandomForestBatch)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
