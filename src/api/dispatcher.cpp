#include "api/dispatcher.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

#include <algorithm>

namespace sai::api {
namespace {

constexpr std::string_view kAllowedRequestHeaders = "Authorization, Content-Type, X-Request-Id, X-API-Key";

/// The first query parameter `route` does not take, as an error naming those it does.
std::optional<core::Error> unknown_query_param(const Route& route,
                                               const std::vector<std::pair<std::string, std::string>>& query) {
    if (!route.query_params) {
        return std::nullopt;
    }
    const auto& known = *route.query_params;
    for (const auto& [name, value] : query) {
        if (std::find(known.begin(), known.end(), name) != known.end()) {
            continue;
        }
        std::string message = "unknown query parameter '" + name.substr(0, 64) + "'; ";
        if (known.empty()) {
            message += "this endpoint takes none";
        } else {
            message += "this endpoint takes: ";
            for (std::size_t i = 0; i < known.size(); ++i) {
                message += (i == 0 ? "" : ", ") + known[i];
            }
        }
        return core::make_error(core::Errc::InvalidArgument, std::move(message));
    }
    return std::nullopt;
}

}  // namespace

Dispatcher::Dispatcher(const Router& router, HttpPolicy policy, Security security)
    : router_(router), policy_(std::move(policy)), security_(security) {}

std::optional<Response> Dispatcher::guard(const Route& route, Request& request) const {
    if (!security_.auth) {
        return std::nullopt;
    }
    const Access& access = route.access;
    auto authenticated = security_.auth->authenticate(request.header("Authorization"), request.header("X-API-Key"));
    if (authenticated && *authenticated) {
        request.principal = std::move(**authenticated);
    }

    // Rate limit first, so that floods of bad credentials get 429s, not audit entries.
    const int per_minute = access.rate == RateClass::Api      ? security_.api_per_minute
                           : access.rate == RateClass::Ingest ? security_.ingest_per_minute
                                                              : 0;
    if (per_minute > 0 && security_.limiter) {
        std::string key;
        if (request.principal) {
            key = (request.principal->kind == model::Principal::Kind::User ? "user:" : "key:") + request.principal->id;
        } else {
            key = "ip:" + request.remote_address;
        }
        key += access.rate == RateClass::Ingest ? "|ingest" : "|api";
        const auto d = security_.limiter->take(key, per_minute, std::chrono::steady_clock::now());
        request.response_headers.push_back({"RateLimit-Limit", std::to_string(d.limit)});
        request.response_headers.push_back({"RateLimit-Remaining", std::to_string(d.remaining)});
        request.response_headers.push_back({"RateLimit-Reset", std::to_string(d.reset_seconds)});
        if (!d.allowed) {
            core::metrics::default_registry()
                .counter("securityai_rate_limited_total", "Requests refused by the rate limiter, by class.",
                         {{"class", access.rate == RateClass::Ingest ? "ingest" : "api"}})
                .inc();
            Response r = error_response(request.request_id, 429, "rate_limited",
                                        "rate limit of " + std::to_string(per_minute) +
                                            " requests per minute exceeded; retry after " +
                                            std::to_string(d.retry_after_seconds) + " s");
            r.set_header("Retry-After", std::to_string(d.retry_after_seconds));
            return r;
        }
    }

    if (access.is_public) {
        return std::nullopt;
    }
    auto deny = [&](int status, std::string_view code, std::string message) {
        Response r = error_response(request.request_id, status, code, message);
        if (status == 401) {
            r.set_header("WWW-Authenticate", authenticated ? R"(Bearer realm="securityai")"
                                                           : R"(Bearer realm="securityai", error="invalid_token")");
        }
        return r;
    };
    if (!authenticated) {
        security_.auth->audit({.actor = "anonymous", .client_ip = request.remote_address,
                               .request_id = request.request_id, .action = "auth.token",
                               .target = request.method_text + " " + request.path, .outcome = "failure",
                               .detail = authenticated.error().detail});
        return deny(401, "unauthenticated", authenticated.error().detail);
    }
    if (!request.principal) {
        return deny(401, "unauthenticated", "authentication required: send 'Authorization: Bearer <token>'");
    }
    if (request.principal->role < access.min_role) {
        const std::string why = "role " + std::string(model::to_string(request.principal->role)) +
                                " may not " + request.method_text + " " + route.pattern + "; it needs " +
                                std::string(model::to_string(access.min_role));
        security_.auth->audit({.actor = request.principal->actor(),
                               .role = std::string(model::to_string(request.principal->role)),
                               .client_ip = request.remote_address, .request_id = request.request_id,
                               .action = "auth.permission", .target = request.method_text + " " + request.path,
                               .outcome = "denied", .detail = why});
        return deny(403, "permission_denied", why);
    }
    return std::nullopt;
}

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
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    const auto query = request.query.empty() ? std::optional<Pairs>(Pairs{}) : parse_form(request.query);
    if (!query) {
        prepared.response = error_response(request.request_id, 400, "malformed_request",
                                           "invalid percent-encoding in the query string");
        return prepared;
    }
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
        Response r = no_content();
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
    if (auto refused = guard(*match.route, request)) {
        prepared.response = std::move(refused);
        return prepared;
    }
    if (auto unknown = unknown_query_param(*match.route, *query)) {
        prepared.response = error_response(request, *unknown);
        return prepared;
    }
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

void Dispatcher::finish(const Request& request, Response& response, const Route* route) const {
    response.set_header("X-Request-Id", request.request_id);
    response.set_header("X-Content-Type-Options", "nosniff");
    for (const auto& h : request.response_headers) {
        response.set_header(h.name, h.value);
    }
    if (policy_.hsts) {
        response.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    }
    const bool changes_state = request.method == Method::Post || request.method == Method::Put ||
                               request.method == Method::Patch || request.method == Method::Delete;
    if (route && changes_state && route->access.audit && security_.auth && request.principal) {
        security_.auth->audit({.actor = request.principal->actor(),
                               .role = std::string(model::to_string(request.principal->role)),
                               .client_ip = request.remote_address, .request_id = request.request_id,
                               .action = request.method_text + " " + route->pattern, .target = request.path,
                               .outcome = response.status < 400 ? "success" : "failure",
                               .detail = "status " + std::to_string(response.status)});
    }
    const std::string_view origin = request.header("Origin");
    if (!origin.empty() && origin_allowed(origin)) {
        response.set_header("Access-Control-Allow-Origin", std::string(origin));
        response.set_header("Access-Control-Expose-Headers",
                            "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset");
        response.set_header("Vary", "Origin");
    }
}

}  // namespace sai::api
