#include "api/system_routes.hpp"

#include "assets.hpp"
#include "core/json_text.hpp"

namespace sai::api {
namespace {

// The documentation pages load only their own embedded scripts and styles.
// Swagger UI and ReDoc set inline styles; ReDoc runs a worker from a blob.
constexpr std::string_view kDocsCsp =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'";

std::string health_body(const SystemInfo& info, const core::HealthSnapshot* snap) {
    const bool healthy = snap == nullptr || snap->healthy;
    const bool degraded = healthy && snap != nullptr && snap->degraded;
    std::string body = !healthy   ? R"({"status":"unhealthy","version":)"
                       : degraded ? R"({"status":"degraded","version":)"
                                  : R"({"status":"healthy","version":)";
    core::append_json_string(body, info.version);
    body += R"(,"environment":)";
    core::append_json_string(body, info.environment);
    if (!healthy || degraded) {
        // Names and states only: the reasons (paths, hosts) go to the server log,
        // since /health is public.
        body += R"(,"components":{)";
        bool first = true;
        for (const auto& c : snap->components) {
            body += first ? "" : ",";
            first = false;
            core::append_json_string(body, c.name);
            body += c.healthy ? R"(:"healthy")" : c.required ? R"(:"unhealthy")" : R"(:"degraded")";
        }
        body += "}";
    }
    body += "}";
    return body;
}

}  // namespace

std::string_view openapi_json() {
    for (const auto& asset : embedded_assets()) {
        if (asset.url_path == "/openapi.json") {
            return asset.data;
        }
    }
    return {};
}

void add_system_routes(Router& router, const SystemInfo& info) {
    const std::string healthy_body = health_body(info, nullptr);
    router.add(Method::Get, "/health", [info, healthy_body](Request&) {
        auto snap = info.health ? info.health->snapshot() : nullptr;
        Response r;
        if (!snap || (snap->healthy && !snap->degraded)) {
            r.body = healthy_body;
        } else {
            r.status = snap->healthy ? 200 : 503;  // degraded still serves
            r.body = health_body(info, snap.get());
        }
        r.set_header("Cache-Control", "no-store");
        return r;
    });

    for (const auto& asset : embedded_assets()) {
        const Asset a = asset;
        router.add(Method::Get, std::string(a.url_path), [a](Request&) {
            Response r;
            r.content_type = std::string(a.content_type);
            r.body = std::string(a.data);
            if (a.content_type.starts_with("text/html")) {
                r.set_header("Content-Security-Policy", std::string(kDocsCsp));
                r.set_header("X-Frame-Options", "DENY");
                r.set_header("Cache-Control", "no-cache");
            } else if (a.url_path == "/openapi.json") {
                r.set_header("Cache-Control", "no-cache");
            } else {
                r.set_header("Cache-Control", "public, max-age=86400");
            }
            return r;
        });
    }
}

}  // namespace sai::api
