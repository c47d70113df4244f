#pragma once
// Syslog sources: UDP and TCP listeners (RFC 5424/3164 over RFC 6587 framing)
// feeding the pipeline. UDP cannot be slowed down, so a full queue drops
// datagrams (counted); TCP stops reading until the pipeline has committed.

#include "api/event_routes.hpp"
#include "core/error.hpp"
#include "pipeline/pipeline.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sai::api {

struct SyslogOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5514;  // both UDP and TCP; 0 picks free ports
    bool udp = true;
    bool tcp = true;
    std::size_t max_tcp_connections = 1000;
    std::chrono::milliseconds tcp_idle_timeout{300'000};
};

struct SyslogCounters {
    std::uint64_t received = 0;  // messages (datagrams or frames)
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0;  // not syslog
    std::uint64_t dropped = 0;   // UDP datagrams refused by a full queue
    std::uint64_t refused_connections = 0;
    std::uint64_t udp_kernel_dropped = 0;  // datagrams the kernel dropped (socket buffer full)
};

/// Owns one I/O thread. Created by the composition root; stop() before the pipeline stops.
class SyslogServer {
public:
    /// Events go to `sink` when given (Kafka), else to the pipeline.
    static core::Result<std::unique_ptr<SyslogServer>> start(const SyslogOptions& options,
                                                             pipeline::Pipeline& pipeline,
                                                             pipeline::EventSink* sink = nullptr);
    ~SyslogServer();

    std::uint16_t udp_port() const;
    std::uint16_t tcp_port() const;
    std::vector<SourceStatus> status() const;
    SyslogCounters counters() const;
    void stop();

    struct Impl;

private:
    explicit SyslogServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::api
