#pragma once
// GET /metrics (Prometheus text exposition, for scrapers) and the JSON metrics
// API: /api/v1/metrics (all), /api/v1/metrics/system (/proc figures) and
// /api/v1/metrics/alerts (business metrics: volume, MTTA/MTTR, top rules...).

#include "api/response_cache.hpp"
#include "api/router.hpp"
#include "storage/store.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sai::api {

/// Who may scrape /metrics: with a token, callers presenting `Authorization:
/// Bearer <token>`; without one, only addresses in `allow` (loopback by default).
struct MetricsAccess {
    std::string token;
    std::vector<std::string> allow = {"127.0.0.0/8", "::1"};
};

struct MetricsServices {
    storage::Store& store;
    std::string data_dir;
    std::chrono::steady_clock::time_point started;
    MetricsAccess access;
    /// Extra JSON sections for /api/v1/metrics: name -> JSON object text.
    std::vector<std::pair<std::string, std::function<std::string()>>> sections;
    /// When set (Redis), the alert summary is served from it while unchanged.
    ResponseCache* cache = nullptr;
};

void add_metrics_routes(Router& router, MetricsServices& services);

/// CPU, load, memory, disk of the data dir, uptime, threads and open files, from /proc.
std::string system_metrics_json(const std::string& data_dir, std::chrono::steady_clock::time_point started);

}  // namespace sai::api
