#pragma once
// The HTTP/1.1 server: Boost.Beast with C++20 coroutines, one io_context per
// worker thread, keep-alive, bounded headers/bodies, timeouts, graceful drain.
// Beast and Asio types stay in server.cpp.

#include "api/dispatcher.hpp"
#include "api/live.hpp"
#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace sai::api {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;  // 0: any free port (see Server::port())
    int workers = 0;            // I/O threads; 0: one per core
    int blocking_threads = 8;   // pool for handlers marked blocking
    std::size_t max_header_bytes = 16 << 10;
    std::size_t max_connections = 10000;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds write_timeout{30'000};
    bool access_log = true;
    std::string tls_cert_file;  // both set: HTTPS only
    std::string tls_key_file;
    bool tls_min_version_13 = false;  // production: TLS 1.3 only; otherwise 1.2 and 1.3
    LiveService* live = nullptr;      // WebSocket /api/v1/monitor/ws; null: no upgrades
};

/// Owns the listener, the I/O threads and the blocking pool. Created by the
/// composition root; shutdown() is called once, from any thread but its own.
class Server {
public:
    /// Binds and starts serving. Fails (Unavailable) when the address cannot be bound.
    static core::Result<std::unique_ptr<Server>> start(const ServerOptions& options, const Dispatcher& dispatcher);
    ~Server();

    std::uint16_t port() const;
    const std::string& host() const;
    std::size_t open_connections() const;

    /// Stops accepting, closes idle connections, lets in-flight requests finish
    /// for up to `grace`, then closes the rest and joins all threads.
    void shutdown(std::chrono::milliseconds grace);

    struct Impl;

private:
    explicit Server(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::api
