#pragma once
// The middleware chain, as plain functions of Request/Response so it is tested
// without sockets: request ids, routing (404/405), body limits, CORS, the
// exception boundary around handlers, and the headers every response carries.
// The server calls prepare() after the headers, run() after the body, and
// finish() on every response, errors included.

#include "api/http.hpp"
#include "api/router.hpp"
#include "auth/auth_service.hpp"
#include "auth/rate_limiter.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sai::api {

struct HttpPolicy {
    std::size_t default_max_body_bytes = 1 << 20;
    std::vector<std::string> cors_origins;  // "*" allows any origin
    bool hsts = false;                      // Strict-Transport-Security (production over TLS)
};

/// Authentication, RBAC and rate limiting. With `auth` null every route is
/// treated as public (unit tests of the HTTP layer only).
struct Security {
    auth::AuthService* auth = nullptr;
    auth::RateLimiter* limiter = nullptr;
    int api_per_minute = 100;     // 0: unlimited
    int ingest_per_minute = 6000;  // 0: unlimited
};

class Dispatcher {
public:
    Dispatcher(const Router& router, HttpPolicy policy, Security security = {});

    struct Prepared {
        const Route* route = nullptr;      // set when a handler should run
        std::optional<Response> response;  // set when the answer is known from the headers alone
        std::size_t body_limit = 0;
    };

    /// Assigns the request id (the client's X-Request-Id when well-formed), routes
    /// the request, authenticates and authorises it, applies the rate limit and
    /// decides its body limit, all before the body is read. Answers OPTIONS, 401,
    /// 403, 404, 405 and 429 itself. Non-blocking (safe on I/O threads).
    Prepared prepare(Request& request) const;

    /// Runs the route's handler: the one place where an unexpected exception from
    /// a handler becomes a 500 (logged with the request id), the process carries on.
    Response run(const Route& route, Request& request) const;

    /// Adds X-Request-Id, rate-limit, CORS and security headers to any response,
    /// and audits state-changing calls. `route` is null when no handler ran.
    void finish(const Request& request, Response& response, const Route* route = nullptr) const;

    const HttpPolicy& policy() const { return policy_; }

private:
    bool origin_allowed(std::string_view origin) const;

    std::optional<Response> guard(const Route& route, Request& request) const;

    const Router& router_;
    HttpPolicy policy_;
    Security security_;
};

}  // namespace sai::api
