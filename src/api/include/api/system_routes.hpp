#pragma once
// Routes every installation has: GET /health, the OpenAPI document, Swagger UI
// at /docs and ReDoc at /redoc (their assets are embedded in the binary, so
// air-gapped deployments need no CDN).

#include "api/router.hpp"
#include "core/health.hpp"

#include <string>

namespace sai::api {

struct SystemInfo {
    std::string version;
    std::string environment;
    const core::HealthMonitor* health = nullptr;  // must outlive the router
};

void add_system_routes(Router& router, const SystemInfo& info);

/// The embedded OpenAPI document (JSON), as served at /openapi.json.
std::string_view openapi_json();

}  // namespace sai::api
