#include "api/system_routes.hpp"

#include "api/dispatcher.hpp"

#include <gtest/gtest.h>

namespace sai::api {
namespace {

Response get(Router& router, const std::string& path) {
    Dispatcher dispatcher(router, {});
    Request r;
    r.method = Method::Get;
    r.method_text = "GET";
    r.path = path;
    auto prepared = dispatcher.prepare(r);
    Response res = prepared.response ? *prepared.response : dispatcher.run(*prepared.route, r);
    dispatcher.finish(r, res);
    return res;
}

TEST(SystemRoutesTest, HealthyBodyIsExactlyTheSeedContract) {
    core::HealthMonitor health;
    health.add_check("storage", [] { return core::Result<void>{}; });
    health.check_now();
    Router router;
    add_system_routes(router, {"1.0.0", "development", &health});
    auto res = get(router, "/health");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, R"({"status":"healthy","version":"1.0.0","environment":"development"})");
}

TEST(SystemRoutesTest, UnhealthyNamesTheComponentButNotTheReason) {
    core::HealthMonitor health;
    health.add_check("storage", [] {
        return core::Result<void>(core::make_error(core::Errc::Unavailable, "database file /srv/x.db is missing"));
    });
    health.check_now();
    Router router;
    add_system_routes(router, {"1.0.0", "production", &health});
    auto res = get(router, "/health");
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.body,
              R"({"status":"unhealthy","version":"1.0.0","environment":"production","components":{"storage":"unhealthy"}})");
}

TEST(SystemRoutesTest, EmbeddedOpenApiIsJson31) {
    const auto doc = openapi_json();
    ASSERT_FALSE(doc.empty());
    EXPECT_NE(doc.find(R"("openapi": "3.1.0")"), std::string_view::npos);
    EXPECT_NE(doc.find(R"("/health")"), std::string_view::npos);
}

TEST(SystemRoutesTest, DocsPagesHaveCspAndEmbeddedAssets) {
    Router router;
    add_system_routes(router, {"1.0.0", "development", nullptr});
    for (const char* page : {"/docs", "/redoc"}) {
        auto res = get(router, page);
        EXPECT_EQ(res.status, 200) << page;
        EXPECT_EQ(res.content_type, "text/html; charset=utf-8") << page;
        EXPECT_NE(res.header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
        EXPECT_EQ(res.body.find("http://"), std::string::npos) << "no external links in " << page;
        EXPECT_EQ(res.body.find("https://"), std::string::npos) << "no external links in " << page;
    }
    auto bundle = get(router, "/docs/assets/swagger-ui-bundle.js");
    EXPECT_EQ(bundle.status, 200);
    EXPECT_GT(bundle.body.size(), 100000u);
    EXPECT_EQ(bundle.content_type, "text/javascript; charset=utf-8");
    auto redoc = get(router, "/redoc/assets/redoc.standalone.js");
    EXPECT_EQ(redoc.status, 200);
    EXPECT_GT(redoc.body.size(), 100000u);
}

}  // namespace
}  // namespace sai::api
