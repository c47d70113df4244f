// Costs along the ingest path, per 1,000 events: JSON parsing, mapping to
// Event, the stored document, and the SQLite batch insert (indexes + FTS5).
// Run: build/bench/bench_ingest (the PostgreSQL case uses POSTGRES_URL, or starts
// its own server through testkit::PostgresServer)

#include "model/event.hpp"
#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/postgres_server.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <filesystem>
#include <random>

namespace {

using namespace sai;

std::string ndjson_line(int i) {
    static const char* users[] = {"root", "admin", "alice", "bob", "carol"};
    return R"({"event_type":"login","source_ip":"10.)" + std::to_string(i % 256) + "." + std::to_string(i / 256 % 256) +
           R"(.7","destination_ip":"192.168.1.)" + std::to_string(i % 250 + 1) + R"(","user":")" + users[i % 5] +
           R"(","host":"host-)" + std::to_string(i % 40) +
           R"(","bytes_transferred":)" + std::to_string(i * 37 % 100000) +
           R"(,"severity":"high","event.category":"authentication","event.outcome":"failure",)"
           R"("message":"Failed password for root from 10.0.0.)" + std::to_string(i % 250) + " port " +
           std::to_string(1024 + i) + R"( ssh2"})";
}

std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void BM_ParseAndMap1000(benchmark::State& state) {
    std::vector<std::string> lines;
    for (int i = 0; i < 1000; ++i) lines.push_back(ndjson_line(i));
    for (auto _ : state) {
        for (const auto& l : lines) {
            auto v = boost::json::parse(l);
            benchmark::DoNotOptimize(model::event_from_json(v.as_object(), now()));
        }
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParseAndMap1000)->Unit(benchmark::kMillisecond);

void BM_Serialize1000(benchmark::State& state) {
    std::vector<model::Event> events;
    for (int i = 0; i < 1000; ++i) {
        events.push_back(model::event_from_json(boost::json::parse(ndjson_line(i)).as_object(), now()).value());
    }
    for (auto _ : state) {
        for (const auto& e : events) benchmark::DoNotOptimize(model::event_to_json_text(e));
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Serialize1000)->Unit(benchmark::kMillisecond);

void BM_SqliteInsert1000(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() / ("bench-ingest-" + std::to_string(::getpid()));
    storage::SqliteOptions o;
    o.data_dir = dir;
    o.synchronous = state.range(0) ? "full" : "normal";
    auto store = storage::SqliteStore::open(o).value();
    int n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<model::Event> events;
        for (int i = 0; i < 1000; ++i) {
            auto e = model::event_from_json(boost::json::parse(ndjson_line(n++)).as_object(), now()).value();
            events.push_back(std::move(e));
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(store->events().insert_batch(events));
    }
    state.SetItemsProcessed(state.iterations() * 1000);
    store.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqliteInsert1000)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);
// A fixed number of batches into a fresh store, so that instruction counts
// (valgrind --tool=callgrind) compare between builds: --benchmark_filter=SqliteInsert1000/0/iter
BENCHMARK(BM_SqliteInsert1000)->Arg(0)->Iterations(40)->Unit(benchmark::kMillisecond);

// One batch of 1,000 = one transaction: event_ids + multi-row INSERT via unnest()
// into the day partition (its indexes, GIN on the tsvector), counters.
void BM_PostgresInsert1000(benchmark::State& state) {
    storage::PgOptions o;
    if (const char* url = std::getenv("POSTGRES_URL")) {
        o.url = url;
    } else if (auto* server = testkit::PostgresServer::shared()) {
        o.url = server->create_database();
    } else {
        state.SkipWithError(testkit::PostgresServer::unavailable_reason().c_str());
        return;
    }
    auto store = storage::PgStore::open(o).value();
    int n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::vector<model::Event> events;
        for (int i = 0; i < 1000; ++i) {
            auto e = model::event_from_json(boost::json::parse(ndjson_line(n++)).as_object(), now()).value();
            events.push_back(std::move(e));
        }
        state.ResumeTiming();
        benchmark::DoNotOptimize(store->events().insert_batch(events));
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_PostgresInsert1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
