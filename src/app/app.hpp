#pragma once
// Private to app/: the subcommands, each a plain function of the configuration.

#include "core/config.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <string>

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

}  // namespace sai::app
