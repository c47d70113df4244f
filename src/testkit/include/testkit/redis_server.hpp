#pragma once
// A real redis-server for tests, on 127.0.0.1 at a free port in a temporary
// directory, without persistence. Test-only.

#include "testkit/temp_dir.hpp"

#include <string>
#include <sys/types.h>

namespace sai::testkit {

/// Starts in the constructor (throws when redis-server cannot start); stop() kills
/// it (SIGKILL, like a crash) and start() brings it back on the same port.
class RedisServer {
public:
    RedisServer();
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    void start();
    void stop();
    int port() const { return port_; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
    /// False when redis-server is not installed (tests then skip).
    static bool available();

private:
    TempDir dir_;
    int port_ = 0;
    pid_t pid_ = -1;
};

/// A TCP port nobody listens on right now (bound once, then released).
int free_port();

}  // namespace sai::testkit
