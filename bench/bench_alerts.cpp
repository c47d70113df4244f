// The alert manager's cost per detection: suppression check, fingerprint,
// merge into the open alert (or a new one), and the batched store write.
// Batches of 1,000 detections (what 100 ms of a 10,000 detections/s rule storm
// brings), spread over `range(0)` distinct entities (fingerprints).
// Run: build/bench/bench_alerts

#include "alerts/alert_manager.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>

namespace {

using namespace sai;

void BM_DetectionsPerBatch(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() / ("sai-bench-alerts-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    storage::SqliteOptions o;
    o.data_dir = dir;
    auto store = storage::SqliteStore::open(o).value();
    alerts::AlertManager manager(store->alerts(), {});
    model::Suppression s;
    s.scope = model::Suppression::Scope::Rule;
    s.value = "some-other-rule";
    s.reason = "one suppression to check against";
    (void)manager.add_suppression(s);
    const int entities = static_cast<int>(state.range(0));
    std::int64_t t = 1'795'000'000'000;
    std::vector<model::Detection> batch(1000);
    for (auto _ : state) {
        for (int i = 0; i < 1000; ++i) {
            auto& d = batch[i];
            d = {};
            d.rule_id = "ssh-brute-force";
            d.title = "SSH brute force";
            d.severity = model::Severity::High;
            d.tags = {"attack.credential_access", "attack.t1110.001"};
            d.entities.ips = {"10.0." + std::to_string(i % entities / 256) + "." + std::to_string(i % entities % 256)};
            d.entities.users = {"root"};
            d.event_ids = {"event-" + std::to_string(t) + "-" + std::to_string(i)};
            d.timestamp = ++t;
            d.explanation = R"({"selection":{"event.outcome":"failure"},"count":12})";
        }
        manager.submit(batch);
        manager.flush();
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    state.counters["alerts"] = static_cast<double>(manager.stats().created);
    store->close();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DetectionsPerBatch)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
