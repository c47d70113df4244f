#include "api/dispatcher.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"

namespace sai::api {
namespace {

constexpr std::string_view kAllowedRequestHeaders = "Authorization, Content-Type, X-Request-Id, X-API-Key";

}  // namespace

Dispatcher::Dispatcher(const Router& router, HttpPolicy policy) : router_(router), policy_(std::move(policy)) {}

bool Dispatcher::origin_allowed(std::string_view origin) const {
    for (const auto& allowed : policy_.cors_origins) {
        if (allowed == "*" || allowed == origin) {
            return true;
        }
    }
    return false;
}

Dispatcher::Prepared Dispatcher::prepare(Request& request) const {
    const std::string_view client_id = request.header("X-Request-Id");
    request.request_id = core::is_valid_request_id(client_id) ? std::string(client_id) : core::new_uuid_v7();

    Prepared prepared;
    prepared.body_limit = policy_.default_max_body_bytes;

    if (request.path.empty() || request.path.front() != '/') {
        prepared.response = error_response(request.request_id, 400, "malformed_request",
                                           "request target must be an absolute path");
        return prepared;
    }

    const Method lookup = request.method == Method::Options ? Method::Get : request.method;
    auto match = router_.match(lookup, request.path);
    if (match.bad_encoding) {
        prepared.response =
            error_response(request.request_id, 400, "malformed_request", "invalid percent-encoding in the path");
        return prepared;
    }
    if (request.method == Method::Options) {
        const std::vector<Method>& allowed = match.allowed;
        if (allowed.empty()) {
            prepared.response = error_response(request.request_id, 404, "not_found",
                                               "no resource at " + request.path);
            return prepared;
        }
        const std::string_view origin = request.header("Origin");
        const bool preflight = !origin.empty() && !request.header("Access-Control-Request-Method").empty();
        if (preflight && !origin_allowed(origin)) {
            prepared.response = error_response(request.request_id, 403, "cors_origin_denied",
                                               "origin " + std::string(origin) + " is not allowed");
            return prepared;
        }
        Response r;
        r.status = 204;
        r.content_type.clear();
        const std::string allow = allow_header(allowed);
        r.set_header("Allow", allow);
        if (preflight) {
            r.set_header("Access-Control-Allow-Methods", allow);
            r.set_header("Access-Control-Allow-Headers", std::string(kAllowedRequestHeaders));
            r.set_header("Access-Control-Max-Age", "600");
        }
        prepared.response = std::move(r);
        return prepared;
    }

    if (!match.route) {
        if (match.allowed.empty()) {
            prepared.response =
                error_response(request.request_id, 404, "not_found", "no resource at " + request.path);
        } else {
            Response r = error_response(request.request_id, 405, "method_not_allowed",
                                        "method " + request.method_text + " is not allowed on " + request.path);
            r.set_header("Allow", allow_header(match.allowed));
            prepared.response = std::move(r);
        }
        return prepared;
    }
    request.params = std::move(match.params);
    prepared.route = match.route;
    if (match.route->options.max_body_bytes != 0) {
        prepared.body_limit = match.route->options.max_body_bytes;
    }
    return prepared;
}

Response Dispatcher::run(const Route& route, Request& request) const {
    try {
        return route.handler(request);
    } catch (const core::Exception& e) {
        if (http_status(e.error().code) >= 500) {
            core::log::error("handler failed", {{"request_id", request.request_id},
                                                {"path", request.path},
                                                {"error", e.what()}});
        }
        return error_response(request, e.error());
    } catch (const std::exception& e) {
        core::log::error("unhandled exception in handler",
                         {{"request_id", request.request_id}, {"path", request.path}, {"error", e.what()}});
    }
    return error_response(request, core::make_error(core::Errc::Internal, "unhandled exception"));
}

void Dispatcher::finish(const Request& request, Response& response) const {
    response.set_header("X-Request-Id", request.request_id);
    response.set_header("X-Content-Type-Options", "nosniff");
    const std::string_view origin = request.header("Origin");
    if (!origin.empty() && origin_allowed(origin)) {
        response.set_header("Access-Control-Allow-Origin", std::string(origin));
        response.set_header("Access-Control-Expose-Headers",
                            "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset");
        response.set_header("Vary", "Origin");
    }
}

}  // namespace sai::api
