#include "storage/sqlite/sqlite_store.hpp"

#include "core/log.hpp"
#include "sqlite_alert_store.hpp"
#include "sqlite_auth_stores.hpp"
#include "sqlite_db.hpp"
#include "sqlite_event_store.hpp"
#include "sqlite_report_store.hpp"
#include "sqlite_ml_store.hpp"
#include "sqlite_template_store.hpp"
#include "sqlite_graph_store.hpp"
#include "storage/common/migration_plan.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <system_error>

namespace sai::storage {
namespace {

using sqlite::prepare;

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT;
)sql";

core::Result<std::vector<AppliedMigration>> read_applied(sqlite3* db) {
    auto stmt = prepare(db, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    if (!stmt) {
        return stmt.error();
    }
    std::vector<AppliedMigration> out;
    for (;;) {
        const int rc = sqlite3_step(stmt->get());
        if (rc == SQLITE_DONE) {
            break;
        }
        if (rc != SQLITE_ROW) {
            return sqlite::error_from(db, "read schema_migrations");
        }
        out.push_back({sqlite3_column_int(stmt->get(), 0), sqlite::column_text(stmt->get(), 1),
                       sqlite::column_text(stmt->get(), 2)});
    }
    return out;
}

core::Result<std::vector<AppliedMigration>> apply_pending(sqlite3* db, const std::vector<Migration>& migrations,
                                                          bool allowed) {
    if (auto r = sqlite::exec(db, std::string(kCreateMigrationsTable)); !r) {
        return r.error();
    }
    auto applied = read_applied(db);
    if (!applied) {
        return applied.error();
    }
    auto pending = pending_migrations(*applied, migrations, allowed);
    if (!pending) {
        return pending.error();
    }
    std::vector<AppliedMigration> done;
    for (const Migration* mp : *pending) {
        const Migration& m = *mp;
        auto r = sqlite::transaction(db, [&]() -> core::Result<void> {
            if (auto e = sqlite::exec(db, m.sql); !e) {
                return core::make_error(e.error().code, "migration " + std::to_string(m.version) + " (" + m.name +
                                                            "): " + e.error().detail);
            }
            auto ins = prepare(db,
                               "INSERT INTO schema_migrations (version, name, applied_at) "
                               "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) RETURNING applied_at");
            if (!ins) {
                return ins.error();
            }
            sqlite3_bind_int(ins->get(), 1, m.version);
            sqlite::bind_text(ins->get(), 2, m.name);
            if (sqlite3_step(ins->get()) != SQLITE_ROW) {
                return sqlite::error_from(db, "record migration");
            }
            done.push_back({m.version, m.name, sqlite::column_text(ins->get(), 0)});
            return {};
        });
        if (!r) {
            return r.error();
        }
        core::log::info("migration applied", {{"version", m.version}, {"name", m.name}});
    }
    return done;
}

std::uint64_t inode_of(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        return 0;
    }
    return static_cast<std::uint64_t>(st.st_ino);
}

}  // namespace

core::Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const SqliteOptions& options,
                                                             std::span<const Migration> migrations) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) {
        return core::make_error(core::Errc::Unavailable,
                                "cannot create data directory " + options.data_dir.string() + ": " + ec.message());
    }
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        SAI_CHECK(migrations[i - 1].version < migrations[i].version, "migrations must be in version order");
    }

    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->file = (options.data_dir / "securityai.db").string();
    impl->migrations.assign(migrations.begin(), migrations.end());

    auto writer = sqlite::open_connection(impl->file, false, options);
    if (!writer) {
        return writer.error();
    }
    impl->writer = std::move(*writer);
    auto applied = apply_pending(impl->writer.get(), impl->migrations, options.apply_migrations);
    if (!applied) {
        return applied.error();
    }
    for (int i = 0; i < std::max(1, options.read_connections); ++i) {
        auto reader = sqlite::open_connection(impl->file, true, options);
        if (!reader) {
            return reader.error();
        }
        impl->readers.push_back(std::move(*reader));
    }
    impl->inode = inode_of(impl->file);
    return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

struct SqliteStore::Aggregates {
    explicit Aggregates(Impl& impl) : users(impl), tokens(impl), api_keys(impl), audit(impl), events(impl), alerts(impl), templates(impl), reports(impl), graph(impl), ml(impl) {}
    sqlite::SqliteUserStore users;
    sqlite::SqliteTokenStore tokens;
    sqlite::SqliteApiKeyStore api_keys;
    sqlite::SqliteAuditStore audit;
    sqlite::SqliteEventStore events;
    sqlite::SqliteAlertStore alerts;
    sqlite::SqliteTemplateStore templates;
    sqlite::SqliteReportStore reports;
    sqlite::SqliteGraphStore graph;
    sqlite::SqliteMlStore ml;
};

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), aggregates_(std::make_unique<Aggregates>(*impl_)) {}

UserStore& SqliteStore::users() { return aggregates_->users; }
TokenStore& SqliteStore::tokens() { return aggregates_->tokens; }
ApiKeyStore& SqliteStore::api_keys() { return aggregates_->api_keys; }
AuditStore& SqliteStore::audit() { return aggregates_->audit; }
EventStore& SqliteStore::events() { return aggregates_->events; }
AlertStore& SqliteStore::alerts() { return aggregates_->alerts; }
TemplateStore& SqliteStore::templates() { return aggregates_->templates; }
ReportStore& SqliteStore::reports() { return aggregates_->reports; }
GraphStore& SqliteStore::graph() { return aggregates_->graph; }
MlStore& SqliteStore::ml() { return aggregates_->ml; }

SqliteStore::~SqliteStore() { close(); }

std::filesystem::path SqliteStore::database_file() const { return impl_->file; }

core::Result<void> SqliteStore::check_health() {
    // A database file that was removed or replaced under us still answers queries
    // through the open descriptors, but nothing written now would survive a restart.
    const std::uint64_t inode = inode_of(impl_->file);
    if (inode == 0) {
        return core::make_error(core::Errc::Unavailable, "database file " + impl_->file + " is missing");
    }
    if (inode != impl_->inode) {
        return core::make_error(core::Errc::Unavailable, "database file " + impl_->file + " was replaced");
    }
    const int expected = impl_->migrations.empty() ? 0 : impl_->migrations.back().version;
    return impl_->with_reader([&](sqlite3* db) -> core::Result<void> {
        auto stmt = prepare(db, "SELECT coalesce(max(version), 0), count(*) FROM schema_migrations");
        if (!stmt) {
            return stmt.error();
        }
        if (sqlite3_step(stmt->get()) != SQLITE_ROW) {
            return sqlite::error_from(db, "health query");
        }
        const int version = sqlite3_column_int(stmt->get(), 0);
        const auto count = static_cast<std::size_t>(sqlite3_column_int(stmt->get(), 1));
        if (version != expected || count != impl_->migrations.size()) {
            return core::make_error(core::Errc::Unavailable, "schema version " + std::to_string(version) +
                                                                 ", expected " + std::to_string(expected) +
                                                                 " with every migration applied");
        }
        return {};
    });
}

core::Result<std::vector<AppliedMigration>> SqliteStore::migrate() {
    return impl_->with_writer([&](sqlite3* db) { return apply_pending(db, impl_->migrations, true); });
}

core::Result<std::vector<AppliedMigration>> SqliteStore::applied_migrations() {
    return impl_->with_reader([](sqlite3* db) { return read_applied(db); });
}

void SqliteStore::close() {
    {
        std::lock_guard lock(impl_->read_mutex);
        impl_->closed = true;
        impl_->readers.clear();
    }
    impl_->read_available.notify_all();
    std::lock_guard lock(impl_->write_mutex);
    if (impl_->writer) {
        // Fold the WAL back into the main file so a copied data directory is complete.
        (void)sqlite::exec(impl_->writer.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
        impl_->writer.reset();
    }
}

}  // namespace sai::storage
