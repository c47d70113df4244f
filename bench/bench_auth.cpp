// Per-request cost of authentication and RBAC: verifying an access token
// (libjwt HS256 + claim checks + revocation and generation lookups), an API key
// lookup, and the whole dispatcher guard around a trivial handler.
// Run: build/bench/bench_auth

#include "api/dispatcher.hpp"
#include "api/router.hpp"
#include "auth/auth_service.hpp"
#include "auth/jwt.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>

namespace {

using namespace sai;

struct Fixture {
    Fixture() {
        dir = std::filesystem::temp_directory_path() / ("bench-auth-" + std::to_string(::getpid()));
        storage::SqliteOptions o;
        o.data_dir = dir;
        store = storage::SqliteStore::open(o).value();
        audit = auth::AuditLog::open(store->audit()).value();
        auth::AuthOptions options;
        options.jwt.secret = std::string(48, 'k');
        service = auth::AuthService::open(*store, *audit, options).value();
        (void)service->ensure_admin("bench-admin-password");
        token = service->login("admin", "bench-admin-password", {"127.0.0.1", "b"}).value().access_token;
        model::Principal admin = *service->authenticate("Bearer " + token, "").value();
        key = service->create_api_key("bench", model::Role::Analyst, std::nullopt, admin, {}).value().secret;
    }
    ~Fixture() {
        service.reset();
        audit.reset();
        store.reset();
        std::filesystem::remove_all(dir);
    }
    std::filesystem::path dir;
    std::unique_ptr<storage::SqliteStore> store;
    std::unique_ptr<auth::AuditLog> audit;
    std::unique_ptr<auth::AuthService> service;
    std::string token;
    std::string key;
};

Fixture& fixture() {
    static Fixture f;
    return f;
}

void BM_JwtVerifyOnly(benchmark::State& state) {
    auth::JwtCodec codec({.secret = std::string(48, 'k')});
    auth::AccessClaims claims{.subject = "u", .username = "alice", .role = model::Role::Analyst};
    const auto now = std::time(nullptr);
    const std::string token = codec.issue(claims, now).value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(codec.verify(token, now));
    }
}
BENCHMARK(BM_JwtVerifyOnly);

// The same without the verified-token cache: libjwt decodes and checks the
// HMAC every time (the cost of a client's first request with a new token).
void BM_JwtVerifyUncached(benchmark::State& state) {
    auth::JwtCodec codec({.secret = std::string(48, 'k')}, 0);
    auth::AccessClaims claims{.subject = "u", .username = "alice", .role = model::Role::Analyst};
    const auto now = std::time(nullptr);
    const std::string token = codec.issue(claims, now).value();
    for (auto _ : state) {
        benchmark::DoNotOptimize(codec.verify(token, now));
    }
}
BENCHMARK(BM_JwtVerifyUncached);

void BM_AuthenticateBearerToken(benchmark::State& state) {
    auto& f = fixture();
    const std::string header = "Bearer " + f.token;
    for (auto _ : state) {
        benchmark::DoNotOptimize(f.service->authenticate(header, ""));
    }
}
BENCHMARK(BM_AuthenticateBearerToken);

void BM_AuthenticateApiKey(benchmark::State& state) {
    auto& f = fixture();
    for (auto _ : state) {
        benchmark::DoNotOptimize(f.service->authenticate("", f.key));
    }
}
BENCHMARK(BM_AuthenticateApiKey);

void BM_DispatchAuthenticatedRoute(benchmark::State& state) {
    auto& f = fixture();
    api::Router router;
    router.add(api::Method::Get, "/api/v1/auth/me", [](api::Request&) { return api::json_response(200, "{}"); });
    auto limiter = auth::make_memory_rate_limiter();
    api::Dispatcher dispatcher(router, {}, {.auth = f.service.get(), .limiter = limiter.get(), .api_per_minute = 0});
    const std::string header = "Bearer " + f.token;
    for (auto _ : state) {
        api::Request req;
        req.method = api::Method::Get;
        req.method_text = "GET";
        req.path = "/api/v1/auth/me";
        req.remote_address = "127.0.0.1";
        req.headers = {{"Host", "127.0.0.1"}, {"Authorization", header}};
        auto prepared = dispatcher.prepare(req);
        auto res = dispatcher.run(*prepared.route, req);
        dispatcher.finish(req, res, prepared.route);
        benchmark::DoNotOptimize(res);
    }
}
BENCHMARK(BM_DispatchAuthenticatedRoute);

}  // namespace

BENCHMARK_MAIN();
