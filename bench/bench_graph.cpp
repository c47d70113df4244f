// The graph at scale (issue 9): builds an entity graph of about 100,000 nodes and
// 1,000,000 edges through GraphService::observe() (the pipeline stage's path),
// then measures memory, edge-update cost per event, attack-path query latency
// (k=5, max_hops=6) and the aggregated topology query.
//
//   build/bench/bench_graph [QUERIES]
//
// The synthetic enterprise: 10,000 servers (200 internet-facing, 100 of
// criticality 5), 80,000 workstations each talking to ~10 servers chosen with
// a Zipf-like popularity, servers talking to ~15 servers, 10,000 external
// addresses reaching the internet-facing servers.

#include "graph/graph_service.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace sai;
using Clock = std::chrono::steady_clock;

namespace {

long rss_kib() {
    std::ifstream f("/proc/self/status");
    std::string key;
    long value = 0;
    while (f >> key) {
        if (key == "VmRSS:") {
            f >> value;
            return value;
        }
        f.ignore(1 << 12, '\n');
    }
    return 0;
}

std::string server_ip(int i) { return "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }
std::string ws_ip(int i) { return "10.2." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }
std::string ext_ip(int i) { return "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())) - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    const int queries = argc > 1 ? std::atoi(argv[1]) : 200;
    const auto dir = std::filesystem::temp_directory_path() / ("bench-graph-" + std::to_string(::getpid()));
    storage::SqliteOptions o;
    o.data_dir = dir;
    o.synchronous = "normal";
    auto store = storage::SqliteStore::open(o).value();
    graph::GraphOptions options;
    options.max_discovered_assets = 0;  // measure the graph, not asset inserts
    graph::GraphService service(store->graph(), nullptr, nullptr, options);
    (void)service.start();

    constexpr int kServers = 10'000, kWorkstations = 80'000, kExternal = 10'000;
    std::mt19937 rng(9);
    const std::int64_t t0 = 1'795'000'000'000;
    for (int i = 0; i < 300; ++i) {
        model::Asset a;
        a.name = "srv-" + std::to_string(i);
        a.ips = {server_ip(i)};
        a.criticality = i < 100 ? 5 : 3;
        a.internet_facing = i >= 100;
        (void)service.upsert_asset_by_name(a, t0);
    }
    // Zipf-like popularity: server rank r chosen with weight 1/(r+1)^0.8.
    std::vector<double> weights(kServers);
    for (int i = 0; i < kServers; ++i) weights[i] = 1.0 / std::pow(i + 1, 0.8);
    std::discrete_distribution<int> popular(weights.begin(), weights.end());
    std::uniform_int_distribution<int> any_server(0, kServers - 1), any_port(0, 5);
    const int ports[] = {443, 445, 22, 3389, 8080, 5432};

    auto flow = [&](const std::string& src, const std::string& dst, int port, std::int64_t ts) {
        model::Event e;
        e.category = "network";
        e.timestamp = ts;
        e.source_ip = src;
        e.destination_ip = dst;
        e.destination_port = port;
        e.source_bytes = 1000;
        return e;
    };
    // Fixed per-source destination lists, so repeated events hit existing edges.
    std::vector<std::pair<std::string, std::pair<std::string, int>>> pairs;
    pairs.reserve(1'100'000);
    for (int w = 0; w < kWorkstations; ++w) {
        for (int j = 0; j < 10; ++j) pairs.push_back({ws_ip(w), {server_ip(popular(rng)), ports[any_port(rng)]}});
    }
    for (int s = 0; s < kServers; ++s) {
        for (int j = 0; j < 15; ++j) pairs.push_back({server_ip(s), {server_ip(any_server(rng)), ports[any_port(rng)]}});
    }
    for (int x = 0; x < kExternal; ++x) {
        for (int j = 0; j < 5; ++j) pairs.push_back({ext_ip(x), {server_ip(100 + static_cast<int>(rng() % 200)), 443}});
    }
    std::shuffle(pairs.begin(), pairs.end(), rng);

    const long rss_before = rss_kib();
    std::vector<model::Event> batch;
    batch.reserve(2000);
    auto started = Clock::now();
    std::size_t events = 0;
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        batch.push_back(flow(pairs[i].first, pairs[i].second.first, pairs[i].second.second, t0 + static_cast<std::int64_t>(i)));
        if (batch.size() == 2000 || i + 1 == pairs.size()) {
            events += batch.size();
            (void)service.observe(batch);
            batch.clear();
        }
    }
    const double fill_s = std::chrono::duration<double>(Clock::now() - started).count();
    const auto stats = service.stats();
    const long rss_after = rss_kib();
    std::printf("graph: %zu nodes, %zu edges (from %zu events)\n", stats.nodes, stats.edges, events);
    std::printf("memory: %.0f MiB by the graph's own count, RSS +%.0f MiB\n", stats.memory_bytes / 1048576.0,
                (rss_after - rss_before) / 1024.0);
    std::printf("fill (new edges): %.2f s, %.2f us/event\n", fill_s, fill_s * 1e6 / static_cast<double>(events));

    // Steady state: events on edges that exist already.
    started = Clock::now();
    const std::size_t steady = 500'000;
    for (std::size_t i = 0; i < steady; ++i) {
        const auto& p = pairs[rng() % pairs.size()];
        batch.push_back(flow(p.first, p.second.first, p.second.second, t0 + 2'000'000 + static_cast<std::int64_t>(i)));
        if (batch.size() == 2000) {
            (void)service.observe(batch);
            batch.clear();
        }
    }
    const double steady_s = std::chrono::duration<double>(Clock::now() - started).count();
    std::printf("update (existing edges): %.2f us/event\n", steady_s * 1e6 / static_cast<double>(steady));

    started = Clock::now();
    service.refresh_centrality();
    std::printf("PageRank (background): %.2f s\n", std::chrono::duration<double>(Clock::now() - started).count());

    // Attack paths: from an internet-facing server to a critical one.
    std::vector<double> ms, ms_budget;
    int truncated = 0, found = 0, truncated_budget = 0;
    std::size_t budget_paths = 0;
    for (int q = 0; q < queries; ++q) {
        graph::AttackPathRequest req;
        req.source = "host:srv-" + std::to_string(100 + static_cast<int>(rng() % 200));
        req.target = "host:srv-" + std::to_string(static_cast<int>(rng() % 100));
        req.k = 5;
        req.max_hops = 6;
        req.budget = std::chrono::milliseconds(5000);
        auto t = Clock::now();
        auto r = service.attack_paths(req).value();
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        truncated += r.at("summary").at("truncated").as_bool() ? 1 : 0;
        found += r.at("paths").as_array().empty() ? 0 : 1;
        req.budget = std::chrono::milliseconds(50);
        t = Clock::now();
        auto b = service.attack_paths(req).value();
        ms_budget.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        truncated_budget += b.at("summary").at("truncated").as_bool() ? 1 : 0;
        budget_paths += b.at("paths").as_array().size();
    }
    std::printf("attack paths k=5 max_hops=6, %d queries (5 s budget): p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
                "%d with paths, %d truncated\n",
                queries, percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), found, truncated);
    std::printf("attack paths with a 50 ms budget: p50 %.1f ms, p99 %.1f ms; %d of %d truncated, %.1f paths per answer\n",
                percentile(ms_budget, 0.5), percentile(ms_budget, 0.99), truncated_budget, queries,
                static_cast<double>(budget_paths) / queries);
    {
        graph::AttackPathRequest all;  // every entry point to every critical asset
        all.budget = std::chrono::milliseconds(5000);
        auto t = Clock::now();
        auto r = service.attack_paths(all).value();
        std::printf("attack paths, all entry points (%lld) to all targets (%lld): %.1f ms, %zu paths\n",
                    static_cast<long long>(r.at("summary").at("entry_points").as_uint64()),
                    static_cast<long long>(r.at("summary").at("targets").as_uint64()),
                    std::chrono::duration<double, std::milli>(Clock::now() - t).count(), r.at("paths").as_array().size());
    }

    std::vector<double> topo;
    std::size_t groups = 0;
    for (int q = 0; q < 10; ++q) {
        graph::TopologyRequest req;  // limit 300: grouped by /24
        req.budget = std::chrono::milliseconds(10'000);
        auto t = Clock::now();
        auto r = service.topology(req).value();
        topo.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        groups = r.at("summary").at("groups").as_uint64();
    }
    std::printf("topology, aggregated by /24 (%zu groups): p50 %.0f ms, max %.0f ms\n", groups, percentile(topo, 0.5),
                percentile(topo, 1.0));
    std::vector<double> sub;
    for (int q = 0; q < 10; ++q) {
        graph::TopologyRequest req;
        req.subnet = "10.1.3.0/24";
        auto t = Clock::now();
        (void)service.topology(req).value();
        sub.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    std::printf("topology, one /24: p50 %.0f ms\n", percentile(sub, 0.5));

    started = Clock::now();
    (void)service.save_snapshot(t0);
    std::printf("snapshot: %.2f s\n", std::chrono::duration<double>(Clock::now() - started).count());
    store.reset();
    std::filesystem::remove_all(dir);
    return 0;
}
