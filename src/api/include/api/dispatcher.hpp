#pragma once
// The middleware chain, as plain functions of Request/Response so it is tested
// without sockets: request ids, routing (404/405), body limits, CORS, the
// exception boundary around handlers, and the headers every response carries.
// The server calls prepare() after the headers, run() after the body, and
// finish() on every response, errors included.

#include "api/http.hpp"
#include "api/router.hpp"

#include <optional>
#include <string>
#include <vector>

namespace sai::api {

struct HttpPolicy {
    std::size_t default_max_body_bytes = 1 << 20;
    std::vector<std::string> cors_origins;  // "*" allows any origin
};

class Dispatcher {
public:
    Dispatcher(const Router& router, HttpPolicy policy);

    struct Prepared {
        const Route* route = nullptr;      // set when a handler should run
        std::optional<Response> response;  // set when the answer is known from the headers alone
        std::size_t body_limit = 0;
    };

    /// Assigns the request id (the client's X-Request-Id when well-formed), routes
    /// the request and decides its body limit. Answers OPTIONS, 404 and 405 itself.
    Prepared prepare(Request& request) const;

    /// Runs the route's handler: the one place where an unexpected exception from
    /// a handler becomes a 500 (logged with the request id), the process carries on.
    Response run(const Route& route, Request& request) const;

    /// Adds X-Request-Id, CORS and security headers to any response.
    void finish(const Request& request, Response& response) const;

    const HttpPolicy& policy() const { return policy_; }

private:
    bool origin_allowed(std::string_view origin) const;

    const Router& router_;
    HttpPolicy policy_;
};

}  // namespace sai::api
