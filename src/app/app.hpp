#pragma once
// Private to app/: the subcommands, each a plain function of the configuration.

#include "core/config.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <string>
#include <vector>

namespace sai::app {

storage::SqliteOptions sqlite_options(const core::Config& config, bool apply_migrations);

/// Prints "securityai: error: ..." to stderr and returns `code`.
int fail(std::string_view message, int code = 1);

int serve(const core::Config& config);
int migrate(const core::Config& config, bool status_only);

struct UserCommand {
    std::string action;  // add, list, passwd, disable, enable, role
    std::string username;
    std::string role;
    bool password_stdin = false;
};
int user_command(const core::Config& config, const UserCommand& command);
int audit_verify(const core::Config& config);

struct IngestCommand {
    std::vector<std::string> files;  // empty or "-": stdin
    std::string format = "ndjson";   // ndjson, syslog, raw
    bool direct = false;             // write into the data directory instead of the API
    std::string url = "http://127.0.0.1:8000";
    std::string token;  // access token or API key (sk_...)
};
int ingest(const core::Config& config, const IngestCommand& command);

struct DemoCommand {
    std::string url = "http://127.0.0.1:8000";
    std::string api_key;              // or env SECURITYAI_API_KEY
    std::string username = "admin";
    std::string password;             // default: env SECURITYAI_ADMIN_PASSWORD
    int duration_seconds = 20;        // the attack story is paced over this long
    unsigned seed = 42;
    bool quiet = false;
};
int demo(const DemoCommand& command);

/// CSV inventory into the store of the data directory (see assets_import.cpp).
int assets_import(const core::Config& config, const std::string& file);

}  // namespace sai::app
