#include "api/access_policy.hpp"

#include "api/auth_routes.hpp"
#include "api/event_routes.hpp"
#include "api/graph_routes.hpp"
#include "api/live_routes.hpp"
#include "api/ml_routes.hpp"
#include "api/report_routes.hpp"
#include "api/dispatcher.hpp"
#include "api/system_routes.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace sai::api {
namespace {

class AccessPolicyTest : public testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        store_ = storage::SqliteStore::open(o).value();
        audit_ = auth::AuditLog::open(store_->audit()).value();
        auth::AuthOptions options;
        options.jwt.secret = std::string(40, 'k');
        service_ = auth::AuthService::open(*store_, *audit_, options).value();
        ASSERT_TRUE(service_->ensure_admin("admin-password-1"));
        add_system_routes(router_, {"1.0.0", "test", nullptr});
        add_auth_routes(router_, *service_, store_->audit());
        pipeline_ = std::make_unique<pipeline::Pipeline>(store_->events(), pipeline::PipelineOptions{});
        monitor_ = std::make_unique<MonitorServices>(
            MonitorServices{*store_, *pipeline_, "1.0.0", std::chrono::steady_clock::now(), {}});
        add_event_routes(router_, *monitor_);
        add_live_routes(router_);
        reports_ = std::make_unique<reports::ReportService>(*store_, reports::ReportServiceOptions{.directory = dir_.path() / "reports"},
                                                            reports::ReportHooks{});
        add_report_routes(router_, *reports_);
        graph_ = std::make_unique<graph::GraphService>(store_->graph(), nullptr, nullptr);
        add_graph_routes(router_, *graph_);
        registry_ = ml::ModelRegistry::open(dir_.path() / "models").value();
        scorer_ = std::make_unique<ml::EventScorer>(*registry_, ml::ScorerOptions{}, metrics_);
        training_ = std::make_unique<ml::TrainingService>(*registry_, nullptr, nullptr, ml::TrainingOptions{});
        ml_ = std::make_unique<MlServices>(MlServices{*registry_, *training_, *scorer_});
        add_ml_routes(router_, *ml_);
        limiter_ = auth::make_memory_rate_limiter();
        dispatcher_ = std::make_unique<Dispatcher>(router_, HttpPolicy{},
                                                   Security{service_.get(), limiter_.get(), 100, 6000});
    }

    std::string token_for(model::Role role) {
        const std::string name = "u" + std::to_string(static_cast<int>(role));
        model::Principal admin{model::Principal::Kind::User, "", "admin", model::Role::Admin};
        (void)service_->create_user(name, "password-for-" + name, role, admin, {});
        return service_->login(name, "password-for-" + name, {"127.0.0.1", "r"}).value().access_token;
    }

    Response call(Method method, const std::string& path, const std::string& token = {}) {
        Request r;
        r.method = method;
        r.method_text = std::string(to_string(method));
        r.path = path;
        r.remote_address = "127.0.0.1";
        if (!token.empty()) {
            r.headers.push_back({"Authorization", "Bearer " + token});
        }
        auto prepared = dispatcher_->prepare(r);
        Response res = prepared.response ? *prepared.response : dispatcher_->run(*prepared.route, r);
        dispatcher_->finish(r, res, prepared.route);
        return res;
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::unique_ptr<auth::AuditLog> audit_;
    std::unique_ptr<auth::AuthService> service_;
    std::unique_ptr<auth::RateLimiter> limiter_;
    std::unique_ptr<pipeline::Pipeline> pipeline_;
    std::unique_ptr<MonitorServices> monitor_;
    std::unique_ptr<reports::ReportService> reports_;
    std::unique_ptr<graph::GraphService> graph_;
    core::metrics::Registry metrics_;
    std::unique_ptr<ml::ModelRegistry> registry_;
    std::unique_ptr<ml::EventScorer> scorer_;
    std::unique_ptr<ml::TrainingService> training_;
    std::unique_ptr<MlServices> ml_;
    Router router_;
    std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(AccessPolicyTest, EveryRegisteredRouteIsInThePolicyTable) {
    for (const auto& route : router_.routes()) {
        bool listed = false;
        access_for(route->method, route->pattern, &listed);
        EXPECT_TRUE(listed) << to_string(route->method) << " " << route->pattern
                            << " is not in src/api/access_policy.cpp";
    }
}

TEST_F(AccessPolicyTest, EveryRouteIsInTheOpenApiDocument) {
    const auto doc = boost::json::parse(openapi_json()).as_object();
    const auto& paths = doc.at("paths").as_object();
    for (const auto& route : router_.routes()) {
        if (route->pattern.find("/assets/") != std::string::npos) {
            continue;  // the documentation pages' own scripts and styles
        }
        std::string method(to_string(route->method));
        std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::tolower(c); });
        auto path = paths.find(route->pattern);
        ASSERT_NE(path, paths.end()) << route->pattern << " is missing from docs/openapi.yaml";
        EXPECT_TRUE(path->value().as_object().contains(method))
            << method << " " << route->pattern << " is missing from docs/openapi.yaml";
        // Public routes say so; protected ones inherit the document's security.
        const auto& op = path->value().as_object().at(method).as_object();
        if (route->access.is_public) {
            ASSERT_TRUE(op.contains("security")) << route->pattern;
            EXPECT_TRUE(op.at("security").as_array().empty()) << route->pattern;
        } else {
            EXPECT_FALSE(op.contains("security") && op.at("security").as_array().empty()) << route->pattern;
        }
    }
}

TEST_F(AccessPolicyTest, TrainingAndActivationAreAdminOnlyModelsAreForEveryone) {
    const auto viewer = token_for(model::Role::Viewer);
    const auto analyst = token_for(model::Role::Analyst);
    EXPECT_EQ(call(Method::Get, "/api/v1/models", viewer).status, 200);
    EXPECT_EQ(call(Method::Get, "/api/v1/metrics/ml", viewer).status, 200);
    EXPECT_EQ(call(Method::Get, "/api/v1/metrics/drift", viewer).status, 200);
    for (const auto& token : {viewer, analyst}) {
        EXPECT_EQ(call(Method::Post, "/api/v1/train", token).status, 403);
        EXPECT_EQ(call(Method::Get, "/api/v1/train/history", token).status, 403);
        EXPECT_EQ(call(Method::Post, "/api/v1/train/x/cancel", token).status, 403);
        EXPECT_EQ(call(Method::Post, "/api/v1/models/x/activate", token).status, 403);
    }
}

TEST_F(AccessPolicyTest, UnlistedRoutesAreAdminOnly) {
    bool listed = true;
    auto access = access_for(Method::Post, "/api/v1/something-new", &listed);
    EXPECT_FALSE(listed);
    EXPECT_FALSE(access.is_public);
    EXPECT_EQ(access.min_role, model::Role::Admin);
}

TEST_F(AccessPolicyTest, NoTokenIs401WithChallenge) {
    auto res = call(Method::Get, "/api/v1/auth/me");
    EXPECT_EQ(res.status, 401);
    EXPECT_EQ(res.header("WWW-Authenticate"), R"(Bearer realm="securityai")");
}

TEST_F(AccessPolicyTest, BadTokenIs401InvalidToken) {
    auto res = call(Method::Get, "/api/v1/auth/me", "a.b.c");
    EXPECT_EQ(res.status, 401);
    EXPECT_NE(res.header("WWW-Authenticate").find("invalid_token"), std::string::npos);
}

TEST_F(AccessPolicyTest, RolesAreOrdered) {
    const auto viewer = token_for(model::Role::Viewer);
    const auto analyst = token_for(model::Role::Analyst);
    EXPECT_EQ(call(Method::Get, "/api/v1/auth/me", viewer).status, 200);
    auto denied = call(Method::Get, "/api/v1/users", viewer);
    EXPECT_EQ(denied.status, 403);
    EXPECT_NE(denied.body.find("needs admin"), std::string::npos) << denied.body;
    EXPECT_EQ(call(Method::Get, "/api/v1/users", analyst).status, 403);
    EXPECT_EQ(call(Method::Get, "/api/v1/users", token_for(model::Role::Admin)).status, 200);
}

TEST_F(AccessPolicyTest, ReportRoles) {
    const auto viewer = token_for(model::Role::Viewer);
    const auto analyst = token_for(model::Role::Analyst);
    const auto admin = token_for(model::Role::Admin);
    const std::string some_report = "/api/v1/reports/0190a3c4-8b7e-7d2f-9e1a-0123456789ab";
    EXPECT_EQ(call(Method::Get, "/api/v1/reports", viewer).status, 200);
    EXPECT_EQ(call(Method::Get, some_report, viewer).status, 404);
    EXPECT_EQ(call(Method::Post, "/api/v1/reports/generate", viewer).status, 403);
    EXPECT_EQ(call(Method::Post, "/api/v1/reports/generate", analyst).status, 400);  // past the policy: no body
    EXPECT_EQ(call(Method::Delete, some_report, analyst).status, 403);
    EXPECT_EQ(call(Method::Delete, some_report, admin).status, 404);
    EXPECT_EQ(call(Method::Get, "/api/v1/reports/..%2F..%2Fsecurityai.db", viewer).status, 400);
}

TEST_F(AccessPolicyTest, PermissionDeniedIsAudited) {
    (void)call(Method::Get, "/api/v1/audit", token_for(model::Role::Viewer));
    audit_->flush();
    auto denied = store_->audit().query({.outcome = "denied"}).value();
    ASSERT_EQ(denied.size(), 1u);
    EXPECT_EQ(denied[0].action, "auth.permission");
    EXPECT_EQ(denied[0].actor, "user:u0");
}

TEST_F(AccessPolicyTest, RateLimitHeadersAndThe101stRequest) {
    const auto viewer = token_for(model::Role::Viewer);
    for (int i = 0; i < 100; ++i) {
        auto res = call(Method::Get, "/api/v1/auth/me", viewer);
        ASSERT_EQ(res.status, 200) << i;
        EXPECT_EQ(res.header("RateLimit-Limit"), "100");
        EXPECT_EQ(res.header("RateLimit-Remaining"), std::to_string(99 - i));
    }
    auto limited = call(Method::Get, "/api/v1/auth/me", viewer);
    EXPECT_EQ(limited.status, 429);
    EXPECT_FALSE(limited.header("Retry-After").empty());
    EXPECT_EQ(limited.header("RateLimit-Remaining"), "0");
    // Health is never rate limited.
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(call(Method::Get, "/health").status, 200);
    }
}

}  // namespace
}  // namespace sai::api
