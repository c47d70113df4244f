// Query latency over a large event store. Fills DIR (once) with N synthetic but
// varied events through the real store, then times a mix of searches, newest
// first, limit 100, like the API does.
// Usage: build/bench/bench_query DIR [N=10000000] [REPEAT=200]

#include "model/event.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace sai;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR [N] [REPEAT]\n", argv[0]);
        return 2;
    }
    const long n = argc > 2 ? std::atol(argv[2]) : 10'000'000;
    const int repeat = argc > 3 ? std::atoi(argv[3]) : 200;
    storage::SqliteOptions o;
    o.data_dir = argv[1];
    o.synchronous = "normal";
    auto store = storage::SqliteStore::open(o).value();
    auto existing = store->events().count().value();
    const std::int64_t base = 1'790'000'000'000;  // events spread over ~60 days before this
    std::mt19937_64 rng(42);
    const char* users[] = {"root", "admin", "alice", "bob", "carol", "dave", "svc-backup", "www-data"};
    const char* cats[] = {"authentication", "network", "file", "process"};
    const char* words[] = {"Failed", "Accepted", "password", "publickey", "session", "opened", "closed",
                           "connection", "refused", "timeout", "sudo", "cron", "kernel", "firewall", "DROP"};
    if (existing < n) {
        auto t0 = std::chrono::steady_clock::now();
        std::vector<model::Event> batch;
        for (long i = existing; i < n; ++i) {
            model::Event e;
            e.id = "q" + std::to_string(i);
            e.timestamp = base + i * 500;  // 2 per second
            e.ingested = e.timestamp;
            e.category = cats[rng() % 4];
            e.outcome = rng() % 3 ? "success" : "failure";
            e.severity = static_cast<std::int64_t>(rng() % 5);
            e.host_name = "host-" + std::to_string(rng() % 500);
            e.user_name = users[rng() % 8];
            e.source_ip = "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                          std::to_string(rng() % 254 + 1);
            e.destination_ip = "192.168." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 254 + 1);
            e.message = std::string(words[rng() % 15]) + " " + words[rng() % 15] + " for " + e.user_name + " from " +
                        e.source_ip + " port " + std::to_string(rng() % 65535) + " " + words[rng() % 15];
            batch.push_back(std::move(e));
            if (batch.size() == 5000) {
                store->events().insert_batch(batch).value();
                batch.clear();
                if (i % 500000 < 5000) {
                    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                    std::fprintf(stderr, "\r  %ld events (%.0f/s)   ", i + 1, (i + 1 - existing) / s);
                }
            }
        }
        if (!batch.empty()) store->events().insert_batch(batch).value();
        std::fprintf(stderr, "\n");
    }
    std::printf("events stored: %lld\n", static_cast<long long>(store->events().count().value()));

    struct Case {
        const char* name;
        storage::EventQuery query;
    };
    const std::int64_t end = base + n * 500;
    std::vector<Case> cases = {
        {"newest 100, no filter", {}},
        {"q=password (common word)", {.text = "password"}},
        {"q=refused timeout (two words)", {.text = "refused timeout"}},
        {"q=\"host word\" rare: sudo DROP kernel", {.text = "sudo DROP kernel"}},
        {"host=host-42", {.host = "host-42"}},
        {"user=carol, outcome=failure", {.user = "carol", .outcome = "failure"}},
        {"source_ip=10.42.0.0/16", {.source_range = model::cidr_range("10.42.0.0/16")}},
        {"source_ip=10.42.7.9 (one address)", {.source_range = model::cidr_range("10.42.7.9")}},
        {"category=file, last hour", {.from_ms = end - 3'600'000, .category = "file"}},
        {"severity_min=4, a day a week ago", {.from_ms = end - 8 * 86'400'000LL, .to_ms = end - 7 * 86'400'000LL, .severity_min = 4}},
        {"q=password + host=host-7", {.host = "host-7", .text = "password"}},
        {"q=sudo DROP kernel + user=carol", {.user = "carol", .text = "sudo DROP kernel"}},
        {"q=password + source_ip=10.42.0.0/16", {.source_range = model::cidr_range("10.42.0.0/16"), .text = "password"}},
        {"source_ip=10.0.0.0/8 + host=host-7", {.host = "host-7", .source_range = model::cidr_range("10.0.0.0/8")}},
        {"destination_ip=192.168.0.0/16", {.destination_range = model::cidr_range("192.168.0.0/16")}},
    };
    std::printf("%-40s %10s %10s %10s\n", "query (limit 100)", "p50 ms", "p99 ms", "rows");
    for (auto& c : cases) {
        c.query.limit = 100;
        std::vector<double> ms;
        std::size_t rows = 0;
        for (int i = 0; i < repeat; ++i) {
            auto t0 = std::chrono::steady_clock::now();
            auto r = store->events().query(c.query);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
            rows = r ? r->size() : 0;
        }
        std::sort(ms.begin(), ms.end());
        std::printf("%-40s %10.2f %10.2f %10zu\n", c.name, ms[ms.size() / 2], ms[ms.size() * 99 / 100], rows);
    }
    return 0;
}
