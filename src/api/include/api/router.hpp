#pragma once
// Routes: method + path pattern -> handler. Patterns are literal segments and
// `{name}` parameters, e.g. "/api/v1/alerts/{id}". A parameter matches one
// non-empty segment; its value is percent-decoded.

#include "api/access_policy.hpp"
#include "api/http.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sai::api {

/// A plain function of the request. Blocking handlers (storage, files) must set
/// RouteOptions::blocking so the server runs them on its blocking pool.
using Handler = std::function<Response(Request&)>;

struct RouteOptions {
    bool blocking = false;           // runs on the blocking thread pool, never on an I/O thread
    std::size_t max_body_bytes = 0;  // 0: the server's default limit
};

struct Route {
    Method method = Method::Get;
    std::string pattern;
    Handler handler;
    RouteOptions options;
    Access access;  // from the policy table (access_policy.cpp)
    // The query parameters it takes, from the OpenAPI document (query_contract.hpp);
    // nullopt: not checked (the documentation pages' assets).
    std::optional<std::vector<std::string>> query_params;
};

/// Built once at start-up, then read concurrently (match() is const).
class Router {
public:
    Router();
    ~Router();
    Router(Router&&) noexcept;
    Router& operator=(Router&&) noexcept;

    /// Adds a route. Aborts on a malformed pattern or a duplicate (method, pattern):
    /// both are programming errors caught by the first test run.
    void add(Method method, std::string pattern, Handler handler, RouteOptions options = {});

    struct Match {
        const Route* route = nullptr;                              // null: no route for this method
        std::vector<std::pair<std::string, std::string>> params;  // decoded path parameters
        std::vector<Method> allowed;  // every method the path accepts; empty: no such path (404)
        bool bad_encoding = false;    // a parameter had an invalid percent escape
    };

    /// HEAD falls back to the GET route of the same path.
    Match match(Method method, std::string_view path) const;

    const std::vector<std::unique_ptr<Route>>& routes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// "GET, HEAD, POST" for an Allow header (HEAD added when GET is present; OPTIONS always).
std::string allow_header(const std::vector<Method>& methods);

}  // namespace sai::api
