#pragma once
// Component health, checked in the background so that GET /health never blocks
// on a store: each registered check runs on the monitor's own thread every
// interval, and readers get the latest snapshot (lock-free for them).

#include "core/error.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sai::core {

struct ComponentHealth {
    std::string name;
    bool healthy = false;
    bool required = true;  // an optional component down degrades the service, it does not fail it
    std::string detail;    // why it is unhealthy; empty when healthy
};

struct HealthSnapshot {
    bool healthy = true;    // every required component is healthy
    bool degraded = false;  // some optional component is not
    std::vector<ComponentHealth> components;
};

/// Owned by the composition root; lives as long as the server. add_check()
/// before start(); snapshot() from any thread.
class HealthMonitor {
public:
    using Check = std::function<Result<void>()>;

    HealthMonitor();
    ~HealthMonitor();
    HealthMonitor(const HealthMonitor&) = delete;
    HealthMonitor& operator=(const HealthMonitor&) = delete;

    void add_check(std::string name, Check check);
    /// A component the service can run without (InfluxDB, Redis): when it fails
    /// the snapshot is `degraded` but still `healthy`.
    void add_optional_check(std::string name, Check check);
    /// Runs every check once (so the first snapshot is real), then every `interval`.
    void start(std::chrono::milliseconds interval);
    void stop();
    /// Runs all checks now and publishes the result (also used by tests).
    void check_now();
    std::shared_ptr<const HealthSnapshot> snapshot() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::core
