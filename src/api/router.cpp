#include "api/router.hpp"

#include "api/query_contract.hpp"

#include "core/error.hpp"

namespace sai::api {
namespace {

struct Segment {
    std::string text;
    bool is_param = false;
};

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t start = 1;  // paths begin with '/'
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
        if (slash == std::string_view::npos) {
            break;
        }
        start = slash + 1;
    }
    return parts;
}

struct Compiled {
    Route* route;
    std::vector<Segment> segments;
};

}  // namespace

struct Router::Impl {
    std::vector<std::unique_ptr<Route>> routes;
    // Static paths are the common case (and /health the hottest): one hash lookup.
    std::unordered_map<std::string, std::vector<Route*>> exact;
    std::vector<Compiled> patterned;
};

Router::Router() : impl_(std::make_unique<Impl>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(Method method, std::string pattern, Handler handler, RouteOptions options) {
    SAI_CHECK(!pattern.empty() && pattern.front() == '/', "route pattern must start with '/': " + pattern);
    SAI_CHECK(method != Method::Other && method != Method::Options, "unsupported route method");
    for (const auto& r : impl_->routes) {
        SAI_CHECK(!(r->method == method && r->pattern == pattern), "duplicate route " + pattern);
    }
    auto route = std::make_unique<Route>(Route{method, pattern, std::move(handler), options, access_for(method, pattern),
                                               documented_query_params(method, pattern)});
    std::vector<Segment> segments;
    bool has_param = false;
    for (auto part : split_path(pattern)) {
        if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
            segments.push_back({std::string(part.substr(1, part.size() - 2)), true});
            has_param = true;
        } else {
            SAI_CHECK(part.find_first_of("{}") == std::string_view::npos, "malformed route pattern " + pattern);
            segments.push_back({std::string(part), false});
        }
    }
    if (has_param) {
        impl_->patterned.push_back({route.get(), std::move(segments)});
    } else {
        impl_->exact[pattern].push_back(route.get());
    }
    impl_->routes.push_back(std::move(route));
}

Router::Match Router::match(Method method, std::string_view path) const {
    Match result;
    auto consider = [&](Route* route, std::vector<std::pair<std::string, std::string>>* params) {
        // First match wins (static paths are tried before patterns), except that an
        // explicit HEAD route beats the GET fallback.
        const bool exact = route->method == method;
        const bool fallback = method == Method::Head && route->method == Method::Get;
        if ((exact || fallback) && (!result.route || (exact && result.route->method != method))) {
            result.route = route;
            result.params = params ? *params : std::vector<std::pair<std::string, std::string>>{};
        }
        result.allowed.push_back(route->method);
    };

    if (auto it = impl_->exact.find(std::string(path)); it != impl_->exact.end()) {
        for (Route* r : it->second) {
            consider(r, nullptr);
        }
    }
    if (!impl_->patterned.empty() && !path.empty() && path.front() == '/') {
        const auto parts = split_path(path);
        for (const auto& compiled : impl_->patterned) {
            if (compiled.segments.size() != parts.size()) {
                continue;
            }
            std::vector<std::pair<std::string, std::string>> params;
            bool ok = true;
            for (std::size_t i = 0; i < parts.size() && ok; ++i) {
                const auto& seg = compiled.segments[i];
                if (!seg.is_param) {
                    ok = seg.text == parts[i];
                } else if (parts[i].empty()) {
                    ok = false;
                } else if (auto decoded = url_decode(parts[i], false)) {
                    params.emplace_back(seg.text, std::move(*decoded));
                } else {
                    ok = false;
                    result.bad_encoding = true;
                }
            }
            if (ok) {
                consider(compiled.route, &params);
            }
        }
    }
    return result;
}

const std::vector<std::unique_ptr<Route>>& Router::routes() const { return impl_->routes; }

std::string allow_header(const std::vector<Method>& methods) {
    std::vector<Method> listed;
    auto add = [&](Method m) {
        for (Method seen : listed) {
            if (seen == m) {
                return;
            }
        }
        listed.push_back(m);
    };
    for (Method m : methods) {
        add(m);
        if (m == Method::Get) {
            add(Method::Head);
        }
    }
    add(Method::Options);
    std::string out;
    for (Method m : listed) {
        out += out.empty() ? "" : ", ";
        out += to_string(m);
    }
    return out;
}

}  // namespace sai::api
