#pragma once
// Time series to InfluxDB, in line protocol: points are queued without
// blocking (bounded; the oldest are dropped and counted when InfluxDB cannot
// keep up) and written in batches by a background thread, with retries,
// exponential backoff and a circuit breaker. A down InfluxDB never blocks the
// caller; health() says it is degraded until a write succeeds again.
//
// InfluxDB 1.x: POST /write?db=<database>&precision=ms (the database is created
// on first use). InfluxDB 2.x (when a bucket is set): POST
// /api/v2/write?org=<org>&bucket=<bucket>&precision=ms with "Authorization: Token".

#include "core/error.hpp"
#include "core/http_client.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sai::storage::influx {

struct InfluxOptions {
    std::string url;               // http(s)://host:port
    std::string token;             // 2.x API token (or 1.x "user:password")
    std::string org;               // 2.x
    std::string bucket;            // 2.x: set to use the v2 API
    std::string database = "securityai";  // 1.x
    std::chrono::milliseconds timeout{5000};
    std::size_t max_pending = 100'000;     // points waiting; beyond it the oldest are dropped
    std::size_t max_batch = 5000;          // points per request
    int max_attempts = 3;
    std::chrono::milliseconds backoff{200};
    int breaker_threshold = 3;
    std::chrono::milliseconds breaker_cooldown{15'000};
};

using FieldValue = std::variant<double, std::int64_t, std::string, bool>;

struct Point {
    std::string measurement;
    std::vector<std::pair<std::string, std::string>> tags;
    std::vector<std::pair<std::string, FieldValue>> fields;
    std::int64_t time_ms = 0;
};

/// One point in line protocol (escaping measurement, tag and field keys and
/// values as the format requires). Points without fields are invalid: "".
std::string to_line(const Point& point);

struct InfluxStats {
    std::uint64_t written = 0;   // points InfluxDB accepted
    std::uint64_t dropped = 0;   // points dropped (queue full, or rejected as malformed)
    std::uint64_t failed_requests = 0;
    std::size_t pending = 0;
};

/// Owned by the composition root. write() from any thread; flush() runs on the
/// writer's thread every interval after start().
class InfluxWriter {
public:
    /// Checks the options (URL scheme, 2.x needs org and token).
    static core::Result<std::unique_ptr<InfluxWriter>> open(InfluxOptions options,
                                                            std::unique_ptr<core::HttpClient> client = nullptr);
    ~InfluxWriter();

    void write(std::vector<Point> points);
    /// Sends what is pending (in batches); the first failure ends the round.
    core::Result<void> flush();
    /// `before_flush` runs on the writer's thread before each round (to sample gauges).
    void start(std::chrono::milliseconds interval, std::function<void()> before_flush = {});
    /// Flushes once more (best effort), then joins.
    void stop();

    /// Healthy after a successful write (or before any was tried), Unavailable after a failed one.
    core::Result<void> health() const;
    InfluxStats stats() const;
    const InfluxOptions& options() const;

    struct Impl;

private:
    explicit InfluxWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::influx
