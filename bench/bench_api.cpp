// Per-request costs of the HTTP layer that do not involve sockets: routing,
// the middleware chain around a handler, request ids and access-log lines.
// Run: build/bench/bench_api

#include "api/dispatcher.hpp"
#include "api/router.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"

#include <benchmark/benchmark.h>

namespace {

using namespace sai;

api::Router make_router() {
    api::Router router;
    auto ok = [](api::Request&) { return api::json_response(200, "{}"); };
    for (const char* p : {"/health", "/openapi.json", "/docs", "/redoc", "/api/v1/auth/login", "/api/v1/auth/me",
                          "/api/v1/monitor/events", "/api/v1/alerts", "/api/v1/users", "/api/v1/reports"}) {
        router.add(api::Method::Get, p, ok);
    }
    for (const char* p : {"/api/v1/alerts/{id}", "/api/v1/users/{id}", "/api/v1/monitor/events/{id}",
                          "/api/v1/reports/{id}", "/api/v1/alerts/{id}/history"}) {
        router.add(api::Method::Get, p, ok);
    }
    return router;
}

void BM_RouteStatic(benchmark::State& state) {
    auto router = make_router();
    for (auto _ : state) {
        benchmark::DoNotOptimize(router.match(api::Method::Get, "/health"));
    }
}
BENCHMARK(BM_RouteStatic);

void BM_RouteWithParameter(benchmark::State& state) {
    auto router = make_router();
    for (auto _ : state) {
        benchmark::DoNotOptimize(router.match(api::Method::Get, "/api/v1/alerts/0193a4b0-7c1e-7abc-8def-0123456789ab"));
    }
}
BENCHMARK(BM_RouteWithParameter);

void BM_DispatchHealthLike(benchmark::State& state) {
    auto router = make_router();
    api::Dispatcher dispatcher(router, {});
    for (auto _ : state) {
        api::Request req;
        req.method = api::Method::Get;
        req.method_text = "GET";
        req.path = "/health";
        req.headers = {{"Host", "127.0.0.1:8000"}, {"User-Agent", "wrk"}};
        auto prepared = dispatcher.prepare(req);
        auto res = dispatcher.run(*prepared.route, req);
        dispatcher.finish(req, res);
        benchmark::DoNotOptimize(res);
    }
}
BENCHMARK(BM_DispatchHealthLike);

void BM_UuidV7(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(core::new_uuid_v7());
    }
}
BENCHMARK(BM_UuidV7);

void BM_AccessLogLine(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(core::log::format_line(
            core::log::Level::Info, "request",
            {{"method", "GET"}, {"path", "/health"}, {"status", 200}, {"duration_ms", 0.042}, {"bytes", 63},
             {"request_id", "0193a4b0-7c1e-7abc-8def-0123456789ab"}, {"remote", "127.0.0.1"}},
            "2026-11-29T09:00:00.000Z"));
    }
}
BENCHMARK(BM_AccessLogLine);

}  // namespace

BENCHMARK_MAIN();
