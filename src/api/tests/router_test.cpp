#include "api/router.hpp"

#include <gtest/gtest.h>

namespace sai::api {
namespace {

Handler returns(int status) {
    return [status](Request&) { return json_response(status, "{}"); };
}

TEST(RouterTest, StaticRouteMatches) {
    Router router;
    router.add(Method::Get, "/health", returns(200));
    auto m = router.match(Method::Get, "/health");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->pattern, "/health");
    EXPECT_TRUE(m.params.empty());
}

TEST(RouterTest, PathParametersAreDecoded) {
    Router router;
    router.add(Method::Get, "/api/v1/alerts/{id}/notes/{note}", returns(200));
    auto m = router.match(Method::Get, "/api/v1/alerts/a%2Fb/notes/7");
    ASSERT_NE(m.route, nullptr);
    ASSERT_EQ(m.params.size(), 2u);
    EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "a/b"}));
    EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"note", "7"}));
}

TEST(RouterTest, ParameterNeverMatchesEmptySegmentOrExtraSegments) {
    Router router;
    router.add(Method::Get, "/api/v1/alerts/{id}", returns(200));
    EXPECT_EQ(router.match(Method::Get, "/api/v1/alerts/").route, nullptr);
    EXPECT_EQ(router.match(Method::Get, "/api/v1/alerts/1/2").route, nullptr);
    EXPECT_EQ(router.match(Method::Get, "/api/v1/alerts").route, nullptr);
}

TEST(RouterTest, WrongMethodReportsAllowedMethods) {
    Router router;
    router.add(Method::Get, "/api/v1/users/{id}", returns(200));
    router.add(Method::Delete, "/api/v1/users/{id}", returns(204));
    auto m = router.match(Method::Post, "/api/v1/users/42");
    EXPECT_EQ(m.route, nullptr);
    EXPECT_EQ(m.allowed, (std::vector<Method>{Method::Get, Method::Delete}));
    EXPECT_EQ(allow_header(m.allowed), "GET, HEAD, DELETE, OPTIONS");
}

TEST(RouterTest, UnknownPathHasNoAllowedMethods) {
    Router router;
    router.add(Method::Get, "/health", returns(200));
    auto m = router.match(Method::Get, "/nope");
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.allowed.empty());
}

TEST(RouterTest, HeadFallsBackToGet) {
    Router router;
    router.add(Method::Get, "/health", returns(200));
    auto m = router.match(Method::Head, "/health");
    ASSERT_NE(m.route, nullptr);
    EXPECT_EQ(m.route->method, Method::Get);
}

TEST(RouterTest, StaticAndPatternRoutesCoexist) {
    Router router;
    router.add(Method::Get, "/api/v1/alerts/{id}", returns(200));
    router.add(Method::Get, "/api/v1/alerts/stats", returns(201));
    auto stats = router.match(Method::Get, "/api/v1/alerts/stats");
    ASSERT_NE(stats.route, nullptr);
    EXPECT_EQ(stats.route->pattern, "/api/v1/alerts/stats");
    auto one = router.match(Method::Get, "/api/v1/alerts/x1");
    ASSERT_NE(one.route, nullptr);
    EXPECT_EQ(one.route->pattern, "/api/v1/alerts/{id}");
}

TEST(RouterTest, BadPercentEncodingIsFlagged) {
    Router router;
    router.add(Method::Get, "/api/v1/alerts/{id}", returns(200));
    auto m = router.match(Method::Get, "/api/v1/alerts/%zz");
    EXPECT_EQ(m.route, nullptr);
    EXPECT_TRUE(m.bad_encoding);
}

TEST(RouterDeathTest, DuplicateRouteAborts) {
    Router router;
    router.add(Method::Get, "/health", returns(200));
    EXPECT_DEATH(router.add(Method::Get, "/health", returns(200)), "duplicate route");
}

}  // namespace
}  // namespace sai::api
