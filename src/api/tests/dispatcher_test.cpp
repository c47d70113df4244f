#include "api/dispatcher.hpp"
#include "api/query_contract.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace sai::api {
namespace {

class DispatcherTest : public testing::Test {
protected:
    DispatcherTest() {
        router_.add(Method::Get, "/health", [](Request&) { return json_response(200, R"({"status":"healthy"})"); });
        router_.add(Method::Post, "/upload", [](Request& r) { return json_response(201, std::to_string(r.body.size())); },
                    {.max_body_bytes = 10 << 20});
        router_.add(Method::Get, "/items/{id}", [](Request& r) {
            return json_response(200, "\"" + std::string(r.param("id")) + "\"");
        });
        router_.add(Method::Get, "/boom", [](Request&) -> Response { throw std::runtime_error("secret detail"); });
        router_.add(Method::Get, "/missing", [](Request&) -> Response {
            throw core::Exception(core::make_error(core::Errc::NotFound, "no such thing"));
        });
    }

    Request request(Method method, std::string path, std::vector<Header> headers = {}) {
        Request r;
        r.method = method;
        r.method_text = std::string(to_string(method));
        r.path = std::move(path);
        r.target = r.path;
        r.headers = std::move(headers);
        return r;
    }

    // Runs the whole chain the way the server does.
    Response handle(Request& r) {
        auto prepared = dispatcher_.prepare(r);
        Response res = prepared.response ? *prepared.response : dispatcher_.run(*prepared.route, r);
        dispatcher_.finish(r, res);
        return res;
    }

    Router router_;
    Dispatcher dispatcher_{router_, HttpPolicy{.default_max_body_bytes = 1 << 20,
                                               .cors_origins = {"https://console.example"}}};
};

TEST_F(DispatcherTest, ClientRequestIdIsEchoedWhenWellFormed) {
    auto r = request(Method::Get, "/health", {{"X-Request-Id", "trace-42"}});
    auto res = handle(r);
    EXPECT_EQ(res.header("X-Request-Id"), "trace-42");
}

TEST_F(DispatcherTest, AQueryParameterTheDocumentDoesNotListIsRefusedWithTheListed) {
    router_.add(Method::Get, "/api/v1/monitor/events", [](Request&) { return json_response(200, "[]"); });
    auto ok = request(Method::Get, "/api/v1/monitor/events");
    ok.query = "host=web-1&limit=5&severity_min=high";
    EXPECT_EQ(handle(ok).status, 200);

    auto typo = request(Method::Get, "/api/v1/monitor/events");
    typo.query = "limit=5&hots=web-1";
    const auto refused = handle(typo);
    EXPECT_EQ(refused.status, 400);
    EXPECT_NE(refused.body.find("unknown query parameter 'hots'; this endpoint takes: from, to, host,"),
              std::string::npos)
        << refused.body;

    auto none = request(Method::Get, "/health");
    none.query = "verbose=1";
    const auto health = handle(none);
    EXPECT_EQ(health.status, 400);
    EXPECT_NE(health.body.find("this endpoint takes none"), std::string::npos) << health.body;

    // A route the document does not describe is not checked.
    auto other = request(Method::Get, "/items/7");
    other.query = "anything=1";
    EXPECT_EQ(handle(other).status, 200);
}

TEST(QueryContract, ParametersComeFromTheOperationAndItsReferences) {
    const auto alerts = documented_query_params(Method::Get, "/api/v1/alerts");
    ASSERT_TRUE(alerts.has_value());
    for (const char* name : {"status", "severity", "severity_min", "limit", "cursor"}) {  // limit, cursor: $ref
        EXPECT_NE(std::find(alerts->begin(), alerts->end(), name), alerts->end()) << name;
    }
    const auto ws = documented_query_params(Method::Get, "/api/v1/monitor/ws");
    ASSERT_TRUE(ws.has_value());
    EXPECT_EQ(*ws, std::vector<std::string>{"token"});
    EXPECT_FALSE(documented_query_params(Method::Delete, "/api/v1/monitor/ws").has_value());
    EXPECT_FALSE(documented_query_params(Method::Get, "/nowhere").has_value());
}

TEST_F(DispatcherTest, MalformedRequestIdIsReplaced) {
    auto r = request(Method::Get, "/health", {{"X-Request-Id", "has spaces and \"quotes\""}});
    auto res = handle(r);
    EXPECT_NE(res.header("X-Request-Id"), "has spaces and \"quotes\"");
    EXPECT_EQ(res.header("X-Request-Id").size(), 36u);
}

TEST_F(DispatcherTest, UnknownPathIs404WithJsonError) {
    auto r = request(Method::Get, "/nope");
    auto res = handle(r);
    EXPECT_EQ(res.status, 404);
    EXPECT_NE(res.body.find(R"("code":"not_found")"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(r.request_id), std::string::npos);
}

TEST_F(DispatcherTest, WrongMethodIs405WithAllow) {
    auto r = request(Method::Post, "/health");
    auto res = handle(r);
    EXPECT_EQ(res.status, 405);
    EXPECT_EQ(res.header("Allow"), "GET, HEAD, OPTIONS");
    EXPECT_NE(res.body.find(R"("code":"method_not_allowed")"), std::string::npos);
}

TEST_F(DispatcherTest, RouteBodyLimitOverridesDefault) {
    auto small = request(Method::Post, "/health");
    EXPECT_EQ(dispatcher_.prepare(small).body_limit, 1u << 20);
    auto upload = request(Method::Post, "/upload");
    auto prepared = dispatcher_.prepare(upload);
    ASSERT_NE(prepared.route, nullptr);
    EXPECT_EQ(prepared.body_limit, 10u << 20);
}

TEST_F(DispatcherTest, PathParametersReachTheHandler) {
    auto r = request(Method::Get, "/items/abc%20d");
    auto res = handle(r);
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "\"abc d\"");
}

TEST_F(DispatcherTest, HandlerExceptionBecomes500WithoutDetail) {
    auto r = request(Method::Get, "/boom");
    auto res = handle(r);
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body.find("secret detail"), std::string::npos) << res.body;
    EXPECT_NE(res.body.find(R"("code":"internal")"), std::string::npos);
}

TEST_F(DispatcherTest, ResultErrorThrownByHandlerKeepsItsStatus) {
    auto r = request(Method::Get, "/missing");
    auto res = handle(r);
    EXPECT_EQ(res.status, 404);
    EXPECT_NE(res.body.find("no such thing"), std::string::npos);
}

TEST_F(DispatcherTest, CorsHeadersOnlyForConfiguredOrigins) {
    auto allowed = request(Method::Get, "/health", {{"Origin", "https://console.example"}});
    auto res = handle(allowed);
    EXPECT_EQ(res.header("Access-Control-Allow-Origin"), "https://console.example");
    EXPECT_EQ(res.header("Vary"), "Origin");

    auto other = request(Method::Get, "/health", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(handle(other).header("Access-Control-Allow-Origin"), "");
}

TEST_F(DispatcherTest, PreflightFromAllowedOrigin) {
    auto r = request(Method::Options, "/upload",
                     {{"Origin", "https://console.example"}, {"Access-Control-Request-Method", "POST"}});
    auto res = handle(r);
    EXPECT_EQ(res.status, 204);
    EXPECT_EQ(res.header("Access-Control-Allow-Methods"), "POST, OPTIONS");
    EXPECT_NE(res.header("Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
    EXPECT_EQ(res.header("Access-Control-Allow-Origin"), "https://console.example");
}

TEST_F(DispatcherTest, PreflightFromOtherOriginIsRefused) {
    auto r = request(Method::Options, "/upload",
                     {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    auto res = handle(r);
    EXPECT_EQ(res.status, 403);
    EXPECT_NE(res.body.find("cors_origin_denied"), std::string::npos);
}

TEST_F(DispatcherTest, PlainOptionsListsMethods) {
    auto r = request(Method::Options, "/health");
    auto res = handle(r);
    EXPECT_EQ(res.status, 204);
    EXPECT_EQ(res.header("Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(DispatcherTest, EveryResponseIsNosniff) {
    auto r = request(Method::Get, "/nope");
    EXPECT_EQ(handle(r).header("X-Content-Type-Options"), "nosniff");
}

TEST_F(DispatcherTest, TargetThatIsNotAPathIs400) {
    auto r = request(Method::Get, "*");
    auto res = handle(r);
    EXPECT_EQ(res.status, 400);
}

}  // namespace
}  // namespace sai::api
