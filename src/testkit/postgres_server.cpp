#include "testkit/postgres_server.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <system_error>

namespace sai::testkit {
namespace {

std::string g_reason;

/// A port nobody listens on right now (the kernel's choice for an ephemeral bind).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
}

/// The newest /usr/lib/postgresql/<version>/bin holding initdb.
std::filesystem::path find_bin() {
    std::filesystem::path best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
        const auto bin = entry.path() / "bin";
        if (!std::filesystem::exists(bin / "initdb", ec)) continue;
        const int version = std::atoi(entry.path().filename().c_str());
        if (version > best_version) {
            best_version = version;
            best = bin;
        }
    }
    return best;
}

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

const std::string& PostgresServer::unavailable_reason() { return g_reason; }

PostgresServer* PostgresServer::shared() {
    static std::once_flag once;
    static std::unique_ptr<PostgresServer> server;
    std::call_once(once, [] {
        std::unique_ptr<PostgresServer> s(new PostgresServer());
        if (s->init()) server = std::move(s);
    });
    return server.get();
}

int PostgresServer::run(const std::string& program, const std::string& args, bool as_server_user) const {
    std::string cmd = quote((bin_ / program).string()) + " " + args;
    if (as_server_user && ::geteuid() == 0) cmd = "runuser -u postgres -- " + cmd;
    return std::system((cmd + " >>" + quote((dir_ / "commands.log").string()) + " 2>&1").c_str());
}

bool PostgresServer::init() {
    bin_ = find_bin();
    if (bin_.empty()) {
        g_reason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)";
        return false;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "sai-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
        g_reason = "mkdtemp failed";
        return false;
    }
    dir_ = tmpl;
    if (::geteuid() == 0) {
        const passwd* pw = ::getpwnam("postgres");
        if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            g_reason = "no `postgres` user to run PostgreSQL as (it refuses to run as root)";
            return false;
        }
    }
    if (run("initdb", "-D " + quote((dir_ / "data").string()) + " -A trust -U postgres --no-sync -E UTF8", true) != 0) {
        g_reason = "initdb failed, see " + (dir_ / "commands.log").string();
        return false;
    }
    for (int attempt = 0; attempt < 5 && !running_; ++attempt) {
        port_ = free_port();
        start();
    }
    if (!running_) {
        g_reason = "PostgreSQL did not start, see " + (dir_ / "pg.log").string();
        return false;
    }
    return true;
}

bool PostgresServer::start() {
    const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                                " -c full_page_writes=off -c max_connections=200";
    running_ = run("pg_ctl", "-D " + quote((dir_ / "data").string()) + " -l " + quote((dir_ / "pg.log").string()) +
                                 " -o " + quote(options) + " -w -t 60 start",
                   true) == 0;
    return running_;
}

bool PostgresServer::stop() {
    const bool ok = run("pg_ctl", "-D " + quote((dir_ / "data").string()) + " -m fast -w -t 60 stop", true) == 0;
    running_ = false;
    return ok;
}

PostgresServer::~PostgresServer() {
    if (running_) {
        (void)run("pg_ctl", "-D " + quote((dir_ / "data").string()) + " -m immediate -w stop", true);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::url(const std::string& database) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database() {
    const std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++next_db_);
    if (run("createdb", "-h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres " + name, false) != 0) {
        return {};
    }
    return url(name);
}

}  // namespace sai::testkit
