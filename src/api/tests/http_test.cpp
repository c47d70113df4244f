#include "api/http.hpp"

#include <gtest/gtest.h>

namespace sai::api {
namespace {

TEST(HttpTest, ErrorCodesMapToStatuses) {
    EXPECT_EQ(http_status(core::Errc::InvalidArgument), 400);
    EXPECT_EQ(http_status(core::Errc::Unauthenticated), 401);
    EXPECT_EQ(http_status(core::Errc::PermissionDenied), 403);
    EXPECT_EQ(http_status(core::Errc::NotFound), 404);
    EXPECT_EQ(http_status(core::Errc::Conflict), 409);
    EXPECT_EQ(http_status(core::Errc::PayloadTooLarge), 413);
    EXPECT_EQ(http_status(core::Errc::Unprocessable), 422);
    EXPECT_EQ(http_status(core::Errc::RateLimited), 429);
    EXPECT_EQ(http_status(core::Errc::Unavailable), 503);
    EXPECT_EQ(http_status(core::Errc::Internal), 500);
}

TEST(HttpTest, ErrorBodyHasCodeMessageAndRequestId) {
    Request req;
    req.request_id = "req-1";
    auto res = error_response(req, core::make_error(core::Errc::NotFound, "alert \"x\" not found"));
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_EQ(res.body, R"({"error":{"code":"not_found","message":"alert \"x\" not found","request_id":"req-1"}})");
}

TEST(HttpTest, ServerErrorDetailsStayOutOfTheBody) {
    Request req;
    req.request_id = "req-2";
    auto res = error_response(req, core::make_error(core::Errc::Internal, "sqlite: disk I/O error at /var/lib/x"));
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body.find("/var/lib"), std::string::npos) << res.body;
    auto unavailable = error_response(req, core::make_error(core::Errc::Unavailable, "db at /secret/path"));
    EXPECT_EQ(unavailable.status, 503);
    EXPECT_EQ(unavailable.body.find("/secret"), std::string::npos);
}

TEST(HttpTest, HeadersAreCaseInsensitive) {
    Request req;
    req.headers = {{"Content-Type", "application/json"}, {"x-request-id", "abc"}};
    EXPECT_EQ(req.header("content-type"), "application/json");
    EXPECT_EQ(req.header("X-Request-ID"), "abc");
    EXPECT_EQ(req.header("Authorization"), "");
}

TEST(HttpTest, QueryParametersAreDecoded) {
    Request req;
    req.query = "q=failed+login&host=web%2D1&flag&empty=";
    EXPECT_EQ(req.query_param("q"), "failed login");
    EXPECT_EQ(req.query_param("host"), "web-1");
    EXPECT_EQ(req.query_param("flag"), "");
    EXPECT_EQ(req.query_param("empty"), "");
    EXPECT_FALSE(req.query_param("missing"));
}

TEST(HttpTest, UrlDecodeRejectsBadEscapes) {
    EXPECT_FALSE(url_decode("%", false));
    EXPECT_FALSE(url_decode("%4", false));
    EXPECT_FALSE(url_decode("%zz", false));
    EXPECT_EQ(url_decode("a+b%20c", false), "a+b c");
    EXPECT_EQ(url_decode("a+b", true), "a b");
}

}  // namespace
}  // namespace sai::api
