#pragma once
// /api/v1/monitor/*: event ingestion (JSON object, array or NDJSON), search,
// one event, pipeline and source status, ingest metrics.

#include "api/router.hpp"
#include "core/health.hpp"
#include "pipeline/pipeline.hpp"
#include "storage/store.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace sai::api {

inline constexpr std::size_t kMaxIngestBytes = 16 << 20;
inline constexpr std::size_t kMaxIngestEvents = 100'000;

struct SourceStatus {
    std::string name;     // "http", "syslog-udp", "syslog-tcp"
    std::string address;  // "127.0.0.1:5514"
    bool listening = false;
};

/// Everything the monitor routes read; must outlive the router.
struct MonitorServices {
    storage::Store& store;
    pipeline::Pipeline& pipeline;
    std::string version;
    std::chrono::steady_clock::time_point started;
    std::function<std::vector<SourceStatus>()> sources;  // current state of the listeners
    /// Per-source counters for /metrics, e.g. {"syslog.udp_kernel_dropped", 12}.
    std::function<std::vector<std::pair<std::string, std::uint64_t>>()> source_counters;
    /// Optional components (InfluxDB, Redis...) as the health monitor last saw them.
    const core::HealthMonitor* health = nullptr;
    /// Further components for /monitor/status: name -> JSON object text (parser, models...).
    std::function<std::vector<std::pair<std::string, std::string>>()> components;
    /// Where POSTed events go; null: the pipeline. With Kafka, the raw-topic producer
    /// (202 then means the broker acknowledged every event of the request).
    pipeline::EventSink* ingest = nullptr;
    /// Optional: the "models" component (JSON object text), e.g. the active model versions.
    std::function<std::string()> models_status;
};

void add_event_routes(Router& router, MonitorServices& services);

}  // namespace sai::api
