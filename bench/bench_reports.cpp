// Time and peak memory of building reports over a large store.
// Fills DIR (once) with N events and M alerts (half acknowledged, a quarter
// resolved, so MTTA/MTTR have history to read) through the real store, then
// builds the given report and prints wall time, file size and the process's peak
// RSS (getrusage ru_maxrss). Run `fill` and each build as separate processes so
// each peak belongs to one build alone.
// Usage: build/bench/bench_reports fill DIR [EVENTS=1000000] [ALERTS=10000]
//        build/bench/bench_reports build DIR TYPE FORMAT [DAYS=30]

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "model/event.hpp"
#include "reports/report_builder.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

using namespace sai;

namespace {

constexpr std::int64_t kEnd = 1'790'000'000'000;  // data spread over the 30 days before this
constexpr std::int64_t kDay = 86'400'000;

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

std::string uuid_at(std::int64_t ms) {
    return core::new_uuid_v7(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

int fill(storage::Store& store, long events, long alerts) {
    const auto t0 = std::chrono::steady_clock::now();
    std::mt19937_64 rng(7);
    const char* cats[] = {"authentication", "network", "file", "process"};
    const long have = store.events().count().value();
    std::vector<model::Event> batch;
    for (long i = have; i < events; ++i) {
        model::Event e;
        e.timestamp = kEnd - 30 * kDay + i * (30 * kDay / events);
        e.id = uuid_at(e.timestamp);
        e.ingested = e.timestamp;
        e.category = cats[rng() % 4];
        e.outcome = rng() % 3 ? "success" : "failure";
        e.host_name = "host-" + std::to_string(rng() % 500);
        e.user_name = "user-" + std::to_string(rng() % 200);
        e.source_ip = "10.0." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
        e.message = "Failed password for user-" + std::to_string(rng() % 200) + " from " + e.source_ip + " port 22";
        batch.push_back(std::move(e));
        if (batch.size() == 5000) {
            if (auto r = store.events().insert_batch(batch); !r) {
                std::fprintf(stderr, "insert: %s\n", r.error().detail.c_str());
                return 1;
            }
            batch.clear();
        }
    }
    if (!batch.empty() && !store.events().insert_batch(batch)) return 1;

    std::vector<model::Alert> list;
    std::vector<model::AlertChange> changes;
    for (long i = 0; i < alerts; ++i) {
        model::Alert a;
        a.first_seen = kEnd - 30 * kDay + i * (30 * kDay / alerts);
        a.last_seen = a.first_seen + 60'000 * static_cast<std::int64_t>(rng() % 120);
        a.created_at = a.first_seen;
        a.updated_at = a.last_seen;
        a.id = uuid_at(a.created_at);
        a.fingerprint = core::sha256_hex(a.id);
        a.rule_id = "rule-" + std::to_string(rng() % 40);
        a.title = "Suspicious activity " + std::to_string(i);
        a.severity = static_cast<model::Severity>(rng() % 5);
        a.risk = model::default_risk(a.severity);
        a.tactics = {rng() % 2 ? "credential-access" : "lateral-movement"};
        a.entities.hosts = {"host-" + std::to_string(rng() % 500)};
        a.entities.users = {"user-" + std::to_string(rng() % 200)};
        a.count = 1 + static_cast<std::int64_t>(rng() % 50);
        changes.push_back({a.id, a.created_at, "system", "created", "", "new", ""});
        if (i % 2 == 0) {
            changes.push_back({a.id, a.created_at + 600'000, "alice", "status", "new", "acknowledged", ""});
            a.status = model::AlertStatus::Acknowledged;
            if (i % 4 == 0) {
                changes.push_back({a.id, a.created_at + 4'200'000, "alice", "status", "acknowledged", "resolved", "ok"});
                a.status = model::AlertStatus::Resolved;
            }
        }
        list.push_back(std::move(a));
        if (list.size() == 1000) {
            if (!store.alerts().save(list, changes)) return 1;
            list.clear();
            changes.clear();
        }
    }
    if (!store.alerts().save(list, changes)) return 1;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("filled: %ld events, %ld alerts in %.1f s\n", store.events().count().value(), alerts, s);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s fill DIR [EVENTS] [ALERTS] | build DIR TYPE FORMAT [DAYS]\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    storage::SqliteOptions o;
    o.data_dir = argv[2];
    o.synchronous = "normal";
    auto store = storage::SqliteStore::open(o).value();
    if (mode == "fill") {
        return fill(*store, argc > 3 ? std::atol(argv[3]) : 1'000'000, argc > 4 ? std::atol(argv[4]) : 10'000);
    }
    if (mode != "build" || argc < 5) return 2;
    const int days = argc > 5 ? std::atoi(argv[5]) : 30;
    const long rss_before = peak_rss_kib();
    reports::ReportSpec spec{core::new_uuid_v7(), argv[3], argv[4], kEnd - days * kDay, kEnd, kEnd, {}};
    const auto file = std::filesystem::path(argv[2]) / ("bench-report." + std::string(argv[4]));
    const auto t0 = std::chrono::steady_clock::now();
    auto built = reports::build_report(spec, *store, {}, file);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!built) {
        std::fprintf(stderr, "build: %s\n", built.error().detail.c_str());
        return 1;
    }
    std::printf("%s %s over %d days: %.2f s, %ju bytes, %d pages, peak RSS %.1f MiB (%.1f MiB after opening the store)\n",
                argv[3], argv[4], days, s, static_cast<std::uintmax_t>(std::filesystem::file_size(file)),
                built->pages, peak_rss_kib() / 1024.0, rss_before / 1024.0);
    return 0;
}
