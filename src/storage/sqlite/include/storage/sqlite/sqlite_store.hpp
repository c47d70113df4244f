#pragma once
// The embedded default backend: SQLite files in the data directory.

#include "storage/store.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <span>

namespace sai::storage {

struct SqliteOptions {
    std::filesystem::path data_dir;
    std::string synchronous = "full";  // "full" or "normal" (WAL makes both crash-safe)
    int read_connections = 4;
    std::chrono::milliseconds busy_timeout{5000};
    bool apply_migrations = true;  // false: refuse to open an out-of-date schema
};

/// The schema of the embedded store, in version order.
std::span<const Migration> sqlite_migrations();

/// SQLite in WAL mode: one writer connection (serialised by a mutex) and a pool
/// of read-only connections, so reads never wait for writes. Prepared statements
/// only. sqlite3 types stay in the .cpp files.
class SqliteStore final : public Store {
public:
    /// Opens (creating the directory and file if needed) `data_dir/securityai.db`.
    /// Applies pending migrations unless options.apply_migrations is false. Fails
    /// when the file's schema is newer than `migrations` knows.
    static core::Result<std::unique_ptr<SqliteStore>> open(const SqliteOptions& options,
                                                           std::span<const Migration> migrations = sqlite_migrations());
    ~SqliteStore() override;

    std::filesystem::path database_file() const;

    std::string_view backend() const override { return "sqlite"; }
    core::Result<void> check_health() override;
    core::Result<std::vector<AppliedMigration>> migrate() override;
    core::Result<std::vector<AppliedMigration>> applied_migrations() override;
    void close() override;
    UserStore& users() override;
    TokenStore& tokens() override;
    ApiKeyStore& api_keys() override;
    AuditStore& audit() override;
    EventStore& events() override;
    AlertStore& alerts() override;
    TemplateStore& templates() override;
    ReportStore& reports() override;
    GraphStore& graph() override;
    MlStore& ml() override;

    struct Impl;  // shared with the aggregate stores of this backend

private:
    struct Aggregates;
    explicit SqliteStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::unique_ptr<Aggregates> aggregates_;
};

}  // namespace sai::storage
