// securityai: the composition root. The only code that names concrete backends
// (SQLite today) and wires configuration, stores, routes and the server.

#include "api/dispatcher.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "api/system_routes.hpp"
#include "core/config.hpp"
#include "core/health.hpp"
#include "core/log.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <pthread.h>

namespace {

using namespace sai;

/// Flags shared by every subcommand that reads the configuration.
struct CommonFlags {
    std::string config_file;
    std::string data_dir;
    std::string log_level;
};

struct ServeFlags {
    std::string host;
    std::optional<int> port;
    std::optional<int> workers;
    std::string environment;
};

void add_common(CLI::App& cmd, CommonFlags& flags) {
    cmd.add_option("-c,--config", flags.config_file, "TOML configuration file")->check(CLI::ExistingFile);
    cmd.add_option("-d,--data-dir", flags.data_dir, "data directory of the embedded store (env DATA_DIR)");
    cmd.add_option("--log-level", flags.log_level, "debug, info, warn, error or off (env LOG_LEVEL)");
}

core::Result<core::Config> load(const CommonFlags& common, const ServeFlags* serve) {
    core::ConfigSources sources;
    if (!common.config_file.empty()) {
        sources.file = common.config_file;
    }
    sources.env = core::process_env;
    auto& o = sources.overrides;
    if (!common.data_dir.empty()) o.emplace_back("data_dir", common.data_dir);
    if (!common.log_level.empty()) o.emplace_back("log.level", common.log_level);
    if (serve) {
        if (!serve->host.empty()) o.emplace_back("http.host", serve->host);
        if (serve->port) o.emplace_back("http.port", std::to_string(*serve->port));
        if (serve->workers) o.emplace_back("http.workers", std::to_string(*serve->workers));
        if (!serve->environment.empty()) o.emplace_back("environment", serve->environment);
    }
    return core::load_config(sources);
}

void init_logging(const core::Config& config) {
    core::log::Level level = core::log::Level::Info;
    core::log::parse_level(config.log.level, level);
    core::log::init({.level = level, .file = config.log.file, .async = true});
}

storage::SqliteOptions sqlite_options(const core::Config& config, bool apply_migrations) {
    storage::SqliteOptions o;
    o.data_dir = config.data_dir;
    o.synchronous = config.storage.sqlite_synchronous;
    o.read_connections = config.storage.read_connections;
    o.busy_timeout = config.storage.busy_timeout;
    o.apply_migrations = apply_migrations;
    return o;
}

int fail(std::string_view message, int code = 1) {
    std::cerr << "securityai: error: " << message << "\n";
    return code;
}

int serve(const core::Config& config) {
    // Signals are taken by sigwait() on this thread; every other thread blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    init_logging(config);
    core::log::info("securityai starting", {{"version", core::kVersion},
                                            {"environment", config.environment},
                                            {"data_dir", config.data_dir},
                                            {"storage", "sqlite"}});
    if (config.secret_key == core::kDefaultSecretKey) {
        core::log::warn("SECRET_KEY is the built-in development default; set SECRET_KEY before exposing this server");
    }

    auto store = storage::SqliteStore::open(sqlite_options(config, true));
    if (!store) {
        core::log::error("cannot open the store", {{"error", store.error().detail}});
        core::log::shutdown();
        return fail(store.error().detail);
    }

    core::HealthMonitor health;
    health.add_check("storage", [s = store->get()] { return s->check_health(); });
    health.start(std::chrono::seconds(1));

    api::Router router;
    api::add_system_routes(router, {std::string(core::kVersion), config.environment, &health});
    api::Dispatcher dispatcher(router, {.default_max_body_bytes = config.http.max_body_bytes,
                                        .cors_origins = config.http.cors_origins});

    api::ServerOptions options;
    options.host = config.http.host;
    options.port = config.http.port;
    options.workers = config.http.workers;
    options.max_header_bytes = config.http.max_header_bytes;
    options.max_connections = config.http.max_connections;
    options.header_timeout = config.http.header_timeout;
    options.body_timeout = config.http.body_timeout;
    options.idle_timeout = config.http.idle_timeout;
    options.write_timeout = config.http.write_timeout;
    options.access_log = config.log.access;
    auto server = api::Server::start(options, dispatcher);
    if (!server) {
        core::log::error("cannot start the HTTP server", {{"error", server.error().detail}});
        health.stop();
        (*store)->close();
        core::log::shutdown();
        return fail(server.error().detail);
    }
    core::log::info("listening", {{"address", config.http.host},
                                  {"port", (*server)->port()},
                                  {"url", "http://" + config.http.host + ":" + std::to_string((*server)->port())}});
    core::log::flush();

    int sig = 0;
    sigwait(&signals, &sig);
    core::log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
                                      {"grace_ms", config.http.shutdown_grace.count()}});
    (*server)->shutdown(config.http.shutdown_grace);
    health.stop();
    (*store)->close();
    core::log::info("stopped");
    core::log::shutdown();
    return 0;
}

int migrate(const core::Config& config, bool status_only) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    auto store = storage::SqliteStore::open(sqlite_options(config, !status_only));
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
    std::cout << "database: " << (*store)->database_file().string() << "\n";
    for (const auto& m : *all) {
        std::cout << "  " << m.version << "  " << m.applied_at << "  " << m.name << "\n";
    }
    std::cout << "schema version " << (all->empty() ? 0 : all->back().version) << " (up to date)\n";
    (*store)->close();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"SecurityAI: security monitoring and threat detection backend", "securityai"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("securityai ") + std::string(core::kVersion));

    CommonFlags common;
    ServeFlags serve_flags;
    auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP API server");
    add_common(*serve_cmd, common);
    serve_cmd->add_option("--host", serve_flags.host, "address to listen on (env HOST, default 127.0.0.1)");
    serve_cmd->add_option("-p,--port", serve_flags.port, "TCP port, 0 for any free port (env PORT, default 8000)")
        ->check(CLI::Range(0, 65535));
    serve_cmd->add_option("--workers", serve_flags.workers, "I/O threads, 0 for one per core (env WORKERS)")
        ->check(CLI::Range(0, 256));
    serve_cmd->add_option("--environment", serve_flags.environment,
                          "development, staging, production or test (env ENVIRONMENT)");
    std::string keys_help = "\nConfiguration keys (TOML key / environment variable):\n";
    for (const auto& k : core::config_keys()) {
        keys_help += "  " + k.key + (k.env.empty() ? "" : " / " + k.env) + ": " + k.description + "\n";
    }
    serve_cmd->footer(keys_help);

    bool status_only = false;
    auto* migrate_cmd = app.add_subcommand("migrate", "Apply pending schema migrations to the store and list them");
    add_common(*migrate_cmd, common);
    migrate_cmd->add_flag("--status", status_only, "only list applied migrations; change nothing");

    auto* version_cmd = app.add_subcommand("version", "Print the version");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (version_cmd->parsed()) {
        std::cout << "securityai " << core::kVersion << "\n";
        return 0;
    }
    const bool serving = serve_cmd->parsed();
    auto config = load(common, serving ? &serve_flags : nullptr);
    if (!config) {
        return fail("invalid configuration: " + config.error().detail, 2);
    }
    try {
        if (serving) {
            return serve(*config);
        }
        return migrate(*config, status_only);
    } catch (const std::exception& e) {
        core::log::error("fatal", {{"error", e.what()}});
        core::log::shutdown();
        return fail(e.what());
    }
}
