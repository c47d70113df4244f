#pragma once
// The scale-out backend: PostgreSQL, shared by every `securityai serve` node.

#include "storage/store.hpp"

#include <chrono>
#include <memory>
#include <span>
#include <string>

namespace sai::storage {

struct PgOptions {
    std::string url;  // libpq connection URI or key=value string (POSTGRES_URL)
    int pool_size = 8;                                // connections at most, per process
    std::chrono::milliseconds acquire_timeout{5000};  // waiting for a free connection
    std::chrono::seconds connect_timeout{5};
    std::chrono::milliseconds statement_timeout{30000};
    int breaker_threshold = 3;                         // connection failures before failing fast
    std::chrono::milliseconds breaker_cooldown{1000};  // then one trial call per cooldown
    bool apply_migrations = true;  // false: refuse to open an out-of-date schema
};

/// The PostgreSQL schema, in version order.
std::span<const Migration> postgres_migrations();

/// PostgreSQL through libpq: a bounded pool of connections, parameterised SQL
/// only, a circuit breaker so a dead database fails fast with Unavailable, and
/// reconnection with backoff. Several processes may share one database: ids
/// come from the callers (UUIDs) or from database sequences, cross-process
/// critical sections use advisory locks. libpq types stay in the .cpp files.
class PgStore final : public Store {
public:
    /// Connects and applies pending migrations (under an advisory lock, so nodes
    /// starting together migrate once) unless options.apply_migrations is false.
    static core::Result<std::unique_ptr<PgStore>> open(const PgOptions& options,
                                                       std::span<const Migration> migrations = postgres_migrations());
    ~PgStore() override;

    std::string_view backend() const override { return "postgres"; }
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
    explicit PgStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::unique_ptr<Aggregates> aggregates_;
};

}  // namespace sai::storage
