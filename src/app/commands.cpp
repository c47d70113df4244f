// Administrative subcommands that work on the store directly: migrate, user, audit.
// They may run while the server runs (SQLite serialises writers; the server picks
// up account changes within seconds).

#include "app.hpp"
#include "auth/audit_log.hpp"
#include "auth/auth_service.hpp"
#include "auth/password.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "storage/postgres/pg_store.hpp"

#include <filesystem>

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace sai::app {

storage::SqliteOptions sqlite_options(const core::Config& config, bool apply_migrations) {
    storage::SqliteOptions o;
    o.data_dir = config.data_dir;
    o.synchronous = config.storage.sqlite_synchronous;
    o.read_connections = config.storage.read_connections;
    o.busy_timeout = config.storage.busy_timeout;
    o.apply_migrations = apply_migrations;
    return o;
}

core::Result<std::unique_ptr<storage::Store>> open_store(const core::Config& config, bool apply_migrations) {
    if (!config.storage.postgres_url.empty()) {
        storage::PgOptions o;
        o.url = config.storage.postgres_url;
        o.pool_size = config.storage.postgres_pool_size;
        o.acquire_timeout = config.storage.postgres_acquire_timeout;
        o.connect_timeout = config.storage.postgres_connect_timeout;
        o.statement_timeout = config.storage.postgres_statement_timeout;
        o.apply_migrations = apply_migrations;
        auto store = storage::PgStore::open(o);
        if (!store) return store.error();
        return std::unique_ptr<storage::Store>(std::move(*store));
    }
    auto store = storage::SqliteStore::open(sqlite_options(config, apply_migrations));
    if (!store) return store.error();
    return std::unique_ptr<storage::Store>(std::move(*store));
}

std::string store_location(const core::Config& config) {
    if (config.storage.postgres_url.empty()) {
        return (std::filesystem::path(config.data_dir) / "securityai.db").string();
    }
    // postgresql://user:password@host:port/db?opts -> postgresql://host:port/db
    std::string url = config.storage.postgres_url;
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return "postgresql (connection string)";
    const auto at = url.find('@', scheme + 3);
    const auto slash = url.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) url.erase(scheme + 3, at - scheme - 2);
    const auto query = url.find('?');
    if (query != std::string::npos) url.erase(query);
    return url;
}

int fail(std::string_view message, int code) {
    std::cerr << "securityai: error: " << message << "\n";
    return code;
}

int migrate(const core::Config& config, bool status_only) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    auto store = open_store(config, !status_only);
    if (!store) {
        return fail(store.error().detail);
    }
    if (!status_only) {
        auto applied = (*store)->migrate();
        if (!applied) {
            return fail(applied.error().detail);
        }
    }
    auto all = (*store)->applied_migrations();
    if (!all) {
        return fail(all.error().detail);
    }
    std::cout << "database: " << store_location(config) << " (" << (*store)->backend() << ")\n";
    for (const auto& m : *all) {
        std::cout << "  " << m.version << "  " << m.applied_at << "  " << m.name << "\n";
    }
    std::cout << "schema version " << (all->empty() ? 0 : all->back().version) << " (up to date)\n";
    (*store)->close();
    return 0;
}

namespace {

/// Reads a password: without echo from a terminal (twice, to catch typos), or one
/// line from a pipe (`echo "$PW" | securityai user add ...`).
std::optional<std::string> read_password(const std::string& prompt) {
    auto read_line = [](std::string& out) { return static_cast<bool>(std::getline(std::cin, out)); };
    std::string first;
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(first)) {
            return std::nullopt;
        }
        return first;
    }
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string second;
    std::cerr << prompt << ": " << std::flush;
    const bool ok1 = read_line(first);
    std::cerr << "\nagain: " << std::flush;
    const bool ok2 = ok1 && read_line(second);
    std::cerr << "\n";
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    if (!ok2 || first != second) {
        std::cerr << "passwords do not match\n";
        return std::nullopt;
    }
    return first;
}

std::string cli_actor() {
    const char* user = std::getenv("USER");
    return std::string("cli:") + (user && *user ? user : "unknown");
}

}  // namespace

int user_command(const core::Config& config, const UserCommand& cmd) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    auto store = open_store(config, true);
    if (!store) {
        return fail(store.error().detail);
    }
    auto audit_log = auth::AuditLog::open((*store)->audit());
    if (!audit_log) {
        return fail(audit_log.error().detail);
    }
    auth::AuthOptions options;
    options.jwt.secret = config.secret_key;
    auto service = auth::AuthService::open(**store, **audit_log, options);
    if (!service) {
        return fail(service.error().detail);
    }
    auto& auth = **service;
    // CLI actions are audited under the operating-system user who ran them.
    const model::Principal actor{model::Principal::Kind::User, "", cli_actor().substr(4), model::Role::Admin};
    const auth::ClientInfo client{"local", "cli-" + core::new_uuid_v7()};

    auto find = [&]() -> core::Result<model::User> { return (*store)->users().find_by_username(cmd.username); };
    int rc = 0;
    if (cmd.action == "list") {
        std::string after;
        std::printf("%-36s  %-24s  %-8s  %-8s  %s\n", "ID", "USERNAME", "ROLE", "STATE", "LAST LOGIN");
        for (;;) {
            auto page = auth.list_users(200, after);
            if (!page) {
                return fail(page.error().detail);
            }
            for (const auto& u : *page) {
                std::printf("%-36s  %-24s  %-8s  %-8s  %s\n", u.id.c_str(), u.username.c_str(),
                            std::string(model::to_string(u.role)).c_str(), u.disabled ? "disabled" : "active",
                            u.last_login.value_or("never").c_str());
            }
            if (page->size() < 200) {
                break;
            }
            after = page->back().id;
        }
    } else if (cmd.action == "add") {
        auto role = model::parse_role(cmd.role.empty() ? "viewer" : cmd.role);
        if (!role) {
            return fail("--role must be viewer, analyst or admin", 2);
        }
        auto password = read_password("password for " + cmd.username);
        if (!password) {
            return fail("no password given", 2);
        }
        auto user = auth.create_user(cmd.username, *password, *role, actor, client);
        if (!user) {
            return fail(user.error().detail);
        }
        std::cout << "created " << user->username << " (" << model::to_string(user->role) << ") id " << user->id << "\n";
    } else {
        auto user = find();
        if (!user) {
            return fail(user.error().code == core::Errc::NotFound ? "no user named '" + cmd.username + "'"
                                                                  : user.error().detail);
        }
        auth::UserPatch patch;
        if (cmd.action == "passwd") {
            auto password = read_password("new password for " + cmd.username);
            if (!password) {
                return fail("no password given", 2);
            }
            patch.password = *password;
        } else if (cmd.action == "disable" || cmd.action == "enable") {
            patch.disabled = cmd.action == "disable";
        } else if (cmd.action == "role") {
            auto role = model::parse_role(cmd.role);
            if (!role) {
                return fail("role must be viewer, analyst or admin", 2);
            }
            patch.role = *role;
        } else {
            return fail("unknown user action '" + cmd.action + "'", 2);
        }
        auto updated = auth.update_user(user->id, patch, actor, client);
        if (!updated) {
            return fail(updated.error().detail);
        }
        std::cout << cmd.action << ": " << updated->username << " (" << model::to_string(updated->role) << ", "
                  << (updated->disabled ? "disabled" : "active") << ")\n";
    }
    (*audit_log)->flush();
    return rc;
}

int audit_verify(const core::Config& config) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    auto store = open_store(config, false);
    if (!store) {
        return fail(store.error().detail);
    }
    auto v = auth::verify_audit_chain((*store)->audit());
    if (!v) {
        return fail(v.error().detail);
    }
    if (v->ok) {
        std::cout << "audit chain intact: " << v->entries << " entries verified\n";
        return 0;
    }
    std::cout << "audit chain BROKEN at entry " << v->first_broken_seq << ": " << v->reason << " ("
              << v->entries << " entries verified before it)\n";
    return 1;
}

}  // namespace sai::app
