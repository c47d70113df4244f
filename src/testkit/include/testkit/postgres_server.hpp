#pragma once
// A real PostgreSQL server for tests: initdb + pg_ctl in a temporary directory,
// listening on a free 127.0.0.1 port, run as the `postgres` user when the test
// runs as root (PostgreSQL refuses root). Started once per test process.

#include <filesystem>
#include <memory>
#include <string>

namespace sai::testkit {

class PostgresServer {
public:
    /// The server of this test process, started on first use; nullptr when
    /// PostgreSQL is not installed or does not start (see unavailable_reason()).
    static PostgresServer* shared();
    static const std::string& unavailable_reason();

    ~PostgresServer();
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    int port() const { return port_; }
    /// A new, empty database; returns its connection URL.
    std::string create_database();
    std::string url(const std::string& database) const;
    /// Stops / restarts the server (same data, same port), for fault tests.
    bool stop();
    bool start();

private:
    PostgresServer() = default;
    bool init();
    /// Runs a PostgreSQL program from the server's bin directory (as `postgres` when root).
    int run(const std::string& program, const std::string& args, bool as_server_user) const;

    std::filesystem::path bin_;
    std::filesystem::path dir_;
    int port_ = 0;
    int next_db_ = 0;
    bool running_ = false;
};

}  // namespace sai::testkit
